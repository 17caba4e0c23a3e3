"""Yearly outputs of a run (docs/ODD.md §4, Observation), computed by one function from
household columns.

Both engines call `year_metrics` on identical inputs (the agents engine first gathers its
agents' attributes into columns), so their yearly series agree exactly. Counts are weighted to
county totals with the stratum weights; `*_sample` metrics are raw simulated counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from simulation.model.codes import (
    ASSISTED,
    CAUSES,
    CHANNELS,
    FORMERLY_POOR,
    IDENTIFIED,
    MARGINAL,
    ORDINARY,
    RISK_ELIMINATED,
)

SNAPSHOT_FIELDS: Final = (
    "category", "members", "pc12", "below", "fell_this_year", "fall_cause", "fall_repeat",
    "ever_fell", "state", "ever_monitored", "dibao", "y_labour", "y_production", "y_project",
    "y_transfers", "y_rigid", "y_cost_ss", "y_cost_industry", "y_trained",
)

# name -> (unit, description). Every later tool relies on these names.
METRICS: Final[dict[str, tuple[str, str]]] = {
    "year": ("year", "calendar year"),
    "formerly_poor_households": ("households", "formerly poor (脱贫户) households in the county"),
    "returned_households": ("households/yr", "formerly poor households whose 12-month income "
                            "fell below the line this year"),
    "returned_first": ("households/yr", "... of which returning for the first time"),
    "returned_repeat": ("households/yr", "... of which had returned before"),
    "returned_share_formerly_poor": ("share/yr", "returned households / formerly poor"),
    "newly_poor_households": ("households/yr", "marginal or ordinary households falling below "
                              "the line this year"),
    "newly_poor_marginal": ("households/yr", "... marginal"),
    "newly_poor_ordinary": ("households/yr", "... ordinary"),
    "below_line_households": ("households", "households below the line at year end"),
    "below_line_formerly_poor": ("households", "formerly poor households below the line at "
                                 "year end"),
    "below_line_share_formerly_poor": ("share", "formerly poor below the line at year end"),
    "below_line_people": ("people", "people in households below the line at year end"),
    "monitored_stock": ("households", "households identified or assisted at year end"),
    "monitoring_inflow": ("households/yr", "identifications this year (incl. roll-backs)"),
    "risk_eliminated": ("households/yr", "risk eliminations this year (monitoring outflow)"),
    "rolled_back": ("households/yr", "risk-eliminated households rolled back into monitoring"),
    "ever_monitored_share_formerly_poor": ("share", "formerly poor ever monitored since 2021"),
    "risk_eliminated_share": ("share", "risk-eliminated among all households ever monitored "
                              "and on the roster"),
    "ever_returned_share_formerly_poor": ("share", "formerly poor that have returned at least "
                                          "once since 2021"),
    "identification_lag_months": ("months", "mean time from becoming at risk to identification"),
    "income_per_capita_formerly_poor": ("yuan/person-yr", "gross income per person of the "
                                        "formerly poor this year"),
    "transfer_share_formerly_poor": ("share", "transfers in formerly poor households' income"),
    "labour_share_formerly_poor": ("share", "wages in formerly poor households' income"),
    "production_share_formerly_poor": ("share", "production in formerly poor households' income"),
    "project_share_formerly_poor": ("share", "industry-linkage income in formerly poor "
                                    "households' income"),
    "income_per_capita_all": ("yuan/person-yr", "net income per person, all households"),
    "fgt0": ("share", "poverty headcount FGT(0), people, against the line"),
    "fgt1": ("share", "poverty gap FGT(1), people, against the line"),
    "gini": ("index", "Gini of per-capita net income, people"),
    "dibao_households": ("households", "households receiving 低保 at year end"),
    "trainees": ("households/yr", "households with a member trained this year"),
    "fiscal_cost_responsibility": ("yuan/yr", "officials, coordination platform, partners"),
    "fiscal_cost_social_security": ("yuan/yr", "低保, medical and temporary assistance, "
                                    "public-welfare posts, education grants, policy subsidies"),
    "fiscal_cost_industry": ("yuan/yr", "insurance, management, positioning, linkage awards, "
                             "production grants"),
    "fiscal_cost_motivation": ("yuan/yr", "guidance and training"),
    "fiscal_cost_yuan": ("yuan/yr", "total fiscal cost of the four mechanisms"),
    "industries_operating_share": ("share", "projects operating at year end"),
    "industries_failed_share": ("share", "projects failed (idle assets) at year end"),
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
for _channel in CHANNELS[1:]:
    METRICS[f"identified_by_{_channel}"] = ("households/yr", f"identifications via {_channel}")


def year_metrics(year: int, s: Mapping[str, np.ndarray], tally: Mapping[str, Sequence[int]],
                 programme: Mapping[str, float], weights: Sequence[float],
                 industry_status: Sequence[int] | np.ndarray, ctx: Any) -> dict[str, float]:
    """All metrics of one year from the December state `s` and the year's tallies."""
    cat = s["category"]
    w = np.asarray(weights, dtype=np.float64)
    fp = cat == FORMERLY_POOR

    def counts(mask: np.ndarray) -> np.ndarray:
        return np.bincount(cat[mask], minlength=3)

    def weighted(mask: np.ndarray) -> float:
        return float(counts(mask) @ w)

    def tallied(name: str) -> float:
        return float(np.asarray(tally.get(name, (0, 0, 0)), dtype=np.float64) @ w)

    def total(values: np.ndarray, mask: np.ndarray) -> float:
        return float(sum(w[c] * values[mask & (cat == c)].sum() for c in range(3)))

    def ratio(a: float, b: float) -> float:
        return a / b if b else 0.0

    fell, below = s["fell_this_year"], s["below"]
    monitored = (s["state"] == IDENTIFIED) | (s["state"] == ASSISTED)
    on_roster = s["state"] != 0
    out: dict[str, float] = {"year": float(year)}
    fp_n = weighted(fp)
    out["formerly_poor_households"] = fp_n
    out["returned_households"] = weighted(fp & fell)
    out["returned_first"] = weighted(fp & fell & ~s["fall_repeat"])
    out["returned_repeat"] = weighted(fp & fell & s["fall_repeat"])
    out["returned_share_formerly_poor"] = ratio(out["returned_households"], fp_n)
    out["newly_poor_marginal"] = weighted((cat == MARGINAL) & fell)
    out["newly_poor_ordinary"] = weighted((cat == ORDINARY) & fell)
    out["newly_poor_households"] = out["newly_poor_marginal"] + out["newly_poor_ordinary"]
    out["below_line_households"] = weighted(below)
    out["below_line_formerly_poor"] = weighted(fp & below)
    out["below_line_share_formerly_poor"] = ratio(out["below_line_formerly_poor"], fp_n)
    out["below_line_people"] = total(s["members"].astype(np.float64), below)
    out["monitored_stock"] = weighted(monitored)
    out["monitoring_inflow"] = tallied("monitoring_inflow")
    out["risk_eliminated"] = tallied("risk_eliminated")
    out["rolled_back"] = tallied("rolled_back")
    out["ever_monitored_share_formerly_poor"] = ratio(weighted(fp & s["ever_monitored"]), fp_n)
    out["risk_eliminated_share"] = ratio(weighted(s["state"] == RISK_ELIMINATED),
                                         weighted(on_roster))
    out["ever_returned_share_formerly_poor"] = ratio(weighted(fp & s["ever_fell"]), fp_n)
    out["identification_lag_months"] = ratio(tallied("lag_months"), out["monitoring_inflow"])
    for k, name in enumerate(CAUSES):
        out[f"cause_{name}"] = weighted(fell & (s["fall_cause"] == k))
        out[f"risk_cause_{name}"] = tallied(f"risk_cause_{k}")
    for k, name in enumerate(CHANNELS[1:], start=1):
        out[f"identified_by_{name}"] = tallied(f"channel_{k}")

    sources = {"labour": s["y_labour"], "production": s["y_production"],
               "project": s["y_project"], "transfer": s["y_transfers"]}
    sums = {source: float(v[fp].sum()) for source, v in sources.items()}
    gross = sum(sums.values()) + 12.0 * ctx.property * int(fp.sum())
    out["income_per_capita_formerly_poor"] = ratio(gross, float(s["members"][fp].sum()))
    for source, v in sums.items():
        out[f"{source}_share_formerly_poor"] = ratio(v, gross)

    people = w[cat] * s["members"]
    pc = s["pc12"]
    out["income_per_capita_all"] = ratio(float(people @ pc), float(people.sum()))
    poor = pc < ctx.line
    out["fgt0"] = ratio(float(people[poor].sum()), float(people.sum()))
    out["fgt1"] = ratio(float(people[poor] @ ((ctx.line - pc[poor]) / ctx.line)),
                        float(people.sum()))
    out["gini"] = gini(np.maximum(pc, 0.0), people)
    out["dibao_households"] = weighted(s["dibao"])
    out["trainees"] = weighted(s["y_trained"])

    out["fiscal_cost_responsibility"] = programme.get("responsibility", 0.0)
    out["fiscal_cost_social_security"] = total(s["y_cost_ss"], np.ones_like(fp))
    out["fiscal_cost_industry"] = programme.get("industry", 0.0) + total(s["y_cost_industry"],
                                                                        np.ones_like(fp))
    out["fiscal_cost_motivation"] = programme.get("motivation", 0.0) + out["trainees"] * \
        programme.get("training_unit", 0.0)
    out["fiscal_cost_yuan"] = (out["fiscal_cost_responsibility"]
                               + out["fiscal_cost_social_security"]
                               + out["fiscal_cost_industry"] + out["fiscal_cost_motivation"])
    status = np.asarray(industry_status)
    out["industries_operating_share"] = ratio(float((status == 0).sum()), float(status.size))
    out["industries_failed_share"] = ratio(float((status == 2).sum()), float(status.size))
    out["disasters"] = float(tally.get("disasters", (0, 0, 0))[0])

    out["returned_households_sample"] = float(counts(fp & fell).sum())
    out["newly_poor_households_sample"] = float(counts(~fp & fell).sum())
    out["monitored_stock_sample"] = float(counts(monitored).sum())
    out["monitoring_inflow_sample"] = float(sum(tally.get("monitoring_inflow", (0, 0, 0))))
    out["risk_eliminated_sample"] = float(sum(tally.get("risk_eliminated", (0, 0, 0))))
    out["formerly_poor_households_sample"] = float(fp.sum())
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
