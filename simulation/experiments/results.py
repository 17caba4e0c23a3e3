"""Result files of simulate / compare: tables, per-household events, manifest, figures.

Layout of a results folder (built by simulation.common.output.OutputFolder: atomically, never over
something the user made):

    runs.parquet        one row per run and year: scenario, replicate, seed, year, metrics
    summary.csv         scenario, year, metric, mean, low, high, replicates (95% t-interval)
    headline.csv        per scenario: horizon totals and paired differences against baseline
    events.parquet      per-household events (fall, rise, identified, ...) of every run
    households.parquet  households as they entered 2021, per scenario and replicate
    scenarios/<name>.toml     each scenario as resolved (after inheritance)
    manifest.json       seeds, engine, package versions, git revision, wall time, command
    figures/*.png       returns with 95% bands, causes of returns, monitoring flows
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.common.stats import mean_interval
from simulation.experiments.runner import RunResult
from simulation.model.metrics import METRICS
from simulation.model.rules import CAUSES
from simulation.model.scenario import Scenario
from simulation.model.state import EVENTS

SCENARIO_FOLDER = "scenarios"
"""Sub-folder holding each scenario as resolved, one `<name>.toml` per scenario."""

FLOW_METRICS = ("returned_households", "newly_poor_households", "monitoring_inflow",
                "risk_eliminated", "fiscal_cost_yuan", "fiscal_cost_responsibility",
                "fiscal_cost_social_security", "fiscal_cost_industry", "fiscal_cost_motivation",
                *(f"cause_{c}" for c in CAUSES))
"""Metrics summed over the horizon in headline tables."""


def runs_frame(results: Sequence[RunResult]) -> pd.DataFrame:
    rows = [{"scenario": r.scenario, "replicate": r.replicate, "seed": r.seed, **year}
            for r in results for year in r.years]
    df = pd.DataFrame(rows)
    if not df.empty:
        df["year"] = df["year"].astype(int)
    return df


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% interval over replicates, per scenario, year and metric."""
    metrics = [m for m in METRICS if m != "year" and m in runs.columns]
    long = runs.melt(id_vars=["scenario", "replicate", "year"], value_vars=metrics,
                     var_name="metric")
    rows = []
    for (scenario, year, metric), group in long.groupby(["scenario", "year", "metric"],
                                                        sort=False):
        mean, low, high = mean_interval(group["value"].to_numpy())
        rows.append((scenario, year, metric, mean, low, high, len(group)))
    return pd.DataFrame(rows, columns=["scenario", "year", "metric", "mean", "low", "high",
                                       "replicates"])


def horizon_totals(runs: pd.DataFrame) -> pd.DataFrame:
    """Per run: flow metrics summed over the horizon."""
    cols = [m for m in FLOW_METRICS if m in runs.columns]
    return runs.groupby(["scenario", "replicate", "seed"], sort=False)[cols].sum().reset_index()


def headline(runs: pd.DataFrame, baseline: str | None) -> pd.DataFrame:
    """Per scenario: returns and cost over the horizon with 95% intervals, and paired
    differences against the baseline (same seeds): avoided returns, extra cost, cost per
    avoided return."""
    totals = horizon_totals(runs)
    base = totals[totals["scenario"] == baseline].set_index("seed") if baseline else None
    rows = []
    for scenario, group in totals.groupby("scenario", sort=False):
        g = group.set_index("seed")
        row: dict[str, Any] = {"scenario": scenario, "replicates": len(g)}
        for col, name in (("returned_households", "returns"), ("newly_poor_households",
                                                               "newly_poor"),
                          ("fiscal_cost_yuan", "cost")):
            row[name], row[f"{name}_low"], row[f"{name}_high"] = mean_interval(g[col])
        if base is not None and scenario != baseline:
            seeds = g.index.intersection(base.index)
            avoided = base.loc[seeds, "returned_households"] - g.loc[seeds, "returned_households"]
            extra = g.loc[seeds, "fiscal_cost_yuan"] - base.loc[seeds, "fiscal_cost_yuan"]
            row["avoided"], row["avoided_low"], row["avoided_high"] = mean_interval(avoided)
            row["extra_cost"], row["extra_cost_low"], row["extra_cost_high"] = \
                mean_interval(extra)
            row["cost_per_avoided_return"] = (row["extra_cost"] / row["avoided"]
                                              if row["avoided"] > 0 else float("nan"))
        rows.append(row)
    return pd.DataFrame(rows)


def events_frame(results: Sequence[RunResult]) -> pd.DataFrame:
    frames = []
    for r in results:
        e = r.events
        frames.append(pd.DataFrame({
            "scenario": r.scenario, "replicate": np.int16(r.replicate),
            "month": e[:, 0].astype(np.int16), "household": e[:, 1].astype(np.int32),
            "event": pd.Categorical.from_codes(e[:, 2], categories=list(EVENTS)),
            "cause": pd.Categorical.from_codes(np.where(e[:, 3] < 0, -1, e[:, 3]),
                                               categories=list(CAUSES))}))
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    df["scenario"] = df["scenario"].astype("category")
    return df


def households_frame(results: Sequence[RunResult]) -> pd.DataFrame:
    frames = []
    for r in results:
        df = pd.DataFrame(r.households)
        df.insert(0, "household", np.arange(len(df), dtype=np.int32))
        df.insert(0, "replicate", np.int16(r.replicate))
        df.insert(0, "scenario", r.scenario)
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def git_revision() -> str:
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("mesa", "numpy", "pandas", "matplotlib", "SALib", "scipy", "pyarrow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return out


def write_results(folder: Path, scenarios: Sequence[Scenario], results: Sequence[RunResult], *,
                  baseline: str | None, seed: int, replicates: int, engine: str,
                  wall_seconds: float, command: Sequence[str], figures: bool = True,
                  extra_files: dict[str, str] | None = None) -> pd.DataFrame:
    """Write every result file into `folder` (a new folder being built, see
    simulation.common.output.OutputFolder); return the headline table."""
    tmp = Path(folder)
    runs = runs_frame(results)
    runs.to_parquet(tmp / "runs.parquet", index=False)
    summarize(runs).to_csv(tmp / "summary.csv", index=False)
    table = headline(runs, baseline)
    table.to_csv(tmp / "headline.csv", index=False)
    events_frame(results).to_parquet(tmp / "events.parquet", index=False)
    households_frame(results).to_parquet(tmp / "households.parquet", index=False)
    (tmp / SCENARIO_FOLDER).mkdir()
    for sc in scenarios:
        (tmp / SCENARIO_FOLDER / f"{sc.name}.toml").write_text(sc.to_toml(), encoding="utf-8")
    for name, text in (extra_files or {}).items():
        (tmp / name).write_text(text, encoding="utf-8")
    manifest = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(command), "engine": engine, "seed": seed,
        "replicates": replicates, "seeds": [seed + r for r in range(replicates)],
        "baseline": baseline,
        "scenarios": {sc.name: {"source": sc.source, "digest": sc.digest(),
                                "years": sc.years, "households": sc.households}
                      for sc in scenarios},
        "wall_seconds": round(wall_seconds, 3),
        "run_seconds": {f"{r.scenario}/{r.replicate}": round(r.seconds, 3)
                        for r in results},
        "versions": versions(), "git_revision": git_revision(),
        "platform": platform.platform(), "argv0": sys.argv[0],
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if figures:
        from analysis.figures import save_standard_figures

        save_standard_figures(runs, tmp / "figures", baseline)
    return table
