"""Figures from saved results: pure functions from DataFrames to matplotlib Figures.

Every figure states the number of replicates and what its bands are (95% t-intervals of the
mean over replicates on common random numbers).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never a window

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from simulation.common.stats import mean_interval
from simulation.model.codes import CAUSES

CAUSE_COLOURS = dict(zip(CAUSES, (plt.get_cmap("tab10")(k) for k in range(10)), strict=False))


def save_png(fig: Figure, path: Path, dpi: int) -> None:
    """Write `fig` as a PNG file atomically (a killed run leaves no half-written figure) and
    close it (pyplot keeps every open figure otherwise)."""
    import io

    from simulation.common.output import atomic_write_bytes

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def _band(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    rows = []
    for (scenario, year), g in runs.groupby(["scenario", "year"], sort=False):
        mean, low, high = mean_interval(g[metric].to_numpy())
        rows.append((scenario, year, mean, low, high))
    return pd.DataFrame(rows, columns=["scenario", "year", "mean", "low", "high"])


def _replicates(runs: pd.DataFrame) -> int:
    return int(runs.groupby("scenario")["replicate"].nunique().min())


def _n_text(n: int) -> str:
    return f"n = {n} replicate{'s' if n != 1 else ''}"


def _year_axis(ax: Axes, years: pd.Series | pd.Index) -> None:
    """Whole years on the x axis. A single year gets its own tick and a two-year span: alone,
    matplotlib spreads one point over two centuries or labels fractions of a year."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    years = np.unique(np.asarray(years, dtype=float))
    if years.size == 1:
        ax.set_xticks(years)
        ax.set_xlim(years[0] - 1, years[0] + 1)


def returns_by_scenario(runs: pd.DataFrame) -> Figure:
    """Formerly poor households returning to poverty per year, by scenario, with 95% bands."""
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    band = _band(runs, "returned_households")
    for scenario, g in band.groupby("scenario", sort=False):
        line, = ax.plot(g["year"], g["mean"], marker="o", ms=3, label=scenario)
        ax.fill_between(g["year"], g["low"], g["high"], color=line.get_color(), alpha=0.2)
    ax.set_xlabel("year")
    _year_axis(ax, band["year"])
    ax.set_ylabel("households returning to poverty (county, per year)")
    ax.set_title(f"Returns to poverty by scenario — mean and 95% interval, "
                 f"{_n_text(_replicates(runs))}")
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
                 f"mean of {_n_text(_replicates(runs))}")
    ax.legend(fontsize=7, ncol=3, loc="lower right")
    return fig


def monitoring_flows(runs: pd.DataFrame) -> Figure:
    """Monitored stock at year end with yearly inflow (identification) and outflow (risk
    elimination), one panel per scenario."""
    scenarios = list(dict.fromkeys(runs["scenario"]))
    cols = min(3, len(scenarios))
    rows = -(-len(scenarios) // cols)
    # at least 6.5 in wide: the title of a single panel (one scenario) would be cut off
    fig, axes = plt.subplots(rows, cols, figsize=(max(6.5, 4.2 * cols), 3.2 * rows),
                             squeeze=False, sharey=True, layout="constrained")
    for ax, scenario in zip(axes.flat, scenarios, strict=False):
        sub = runs[runs["scenario"] == scenario]
        for metric, style, label in (("monitored_stock", "-", "monitored stock"),
                                     ("monitoring_inflow", "--", "inflow (identified)"),
                                     ("risk_eliminated", ":", "outflow (risk eliminated)")):
            b = _band(sub, metric)
            # a marker for a single year: a line through one point draws nothing
            line, = ax.plot(b["year"], b["mean"], style, ms=3, label=label,
                            marker="o" if len(b) == 1 else None)
            ax.fill_between(b["year"], b["low"], b["high"], color=line.get_color(), alpha=0.15)
        ax.set_title(scenario, fontsize=10)
        _year_axis(ax, sub["year"])
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(scenarios):]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel("households (county)")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"Dynamic monitoring — mean and 95% interval, {_n_text(_replicates(runs))}")
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


# ============================================================================= comparison report
# Figures of `python run.py report` (analysis/report.py). Each takes the tidy table the report
# computes (analysis/paired.py, causes.py, shapley.py, spells.py, equity.py, costs.py) and
# states in its title the number of replicates and what the intervals are.

SCENARIO_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
                    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
BASELINE_COLOUR = "#333333"
MECHANISM_COLOURS = {"responsibility": "#1f77b4", "social_security": "#2ca02c",
                     "industry": "#ff7f0e", "motivation": "#9467bd",
                     "interaction": "#7f7f7f", "total": "#222222"}


def scenario_colours(names: list[str], baseline: str | None = None) -> dict[str, str]:
    """A fixed colour per scenario for every figure of one report (baseline dark grey)."""
    colours, k = {}, 0
    for name in names:
        if name == baseline:
            colours[name] = BASELINE_COLOUR
        else:
            colours[name] = SCENARIO_PALETTE[k % len(SCENARIO_PALETTE)]
            k += 1
    return colours


def _colours(frame: pd.DataFrame, colours: dict[str, str] | None) -> dict[str, str]:
    return colours or scenario_colours(list(dict.fromkeys(frame["scenario"])))


def _n(frame: pd.DataFrame) -> str:
    return _n_text(int(frame["replicates"].min()) if "replicates" in frame and len(frame) else 0)


def _label(text: str) -> str:
    return text.replace("_", " ")


_CJK = re.compile(r"\s*\([^)]*[\u3400-\u9fff][^)]*\)|[\u3400-\u9fff]+")


def _plain(text: str) -> str:
    """A label without Chinese characters (matplotlib's default font has none); the report's
    tables keep them."""
    return _CJK.sub("", text).strip()


def _grid(count: int, cols: int = 3, width: float = 3.6, height: float = 2.9,
          **kwargs: Any) -> tuple[Figure, np.ndarray]:
    cols = max(1, min(cols, count))
    rows = max(1, -(-count // cols))  # no panel to draw still makes a (blank) figure
    # at least 7.5 in wide: one or two panels would cut the figure's title off
    fig, axes = plt.subplots(rows, cols, figsize=(max(7.5, width * cols + 0.6),
                                                  height * rows + 0.9),
                             squeeze=False, layout="constrained", **kwargs)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, axes


def paired_difference_by_year(diffs: pd.DataFrame, ylabel: str, title: str,
                              colours: dict[str, str] | None = None) -> Figure:
    """Scenario minus baseline per year (paired on seeds) with 95% t-interval bands.

    Args:
        diffs: scenario, year, mean, low, high, replicates (analysis.paired, by=["year"]).
        ylabel: axis label with unit.
        title: what is compared (the replicate count and interval are appended).
        colours: scenario -> colour.
    """
    colours = _colours(diffs, colours)
    fig, ax = plt.subplots(figsize=(7.5, 4.4), layout="constrained")
    ax.axhline(0.0, color="black", lw=0.8)
    for scenario, g in diffs.groupby("scenario", sort=False):
        c = colours.get(scenario)
        ax.plot(g["year"], g["mean"], marker="o", ms=3.5, color=c, label=_label(scenario))
        ax.fill_between(g["year"], g["low"], g["high"], color=c, alpha=0.15, lw=0)
    ax.set_xlabel("year")
    ax.set_ylabel(ylabel)
    _year_axis(ax, diffs["year"])
    ax.set_title(f"{title}\nmean of paired differences and 95% interval, {_n(diffs)}",
                 fontsize=10)
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    return fig


def _stacked_years(ax, wide: pd.DataFrame, keys, colours, title: str) -> None:  # type: ignore[no-untyped-def]
    """Stacked yearly bars of `wide` (years x keys) on one panel. Each layer is one collection
    of rectangles, as `ax.bar` would draw them but without an artist per bar (the report's
    stacked panels hold ~800 bars: drawing them one by one took most of its figure time)."""
    x = np.asarray(wide.index, dtype=float)
    bottom = np.zeros(len(wide))
    left, right = x - 0.4, x + 0.4  # bars 0.8 wide, centred on the year
    for key in keys:
        values = wide[key].to_numpy(dtype=float) if key in wide else np.zeros(len(wide))
        top = bottom + values
        boxes = np.stack([np.column_stack(corner) for corner in
                          ((left, bottom), (left, top), (right, top), (right, bottom))], axis=1)
        layer = PolyCollection(list(boxes), facecolors=colours[key], edgecolors="none",
                               linewidths=0.0, label=_label(key))
        layer.sticky_edges.y.append(0.0)  # as bars: the axis starts at zero, no margin below
        ax.add_collection(layer)  # (its boxes extend the data limits)
        bottom = top
    ax.autoscale_view()
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    _year_axis(ax, wide.index)
    ax.tick_params(labelsize=8)


def falls_by_cause_panels(yearly: pd.DataFrame, what: str) -> Figure:
    """County households falling below the line per year by cause, one panel per scenario
    (stacked bars of means over replicates).

    Args:
        yearly: scenario, year, cause, mean, replicates (one group of analysis.causes).
        what: e.g. "returns to poverty (formerly poor)".
    """
    scenarios = list(dict.fromkeys(yearly["scenario"]))
    fig, axes = _grid(len(scenarios), sharey=True)
    present = [c for c in CAUSES if yearly.loc[yearly["cause"] == c, "mean"].sum() > 0]
    for ax, scenario in zip(axes.flat, scenarios, strict=False):
        sub = yearly[yearly["scenario"] == scenario]
        wide = sub.pivot_table(index="year", columns="cause", values="mean", sort=True)
        _stacked_years(ax, wide, present, CAUSE_COLOURS, _label(scenario))
    for ax in axes[:, 0]:
        ax.set_ylabel("households/yr (county)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if labels:  # no falls at all (a tiny run): no bars, and a legend of none cannot be laid out
        fig.legend(handles, labels, loc="outside lower center", ncol=min(5, len(labels)),
                   fontsize=8)
    fig.suptitle(f"{what.capitalize()} by cause and year — mean over replicates, "
                 f"{_n(yearly)}", fontsize=11)
    return fig


def cause_differences(diffs: pd.DataFrame, what: str,
                      colours: dict[str, str] | None = None) -> Figure:
    """Change against the baseline over the horizon by cause, per scenario (paired means and
    95% intervals). `diffs`: scenario, metric (a cause), mean, low, high, replicates."""
    colours = _colours(diffs, colours)
    # causes with any change or any spread; bounds are NaN where one pair gives no interval
    causes = [c for c in CAUSES if c in set(diffs["metric"])
              and np.nansum(np.abs(diffs.loc[diffs["metric"] == c, ["mean", "low", "high"]]
                                   .to_numpy(dtype=float))) > 0]
    scenarios = list(dict.fromkeys(diffs["scenario"]))
    fig, ax = plt.subplots(figsize=(7.5, 1.3 + 0.13 * max(1, len(causes)) * max(2, len(scenarios))),
                           layout="constrained")
    height = 0.8 / max(1, len(scenarios))
    for k, scenario in enumerate(scenarios):
        sub = diffs[diffs["scenario"] == scenario].set_index("metric")
        y = np.arange(len(causes)) + k * height
        mean = sub["mean"].reindex(causes).to_numpy()
        err = np.vstack([mean - sub["low"].reindex(causes).to_numpy(),
                         sub["high"].reindex(causes).to_numpy() - mean])
        ax.barh(y, mean, height=height, color=colours.get(scenario), label=_label(scenario),
                xerr=err, error_kw={"lw": 0.7, "capsize": 1.5})
    for k in range(1, len(causes)):
        ax.axhline(k - height / 2 - 0.1, color="#dddddd", lw=0.6)
    ax.set_yticks(np.arange(len(causes)) + 0.4 - height / 2, [_label(c) for c in causes])
    ax.invert_yaxis()
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_xlabel("change against the baseline over the horizon (households, county)")
    ax.set_title(f"{what.capitalize()} by cause: scenario − baseline\npaired mean and 95% "
                 f"interval, {_n(diffs)}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def shapley_contributions(table: pd.DataFrame, outcome_label: str, pair: str) -> Figure:
    """Shapley contribution of each mechanism to the difference of a pair, with the effect
    of changing that mechanism alone, the interaction and the total.

    Args:
        table: one outcome of analysis.shapley.decompose (component, shapley, low, high,
            alone, alone_low, alone_high, replicates).
        outcome_label: what the outcome is, with unit.
        pair: "other − base".
    """
    comps = [c for c in table["component"] if c not in ("interaction", "total")]
    comps += ["total"]
    t = table.set_index("component").loc[comps]
    y = np.arange(len(comps))
    fig, ax = plt.subplots(figsize=(7.5, 1.4 + 0.55 * len(comps)), layout="constrained")
    colours = [MECHANISM_COLOURS.get(c, "#555555") for c in comps]
    err = np.vstack([t["shapley"] - t["low"], t["high"] - t["shapley"]])
    ax.barh(y, t["shapley"], color=colours, height=0.55, xerr=err,
            error_kw={"lw": 0.9, "capsize": 3}, label="Shapley contribution")
    alone = t["alone"].to_numpy()
    ok = ~np.isnan(alone)
    ax.errorbar(alone[ok], y[ok] + 0.36, xerr=np.vstack([(t["alone"] - t["alone_low"])[ok],
                                                         (t["alone_high"] - t["alone"])[ok]]),
                fmt="D", ms=5, color="black", mfc="white", lw=0.8, capsize=2,
                label="changed alone (one at a time)")
    ax.set_yticks(y, [_label(c) for c in comps])
    ax.invert_yaxis()
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_xlabel(outcome_label)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="#999999", label="Shapley contribution (bar) with 95% interval"),
               Line2D([], [], marker="D", color="black", mfc="white", ls="none",
                      label="changed alone (one at a time)")]
    ax.set_title(f"Decomposition of {pair} by mechanism (Shapley, {2 ** (len(comps) - 1)} "
                 f"paired combinations)\nmean over seeds and 95% interval, {_n(table)}; "
                 "contributions sum to the total", fontsize=10)
    ax.legend(handles=handles, fontsize=8, loc="best")
    ax.grid(axis="x", alpha=0.3)
    return fig


def shapley_by_cause(table: pd.DataFrame, pair: str) -> Figure:
    """Heat map: Shapley contribution of each mechanism (rows) to the change in returns by
    cause (columns). `table`: decompose rows for outcomes returns_<cause>."""
    t = table[~table["component"].isin(["interaction"])].copy()
    t["cause"] = t["outcome"].str.removeprefix("returns_")
    causes = [c for c in CAUSES if c in set(t["cause"])
              and t.loc[(t["cause"] == c) & (t["component"] == "total"), "shapley"].abs().sum()
              + t.loc[t["cause"] == c, "shapley"].abs().sum() > 0]
    comps = [c for c in dict.fromkeys(t["component"]) if c != "total"] + ["total"]
    grid = t.pivot_table(index="component", columns="cause", values="shapley", sort=False) \
        .reindex(index=comps, columns=causes)
    # at least 5.5 in wide: with one or two causes the two-line title would be cut off
    fig, ax = plt.subplots(figsize=(max(5.5, 1.6 + 0.85 * len(causes)), 1.4 + 0.5 * len(comps)),
                           layout="constrained")
    limit = float(np.nanmax(np.abs(grid.to_numpy()))) if grid.size else 1.0
    image = ax.imshow(grid.to_numpy(), cmap="RdBu_r", vmin=-limit or -1, vmax=limit or 1,
                      aspect="auto")
    for (i, j), value in np.ndenumerate(grid.to_numpy()):
        if value == value:
            ax.text(j, i, f"{value:+,.0f}", ha="center", va="center", fontsize=7.5,
                    color="white" if abs(value) > 0.6 * limit else "black")
    ax.set_xticks(range(len(causes)), [_label(c) for c in causes], rotation=35, ha="right",
                  fontsize=8)
    ax.set_yticks(range(len(comps)), [_label(c) for c in comps], fontsize=8)
    ax.axhline(len(comps) - 1.5, color="black", lw=1.0)
    fig.colorbar(image, ax=ax, label="change in returns (households, county)", shrink=0.8)
    ax.set_title(f"Change in returns ({pair}) by cause and mechanism (Shapley)\n"
                 f"mean over seeds, {_n(table)}", fontsize=10)
    return fig


def km_cumulative_returns(bands: pd.DataFrame, cohort_labels: dict[str, str],
                          colours: dict[str, str] | None = None) -> Figure:
    """Kaplan-Meier share of each exit cohort that has returned (1 - S(t)) against years since
    exit, per scenario, with 95% intervals over replicates (one panel per cohort).

    Args:
        bands: cohort, scenario, month, mean, low, high, replicates of the survival S(t)
            (analysis.spells.km_bands).
        cohort_labels: cohort -> title.
        colours: scenario -> colour.
    """
    colours = _colours(bands, colours)
    cohorts = [c for c in cohort_labels if c in set(bands["cohort"])]
    fig, axes = _grid(len(cohorts), cols=len(cohorts), width=3.8, height=3.4)
    full = int(bands["replicates"].max()) if len(bands) else 0
    for ax, cohort in zip(axes.flat, cohorts, strict=False):
        # a month is drawn only where every replicate's curve is defined there: a mean over a
        # changing subset of replicates is not a survival curve
        sub = bands[(bands["cohort"] == cohort) & (bands["replicates"] == full)]
        for scenario, g in sub.groupby("scenario", sort=False):
            c = colours.get(scenario)
            years = g["month"].to_numpy() / 12.0
            ax.step(years, 100 * (1 - g["mean"]), where="post", color=c, lw=1.4,
                    label=_label(scenario))
            ax.fill_between(years, 100 * (1 - g["high"]), 100 * (1 - g["low"]), step="post",
                            color=c, alpha=0.08, lw=0)
        ax.set_title(cohort_labels[cohort], fontsize=9.5)
        ax.set_xlabel("years since exit")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("returned to poverty (%, Kaplan–Meier 1 − S(t))")
    axes[0, 0].legend(fontsize=7.5)
    fig.suptitle(f"Time to return after exit — county-weighted Kaplan–Meier, censored at the "
                 f"horizon;\nmean and 95% interval over replicates, {_n_text(full)}",
                 fontsize=10)
    return fig


MIN_EXPOSURE = 50.0
"""Simulated household-years at risk per replicate below which a hazard is not drawn."""


def reentry_hazard(hazard: pd.DataFrame, cohort_labels: dict[str, str],
                   colours: dict[str, str] | None = None,
                   min_exposure: float = MIN_EXPOSURE) -> Figure:
    """Returns per 100 household-years at risk by years since exit, per cohort and scenario.

    Args:
        hazard: cohort, scenario, year_since_exit, mean, low, high, replicates (per
            household-year) and optionally exposure_sample (mean simulated household-years
            at risk per replicate): years with less than `min_exposure` are not drawn.
    """
    colours = _colours(hazard, colours)
    full = int(hazard["replicates"].max()) if len(hazard) else 0
    shown = (hazard["replicates"] == full) & hazard["mean"].notna()
    if "exposure_sample" in hazard:
        shown &= hazard["exposure_sample"] >= min_exposure
    # a panel per cohort with something to draw (small runs leave some cohorts without)
    cohorts = [c for c in cohort_labels if c in set(hazard.loc[shown, "cohort"])]
    fig, axes = _grid(len(cohorts), cols=len(cohorts), width=3.8, height=3.4)
    scenarios = list(dict.fromkeys(hazard["scenario"]))
    offset = 0.6 / max(1, len(scenarios))
    for ax, cohort in zip(axes.flat, cohorts, strict=False):
        sub = hazard[(hazard["cohort"] == cohort) & shown].dropna(subset=["mean"])
        for k, scenario in enumerate(scenarios):
            g = sub[sub["scenario"] == scenario]
            x = g["year_since_exit"].to_numpy() + 0.5 - 0.3 + k * offset
            m = 100 * g["mean"].to_numpy()
            err = np.vstack([m - 100 * np.maximum(g["low"].to_numpy(), 0.0),
                             100 * g["high"].to_numpy() - m])
            ax.errorbar(x, m, yerr=err, fmt="o-", ms=3, lw=0.9, elinewidth=0.7, capsize=0,
                        color=colours.get(scenario), label=_label(scenario))
        ax.set_title(cohort_labels[cohort], fontsize=9.5)
        ax.set_xlabel("years since exit")
        # whole years since exit; each year's points sit inside [k, k + 1)
        ax.set_xlim(0, int(sub["year_since_exit"].max()) + 1 if len(sub) else 1)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("returns per 100 household-years at risk")
    axes[0, 0].legend(fontsize=7.5)
    fig.suptitle(f"Re-entry hazard by time since exit — county-weighted; mean and 95% "
                 f"interval over replicates, {_n_text(full)}\n(years with at least "
                 f"{min_exposure:g} simulated household-years at risk per replicate)",
                 fontsize=10)
    return fig


def who_returns(table: pd.DataFrame, group_labels: dict[str, str], xlabel: str, title: str,
                colours: dict[str, str] | None = None) -> Figure:
    """Share of households that fell at least once, by household type (rows) and scenario
    (dots with 95% intervals). `table`: group, scenario, mean, low, high, replicates."""
    colours = _colours(table, colours)
    groups = [g for g in group_labels if g in set(table["group"])]
    scenarios = list(dict.fromkeys(table["scenario"]))
    fig, ax = plt.subplots(figsize=(7.5, 1.4 + 0.1 * len(groups) * max(2, len(scenarios))),
                           layout="constrained")
    step = 0.7 / max(1, len(scenarios))
    for k, scenario in enumerate(scenarios):
        sub = table[table["scenario"] == scenario].set_index("group").reindex(groups)
        y = np.arange(len(groups)) - 0.35 + (k + 0.5) * step
        m = 100 * sub["mean"].to_numpy()
        err = np.vstack([m - 100 * sub["low"].clip(lower=0).to_numpy(),
                         100 * sub["high"].to_numpy() - m])
        ax.errorbar(m, y, xerr=err, fmt="o", ms=4, lw=0.9, capsize=2,
                    color=colours.get(scenario), label=_label(scenario))
    # short labels: the definitions are in the report's methods section
    ax.set_yticks(range(len(groups)), [re.sub(r"\s*\(.*\)", "", _plain(group_labels[g]))
                                       for g in groups], fontsize=8)
    for k in range(1, len(groups)):
        ax.axhline(k - 0.5, color="#dddddd", lw=0.6)
    ax.invert_yaxis()
    ax.set_xlim(left=0)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"{title}\nmean and 95% interval over replicates, {_n(table)}", fontsize=10)
    ax.legend(fontsize=7.5, loc="lower right")
    return fig


def village_distribution(villages: pd.DataFrame, replicates: int,
                         colours: dict[str, str] | None = None,
                         min_households: int = 10) -> Figure:
    """Distribution over villages of the share of formerly poor households that returned, per
    scenario, key villages (first secretary) and others side by side (villages of all
    replicates pooled; villages with fewer than `min_households` formerly poor sample
    households are left out)."""
    colours = _colours(villages, colours)
    v = villages[villages["formerly_poor"] >= min_households]
    scenarios = list(dict.fromkeys(v["scenario"]))
    fig, ax = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
    positions, data, faces, hatches = [], [], [], []
    for k, scenario in enumerate(scenarios):
        for j, key in enumerate((True, False)):
            values = 100 * v.loc[(v["scenario"] == scenario) & (v["key_village"] == key),
                                 "returned_share"].to_numpy()
            positions.append(3 * k + j)
            data.append(values if values.size else np.array([np.nan]))
            faces.append(colours.get(scenario))
            hatches.append("" if key else "//")
    parts = ax.boxplot(data, positions=positions, widths=0.8, patch_artist=True,
                       showfliers=True, flierprops={"ms": 2, "alpha": 0.5},
                       medianprops={"color": "black"})
    for patch, face, hatch in zip(parts["boxes"], faces, hatches, strict=True):
        patch.set_facecolor(face)
        patch.set_alpha(0.55)
        patch.set_hatch(hatch)
    ax.set_xticks([3 * k + 0.5 for k in range(len(scenarios))],
                  [_label(s) for s in scenarios], fontsize=8, rotation=15)
    ax.set_ylabel("formerly poor households returned\nat least once over the horizon (%)")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(facecolor="white", edgecolor="black", label="key villages"),
                       Patch(facecolor="white", edgecolor="black", hatch="//",
                             label="other villages")], fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(f"Returns by village — distribution over villages of all replicates "
                 f"({_n_text(replicates)},\n{len(v) // max(1, len(scenarios))} villages "
                 f"per scenario with ≥ {min_households} formerly poor sample households)",
                 fontsize=10)
    return fig


def cost_by_mechanism(costs: pd.DataFrame) -> Figure:
    """Fiscal cost per year by mechanism, one panel per scenario (stacked means, million
    yuan). `costs`: scenario, year, mechanism, mean, replicates (analysis.costs)."""
    scenarios = list(dict.fromkeys(costs["scenario"]))
    fig, axes = _grid(len(scenarios), sharey=True)
    mechanisms = list(dict.fromkeys(costs["mechanism"]))
    for ax, scenario in zip(axes.flat, scenarios, strict=False):
        wide = costs[costs["scenario"] == scenario].pivot_table(
            index="year", columns="mechanism", values="mean", sort=True)
        _stacked_years(ax, wide / 1e6, mechanisms, MECHANISM_COLOURS, _label(scenario))
    for ax in axes[:, 0]:
        ax.set_ylabel("million yuan/yr (nominal)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=8)
    fig.suptitle(f"Fiscal cost by mechanism and year — mean over replicates, {_n(costs)}",
                 fontsize=11)
    return fig


def _iso_levels(ratios: np.ndarray, most: int = 4) -> list[float]:
    """Round cost-per-return levels (1-2-5 series) spanning the scenarios' ratios."""
    if ratios.size == 0:
        return []
    low, high = float(ratios.min()) / 1.5, float(ratios.max()) * 1.5
    series = [m * 10.0 ** k for k in range(0, 10) for m in (1, 2, 5)]
    levels = [v for v in series if low <= v <= high] or [min(series, key=lambda v: abs(
        np.log(v) - np.log(float(np.median(ratios)))))]
    while len(levels) > most:
        levels = levels[::2]
    return levels


def _error_bar(mean: float, low: float, high: float) -> list[list[float]] | None:
    """matplotlib's asymmetric error of one point; None (no bar) without an interval."""
    if low != low or high != high:
        return None
    return [[mean - low], [high - mean]]


def cost_effectiveness_plane(ce: pd.DataFrame, colours: dict[str, str] | None = None) -> Figure:
    """Cost-effectiveness plane: returns avoided (x) against extra fiscal cost (y) over the
    horizon, each scenario against the baseline with paired 95% intervals on both axes, and
    dashed lines of equal cost per avoided return."""
    colours = _colours(ce, colours)
    fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
    x = ce["avoided_returns"].to_numpy(dtype=float)
    y = ce["extra_cost"].to_numpy(dtype=float) / 1e6
    # the limits take in the points too: with one pair the bounds are NaN (no interval)
    xs_all = np.r_[x, ce["avoided_returns_low"], ce["avoided_returns_high"]].astype(float)
    ys_all = np.r_[y, ce["extra_cost_low"] / 1e6, ce["extra_cost_high"] / 1e6].astype(float)
    xmax = max(1.0, float(np.nanmax(xs_all)) * 1.15)
    xmin = min(0.0, float(np.nanmin(xs_all)) * 1.15)
    ymax = max(1.0, float(np.nanmax(ys_all)) * 1.15)
    ymin = min(0.0, float(np.nanmin(ys_all)) * 1.15)
    finite = ce["per_return"].replace([np.inf, -np.inf], np.nan).dropna()
    finite = finite[finite > 0]
    for level in _iso_levels(finite.to_numpy()):
        xs = np.linspace(0, xmax, 50)
        ax.plot(xs, xs * level / 1e6, ls="--", lw=0.7, color="#999999", zorder=0)
        # label where the line leaves the plot (right edge or top edge)
        xt = min(xmax, ymax * 1e6 / level)
        ax.annotate(f"{level:,.0f} yuan/return", (xt, xt * level / 1e6),
                    xytext=(-3, -3), textcoords="offset points", fontsize=7,
                    color="#666666", ha="right", va="top")
    for k, row in ce.reset_index(drop=True).iterrows():
        c = colours.get(row["scenario"])
        ax.errorbar(x[k], y[k],
                    xerr=_error_bar(x[k], row["avoided_returns_low"],
                                    row["avoided_returns_high"]),
                    yerr=_error_bar(y[k], row["extra_cost_low"] / 1e6,
                                    row["extra_cost_high"] / 1e6),
                    fmt="o", ms=6, color=c, capsize=3, lw=1.0, label=_label(row["scenario"]))
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_xlabel("returns to poverty avoided over the horizon (households, county)")
    ax.set_ylabel("extra fiscal cost over the horizon\n(million yuan, nominal)")
    ax.set_title(f"Cost-effectiveness plane against the baseline\npaired means and 95% "
                 f"intervals, {_n(ce)}", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return fig
