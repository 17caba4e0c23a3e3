"""The page's three browser-side widgets (Vue 2 templates next to this file).

- `EChartWidget` draws an ECharts option (the library ships in solara-assets: offline);
- `CountyMapWidget` draws the county as SVG and reports clicks on households;
- `KnobPanelWidget` shows the mechanism sliders and reports moves.

Bulky data travels as strings (JSON, or one digit per household): Solara's renderer walks
every list and dict in a component's arguments looking for child elements, which for a few
thousand data points cost more than drawing them (measured: most of a frame's time); a string
it leaves alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import ipyvuetify
import solara
import traitlets


def to_json(value: Any) -> str:
    """Compact JSON (NaN is not JSON: it must not occur)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class _Template(ipyvuetify.VuetifyTemplate):
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)

    @traitlets.default("cdn")
    def _cdn(self) -> str | None:
        import solara.settings

        # None: the page's own asset route (/_solara/cdn), served from solara-assets
        return None if solara.settings.assets.proxy else solara.settings.assets.cdn


class EChartWidget(_Template):
    """Draws `option` (an ECharts option as JSON); redraws when it changes."""

    template_file = (__file__, "echart.vue")
    option = traitlets.Unicode("{}").tag(sync=True)
    height = traitlets.Unicode("300px").tag(sync=True)
    on_click = traitlets.Callable(None, allow_none=True)

    def vue_on_click(self, data: dict[str, Any]) -> None:
        if self.on_click is not None:
            self.on_click(data)


class CountyMapWidget(_Template):
    """The county: villages, households coloured by status, officials, projects, partners.

    `geometry` is JSON {width, height, x, y}; `villages` JSON list of village dicts; `status`
    one digit (status code) per household; `legend` the status legend; `selected` the index
    of the household whose story is shown (-1: none).
    """

    template_file = (__file__, "county.vue")
    run = traitlets.Int(0).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    geometry = traitlets.Unicode("{}").tag(sync=True)
    villages = traitlets.Unicode("[]").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    counts: traitlets.List[int] = traitlets.List([]).tag(sync=True)
    legend: traitlets.List[dict[str, str]] = traitlets.List([]).tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)
    on_select = traitlets.Callable(None, allow_none=True)

    def vue_select_household(self, data: dict[str, Any]) -> None:
        if self.on_select is not None:
            self.on_select(data)


class KnobPanelWidget(_Template):
    """Sliders grouped by mechanism; `groups` is the JSON of `knobs.knob_groups`."""

    template_file = (__file__, "knobs.vue")
    groups = traitlets.Unicode("[]").tag(sync=True)
    on_set_knob = traitlets.Callable(None, allow_none=True)

    def vue_set_knob(self, data: dict[str, Any]) -> None:
        if self.on_set_knob is not None:
            self.on_set_knob(data)


def EChart(option: dict[str, Any], height: str = "300px",
           on_click: Callable[[dict[str, Any]], None] | None = None) -> solara.Element:
    """An ECharts chart element."""
    return EChartWidget.element(option=to_json(option), height=height, on_click=on_click)
