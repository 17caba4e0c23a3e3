"""Industry agent: a poverty-alleviation industry project of a village (docs/ODD.md §2, §7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from simulation.model import rules
from simulation.model.codes import FAILED, OPERATING

if TYPE_CHECKING:
    from simulation.model.agents_engine import PovertyModel



class Industry(mesa.Agent):
    """A project (planting, breeding, processing, tourism or e-commerce) linked to the
    formerly poor households of its village.

    Attributes:
        idx: index of the project (= its village).
        sector: index into `simulation.model.codes.SECTORS`; sector market shocks hit it.
        reserve: operating reserve in months of revenue; a project whose reserve is
            exhausted struggles, and struggling projects fail or are revived; failed
            projects are restructured or replaced after a while, at a cost.
        status: OPERATING, STRUGGLING or FAILED (idle assets).
        dividend_paid: yuan per linked household this month.
        dividend_drop: dividend lost this month because the project stopped paying.
        failed_now: the project failed this month (its project jobs end).
    """

    model: PovertyModel

    def __init__(self, model: PovertyModel, idx: int, sector: int, reserve: float) -> None:
        super().__init__(model)
        self.idx = idx
        self.sector = sector
        self.reserve = reserve
        self.status = OPERATING
        self.dividend_paid = self.dividend_drop = 0.0
        self.failed_now = False

    def operate(self) -> None:
        """Phase 3: this month's result, reserve, status and dividends to linked households."""
        m = self.model
        c, d = m.ctx, m.draws
        p = c.p
        old = self.status
        if old != FAILED:
            margin = rules.industry_margin(p, float(d.sector[self.sector]),
                                           float(d.project_z[self.idx]))
            self.reserve = rules.update_reserve(p, self.reserve, margin)
        self.status, self.reserve = rules.industry_transition(p, old, self.reserve,
                                                              float(d.project_u[self.idx]))
        if old == FAILED and self.status == OPERATING:
            m.restructured += 1
        dividend = p.industry.dividend / 12.0 * c.trend
        self.dividend_paid = dividend if self.status == OPERATING else 0.0
        self.dividend_drop = dividend if old == OPERATING and self.status != OPERATING else 0.0
        self.failed_now = old != FAILED and self.status == FAILED
