"""What colour a household has on the map, what the colours mean, and the help it gets.

One status per household and month, by priority: gone (every member has died or moved away:
not drawn), below the line first (split by whether the officials have noticed), then the
monitoring state, then the household category. The split of "below the line" is the lesson of
the monitoring mechanism: a red dot without a ring has fallen and nobody has identified it yet.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from simulation.model.codes import (
    ASSISTED,
    DIBAO,
    FORMERLY_POOR,
    IDENTIFIED,
    PENDING,
    PLACEMENT,
    PROJECT_JOB,
    TEKUN,
    WELFARE_POST,
)

STABLE, FORMERLY_POOR_STABLE, MONITORED, HELPED, BELOW_UNNOTICED, BELOW_HELPED = range(6)
GONE: Final = 6
"""A household whose members have all died or moved away: left off the map and the counts."""

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
the two reds differ by their ring). GONE has no entry: such households are not drawn."""

SUPPORT_FLAGS: Final = ("applied", "dibao", "tekun", "placement", "welfare_post",
                        "project_job", "edu_aid")
"""Programmes and jobs in force, stored per household-month as bits (bit k = flag k)."""
SUPPORT_TEXT: Final = {
    "applied": "application for 低保 / 特困 (waiting for the decision)",
    "dibao": "低保 (minimum living allowance)",
    "tekun": "特困 support (persons in extreme difficulty)",
    "placement": "a job found by a social partner",
    "welfare_post": "a public-welfare post (公益岗位)",
    "project_job": "a job in the village's industry project",
    "edu_aid": "education aid (雨露计划)",
}


def household_status(category: np.ndarray, state: np.ndarray, below: np.ndarray,
                     alive: np.ndarray | None = None) -> np.ndarray:
    """Status code of each household (int8 array) from its category, monitoring state,
    whether its 12-month per-capita income is below the line, and whether it still has
    members (`alive`; GONE if not)."""
    category, state, below = np.asarray(category), np.asarray(state), np.asarray(below, bool)
    monitored = (state == IDENTIFIED) | (state == ASSISTED)
    out = np.where(category == FORMERLY_POOR, FORMERLY_POOR_STABLE, STABLE)
    out = np.where(state == IDENTIFIED, MONITORED, out)
    out = np.where(state == ASSISTED, HELPED, out)
    out = np.where(below, np.where(monitored, BELOW_HELPED, BELOW_UNNOTICED), out)
    if alive is not None:
        out = np.where(np.asarray(alive, bool), out, GONE)
    return out.astype(np.int8)


def below_line(status: np.ndarray) -> np.ndarray:
    """Which statuses are below the line (noticed or not)."""
    status = np.asarray(status)
    return (status == BELOW_UNNOTICED) | (status == BELOW_HELPED)


def support_bits(programme: np.ndarray, job_kind: np.ndarray,
                 edu_aid: np.ndarray) -> np.ndarray:
    """Bitmask of the programmes and jobs in force (see SUPPORT_FLAGS) per household, from
    its civil-affairs programme, the kind of assisted job a member holds and education aid."""
    programme, job_kind = np.asarray(programme), np.asarray(job_kind)
    flags = (programme == PENDING, programme == DIBAO, programme == TEKUN,
             job_kind == PLACEMENT, job_kind == WELFARE_POST, job_kind == PROJECT_JOB,
             np.asarray(edu_aid, bool))
    bits = np.zeros(programme.shape, dtype=np.uint8)
    for k, flag in enumerate(flags):
        bits |= flag.astype(np.uint8) << k
    return bits
