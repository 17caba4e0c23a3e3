"""The array engine's compiled loops: the agents engine's verbs, household by household.

Each function here is the twin of a method of the agents engine of the same name — household
`i`'s attribute `x` is `h.x`, its member k's age `pr[k].age` — and calls the same rules
(compiled twins, simulation/model/compiled.py) with the same random numbers in the same order.
The conformance tests (tests/test_engines.py) hold the two engines bit-identical; when a verb
changes, its twin changes in the same commit.

Arguments: `s` household records (HOUSEHOLD_DTYPE) and `h` one of them, `pp` person records
(n x K, PERSON_DTYPE) and `pr` one household's, `i` the household's index (its draws, its
events), `c` the month's context as a record (compiled.record), `ev` the event log
(EventLog), `tally` the year's integer tallies (TALLY rows by household weight group).
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

from simulation.model import compiled as R
from simulation.model.codes import (
    ACCIDENT,
    ACCIDENT_EVENT,
    ASSISTED,
    ASSISTED_EVENT,
    ASSISTED_JOB,
    BIRTH_EVENT,
    CADRE_SCREENING,
    DATA_WARNING,
    DEATH_EVENT,
    DIBAO,
    DIBAO_END,
    DIBAO_START,
    DIP,
    DISABILITY,
    DISABILITY_EVENT,
    DISASTER,
    DISASTER_EVENT,
    DISSOLVED,
    ELIMINATED_EVENT,
    EVENTS,
    FAILED,
    FALL,
    FALL_HARDSHIP,
    FEMALE,
    IDENTIFIED,
    IDENTIFIED_EVENT,
    ILLNESS,
    ILLNESS_EVENT,
    INDUSTRY_FAILURE,
    JOB_END,
    JOB_LOSS,
    JOB_LOSS_EVENT,
    JOB_START,
    JOBLESS,
    LOCAL,
    MALE,
    MIGRANT,
    MOVED_OUT_EVENT,
    N_CAUSES,
    N_SHOCK_CAUSES,
    NO_JOB,
    NO_SUPPORT,
    NONE,
    NOT_MONITORED,
    OFF,
    OPERATING,
    ORDINARY,
    PENDING,
    PLACEMENT,
    PLATFORM,
    PROJECT_JOB,
    RECHECK,
    RISE,
    RISK_ELIMINATED,
    ROLLED_BACK,
    SCHOOL_EVENT,
    SCHOOLING,
    SELF_REPORT,
    SHOCK_EVENTS,
    STUDENT,
    TEKUN,
    TEKUN_START,
    TRANSFER_WITHDRAWAL,
    WELFARE_POST,
    K,
)
from simulation.model.context import LOSS_FLOOR
from simulation.model.state import FIELDS, NEVER, PERSON_FIELDS

jit, inline = R.jit, R.inline

CACHE: Final[tuple[tuple[str, Any], ...]] = (
    ("p_illness", np.float64), ("p_disability", np.float64), ("shock_end", np.float64),
    ("p_back", np.float64), ("job_low", np.float64), ("job_high", np.float64),
    ("wage_base", np.float64), ("assisted_wage", np.float64), ("linked", np.bool_),
    ("regular", np.float64), ("ss_regular", np.float64), ("chronic_cost", np.float64),
    ("version", np.int64))
"""Values the agents engine caches per household (Household.refresh), and the model version
they were computed at."""

HOUSEHOLD_DTYPE: Final = np.dtype(
    [(name, dtype) for name, dtype in FIELDS.items()]
    + [("ring", np.float64, (12,)), ("ring_h", np.float64, (12,)),
       ("losses", np.float64, (N_SHOCK_CAUSES,))] + list(CACHE), align=True)
"""One record per household: the state (state.FIELDS, the two 12-month rings, the cause
ledger) and the cached values. The loops bind `h = s[i]` and read and write `h.x` as the
agents engine does `self.x` (a record, unlike a tuple of columns, is passed without copying
or reference counting)."""
PERSON_DTYPE: Final = np.dtype([(name, dtype) for name, dtype in PERSON_FIELDS.items()],
                               align=True)
"""One record per person slot (n x K): `pr[k].age` is the agents engine's `self.p_age[k]`."""


def household_records(state: dict[str, np.ndarray]) -> np.ndarray:
    """The state columns of state.initial_state as household records (cache stale)."""
    n = state["category"].size
    s = np.zeros(n, HOUSEHOLD_DTYPE)
    for name in FIELDS:
        s[name] = state[name]
    s["ring"], s["ring_h"] = state["ring"].T, state["ring_h"].T
    s["losses"] = state["losses"]
    s["version"] = -1
    return s


def person_records(people: dict[str, np.ndarray]) -> np.ndarray:
    pp = np.zeros(people["age"].shape, PERSON_DTYPE)
    for name in PERSON_FIELDS:
        pp[name] = people[name]
    return pp


@R.array_tuple
class EventLog(NamedTuple):
    """This month's events (month, household, event, cause) and how many there are."""

    data: NDArray[np.int32]
    n: NDArray[np.int64]
    keep: NDArray[np.bool_]  # which event codes are kept (record_events, log_shocks)


def new_log(capacity: int, record_events: bool, log_shocks: bool) -> EventLog:
    keep = np.array([record_events and (log_shocks or e not in SHOCK_EVENTS)
                     for e in range(len(EVENTS))])
    return EventLog(np.zeros((capacity, 4), np.int32), np.zeros(1, np.int64), keep)


TALLY: Final = ("monitoring_inflow", "risk_eliminated", "rolled_back", "lag_months",
                *(f"channel_{k}" for k in range(1, 6)),
                *(f"risk_cause_{k}" for k in range(N_CAUSES)),
                "partner_jobs", "restructured", "disasters")
"""Rows of the tally array: the agents engine's tally names."""
T_INFLOW, T_ELIMINATED, T_ROLLED_BACK, T_LAG = 0, 1, 2, 3
T_CHANNEL = 4  # + channel - 1
T_RISK_CAUSE = 9  # + cause
T_PARTNER_JOBS, T_RESTRUCTURED, T_DISASTERS = 18, 19, 20


@R.array_tuple
class Villages(NamedTuple):
    """What households read from their village this month."""

    hit: NDArray[np.bool_]
    dividend_paid: NDArray[np.float64]
    dividend_drop: NDArray[np.float64]
    failed_now: NDArray[np.bool_]
    partner: NDArray[np.bool_]
    p_screen: NDArray[np.float64]


@R.number_tuple
class DisasterRecord(NamedTuple):
    """This month's disaster, as the household loop reads it."""

    asset_loss: float
    production_loss: float
    months: int


@R.array_tuple
class HouseholdDraws(NamedTuple):
    """The month's per-household draws the household and official loops read."""

    earnings: NDArray[np.float64]
    shock: NDArray[np.float64]
    severity: NDArray[np.float64]
    job: NDArray[np.float64]
    report: NDArray[np.float64]
    screen: NDArray[np.float64]
    warn: NDArray[np.float64]
    process: NDArray[np.float64]
    house: NDArray[np.float64]
    apply: NDArray[np.float64]
    train: NDArray[np.float64]
    guide: NDArray[np.float64]


# ----------------------------------------------------------------------------- bookkeeping
@inline
def log(ev: Any, t: int, i: int, event: int, cause: int) -> None:
    if ev.keep[event]:
        k = ev.n[0]
        if k < ev.data.shape[0]:
            ev.data[k, 0], ev.data[k, 1], ev.data[k, 2], ev.data[k, 3] = t, i, event, cause
        ev.n[0] = k + 1


@inline
def add_loss(h: Any, decay: Any, i: int, t: int, cause: int, amount: float) -> None:
    factor = decay[t - h.loss_month]
    if factor != 1.0:
        for k in range(h.losses.size):
            h.losses[k] *= factor
    h.losses[cause] += amount
    h.loss_month = t


@inline
def record(h: Any, ev: Any, decay: Any, c: Any, i: int, t: int, event: int, cause: int,
           loss: float) -> None:
    add_loss(h, decay, i, t, cause, loss)
    h.trace_until = t + c.alert_months
    h.version = -1
    log(ev, t, i, event, cause)


@inline
def primary_cause(h: Any, decay: Any, i: int, t: int) -> int:
    return R.primary_cause(h.losses, decay[t - h.loss_month],
                           LOSS_FLOOR * abs(h.roll12), h.disabled, h.chronic, h.workers)


# ----------------------------------------------------------------------------- members
@inline
def count_members(h: Any, pr: Any, i: int, pension_age: int) -> None:
    members = workers = migrants = unemployed = elderly = children = students = 0
    disabled = chronic = able = 0
    for k in range(K):
        if not pr[k].present:
            continue
        age, role = pr[k].age, pr[k].role
        members += 1
        if R.works(role):
            workers += 1
        if role == MIGRANT or role == JOBLESS:
            migrants += 1
        if role == JOBLESS:
            unemployed += 1
        if age >= pension_age:
            elderly += 1
        if age < 16 and role != STUDENT:
            children += 1
        if role == STUDENT:
            students += 1
        if pr[k].disabled:
            disabled += 1
        if pr[k].chronic:
            chronic += 1
        if 16 <= age < pension_age and not pr[k].disabled and role != STUDENT:
            able += 1
    h.members, h.workers, h.migrants = members, workers, migrants
    h.unemployed, h.elderly, h.children = unemployed, elderly, children
    h.students, h.disabled, h.chronic = students, disabled, chronic
    h.able_adults = able
    h.alive = members > 0


@inline
def refresh(h: Any, pr: Any, c: Any, i: int, version: int) -> None:
    p = c.p
    ill = 0.0
    dis = 0.0
    wage = 0.0
    for k in range(K):
        if not pr[k].present:
            continue
        age = pr[k].age
        ill += R.hospitalisation_weight(age, pr[k].chronic, p.shocks.chronic_multiplier)
        if not pr[k].disabled:
            dis += R.disability_weight(age)
        wage += R.market_wage(pr[k].role, c.local_wage, c.migrant_wage, c.fallback_wage)
    fp = h.category == 0
    h.p_illness = ill * c.p_illness_unit
    h.p_disability = dis * c.p_disability_unit
    h.shock_end = h.p_illness + c.p_accident + h.p_disability
    employed = h.migrants - h.unemployed
    h.p_back = R.reemployment_probability(p, h.motivation, h.dependency)
    h.job_low = employed * c.p_job_loss if employed > 0 else -1.0
    h.job_high = 1.0 - h.p_back if h.unemployed > 0 else 2.0
    h.wage_base = wage * h.skill
    h.assisted_wage = R.job_wage(p, h.job_kind) if h.job_slot >= 0 else 0.0
    h.linked = fp and h.u_linkage < p.industry.linkage_share
    on_programme = h.programme == DIBAO or h.programme == TEKUN
    benefit = h.benefit if on_programme else 0.0
    h.regular = h.elderly * c.pension + fp * c.subsidy + benefit
    covered = h.u_coverage < p.social_security.coverage and (fp or on_programme)
    cost, care_aid = R.chronic_care(p, h.chronic, covered, c.medical)
    h.chronic_cost = cost
    h.ss_regular = fp * c.subsidy + benefit + care_aid
    h.version = version


# ----------------------------------------------------------------------------- phase 0 (January)
@jit
def demography(s: Any, pp: Any, c: Any, ev: Any, decay: Any, death: Any,
               change: Any, move: Any, birth: Any, births: Any) -> None:
    """Household.demography for every household (`births`: scratch, K floats)."""
    t = c.t
    dp = c.p.demography
    for i in range(s.size):
        h, pr = s[i], pp[i]
        if not h.alive:
            continue
        nb = 0
        for k in range(K):
            if not pr[k].present:
                continue
            age, role = pr[k].age, pr[k].role
            if death[i, k] < R.death_probability(age, pr[k].sex, dp.mortality_multiplier):
                leave(h, pr, c, ev, i, k, t, DEATH_EVENT)
                continue
            age = age + 1
            pr[k].age = age
            u = change[i, k]
            if role == NONE and age == 16 and not pr[k].disabled:
                pr[k].role = R.school_or_work(u, dp.school_continuation, dp.migrate_rate)
                if pr[k].role == STUDENT:
                    ss = c.p.social_security
                    fp = h.category == 0
                    cost = (c.p.shocks.schooling_cost - ss.education_grant
                            * (fp or h.edu_aid)) * c.cpi
                    record(h, ev, decay, c, i, t, SCHOOL_EVENT, SCHOOLING, cost)
            elif role == STUDENT and u < 1.0 / dp.study_years:
                pr[k].role = LOCAL
            elif role == LOCAL and 16 <= age <= 45 and u < dp.migrate_rate:
                pr[k].role = MIGRANT
            elif (role == MIGRANT or role == JOBLESS) and age >= dp.migrant_return_age \
                    and u < dp.migrant_return_rate:
                pr[k].role = LOCAL
            elif role == LOCAL and u < R.retirement_probability(c.p, age):
                pr[k].role = NONE
            if k > 0 and 18 <= age <= 30 and pr[k].role != STUDENT \
                    and move[i, k] < dp.move_out_rate:
                leave(h, pr, c, ev, i, k, t, MOVED_OUT_EVENT)
                continue
            if pr[k].sex == FEMALE:
                q = R.birth_probability(age, dp.fertility_multiplier)
                u = birth[i, k]
                if u < q:
                    births[nb] = u / q
                    nb += 1
        for b in range(nb):
            give_birth(pr, ev, i, births[b], dp.boys_per_girl, t)
        count_members(h, pr, i, dp.pension_age)
        if not h.alive:  # the last member died or moved out: the household ends
            log(ev, t, i, DISSOLVED, -1)
        h.version = -1


@inline
def leave(h: Any, pr: Any, c: Any, ev: Any, i: int, k: int, t: int,
          event: int) -> None:
    pr[k].present = False
    if h.job_slot == k:
        end_job(h, pr, c, ev, i, t)
    log(ev, t, i, event, -1)


@inline
def give_birth(pr: Any, ev: Any, i: int, u: float, boys_per_girl: float, t: int) -> None:
    for k in range(K):
        if not pr[k].present:
            pr[k].present = True
            pr[k].age = 0
            pr[k].sex = MALE if u < boys_per_girl / (1.0 + boys_per_girl) else FEMALE
            pr[k].role = NONE
            pr[k].disabled = False
            pr[k].chronic = False
            log(ev, t, i, BIRTH_EVENT, -1)
            return


# ----------------------------------------------------------------------------- phase 3
@jit
def operate(p: Any, trend: float, status: Any, reserve: Any, sector: Any, sector_z: Any,
            project_z: Any, project_u: Any, vil: Any) -> int:
    """Industry.operate for every project; returns how many were restructured."""
    restructured = 0
    dividend = p.industry.dividend / 12.0 * trend
    for j in range(status.size):
        old = status[j]
        if old != FAILED:
            margin = R.industry_margin(p, sector_z[sector[j]], project_z[j])
            reserve[j] = R.update_reserve(p, reserve[j], margin)
        new, reserve[j] = R.industry_transition(p, old, reserve[j], project_u[j])
        status[j] = new
        if old == FAILED and new == OPERATING:
            restructured += 1
        vil.dividend_paid[j] = dividend if new == OPERATING else 0.0
        vil.dividend_drop[j] = dividend if old == OPERATING and new != OPERATING else 0.0
        vil.failed_now[j] = old != FAILED and new == FAILED
    return restructured


# ----------------------------------------------------------------------------- phase 4
@jit
def households_live(s: Any, pp: Any, c: Any, ev: Any, decay: Any, vil: Any,
                    hit_any: bool, dz: Any, d: Any, version: int, watch: Any,
                    crossing: Any) -> None:
    """Household.live for every household (the verbs in their order)."""
    t = c.t
    for i in range(s.size):
        h, pr = s[i], pp[i]
        watch[i] = False
        crossing[i] = False
        if not h.alive:
            continue
        fee, grant = calendar(h, c, ev, decay, i, t) if c.calendar else (0.0, 0.0)
        if h.version != version:
            refresh(h, pr, c, i, version)
        shock_cost = shocks(h, pr, c, ev, decay, vil, hit_any, dz, d, i, t)
        u = d.job[i]
        if u < h.job_low or u >= h.job_high:
            change_job(h, pr, c, ev, decay, i, t, u)
        if h.job_slot >= 0 and t >= h.job_until:
            end_job(h, pr, c, ev, i, t)
        if h.version != version:
            refresh(h, pr, c, i, version)
        transfers, own = earn(h, pr, c, ev, decay, vil, d, i, t, shock_cost, fee, grant)
        programmes(h, c, ev, decay, d, i, t)
        motivate(h, c, vil, d, i, t, transfers, own)
        stand(h, c, d, i, t, watch, crossing)


@inline
def calendar(h: Any, c: Any, ev: Any, decay: Any, i: int, t: int) -> tuple[float, float]:
    fp = h.category == 0
    if c.subsidy_drop > 0 and fp:
        add_loss(h, decay, i, t, TRANSFER_WITHDRAWAL, 12.0 * c.subsidy_drop)
    if c.september and h.students:
        eligible = fp or h.edu_aid
        fee = h.students * c.p.shocks.schooling_cost * c.cpi
        grant = h.students * c.p.social_security.education_grant * c.cpi * eligible
        return fee, grant
    return 0.0, 0.0


@inline
def shocks(h: Any, pr: Any, c: Any, ev: Any, decay: Any, vil: Any, hit_any: bool,
           dz: Any, d: Any, i: int, t: int) -> float:
    shock_cost = 0.0
    h.work_lost = 0.0
    u = d.shock[i]
    if u < h.shock_end:
        if u < h.p_illness:
            shock_cost = fall_ill(h, pr, c, ev, decay, i, t, u, d.severity[i])
        elif u < h.p_illness + c.p_accident:
            shock_cost = pay_bill(h, c, ev, decay, i, t, d.severity[i], False)
        else:
            become_disabled(h, pr, c, ev, decay, i, t,
                            (u - h.p_illness - c.p_accident) / c.p_disability_unit)
    if hit_any and vil.hit[h.village]:
        shock_cost += suffer_disaster(h, c, ev, decay, dz, i, t, d.house[i])
    return shock_cost


@inline
def fall_ill(h: Any, pr: Any, c: Any, ev: Any, decay: Any, i: int, t: int,
             u: float, severity: float) -> float:
    p = c.p
    x = u / c.p_illness_unit
    for k in range(K):
        if not pr[k].present:
            continue
        x -= R.hospitalisation_weight(pr[k].age, pr[k].chronic,
                                      p.shocks.chronic_multiplier)
        if x < 0.0:
            role = pr[k].role
            if R.works(role):
                if role == ASSISTED_JOB:
                    wage = R.job_wage(p, h.job_kind)
                else:
                    wage = R.market_wage(role, c.local_wage, c.migrant_wage,
                                         c.fallback_wage) * h.skill
                h.work_lost = wage * c.trend * p.shocks.illness_work_months
            break
    return pay_bill(h, c, ev, decay, i, t, severity, True)


@inline
def pay_bill(h: Any, c: Any, ev: Any, decay: Any, i: int, t: int, severity: float,
             illness: bool) -> float:
    sh = c.p.shocks
    if illness:
        bill = R.truncated_pareto(severity, sh.bill_min, sh.bill_max) * c.medical
    else:
        bill = R.truncated_pareto(severity, sh.accident_bill_min, sh.accident_bill_max) \
            * c.medical
    covered = R.medically_covered(h.u_coverage, c.p.social_security.coverage,
                                  h.category == 0,
                                  h.programme == DIBAO or h.programme == TEKUN,
                                  h.state, t, h.support_until)
    oop, assistance = R.out_of_pocket(c.p, bill, covered, c.medical)
    h.y_cost_ss += assistance
    h.last_shock_cost = oop
    h.last_shock_month = t
    if illness:
        record(h, ev, decay, c, i, t, ILLNESS_EVENT, ILLNESS, oop + h.work_lost)
    else:
        record(h, ev, decay, c, i, t, ACCIDENT_EVENT, ACCIDENT, oop + h.work_lost)
    return oop


@inline
def become_disabled(h: Any, pr: Any, c: Any, ev: Any, decay: Any, i: int, t: int,
                    x: float) -> None:
    for k in range(K):
        if not pr[k].present or pr[k].disabled:
            continue
        x -= R.disability_weight(pr[k].age)
        if x < 0.0:
            pr[k].disabled = True
            role = pr[k].role
            loss = 0.0
            if R.works(role):
                loss = 12.0 * c.local_wage * h.skill * c.trend
                if h.job_slot == k:
                    end_job(h, pr, c, ev, i, t)
                pr[k].role = NONE
            count_members(h, pr, i, c.p.demography.pension_age)
            record(h, ev, decay, c, i, t, DISABILITY_EVENT, DISABILITY, loss)
            return


@inline
def suffer_disaster(h: Any, c: Any, ev: Any, decay: Any, dz: Any, i: int, t: int,
                    u_house: float) -> float:
    annual_production = 12.0 * h.production * c.trend
    asset_loss = dz.asset_loss * annual_production
    repair = 0.0
    if u_house < c.p.shocks.housing_damage_share:
        full = c.p.shocks.housing_repair * c.cpi
        relief = full * c.p.social_security.disaster_relief
        h.y_cost_ss += relief
        repair = full - relief
    h.disaster_until = t + dz.months
    h.disaster_loss = dz.production_loss
    h.last_shock_cost = asset_loss + repair
    h.last_shock_month = t
    h.y_hit = True
    record(h, ev, decay, c, i, t, DISASTER_EVENT, DISASTER,
           asset_loss + repair + dz.production_loss * dz.months / 12.0 * annual_production)
    return asset_loss + repair


@inline
def change_job(h: Any, pr: Any, c: Any, ev: Any, decay: Any, i: int, t: int,
               u: float) -> None:
    lose, regain = R.job_transitions(u, h.migrants - h.unemployed, h.unemployed,
                                     c.p_job_loss, h.p_back)
    for k in range(K):
        if not pr[k].present:
            continue
        if lose and pr[k].role == MIGRANT:
            pr[k].role = JOBLESS
            count_members(h, pr, i, c.p.demography.pension_age)
            record(h, ev, decay, c, i, t, JOB_LOSS_EVENT, JOB_LOSS,
                   12.0 * (c.migrant_wage - c.fallback_wage) * h.skill * c.trend)
            return
        if regain and pr[k].role == JOBLESS:
            pr[k].role = MIGRANT
            count_members(h, pr, i, c.p.demography.pension_age)
            h.version = -1
            return


@inline
def start_job(h: Any, pr: Any, c: Any, ev: Any, i: int, kind: int, until: int,
              t: int) -> bool:
    pick = -1
    for want in (JOBLESS, LOCAL):
        for k in range(K):
            if pick < 0 and pr[k].present and pr[k].role == want \
                    and R.takes_job(c.p, kind, want, c.local_wage, h.skill):
                pick = k
    if pick < 0:
        for k in range(K):
            if pick < 0 and pr[k].present and pr[k].role == NONE \
                    and not pr[k].disabled and 16 <= pr[k].age < 70:
                pick = k
    if pick < 0:
        return False
    pr[pick].role = ASSISTED_JOB
    h.job_slot, h.job_kind, h.job_until = pick, kind, until
    count_members(h, pr, i, c.p.demography.pension_age)
    h.version = -1
    log(ev, t, i, JOB_START, -1)
    return True


@inline
def end_job(h: Any, pr: Any, c: Any, ev: Any, i: int, t: int) -> None:
    k = h.job_slot
    if pr[k].present and pr[k].role == ASSISTED_JOB:
        pr[k].role = LOCAL if not pr[k].disabled else NONE
    h.job_slot, h.job_kind, h.job_until = -1, NO_JOB, -1
    count_members(h, pr, i, c.p.demography.pension_age)
    h.version = -1
    log(ev, t, i, JOB_END, -1)


@inline
def earn(h: Any, pr: Any, c: Any, ev: Any, decay: Any, vil: Any, d: Any, i: int,
         t: int, shock_cost: float, fee: float, grant: float) -> tuple[float, float]:
    p = c.p
    h.dev = R.earnings_deviation(h.dev, d.earnings[i], c.persistence, c.innovation_sd)
    wages = R.positive_part(R.market_earnings(h.wage_base, h.dev, c.trend)
                            + h.assisted_wage * c.trend - h.work_lost)
    loss = h.disaster_loss if t < h.disaster_until else 0.0
    production = R.market_earnings(h.production, h.dev, c.trend) * (1.0 - loss)
    project = project_income(h, pr, c, ev, decay, vil, i, t) if h.linked else 0.0
    transfers = h.regular + h.family_support * c.trend + h.pending_aid + grant
    income = wages + production + project + transfers + p.income.property * c.trend
    rigid = shock_cost + h.chronic_cost + fee
    surplus = R.positive_part(income - c.subsistence * h.members)
    paid, from_income, borrowed, _unmet = R.pay_rigid(
        rigid, h.savings, surplus, h.debt, p.income.credit_months * h.roll12 / 12.0)
    slot = c.month_of_year
    h.roll12 = R.window(h.roll12, h.ring[slot], income)
    h.ring[slot] = income
    net = income - (rigid - paid)
    h.roll12_h = R.window(h.roll12_h, h.ring_h[slot], net)
    h.ring_h[slot] = net
    h.pc12 = h.roll12 / h.members
    h.pc12_h = h.roll12_h / h.members
    h.savings, h.debt = R.buffers(p, h.savings - paid, h.debt + borrowed,
                                        surplus - from_income,
                                        p.income.savings_target * h.roll12 / 12.0)
    if shock_cost > 0 and R.severe_shock(shock_cost, h.roll12,
                                         p.monitoring.severe_shock_share):
        h.alert_until = t + c.alert_months
    h.y_labour += wages
    h.y_production += production
    h.y_project += project
    h.y_transfers += transfers
    h.y_rigid += rigid
    h.y_income += income
    h.y_cost_ss += h.ss_regular + grant
    if h.job_kind == WELFARE_POST:
        h.y_cost_ss += h.assisted_wage * c.trend
    h.pending_aid = 0.0
    return transfers, wages + production + project


@inline
def project_income(h: Any, pr: Any, c: Any, ev: Any, decay: Any, vil: Any, i: int,
                   t: int) -> float:
    v = h.village
    drop = vil.dividend_drop[v]
    if vil.failed_now[v] and h.job_kind == PROJECT_JOB:
        drop += c.p.industry.wage * c.trend
        end_job(h, pr, c, ev, i, t)
    if drop > 0:
        add_loss(h, decay, i, t, INDUSTRY_FAILURE, 12.0 * drop)
    return vil.dividend_paid[v]


@inline
def programmes(h: Any, c: Any, ev: Any, decay: Any, d: Any, i: int, t: int) -> None:
    p = c.p
    ss = p.social_security
    prog = h.programme
    if prog == OFF:
        if h.u_coverage < ss.coverage and d.apply[i] < ss.application_rate \
                and R.dibao_eligible(p, counted_income(h, c), h.savings, h.members,
                                     c.dibao_standard):
            apply_for_programme(h, i, t)
        return
    if prog == PENDING:
        if t - h.programme_month >= ss.approval_months:
            decide(h, c, ev, i, t)
        return
    if t >= h.next_review:
        review(h, c, ev, decay, i, t)


@inline
def counted_income(h: Any, c: Any) -> float:
    benefit = h.benefit if h.programme == DIBAO or h.programme == TEKUN else 0.0
    return R.own_income(h.pc12, benefit, h.elderly * c.pension + (h.category == 0) * c.subsidy,
                        h.members)


@inline
def apply_for_programme(h: Any, i: int, t: int) -> None:
    if h.programme == OFF:
        h.programme = PENDING
        h.programme_month = t


@inline
def decide(h: Any, c: Any, ev: Any, i: int, t: int) -> None:
    p = c.p
    own = counted_income(h, c)
    if R.dibao_eligible(p, own, h.savings, h.members, c.dibao_standard):
        tekun = R.tekun_eligible(h.workers, h.able_adults, h.no_supporter)
        h.programme = TEKUN if tekun else DIBAO
        set_benefit(h, c, i, own)
        h.programme_month = t
        log(ev, t, i, TEKUN_START if tekun else DIBAO_START, -1)
    else:
        h.programme = OFF
    h.version = -1


@inline
def set_benefit(h: Any, c: Any, i: int, own: float) -> None:
    p = c.p
    if h.programme == TEKUN:
        h.benefit = R.tekun_benefit(p, h.members, c.dibao_standard)
    else:
        h.benefit = R.dibao_benefit(p, own, h.members, h.elderly + h.disabled,
                                       c.dibao_standard)
    months = p.social_security.review_months if h.workers > 0 else \
        p.social_security.review_months_stable
    h.next_review = c.t + months


@inline
def review(h: Any, c: Any, ev: Any, decay: Any, i: int, t: int) -> None:
    own = counted_income(h, c)
    if R.leaves_dibao(own, c.dibao_exit_line, t, h.support_until, h.state):
        if h.exit_until < 0:
            h.exit_until = t + c.p.social_security.gradual_exit_months
            h.next_review = h.exit_until
        elif t >= h.exit_until:
            lost = h.benefit
            h.programme, h.benefit, h.exit_until = OFF, 0.0, -1
            h.next_review = NEVER
            add_loss(h, decay, i, t, TRANSFER_WITHDRAWAL, 12.0 * lost)
            log(ev, t, i, DIBAO_END, -1)
        else:
            h.next_review = h.exit_until
    else:
        h.exit_until = -1
        set_benefit(h, c, i, own)
    h.version = -1


@inline
def motivate(h: Any, c: Any, vil: Any, d: Any, i: int, t: int, transfers: float,
             own_income: float) -> None:
    if c.march:
        training_and_guidance(h, c, i, t, d.train[i], d.guide[i], transfers, own_income)
    if h.state == ASSISTED and vil.partner[h.village]:
        h.motivation = R.motivation_gain(h.motivation, c.p.responsibility.mentoring)
        if h.unemployed:
            h.version = -1


@inline
def training_and_guidance(h: Any, c: Any, i: int, t: int, u_train: float,
                          u_guide: float, transfers: float, own_income: float) -> None:
    p = c.p
    fp = h.category == 0
    eligible = h.workers > 0 and (fp or R.in_support(h.state, t, h.support_until))
    if eligible and u_train < R.training_probability(p, h.motivation, h.dependency):
        h.skill = R.skill_after_training(h.skill, not h.trained,
                                            p.motivation.training_practicality)
        h.trained = True
        h.y_trained = True
        h.version = -1
    if h.category != ORDINARY:
        h.dependency = R.dependency_update(h.dependency, u_guide, c.p_dependency_drop,
                                              c.p_dependency_gain, transfers > own_income)
        h.motivation = R.motivation_gain(h.motivation, c.guidance_gain)
        if h.unemployed:
            h.version = -1


@inline
def stand(h: Any, c: Any, d: Any, i: int, t: int, watch: Any, crossing: Any) -> None:
    pc, state = h.pc12, h.state
    secure = pc >= c.alert_line
    if secure != h.secure:
        h.secure = secure
        if secure:
            h.secure_since = t
    risk = R.at_risk(pc, c.alert_line, h.pc12_h, c.line, t < h.alert_until)
    h.at_risk = risk
    if risk:
        h.y_at_risk = True
        if h.risk_since < 0:
            h.risk_since = t
        if state == NOT_MONITORED or state == RISK_ELIMINATED:
            h.applied = d.report[i] < R.self_report_probability(c.p, h.motivation,
                                                                   h.dependency)
    elif h.risk_since >= 0:
        h.risk_since = -1
    if risk or state:
        watch[i] = True
    if (pc < c.line) != h.below or (h.pc12_h < c.line) != h.below_h:
        crossing[i] = True


# ----------------------------------------------------------------------------- phase 5
@jit
def monitor(s: Any, c: Any, ev: Any, decay: Any, vil: Any, d: Any, watch: Any,
            tally: Any, candidates: Any) -> int:
    """Official.monitor for every village: households in the officials' view, in index
    order (the order does not matter: each reads only its own state and draws). Returns how
    many job candidates were written into `candidates`."""
    t = c.t
    p = c.p
    p_warn = R.warning_probability(p.monitoring.data_recall, p.responsibility.coordination,
                                   True)
    p_platform = p.monitoring.low_income_recall
    n_cand = 0
    for i in range(s.size):
        if not watch[i]:
            continue
        h = s[i]
        st = h.state
        if st == NOT_MONITORED or st == RISK_ELIMINATED:
            if h.at_risk:
                ch = channel(h, c, i, t, d.screen[i], d.warn[i], d.process[i],
                             vil.p_screen[h.village], p_warn, p_platform)
                if ch:
                    identify(h, c, ev, decay, tally, i, ch, t)
                    if c.lag == 0:
                        n_cand = assist(h, c, ev, d, i, t, candidates, n_cand)
                    continue
            if st == RISK_ELIMINATED and h.support_until != NO_SUPPORT \
                    and t + 1 >= h.support_until:
                h.edu_aid = False
                h.support_until = NO_SUPPORT
        elif st == IDENTIFIED:
            if t - h.identified_month >= c.lag:
                n_cand = assist(h, c, ev, d, i, t, candidates, n_cand)
        elif st == ASSISTED and R.elimination_eligible(
                h.workers, h.programme == DIBAO or h.programme == TEKUN, h.secure, t,
                h.secure_since,
                int(p.monitoring.elimination_months), h.alert_until) \
                and d.process[i] < p.monitoring.elimination_hazard:
            h.state = RISK_ELIMINATED
            h.support_until = t + c.follow_up + 1
            tally[T_ELIMINATED, h.weight_group] += 1
            log(ev, t, i, ELIMINATED_EVENT, h.cause)
    return n_cand


@inline
def channel(h: Any, c: Any, i: int, t: int, u_screen: float, u_warn: float, u_process: float,
            p_screen: float, p_warn: float, p_platform: float) -> int:
    if h.applied:
        return SELF_REPORT
    if u_screen < p_screen:
        return CADRE_SCREENING
    if t < h.trace_until and u_warn < p_warn:
        return DATA_WARNING
    if h.pc12 < c.low_income_line and u_warn >= 1.0 - p_platform:
        return PLATFORM
    if h.state == RISK_ELIMINATED and t < h.support_until \
            and u_process < c.p.monitoring.recheck_rate:
        return RECHECK
    return 0


@inline
def identify(h: Any, c: Any, ev: Any, decay: Any, tally: Any, i: int, ch: int, t: int) -> None:
    cat = h.weight_group  # tallies count by weight group (county totals, metrics.py)
    if h.state == RISK_ELIMINATED:
        tally[T_ROLLED_BACK, cat] += 1
        log(ev, t, i, ROLLED_BACK, -1)
    h.state = IDENTIFIED
    h.identified_month = t
    h.cause = primary_cause(h, decay, i, t)
    h.channel = ch
    h.ever_monitored = True
    h.y_risk_identified = True
    h.support_until = NO_SUPPORT
    tally[T_INFLOW, cat] += 1
    tally[T_CHANNEL + ch - 1, cat] += 1
    tally[T_RISK_CAUSE + h.cause, cat] += 1
    tally[T_LAG, cat] += t - h.risk_since
    log(ev, t, i, IDENTIFIED_EVENT, h.cause)


@inline
def assist(h: Any, c: Any, ev: Any, d: Any, i: int, t: int, candidates: Any,
           n_cand: int) -> int:
    p = c.p
    take_up = d.process[i] < p.social_security.coverage
    programme, job, production, education, temporary = R.matched_measures(h.cause,
                                                                          h.workers)
    h.state = ASSISTED
    if temporary and take_up:
        recent = R.recent_shock_cost(p, h.last_shock_cost, h.last_shock_month, t)
        aid = R.emergency_aid(p, h.pc12, c.line, h.members, recent, c.cpi)
        h.pending_aid += aid
        h.y_cost_ss += aid
    if programme and take_up:
        apply_for_programme(h, i, t)
    if production:
        grant = p.industry.production_support * c.cpi
        h.pending_aid += grant
        h.y_cost_industry += grant
    if education:
        h.edu_aid = True
    if job and h.job_slot < 0:
        candidates[n_cand] = i
        n_cand += 1
    log(ev, t, i, ASSISTED_EVENT, h.cause)
    return n_cand


@jit
def place_jobs(s: Any, pp: Any, c: Any, ev: Any, order: Any, pools: Any,
               capacity: float, term: int, post_term: int, tally: Any) -> None:
    """PovertyModel._place_jobs: partners' placements in the candidates' priority order, a
    public-welfare post for the rest (SocialPartner.place for each partner in turn)."""
    t = c.t
    seen = 0
    placed = 0
    for j in range(pools.size):
        pool = pools[j] + capacity
        while seen < order.size and pool >= 1.0:
            i = order[seen]
            if start_job(s[i], pp[i], c, ev, i, PLACEMENT, t + term, t):
                pool -= 1.0
                placed += 1
            seen += 1
        pools[j] = min(pool, 12.0 * capacity)
    tally[T_PARTNER_JOBS, 0] += placed
    for j in range(seen, order.size):
        i = order[j]
        if s[i].job_slot < 0:
            start_job(s[i], pp[i], c, ev, i, WELFARE_POST, t + post_term, t)


# ----------------------------------------------------------------------------- phase 6
@jit
def settle(s: Any, c: Any, ev: Any, decay: Any, crossing: Any) -> None:
    """Household.settle for the households whose income crossed the line on either count."""
    t, line = c.t, c.line
    for i in range(s.size):
        if not crossing[i]:
            continue
        h = s[i]
        below = h.pc12 < line
        if below != h.below:
            h.below = below
            if below:
                cause = primary_cause(h, decay, i, t)
                if t - h.above_since >= c.spell_months:
                    if not h.fell_this_year:
                        h.fell_this_year = True
                        h.fall_cause = cause
                        h.fall_repeat = h.ever_fell
                    h.ever_fell = True
                    log(ev, t, i, FALL, cause)
                else:
                    log(ev, t, i, DIP, cause)
            else:
                h.above_since = t
                log(ev, t, i, RISE, -1)
        below_h = h.pc12_h < line
        if below_h != h.below_h:
            h.below_h = below_h
            if not below_h:
                h.above_since_h = t
            elif t - h.above_since_h >= c.spell_months:
                cause = primary_cause(h, decay, i, t)
                if not h.fell_h_this_year:
                    h.fell_h_this_year = True
                    h.fall_cause_h = cause
                log(ev, t, i, FALL_HARDSHIP, cause)



# ----------------------------------------------------------------------------- batches
# The household, monitoring and settling loops for a batch of runs (replicates of one
# scenario, simulation/model/batch.py): every per-run array has a leading run dimension, the
# month's context is the runs' common one, and each run is the loop above called on its own
# rows (the same compiled code, not a copy: compiling the loops twice doubled the compile
# time of a fresh install), so a batch costs one call from Python a month instead of one per
# run.
_households_live = households_live.dispatcher
_monitor = monitor.dispatcher
_settle = settle.dispatcher


@inline
def _run_log(ev: Any, r: int) -> Any:
    return EventLog(ev.data[r], ev.n[r], ev.keep)


@inline
def _run_villages(vil: Any, r: int) -> Any:
    return Villages(vil.hit[r], vil.dividend_paid[r], vil.dividend_drop[r], vil.failed_now[r],
                    vil.partner[r], vil.p_screen[r])


@inline
def _run_draws(d: Any, r: int) -> Any:
    return HouseholdDraws(d.earnings[r], d.shock[r], d.severity[r], d.job[r], d.report[r],
                          d.screen[r], d.warn[r], d.process[r], d.house[r], d.apply[r],
                          d.train[r], d.guide[r])


@jit
def households_live_batch(s: Any, pp: Any, c: Any, ev: Any, decay: Any, vil: Any,
                          hit_any: Any, asset_loss: Any, production_loss: Any,
                          disaster_months: Any, d: Any, version: int, watch: Any,
                          crossing: Any) -> None:
    """households_live for each run r of a batch (its disaster: hit_any[r] and the three
    DisasterRecord columns at r)."""
    for r in range(s.shape[0]):
        _households_live(s[r], pp[r], c, _run_log(ev, r), decay, _run_villages(vil, r),
                         hit_any[r], DisasterRecord(asset_loss[r], production_loss[r],
                                                    disaster_months[r]),
                         _run_draws(d, r), version, watch[r], crossing[r])


@jit
def monitor_batch(s: Any, c: Any, ev: Any, decay: Any, vil: Any, d: Any, watch: Any,
                  tally: Any, candidates: Any, n_cand: Any) -> None:
    """monitor for each run r of a batch; its number of job candidates into n_cand[r]."""
    for r in range(s.shape[0]):
        n_cand[r] = _monitor(s[r], c, _run_log(ev, r), decay, _run_villages(vil, r),
                             _run_draws(d, r), watch[r], tally[r], candidates[r])


@jit
def settle_batch(s: Any, c: Any, ev: Any, decay: Any, crossing: Any) -> None:
    """settle for each run r of a batch."""
    for r in range(s.shape[0]):
        _settle(s[r], c, _run_log(ev, r), decay, crossing[r])
