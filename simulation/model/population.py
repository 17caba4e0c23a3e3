"""The synthetic county: households, villages, industries, officials and social partners.

Built once per run, vectorised, from the model's generator *before* the first month; both
engines start from this one table (the agents engine turns each row into a Mesa agent), so
their initial states are identical by construction.

Sampling design (microsimulation practice): the simulated households are a stratified sample
of the county's rural households — formerly poor (脱贫户), marginal (边缘户) and ordinary —
with a weight per stratum that scales sample counts to county totals (docs/ODD.md §2).

Draw order (documented so the two engines and future readers agree):
  villages of households; labour capacity; extra workers; elderly; children; students;
  migrants; chronic illness; disability; income target; production base; motivation; dependency
  propensity; coverage propensity; linkage propensity; project-job propensity; earnings
  deviation; key villages; industry sectors; industry reserves; official duty factors;
  order in which villages gain a social partner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulation.model import rules
from simulation.model.codes import FORMERLY_POOR, N_SECTORS, ORDINARY
from simulation.model.params import Knobs


@dataclass
class Population:
    """Initial state of one run (arrays indexed by household / village)."""

    households: dict[str, np.ndarray]
    villages: dict[str, np.ndarray]
    weights: tuple[float, float, float]  # county households per sample household, by category
    sample_counts: tuple[int, int, int]

    @property
    def n(self) -> int:
        return len(self.households["category"])

    @property
    def n_villages(self) -> int:
        return len(self.villages["key"])


def stratum_sizes(p: Knobs) -> tuple[tuple[int, int, int], tuple[float, float, float]]:
    """Sample households per category and the weight (county households each represents)."""
    n = int(p.run.households)
    n_fp = max(1, round(n * p.sample.formerly_poor))
    n_mg = max(1, round(n * p.sample.marginal))
    n_or = n - n_fp - n_mg
    county = p.county.households
    totals = (county * p.county.formerly_poor_share, county * p.county.marginal_share,
              county * (1.0 - p.county.formerly_poor_share - p.county.marginal_share))
    counts = (n_fp, n_mg, n_or)
    return counts, tuple(t / c for t, c in zip(totals, counts, strict=True))  # type: ignore[return-value]


def build_population(p: Knobs, rng: np.random.Generator) -> Population:
    """Draw the county's households and villages from `rng` (see the module's draw order)."""
    counts, weights = stratum_sizes(p)
    n = sum(counts)
    n_villages = max(1, math.ceil(n / p.sample.households_per_village))
    category = np.repeat(np.arange(3, dtype=np.int8), counts)
    by_cat = lambda fp, mg, od: np.array([fp, mg, od])[category]  # noqa: E731

    pop = p.population
    village = rng.integers(0, n_villages, n).astype(np.int32)
    no_labour = rng.random(n) < by_cat(pop.no_labour_formerly_poor, pop.no_labour_marginal,
                                       pop.no_labour_ordinary)
    workers = np.where(no_labour, 0, 1 + rng.binomial(2, pop.extra_worker_prob, n))
    elderly = rng.binomial(2, pop.elderly_prob, n)
    # households without labour capacity are elderly-headed: at least one elderly member
    elderly = np.where(no_labour, np.maximum(elderly, 1), elderly)
    kids = np.where(no_labour, 0, rng.binomial(3, pop.child_prob, n))
    students = rng.binomial(kids, pop.student_share)
    migrants = rng.binomial(workers, pop.migrant_share)
    chronic = rng.random(n) < by_cat(pop.chronic_formerly_poor, pop.chronic_marginal,
                                     pop.chronic_ordinary)
    disabled = (rng.random(n) < by_cat(pop.disabled_formerly_poor, pop.disabled_marginal,
                                       pop.disabled_ordinary)).astype(np.int8)
    median = by_cat(pop.income_median_formerly_poor, pop.income_median_marginal,
                    pop.income_median_ordinary)
    spread = by_cat(pop.income_dispersion_formerly_poor, pop.income_dispersion_marginal,
                    pop.income_dispersion_ordinary)
    median = np.where(no_labour, median * pop.no_labour_income_ratio, median)
    income_target = median * np.exp(spread * rng.standard_normal(n))
    inc = p.income
    production = by_cat(inc.production_formerly_poor, inc.production_marginal,
                        inc.production_ordinary) * np.exp(pop.production_dispersion
                                                          * rng.standard_normal(n))
    production *= np.where(workers > 0, 1.0, 0.3)  # elderly households farm a little
    motivation = np.clip(pop.motivation_mean + 0.5 * (rng.random(n) - 0.5), 0.0, 1.0)
    u_dependency = rng.random(n)
    dependency = (u_dependency < p.motivation.dependency_prevalence) & (category != ORDINARY)
    u_coverage = rng.random(n)
    u_linkage = rng.random(n)
    u_project_job = rng.random(n)
    stationary_sd = p.income.volatility
    dev = stationary_sd * rng.standard_normal(n)

    key = rng.random(n_villages) < p.county.key_village_share
    sector = rng.integers(0, N_SECTORS, n_villages).astype(np.int8)
    reserve = p.industry.initial_buffer * (0.5 + rng.random(n_villages))
    duty_factor = 0.8 + 0.4 * rng.random(n_villages)
    partner_order = rng.permutation(n_villages).astype(np.int32)

    members = workers + elderly + kids + disabled
    households = {
        "category": category,
        "village": village,
        "members": members.astype(np.int8),
        "workers": workers.astype(np.int8),
        "migrants": migrants.astype(np.int8),
        "unemployed": np.zeros(n, np.int8),
        "elderly": elderly.astype(np.int8),
        "children": (kids - students).astype(np.int8),
        "students": students.astype(np.int8),
        "disabled": disabled,
        "chronic": chronic,
        "income_target": income_target,
        "production": production,
        "motivation": motivation,
        "dependency": dependency,
        "u_coverage": u_coverage,
        "u_linkage": u_linkage,
        "u_project_job": u_project_job,
        "dev": dev,
    }
    villages = {"key": key, "sector": sector, "reserve": reserve, "duty_factor": duty_factor,
                "partner_order": partner_order}
    return Population(households, villages, weights, counts)


def initial_dibao(p: Knobs,
                  hh: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """低保 in January 2021: covered formerly poor and marginal households without labour
    capacity (兜底 households, docs/sources.md [scio-2020-doudi]) whose own income is below the
    standard, which 低保 tops up (补差). Returns (enrolled, gap per person-year)."""
    standard = p.policy.line_2021 * p.social_security.dibao_standard
    enrolled = ((hh["workers"] == 0) & (hh["category"] != ORDINARY)
                & (hh["u_coverage"] < p.social_security.coverage)
                & (hh["income_target"] < standard))
    return enrolled, np.where(enrolled, rules.dibao_gap(standard, hh["income_target"]), 0.0)


def steady_month(p: Knobs, hh: dict[str, np.ndarray], dibao: np.ndarray | float,
                 gap: np.ndarray | float, linked: np.ndarray, project_job: np.ndarray,
                 skill: np.ndarray | float,
                 family: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """A normal month's net income before January 2021 at 2021 prices, with each household's
    current earnings deviation, and the extra September cost (school year net of grants).

    Wages, production, project income, transfers (public and family) and property, less
    chronic outpatient costs.
    """
    inc, ss, sh = p.income, p.social_security, p.shocks
    fp = hh["category"] == FORMERLY_POOR
    local = hh["workers"] - hh["migrants"]
    base = rules.wage_base(local=local, employed=hh["migrants"], unemployed=0,
                           local_wage=inc.local_wage, migrant_wage=inc.migrant_wage,
                           fallback_wage=inc.unemployed_fallback * inc.local_wage, skill=skill)
    # rho = 1, sigma = 0: this month's level at the household's current deviation
    _, wages, production = rules.earnings(dev=hh["dev"], z=0.0, persistence=1.0, innovation_sd=0.0,
                                          wage_base_=base, production_base=hh["production"],
                                          trend=1.0, disaster_loss=0.0)
    project = rules.project_income(linked, p.industry.dividend / 12.0, project_job,
                                   p.industry.wage)
    regular = rules.regular_transfers(hh["elderly"], inc.pension, fp, inc.formerly_poor_subsidy,
                                      rules.dibao_payment(dibao, hh["members"], gap))
    covered = (hh["u_coverage"] < ss.coverage) & (fp | (dibao > 0))
    care, _ = rules.chronic_care(hh["chronic"], inc.chronic_outpatient,
                                 ss.medical_assistance_rate * covered)
    _, _, _, monthly, _ = rules.monthly_accounts(labour=wages, production=production,
                                                 project=project, regular=regular, family=family,
                                                 trend=1.0, one_off=0.0, property_=inc.property,
                                                 unmet_shock_cost=0.0, chronic_cost=care,
                                                 school_fee=0.0, roll12=0.0, leaving=0.0)
    september = hh["students"] * (sh.schooling_cost - fp * ss.education_grant)
    return monthly, september


def solve_earnings(p: Knobs, hh: dict[str, np.ndarray], linked: np.ndarray,
                   project_job: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Earnings multiplier (working households) or family support (households without
    workers: remittances and support from children, 赡养) that gives each household its
    drawn per-capita income without 低保 (which then tops up the poorest, see initial_dibao);
    the multiplier is at least `skill_floor` and family support at most
    `family_support_cap`. Returns (skill, family support in yuan/month)."""
    other, september = steady_month(p, hh, 0.0, 0.0, linked, project_job, 0.0, 0.0)
    per_unit, _ = steady_month(p, hh, 0.0, 0.0, linked, project_job, 1.0, 0.0)
    wage_at_1 = per_unit - other
    needed = (hh["income_target"] * hh["members"] + september) / 12.0 - other
    working = wage_at_1 > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        skill = np.where(working, needed / wage_at_1, 1.0)
    skill = np.clip(skill, p.population.skill_floor, 6.0)
    family = np.where(working, 0.0, np.clip(needed, 0.0, p.population.family_support_cap))
    return skill, family
