"""Household and person state shared by both engines: field names, dtypes, the yearly resets
and the state of January 2021.

The array engine keeps one column per field (`Columns`, `People`); the agents engine keeps the
same names as attributes of each `Household` (people as lists of K slots, `p_age`, `p_role`,
...). `initial_state` builds the state of January 2021 once, under the reference status quo,
so both engines start identically; `FIELDS` and `PERSON_FIELDS` are what the conformance test
compares. Yuan amounts in state are current yuan unless a field says "2021 yuan".
"""

from __future__ import annotations

from typing import Final, NamedTuple, get_args, get_type_hints

import numpy as np
from numpy.typing import NDArray

from simulation.model.codes import (
    ASSISTED_JOB,
    DIBAO,
    FORMERLY_POOR,
    JOBLESS,
    LOCAL,
    LOW_INCOME,
    MIGRANT,
    N_SHOCK_CAUSES,
    NO_JOB,
    NO_SUPPORT,
    NOT_MONITORED,
    OFF,
    PROJECT_JOB,
    STUDENT,
    TEKUN,
)
from simulation.model.params import Knobs
from simulation.model.population import Population

NEVER: Final = 30_000  # a month that never comes (an open-ended job, no review due)


class Columns(NamedTuple):
    """Household state as columns, one per field. Each field's dtype is in its annotation,
    and FIELDS below is derived from it: a field is declared here once. `ring` and `ring_h`
    hold the last 12 months of income (official test) and of income net of rigid costs
    (hardship) by month of year (12 x n); `losses` is the cause ledger (n x causes)."""

    # who the household is (counts follow from its members, see `People`)
    category: NDArray[np.int8]
    village: NDArray[np.int32]
    weight_group: NDArray[np.int32]  # index into Population.group_weights (county totals)
    alive: NDArray[np.bool_]
    members: NDArray[np.int8]
    workers: NDArray[np.int8]
    migrants: NDArray[np.int8]
    unemployed: NDArray[np.int8]
    elderly: NDArray[np.int8]
    children: NDArray[np.int8]
    students: NDArray[np.int8]
    disabled: NDArray[np.int8]
    chronic: NDArray[np.int8]
    able_adults: NDArray[np.int8]
    skill: NDArray[np.float64]
    family_support: NDArray[np.float64]  # 2021 yuan/month, grows with the earnings trend
    no_supporter: NDArray[np.bool_]  # no legal supporter (no children): 特困 if no labour
    production: NDArray[np.float64]  # 2021 yuan/month
    motivation: NDArray[np.float64]
    dependency: NDArray[np.bool_]
    trained: NDArray[np.bool_]
    u_coverage: NDArray[np.float64]
    u_linkage: NDArray[np.float64]
    u_project_job: NDArray[np.float64]
    u_apply: NDArray[np.float64]
    dev: NDArray[np.float64]
    # the 12-month windows, buffers and recent shocks
    roll12: NDArray[np.float64]
    pc12: NDArray[np.float64]
    roll12_h: NDArray[np.float64]
    pc12_h: NDArray[np.float64]
    loss_month: NDArray[np.int16]
    last_shock_cost: NDArray[np.float64]
    last_shock_month: NDArray[np.int16]
    savings: NDArray[np.float64]
    debt: NDArray[np.float64]
    trace_until: NDArray[np.int16]
    alert_until: NDArray[np.int16]
    disaster_until: NDArray[np.int16]
    disaster_loss: NDArray[np.float64]
    work_lost: NDArray[np.float64]  # wages lost this month to a hospital stay (yuan)
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
    # civil-affairs programmes (低保 / 特困)
    programme: NDArray[np.int8]
    programme_month: NDArray[np.int16]
    next_review: NDArray[np.int16]
    exit_until: NDArray[np.int16]
    benefit: NDArray[np.float64]  # yuan/month, fixed between reviews
    # assisted jobs and other measures in force
    job_slot: NDArray[np.int8]
    job_kind: NDArray[np.int8]
    job_until: NDArray[np.int16]
    edu_aid: NDArray[np.bool_]
    pending_aid: NDArray[np.float64]
    # poverty status on both counts
    below: NDArray[np.bool_]
    ever_fell: NDArray[np.bool_]
    fell_this_year: NDArray[np.bool_]
    fall_cause: NDArray[np.int8]
    fall_repeat: NDArray[np.bool_]
    below_h: NDArray[np.bool_]
    above_since_h: NDArray[np.int16]
    fell_h_this_year: NDArray[np.bool_]
    fall_cause_h: NDArray[np.int8]
    # this year's tallies
    y_labour: NDArray[np.float64]
    y_production: NDArray[np.float64]
    y_project: NDArray[np.float64]
    y_transfers: NDArray[np.float64]
    y_rigid: NDArray[np.float64]
    y_cost_ss: NDArray[np.float64]
    y_cost_industry: NDArray[np.float64]
    y_trained: NDArray[np.bool_]
    y_at_risk: NDArray[np.bool_]
    y_risk_identified: NDArray[np.bool_]
    y_hit: NDArray[np.bool_]
    y_income: NDArray[np.float64]
    last_y_income: NDArray[np.float64]
    # 2-D
    ring: NDArray[np.float64]
    ring_h: NDArray[np.float64]
    losses: NDArray[np.float64]


class People(NamedTuple):
    """The members of every household: K person slots per household (n x K columns)."""

    age: NDArray[np.int16]
    sex: NDArray[np.int8]
    present: NDArray[np.bool_]
    role: NDArray[np.int8]
    disabled: NDArray[np.bool_]
    chronic: NDArray[np.bool_]


def _dtypes(cls: type, skip: tuple[str, ...] = ()) -> dict[str, type]:
    return {name: get_args(hint)[0] for name, hint in get_type_hints(cls).items()
            if name not in skip}


FIELDS: Final[dict[str, type]] = _dtypes(Columns, ("ring", "ring_h", "losses"))
"""Scalar household fields -> numpy dtype (from `Columns`); what the engines compare."""
PERSON_FIELDS: Final[dict[str, type]] = _dtypes(People)
"""Person fields -> numpy dtype (from `People`); the agents engine's `p_<field>` lists."""

YEARLY: Final[dict[str, float | bool]] = {
    "y_labour": 0.0, "y_production": 0.0, "y_project": 0.0, "y_transfers": 0.0, "y_rigid": 0.0,
    "y_cost_ss": 0.0, "y_cost_industry": 0.0, "y_trained": False, "fell_this_year": False,
    "fell_h_this_year": False, "y_at_risk": False, "y_risk_identified": False,
    "y_hit": False, "y_income": 0.0}
"""This year's tallies and flags and the value each is reset to after the year's statistics
(both engines' `_close_year`); `last_y_income` keeps the year's income before the reset."""

INITIAL_COLUMNS: Final = ("category", "village", "members", "workers", "migrants", "elderly",
                          "children", "students", "disabled", "chronic", "programme", "pc12")
"""Initial household attributes saved with each run (breakdowns by household type)."""


# ----------------------------------------------------------------------------- member counts
def member_counts(age: np.ndarray, present: np.ndarray, role: np.ndarray,
                  disabled: np.ndarray, chronic: np.ndarray,
                  pension_age: int) -> dict[str, np.ndarray]:
    """The household counts that follow from its members (the engines recompute them the same
    way, person by person, when members change)."""
    working = present & ((role == LOCAL) | (role == MIGRANT) | (role == JOBLESS)
                         | (role == ASSISTED_JOB))
    return {
        "members": present.sum(axis=-1).astype(np.int8),
        "workers": working.sum(axis=-1).astype(np.int8),
        "migrants": (present & ((role == MIGRANT) | (role == JOBLESS))).sum(-1).astype(np.int8),
        "unemployed": (present & (role == JOBLESS)).sum(axis=-1).astype(np.int8),
        "elderly": (present & (age >= pension_age)).sum(axis=-1).astype(np.int8),
        "children": (present & (age < 16) & (role != STUDENT)).sum(axis=-1).astype(np.int8),
        "students": (present & (role == STUDENT)).sum(axis=-1).astype(np.int8),
        "disabled": (present & disabled).sum(axis=-1).astype(np.int8),
        "chronic": (present & chronic).sum(axis=-1).astype(np.int8),
        "able_adults": (present & (age >= 16) & (age < pension_age) & ~disabled
                        & (role != STUDENT)).sum(axis=-1).astype(np.int8),
    }


def initial_record(p: Knobs, pop: Population, state: dict[str, np.ndarray]
                   ) -> dict[str, np.ndarray]:
    """The households as they enter 2021: attributes, benefit linkage, key village."""
    record = {k: state[k].copy() for k in INITIAL_COLUMNS}
    record["linked"] = linkage(p.industry.linkage_share, state["category"], state["u_linkage"])
    record["key_village"] = pop.villages["key"][state["village"]]
    record["weight"] = pop.weights.astype(np.float64)
    return record


def linkage(linkage_share: float, category: np.ndarray, u_linkage: np.ndarray) -> np.ndarray:
    """Benefit linkage: formerly poor households below the share's propensity threshold."""
    return (category == FORMERLY_POOR) & (u_linkage < linkage_share)


# ----------------------------------------------------------------------------- January 2021
def initial_state(p: Knobs, pop: Population) -> tuple[dict[str, np.ndarray],
                                                      dict[str, np.ndarray]]:
    """The state of every household and person at the start of January 2021 (columns).

    Project jobs: a linked household with a project job has one local worker employed by the
    village's project. Earnings multipliers (skill) are solved so that each household's
    per-capita income without 低保/特困 is its drawn target (households without workers get
    support from children living elsewhere instead, up to a cap); then the civil-affairs
    programmes enrol the eligible who take them up, and their benefit is added. A population
    from household records (simulation.model.microdata) brings its own 低保/特困 enrolment and
    monitoring status instead (`programme_recorded`, `monitoring_recorded`). Returns
    (household columns, person columns).
    """
    hh = pop.households
    people = {k: v.copy() for k, v in pop.people.items()}
    n = pop.n
    inc, ss = p.income, p.social_security
    fp = hh["category"] == FORMERLY_POOR
    linked = linkage(p.industry.linkage_share, hh["category"], hh["u_linkage"])

    # a project job for one local worker of linked households with the propensity
    local = people["present"] & (people["role"] == LOCAL)
    first_local = np.argmax(local, axis=1)
    has_job = linked & (hh["u_project_job"] < p.industry.job_share) & local.any(axis=1)
    rows = np.flatnonzero(has_job)
    people["role"][rows, first_local[rows]] = ASSISTED_JOB
    job_slot = np.where(has_job, first_local, -1).astype(np.int8)

    counts = member_counts(people["age"], people["present"], people["role"], people["disabled"],
                           people["chronic"], p.demography.pension_age)
    members = counts["members"].astype(np.float64)
    role = people["role"]
    fallback = inc.unemployed_fallback * inc.local_wage
    wage_at_1 = (np.where(role == LOCAL, inc.local_wage, 0.0)
                 + np.where(role == MIGRANT, inc.migrant_wage, 0.0)
                 + np.where(role == JOBLESS, fallback, 0.0)).sum(axis=1)
    wage_at_1 *= 1.0 + hh["dev"]
    job = np.where(has_job, p.industry.wage, 0.0)
    production = np.maximum(hh["production"] * (1.0 + hh["dev"]), 0.0)
    pensions = counts["elderly"] * inc.pension
    other = (production + job + linked * p.industry.dividend / 12.0 + pensions
             + fp * inc.formerly_poor_subsidy + inc.property)
    needed = hh["income_target"] * members / 12.0 - other
    working = wage_at_1 > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        skill = np.where(working, needed / wage_at_1, 1.0)
    skill = np.clip(skill, p.population.skill_floor, 6.0)
    supported = ~hh["no_supporter"]
    family = np.where(working | ~supported, 0.0,
                      np.clip(needed, 0.0, p.population.family_support_cap))
    monthly = np.where(working, skill * wage_at_1, 0.0) + other + family

    # civil-affairs programmes: the eligible who take them up (their coverage propensity)
    standard = ss.dibao_standard
    # the means test leaves out the basic pension and the policy transfers (rules.own_income)
    own_pc = (monthly - pensions - fp * inc.formerly_poor_subsidy) * 12.0 / members
    savings = inc.initial_savings * np.maximum(monthly, 0.0)
    if "programme_recorded" in hh:  # household records say who is enrolled (microdata)
        tekun = hh["programme_recorded"] == TEKUN
        eligible = tekun | (hh["programme_recorded"] == DIBAO)
    else:
        eligible = ((own_pc < standard)
                    & (savings <= ss.asset_limit_months * standard / 12.0 * members)
                    & (hh["u_coverage"] < ss.coverage))
        tekun = eligible & (counts["workers"] == 0) & (counts["able_adults"] == 0) & ~supported
    frail = counts["elderly"] + counts["disabled"]
    gap = np.maximum(standard - own_pc, 0.0)
    dibao_benefit = (members * gap + frail * ss.dibao_supplement * standard) / 12.0
    tekun_benefit = members * ss.tekun_ratio * standard / 12.0
    benefit = np.where(tekun, tekun_benefit, np.where(eligible, dibao_benefit, 0.0))
    programme = np.where(tekun, TEKUN, np.where(eligible, DIBAO, OFF)).astype(np.int8)
    monthly = monthly + benefit

    # chronic care and the school year: rigid costs (hardship count only)
    covered = (hh["u_coverage"] < ss.coverage) & (fp | (programme != OFF))
    care = counts["chronic"] * inc.chronic_outpatient * (1.0 - ss.medical_assistance_rate
                                                         * covered)
    september = counts["students"] * (p.shocks.schooling_cost - fp * ss.education_grant)
    ring = np.tile(monthly, (12, 1))
    ring_h = np.tile(monthly - care, (12, 1))
    ring_h[8] -= september
    roll12, roll12_h = ring[0].copy(), ring_h[0].copy()
    for month in range(1, 12):  # sequential sums: the order a loop adds in
        roll12 = roll12 + ring[month]
        roll12_h = roll12_h + ring_h[month]
    pc12, pc12_h = roll12 / members, roll12_h / members

    state: dict[str, np.ndarray] = {k: np.zeros(n, dtype) for k, dtype in FIELDS.items()}
    for k, v in {**hh, **counts}.items():
        if k in FIELDS:
            state[k] = np.asarray(v).astype(FIELDS[k])
    line = p.policy.line_2021
    below, below_h = pc12 < line, pc12_h < line
    secure = pc12 >= line * p.monitoring.alert_band
    review = np.where(counts["workers"] > 0, ss.review_months, ss.review_months_stable)
    state.update(
        alive=np.ones(n, bool), skill=skill, family_support=family, roll12=roll12, pc12=pc12,
        roll12_h=roll12_h, pc12_h=pc12_h, below=below, below_h=below_h, secure=secure,
        # streaks that began before 2021 count from a year earlier
        above_since=np.where(below, 0, -12).astype(np.int16),
        above_since_h=np.where(below_h, 0, -12).astype(np.int16),
        secure_since=np.where(secure, -12, 0).astype(np.int16),
        risk_since=np.full(n, -1, np.int16), support_until=np.full(n, NO_SUPPORT, np.int16),
        cause=np.full(n, LOW_INCOME, np.int8), fall_cause=np.full(n, LOW_INCOME, np.int8),
        fall_cause_h=np.full(n, LOW_INCOME, np.int8),
        programme=programme, benefit=benefit,
        programme_month=np.where(programme != OFF, -1, 0).astype(np.int16),
        next_review=np.where(programme != OFF, review, NEVER).astype(np.int16),
        exit_until=np.full(n, -1, np.int16),
        job_slot=job_slot, job_kind=np.where(has_job, PROJECT_JOB, NO_JOB).astype(np.int8),
        job_until=np.where(has_job, NEVER, -1).astype(np.int16),
        savings=savings,
        debt=np.where(hh["indebted"], inc.initial_debt_months * np.maximum(monthly, 0.0), 0.0),
        last_y_income=12.0 * monthly)
    if "monitoring_recorded" in hh:
        # households the records show under monitoring (or eliminated from it) entered it
        # before 2021: identified a year earlier, channel and cause unknown (none,
        # low_income), and the follow-up of an elimination over
        recorded = hh["monitoring_recorded"].astype(np.int8)
        state.update(state=recorded, ever_monitored=recorded != NOT_MONITORED,
                     identified_month=np.where(recorded != NOT_MONITORED, -12, 0
                                               ).astype(np.int16))
    state["ring"] = ring
    state["ring_h"] = ring_h
    state["losses"] = np.zeros((n, N_SHOCK_CAUSES))
    return state, people
