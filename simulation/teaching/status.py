"""What colour a household has on the map, and what the colours mean.

One status per household and month, by priority: below the line first (split by whether the
officials have noticed), then the monitoring state, then the household category. The split
of "below the line" is the lesson of the monitoring mechanism: a red dot without a ring has
fallen and nobody has identified it yet.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from simulation.model.codes import ASSISTED, FORMERLY_POOR, IDENTIFIED

STABLE, FORMERLY_POOR_STABLE, MONITORED, HELPED, BELOW_UNNOTICED, BELOW_HELPED = range(6)

STATUSES: Final = (
    # (code name, legend text, fill colour, ring colour or "")
    ("stable", "stable (marginal or ordinary)", "#b8c4b8", ""),
    ("formerly_poor", "formerly poor (脱贫户), stable", "#6baed6", ""),
    ("monitored", "monitored: identified, help not yet started", "#f2c230", ""),
    ("assisted", "assisted: receiving help", "#f08a24", ""),
    ("below_unnoticed", "below the line, not identified yet", "#d7301f", ""),
    ("below_helped", "below the line, monitored or assisted", "#d7301f", "#f08a24"),
)
"""Legend of the map, in code order (colours are colour-blind-safe enough on a projector:
the two reds differ by their ring)."""

SUPPORT_FLAGS: Final = ("dibao", "welfare_job", "partner_job", "edu_aid")
"""Assistance measures in force, stored per household-month as bits (bit k = flag k)."""
SUPPORT_TEXT: Final = {
    "dibao": "低保 (minimum living allowance)",
    "welfare_job": "public-welfare job (公益岗位)",
    "partner_job": "job found by a social partner",
    "edu_aid": "education aid (雨露计划)",
}


def household_status(category: np.ndarray, state: np.ndarray, below: np.ndarray) -> np.ndarray:
    """Status code of each household (int8 array) from its category, monitoring state and
    whether its 12-month per-capita income is below the line."""
    category, state, below = np.asarray(category), np.asarray(state), np.asarray(below, bool)
    monitored = (state == IDENTIFIED) | (state == ASSISTED)
    out = np.where(category == FORMERLY_POOR, FORMERLY_POOR_STABLE, STABLE)
    out = np.where(state == IDENTIFIED, MONITORED, out)
    out = np.where(state == ASSISTED, HELPED, out)
    out = np.where(below, np.where(monitored, BELOW_HELPED, BELOW_UNNOTICED), out)
    return out.astype(np.int8)


def support_bits(columns: dict[str, np.ndarray]) -> np.ndarray:
    """Bitmask of the assistance measures in force (see SUPPORT_FLAGS) per household."""
    bits = np.zeros(len(columns[SUPPORT_FLAGS[0]]), dtype=np.int8)
    for k, name in enumerate(SUPPORT_FLAGS):
        bits |= (np.asarray(columns[name], bool).astype(np.int8) << k)
    return bits
