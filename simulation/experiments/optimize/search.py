"""The search: several independent NSGA-II runs (pymoo) with an ε-box archive each, merged.

This is ε-NSGA-II in the sense of Kollat & Reed (2006): NSGA-II's generations (pymoo 0.6.2,
`pymoo.algorithms.moo.nsga2.NSGA2`) feed an ε-dominance archive (Laumanns et al. 2002;
`archive.EpsilonArchive`), the archive is the search's answer, and several searches from
different seeds are merged by ε-nondominance. (Kollat & Reed also inject archive members into
a restarted, resized population; that is left out here: each search is plain NSGA-II.)

The evaluator is injected: `run_searches` hands every generation's candidates, of all the
searches at once, to `evaluate(candidates) -> objective means (n, m)`, so the same code
searches the poverty model (the evaluator of `driver.py`, which runs them on our executors,
caches and resumes) and a toy problem with a known front (the tests). pymoo is driven
through its ask-and-tell interface: `ask()` gives the offspring, we evaluate them, and
`tell()` hands them back; pymoo's randomness comes only from its own seeded
`numpy.random.Generator` (`algorithm.random_state`, set up from the search's seed), never from
the global `random` or `numpy.random` state, so a search replays exactly from its seed and the
evaluations it receives.

A constraint, when given, bounds one objective (the budget: extra cost <= budget). Only
feasible points enter the archives; NSGA-II ranks infeasible points behind feasible ones by
their violation (pymoo's constrained dominance, Deb 2000).

Convergence per search and generation: the hypervolume of the ε-archive in objectives
normalised by the ranges seen in the first generation (all searches together; reference
point 1.1 in every normalised objective, so the first generation's worst points still count
a little), and the ε-progress count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulation.experiments.optimize.archive import EpsilonArchive, epsilon_nondominated

REFERENCE_MARGIN = 0.1
"""Hypervolume reference point = 1 + this in every normalised objective (assumption: the
usual 10% beyond the worst point of the first generation)."""


@dataclass(frozen=True)
class Lever:
    """A decision variable: a knob and its range (whole numbers rounded)."""

    key: str
    low: float
    high: float
    integer: bool = False

    def value(self, x: float) -> float:
        """The knob value of search coordinate `x` (inside the range; rounded if whole)."""
        v = min(max(float(x), self.low), self.high)
        return float(round(v)) if self.integer else v


@dataclass(frozen=True)
class Candidate:
    """One point a search asks to evaluate: where it comes from and its lever values."""

    search: int
    generation: int
    index: int
    values: tuple[float, ...]


Evaluate = Callable[[Sequence[Candidate]], np.ndarray]
"""Objective means, one row per candidate, in the candidates' order (minimised)."""


@dataclass
class SearchResult:
    """Everything the searches produced."""

    levers: tuple[Lever, ...]
    objectives: tuple[str, ...]
    candidates: list[Candidate] = field(default_factory=list)
    means: list[np.ndarray] = field(default_factory=list)
    archives: list[EpsilonArchive] = field(default_factory=list)
    convergence: list[dict[str, Any]] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)
    """Indices into `candidates` of the merged ε-nondominated set (feasible points only)."""
    generations_done: int = 0
    stopped: bool = False

    def objective_array(self) -> np.ndarray:
        return np.vstack(self.means) if self.means else np.empty((0, len(self.objectives)))


def search_seed(seed: int, search: int) -> int:
    """Seed of search `search`: derived from the run's seed (numpy SeedSequence), so searches
    are independent and each is reproducible on its own."""
    return int(np.random.SeedSequence([seed, search]).generate_state(1)[0])


def generations_for(evaluations: int, searches: int, population: int) -> int:
    """Generations per search that fit `evaluations` in total (at least one)."""
    return max(1, evaluations // (searches * population))


def hypervolume(points: np.ndarray, low: np.ndarray, scale: np.ndarray) -> float:
    """Hypervolume of `points` normalised as (f - low) / scale against 1 + REFERENCE_MARGIN."""
    if len(points) == 0:
        return 0.0
    from pymoo.indicators.hv import HV

    ref = np.full(points.shape[1], 1.0 + REFERENCE_MARGIN)
    return float(HV(ref_point=ref)((points - low) / scale))


def _problem(levers: Sequence[Lever], n_obj: int, constrained: bool) -> Any:
    from pymoo.core.problem import Problem

    return Problem(n_var=len(levers), n_obj=n_obj, n_ieq_constr=1 if constrained else 0,
                   xl=np.array([lv.low for lv in levers], dtype=float),
                   xu=np.array([lv.high for lv in levers], dtype=float))


def run_searches(levers: Sequence[Lever], objectives: Sequence[str], evaluate: Evaluate, *,
                 epsilons: Sequence[float], searches: int, generations: int,
                 population: int, seed: int, budget: float | None = None,
                 budget_objective: int = 0,
                 on_generation: Callable[[int, SearchResult], None] | None = None,
                 stop_after: int | None = None) -> SearchResult:
    """`searches` NSGA-II searches of `generations` generations of `population` candidates,
    in lockstep (one call of `evaluate` per generation holds every search's candidates);
    with `budget`, objective `budget_objective` must stay <= budget. `stop_after` ends after
    that many generations as if interrupted (result.stopped; for tests of resuming)."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.problems.static import StaticProblem

    levers = tuple(levers)
    result = SearchResult(levers, tuple(objectives))
    constrained = budget is not None
    problem = _problem(levers, len(objectives), constrained)
    algorithms = []
    for s in range(searches):
        algo = NSGA2(pop_size=population, eliminate_duplicates=True)
        algo.setup(problem, seed=search_seed(seed, s), termination=("n_gen", generations),
                   verbose=False)
        algorithms.append(algo)
        result.archives.append(EpsilonArchive(epsilons))
    whole = np.array([lv.integer for lv in levers], dtype=bool)
    low = scale = np.zeros(0)
    for gen in range(generations):
        if stop_after is not None and gen >= stop_after:
            result.stopped = True
            break
        pops, batch = [], []
        for s, algo in enumerate(algorithms):
            pop = algo.ask()
            x = np.array(pop.get("X"), dtype=float)
            if whole.any():  # the search moves on the values that are actually run
                x[:, whole] = np.round(x[:, whole])
                pop.set("X", x)
            pops.append(pop)
            batch += [Candidate(s, gen, i, tuple(lv.value(v) for lv, v in zip(levers, row,
                                                                               strict=True)))
                      for i, row in enumerate(x)]
        means = np.asarray(evaluate(batch), dtype=float)
        if means.shape != (len(batch), len(objectives)):
            raise ValueError(f"the evaluator returned {means.shape}, expected "
                             f"{(len(batch), len(objectives))}")
        if gen == 0:
            low = means.min(axis=0)
            scale = np.where(means.max(axis=0) > low, means.max(axis=0) - low, 1.0)
        start = 0
        for s, (algo, pop) in enumerate(zip(algorithms, pops, strict=True)):
            f = means[start:start + len(pop)]
            kwargs: dict[str, Any] = {"F": f}
            if constrained:
                kwargs["G"] = f[:, [budget_objective]] - budget
            algo.evaluator.eval(StaticProblem(problem, **kwargs), pop)
            algo.tell(infills=pop)
            archive = result.archives[s]
            for i, row in enumerate(f):
                if not constrained or row[budget_objective] <= budget:  # type: ignore[operator]
                    archive.add(row, len(result.candidates) + start + i)
            start += len(pop)
            result.convergence.append({
                "search": s, "generation": gen, "evaluations": algo.evaluator.n_eval,
                "archive_size": len(archive), "epsilon_progress": archive.progress,
                "hypervolume": hypervolume(archive.array(), low, scale)})
        result.candidates += batch
        result.means += list(means)
        result.generations_done = gen + 1
        if on_generation is not None:
            on_generation(gen, result)
    result.merged = merge(result, epsilons)
    if result.means:
        merged_hv = hypervolume(result.objective_array()[result.merged], low, scale) \
            if result.merged else 0.0
        result.convergence.append({
            "search": -1, "generation": result.generations_done - 1,
            "evaluations": len(result.candidates), "archive_size": len(result.merged),
            "epsilon_progress": sum(a.progress for a in result.archives),
            "hypervolume": merged_hv})
    return result


def merge(result: SearchResult, epsilons: Sequence[float]) -> list[int]:
    """The searches' archives merged by ε-nondominance (search 0's members first, each
    archive in its own order): indices into result.candidates."""
    order = [i for archive in result.archives for i in archive.items]
    if not order:
        return []
    f = result.objective_array()[order]
    return [order[k] for k in epsilon_nondominated(f, epsilons)]


__all__ = [
    "REFERENCE_MARGIN",
    "Candidate",
    "Evaluate",
    "Lever",
    "SearchResult",
    "generations_for",
    "hypervolume",
    "merge",
    "run_searches",
    "search_seed",
]
