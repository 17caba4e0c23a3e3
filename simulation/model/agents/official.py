"""Official agent: the responsible parties of one village (docs/ODD.md §2, §3 step 5, §7).

Village cadres, and in key villages a resident first secretary (驻村第一书记), screen the
village's households; department data warnings reach them as far as coordination allows, and
from the 2026 normalized regime the unified low-income platform flags low-income households;
households' own applications arrive at them. They identify at-risk households, start matched
assistance after the lag, verify risk elimination and run follow-up re-checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from simulation.model import rules
from simulation.model.codes import (
    ASSISTED,
    ASSISTED_EVENT,
    CADRE_SCREENING,
    DATA_WARNING,
    DIBAO,
    ELIMINATED_EVENT,
    IDENTIFIED,
    IDENTIFIED_EVENT,
    NO_SUPPORT,
    NOT_MONITORED,
    PLATFORM,
    RECHECK,
    RISK_ELIMINATED,
    ROLLED_BACK,
    SELF_REPORT,
    TEKUN,
)
from simulation.model.context import MonthContext

if TYPE_CHECKING:
    from simulation.model.agents.household import Household
    from simulation.model.agents_engine import PovertyModel


class Official(mesa.Agent):
    """The responsible officials of a village.

    Attributes:
        village: village index.
        key_village: a first secretary is stationed here (more visit capacity).
        duty_factor: this team's diligence relative to the county's duty performance.
        households: the households in its care (filled by the model).
    """

    model: PovertyModel

    def __init__(self, model: PovertyModel, village: int, key_village: bool,
                 duty_factor: float) -> None:
        super().__init__(model)
        self.village = village
        self.key_village = key_village
        self.duty_factor = duty_factor
        self.households: list[Household] = []

    def monitor(self) -> None:
        """Phase 5 for this village: identification, assistance, risk elimination."""
        m = self.model
        c, d, t = m.ctx, m.hh_draws, m.ctx.t
        p = c.p
        p_screen = m.env.screening_chance(self.duty_factor, self.key_village)
        p_warn = rules.warning_probability(p.monitoring.data_recall,
                                           p.responsibility.coordination, True)
        p_platform = p.monitoring.low_income_recall
        for h in m.watch[self.village]:  # at risk or on the monitoring roll this month
            s = h.state
            if s == NOT_MONITORED or s == RISK_ELIMINATED:
                if h.at_risk:
                    channel = self._channel(h, c, t, float(d.screen[h.idx]),
                                            float(d.warn[h.idx]), float(d.process[h.idx]),
                                            p_screen, p_warn, p_platform)
                    if channel:
                        self.identify(h, channel, t)
                        if c.lag == 0:
                            self.assist(h, c, t)
                        continue
                if s == RISK_ELIMINATED and h.support_until != NO_SUPPORT \
                        and t + 1 >= h.support_until:
                    h.end_support()
            elif s == IDENTIFIED:
                if t - h.identified_month >= c.lag:
                    self.assist(h, c, t)
            elif s == ASSISTED and rules.elimination_eligible(
                    h.workers, h.programme == DIBAO or h.programme == TEKUN, h.secure, t,
                    h.secure_since,
                    int(p.monitoring.elimination_months), h.alert_until) \
                    and float(d.process[h.idx]) < p.monitoring.elimination_hazard:
                self.eliminate(h, c, t)

    @staticmethod
    def _channel(h: Household, c: MonthContext, t: int, u_screen: float, u_warn: float,
                 u_process: float, p_screen: float, p_warn: float, p_platform: float) -> int:
        """How an at-risk household comes to the officials' notice this month, if it does:
        its own application, cadre screening, a department data warning about a recent
        trace (bottom slice of the warning draw), the low-income platform (top slice), or a
        follow-up re-check."""
        if h.applied:
            return SELF_REPORT
        if u_screen < p_screen:
            return CADRE_SCREENING
        if t < h.trace_until and u_warn < p_warn:
            return DATA_WARNING
        if h.pc12 < c.low_income_line and u_warn >= 1.0 - p_platform:
            return PLATFORM
        if h.state == RISK_ELIMINATED and t < h.support_until \
                and u_process < c.p.monitoring.recheck_rate:
            return RECHECK
        return 0

    def identify(self, h: Household, channel: int, t: int) -> None:
        """Put a household under monitoring; record its cause, channel and lag."""
        m = self.model
        if h.state == RISK_ELIMINATED:
            m.count("rolled_back", h.weight_group)
            m.log(t, h.idx, ROLLED_BACK, -1)
        h.state = IDENTIFIED
        h.identified_month = t
        h.cause = h.primary_cause(t)
        h.channel = channel
        h.ever_monitored = True
        h.y_risk_identified = True
        h.support_until = NO_SUPPORT
        m.count("monitoring_inflow", h.weight_group)
        m.count(f"channel_{channel}", h.weight_group)
        m.count(f"risk_cause_{h.cause}", h.weight_group)
        m.count("lag_months", h.weight_group, t - h.risk_since)
        m.log(t, h.idx, IDENTIFIED_EVENT, h.cause)

    def assist(self, h: Household, c: MonthContext, t: int) -> None:
        """Start the measures matched to the household's cause: an application for 低保/特困
        (decided by civil affairs after its lag), a job for a member, a production grant,
        the education grant, temporary assistance (paid into next month's income)."""
        m, p = self.model, c.p
        take_up = float(m.hh_draws.process[h.idx]) < p.social_security.coverage
        programme, job, production, education, temporary = rules.matched_measures(h.cause,
                                                                                 h.workers)
        h.state = ASSISTED
        if temporary and take_up:
            recent = rules.recent_shock_cost(p, h.last_shock_cost, h.last_shock_month, t)
            aid = rules.emergency_aid(p, h.pc12, c.line, h.members, recent, c.cpi)
            h.pending_aid += aid
            h.y_cost_ss += aid
        if programme and take_up:
            h.apply_for_programme(t)
        if production:
            grant = p.industry.production_support * c.cpi
            h.pending_aid += grant
            h.y_cost_industry += grant
        if education:
            h.edu_aid = True
        if job and h.job_slot < 0:
            m.job_candidates.append(h)
        m.log(t, h.idx, ASSISTED_EVENT, h.cause)

    def eliminate(self, h: Household, c: MonthContext, t: int) -> None:
        """Verify risk elimination; support continues for the follow-up months."""
        m = self.model
        h.state = RISK_ELIMINATED
        h.support_until = t + c.follow_up + 1
        m.count("risk_eliminated", h.weight_group)
        m.log(t, h.idx, ELIMINATED_EVENT, h.cause)
