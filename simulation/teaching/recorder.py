"""The page's memory of a run: monthly series for the charts, and each household's history.

The model keeps yearly statistics; a classroom wants to watch months go by and to ask one
household what happened to it. The recorder reads the model once a month, at the moment the
model collects its data (after the month's accounting, before December closes the year and
resets the year-to-date income tallies), and keeps:

- per household and month: income by source, rigid costs, 12-month per-capita income, map
  status and the assistance measures in force (float32/int8 arrays sized for the whole horizon,
  so memory is bounded: 15 years x 1,000 households ~ 5 MB);
- per household: its events (shocks, falls, identification with the channel, assistance);
- per month: households below the line by category, monitored stock, inflow and outflow;
- per year: falls by cause; and the year-to-date metrics of `simulation.model.metrics.year_metrics`,
  so the monitors use exactly the definitions of the yearly results.

Counts here are of simulated (sample) households, the dots on the map; county totals (weighted)
come from the year-to-date metrics.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import mesa
import numpy as np

from simulation.model import metrics
from simulation.model.codes import CAUSES, IDENTIFIED_EVENT
from simulation.teaching.status import SUPPORT_FLAGS, household_status, support_bits

if TYPE_CHECKING:
    from simulation.model.agents_engine import PovertyModel

SOURCES: Final = ("labour", "production", "industry", "transfers", "rigid")
"""Columns of the income history: wages, farm/business, industry linkage (dividend and project
wage), transfers (低保, pensions, subsidies, aid), and rigid costs (medical, schooling...)."""
_YTD_FIELDS: Final = ("y_labour", "y_production", "y_project", "y_transfers", "y_rigid")
_FIELDS: Final = tuple(dict.fromkeys((*metrics.SNAPSHOT_FIELDS, "state", "channel",
                                      *SUPPORT_FLAGS)))
MONTHLY: Final = ("below_formerly_poor", "below_marginal", "below_ordinary", "monitored",
                  "inflow", "outflow", "falls")
"""Monthly series (sample counts)."""


class Recorder:
    """Monthly record of one PovertyModel run (attach with `attach`, before the first step).

    Attributes:
        months: capacity (the scenario's horizon in months); `t` months are recorded so far.
        income: (months, n, len(SOURCES)) yuan per household-month.
        pc12: (months, n) 12-month per-capita net income (yuan/person-yr).
        status: (months, n) map status code (`simulation.teaching.status`).
        support: (months, n) bitmask of assistance measures in force.
        line: (months,) the monitoring line the month's income was compared with.
        series: name -> (months,) int array, see MONTHLY.
        falls_by_cause: (years, len(CAUSES)) households that fell below the line, by cause.
        events: household -> list of (month, event code, cause code, channel code).
        ytd: year-to-date metrics of the latest month (`simulation.model.metrics` names).
    """

    def __init__(self, n_households: int, months: int) -> None:
        self.n, self.months, self.t = n_households, months, 0
        self.income = np.zeros((months, n_households, len(SOURCES)), np.float32)
        self.pc12 = np.zeros((months, n_households), np.float32)
        self.status = np.zeros((months, n_households), np.int8)
        self.support = np.zeros((months, n_households), np.int8)
        self.line = np.zeros(months)
        self.series = {name: np.zeros(months, np.int64) for name in MONTHLY}
        self.falls_by_cause = np.zeros((months // 12 + 1, len(CAUSES)), np.int64)
        self.events: defaultdict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
        self.ytd: dict[str, float] = {}
        self._previous = np.zeros((n_households, len(SOURCES)))
        self._seen = 0

    @classmethod
    def attach(cls, model: PovertyModel) -> Recorder:
        """A recorder for `model`, called by the model's own data collection every month.

        The model collects its data after the month's phase 6 and before December resets the
        year's tallies: the one moment every monthly quantity is complete. We add a reporter to
        (a copy of) its DataCollector rather than changing the model.
        """
        recorder = cls(len(model.households), model.spec.years * 12)
        reporters = dict(model.datacollector.model_reporters)
        # a partial is called with the model (a bound method would be called without it)
        reporters["teaching_page"] = partial(Recorder.capture, recorder)
        model.datacollector = mesa.DataCollector(model_reporters=reporters)
        return recorder

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
        ytd = np.column_stack([cols[f] for f in _YTD_FIELDS])
        # year-to-date tallies restart each January: this month = YTD now - YTD last month
        previous = 0.0 if model.ctx.january else self._previous
        self.income[t] = ytd - previous
        self._previous = ytd
        self.pc12[t] = cols["pc12"]
        self.line[t] = model.ctx.line
        self.status[t] = household_status(cols["category"], cols["state"], cols["below"])
        self.support[t] = support_bits(cols)

        cat, below = cols["category"], cols["below"]
        s = self.series
        for k, name in enumerate(("below_formerly_poor", "below_marginal", "below_ordinary")):
            s[name][t] = int(np.count_nonzero(below & (cat == k)))
        s["monitored"][t] = int(np.count_nonzero((cols["state"] == 1) | (cols["state"] == 2)))
        s["inflow"][t] = int(model.monthly.get("identified", 0))
        s["outflow"][t] = int(model.monthly.get("risk_eliminated", 0))
        s["falls"][t] = int(model.monthly.get("falls", 0))
        fell = cols["fell_this_year"]
        self.falls_by_cause[t // 12] = np.bincount(cols["fall_cause"][fell].astype(np.int64),
                                                   minlength=len(CAUSES))[:len(CAUSES)]

        for month, idx, event, cause in model.events[self._seen:]:
            channel = int(cols["channel"][idx]) if event == IDENTIFIED_EVENT else 0
            self.events[idx].append((month, event, cause, channel))
        self._seen = len(model.events)

        self.ytd = model.year_to_date()
        self.t = t + 1
        return t

    # ------------------------------------------------------------------ reading
    def household(self, idx: int) -> dict[str, Any]:
        """History of one household over the recorded months (copies)."""
        t = self.t
        return {"income": self.income[:t, idx].copy(), "pc12": self.pc12[:t, idx].copy(),
                "status": self.status[:t, idx].copy(), "support": self.support[:t, idx].copy(),
                "line": self.line[:t].copy(), "events": sorted(self.events.get(idx, []))}

    def nbytes(self) -> int:
        """Memory held by the per-household arrays (bytes)."""
        return sum(a.nbytes for a in (self.income, self.pc12, self.status, self.support))
