"""Executors: where chunks of runs are computed — in-process, a local process pool, or Dask.

All three share one small protocol (submit / wait / close, futures in between), so the
driver's loop is the same everywhere (code against the Executor protocol).

- SerialExecutor: in this process (1 worker; debugging, tests, tiny sweeps).
- LocalExecutor: concurrent.futures.ProcessPoolExecutor on the *fork* start method (workers
  inherit the imported model; Python 3.14 moves the POSIX default to forkserver). Workers
  ignore SIGINT (the parent handles Ctrl-C) and die with the parent (PR_SET_PDEATHSIG).
- DaskExecutor: an existing dask.distributed scheduler (`--scheduler tcp://HOST:PORT`), e.g.
  one started by dask-jobqueue on SLURM/PBS. Results come back to this process, which writes
  them, so workers need no shared file system.

A chunk is a few runs computed by one task; `run_chunk` never raises for a failing run: it
records the error text with the run's parameters and goes on.
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import multiprocessing
import os
import signal
import socket
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from simulation.experiments.sweep.models import Runner, aggregate
from simulation.experiments.sweep.spec import Output


@dataclass(frozen=True)
class RunTask:
    """One run: its id, sample, replicate, seed and the model values of its sample."""

    run: int
    sample: int
    replicate: int
    seed: int
    values: Mapping[str, float]


@dataclass(frozen=True)
class ChunkJob:
    """Runs computed by one task (one pickled message per chunk, not per run)."""

    runner: Runner
    outputs: tuple[Output, ...]
    periods: tuple[int, ...]
    tasks: tuple[RunTask, ...]
    window_start: int | None = None
    """Outputs aggregate the years from this one on (the evaluation window; None: all)."""


def run_chunk(job: ChunkJob) -> list[dict[str, Any]]:
    """Run every task of `job`; one row per run (failed runs carry the error text)."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    rows = []
    for t in job.tasks:
        start, cpu = time.perf_counter(), time.process_time()
        row: dict[str, Any] = {"run": t.run, "sample": t.sample, "replicate": t.replicate,
                               "seed": t.seed, "worker": worker, **t.values}
        try:
            series = job.runner(t.values, t.seed, t.replicate)
            if job.periods and list(series.periods) != list(job.periods):
                raise RuntimeError(f"run produced years {series.periods}, expected "
                                   f"{list(job.periods)}")
            outputs: dict[str, float] = {}
            for o in job.outputs:
                yearly = series.values[o.metric]
                window = yearly if job.window_start is None else [
                    v for p, v in zip(job.periods, yearly, strict=True) if p >= job.window_start]
                outputs[o.metric] = aggregate(window, o.aggregate)
                if job.periods:  # yearly columns only for models with calendar years
                    for p, v in zip(job.periods, yearly, strict=True):
                        outputs[f"{o.metric}@{p}"] = v
            row.update(outputs, status="ok", error="")
        except Exception as exc:  # recorded, the sweep goes on ("nothing lost")
            tb = traceback.format_exc(limit=-3)
            row.update(status="failed", error=f"{type(exc).__name__}: {exc}\n{tb}")
        row["seconds"] = time.perf_counter() - start
        # CPU time next to wall time: a gap means the worker waited for a core (contention)
        row["cpu_seconds"] = time.process_time() - cpu
        rows.append(row)
    return rows


def chunk_error_rows(job: ChunkJob, error: str) -> list[dict[str, Any]]:
    """Rows for runs whose task could not complete (worker died, scheduler gave up)."""
    return [{"run": t.run, "sample": t.sample, "replicate": t.replicate, "seed": t.seed,
             "worker": "", **t.values, "status": "failed", "error": error, "seconds": 0.0,
             "cpu_seconds": 0.0}
            for t in job.tasks]


# ----------------------------------------------------------------------------- executors
class SerialExecutor:
    """Runs each chunk immediately in this process."""

    description = "serial (this process)"

    def __init__(self) -> None:
        self.capacity = 1
        self.generation = 0

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(arg))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def wait(self, futures: Iterable[Any]) -> set[Any]:
        return {f for f in futures if f.done()}

    def is_infrastructure_error(self, exc: BaseException) -> bool:
        return False

    def restart(self) -> None:  # pragma: no cover - nothing to restart
        pass

    def close(self, cancel: bool = False) -> None:
        pass


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _init_worker() -> None:
    """Worker set-up: Ctrl-C is the parent's business; die when the parent dies (Linux).
    SIGTERM gets its default action back: a forked worker inherits the parent's handler (the
    CLI turns SIGTERM into a clean interruption), which would keep it alive."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)
    except OSError:  # not glibc/Linux: workers then end when their task queue closes
        pass


def _noop(_: Any) -> int:
    return os.getpid()


class LocalExecutor:
    """A fork-based process pool on this machine."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.capacity = 2 * workers  # one chunk running and one queued per worker
        self.description = f"local process pool ({workers} workers, fork)"
        self.generation = 0  # pools started so far - 1 (futures of older pools are stale)
        self._pool = self._start()

    def _start(self) -> cf.ProcessPoolExecutor:
        pool = cf.ProcessPoolExecutor(self.workers,
                                      mp_context=multiprocessing.get_context("fork"),
                                      initializer=_init_worker)
        # fork every worker now, before this process starts threads (progress bar, Arrow
        # I/O): forking a multi-threaded process can deadlock (and Python 3.12 warns).
        cf.wait([pool.submit(_noop, None) for _ in range(self.workers)])
        return pool

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> cf.Future:
        try:
            return self._pool.submit(fn, arg)
        except cf.process.BrokenProcessPool:  # a worker died since the last submit
            self.restart()
            return self._pool.submit(fn, arg)

    def wait(self, futures: Iterable[Any]) -> set[Any]:
        return set(cf.wait(list(futures), return_when=cf.FIRST_COMPLETED).done)

    def is_infrastructure_error(self, exc: BaseException) -> bool:
        return isinstance(exc, cf.process.BrokenProcessPool)

    def restart(self) -> None:
        """After a worker died (e.g. killed for memory), start a fresh pool."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._start()
        self.generation += 1

    def close(self, cancel: bool = False) -> None:
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


DASK_CONNECT_TIMEOUT = 20.0  # s to reach the scheduler before giving up (assumption)


class DaskExecutor:
    """Chunks as tasks on an existing dask.distributed cluster."""

    def __init__(self, address: str, timeout: float | None = None) -> None:
        timeout = DASK_CONNECT_TIMEOUT if timeout is None else timeout
        try:
            from dask.distributed import Client
        except ImportError:
            from simulation.experiments.sweep.errors import SweepError

            raise SweepError("--scheduler needs Dask: pip install 'poverty-return[dask]' "
                             "(dask[distributed])") from None
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            from simulation.experiments.sweep.errors import SweepError

            raise SweepError(f"--scheduler {address}: cannot connect to a Dask scheduler "
                             f"({exc})") from None
        self.address = address
        self.generation = 0
        self._threads = 0
        self._checked = 0.0
        self.description = f"Dask cluster at {address}"

    @property
    def capacity(self) -> int:
        # clusters grow and shrink (dask-jobqueue adapt); ask the scheduler every 5 s
        now = time.monotonic()
        if now - self._checked > 5.0:
            self._threads = sum(self.client.nthreads().values())
            self._checked = now
        return max(2, 2 * self._threads)

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        return self.client.submit(fn, arg, pure=False)

    def wait(self, futures: Iterable[Any]) -> set[Any]:
        from dask.distributed import wait

        with self.client.as_current():  # our client is not the process-wide default
            return set(wait(list(futures), return_when="FIRST_COMPLETED").done)

    def is_infrastructure_error(self, exc: BaseException) -> bool:
        from distributed.scheduler import KilledWorker

        return isinstance(exc, KilledWorker | OSError)

    def restart(self) -> None:  # the scheduler replaces dead workers itself
        pass

    def close(self, cancel: bool = False) -> None:
        self.client.close()


Executor = SerialExecutor | LocalExecutor | DaskExecutor


def make_executor(workers: int | None, scheduler: str | None) -> Executor:
    """Dask when a scheduler address is given; else a local pool (serial for 1 worker)."""
    if scheduler:
        return DaskExecutor(scheduler)
    from simulation.experiments.runner import default_workers

    n = workers or default_workers()
    return SerialExecutor() if n <= 1 else LocalExecutor(n)
