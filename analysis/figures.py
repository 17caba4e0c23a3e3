"""Figures from saved results: pure functions from DataFrames to matplotlib Figures.

Every figure states the number of replicates and what its bands are (95% t-intervals of the
mean over replicates on common random numbers).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simulation.rules import CAUSES  # noqa: E402
from simulation.stats import mean_interval  # noqa: E402

CAUSE_COLOURS = dict(zip(CAUSES, plt.get_cmap("tab10").colors, strict=False))


def _band(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    rows = []
    for (scenario, year), g in runs.groupby(["scenario", "year"], sort=False):
        mean, low, high = mean_interval(g[metric].to_numpy())
        rows.append((scenario, year, mean, low, high))
    return pd.DataFrame(rows, columns=["scenario", "year", "mean", "low", "high"])


def _replicates(runs: pd.DataFrame) -> int:
    return int(runs.groupby("scenario")["replicate"].nunique().min())


def returns_by_scenario(runs: pd.DataFrame) -> Figure:
    """Formerly poor households returning to poverty per year, by scenario, with 95% bands."""
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    band = _band(runs, "returned_households")
    for scenario, g in band.groupby("scenario", sort=False):
        line, = ax.plot(g["year"], g["mean"], marker="o", ms=3, label=scenario)
        ax.fill_between(g["year"], g["low"], g["high"], color=line.get_color(), alpha=0.2)
    ax.set_xlabel("year")
    ax.set_ylabel("households returning to poverty (county, per year)")
    ax.set_title(f"Returns to poverty by scenario — mean and 95% interval, "
                 f"{_replicates(runs)} replicates")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    return fig


def causes_of_returns(runs: pd.DataFrame) -> Figure:
    """Falls below the line over the horizon by cause, per scenario (mean over replicates)."""
    cols = [f"cause_{c}" for c in CAUSES]
    totals = runs.groupby(["scenario", "replicate"], sort=False)[cols].sum()
    mean = totals.groupby("scenario", sort=False).mean()
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    left = np.zeros(len(mean))
    for cause in CAUSES:
        values = mean[f"cause_{cause}"].to_numpy()
        ax.barh(mean.index, values, left=left, label=cause.replace("_", " "),
                color=CAUSE_COLOURS[cause])
        left += values
    ax.invert_yaxis()
    ax.set_xlabel("households falling below the line over the horizon (county)")
    years = runs["year"].min(), runs["year"].max()
    ax.set_title(f"Causes of falls (returns and new poverty), {years[0]}–{years[1]} — "
                 f"mean of {_replicates(runs)} replicates")
    ax.legend(fontsize=7, ncol=3, loc="lower right")
    return fig


def monitoring_flows(runs: pd.DataFrame) -> Figure:
    """Monitored stock at year end with yearly inflow (identification) and outflow (risk
    elimination), one panel per scenario."""
    scenarios = list(dict.fromkeys(runs["scenario"]))
    cols = min(3, len(scenarios))
    rows = -(-len(scenarios) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False,
                             sharey=True, layout="constrained")
    for ax, scenario in zip(axes.flat, scenarios, strict=False):
        sub = runs[runs["scenario"] == scenario]
        for metric, style, label in (("monitored_stock", "-", "monitored stock"),
                                     ("monitoring_inflow", "--", "inflow (identified)"),
                                     ("risk_eliminated", ":", "outflow (risk eliminated)")):
            b = _band(sub, metric)
            line, = ax.plot(b["year"], b["mean"], style, label=label)
            ax.fill_between(b["year"], b["low"], b["high"], color=line.get_color(), alpha=0.15)
        ax.set_title(scenario, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(scenarios):]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel("households (county)")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"Dynamic monitoring — mean and 95% interval, {_replicates(runs)} replicates")
    return fig


def save_standard_figures(runs: pd.DataFrame, folder: Path, baseline: str | None = None) -> None:
    """The three figures every simulate/compare writes."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in (("returns_by_scenario", returns_by_scenario),
                       ("causes_of_returns", causes_of_returns),
                       ("monitoring_flows", monitoring_flows)):
        fig = make(runs)
        fig.savefig(folder / f"{name}.png", dpi=110)
        plt.close(fig)
