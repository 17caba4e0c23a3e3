"""Household state shared by both engines: field names, dtypes, codes and the initial state.

The array engine keeps one column per field (compact dtypes); the agents engine keeps the
same names as attributes of each `Household`. `initial_state` builds the state of January 2021
once, so both engines start identically, and `FIELDS` is what the conformance test compares.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Final

import numpy as np

from simulation.model import rules
from simulation.model.population import (
    FORMERLY_POOR,
    Population,
    initial_dibao,
    solve_earnings,
    steady_month,
)

# Monitoring states (DESIGN §3): not monitored -> identified -> assisted -> risk eliminated.
NOT_MONITORED, IDENTIFIED, ASSISTED, RISK_ELIMINATED = 0, 1, 2, 3
MONITORING_STATES: Final = ("not_monitored", "identified", "assisted", "risk_eliminated")
# Identification channels (domain §1.3) plus the follow-up re-check of risk-eliminated households.
SELF_REPORT, CADRE_SCREENING, DATA_WARNING, RECHECK = 1, 2, 3, 4
CHANNELS: Final = ("none", "self_report", "cadre_screening", "data_warning", "recheck")
# Per-household events written to events.parquet (cohort and time-to-return analysis).
EVENTS: Final = ("fall", "rise", "dip", "identified", "assisted", "risk_eliminated",
                 "rolled_back", "illness", "accident", "disability", "job_loss", "disaster",
                 "school_entry")
(FALL, RISE, DIP, IDENTIFIED_EVENT, ASSISTED_EVENT, ELIMINATED_EVENT, ROLLED_BACK,
 ILLNESS_EVENT, ACCIDENT_EVENT, DISABILITY_EVENT, JOB_LOSS_EVENT, DISASTER_EVENT,
 SCHOOL_EVENT) = range(13)
SHOCK_EVENTS: Final = frozenset({ILLNESS_EVENT, ACCIDENT_EVENT, DISABILITY_EVENT, JOB_LOSS_EVENT,
                                 DISASTER_EVENT, SCHOOL_EVENT})
NO_SUPPORT: Final = -1  # support_until when no follow-up runs

# Scalar household fields and their array dtypes. `ring` (12 x n) and `losses` (8 x n) are 2-D.
FIELDS: Final[dict[str, type]] = {
    # who the household is
    "category": np.int8, "village": np.int32, "members": np.int8, "workers": np.int8,
    "migrants": np.int8, "unemployed": np.int8, "elderly": np.int8, "children": np.int8,
    "students": np.int8, "disabled": np.int8, "chronic": np.bool_, "skill": np.float64,
    "family_support": np.float64,
    "production": np.float64, "motivation": np.float64, "dependency": np.bool_,
    "trained": np.bool_, "u_coverage": np.float64, "u_linkage": np.float64,
    "u_project_job": np.float64, "dev": np.float64,
    # monitoring window and recent shocks
    "roll12": np.float64, "pc12": np.float64, "loss_month": np.int16,
    "last_shock_cost": np.float64, "savings": np.float64, "trace_until": np.int16,
    "alert_until": np.int16, "disaster_until": np.int16, "disaster_loss": np.float64,
    # official monitoring
    "state": np.int8, "identified_month": np.int16, "risk_since": np.int16,
    "secure": np.bool_, "secure_since": np.int16, "above_since": np.int16, "cause": np.int8,
    "channel": np.int8,
    "support_until": np.int16, "ever_monitored": np.bool_, "applied": np.bool_,
    "at_risk": np.bool_,
    # assistance measures in force
    "dibao": np.bool_, "dibao_gap": np.float64, "welfare_job": np.bool_, "partner_job": np.bool_,
    "edu_aid": np.bool_,
    "pending_aid": np.float64,
    # poverty status and this year's tallies
    "below": np.bool_, "ever_fell": np.bool_, "fell_this_year": np.bool_,
    "fall_cause": np.int8, "fall_repeat": np.bool_,
    "y_labour": np.float64, "y_production": np.float64, "y_project": np.float64,
    "y_transfers": np.float64, "y_rigid": np.float64, "y_cost_ss": np.float64,
    "y_cost_industry": np.float64, "y_trained": np.bool_,
}


INITIAL_COLUMNS: Final = ("category", "village", "members", "workers", "migrants", "elderly",
                          "children", "students", "disabled", "chronic", "dibao", "pc12")
"""Initial household attributes saved with each run (breakdowns by household type)."""


def initial_record(p: SimpleNamespace, pop: Population,
                   state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The households as they enter 2021: attributes, benefit linkage, key village."""
    record = {k: state[k].copy() for k in INITIAL_COLUMNS}
    record["linked"] = linkage(p.industry.linkage_share, state["category"], state["u_linkage"])
    record["key_village"] = pop.villages["key"][state["village"]]
    return record


def linkage(ctx_linkage_share: float, category: np.ndarray, u_linkage: np.ndarray) -> np.ndarray:
    """Benefit linkage: formerly poor households below the share's propensity threshold."""
    return (category == FORMERLY_POOR) & (u_linkage < ctx_linkage_share)


def initial_state(p: SimpleNamespace, pop: Population) -> dict[str, np.ndarray]:
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
                 cause=np.full(n, rules.LOW_INCOME, np.int8),
                 fall_cause=np.full(n, rules.LOW_INCOME, np.int8))
    state["savings"] = p.income.initial_savings * np.maximum(monthly, 0.0)
    state["ring"] = ring
    state["losses"] = np.zeros((rules.N_SHOCK_CAUSES, n))
    return state
