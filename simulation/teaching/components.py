"""Solara components of the teaching page: controls, map, monitors, charts, story, info.

Components that show the running model read Mesa's `update_counter`, the reactive value
SolaraViz's controller bumps after each step (or `render_interval` steps), so they redraw when
the model moves, exactly like Mesa's own plot components.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import solara
from mesa.visualization.utils import force_update, update_counter

from simulation.model.calendar import month_label
from simulation.model.codes import SECTORS
from simulation.teaching import charts, info, monitors, story
from simulation.teaching.knobs import knob_groups
from simulation.teaching.lesson import Lesson, Run
from simulation.teaching.status import GONE, STATUSES
from simulation.teaching.widgets import CountyMapWidget, EChart, KnobPanelWidget, to_json

HERE = Path(__file__).parent
NO_COMPARISON = "— none —"
STORY_HEIGHT = "440px"
INDUSTRY_STATES = ("operating", "struggling", "failed (idle assets)")

CSS = """
.teach-monitors { display: flex; flex-wrap: wrap; gap: 8px; align-items: stretch; }
.teach-monitor { background: rgba(127, 127, 127, 0.08); border-radius: 6px; padding: 6px 10px;
  min-width: 118px; flex: 1 1 118px; }
.teach-monitor__label { font-size: 12px; opacity: 0.8; }
.teach-monitor__value { font-size: 24px; font-weight: 500; line-height: 1.2; }
.teach-monitor__county { font-size: 11px; opacity: 0.7; }
.teach-monitor--date .teach-monitor__value { font-size: 20px; }
.teach-run-label { font-weight: 500; margin: 6px 0 2px 2px; }
.teach-story table { border-collapse: collapse; font-size: 13px; }
.teach-story .teach-facts td:last-child { overflow-wrap: anywhere; }
.teach-table-scroll { overflow-x: auto; max-width: 100%; }
.teach-story td, .teach-story th { padding: 1px 10px 1px 0; vertical-align: top;
  text-align: left; }
.teach-story td:first-child { opacity: 0.7; white-space: nowrap; }
.teach-timeline { max-height: 260px; overflow-y: auto; font-size: 12.5px; }
.teach-timeline div { padding: 1px 0; }
.teach-timeline b { display: inline-block; width: 64px; font-weight: 500; }
.teach-info { max-width: 980px; font-size: 14.5px; line-height: 1.5; }
.teach-info h2 { margin-top: 18px; font-size: 20px; }
.teach-info h3 { font-size: 16px; margin-top: 10px; }
.teach-info strong, .teach-story b, .teach-timeline b { font-weight: 600; }
.teach-info table { border-collapse: collapse; }
.teach-info td, .teach-info th { border-bottom: 1px solid rgba(127,127,127,0.3);
  padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
.teach-info table { display: block; overflow-x: auto; max-width: 100%; }
.teach-info pre, .teach-info code { white-space: pre-wrap; overflow-wrap: anywhere; }
.teach-changes { font-size: 12px; }
.teach-main { min-width: 0; max-width: 100%; }
/* the main area may shrink below its content's natural width (charts, map and tables follow
   it) instead of pushing the page sideways on a phone */
.v-main .v-main__wrap > * { min-width: 0; }
/* Solara's sidebar drawer is at least 400 px wide; on a phone it slides over the page: below
   the app bar (its ☰ closes it again) and leaving a strip of the page to tap to close it */
@media (max-width: 959px) {
  .v-navigation-drawer { min-width: min(400px, calc(100vw - 48px)) !important;
    max-width: calc(100vw - 48px) !important; top: 56px !important;
    max-height: calc(100% - 56px) !important; }
}
@media (max-width: 600px) {
  .teach-monitor { min-width: 96px; flex-basis: 96px; padding: 4px 6px; }
  .teach-monitor__value { font-size: 20px; }
  .teach-monitor--date .teach-monitor__value { font-size: 17px; }
  .teach-main .v-tab { min-width: 0; padding: 0 10px; }
}
"""


# ----------------------------------------------------------------------------- data helpers
def map_layout(run: Run) -> str:
    """JSON layout of a run's map: extent and household positions (sent once per run)."""
    lay = run.layout
    return to_json({"width": round(lay.width, 2), "height": round(lay.height, 2),
                    "x": np.round(lay.x, 2).tolist(), "y": np.round(lay.y, 2).tolist()})


def status_text(status: np.ndarray) -> str:
    """Status codes as one digit per household (what county.vue reads)."""
    return (np.asarray(status, np.uint8) + ord("0")).tobytes().decode("ascii")


def map_villages(run: Run) -> list[dict[str, Any]]:
    """JSON of the villages: disc, label, and icons of officials, project and partners."""
    lay, model = run.layout, run.model
    villages = []
    for j in range(len(lay.village_x)):
        official = model.officials[j]
        industry = model.industries[j]
        key = bool(official.key_village)
        villages.append({
            "index": j, "x": round(float(lay.village_x[j]), 2),
            "y": round(float(lay.village_y[j]), 2), "r": round(float(lay.village_r[j]), 2),
            "label": f"Village {j + 1}" + (" ★" if key else ""), "key": key,
            "official": f"officials of village {j + 1}: {len(official.households)} households"
                        + (", with a resident first secretary (驻村第一书记)" if key else ""),
            "industry": int(industry.status),
            "project": f"village {j + 1} project ({SECTORS[industry.sector]}): "
                       f"{INDUSTRY_STATES[int(industry.status)]}",
            "partner": bool(model.village_partner[j]),
        })
    return villages


LEGEND = [{"text": text, "fill": fill, "ring": ring} for _, text, fill, ring in STATUSES]


def run_title(lesson: Lesson, index: int) -> str:
    """'Your county: baseline + 2 slider changes' / 'Comparison: social_security'."""
    run = lesson.runs[index]
    moved = len(lesson.settings.overrides) if index == 0 else 0
    name = run.label + (f" + {moved} slider change{'s' if moved > 1 else ''}" if moved else "")
    if len(lesson.runs) == 1:
        return name
    return ("Your county: " if index == 0 else "Comparison: ") + name


# ----------------------------------------------------------------------------- sidebar
@solara.component
def ScenarioCard(model: solara.Reactive[Lesson], selected: solara.Reactive[Any],
                 controls: solara.Reactive[int]) -> None:
    """Scenario and comparison pickers, scenario files, and what is running.

    A new choice builds a new county at once (as Reset would). SolaraViz's controller keeps
    its own "running" flag, cleared when a county reaches its horizon and set again only by
    its Reset button; after a finished run, `controls` is bumped so that the page mounts a
    fresh controller (app.Page keys SolaraViz on it) and Step and ▶ work again."""
    lesson = model.value
    settings = lesson.settings
    choices = settings.choices()

    def rebuild() -> None:
        finished = not model.value.running
        selected.set(None)
        model.value = Lesson(households=lesson.households, rng=lesson.seed, settings=settings)
        if finished:
            controls.set(controls.value + 1)

    def pick(choice: str) -> None:
        settings.scenario = settings.reference(choice)
        settings.overrides.clear()  # the sliders take the new scenario's values
        rebuild()

    def pick_compare(choice: str) -> None:
        settings.compare = "" if choice == NO_COMPARISON else settings.reference(choice)
        rebuild()

    def dropped(file: dict[str, Any]) -> None:
        folder = Path(tempfile.mkdtemp(prefix="teaching-scenario-"))
        path = folder / Path(file["name"]).name
        path.write_bytes(file["data"])
        settings.scenario = settings.reference(settings.add_file(path))
        settings.overrides.clear()
        rebuild()

    with solara.Card("Scenario", margin=0, classes=["teach-scenario-card"]):
        solara.Select("Scenario", values=choices, value=settings.label(settings.scenario),
                      on_value=pick)
        compare_label = settings.label(settings.compare) if settings.compare else NO_COMPARISON
        solara.Select("Compare with (same seed)", values=[NO_COMPARISON, *choices],
                      value=compare_label, on_value=pick_compare)
        solara.Div(children=[lesson.base.description or ""], style={"font-size": "12px"})
        solara.Div(children=[f"Seed {lesson.seed} · {lesson.households:,} households · "
                             "choosing a scenario restarts in January 2021, its policies in "
                             "force from the first month"],
                   style={"font-size": "12px", "opacity": "0.7", "margin": "4px 0 8px 0"})
        solara.FileDrop(label="Drop a scenario file (.toml) here", on_file=dropped,
                        lazy=False)


@solara.component
def KnobCard(model: solara.Reactive[Lesson]) -> None:
    """The mechanism sliders and the changes made in this run."""
    update_counter.get()
    lesson = model.value

    def set_knob(data: dict[str, Any]) -> None:
        lesson.set_knob(str(data["key"]), float(data["value"]))
        force_update()

    def back() -> None:
        lesson.reset_knobs()
        force_update()

    with solara.Card("Mechanism knobs", margin=0):
        solara.Text("A slider acts on the first county from the next month on; Reset starts "
                    "2021 again with it. ▲ = baseline (M County's status quo).",
                    style={"font-size": "12px", "opacity": "0.75"})
        KnobPanelWidget.element(groups=to_json(knob_groups(lesson)), on_set_knob=set_knob)
        changes = lesson.runs[0].changes
        if changes:
            with solara.Column(classes=["teach-changes"], gap="0px"):
                solara.Text("Changes in this run:", style={"font-weight": "500"})
                for c in changes[-8:]:
                    when = month_label(c.month) if c.live else "at Reset"
                    solara.Text(f"{when}: {c.key.split('.', 1)[1].replace('_', ' ')} "
                                f"{c.old:g} → {c.new:g}")
        if lesson.settings.overrides:
            solara.Button("Back to scenario values", on_click=back, text=True,
                          color="primary", small=True)


@solara.component
def SidebarBelow(model: solara.Reactive[Lesson]) -> None:
    """The knob card in the sidebar, below SolaraViz's own cards: Solara orders sidebar
    entries by how deep their component sits, so this one goes a level deeper."""
    _KnobSidebar(model)


@solara.component
def _KnobSidebar(model: solara.Reactive[Lesson]) -> None:
    with solara.Sidebar():
        KnobCard(model)


# ----------------------------------------------------------------------------- main area
@solara.component
def Monitors(lesson: Lesson) -> None:
    """The date and, per county, the live numbers."""
    update_counter.get()
    date, sub = monitors.date_text(lesson.month)
    for i, run in enumerate(lesson.runs):
        if len(lesson.runs) > 1:
            solara.Text(run_title(lesson, i), classes=["teach-run-label"])
        with solara.Div(classes=["teach-monitors"], attributes={"data-run": str(i)}):
            with solara.Div(classes=["teach-monitor", "teach-monitor--date"],
                            attributes={"data-monitor": "date"},
                            style={} if i == 0 else {"visibility": "hidden"}):
                solara.Div(children=["Date"], classes=["teach-monitor__label"])
                solara.Div(children=[date], classes=["teach-monitor__value"])
                solara.Div(children=[sub], classes=["teach-monitor__county"])
            for m in monitors.monitors(run):
                with solara.Div(classes=["teach-monitor"], attributes={"data-monitor": m.key,
                                                                      "title": m.help}):
                    solara.Div(children=[m.label], classes=["teach-monitor__label"])
                    solara.Div(children=[m.value], classes=["teach-monitor__value"])
                    solara.Div(children=[m.county], classes=["teach-monitor__county"])


@solara.component
def CountyMap(lesson: Lesson, index: int, selected: solara.Reactive[Any]) -> None:
    update_counter.get()
    run = lesson.runs[index]
    layout = solara.use_memo(lambda: map_layout(run), [id(run)])
    status = run.status_now()
    counts = np.bincount(status, minlength=GONE + 1).tolist()  # the last: households gone
    chosen = selected.value[1] if selected.value and selected.value[0] == index else -1

    def select(data: dict[str, Any]) -> None:
        selected.set((int(data["run"]), int(data["household"])))

    title = run_title(lesson, index)
    CountyMapWidget.element(run=index, title=f"{title} — click a household", geometry=layout,
                            villages=to_json(map_villages(run)), status=status_text(status),
                            counts=counts, legend=LEGEND, selected=chosen, on_select=select)


@solara.component
def Story(lesson: Lesson, selected: solara.Reactive[Any]) -> None:
    """The clicked household's story (and the same household in the other county)."""
    update_counter.get()
    with solara.Div(classes=["teach-story"], attributes={"data-panel": "story"}):
        choice = selected.value
        if not choice or choice[0] >= len(lesson.runs) or \
                choice[1] >= len(lesson.runs[choice[0]].model.households):
            solara.Info("Click a household on the map to read its story: who its members are, "
                        "its income, savings and debt month by month, the shocks it met, "
                        "deaths, births and moves, who identified it, the jobs and the 低保 or "
                        "特困 it got.")
            return
        index, idx = choice
        run = lesson.runs[index]
        rows = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>"
                       for k, v in story.facts(run, idx).items())
        solara.HTML(tag="div", unsafe_innerHTML=f'<table class="teach-facts">{rows}</table>')
        EChart(story.story_option(run, idx), height=STORY_HEIGHT)
        entries = story.timeline(run, idx)
        lines = "".join(f'<div><b>{e.when}</b><span style="color:{story.KIND_COLOURS[e.kind]}">'
                        f"{e.text}</span></div>" for e in entries) or \
            "<div>Nothing has happened to this household yet.</div>"
        solara.HTML(tag="div", unsafe_innerHTML=lines, classes=["teach-timeline"])
        if len(lesson.runs) > 1:
            heads = "".join(f"<th>{r.label}</th>" for r in lesson.runs)
            summaries = [story.summary(r, idx) for r in lesson.runs]
            body = "".join(f"<tr><td>{k}</td>" + "".join(f"<td>{s[k]}</td>" for s in summaries)
                           + "</tr>" for k in summaries[0])
            solara.HTML(tag="div", unsafe_innerHTML=f"<p><b>The same household in both "
                        f"counties</b></p><table><tr><td></td>{heads}</tr>{body}</table>",
                        classes=["teach-table-scroll"])


@solara.component
def Charts(lesson: Lesson) -> None:
    update_counter.get()
    runs = lesson.runs
    with solara.ColumnsResponsive(default=12, large=6, gutters_dense=True):
        for name, option in (("causes", charts.causes_option(runs)),
                             ("below", charts.below_line_option(runs)),
                             ("monitoring", charts.monitoring_option(runs)),
                             ("cost", charts.cost_option(runs))):
            with solara.Div(attributes={"data-chart": name}):
                EChart(option, height="300px")


@solara.component
def Errors(lesson: Lesson) -> None:
    for message in lesson.errors:
        solara.Error(message, icon=True, classes=["teach-error"])


@solara.component
def Main(model: solara.Reactive[Lesson], selected: solara.Reactive[Any]) -> None:
    """The main area: monitors, the county, the story and the charts; Info and Glossary."""
    lesson = model.value
    solara.Style(CSS)
    with solara.Column(style={"width": "100%"}, gap="8px", classes=["teach-main"]):
        if lesson.errors:
            Errors(lesson)
        with solara.lab.Tabs(value=0):
            with solara.lab.Tab("County"), solara.Column(gap="8px"):
                Monitors(lesson)
                if len(lesson.runs) == 1:  # side by side from 960 px, one above the other below
                    with solara.ColumnsResponsive(12, medium=[7, 5], gutters_dense=True):
                        CountyMap(lesson, 0, selected)
                        Story(lesson, selected)
                else:
                    with solara.ColumnsResponsive(12, small=[6, 6], gutters_dense=True):
                        CountyMap(lesson, 0, selected)
                        CountyMap(lesson, 1, selected)
                    Story(lesson, selected)
                Charts(lesson)
            with solara.lab.Tab("Info"):
                solara.HTML(tag="div", unsafe_innerHTML=info.info_html(),
                            classes=["teach-info"])
            with solara.lab.Tab("Glossary"):
                solara.HTML(tag="div", unsafe_innerHTML=info.glossary_html(),
                            classes=["teach-info"])
