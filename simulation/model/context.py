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
HOSPITALISATION_MEAN = 1.1
"""Mean relative hospitalisation risk of the rural population (simulation.model.lifetable
weights over the 2020 rural age structure, chronic patients included): it turns the
population-average rate `shocks.hospitalisation_rate` into the rate at relative risk 1."""
MOTIVATION_GUIDANCE_GAIN = 0.1
"""Yearly motivation gain at full guidance, as a share of the way to 1 (assumption)."""


def monthly_chance(annual: float) -> float:
    """Monthly probability equivalent to an annual one."""
    return 1.0 - (1.0 - annual) ** (1.0 / 12.0)


@dataclass(slots=True, kw_only=True)
class MonthContext:
    """The scalars every agent reads in one month: the month's calendar, the knobs in force
    (`p`, typed: `c.p.shocks.hospitalisation_rate`), the indices that move money, and a few
    values derived from them. Computed once a month by `Environment.month`, so both engines
    read the same numbers; a typed, slotted class, so a misspelt field is a type error and a
    missing one a TypeError. Yuan amounts here are current yuan (2021 yuan x their index)."""

    p: Knobs
    t: int
    year: int
    month_of_year: int
    january: bool
    march: bool
    september: bool
    december: bool
    calendar: bool  # dated household business this month (school year, withdrawn transfers)
    # the lines (yuan/person-yr)
    line: float  # the monitoring line over the 12-month window
    alert_line: float
    dibao_standard: float
    dibao_exit_line: float
    low_income_line: float
    # indices relative to 2021 (money is in 2021 yuan times its index)
    trend: float  # earnings: wages, production, family support, programme wages, dividends
    cpi: float  # consumer prices: grants, aid, caps, repairs, school fees
    medical: float  # medical prices: bills, deductibles, caps, outpatient care
    # money this month (current yuan)
    pension: float  # per person past the pension age, per month
    subsidy: float  # per formerly poor household, per month
    subsidy_drop: float
    local_wage: float  # 2021 yuan/month, after a downturn's wage cut
    migrant_wage: float
    fallback_wage: float
    subsistence: float  # per person and month: the line / 12
    # monthly chances
    persistence: float
    innovation_sd: float
    p_illness_unit: float  # hospitalisation of a person of relative risk 1
    p_accident: float
    p_disability_unit: float
    p_job_loss: float  # per employed migrant
    p_reemploy_max: float
    # monitoring
    lag: int
    spell_months: int
    alert_months: int
    follow_up: int
    p_dependency_drop: float
    p_dependency_gain: float
    guidance_gain: float


class Environment:
    """Knob values in force and the slowly moving policy state (lines, indices) of one run."""

    def __init__(self, values: Mapping[str, float], population: Population) -> None:
        self.values = dict(values)
        self.p = as_namespace(self.values)
        self.weights = population.category_weights
        self.n_villages = population.n_villages
        self.line = self.p.policy.line_2021   # this calendar year's monitoring line
        self.last_line = self.line            # last year's (2020 taken as equal to 2021)
        self.dibao_index = 1.0                # the 低保 standard relative to 2021
        self.trend = 1.0
        self.cpi = 1.0
        self.medical = 1.0
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
        """Advance the lines and indices (yearly ones each January, monthly ones each month)
        and derive the month's scalars."""
        p = self.p
        inc, sh, ss, mon, mot = p.income, p.shocks, p.social_security, p.monitoring, p.motivation
        year = year_of(t)
        if t > 0 and t % 12 == 0:
            self.last_line = self.line
            self.line *= 1.0 + p.policy.line_growth
            self.dibao_index *= 1.0 + ss.dibao_growth
            self.transfer_index *= 1.0 + inc.transfer_growth
        growth = (inc.growth_transition if year <= TRANSITION_END_YEAR else inc.growth_normal)
        if t > 0:
            self.trend *= (1.0 + growth) ** (1.0 / 12.0)
            self.cpi *= (1.0 + inc.cpi_growth) ** (1.0 / 12.0)
            self.medical *= (1.0 + inc.medical_inflation) ** (1.0 / 12.0)
        subsidy = inc.formerly_poor_subsidy * self.transfer_index
        subsidy_drop = max(self._subsidy_paid - subsidy, 0.0)
        self._subsidy_paid = subsidy
        standard = ss.dibao_standard * self.dibao_index
        window_line = self.last_line + (self.line - self.last_line) * ((t % 12 + 1) / 12.0)
        downturn = sh.downturn_multiplier > 1.0
        wage_factor = 1.0 - sh.downturn_wage_cut if downturn else 1.0
        return MonthContext(
            p=p, t=t, year=year, month_of_year=t % 12, january=t % 12 == 0,
            march=t % 12 == MARCH, september=t % 12 == SEPTEMBER, december=t % 12 == 11,
            calendar=t % 12 == SEPTEMBER or subsidy_drop > 0,
            # The 12-month income is compared with the line in force over the same 12 months
            # (last year's for the months before January, this year's after), so the
            # January rise of the line does not push households below it overnight; in
            # December this is the year's line.
            line=window_line, alert_line=window_line * mon.alert_band,
            dibao_standard=standard, dibao_exit_line=standard * p.policy.dibao_exit_ratio,
            low_income_line=standard * mon.low_income_band,
            trend=self.trend, cpi=self.cpi, medical=self.medical,
            pension=inc.pension * self.transfer_index, subsidy=subsidy,
            subsidy_drop=subsidy_drop,
            local_wage=inc.local_wage * wage_factor, migrant_wage=inc.migrant_wage * wage_factor,
            fallback_wage=inc.unemployed_fallback * inc.local_wage * wage_factor,
            subsistence=window_line / 12.0,
            persistence=inc.persistence,
            # innovation sd that keeps the stationary sd of the deviation at `volatility`
            innovation_sd=inc.volatility * math.sqrt(1.0 - inc.persistence ** 2),
            p_illness_unit=monthly_chance(sh.hospitalisation_rate) / HOSPITALISATION_MEAN,
            p_accident=monthly_chance(sh.accident_rate),
            p_disability_unit=monthly_chance(sh.disability_rate),
            p_job_loss=min(monthly_chance(sh.job_loss_rate) * sh.downturn_multiplier, 0.3),
            p_reemploy_max=sh.reemployment_rate / sh.downturn_multiplier,
            lag=lag_in_months(int(mon.lag_days)), spell_months=int(mon.spell_months),
            alert_months=int(mon.alert_months), follow_up=int(ss.follow_up_months),
            p_dependency_drop=mot.guidance * mot.dependency_drop,
            p_dependency_gain=mot.dependency_gain * (1.0 - mot.guidance),
            guidance_gain=MOTIVATION_GUIDANCE_GAIN * mot.guidance,
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

    def restructure_cost(self) -> float:
        """2021 yuan of restructuring one simulated project (a simulated project stands for
        county villages / simulated villages real ones)."""
        return self.p.costs.restructure * self.p.county.villages / self.n_villages

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
        cpi = self.cpi  # unit costs are 2021 yuan
        return {
            "responsibility": cpi * (officials * c.official_year
                                     * p.responsibility.duty_performance
                                     + c.coordination_year * p.responsibility.coordination
                                     + partners * c.partner_year),
            "industry": cpi * (villages * (c.insurance_year * p.industry.risk_resistance
                                           + c.management_year * p.industry.management
                                           + c.positioning_year * p.industry.positioning)
                               + linked * c.linkage_year),
            "motivation": cpi * villages * c.guidance_village_year * p.motivation.guidance,
        }
