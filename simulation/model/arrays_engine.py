"""ArrayModel: the array engine — the same model as `PovertyModel` on numpy columns.

Households (and industries, officials, social partners) are columns of numpy arrays; each
monthly phase is one vectorised function that calls the same rule functions as the agents
engine, in the same order, on the same per-month draws (simulation.model.draws). Given a scenario
and a seed the two engines produce bit-identical yearly series and final household state
(tests/test_engines.py proves it). There is no Python loop over households in a month.

Where the agents engine branches on one household (`if lose: ... elif regain: ...`), this
engine computes the same rule on the whole column and applies it through the same mask; rare
events (bills, disability, identification) are applied to index subsets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simulation.model import metrics, rules
from simulation.model.codes import (
    ACCIDENT,
    ACCIDENT_EVENT,
    ASSISTED,
    ASSISTED_EVENT,
    CADRE_SCREENING,
    DATA_WARNING,
    DIP,
    DISABILITY,
    DISABILITY_EVENT,
    DISASTER,
    DISASTER_EVENT,
    ELIMINATED_EVENT,
    FAILED,
    FALL,
    FORMERLY_POOR,
    IDENTIFIED,
    IDENTIFIED_EVENT,
    ILLNESS,
    ILLNESS_EVENT,
    INDUSTRY_FAILURE,
    JOB_LOSS,
    JOB_LOSS_EVENT,
    N_CAUSES,
    NO_SUPPORT,
    NOT_MONITORED,
    OPERATING,
    ORDINARY,
    RECHECK,
    RISE,
    RISK_ELIMINATED,
    ROLLED_BACK,
    SCHOOL_EVENT,
    SCHOOLING,
    SELF_REPORT,
    SHOCK_EVENTS,
    TRANSFER_WITHDRAWAL,
)
from simulation.model.context import LOSS_FLOOR, Environment, MonthContext
from simulation.model.draws import MonthDraws, draw_month
from simulation.model.params import as_namespace
from simulation.model.population import build_population
from simulation.model.scenario import Disaster, Scenario
from simulation.model.state import FIELDS, YEARLY, Columns, initial_record, initial_state


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
        # the cause ledger is stored household-major (n x causes) here: subsets are then
        # contiguous rows (the agents engine keeps one list per household)
        state["losses"] = np.ascontiguousarray(state["losses"].T)
        self.s = Columns(**state)
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
        self.max_migrants = 3  # workers are at most 3 at the start and migrants never grow
        if int(self.s.migrants.max()) > self.max_migrants:
            raise AssertionError("migrant bound of the job-draw filter violated")
        # derived columns, as Household.refresh caches them
        self.wage_base = np.zeros(self.n)
        self.regular = np.zeros(self.n)
        self.ss_regular = np.zeros(self.n)
        self.chronic_cost = np.zeros(self.n)
        self._dirty: list[np.ndarray] = []
        self._version, self._env_version, self._screen_version = -1, 0, -1
        self._bound_version = -1
        self._disaster_end = 0           # last month any household recovers from a disaster
        self._pending = np.zeros(0, np.intp)  # households with one-off aid to pay
        self._risky = np.zeros(0, np.intp)    # households at risk last month
        self._welfare_jobs = False            # any public-welfare post held
        self._changes = {c.month: c for c in scenario.schedule}
        self._disasters = {d.month: d for d in scenario.disasters}
        self.pending_disaster: Disaster | None = None

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """One month, phases in the order of docs/ODD.md §3 (as PovertyModel.step)."""
        t = self.month
        if t in self._changes:  # the agents engine runs these as Mesa events at t - 0.5
            self._apply_change(self._changes[t].values)
        if t in self._disasters:
            self.pending_disaster = self._disasters[t]
        self.ctx = c = self.env.month(t)
        if c.january:
            self._env_version += 1
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
        disaster = self.disaster = self.env.disaster(self.month, self.pending_disaster,
                                                     d.disaster)
        self.pending_disaster = None
        if disaster is None:
            return None
        self._count("disasters", np.array([0], np.int8))
        return d.village < disaster.village_share

    def _operate_industries(self, c: MonthContext, d: MonthDraws) -> None:
        ip = self.env.p.industry
        old = self.status
        margin = rules.industry_margin(positioning=ip.positioning, margin_fit=ip.margin_fit,
                                       margin_misfit=ip.margin_misfit,
                                       market_volatility=ip.market_volatility,
                                       project_volatility=ip.project_volatility,
                                       sector_z=d.sector[self.sector], project_z=d.project_z)
        reserve = np.where(old != FAILED,
                           rules.update_reserve(self.reserve, margin, ip.risk_resistance,
                                                ip.reserve_cap), self.reserve)
        status, self.reserve = rules.industry_transition(
                status=old,
                buffer=reserve,
                u=d.project_u,
                p_fail=ip.failure_hazard * (1.0 - ip.management),
                p_revive=ip.revival_rate * ip.management,
                revived_buffer=0.5 * ip.initial_buffer,
            )
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
        """Phase 4 for every household: the verbs of `Household.live`, in its order, on
        columns (same names, same rules, same draws).

        Rules are evaluated on the index subsets a draw can affect (a uniform can only pick a
        shock below the largest possible shock chance, for instance); element by element the
        results are those of the whole column.
        """
        fee, grant = self._calendar(c, d) if c.calendar else (0.0, 0.0)
        shock_cost, shocked = self._shocks(c, d, hit)
        self._change_job(c, d)
        self._refresh(c)
        transfers, own = self._earn(c, d, shock_cost, shocked, fee, grant)
        self._motivate(c, d, transfers, own)
        return self._stand(c, d)

    def _shocks(self, c: MonthContext, d: MonthDraws,
                hit: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Household._shocks: illness, accident or disability onset, and the village's
        disaster; returns (out-of-pocket cost now, households with a cost)."""
        s = self.s
        # a uniform above the household's total chance picks nothing
        if self._bound_version != self._env_version:
            self.shock_bound = rules.illness_probability(
                s.members, s.chronic, c.p_illness_person, c.chronic_multiplier) \
                + c.p_accident + c.p_disability
            self._bound_version = self._env_version
        near = np.flatnonzero(d.shock < self.shock_bound)
        p_ill = rules.illness_probability(s.members[near], s.chronic[near], c.p_illness_person,
                                          c.chronic_multiplier)
        ill, accident, disabled = rules.shock_kinds(d.shock[near], p_ill, c.p_accident,
                                                    c.p_disability, s.workers[near])
        shock_cost = np.zeros(self.n)
        bills = near[ill | accident]
        if bills.size:
            self._pay_bill(c, d, bills, ill[ill | accident], shock_cost)
        dis = near[disabled]
        if dis.size:
            self._become_disabled(c, dis)
        if hit is not None:
            self._suffer_disaster(c, np.flatnonzero(hit[s.village]), shock_cost)
        shocked = np.flatnonzero(shock_cost > 0) if (bills.size or hit is not None) else bills
        return shock_cost, shocked

    def _pay_bill(self, c: MonthContext, d: MonthDraws, bills: np.ndarray, sick: np.ndarray,
                   shock_cost: np.ndarray) -> None:
        """Household._pay_bill for the households with an inpatient bill or accident."""
        s, t = self.s, c.t
        sev = d.severity[bills]
        bill = np.where(sick, rules.truncated_pareto(sev, c.bill_min, c.bill_max),
                        rules.truncated_pareto(sev, c.accident_bill_min, c.accident_bill_max))
        covered = rules.medically_covered(u_coverage=s.u_coverage[bills], coverage=c.coverage,
                                          formerly_poor=self.fp[bills], dibao=s.dibao[bills],
                                          state=s.state[bills], t=t,
                                          support_until=s.support_until[bills])
        oop, assistance = rules.out_of_pocket(c.p, bill, covered)
        s.y_cost_ss[bills] += assistance
        s.last_shock_cost[bills] = oop
        shock_cost[bills] = oop
        self._record(c, bills[sick], ILLNESS_EVENT, ILLNESS, oop[sick])
        self._record(c, bills[~sick], ACCIDENT_EVENT, ACCIDENT, oop[~sick])

    def _become_disabled(self, c: MonthContext, dis: np.ndarray) -> None:
        """Household._become_disabled: one fewer worker (a migrant if no local one is left)."""
        s = self.s
        s.workers[dis] -= 1
        s.disabled[dis] += 1
        s.migrants[dis] = np.minimum(s.migrants[dis], s.workers[dis])
        s.unemployed[dis] = np.minimum(s.unemployed[dis], s.migrants[dis])
        self._record(c, dis, DISABILITY_EVENT, DISABILITY,
                     12.0 * c.local_wage * s.skill[dis] * c.trend)
        self._dirty.append(dis)

    def _suffer_disaster(self, c: MonthContext, hh: np.ndarray, shock_cost: np.ndarray) -> None:
        """Household._suffer_disaster for the households of the villages hit."""
        s, t = self.s, c.t
        dz = self.disaster
        assert dz is not None  # villages are hit only when a disaster strikes
        annual = 12.0 * s.production[hh] * c.trend
        asset = dz.asset_loss * annual
        s.disaster_until[hh] = t + dz.months
        self._disaster_end = max(self._disaster_end, t + dz.months)
        s.disaster_loss[hh] = dz.production_loss
        s.last_shock_cost[hh] = asset
        self._record(c, hh, DISASTER_EVENT, DISASTER,
                     asset + dz.production_loss * dz.months / 12.0 * annual)
        shock_cost[hh] += asset

    def _change_job(self, c: MonthContext, d: MonthDraws) -> None:
        """Household._change_job: migrant job losses below 3 x the monthly chance (at most 3
        migrants a household), re-employment above 1 - the re-employment rate (the largest
        p_back)."""
        s = self.s
        jobless = np.flatnonzero(s.unemployed)
        moving = d.job < self.max_migrants * c.p_job_loss
        moving[jobless[d.job[jobless] >= 1.0 - c.reemployment_rate]] = True
        movers = np.flatnonzero(moving)
        p_back = rules.reemployment_probability(c.p, s.motivation[movers], s.dependency[movers])
        unemployed = s.unemployed[movers]
        lose, regain = rules.job_transitions(d.job[movers], s.migrants[movers] - unemployed,
                                             unemployed, c.p_job_loss, p_back)
        lost = movers[lose]
        if lost.size:
            s.unemployed[lost] += 1
            self._record(c, lost, JOB_LOSS_EVENT, JOB_LOSS,
                         12.0 * (c.migrant_wage - c.fallback_wage) * s.skill[lost] * c.trend)
        back = movers[regain & ~lose]
        s.unemployed[back] -= 1
        self._dirty += [lost, back]

    def _earn(self, c: MonthContext, d: MonthDraws, shock_cost: np.ndarray,
              shocked: np.ndarray, fee: Any, grant: Any) -> tuple[np.ndarray, np.ndarray]:
        """Household._earn: incomes by source, the month's books, the 12-month window,
        savings and the year's tallies; returns (transfers, own income)."""
        s, t = self.s, c.t
        # (when no disaster is recovering anywhere every household's loss is 0.0)
        loss = np.where(t < s.disaster_until, s.disaster_loss, 0.0) \
            if t < self._disaster_end else 0.0
        s.dev, wages, production = rules.earnings(dev=s.dev, z=d.earnings,
                                                  persistence=c.persistence,
                                                  innovation_sd=c.innovation_sd,
                                                  wage_base_=self.wage_base,
                                                  production_base=s.production, trend=c.trend,
                                                  disaster_loss=loss)
        jobs = np.flatnonzero(s.partner_job | s.welfare_job)
        labour = wages
        if jobs.size:
            labour = wages.copy()
            labour[jobs] = rules.labour_income(wages[jobs], s.partner_job[jobs], c.partner_wage,
                                               s.welfare_job[jobs], c.public_welfare_wage)
        project = self._project_income(t)
        # scalars stand for all-zero columns (x - 0.0 and x + 0.0 are exactly x)
        paid: Any = 0.0
        unmet: Any = 0.0
        if shocked.size:
            paid = np.zeros(self.n)
            paid[shocked] = rules.savings_used(s.savings[shocked], shock_cost[shocked])
            unmet = shock_cost - paid
        one_off = s.pending_aid + grant if (self._pending.size or c.september) else 0.0
        slot = c.month_of_year
        transfers, gross, rigid, net, roll = rules.monthly_accounts(labour=labour,
                                                                    production=production,
                                                                    project=project,
                                                                    regular=self.regular,
                                                                    family=s.family_support,
                                                                    trend=c.trend, one_off=one_off,
                                                                    property_=c.property,
                                                                    unmet_shock_cost=unmet,
                                                                    chronic_cost=self.chronic_cost,
                                                                    school_fee=fee, roll12=s.roll12,
                                                                    leaving=s.ring[slot])
        s.ring[slot] = net
        s.roll12 = roll
        s.pc12 = roll / s.members
        s.savings = rules.save(savings=s.savings, paid=paid, gross=gross,
                               subsistence=c.subsistence_month * s.members, rate=c.savings_rate,
                               cap_months=c.savings_cap)
        if shocked.size:
            severe = shocked[rules.severe_shock(shock_cost[shocked],
                                                roll[shocked] + paid[shocked], c.severe_share)]
            s.alert_until[severe] = t + c.alert_months
        s.y_labour += labour
        s.y_production += production
        s.y_project += project
        s.y_transfers += transfers
        s.y_rigid += rigid
        # households with only regular costs add ss_regular (= ss_regular + 0.0 + 0.0 exactly);
        # the agents engine skips households without any such cost (they would add 0.0)
        extra = np.flatnonzero(s.welfare_job | (grant != 0)) if (
            c.september or self._welfare_jobs) else np.zeros(0, np.intp)
        cost = self.ss_regular
        if extra.size:
            cost = cost.copy()
            cost[extra] = rules.social_security_cost(
                self.ss_regular[extra], grant if np.isscalar(grant) else grant[extra],
                s.welfare_job[extra], c.public_welfare_wage)
        s.y_cost_ss += cost
        s.pending_aid[self._pending] = 0.0
        self._pending = np.zeros(0, np.intp)
        return transfers, labour + production + project

    def _project_income(self, t: int) -> np.ndarray:
        """Household._project_income for every linked household: dividend and project wage
        from the village's project; a stop is a loss in the cause ledger."""
        linked, village = self.linked_idx, self.linked_village
        pj = self.project_job[linked]
        stopping = (self.dividend_drop > 0) | (self.wage_drop > 0)
        if stopping.any():  # households linked to a project that stopped paying
            hit_linked = np.flatnonzero(stopping[village])
            v = village[hit_linked]
            drop = self.dividend_drop[v] + pj[hit_linked] * self.wage_drop[v]
            stopped = drop > 0
            self._add_loss(t, linked[hit_linked[stopped]], INDUSTRY_FAILURE, 12.0 * drop[stopped])
        project = np.zeros(self.n)
        project[linked] = rules.project_income(True, self.dividend_paid[village], pj,
                                               self.wage_paid[village])
        return project

    def _motivate(self, c: MonthContext, d: MonthDraws, transfers: np.ndarray,
                  own_income: np.ndarray) -> None:
        """Household._motivate: March's training and guidance; mentoring by partners."""
        s = self.s
        if c.march:
            self._training_and_guidance(c, d, transfers, own_income)
        assisted = np.flatnonzero(s.state == ASSISTED)
        mentored = assisted[self.village_partner[s.village[assisted]]]
        s.motivation[mentored] = rules.motivation_gain(s.motivation[mentored], c.mentoring)

    def _stand(self, c: MonthContext, d: MonthDraws) -> tuple[np.ndarray, np.ndarray]:
        """Household._stand: secure or at risk, applications; returns (households in the
        officials' view, households whose income crossed the line)."""
        s, t = self.s, c.t
        pc = s.pc12
        secure = pc >= c.alert_line
        s.secure_since[secure > s.secure] = t
        s.secure = secure
        risk = s.at_risk = rules.at_risk(pc, c.alert_line, t < s.alert_until)
        risky = np.flatnonzero(risk)
        s.risk_since[risky[s.risk_since[risky] < 0]] = t
        before = self._risky  # risk_since >= 0 exactly for last month's at-risk households
        s.risk_since[before[~risk[before]]] = -1
        self._risky = risky
        state = s.state[risky]
        applying = risky[(state == NOT_MONITORED) | (state == RISK_ELIMINATED)]
        s.applied[applying] = d.report[applying] < rules.self_report_probability(
            c.p, s.motivation[applying], s.dependency[applying])
        watch = np.flatnonzero(risk | (s.state != NOT_MONITORED))
        crossing = np.flatnonzero((pc < c.line) != s.below)
        return watch, crossing

    def _refresh(self, c: MonthContext) -> None:
        """Derived columns (Household.refresh): all of them after a knob or calendar-year
        change, otherwise only for households whose situation changed."""
        s, fp = self.s, self.fp
        idx: Any
        if self._version != self._env_version:
            idx = slice(None)
            self.linked_idx = np.flatnonzero(fp & (s.u_linkage < c.linkage_share))
            self.linked_village = s.village[self.linked_idx]
            self.project_job = s.u_project_job < c.job_share
            self._version = self._env_version
        else:
            idx = np.unique(np.concatenate(self._dirty)) if self._dirty else None
        self._dirty = []
        if idx is None:
            return
        self.wage_base[idx] = rules.wage_base(local=s.workers[idx] - s.migrants[idx],
                                              employed=s.migrants[idx] - s.unemployed[idx],
                                              unemployed=s.unemployed[idx], local_wage=c.local_wage,
                                              migrant_wage=c.migrant_wage,
                                              fallback_wage=c.fallback_wage, skill=s.skill[idx])
        dibao_pay = rules.dibao_payment(s.dibao[idx], s.members[idx], s.dibao_gap[idx])
        self.regular[idx] = rules.regular_transfers(s.elderly[idx], c.pension, fp[idx],
                                                    c.subsidy, dibao_pay)
        self.chronic_cost[idx], care_aid = rules.chronic_care(
            s.chronic[idx], c.chronic_outpatient, c.medical_assistance_rate * (
                (s.u_coverage[idx] < c.coverage) & (fp[idx] | s.dibao[idx])))
        self.ss_regular[idx] = rules.regular_social_security(fp[idx], c.subsidy, dibao_pay,
                                                             care_aid)

    def _calendar(self, c: MonthContext, d: MonthDraws) -> tuple[Any, Any]:
        """Household._calendar: January review, withdrawal of transfers, school year."""
        s, t, fp = self.s, c.t, self.fp
        if c.january:
            enrolled = np.flatnonzero(s.dibao)
            own = rules.income_without_dibao(s.pc12[enrolled], True, s.dibao_gap[enrolled])
            exits = rules.leaves_dibao(own, c.dibao_exit_line, t, s.support_until[enrolled],
                                       s.state[enrolled])
            leave = enrolled[exits]
            if leave.size:
                s.dibao[leave] = False
                lost = rules.dibao_payment(True, s.members[leave], s.dibao_gap[leave])
                s.dibao_gap[leave] = 0.0
                self._add_loss(t, leave, TRANSFER_WITHDRAWAL, 12.0 * lost)
            stay = enrolled[~exits]
            s.dibao_gap[stay] = rules.dibao_gap(c.dibao_standard, own[~exits])
            self._dirty.append(enrolled)
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
        self._dirty.append(np.flatnonzero(graduates))
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
        in_support = rules.in_support(s.state, t, s.support_until)
        p_train = rules.training_probability(c.p, s.motivation, s.dependency)
        trained = np.flatnonzero((s.workers > 0) & (self.fp | in_support) & (d.train < p_train))
        s.skill[trained] = rules.skill_after_training(s.skill[trained], ~s.trained[trained],
                                                      c.training_practicality)
        s.trained[trained] = True
        s.y_trained[trained] = True
        self._dirty.append(trained)
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
            if self._screen_version != self._env_version:
                self._p_screen = np.array([self.env.screening_chance(f, bool(k)) for f, k in
                                           zip(self.duty_factor, self.key, strict=True)])
                self._screen_version = self._env_version
            p_screen = self._p_screen
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
        just_identified = np.zeros(self.n, bool)
        just_identified[identified] = True
        ended = watch[(state == RISK_ELIMINATED) & ~just_identified[watch]
                      & (s.support_until[watch] != NO_SUPPORT)
                      & (t + 1 >= s.support_until[watch])]
        s.welfare_job[ended] = False
        s.edu_aid[ended] = False
        s.support_until[ended] = NO_SUPPORT

        waiting = watch[state == IDENTIFIED]
        due = waiting[t - s.identified_month[waiting] >= c.lag]
        candidates.append(self._assist(c, d, due))

        assisted = watch[state == ASSISTED]
        eligible = rules.elimination_eligible(workers=s.workers[assisted],
                                              secure=s.secure[assisted], t=t,
                                              secure_since=s.secure_since[assisted],
                                              months=c.elimination_months,
                                              alert_until=s.alert_until[assisted])
        out = assisted[eligible & (d.process[assisted] < c.elimination_hazard)]
        s.state[out] = RISK_ELIMINATED
        s.support_until[out] = t + c.follow_up + 1
        self._count("risk_eliminated", s.category[out])
        self._log(t, out, ELIMINATED_EVENT, s.cause[out])
        if c.january:
            enrol = assisted[~eligible & rules.review_enrols_dibao(dibao=s.dibao[assisted],
                                                                   workers=s.workers[assisted],
                                                                   pc12=s.pc12[assisted],
                                                                   standard=c.dibao_standard,
                                                                   u=d.process[assisted],
                                                                   coverage=c.coverage)]
            s.dibao[enrol] = True
            s.dibao_gap[enrol] = rules.dibao_gap(c.dibao_standard, s.pc12[enrol])
            self._dirty.append(enrol)
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
            s.losses[idx].T, self.decay[t - s.loss_month[idx]], LOSS_FLOOR * np.abs(s.roll12[idx]),
            s.disabled[idx], s.chronic[idx])
        s.channel[idx] = channel
        s.ever_monitored[idx] = True
        s.support_until[idx] = NO_SUPPORT
        cat = s.category[idx]
        self._count("monitoring_inflow", cat)
        self._count_codes("channel_", channel, cat, 5)
        self._count_codes("risk_cause_", s.cause[idx], cat, N_CAUSES)
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
        amount = rules.emergency_aid(c.p, s.pc12[aid], c.line, s.members[aid],
                                     s.last_shock_cost[aid])
        s.savings[aid] += amount  # relief: not income in the monitoring window (see Official)
        s.y_cost_ss[aid] += amount
        enrol = idx[dibao & take_up & ~s.dibao[idx] & (s.pc12[idx] < c.dibao_standard)]
        s.dibao[enrol] = True
        s.dibao_gap[enrol] = rules.dibao_gap(c.dibao_standard, s.pc12[enrol])
        self._dirty.append(enrol)
        grants = idx[production]
        s.pending_aid[grants] += c.production_support
        self._pending = np.union1d(self._pending, grants)
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
        self._welfare_jobs = self._welfare_jobs or order.size > placed
        self._count("partner_jobs", np.zeros(placed, np.int8))

    # ------------------------------------------------------------------ phase 6
    def _settle(self, c: MonthContext, crossing: np.ndarray) -> None:
        """Household.settle for the households whose income crossed the line."""
        s, t = self.s, c.t
        below = s.pc12[crossing] < c.line
        s.below[crossing] = below
        falling = crossing[below]
        if falling.size:
            cause = rules.primary_cause(s.losses[falling].T, self.decay[t - s.loss_month[falling]],
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
        for name, value in YEARLY.items():
            getattr(s, name)[:] = value

    # ------------------------------------------------------------------ bookkeeping
    def _apply_change(self, values: Mapping[str, float]) -> None:
        self.env.apply(values)
        self._env_version += 1
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
        s.losses[idx] *= self.decay[t - s.loss_month[idx]][:, None]
        s.losses[idx, cause] += amount
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

    def _count_codes(self, prefix: str, codes: np.ndarray, categories: np.ndarray,
                     n_codes: int) -> None:
        """_count for every code at once: tally[prefix + code] by category."""
        table = np.bincount(codes.astype(np.int64) * 3 + categories,
                            minlength=3 * n_codes).reshape(n_codes, 3)
        for code in np.flatnonzero(table.any(axis=1)):
            name = f"{prefix}{code}"
            self.tally[name] = self.tally.get(name, np.zeros(3, np.int64)) + table[code]

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
            out["losses"] = self.s.losses.T.copy()
        return out

    def event_table(self) -> np.ndarray:
        """Events sorted by (month, household, event, cause), as PovertyModel.event_table."""
        if not self._events:
            return np.zeros((0, 4), np.int32)
        e = np.concatenate(self._events)
        return e[np.lexsort((e[:, 3], e[:, 2], e[:, 1], e[:, 0]))]
