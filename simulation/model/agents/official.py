"""Official agent: the responsible parties of one village (docs/ODD.md §2, §3 step 5, §7).

Village cadres, and in key villages a resident first secretary (驻村第一书记), screen the
village's households; department data warnings reach them as far as coordination allows;
households' own applications arrive at them. They identify at-risk households, start matched
assistance after the lag, verify risk elimination and run follow-up re-checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa

from simulation.model import rules
from simulation.model.codes import (
    ASSISTED,
    ASSISTED_EVENT,
    CADRE_SCREENING,
    DATA_WARNING,
    ELIMINATED_EVENT,
    IDENTIFIED,
    IDENTIFIED_EVENT,
    NO_SUPPORT,
    NOT_MONITORED,
    RECHECK,
    RISK_ELIMINATED,
    ROLLED_BACK,
    SELF_REPORT,
)

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
        p_screen = m.env.screening_chance(self.duty_factor, self.key_village)
        for h in m.watch[self.village]:  # at risk or on the monitoring roll this month
            s = h.state
            if s == NOT_MONITORED or s == RISK_ELIMINATED:
                if h.at_risk:
                    i = h.idx
                    if h.applied:
                        channel = SELF_REPORT
                    elif float(d.screen[i]) < p_screen:
                        channel = CADRE_SCREENING
                    elif float(d.warn[i]) < rules.warning_probability(c.warning_recall,
                                                               c.coordination,
                                                               t < h.trace_until):
                        channel = DATA_WARNING
                    elif s == RISK_ELIMINATED and t < h.support_until \
                            and float(d.process[i]) < c.recheck_rate:
                        channel = RECHECK
                    else:
                        channel = 0
                    if channel:
                        self.identify(h, channel, c, t)
                        if c.lag == 0:
                            self.assist(h, c, t)
                        continue
                if s == RISK_ELIMINATED and h.support_until != NO_SUPPORT \
                        and t + 1 >= h.support_until:
                    h.end_support()
            elif s == IDENTIFIED:
                if t - h.identified_month >= c.lag:
                    self.assist(h, c, t)
            elif s == ASSISTED:
                if rules.elimination_eligible(workers=h.workers, secure=h.secure, t=t,
                                              secure_since=h.secure_since,
                                              months=c.elimination_months,
                                              alert_until=h.alert_until):
                    if float(d.process[h.idx]) < c.elimination_hazard:
                        self.eliminate(h, c, t)
                elif c.january and rules.review_enrols_dibao(dibao=h.dibao, workers=h.workers,
                                                             pc12=h.pc12, standard=c.dibao_standard,
                                                             u=float(d.process[h.idx]),
                                                             coverage=c.coverage):
                    h.dibao = True  # annual review: 兜底 for households without labour
                    h.dibao_gap = rules.dibao_gap(c.dibao_standard, h.pc12)
                    h.version = -1

    def identify(self, h: Household, channel: int, c: Any, t: int) -> None:
        """Put a household under monitoring; record its cause, channel and lag."""
        m = self.model
        if h.state == RISK_ELIMINATED:
            m.count("rolled_back", h.category)
            m.log(t, h.idx, ROLLED_BACK, -1)
        h.state = IDENTIFIED
        h.identified_month = t
        h.cause = h.primary_cause(t)
        h.channel = channel
        h.ever_monitored = True
        h.support_until = NO_SUPPORT
        m.count("monitoring_inflow", h.category)
        m.count(f"channel_{channel}", h.category)
        m.count(f"risk_cause_{h.cause}", h.category)
        m.count("lag_months", h.category, t - h.risk_since)
        m.log(t, h.idx, IDENTIFIED_EVENT, h.cause)

    def assist(self, h: Household, c: Any, t: int) -> None:
        """Start the measures matched to the household's cause (docs/ODD.md §7, Assistance)."""
        m = self.model
        take_up = float(m.hh_draws.process[h.idx]) < c.coverage  # exclusion error this attempt
        dibao, job, production, education, temporary = rules.matched_measures(h.cause,
                                                                             h.workers)
        h.state = ASSISTED
        if temporary and take_up:
            # relief is not counted as household income in means tests (MCA 2021 dibao
            # rules exclude temporary assistance); it replenishes the household's buffer
            aid = rules.emergency_aid(c.p, h.pc12, c.line, h.members, h.last_shock_cost)
            h.savings += aid
            h.y_cost_ss += aid
        if dibao and take_up and not h.dibao and h.pc12 < c.dibao_standard:
            h.dibao = True
            h.dibao_gap = rules.dibao_gap(c.dibao_standard, h.pc12)
            h.version = -1
        if production:
            h.pending_aid += c.production_support
            h.y_cost_industry += c.production_support
        if education:
            h.edu_aid = True
        if job and not h.partner_job and not h.welfare_job:
            m.job_candidates.append(h)
        m.log(t, h.idx, ASSISTED_EVENT, h.cause)

    def eliminate(self, h: Household, c: Any, t: int) -> None:
        """Verify risk elimination; support continues for the follow-up months."""
        m = self.model
        h.state = RISK_ELIMINATED
        h.support_until = t + c.follow_up + 1
        m.count("risk_eliminated", h.category)
        m.log(t, h.idx, ELIMINATED_EVENT, h.cause)
