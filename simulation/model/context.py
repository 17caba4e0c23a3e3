"""Model-level policy state shared by both engines: knob values in force, the monitoring line,
the earnings trend, and the month's derived scalars.

Everything here is a Python float computed once per month, so both engines read exactly the
same numbers; annual rates become monthly chances here (transcendental functions are fine at
this level, see `simulation.model.rules`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from simulation.model import rules
from simulation.model.calendar import MARCH, SEPTEMBER, TRANSITION_END_YEAR, lag_in_months, year_of
from simulation.model.params import Knobs, as_namespace
from simulation.model.population import Population
from simulation.model.scenario import Disaster

LOSS_DECAY = 0.9
"""Monthly decay of the loss ledger used to attribute causes (half-life ≈ 6.6 months)."""
LOSS_FLOOR = 0.05
"""A loss counts as a cause only above this share of the household's 12-month income."""
MOTIVATION_GUIDANCE_GAIN = 0.1
"""Yearly motivation gain at full guidance, as a share of the way to 1 (assumption)."""


def monthly_chance(annual: float) -> float:
    """Monthly probability equivalent to an annual one."""
    return 1.0 - (1.0 - annual) ** (1.0 / 12.0)


@dataclass(slots=True, kw_only=True)
class MonthContext:
    """The scalars every agent reads in one month: the month's calendar, the knob values in
    force (some converted to monthly chances) and the policy state (line, trend, indices).
    Computed once a month by `Environment.month`, so both engines read the same numbers; a
    typed, slotted class, so a misspelt field is a type error and a missing one a TypeError.
    `p` holds every knob in force, typed (`c.p.shocks.hospitalisation_rate`): a rule that
    needs a knob can read it there, so a new knob needs no new field here."""

    p: Knobs
    accident_bill_max: float
    accident_bill_min: float
    alert_line: float
    alert_months: int
    bill_max: float
    bill_min: float
    calendar: bool
    chronic_multiplier: float
    chronic_outpatient: float
    cii_deductible: float
    cii_rate: float
    coordination: float
    coverage: float
    december: bool
    dependency_effect: float
    dibao_exit_line: float
    dibao_standard: float
    dividend_month: float
    education_grant: float
    elimination_hazard: float
    elimination_months: int
    fallback_wage: float
    follow_up: int
    guidance_gain: float
    innovation_sd: float
    insurance_rate: float
    january: bool
    job_share: float
    lag: int
    line: float
    linkage_share: float
    local_wage: float
    march: bool
    medical_assistance_rate: float
    mentoring: float
    migrant_wage: float
    month_of_year: int
    oop_cap: float
    out_of_scope: float
    p_accident: float
    p_dependency_drop: float
    p_dependency_gain: float
    p_disability: float
    p_illness_person: float
    p_job_loss: float
    partner_wage: float
    pension: float
    persistence: float
    production_support: float
    project_wage: float
    property: float
    public_welfare_wage: float
    recheck_rate: float
    reemployment_rate: float
    savings_cap: float
    savings_rate: float
    school_entry_rate: float
    school_exit_rate: float
    schooling_cost: float
    self_report_rate: float
    september: bool
    severe_share: float
    spell_months: int
    subsidy: float
    subsidy_drop: float
    subsistence_month: float
    t: int
    temporary_aid_cap: float
    training_participation: float
    training_practicality: float
    trend: float
    warning_recall: float
    year: int


class Environment:
    """Knob values in force and the slowly moving policy state (line, trend) of one run."""

    def __init__(self, values: Mapping[str, float], population: Population) -> None:
        self.values = dict(values)
        self.p = as_namespace(self.values)
        self.weights = population.weights
        self.n_villages = population.n_villages
        self.line = self.p.policy.line_2021   # this calendar year's monitoring line
        self.last_line = self.line            # last year's (2020 taken as equal to 2021)
        self.trend = 1.0
        self.transfer_index = 1.0  # pensions and subsidies relative to 2021
        self._subsidy_paid = self.p.income.formerly_poor_subsidy
        self.decay = rules.decay_table(LOSS_DECAY, 12 * 31)

    def apply(self, changes: Mapping[str, float]) -> None:
        """Put scheduled knob values in force (from the next month on)."""
        unknown = [k for k in changes if k not in self.values]
        if unknown:  # a misspelt key would otherwise change nothing, silently
            raise KeyError(f"unknown parameter {unknown[0]!r}")
        self.values.update(changes)
        self.p = as_namespace(self.values)

    def month(self, t: int) -> MonthContext:
        """Advance the line (each January) and the trend, and derive the month's scalars."""
        p = self.p
        year = year_of(t)
        if t > 0 and t % 12 == 0:
            self.last_line = self.line
            self.line *= 1.0 + p.policy.line_growth
            self.transfer_index *= 1.0 + p.income.transfer_growth
        growth = (p.income.growth_transition if year <= TRANSITION_END_YEAR
                  else p.income.growth_normal)
        if t > 0:
            self.trend *= (1.0 + growth) ** (1.0 / 12.0)
        subsidy = p.income.formerly_poor_subsidy * self.transfer_index
        subsidy_drop = max(self._subsidy_paid - subsidy, 0.0)
        self._subsidy_paid = subsidy
        inc, sh, ss, mon, mot = p.income, p.shocks, p.social_security, p.monitoring, p.motivation
        window_line = self.last_line + (self.line - self.last_line) * ((t % 12 + 1) / 12.0)
        return MonthContext(
            p=p, t=t, year=year, month_of_year=t % 12, january=t % 12 == 0, march=t % 12 == MARCH,
            september=t % 12 == SEPTEMBER, december=t % 12 == 11,
            calendar=t % 12 in (0, SEPTEMBER) or subsidy_drop > 0,
            # The 12-month income is compared with the line in force over the same 12 months
            # (last year's for the months before January, this year's after), so the
            # January rise of the line does not push households below it overnight; in
            # December this is the year's line.
            line=window_line, alert_line=window_line * mon.alert_band,
            dibao_standard=self.line * p.social_security.dibao_standard,
            dibao_exit_line=self.line * p.social_security.dibao_standard
            * p.policy.dibao_exit_ratio, trend=self.trend,
            local_wage=inc.local_wage, migrant_wage=inc.migrant_wage,
            fallback_wage=inc.unemployed_fallback * inc.local_wage,
            persistence=inc.persistence,
            # innovation sd that keeps the stationary sd of the deviation at `volatility`
            innovation_sd=inc.volatility * math.sqrt(1.0 - inc.persistence ** 2),
            # per-person rate of households without a chronic patient, such that the
            # population average is the hospitalisation rate
            p_illness_person=monthly_chance(sh.hospitalisation_rate) / (
                1.0 + (sh.chronic_multiplier - 1.0) * p.population.chronic_formerly_poor),
            chronic_multiplier=sh.chronic_multiplier,
            p_accident=monthly_chance(sh.accident_rate),
            p_disability=monthly_chance(sh.disability_rate),
            bill_min=sh.bill_min, bill_max=sh.bill_max, accident_bill_min=sh.accident_bill_min,
            accident_bill_max=sh.accident_bill_max, out_of_scope=ss.out_of_scope,
            insurance_rate=ss.insurance_rate, cii_deductible=ss.cii_deductible,
            cii_rate=ss.cii_rate, medical_assistance_rate=ss.medical_assistance_rate,
            oop_cap=ss.oop_cap,
            p_job_loss=min(monthly_chance(sh.job_loss_rate) * sh.downturn_multiplier, 0.5),
            reemployment_rate=sh.reemployment_rate, dependency_effect=mot.dependency_effect,
            spell_months=int(mon.spell_months), savings_rate=inc.savings_rate,
            savings_cap=inc.savings_cap, subsistence_month=self.line / 12.0,
            school_entry_rate=sh.school_entry_rate,
            school_exit_rate=sh.school_exit_rate,
            pension=inc.pension * self.transfer_index, subsidy=subsidy, subsidy_drop=subsidy_drop,
            chronic_outpatient=inc.chronic_outpatient, property=inc.property,
            schooling_cost=sh.schooling_cost, education_grant=ss.education_grant,
            coverage=ss.coverage,
            linkage_share=p.industry.linkage_share, job_share=p.industry.job_share,
            dividend_month=p.industry.dividend / 12.0, project_wage=p.industry.wage,
            self_report_rate=mon.self_report_rate,
            warning_recall=mon.data_recall, lag=lag_in_months(int(mon.lag_days)),
            elimination_months=int(mon.elimination_months),
            elimination_hazard=mon.elimination_hazard, recheck_rate=mon.recheck_rate,
            coordination=p.responsibility.coordination,
            follow_up=int(ss.follow_up_months), severe_share=mon.severe_shock_share,
            alert_months=int(mon.alert_months),
            p_dependency_drop=mot.guidance * mot.dependency_drop,
            p_dependency_gain=mot.dependency_gain * (1.0 - mot.guidance),
            training_participation=mot.training_participation,
            training_practicality=mot.training_practicality,
            guidance_gain=MOTIVATION_GUIDANCE_GAIN * mot.guidance,
            temporary_aid_cap=ss.temporary_aid_cap, public_welfare_wage=ss.public_welfare_wage,
            partner_wage=p.responsibility.partner_wage, mentoring=p.responsibility.mentoring,
            production_support=p.industry.production_support,
        )

    # ------------------------------------------------------------------ model-level quantities
    def disaster(self, t: int, scheduled: Disaster | None, u: float) -> Disaster | None:
        """This month's county disaster: the scheduled one, else a random one when the
        month's disaster uniform falls below the monthly chance."""
        if scheduled is not None:
            return scheduled
        if u < monthly_chance(self.p.shocks.disaster_rate):
            sh = self.p.shocks
            return Disaster(t, sh.disaster_village_share, sh.disaster_production_loss,
                            sh.disaster_asset_loss, int(sh.disaster_months))
        return None

    def partners(self) -> int:
        """Simulated social partners (social participation per 100 villages)."""
        return round(self.p.responsibility.social_participation / 100.0 * self.n_villages)

    def partner_capacity(self) -> float:
        """Job placements per simulated partner-month, in sample households."""
        r = self.p.responsibility
        scale = self.p.county.villages / self.n_villages  # real partners per simulated partner
        return r.partner_jobs * scale / self.weights[0] / 12.0

    def screening_chance(self, duty_factor: float, key_village: bool) -> float:
        """Monthly cadre-screening chance for an at-risk household in a village."""
        r = self.p.responsibility
        duty = min(r.duty_performance * duty_factor, 1.0)
        visits = r.visits_per_official * (r.first_secretary_visits if key_village else 1.0)
        return rules.screening_probability(duty, visits, r.caseload, r.detection_per_visit)

    def warning_chance(self) -> float:
        return self.p.monitoring.data_recall * self.p.responsibility.coordination

    def programme_costs(self) -> dict[str, float]:
        """Yearly county programme costs of the mechanism levels in force (yuan/yr)."""
        p, c = self.p, self.p.costs
        scope = p.county.households * (p.county.formerly_poor_share + p.county.marginal_share)
        officials = scope / p.responsibility.caseload
        villages = p.county.villages
        partners = p.responsibility.social_participation / 100.0 * villages
        linked = p.county.households * p.county.formerly_poor_share * p.industry.linkage_share
        return {
            "responsibility": (officials * c.official_year * p.responsibility.duty_performance
                               + c.coordination_year * p.responsibility.coordination
                               + partners * c.partner_year),
            "industry": villages * (c.insurance_year * p.industry.risk_resistance
                                    + c.management_year * p.industry.management
                                    + c.positioning_year * p.industry.positioning)
            + linked * c.linkage_year,
            "motivation": villages * c.guidance_village_year * p.motivation.guidance,
        }
