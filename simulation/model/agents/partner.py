"""Social partner agent: an enterprise, NGO or volunteer group ("social forces", docs/ODD.md §2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from simulation.model.codes import PLACEMENT

if TYPE_CHECKING:
    from simulation.model.agents.household import Household
    from simulation.model.agents_engine import PovertyModel


class SocialPartner(mesa.Agent):
    """Adds assistance capacity: job placements for members of assisted households (a pool
    that fills each month) and mentoring in its village.

    Attributes:
        village: the village it mentors in.
        pool: placements available (fractional placements accumulate; a year's at most).
    """

    model: PovertyModel

    def __init__(self, model: PovertyModel, village: int) -> None:
        super().__init__(model)
        self.village = village
        self.pool = 0.0

    def place(self, candidates: list[Household], start: int, capacity: float, t: int,
              term: int) -> int:
        """Place candidates[start:] in jobs, in their priority order, while the pool lasts;
        a household without a member able to take the job is passed over. Returns the index
        of the first candidate not yet seen."""
        self.pool = self.pool + capacity
        k = start
        while k < len(candidates) and self.pool >= 1.0:
            if candidates[k].start_job(PLACEMENT, t + term, t):
                self.pool -= 1.0
            k += 1
        self.pool = min(self.pool, 12.0 * capacity)
        return k
