"""ε-box dominance: the archive of an ε-NSGA-II search and the merge of several searches.

Objectives are minimised. Objective space is cut into boxes of size ε per objective (box
index `floor(f / ε)`); a point ε-box-dominates another when its box dominates the other's
box. The archive keeps at most one point per box and only boxes no other box dominates, so
it is a bounded, well-spread approximation of the Pareto front at the resolution the user
cares about (Laumanns, Thiele, Deb & Zitzler 2002, "Combining convergence and diversity in
evolutionary multiobjective optimization", Evolutionary Computation 10(3); the archive of
ε-NSGA-II, Kollat & Reed 2006, "Comparing state-of-the-art evolutionary multi-objective
algorithms for long-term groundwater monitoring design", Advances in Water Resources 29(6)).

Within one box the point nearer the box's lower corner (distance in units of ε) is kept; a
point that Pareto-dominates the incumbent always wins; on an exact tie the incumbent stays
(first come, so the archive depends only on the order points are offered, which the
searches fix). *ε-progress* counts the accepted points that open a new box (Kollat & Reed
2006; Hadka & Reed's Borg uses the same count to detect stagnation): a replacement inside an
occupied box is refinement, not progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


def box_of(f: Sequence[float] | np.ndarray, epsilons: np.ndarray) -> np.ndarray:
    """The ε-box index of objective vector `f` (floor(f / ε), whole numbers as floats)."""
    return np.floor(np.asarray(f, dtype=float) / epsilons)


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether `a` Pareto-dominates `b` (minimisation): no worse anywhere, better somewhere."""
    return bool(np.all(a <= b) and np.any(a < b))


def corner_distance(f: np.ndarray, box: np.ndarray, epsilons: np.ndarray) -> float:
    """Distance of `f` from its box's lower (best) corner, in units of ε."""
    return float(np.sqrt(np.sum(((f - box * epsilons) / epsilons) ** 2)))


class EpsilonArchive:
    """An ε-box nondominated archive of objective vectors with a payload each."""

    def __init__(self, epsilons: Sequence[float]) -> None:
        self.epsilons = np.asarray(epsilons, dtype=float)
        if np.any(self.epsilons <= 0) or not np.all(np.isfinite(self.epsilons)):
            raise ValueError(f"epsilons must be positive numbers, got {list(epsilons)}")
        self.objectives: list[np.ndarray] = []
        self.boxes: list[np.ndarray] = []
        self.items: list[Any] = []
        self.progress = 0
        """ε-progress: accepted points that opened a box no archive point held."""

    def __len__(self) -> int:
        return len(self.items)

    def add(self, f: Sequence[float] | np.ndarray, item: Any) -> bool:
        """Offer point `f` (with `item`); True when the archive took it."""
        f = np.asarray(f, dtype=float)
        if f.shape != self.epsilons.shape or not np.all(np.isfinite(f)):
            raise ValueError(f"objective vector {f.tolist()} must hold "
                             f"{len(self.epsilons)} finite numbers")
        box = box_of(f, self.epsilons)
        for i, other in enumerate(self.boxes):
            if np.array_equal(other, box):
                # one point per box: Pareto dominance first, then nearness to the corner
                incumbent = self.objectives[i]
                if dominates(f, incumbent) or (
                        not dominates(incumbent, f)
                        and corner_distance(f, box, self.epsilons)
                        < corner_distance(incumbent, box, self.epsilons)):
                    self.objectives[i], self.items[i] = f, item
                    return True
                return False
            if dominates(other, box):
                return False
        keep = [i for i, other in enumerate(self.boxes) if not dominates(box, other)]
        self.objectives = [self.objectives[i] for i in keep] + [f]
        self.boxes = [self.boxes[i] for i in keep] + [box]
        self.items = [self.items[i] for i in keep] + [item]
        self.progress += 1
        return True

    def extend(self, points: Iterable[tuple[Sequence[float] | np.ndarray, Any]]) -> int:
        """Offer several (f, item) points in order; how many were taken."""
        return sum(self.add(f, item) for f, item in points)

    def array(self) -> np.ndarray:
        """The archive's objective vectors, (n, m)."""
        if not self.objectives:
            return np.empty((0, len(self.epsilons)))
        return np.vstack(self.objectives)


def epsilon_nondominated(objectives: np.ndarray, epsilons: Sequence[float]) -> list[int]:
    """Indices (rows of `objectives`, offered in row order) of the ε-nondominated set, in
    archive order: how the searches' archives are merged."""
    archive = EpsilonArchive(epsilons)
    for i, f in enumerate(np.atleast_2d(np.asarray(objectives, dtype=float))):
        archive.add(f, i)
    return [int(i) for i in archive.items]


__all__ = ["EpsilonArchive", "box_of", "corner_distance", "dominates", "epsilon_nondominated"]
