"""Run a sweep: plan the runs, stream finished chunks to disk, resume. The analysis of a
complete sweep (indices, tables, figures) is analysis.sweep_indices.analyse_sweep.

Run ids are `sample * replicates + replicate`. A run's result depends only on its sample's
values and its seed (design.py), so the results — and hence the indices — are identical
whatever the executor, the number of workers, the chunking, the order in which chunks finish,
or how often the sweep was interrupted and resumed.

Chunks adapt to the model's speed: the first ones hold one run; later ones hold as many runs
as take about `CHUNK_SECONDS`, so a fast model is not drowned in per-task overhead, a kill
loses at most a few seconds of work per worker, and the progress bar moves smoothly. Near the
end chunks shrink so that no worker idles while another finishes a long chunk.

A chunk whose task dies as a whole (a worker killed, e.g. for memory) is retried one run per
task; a run that kills its worker again is recorded as failed, like a run that raises.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import platform
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from simulation.common.errors import OutputError
from simulation.experiments.sweep.design import Design, build_design, run_seed, sample_values
from simulation.experiments.sweep.errors import SweepError
from simulation.experiments.sweep.execute import (
    ChunkJob,
    RunTask,
    chunk_error_rows,
    make_executor,
    run_chunk,
)
from simulation.experiments.sweep.models import get_model
from simulation.experiments.sweep.spec import AGGREGATIONS, SweepSpec, design_rows
from simulation.experiments.sweep.store import SweepStore, design_frame, frame_bytes, run_schema

CHUNK_SECONDS = 2.0  # target compute time of one chunk (s); assumption, see module docstring
MAX_CHUNK = 1024  # runs per chunk at most (keeps part files small for very fast models)
MANIFEST_EVERY = 2.0  # s between manifest updates while running
FORMAT = 1

Progress = Callable[[int, int, int], None]  # (runs on disk, total runs, failed runs)


@dataclass
class SweepReport:
    """What a call of run_sweep did and found."""

    out: Path
    spec: SweepSpec
    total: int
    done: int
    failed: int
    computed: int
    complete: bool
    wall_seconds: float
    executor: str
    engine: str | None
    store: SweepStore | None = None  # for the analysis of a complete sweep (analysis layer)
    design: Design | None = None
    analysis: Any = None  # analysis.sweep_indices.Analysis, once analysed
    top: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    run_seconds: float = 0.0  # summed model wall time of the runs computed in this call
    run_cpu_seconds: float = 0.0  # ... and their CPU time


def default_engine() -> str:
    from simulation.experiments.runner import ENGINES

    return "arrays" if "arrays" in ENGINES else "agents"


def load_base(spec: SweepSpec) -> Any:
    """The base scenario with the sweep's [run] overrides (None for models without one)."""
    if not get_model(spec.model).uses_scenarios:
        return None
    from simulation.model.scenario import load_scenario, resolve_path

    base = load_scenario(resolve_path(spec.base or "baseline", Path(spec.source).parent))
    overrides = {f"run.{k}": v for k, v in spec.run.items() if k != "policy_month"}
    if overrides:
        base = base.with_values(overrides, origin=f"{spec.source} [run]")
    if "policy_month" in spec.run:
        base = dataclasses.replace(base, policy_month=int(spec.run["policy_month"]))
    if base.population_file is not None:  # households from records: checked now, all of them
        from simulation.model.microdata import use_population

        base = use_population(base, base.population_file)
    return base


def window_start(base: Any) -> int | None:
    """First year the outputs are aggregated over: the base's policy year (when the sampled
    knobs take effect), or the whole horizon if that is after it; None for models without
    calendar years."""
    if base is None:
        return None
    from simulation.model.calendar import START_YEAR

    first = base.policy_year
    return first if first < START_YEAR + base.years else START_YEAR


def periods_of(base: Any) -> tuple[int, ...]:
    if base is None:
        return ()
    from simulation.model.calendar import START_YEAR

    return tuple(START_YEAR + k for k in range(base.years))


def fingerprint(spec: SweepSpec, base: Any, engine: str | None) -> dict[str, Any]:
    """Everything results depend on; a resumed sweep must match it exactly."""
    doc = {"spec": spec.canonical(), "engine": engine,
           "base": None if base is None else {"name": base.name, "digest": base.digest()},
           "periods": list(periods_of(base))}
    return json.loads(json.dumps(doc))  # as stored in the manifest (tuples become lists)


def _digest(doc: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _first_difference(old: Any, new: Any, path: str = "") -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new)):
            if old.get(k) != new.get(k):
                return _first_difference(old.get(k), new.get(k), f"{path}.{k}" if path else k)
    return f"{path}: {old!r} on disk, {new!r} now"


def _session(executor: str, workers: int | None, command: Sequence[str]) -> dict[str, Any]:
    from simulation.experiments.results import git_revision

    return {"started": datetime.now(UTC).isoformat(timespec="seconds"), "executor": executor,
            "workers": workers, "command": list(command), "git_revision": git_revision(),
            "runs_computed": 0, "failed": 0, "wall_seconds": 0.0, "ended": None}


def run_sweep(spec: SweepSpec, out: Path | str, *, engine: str | None = None,
              workers: int | None = None, scheduler: str | None = None, resume: bool = False,
              retry_failed: bool = False, max_runs: int | None = None,
              progress: Progress | None = None,
              command: Sequence[str] = (), replace: bool = False) -> SweepReport:
    """Run (or resume) `spec` into folder `out`; every finished run is on disk when it returns
    (status "analysing" in the manifest once all are).

    Args:
        spec: validated sweep (load_sweep + with_overrides).
        out: sweep folder (created; see store.py for its layout).
        engine: simulation engine for the poverty model (default "arrays" when available).
        workers: local worker processes (default: all cores; 1 = in this process).
        scheduler: address of a Dask scheduler; overrides `workers`.
        resume: continue the sweep already in `out` (nothing on disk is recomputed).
        retry_failed: with resume, compute failed runs again.
        replace: start afresh over an earlier sweep folder of this program in `out`.
        max_runs: compute at most this many runs in this call, then stop (batches).
        progress: called after every chunk with (runs on disk, total, failed).
        command: the command line, for the manifest.

    Raises:
        SweepError / ScenarioError / OutputError: bad input (CLI exit code 2).
        KeyboardInterrupt: interrupted; everything finished so far is on disk.
    """
    out = Path(out)
    model = get_model(spec.model, spec.source)
    if model.uses_scenarios:
        from simulation.experiments.runner import ENGINES

        engine = engine or default_engine()
        if engine not in ENGINES:
            raise SweepError(f"--engine {engine!r} is not available; allowed: "
                             f"{', '.join(ENGINES)}")
    else:
        engine = None
    if retry_failed and not resume:
        raise SweepError("--retry-failed needs --resume (it reruns failed runs of a sweep "
                         "already on disk)")
    base = load_base(spec)
    periods = periods_of(base)
    print_ = fingerprint(spec, base, engine)
    total = design_rows(spec) * spec.replicates
    existing = SweepStore.inspect(out)
    if resume and replace:
        raise SweepError("--resume continues the sweep in --out and --replace starts it afresh; "
                         "give one of them")
    if existing is not None and not resume and not replace:
        held = f"{existing.get('runs_on_disk', '?')} of {existing.get('total_runs', '?')} runs"
        raise OutputError(f"{out}: already holds a sweep ({existing.get('status', '?')}, {held});"
                          " add --resume to continue it, --replace to start it afresh, or "
                          "choose another --out")
    if existing is not None and replace:
        SweepStore.check_unlocked(out)
        existing = None
    if existing is not None:
        if existing.get("format") != FORMAT or "fingerprint" not in existing:
            raise OutputError(f"{out}/manifest.json: not a sweep folder of this program")
        if existing["fingerprint"] != _digest(print_):
            diff = _first_difference(existing.get("fingerprint_doc", {}), print_)
            raise SweepError(f"{out}: cannot resume, the folder holds a different sweep "
                             f"({diff}); use the same sweep file and options, or another "
                             "--out")
    design = build_design(spec) if existing is None else None

    if engine is not None:  # compiled once here, not in every worker
        from simulation.experiments.runner import prepare_engine

        prepare_engine(engine, partial(print, file=sys.stderr))
    executor = make_executor(workers, scheduler)  # forks local workers before any I/O thread
    schema = run_schema(spec.names, spec.output_names, periods)
    closed = False
    store: SweepStore | None = None
    try:
        if existing is None:
            assert design is not None
            store = _create(out, spec, base, design, schema, print_, engine, total, replace)
        else:
            store = SweepStore(out, schema)
        store.lock()
        manifest = store.read_manifest()
        if design is None:
            raw, values = store.read_design()
            design = Design(spec.names, raw, values, build_problem(spec))
        report = _execute(spec, design, store, manifest, executor, base, engine, periods,
                          total, workers, retry_failed, max_runs, progress, command)
        executor.close()
        closed = True
        report.store, report.design = store, design
    finally:
        if not closed:  # interrupted or failed: do not wait for chunks still running
            executor.close(cancel=True)
        if store is not None:
            store.unlock()
    return report


def build_problem(spec: SweepSpec) -> dict[str, Any]:
    from simulation.experiments.sweep.design import salib_problem

    problem = salib_problem(spec)
    if spec.method == "grid":
        problem["bounds"] = [[f.low, f.high] for f in spec.factors]
    return problem


def _create(out: Path, spec: SweepSpec, base: Any, design: Design, schema: Any,
            print_: dict[str, Any], engine: str | None, total: int,
            replace: bool = False) -> SweepStore:
    from simulation.experiments.results import git_revision, versions

    files = {"design.parquet": frame_bytes(design_frame(design.names, design.raw,
                                                         design.values))}
    source = Path(spec.source)
    if source.is_file():
        files["sweep.toml"] = source.read_bytes()
    if base is not None:
        files["base.toml"] = base.to_toml().encode("utf-8")
    crn_seeds = [run_seed(spec, 0, r) for r in range(spec.replicates)] \
        if spec.common_random_numbers else None
    manifest = {
        "kind": "poverty-return sweep", "format": FORMAT, "name": spec.name,
        "description": spec.description, "sweep_file": spec.source,
        "fingerprint": _digest(print_), "fingerprint_doc": print_,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": spec.model, "engine": engine, "method": spec.method,
        "base": None if base is None else {"name": base.name, "source": base.source,
                                           "digest": base.digest(), "years": base.years,
                                           "households": base.households},
        "factors": [{"key": f.key, "low": f.low, "high": f.high, "integer": f.integer,
                     "unit": f.unit} for f in spec.factors],
        "outputs": [{"metric": o.metric, "aggregate": o.aggregate, "unit": o.unit,
                     "meaning": AGGREGATIONS[o.aggregate]} for o in spec.outputs],
        "samples": spec.samples, "design_rows": design.rows, "replicates": spec.replicates,
        "total_runs": total, "seed": spec.seed,
        "common_random_numbers": spec.common_random_numbers,
        "replicate_seeds": crn_seeds, "status": "running", "runs_on_disk": 0,
        "failed_runs": 0, "sessions": [], "versions": versions(),
        "git_revision": git_revision(), "platform": platform.platform(),
    }
    return SweepStore.create(out, schema, files, manifest, replace=replace)


def _execute(spec: SweepSpec, design: Design, store: SweepStore, manifest: dict[str, Any],
             executor: Any, base: Any, engine: str | None, periods: tuple[int, ...],
             total: int, workers: int | None, retry_failed: bool, max_runs: int | None,
             progress: Progress | None, command: Sequence[str]) -> SweepReport:
    done_ids, failed = store.finished(retry_failed)
    todo = [r for r in range(total) if r not in done_ids]
    if max_runs is not None:
        todo = todo[:max_runs]
    done = len(done_ids)
    session = _session(executor.description, workers, command)
    manifest.setdefault("sessions", []).append(session)
    report = SweepReport(store.out, spec, total, done, failed, 0, False, 0.0,
                         executor.description, engine)
    if session["git_revision"] != manifest.get("git_revision"):
        report.notes.append(f"code revision {session['git_revision']} differs from the one "
                            f"that started the sweep ({manifest.get('git_revision')})")
    runner = get_model(spec.model).make_runner(base, engine or "")
    reps = spec.replicates

    def task(run: int) -> RunTask:
        sample, rep = divmod(run, reps)
        return RunTask(run, sample, rep, run_seed(spec, sample, rep),
                       sample_values(spec, design, sample))

    pending = deque(todo)
    suspects: set[int] = set()
    in_flight: dict[Any, tuple[ChunkJob, int]] = {}
    per_run: float | None = None
    start = time.perf_counter()
    last_manifest = 0.0

    def save_manifest(status: str) -> None:
        session.update(runs_computed=report.computed, failed=report.failed - failed,
                       wall_seconds=round(time.perf_counter() - start, 3),
                       ended=datetime.now(UTC).isoformat(timespec="seconds"))
        manifest.update(status=status, runs_on_disk=report.done, failed_runs=report.failed)
        store.write_manifest(manifest)

    def chunk_size() -> int:
        if per_run is None:
            return 1
        size = max(1, min(MAX_CHUNK, int(CHUNK_SECONDS / max(per_run, 1e-9))))
        # near the end: share what is left evenly among the slots
        return max(1, min(size, math.ceil(len(pending) / max(1, executor.capacity))))

    previous = _install_sigterm()
    status = "partial"
    try:
        if progress:
            progress(report.done, total, report.failed)
        while pending or in_flight:
            # A suspect (a run whose chunk died with its worker) runs alone: if it kills its
            # worker again, nothing else in the pool dies with it.
            while (pending and len(in_flight) < executor.capacity
                   and not (in_flight and pending[0] in suspects)
                   and not any(j.tasks[0].run in suspects for j, _ in in_flight.values())):
                ids = [pending.popleft()]
                if ids[0] not in suspects:
                    size = chunk_size()
                    while pending and len(ids) < size and pending[0] not in suspects:
                        ids.append(pending.popleft())
                job = ChunkJob(runner, spec.outputs, periods, tuple(task(r) for r in ids),
                               window_start(base))
                future = executor.submit(run_chunk, job)
                in_flight[future] = (job, executor.generation)
            for fut in executor.wait(list(in_flight)):
                job, gen = in_flight.pop(fut)
                try:
                    rows = fut.result()
                except Exception as exc:
                    runs = [t.run for t in job.tasks]
                    if executor.is_infrastructure_error(exc) and gen == executor.generation:
                        executor.restart()  # once per broken pool, not once per lost chunk
                    if len(runs) == 1 and runs[0] in suspects:
                        rows = chunk_error_rows(job, f"{type(exc).__name__}: {exc} (the task "
                                                "died as a whole, e.g. its worker was killed "
                                                "for memory; retried alone, died again)")
                    else:
                        suspects.update(runs)
                        pending.extendleft(reversed(runs))
                        continue
                store.write_part(rows)
                n_failed = sum(r["status"] != "ok" for r in rows)
                report.done += len(rows)
                report.computed += len(rows)
                report.failed += n_failed
                seconds = sum(r["seconds"] for r in rows)
                report.run_seconds += seconds
                report.run_cpu_seconds += sum(r["cpu_seconds"] for r in rows)
                mean = seconds / len(rows)
                per_run = mean if per_run is None else 0.7 * per_run + 0.3 * mean
                if progress:
                    progress(report.done, total, report.failed)
                if time.perf_counter() - last_manifest > MANIFEST_EVERY:
                    save_manifest("running")
                    last_manifest = time.perf_counter()
        report.complete = report.done == total
        status = "analysing" if report.complete else "partial"
    finally:
        _restore_sigterm(previous)
        report.wall_seconds = time.perf_counter() - start
        save_manifest(status)
    return report


def _install_sigterm() -> Any:
    """SIGTERM (a batch scheduler's time limit, `kill`) stops the sweep like Ctrl-C: parts
    already written stay, the manifest says "partial"."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    return signal.signal(signal.SIGTERM, handler)


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
