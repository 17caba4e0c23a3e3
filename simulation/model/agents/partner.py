"""Social partner agent: an enterprise, NGO or volunteer group ("social forces", docs/ODD.md §2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from simulation.model.agents.household import Household
    from simulation.model.agents_engine import PovertyModel


class SocialPartner(mesa.Agent):
    """Adds assistance capacity: job placements for assisted households (a pool that fills
    each month) and mentoring in its village.

    Attributes:
        village: the village it mentors in.
        pool: placements available (fractional placements accumulate; a year's at most).
    """

    model: PovertyModel

    def __init__(self, model: PovertyModel, village: int) -> None:
        super().__init__(model)
        self.village = village
        self.pool = 0.0

    def place(self, candidates: list[Household], start: int, capacity: float) -> int:
        """Give job placements to candidates[start:] in their priority order; return the
        index of the first candidate left without one."""
        self.pool = self.pool + capacity
        take = min(int(self.pool), len(candidates) - start)
        for h in candidates[start:start + take]:
            h.partner_job = True
        self.pool = min(self.pool - take, 12.0 * capacity)
        return start + take
