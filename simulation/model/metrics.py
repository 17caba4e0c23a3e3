"""Yearly outputs of a run (docs/ODD.md §4, Observation), computed by one function from
household columns.

Both engines call `year_metrics` on identical inputs (the agents engine first gathers its
agents' attributes into columns), so their yearly series agree exactly. Counts are weighted to
county totals with each household's weight, by weight group (simulation.model.population:
integer counts per group times the group's weight; the synthetic county's groups are its
strata); `*_sample` metrics are raw simulated counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numba
import numpy as np

from simulation.model.codes import (
    ASSISTED,
    CAUSES,
    CHANNELS_ALL,
    DIBAO,
    FORMERLY_POOR,
    IDENTIFIED,
    MARGINAL,
    N_CAUSES,
    ORDINARY,
    RISK_ELIMINATED,
    TEKUN,
)
from simulation.model.compiled import JIT_OPTIONS

SNAPSHOT_FIELDS: Final = (
    "category", "weight_group", "alive", "members", "workers", "elderly", "disabled", "pc12",
    "pc12_h", "below", "below_h", "fell_this_year", "fall_cause", "fall_repeat", "fell_h_this_year",
    "fall_cause_h", "ever_fell", "state", "ever_monitored", "programme", "savings", "debt",
    "job_kind", "y_labour", "y_production", "y_project", "y_transfers", "y_rigid", "y_cost_ss",
    "y_cost_industry", "y_trained", "y_at_risk", "y_risk_identified", "y_hit", "y_income",
    "last_y_income",
)

_FEW_GROUPS: Final = 3
"""Up to this many weight groups (the synthetic county's strata) a weighted sum is taken per
group, as county totals always were; with more (records with their own weights) it is one
dot product of the households' weights and values."""

# name -> (unit, description). Every later tool relies on these names.
METRICS: Final[dict[str, tuple[str, str]]] = {
    "year": ("year", "calendar year"),
    "formerly_poor_households": ("households", "formerly poor (脱贫户) households in the county"),
    "returned_households": ("households/yr", "formerly poor households whose 12-month income "
                            "fell below the line this year (official income test)"),
    "returned_first": ("households/yr", "... of which returning for the first time"),
    "returned_repeat": ("households/yr", "... of which had returned before"),
    "returned_share_formerly_poor": ("share/yr", "returned households / formerly poor"),
    "newly_poor_households": ("households/yr", "marginal or ordinary households falling below "
                              "the line this year"),
    "newly_poor_marginal": ("households/yr", "... marginal"),
    "newly_poor_ordinary": ("households/yr", "... ordinary"),
    "returned_households_hardship": ("households/yr", "formerly poor households whose 12-month "
                                     "income net of rigid costs fell below the line this year"),
    "newly_poor_households_hardship": ("households/yr", "marginal or ordinary households "
                                       "falling below the line on the hardship count"),
    "below_line_households": ("households", "households below the line at year end"),
    "below_line_formerly_poor": ("households", "formerly poor households below the line at "
                                 "year end"),
    "below_line_share_formerly_poor": ("share", "formerly poor below the line at year end"),
    "below_line_share_formerly_poor_hardship": ("share", "formerly poor below the line at year "
                                                "end on the hardship count"),
    "below_line_people": ("people", "people in households below the line at year end"),
    "monitored_stock": ("households", "households identified or assisted at year end"),
    "monitoring_inflow": ("households/yr", "identifications this year (incl. roll-backs)"),
    "risk_eliminated": ("households/yr", "risk eliminations this year (monitoring outflow)"),
    "rolled_back": ("households/yr", "risk-eliminated households rolled back into monitoring"),
    "ever_monitored_share_formerly_poor": ("share", "of the 2021 formerly poor households "
                                           "(those since dissolved included), the share ever "
                                           "monitored since 2021"),
    "risk_eliminated_share": ("share", "risk-eliminated among all households ever monitored "
                              "and on the roster"),
    "ever_returned_share_formerly_poor": ("share", "of the 2021 formerly poor households "
                                          "(those since dissolved included), the share that "
                                          "has returned at least once since 2021"),
    "identification_lag_months": ("months", "mean time from becoming at risk to identification"),
    "at_risk_households": ("households/yr", "households at risk at some time this year"),
    "at_risk_identified_fell_share": ("share", "of those at risk and identified this year, the "
                                      "share that fell below the line this year"),
    "at_risk_unidentified_fell_share": ("share", "of those at risk and not identified this "
                                        "year, the share that fell below the line this year"),
    "income_per_capita_formerly_poor": ("yuan/person-yr", "gross income per person of the "
                                        "formerly poor this year"),
    "transfer_share_formerly_poor": ("share", "transfers in formerly poor households' income"),
    "labour_share_formerly_poor": ("share", "wages in formerly poor households' income"),
    "production_share_formerly_poor": ("share", "production in formerly poor households' income"),
    "project_share_formerly_poor": ("share", "industry-linkage income in formerly poor "
                                    "households' income"),
    "income_per_capita_all": ("yuan/person-yr", "income per person, all households"),
    "income_change_sd": ("sd of log", "sd across households of the change in log yearly "
                         "household income from last year (formerly poor and marginal)"),
    "fgt0": ("share", "poverty headcount FGT(0), people, against the line"),
    "fgt1": ("share", "poverty gap FGT(1), people, against the line"),
    "gini": ("index", "Gini of per-capita income, people"),
    "dibao_households": ("households", "households receiving 低保 at year end"),
    "tekun_households": ("households", "households receiving 特困 support at year end"),
    "programme_people_share_formerly_poor": ("share", "formerly poor people on 低保 or 特困 "
                                             "at year end"),
    "programme_share_monitored": ("share", "monitored households on 低保 or 特困 at year end"),
    "programme_people_share_all": ("share", "rural people on 低保 or 特困 at year end"),
    "people": ("people", "people in the county's rural households at year end"),
    "share_60_plus": ("share", "people aged 60 and over at year end"),
    "mean_household_size": ("people", "mean members per household at year end"),
    "workers_per_household_formerly_poor": ("people", "workers per formerly poor household"),
    "elderly_per_household_formerly_poor": ("people", "members 60+ per formerly poor "
                                            "household"),
    "disabled_share": ("share", "people with a disability at year end"),
    "savings_median_months_formerly_poor": ("months of income", "median liquid savings of "
                                            "formerly poor households, in months of income"),
    "debt_share_formerly_poor": ("share", "formerly poor households in debt at year end"),
    "debt_median_months_indebted": ("months of income", "median debt of indebted formerly poor "
                                    "households, in months of income"),
    "assisted_jobs": ("jobs", "members in an assisted job (placement, post, project) at year "
                      "end"),
    "disaster_hit_households": ("households/yr", "households hit by a disaster this year"),
    "disaster_hit_fell_share": ("share", "of the households hit this year, the share that fell "
                                "below the line this year"),
    "trainees": ("households/yr", "households with a member trained this year"),
    "fiscal_cost_responsibility": ("yuan/yr", "officials, coordination platform, partners"),
    "fiscal_cost_social_security": ("yuan/yr", "低保 and 特困, medical and temporary "
                                    "assistance, public-welfare posts, education grants, "
                                    "policy subsidies, disaster relief"),
    "fiscal_cost_industry": ("yuan/yr", "insurance, management, positioning, linkage awards, "
                             "production grants, restructuring failed projects"),
    "fiscal_cost_motivation": ("yuan/yr", "guidance and training"),
    "fiscal_cost_yuan": ("yuan/yr", "total fiscal cost of the four mechanisms"),
    "industries_operating_share": ("share", "projects operating at year end"),
    "industries_failed_share": ("share", "projects failed (idle assets) at year end"),
    "projects_restructured": ("projects/yr", "failed projects restructured or replaced this "
                              "year (simulated)"),
    "disasters": ("events/yr", "natural disasters in the county"),
    "returned_households_sample": ("households/yr", "returned, simulated (unweighted)"),
    "newly_poor_households_sample": ("households/yr", "newly poor, simulated (unweighted)"),
    "monitored_stock_sample": ("households", "monitored stock, simulated (unweighted)"),
    "monitoring_inflow_sample": ("households/yr", "inflow, simulated (unweighted)"),
    "risk_eliminated_sample": ("households/yr", "outflow, simulated (unweighted)"),
    "formerly_poor_households_sample": ("households", "formerly poor, simulated"),
}
for _cause in CAUSES:
    METRICS[f"cause_{_cause}"] = ("households/yr", f"falls this year caused by {_cause}")
for _cause in CAUSES:
    METRICS[f"risk_cause_{_cause}"] = ("households/yr", f"identifications caused by {_cause}")
for _channel in CHANNELS_ALL[1:]:
    METRICS[f"identified_by_{_channel}"] = ("households/yr", f"identifications via {_channel}")


# Household counts by weight group, one pass over the households: every mask year_metrics
# counts (rows, named below) at once instead of one numpy mask and bincount each (40 of
# them took most of a small run's year end). Integer counts are exact in any order, so the
# metrics are the numbers they were.
(C_FP, C_RETURNED, C_RETURNED_FIRST, C_RETURNED_REPEAT, C_NEW_MARGINAL, C_NEW_ORDINARY,
 C_RETURNED_H, C_NEW_H, C_BELOW, C_BELOW_FP, C_BELOW_H_FP, C_MONITORED, C_ELIMINATED,
 C_ROSTER, C_RISKY, C_RISKY_KNOWN_FELL, C_RISKY_KNOWN, C_RISKY_UNKNOWN_FELL,
 C_RISKY_UNKNOWN, C_DIBAO, C_TEKUN, C_MONITORED_PROGRAMME, C_ALIVE, C_JOBS, C_HIT,
 C_HIT_FELL, C_TRAINED, C_NEW_SAMPLE, C_MONITORED_ALIVE, C_COHORT, C_COHORT_MONITORED,
 C_COHORT_RETURNED, C_CAUSE) = range(33)  # C_CAUSE + k: falls caused by cause k
N_COUNTS: Final = C_CAUSE + len(CAUSES)


@numba.njit(**JIT_OPTIONS)
def household_counts(alive: Any, category: Any, weight_group: Any, groups: int, fell: Any,
                     repeat: Any, fell_h: Any, below: Any, below_h: Any, state: Any,
                     programme: Any, at_risk: Any, identified: Any, fall_cause: Any,
                     job_kind: Any, hit: Any, trained: Any, ever_monitored: Any,
                     ever_fell: Any, counts: Any) -> None:
    """counts[row, group] for every row C_*: the households of each weight group (gone
    households in group `groups`, which weighs nothing) in the row's mask; the cohort rows
    (C_COHORT..) count every 2021 formerly poor household in its own group, gone or not."""
    counts[:] = 0
    for i in range(alive.size):
        live = alive[i]
        cat = category[i] if live else 3
        g = weight_group[i] if live else groups
        fp = cat == FORMERLY_POOR
        f = fell[i]
        st = state[i]
        monitored = st == IDENTIFIED or st == ASSISTED
        prog = programme[i]
        on_programme = prog == DIBAO or prog == TEKUN
        row = counts[:, g]
        if fp:
            row[C_FP] += 1
            if f:
                row[C_RETURNED] += 1
                row[C_RETURNED_REPEAT if repeat[i] else C_RETURNED_FIRST] += 1
            if fell_h[i]:
                row[C_RETURNED_H] += 1
            if below[i]:
                row[C_BELOW_FP] += 1
            if below_h[i]:
                row[C_BELOW_H_FP] += 1
        elif live and f:
            row[C_NEW_SAMPLE] += 1
        if f and cat == MARGINAL:
            row[C_NEW_MARGINAL] += 1
        if f and cat == ORDINARY:
            row[C_NEW_ORDINARY] += 1
        if fell_h[i] and (cat == MARGINAL or cat == ORDINARY):
            row[C_NEW_H] += 1
        if below[i]:
            row[C_BELOW] += 1
        if monitored:
            row[C_MONITORED] += 1
            if on_programme:
                row[C_MONITORED_PROGRAMME] += 1
            if live:
                row[C_MONITORED_ALIVE] += 1
        if st == RISK_ELIMINATED:
            row[C_ELIMINATED] += 1
        if st != 0:
            row[C_ROSTER] += 1
        if at_risk[i]:
            row[C_RISKY] += 1
            if identified[i]:
                row[C_RISKY_KNOWN] += 1
                if f:
                    row[C_RISKY_KNOWN_FELL] += 1
            else:
                row[C_RISKY_UNKNOWN] += 1
                if f:
                    row[C_RISKY_UNKNOWN_FELL] += 1
        cause = fall_cause[i]
        if f and 0 <= cause < N_CAUSES:
            row[C_CAUSE + cause] += 1
        if prog == DIBAO:
            row[C_DIBAO] += 1
        if prog == TEKUN:
            row[C_TEKUN] += 1
        if live:
            row[C_ALIVE] += 1
        if job_kind[i] != 0:
            row[C_JOBS] += 1
        if hit[i]:
            row[C_HIT] += 1
            if f:
                row[C_HIT_FELL] += 1
        if trained[i]:
            row[C_TRAINED] += 1
        if category[i] == FORMERLY_POOR:
            every = counts[:, weight_group[i]]
            every[C_COHORT] += 1
            if ever_monitored[i]:
                every[C_COHORT_MONITORED] += 1
            if ever_fell[i]:
                every[C_COHORT_RETURNED] += 1


def year_metrics(year: int, s: Mapping[str, np.ndarray], people: Mapping[str, np.ndarray],
                 tally: Mapping[str, Sequence[int]], programme: Mapping[str, float],
                 weights: Sequence[float], industry_status: Sequence[int] | np.ndarray,
                 ctx: Any) -> dict[str, float]:
    """All metrics of one year from the December state `s` (households), `people` (n x K)
    and the year's tallies (integers by weight group). `weights` holds the weight of each
    weight group (Population.group_weights). Households whose members have all died or moved
    out are left out."""
    alive = s["alive"]
    groups = len(weights)
    cat = np.where(alive, s["category"], 3)  # 3: gone (not counted)
    grp = np.where(alive, s["weight_group"], groups)  # `groups`: gone (weight 0)
    w = np.asarray([*weights, 0.0], dtype=np.float64)
    hw = w[grp]  # each household's weight (0 once gone)
    fp = cat == FORMERLY_POOR
    no_tally = (0,) * groups
    c = np.empty((N_COUNTS, groups + 1), np.int64)
    household_counts(alive, s["category"], s["weight_group"], groups, s["fell_this_year"],
                     s["fall_repeat"], s["fell_h_this_year"], s["below"], s["below_h"],
                     s["state"], s["programme"], s["y_at_risk"], s["y_risk_identified"],
                     s["fall_cause"], s["job_kind"], s["y_hit"], s["y_trained"],
                     s["ever_monitored"], s["ever_fell"], c)

    def weighted(row: int) -> float:
        return float(c[row] @ w)

    def tallied(name: str) -> float:
        return float(np.asarray(tally.get(name, no_tally), dtype=np.float64) @ w[:groups])

    in_group = [grp == g for g in range(groups)] if groups <= _FEW_GROUPS else []

    def total(values: np.ndarray, mask: np.ndarray) -> float:
        if in_group:  # a sum per group: the strata of the synthetic county
            return float(sum(w[g] * values[mask & in_group[g]].sum() for g in range(groups)))
        return float(hw[mask] @ values[mask])

    def ratio(a: float, b: float) -> float:
        return a / b if b else 0.0

    below = s["below"]
    on_programme = (s["programme"] == DIBAO) | (s["programme"] == TEKUN)
    out: dict[str, float] = {"year": float(year)}
    fp_n = weighted(C_FP)
    out["formerly_poor_households"] = fp_n
    out["returned_households"] = weighted(C_RETURNED)
    out["returned_first"] = weighted(C_RETURNED_FIRST)
    out["returned_repeat"] = weighted(C_RETURNED_REPEAT)
    out["returned_share_formerly_poor"] = ratio(out["returned_households"], fp_n)
    out["newly_poor_marginal"] = weighted(C_NEW_MARGINAL)
    out["newly_poor_ordinary"] = weighted(C_NEW_ORDINARY)
    out["newly_poor_households"] = out["newly_poor_marginal"] + out["newly_poor_ordinary"]
    out["returned_households_hardship"] = weighted(C_RETURNED_H)
    out["newly_poor_households_hardship"] = weighted(C_NEW_H)
    out["below_line_households"] = weighted(C_BELOW)
    out["below_line_formerly_poor"] = weighted(C_BELOW_FP)
    out["below_line_share_formerly_poor"] = ratio(out["below_line_formerly_poor"], fp_n)
    out["below_line_share_formerly_poor_hardship"] = ratio(weighted(C_BELOW_H_FP), fp_n)
    out["below_line_people"] = total(s["members"].astype(np.float64), below)
    out["monitored_stock"] = weighted(C_MONITORED)
    out["monitoring_inflow"] = tallied("monitoring_inflow")
    out["risk_eliminated"] = tallied("risk_eliminated")
    out["rolled_back"] = tallied("rolled_back")
    # cohort shares: of every 2021 formerly poor household, including those since dissolved
    cohort_n = float(c[C_COHORT, :groups] @ w[:groups])

    def cohort_share(row: int) -> float:
        return ratio(float(c[row, :groups] @ w[:groups]), cohort_n)

    out["ever_monitored_share_formerly_poor"] = cohort_share(C_COHORT_MONITORED)
    out["risk_eliminated_share"] = ratio(weighted(C_ELIMINATED), weighted(C_ROSTER))
    out["ever_returned_share_formerly_poor"] = cohort_share(C_COHORT_RETURNED)
    out["identification_lag_months"] = ratio(tallied("lag_months"), out["monitoring_inflow"])
    out["at_risk_households"] = weighted(C_RISKY)
    out["at_risk_identified_fell_share"] = ratio(weighted(C_RISKY_KNOWN_FELL),
                                                 weighted(C_RISKY_KNOWN))
    out["at_risk_unidentified_fell_share"] = ratio(weighted(C_RISKY_UNKNOWN_FELL),
                                                   weighted(C_RISKY_UNKNOWN))
    for k, name in enumerate(CAUSES):
        out[f"cause_{name}"] = weighted(C_CAUSE + k)
        out[f"risk_cause_{name}"] = tallied(f"risk_cause_{k}")
    for k, name in enumerate(CHANNELS_ALL[1:], start=1):
        out[f"identified_by_{name}"] = tallied(f"channel_{k}")

    sources = {"labour": s["y_labour"], "production": s["y_production"],
               "project": s["y_project"], "transfer": s["y_transfers"]}
    sums = {source: float(v[fp].sum()) for source, v in sources.items()}
    gross = float(s["y_income"][fp].sum())
    out["income_per_capita_formerly_poor"] = ratio(gross, float(s["members"][fp].sum()))
    for source, v in sums.items():
        out[f"{source}_share_formerly_poor"] = ratio(v, gross)

    persons = hw * s["members"]
    pc = s["pc12"]
    out["income_per_capita_all"] = ratio(float(persons @ pc), float(persons.sum()))
    earlier = (cat <= MARGINAL) & (s["last_y_income"] > 0) & (s["y_income"] > 0)
    change = np.log(s["y_income"][earlier]) - np.log(s["last_y_income"][earlier])
    out["income_change_sd"] = float(change.std()) if change.size > 1 else 0.0
    poor = pc < ctx.line
    out["fgt0"] = ratio(float(persons[poor].sum()), float(persons.sum()))
    out["fgt1"] = ratio(float(persons[poor] @ ((ctx.line - pc[poor]) / ctx.line)),
                        float(persons.sum()))
    out["gini"] = gini(np.maximum(pc, 0.0), persons)
    out["dibao_households"] = weighted(C_DIBAO)
    out["tekun_households"] = weighted(C_TEKUN)
    out["programme_people_share_formerly_poor"] = ratio(
        total(s["members"].astype(np.float64), fp & on_programme),
        total(s["members"].astype(np.float64), fp))
    out["programme_share_monitored"] = ratio(weighted(C_MONITORED_PROGRAMME),
                                             weighted(C_MONITORED))
    out["programme_people_share_all"] = ratio(
        total(s["members"].astype(np.float64), on_programme), float(persons.sum()))

    present = people["present"] & alive[:, None]
    person_w = hw[:, None] * present
    out["people"] = float(person_w.sum())
    out["share_60_plus"] = ratio(float(person_w[people["age"] >= 60].sum()), out["people"])
    out["disabled_share"] = ratio(float(person_w[people["disabled"]].sum()), out["people"])
    out["mean_household_size"] = ratio(out["people"], weighted(C_ALIVE))
    out["workers_per_household_formerly_poor"] = ratio(total(s["workers"].astype(np.float64), fp),
                                                       fp_n)
    out["elderly_per_household_formerly_poor"] = ratio(
        total(s["elderly"].astype(np.float64), fp), fp_n)
    monthly = np.maximum(s["y_income"][fp] / 12.0, 1.0)
    out["savings_median_months_formerly_poor"] = (float(np.median(s["savings"][fp] / monthly))
                                                  if fp.any() else 0.0)
    indebted = s["debt"][fp] > 0
    out["debt_share_formerly_poor"] = ratio(float(indebted.sum()), float(c[C_FP].sum()))
    out["debt_median_months_indebted"] = (float(np.median(s["debt"][fp][indebted]
                                                          / monthly[indebted]))
                                          if indebted.any() else 0.0)
    out["assisted_jobs"] = weighted(C_JOBS)
    out["disaster_hit_households"] = weighted(C_HIT)
    out["disaster_hit_fell_share"] = ratio(weighted(C_HIT_FELL), weighted(C_HIT))
    out["trainees"] = weighted(C_TRAINED)

    out["fiscal_cost_responsibility"] = programme.get("responsibility", 0.0)
    out["fiscal_cost_social_security"] = total(s["y_cost_ss"], alive)
    out["fiscal_cost_industry"] = programme.get("industry", 0.0) + total(s["y_cost_industry"],
                                                                        alive)
    out["fiscal_cost_motivation"] = programme.get("motivation", 0.0) + out["trainees"] * \
        programme.get("training_unit", 0.0)
    out["fiscal_cost_yuan"] = (out["fiscal_cost_responsibility"]
                               + out["fiscal_cost_social_security"]
                               + out["fiscal_cost_industry"] + out["fiscal_cost_motivation"])
    status = np.asarray(industry_status)
    out["industries_operating_share"] = ratio(float((status == 0).sum()), float(status.size))
    out["industries_failed_share"] = ratio(float((status == 2).sum()), float(status.size))
    out["projects_restructured"] = float(tally.get("restructured", no_tally)[0])
    out["disasters"] = float(tally.get("disasters", no_tally)[0])

    out["returned_households_sample"] = float(c[C_RETURNED].sum())
    out["newly_poor_households_sample"] = float(c[C_NEW_SAMPLE].sum())
    out["monitored_stock_sample"] = float(c[C_MONITORED_ALIVE].sum())
    out["monitoring_inflow_sample"] = float(sum(tally.get("monitoring_inflow", no_tally)))
    out["risk_eliminated_sample"] = float(sum(tally.get("risk_eliminated", no_tally)))
    out["formerly_poor_households_sample"] = float(c[C_FP].sum())
    return out


def gini(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted Gini coefficient of non-negative values."""
    # (ties may come in any order: tied values add the same area to the Lorenz curve)
    order = np.argsort(values)
    v, wt = values[order], weights[order]
    cum_w = np.cumsum(wt)
    cum_vw = np.cumsum(v * wt)
    if cum_vw[-1] <= 0:
        return 0.0
    # area under the Lorenz curve by trapezoids
    lorenz = cum_vw / cum_vw[-1]
    prev = np.concatenate(([0.0], lorenz[:-1]))
    area = float(((lorenz + prev) * wt).sum() / cum_w[-1] / 2.0)
    return 1.0 - 2.0 * area
