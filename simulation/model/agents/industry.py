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
        sector: index into `simulation.model.population.SECTORS`; sector market shocks hit it.
        reserve: operating reserve in months of revenue; a project whose reserve is
            exhausted struggles, and struggling projects fail or are revived.
        status: OPERATING, STRUGGLING or FAILED (idle assets).
        dividend_paid, wage_paid: yuan per linked household / project job this month.
        dividend_drop, wage_drop: payouts lost this month because the project stopped paying.
    """

    model: PovertyModel

    def __init__(self, model: PovertyModel, idx: int, sector: int, reserve: float) -> None:
        super().__init__(model)
        self.idx = idx
        self.sector = sector
        self.reserve = reserve
        self.status = OPERATING
        self.dividend_paid = self.wage_paid = self.dividend_drop = self.wage_drop = 0.0

    def operate(self) -> None:
        """Phase 3: this month's result, reserve, status and payouts to linked households."""
        m = self.model
        c, d, ip = m.ctx, m.draws, m.env.p.industry
        old = self.status
        if old != FAILED:
            margin = rules.industry_margin(positioning=ip.positioning, margin_fit=ip.margin_fit,
                                           margin_misfit=ip.margin_misfit,
                                           market_volatility=ip.market_volatility,
                                           project_volatility=ip.project_volatility,
                                           sector_z=float(d.sector[self.sector]),
                                           project_z=float(d.project_z[self.idx]))
            self.reserve = rules.update_reserve(self.reserve, margin, ip.risk_resistance,
                                                ip.reserve_cap)
        status, self.reserve = rules.industry_transition(
                status=old,
                buffer=self.reserve,
                u=float(d.project_u[self.idx]),
                p_fail=ip.failure_hazard * (1.0 - ip.management),
                p_revive=ip.revival_rate * ip.management,
                revived_buffer=0.5 * ip.initial_buffer,
            )
        self.status = int(status)
        self.dividend_paid = c.dividend_month if self.status == OPERATING else 0.0
        self.wage_paid = c.project_wage if self.status != FAILED else 0.0
        self.dividend_drop = c.dividend_month if old == OPERATING and self.status != OPERATING \
            else 0.0
        self.wage_drop = c.project_wage if old != FAILED and self.status == FAILED else 0.0
