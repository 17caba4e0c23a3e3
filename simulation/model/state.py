"""Household state shared by both engines: field names, dtypes, codes and the initial state.

The array engine keeps one column per field (compact dtypes); the agents engine keeps the
same names as attributes of each `Household`. `initial_state` builds the state of January 2021
once, so both engines start identically, and `FIELDS` is what the conformance test compares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, get_args, get_type_hints

import numpy as np
from numpy.typing import NDArray

from simulation.model.codes import FORMERLY_POOR, LOW_INCOME, N_SHOCK_CAUSES, NO_SUPPORT
from simulation.model.params import Knobs
from simulation.model.population import Population, initial_dibao, solve_earnings, steady_month


@dataclass(slots=True)
class Columns:
    """Household state as columns, one per field (the array engine's state; the agents
    engine keeps the same names as attributes of each `Household`). Each field's dtype is in
    its annotation, and FIELDS below is derived from it: a field is declared here once.
    `ring` holds the last 12 months of net income by month of year (12 x n) and `losses`
    the cause ledger (n x causes in the array engine)."""

    # who the household is
    category: NDArray[np.int8]
    village: NDArray[np.int32]
    members: NDArray[np.int8]
    workers: NDArray[np.int8]
    migrants: NDArray[np.int8]
    unemployed: NDArray[np.int8]
    elderly: NDArray[np.int8]
    children: NDArray[np.int8]
    students: NDArray[np.int8]
    disabled: NDArray[np.int8]
    chronic: NDArray[np.bool_]
    skill: NDArray[np.float64]
    family_support: NDArray[np.float64]
    production: NDArray[np.float64]
    motivation: NDArray[np.float64]
    dependency: NDArray[np.bool_]
    trained: NDArray[np.bool_]
    u_coverage: NDArray[np.float64]
    u_linkage: NDArray[np.float64]
    u_project_job: NDArray[np.float64]
    dev: NDArray[np.float64]
    # monitoring window and recent shocks
    roll12: NDArray[np.float64]
    pc12: NDArray[np.float64]
    loss_month: NDArray[np.int16]
    last_shock_cost: NDArray[np.float64]
    savings: NDArray[np.float64]
    trace_until: NDArray[np.int16]
    alert_until: NDArray[np.int16]
    disaster_until: NDArray[np.int16]
    disaster_loss: NDArray[np.float64]
    # official monitoring
    state: NDArray[np.int8]
    identified_month: NDArray[np.int16]
    risk_since: NDArray[np.int16]
    secure: NDArray[np.bool_]
    secure_since: NDArray[np.int16]
    above_since: NDArray[np.int16]
    cause: NDArray[np.int8]
    channel: NDArray[np.int8]
    support_until: NDArray[np.int16]
    ever_monitored: NDArray[np.bool_]
    applied: NDArray[np.bool_]
    at_risk: NDArray[np.bool_]
    # assistance measures in force
    dibao: NDArray[np.bool_]
    dibao_gap: NDArray[np.float64]
    welfare_job: NDArray[np.bool_]
    partner_job: NDArray[np.bool_]
    edu_aid: NDArray[np.bool_]
    pending_aid: NDArray[np.float64]
    # poverty status and this year's tallies
    below: NDArray[np.bool_]
    ever_fell: NDArray[np.bool_]
    fell_this_year: NDArray[np.bool_]
    fall_cause: NDArray[np.int8]
    fall_repeat: NDArray[np.bool_]
    y_labour: NDArray[np.float64]
    y_production: NDArray[np.float64]
    y_project: NDArray[np.float64]
    y_transfers: NDArray[np.float64]
    y_rigid: NDArray[np.float64]
    y_cost_ss: NDArray[np.float64]
    y_cost_industry: NDArray[np.float64]
    y_trained: NDArray[np.bool_]
    # 2-D: the 12-month window and the cause ledger
    ring: NDArray[np.float64]
    losses: NDArray[np.float64]


def _field_dtypes() -> dict[str, type]:
    hints = get_type_hints(Columns)
    return {name: get_args(hint)[0] for name, hint in hints.items()
            if name not in ("ring", "losses")}


FIELDS: Final[dict[str, type]] = _field_dtypes()
"""Scalar household fields -> numpy dtype (from `Columns`); what the engines compare."""


YEARLY: Final[dict[str, float | bool]] = {
    "y_labour": 0.0, "y_production": 0.0, "y_project": 0.0, "y_transfers": 0.0, "y_rigid": 0.0,
    "y_cost_ss": 0.0, "y_cost_industry": 0.0, "y_trained": False, "fell_this_year": False}
"""This year's tallies and flags and the value each is reset to after the year's statistics
(both engines' `_close_year`)."""


INITIAL_COLUMNS: Final = ("category", "village", "members", "workers", "migrants", "elderly",
                          "children", "students", "disabled", "chronic", "dibao", "pc12")
"""Initial household attributes saved with each run (breakdowns by household type)."""


def initial_record(p: Knobs, pop: Population,
                   state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The households as they enter 2021: attributes, benefit linkage, key village."""
    record = {k: state[k].copy() for k in INITIAL_COLUMNS}
    record["linked"] = linkage(p.industry.linkage_share, state["category"], state["u_linkage"])
    record["key_village"] = pop.villages["key"][state["village"]]
    return record


def linkage(ctx_linkage_share: float, category: np.ndarray, u_linkage: np.ndarray) -> np.ndarray:
    """Benefit linkage: formerly poor households below the share's propensity threshold."""
    return (category == FORMERLY_POOR) & (u_linkage < ctx_linkage_share)


def initial_state(p: Knobs, pop: Population) -> dict[str, np.ndarray]:
    """The state of every household at the start of January 2021 (columns)."""
    hh = pop.households
    n = pop.n
    linked = linkage(p.industry.linkage_share, hh["category"], hh["u_linkage"])
    project_job = hh["u_project_job"] < p.industry.job_share
    skill, family = solve_earnings(p, hh, linked, project_job)
    dibao, gap = initial_dibao(p, hh)
    hh = {**hh, "skill": skill, "family_support": family, "dibao_gap": gap}
    monthly, september = steady_month(p, hh, dibao, gap, linked, project_job, skill, family)
    ring = np.tile(monthly, (12, 1))
    ring[8] -= september
    roll12 = ring[0].copy()
    for month in range(1, 12):  # sequential sum: the order a Python loop would add in
        roll12 = roll12 + ring[month]
    pc12 = roll12 / hh["members"]

    state: dict[str, np.ndarray] = {k: np.zeros(n, dtype) for k, dtype in FIELDS.items()}
    for k, v in hh.items():
        if k in FIELDS:
            state[k] = v.astype(FIELDS[k])
    below = pc12 < p.policy.line_2021
    secure = pc12 >= p.policy.line_2021 * p.monitoring.alert_band
    state.update(roll12=roll12, pc12=pc12, dibao=dibao, below=below, secure=secure,
                 # streaks that began before 2021 count from a year earlier
                 above_since=np.where(below, 0, -12).astype(np.int16),
                 secure_since=np.where(secure, -12, 0).astype(np.int16),
                 risk_since=np.full(n, -1, np.int16),
                 support_until=np.full(n, NO_SUPPORT, np.int16),
                 cause=np.full(n, LOW_INCOME, np.int8),
                 fall_cause=np.full(n, LOW_INCOME, np.int8))
    state["savings"] = p.income.initial_savings * np.maximum(monthly, 0.0)
    state["ring"] = ring
    state["losses"] = np.zeros((N_SHOCK_CAUSES, n))
    return state
