"""A household's story: who its members are, what happened to it month by month, and its
income, savings and debt in one chart."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from simulation.model import rules
from simulation.model.calendar import month_label
from simulation.model.codes import (
    CATEGORIES,
    CAUSES,
    CHANNELS_ALL,
    DIBAO,
    EVENTS,
    FORMERLY_POOR,
    JOB_KINDS,
    JOBLESS,
    MALE,
    MONITORING_STATES,
    PENDING,
    TEKUN,
    K,
)
from simulation.model.state import NEVER
from simulation.teaching.charts import month_date, time_axis, timed
from simulation.teaching.people import TIES_NOTE, relations, role_text, someone
from simulation.teaching.recorder import SOURCES, Logged, Member
from simulation.teaching.status import GONE, STATUSES, SUPPORT_FLAGS, SUPPORT_TEXT, below_line

if TYPE_CHECKING:
    from simulation.teaching.lesson import Run

CATEGORY_TEXT: Final = {"formerly_poor": "formerly poor (脱贫户)", "marginal": "marginal (边缘户)",
                        "ordinary": "ordinary"}
CHANNEL_TEXT: Final = {"self_report": "self-report (the household applied)",
                       "cadre_screening": "cadre screening (a visit by the village's officials)",
                       "data_warning": "a department data warning (hospital, civil affairs...)",
                       "recheck": "a follow-up re-check",
                       "low_income_platform": "the low-income population platform"}
SHOCK_TEXT: Final = {"illness": "a member was hospitalised (illness)",
                     "accident": "a serious accident",
                     "disability": "a member became disabled",
                     "job_loss": "a migrant worker lost the job",
                     "disaster": "a natural disaster hit the village",
                     "school_entry": "a child entered senior school or college (fees)"}
JOB_TEXT: Final = {"placement": "a job found by a social partner",
                   "public_welfare_post": "a public-welfare post (公益岗位)",
                   "project_job": "a job in the village's industry project"}
PROGRAMME_NAME: Final = {DIBAO: "低保", TEKUN: "特困 support"}
KIND_COLOURS: Final = {"shock": "#8c6bb1", "fall": "#d7301f", "rise": "#2171b5",
                       "identified": "#c79a00", "assisted": "#f08a24", "eliminated": "#31a354",
                       "support": "#555555", "family": "#795548", "job": "#00897b",
                       "programme": "#2e7d32"}
SOURCE_COLOURS: Final = ("#6baed6", "#74c476", "#9e9ac8", "#fdae6b", "#d7301f")
SOURCE_TEXT: Final = ("wages", "farm / business", "industry project", "transfers",
                      "rigid costs")
INCOME_TEXT: Final = "income per person (12 months)"
HARDSHIP_TEXT: Final = "... net of rigid costs"
MONEY_TEXT: Final = ("savings", "debt")
MONEY_COLOURS: Final = ("#238b45", "#cb181d")
PROGRAMME_SHADE: Final = "rgba(46, 125, 50, 0.12)"


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
    programme, job, production, education, temporary = rules.matched_measures(cause, workers)
    names = [name for flag, name in ((temporary, "temporary aid (临时救助)"),
                                     (programme, "an application for 低保 / 特困"),
                                     (job, "a job for a member (partner placement or 公益岗位)"),
                                     (production, "an industry award grant (产业奖补)"),
                                     (education, "education aid")) if flag]
    return ", ".join(names) or "none matched"


def _yuan(x: float) -> str:
    return f"{x:,.0f} yuan"


def _who(member: Member | None, fallback: str = "a member") -> str:
    """'the son (27)' for the member an event concerns."""
    if member is None:
        return fallback
    return someone(member.relation, member.age, member.sex, in_sentence=True)



def _event_entry(e: Logged, formerly_poor: bool, falls: int, programme: int,
                 workers: int, follow_up: int) -> Entry | None:
    """The timeline line of one logged event (None for events told elsewhere)."""
    name = EVENTS[e.event]
    m = e.month
    if name == "disability":
        return Entry(m, "shock", f"{_who(e.who)} became disabled")
    if name == "job_loss":
        return Entry(m, "shock", f"{_who(e.who, 'a migrant worker')} lost the "
                                 "migrant job")
    if name == "school_entry":
        return Entry(m, "shock", f"{_who(e.who, 'a child')} started senior school "
                                 "or college (fees)")
    if name in SHOCK_TEXT:
        return Entry(m, "shock", SHOCK_TEXT[name])
    if name == "fall":
        what = "a return to poverty" if formerly_poor else "newly poor"
        again = " (again)" if falls else ""
        return Entry(m, "fall", f"fell below the line: {what}{again} — cause: {_cause(e.cause)}")
    if name == "dip":
        return Entry(m, "fall", "dipped below the line again (same spell)")
    if name == "rise":
        return Entry(m, "rise", "rose above the line")
    if name == "fall_hardship":
        return Entry(m, "fall", "income net of rigid costs fell below the line (hardship) — "
                                f"cause: {_cause(e.cause)}")
    if name == "identified":
        channel = CHANNELS_ALL[e.channel] if 0 < e.channel < len(CHANNELS_ALL) else ""
        how = CHANNEL_TEXT.get(channel, channel or "?")
        return Entry(m, "identified", f"identified for monitoring through {how} — risk: "
                                      f"{_cause(e.cause)}")
    if name == "assisted":
        return Entry(m, "assisted", f"assistance started, matched to {_cause(e.cause)}: "
                                    f"{_measures(e.cause, workers)}")
    if name == "risk_eliminated":
        return Entry(m, "eliminated", "risk eliminated (verified stable); follow-up support "
                                      f"for {follow_up} months")
    if name == "rolled_back":
        return Entry(m, "identified", "rolled back into monitoring")
    if name == "death":
        return Entry(m, "family", f"{_who(e.who)} died")
    if name == "birth":
        who = e.who
        baby = ("a baby" if who is None else
                f"a {who.relation}" if who.relation in ("son", "daughter", "grandson",
                                                        "granddaughter")
                else f"a baby {'boy' if who.sex == MALE else 'girl'}")
        return Entry(m, "family", f"{baby} was born")
    if name == "moved_out":
        return Entry(m, "family", f"{_who(e.who)} moved out to set up a household "
                                  "elsewhere")
    if name == "job_start":
        kind = JOB_TEXT.get(JOB_KINDS[e.kind], "an assisted job")
        until = f" until {month_label(e.until)}" if 0 <= e.until < NEVER else ""
        return Entry(m, "job", f"{_who(e.who)} started {kind}{until}")
    if name == "job_end":
        kind = JOB_TEXT.get(JOB_KINDS[e.kind], "a job").removeprefix("a ")
        return Entry(m, "job", f"the {kind} of {_who(e.who)} ended")
    if name in ("dibao_start", "tekun_start"):
        what = "低保" if name == "dibao_start" else "特困 support"
        return Entry(m, "programme", f"enrolled in {what}: {_yuan(e.amount)} a month")
    if name == "dibao_end":
        what = PROGRAMME_NAME.get(programme, "低保")
        return Entry(m, "programme", f"left {what} (own income above the exit line after the "
                                     f"gradual exit): −{_yuan(e.amount)} a month")
    return None


def timeline(run: Run, idx: int) -> list[Entry]:
    """Everything recorded about household `idx`, in order: events (shocks, falls,
    monitoring, family, jobs, 低保/特困) and the spans of applications and education aid."""
    rec = run.recorder
    h = run.model.households[idx]
    formerly_poor = h.category == FORMERLY_POOR
    follow_up = int(run.value("social_security.follow_up_months"))
    entries: list[Entry] = []
    programme = int(run.model.initial["programme"][idx])
    if programme in PROGRAMME_NAME:
        entries.append(Entry(0, "programme", f"on {PROGRAMME_NAME[programme]} since before "
                                             "2021"))
    falls = 0
    started: set[int] = set()
    for e in rec.events.get(idx, []):
        entry = _event_entry(e, formerly_poor, falls, programme, h.workers, follow_up)
        name = EVENTS[e.event]
        if name == "fall":
            falls += 1
        elif name == "dibao_start":
            programme = DIBAO
            started.add(e.month)
        elif name == "tekun_start":
            programme = TEKUN
            started.add(e.month)
        elif name == "dibao_end":
            programme = 0
        if entry is not None:
            entries.append(entry)
    entries += support_spans(rec.support[:rec.t, idx], started)
    return sorted(entries, key=lambda e: (e.month, e.kind != "support"))


def support_spans(bits: np.ndarray, decided: set[int] | None = None) -> list[Entry]:
    """Applications for 低保/特困 and education aid, from the monthly bitmask: when each
    starts and ends (an application that ends in a month with no enrolment was turned
    down). Programmes and jobs are told by their events."""
    out = []
    for flag in ("applied", "edu_aid"):
        k = SUPPORT_FLAGS.index(flag)
        on = ((bits >> k) & 1).astype(bool)
        changes = np.flatnonzero(np.diff(np.concatenate(([False], on)).astype(np.int8)))
        for month in changes.tolist():
            if flag == "edu_aid":
                text = f"{SUPPORT_TEXT[flag]} {'starts' if on[month] else 'ends'}"
            elif on[month]:
                text = "applied for 低保 / 特困"
            elif decided is not None and month in decided:
                continue  # the enrolment says it
            else:
                text = "application for 低保 / 特困 turned down (means test)"
            out.append(Entry(month, "support", text))
    return out


def members(run: Run, idx: int) -> list[str]:
    """The household's members now: 'head, 58, local work', 'son, 27, migrant work
    (jobless since 2027-03)', ... (ties guessed, see simulation.teaching.people)."""
    h = run.model.households[idx]
    rec = run.recorder
    pension_age = int(run.value("demography.pension_age"))
    ties = relations(h.p_age, h.p_sex, h.p_present)
    out = []
    for k in range(K):
        if not h.p_present[k]:
            continue
        age, role = int(h.p_age[k]), int(h.p_role[k])
        since = int(rec.role_since[idx, k])
        what = role_text(role, age, pension_age)
        if role == JOBLESS:
            what = "migrant work (jobless" + (f" since {month_label(since)})" if since >= 0
                                               else ")")
        elif k == h.job_slot:
            what = JOB_TEXT.get(JOB_KINDS[h.job_kind], "an assisted job")
            if since >= 0:
                what += f" since {month_label(since)}"
            if 0 <= h.job_until < NEVER:
                what += f", until {month_label(h.job_until)}"
        extra = [x for x, flag in (("disabled", h.p_disabled[k]),
                                   ("chronically ill", h.p_chronic[k])) if flag]
        parts = [someone(ties.get(k, ""), age, int(h.p_sex[k])), what, *extra]
        out.append(", ".join(p for p in parts if p))
    return out


def _programme_now(run: Run, idx: int) -> str:
    h = run.model.households[idx]
    if h.programme in PROGRAMME_NAME:
        since = ("since before 2021" if h.programme_month < 0
                 else f"since {month_label(h.programme_month)}")
        leaving = (f", leaving after {month_label(h.exit_until)} (gradual exit)"
                   if h.exit_until >= 0 else "")
        return f"{PROGRAMME_NAME[h.programme]} {since}: {_yuan(h.benefit)} a month{leaving}"
    if h.programme == PENDING:
        return f"applied in {month_label(h.programme_month)}, waiting for the decision"
    return "none"


def facts(run: Run, idx: int) -> dict[str, str]:
    """Who the household is and where it stands now (label -> HTML-safe text)."""
    h = run.model.households[idx]
    rec = run.recorder
    line = float(rec.line[rec.t - 1]) if rec.t else float(run.model.ctx.line)
    out = {
        "household": f"#{idx} in village {h.village + 1}",
        "category": CATEGORY_TEXT.get(CATEGORIES[h.category], CATEGORIES[h.category]),
    }
    if not h.alive:
        gone = [e for e in rec.events.get(idx, []) if EVENTS[e.event] in ("death", "moved_out")]
        when = f" in {month_label(gone[-1].month)}" if gone else ""
        out["now"] = f"gone: its last member died or moved away{when}"
        return {k: html.escape(v) for k, v in out.items()}
    out.update({
        "members": "; ".join(members(run, idx)) + (f" ({TIES_NOTE})" if h.members > 1
                                                    else ""),
        "now": STATUSES[int(run.status_now()[idx])][1],
        "income": f"{h.pc12:,.0f} yuan per person over the last 12 months (line {line:,.0f}); "
                  f"{h.pc12_h:,.0f} net of rigid costs",
        "money": f"savings {_yuan(h.savings)}; debt {_yuan(h.debt) if h.debt > 0 else 'none'}",
        "低保 / 特困": _programme_now(run, idx),
        "monitoring": MONITORING_STATES[h.state].replace("_", " "),
    })
    bits = int(rec.support[rec.t - 1, idx]) if rec.t else 0
    help_now = [SUPPORT_TEXT[f] for k, f in enumerate(SUPPORT_FLAGS)
                if bits >> k & 1 and f not in ("applied", "dibao", "tekun")]
    out["help now"] = ", ".join(help_now) or "none"
    if h.channel:
        channel = CHANNELS_ALL[h.channel]
        out["identified by"] = CHANNEL_TEXT.get(channel, channel)
    return {k: html.escape(v) for k, v in out.items()}


def summary(run: Run, idx: int) -> dict[str, str]:
    """Counts for comparing the same household in two counties."""
    rec = run.recorder
    t = rec.t
    events = [EVENTS[e.event] for e in rec.events.get(idx, [])]
    bits = rec.support[:t, idx]
    flag = {f: (bits >> k & 1).astype(bool) for k, f in enumerate(SUPPORT_FLAGS)}
    jobs = flag["placement"] | flag["welfare_post"] | flag["project_job"]
    alive = rec.status[:t, idx] != GONE
    return {"falls below the line": str(events.count("fall")),
            "months below the line": str(int(below_line(rec.status[:t, idx]).sum())),
            "months below, net of rigid costs": str(int(((rec.pc12_h[:t, idx] < rec.line[:t])
                                                         & alive).sum())),
            "times identified": str(events.count("identified")),
            "months on 低保 / 特困": str(int((flag["dibao"] | flag["tekun"]).sum())),
            "months with an assisted job": str(int(jobs.sum())),
            "shocks": str(sum(e in SHOCK_TEXT for e in events)),
            "savings now (yuan)": f"{rec.savings[t - 1, idx]:,.0f}" if t else "",
            "debt now (yuan)": f"{rec.debt[t - 1, idx]:,.0f}" if t else ""}


def _spells(on: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) month of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], on.astype(np.int8), [0]))))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def story_option(run: Run, idx: int) -> dict[str, Any]:
    """Three panels on one time axis: the 12-month per-capita income against the line (what
    decides poverty; shaded while on 低保/特困), with the same net of rigid costs; this
    month's income by source (stacked) and rigid costs (below zero); savings and debt at the
    month's end. Dotted lines mark shocks, falls, identification and family events."""
    rec = run.recorder
    t = rec.t
    income = rec.income[:t, idx]
    marks = {"symbol": "none", "silent": True, "data": [
        {"xAxis": month_date(e.month), "lineStyle": {"color": KIND_COLOURS[e.kind]},
         "label": {"show": False}} for e in timeline(run, idx)
        if e.kind in ("shock", "fall", "identified", "family")]}
    bits = rec.support[:t, idx]
    on = ((bits >> SUPPORT_FLAGS.index("dibao")) & 1) | ((bits >> SUPPORT_FLAGS.index("tekun"))
                                                        & 1)
    shade = {"silent": True, "itemStyle": {"color": PROGRAMME_SHADE},
             "data": [[{"xAxis": month_date(a)}, {"xAxis": month_date(b + 1)}]
                      for a, b in _spells(on.astype(bool))]}
    series: list[dict[str, Any]] = [
        {"name": INCOME_TEXT, "type": "line", "showSymbol": False, "itemStyle": {"color": "#111"},
         "lineStyle": {"width": 2}, "data": timed(np.round(rec.pc12[:t, idx], 0).tolist()),
         "markLine": marks, "markArea": shade},
        {"name": HARDSHIP_TEXT, "type": "line", "showSymbol": False,
         "itemStyle": {"color": "#888"}, "lineStyle": {"width": 1.5, "type": "dotted"},
         "data": timed(np.round(rec.pc12_h[:t, idx], 0).tolist())},
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
    for k, values in enumerate((rec.savings[:t, idx], rec.debt[:t, idx])):
        series.append({"name": MONEY_TEXT[k], "type": "line", "showSymbol": False,
                       "xAxisIndex": 2, "yAxisIndex": 2, "itemStyle": {"color": MONEY_COLOURS[k]},
                       "lineStyle": {"width": 1.5}, "data": timed(np.round(values, 0).tolist())})
    axis = time_axis(run.horizon)
    small = {"fontSize": 11}
    return {"animation": False,
            "title": [{"text": f"Household #{idx}", "left": 4, "textStyle": {"fontSize": 14}},
                      {"text": "income per person, 12 months (yuan/yr; green: 低保/特困)",
                       "left": 50, "top": 24, "textStyle": small},
                      {"text": "this month: income by source, costs below 0 (yuan)",
                       "left": 50, "top": 148, "textStyle": small},
                      {"text": "savings and debt at the month's end (yuan)",
                       "left": 50, "top": 268, "textStyle": small}],
            "tooltip": {"trigger": "axis"},
            "axisPointer": {"link": [{"xAxisIndex": "all"}]},
            "legend": {"bottom": 0, "left": 4, "itemWidth": 12, "itemGap": 6,
                       "textStyle": small,
                       "data": [INCOME_TEXT, HARDSHIP_TEXT, "monitoring line", *SOURCE_TEXT,
                                *MONEY_TEXT]},
            "grid": [{"left": 56, "right": 12, "top": 44, "height": 88},
                     {"left": 56, "right": 12, "top": 168, "height": 84},
                     {"left": 56, "right": 12, "top": 288, "height": 60}],
            "xAxis": [{**axis, "gridIndex": 0, "axisLabel": {"show": False}},
                      {**axis, "gridIndex": 1, "axisLabel": {"show": False}},
                      {**axis, "gridIndex": 2}],
            "yAxis": [{"type": "value", "gridIndex": k, "splitNumber": 2 if k == 2 else 3}
                      for k in range(3)],
            "series": series}
