"""Fiscal cost by mechanism and year, and cost-effectiveness against the baseline.

Cost per avoided return = (scenario cost - baseline cost) / (baseline returns - scenario
returns), both summed over the horizon and paired on seeds; likewise cost per household-year
kept above the line (household-years below the line avoided, all households, month ends).
Costs are nominal yuan, undiscounted (the model has no discount rate; a reader who wants one
can discount the yearly series in runs.parquet). Intervals: Fieller's (analysis.paired), with a
paired bootstrap over seeds as a check; "unbounded" means the data do not exclude that the
scenario avoids nothing, so no finite upper bound on the cost per avoided unit exists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.outcomes import COST_COLUMNS
from analysis.paired import RatioInterval, bootstrap_ratio, fieller_ratio
from simulation.common.stats import mean_interval
from simulation.model.params import MECHANISMS


def cost_by_year(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean fiscal cost over replicates per scenario, year and mechanism (yuan/yr; long:
    scenario, year, mechanism, mean, low, high, replicates)."""
    rows = []
    for (scenario, year), g in runs.groupby(["scenario", "year"], sort=False):
        for mechanism, column in zip(MECHANISMS, COST_COLUMNS, strict=True):
            rows.append((scenario, int(year), mechanism,
                         *mean_interval(g[column].to_numpy(dtype=float)), len(g)))
    return pd.DataFrame(rows, columns=["scenario", "year", "mechanism", "mean", "low", "high",
                                       "replicates"])


def _verdict(extra: float, avoided: float, ratio: RatioInterval) -> str:
    if not avoided > 0:
        return "avoids none"
    if extra <= 0:
        return "cost-saving"
    return ratio.status


def cost_effectiveness(per_run: pd.DataFrame, baseline: str, seed: int,
                       order: Sequence[str] | None = None) -> pd.DataFrame:
    """Per scenario against the baseline (paired on seeds).

    Args:
        per_run: analysis.outcomes.run_outcomes.
        baseline: scenario compared against.
        seed: seed of the bootstrap generator (the comparison's seed: reproducible).
        order: scenario order.

    Returns:
        One row per scenario: replicates; extra_cost, avoided_returns, avoided_years
        (household-years below the line avoided) with _low/_high; per_return and per_year
        with Fieller _low/_high, bootstrap _boot_low/_boot_high and a _status ("bounded",
        "unbounded", "cost-saving", "avoids none").
    """
    base = per_run[per_run["scenario"] == baseline].set_index("seed")
    rows = []
    names = order or list(dict.fromkeys(per_run["scenario"]))
    for scenario in names:
        if scenario == baseline:
            continue
        g = per_run[per_run["scenario"] == scenario].set_index("seed")
        seeds = g.index.intersection(base.index).sort_values()
        extra = (g.loc[seeds, "fiscal_cost"] - base.loc[seeds, "fiscal_cost"]).to_numpy(float)
        row: dict[str, object] = {"scenario": scenario, "replicates": len(seeds)}
        for name, values in (("extra_cost", extra),):
            row[name], row[f"{name}_low"], row[f"{name}_high"] = mean_interval(values)
        for unit, column in (("returns", "returns"), ("years", "household_years_below")):
            if column not in per_run:  # headline tables have no household-years below
                continue
            avoided = (base.loc[seeds, column] - g.loc[seeds, column]).to_numpy(float)
            key = "avoided_returns" if unit == "returns" else "avoided_years"
            row[key], row[f"{key}_low"], row[f"{key}_high"] = mean_interval(avoided)
            per = "per_return" if unit == "returns" else "per_year"
            fieller = fieller_ratio(extra, avoided)
            boot = bootstrap_ratio(extra, avoided, seed)
            row[per] = fieller.estimate
            row[f"{per}_low"], row[f"{per}_high"] = fieller.low, fieller.high
            row[f"{per}_boot_low"], row[f"{per}_boot_high"] = boot.low, boot.high
            row[f"{per}_status"] = _verdict(float(np.mean(extra)), float(np.mean(avoided)),
                                            fieller)
            if row[f"{per}_status"] in ("cost-saving", "avoids none"):
                row[per] = math.nan if row[f"{per}_status"] == "avoids none" else row[per]
        rows.append(row)
    return pd.DataFrame(rows)
