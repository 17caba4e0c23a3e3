"""History matching: emulators, implausibility, and the space-filling designs of the waves.

The method of Vernon, Goldstein & Bower (2010) as the R package hmer implements it (Iskauskas
et al., J. Stat. Softw. 2024): for every target an emulator — here a Gaussian process from
scikit-learn — predicts the model's mean output E[f(x)] and its own uncertainty Var_em(x) from
the runs so far; a parameter set x is *implausible* for a target when

    I(x) = |z - E[f(x)]| / sqrt(Var_em(x) + Var_obs)  >  cut-off (3)

(z the target's centre, Var_obs its uncertainty: a range is read as z ± 3 sd; the run-to-run
variance of a mean over the replicates is in Var_em, through the emulator's white-noise term).
A wave keeps the parameter sets that are not implausible for any target under any wave's
emulators so far (early waves with many targets: for all but one, see Wave.nth) and designs
the next wave's runs inside them (refocusing); what is left at the end is the non-implausible
space, and the simulated sets whose mean meets every target form the plausible ensemble.

All randomness comes from generators seeded by the caller.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import qmc

CUTOFF = 3.0
"""Implausibility cut-off: Pukelsheim's three-sigma rule, hmer's default."""


def single_threaded() -> Any:
    """BLAS on one thread: a multi-threaded BLAS splits sums differently with the number of
    threads, so emulators fitted in this process and on workers, or on machines with more
    cores, could differ in the last bits and steer the next wave elsewhere."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def latin(n: int, dims: int, rng: np.random.Generator) -> np.ndarray:
    """n points of a Latin hypercube in [0, 1]^dims."""
    sampler = qmc.LatinHypercube(d=dims, rng=rng)
    return sampler.random(n)


@dataclass
class Emulator:
    """A Gaussian-process emulator of one target's statistic over the unit cube.

    Inputs are the free parameters scaled to [0, 1]; the output is standardised. The kernel is
    a constant times an anisotropic squared-exponential (one length scale per parameter, so
    inactive parameters get long scales) plus white noise, which absorbs the run-to-run
    variance of the replicate means."""

    name: str
    model: object
    mean: float
    scale: float

    @classmethod
    def fit(cls, name: str, x: np.ndarray, y: np.ndarray, seed: int) -> Emulator:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        mean = float(np.mean(y))
        scale = float(np.std(y)) or 1.0
        dims = x.shape[1]
        kernel = (ConstantKernel(1.0, (1e-3, 1e3))
                  * RBF(length_scale=np.full(dims, 0.5), length_scale_bounds=(0.02, 100.0))
                  + WhiteKernel(0.05, (1e-8, 1.0)))
        gp = GaussianProcessRegressor(kernel=kernel, normalize_y=False,
                                      n_restarts_optimizer=2, random_state=seed)
        with warnings.catch_warnings(), single_threaded():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(x, (y - mean) / scale)
        return cls(name, gp, mean, scale)

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulator mean and variance at the points x (rows in the unit cube)."""
        with single_threaded():
            mu, sd = self.model.predict(x, return_std=True)  # type: ignore[attr-defined]
        return self.mean + self.scale * mu, (self.scale * sd) ** 2

    def length_scales(self) -> np.ndarray:
        """Fitted length scales (short = the target is sensitive to that parameter)."""
        return np.atleast_1d(self.model.kernel_.k1.k2.length_scale)  # type: ignore[attr-defined]


def implausibility(expected: np.ndarray, variance: np.ndarray, centre: float, sd: float,
                   ) -> np.ndarray:
    """|z - E| / sqrt(Var_em + Var_obs) for every point (a zero-width range, such as a flag,
    leaves only the emulator's uncertainty in the denominator)."""
    return np.abs(centre - expected) / np.sqrt(np.maximum(variance, 0.0) + sd * sd + 1e-300)


@dataclass
class Wave:
    """The emulators of one wave, one per target (in the targets file's order)."""

    emulators: list[Emulator]
    centres: np.ndarray
    sds: np.ndarray
    nth: int = 1
    """Which largest implausibility decides: 1 the largest; 2 the second largest, as early
    waves with many targets use (Vernon et al. 2010), so that one poorly emulated target
    cannot rule out space on its own."""

    def measure(self, x: np.ndarray) -> np.ndarray:
        """The implausibility that decides, at every point (the nth largest over targets)."""
        imp = self.implausibilities(x)
        if self.nth <= 1 or imp.shape[1] < self.nth:
            return imp.max(axis=1)
        return np.sort(imp, axis=1)[:, -self.nth]

    def implausibilities(self, x: np.ndarray) -> np.ndarray:
        """(points, targets) implausibility of every point for every target."""
        out = np.empty((x.shape[0], len(self.emulators)))
        for j, em in enumerate(self.emulators):
            e, v = em.predict(x)
            out[:, j] = implausibility(e, v, self.centres[j], self.sds[j])
        return out


def non_implausible(waves: Sequence[Wave], x: np.ndarray, cutoff: float = CUTOFF,
                    chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """(mask, max implausibility) of the points x under every wave's emulators: a point stays
    if its largest implausibility is at most `cutoff` in every wave so far."""
    keep = np.ones(x.shape[0], bool)
    worst = np.zeros(x.shape[0])
    for wave in waves:
        for start in range(0, x.shape[0], chunk):
            rows = np.flatnonzero(keep[start:start + chunk]) + start
            if rows.size == 0:
                continue
            imp = wave.measure(x[rows])
            worst[rows] = np.maximum(worst[rows], imp)
            keep[rows] = imp <= cutoff
    worst[~keep] = np.maximum(worst[~keep], cutoff + 1e-9)
    return keep, worst


def implausibility_of(waves: Sequence[Wave], x: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """The largest over waves of each wave's deciding implausibility, at every point."""
    worst = np.zeros(x.shape[0])
    for wave in waves:
        for start in range(0, x.shape[0], chunk):
            worst[start:start + chunk] = np.maximum(worst[start:start + chunk],
                                                    wave.measure(x[start:start + chunk]))
    return worst


def refocus(waves: Sequence[Wave], n: int, dims: int, rng: np.random.Generator,
            low: np.ndarray | None = None, high: np.ndarray | None = None,
            candidates: int = 20_000, cutoff: float = CUTOFF,
            max_rounds: int = 5) -> tuple[np.ndarray, float]:
    """n space-filling points for the next wave, and the cut-off they satisfy.

    Candidates are Latin-hypercube points in the box [low, high] of the unit cube (the
    bounding box of the space left, or the whole cube), drawn in rounds until 3n are not
    implausible; the n are chosen among them greedily by distance to those already chosen
    (maximin), so they spread out. When fewer than n candidates are consistent with every
    target, all of them are used and the rest chosen among the 3n least implausible; the
    cut-off they satisfy is returned (above `cutoff`): the next wave then learns where the
    model comes closest, rather than stopping (a larger cut-off in early waves is common
    practice; the plausible ensemble is still judged by simulation against the targets
    themselves)."""
    low = np.zeros(dims) if low is None else low
    high = np.ones(dims) if high is None else high
    drawn, scores = [], []
    for _ in range(max_rounds):
        x = low + (high - low) * latin(candidates, dims, rng)
        drawn.append(x)
        scores.append(implausibility_of(waves, x))
        if sum(int((sc <= cutoff).sum()) for sc in scores) >= 3 * n:
            break
    pool, score = np.concatenate(drawn), np.concatenate(scores)
    kept = pool[score <= cutoff]
    if len(kept) >= n:
        return (kept if len(kept) == n else maximin(kept, n, rng)), cutoff
    # every consistent candidate, then the least implausible others, spread out
    order = np.argsort(score, kind="stable")
    rest = order[len(kept):3 * n]
    fill = maximin(pool[rest], n - len(kept), rng) if n > len(kept) else pool[:0]
    return np.concatenate([kept, fill]), float(score[rest].max())


def maximin(pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n rows of `pool` chosen greedily to be far from each other."""
    chosen = [int(rng.integers(len(pool)))]
    dist = np.linalg.norm(pool - pool[chosen[0]], axis=1)
    for _ in range(n - 1):
        k = int(np.argmax(dist))
        chosen.append(k)
        dist = np.minimum(dist, np.linalg.norm(pool - pool[k], axis=1))
    return pool[chosen]
