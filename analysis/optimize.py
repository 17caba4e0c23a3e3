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

Across the futures (`python run.py optimize --futures N`): up to K Pareto points
(`reeval_points`: first the best-for-budget picks of the ladder, then points spread evenly
over extra cost) and the baseline were run again in N futures (OUT/robustness/, the runs of
`python run.py robustness`, paired seeds within a future). `robust_summary` turns those runs
into one row per point, with analysis.robustness's ranks and regrets (`rank_futures`,
`strategy_summary`: the re-evaluated points are the strategies, ranked by returns within each
future, the baseline the reference for extra cost):

- returns across futures: the mean, 10th and 90th percentile of the per-future means
  (households over the window);
- regret: returns minus the best re-evaluated point's in the same future, mean and 90th
  percentile; P(first): the share of futures in which it has the fewest returns (ties share
  first place), with a 95% Wilson interval;
- extra cost against the baseline in the same future (mean over futures, yuan) and the share
  of futures in which it stays within `--budget` (and, in best_for_budget, within each ladder
  budget): a mix chosen because it fits the budget in the reference world may overrun it in
  another.

These go to `pareto_futures.csv`, to extra columns of `best_for_budget.csv/.md` and to the
paragraph "Across the futures" of optimize.md, with a reading in plain words.

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
from analysis.robustness import on_count, rank_futures, strategy_summary
from simulation.common.output import add_entries, atomic_write_text

BUDGET_FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""The budget ladder as shares of the largest extra cost on the front (assumption: a
readable spread from 'no extra money' to 'the dearest efficient mix')."""
ROBUST_PERCENTILES = (10, 90)
"""Percentiles of the per-future mean returns reported beside their mean (assumption: the
usual 80% spread of an ensemble, as in analysis/robustness.py's p10/p90)."""
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


# ----------------------------------------------------------------------------- across futures
def reeval_points(pareto: pd.DataFrame, manifest: dict[str, Any], k: int) -> list[str]:
    """Up to `k` Pareto points to run again over futures: first the best-for-budget picks of
    the ladder (budget_ladder with the run's --budget; in ladder order), then points spread
    evenly over extra cost (for each of the remaining slots a target cost evenly spaced
    between the cheapest and the dearest point, the nearest point not yet chosen; repeated
    until k are chosen or none is left). Returned in the front's order (by extra cost)."""
    if k <= 0 or not len(pareto):
        return []
    table = best_for_budget(pareto, manifest, budget_ladder(pareto, manifest.get("budget")))
    chosen = list(dict.fromkeys(p for p in table["point"] if p))[:k]
    names = pareto["point"].tolist()
    cost = pareto["extra_cost"].to_numpy(float)
    while len(chosen) < min(k, len(names)):
        slots = min(k, len(names)) - len(chosen)
        for target in np.linspace(cost.min(), cost.max(), slots):
            free = [i for i, n in enumerate(names) if n not in chosen]
            if not free or len(chosen) >= k:
                break
            # nearest by cost; ties: the cheaper (earlier) point
            best = min(free, key=lambda i: (abs(cost[i] - target), i))
            chosen.append(names[best])
    return [n for n in names if n in chosen]


COUNT_WORDS: dict[str, str] = {
    "hardship": "Returns and new poverty are counted on the hardship test (income net of the "
                "medical bills, school fees and disaster losses a household could not pay from "
                "savings; it includes every fall on the official test), so that a mix cannot "
                "look good by cutting help the official income count does not see, such as "
                "medical assistance.",
    "official": "Returns and new poverty are counted on the official income test, which does "
                "not see medical bills: compare a chosen mix on the hardship count too "
                "(`python run.py compare`).",
}
"""What the section says about the count searched (count_of)."""


def count_of(manifest: dict[str, Any]) -> str:
    """The test an optimization counted returns and new poverty on (folders written before
    the choice existed counted on the official test)."""
    return str(manifest.get("count", "official"))


def load_reevaluation(folder: Path | str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(runs, futures) of the finished re-evaluation in FOLDER/robustness, or None when there
    is none (not asked for, or not finished); the runs' returns and new poverty on the count
    the optimization searched."""
    sub = Path(folder) / "robustness"
    try:
        manifest = json.loads((sub / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("status") != "complete":
            return None
        parent = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
        return (on_count(pd.read_parquet(sub / "runs.parquet"), count_of(parent)),
                pd.read_csv(sub / "futures.csv"))
    except (OSError, ValueError):
        return None


def robust_ranking(runs: pd.DataFrame, baseline: str) -> tuple[pd.DataFrame, list[str]]:
    """Per future and re-evaluated point (every scenario of `runs` but the baseline, in
    pareto-NNN order): analysis.robustness.rank_futures (means, rank, regret, extra cost
    against the baseline in the same future); and the points."""
    points = sorted(s for s in runs["scenario"].unique() if s != baseline)
    return rank_futures(runs, points, baseline), points


def robust_summary(runs: pd.DataFrame, pareto: pd.DataFrame, baseline: str,
                   budget: float | None) -> pd.DataFrame:
    """One row per re-evaluated point (see the module docstring): its reference-world
    objectives from `pareto`, then over the futures of `runs` the returns (mean, p10, p90 of
    the per-future means), regret (mean, p90), first-place share with its Wilson interval,
    mean rank, mean extra cost against the baseline in the same future, and the share of
    futures within `budget` (NaN without a budget)."""
    ranked, points = robust_ranking(runs, baseline)
    summary = strategy_summary(ranked, points).set_index("strategy")
    ref = pareto.set_index("point")
    low, high = ROBUST_PERCENTILES
    rows = []
    for p in points:
        sub = ranked[ranked["scenario"] == p]
        returns = sub["returns"].to_numpy(float)
        extra = sub["extra_cost"].to_numpy(float)
        s = summary.loc[p]
        rows.append({
            "point": p,
            "reference_returns": float(ref.loc[p, "returns"]) if p in ref.index else math.nan,
            "reference_new_poverty": float(ref.loc[p, "new_poverty"]) if p in ref.index
            else math.nan,
            "reference_extra_cost": float(ref.loc[p, "extra_cost"]) if p in ref.index
            else math.nan,
            "futures": int(s["futures"]),
            "returns_mean": float(returns.mean()),
            f"returns_p{low}": float(np.percentile(returns, low)),
            f"returns_p{high}": float(np.percentile(returns, high)),
            "regret_mean": float(s["regret_mean"]), "regret_p90": float(s["regret_p90"]),
            "p_first": float(s["p_first"]), "p_first_low": float(s["p_first_low"]),
            "p_first_high": float(s["p_first_high"]), "mean_rank": float(s["mean_rank"]),
            "extra_cost_mean": float(extra.mean()),
            "within_budget": float((extra <= budget).mean()) if budget is not None
            else math.nan})
    return pd.DataFrame(rows)


def add_robust_columns(table: pd.DataFrame, runs: pd.DataFrame, pareto: pd.DataFrame,
                       baseline: str) -> pd.DataFrame:
    """best_for_budget's table with, for each pick that was re-evaluated: its returns across
    the futures (mean, p10, p90) and the share of futures in which its extra cost stays
    within that row's budget (NaN for a pick not re-evaluated)."""
    ranked, points = robust_ranking(runs, baseline)
    low, high = ROBUST_PERCENTILES
    cols: dict[str, list[float]] = {"futures_returns_mean": [], f"futures_returns_p{low}": [],
                                    f"futures_returns_p{high}": [], "futures_within_budget": []}
    for r in table.to_dict("records"):
        sub = ranked[ranked["scenario"] == r.get("point")]
        returns = sub["returns"].to_numpy(float)
        ok = bool(r.get("point")) and r["point"] in points and len(sub) > 0
        cols["futures_returns_mean"].append(float(returns.mean()) if ok else math.nan)
        cols[f"futures_returns_p{low}"].append(float(np.percentile(returns, low)) if ok
                                               else math.nan)
        cols[f"futures_returns_p{high}"].append(float(np.percentile(returns, high)) if ok
                                                else math.nan)
        cols["futures_within_budget"].append(
            float((sub["extra_cost"].to_numpy(float) <= r["budget_yuan"]).mean()) if ok
            else math.nan)
    return table.assign(**cols)


def robust_markdown(summary: pd.DataFrame, budget: float | None) -> str:
    """The re-evaluated points as a markdown table."""
    low, high = ROBUST_PERCENTILES
    head = ("| point | extra cost, reference (yuan) | returns, reference | returns across "
            f"futures: mean [p{low}–p{high}] | regret mean / p90 | first in | extra cost, "
            "futures mean (yuan) |" + (" within --budget |" if budget is not None else ""))
    lines = [head, "|" + "---|" * (7 + (budget is not None))]
    for r in summary.to_dict("records"):
        line = (f"| {r['point']} | {_yuan(r['reference_extra_cost'])} | "
                f"{r['reference_returns']:,.0f} | {r['returns_mean']:,.0f} "
                f"[{r[f'returns_p{low}']:,.0f}–{r[f'returns_p{high}']:,.0f}] | "
                f"{r['regret_mean']:,.0f} / {r['regret_p90']:,.0f} | "
                f"{100 * r['p_first']:.0f}% | {_yuan(r['extra_cost_mean'])} |")
        if budget is not None:
            line += f" {100 * r['within_budget']:.0f}% |"
        lines.append(line)
    return "\n".join(lines)


def _budgets_label(budgets: Sequence[float], marks: Sequence[str]) -> str:
    names = [f"{_yuan(b)} yuan{m}" for b, m in zip(budgets, marks, strict=True)]
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return ("Budget " if len(names) == 1 else "Budgets ") + text


def _within_words(share: float) -> str:
    if share != share:
        return ""
    if share >= 1:
        return "; the pick stays within the budget in every future"
    if share <= 0:
        return "; the pick overruns the budget in every future"
    return (f"; the pick stays within the budget in {100 * share:.0f}% of futures and "
            "overruns it in the others")


def robust_reading(summary: pd.DataFrame, table: pd.DataFrame,
                   budget: float | None) -> list[str]:
    """Plain-language sentences: for each ladder budget, whether the reference-world pick is
    also the most robust of the re-evaluated points that fit that budget in the reference
    world (lowest mean regret; ties: more first places), and how often budget-feasible
    picks overrun their budget in other futures. Budgets that read the same are one
    sentence."""
    by_point = summary.set_index("point")
    groups: dict[tuple[str, ...], list[tuple[float, str]]] = {}
    for r in table.to_dict("records"):
        pick = r.get("point")
        if not pick or pick not in by_point.index:
            continue
        fits = summary[summary["reference_extra_cost"] <= r["budget_yuan"]]
        robust = fits.sort_values(["regret_mean", "p_first"], ascending=[True, False],
                                  kind="stable").iloc[0]
        me = by_point.loc[pick]
        if robust["point"] == pick:
            text = (f"the reference-world pick {pick} is also the most robust of the "
                    f"{len(fits)} re-evaluated mix(es) within that budget (mean regret "
                    f"{me['regret_mean']:,.0f} returns, first in {100 * me['p_first']:.0f}% "
                    "of futures)")
        else:
            text = (f"the reference-world pick {pick} is not the most robust: "
                    f"{robust['point']} has a lower mean regret ({robust['regret_mean']:,.0f} "
                    f"against {me['regret_mean']:,.0f} returns; first in "
                    f"{100 * robust['p_first']:.0f}% of futures against "
                    f"{100 * me['p_first']:.0f}%)")
        text += _within_words(float(r.get("futures_within_budget", math.nan)))
        mark = " (--budget)" if budget is not None and r["budget_yuan"] == budget else ""
        groups.setdefault((text,), []).append((float(r["budget_yuan"]), mark))
    out = [f"{_budgets_label([b for b, _ in rows], [m for _, m in rows])}: {key[0]}."
           for key, rows in groups.items()]
    if budget is not None:
        fits = summary[summary["reference_extra_cost"] <= budget]
        if len(fits):
            over = fits[fits["within_budget"] < 1]
            worst = fits.sort_values("within_budget", kind="stable").iloc[0]
            out.append(
                f"Of the {len(fits)} re-evaluated mix(es) within --budget in the reference "
                f"world, {len(over)} overrun it in at least one future; on average they stay "
                f"within it in {100 * fits['within_budget'].mean():.0f}% of futures (least: "
                f"{worst['point']}, {100 * worst['within_budget']:.0f}%).")
    return out


def signed(value: float, decimals: int = 0) -> str:
    """A change with its sign, never "-0" (-0.0 + 0.0 is +0.0)."""
    return f"{round(value, decimals) + 0.0:+,.{decimals}f}"


def _yuan(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f} million"
    return f"{value:,.0f}"


def budget_markdown(table: pd.DataFrame, manifest: dict[str, Any]) -> str:
    """The best-for-budget table as markdown (with the column "in the futures" when the
    table has add_robust_columns's columns)."""
    base = manifest["baseline"]
    robust = "futures_returns_mean" in table.columns
    low, high = ROBUST_PERCENTILES
    on = " (hardship)" if count_of(manifest) == "hardship" else ""
    lines = [f"| budget (yuan) | best point | returns{on} | vs baseline | new poverty{on} | "
             "extra cost (yuan) | levers changed from the status quo |"
             + (" in the futures |" if robust else ""),
             "|---|---|---|---|---|---|---|" + ("---|" if robust else "")]
    for r in table.to_dict("records"):
        mark = " (--budget)" if manifest.get("budget") is not None and \
            r["budget_yuan"] == manifest["budget"] else ""
        futures = ""
        if robust:
            futures = " – |"
            if r["point"] and r["futures_returns_mean"] == r["futures_returns_mean"]:
                futures = (f" returns {r['futures_returns_mean']:,.0f} "
                           f"[{r[f'futures_returns_p{low}']:,.0f}–"
                           f"{r[f'futures_returns_p{high}']:,.0f}], within budget in "
                           f"{100 * r['futures_within_budget']:.0f}% of futures |")
        if r["point"]:
            lines.append(
                f"| {_yuan(r['budget_yuan'])}{mark} | {r['point']} | {r['returns']:,.0f} | "
                f"{signed(-r['returns_reduction'])} ({signed(-r['returns_reduction_pct'], 1)}%) | "
                f"{r['new_poverty']:,.0f} | {_yuan(r['extra_cost_yuan'])} | {r['changes']} |"
                + futures)
        else:
            lines.append(f"| {_yuan(r['budget_yuan'])}{mark} | – | – | – | – | – | "
                         f"{r['changes']} |" + futures)
    lines.append(f"\nBaseline ({base['name']}): {base['returns']:,.0f} returns, "
                 f"{base['new_poverty']:,.0f} newly poor{on.replace(')', ' count)')}, "
                 "fiscal cost "
                 f"{_yuan(base['fiscal_cost'])} yuan over the window.")
    if robust:
        lines.append(f"\n*In the futures*: the pick's returns over the window across the "
                     f"re-evaluation's futures, mean [p{low}–p{high}] of the per-future means, "
                     "and the share of futures in which its extra cost against the baseline "
                     "(same future, same seeds) stays within the row's budget.")
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
    reeval = load_reevaluation(folder)
    if reeval is not None:
        table = add_robust_columns(table, reeval[0], pareto, manifest["baseline"]["name"])
    lines = [
        "## The best mix for the budget", "",
        f"An ε-NSGA-II search ({fp['searches']} independent NSGA-II searches with ε-box "
        f"archives, merged) over {len(manifest['levers'])} mechanism levers, "
        f"{manifest['evaluations']:,} mixes evaluated on the same {fp['replicates']} seed(s) "
        f"each at {fp['households']:,} households, minimising returns, new poverty and extra "
        f"fiscal cost over {window[0]}–{window[1]} against the status quo "
        f"({manifest['baseline']['name']}). "
        + COUNT_WORDS.get(count_of(manifest), "")
        + f" Budget: {manifest['budget_units']}"
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
    shown = [(f"figures/{name}.png", caption) for name, caption in (
        ("parallel_axes", "Pareto mixes across the levers and objectives"),
        ("convergence", "Convergence: hypervolume and ε-progress of each search"))
        if (folder / "figures" / f"{name}.png").is_file()]
    for link, caption in shown:
        lines += ["", f"![{caption}]({link})"]
    if reeval is not None:
        lines += ["", *futures_paragraph(folder, reeval[0], reeval[1], pareto, manifest,
                                         table)]
    return "\n".join(lines) + "\n"


def futures_paragraph(folder: Path, runs: pd.DataFrame, futures: pd.DataFrame,
                      pareto: pd.DataFrame, manifest: dict[str, Any],
                      table: pd.DataFrame) -> list[str]:
    """The markdown lines of "Across the futures": what was run, the table of re-evaluated
    points and the reading."""
    baseline = manifest["baseline"]["name"]
    budget = manifest.get("budget")
    summary = robust_summary(runs, pareto, baseline, budget)
    sub = json.loads((folder / "robustness" / "manifest.json").read_text(encoding="utf-8"))
    base = runs[runs["scenario"] == baseline].groupby("future")["returns"].mean()
    return [
        "### Across the futures", "",
        f"{len(summary)} Pareto mixes (the best-for-budget picks, then mixes spread over extra "
        f"cost) and the baseline were run again in {int(futures['future'].nunique())} futures "
        f"of `{sub.get('name', 'the futures file')}` (`python run.py robustness`: calibrated "
        "parameter sets, uncertain constants, structural switches and shocks), "
        f"{int(runs['replicate'].nunique())} replicate(s) each on seeds shared within a "
        "future, in `robustness/`. The front was found in the reference world (the county's "
        "status quo); in another future the ranking, the returns and the extra cost (against "
        "the baseline in the same future) can change. The baseline's returns across the "
        "futures: mean "
        f"{base.mean():,.0f} [p10 {np.percentile(base, 10):,.0f}, p90 "
        f"{np.percentile(base, 90):,.0f}].", "",
        robust_markdown(summary, budget), "",
        "*Regret*: returns minus the best re-evaluated mix's in the same future (households); "
        "*first in*: the share of futures in which the mix has the fewest returns of the "
        "re-evaluated ones (ties share first place).", "",
        "**Reading.** " + " ".join(robust_reading(summary, table, budget))]


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
    """best_for_budget.csv/.md, optimize.md, (with `figures`) figures/ and, when the folder
    holds a finished re-evaluation over futures, pareto_futures.csv in `folder`; returns the
    best-for-budget table (with the robust columns after a re-evaluation)."""
    from simulation.common.output import atomic_write_frame

    folder = Path(folder)
    pareto, manifest, convergence = load_optimization(folder)
    table = best_for_budget(pareto, manifest, budget_ladder(pareto, manifest.get("budget")))
    reeval = load_reevaluation(folder)
    written = ["best_for_budget.csv", "best_for_budget.md", "optimize.md"]
    if reeval is not None:
        baseline = manifest["baseline"]["name"]
        table = add_robust_columns(table, reeval[0], pareto, baseline)
        atomic_write_frame(folder / "pareto_futures.csv",
                           robust_summary(reeval[0], pareto, baseline, manifest.get("budget")))
        written.append("pareto_futures.csv")
    atomic_write_frame(folder / "best_for_budget.csv", table)
    atomic_write_text(folder / "best_for_budget.md",
                      "# Best mix for the budget\n\n" + budget_markdown(table, manifest) + "\n")
    if figures:
        from analysis.figures import save_png

        (folder / "figures").mkdir(exist_ok=True)
        for name, fig in (("parallel_axes", parallel_axes(pareto, manifest)),
                          ("convergence", convergence_figure(convergence))):
            save_png(fig, folder / "figures" / f"{name}.png", dpi=110)
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
    if reeval is not None:
        files += ["- `pareto_futures.csv`: the re-evaluated mixes across the futures (the "
                  "table \"Across the futures\")",
                  "- `robustness/`: the re-evaluation's runs (runs.parquet), futures "
                  "(futures.csv) and the robustness tables of those mixes (robustness.md)"]
    if figures:
        files += ["- `figures/parallel_axes.png`, `figures/convergence.png`"]
    atomic_write_text(folder / "optimize.md", "# Optimization\n\n"
                      + render_optimize_section(folder)
                      + "\n".join(files) + "\n")
    add_entries(folder, written)
    return table


__all__ = [
    "BUDGET_FRACTIONS",
    "COUNT_WORDS",
    "ROBUST_PERCENTILES",
    "add_robust_columns",
    "best_for_budget",
    "budget_ladder",
    "budget_markdown",
    "convergence_figure",
    "convergence_statement",
    "count_of",
    "futures_paragraph",
    "lever_changes",
    "load_optimization",
    "load_reevaluation",
    "parallel_axes",
    "reeval_points",
    "render_optimize_section",
    "robust_markdown",
    "robust_ranking",
    "robust_reading",
    "robust_summary",
    "round_up",
    "signed",
    "write_optimize_outputs",
]
