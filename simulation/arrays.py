"""ArrayModel: the array engine — the same model as `PovertyModel` on numpy columns.

Households (and industries, officials, social partners) are columns of numpy arrays; each
monthly phase is one vectorised function that calls the same rule functions as the agents
engine, in the same order, on the same per-month draws (simulation.draws). Given a scenario
and a seed the two engines produce bit-identical yearly series and final household state
(tests/test_engines.py proves it). There is no Python loop over households in a month.

Where the agents engine branches on one household (`if lose: ... elif regain: ...`), this
engine computes the same rule on the whole column and applies it through the same mask; rare
events (bills, disability, identification) are applied to index subsets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulation import metrics, rules
from simulation.context import LOSS_FLOOR, Environment, MonthContext
from simulation.draws import MonthDraws, draw_month
from simulation.params import as_namespace
from simulation.population import FORMERLY_POOR, ORDINARY, build_population
from simulation.rules import (ACCIDENT, DISABILITY, DISASTER, ILLNESS, INDUSTRY_FAILURE,
                              JOB_LOSS, SCHOOLING, TRANSFER_WITHDRAWAL)
from simulation.scenario import Disaster, Scenario
from simulation.state import (ACCIDENT_EVENT, ASSISTED, ASSISTED_EVENT, CADRE_SCREENING,
                              DATA_WARNING, DIP, DISABILITY_EVENT, DISASTER_EVENT,
                              ELIMINATED_EVENT, FALL, FIELDS, IDENTIFIED, IDENTIFIED_EVENT,
                              ILLNESS_EVENT, JOB_LOSS_EVENT, NO_SUPPORT, NOT_MONITORED, RECHECK,
                              RISE, RISK_ELIMINATED, ROLLED_BACK, SCHOOL_EVENT, SELF_REPORT,
                              SHOCK_EVENTS, initial_record, initial_state)

NO_CAP = 1e12  # as simulation.agents.household.NO_CAP
OPERATING, STRUGGLING, FAILED = 0, 1, 2


class Columns:
    """Household state: one numpy column per field of simulation.state.FIELDS, plus the
    12-month `ring` (12 x n) and the cause ledger `losses` (8 x n)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.__dict__.update(arrays)


class ArrayModel:
    """M County under one scenario on numpy columns; same interface as PovertyModel for runs.

    Args:
        scenario: resolved scenario.
        rng: seed of the model's generator (the only source of randomness).
        record_events: keep the per-household event log.
        log_shocks: also log every shock.
    """

    def __init__(self, scenario: Scenario, rng: int | None = None, *,
                 record_events: bool = True, log_shocks: bool = False) -> None:
        self.spec = scenario
        # the same generator the agents engine gets from mesa.Model(rng=seed)
        self.rng = np.random.default_rng(rng)
        p = as_namespace(dict(scenario.values))
        self.population = build_population(p, self.rng)
        self.env = Environment(scenario.values, self.population)
        self.decay = np.asarray(self.env.decay)
        self.record_events, self.log_shocks = record_events, log_shocks
        self._events: list[np.ndarray] = []
        self.month = 0
        self.ctx: MonthContext = self.env.month(0)
        self.years: list[dict[str, float]] = []
        self.tally: dict[str, np.ndarray] = {}
        self.programme_costs: dict[str, float] = {}
        state = initial_state(p, self.population)
        self.initial = initial_record(p, self.population, state)
        self.s = Columns(state)
        self.n = self.population.n
        self.fp = self.s.category == FORMERLY_POOR

        v = self.population.villages
        self.n_villages = self.population.n_villages
        self.sector = v["sector"].astype(np.intp)
        self.reserve = v["reserve"].astype(np.float64)
        self.status = np.zeros(self.n_villages, np.int64)
        self.dividend_paid = np.zeros(self.n_villages)
        self.wage_paid = np.zeros(self.n_villages)
        self.dividend_drop = np.zeros(self.n_villages)
        self.wage_drop = np.zeros(self.n_villages)
        self.key = v["key"]
        self.duty_factor = v["duty_factor"].tolist()
        self._partner_order = v["partner_order"].tolist()
        self.pools: list[float] = []
        self.village_partner = np.zeros(self.n_villages, bool)
        self._sync_partners()
        self._changes = {c.month: c for c in scenario.schedule}
        self._disasters = {d.month: d for d in scenario.disasters}
        self.pending_disaster: Disaster | None = None

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """One month, phases in the order of DESIGN §4 (as PovertyModel.step)."""
        t = self.month
        if t in self._changes:  # the agents engine runs these as Mesa events at t - 0.5
            self._apply_change(self._changes[t].values)
        if t in self._disasters:
            self.pending_disaster = self._disasters[t]
        self.ctx = c = self.env.month(t)
        self.draws = d = draw_month(self.rng, t, self.n, self.n_villages, self.n_villages)  # 1
        hit = self._strike_covariate_shocks(d)                                            # 2
        self._operate_industries(c, d)                                                    # 3
        self._accrue_programme_costs()
        watch, crossing = self._households_live(c, d, hit)                                # 4
        candidates = self._monitor(c, d, watch)                                           # 5
        self._place_jobs(candidates, d)
        self._settle(c, crossing)                                                         # 6
        if c.december:
            self._close_year(c)
        self.month += 1

    def run(self, months: int | None = None) -> None:
        for _ in range(self.spec.years * 12 if months is None else months):
            self.step()

    # ------------------------------------------------------------------ phases 2 and 3
    def _strike_covariate_shocks(self, d: MonthDraws) -> np.ndarray | None:
        disaster, self.pending_disaster = self.pending_disaster, None
        if disaster is None and d.disaster < self.env.disaster_chance():
            sh = self.env.p.shocks
            disaster = Disaster(self.month, sh.disaster_village_share,
                                sh.disaster_production_loss, sh.disaster_asset_loss,
                                int(sh.disaster_months))
        self.disaster = disaster
        if disaster is None:
            return None
        self._count("disasters", np.array([0], np.int8))
        return d.village < disaster.village_share

    def _operate_industries(self, c: MonthContext, d: MonthDraws) -> None:
        ip = self.env.p.industry
        old = self.status
        margin = rules.industry_margin(ip.positioning, ip.margin_fit, ip.margin_misfit,
                                       ip.market_volatility, ip.project_volatility,
                                       d.sector[self.sector], d.project_z)
        reserve = np.where(old != FAILED,
                           rules.update_reserve(self.reserve, margin, ip.risk_resistance,
                                                ip.reserve_cap), self.reserve)
        status, self.reserve = rules.industry_transition(
            old, reserve, d.project_u, ip.failure_hazard * (1.0 - ip.management),
            ip.revival_rate * ip.management, 0.5 * ip.initial_buffer)
        self.status = np.asarray(status, np.int64)
        self.dividend_paid = np.where(self.status == OPERATING, c.dividend_month, 0.0)
        self.wage_paid = np.where(self.status != FAILED, c.project_wage, 0.0)
        self.dividend_drop = np.where((old == OPERATING) & (self.status != OPERATING),
                                      c.dividend_month, 0.0)
        self.wage_drop = np.where((old != FAILED) & (self.status == FAILED), c.project_wage, 0.0)

    def _accrue_programme_costs(self) -> None:
        for mechanism, yearly in self.env.programme_costs().items():
            self.programme_costs[mechanism] = self.programme_costs.get(mechanism, 0.0) \
                + yearly / 12.0

    # ------------------------------------------------------------------ phase 4
    def _households_live(self, c: MonthContext, d: MonthDraws,
                         hit: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Household.live for every household (same rules, same order)."""
        s, t, fp = self.s, c.t, self.fp
        fee: Any = 0.0
        grant: Any = 0.0
        if c.calendar:
            fee, grant = self._calendar(c, d)

        # idiosyncratic shocks
        p_ill = rules.illness_probability(s.members, s.chronic, c.p_illness_person,
                                          c.chronic_multiplier)
        ill, accident, disabled = rules.shock_kinds(d.shock, p_ill, c.p_accident,
                                                    c.p_disability, s.workers)
        shock_cost = np.zeros(self.n)
        bills = np.flatnonzero(ill | accident)
        if bills.size:
            sick = ill[bills]
            sev = d.severity[bills]
            bill = np.where(sick, rules.truncated_pareto(sev, c.bill_min, c.bill_max),
                            rules.truncated_pareto(sev, c.accident_bill_min,
                                                   c.accident_bill_max))
            state = s.state[bills]
            covered = (s.u_coverage[bills] < c.coverage) & (
                fp[bills] | s.dibao[bills] | (state == IDENTIFIED) | (state == ASSISTED)
                | (t < s.support_until[bills]))
            oop, assistance = rules.out_of_pocket(
                bill, c.out_of_scope, c.insurance_rate, c.cii_deductible, c.cii_rate,
                c.medical_assistance_rate * covered, np.where(covered, c.oop_cap, NO_CAP))
            s.y_cost_ss[bills] += assistance
            s.last_shock_cost[bills] = oop
            shock_cost[bills] = oop
            self._record(c, bills[sick], ILLNESS_EVENT, ILLNESS, oop[sick])
            self._record(c, bills[~sick], ACCIDENT_EVENT, ACCIDENT, oop[~sick])
        dis = np.flatnonzero(disabled)
        if dis.size:
            s.workers[dis] -= 1
            s.disabled[dis] += 1
            s.migrants[dis] = np.minimum(s.migrants[dis], s.workers[dis])
            s.unemployed[dis] = np.minimum(s.unemployed[dis], s.migrants[dis])
            self._record(c, dis, DISABILITY_EVENT, DISABILITY,
                         12.0 * c.local_wage * s.skill[dis] * c.trend)
        if hit is not None:
            hh = np.flatnonzero(hit[s.village])
            dz = self.disaster
            annual = 12.0 * s.production[hh] * c.trend
            asset = dz.asset_loss * annual
            s.disaster_until[hh] = t + dz.months
            s.disaster_loss[hh] = dz.production_loss
            s.last_shock_cost[hh] = asset
            self._record(c, hh, DISASTER_EVENT, DISASTER,
                         asset + dz.production_loss * dz.months / 12.0 * annual)
            shock_cost[hh] += asset

        employed = s.migrants - s.unemployed
        p_back = rules.reemployment_probability(c.reemployment_rate, s.motivation,
                                                s.dependency, c.dependency_effect)
        lose, regain = rules.job_transitions(d.job, employed, s.unemployed, c.p_job_loss,
                                             p_back)
        lost = np.flatnonzero(lose)
        if lost.size:
            s.unemployed[lost] += 1
            self._record(c, lost, JOB_LOSS_EVENT, JOB_LOSS,
                         12.0 * (c.migrant_wage - c.fallback_wage) * s.skill[lost] * c.trend)
        s.unemployed[regain & ~lose] -= 1

        # incomes by source and the 12-month monitoring window
        wage_base = rules.wage_base(s.workers - s.migrants, s.migrants - s.unemployed,
                                    s.unemployed, c.local_wage, c.migrant_wage,
                                    c.fallback_wage, s.skill)
        linked = fp & (s.u_linkage < c.linkage_share)
        project_job = s.u_project_job < c.job_share
        dibao_pay = rules.dibao_payment(s.dibao, s.members, c.dibao_standard_month,
                                        c.dibao_benefit_share)
        regular = rules.regular_transfers(s.elderly, c.pension, fp, c.subsidy, dibao_pay)
        ss_regular = rules.regular_social_security(fp, c.subsidy, dibao_pay)

        s.dev, wages, production = rules.earnings(
            s.dev, d.earnings, c.persistence, c.innovation_sd, wage_base, s.production,
            c.trend, np.where(t < s.disaster_until, s.disaster_loss, 0.0))
        jobs = s.partner_job | s.welfare_job
        labour = np.where(jobs, rules.labour_income(wages, s.partner_job, c.partner_wage,
                                                    s.welfare_job, c.public_welfare_wage),
                          wages)
        village = s.village
        drop = self.dividend_drop[village] + project_job * self.wage_drop[village]
        stopped = np.flatnonzero(linked & (drop > 0))
        if stopped.size:
            self._add_loss(t, stopped, INDUSTRY_FAILURE, 12.0 * drop[stopped])
        project = np.where(linked, rules.project_income(True, self.dividend_paid[village],
                                                        project_job, self.wage_paid[village]),
                           0.0)
        paid = np.where(shock_cost > 0, rules.savings_used(s.savings, shock_cost), 0.0)
        slot = c.month_of_year
        transfers, gross, rigid, net, roll = rules.monthly_accounts(
            labour, production, project, regular, s.family_support, c.trend,
            s.pending_aid + grant, c.property, shock_cost - paid, s.chronic,
            c.chronic_outpatient, fee, s.roll12, s.ring[slot])
        s.ring[slot] = net
        s.roll12 = roll
        s.pc12 = pc = roll / s.members
        s.savings = rules.save(s.savings, paid, gross, c.subsistence_month * s.members,
                               c.savings_rate, c.savings_cap)
        severe = (shock_cost > 0) & rules.severe_shock(shock_cost, roll + paid, c.severe_share)
        s.alert_until[severe] = t + c.alert_months

        # motivation
        if c.march:
            self._training_and_guidance(c, d, transfers, labour + production + project)
        mentored = (s.state == ASSISTED) & self.village_partner[village]
        s.motivation[mentored] = rules.motivation_gain(s.motivation[mentored], c.mentoring)

        s.y_labour += labour
        s.y_production += production
        s.y_project += project
        s.y_transfers += transfers
        s.y_rigid += rigid
        costly = (ss_regular != 0) | jobs | (grant != 0)
        s.y_cost_ss[costly] += rules.social_security_cost(
            ss_regular, grant, s.welfare_job, c.public_welfare_wage)[costly]
        s.pending_aid[:] = 0.0

        # standing for phases 5 and 6
        secure = pc >= c.alert_line
        s.secure_since[secure & ~s.secure] = t
        s.secure = secure
        risk = s.at_risk = rules.at_risk(pc, c.alert_line, t < s.alert_until)
        s.risk_since[risk & (s.risk_since < 0)] = t
        s.risk_since[~risk & (s.risk_since >= 0)] = -1
        applying = risk & ((s.state == NOT_MONITORED) | (s.state == RISK_ELIMINATED))
        s.applied[applying] = (d.report < rules.self_report_probability(
            c.self_report_rate, s.motivation, s.dependency, c.dependency_effect))[applying]
        watch = np.flatnonzero(risk | (s.state != NOT_MONITORED))
        crossing = np.flatnonzero((pc < c.line) != s.below)
        return watch, crossing

    def _calendar(self, c: MonthContext, d: MonthDraws) -> tuple[Any, Any]:
        """Household._calendar: January review, withdrawal of transfers, school year."""
        s, t, fp = self.s, c.t, self.fp
        if c.january:
            own = rules.income_without_dibao(s.pc12, s.dibao, c.dibao_standard_month,
                                             c.dibao_benefit_share)
            leave = np.flatnonzero(s.dibao & (own >= c.dibao_exit_line) & (t >= s.support_until)
                                   & (s.state != ASSISTED) & (s.state != IDENTIFIED))
            if leave.size:
                s.dibao[leave] = False
                lost = rules.dibao_payment(True, s.members[leave], c.dibao_standard_month,
                                           c.dibao_benefit_share)
                self._add_loss(t, leave, TRANSFER_WITHDRAWAL, 12.0 * lost)
        if c.subsidy_drop > 0:
            idx = np.flatnonzero(fp)
            self._add_loss(t, idx, TRANSFER_WITHDRAWAL, np.full(idx.size, 12.0 * c.subsidy_drop))
        if not c.september:
            return 0.0, 0.0
        enters, graduates = rules.school_transitions(d.school, s.children, s.students,
                                                     c.school_entry_rate, c.school_exit_rate)
        graduates = graduates & ~enters
        s.children[enters] -= 1
        s.students[enters] += 1
        s.students[graduates] -= 1
        s.workers[graduates] += 1
        eligible = fp | s.edu_aid
        fee, grant = rules.school_year(s.students, c.schooling_cost, c.education_grant, eligible)
        idx = np.flatnonzero(enters)
        if idx.size:
            self._record(c, idx, SCHOOL_EVENT, SCHOOLING,
                         c.schooling_cost - c.education_grant * eligible[idx])
        return fee, grant

    def _training_and_guidance(self, c: MonthContext, d: MonthDraws, transfers: np.ndarray,
                               own_income: np.ndarray) -> None:
        s, t = self.s, c.t
        in_support = (s.state == IDENTIFIED) | (s.state == ASSISTED) | (t < s.support_until)
        p_train = rules.training_probability(c.training_participation, s.motivation,
                                             s.dependency, c.dependency_effect)
        trained = np.flatnonzero((s.workers > 0) & (self.fp | in_support) & (d.train < p_train))
        s.skill[trained] = rules.skill_after_training(s.skill[trained], ~s.trained[trained],
                                                      c.training_practicality)
        s.trained[trained] = True
        s.y_trained[trained] = True
        guided = np.flatnonzero(s.category != ORDINARY)
        s.dependency[guided] = np.asarray(rules.dependency_update(
            s.dependency, d.guide, c.p_dependency_drop, c.p_dependency_gain,
            rules.transfer_dependent(transfers, own_income)), bool)[guided]
        s.motivation[guided] = rules.motivation_gain(s.motivation[guided], c.guidance_gain)

    # ------------------------------------------------------------------ phase 5
    def _monitor(self, c: MonthContext, d: MonthDraws, watch: np.ndarray) -> np.ndarray:
        """Official.monitor for every village at once; returns job-placement candidates."""
        s, t = self.s, c.t
        state = s.state[watch]
        candidates: list[np.ndarray] = []

        pool = watch[((state == NOT_MONITORED) | (state == RISK_ELIMINATED)) & s.at_risk[watch]]
        identified = np.zeros(0, np.intp)
        if pool.size:
            p_screen = np.array([self.env.screening_chance(f, bool(k)) for f, k in
                                 zip(self.duty_factor, self.key, strict=True)])
            by_self = s.applied[pool]
            by_cadre = ~by_self & (d.screen[pool] < p_screen[s.village[pool]])
            by_data = ~by_self & ~by_cadre & (d.warn[pool] < rules.warning_probability(
                c.warning_recall, c.coordination, t < s.trace_until[pool]))
            by_recheck = (~by_self & ~by_cadre & ~by_data
                          & (s.state[pool] == RISK_ELIMINATED) & (t < s.support_until[pool])
                          & (d.process[pool] < c.recheck_rate))
            channel = (SELF_REPORT * by_self + CADRE_SCREENING * by_cadre
                       + DATA_WARNING * by_data + RECHECK * by_recheck)
            identified = pool[channel > 0]
            self._identify(c, identified, channel[channel > 0])
            if c.lag == 0:
                candidates.append(self._assist(c, d, identified))
        ended = watch[(state == RISK_ELIMINATED) & ~np.isin(watch, identified)
                      & (s.support_until[watch] != NO_SUPPORT)
                      & (t + 1 >= s.support_until[watch])]
        s.welfare_job[ended] = False
        s.edu_aid[ended] = False
        s.support_until[ended] = NO_SUPPORT

        waiting = watch[state == IDENTIFIED]
        due = waiting[t - s.identified_month[waiting] >= c.lag]
        candidates.append(self._assist(c, d, due))

        assisted = watch[state == ASSISTED]
        eligible = ((s.workers[assisted] > 0) & s.secure[assisted]
                    & (t - s.secure_since[assisted] + 1 >= c.elimination_months)
                    & (t >= s.alert_until[assisted]))
        out = assisted[eligible & (d.process[assisted] < c.elimination_hazard)]
        s.state[out] = RISK_ELIMINATED
        s.support_until[out] = t + c.follow_up + 1
        self._count("risk_eliminated", s.category[out])
        self._log(t, out, ELIMINATED_EVENT, s.cause[out])
        if c.january:
            enrol = assisted[~eligible & ~s.dibao[assisted] & (s.workers[assisted] == 0)
                             & (s.pc12[assisted] < c.dibao_exit_line)
                             & (d.process[assisted] < c.coverage)]
            s.dibao[enrol] = True
        return np.concatenate(candidates) if candidates else np.zeros(0, np.intp)

    def _identify(self, c: MonthContext, idx: np.ndarray, channel: np.ndarray) -> None:
        s, t = self.s, c.t
        if not idx.size:
            return
        back = idx[s.state[idx] == RISK_ELIMINATED]
        self._count("rolled_back", s.category[back])
        self._log(t, back, ROLLED_BACK, np.full(back.size, -1))
        s.state[idx] = IDENTIFIED
        s.identified_month[idx] = t
        s.cause[idx] = rules.primary_cause(
            s.losses[:, idx], self.decay[t - s.loss_month[idx]], LOSS_FLOOR * np.abs(s.roll12[idx]),
            s.disabled[idx], s.chronic[idx])
        s.channel[idx] = channel
        s.ever_monitored[idx] = True
        s.support_until[idx] = NO_SUPPORT
        cat = s.category[idx]
        self._count("monitoring_inflow", cat)
        for k in range(1, 5):
            self._count(f"channel_{k}", cat[channel == k])
        for k in range(rules.N_CAUSES):
            self._count(f"risk_cause_{k}", cat[s.cause[idx] == k])
        self._count("lag_months", cat, t - s.risk_since[idx].astype(np.int64))
        self._log(t, idx, IDENTIFIED_EVENT, s.cause[idx])

    def _assist(self, c: MonthContext, d: MonthDraws, idx: np.ndarray) -> np.ndarray:
        """Official.assist: the measures matched to each household's cause."""
        s, t = self.s, c.t
        if not idx.size:
            return idx
        take_up = d.process[idx] < c.coverage
        dibao, job, production, education, temporary = (
            np.asarray(flag, bool) for flag in rules.matched_measures(s.cause[idx],
                                                                       s.workers[idx]))
        s.state[idx] = ASSISTED
        aid = idx[temporary & take_up]
        amount = rules.emergency_aid(s.pc12[aid], c.line, s.members[aid], s.last_shock_cost[aid],
                                     c.temporary_aid_cap)
        s.pending_aid[aid] += amount
        s.y_cost_ss[aid] += amount
        enrol = idx[dibao & take_up & ~s.dibao[idx] & (s.pc12[idx] < c.dibao_exit_line)]
        s.dibao[enrol] = True
        grants = idx[production]
        s.pending_aid[grants] += c.production_support
        s.y_cost_industry[grants] += c.production_support
        s.edu_aid[idx[education]] = True
        self._log(t, idx, ASSISTED_EVENT, s.cause[idx])
        return idx[job & ~s.partner_job[idx] & ~s.welfare_job[idx]]

    def _place_jobs(self, candidates: np.ndarray, d: MonthDraws) -> None:
        """Partners' placements in random priority order (the job draw), the rest get a
        public-welfare post — as PovertyModel._place_jobs."""
        s = self.s
        order = candidates[np.lexsort((candidates, d.job[candidates]))]
        placed, capacity = 0, self.env.partner_capacity()
        for k, pool in enumerate(self.pools):  # SocialPartner.place, partner by partner
            pool = pool + capacity
            take = min(int(pool), order.size - placed)
            s.partner_job[order[placed:placed + take]] = True
            placed += take
            self.pools[k] = min(pool - take, 12.0 * capacity)
        s.welfare_job[order[placed:]] = True
        self._count("partner_jobs", np.zeros(placed, np.int8))

    # ------------------------------------------------------------------ phase 6
    def _settle(self, c: MonthContext, crossing: np.ndarray) -> None:
        """Household.settle for the households whose income crossed the line."""
        s, t = self.s, c.t
        below = s.pc12[crossing] < c.line
        s.below[crossing] = below
        falling = crossing[below]
        if falling.size:
            cause = rules.primary_cause(s.losses[:, falling], self.decay[t - s.loss_month[falling]],
                                        LOSS_FLOOR * np.abs(s.roll12[falling]),
                                        s.disabled[falling], s.chronic[falling])
            counted = t - s.above_since[falling] >= c.spell_months
            first = counted & ~s.fell_this_year[falling]
            new = falling[first]
            s.fell_this_year[new] = True
            s.fall_cause[new] = cause[first]
            s.fall_repeat[new] = s.ever_fell[new]
            s.ever_fell[falling[counted]] = True
            self._log(t, falling[counted], FALL, cause[counted])
            self._log(t, falling[~counted], DIP, cause[~counted])
        rising = crossing[~below]
        s.above_since[rising] = t
        self._log(t, rising, RISE, np.full(rising.size, -1))

    def _close_year(self, c: MonthContext) -> None:
        s = self.s
        costs = {**self.programme_costs, "training_unit": self.env.p.costs.training}
        tally = {k: v.tolist() for k, v in self.tally.items()}
        snapshot = {k: getattr(s, k) for k in metrics.SNAPSHOT_FIELDS}
        self.years.append(metrics.year_metrics(c.year, snapshot, tally, costs,
                                               self.population.weights, self.status, c))
        self.tally = {}
        self.programme_costs = {}
        for name in ("y_labour", "y_production", "y_project", "y_transfers", "y_rigid",
                     "y_cost_ss", "y_cost_industry"):
            getattr(s, name)[:] = 0.0
        s.y_trained[:] = False
        s.fell_this_year[:] = False

    # ------------------------------------------------------------------ bookkeeping
    def _apply_change(self, values: dict[str, float]) -> None:
        self.env.apply(values)
        if "responsibility.social_participation" in values:
            self._sync_partners()

    def _sync_partners(self) -> None:
        wanted = self.env.partners()
        del self.pools[wanted:]
        self.pools.extend([0.0] * (wanted - len(self.pools)))
        self.village_partner[:] = False
        for k in range(wanted):
            self.village_partner[self._partner_order[k % len(self._partner_order)]] = True

    def _add_loss(self, t: int, idx: np.ndarray, cause: int, amount: np.ndarray) -> None:
        """rules.add_loss on a column subset: decay the ledger to month t, then add."""
        s = self.s
        s.losses[:, idx] *= self.decay[t - s.loss_month[idx]]
        s.losses[cause, idx] += amount
        s.loss_month[idx] = t

    def _record(self, c: MonthContext, idx: np.ndarray, event: int, cause: int,
                loss: np.ndarray) -> None:
        """Household._record on a subset: ledger, trace, event."""
        if not idx.size:
            return
        self._add_loss(c.t, idx, cause, loss)
        self.s.trace_until[idx] = c.t + c.alert_months
        self._log(c.t, idx, event, np.full(idx.size, cause))

    def _count(self, name: str, categories: np.ndarray, weights: Any = None) -> None:
        counts = np.bincount(categories, weights=weights, minlength=3)[:3]
        counts = np.rint(counts).astype(np.int64) if weights is not None else counts
        self.tally[name] = self.tally.get(name, np.zeros(3, np.int64)) + counts

    def _log(self, t: int, idx: np.ndarray, event: int, cause: np.ndarray) -> None:
        if not self.record_events or not idx.size or (event in SHOCK_EVENTS
                                                      and not self.log_shocks):
            return
        block = np.empty((idx.size, 4), np.int32)
        block[:, 0], block[:, 1], block[:, 2], block[:, 3] = t, idx, event, cause
        self._events.append(block)

    # ------------------------------------------------------------------ results
    def snapshot(self, fields: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        names = tuple(FIELDS) if fields is None else fields
        out = {k: np.asarray(getattr(self.s, k), FIELDS[k]).copy() for k in names}
        if fields is None:
            out["ring"] = self.s.ring.copy()
            out["losses"] = self.s.losses.copy()
        return out

    def event_table(self) -> np.ndarray:
        """Events sorted by (month, household, event, cause), as PovertyModel.event_table."""
        if not self._events:
            return np.zeros((0, 4), np.int32)
        e = np.concatenate(self._events)
        return e[np.lexsort((e[:, 3], e[:, 2], e[:, 1], e[:, 0]))]
