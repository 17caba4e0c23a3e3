"""PovertyModel: the agents engine (Mesa 3.5) — households, industries, officials, partners.

The monthly phase order is the specification (docs/ODD.md §3) and is all in `step`:

  1. draw every random number of the month (simulation.model.draws)
  1b. (January) the year's demography: members die, age, change role, move out, are born
  2. covariate shocks: disasters hit villages (downturns act through scheduled knobs)
  3. industries operate and pay their linked households
  4. households live: shocks, earnings, social security, motivation, 12-month window
  5. officials identify, assist and verify; social partners place job candidates
  6. households settle: status against the line, cause of each fall
  (December) the year's statistics

Interactions within a month are additive and read state produced earlier in the month, so
household activation order does not matter; the one order that does (job placements running
out) follows a random priority drawn from the generator.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from functools import partial
from operator import attrgetter
from typing import Any

import mesa
import numpy as np

from simulation.model import metrics
from simulation.model.agents.household import Household
from simulation.model.agents.industry import Industry
from simulation.model.agents.official import Official
from simulation.model.agents.partner import SocialPartner
from simulation.model.codes import SHOCK_EVENTS, WELFARE_POST
from simulation.model.context import Environment, MonthContext
from simulation.model.draws import MonthDraws, draw_month
from simulation.model.microdata import initial_population
from simulation.model.params import as_namespace
from simulation.model.scenario import Disaster, Scenario, validate_value
from simulation.model.state import (
    FIELDS,
    PERSON_FIELDS,
    YEARLY,
    initial_record,
    initial_state,
)


class HouseholdDraws:
    """One month's per-household draws, indexed by `idx`. Those every household reads each
    month (and the yearly ones, in their month) become Python lists, the fastest to index;
    the rest stay arrays read through float() on the rare paths that need them."""

    __slots__ = ("apply", "earnings", "guide", "house", "job", "process", "report", "screen",
                 "severity", "shock", "train", "warn")
    _LISTS = ("earnings", "shock", "job", "train", "guide")

    apply: Any
    earnings: Any
    guide: Any
    house: Any
    job: Any
    process: Any
    report: Any
    screen: Any
    severity: Any
    shock: Any
    train: Any
    warn: Any

    def __init__(self, d: MonthDraws) -> None:
        for name in self.__slots__:
            value = getattr(d, name)
            if value is not None and name in self._LISTS:
                value = value.tolist()
            setattr(self, name, value)


class PovertyModel(mesa.Model):
    """M County under one scenario, one step per month from January 2021.

    Args:
        scenario: resolved scenario (values, schedule, disasters).
        rng: seed of the model's generator (the only source of randomness).
        record_events: keep the per-household event log (falls, identification...).
        log_shocks: also log every shock (for household stories on the teaching page).
    """

    def __init__(self, scenario: Scenario, rng: int | None = None, *,
                 record_events: bool = True, log_shocks: bool = False) -> None:
        super().__init__(rng=rng)
        self.spec = scenario  # (Mesa reserves `scenario` for its own Scenario class)
        # one history, then policy: the county is built, and lives until the policy date,
        # under the reference status quo; the scenario's own values start at its policy date
        reference = scenario.reference_values()
        p = as_namespace(reference)
        self.population = initial_population(p, self.rng, scenario.population_file)
        self.env = Environment(reference, self.population)
        self.decay = self.env.decay
        self.record_events, self.log_shocks = record_events, log_shocks
        self.events: list[tuple[int, int, int, int]] = []
        self.month = 0
        self.ctx: MonthContext = self.env.month(0)
        self.years: list[dict[str, float]] = []
        groups = len(self.population.group_weights)
        self.tally: defaultdict[str, list[int]] = defaultdict(lambda: [0] * groups)
        self.programme_costs: dict[str, float] = defaultdict(float)
        self.pending_disaster: Disaster | None = None
        self.village_hit: list[bool] | None = None
        self.disaster: Disaster | None = None
        self.job_candidates: list[Household] = []
        self.crossing: list[Household] = []
        self.restructured = 0
        self.version = 0  # bumped when knobs or the calendar year change cached values

        state, people = initial_state(p, self.population)
        self.initial = initial_record(p, self.population, state)
        rows = zip(*(state[k].tolist() for k in FIELDS), strict=True)
        person_rows = zip(*(people[k].tolist() for k in PERSON_FIELDS), strict=True)
        rings = zip(state["ring"].T.tolist(), state["ring_h"].T.tolist(), strict=True)
        losses = state["losses"].tolist()
        self.households = [Household(self, i, row, person, ring, loss)
                           for i, (row, person, ring, loss)
                           in enumerate(zip(rows, person_rows, rings, losses, strict=True))]
        v = self.population.villages
        self.industries = [Industry(self, j, int(s), r) for j, (s, r) in
                           enumerate(zip(v["sector"].tolist(), v["reserve"].tolist(),
                                         strict=True))]
        self.officials = [Official(self, j, k, f) for j, (k, f) in
                          enumerate(zip(v["key"].tolist(), v["duty_factor"].tolist(),
                                        strict=True))]
        for h in self.households:
            self.officials[h.village].households.append(h)
        self._partner_order = v["partner_order"].tolist()
        self.village_partner = [False] * self.population.n_villages
        self._sync_partners()

        # Dated policy changes and disasters are Mesa events between two months (step k
        # runs month k - 1 at time k), so they are in force from their month on; the
        # scenario's policy change comes first, its [[schedule]] entries of the same month
        # after it. Mesa keeps only weak references to event callbacks: hold them here.
        dated = [(scenario.policy_month + 0.4, partial(self._apply_change,
                                                       scenario.policy_changes()))]
        dated += [(c.month + 0.5, partial(self._apply_change, c.values))
                  for c in scenario.schedule]
        dated += [(d.month + 0.5, partial(self._set_disaster, d)) for d in scenario.disasters]
        self._dated = [callback for _, callback in dated]
        for at, callback in dated:
            self.schedule_event(callback, at=at)
        self.datacollector = mesa.DataCollector(model_reporters={
            "month": "month", "falls": lambda m: m.monthly["falls"],
            "identified": lambda m: m.monthly["identified"],
            "risk_eliminated": lambda m: m.monthly["risk_eliminated"]})
        self.monthly: dict[str, int] = defaultdict(int)

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """One month, phases in the order of docs/ODD.md §3 (households whose members have
        all died or moved out no longer act: `alive`)."""
        t = self.month
        self.ctx = self.env.month(t)
        if self.ctx.january:
            self.version += 1
        self.monthly = defaultdict(int)
        self.draws = draw_month(self.rng, t, len(self.households), len(self.industries),
                                len(self.industries))                        # 1
        self.hh_draws = HouseholdDraws(self.draws)
        if self.ctx.january and t > 0 and self.ctx.p.demography.enabled:
            self.agents_by_type[Household].do("demography")                     # 1b
        self._strike_covariate_shocks()                                         # 2
        self.restructured = 0
        self.agents_by_type[Industry].do("operate")                             # 3
        self._accrue_programme_costs()
        self.crossing = []
        self.watch: list[list[Household]] = [[] for _ in self.officials]
        self.agents_by_type[Household].shuffle_do("live")                       # 4
        self.job_candidates = []
        self.agents_by_type[Official].do("monitor")                             # 5
        self._place_jobs(t)
        for household in self.crossing:                                         # 6
            household.settle()
        self.datacollector.collect(self)
        if self.ctx.december:
            self._close_year()
        self.month += 1

    def run(self, months: int | None = None) -> None:
        """Run the scenario's horizon (or `months` more months)."""
        for _ in range(self.spec.years * 12 if months is None else months):
            self.step()

    # ------------------------------------------------------------------ phases owned by the model
    def _strike_covariate_shocks(self) -> None:
        """Phase 2: a scheduled disaster, or a random one, hits a share of villages."""
        d = self.draws
        disaster = self.disaster = self.env.disaster(self.month, self.pending_disaster,
                                                     d.disaster)
        self.pending_disaster = None
        self.village_hit = (None if disaster is None
                            else (d.village < disaster.village_share).tolist())
        if disaster is not None:
            self.tally["disasters"][0] += 1

    def _place_jobs(self, t: int) -> None:
        """Phase 5 end: partners' placements in random priority order; the rest get a
        public-welfare post (公益岗位) for a member."""
        p = self.ctx.p
        job_u = self.hh_draws.job
        candidates = sorted(self.job_candidates, key=lambda h: (job_u[h.idx], h.idx))
        seen, capacity = 0, self.env.partner_capacity()
        term = int(p.responsibility.placement_term)
        placed = sum(1 for h in candidates if h.job_slot >= 0)
        for partner in self._partners:
            seen = partner.place(candidates, seen, capacity, t, term)
        self.tally["partner_jobs"][0] += sum(1 for h in candidates if h.job_slot >= 0) - placed
        post_term = int(p.social_security.public_welfare_term)
        for h in candidates[seen:]:
            if h.job_slot < 0:
                h.start_job(WELFARE_POST, t + post_term, t)

    def _accrue_programme_costs(self) -> None:
        for mechanism, yearly in self.env.programme_costs().items():
            self.programme_costs[mechanism] += yearly / 12.0
        if self.restructured:  # failed projects restructured this month (county scale)
            self.programme_costs["industry"] += (self.restructured * self.env.restructure_cost()
                                                 * self.ctx.cpi)
            self.tally["restructured"][0] += self.restructured

    def year_to_date(self) -> dict[str, float]:
        """This year's metrics so far (in December: the year's row of `years`)."""
        snapshot = self.snapshot(metrics.SNAPSHOT_FIELDS)
        people = self.people_snapshot()
        costs = {**self.programme_costs,
                 "training_unit": self.env.p.costs.training * self.ctx.cpi}
        return metrics.year_metrics(self.ctx.year, snapshot, people, dict(self.tally), costs,
                                    self.population.group_weights,
                                    [ind.status for ind in self.industries], self.ctx)

    def _close_year(self) -> None:
        """December: the year's statistics, then reset the yearly tallies."""
        self.years.append(self.year_to_date())
        self.tally.clear()
        self.programme_costs.clear()
        for h in self.households:
            h.last_y_income = h.y_income
            for name, value in YEARLY.items():
                setattr(h, name, value)

    # ------------------------------------------------------------------ events and bookkeeping
    def apply_policy(self, values: Mapping[str, float], origin: str = "policy change") -> None:
        """Put knob values in force from the next month (as a scheduled change would); the
        values are validated against the schema (ScenarioError naming key and range)."""
        checked = {k: validate_value(origin, k, v) for k, v in values.items()}
        self._apply_change(checked)

    def _apply_change(self, values: Mapping[str, float]) -> None:
        """A scheduled policy change (Mesa event between two months)."""
        self.env.apply(values)
        self.version += 1
        if "responsibility.social_participation" in values:
            self._sync_partners()

    def _set_disaster(self, disaster: Disaster) -> None:
        self.pending_disaster = disaster

    def _sync_partners(self) -> None:
        """As many partners as social participation implies, in the drawn village order."""
        wanted = self.env.partners()
        current = list(self.agents_by_type[SocialPartner]) if SocialPartner in \
            self.agents_by_type else []
        for partner in current[wanted:]:
            partner.remove()
        for k in range(len(current), wanted):
            SocialPartner(self, self._partner_order[k % len(self._partner_order)])
        self._partners = list(self.agents_by_type[SocialPartner]) if wanted else []
        self.village_partner = [False] * self.population.n_villages
        for partner in self._partners:
            self.village_partner[partner.village] = True

    def count(self, name: str, group: int, k: int = 1) -> None:
        """Add to a yearly tally by household weight group (integers: order-independent)."""
        self.tally[name][group] += k
        if name in _MONTHLY:
            self.monthly[_MONTHLY[name]] += k

    def log(self, t: int, idx: int, event: int, cause: int) -> None:
        """Append to the per-household event log."""
        if event == 0:
            self.monthly["falls"] += 1
        if self.record_events and (self.log_shocks or event not in SHOCK_EVENTS):
            self.events.append((t, idx, event, cause))

    def snapshot(self, fields: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """Household state as columns (all of FIELDS, plus rings and losses, by default)."""
        names = tuple(FIELDS) if fields is None else fields
        get = attrgetter(*names)
        rows = [get(h) for h in self.households]
        columns = zip(*rows, strict=True) if len(names) > 1 else [rows]
        out: dict[str, np.ndarray] = {k: np.array(col, dtype=FIELDS[k])
                                      for k, col in zip(names, columns, strict=True)}
        if fields is None:
            out["ring"] = np.array([h.ring for h in self.households]).T.copy()
            out["ring_h"] = np.array([h.ring_h for h in self.households]).T.copy()
            out["losses"] = np.array([h.losses for h in self.households])
        return out

    def people_snapshot(self) -> dict[str, np.ndarray]:
        """The members of every household as (n x K) columns (state.PERSON_FIELDS)."""
        return {name: np.array([getattr(h, f"p_{name}") for h in self.households],
                               dtype=dtype) for name, dtype in PERSON_FIELDS.items()}

    def event_table(self) -> np.ndarray:
        """Events sorted by (month, household, event): independent of activation order."""
        return np.array(sorted(self.events), dtype=np.int32).reshape(-1, 4)


_MONTHLY = {"monitoring_inflow": "identified", "risk_eliminated": "risk_eliminated"}
