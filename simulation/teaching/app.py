"""The teaching page: Mesa's SolaraViz around a live county (serve with `python run.py demo`).

SolaraViz supplies the frame and the Mesa controls — Reset, play/pause, Step, play and render
intervals, households and seed (applied at Reset) — and drives the `Lesson` model. The page
adds, in the sidebar, the scenario pickers above those controls and the mechanism knobs below
them, and fills the main area itself (SolaraViz gets no components of its own), so the county,
its story and the charts keep a fixed, designed layout instead of a grid of equal tiles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import solara
from mesa.visualization import Slider, SolaraViz

from simulation.experiments.runner import DEFAULT_SEED
from simulation.model.scenario import SCENARIO_DIR
from simulation.teaching.components import Main, ScenarioCard, SidebarBelow
from simulation.teaching.lesson import (
    MAX_HOUSEHOLDS,
    MIN_HOUSEHOLDS,
    PAGE_HOUSEHOLDS,
    Lesson,
    Settings,
)

TITLE: Final = "Return to poverty in M County — teaching page"
PLAY_INTERVAL_MS: Final = 20
"""Pause between frames while playing (Mesa's default is 100 ms): with one month a frame the
page runs a simulated year in about a second (benchmarks/teaching_page.py)."""
RENDER_INTERVAL: Final = 1
"""Months per frame (and per Step); the teacher can raise it in the Controls card."""

STARTUP: dict[str, str | None] = {"scenario": None}
"""Set by `simulation.teaching.server.serve`: a scenario file to open the page with."""


def initial_settings() -> Settings:
    """A session's settings: the baseline, or the file given to `run.py demo --scenario`."""
    settings = Settings()
    path = STARTUP["scenario"]
    if path and Path(path).parent == SCENARIO_DIR:  # a shipped one: pick it by name
        settings.scenario = Path(path).stem
    elif path:
        settings.scenario = settings.reference(settings.add_file(path))
    return settings


def model_params(settings: Settings, lesson: Lesson | None = None) -> dict[str, Any]:
    """SolaraViz's model parameters: size and seed (at Reset; starting from those of `lesson`
    when given), and the session's settings (a fixed parameter: Reset builds the new Lesson
    from the same Settings object)."""
    households = lesson.households if lesson is not None else PAGE_HOUSEHOLDS
    seed = lesson.seed if lesson is not None else DEFAULT_SEED
    return {
        "households": Slider("Households (at Reset)", households, MIN_HOUSEHOLDS,
                             MAX_HOUSEHOLDS, 100),
        "rng": {"type": "InputText", "value": str(seed), "label": "Seed (at Reset)"},
        "settings": settings,
    }


@solara.component
def Layout(children: list[Any] | None = None) -> solara.Element:
    """Solara's AppLayout (the page's frame: app bar and sidebar), with the sidebar following
    the screen: beside the page on a wide screen, closed behind ☰ on a phone (Vuetify decides
    when the drawer's state is left open, None). Solara uses a module's `Layout` around its
    `Page`."""
    return solara.AppLayout(children=children or [], sidebar_open=None)


@solara.component
def Page() -> None:
    """One browser session: its own settings, model and selected household."""
    settings = solara.use_memo(initial_settings, [])
    first = solara.use_memo(lambda: Lesson(settings=settings), [])
    model: solara.Reactive[Lesson] = solara.use_reactive(first)
    selected = solara.use_reactive(None)
    # bumped when a scenario is picked after a finished run: a fresh SolaraViz controller
    # (its Step and play buttons stay disabled once a run has finished, until its own Reset)
    controls = solara.use_reactive(0)
    params = solara.use_memo(lambda: model_params(settings, model.value), [controls.value])
    with solara.Column(gap="0px"):  # only Main shows here; the rest lives in bars and sidebar
        with solara.Sidebar():
            ScenarioCard(model, selected, controls)
        SolaraViz(model, components=[], model_params=params, name=TITLE,
                  play_interval=PLAY_INTERVAL_MS,
                  render_interval=RENDER_INTERVAL).key(f"controls-{controls.value}")
        SidebarBelow(model)
        Main(model, selected)
