"""The model's rules, each written once, as pure functions of numbers.

Both engines call these functions for one household (or person) at a time: the agents engine
as Python functions on Python numbers, the array engine as the same functions compiled by
numba (simulation/model/compiled.py) inside its loops. IEEE arithmetic is the same in both, so
they give bit-identical results as long as a rule uses only `+ - * /`, comparisons, `and`,
`or`, `min`, `max` and conditional expressions on household values — no `exp`, `log` or `**`,
whose last bit may differ between libm and LLVM. A rule calls only other rules and reads only
its arguments and the constants of this module (the compiled copies see the same).

Scalars that both engines share (monthly probabilities, the line, the indices) are computed
once per month in `simulation.model.context`; transcendental functions are allowed there. A
rule that needs knob values takes the typed knobs `p` (simulation.model.params.Knobs, the same
Python floats in both engines) and reads them itself: a new knob then touches the schema and
the rule, not the engines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulation.model import lifetable as lt
from simulation.model.codes import (
    ACCIDENT,
    ASSISTED,
    ASSISTED_JOB,
    DISABILITY,
    DISASTER,
    IDENTIFIED,
    ILLNESS,
    JOB_LOSS,
    JOBLESS,
    LOCAL,
    LOW_INCOME,
    MIGRANT,
    NO_CAP,
    PLACEMENT,
    PROJECT_JOB,
    SCHOOLING,
    STUDENT,
    TRANSFER_WITHDRAWAL,
    WELFARE_POST,
)

if TYPE_CHECKING:
    from simulation.model.params import Knobs

X = Any  # a number (int, float or bool)

_MORTALITY_MALE, _MORTALITY_FEMALE = lt.MORTALITY


# ----------------------------------------------------------------------------- arithmetic choices
def positive_part(x: X) -> X:
    """max(x, 0)."""
    return x if x > 0.0 else 0.0


def minimum(a: X, b: X) -> X:
    """min(a, b) (the first operand on a tie)."""
    return a if a <= b else b


def cap_if(condition: X, cap: float) -> float:
    """`cap` where `condition` holds, else NO_CAP (no cap at all)."""
    return cap if condition else NO_CAP


# ----------------------------------------------------------------------------- people
def age_band(age: int) -> int:
    """The 5-year band of an age (simulation.model.lifetable)."""
    b = age // 5
    return b if b < lt.BANDS else lt.BANDS - 1


def death_probability(age: int, sex: int, multiplier: float) -> float:
    """Yearly chance of dying at `age` (rural: the national table times `multiplier`)."""
    b = age_band(age)
    q = _MORTALITY_FEMALE[b] if sex == 1 else _MORTALITY_MALE[b]
    return minimum(q * multiplier, 1.0)


def birth_probability(age: int, multiplier: float) -> float:
    """Yearly chance a woman of `age` gives birth."""
    return lt.FERTILITY[age_band(age)] * multiplier


def hospitalisation_weight(age: int, chronic: X, chronic_multiplier: float) -> float:
    """A person's hospitalisation risk relative to a healthy adult of 50-54."""
    w = lt.HOSPITALISATION[age_band(age)]
    return w * chronic_multiplier if chronic else w


def disability_weight(age: int) -> float:
    """A person's disability-onset risk relative to an adult of 50-54."""
    return lt.DISABILITY[age_band(age)]


def retirement_probability(p: Knobs, age: int) -> float:
    """Yearly chance a local worker stops working (rural people farm into old age)."""
    d = p.demography
    if age >= 80:
        return d.retirement_80
    if age >= 70:
        return d.retirement_70
    if age >= 60:
        return d.retirement_60
    return 0.0


def works(role: int) -> bool:
    """Whether a role earns a wage (local, migrant, jobless migrant at home, assisted job)."""
    return role == LOCAL or role == MIGRANT or role == JOBLESS or role == ASSISTED_JOB


def market_wage(role: int, local_wage: float, migrant_wage: float,
                fallback_wage: float) -> float:
    """Monthly wage of a person's role at 2021 prices, before skill and the household's
    earnings deviation (an assisted job's wage is apart: `job_wage`)."""
    if role == LOCAL:
        return local_wage
    if role == MIGRANT:
        return migrant_wage
    if role == JOBLESS:
        return fallback_wage
    return 0.0


def takes_job(p: Knobs, kind: int, role: int, local_wage: float, skill: float) -> bool:
    """Whether a member in `role` takes an assisted job of `kind`: a jobless migrant at home
    always; a local worker only if the job pays more than their own local earnings (at 2021
    prices, before the household's deviation); the assisted job replaces what they earned."""
    if role == JOBLESS:
        return True
    if role == LOCAL:
        return job_wage(p, kind) > local_wage * skill
    return False


def job_wage(p: Knobs, kind: int) -> float:
    """Monthly wage of an assisted job at 2021 prices: a social partner's placement, a
    public-welfare post (公益岗位) or a job at the village's industry project."""
    if kind == PLACEMENT:
        return p.responsibility.partner_wage
    if kind == WELFARE_POST:
        return p.social_security.public_welfare_wage
    if kind == PROJECT_JOB:
        return p.industry.wage
    return 0.0


def school_or_work(u: float, continuation: float, migrate_rate: float) -> int:
    """The role a 16-year-old takes: school (bottom slice of `u`), else local or migrant
    work."""
    if u < continuation:
        return STUDENT
    if u < continuation + (1.0 - continuation) * migrate_rate:
        return MIGRANT
    return LOCAL


# ----------------------------------------------------------------------------- earnings
def earnings_deviation(dev: float, z: float, persistence: float, innovation_sd: float) -> float:
    """This month's earnings deviation: an AR(1), dev' = rho * dev + sigma * z, z ~ N(0, 1)."""
    return persistence * dev + innovation_sd * z


def market_earnings(base: float, dev: float, trend: float) -> float:
    """Wages or production after the trend and the household's deviation (never negative)."""
    return positive_part(base * (trend * (1.0 + dev)))


# ----------------------------------------------------------------------------- shocks
def truncated_pareto(u: float, low: float, high: float) -> float:
    """Inverse CDF of a Pareto(alpha = 1) bill truncated to [low, high] (heavy-tailed, mean
    low * ln(high/low) / (1 - low/high))."""
    return low / (1.0 - u * (1.0 - low / high))


def out_of_pocket(p: Knobs, bill: float, covered: X, medical_index: float) -> tuple[float, float]:
    """Out-of-pocket cost of a bill after the three-tier medical security (三重保障).

    Basic insurance pays `insurance_rate` of the in-catalogue part; critical illness insurance
    pays `cii_rate` above a deductible; medical assistance (for `covered` households) refunds
    `medical_assistance_rate` of what is left in the catalogue and, as a safety net (兜底),
    whatever out-of-pocket cost exceeds `oop_cap`, settled at discharge (一站式结算) (docs/
    sources.md [nhsa-2024], [cii-2015], [gov-2021-42]). Yuan amounts are 2021 yuan times the
    medical price index. Returns (out-of-pocket yuan, medical assistance yuan).
    """
    ss = p.social_security
    in_scope = bill * (1.0 - ss.out_of_scope)
    after_basic = in_scope * (1.0 - ss.insurance_rate)
    after_cii = after_basic - positive_part(after_basic - ss.cii_deductible * medical_index) \
        * ss.cii_rate
    assistance = after_cii * (ss.medical_assistance_rate * covered)
    oop = bill * ss.out_of_scope + after_cii - assistance
    excess = positive_part(oop - cap_if(covered, ss.oop_cap * medical_index))
    return oop - excess, assistance + excess


def in_support(state: X, t: int, support_until: X) -> X:
    """Under the mechanism's support: identified or assisted now, or within the follow-up
    months after risk elimination (support_until is NO_SUPPORT = -1 when none runs)."""
    return state == IDENTIFIED or state == ASSISTED or t < support_until


def medically_covered(u_coverage: float, coverage: float, formerly_poor: X, on_programme: X,
                      state: X, t: int, support_until: X) -> bool:
    """Medical assistance reaches the household: it is eligible (formerly poor, on 低保 or
    特困, or under support) and not excluded (its coverage propensity is below the knob)."""
    return u_coverage < coverage and (formerly_poor or on_programme
                                      or in_support(state, t, support_until))


def job_transitions(u: float, employed: int, unemployed: int, p_loss_each: float,
                    p_reemploy: float) -> tuple[bool, bool]:
    """Migrant job loss (bottom slice of `u`) and re-employment (top slice), exclusive.

    The same uniform also orders job-placement candidates (see `_place_jobs` in both engines),
    which is valid because, given no re-employment, it is still uniform on [0, 1 - p_reemploy).
    """
    lose = employed > 0 and u < employed * p_loss_each
    regain = (not lose) and unemployed > 0 and u >= 1.0 - p_reemploy
    return lose, regain


def reemployment_probability(p: Knobs, motivation: float, dependency: X) -> float:
    """Monthly chance a jobless migrant finds work: search effort rises with motivation and
    falls with a dependency mindset (docs/sources.md [zhou-chen-qiu-2022]); a downturn makes
    jobs scarcer."""
    return (p.shocks.reemployment_rate / p.shocks.downturn_multiplier * (0.5 + 0.5 * motivation)
            * (1.0 - p.motivation.dependency_effect * dependency))


def severe_shock(shock_cost: float, roll12: float, share: float) -> bool:
    """A one-month shock cost above `share` of the 12-month income it came out of
    (突发严重困难户, docs/sources.md [feixian-guide])."""
    return shock_cost > share * roll12


# ----------------------------------------------------------------------------- the books
def chronic_care(p: Knobs, chronic_members: int, covered: X,
                 medical_index: float) -> tuple[float, float]:
    """Monthly outpatient care of the chronic patients: (out-of-pocket cost, medical
    assistance) — 门诊慢特病 benefits for covered households."""
    cost = chronic_members * p.income.chronic_outpatient * medical_index
    rate = p.social_security.medical_assistance_rate * covered
    return cost * (1.0 - rate), cost * rate


def pay_rigid(cost: float, savings: float, surplus: float, debt: float, credit_limit: float
              ) -> tuple[float, float, float, float]:
    """Meet a rigid cost from savings first (家庭承受能力), then from this month's income
    above subsistence, then by borrowing from relatives up to the credit limit; what is left
    goes unmet. Returns (from savings, from income, borrowed, unmet)."""
    from_savings = minimum(savings, cost)
    rest = cost - from_savings
    from_income = minimum(rest, surplus)
    rest = rest - from_income
    borrowed = minimum(rest, positive_part(credit_limit - debt))
    return from_savings, from_income, borrowed, rest - borrowed


def buffers(p: Knobs, savings: float, debt: float, surplus: float,
            target: float) -> tuple[float, float]:
    """Savings and debt after the month: repay debt out of what is left of income above
    subsistence, save a share of the rest while the buffer is below its target, and consume a
    share of any excess above it (consumption rises with income and wealth; neither grows
    without bound). Returns (savings, debt)."""
    inc = p.income
    repay = minimum(debt, inc.repayment_share * surplus)
    save = inc.savings_rate * (surplus - repay) if savings < target else 0.0
    spend_down = inc.savings_drawdown * positive_part(savings - target)
    return savings + save - spend_down, debt - repay


def window(roll12: float, leaving: float, net: float) -> float:
    """The 12-month rolling sum after this month replaces the same month a year ago."""
    return roll12 - leaving + net


# ----------------------------------------------------------------------------- monitoring
def at_risk(pc12: float, alert_line: float, pc12_hardship: float, line: float,
            alerted: X) -> bool:
    """Monitoring scope: income below the alert line, income net of rigid costs below the
    line (a surge of rigid expenditure), or a recent severe shock."""
    return pc12 < alert_line or pc12_hardship < line or alerted


def elimination_eligible(workers: int, on_programme: X, secure: X, t: int, secure_since: int,
                         months: int, alert_until: int) -> bool:
    """An assisted household can be verified as out of risk: income above the alert line for
    `months` months and no recent severe shock; a household without labour capacity that
    lives on 低保/特困 (兜底) is not, it stays monitored [hainan-faq-2021]."""
    return (workers > 0 or not on_programme) and secure and t - secure_since + 1 >= months \
        and t >= alert_until


def primary_cause(losses: Any, decay: float, floor: float, disabled: int,
                  chronic: int, workers: int) -> int:
    """The cause of a fall or a risk: the largest recent loss in the ledger; without one
    above `floor`, the household's standing condition as the registry records it: 因残 for a
    disabled member, then 缺劳力 (LOW_INCOME) for a household without labour, then 因病 for
    a chronic patient, else LOW_INCOME. The ledger stores losses as of its last update;
    `decay` brings them to today. Ties go to the lower index."""
    best_i, best_v = 0, losses[0]
    for i in range(1, len(losses)):
        if losses[i] > best_v:
            best_i, best_v = i, losses[i]
    if best_v * decay > floor:
        return best_i
    if disabled > 0:
        return DISABILITY
    if chronic > 0 and workers > 0:
        return ILLNESS
    return LOW_INCOME


def self_report_probability(p: Knobs, motivation: float, dependency: X) -> float:
    """Monthly chance an at-risk household applies (自主申报): rises with motivation."""
    return (p.monitoring.self_report_rate * motivation
            * (1.0 - p.motivation.dependency_effect * dependency))


def screening_probability(duty: float, visits: float, caseload: float, accuracy: float) -> float:
    """Monthly chance an official's screening recognises an at-risk household: visits made
    (duty x capacity / caseload, at most one a month) times recognition per visit."""
    return duty * minimum(visits / caseload, 1.0) * accuracy


def warning_probability(recall: float, coordination: float, traced: X) -> float:
    """Monthly chance a department data warning identifies a household with a recent trace
    (hospital bill, disaster, unemployment, disability registration) (docs/sources.md
    [crwlg-2021], [wenxian-2025])."""
    return (recall * coordination) * traced


def matched_measures(cause: int, workers: int) -> tuple[bool, bool, bool, bool, bool]:
    """Assistance measures matched to the identified cause (docs/ODD.md §7; [mara-2024]):

    低保/特困 (兜底) for households without labour capacity or disabled by the shock; a job for
    job loss, low income or withdrawn support; otherwise a production (industry) measure, so
    every household with labour capacity gets at least one development measure; the education
    grant for schooling; temporary assistance for illness, accidents and disasters.
    Returns (programme, job, production, education, temporary) flags.
    """
    labour = workers > 0
    programme = (not labour) or cause == DISABILITY
    job = labour and (cause == JOB_LOSS or cause == LOW_INCOME or cause == TRANSFER_WITHDRAWAL)
    production = labour and not job
    education = cause == SCHOOLING
    temporary = cause == ILLNESS or cause == ACCIDENT or cause == DISASTER
    return programme, job, production, education, temporary


def recent_shock_cost(p: Knobs, last_cost: float, last_month: int, t: int) -> float:
    """The cost of the household's last shock if it happened within the temporary-assistance
    window, else 0: an old bill is no ground for temporary assistance [gov-2014-47]."""
    if t - last_month >= p.social_security.temporary_aid_window:
        return 0.0
    return last_cost


def emergency_aid(p: Knobs, pc12: float, line: float, members: int, recent_cost: float,
                  cpi_index: float) -> float:
    """Temporary assistance (临时救助): the gap to the line plus half the recent shock cost,
    capped per event (2021 yuan times the price index). Only for a sudden event or a large
    necessary expense (急难型 / 支出型 [gov-2014-47]): a household whose income is low without
    a recent shock gets no temporary assistance (its measures are 低保 or a job)."""
    if recent_cost <= 0.0:
        return 0.0
    return minimum(positive_part(line - pc12) * members + 0.5 * recent_cost,
                   p.social_security.temporary_aid_cap * cpi_index)


# ----------------------------------------------------------------------------- 低保 and 特困
def own_income(pc12: float, benefit: float, disregarded: float, members: int) -> float:
    """Per-capita 12-month income as the means test counts it: without the household's
    低保/特困 benefit and without `disregarded`, the monthly income the test leaves out: the
    residents' basic pension, not counted during the 14th five-year plan [mca-2021-57], and
    the formerly-poor household's policy transfers, which the rule lets provinces leave out
    (its item 4; our assumption for the transition period). Both are taken as paid over the
    whole window."""
    return pc12 - 12.0 * (benefit + disregarded) / members


def dibao_eligible(p: Knobs, own_pc: float, savings: float, members: int,
                   standard: float) -> bool:
    """The means test: own income below the 低保 standard, savings within the asset limit."""
    return own_pc < standard and savings <= (p.social_security.asset_limit_months
                                             * standard / 12.0 * members)


def tekun_eligible(workers: int, adults_able: int, no_supporter: X) -> bool:
    """特困 (extreme poverty support, 三无 [gov-2016-14]): no labour capacity, no working-age
    member able to work, and no legal supporter (no children to support them)."""
    return workers == 0 and adults_able == 0 and bool(no_supporter)


def dibao_benefit(p: Knobs, own_pc: float, members: int, frail: int, standard: float) -> float:
    """Monthly 低保 of an enrolled household: the gap between own income and the standard for
    every member (补差), plus a supplement for each elderly, disabled or chronically ill
    member (分类施保)."""
    gap = positive_part(standard - own_pc)
    return (members * gap + frail * p.social_security.dibao_supplement * standard) / 12.0


def tekun_benefit(p: Knobs, members: int, standard: float) -> float:
    """Monthly 特困 support: at least 1.3 times the 低保 standard per person."""
    return members * p.social_security.tekun_ratio * standard / 12.0


def leaves_dibao(own_pc: float, exit_line: float, t: int, support_until: int, state: X) -> bool:
    """At a review: own income well above the standard, follow-up over, not being assisted."""
    return own_pc >= exit_line and t >= support_until and state != ASSISTED and \
        state != IDENTIFIED


# ----------------------------------------------------------------------------- industry
def industry_margin(p: Knobs, sector_z: float, project_z: float) -> float:
    """Monthly operating margin (share of revenue): better market fit raises the expected
    margin and halves exposure to the sector's market shock at full fit."""
    ip = p.industry
    expected = ip.margin_misfit + (ip.margin_fit - ip.margin_misfit) * ip.positioning
    exposure = ip.market_volatility * (1.0 - 0.5 * ip.positioning)
    return expected + exposure * sector_z + ip.project_volatility * project_z


def update_reserve(p: Knobs, reserve: float, margin: float) -> float:
    """Reserve after this month's result: insurance and diversification cover
    `risk_resistance` of a loss; surpluses above `reserve_cap` are distributed."""
    ip = p.industry
    loss_cover = ip.risk_resistance * margin if margin < 0.0 else 0.0
    return minimum(reserve + (margin - loss_cover), ip.reserve_cap)


def industry_transition(p: Knobs, status: int, buffer: float, u: float) -> tuple[int, float]:
    """Operating (0) / struggling (1) / failed (2) after this month's result.

    A project whose reserve is exhausted struggles; a struggling project fails (bottom slice
    of `u`) or is revived by follow-up management (top slice); a failed project's idle assets
    are restructured or replaced after `restructure_months` on average (half as fast without
    management), with a fresh reserve.
    """
    ip = p.industry
    p_fail = ip.failure_hazard * (1.0 - ip.management)
    p_revive = ip.revival_rate * ip.management
    fresh = 0.5 * ip.initial_buffer
    if status == 2:
        if u >= 1.0 - (0.5 + 0.5 * ip.management) / ip.restructure_months:
            return 0, fresh
        return 2, buffer
    struggling = status == 1 or buffer < 0.0
    if not struggling:
        return 0, buffer
    if u < p_fail:
        return 2, buffer
    if u >= 1.0 - p_revive:
        return 0, fresh
    if buffer >= 0.0:
        return 0, buffer
    return 1, buffer


# ----------------------------------------------------------------------------- motivation
def training_probability(p: Knobs, motivation: float, dependency: X) -> float:
    """Yearly chance a working household member takes a vocational training."""
    return (p.motivation.training_participation * (0.4 + motivation)
            * (1.0 - p.motivation.dependency_effect * dependency))


def skill_after_training(skill: float, first_training: X, practicality: float) -> float:
    """Earnings multiplier after a first practical training (repeat trainings add nothing)."""
    return skill * (1.0 + practicality * first_training)


def dependency_update(dependency: X, u: float, p_drop: float, p_gain: float,
                      transfer_dependent: X) -> bool:
    """Guidance dissolves a dependency mindset (bottom slice of `u`); large unconditional
    transfers without guidance breed one (top slice) (docs/sources.md [han-huawei],
    [wang-qiang-2020], [zhou-chen-qiu-2022])."""
    if dependency:
        return not u < p_drop
    return bool(transfer_dependent and u >= 1.0 - p_gain)


def motivation_gain(motivation: float, gain: float) -> float:
    """Move motivation a share `gain` of the way to 1."""
    return motivation + gain * (1.0 - motivation)


def decay_table(per_month: float, months: int) -> list[float]:
    """Factors per_month**k for k = 0..months, by repeated multiplication (exact in both
    engines because both index this one table)."""
    table = [1.0]
    for _ in range(months):
        table.append(table[-1] * per_month)
    return table


__all__ = [
    "age_band",
    "at_risk",
    "birth_probability",
    "buffers",
    "cap_if",
    "chronic_care",
    "death_probability",
    "dependency_update",
    "dibao_benefit",
    "dibao_eligible",
    "disability_weight",
    "earnings_deviation",
    "elimination_eligible",
    "emergency_aid",
    "hospitalisation_weight",
    "in_support",
    "industry_margin",
    "industry_transition",
    "job_transitions",
    "job_wage",
    "leaves_dibao",
    "market_earnings",
    "market_wage",
    "matched_measures",
    "medically_covered",
    "minimum",
    "motivation_gain",
    "out_of_pocket",
    "own_income",
    "pay_rigid",
    "positive_part",
    "primary_cause",
    "recent_shock_cost",
    "reemployment_probability",
    "retirement_probability",
    "school_or_work",
    "screening_probability",
    "self_report_probability",
    "severe_shock",
    "skill_after_training",
    "takes_job",
    "tekun_benefit",
    "tekun_eligible",
    "training_probability",
    "truncated_pareto",
    "update_reserve",
    "warning_probability",
    "window",
    "works",
]
"""The rules compiled for the array engine (simulation/model/compiled.py)."""
