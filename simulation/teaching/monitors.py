"""The page's monitors (NetLogo's single live numbers): values for one county, as text.

Each monitor shows the count of dots on the map (simulated households) and, below it, the
county total it stands for (sample weights), both from the year-to-date metrics of
`simulation.model.metrics`, so they match the yearly results the CLI writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulation.model.calendar import START_YEAR
from simulation.teaching.charts import yearly_rows
from simulation.teaching.status import below_line

if TYPE_CHECKING:
    from simulation.teaching.lesson import Run

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")


@dataclass(frozen=True)
class Monitor:
    key: str
    label: str
    value: str
    county: str
    help: str


def date_text(months_done: int) -> tuple[str, str]:
    """('March 2023', 'month 27 of the run') for the last month simulated (0: not started)."""
    if months_done <= 0:
        return "January 2021", "not started: press Step or ▶"
    t = months_done - 1
    return f"{MONTH_NAMES[t % 12]} {START_YEAR + t // 12}", f"month {months_done} simulated"


def _n(x: float) -> str:
    return f"{x:,.0f}"


def monitors(run: Run) -> list[Monitor]:
    """The monitors of one county at the last month simulated."""
    rec = run.recorder
    ytd = rec.ytd if rec.t else {}
    rows = yearly_rows(run) if rec.t else []

    def total(name: str) -> float:
        return float(sum(r.get(name, 0.0) for r in rows))

    def now(name: str) -> float:
        return float(ytd.get(name, 0.0))

    weight_fp = run.model.population.category_weights[0]  # the teaching county is synthetic:
    # its formerly poor dots all weigh the same
    return [
        Monitor("returns_year", "Returns this year", _n(now("returned_households_sample")),
                f"≈ {_n(now('returned_households'))} in the county",
                "formerly poor households whose 12-month income fell below the line this year"),
        Monitor("returns_total", "Returns since 2021", _n(total("returned_households_sample")),
                f"≈ {_n(total('returned_households'))} in the county",
                "returns to poverty counted year by year (a household can return in two "
                "years)"),
        Monitor("newly_poor_year", "Newly poor this year",
                _n(now("newly_poor_households_sample")),
                f"≈ {_n(now('newly_poor_households'))} in the county",
                "marginal or ordinary households falling below the line this year"),
        Monitor("hardship_total", "Hardship returns since 2021",
                _n(total("returned_households_hardship") / weight_fp),
                f"≈ {_n(total('returned_households_hardship'))} in the county",
                "formerly poor households whose 12-month income net of rigid costs (medical "
                "bills, school fees) fell below the line, counted year by year, whatever the "
                "official income test says"),
        Monitor("below_now", "Below the line now",
                _n(int(np.count_nonzero(below_line(run.status_now())))),
                f"≈ {_n(now('below_line_households'))} in the county",
                "households whose 12-month per-capita income is below the monitoring line"),
        Monitor("monitored_now", "Monitored now", _n(now("monitored_stock_sample")),
                f"≈ {_n(now('monitored_stock'))} in the county",
                "households identified or assisted under the monitoring mechanism"),
        Monitor("programme_now", "On 低保 / 特困 now",
                _n(int(rec.series["on_programme"][rec.t - 1]) if rec.t else 0),
                f"≈ {_n(now('dibao_households') + now('tekun_households'))} in the county",
                "households receiving the minimum living allowance (低保) or support for "
                "persons in extreme difficulty (特困)"),
        Monitor("cost_year", "Fiscal cost this year", f"{now('fiscal_cost_yuan') / 1e6:,.1f} M",
                "yuan, county, year so far",
                "cost of the four mechanisms this year (programmes, transfers, aid)"),
        Monitor("dot", "One dot", f"≈ {weight_fp:,.0f}",
                "formerly poor households in the county",
                "sample weight: how many real households a formerly poor dot stands for"),
    ]
