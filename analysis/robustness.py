"""Which strategy, in which worlds: how robust a ranking of strategies is over many futures.

Pure functions of the runs frame of `python run.py robustness` (one row per future,
replicate and scenario with the evaluation window's totals; simulation/experiments/robustness)
and its futures table, then the files written from them.

- **Per future** the replicates are averaged (they ran on paired seeds: every scenario of a
  future shares its seeds), and the strategies are **ranked by returns to poverty, lower
  better**. Ties share the best rank ("competition" ranking: 1, 1, 3), so two strategies
  with exactly equal returns are both first.
- **First-rank probability**: the share of futures in which a strategy is first, with a 95%
  Wilson interval (futures are independent draws; Wilson stays inside [0, 1] and is honest
  for shares near 0 or 1); and the share of futures at each rank.
- **Regret**: a strategy's returns minus the best strategy's in the same future (households;
  and as % of the baseline's returns in that future): mean, 90th percentile, maximum.
- **Cost per avoided return** against the baseline, per future: (strategy's fiscal cost -
  baseline's) / (baseline's returns - strategy's). Its median and 10th/90th percentiles are
  taken over the futures in which the strategy avoids returns; the share of futures in which
  it avoids none (a ratio with no meaning) is reported beside them.
- **How sure is the ranking**: per future, the lead of the first strategy over the second,
  replicate by replicate (paired seeds), with a 95% t-interval; the lead is *within the
  replicate noise* when the interval includes 0 (or the two are tied). Needs >= 2 replicates.
- **Scenario discovery** (PRIM, analysis.discovery.prim_boxes): for each strategy that is
  first in some futures but not all, the box of future features (uncertain constants,
  ensemble parameter values, switch and shock flags) where it *loses its lead*, with coverage
  (share of those futures inside the box) and density (share of the box's futures where it
  loses). Skipped, with a note, when fewer than MIN_CASES futures fall on either side.

Files (write_robustness): futures_summary.csv, robustness.csv, discovery.csv, robustness.md
(render_robustness_section, which the main report can include) and figures/.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from simulation.common.output import atomic_write_text
from simulation.common.stats import mean_interval

# simulation.experiments.robustness (and through it scipy) is imported inside the functions
# that need it: the main report imports this module for its section title even without a
# robustness folder, and `run.py robustness --help` should not wait for scipy either.
from simulation.model.params import SCHEMA

Z95: Final = 1.959963984540054
"""Standard normal quantile of a two-sided 95% interval (Wilson's interval)."""
MIN_CASES: Final = 5
"""PRIM needs at least this many futures where the strategy loses its lead and as many where
it keeps it (assumption: fewer gives boxes that describe single futures)."""
PRIM_MIN_DENSITY: Final = 0.8
"""Density a PRIM box should reach (share of its futures where the lead is lost; the usual
scenario-discovery threshold, Bryant & Lempert 2010)."""
TITLE: Final = "Which strategy, in which worlds"


# ----------------------------------------------------------------------------- statistics
def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a share k/n (NaN for n = 0)."""
    if n <= 0:
        return math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


COUNTS: Final = ("official", "hardship")
"""The tests returns may be ranked on: the official income test (the headline's) or the
hardship test (income net of the rigid costs not paid from savings; it includes every official
fall). The runs hold both; the count only changes the tables."""


def on_count(runs: pd.DataFrame, count: str) -> pd.DataFrame:
    """Runs of the robustness driver with `returns` and `new_poverty` on `count` (its
    `_hardship` columns for "hardship"), so that ranks, regret and costs per avoided return
    are on that test."""
    if count != "hardship":
        return runs
    return runs.assign(returns=runs["returns_hardship"],
                       new_poverty=runs["new_poverty_hardship"])


def future_means(runs: pd.DataFrame) -> pd.DataFrame:
    """Per future and scenario: the mean of every outcome over the replicates, rounded to a
    millionth (of a household, of a yuan): window totals of weighted households summed in
    another order differ in their last bits, which would break exact ties and turn "avoids
    none" into a division by 1e-13."""
    from simulation.experiments.robustness.driver import OUTCOMES

    means = runs.groupby(["future", "scenario"], sort=False)[list(OUTCOMES)].mean().round(6)
    means["replicates"] = runs.groupby(["future", "scenario"], sort=False).size()
    return means.reset_index()


def rank_futures(runs: pd.DataFrame, strategies: Sequence[str], baseline: str) -> pd.DataFrame:
    """Per future and strategy: the means, rank by returns (ties share the best rank),
    regret (households and % of the baseline's returns), returns avoided and extra cost
    against the baseline, cost per avoided return (NaN when none is avoided)."""
    means = future_means(runs)
    base = means[means["scenario"] == baseline].set_index("future")
    ranked = means[means["scenario"].isin(strategies)].copy()
    ranked["rank"] = ranked.groupby("future")["returns"].rank(method="min").astype(int)
    best = ranked.groupby("future")["returns"].transform("min")
    ranked["regret"] = ranked["returns"] - best
    base_returns = ranked["future"].map(base["returns"])
    ranked["baseline_returns"] = base_returns
    ranked["regret_pct"] = 100.0 * ranked["regret"] / base_returns.where(base_returns > 0)
    ranked["avoided"] = base_returns - ranked["returns"]
    ranked["extra_cost"] = ranked["fiscal_cost"] - ranked["future"].map(base["fiscal_cost"])
    ranked["per_avoided"] = ranked["extra_cost"] / ranked["avoided"].where(
        ranked["avoided"] > 0)
    order = {n: i for i, n in enumerate(strategies)}
    ranked = ranked.assign(_o=ranked["scenario"].map(order)).sort_values(
        ["future", "_o"]).drop(columns="_o")
    return ranked.reset_index(drop=True)


def lead_noise(runs: pd.DataFrame, ranked: pd.DataFrame) -> pd.DataFrame:
    """Per future: the first and second strategy, the lead (second's returns - first's, mean
    over paired replicates) with its 95% t-interval, and whether the lead is within the
    replicate noise (interval includes 0, or a tie); NaN with one replicate."""
    rows = []
    per_run = runs.set_index(["future", "scenario", "replicate"])["returns"].sort_index()
    for future, group in ranked.groupby("future", sort=True):
        order = group.sort_values(["returns", "rank"], kind="stable")
        if len(order) < 2:
            continue
        first, second = order.iloc[0]["scenario"], order.iloc[1]["scenario"]
        a = per_run.loc[(future, first)]
        b = per_run.loc[(future, second)]
        diff = (b - a.reindex(b.index)).dropna().to_numpy()
        lead, low, high = mean_interval(diff)
        tie = bool(order.iloc[0]["rank"] == order.iloc[1]["rank"])
        within = 1.0 if tie else (math.nan if math.isnan(low) else
                                  float(low <= 0.0 <= high))
        rows.append({"future": future, "first": first, "second": second, "lead": lead,
                     "lead_low": low, "lead_high": high, "within_noise": within})
    return pd.DataFrame(rows, columns=["future", "first", "second", "lead", "lead_low",
                                       "lead_high", "within_noise"])


def strategy_summary(ranked: pd.DataFrame, strategies: Sequence[str]) -> pd.DataFrame:
    """One row per strategy: first-rank share with its Wilson interval, share at each rank,
    regret and cost-per-avoided-return statistics (see the module docstring)."""
    n = ranked["future"].nunique()
    rows = []
    for s in strategies:
        sub = ranked[ranked["scenario"] == s]
        first = int((sub["rank"] == 1).sum())
        low, high = wilson(first, n)
        row: dict[str, Any] = {"strategy": s, "futures": n, "first": first,
                               "p_first": first / n if n else math.nan,
                               "p_first_low": low, "p_first_high": high,
                               "mean_rank": float(sub["rank"].mean())}
        for k in range(1, len(strategies) + 1):
            row[f"rank_{k}"] = float((sub["rank"] == k).mean()) if n else math.nan
        row["returns_mean"] = float(sub["returns"].mean())
        for col, label in (("regret", "regret"), ("regret_pct", "regret_pct")):
            v = sub[col].dropna().to_numpy(float)
            row[f"{label}_mean"] = float(v.mean()) if v.size else math.nan
            row[f"{label}_p90"] = float(np.quantile(v, 0.9)) if v.size else math.nan
            row[f"{label}_max"] = float(v.max()) if v.size else math.nan
        ratio = sub["per_avoided"].dropna().to_numpy(float)
        row["per_avoided_median"] = float(np.median(ratio)) if ratio.size else math.nan
        row["per_avoided_p10"] = float(np.quantile(ratio, 0.1)) if ratio.size else math.nan
        row["per_avoided_p90"] = float(np.quantile(ratio, 0.9)) if ratio.size else math.nan
        row["share_none_avoided"] = float((sub["avoided"] <= 0).mean()) if n else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _factor(futures: pd.DataFrame, col: str) -> dict[str, Any]:
    from simulation.experiments.robustness.futures import SHOCK, SWITCH

    flag = col.startswith((SWITCH, SHOCK))
    param = SCHEMA.get(col)
    return {"key": col, "low": float(futures[col].min()), "high": float(futures[col].max()),
            "integer": flag or bool(param and param.integer),
            "unit": "0/1" if flag else (param.unit if param else "")}


def lost_lead_boxes(ranked: pd.DataFrame, futures: pd.DataFrame,
                    strategies: Sequence[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """PRIM boxes of the futures where each strategy that leads somewhere loses its lead.
    Returns (one row per strategy, box and restricted feature; a note per strategy)."""
    from analysis.discovery import prim_boxes
    from simulation.experiments.robustness.futures import feature_columns

    cols = [c for c in feature_columns(futures) if futures[c].nunique() > 1]
    notes: dict[str, str] = {}
    rows = []
    for s in strategies:
        sub = ranked[ranked["scenario"] == s].set_index("future")
        first = sub["rank"].reindex(futures["future"]).to_numpy() == 1
        lost = ~first
        if first.sum() == 0:
            notes[s] = "never first: no lead to lose"
            continue
        if lost.sum() == 0:
            notes[s] = "first in every future: it never loses its lead"
            continue
        if min(int(lost.sum()), int(first.sum())) < MIN_CASES or not cols:
            notes[s] = (f"too few cases for PRIM (first in {int(first.sum())}, not first in "
                        f"{int(lost.sum())} futures; needs {MIN_CASES} of each and a varying "
                        "feature)")
            continue
        x = pd.DataFrame({c: futures[c].astype(np.float64).to_numpy() for c in cols})
        factors = [_factor(futures, c) for c in cols]
        found, box_notes = prim_boxes(x, lost, factors, min_density=PRIM_MIN_DENSITY)
        if not found:
            notes[s] = "PRIM found no box"
            continue
        box = found[0]
        restricted = box.limits[box.limits["restricted_low"] | box.limits["restricted_high"]]
        notes[s] = "; ".join(box_notes) if len(restricted) else \
            (f"PRIM found no range of the features that sets apart the {int(lost.sum())} "
             "futures where it is not first")
        for _, r in restricted.iterrows():
            rows.append({"strategy": s, "box": box.number, "coverage": box.coverage,
                         "density": box.density, "mass": box.mass, "futures_in_box":
                         box.samples, "lost_lead": int(lost.sum()), "feature": r["factor"],
                         "low": r["low"], "high": r["high"], "range_low": r["sweep_low"],
                         "range_high": r["sweep_high"], "unit": r["unit"],
                         "quasi_p": float(np.nanmax([r["qp_low"], r["qp_high"]]))})
    columns = ["strategy", "box", "coverage", "density", "mass", "futures_in_box",
               "lost_lead", "feature", "low", "high", "range_low", "range_high", "unit",
               "quasi_p"]
    return pd.DataFrame(rows, columns=columns), notes


# ----------------------------------------------------------------------------- files
def write_robustness(folder: Path, runs: pd.DataFrame, futures: pd.DataFrame,
                     strategies: Sequence[str], baseline: str,
                     figures: bool = True, count: str = "official") -> pd.DataFrame:
    """futures_summary.csv, robustness.csv, discovery.csv, robustness.md and figures/ in
    `folder` (each written atomically), returns counted on `count` (COUNTS); returns the
    per-strategy summary."""
    folder = Path(folder)
    runs = on_count(runs, count)
    ranked = rank_futures(runs, strategies, baseline)
    noise = lead_noise(runs, ranked)
    summary = strategy_summary(ranked, strategies)
    if len(noise):
        led = noise.set_index("future")
        ranked["lead_within_noise"] = np.where(
            ranked["rank"] == 1, ranked["future"].map(led["within_noise"]), np.nan)
        for i, s in enumerate(summary["strategy"]):
            mine = noise[noise["first"] == s]["within_noise"].dropna()
            summary.loc[i, "first_within_noise"] = float(mine.mean()) if len(mine) \
                else math.nan
    boxes, notes = lost_lead_boxes(ranked, futures, strategies)
    summary["count"] = count
    summary["discovery_note"] = summary["strategy"].map(notes).fillna("")
    base = future_means(runs)
    base = base[base["scenario"] == baseline]
    table = pd.concat([ranked, base[~base["scenario"].isin(strategies)]], ignore_index=True)
    table = table.sort_values(["future"], kind="stable", ignore_index=True)
    _write_csv(folder / "futures_summary.csv", table)
    _write_csv(folder / "robustness.csv", summary)
    _write_csv(folder / "discovery.csv", boxes)
    overall = noise["within_noise"].dropna() if len(noise) else pd.Series(dtype=float)
    meta = {"baseline": baseline, "strategies": list(strategies), "count": count,
            "futures": int(futures["future"].nunique()),
            "replicates": int(runs["replicate"].nunique()),
            "within_noise": float(overall.mean()) if len(overall) else None}
    if figures:
        save_figures(folder / "figures", ranked, summary, strategies)
    atomic_write_text(folder / "robustness.md",
                      render_section(summary, boxes, futures, meta,
                                     figures="figures" if figures else None))
    return summary


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write_text(path, frame.to_csv(index=False))


def render_robustness_section(folder: str | Path) -> str:
    """The report section of a robustness folder (markdown), from its files."""
    folder = Path(folder)
    summary = pd.read_csv(folder / "robustness.csv", keep_default_na=True)
    summary["discovery_note"] = summary["discovery_note"].fillna("")
    boxes = pd.read_csv(folder / "discovery.csv")
    futures = pd.read_csv(folder / "futures.csv")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    runs = pd.read_parquet(folder / "runs.parquet", columns=["replicate"])
    fs = pd.read_csv(folder / "futures_summary.csv")
    # one value per future (tied leaders repeat it)
    per_future = fs.loc[fs["rank"] == 1].drop_duplicates("future")["lead_within_noise"] \
        .dropna() if "lead_within_noise" in fs else pd.Series(dtype=float)
    meta = {"baseline": manifest["fingerprint"]["baseline"],
            "strategies": summary["strategy"].tolist(),
            "count": str(summary["count"].iloc[0]) if "count" in summary and len(summary)
            else "official",
            "futures": int(futures["future"].nunique()),
            "replicates": int(runs["replicate"].nunique()),
            "within_noise": float(per_future.mean()) if len(per_future) else None}
    figures = "figures" if (folder / "figures").is_dir() else None
    return render_section(summary, boxes, futures, meta, figures)


def _pct(x: float) -> str:
    """A share as a whole percentage; a share that is not 0 (or 1) never shows as 0% (100%)."""
    if x != x:
        return "–"
    if 0 < x < 0.01 or 0.99 < x < 1:  # one decimal, then never 0% or 100% when it is not
        text = f"{100 * x:.1f}"
        return ("<0.1" if text == "0.0" else ">99.9" if text == "100.0" else text) + "%"
    return f"{100 * x:.0f}%"


def _num(x: float, fmt: str = "{:,.0f}") -> str:
    return "–" if x != x else fmt.format(x)


def render_section(summary: pd.DataFrame, boxes: pd.DataFrame, futures: pd.DataFrame,
                   meta: dict[str, Any], figures: str | None = None) -> str:
    """The markdown section (see render_robustness_section)."""
    n, reps = meta["futures"], meta["replicates"]
    strategies = list(summary["strategy"])
    k = len(strategies)
    lines = [f"## {TITLE}", "",
             f"Every strategy and the baseline ({meta['baseline']}) ran in {n} futures "
             f"x {reps} replicate(s), on paired seeds within each future. A future draws "
             "the county's uncertain status quo (see futures.csv: calibrated parameter "
             "sets, uncertain constants, structural switches, shocks). In each future the "
             "strategies are ranked by returns to poverty over the evaluation window (mean "
             "over replicates; lower is better; exact ties share the best rank), "
             + ("on the hardship test (income net of the medical bills, school fees and "
                "disaster losses not paid from savings)." if meta.get("count") == "hardship"
                else "on the official income test."), ""]
    lines += ["### Reading", ""] + [f"- {s}" for s in reading(summary, meta)] + [""]
    lines += ["### First place and rank distribution", "",
              "| strategy | first in | P(first) [95% Wilson] | mean rank | "
              + " | ".join(f"rank {r}" for r in range(1, k + 1)) + " |",
              "|---|---:|---|---:|" + "---:|" * k]
    for _, r in summary.iterrows():
        lines.append(f"| {r['strategy']} | {int(r['first'])}/{int(r['futures'])} | "
                     f"{_pct(r['p_first'])} [{_pct(r['p_first_low'])}, "
                     f"{_pct(r['p_first_high'])}] | {r['mean_rank']:.2f} | "
                     + " | ".join(_pct(r[f"rank_{j}"]) for j in range(1, k + 1)) + " |")
    lines += ["", "### Regret and cost per avoided return", "",
              "Regret: returns above the best strategy of the same future (county "
              "households over the window; in brackets as % of the baseline's returns). Cost "
              "per avoided return against the baseline (yuan), over the futures where the "
              "strategy avoids returns.", "",
              "| strategy | mean returns | regret mean | regret p90 | regret max | "
              "cost/avoided median | p10 | p90 | futures avoiding none |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for _, r in summary.iterrows():
        lines.append(
            f"| {r['strategy']} | {_num(r['returns_mean'])} | {_num(r['regret_mean'])} "
            f"({_num(r['regret_pct_mean'], '{:.1f}')}%) | {_num(r['regret_p90'])} "
            f"({_num(r['regret_pct_p90'], '{:.1f}')}%) | {_num(r['regret_max'])} "
            f"({_num(r['regret_pct_max'], '{:.1f}')}%) | {_num(r['per_avoided_median'])} | "
            f"{_num(r['per_avoided_p10'])} | {_num(r['per_avoided_p90'])} | "
            f"{_pct(r['share_none_avoided'])} |")
    lines += ["", "### How sure is the ranking", ""]
    if meta["within_noise"] is None:
        lines.append("Not assessed: the lead of the first strategy over the second needs "
                     "two strategies or more and at least two replicates per future.")
    else:
        lines.append(f"In {_pct(meta['within_noise'])} of the futures the first strategy's "
                     "lead over the second is within the replicate noise (the paired 95% "
                     "t-interval of the lead includes 0, or the two are tied): there the "
                     "first place is not resolved by the runs, and more replicates (or "
                     "households) would be needed to call it.")
    lines += ["", "### Where a leader loses its lead (PRIM)", "",
              "For each strategy that is first in some futures, the box of future features "
              "where it is *not* first: coverage = share of those futures inside the box, "
              "density = share of the box's futures where it is not first. A restriction "
              "with quasi-p above 0.05 is not statistically meaningful (EMA Workbench's "
              "binomial test); with few futures, read the boxes as hints.", ""]
    for _, r in summary.iterrows():
        mine = boxes[boxes["strategy"] == r["strategy"]]
        if mine.empty:
            lines.append(f"- **{r['strategy']}**: {r['discovery_note'] or 'no box'}")
            continue
        b = mine.iloc[0]
        limits = "; ".join(f"`{x['feature']}` in [{x['low']:.4g}, {x['high']:.4g}] "
                           f"(of {x['range_low']:.4g}..{x['range_high']:.4g} {x['unit']}; "
                           f"quasi-p {x['quasi_p']:.2g})" for _, x in mine.iterrows())
        note = f" ({r['discovery_note']})" if r["discovery_note"] else ""
        lines.append(f"- **{r['strategy']}** loses its lead in {int(b['lost_lead'])} futures; "
                     f"box: {limits}; coverage {b['coverage']:.2f}, density "
                     f"{b['density']:.2f}, {int(b['futures_in_box'])} futures{note}")
    if figures:
        lines += ["", f"![Rank distribution]({figures}/rank_distribution.png)", "",
                  f"![Regret]({figures}/regret.png)", "",
                  f"![Cost per avoided return]({figures}/cost_per_avoided.png)"]
    lines.append("")
    return "\n".join(lines)


def reading(summary: pd.DataFrame, meta: dict[str, Any]) -> list[str]:
    """A few plain sentences generated from the numbers."""
    out = []
    s = summary.sort_values(["p_first", "mean_rank"], ascending=[False, True])
    top = s.iloc[0]
    n = int(top["futures"])
    winners = s.iloc[1:][s.iloc[1:]["first"] > 0]
    if top["p_first"] >= 0.999:
        out.append(f"{top['strategy']} is first in every one of the {n} futures: the "
                   "top of the ranking does not depend on the uncertainty sampled here"
                   + (" (others tie with it in some futures)." if len(winners) else "."))
    else:
        out.append(f"{top['strategy']} is most often first ({_pct(top['p_first'])} of {n} "
                   f"futures, 95% interval {_pct(top['p_first_low'])}-"
                   f"{_pct(top['p_first_high'])}).")
        if len(winners):
            out.append("Also first in some futures: " + ", ".join(
                f"{w['strategy']} ({_pct(w['p_first'])})" for _, w in winners.iterrows())
                + " — the best choice depends on which world M County is in.")
    if len(s) > 2 and "rank_2" in s:
        second = s.sort_values("rank_2", ascending=False).iloc[0]
        if second["rank_2"] > 0:
            out.append(f"Most often second: {second['strategy']} ({_pct(second['rank_2'])} of "
                       "the futures).")
    regret = summary.sort_values("regret_mean").iloc[0]
    out.append(f"Least regret on average: {regret['strategy']} (on average "
               f"{_num(regret['regret_mean'])} returns above the best strategy of each "
               f"future, at most {_num(regret['regret_max'])}).")
    if regret["strategy"] != top["strategy"]:
        out.append(f"The most-often-first and the least-regret strategies differ: "
                   f"{top['strategy']} wins more often, {regret['strategy']} loses less "
                   "when it does not win.")
    cheap = summary.dropna(subset=["per_avoided_median"])
    if len(cheap):
        c = cheap.sort_values("per_avoided_median").iloc[0]
        out.append(f"Cheapest per avoided return (median over futures): {c['strategy']}, "
                   f"{_num(c['per_avoided_median'])} yuan (10th-90th percentile "
                   f"{_num(c['per_avoided_p10'])} to {_num(c['per_avoided_p90'])}).")
    never = summary[summary["share_none_avoided"] > 0]
    for _, r in never.iterrows():
        out.append(f"{r['strategy']} avoids no returns against the baseline in "
                   f"{_pct(r['share_none_avoided'])} of the futures.")
    if meta.get("within_noise") is not None and meta["within_noise"] > 0.25:
        few = (f" (with {meta['replicates']} replicates the t-interval of the margin is "
               "wide; more replicates narrow it)") if meta.get("replicates", 0) <= 3 else ""
        out.append(f"In {_pct(meta['within_noise'])} of the futures the leader's margin is "
                   f"within replicate noise{few}: read the first-place shares as "
                   "approximate.")
    return out


def save_figures(folder: Path, ranked: pd.DataFrame, summary: pd.DataFrame,
                 strategies: Sequence[str]) -> None:
    """rank_distribution.png, regret.png, cost_per_avoided.png in `folder`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from analysis.figures import save_png

    folder.mkdir(parents=True, exist_ok=True)
    k, n = len(strategies), int(summary["futures"].iloc[0]) if len(summary) else 0
    fig, ax = plt.subplots(figsize=(6.5, 0.5 * k + 1.8), layout="constrained")
    left = np.zeros(k)
    cmap = plt.get_cmap("RdYlGn_r", max(k, 2))
    for j in range(1, k + 1):
        share = summary[f"rank_{j}"].to_numpy(float)
        ax.barh(range(k), share, left=left, color=cmap(j - 1), label=f"rank {j}")
        left += share
    ax.set_yticks(range(k), summary["strategy"])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of futures")
    ax.set_title(f"Rank by returns to poverty in {n} futures (1 = fewest returns)", fontsize=9)
    ax.legend(fontsize=7, ncols=min(k, 6), loc="lower center", bbox_to_anchor=(0.5, 1.08))
    save_png(fig, folder / "rank_distribution.png", dpi=120)

    fig, ax = plt.subplots(figsize=(6.5, 0.5 * k + 1.8), layout="constrained")
    data = [ranked.loc[ranked["scenario"] == s, "regret"].to_numpy(float) for s in strategies]
    ax.boxplot(data, orientation="horizontal", showfliers=False)
    rng = np.random.default_rng(0)  # jitter of the strip only (display, not results)
    for i, d in enumerate(data, start=1):
        ax.scatter(d, i + rng.uniform(-0.15, 0.15, len(d)), s=6, alpha=0.4, color="C0")
    ax.set_yticks(range(1, k + 1), strategies)
    ax.invert_yaxis()
    ax.set_xlabel("regret: returns above the best strategy of the future (households)")
    ax.set_title(f"Regret in {n} futures (box: quartiles; dots: futures)", fontsize=9)
    save_png(fig, folder / "regret.png", dpi=120)

    fig, ax = plt.subplots(figsize=(6.5, 0.5 * k + 1.8), layout="constrained")
    data = [ranked.loc[ranked["scenario"] == s, "per_avoided"].dropna().to_numpy(float) / 1e6
            for s in strategies]
    shown = [d if d.size else np.array([np.nan]) for d in data]
    ax.boxplot(shown, orientation="horizontal", showfliers=False)
    for i, d in enumerate(data, start=1):
        ax.scatter(d, i + rng.uniform(-0.15, 0.15, len(d)), s=6, alpha=0.4, color="C1")
    ax.set_yticks(range(1, k + 1), [f"{s} ({len(d)} futures)" for s, d in
                                    zip(strategies, data, strict=True)])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.set_xlabel("extra fiscal cost per avoided return vs the baseline (million yuan)")
    ax.set_title("Cost per avoided return, over the futures where returns are avoided",
                 fontsize=9)
    save_png(fig, folder / "cost_per_avoided.png", dpi=120)


__all__ = ["COUNTS", "MIN_CASES", "TITLE", "future_means", "lead_noise", "lost_lead_boxes",
           "on_count", "rank_futures", "reading", "render_robustness_section", "render_section",
           "save_figures", "strategy_summary", "wilson", "write_robustness"]
