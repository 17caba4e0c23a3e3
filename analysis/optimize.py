"""The best mix of mechanism levers for a budget: tables, figures and text of an optimization.

Reads a folder of `python run.py optimize` (simulation/experiments/optimize: pareto.parquet,
convergence.csv, manifest.json) and writes

- `best_for_budget.csv` / `.md`: for the run's `--budget` and a ladder of budgets (0, 25%,
  50%, 75% and 100% of the largest extra cost on the Pareto front, rounded up to two
  significant figures), the feasible Pareto point with the fewest returns (ties: the
  cheaper), its levers as changes from the status quo, its returns, new poverty and extra
  cost, and the reduction against the baseline;
- `figures/parallel_axes.png`: every Pareto point across the levers (each normalised to its
  range, 0-1) and the objectives (normalised over the front), coloured by extra cost; the
  points within `--budget` drawn bold;
- `figures/convergence.png`: hypervolume and ε-progress of each search by evaluations;
- `optimize.md`: the section "The best mix for the budget" (`render_optimize_section`, which
  the main report can include) and the list of files.

Budgets are extra fiscal cost over the evaluation window above the status quo, nominal yuan,
county totals, exactly as the optimization's constraint.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.results_io import ResultsError
from simulation.common.output import add_entries, atomic_write_text

BUDGET_FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""The budget ladder as shares of the largest extra cost on the front (assumption: a
readable spread from 'no extra money' to 'the dearest efficient mix')."""
LEVELLED = 0.01
"""Hypervolume growth over the last quarter of the generations below which a search is said
to have levelled off (assumption: 1%)."""


def load_optimization(folder: Path | str) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """(pareto, manifest, convergence) of a finished optimization folder."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        pareto = pd.read_parquet(folder / "pareto.parquet")
        convergence = pd.read_csv(folder / "convergence.csv")
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{folder}: not a finished optimization folder ({exc})") from None
    if manifest.get("status") != "complete":
        raise ResultsError(f"{folder}: the optimization is not finished (status "
                           f"{manifest.get('status')!r}); continue it with --resume")
    return pareto, manifest, convergence


def round_up(value: float, digits: int = 2) -> float:
    """`value` rounded up to `digits` significant figures (a budget people can read)."""
    if value <= 0:
        return 0.0
    power = 10.0 ** (math.floor(math.log10(value)) - digits + 1)
    return math.ceil(value / power - 1e-9) * power


def budget_ladder(pareto: pd.DataFrame, budget: float | None) -> list[float]:
    """The run's budget and the fractions of the front's largest extra cost, ascending."""
    top = float(pareto["extra_cost"].max()) if len(pareto) else 0.0
    ladder = {round_up(f * top) for f in BUDGET_FRACTIONS} if top > 0 else {0.0}
    if budget is not None:
        ladder.add(float(budget))
    return sorted(ladder)


def _number(value: float, integer: bool) -> str:
    if integer or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def lever_changes(row: pd.Series | dict[str, Any], levers: Sequence[dict[str, Any]]) -> str:
    """A point's levers that differ from the status quo: 'key a -> b; ...'."""
    parts = [f"{lv['key']} {_number(lv['status_quo'], lv['integer'])} → "
             f"{_number(float(row[lv['key']]), lv['integer'])}"
             for lv in levers if float(row[lv["key"]]) != float(lv["status_quo"])]
    return "; ".join(parts) or "none (the status quo)"


def best_for_budget(pareto: pd.DataFrame, manifest: dict[str, Any],
                    budgets: Sequence[float]) -> pd.DataFrame:
    """Per budget: the feasible Pareto point with the fewest returns (ties: cheaper), its
    changes and outcomes, and the reduction against the baseline."""
    base = manifest["baseline"]
    rows = []
    for budget in budgets:
        feasible = pareto[pareto["extra_cost"] <= budget]
        row: dict[str, Any] = {"budget_yuan": budget, "feasible_points": len(feasible)}
        if len(feasible):
            best = feasible.sort_values(["returns", "extra_cost"]).iloc[0]
            row.update({
                "point": best["point"], "returns": best["returns"],
                "returns_reduction": base["returns"] - best["returns"],
                "returns_reduction_pct": 100 * (base["returns"] - best["returns"])
                / base["returns"] if base["returns"] else float("nan"),
                "new_poverty": best["new_poverty"],
                "new_poverty_reduction": base["new_poverty"] - best["new_poverty"],
                "extra_cost_yuan": best["extra_cost"],
                "changes": lever_changes(best, manifest["levers"])})
        else:
            row.update({"point": "", "changes": "no Pareto point within this budget"})
        rows.append(row)
    return pd.DataFrame(rows)


def signed(value: float, decimals: int = 0) -> str:
    """A change with its sign, never "-0" (-0.0 + 0.0 is +0.0)."""
    return f"{round(value, decimals) + 0.0:+,.{decimals}f}"


def _yuan(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f} million"
    return f"{value:,.0f}"


def budget_markdown(table: pd.DataFrame, manifest: dict[str, Any]) -> str:
    """The best-for-budget table as markdown."""
    base = manifest["baseline"]
    lines = ["| budget (yuan) | best point | returns | vs baseline | new poverty | extra cost "
             "(yuan) | levers changed from the status quo |",
             "|---|---|---|---|---|---|---|"]
    for r in table.to_dict("records"):
        mark = " (--budget)" if manifest.get("budget") is not None and \
            r["budget_yuan"] == manifest["budget"] else ""
        if r["point"]:
            lines.append(
                f"| {_yuan(r['budget_yuan'])}{mark} | {r['point']} | {r['returns']:,.0f} | "
                f"{signed(-r['returns_reduction'])} ({signed(-r['returns_reduction_pct'], 1)}%) | "
                f"{r['new_poverty']:,.0f} | {_yuan(r['extra_cost_yuan'])} | {r['changes']} |")
        else:
            lines.append(f"| {_yuan(r['budget_yuan'])}{mark} | – | – | – | – | – | "
                         f"{r['changes']} |")
    lines.append(f"\nBaseline ({base['name']}): {base['returns']:,.0f} returns, "
                 f"{base['new_poverty']:,.0f} newly poor, fiscal cost "
                 f"{_yuan(base['fiscal_cost'])} yuan over the window.")
    return "\n".join(lines)


def convergence_statement(convergence: pd.DataFrame) -> str:
    """Whether each search levelled off: hypervolume growth over its last quarter of
    generations, ε-progress there, and the merged front's hypervolume."""
    parts = []
    for s, sub in convergence[convergence["search"] >= 0].groupby("search"):
        sub = sub.sort_values("generation")
        hv = sub["hypervolume"].to_numpy()
        progress = sub["epsilon_progress"].to_numpy()
        k = max(1, len(sub) // 4)
        if len(sub) > k:
            before, after = hv[-k - 1], hv[-1]
            growth = (after - before) / before if before > 0 else float("inf")
            new_boxes = int(progress[-1] - progress[-k - 1])
            verdict = "levelled off" if growth < LEVELLED else "still improving"
            parts.append(f"search {s}: hypervolume {after:.4g} after {len(sub)} generations, "
                         f"{100 * growth:+.2g}% over the last {k} (ε-progress {new_boxes} new "
                         f"boxes) — {verdict}")
        else:
            parts.append(f"search {s}: hypervolume {hv[-1]:.4g} after {len(sub)} generation(s)"
                         " — too few generations to judge convergence")
    merged = convergence[convergence["search"] == -1]
    text = "; ".join(parts)
    if len(merged):
        text += (f". Merged front: {int(merged['archive_size'].iloc[-1])} points, hypervolume "
                 f"{merged['hypervolume'].iloc[-1]:.4g}")
    return text + "."


def render_optimize_section(folder: Path | str) -> str:
    """The section "The best mix for the budget" of an optimization folder, in markdown
    (for optimize.md and the main report)."""
    folder = Path(folder)
    pareto, manifest, convergence = load_optimization(folder)
    fp = manifest["fingerprint"]
    budgets = budget_ladder(pareto, manifest.get("budget"))
    table = best_for_budget(pareto, manifest, budgets)
    window = manifest["window"]
    lines = [
        "## The best mix for the budget", "",
        f"An ε-NSGA-II search ({fp['searches']} independent NSGA-II searches with ε-box "
        f"archives, merged) over {len(manifest['levers'])} mechanism levers, "
        f"{manifest['evaluations']:,} mixes evaluated on the same {fp['replicates']} seed(s) "
        f"each at {fp['households']:,} households, minimising returns, new poverty and extra "
        f"fiscal cost over {window[0]}–{window[1]} against the status quo "
        f"({manifest['baseline']['name']}). Budget: {manifest['budget_units']}"
        + (f"; this run's budget {_yuan(manifest['budget'])} yuan." if manifest.get("budget")
           is not None else "; this run had no budget constraint."),
        "", f"The Pareto front holds {len(pareto)} mixes. For each budget, the mix with the "
        "fewest returns that costs no more:", "", budget_markdown(table, manifest), "",
        f"**Convergence.** {convergence_statement(convergence)}", "",
        "**Strategy files.** Every Pareto mix is a scenario file in `scenarios/` "
        "(`pareto-NNN.toml`, numbered from the cheapest), ready for `python run.py compare "
        "baseline scenarios/pareto-NNN.toml` and for a robustness check across futures. "
        "Means over few seeds are noisy: compare a chosen mix again with more replicates "
        "before relying on it."]
    return "\n".join(lines) + "\n"


def parallel_axes(pareto: pd.DataFrame, manifest: dict[str, Any]) -> Any:
    """Pareto points across levers (0-1 over their ranges) and objectives (0-1 over the
    front), coloured by extra cost; within-budget points bold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levers = manifest["levers"]
    objectives = ["returns", "new_poverty", "extra_cost"]
    cols, labels = [], []
    for lv in levers:
        span = lv["high"] - lv["low"]
        cols.append((pareto[lv["key"]].to_numpy(float) - lv["low"]) / span if span else
                    np.zeros(len(pareto)))
        labels.append(lv["key"].split(".", 1)[1].replace("_", " "))
    for name in objectives:
        v = pareto[name].to_numpy(float)
        span = v.max() - v.min() if len(v) else 0.0
        cols.append((v - v.min()) / span if span > 0 else np.full(len(v), 0.5))
        labels.append(f"[{name.replace('_', ' ')}]")
    data = np.column_stack(cols) if cols and len(pareto) else np.empty((0, len(labels)))
    fig, ax = plt.subplots(figsize=(max(8.0, 0.55 * len(labels)), 4.8))
    cost = pareto["extra_cost"].to_numpy(float)
    norm = matplotlib.colors.Normalize(vmin=cost.min() if len(cost) else 0,
                                       vmax=cost.max() if len(cost) else 1)
    cmap = matplotlib.colormaps["viridis"]
    budget = manifest.get("budget")
    x = np.arange(len(labels))
    for row, c in zip(data, cost, strict=True):
        inside = budget is not None and c <= budget
        ax.plot(x, row, color=cmap(norm(c)), lw=2.2 if inside else 0.9,
                alpha=0.95 if inside or budget is None else 0.35)
    for xi in x:
        ax.axvline(float(xi), color="0.8", lw=0.6, zorder=0)
    ax.axvspan(len(levers) - 0.5, len(labels) - 0.5, color="0.93", zorder=-1)
    ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=8)
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("lever: share of its range; [objective]: 0 best – 1 worst on the front",
                  fontsize=8)
    title = "Pareto mixes"
    if budget is not None:
        title += f" (bold: extra cost within the budget {_yuan(budget)} yuan)"
    ax.set_title(title, fontsize=10)
    bar = fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax)
    bar.set_label("extra fiscal cost over the window (yuan)", fontsize=8)
    fig.tight_layout()
    return fig


def convergence_figure(convergence: pd.DataFrame) -> Any:
    """Hypervolume and ε-progress of each search by evaluations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
    for s, sub in convergence[convergence["search"] >= 0].groupby("search"):
        a.plot(sub["evaluations"], sub["hypervolume"], marker=".", label=f"search {s}")
        b.plot(sub["evaluations"], sub["epsilon_progress"], marker=".", label=f"search {s}")
    a.set_xlabel("evaluations (this search)")
    a.set_ylabel("hypervolume of the ε-archive\n(normalised by generation 1)")
    b.set_xlabel("evaluations (this search)")
    b.set_ylabel("ε-progress (new boxes, cumulative)")
    a.legend(fontsize=8)
    fig.tight_layout()
    return fig


def write_optimize_outputs(folder: Path | str, figures: bool = True) -> pd.DataFrame:
    """best_for_budget.csv/.md, optimize.md and (with `figures`) figures/ in `folder`;
    returns the best-for-budget table."""
    from simulation.common.output import atomic_write_frame

    folder = Path(folder)
    pareto, manifest, convergence = load_optimization(folder)
    table = best_for_budget(pareto, manifest, budget_ladder(pareto, manifest.get("budget")))
    atomic_write_frame(folder / "best_for_budget.csv", table)
    atomic_write_text(folder / "best_for_budget.md",
                      "# Best mix for the budget\n\n" + budget_markdown(table, manifest) + "\n")
    written = ["best_for_budget.csv", "best_for_budget.md", "optimize.md"]
    if figures:
        import matplotlib.pyplot as plt

        (folder / "figures").mkdir(exist_ok=True)
        for name, fig in (("parallel_axes", parallel_axes(pareto, manifest)),
                          ("convergence", convergence_figure(convergence))):
            tmp = folder / "figures" / f".{name}.tmp.png"
            fig.savefig(tmp, dpi=110)
            plt.close(fig)
            tmp.replace(folder / "figures" / f"{name}.png")
        written.append("figures")
    files = ["", "## Files", "",
             "- `pareto.csv` / `pareto.parquet`: the merged ε-nondominated mixes (lever values, "
             "objective means with per-seed min and max)",
             "- `best_for_budget.csv` / `.md`: the table above",
             "- `scenarios/pareto-NNN.toml`: every Pareto mix as a scenario file",
             "- `evaluations.parquet`: every evaluation (candidate x seed; the baseline is "
             "search -1)",
             "- `convergence.csv`: hypervolume and ε-progress per search and generation "
             "(search -1: the merged front)"]
    if figures:
        files += ["- `figures/parallel_axes.png`, `figures/convergence.png`"]
    atomic_write_text(folder / "optimize.md", "# Optimization\n\n"
                      + render_optimize_section(folder)
                      + "\n".join(files) + "\n")
    add_entries(folder, written)
    return table


__all__ = ["BUDGET_FRACTIONS", "best_for_budget", "budget_ladder", "budget_markdown",
           "convergence_figure", "convergence_statement", "lever_changes",
           "load_optimization", "parallel_axes", "render_optimize_section", "round_up", "signed",
           "write_optimize_outputs"]
