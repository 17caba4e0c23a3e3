"""Samplers: the design matrix of a sweep and the seed of every run.

The design is drawn by SALib 1.6 (sample.sobol — scrambled Sobol' sequence, not the deprecated
Saltelli sampler —, sample.morris, sample.fast_sampler, sample.latin) or built as a full
factorial grid. Rows are *samples*; each sample is run `replicates` times.

Integer keys (e.g. social_security.follow_up_months) are sampled on [low, high + 1) and
floored, so every whole value in [low, high] is equally likely; the analysis sees the
continuous SALib value, the model the whole number.

Seeds come from numpy's SeedSequence keyed by the sweep seed, so they depend on nothing but
the sweep file (not on workers, order or interruptions):

    design (SALib scrambling)  SeedSequence(seed, spawn_key=(0,))
    run, common random numbers SeedSequence(seed, spawn_key=(1, replicate))   same in every sample
    run, independent seeds     SeedSequence(seed, spawn_key=(2, sample, replicate))
    bootstrap of the indices   SeedSequence(seed, spawn_key=(3,))
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.experiments.sweep.spec import SweepSpec


@dataclass(frozen=True)
class Design:
    """The samples of a sweep.

    Attributes:
        names: factor keys (columns).
        raw: samples in SALib units (rows x factors), what the analysis uses.
        values: samples in model units (integer factors floored), what the model gets.
        problem: the SALib problem dict (names, bounds in SALib units).
    """

    names: list[str]
    raw: np.ndarray
    values: np.ndarray
    problem: dict[str, Any]

    @property
    def rows(self) -> int:
        return int(self.raw.shape[0])


def derived_seed(seed: int, *key: int) -> int:
    """A 63-bit seed derived from the sweep seed and a key (see the module docstring)."""
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


def run_seed(spec: SweepSpec, sample: int, replicate: int) -> int:
    """Seed of one run: common random numbers unless the sweep file turns them off."""
    if spec.common_random_numbers:
        return derived_seed(spec.seed, 1, replicate)
    return derived_seed(spec.seed, 2, sample, replicate)


def salib_problem(spec: SweepSpec) -> dict[str, Any]:
    bounds = [[f.low, f.high + 1.0] if f.integer else [f.low, f.high] for f in spec.factors]
    return {"num_vars": len(spec.factors), "names": spec.names, "bounds": bounds}


def to_model_units(spec: SweepSpec, raw: np.ndarray) -> np.ndarray:
    values = np.array(raw, dtype=np.float64, copy=True)
    for j, f in enumerate(spec.factors):
        if f.integer:
            values[:, j] = np.minimum(np.floor(values[:, j]), f.high)
    return values


def build_design(spec: SweepSpec) -> Design:
    """Draw the design of `spec` (deterministic in the sweep seed)."""
    problem = salib_problem(spec)
    seed = derived_seed(spec.seed, 0) % 2**32  # SALib/scipy take a 32-bit seed
    n = spec.samples
    with warnings.catch_warnings():
        # SALib warns on every call that sobol samples should come in powers of 2 when
        # skip_values is 0; N itself is validated to be a power of 2.
        warnings.filterwarnings("ignore", category=UserWarning, module="SALib")
        if spec.method == "sobol":
            from SALib.sample import sobol

            raw = sobol.sample(problem, n, calc_second_order=spec.second_order, seed=seed)
        elif spec.method == "morris":
            from SALib.sample import morris

            raw = morris.sample(problem, n, num_levels=int(spec.option("num_levels")),
                                seed=seed)
        elif spec.method == "fast":
            from SALib.sample import fast_sampler

            raw = fast_sampler.sample(problem, n, M=int(spec.option("M")), seed=seed)
        elif spec.method in ("latin", "rbd_fast"):
            from SALib.sample import latin

            raw = latin.sample(problem, n, seed=seed)
        elif spec.method == "grid":
            raw = grid(spec)
            problem = {**problem, "bounds": [[f.low, f.high] for f in spec.factors]}
        else:  # pragma: no cover - spec validation rejects other methods
            raise ValueError(spec.method)
    raw = np.asarray(raw, dtype=np.float64)
    values = raw.copy() if spec.method == "grid" else to_model_units(spec, raw)
    return Design(spec.names, raw, values, problem)


def grid(spec: SweepSpec) -> np.ndarray:
    """Full factorial: `samples` evenly spaced levels per factor (first factor slowest)."""
    axes = []
    for f in spec.factors:
        levels = np.linspace(f.low, f.high, spec.samples)
        axes.append(np.round(levels) if f.integer else levels)
    return np.array(list(itertools.product(*axes)), dtype=np.float64)


def sample_values(spec: SweepSpec, design: Design, sample: int) -> dict[str, float]:
    """Model values of one sample as Python numbers (ints for integer keys).

    Python floats, not numpy scalars: numpy scalars make every Python-level arithmetic
    operation of the agents engine slower (+44-59%, measured with benchmarks/sweep.py)."""
    row = design.values[sample].tolist()
    return {f.key: (int(v) if f.integer else float(v)) for f, v in zip(spec.factors, row,
                                                                      strict=True)}
