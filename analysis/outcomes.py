"""Horizon outcomes of every run: the numbers comparisons, decompositions and
cost-effectiveness are built on (one row per scenario and replicate).

All counts are county totals (stratum weights) over the whole horizon; costs are nominal yuan,
undiscounted, summed over the years.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from analysis.causes import cause_totals, falls_by_cause
from analysis.results_io import Results
from analysis.spells import months_below
from simulation.model.codes import CAUSES
from simulation.model.params import MECHANISMS

COST_COLUMNS: Final = tuple(f"fiscal_cost_{m}" for m in MECHANISMS)
OUTCOMES: Final[dict[str, tuple[str, str]]] = {
    "returns": ("households", "formerly poor households returning to poverty (a household "
                "counts once a year)"),
    "new_poverty": ("households", "marginal and ordinary households falling below the line"),
    "household_years_below": ("household-years", "time spent below the line at month end, "
                              "all households"),
    "household_years_below_formerly_poor": ("household-years", "... formerly poor households"),
    "fiscal_cost": ("yuan", "fiscal cost of the four mechanisms"),
    **{c: ("yuan", f"fiscal cost of the {c.removeprefix('fiscal_cost_').replace('_', ' ')} "
           "mechanism") for c in COST_COLUMNS},
    **{f"returns_{c}": ("households", f"returns caused by {c.replace('_', ' ')}")
       for c in CAUSES},
}


def run_outcomes(results: Results) -> pd.DataFrame:
    """One row per run: scenario, replicate, seed and every outcome in OUTCOMES."""
    runs = results.runs
    base = (runs.groupby(["scenario", "replicate", "seed"], sort=False)
            [["returned_households", "newly_poor_households", "fiscal_cost_yuan",
              *COST_COLUMNS]].sum().reset_index()
            .rename(columns={"returned_households": "returns",
                             "newly_poor_households": "new_poverty",
                             "fiscal_cost_yuan": "fiscal_cost"}))
    below = months_below(results)
    below["hy"] = below["months_below"] / 12.0 * below["weight"]
    below["hy_fp"] = below["hy"].where(below["category"] == 0, 0.0)
    hy = below.groupby(["scenario", "replicate"], sort=False)[["hy", "hy_fp"]].sum().rename(
        columns={"hy": "household_years_below", "hy_fp": "household_years_below_formerly_poor"})
    by_cause = cause_totals(falls_by_cause(results), "returns").drop(columns=["seed", "total"])
    by_cause = by_cause.rename(columns={c: f"returns_{c}" for c in CAUSES})
    out = base.join(hy, on=["scenario", "replicate"]).merge(by_cause, on=["scenario",
                                                                          "replicate"])
    return out[["scenario", "replicate", "seed", *OUTCOMES]]
