"""ReplicateBatch: several replicates of one scenario in one array run, with a leading run
dimension; each run's results are exactly those of running it alone.

A small run spends much of its time on a month's fixed costs, not on its households: the
month's context, and the calls into the compiled loops (each call types its arguments and
unboxes the knobs). Replicates of one scenario share everything but their random numbers —
their county has the same size, villages and weights, and its environment (lines, indices,
knobs in force) moves the same way month by month — so a batch computes the month's context
once and runs the household, monitoring and settling loops of all its runs in one call each
(kernels.households_live_batch, monitor_batch, settle_batch) over arrays whose first index
is the run. Each run keeps its own generator (its seed), population, industries, event log
and yearly metrics: its model is an ordinary ArrayModel whose arrays are rows of the batch's.

The phases are ArrayModel.step's, in the same order (docs/ODD.md §3); tests/test_batch.py
holds every run of a batch equal to its run alone (yearly series, events, final state).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulation.model import kernels
from simulation.model.arrays_engine import ArrayModel
from simulation.model.compiled import record
from simulation.model.scenario import Scenario


class BatchMismatch(ValueError):
    """The runs cannot share a batch (their counties differ in size, villages or weights)."""


def _stack(rows: Sequence[np.ndarray]) -> np.ndarray:
    return np.ascontiguousarray(np.stack(rows))


class ReplicateBatch:
    """Runs of `scenario` on `seeds`, stepped together.

    Args:
        scenario: resolved scenario.
        seeds: one run per seed (the run's generator, as ArrayModel(scenario, rng=seed)).
        record_events, log_shocks: as ArrayModel.
    """

    def __init__(self, scenario: Scenario, seeds: Sequence[int], *,
                 record_events: bool = True, log_shocks: bool = False) -> None:
        self.models = [ArrayModel(scenario, rng=seed, record_events=record_events,
                                  log_shocks=log_shocks) for seed in seeds]
        first = self.models[0]
        for m in self.models[1:]:
            if (m.n, m.n_villages, m.population.group_weights) != (
                    first.n, first.n_villages, first.population.group_weights) \
                    or m.env.values != first.env.values:
                raise BatchMismatch("replicates of a batch need the same county size, villages "
                                    "and weights")
        # one environment for all: it depends on the knobs and the county's weights only
        self.env = first.env
        for m in self.models:
            m.env = self.env
        self.month = 0
        self._share_arrays()

    def _share_arrays(self) -> None:
        """Stack the runs' per-household and per-village arrays and make each model's arrays
        views of its row, so that the batch loops and the models' own phases see the same
        numbers."""
        ms = self.models
        self.s = _stack([m.s for m in ms])
        self.pp = _stack([m.pp for m in ms])
        self.watch = _stack([m.watch for m in ms])
        self.crossing = _stack([m.crossing for m in ms])
        self.candidates = _stack([m.candidates for m in ms])
        self.tally = _stack([m.tally for m in ms])
        self.n_cand = np.zeros(len(ms), np.int64)
        keep = ms[0].log.keep
        self.log = kernels.EventLog(_stack([m.log.data for m in ms]),
                                    _stack([m.log.n for m in ms]), keep)
        self.vil = kernels.Villages(*(_stack([getattr(m.vil, f) for m in ms])
                                      for f in kernels.Villages._fields))
        n = ms[0].n
        self.draws = kernels.HouseholdDraws(*(np.zeros((len(ms), n))
                                              for _ in kernels.HouseholdDraws._fields))
        self.hit_any = np.zeros(len(ms), bool)
        self.asset_loss = np.zeros(len(ms))
        self.production_loss = np.zeros(len(ms))
        self.disaster_months = np.zeros(len(ms), np.int64)
        for r, m in enumerate(ms):
            m.s, m.pp, m.watch, m.crossing = self.s[r], self.pp[r], self.watch[r], \
                self.crossing[r]
            m.candidates, m.tally = self.candidates[r], self.tally[r]
            m.log = kernels.EventLog(self.log.data[r], self.log.n[r], keep)
            m.vil = kernels.Villages(*(getattr(self.vil, f)[r]
                                       for f in kernels.Villages._fields))
        self._rows = [kernels.HouseholdDraws(*(a[r] for a in self.draws))
                      for r in range(len(ms))]

    def step(self) -> None:
        """One month of every run: ArrayModel.step's phases, the loops for all runs at once."""
        ms = self.models
        for m in ms:
            m.dated_events()
        c = self.env.month(self.month)
        rc = record(c)
        version = None
        for r, m in enumerate(ms):                                                         # 1
            m.open_month(c, rc, self._rows[r])
            version = m.version if version is None else version
            if m.version != version:  # every run changes its knobs on the same dates
                raise RuntimeError("the runs of a batch diverged in their knob changes")
            hit_any, dz = m.industry_and_shocks()                                         # 2-3
            self.hit_any[r] = hit_any
            self.asset_loss[r], self.production_loss[r], self.disaster_months[r] = dz
        kernels.households_live_batch(self.s, self.pp, rc, self.log, ms[0].decay, self.vil,  # 4
                                      self.hit_any, self.asset_loss, self.production_loss,
                                      self.disaster_months, self.draws, version, self.watch,
                                      self.crossing)
        for m in ms:
            m.screening_chances()
        kernels.monitor_batch(self.s, rc, self.log, ms[0].decay, self.vil, self.draws,      # 5
                              self.watch, self.tally, self.candidates, self.n_cand)
        for r, m in enumerate(ms):
            m.place_jobs(rc, m.draws, int(self.n_cand[r]))
        kernels.settle_batch(self.s, rc, self.log, ms[0].decay, self.crossing)              # 6
        for m in ms:
            m.close_month()
        self.month += 1

    def run(self, months: int | None = None) -> None:
        for _ in range(self.models[0].spec.years * 12 if months is None else months):
            self.step()
