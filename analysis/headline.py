"""The headline numbers of a comparison, defined once: the console table after `simulate` /
`compare`, headline.csv and the report's tables all come from here.

Per scenario, over the evaluation window (from the policy date's year to the horizon; county
totals, nominal yuan): returns to poverty and new poverty on the income test and on the
hardship test, and fiscal cost, each as the mean over replicates with its 95% t-interval
(analysis.paired);
against the baseline, paired on seeds: the change in returns and in cost, and the cost per
avoided return with Fieller's interval (analysis.costs). One replicate gives no interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from analysis.costs import cost_effectiveness
from analysis.outcomes import HORIZON_SUMS, in_window
from analysis.paired import describe, paired_differences
from simulation.common.stats import LEVEL, mean_interval
from simulation.model.calendar import START_YEAR
from simulation.model.metrics import METRICS

TOTALS = {HORIZON_SUMS[name]: name for name in ("returns", "new_poverty", "returns_hardship",
                                               "new_poverty_hardship", "fiscal_cost")}
"""Yearly metric -> headline outcome (analysis.outcomes.HORIZON_SUMS)."""


def horizon_totals(runs: pd.DataFrame, start_year: int = START_YEAR) -> pd.DataFrame:
    """Per run (scenario, replicate, seed): the TOTALS summed from `start_year` (the
    evaluation window) to the horizon."""
    return (in_window(runs, start_year).groupby(["scenario", "replicate", "seed"], sort=False)
            [list(TOTALS)].sum().reset_index().rename(columns=TOTALS))


def headline(runs: pd.DataFrame, baseline: str | None, seed: int,
             order: Sequence[str] | None = None, start_year: int = START_YEAR) -> pd.DataFrame:
    """One row per scenario, over the evaluation window from `start_year`: returns,
    new_poverty, their _hardship pair and fiscal_cost (mean, _low, _high, replicates); against
    the baseline: change_returns, extra_cost (mean, _low, _high) and per_return (Fieller
    estimate, _low, _high, _status) as in analysis.costs."""
    per_run = horizon_totals(runs, start_year)
    names = list(order or dict.fromkeys(per_run["scenario"]))
    desc = describe(per_run, list(TOTALS.values()), order=names)
    table = pd.DataFrame({"scenario": names})
    for outcome in TOTALS.values():
        sub = desc[desc["metric"] == outcome].set_index("scenario")
        for col, src in ((outcome, "mean"), (f"{outcome}_low", "low"),
                         (f"{outcome}_high", "high")):
            table[col] = table["scenario"].map(sub[src])
    table["replicates"] = table["scenario"].map(
        desc[desc["metric"] == "returns"].set_index("scenario")["replicates"])
    if baseline is None or len(names) < 2:
        return table
    diffs = paired_differences(per_run, baseline, ["returns", "returns_hardship"],
                               order=names)
    for outcome in ("returns", "returns_hardship"):
        sub = diffs[diffs["metric"] == outcome].set_index("scenario")
        for col, src in ((f"change_{outcome}", "mean"), (f"change_{outcome}_low", "low"),
                         (f"change_{outcome}_high", "high")):
            table[col] = table["scenario"].map(sub[src])
    ce = cost_effectiveness(per_run, baseline, seed, order=names).set_index("scenario")
    for col in ("extra_cost", "extra_cost_low", "extra_cost_high", "per_return",
                "per_return_low", "per_return_high", "per_return_status"):
        table[col] = table["scenario"].map(ce[col]) if col in ce else None
    return table


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% interval over replicates, per scenario, year and metric (summary.csv)."""
    metrics = [m for m in METRICS if m != "year" and m in runs.columns]
    long = runs.melt(id_vars=["scenario", "replicate", "year"], value_vars=metrics,
                     var_name="metric")
    columns = ["scenario", "year", "metric", "mean", "low", "high", "replicates"]
    groups = long.groupby(["scenario", "year", "metric"], sort=False)
    code = groups.ngroup().to_numpy()
    sizes = np.bincount(code) if code.size else np.zeros(0, dtype=np.int64)
    if sizes.size and (sizes == sizes[0]).all() and sizes[0] > 1:
        # every group has the same replicates (the usual case): all groups at once, with
        # mean_interval's operations on the rows of a (groups x replicates) array, which
        # gives its numbers to the last bit; thousands of calls took most of this table
        n = int(sizes[0])
        order = np.argsort(code, kind="stable")  # each group's rows, in their order
        x = long["value"].to_numpy(dtype=float)[order].reshape(sizes.size, n)
        mean = x.mean(axis=1)
        half = stdtrit(n - 1, 0.5 + LEVEL / 2.0) * x.std(axis=1, ddof=1) / math.sqrt(n)
        first = long.iloc[order[::n]]
        return pd.DataFrame({"scenario": first["scenario"].to_numpy(),
                             "year": first["year"].to_numpy(),
                             "metric": first["metric"].to_numpy(),
                             "mean": mean, "low": mean - half, "high": mean + half,
                             "replicates": n})[columns]
    rows = []
    for (scenario, year, metric), group in groups:
        mean, low, high = mean_interval(group["value"].to_numpy())
        rows.append((scenario, year, metric, mean, low, high, len(group)))
    return pd.DataFrame(rows, columns=columns)


def write_tables(folder: Path, runs: pd.DataFrame, baseline: str | None, seed: int,
                 figures: bool = True, start_year: int = START_YEAR) -> pd.DataFrame:
    """summary.csv (every year), headline.csv (the evaluation window from `start_year`) and
    the standard figures of a results folder being built; returns the headline table."""
    summarize(runs).to_csv(folder / "summary.csv", index=False)
    table = headline(runs, baseline, seed, start_year=start_year)
    table.to_csv(folder / "headline.csv", index=False)
    if figures:
        from analysis.figures import save_standard_figures

        save_standard_figures(runs, folder / "figures", baseline)
    return table
