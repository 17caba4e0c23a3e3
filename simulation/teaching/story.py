"""A household's story: who it is, what happened to it month by month, and its income chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from simulation.model import rules
from simulation.model.calendar import month_label
from simulation.model.codes import (
    CATEGORIES,
    CAUSES,
    CHANNELS,
    EVENTS,
    FORMERLY_POOR,
    MONITORING_STATES,
)
from simulation.teaching.charts import month_date, time_axis, timed
from simulation.teaching.recorder import SOURCES
from simulation.teaching.status import STATUSES, SUPPORT_FLAGS, SUPPORT_TEXT

if TYPE_CHECKING:
    from simulation.teaching.lesson import Run

CATEGORY_TEXT: Final = {"formerly_poor": "formerly poor (脱贫户)", "marginal": "marginal (边缘户)",
                        "ordinary": "ordinary"}
CHANNEL_TEXT: Final = {"self_report": "self-report (the household applied)",
                       "cadre_screening": "cadre screening (a visit by the village's officials)",
                       "data_warning": "a department data warning (hospital, civil affairs...)",
                       "recheck": "a follow-up re-check"}
SHOCK_TEXT: Final = {"illness": "hospitalised (illness)", "accident": "a serious accident",
                     "disability": "a worker became disabled",
                     "job_loss": "a migrant worker lost the job",
                     "disaster": "a natural disaster hit the village",
                     "school_entry": "a child entered high school or college (fees)"}
KIND_COLOURS: Final = {"shock": "#8c6bb1", "fall": "#d7301f", "rise": "#2171b5",
                       "identified": "#c79a00", "assisted": "#f08a24", "eliminated": "#31a354",
                       "support": "#555555"}
SOURCE_COLOURS: Final = ("#6baed6", "#74c476", "#9e9ac8", "#fdae6b", "#d7301f")
SOURCE_TEXT: Final = ("wages", "farm / business", "industry project", "transfers",
                      "rigid costs")
INCOME_TEXT: Final = "income per person (12 months)"


@dataclass(frozen=True)
class Entry:
    """One line of a household's timeline."""

    month: int
    kind: str
    text: str

    @property
    def when(self) -> str:
        return month_label(self.month)


def _cause(code: int) -> str:
    return CAUSES[code].replace("_", " ") if 0 <= code < len(CAUSES) else "unknown"


def _measures(cause: int, workers: int) -> str:
    dibao, job, production, education, temporary = rules.matched_measures(cause, workers)
    names = [name for flag, name in ((temporary, "temporary aid (临时救助)"),
                                     (dibao, "低保 enrolment"),
                                     (job, "a job (partner placement or 公益岗位)"),
                                     (production, "an industry award grant (产业奖补)"),
                                     (education, "education aid")) if flag]
    return ", ".join(names) or "none matched"


def timeline(run: Run, idx: int) -> list[Entry]:
    """Everything recorded about household `idx`, in order (events and support spans)."""
    rec = run.recorder
    h = run.model.households[idx]
    formerly_poor = h.category == FORMERLY_POOR
    follow_up = int(run.value("social_security.follow_up_months"))
    entries: list[Entry] = []
    falls = 0
    for month, event, cause, channel in sorted(rec.events.get(idx, [])):
        name = EVENTS[event]
        if name in SHOCK_TEXT:
            entries.append(Entry(month, "shock", SHOCK_TEXT[name]))
        elif name == "fall":
            what = "a return to poverty" if formerly_poor else "newly poor"
            again = " (again)" if falls else ""
            falls += 1
            entries.append(Entry(month, "fall", f"fell below the line: {what}{again} — cause: "
                                                f"{_cause(cause)}"))
        elif name == "dip":
            entries.append(Entry(month, "fall", "dipped below the line again (same spell)"))
        elif name == "rise":
            entries.append(Entry(month, "rise", "rose above the line"))
        elif name == "identified":
            how = CHANNEL_TEXT.get(CHANNELS[channel], CHANNELS[channel]) if channel else "?"
            entries.append(Entry(month, "identified", f"identified for monitoring through {how}"
                                                      f" — risk: {_cause(cause)}"))
        elif name == "assisted":
            entries.append(Entry(month, "assisted", "assistance started, matched to "
                                                    f"{_cause(cause)}: "
                                                    f"{_measures(cause, h.workers)}"))
        elif name == "risk_eliminated":
            entries.append(Entry(month, "eliminated", "risk eliminated (verified stable); "
                                                      f"follow-up support for {follow_up} "
                                                      "months"))
        elif name == "rolled_back":
            entries.append(Entry(month, "identified", "rolled back into monitoring"))
    entries += support_spans(rec.support[:rec.t, idx])
    return sorted(entries, key=lambda e: (e.month, e.kind != "support"))


def support_spans(bits: np.ndarray) -> list[Entry]:
    """Start and end of each assistance measure from the monthly bitmask."""
    out = []
    for k, flag in enumerate(SUPPORT_FLAGS):
        on = ((bits >> k) & 1).astype(bool)
        changes = np.flatnonzero(np.diff(np.concatenate(([False], on)).astype(np.int8)))
        for month in changes:
            started = bool(on[month])
            out.append(Entry(int(month), "support", f"{SUPPORT_TEXT[flag]} "
                                                    f"{'starts' if started else 'ends'}"))
    return out


def count(n: int, one: str, many: str | None = None) -> str:
    """'1 child', '3 children'."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def facts(run: Run, idx: int) -> dict[str, str]:
    """Who the household is and where it stands now (label -> text)."""
    h = run.model.households[idx]
    rec = run.recorder
    people = [count(h.members, "member"), f"{h.workers} able to work"]
    people += [count(n, one, many) for n, one, many in (
        (h.migrants, "migrant worker", "migrant workers"), (h.elderly, "elderly", "elderly"),
        (h.children, "child", "children"), (h.students, "student", "students"),
        (h.disabled, "disabled", "disabled")) if n]
    if h.chronic:
        people.append("a chronic patient")
    status = STATUSES[int(run.status_now()[idx])][1]
    line = float(rec.line[rec.t - 1]) if rec.t else float(run.model.ctx.line)
    measures = [SUPPORT_TEXT[f] for f in SUPPORT_FLAGS if getattr(h, f)]
    out = {
        "household": f"#{idx} in village {h.village + 1}",
        "category": CATEGORY_TEXT.get(CATEGORIES[h.category], CATEGORIES[h.category]),
        "people": ", ".join(people),
        "now": status,
        "income": f"{h.pc12:,.0f} yuan per person over the last 12 months "
                  f"(line {line:,.0f})",
        "monitoring": MONITORING_STATES[h.state].replace("_", " "),
        "help now": ", ".join(measures) or "none",
    }
    if h.channel:
        out["identified by"] = CHANNEL_TEXT.get(CHANNELS[h.channel], CHANNELS[h.channel])
    return out


def summary(run: Run, idx: int) -> dict[str, int]:
    """Counts for comparing the same household in two counties."""
    events = [EVENTS[e] for _, e, _, _ in run.recorder.events.get(idx, [])]
    rec = run.recorder
    below = rec.status[:rec.t, idx] >= 4
    return {"falls below the line": events.count("fall"),
            "months below the line": int(below.sum()),
            "times identified": events.count("identified"),
            "shocks": sum(e in SHOCK_TEXT for e in events)}


def story_option(run: Run, idx: int) -> dict[str, Any]:
    """Two panels on one time axis: above, the 12-month per-capita income against the line
    (what decides poverty); below, this month's income by source (stacked) and rigid costs
    (below zero), yuan per household-month. Dotted lines mark shocks, falls, identification."""
    rec = run.recorder
    t = rec.t
    income = rec.income[:t, idx]
    marks = {"symbol": "none", "silent": True, "data": [
        {"xAxis": month_date(e.month), "lineStyle": {"color": KIND_COLOURS[e.kind]},
         "label": {"show": False}} for e in timeline(run, idx)
        if e.kind in ("shock", "fall", "identified")]}
    series: list[dict[str, Any]] = [
        {"name": INCOME_TEXT, "type": "line", "showSymbol": False, "itemStyle": {"color": "#111"},
         "lineStyle": {"width": 2}, "data": timed(np.round(rec.pc12[:t, idx], 0).tolist()),
         "markLine": marks},
        {"name": "monitoring line", "type": "line", "showSymbol": False,
         "itemStyle": {"color": "#d7301f"}, "lineStyle": {"width": 1.5, "type": "dashed"},
         "data": timed(np.round(rec.line[:t], 0).tolist())},
    ]
    for k, _source in enumerate(SOURCES[:-1]):
        series.append({"name": SOURCE_TEXT[k], "type": "line", "stack": "income",
                       "xAxisIndex": 1, "yAxisIndex": 1, "areaStyle": {"opacity": 0.85},
                       "showSymbol": False, "lineStyle": {"width": 0},
                       "itemStyle": {"color": SOURCE_COLOURS[k]},
                       "data": timed(np.round(income[:, k], 0).tolist())})
    series.append({"name": SOURCE_TEXT[-1], "type": "bar", "barMaxWidth": 5, "xAxisIndex": 1,
                   "yAxisIndex": 1, "itemStyle": {"color": SOURCE_COLOURS[-1]},
                   "data": timed(np.round(-income[:, -1], 0).tolist()), "markLine": marks})
    axis = time_axis(run.horizon)
    small = {"fontSize": 11}
    return {"animation": False,
            "title": [{"text": f"Household #{idx}", "left": 4, "textStyle": {"fontSize": 14}},
                      {"text": "income per person over the last 12 months (yuan/yr)",
                       "left": 50, "top": 24, "textStyle": small},
                      {"text": "this month: income by source, costs below 0 (yuan)",
                       "left": 50, "top": 156, "textStyle": small}],
            "tooltip": {"trigger": "axis"},
            "axisPointer": {"link": [{"xAxisIndex": "all"}]},
            "legend": {"bottom": 0, "left": 4, "itemWidth": 12, "itemGap": 6,
                       "textStyle": small,
                       "data": [INCOME_TEXT, "monitoring line", *SOURCE_TEXT]},
            "grid": [{"left": 56, "right": 12, "top": 44, "height": 96},
                     {"left": 56, "right": 12, "top": 176, "height": 110}],
            "xAxis": [{**axis, "gridIndex": 0, "axisLabel": {"show": False}},
                      {**axis, "gridIndex": 1}],
            "yAxis": [{"type": "value", "gridIndex": 0, "splitNumber": 3},
                      {"type": "value", "gridIndex": 1, "splitNumber": 3}],
            "series": series}
