"""Household agent: a rural household and its members living through a month (docs/ODD.md §2,
§3, §7).

The household's members are people in K slots (lists `p_age`, `p_sex`, `p_present`, `p_role`,
`p_disabled`, `p_chronic`); the household's counts (members, workers, elderly, ...) follow from
them (`count_members`). Every verb here has a twin of the same name in the array engine
(simulation/model/arrays_engine.py), which does the same per household in compiled loops with
the same rules and the same random numbers; the conformance tests hold them bit-identical.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa

from simulation.model import rules
from simulation.model.codes import (
    ACCIDENT,
    ACCIDENT_EVENT,
    ASSISTED,
    ASSISTED_JOB,
    BIRTH_EVENT,
    DEATH_EVENT,
    DIBAO,
    DIBAO_END,
    DIBAO_START,
    DIP,
    DISABILITY,
    DISABILITY_EVENT,
    DISASTER,
    DISASTER_EVENT,
    DISSOLVED,
    FALL,
    FALL_HARDSHIP,
    FEMALE,
    ILLNESS,
    ILLNESS_EVENT,
    INDUSTRY_FAILURE,
    JOB_END,
    JOB_LOSS,
    JOB_LOSS_EVENT,
    JOB_START,
    JOBLESS,
    LOCAL,
    MALE,
    MIGRANT,
    MOVED_OUT_EVENT,
    NO_JOB,
    NO_SUPPORT,
    NONE,
    NOT_MONITORED,
    OFF,
    ORDINARY,
    PENDING,
    PROJECT_JOB,
    RISE,
    RISK_ELIMINATED,
    SCHOOL_EVENT,
    SCHOOLING,
    STUDENT,
    TEKUN,
    TEKUN_START,
    TRANSFER_WITHDRAWAL,
    WELFARE_POST,
    K,
)
from simulation.model.context import LOSS_FLOOR, MonthContext
from simulation.model.scenario import Disaster
from simulation.model.state import FIELDS, NEVER, PERSON_FIELDS

if TYPE_CHECKING:
    from simulation.model.agents_engine import PovertyModel

PERSON_SLOTS = tuple(f"p_{name}" for name in PERSON_FIELDS)
_CACHED = ("p_illness", "p_disability", "shock_end", "p_back", "job_low", "job_high",
           "wage_base", "assisted_wage", "linked", "regular", "ss_regular", "chronic_cost")


def _state_loader() -> Any:
    """`load(agent, row)` assigning every state field at once (one unpacking statement,
    generated from FIELDS so the field list is written in one place)."""
    targets = ", ".join(f"h.{name}" for name in FIELDS)
    namespace: dict[str, Any] = {}
    exec(f"def load(h, row):\n    {targets}, = row\n", namespace)
    return namespace["load"]


_load_state = _state_loader()


class Household(mesa.Agent):
    """A household: members, labour, incomes by source, rigid costs, savings and debt,
    civil-affairs programmes, monitoring state.

    Attributes mirror `simulation.model.state.FIELDS` (current yuan per month for incomes,
    yuan per person per year for `pc12`, the official income test, and `pc12_h`, income net
    of rigid costs); `ring` and `ring_h` hold the last 12 months by month of year and
    `losses` the cause ledger used to attribute falls. `*_until` fields are the month a
    temporary condition ends. The household reads its random numbers from the model's month
    draws by `idx`; it never draws.

    A few derived values (shock chances, wage bases, regular transfers) are cached and
    recomputed by `refresh` when the knobs, the calendar year or the household's own situation
    change; they are computed by the same rule functions either way.
    """

    # Slots: attribute access is ~4x faster than with a large instance dict (measured).
    __slots__ = (*FIELDS, *PERSON_SLOTS, "idx", "formerly_poor", "ring", "ring_h", "losses",
                 "version", *_CACHED)
    model: PovertyModel

    def __init__(self, model: PovertyModel, idx: int, row: tuple[Any, ...],
                 people: tuple[list[Any], ...], rings: tuple[list[float], list[float]],
                 losses: list[float]) -> None:
        super().__init__(model)
        _load_state(self, row)
        for name, values in zip(PERSON_SLOTS, people, strict=True):
            setattr(self, name, values)
        self.idx = idx
        self.formerly_poor = self.category == 0
        self.ring, self.ring_h = rings
        self.losses = losses
        self.version = -1  # cached values are stale

    # ------------------------------------------------------------------ members
    def count_members(self) -> None:
        """The household's counts from its members (as state.member_counts does)."""
        pension_age = self.model.ctx.p.demography.pension_age
        members = workers = migrants = unemployed = elderly = children = students = 0
        disabled = chronic = able = 0
        for k in range(K):
            if not self.p_present[k]:
                continue
            age, role = self.p_age[k], self.p_role[k]
            members += 1
            if rules.works(role):
                workers += 1
            if role == MIGRANT or role == JOBLESS:
                migrants += 1
            if role == JOBLESS:
                unemployed += 1
            if age >= pension_age:
                elderly += 1
            if age < 16 and role != STUDENT:
                children += 1
            if role == STUDENT:
                students += 1
            if self.p_disabled[k]:
                disabled += 1
            if self.p_chronic[k]:
                chronic += 1
            if 16 <= age < pension_age and not self.p_disabled[k] and role != STUDENT:
                able += 1
        self.members, self.workers, self.migrants = members, workers, migrants
        self.unemployed, self.elderly, self.children = unemployed, elderly, children
        self.students, self.disabled, self.chronic = students, disabled, chronic
        self.able_adults = able
        self.alive = members > 0

    def refresh(self, c: MonthContext) -> None:
        """Recompute the cached values from the household's state and the month's scalars."""
        p = c.p
        ill = dis = wage = 0.0
        for k in range(K):
            if not self.p_present[k]:
                continue
            age = self.p_age[k]
            ill += rules.hospitalisation_weight(age, self.p_chronic[k],
                                                p.shocks.chronic_multiplier)
            if not self.p_disabled[k]:
                dis += rules.disability_weight(age)
            wage += rules.market_wage(self.p_role[k], c.local_wage, c.migrant_wage,
                                      c.fallback_wage)
        self.p_illness = ill * c.p_illness_unit
        self.p_disability = dis * c.p_disability_unit
        self.shock_end = self.p_illness + c.p_accident + self.p_disability
        employed = self.migrants - self.unemployed
        self.p_back = rules.reemployment_probability(p, self.motivation, self.dependency)
        # job_transitions fires below `job_low` or at/above `job_high` (exact same bounds)
        self.job_low = employed * c.p_job_loss if employed > 0 else -1.0
        self.job_high = 1.0 - self.p_back if self.unemployed > 0 else 2.0
        self.wage_base = wage * self.skill
        self.assisted_wage = rules.job_wage(p, self.job_kind) if self.job_slot >= 0 else 0.0
        self.linked = self.formerly_poor and self.u_linkage < p.industry.linkage_share
        on_programme = self.programme == DIBAO or self.programme == TEKUN
        self.regular = (self.elderly * c.pension + self.formerly_poor * c.subsidy
                        + (self.benefit if on_programme else 0.0))
        covered = self.u_coverage < p.social_security.coverage and (self.formerly_poor
                                                                     or on_programme)
        self.chronic_cost, care_aid = rules.chronic_care(p, self.chronic, covered, c.medical)
        self.ss_regular = (self.formerly_poor * c.subsidy
                           + (self.benefit if on_programme else 0.0) + care_aid)
        self.version = self.model.version

    # ------------------------------------------------------------------ phase 0 (January)
    def demography(self) -> None:
        """January: each member may die, ages a year, may change role (school, work,
        migration, retirement) and may move out; women may give birth (into free slots,
        after the others have been seen to)."""
        if not self.alive:
            return
        m = self.model
        c, d, i = m.ctx, m.draws, self.idx
        t, dp = c.t, c.p.demography
        assert d.death is not None and d.change is not None and d.move is not None \
            and d.birth is not None  # January
        births: list[float] = []
        for k in range(K):
            if not self.p_present[k]:
                continue
            age, role = self.p_age[k], self.p_role[k]
            if float(d.death[i, k]) < rules.death_probability(age, self.p_sex[k],
                                                               dp.mortality_multiplier):
                self._leave(k, t, DEATH_EVENT)
                continue
            age += 1
            self.p_age[k] = age
            u = float(d.change[i, k])
            if role == NONE and age == 16 and not self.p_disabled[k]:
                self.p_role[k] = rules.school_or_work(u, dp.school_continuation,
                                                      dp.migrate_rate)
                if self.p_role[k] == STUDENT:  # a new rigid cost: the school year
                    ss = c.p.social_security
                    cost = (c.p.shocks.schooling_cost - ss.education_grant
                            * (self.formerly_poor or self.edu_aid)) * c.cpi
                    self._record(t, SCHOOL_EVENT, SCHOOLING, cost)
            elif role == STUDENT and u < 1.0 / dp.study_years:
                self.p_role[k] = LOCAL
            elif role == LOCAL and 16 <= age <= 45 and u < dp.migrate_rate:
                self.p_role[k] = MIGRANT
            elif (role == MIGRANT or role == JOBLESS) and age >= dp.migrant_return_age \
                    and u < dp.migrant_return_rate:
                self.p_role[k] = LOCAL
            elif role == LOCAL and u < rules.retirement_probability(c.p, age):
                self.p_role[k] = NONE
            if k > 0 and 18 <= age <= 30 and self.p_role[k] != STUDENT \
                    and float(d.move[i, k]) < dp.move_out_rate:
                self._leave(k, t, MOVED_OUT_EVENT)
                continue
            if self.p_sex[k] == FEMALE:
                q = rules.birth_probability(age, dp.fertility_multiplier)
                u = float(d.birth[i, k])
                if u < q:
                    births.append(u / q)
        for u in births:
            self._give_birth(u, dp.boys_per_girl, t)
        self.count_members()
        if not self.alive:  # the last member died or moved out: the household ends
            self.model.log(t, self.idx, DISSOLVED, -1)
        self.version = -1

    def _leave(self, k: int, t: int, event: int) -> None:
        """A member dies or moves out; an assisted job they held ends."""
        self.p_present[k] = False
        if self.job_slot == k:
            self._end_job(t)
        self.model.log(t, self.idx, event, -1)

    def _give_birth(self, u: float, boys_per_girl: float, t: int) -> None:
        """A newborn in the first free slot (none when the household is full)."""
        for k in range(K):
            if not self.p_present[k]:
                self.p_present[k] = True
                self.p_age[k] = 0
                self.p_sex[k] = MALE if u < boys_per_girl / (1.0 + boys_per_girl) else FEMALE
                self.p_role[k] = NONE
                self.p_disabled[k] = False
                self.p_chronic[k] = False
                self.model.log(t, self.idx, BIRTH_EVENT, -1)
                return

    # ------------------------------------------------------------------ phase 4
    def live(self) -> None:
        """Phase 4, one household. The verbs, in this order, are those of the array engine's
        `ArrayModel._households_live` (same names, same rules, same draws)."""
        if not self.alive:
            return
        m = self.model
        c, d = m.ctx, m.hh_draws
        t = c.t
        fee, grant = self._calendar(c, t) if c.calendar else (0.0, 0.0)
        if self.version != m.version:
            self.refresh(c)
        shock_cost = self._shocks(c, t, d)
        u = d.job[self.idx]
        if u < self.job_low or u >= self.job_high:
            self._change_job(c, t, u)
        if self.job_slot >= 0 and t >= self.job_until:
            self._end_job(t)
        if self.version != m.version:
            self.refresh(c)
        transfers, own = self._earn(c, t, d, shock_cost, fee, grant)
        self._programmes(c, t, d)
        self._motivate(c, t, d, transfers, own)
        self._stand(c, t, d)

    def _calendar(self, c: MonthContext, t: int) -> tuple[float, float]:
        """Dated business before the month's shocks: a scheduled withdrawal of transfers
        (a loss), September's school year (returns its fee and grant)."""
        if c.subsidy_drop > 0 and self.formerly_poor:
            self._add_loss(t, TRANSFER_WITHDRAWAL, 12.0 * c.subsidy_drop)
        if c.september and self.students:
            eligible = self.formerly_poor or self.edu_aid
            fee = self.students * c.p.shocks.schooling_cost * c.cpi
            grant = self.students * c.p.social_security.education_grant * c.cpi * eligible
            return fee, grant
        return 0.0, 0.0

    def _shocks(self, c: MonthContext, t: int, d: Any) -> float:
        """This month's illness, accident or disability onset and the village's disaster;
        returns the rigid cost they bring now (out of pocket)."""
        m = self.model
        shock_cost = 0.0
        self.work_lost = 0.0
        u = d.shock[self.idx]
        if u < self.shock_end:
            if u < self.p_illness:
                shock_cost = self._fall_ill(c, t, u, float(d.severity[self.idx]))
            elif u < self.p_illness + c.p_accident:
                shock_cost = self._pay_bill(c, t, float(d.severity[self.idx]), False)
            else:
                self._become_disabled(c, t, (u - self.p_illness - c.p_accident)
                                      / c.p_disability_unit)
        if m.village_hit is not None and m.village_hit[self.village]:
            shock_cost += self._suffer_disaster(c, t, m.disaster,  # type: ignore[arg-type]
                                                float(d.house[self.idx]))
        return shock_cost

    def _fall_ill(self, c: MonthContext, t: int, u: float, severity: float) -> float:
        """A member is hospitalised: the bill, and a working patient's lost wages. The member
        is the one whose slice of the household's illness chance holds `u`."""
        p = c.p
        x = u / c.p_illness_unit
        for k in range(K):
            if not self.p_present[k]:
                continue
            x -= rules.hospitalisation_weight(self.p_age[k], self.p_chronic[k],
                                              p.shocks.chronic_multiplier)
            if x < 0.0:
                role = self.p_role[k]
                if rules.works(role):
                    wage = (rules.job_wage(p, self.job_kind) if role == ASSISTED_JOB else
                            rules.market_wage(role, c.local_wage, c.migrant_wage,
                                              c.fallback_wage) * self.skill)
                    self.work_lost = wage * c.trend * p.shocks.illness_work_months
                break
        return self._pay_bill(c, t, severity, True)

    def _pay_bill(self, c: MonthContext, t: int, severity: float, illness: bool) -> float:
        """An inpatient bill (illness) or accident cost; returns the out-of-pocket part."""
        sh = c.p.shocks
        if illness:
            bill = rules.truncated_pareto(severity, sh.bill_min, sh.bill_max) * c.medical
        else:
            bill = rules.truncated_pareto(severity, sh.accident_bill_min,
                                          sh.accident_bill_max) * c.medical
        covered = rules.medically_covered(self.u_coverage, c.p.social_security.coverage,
                                          self.formerly_poor,
                                          self.programme == DIBAO or self.programme == TEKUN,
                                          self.state, t, self.support_until)
        oop, assistance = rules.out_of_pocket(c.p, bill, covered, c.medical)
        self.y_cost_ss += assistance
        self.last_shock_cost = oop
        self.last_shock_month = t
        self._record(t, ILLNESS_EVENT if illness else ACCIDENT_EVENT,
                     ILLNESS if illness else ACCIDENT, oop + self.work_lost)
        return oop

    def _become_disabled(self, c: MonthContext, t: int, x: float) -> None:
        """A member becomes disabled: the one whose slice of the disability chance holds
        `x`; a worker stops working (an assisted job ends)."""
        for k in range(K):
            if not self.p_present[k] or self.p_disabled[k]:
                continue
            x -= rules.disability_weight(self.p_age[k])
            if x < 0.0:
                self.p_disabled[k] = True
                role = self.p_role[k]
                loss = 0.0
                if rules.works(role):
                    loss = 12.0 * c.local_wage * self.skill * c.trend
                    if self.job_slot == k:
                        self._end_job(t)
                    self.p_role[k] = NONE
                self.count_members()
                self._record(t, DISABILITY_EVENT, DISABILITY, loss)
                return

    def _suffer_disaster(self, c: MonthContext, t: int, disaster: Disaster,
                         u_house: float) -> float:
        """The household's village is hit: production falls for a while, assets are lost,
        and some houses are damaged (relief pays part of the repair)."""
        annual_production = 12.0 * self.production * c.trend
        asset_loss = disaster.asset_loss * annual_production
        repair = 0.0
        if u_house < c.p.shocks.housing_damage_share:
            full = c.p.shocks.housing_repair * c.cpi
            relief = full * c.p.social_security.disaster_relief
            self.y_cost_ss += relief
            repair = full - relief
        self.disaster_until = t + disaster.months
        self.disaster_loss = disaster.production_loss
        self.last_shock_cost = asset_loss + repair
        self.last_shock_month = t
        self.y_hit = True
        self._record(t, DISASTER_EVENT, DISASTER, asset_loss + repair + disaster.production_loss
                     * disaster.months / 12.0 * annual_production)
        return asset_loss + repair

    def _change_job(self, c: MonthContext, t: int, u: float) -> None:
        """A migrant loses the job (the first employed one), or a jobless migrant finds work
        again (the first jobless one)."""
        lose, regain = rules.job_transitions(u, self.migrants - self.unemployed,
                                             self.unemployed, c.p_job_loss, self.p_back)
        for k in range(K):
            if not self.p_present[k]:
                continue
            if lose and self.p_role[k] == MIGRANT:
                self.p_role[k] = JOBLESS
                self.count_members()
                self._record(t, JOB_LOSS_EVENT, JOB_LOSS,
                             12.0 * (c.migrant_wage - c.fallback_wage) * self.skill * c.trend)
                return
            if regain and self.p_role[k] == JOBLESS:
                self.p_role[k] = MIGRANT
                self.count_members()
                self.version = -1
                return

    def start_job(self, kind: int, until: int, t: int) -> bool:
        """An assisted job for one member: a jobless migrant first, else a local worker whom
        it pays more, else a member of working age or a young elderly who is able. Returns
        whether anyone took it."""
        pick = -1
        c = self.model.ctx
        for want in (JOBLESS, LOCAL):
            for k in range(K):
                if pick < 0 and self.p_present[k] and self.p_role[k] == want \
                        and rules.takes_job(c.p, kind, want, c.local_wage, self.skill):
                    pick = k
        if pick < 0:
            for k in range(K):
                if pick < 0 and self.p_present[k] and self.p_role[k] == NONE \
                        and not self.p_disabled[k] and 16 <= self.p_age[k] < 70:
                    pick = k
        if pick < 0:
            return False
        self.p_role[pick] = ASSISTED_JOB
        self.job_slot, self.job_kind, self.job_until = pick, kind, until
        self.count_members()
        self.version = -1
        self.model.log(t, self.idx, JOB_START, -1)
        return True

    def _end_job(self, t: int) -> None:
        """The assisted job ends (term over, project failed, holder gone): the holder goes
        back to local work."""
        k = self.job_slot
        if self.p_present[k] and self.p_role[k] == ASSISTED_JOB:
            self.p_role[k] = LOCAL if not self.p_disabled[k] else NONE
        self.job_slot, self.job_kind, self.job_until = -1, NO_JOB, -1
        self.count_members()
        self.version = -1
        self.model.log(t, self.idx, JOB_END, -1)

    def _earn(self, c: MonthContext, t: int, d: Any, shock_cost: float, fee: float,
              grant: float) -> tuple[float, float]:
        """Incomes by source, rigid costs met from savings, credit or not at all, the
        12-month windows on both counts, savings and debt, and the year's tallies; returns
        (transfers, own income) for the motivation verbs."""
        m, p = self.model, c.p
        self.dev = rules.earnings_deviation(self.dev, d.earnings[self.idx], c.persistence,
                                            c.innovation_sd)
        wages = rules.positive_part(rules.market_earnings(self.wage_base, self.dev, c.trend)
                                    + self.assisted_wage * c.trend - self.work_lost)
        loss = self.disaster_loss if t < self.disaster_until else 0.0
        production = rules.market_earnings(self.production, self.dev, c.trend) * (1.0 - loss)
        project = self._project_income(m, c, t) if self.linked else 0.0
        transfers = (self.regular + self.family_support * c.trend + self.pending_aid + grant)
        income = wages + production + project + transfers + p.income.property * c.trend
        rigid = shock_cost + self.chronic_cost + fee
        surplus = rules.positive_part(income - c.subsistence * self.members)
        paid, from_income, borrowed, _unmet = rules.pay_rigid(
            rigid, self.savings, surplus, self.debt, p.income.credit_months * self.roll12 / 12.0)
        slot = c.month_of_year
        self.roll12 = rules.window(self.roll12, self.ring[slot], income)
        self.ring[slot] = income
        net = income - (rigid - paid)
        self.roll12_h = rules.window(self.roll12_h, self.ring_h[slot], net)
        self.ring_h[slot] = net
        self.pc12 = self.roll12 / self.members
        self.pc12_h = self.roll12_h / self.members
        self.savings, self.debt = rules.buffers(
            p, self.savings - paid, self.debt + borrowed, surplus - from_income,
            p.income.savings_target * self.roll12 / 12.0)
        if shock_cost > 0 and rules.severe_shock(shock_cost, self.roll12, p.monitoring
                                                 .severe_shock_share):
            self.alert_until = t + c.alert_months
        self.y_labour += wages
        self.y_production += production
        self.y_project += project
        self.y_transfers += transfers
        self.y_rigid += rigid
        self.y_income += income
        self.y_cost_ss += self.ss_regular + grant
        if self.job_kind == WELFARE_POST:
            self.y_cost_ss += self.assisted_wage * c.trend
        self.pending_aid = 0.0
        return transfers, wages + production + project

    def _project_income(self, m: PovertyModel, c: MonthContext, t: int) -> float:
        """Dividend from the village's project; a stop is a loss, and its project job ends."""
        ind = m.industries[self.village]
        drop = ind.dividend_drop
        if ind.failed_now and self.job_kind == PROJECT_JOB:
            drop += c.p.industry.wage * c.trend
            self._end_job(t)
        if drop > 0:
            self._add_loss(t, INDUSTRY_FAILURE, 12.0 * drop)
        return ind.dividend_paid

    def _programmes(self, c: MonthContext, t: int, d: Any) -> None:
        """低保 and 特困, the civil-affairs programmes (reachable with or without the
        monitoring system): an eligible household applies (its own route: the village
        committee), is means-tested again at approval after the lag, and is reviewed every
        few months; when its own income rises above the exit line it keeps the benefit for a
        gradual-exit period (渐退), then leaves."""
        p = c.p
        ss = p.social_security
        prog = self.programme
        if prog == OFF:
            if self.u_coverage < ss.coverage and float(d.apply[self.idx]) < ss.application_rate \
                    and rules.dibao_eligible(p, self._counted_income(c), self.savings,
                                             self.members, c.dibao_standard):
                self.apply_for_programme(t)
            return
        if prog == PENDING:
            if t - self.programme_month >= ss.approval_months:
                self._decide(c, t)
            return
        if t >= self.next_review:
            self._review(c, t)

    def _counted_income(self, c: MonthContext) -> float:
        """Per-capita income as the means test counts it (rules.own_income)."""
        benefit = self.benefit if self.programme == DIBAO or self.programme == TEKUN else 0.0
        return rules.own_income(self.pc12, benefit, self.elderly * c.pension
                                + self.formerly_poor * c.subsidy, self.members)

    def apply_for_programme(self, t: int) -> None:
        """An application for 低保 / 特困 (by the household, or matched by the monitoring)."""
        if self.programme == OFF:
            self.programme = PENDING
            self.programme_month = t

    def _decide(self, c: MonthContext, t: int) -> None:
        """The decision on an application: the means test again; 特困 for those without
        labour capacity, working-age members or supporters."""
        p = c.p
        own = self._counted_income(c)
        if rules.dibao_eligible(p, own, self.savings, self.members, c.dibao_standard):
            tekun = rules.tekun_eligible(self.workers, self.able_adults, self.no_supporter)
            self.programme = TEKUN if tekun else DIBAO
            self._set_benefit(c, own)
            self.programme_month = t
            self.model.log(t, self.idx, TEKUN_START if tekun else DIBAO_START, -1)
        else:
            self.programme = OFF
        self.version = -1

    def _set_benefit(self, c: MonthContext, own: float) -> None:
        p = c.p
        if self.programme == TEKUN:
            self.benefit = rules.tekun_benefit(p, self.members, c.dibao_standard)
        else:
            self.benefit = rules.dibao_benefit(p, own, self.members,
                                               self.elderly + self.disabled, c.dibao_standard)
        months = p.social_security.review_months if self.workers > 0 else \
            p.social_security.review_months_stable
        self.next_review = c.t + months

    def _review(self, c: MonthContext, t: int) -> None:
        """A review: the benefit follows own income and this year's standard; a household
        whose own income is above the exit line starts (or finishes) its gradual exit."""
        own = self._counted_income(c)
        if rules.leaves_dibao(own, c.dibao_exit_line, t, self.support_until, self.state):
            if self.exit_until < 0:
                self.exit_until = t + c.p.social_security.gradual_exit_months
                self.next_review = self.exit_until
            elif t >= self.exit_until:
                lost = self.benefit
                self.programme, self.benefit, self.exit_until = OFF, 0.0, -1
                self.next_review = NEVER
                self._add_loss(t, TRANSFER_WITHDRAWAL, 12.0 * lost)
                self.model.log(t, self.idx, DIBAO_END, -1)
            else:
                self.next_review = self.exit_until
        else:
            self.exit_until = -1
            self._set_benefit(c, own)
        self.version = -1

    def _motivate(self, c: MonthContext, t: int, d: Any, transfers: float,
                  own_income: float) -> None:
        """March's training and guidance rounds; monthly mentoring by a social partner."""
        if c.march:
            self._training_and_guidance(c, t, d.train[self.idx], d.guide[self.idx], transfers,
                                        own_income)
        if self.state == ASSISTED and self.model.village_partner[self.village]:
            self.motivation = rules.motivation_gain(self.motivation,
                                                    c.p.responsibility.mentoring)
            if self.unemployed:
                self.version = -1

    def _training_and_guidance(self, c: MonthContext, t: int, u_train: float, u_guide: float,
                               transfers: float, own_income: float) -> None:
        """March: vocational training take-up; guidance moves dependency and motivation."""
        p = c.p
        eligible = self.workers > 0 and (self.formerly_poor
                                         or rules.in_support(self.state, t, self.support_until))
        if eligible and u_train < rules.training_probability(p, self.motivation,
                                                             self.dependency):
            self.skill = rules.skill_after_training(self.skill, not self.trained,
                                                    p.motivation.training_practicality)
            self.trained = True
            self.y_trained = True
            self.version = -1
        if self.category != ORDINARY:
            self.dependency = rules.dependency_update(self.dependency, u_guide,
                                                      c.p_dependency_drop, c.p_dependency_gain,
                                                      transfers > own_income)
            self.motivation = rules.motivation_gain(self.motivation, c.guidance_gain)
            if self.unemployed:  # re-employment chance moved
                self.version = -1

    def _stand(self, c: MonthContext, t: int, d: Any) -> None:
        """Standing for phases 5 and 6: secure or at risk, an application, in the officials'
        view, crossing the line on either count."""
        m = self.model
        pc, state = self.pc12, self.state
        secure = pc >= c.alert_line
        if secure != self.secure:
            self.secure = secure
            if secure:
                self.secure_since = t
        risk = self.at_risk = rules.at_risk(pc, c.alert_line, self.pc12_h, c.line,
                                            t < self.alert_until)
        if risk:
            self.y_at_risk = True
            if self.risk_since < 0:
                self.risk_since = t
            if state == NOT_MONITORED or state == RISK_ELIMINATED:
                self.applied = float(d.report[self.idx]) < rules.self_report_probability(
                    c.p, self.motivation, self.dependency)
        elif self.risk_since >= 0:
            self.risk_since = -1
        if risk or state:  # in the officials' view this month
            m.watch[self.village].append(self)
        if (pc < c.line) != self.below or (self.pc12_h < c.line) != self.below_h:
            m.crossing.append(self)

    def _add_loss(self, t: int, cause: int, amount: float) -> None:
        """Record a loss in the cause ledger, decaying older entries to this month."""
        factor = self.model.decay[t - self.loss_month]
        if factor != 1.0:
            losses = self.losses
            for k in range(len(losses)):
                losses[k] *= factor
        self.losses[cause] += amount
        self.loss_month = t

    def _record(self, t: int, event: int, cause: int, loss: float) -> None:
        """A shock: enter its loss in the cause ledger, leave a trace, log the event."""
        self._add_loss(t, cause, loss)
        self.trace_until = t + self.model.ctx.alert_months
        self.version = -1
        self.model.log(t, self.idx, event, cause)

    # ------------------------------------------------------------------ phase 6
    def settle(self) -> None:
        """A household whose income crossed the line on either count. Official test: a fall
        (return or new poverty, with its cause), a dip back within the same spell, or a rise.
        Hardship count: a fall after `spell_months` above (logged), else the spell goes on."""
        m = self.model
        t, line = m.ctx.t, m.ctx.line
        below = self.pc12 < line
        if below != self.below:
            self.below = below
            if below:
                cause = self.primary_cause(t)
                if t - self.above_since >= m.ctx.spell_months:  # a new poverty spell
                    if not self.fell_this_year:
                        self.fell_this_year = True
                        self.fall_cause = cause
                        self.fall_repeat = self.ever_fell
                    self.ever_fell = True
                    m.log(t, self.idx, FALL, cause)
                else:  # back below after a short exit: the same spell continues
                    m.log(t, self.idx, DIP, cause)
            else:
                self.above_since = t
                m.log(t, self.idx, RISE, -1)
        below_h = self.pc12_h < line
        if below_h != self.below_h:
            self.below_h = below_h
            if not below_h:
                self.above_since_h = t
            elif t - self.above_since_h >= m.ctx.spell_months:
                cause = self.primary_cause(t)
                if not self.fell_h_this_year:
                    self.fell_h_this_year = True
                    self.fall_cause_h = cause
                m.log(t, self.idx, FALL_HARDSHIP, cause)

    def primary_cause(self, t: int) -> int:
        """The cause of a fall or risk now (see `rules.primary_cause`)."""
        return rules.primary_cause(self.losses, self.model.decay[t - self.loss_month],
                                   LOSS_FLOOR * abs(self.roll12), self.disabled, self.chronic,
                                   self.workers)

    def end_support(self) -> None:
        """Follow-up is over: the education aid ends (jobs end with their term; 低保 is
        reviewed on its own schedule)."""
        self.edu_aid = False
        self.support_until = NO_SUPPORT

