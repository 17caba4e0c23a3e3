"""Live charts of the page, as ECharts options (plain dicts built from the recorders).

ECharts draws in the browser from a small JSON description, so a chart update costs the
server a few dictionaries, not a rendered image: the play loop stays fast (matplotlib PNGs cost
~50 ms each per frame here; altair needs vega files the offline asset bundle lacks). The time
axis always spans the whole horizon, so curves grow from left to right as the months pass.

In compare mode the first county is drawn solid, the second dashed (lines) or lighter (bars);
series of both share their names, so one legend entry toggles both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from simulation.model.calendar import START_YEAR, month_label
from simulation.model.codes import CAUSES
from simulation.model.params import MECHANISMS

if TYPE_CHECKING:
    from simulation.teaching.lesson import Run

CATEGORY_COLOURS: Final = {"formerly poor": "#2171b5", "marginal": "#e6a100",
                           "ordinary": "#7f7f7f"}
HARDSHIP_NAME: Final = "all, net of rigid costs"
HARDSHIP_COLOUR: Final = "#8c6bb1"
CAUSE_COLOURS: Final = ("#d7301f", "#8c6bb1", "#2171b5", "#e6550d", "#31a354", "#fdae6b",
                        "#636363", "#c994c7", "#bdbdbd")
MECHANISM_COLOURS: Final = ("#3182bd", "#e6550d", "#31a354", "#756bb1")
MECHANISM_NAMES: Final = {"responsibility": "responsibility", "social_security": "social security",
                          "industry": "industry", "motivation": "motivation"}
_BASE: Final = {"animation": False, "textStyle": {"fontFamily": "Roboto, sans-serif"}}


def cause_label(cause: str) -> str:
    return cause.replace("_", " ")


def month_date(t: int) -> str:
    """ECharts date of month `t` (0 = January 2021)."""
    return f"{month_label(t)}-01"


def timed(values: Sequence[float] | Any) -> list[list[Any]]:
    """[[date, value], ...] for consecutive months from January 2021."""
    return [[month_date(t), v] for t, v in enumerate(list(values))]


def _years(horizon: int) -> list[str]:
    return [str(START_YEAR + y) for y in range((horizon + 11) // 12)]


def _title(text: str, runs: Sequence[Run]) -> dict[str, Any]:
    sub = "" if len(runs) < 2 else f"solid / full: {runs[0].label}   dashed / light: " \
                                   f"{runs[1].label}"
    return {"text": text, "subtext": sub, "left": 4, "top": 0,
            "textStyle": {"fontSize": 14}, "subtextStyle": {"fontSize": 11}}


def time_axis(horizon: int) -> dict[str, Any]:
    """The whole horizon, labelled by year."""
    return {"type": "time", "min": month_date(0), "max": month_date(horizon),
            "axisLabel": {"formatter": "{yyyy}", "hideOverlap": True},
            "splitLine": {"show": False}}


def _grid(runs: Sequence[Run], legend_rows: int = 1) -> dict[str, Any]:
    """Room for the title, the comparison subtitle and `legend_rows` rows of legend."""
    top = (42 if len(runs) > 1 else 24) + 20 * legend_rows + 18
    return {"left": 48, "right": 16, "top": top, "bottom": 24}


def _legend(names: Sequence[str], runs: Sequence[Run]) -> dict[str, Any]:
    return {"data": list(names), "top": 42 if len(runs) > 1 else 24, "left": 4,
            "itemWidth": 14, "textStyle": {"fontSize": 11}}


def _markers(run: Run) -> dict[str, Any]:
    """Vertical lines at the scenario's dated changes and disasters and the sliders' changes,
    in time order."""
    marks = []
    planned: dict[int, dict[str, float]] = {}  # one line a date: what is in force after it
    for change in run.scenario.schedule:  # (a date's entries in the order they apply)
        planned.setdefault(change.month, {}).update(change.values)
    for month, values in planned.items():
        keys = ", ".join(f"{k.split('.', 1)[1].replace('_', ' ')} → {v:g}"
                         for k, v in values.items())
        marks.append((month, f"policy: {keys}"))
    for d in run.scenario.disasters:
        marks.append((d.month, f"disaster: {d.village_share:.0%} of villages"))
    for c in run.changes:
        if c.live:
            marks.append((c.month, f"{c.key.split('.', 1)[1].replace('_', ' ')} "
                                   f"{c.old:g} → {c.new:g}"))
    # (a change before the first month is part of the set-up, not an event on the time line;
    # dated changes ahead, such as the baseline's own in 2026, are marked from the start)
    data = [{"xAxis": month_date(m), "label": {"formatter": text, "position": "insideEndTop",
                                                "fontSize": 10}}
            for m, text in sorted(marks, key=lambda mark: mark[0]) if 0 < m < run.horizon]
    return {"symbol": "none", "silent": True, "data": data,
            "lineStyle": {"color": "#555", "type": "dotted"}}


def below_line_option(runs: Sequence[Run]) -> dict[str, Any]:
    """Households on the map below the line, by category, month by month."""
    horizon = max(r.horizon for r in runs)
    series = []
    for i, run in enumerate(runs):
        rec = run.recorder
        for k, (name, colour) in enumerate(CATEGORY_COLOURS.items()):
            key = ("below_formerly_poor", "below_marginal", "below_ordinary")[k]
            s: dict[str, Any] = {
                "name": name, "type": "line", "showSymbol": False,
                "data": timed(rec.series[key][:rec.t].tolist()), "itemStyle": {"color": colour},
                "lineStyle": {"width": 2, "type": "solid" if i == 0 else "dashed"}}
            if i == 0 and k == 0:
                s["markLine"] = _markers(run)
            series.append(s)
        series.append({
            "name": HARDSHIP_NAME, "type": "line", "showSymbol": False,
            "data": timed(rec.series["below_hardship"][:rec.t].tolist()),
            "itemStyle": {"color": HARDSHIP_COLOUR},
            "lineStyle": {"width": 1.5, "type": "solid" if i == 0 else "dashed"}})
    return {**_BASE, "title": _title("Households below the line now (dots on the map)",
                                     runs),
            "tooltip": {"trigger": "axis"},
            "legend": _legend([*CATEGORY_COLOURS, HARDSHIP_NAME], runs),
            "grid": _grid(runs), "xAxis": time_axis(horizon),
            "yAxis": {"type": "value", "minInterval": 1},
            "series": series}


def monitoring_option(runs: Sequence[Run]) -> dict[str, Any]:
    """Monitored stock (identified or assisted) with monthly inflow and outflow."""
    horizon = max(r.horizon for r in runs)
    series: list[dict[str, Any]] = []
    for i, run in enumerate(runs):
        rec = run.recorder
        stock: dict[str, Any] = {
            "name": "monitored now", "type": "line", "showSymbol": False,
            "data": timed(rec.series["monitored"][:rec.t].tolist()),
            "itemStyle": {"color": "#f08a24"},
            "lineStyle": {"width": 2, "type": "solid" if i == 0 else "dashed"}}
        if i == 0:
            stock["markLine"] = _markers(run)
        series.append(stock)
        opacity = 1.0 if i == 0 else 0.45
        series.append({"name": "identified this month (inflow)", "type": "bar", "stack": f"f{i}",
                       "data": timed(rec.series["inflow"][:rec.t].tolist()), "barMaxWidth": 6,
                       "itemStyle": {"color": "#f2c230", "opacity": opacity}})
        series.append({"name": "risk eliminated this month (outflow)", "type": "bar",
                       "stack": f"f{i}",
                       "data": timed((-rec.series["outflow"][:rec.t]).tolist()),
                       "barMaxWidth": 6,
                       "itemStyle": {"color": "#31a354", "opacity": opacity}})
    return {**_BASE,
            "title": _title("Monitoring: households monitored, inflow (+), outflow (−)", runs),
            "tooltip": {"trigger": "axis"},
            "legend": _legend(["monitored now", "identified this month (inflow)",
                               "risk eliminated this month (outflow)"], runs),
            "grid": _grid(runs, legend_rows=2), "xAxis": time_axis(horizon),
            "yAxis": {"type": "value", "minInterval": 1},
            "series": series}


def causes_option(runs: Sequence[Run]) -> dict[str, Any]:
    """Households that fell below the line each year, stacked by cause."""
    horizon = max(r.horizon for r in runs)
    series = []
    for i, run in enumerate(runs):
        rec = run.recorder
        years = (rec.t + 11) // 12
        for k, cause in enumerate(CAUSES):
            series.append({
                "name": cause_label(cause), "type": "bar", "stack": run.label + str(i),
                "data": rec.falls_by_cause[:years, k].tolist(),
                "itemStyle": {"color": CAUSE_COLOURS[k % len(CAUSE_COLOURS)],
                              "opacity": 1.0 if i == 0 else 0.45}})
    return {**_BASE,
            "title": _title("Why households fell below the line (households per year)", runs),
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "legend": {**_legend([cause_label(c) for c in CAUSES], runs), "right": 4},
            "grid": _grid(runs, legend_rows=2),
            "xAxis": {"type": "category", "data": _years(horizon)},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": series}


def cost_option(runs: Sequence[Run]) -> dict[str, Any]:
    """Fiscal cost of the four mechanisms per year (county totals; this year so far)."""
    horizon = max(r.horizon for r in runs)
    series = []
    for i, run in enumerate(runs):
        rows = yearly_rows(run)
        for k, mechanism in enumerate(MECHANISMS):
            series.append({
                "name": MECHANISM_NAMES.get(mechanism, mechanism), "type": "bar",
                "stack": run.label + str(i),
                "data": [round(r.get(f"fiscal_cost_{mechanism}", 0.0) / 1e6, 2) for r in rows],
                "itemStyle": {"color": MECHANISM_COLOURS[k % len(MECHANISM_COLOURS)],
                              "opacity": 1.0 if i == 0 else 0.45}})
    return {**_BASE, "title": _title("Fiscal cost by mechanism (county, million yuan per year; "
                                     "this year so far)", runs),
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "legend": _legend([MECHANISM_NAMES.get(m, m) for m in MECHANISMS], runs),
            "grid": _grid(runs), "xAxis": {"type": "category", "data": _years(horizon)},
            "yAxis": {"type": "value"}, "series": series}


def yearly_rows(run: Run) -> list[dict[str, float]]:
    """The run's closed years plus, mid-year, the year so far."""
    rows = list(run.model.years)
    if run.recorder.t % 12:
        rows.append(run.recorder.ytd)
    return rows
