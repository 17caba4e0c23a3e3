"""Result files of simulate / compare: what the runs produced, per-household events, manifest.

Layout of a results folder (built by simulation.common.output.OutputFolder: atomically, never over
something the user made):

    runs.parquet        one row per run and year: scenario, replicate, seed, year, metrics
    events.parquet      per-household events (fall, rise, identified, ...) of every run
    households.parquet  households as they entered 2021, per scenario and replicate, with
                        each household's weight
    scenarios/<name>.toml     each scenario as resolved (after inheritance; with the
                        population file when the households came from records)
    manifest.json       seeds, engine, package versions, git revision, wall time, command

summary.csv, headline.csv and figures/ are added by analysis.headline.write_tables.
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

import numpy as np
import pandas as pd

from simulation.experiments.runner import RunResult
from simulation.model.codes import CAUSES, EVENTS
from simulation.model.scenario import Scenario

SCENARIO_FOLDER = "scenarios"
"""Sub-folder holding each scenario as resolved, one `<name>.toml` per scenario."""

def runs_frame(results: Sequence[RunResult]) -> pd.DataFrame:
    rows = [{"scenario": r.scenario, "replicate": r.replicate, "seed": r.seed, **year}
            for r in results for year in r.years]
    df = pd.DataFrame(rows)
    if not df.empty:
        df["year"] = df["year"].astype(int)
    return df


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
                  wall_seconds: float, command: Sequence[str],
                  extra_files: dict[str, str] | None = None) -> pd.DataFrame:
    """Write what the runs produced into `folder` (a new folder being built, see
    simulation.common.output.OutputFolder); returns runs.parquet's frame. Tables and figures
    computed from these files are the analysis layer's (analysis.headline.write_tables)."""
    tmp = Path(folder)
    runs = runs_frame(results)
    runs.to_parquet(tmp / "runs.parquet", index=False)
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
                                "years": sc.years, "households": sc.households,
                                "population_file": sc.population_file}
                      for sc in scenarios},
        "wall_seconds": round(wall_seconds, 3),
        "run_seconds": {f"{r.scenario}/{r.replicate}": round(r.seconds, 3)
                        for r in results},
        "versions": versions(), "git_revision": git_revision(),
        "platform": platform.platform(), "argv0": sys.argv[0],
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return runs
