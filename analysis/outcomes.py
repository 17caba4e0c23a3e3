"""Outcomes of every run over the evaluation window: the numbers comparisons,
decompositions and cost-effectiveness are built on (one row per scenario and replicate).

The evaluation window runs from the year of the compared scenarios' (earliest) policy date to
the horizon: before it every scenario lives the same history on a paired seed, so only the
window can differ. All counts are county totals (stratum weights) summed over the window;
costs are nominal yuan, undiscounted, summed over its years.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from analysis.causes import cause_totals, falls_by_cause
from analysis.results_io import Results
from analysis.spells import months_below
from simulation.model.calendar import START_YEAR
from simulation.model.codes import CAUSES
from simulation.model.metrics import METRICS
from simulation.model.params import MECHANISMS

COST_COLUMNS: Final = tuple(f"fiscal_cost_{m}" for m in MECHANISMS)
HORIZON_SUMS: Final[dict[str, str]] = {
    "returns": "returned_households", "new_poverty": "newly_poor_households",
    "returns_hardship": "returned_households_hardship",
    "new_poverty_hardship": "newly_poor_households_hardship",
    "fiscal_cost": "fiscal_cost_yuan", **{c: c for c in COST_COLUMNS}}
"""Outcomes that are a yearly metric (simulation.model.metrics) summed over the evaluation
window (the `_hardship` pair: the same counts on the hardship test)."""


def in_window(runs: pd.DataFrame, start_year: int) -> pd.DataFrame:
    """The yearly rows of the evaluation window."""
    return runs[runs["year"] >= start_year]


def _summed(metric: str) -> tuple[str, str]:
    """Unit and description of a yearly metric summed over the evaluation window, from the
    one metric registry (simulation.model.metrics.METRICS)."""
    unit, description = METRICS[metric]
    return unit.removesuffix("/yr"), f"{description} (summed over the evaluation window)"


OUTCOMES: Final[dict[str, tuple[str, str]]] = {
    **{name: _summed(metric) for name, metric in HORIZON_SUMS.items()},
    "household_years_below": ("household-years", "time spent below the line at month end "
                              "in the evaluation window, all households"),
    "household_years_below_formerly_poor": ("household-years", "... formerly poor households"),
    **{f"returns_{c}": _summed(f"cause_{c}") for c in CAUSES},
}
"""Horizon outcomes of a run: (unit, description). Only outcomes that are not a yearly metric
(household-years below the line, from the events) declare their own."""


def run_outcomes(results: Results) -> pd.DataFrame:
    """One row per run: scenario, replicate, seed and every outcome in OUTCOMES, over the
    results' evaluation window."""
    start = results.window_start
    runs = in_window(results.runs, start)
    base = (runs.groupby(["scenario", "replicate", "seed"], sort=False)
            [list(HORIZON_SUMS.values())].sum().reset_index()
            .rename(columns={metric: name for name, metric in HORIZON_SUMS.items()}))
    below = months_below(results, from_month=12 * (start - START_YEAR))
    below["hy"] = below["months_below"] / 12.0 * below["weight"]
    below["hy_fp"] = below["hy"].where(below["category"] == 0, 0.0)
    hy = below.groupby(["scenario", "replicate"], sort=False)[["hy", "hy_fp"]].sum().rename(
        columns={"hy": "household_years_below", "hy_fp": "household_years_below_formerly_poor"})
    falls = falls_by_cause(results)
    by_cause = cause_totals(falls[falls["year"] >= start], "returns").drop(
        columns=["seed", "total"])
    by_cause = by_cause.rename(columns={c: f"returns_{c}" for c in CAUSES})
    out = base.join(hy, on=["scenario", "replicate"]).merge(by_cause, on=["scenario",
                                                                          "replicate"])
    return out[["scenario", "replicate", "seed", *OUTCOMES]]
