"""Run scenarios: one run = one scenario on one seed; replicates share seeds across scenarios.

`run_one` is the unit every tool builds on (CLI, sweeps, reports); `run_many` runs a
scenarios x replicates grid on a local process pool. Replicate r of every scenario uses seed
`seed + r` (common random numbers: paired comparisons), so results do not depend on the
number of workers or the order in which runs finish.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulation.model.scenario import Scenario

ENGINES = ("arrays", "agents")
"""arrays: numpy columns, fast (batch default); agents: Mesa agents (teaching, debugging).
Both give bit-identical results for the same scenario and seed."""
DEFAULT_SEED = 2021

@dataclass
class RunResult:
    """Everything one run produces (small enough to send between processes)."""

    scenario: str
    replicate: int
    seed: int
    engine: str
    years: list[dict[str, float]]
    events: np.ndarray  # (k, 4) int32: month, household, event code, cause code (-1 none)
    households: dict[str, np.ndarray] = field(default_factory=dict)  # state.initial_record
    seconds: float = 0.0

    @classmethod
    def of(cls, model: Any, scenario: Scenario, replicate: int, seed: int, engine: str,
           seconds: float) -> RunResult:
        """What a finished model of `scenario` produced."""
        return cls(scenario=scenario.name, replicate=replicate, seed=seed, engine=engine,
                   years=model.years, events=model.event_table(), households=model.initial,
                   seconds=seconds)


def run_one(scenario: Scenario, seed: int, *, replicate: int = 0, engine: str = "arrays",
            record_events: bool = True) -> RunResult:
    """Run `scenario` for its horizon on `seed` with the chosen engine."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    start = time.perf_counter()
    model = make_model(scenario, seed, engine, record_events=record_events)
    model.run()
    return RunResult.of(model, scenario, replicate, seed, engine, time.perf_counter() - start)


HISTORY_MEMORY_HOUSEHOLDS = 200_000
"""run_after_history keeps the latest histories of this process up to this many households
in all (~0.8 KB each: ~160 MB; assumption: a limit that keeps each of a sweep's workers well
inside a laptop's memory, and holds one history per seed of a 5,000-household sweep with up
to 40 replicates)."""
_HISTORIES: OrderedDict[object, Any] = OrderedDict()


def run_after_history(scenario: Scenario, seed: int, *, replicate: int = 0,
                      engine: str = "arrays", record_events: bool = True) -> RunResult:
    """`run_one`, remembering the run's history in this process: a later run on the same
    seed that shares it (arrays_engine.history_key: same population, status quo and dated
    changes before the policy date; e.g. the samples of a sweep of policy knobs with common
    random numbers) forks it at the policy date instead of simulating it again. The result
    is exactly run_one's (ArrayModel.fork; tests/test_shared_history.py). Only for the
    arrays engine; the latest histories are kept, HISTORY_MEMORY_HOUSEHOLDS in all."""
    n = scenario.households
    if (engine != "arrays" or not 0 < scenario.policy_month < scenario.years * 12
            or n > HISTORY_MEMORY_HOUSEHOLDS):
        return run_one(scenario, seed, replicate=replicate, engine=engine,
                       record_events=record_events)
    from simulation.model.arrays_engine import ArrayModel, history_key

    start = time.perf_counter()
    key = (history_key(scenario), seed, record_events)
    history = _HISTORIES.get(key)
    if history is None:
        history = ArrayModel(scenario, rng=seed, record_events=record_events)
        history.run(scenario.policy_month)
        _HISTORIES[key] = history
        while sum(h.n for h in _HISTORIES.values()) > HISTORY_MEMORY_HOUSEHOLDS:
            _HISTORIES.popitem(last=False)
    else:
        _HISTORIES.move_to_end(key)
    model = history.fork(scenario)
    model.run(scenario.years * 12 - model.month)
    return RunResult.of(model, scenario, replicate, seed, engine, time.perf_counter() - start)


def make_model(scenario: Scenario, seed: int, engine: str = "arrays", *,
               record_events: bool = True, log_shocks: bool = False) -> Any:
    """A model of `scenario` on `seed` with the chosen engine (same interface for runs)."""
    if engine == "agents":
        from simulation.model.agents_engine import PovertyModel

        return PovertyModel(scenario, rng=seed, record_events=record_events,
                            log_shocks=log_shocks)
    if engine == "arrays":
        from simulation.model.arrays_engine import ArrayModel

        return ArrayModel(scenario, rng=seed, record_events=record_events,
                          log_shocks=log_shocks)
    raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")


@dataclass(frozen=True)
class _Task:
    """Runs computed together: one scenario on one seed; several that share their history on
    one seed (arrays engine: the history simulated once and forked at the policy date); or
    one scenario on several seeds (arrays engine: a batch of replicates)."""

    indices: tuple[int, ...]
    scenarios: tuple[Scenario, ...]
    replicates: tuple[int, ...]
    seeds: tuple[int, ...]
    engine: str
    record_events: bool


def _run_task(task: _Task) -> list[tuple[int, RunResult]]:
    if len(task.seeds) > 1:
        return list(zip(task.indices, run_replicates(task.scenarios[0], task.seeds,
                                                     replicates=task.replicates,
                                                     record_events=task.record_events),
                        strict=True))
    seed, replicate = task.seeds[0], task.replicates[0]
    if len(task.scenarios) == 1:
        return [(task.indices[0], run_one(task.scenarios[0], seed, replicate=replicate,
                                          engine=task.engine,
                                          record_events=task.record_events))]
    return list(zip(task.indices, run_shared_history(task.scenarios, seed,
                                                     replicate=replicate,
                                                     record_events=task.record_events),
                    strict=True))


BATCH_HOUSEHOLDS = 8_000
"""run_many batches the replicates of a scenario (arrays engine; a scenario that shares its
history with others is forked instead) so that a batch holds at most this many households
in all. Batching saves a month's fixed costs per run, which matter in small runs; but a
batch's households are all streamed through memory each month, and once they outgrow the
processor's cache that costs more than it saves (benchmarks/engines.py, the batched rows:
8 runs of 1,000 households gain, 8 of 5,000 lose; assumption from that measurement)."""
BATCH_RUNS = 8
"""Runs in one batch at most (a batch is one task: larger batches would leave workers idle
at the end of a run_many; assumption)."""


def run_replicates(scenario: Scenario, seeds: Sequence[int], *,
                   replicates: Sequence[int] | None = None,
                   record_events: bool = True) -> list[RunResult]:
    """Runs of `scenario` on `seeds` (replicate numbers `replicates`, default 0, 1, ...) in
    one batch (arrays engine, simulation/model/batch.py): each result is exactly what run_one
    gives for its seed (tests/test_batch.py). A run's `seconds` is an equal share of the
    batch's."""
    from simulation.model.batch import ReplicateBatch

    start = time.perf_counter()
    batch = ReplicateBatch(scenario, seeds, record_events=record_events)
    batch.run()
    each = (time.perf_counter() - start) / len(seeds)
    reps = list(range(len(seeds))) if replicates is None else list(replicates)
    return [RunResult.of(m, scenario, rep, seed, "arrays", each)
            for rep, seed, m in zip(reps, seeds, batch.models, strict=True)]


def run_shared_history(scenarios: Sequence[Scenario], seed: int, *, replicate: int = 0,
                       record_events: bool = True) -> list[RunResult]:
    """The runs of scenarios that share their history (arrays_engine.history_key) on one
    seed, the history simulated once: each result is exactly what run_one gives for it
    (tests/test_engines.py holds them equal). A run's `seconds` is its own months plus an
    equal share of the history's."""
    from simulation.model.arrays_engine import ArrayModel

    start = time.perf_counter()
    history = ArrayModel(scenarios[0], rng=seed, record_events=record_events)
    history.run(scenarios[0].policy_month)
    shared = (time.perf_counter() - start) / len(scenarios)
    results = []
    for scenario in scenarios:
        begun = time.perf_counter()
        model = history.fork(scenario)
        model.run(scenario.years * 12 - model.month)
        results.append(RunResult.of(model, scenario, replicate, seed, "arrays",
                                    shared + time.perf_counter() - begun))
    return results


def _tasks(scenarios: Sequence[Scenario], replicates: int, seed: int, engine: str,
           record_events: bool, batch: int = 1) -> list[_Task]:
    """The runs grouped into tasks. With the arrays engine, scenarios that share their
    history are run together on each seed (the history once, then a fork per scenario), and
    the replicates of a scenario that shares it with none in batches of up to `batch` seeds
    and BATCH_HOUSEHOLDS households."""
    groups: dict[object, list[int]] = {}
    for k, sc in enumerate(scenarios):
        key: object = k
        if engine == "arrays" and 0 < sc.policy_month < sc.years * 12:
            from simulation.model.arrays_engine import history_key

            key = history_key(sc)
        groups.setdefault(key, []).append(k)
    tasks = []
    for members in groups.values():
        size = 1
        if engine == "arrays" and len(members) == 1:
            size = max(1, min(batch, BATCH_HOUSEHOLDS // scenarios[members[0]].households))
        for first in range(0, replicates, size):
            reps = tuple(range(first, min(first + size, replicates)))
            tasks.append(_Task(tuple(k * replicates + r for r in reps for k in members),
                               tuple(scenarios[k] for k in members), reps,
                               tuple(seed + r for r in reps), engine, record_events))
    return tasks


def _worker_init() -> None:
    """Workers leave Ctrl-C to the parent, which stops them (Pool.terminate sends SIGTERM, whose
    default action ends a worker silently): one message, no traceback per worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


COMPILING = ("compiling the model's loops first (once after installing or changing the model; "
             "about a minute)")


def prepare_engine(engine: str, notice: Callable[[str], None] | None = None) -> None:
    """Compile the array engine's loops here, once, if this machine has not yet: worker
    processes then load them from the disk cache instead of each compiling them. `notice`
    hears why the first run waits."""
    if engine != "arrays":
        return
    from simulation.model.warmup import compile_loops, loops_ready

    if not loops_ready():
        if notice:
            notice(COMPILING)
        compile_loops()


def run_many(scenarios: Sequence[Scenario], replicates: int, seed: int = DEFAULT_SEED, *,
             engine: str = "arrays", workers: int | None = None, record_events: bool = True,
             progress: Callable[[int, int], None] | None = None,
             notice: Callable[[str], None] | None = None) -> list[RunResult]:
    """Every scenario on seeds seed .. seed + replicates - 1; results in (scenario, replicate)
    order whatever the number of workers. `notice`: told when the loops are compiled first."""
    prepare_engine(engine, notice)
    workers = workers or default_workers()
    # batches small enough that every worker gets at least two of each scenario's
    batch = max(1, min(BATCH_RUNS, replicates // (2 * workers)))
    tasks = _tasks(scenarios, replicates, seed, engine, record_events, batch)
    total = len(scenarios) * replicates
    workers = min(workers, len(tasks))
    results: list[tuple[int, RunResult]] = []
    if workers <= 1:
        for task in tasks:
            results.extend(_run_task(task))
            if progress:
                progress(len(results), total)
    else:
        # forkserver: workers are forked from a clean single-threaded server (forking this
        # process could deadlock once pyarrow or BLAS threads exist); the engines are
        # preloaded there so each worker starts in milliseconds (only the engine in use:
        # Mesa's import alone takes half a second). `worker_start` keeps a worker started
        # just as the parent is stopped from printing a spurious traceback.
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["simulation.experiments.worker_start",
                                    f"simulation.model.{engine}_engine"])
        with ctx.Pool(workers, initializer=_worker_init) as pool:
            for done in pool.imap_unordered(_run_task, tasks, chunksize=1):
                results.extend(done)
                if progress:
                    progress(len(results), total)
    return [result for _, result in sorted(results, key=lambda pair: pair[0])]

