"""An ECharts chart widget (the library ships in solara-assets, so it works offline)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipyvuetify
import solara
import traitlets


class EChartWidget(ipyvuetify.VuetifyTemplate):
    """Draws `option` (an ECharts option dict) in the browser; redraws when it changes."""

    template_file = (__file__, "echart.vue")
    option = traitlets.Any({}).tag(sync=True)
    height = traitlets.Unicode("300px").tag(sync=True)
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    on_click = traitlets.Callable(None, allow_none=True)

    @traitlets.default("cdn")
    def _cdn(self) -> str | None:
        import solara.settings

        # None: the page's own asset route (/_solara/cdn), served from solara-assets
        return None if solara.settings.assets.proxy else solara.settings.assets.cdn

    def vue_on_click(self, data: dict[str, Any]) -> None:
        if self.on_click is not None:
            self.on_click(data)


def EChart(option: dict[str, Any], height: str = "300px",
           on_click: Callable[[dict[str, Any]], None] | None = None) -> solara.Element:
    """An ECharts chart element."""
    return EChartWidget.element(option=option, height=height, on_click=on_click)
