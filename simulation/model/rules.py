"""The model's rules, each written once, as pure functions of floats *or* numpy arrays.

Both engines call these functions: the agents engine with one household's Python floats, the
array engine with whole columns. To give bit-identical results on both, a rule uses only
+, -, *, /, comparisons, `&` and `|` on household values — no `exp`, `log` or `**`, whose
last bit may differ between libm and numpy's SIMD loops — and makes choices either as
arithmetic on a 0/1 condition (`x * (x < t)`) or through `positive_part` and `minimum`, which
select one operand exactly (numpy's element-wise selection on arrays, Python's on floats; IEEE
selection returns an operand unchanged, so both give the same number). Booleans are 0/1
(Python bool or numpy bool); `1 - flag` negates either kind.

Scalars that both engines share (monthly probabilities, the line, the earnings trend) are
computed once per month in `simulation.model.context`; transcendental functions are allowed there.
A rule that needs knob values takes the typed knobs `p` (simulation.model.params.Knobs, the
same Python floats in both engines) as its first argument and reads them itself: a new knob
then touches the schema and the rule, not the engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simulation.model.codes import (
    ACCIDENT,
    ASSISTED,
    DISABILITY,
    DISASTER,
    IDENTIFIED,
    ILLNESS,
    JOB_LOSS,
    LOW_INCOME,
    NO_CAP,
    SCHOOLING,
    TRANSFER_WITHDRAWAL,
)

# A number: a Python float (or int/bool) for one household, a numpy array for a column.
# (Typed as Any: which of the two it is, is the caller's business, and mypy cannot narrow
# the union through arithmetic.)
X = Any

if TYPE_CHECKING:
    from simulation.model.params import Knobs



# ----------------------------------------------------------------------------- arithmetic choices
def positive_part(x: X) -> X:
    """max(x, 0) (an exact selection on floats and arrays alike)."""
    if isinstance(x, np.ndarray):
        return np.maximum(x, 0.0)
    return x if x > 0 else 0.0


def minimum(a: X, b: X) -> X:
    """min(a, b) (an exact selection on floats and arrays alike)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.minimum(a, b)
    return a if a <= b else b


def cap_if(condition: X, cap: float) -> X:
    """`cap` where `condition` holds, else NO_CAP (no cap at all)."""
    if isinstance(condition, np.ndarray):
        return np.where(condition, cap, NO_CAP)
    return cap if condition else NO_CAP


# ----------------------------------------------------------------------------- earnings
def wage_base(*, local: X, employed: X, unemployed: X, local_wage: float, migrant_wage: float,
              fallback_wage: float, skill: X) -> X:
    """Monthly wages at 2021 prices without shocks (yuan): local and migrant work; a migrant
    who lost the job earns `fallback_wage` at home until re-employed."""
    return (local * local_wage + employed * migrant_wage + unemployed * fallback_wage) * skill


def earnings(*, dev: X, z: X, persistence: float, innovation_sd: float, wage_base_: X,
             production_base: X, trend: float, disaster_loss: X) -> tuple[X, X, X]:
    """This month's earnings deviation, wages and net farm/business income (yuan).

    The deviation follows an AR(1): dev' = rho * dev + sigma * z (z ~ N(0, 1)); the trend and
    the deviation move wages and production alike; production is reduced while recovering
    from a disaster. (With rho = 1 and sigma = 0 it gives this month's level unchanged.)
    """
    dev = persistence * dev + innovation_sd * z
    level = trend * (1.0 + dev)
    return (dev, positive_part(wage_base_ * level),
            positive_part(production_base * level) * (1.0 - disaster_loss))


# ----------------------------------------------------------------------------- shocks
def illness_probability(members: X, chronic: X, per_person: float, chronic_multiplier: float) -> X:
    """Monthly chance a household has a hospitalisation (small-probability sum over members)."""
    return members * per_person * (1.0 + (chronic_multiplier - 1.0) * chronic)


def shock_kinds(u: X, p_illness: X, p_accident: float, p_disability: float,
                workers: X) -> tuple[X, X, X]:
    """Which idiosyncratic shock one uniform `u` selects: consecutive slices of [0, 1).

    One draw per household-month partitions into illness, accident and disability onset
    (at most one a month; the monthly chances are small, so they are effectively independent).
    Disability onset needs a worker to disable.
    """
    illness = u < p_illness
    accident_end = p_illness + p_accident
    accident = (u >= p_illness) & (u < accident_end)
    disability = (u >= accident_end) & (u < accident_end + p_disability) & (workers > 0)
    return illness, accident, disability


def truncated_pareto(u: X, low: float, high: float) -> X:
    """Inverse CDF of a Pareto(alpha = 1) bill truncated to [low, high] (heavy-tailed, mean
    low * ln(high/low) / (1 - low/high))."""
    return low / (1.0 - u * (1.0 - low / high))


def out_of_pocket(p: Knobs, bill: X, covered: X) -> tuple[X, X]:
    """Out-of-pocket cost of a bill after the three-tier medical security (三重保障).

    Basic insurance pays `insurance_rate` of the in-catalogue part; critical illness insurance
    pays `cii_rate` above a deductible; medical assistance (for covered, eligible households)
    refunds `assistance_rate` of what is left in the catalogue and, as a safety net (兜底),
    whatever out-of-pocket cost exceeds `oop_cap` — for `covered` households only (docs/
    sources.md [nhsa-2024], [cii-2015], [gov-2021-42]).
    Returns (out-of-pocket yuan, medical assistance yuan).
    """
    ss = p.social_security
    out_of_scope, insurance_rate = ss.out_of_scope, ss.insurance_rate
    cii_deductible, cii_rate = ss.cii_deductible, ss.cii_rate
    assistance_rate = ss.medical_assistance_rate * covered
    cap = cap_if(covered, ss.oop_cap)
    in_scope = bill * (1.0 - out_of_scope)
    after_basic = in_scope * (1.0 - insurance_rate)
    after_cii = after_basic - positive_part(after_basic - cii_deductible) * cii_rate
    assistance = after_cii * assistance_rate
    oop = bill * out_of_scope + after_cii - assistance
    excess = positive_part(oop - cap)
    return oop - excess, assistance + excess


def job_transitions(u: X, employed: X, unemployed: X, p_loss_each: float,
                    p_reemploy: X) -> tuple[X, X]:
    """Migrant job loss (bottom slice of `u`) and re-employment (top slice), exclusive.

    The same uniform also orders job-placement candidates (see `_place_jobs` in both engines),
    which is valid because, given no re-employment, it is still uniform on [0, 1 - p_reemploy).
    """
    lose = (employed > 0) & (u < employed * p_loss_each)
    regain = (unemployed > 0) & (u >= 1.0 - p_reemploy)
    return lose, regain


def reemployment_probability(p: Knobs, motivation: X, dependency: X) -> X:
    """Monthly chance a jobless migrant finds work: search effort rises with motivation and
    falls with a dependency mindset (docs/sources.md [zhou-chen-qiu-2022])."""
    return (p.shocks.reemployment_rate * (0.5 + 0.5 * motivation)
            * (1.0 - p.motivation.dependency_effect * dependency))


# ----------------------------------------------------------------------------- transfers
def dibao_gap(standard: float, own_pc: X) -> X:
    """低保 per person and year: the gap between own income and the standard (补差)."""
    return positive_part(standard - own_pc)


def dibao_payment(enrolled: X, members: X, gap: X) -> X:
    """Monthly 低保 payment of an enrolled household (yuan)."""
    return enrolled * members * gap / 12.0


# ----------------------------------------------------------------------------- accounting
def chronic_care(chronic: X, outpatient: float, assistance_rate: X) -> tuple[X, X]:
    """Monthly outpatient care of a chronic patient: (out-of-pocket cost, medical assistance)
    — 门诊慢特病 benefits for covered formerly poor and 低保 households."""
    cost = chronic * outpatient
    return cost * (1.0 - assistance_rate), cost * assistance_rate


def monthly_accounts(*, labour: X, production: X, project: X, regular: X, family: X,
                     trend: float, one_off: X, property_: float, unmet_shock_cost: X,
                     chronic_cost: X, school_fee: X, roll12: X,
                     leaving: X) -> tuple[X, X, X, X, X]:
    """The month's books (yuan): transfers (regular ones, support from children growing with
    earnings, one-off aid), gross income, rigid expenditure (the shock cost savings could not
    meet, chronic care, school fees), net income, and the 12-month rolling sum of net income
    after this month replaces the same month a year ago (`leaving`).
    Returns (transfers, gross, rigid, net, roll12)."""
    transfers = regular + family * trend + one_off
    gross = labour + production + project + transfers + property_
    rigid = unmet_shock_cost + chronic_cost + school_fee
    net = gross - rigid
    return transfers, gross, rigid, net, roll12 - leaving + net


def save(*, savings: X, paid: X, gross: X, subsistence: X, rate: float, cap_months: float) -> X:
    """Savings after paying `paid` out of them and saving `rate` of income above subsistence,
    up to `cap_months` of this month's income."""
    return minimum(savings - paid + rate * positive_part(gross - subsistence),
                   cap_months * gross)


def savings_used(savings: X, shock_cost: X) -> X:
    """The part of a shock's cost paid from the savings buffer (the household's capacity to
    bear it, 家庭承受能力)."""
    return minimum(savings, shock_cost)


def labour_income(wages: X, partner_job: X, partner_wage: float, welfare_job: X,
                  welfare_wage: float) -> X:
    """Wages plus jobs obtained through assistance (social partner, public-welfare post)."""
    return wages + partner_job * partner_wage + welfare_job * welfare_wage


def social_security_cost(regular_cost: X, grant: X, welfare_job: X, welfare_wage: float) -> X:
    """This month's fiscal cost of the household's regular social-security transfers (低保 and
    subsidies), education grant and public-welfare post."""
    return regular_cost + grant + welfare_job * welfare_wage
def severe_shock(shock_cost: X, roll12: X, share: float) -> X:
    """A one-month shock cost above `share` of the 12-month income it came out of
    (突发严重困难户, docs/sources.md [feixian-guide]); `roll12` already has the cost deducted."""
    return shock_cost > share * (roll12 + shock_cost)


def at_risk(pc12: X, alert_line: float, alerted: X) -> X:
    """Monitoring scope: income below the alert line, or a recent severe shock."""
    return (pc12 < alert_line) | alerted


def decay_table(per_month: float, months: int) -> list[float]:
    """Factors per_month**k for k = 0..months, by repeated multiplication (exact in both
    engines because both index this one table)."""
    table = [1.0]
    for _ in range(months):
        table.append(table[-1] * per_month)
    return table


def primary_cause(losses: Sequence[float] | np.ndarray, decay: X, floor: X, disabled: X,
                  chronic: X) -> Any:
    """The cause of a fall or a risk: the largest recent loss in the ledger; without one
    above `floor`, the household's standing condition as the registry records it (因残, 因病),
    else LOW_INCOME.

    The ledger stores losses as of its last update; `decay` brings them to today (a common
    factor, so it changes only the comparison with `floor`). For one household `losses` is a
    sequence of the shock causes' amounts; for many it is a (causes, n) array. Ties go to the
    lower index in both (np.argmax semantics).
    """
    if isinstance(losses, np.ndarray):
        best = np.argmax(losses, axis=0)
        top = np.take_along_axis(losses, best[None, :], axis=0)[0]
        standing = np.where(disabled > 0, DISABILITY, np.where(chronic, ILLNESS, LOW_INCOME))
        return np.where(top * decay > floor, best, standing).astype(np.int8)
    best_i, best_v = 0, losses[0]
    for i in range(1, len(losses)):
        if losses[i] > best_v:
            best_i, best_v = i, losses[i]
    if best_v * decay > floor:
        return best_i
    return DISABILITY if disabled > 0 else ILLNESS if chronic else LOW_INCOME


# ----------------------------------------------------------------------------- monitoring status
def in_support(state: X, t: int, support_until: X) -> X:
    """Under the mechanism's support: identified or assisted now, or within the follow-up
    months after risk elimination (support_until is NO_SUPPORT = -1 when none runs)."""
    return (state == IDENTIFIED) | (state == ASSISTED) | (t < support_until)


def medically_covered(*, u_coverage: X, coverage: float, formerly_poor: X, dibao: X, state: X,
                      t: int, support_until: X) -> X:
    """Medical assistance reaches the household: it is eligible (formerly poor, on 低保, or
    under support) and not excluded (its coverage propensity is below the coverage knob)."""
    return (u_coverage < coverage) & (formerly_poor | dibao | in_support(state, t, support_until))


def leaves_dibao(own_pc: X, exit_line: float, t: int, support_until: X, state: X) -> X:
    """January review: a 低保 household leaves when its own income is well above the line,
    the follow-up is over and it is not being assisted."""
    return ((own_pc >= exit_line) & (t >= support_until) & (state != ASSISTED)
            & (state != IDENTIFIED))


def elimination_eligible(*, workers: X, secure: X, t: int, secure_since: X, months: int,
                         alert_until: X) -> X:
    """An assisted household can be verified as out of risk: labour capacity, income above the
    alert line for `months` months, and no recent severe shock."""
    return ((workers > 0) & secure & (t - secure_since + 1 >= months) & (t >= alert_until))


def review_enrols_dibao(*, dibao: X, workers: X, pc12: X, standard: float, u: X,
                        coverage: float) -> X:
    """January review of an assisted household that cannot be eliminated: one without labour
    capacity and below the 低保 standard is enrolled (兜底), unless excluded this time."""
    return (dibao == 0) & (workers == 0) & (pc12 < standard) & (u < coverage)


# ----------------------------------------------------------------------------- detection
def self_report_probability(p: Knobs, motivation: X, dependency: X) -> X:
    """Monthly chance an at-risk household applies (自主申报): rises with motivation."""
    return (p.monitoring.self_report_rate * motivation
            * (1.0 - p.motivation.dependency_effect * dependency))


def screening_probability(duty: float, visits: float, caseload: float, accuracy: float) -> float:
    """Monthly chance an official's screening recognises an at-risk household: visits made
    (duty x capacity / caseload, at most one a month) times recognition per visit."""
    return duty * minimum(visits / caseload, 1.0) * accuracy


def warning_probability(recall: float, coordination: float, traced: X) -> X:
    """Monthly chance a department data warning identifies a household with a recent trace
    (hospital bill, disaster, unemployment, disability registration) (docs/sources.md
    [crwlg-2021], [wenxian-2025])."""
    return (recall * coordination) * traced


# ----------------------------------------------------------------------------- industry
def industry_margin(*, positioning: float, margin_fit: float, margin_misfit: float,
                    market_volatility: float, project_volatility: float, sector_z: X,
                    project_z: X) -> X:
    """Monthly operating margin (share of revenue): better market fit raises the expected
    margin and halves exposure to the sector's market shock at full fit."""
    expected = margin_misfit + (margin_fit - margin_misfit) * positioning
    exposure = market_volatility * (1.0 - 0.5 * positioning)
    return expected + exposure * sector_z + project_volatility * project_z


def update_reserve(reserve: X, margin: X, risk_resistance: float, cap: float) -> X:
    """Reserve after this month's result: insurance and diversification cover
    `risk_resistance` of a loss; surpluses above `cap` are distributed."""
    return minimum(reserve + (margin - risk_resistance * margin * (margin < 0)), cap)


def industry_transition(*, status: X, buffer: X, u: X, p_fail: float, p_revive: float,
                        revived_buffer: float) -> tuple[X, X]:
    """Operating (0) / struggling (1) / failed (2) after this month's result.

    A project whose reserve is exhausted struggles; a struggling project fails with `p_fail`
    (bottom slice of `u`) or is revived by follow-up management with `p_revive` (top slice);
    a failed project's idle assets are revived at a fifth of that rate.
    """
    struggling_now = (status == 1) | ((status == 0) & (buffer < 0))
    fails = struggling_now & (u < p_fail)
    revived = ((struggling_now & (u >= 1.0 - p_revive))
               | ((status == 2) & (u >= 1.0 - 0.2 * p_revive)))
    failed = ((status == 2) | fails) & (1 - revived)
    recovered = struggling_now & (buffer >= 0)
    new_status = 2 * failed + 1 * (struggling_now & (1 - fails) & (1 - revived) & (1 - recovered))
    new_buffer = buffer + (revived_buffer - buffer) * revived
    return new_status, new_buffer


# ----------------------------------------------------------------------------- motivation
def training_probability(p: Knobs, motivation: X, dependency: X) -> X:
    """Yearly chance a working household member takes a vocational training."""
    return (p.motivation.training_participation * (0.4 + motivation)
            * (1.0 - p.motivation.dependency_effect * dependency))


def skill_after_training(skill: X, first_training: X, practicality: float) -> X:
    """Earnings multiplier after a first practical training (repeat trainings add nothing)."""
    return skill * (1.0 + practicality * first_training)


def dependency_update(dependency: X, u: X, p_drop: float, p_gain: float,
                      transfer_dependent: X) -> X:
    """Guidance dissolves a dependency mindset (bottom slice of `u`); large unconditional
    transfers without guidance breed one (top slice) (docs/sources.md [han-huawei],
    [wang-qiang-2020], [zhou-chen-qiu-2022])."""
    drops = dependency & (u < p_drop)
    gains = (1 - dependency) & transfer_dependent & (u >= 1.0 - p_gain)
    return (dependency & (1 - drops)) | gains


def motivation_gain(motivation: X, gain: X) -> X:
    """Move motivation a share `gain` of the way to 1."""
    return motivation + gain * (1.0 - motivation)


# ----------------------------------------------------------------------------- income composition
def project_income(linked: X, dividend_paid: X, project_job: X, wage_paid: X) -> X:
    """Income from a benefit linkage: the project's dividend and, for some, a project job."""
    return linked * (dividend_paid + project_job * wage_paid)


def regular_transfers(elderly: X, pension: float, formerly_poor: X, subsidy: float,
                      dibao: X) -> X:
    """Pensions, policy subsidies to formerly poor households and 低保 (yuan/month)."""
    return elderly * pension + formerly_poor * subsidy + dibao


def regular_social_security(formerly_poor: X, subsidy: float, dibao: X, care_aid: X) -> X:
    """Monthly fiscal cost of a household's 低保, policy subsidies and chronic-care
    assistance."""
    return dibao + formerly_poor * subsidy + care_aid


def income_without_dibao(pc12: X, enrolled: X, gap: X) -> X:
    """Per-capita 12-month income a 低保 household would have without its allowance."""
    return pc12 - enrolled * gap


def transfer_dependent(transfers: X, own_income: X) -> X:
    """Unconditional transfers larger than the household's own income this month."""
    return transfers > own_income


# ----------------------------------------------------------------------------- assistance
def matched_measures(cause: X, workers: X) -> tuple[X, X, X, X, X]:
    """Assistance measures matched to the identified cause (docs/ODD.md §7; [mara-2024]):

    低保 (兜底) for households without labour capacity or disabled by the shock; job placement
    for job loss, low income or withdrawn support; otherwise a production (industry) measure,
    so every household with labour capacity gets at least one development measure; the
    education grant for schooling; temporary assistance for illness, accidents and disasters.
    Returns (dibao, job, production, education, temporary) flags.
    """
    labour = workers > 0
    dibao = (1 - labour) | (cause == DISABILITY)
    job = labour & ((cause == JOB_LOSS) | (cause == LOW_INCOME) | (cause == TRANSFER_WITHDRAWAL))
    production = labour & (1 - job)
    education = cause == SCHOOLING
    temporary = (cause == ILLNESS) | (cause == ACCIDENT) | (cause == DISASTER)
    return dibao, job, production, education, temporary


def emergency_aid(p: Knobs, pc12: X, line: float, members: X, recent_cost: X) -> X:
    """Temporary assistance (临时救助): the gap to the line plus half the recent shock cost,
    capped per event."""
    return minimum(positive_part(line - pc12) * members + 0.5 * recent_cost,
                   p.social_security.temporary_aid_cap)


def school_transitions(u: X, children: X, students: X, entry_rate: float,
                       exit_rate: float) -> tuple[X, X]:
    """September: a child moves on to non-compulsory schooling (bottom slice of `u`) or a
    student graduates and starts working (top slice)."""
    enters = (children > 0) & (u < children * entry_rate)
    graduates = (students > 0) & (u >= 1.0 - students * exit_rate)
    return enters, graduates


def school_year(students: X, school_fee: float, grant: float, grant_eligible: X) -> tuple[X, X]:
    """September: the school year's cost and the education grant (雨露计划) received."""
    return students * school_fee, students * grant * grant_eligible


def add_loss(*, losses: list[float], loss_month: int, decay: list[float], t: int, cause: int,
             amount: float) -> None:
    """Record a loss in one household's cause ledger (in place), decaying older entries.

    The array engine does the same per column: multiply by decay[t - loss_month], then add.
    """
    factor = decay[t - loss_month]
    if factor != 1.0:
        for k in range(len(losses)):
            losses[k] *= factor
    losses[cause] += amount
