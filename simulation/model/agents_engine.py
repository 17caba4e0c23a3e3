"""PovertyModel: the agents engine (Mesa 3.5) — households, industries, officials, partners.

The monthly phase order is the specification (docs/ODD.md §3) and is all in `step`:

  1. draw every random number of the month (simulation.model.draws)
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
from simulation.model.codes import SHOCK_EVENTS
from simulation.model.context import Environment, MonthContext
from simulation.model.draws import MonthDraws, draw_month
from simulation.model.params import as_namespace
from simulation.model.population import build_population
from simulation.model.scenario import Disaster, Scenario, validate_value
from simulation.model.state import FIELDS, YEARLY, initial_record, initial_state


class HouseholdDraws:
    """One month's per-household draws, indexed by `idx`. Those every household reads each
    month (and the yearly ones, in their month) become Python lists, the fastest to index;
    the rest stay arrays read through float() on the rare paths that need them."""

    __slots__ = ("earnings", "guide", "job", "process", "report", "school", "screen", "severity",
                 "shock", "train", "warn")
    _LISTS = ("earnings", "shock", "job", "train", "guide", "school")

    earnings: Any
    guide: Any
    job: Any
    process: Any
    report: Any
    school: Any
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
        p = as_namespace(dict(scenario.values))
        self.population = build_population(p, self.rng)
        self.env = Environment(scenario.values, self.population)
        self.decay = self.env.decay
        self.record_events, self.log_shocks = record_events, log_shocks
        self.events: list[tuple[int, int, int, int]] = []
        self.month = 0
        self.ctx: MonthContext = self.env.month(0)
        self.years: list[dict[str, float]] = []
        self.tally: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.programme_costs: dict[str, float] = defaultdict(float)
        self.pending_disaster: Disaster | None = None
        self.village_hit: list[bool] | None = None
        self.disaster: Disaster | None = None
        self.job_candidates: list[Household] = []
        self.crossing: list[Household] = []
        self.version = 0  # bumped when knobs or the calendar year change cached values

        state = initial_state(p, self.population)
        self.initial = initial_record(p, self.population, state)
        rows = zip(*(state[k].tolist() for k in FIELDS), strict=True)
        rings, losses = state["ring"].T.tolist(), state["losses"].T.tolist()
        self.households = [Household(self, i, row, rings[i], losses[i])
                           for i, row in enumerate(rows)]
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

        # Dated policy changes and disasters are Mesa events half-way between two months
        # (step k runs month k - 1 at time k), so they are in force from their month on.
        # Mesa keeps only weak references to event callbacks: hold them here.
        self._dated = [partial(self._apply_change, c.values) for c in scenario.schedule]
        self._dated += [partial(self._set_disaster, d) for d in scenario.disasters]
        months = [c.month for c in scenario.schedule] + [d.month for d in scenario.disasters]
        for callback, month in zip(self._dated, months, strict=True):
            self.schedule_event(callback, at=month + 0.5)
        self.datacollector = mesa.DataCollector(model_reporters={
            "month": "month", "falls": lambda m: m.monthly["falls"],
            "identified": lambda m: m.monthly["identified"],
            "risk_eliminated": lambda m: m.monthly["risk_eliminated"]})
        self.monthly: dict[str, int] = defaultdict(int)

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """One month, phases in the order of docs/ODD.md §3."""
        t = self.month
        self.ctx = self.env.month(t)
        if self.ctx.january:
            self.version += 1
        self.monthly = defaultdict(int)
        self.draws = draw_month(self.rng, t, len(self.households), len(self.industries),
                                len(self.industries))                        # 1
        self.hh_draws = HouseholdDraws(self.draws)
        self._strike_covariate_shocks()                                         # 2
        self.agents_by_type[Industry].do("operate")                             # 3
        self._accrue_programme_costs()
        self.crossing = []
        self.watch: list[list[Household]] = [[] for _ in self.officials]
        self.agents_by_type[Household].shuffle_do("live")                       # 4
        self.job_candidates = []
        self.agents_by_type[Official].do("monitor")                             # 5
        self._place_jobs()
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

    def _place_jobs(self) -> None:
        """Phase 5 end: partners' placements in random priority order; the rest get a
        public-welfare post (公益岗位)."""
        job_u = self.hh_draws.job
        candidates = sorted(self.job_candidates, key=lambda h: (job_u[h.idx], h.idx))
        placed, capacity = 0, self.env.partner_capacity()
        for partner in self._partners:
            placed = partner.place(candidates, placed, capacity)
        for h in candidates[placed:]:
            h.welfare_job = True
        self.tally["partner_jobs"][0] += placed

    def _accrue_programme_costs(self) -> None:
        for mechanism, yearly in self.env.programme_costs().items():
            self.programme_costs[mechanism] += yearly / 12.0

    def year_to_date(self) -> dict[str, float]:
        """This year's metrics so far (in December: the year's row of `years`)."""
        snapshot = self.snapshot(metrics.SNAPSHOT_FIELDS)
        costs = {**self.programme_costs, "training_unit": self.env.p.costs.training}
        return metrics.year_metrics(self.ctx.year, snapshot, dict(self.tally), costs,
                                    self.population.weights,
                                    [ind.status for ind in self.industries], self.ctx)

    def _close_year(self) -> None:
        """December: the year's statistics, then reset the yearly tallies."""
        self.years.append(self.year_to_date())
        self.tally.clear()
        self.programme_costs.clear()
        for h in self.households:
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

    def count(self, name: str, category: int, k: int = 1) -> None:
        """Add to a yearly tally by household category (integers: order-independent)."""
        self.tally[name][category] += k
        if name in _MONTHLY:
            self.monthly[_MONTHLY[name]] += k

    def log(self, t: int, idx: int, event: int, cause: int) -> None:
        """Append to the per-household event log."""
        if event == 0:
            self.monthly["falls"] += 1
        if self.record_events and (self.log_shocks or event not in SHOCK_EVENTS):
            self.events.append((t, idx, event, cause))

    def snapshot(self, fields: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """Household state as columns (all of FIELDS, plus ring and losses, by default)."""
        names = tuple(FIELDS) if fields is None else fields
        get = attrgetter(*names)
        rows = [get(h) for h in self.households]
        columns = zip(*rows, strict=True) if len(names) > 1 else [rows]
        out: dict[str, np.ndarray] = {k: np.array(col, dtype=FIELDS[k])
                                      for k, col in zip(names, columns, strict=True)}
        if fields is None:
            out["ring"] = np.array([h.ring for h in self.households]).T.copy()
            out["losses"] = np.array([h.losses for h in self.households]).T.copy()
        return out

    def event_table(self) -> np.ndarray:
        """Events sorted by (month, household, event): independent of activation order."""
        return np.array(sorted(self.events), dtype=np.int32).reshape(-1, 4)


_MONTHLY = {"monitoring_inflow": "identified", "risk_eliminated": "risk_eliminated"}
