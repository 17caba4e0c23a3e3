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

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd

from simulation.common.output import atomic_write_frame
from simulation.experiments.robustness.futures import (
    FuturesSpec,
    future_scenarios,
    make_futures,
    run_seed,
)
from simulation.experiments.workfolder import Parts, WorkFolder, read_parts
from simulation.model.county import County
from simulation.model.scenario import Scenario, ScenarioError

FORMAT: Final = 1
KIND: Final = "robustness"
ROBUSTNESS_ENTRIES: Final = frozenset({
    "manifest.json", "futures.toml", "futures.csv", "parts", "runs.parquet",
    "futures_summary.csv", "robustness.csv", "robustness.md", "discovery.csv", "figures",
    ".lock"})
"""Everything a robustness run writes into its folder over its life."""
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
def work_folder(out: Path) -> WorkFolder:
    """The robustness folder `out` (marker kind KIND)."""
    return WorkFolder(out, KIND, ROBUSTNESS_ENTRIES, "robustness run",
                      same="futures file, strategies and options")


def _create(folder: WorkFolder, spec: FuturesSpec, futures: pd.DataFrame,
            fingerprint: dict[str, Any], command: Sequence[str]) -> dict[str, Any]:
    return folder.create(
        fingerprint, command,
        {"kind": "poverty-return robustness", "format": FORMAT, "name": spec.name,
         "futures_file": spec.source, "ensemble": spec.ensemble_source},
        subfolders=("parts",),
        files={"futures.toml": Path(spec.source).read_text(encoding="utf-8"),
               "futures.csv": futures.to_csv(index=False)})


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


def futures_county(spec: FuturesSpec, county: str | Path | None = None) -> County:
    """The county the futures start from: `county` (a profile name or file, e.g. --county)
    or else the futures file's own, resolved beside that file."""
    from simulation.model.county import load_county

    if county is not None:
        return load_county(county, None)
    return load_county(spec.county, Path(spec.source).parent)


def strategy_scenarios(refs: Sequence[str | Path], baseline: str | Path, county: County,
                       households: int, years: int | None = None
                       ) -> tuple[list[Scenario], list[str], Scenario]:
    """The strategies named by `refs` (shipped names or files) and the baseline, in `county`
    with the run's households (and horizon): (every scenario to run, the strategies' names,
    the baseline). The baseline is run once, also when it is one of the strategies;
    UsageError (exit 2) for a strategy given twice."""
    from simulation.common.errors import UsageError
    from simulation.model.scenario import load_scenario

    strategies = [load_scenario(ref) for ref in refs]
    names = [sc.name for sc in strategies]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"strategy {dupes[0]!r} given twice")
    base = next((sc for sc in strategies if sc.name == str(baseline)), None) or \
        load_scenario(baseline)
    scenarios = strategies + ([] if base.name in names else [base])
    overrides: dict[str, float] = {"run.households": households}
    if years is not None:
        overrides["run.years"] = years
    scenarios = [sc.with_county(county, "--county").with_values(overrides) for sc in scenarios]
    return scenarios, names, next(sc for sc in scenarios if sc.name == base.name)


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
    work = work_folder(out)
    manifest = work.state(fingerprint, resume, replace)
    # every future's scenarios are built before the folder is touched (bad values: exit 2)
    all_tasks = build_tasks(spec, county, futures, scenarios, opts, set())
    work.make()
    lock = work.lock()
    report = RobustnessReport(out, futures, pd.DataFrame())
    start = time.perf_counter()
    executor = None
    try:
        if manifest is None:  # the folder is ours from here on, whatever happens next
            manifest = _create(work, spec, futures, fingerprint, command)
        parts = Parts(out)
        done = parts.read()
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
            if progress:
                progress(finished * len(names), total * len(names))
            while pending or in_flight:
                while pending and len(in_flight) < executor.capacity:
                    job = FutureChunk(evaluate, pending.pop(0))
                    in_flight[executor.submit(run_future_chunk, job)] = job
                for fut in executor.wait(list(in_flight)):
                    job = in_flight.pop(fut)
                    rows = fut.result()
                    parts.write(pd.DataFrame(rows))
                    finished += len(job.tasks)
                    report.computed_tasks += len(job.tasks)
                    report.computed_runs += len(rows)
                    if progress:
                        progress(finished * len(names), total * len(names))
                    if stop_after is not None and report.computed_tasks >= stop_after:
                        raise KeyboardInterrupt("stopped after "
                                                f"{report.computed_tasks} tasks (test hook)")
        report.wall_seconds = time.perf_counter() - start
        runs = sorted_runs(parts.read(), names)
        atomic_write_frame(out / "runs.parquet", runs)
        report.runs = runs
        manifest["status"] = "complete"
    finally:
        if executor is not None:
            executor.close(cancel=manifest is None or manifest.get("status") != "complete")
        lock.close()
        report.wall_seconds = time.perf_counter() - start
        work.end_session(manifest, {"tasks_computed": report.computed_tasks,
                                    "runs_computed": report.computed_runs,
                                    "wall_seconds": round(report.wall_seconds, 1),
                                    "workers": workers, "scheduler": scheduler})
    return report


__all__ = ["CHUNK", "OUTCOMES", "ROBUSTNESS_ENTRIES", "WINDOW_TOTALS", "Evaluator",
           "FutureChunk", "FutureTask", "ModelEvaluator", "Options", "RobustnessReport",
           "build_tasks", "fingerprint_of", "futures_county", "read_parts", "run_future_chunk",
           "run_robustness", "sorted_runs", "strategy_scenarios"]
