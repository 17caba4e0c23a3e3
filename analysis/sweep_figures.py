"""Sweep figures: pure functions from tables to matplotlib Figures (saved by save_figures).

Every figure states the method, runs and replicates behind it and what its error bars are
(bootstrap confidence intervals at the sweep's conf_level).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never a window

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.sweep_indices import RANKING_INDEX, Analysis, top_factors
from simulation.experiments.sweep.spec import SweepSpec

_BAR_INDICES = {"sobol": ("S1", "ST"), "fast": ("S1", "ST"), "rbd_fast": ("S1",),
                "latin": ("S1", "pawn"), "grid": ("S1", "ST")}


def _caption(spec: SweepSpec, runs: int, bars: bool = True) -> str:
    conf = spec.option("conf_level")
    bars_text = f"; bars: {conf:.0%} bootstrap intervals" if bars and spec.method != "grid" \
        else ""
    return (f"{spec.name}: {spec.method}, N = {spec.samples}, {runs:,} runs "
            f"({spec.replicates} replicate(s) per sample{bars_text})")


def _factor_order(indices: pd.DataFrame, index: str) -> list[str]:
    rank = indices[indices["index"] == index].groupby("factor", sort=False)["value"].mean()
    return list(rank.sort_values(ascending=True, na_position="first").index)


def index_bars(spec: SweepSpec, indices: pd.DataFrame, runs: int) -> Figure:
    """Per output, horizontal bars of the method's indices (e.g. S1 and ST) with intervals."""
    kinds = _BAR_INDICES[spec.method]
    outputs = spec.output_names
    order = _factor_order(indices, RANKING_INDEX[spec.method])
    height = max(3.0, 0.32 * len(order) + 1.6)
    width = max(7.5, 3.6 * len(outputs) + 2.5)
    fig, axes = plt.subplots(1, len(outputs), figsize=(width, height), sharey=True,
                             layout="constrained", squeeze=False)
    pos = np.arange(len(order))
    width = 0.8 / len(kinds)
    for ax, output in zip(axes[0], outputs, strict=True):
        sub = indices[indices["output"] == output]
        for k, kind in enumerate(kinds):
            s = sub[sub["index"] == kind].set_index("factor").reindex(order)
            err = s["interval"].to_numpy(np.float64)
            ax.barh(pos + (k - (len(kinds) - 1) / 2) * width, s["value"], height=width,
                    xerr=None if np.isnan(err).all() else err, capsize=2, label=kind)
        ax.axvline(0.0, color="black", lw=0.6)
        ax.set_title(output, fontsize=9)
        ax.set_xlabel("PAWN: KS distance; others: share of variance" if spec.method == "latin"
                      else "share of output variance")
    axes[0][0].set_yticks(pos, order, fontsize=8)
    axes[0][-1].legend(loc="lower right", fontsize=8)
    fig.suptitle(_caption(spec, runs), fontsize=9)
    return fig


def morris_plot(spec: SweepSpec, indices: pd.DataFrame, runs: int) -> Figure:
    """Per output, mu* against sigma (Campolongo et al. 2007): far right = influential,
    high = non-linear or interacting. Horizontal bars: interval of mu*."""
    outputs = spec.output_names
    fig, axes = plt.subplots(1, len(outputs), figsize=(max(7.5, 4.6 * len(outputs)), 4.6),
                             layout="constrained", squeeze=False)
    for ax, output in zip(axes[0], outputs, strict=True):
        sub = indices[indices["output"] == output].pivot_table(
            index="factor", columns="index", values="value", sort=False)
        conf = indices[(indices["output"] == output) & (indices["index"] == "mu_star")] \
            .set_index("factor")["interval"].reindex(sub.index)
        ax.errorbar(sub["mu_star"], sub["sigma"], xerr=conf, fmt="o", ms=4, capsize=2)
        top = sub["mu_star"].sort_values(ascending=False).index[:6]
        for f in top:
            ax.annotate(f.split(".", 1)[-1], (sub.loc[f, "mu_star"], sub.loc[f, "sigma"]),
                        fontsize=7, xytext=(3, 3), textcoords="offset points")
        lim = float(np.nanmax([sub["mu_star"].max(), sub["sigma"].max(), 0.0])) * 1.1 or 1.0
        ax.plot([0, lim], [0, lim], ls="--", lw=0.7, color="grey", label="sigma = mu*")
        ax.set_xlim(0, lim)
        ax.set_ylim(0, lim)
        ax.set_title(output, fontsize=9)
        ax.set_xlabel("mu* (mean |elementary effect|, output units)")
        ax.set_ylabel("sigma (sd of elementary effects)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(_caption(spec, runs), fontsize=9)
    return fig


def s2_heatmap(spec: SweepSpec, output: str, s2: np.ndarray, runs: int) -> Figure:
    """Second-order Sobol' indices of one output (upper triangle)."""
    names = spec.names
    matrix = np.where(np.triu(np.ones_like(s2, dtype=bool), 1), s2, np.nan)
    size = max(4.0, 0.38 * len(names) + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1.0, size), layout="constrained")
    im = ax.imshow(matrix, cmap="viridis")
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    fig.colorbar(im, ax=ax, label="S2 (share of variance)")
    ax.set_title(f"Second-order indices of {output}\n{_caption(spec, runs)}", fontsize=8)
    return fig


def convergence_plot(spec: SweepSpec, convergence: pd.DataFrame, runs: int,
                     top: int = 8) -> Figure:
    """ST at N/4, N/2 and N base samples for the most influential factors of each output."""
    outputs = spec.output_names
    width = max(7.5, 4.4 * len(outputs) + 1.5)
    fig, axes = plt.subplots(1, len(outputs), figsize=(width, 4.0), layout="constrained",
                             squeeze=False)
    for ax, output in zip(axes[0], outputs, strict=True):
        sub = convergence[(convergence["output"] == output) & (convergence["index"] == "ST")]
        if sub.empty:
            ax.set_title(f"{output}: no estimate", fontsize=9)
            continue
        last = sub[sub["base_samples"] == sub["base_samples"].max()]
        chosen = last.sort_values("value", ascending=False)["factor"].head(top)
        for f in chosen:
            s = sub[sub["factor"] == f].sort_values("base_samples")
            ax.errorbar(s["base_samples"], s["value"], yerr=s["interval"], marker="o", ms=3,
                        capsize=2, label=f.split(".", 1)[-1])
        ax.set_xscale("log", base=2)
        ax.set_xlabel("base samples N")
        ax.set_ylabel("ST")
        ax.set_title(output, fontsize=9)
        ax.legend(fontsize=6)
    fig.suptitle("Convergence of total-order indices — " + _caption(spec, runs), fontsize=9)
    return fig


def top_factor_scatter(spec: SweepSpec, samples: pd.DataFrame, top: dict[str, str],
                       runs: int) -> Figure:
    """Each output against its most influential factor, with the mean in 10 bins."""
    outputs = [o for o in spec.output_names if o in top]
    width = max(7.5, 4.2 * len(outputs))
    fig, axes = plt.subplots(1, max(1, len(outputs)), figsize=(width, 3.8),
                             layout="constrained", squeeze=False)
    for ax, output in zip(axes[0], outputs, strict=False):
        factor = top[output]
        ok = samples[samples["complete"]]
        x, y = ok[factor].to_numpy(np.float64), ok[output].to_numpy(np.float64)
        ax.scatter(x, y, s=6, alpha=0.35, lw=0)
        if len(x) >= 10 and np.ptp(x) > 0:
            edges = np.unique(np.quantile(x, np.linspace(0, 1, 11)))
            which = np.clip(np.digitize(x, edges[1:-1]), 0, len(edges) - 2)
            centres = [x[which == b].mean() for b in range(len(edges) - 1) if (which == b).any()]
            means = [y[which == b].mean() for b in range(len(edges) - 1) if (which == b).any()]
            ax.plot(centres, means, color="C3", lw=1.5, label="mean in deciles")
            ax.legend(fontsize=7)
        units = {f.key: f.unit for f in spec.factors}
        out = next(o for o in spec.outputs if o.metric == output)
        ax.set_xlabel(f"{factor} ({units.get(factor, '')})", fontsize=8)
        ax.set_ylabel(f"{output}\n({out.aggregate} over the years, {out.unit})", fontsize=8)
        ax.set_title(f"{output} vs its top factor ({RANKING_INDEX[spec.method]})", fontsize=8)
    fig.suptitle(_caption(spec, runs, bars=False) + "; points: sample means over replicates",
                 fontsize=8)
    return fig


def save_figures(folder: Path, spec: SweepSpec, analysis: Analysis, samples: pd.DataFrame,
                 runs: int) -> list[Path]:
    """Every sweep figure as PNG in `folder` (which must exist); returns the paths."""
    figures: dict[str, Figure] = {}
    if spec.method == "morris":
        figures["morris_mustar_sigma.png"] = morris_plot(spec, analysis.indices, runs)
    else:
        figures[f"{spec.method}_indices.png"] = index_bars(spec, analysis.indices, runs)
    if analysis.convergence is not None and not analysis.convergence.empty:
        figures["sobol_convergence.png"] = convergence_plot(spec, analysis.convergence, runs)
    for output, s2 in analysis.s2.items():
        figures[f"sobol_s2_{output}.png"] = s2_heatmap(spec, output, s2, runs)
    top = top_factors(analysis.indices, spec.method)
    if top:
        figures["outputs_vs_top_factor.png"] = top_factor_scatter(spec, samples, top, runs)
    paths = []
    for name, fig in figures.items():
        path = folder / name
        fig.savefig(path, dpi=120)
        plt.close(fig)
        paths.append(path)
    return paths
