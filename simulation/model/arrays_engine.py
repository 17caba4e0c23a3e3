"""ArrayModel: the array engine — the same model as `PovertyModel` in compiled loops.

Households are columns of numpy arrays (state.Columns), their members (n x K) person columns
(state.People); each monthly phase runs the agents engine's verbs household by household in a
numba-compiled loop (simulation/model/kernels.py) that calls the same rule functions, in the
same order, on the same per-month draws (simulation/model/draws.py). Given a scenario and a
seed the two engines produce bit-identical yearly series, events and final household state
(tests/test_engines.py proves it). The first run on a machine compiles the loops (numba
caches them on disk); later runs load them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simulation.model import kernels, metrics
from simulation.model.codes import K
from simulation.model.compiled import record
from simulation.model.context import Environment, MonthContext
from simulation.model.draws import MonthDraws, draw_month
from simulation.model.microdata import initial_population
from simulation.model.params import as_namespace
from simulation.model.scenario import Disaster, Scenario, validate_value
from simulation.model.state import FIELDS, PERSON_FIELDS, YEARLY, initial_record, initial_state


class ArrayModel:
    """M County under one scenario on arrays; same interface as PovertyModel for runs.

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
        reference = scenario.reference_values()
        p = as_namespace(reference)
        self.population = initial_population(p, self.rng, scenario.population_file)
        self.env = Environment(reference, self.population)
        self.decay = np.asarray(self.env.decay)
        self.record_events, self.log_shocks = record_events, log_shocks
        self._events: list[np.ndarray] = []
        self.month = 0
        self.ctx: MonthContext = self.env.month(0)
        self.years: list[dict[str, float]] = []
        self.tally = np.zeros((len(kernels.TALLY), len(self.population.group_weights)),
                              np.int64)
        self.programme_costs: dict[str, float] = {}
        state, people = initial_state(p, self.population)
        self.initial = initial_record(p, self.population, state)
        self.s = kernels.household_records(state)
        self.pp = kernels.person_records(people)
        self.n = self.population.n
        self.version = 0
        self.watch = np.zeros(self.n, bool)
        self._births = np.zeros(K)  # scratch of the demography loop (kernels allocate nothing)
        self.crossing = np.zeros(self.n, bool)
        self._no_draws = np.zeros(self.n)  # read-only stand-in for draws outside March
        self.candidates = np.zeros(self.n, np.int64)
        capacity = max(1024, (12 if log_shocks else 6) * self.n)
        self.log = kernels.new_log(capacity, record_events, log_shocks)

        v = self.population.villages
        self.n_villages = self.population.n_villages
        self.sector = v["sector"].astype(np.int64)
        self.reserve = v["reserve"].astype(np.float64)
        self.status = np.zeros(self.n_villages, np.int64)
        self.key = v["key"]
        self.duty_factor = v["duty_factor"].tolist()
        self._partner_order = v["partner_order"].tolist()
        self.vil = kernels.Villages(
            hit=np.zeros(self.n_villages, bool), dividend_paid=np.zeros(self.n_villages),
            dividend_drop=np.zeros(self.n_villages), failed_now=np.zeros(self.n_villages, bool),
            partner=np.zeros(self.n_villages, bool), p_screen=np.zeros(self.n_villages))
        self.pools: list[float] = []
        self._sync_partners()
        self._screen_version = -1
        self.restructured = 0
        self._changes: dict[int, list[Mapping[str, float]]] = {}
        self._add_change(scenario.policy_month, scenario.policy_changes())
        for change in scenario.schedule:
            self._add_change(change.month, change.values)
        self._disasters = {d.month: d for d in scenario.disasters}
        self.pending_disaster: Disaster | None = None
        self.disaster: Disaster | None = None

    def fork(self, scenario: Scenario) -> ArrayModel:
        """A copy of this model, now at its current month, that goes on under `scenario`: the
        scenario's dated changes and disasters from this month on replace this one's. Run
        to the policy date of a scenario that shares `scenario`'s history (history_key),
        the copy gives exactly the run `scenario` alone would give on the same seed, without
        simulating the history again."""
        import copy

        other = copy.deepcopy(self)
        other.spec = scenario
        other._changes = {}
        if scenario.policy_month >= self.month:
            other._add_change(scenario.policy_month, scenario.policy_changes())
        for change in scenario.schedule:
            if change.month >= self.month:
                other._add_change(change.month, change.values)
        other._disasters = {d.month: d for d in scenario.disasters if d.month >= self.month}
        return other

    def _add_change(self, month: int, values: Mapping[str, float]) -> None:
        self._changes.setdefault(month, []).append(values)

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """One month, phases in the order of docs/ODD.md §3 (as PovertyModel.step; a batch of
        replicates runs the same phases, simulation/model/batch.py)."""
        self.dated_events()
        rc = self.open_month(self.env.month(self.month))                                  # 1
        hit_any, dz = self.industry_and_shocks()                                          # 2-3
        kernels.households_live(self.s, self.pp, rc, self.log, self.decay, self.vil,       # 4
                                hit_any, dz, self.household_draws, self.version, self.watch,
                                self.crossing)
        self.screening_chances()
        n_cand = kernels.monitor(self.s, rc, self.log, self.decay, self.vil,               # 5
                                 self.household_draws, self.watch, self.tally, self.candidates)
        self.place_jobs(rc, self.draws, n_cand)
        kernels.settle(self.s, rc, self.log, self.decay, self.crossing)                     # 6
        self.close_month()

    # The phases step calls around the loops; public because a batch of replicates
    # (simulation/model/batch.py) steps its models through them, its loops called once for all.
    def dated_events(self) -> None:
        """This month's scheduled knob changes and disaster (the agents engine: Mesa events
        before the step)."""
        t = self.month
        for values in self._changes.get(t, ()):
            self._apply_change(values)
        if t in self._disasters:
            self.pending_disaster = self._disasters[t]

    def open_month(self, c: MonthContext, rc: Any = None,
                   into: kernels.HouseholdDraws | None = None) -> Any:
        """Phase 1 (the month's draws, into `into`'s arrays if given) and 1b (January:
        demography) under context `c`; returns `c` as the loops' record (`rc`, if the caller
        made it already)."""
        t = self.month
        self.ctx = c
        if c.january:
            self.version += 1
        rc = self.rc = record(c) if rc is None else rc
        self.log.n[0] = 0
        d = self.draws = draw_month(self.rng, t, self.n, self.n_villages, self.n_villages,
                                    into)
        self.household_draws = _household_draws(d, self._no_draws)
        if c.january and t > 0 and c.p.demography.enabled:
            kernels.demography(self.s, self.pp, rc, self.log, self.decay, d.death, d.change,
                               d.move, d.birth, self._births)
        return rc

    def industry_and_shocks(self) -> tuple[bool, Any]:
        """Phases 2 (covariate shocks) and 3 (industries), and their programme costs."""
        d = self.draws
        hit_any, dz = self._strike_covariate_shocks(d)
        self.restructured = kernels.operate(self.rc.p, self.ctx.trend, self.status,
                                            self.reserve, self.sector, d.sector, d.project_z,
                                            d.project_u, self.vil)
        self._accrue_programme_costs()
        return hit_any, dz

    def close_month(self) -> None:
        """The month's events kept; in December the year closed (metrics, yearly resets)."""
        self._collect_events()
        if self.ctx.december:
            self._close_year(self.ctx)
        self.month += 1

    def run(self, months: int | None = None) -> None:
        for _ in range(self.spec.years * 12 if months is None else months):
            self.step()

    # ------------------------------------------------------------------ model-level phases
    def _strike_covariate_shocks(self, d: MonthDraws) -> tuple[bool, Any]:
        """Phase 2, as PovertyModel._strike_covariate_shocks."""
        disaster = self.disaster = self.env.disaster(self.month, self.pending_disaster,
                                                     d.disaster)
        self.pending_disaster = None
        if disaster is None:
            return False, NO_DISASTER
        self.tally[kernels.T_DISASTERS, 0] += 1
        self.vil.hit[:] = d.village < disaster.village_share
        return True, kernels.DisasterRecord(float(disaster.asset_loss),
                                            float(disaster.production_loss),
                                            int(disaster.months))

    def _accrue_programme_costs(self) -> None:
        for mechanism, yearly in self.env.programme_costs().items():
            self.programme_costs[mechanism] = self.programme_costs.get(mechanism, 0.0) \
                + yearly / 12.0
        if self.restructured:
            self.programme_costs["industry"] += (self.restructured * self.env.restructure_cost()
                                                 * self.ctx.cpi)
            self.tally[kernels.T_RESTRUCTURED, 0] += self.restructured

    def screening_chances(self) -> None:
        if self._screen_version != self.version:
            self.vil.p_screen[:] = [self.env.screening_chance(f, bool(k))
                                    for f, k in zip(self.duty_factor, self.key, strict=True)]
            self._screen_version = self.version

    def place_jobs(self, rc: Any, d: MonthDraws, n_cand: int) -> None:
        """Phase 5 end, as PovertyModel._place_jobs (candidates by their job draw)."""
        candidates = self.candidates[:n_cand]
        order = candidates[np.lexsort((candidates, d.job[candidates]))] if n_cand else candidates
        p = self.ctx.p
        pools = np.asarray(self.pools, np.float64)
        kernels.place_jobs(self.s, self.pp, rc, self.log, order, pools,
                           self.env.partner_capacity(), int(p.responsibility.placement_term),
                           int(p.social_security.public_welfare_term), self.tally)
        self.pools = pools.tolist()

    def _close_year(self, c: MonthContext) -> None:
        costs = {**self.programme_costs, "training_unit": self.env.p.costs.training * c.cpi}
        tally = {name: row.tolist() for name, row in zip(kernels.TALLY, self.tally, strict=True)
                 if row.any()}
        snapshot: dict[str, np.ndarray] = {k: self.s[k].astype(FIELDS[k])
                                           for k in metrics.SNAPSHOT_FIELDS}
        people: dict[str, np.ndarray] = {k: self.pp[k].astype(dtype)
                                         for k, dtype in PERSON_FIELDS.items()}
        self.years.append(metrics.year_metrics(c.year, snapshot, people, tally, costs,
                                               self.population.group_weights, self.status,
                                               c))
        self.tally[:] = 0
        self.programme_costs = {}
        self.s["last_y_income"] = self.s["y_income"]
        for name, value in YEARLY.items():
            self.s[name] = value

    # ------------------------------------------------------------------ bookkeeping
    def apply_policy(self, values: Mapping[str, float], origin: str = "policy change") -> None:
        """As PovertyModel.apply_policy."""
        self._apply_change({k: validate_value(origin, k, v) for k, v in values.items()})

    def _apply_change(self, values: Mapping[str, float]) -> None:
        self.env.apply(values)
        self.version += 1
        if "responsibility.social_participation" in values:
            self._sync_partners()

    def _sync_partners(self) -> None:
        wanted = self.env.partners()
        del self.pools[wanted:]
        self.pools.extend([0.0] * (wanted - len(self.pools)))
        self.vil.partner[:] = False
        for k in range(wanted):
            self.vil.partner[self._partner_order[k % len(self._partner_order)]] = True

    def _collect_events(self) -> None:
        k = int(self.log.n[0])
        if k > self.log.data.shape[0]:
            raise RuntimeError(f"event log overflow ({k} events in month {self.month})")
        if k:
            self._events.append(self.log.data[:k].copy())

    # ------------------------------------------------------------------ results
    def snapshot(self, fields: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        names = tuple(FIELDS) if fields is None else fields
        out: dict[str, np.ndarray] = {k: self.s[k].astype(FIELDS[k]) for k in names}
        if fields is None:
            out["ring"] = np.ascontiguousarray(self.s["ring"].T)
            out["ring_h"] = np.ascontiguousarray(self.s["ring_h"].T)
            out["losses"] = self.s["losses"].copy()
        return out

    def people_snapshot(self) -> dict[str, np.ndarray]:
        return {k: self.pp[k].astype(dtype) for k, dtype in PERSON_FIELDS.items()}

    def event_table(self) -> np.ndarray:
        """Events sorted by (month, household, event, cause), as PovertyModel.event_table."""
        if not self._events:
            return np.zeros((0, 4), np.int32)
        e = np.concatenate(self._events)
        return e[np.lexsort((e[:, 3], e[:, 2], e[:, 1], e[:, 0]))]


NO_DISASTER = kernels.DisasterRecord(0.0, 0.0, 0)


def _household_draws(d: MonthDraws, none: np.ndarray) -> kernels.HouseholdDraws:
    """The month's draws; `none`, zeros, stands in for the draws that exist in March only
    (training take-up, guidance), which the loops read then."""
    return kernels.HouseholdDraws(d.earnings, d.shock, d.severity, d.job, d.report, d.screen,
                                  d.warn, d.process, d.house, d.apply,
                                  none if d.train is None else d.train,
                                  none if d.guide is None else d.guide)


def history_key(scenario: Scenario) -> tuple[object, ...]:
    """What decides a run's months before its policy date: scenarios with equal keys live the
    same history on a seed (the population, the status quo, the dated changes and disasters
    before the policy date), so one run of it can be forked for each (ArrayModel.fork)."""
    before = scenario.policy_month
    return (scenario.population_file, before,
            tuple(sorted(scenario.reference_values().items())),
            tuple((c.month, tuple(sorted(c.values.items()))) for c in scenario.schedule
                  if c.month < before),
            tuple(d for d in scenario.disasters if d.month < before))
