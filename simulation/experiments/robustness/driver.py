"""run_robustness: every strategy and the baseline in every future, on paired seeds.

One *task* is one (future, replicate): the strategies and the baseline, each in that future
(futures.future_scenarios), all on the task's seed (futures.run_seed): common random numbers
within a future, so a ranking inside a future is not noise between seeds; different seeds
across futures. Scenarios that share their history are simulated with
`runner.run_shared_history` (the 2021..policy-date history once, then a fork per scenario;
identical to separate runs). A task gives one row per scenario with its window totals
(returns, new_poverty, their hardship pair, fiscal_cost: county totals summed from the policy
year to the horizon, as analysis.headline.horizon_totals).

Tasks go to an executor (sweep.execute.make_executor: this process, a local pool or Dask) in
chunks; every finished chunk is an atomic Parquet part file in OUT/parts, so a run killed at
any moment continues with `--resume` computing only the missing (future, replicate) pairs;
the final runs.parquet is sorted, so it is identical to an uninterrupted run's and does not
depend on the number of workers. The folder holds its fingerprint (futures file and
ensemble content, strategies, options) and a lock: a different specification or a second
process in the same folder is refused.

The evaluation is injectable (`evaluate`, a picklable callable of a FutureTask): the default
runs the model (ModelEvaluator); tests use a closed-form toy whose answers are known.
"""

from __future__ import annotations

import json
import platform
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd

from simulation.common.errors import OutputError
from simulation.common.output import (
    MARKER,
    TOOL,
    atomic_write_frame,
    atomic_write_text,
    check_replaceable,
    read_marker,
)
from simulation.experiments.robustness.futures import (
    FuturesSpec,
    future_scenarios,
    make_futures,
    run_seed,
)
from simulation.model.county import County
from simulation.model.scenario import Scenario, ScenarioError

FORMAT: Final = 1
KIND: Final = "robustness"
ROBUSTNESS_ENTRIES: Final = frozenset({
    "manifest.json", "futures.toml", "futures.csv", "parts", "runs.parquet",
    "futures_summary.csv", "robustness.csv", "robustness.md", "discovery.csv", "figures",
    ".lock"})
"""Everything a robustness run writes into its folder over its life."""
PART: Final = re.compile(r"^part-(\d{6})\.parquet$")
CHUNK: Final = 4
"""Tasks per executor submission at most (a task is ~0.1 s per scenario at 5,000 households;
a few seconds of work per message)."""
WINDOW_TOTALS: Final[dict[str, str]] = {
    "returns": "returned_households", "new_poverty": "newly_poor_households",
    "returns_hardship": "returned_households_hardship",
    "new_poverty_hardship": "newly_poor_households_hardship",
    "fiscal_cost": "fiscal_cost_yuan"}
"""Outcome -> yearly metric summed over the evaluation window: the same sums as
analysis.outcomes.HORIZON_SUMS (tests/test_robustness.py holds them equal; the experiments
layer may not import analysis)."""
OUTCOMES: Final = tuple(WINDOW_TOTALS)


@dataclass(frozen=True)
class Options:
    """How a robustness run is made (all part of its fingerprint)."""

    count: int = 50
    """futures (1-100,000; assumption: 50 gives a first-rank share to about ±0.14)"""
    replicates: int = 3
    """runs per future and scenario on paired seeds (1-1,000)"""
    households: int = 5000
    """simulated households per run (the schema's run.households range)"""
    seed: int = 2021
    years: int | None = None
    """horizon in years from 2021 (None: the scenarios' own, 15)"""
    engine: str = "arrays"

    def fingerprint(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class FutureTask:
    """One (future, replicate): every scenario of the future on one seed."""

    future: int
    replicate: int
    seed: int
    features: Mapping[str, Any]
    """The future's row of the futures table."""
    scenarios: tuple[Scenario, ...]
    window_start: int
    """First year of the evaluation window (the policy year)."""


Evaluator = Callable[[FutureTask], dict[str, dict[str, float]]]
"""task -> scenario name -> outcome (OUTCOMES) -> value."""


class ModelEvaluator:
    """Runs the model: scenarios sharing their history on the task's seed are simulated
    together (run_shared_history), others alone (run_one); window totals per scenario."""

    def __init__(self, engine: str = "arrays") -> None:
        self.engine = engine

    def __call__(self, task: FutureTask) -> dict[str, dict[str, float]]:
        from simulation.experiments.runner import run_one, run_shared_history

        groups: dict[object, list[Scenario]] = {}
        for k, sc in enumerate(task.scenarios):
            key: object = ("alone", k)
            if self.engine == "arrays" and 0 < sc.policy_month < sc.years * 12:
                from simulation.model.arrays_engine import history_key

                key = history_key(sc)
            groups.setdefault(key, []).append(sc)
        out: dict[str, dict[str, float]] = {}
        for members in groups.values():
            if len(members) > 1:
                results = run_shared_history(members, task.seed, replicate=task.replicate,
                                             record_events=False)
            else:
                results = [run_one(members[0], task.seed, replicate=task.replicate,
                                   engine=self.engine, record_events=False)]
            for sc, result in zip(members, results, strict=True):
                window = [y for y in result.years if y["year"] >= task.window_start]
                out[sc.name] = {name: float(sum(y[metric] for y in window))
                                for name, metric in WINDOW_TOTALS.items()}
        return out


@dataclass(frozen=True)
class FutureChunk:
    """Tasks computed by one executor submission (one pickled message)."""

    evaluate: Evaluator
    tasks: tuple[FutureTask, ...]


def run_future_chunk(chunk: FutureChunk) -> list[dict[str, Any]]:
    """Rows of every task of `chunk`: future, replicate, seed, scenario, outcomes, seconds."""
    rows = []
    for t in chunk.tasks:
        start = time.perf_counter()
        outcomes = chunk.evaluate(t)
        seconds = (time.perf_counter() - start) / max(len(t.scenarios), 1)
        for sc in t.scenarios:
            rows.append({"future": t.future, "replicate": t.replicate, "seed": t.seed,
                         "scenario": sc.name, **{o: float(outcomes[sc.name][o])
                                                 for o in OUTCOMES},
                         "seconds": seconds})
    return rows


@dataclass
class RobustnessReport:
    """What a robustness run did (the tables are analysis.robustness's)."""

    out: Path
    futures: pd.DataFrame
    runs: pd.DataFrame
    computed_tasks: int = 0
    computed_runs: int = 0
    wall_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def runs_per_second(self) -> float:
        return self.computed_runs / self.wall_seconds if self.wall_seconds > 0 else 0.0


Progress = Callable[[int, int], None]


# ----------------------------------------------------------------------------- the folder
def folder_state(out: Path, fingerprint: dict[str, Any], resume: bool,
                 replace: bool) -> dict[str, Any] | None:
    """The manifest to continue (resume), or None for a fresh start; OutputError otherwise."""
    if resume and replace:
        raise OutputError("--resume continues the robustness run in --out and --replace "
                          "starts it afresh; give one of them")
    manifest_path = out / "manifest.json"
    marker = read_marker(out) if out.is_dir() else None
    existing = None
    if marker is not None and marker.get("kind") == KIND and manifest_path.is_file():
        existing = json.loads(manifest_path.read_text(encoding="utf-8"))
    if resume:
        if existing is None:
            raise OutputError(f"{out}: holds no robustness run of this program to resume")
        if existing.get("fingerprint") != fingerprint:
            old = existing.get("fingerprint", {})
            diff = next((k for k in fingerprint if old.get(k) != fingerprint[k]), "?")
            raise OutputError(f"{out}: cannot resume, the folder holds a different robustness "
                              f"run ({diff} differs); use the same futures file, strategies "
                              "and options")
        return existing
    if existing is not None and not replace:
        raise OutputError(f"{out}: already holds a robustness run ({existing.get('status')}); "
                          "add --resume to continue it, --replace to start it afresh, or "
                          "choose another --out")
    check_replaceable(out, replace=replace, extra=ROBUSTNESS_ENTRIES)
    return None


def _create(out: Path, spec: FuturesSpec, futures: pd.DataFrame, fingerprint: dict[str, Any],
            command: Sequence[str]) -> dict[str, Any]:
    from simulation.experiments.results import git_revision, versions

    if out.exists():  # an earlier output of ours that --replace accepted: empty it
        import shutil

        for entry in out.iterdir():
            if entry.name != ".lock" and (entry.name in ROBUSTNESS_ENTRIES
                                          or entry.name == MARKER):
                (shutil.rmtree if entry.is_dir() else Path.unlink)(entry)
    (out / "parts").mkdir(exist_ok=True)
    atomic_write_text(out / MARKER, json.dumps(
        {"tool": TOOL, "kind": KIND, "created": datetime.now(UTC).isoformat(timespec="seconds"),
         "entries": sorted(ROBUSTNESS_ENTRIES)}, indent=1))
    atomic_write_text(out / "futures.toml", Path(spec.source).read_text(encoding="utf-8"))
    atomic_write_text(out / "futures.csv", futures.to_csv(index=False))
    manifest = {"kind": "poverty-return robustness", "format": FORMAT, "name": spec.name,
                "futures_file": spec.source, "ensemble": spec.ensemble_source,
                "fingerprint": fingerprint,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "status": "running", "sessions": [], "versions": versions(),
                "git_revision": git_revision(), "platform": platform.platform(),
                "command": list(command)}
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=1))
    return manifest


def _lock(out: Path) -> Any:
    """Hold the folder's lock file for this process (one run per folder at a time)."""
    import fcntl

    handle = open(out / ".lock", "a+")  # noqa: SIM115 - held until the run ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise OutputError(f"{out}: another robustness run is using this folder") from None
    return handle


def read_parts(out: Path) -> pd.DataFrame:
    """Every run on disk in OUT/parts (unsorted; empty frame if none)."""
    parts = sorted(p for p in (out / "parts").glob("part-*.parquet") if PART.match(p.name))
    if not parts:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def _next_part(out: Path) -> int:
    numbers = [int(m.group(1)) for p in (out / "parts").glob("part-*.parquet")
               if (m := PART.match(p.name))]
    return max(numbers, default=-1) + 1


def sorted_runs(runs: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Runs in (future, replicate, scenario order) without timing columns: the same frame
    whatever the workers, chunks or sessions."""
    order = {n: i for i, n in enumerate(names)}
    runs = runs.drop_duplicates(["future", "replicate", "scenario"])
    runs = runs.assign(_order=runs["scenario"].map(order)).sort_values(
        ["future", "replicate", "_order"], ignore_index=True)
    return runs[["future", "replicate", "seed", "scenario", *OUTCOMES]]


# ----------------------------------------------------------------------------- the run
def fingerprint_of(spec: FuturesSpec, county: County, scenarios: Sequence[Scenario],
                   baseline: str, opts: Options) -> dict[str, Any]:
    import hashlib

    place = hashlib.sha256(repr(sorted(county.values.items())).encode()).hexdigest()[:16]
    return {"futures": spec.digest(), "county": place,
            "scenarios": [[sc.name, sc.digest()] for sc in scenarios],
            "baseline": baseline, **opts.fingerprint()}


def build_tasks(spec: FuturesSpec, county: County, futures: pd.DataFrame,
                scenarios: Sequence[Scenario], opts: Options,
                skip: set[tuple[int, int]]) -> list[FutureTask]:
    """Every (future, replicate) not in `skip`, its scenarios built in this process (a future
    that makes an invalid county fails here, before any run)."""
    tasks = []
    window_start = min(sc.policy_year for sc in scenarios)
    for row in futures.to_dict("records"):
        built = future_scenarios(spec, county, row, scenarios)
        features = dict(row)
        for r in range(opts.replicates):
            if (int(row["future"]), r) in skip:
                continue
            tasks.append(FutureTask(int(row["future"]), r,
                                    run_seed(opts.seed, int(row["future"]), r), features,
                                    built, window_start))
    return tasks


def run_robustness(spec: FuturesSpec, county: County, scenarios: Sequence[Scenario],
                   baseline: str, out: Path | str, opts: Options, *,
                   evaluate: Evaluator | None = None, workers: int | None = None,
                   scheduler: str | None = None, resume: bool = False, replace: bool = False,
                   progress: Progress | None = None,
                   notice: Callable[[str], None] | None = None,
                   command: Sequence[str] = (), stop_after: int | None = None
                   ) -> RobustnessReport:
    """Run every scenario (strategies and `baseline`, already loaded with the run's
    households and horizon) in `opts.count` futures of `spec` in `county` into `out` (see
    the module docstring). `stop_after`: raise KeyboardInterrupt once that many tasks are on
    disk (tests of --resume).

    Raises ScenarioError / OutputError for bad input (CLI exit 2) before any run;
    KeyboardInterrupt leaves every finished chunk on disk for --resume."""
    from simulation.experiments.runner import prepare_engine
    from simulation.experiments.sweep.execute import make_executor

    out = Path(out)
    names = [sc.name for sc in scenarios]
    if baseline not in names:
        raise ScenarioError(f"baseline {baseline!r} is not among the scenarios")
    if min(sc.policy_month for sc in scenarios) >= min(sc.years for sc in scenarios) * 12:
        raise ScenarioError("the horizon ends before the policy date: no evaluation window "
                            "(lengthen run.years)")
    futures = make_futures(spec, opts.count, opts.seed)
    fingerprint = fingerprint_of(spec, county, scenarios, baseline, opts)
    manifest = folder_state(out, fingerprint, resume, replace)
    # every future's scenarios are built before the folder is touched (bad values: exit 2)
    all_tasks = build_tasks(spec, county, futures, scenarios, opts, set())
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the robustness folder ({exc.strerror}); "
                          "choose another --out") from None
    lock = _lock(out)
    report = RobustnessReport(out, futures, pd.DataFrame())
    start = time.perf_counter()
    executor = None
    try:
        if manifest is None:  # the folder is ours from here on, whatever happens next
            manifest = _create(out, spec, futures, fingerprint, command)
        (out / "parts").mkdir(exist_ok=True)
        done = read_parts(out)
        have = set(zip(done["future"], done["replicate"], strict=True)) if len(done) else set()
        tasks = [t for t in all_tasks if (t.future, t.replicate) not in have]
        total, finished = len(all_tasks), len(all_tasks) - len(tasks)
        if tasks:
            if evaluate is None:
                prepare_engine(opts.engine, notice)
                evaluate = ModelEvaluator(opts.engine)
            executor = make_executor(workers, scheduler)
            size = max(1, min(CHUNK, len(tasks) // (2 * executor.capacity)))
            pending = [tuple(tasks[i:i + size]) for i in range(0, len(tasks), size)]
            in_flight: dict[Any, FutureChunk] = {}
            part = _next_part(out)
            if progress:
                progress(finished * len(names), total * len(names))
            while pending or in_flight:
                while pending and len(in_flight) < executor.capacity:
                    job = FutureChunk(evaluate, pending.pop(0))
                    in_flight[executor.submit(run_future_chunk, job)] = job
                for fut in executor.wait(list(in_flight)):
                    job = in_flight.pop(fut)
                    rows = fut.result()
                    atomic_write_frame(out / "parts" / f"part-{part:06d}.parquet",
                                       pd.DataFrame(rows))
                    part += 1
                    finished += len(job.tasks)
                    report.computed_tasks += len(job.tasks)
                    report.computed_runs += len(rows)
                    if progress:
                        progress(finished * len(names), total * len(names))
                    if stop_after is not None and report.computed_tasks >= stop_after:
                        raise KeyboardInterrupt("stopped after "
                                                f"{report.computed_tasks} tasks (test hook)")
        report.wall_seconds = time.perf_counter() - start
        runs = sorted_runs(read_parts(out), names)
        atomic_write_frame(out / "runs.parquet", runs)
        report.runs = runs
        manifest["status"] = "complete"
    finally:
        if executor is not None:
            executor.close(cancel=manifest is None or manifest.get("status") != "complete")
        lock.close()
        report.wall_seconds = time.perf_counter() - start
        if manifest is not None and out.is_dir():
            manifest.setdefault("sessions", []).append(
                {"ended": datetime.now(UTC).isoformat(timespec="seconds"),
                 "tasks_computed": report.computed_tasks,
                 "runs_computed": report.computed_runs,
                 "wall_seconds": round(report.wall_seconds, 1),
                 "workers": workers, "scheduler": scheduler})
            if manifest.get("status") != "complete":
                manifest["status"] = "partial"
            atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=1))
    return report


__all__ = ["CHUNK", "OUTCOMES", "ROBUSTNESS_ENTRIES", "WINDOW_TOTALS", "Evaluator",
           "FutureChunk", "FutureTask", "ModelEvaluator", "Options", "RobustnessReport",
           "build_tasks", "fingerprint_of", "folder_state", "read_parts", "run_future_chunk",
           "run_robustness", "sorted_runs"]
