"""The synthetic county: households and their members, villages, industries, officials and
social partners.

Built once per run, vectorised, from the model's generator *before* the first month, under
the reference status quo (simulation.model.scenario.Scenario.reference_values); both engines
start from this one table (the agents engine turns each row into a Mesa agent), so their
initial states are identical by construction.

Sampling design (microsimulation practice): the simulated households are a stratified sample
of the county's rural households — formerly poor (脱贫户), marginal (边缘户) and ordinary —
with a weight per stratum that scales sample counts to county totals (docs/ODD.md §2). Every
household carries its own weight (`Population.weights`): here its stratum's; a population read
from household records (simulation.model.microdata) has the records' own weights.

Members are people in K person slots (simulation.model.codes.K): slot 0 is the head (the
oldest worker, or the oldest member of a household without workers), then the other workers,
the elderly, disabled members who do not work, students and children. Ages are drawn within
each group's range so that the rural age structure of the 2020 census comes out (docs/ODD.md
§7); a household's chronic patient is its oldest member.

Draw order (documented so the two engines and future readers agree):
  villages of households; labour capacity; extra workers; elderly; children; students;
  migrants; chronic illness; disability; income target; production base; motivation; dependency
  propensity; coverage propensity; linkage propensity; project-job propensity; application
  propensity; earnings deviation; members' ages (K per household); members' sexes (K); debt;
  legal supporter (households without labour capacity);
  key villages; industry sectors; industry reserves; official duty factors; order in which
  villages gain a social partner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulation.model.codes import (
    FEMALE,
    LOCAL,
    MALE,
    MIGRANT,
    N_SECTORS,
    NONE,
    ORDINARY,
    STUDENT,
    K,
)
from simulation.model.params import Knobs


@dataclass
class Population:
    """Initial state of one run (arrays indexed by household / village; people n x K).

    Weights: `weights[i]` is the number of the county's households household i stands for.
    County totals are computed by weight group (`households["weight_group"]`, an index into
    `group_weights`): integer counts per group times the group's weight, so totals do not
    depend on the order households are visited in (both engines count in integers). The
    synthetic county's groups are its three strata; a population from records has one group
    per distinct weight. `category_weights` is the mean weight of each category's households
    (county households of the category / sample households), for quantities the model scales
    by category rather than by household (partners' job placements)."""

    households: dict[str, np.ndarray]
    people: dict[str, np.ndarray]
    villages: dict[str, np.ndarray]
    weights: np.ndarray  # county households per sample household, one per household
    group_weights: tuple[float, ...]  # the weight of each weight group
    category_weights: tuple[float, float, float]  # mean weight by category
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
    """Draw the county's households, members and villages from `rng` (see the draw order)."""
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
    dependency = (u_dependency < pop.dependency_prevalence) & (category != ORDINARY)
    u_coverage = rng.random(n)
    u_linkage = rng.random(n)
    u_project_job = rng.random(n)
    u_apply = rng.random(n)
    dev = p.income.volatility * rng.standard_normal(n)
    people = _members(p, rng, workers, migrants, elderly, kids - students, students, disabled,
                      chronic)
    debt_u = rng.random(n)
    # households without labour capacity and without children to support them (特困's 三无)
    no_supporter = no_labour & (rng.random(n) < pop.no_supporter_share)

    villages = draw_villages(p, rng, n_villages)
    households = {
        "category": category,
        "village": village,
        "income_target": income_target,
        "production": production,
        "motivation": motivation,
        "dependency": dependency,
        "u_coverage": u_coverage,
        "u_linkage": u_linkage,
        "u_project_job": u_project_job,
        "u_apply": u_apply,
        "dev": dev,
        "indebted": (debt_u < p.income.initial_debt_share) & (category != ORDINARY),
        "no_supporter": no_supporter,
    }
    # the strata are the weight groups (one weight each): totals as count x stratum weight
    households["weight_group"] = category.astype(np.int32)
    return Population(households, people, villages, np.asarray(weights)[category], weights,
                      weights, counts)


def draw_villages(p: Knobs, rng: np.random.Generator, n_villages: int
                  ) -> dict[str, np.ndarray]:
    """The villages, drawn from `rng` in this order: key villages, industry sectors, industry
    reserves, official duty factors, the order in which villages gain a social partner."""
    key = rng.random(n_villages) < p.county.key_village_share
    sector = rng.integers(0, N_SECTORS, n_villages).astype(np.int8)
    reserve = p.industry.initial_buffer * (0.5 + rng.random(n_villages))
    duty_factor = 0.8 + 0.4 * rng.random(n_villages)
    partner_order = rng.permutation(n_villages).astype(np.int32)
    return {"key": key, "sector": sector, "reserve": reserve, "duty_factor": duty_factor,
            "partner_order": partner_order}


def _members(p: Knobs, rng: np.random.Generator, workers: np.ndarray, migrants: np.ndarray,
             elderly: np.ndarray, children: np.ndarray, students: np.ndarray,
             disabled: np.ndarray, chronic: np.ndarray) -> dict[str, np.ndarray]:
    """People in person slots: ages within each group's range, sexes, roles."""
    n = workers.size
    pop = p.population
    u_age = rng.random((n, K))
    u_sex = rng.random((n, K))
    age = np.zeros((n, K), np.int16)
    role = np.full((n, K), NONE, np.int8)
    present = np.zeros((n, K), bool)
    is_disabled = np.zeros((n, K), bool)
    group = np.full((n, K), -1, np.int8)  # 0 worker, 1 elderly, 2 disabled, 3 student, 4 child
    slot = np.zeros(n, np.int64)
    rows = np.arange(n)
    for g, count in enumerate((workers, elderly, disabled, students, children)):
        for j in range(int(count.max(initial=0))):
            take = (count > j) & (slot < K)
            r, k = rows[take], slot[take]
            present[r, k] = True
            group[r, k] = g
            slot[take] += 1
    low = np.choose(np.clip(group, 0, 4), [pop.worker_age_low, p.demography.pension_age, 20,
                                           16, 0])
    high = np.choose(np.clip(group, 0, 4), [pop.worker_age_high, pop.elderly_age_high, 80,
                                            21, 15])
    # within its range a group's ages lean old (shape < 1) or young (> 1): the rural
    # workforce is old and the elderly mostly young elderly (see the two shape knobs)
    shape = np.choose(np.clip(group, 0, 4), [pop.worker_age_shape, pop.elderly_age_shape, 1.0,
                                             1.0, 1.0])
    span = high - low + 1
    age[present] = np.minimum(low + np.floor(u_age ** shape * span),
                              high).astype(np.int16)[present]
    # migrants are the youngest workers; the head (slot 0) is the oldest worker
    worker = group == 0
    order = np.argsort(np.where(worker, age, 999), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(K)[None, :].repeat(n, axis=0), axis=1)
    role[worker] = LOCAL
    role[worker & (rank < migrants[:, None])] = MIGRANT
    role[group == 3] = STUDENT
    is_disabled[group == 2] = True
    head_first = member_order(age, worker, present)
    age, role, present, is_disabled = (np.take_along_axis(a, head_first, axis=1)
                                       for a in (age, role, present, is_disabled))
    sex = np.where(u_sex < 0.5, MALE, FEMALE).astype(np.int8)
    sex[:, 0] = np.where(u_sex[:, 0] < 0.8, MALE, FEMALE)  # heads are mostly men
    oldest = np.argmax(np.where(present, age, -1), axis=1)
    is_chronic = np.zeros((n, K), bool)
    is_chronic[rows, oldest] = chronic
    return {"age": age, "sex": sex, "present": present, "role": role,
            "disabled": is_disabled, "chronic": is_chronic}


def member_order(age: np.ndarray, worker: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Slot order of each household's members (n x K indices): the head first — the oldest
    worker, or the oldest member of a household without workers — then the other workers,
    then everyone else, oldest first; empty slots last. A stable sort, so members already in
    this order keep it."""
    return np.argsort(np.where(present, -np.where(worker, age + 1000, age), 1), axis=1,
                      kind="stable")
