"""The page's memory of a run: monthly series for the charts, and each household's history.

The model keeps yearly statistics; a classroom wants to watch months go by and to ask one
household what happened to it. The recorder reads the model once a month, at the moment the
model collects its data (after the month's accounting, before December closes the year and
resets the year-to-date income tallies), and keeps:

- per household and month: income by source, rigid costs, 12-month per-capita income on both
  counts (the official income test and income net of rigid costs), savings and debt, map
  status and the programmes and jobs in force (float32/uint8 arrays sized for the whole
  horizon, so memory is bounded: 15 years x 1,000 households ~ 7 MB);
- per household: its events (shocks, falls, identification with the channel, assistance,
  低保/特困, jobs, deaths, births, members moving out), each with the member it concerns
  where the model's state tells (the event log itself names the household only), and since
  when each member has had their present role;
- per month: households below the line by category, monitored stock, inflow and outflow;
- per year: falls by cause; and the year-to-date metrics of `simulation.model.metrics.year_metrics`,
  so the monitors use exactly the definitions of the yearly results.

Counts here are of simulated (sample) households still living, the dots on the map; county
totals (weighted) come from the year-to-date metrics.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import mesa
import numpy as np

from simulation.model import metrics
from simulation.model.codes import (
    ASSISTED,
    BIRTH_EVENT,
    CAUSES,
    DEATH_EVENT,
    DIBAO,
    DIBAO_END,
    DIBAO_START,
    DISABILITY_EVENT,
    IDENTIFIED,
    IDENTIFIED_EVENT,
    JOB_END,
    JOB_LOSS_EVENT,
    JOB_START,
    JOBLESS,
    MIGRANT,
    MOVED_OUT_EVENT,
    SCHOOL_EVENT,
    STUDENT,
    TEKUN,
    TEKUN_START,
    K,
)
from simulation.teaching.people import relations
from simulation.teaching.status import household_status, support_bits

if TYPE_CHECKING:
    from simulation.model.agents_engine import PovertyModel

SOURCES: Final = ("labour", "production", "industry", "transfers", "rigid")
"""Columns of the income history: wages, farm/business, industry linkage (dividend and project
wage), transfers (低保/特困, pensions, subsidies, aid), and rigid costs (medical, schooling...)."""
_YTD_FIELDS: Final = ("y_labour", "y_production", "y_project", "y_transfers", "y_rigid")
_FIELDS: Final = tuple(dict.fromkeys((*metrics.SNAPSHOT_FIELDS, "state", "channel",
                                      "programme", "benefit", "job_slot", "job_kind",
                                      "job_until", "edu_aid", "savings", "debt", "pc12_h")))
MONTHLY: Final = ("below_formerly_poor", "below_marginal", "below_ordinary", "monitored",
                  "inflow", "outflow", "falls", "on_programme", "below_hardship")
"""Monthly series (sample counts of living households)."""


class Member(NamedTuple):
    """A household member as the page describes them (person slot, age, sex, role...)."""

    slot: int
    age: int
    sex: int
    role: int
    disabled: bool
    chronic: bool
    relation: str = ""  # guessed tie to the head at the time (simulation.teaching.people)


class Logged(NamedTuple):
    """One event of a household, with what the page needs to tell it.

    `channel`: how an identification came about; `who`: the member concerned (a death, a
    birth, a move, a job, a job loss, a disability, a school entry) when the model's state
    tells; `kind` and `until`: an assisted job's kind and end month; `amount`: the benefit of
    a 低保/特困 spell (yuan/month, at its start; at its end, the benefit lost)."""

    month: int
    event: int
    cause: int
    channel: int = 0
    who: Member | None = None
    kind: int = 0
    until: int = -1
    amount: float = 0.0


class Recorder:
    """Monthly record of one PovertyModel run (attach with `attach`, before the first step).

    Attributes:
        months: capacity (the scenario's horizon in months); `t` months are recorded so far.
        income: (months, n, len(SOURCES)) yuan per household-month.
        pc12: (months, n) 12-month per-capita income, the official test (yuan/person-yr).
        pc12_h: (months, n) the same net of rigid costs (hardship count).
        savings, debt: (months, n) the household's savings and debt at the month's end (yuan).
        status: (months, n) map status code (`simulation.teaching.status`).
        support: (months, n) bitmask of the programmes and jobs in force.
        line: (months,) the monitoring line the month's income was compared with.
        series: name -> (months,) int array, see MONTHLY.
        falls_by_cause: (years, len(CAUSES)) households that fell below the line, by cause.
        events: household -> its events (`Logged`), in the order they happened.
        role_since: (n, K) month each member's present role began (-1: before 2021).
        ytd: year-to-date metrics of the latest month (`simulation.model.metrics` names).
    """

    def __init__(self, n_households: int, months: int) -> None:
        self.n, self.months, self.t = n_households, months, 0
        self.income = np.zeros((months, n_households, len(SOURCES)), np.float32)
        self.pc12 = np.zeros((months, n_households), np.float32)
        self.pc12_h = np.zeros((months, n_households), np.float32)
        self.savings = np.zeros((months, n_households), np.float32)
        self.debt = np.zeros((months, n_households), np.float32)
        self.status = np.zeros((months, n_households), np.int8)
        self.support = np.zeros((months, n_households), np.uint8)
        self.line = np.zeros(months)
        self.series = {name: np.zeros(months, np.int64) for name in MONTHLY}
        self.falls_by_cause = np.zeros((months // 12 + 1, len(CAUSES)), np.int64)
        self.events: defaultdict[int, list[Logged]] = defaultdict(list)
        self.role_since = np.full((n_households, K), -1, np.int16)
        self.ytd: dict[str, float] = {}
        self._previous = np.zeros((n_households, len(SOURCES)))
        self._people: dict[str, np.ndarray] = {}
        self._jobs: dict[str, np.ndarray] = {}
        self._benefit = np.zeros(n_households)
        self._seen = 0

    @classmethod
    def attach(cls, model: PovertyModel) -> Recorder:
        """A recorder for `model`, called by the model's own data collection every month.

        The model collects its data after the month's phase 6 and before December resets the
        year's tallies: the one moment every monthly quantity is complete. We add a reporter to
        (a copy of) its DataCollector rather than changing the model.
        """
        recorder = cls(len(model.households), model.spec.years * 12)
        recorder._remember(model.people_snapshot(),
                           model.snapshot(("job_slot", "job_kind", "job_until", "benefit")))
        reporters = dict(model.datacollector.model_reporters)
        # a partial is called with the model (a bound method would be called without it)
        reporters["teaching_page"] = partial(Recorder.capture, recorder)
        model.datacollector = mesa.DataCollector(model_reporters=reporters)
        return recorder

    def _remember(self, people: dict[str, np.ndarray], cols: dict[str, np.ndarray]) -> None:
        """Keep this month's members and jobs to tell next month's events by."""
        self._people = people
        self._jobs = {k: cols[k] for k in ("job_slot", "job_kind", "job_until")}
        self._benefit = cols["benefit"]

    # ------------------------------------------------------------------ capture
    def capture(self, model: PovertyModel) -> int:
        """Record the month the model has just computed (returns its index).

        Only a call from within the model's step records: there Mesa has counted the step and
        the model has not yet moved to the next month. A second call in the same month (Mesa
        validates a reporter by calling it) or a call between steps changes nothing.
        """
        t = model.month
        inside_step = model.steps == t + 1
        if not inside_step or t >= self.months or t < self.t:
            return t
        cols = model.snapshot(_FIELDS)
        people = model.people_snapshot()
        ytd = np.column_stack([cols[f] for f in _YTD_FIELDS])
        # year-to-date tallies restart each January: this month = YTD now - YTD last month
        previous = 0.0 if model.ctx.january else self._previous
        self.income[t] = ytd - previous
        self._previous = ytd
        self.pc12[t] = cols["pc12"]
        self.pc12_h[t] = cols["pc12_h"]
        self.savings[t] = cols["savings"]
        self.debt[t] = cols["debt"]
        self.line[t] = model.ctx.line
        alive = cols["alive"]
        self.status[t] = household_status(cols["category"], cols["state"], cols["below"], alive)
        self.support[t] = support_bits(cols["programme"], cols["job_kind"], cols["edu_aid"])

        cat, below = cols["category"], cols["below"] & alive
        s = self.series
        for k, name in enumerate(("below_formerly_poor", "below_marginal", "below_ordinary")):
            s[name][t] = int(np.count_nonzero(below & (cat == k)))
        state = cols["state"]
        s["monitored"][t] = int(np.count_nonzero(((state == IDENTIFIED) | (state == ASSISTED))
                                                 & alive))
        s["inflow"][t] = int(model.monthly.get("identified", 0))
        s["outflow"][t] = int(model.monthly.get("risk_eliminated", 0))
        s["falls"][t] = int(model.monthly.get("falls", 0))
        programme = cols["programme"]
        s["on_programme"][t] = int(np.count_nonzero(((programme == DIBAO) | (programme == TEKUN))
                                                    & alive))
        s["below_hardship"][t] = int(np.count_nonzero(cols["below_h"] & alive))
        fell = cols["fell_this_year"] & alive
        self.falls_by_cause[t // 12] = np.bincount(cols["fall_cause"][fell].astype(np.int64),
                                                   minlength=len(CAUSES))[:len(CAUSES)]

        aged = bool(model.ctx.january and t > 0 and model.ctx.p.demography.enabled)
        before = self._people
        same = (before["present"] & people["present"]
                & (people["age"] == before["age"] + (1 if aged else 0)))
        new_role = people["present"] & ~(same & (people["role"] == before["role"]))
        self.role_since[new_role] = t
        self._log(model.events[self._seen:], t, cols, people, same)
        self._seen = len(model.events)
        self._remember(people, cols)

        self.ytd = model.year_to_date()
        self.t = t + 1
        return t

    def _log(self, new: list[tuple[int, int, int, int]], t: int, cols: dict[str, np.ndarray],
             people: dict[str, np.ndarray], same: np.ndarray) -> None:
        """This month's events, each with the member it concerns (from the change in the
        household's members and jobs since last month)."""
        before, jobs = self._people, self._jobs
        departed: dict[int, list[int]] = {}
        arrived: dict[int, list[int]] = {}

        def person(p: dict[str, np.ndarray], idx: int, k: int) -> Member:
            ties = relations(p["age"][idx].tolist(), p["sex"][idx].tolist(),
                             p["present"][idx].tolist())
            return Member(k, int(p["age"][idx, k]), int(p["sex"][idx, k]), int(p["role"][idx, k]),
                          bool(p["disabled"][idx, k]), bool(p["chronic"][idx, k]),
                          ties.get(k, ""))

        def first(idx: int, changed: np.ndarray) -> Member | None:
            slots = np.flatnonzero(changed)
            return person(people, idx, int(slots[0])) if slots.size else None

        for month, idx, event, cause in new:
            logged = Logged(month, event, cause)
            if event == IDENTIFIED_EVENT:
                logged = logged._replace(channel=int(cols["channel"][idx]))
            elif event in (DEATH_EVENT, MOVED_OUT_EVENT):
                # departures are logged in slot order: the n-th is the n-th slot left empty
                # (or taken by a newborn)
                if idx not in departed:
                    departed[idx] = np.flatnonzero(before["present"][idx]
                                                   & ~same[idx]).tolist()
                if departed[idx]:
                    who = person(before, idx, departed[idx].pop(0))
                    if event == MOVED_OUT_EVENT:  # they had their birthday first
                        who = who._replace(age=who.age + 1)
                    logged = logged._replace(who=who)
            elif event == BIRTH_EVENT:
                if idx not in arrived:
                    arrived[idx] = np.flatnonzero(people["present"][idx] & ~same[idx]).tolist()
                if arrived[idx]:
                    logged = logged._replace(who=person(people, idx, arrived[idx].pop(0)))
            elif event == JOB_START and cols["job_slot"][idx] >= 0:
                logged = logged._replace(who=person(people, idx, int(cols["job_slot"][idx])),
                                         kind=int(cols["job_kind"][idx]),
                                         until=int(cols["job_until"][idx]))
            elif event == JOB_END and jobs["job_slot"][idx] >= 0:
                k = int(jobs["job_slot"][idx])
                logged = logged._replace(who=person(before, idx, k),
                                         kind=int(jobs["job_kind"][idx]))
            elif event == JOB_LOSS_EVENT:
                logged = logged._replace(who=first(idx, same[idx]
                                                   & (before["role"][idx] == MIGRANT)
                                                   & (people["role"][idx] == JOBLESS)))
            elif event == DISABILITY_EVENT:
                logged = logged._replace(who=first(idx, same[idx] & ~before["disabled"][idx]
                                                   & people["disabled"][idx]))
            elif event == SCHOOL_EVENT:
                logged = logged._replace(who=first(idx, same[idx]
                                                   & (before["role"][idx] != STUDENT)
                                                   & (people["role"][idx] == STUDENT)))
            elif event in (DIBAO_START, TEKUN_START):
                logged = logged._replace(amount=float(cols["benefit"][idx]))
            elif event == DIBAO_END:
                logged = logged._replace(amount=float(self._benefit[idx]))
            self.events[idx].append(logged)

    # ------------------------------------------------------------------ reading
    def household(self, idx: int) -> dict[str, Any]:
        """History of one household over the recorded months (copies)."""
        t = self.t
        return {"income": self.income[:t, idx].copy(), "pc12": self.pc12[:t, idx].copy(),
                "pc12_h": self.pc12_h[:t, idx].copy(), "savings": self.savings[:t, idx].copy(),
                "debt": self.debt[:t, idx].copy(), "status": self.status[:t, idx].copy(),
                "support": self.support[:t, idx].copy(), "line": self.line[:t].copy(),
                "events": list(self.events.get(idx, []))}

    def nbytes(self) -> int:
        """Memory held by the per-household arrays (bytes)."""
        return sum(a.nbytes for a in (self.income, self.pc12, self.pc12_h, self.savings,
                                      self.debt, self.status, self.support, self.role_since))
