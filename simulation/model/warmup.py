"""Compile once: every compiled loop of the array engine — a run's and a batch's — before
worker processes start.

numba compiles a loop the first time it is called and caches it on disk
(simulation/model/compiled.py). Left to themselves, the workers of a parallel command would
each compile the loops at once; so the parent compiles (or loads) them here first, by
running a small model and a small batch, and marks the cache ready.
"""

from __future__ import annotations

from simulation.model import compiled, kernels
from simulation.model.arrays_engine import ArrayModel
from simulation.model.batch import ReplicateBatch
from simulation.model.scenario import load_scenario


def loops_ready() -> bool:
    """Whether this machine holds the compiled loops of the current model sources."""
    return compiled.loops_ready(kernels.households_live)


def compile_loops() -> None:
    """Compile (or load from numba's disk cache) every loop a run or a batch of runs calls,
    by running a small model and a small batch for 13 months (a January after the first runs
    the demography loop); then mark the cache ready."""
    small = load_scenario("baseline").with_values({"run.households": 50, "run.years": 2})
    ArrayModel(small, rng=0).run(13)
    ReplicateBatch(small, [0, 1]).run(13)
    compiled.mark_loops_ready(kernels.households_live)
