"""The mechanism knobs as slider descriptions, grouped by the four mechanisms.

Everything comes from the schema (`simulation.model.params.KNOBS`): label, unit, range, doc and the
baseline value (M County's status quo), so a knob added to the schema appears on the page
without touching this module.
"""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from simulation.model.params import KNOBS, MECHANISMS, Param
from simulation.model.scenario import load_scenario
from simulation.teaching.lesson import SETUP_ONLY, takes_effect_at_reset

if TYPE_CHECKING:
    from simulation.teaching.lesson import Lesson

MECHANISM_TITLES: Final = {
    "responsibility": "Responsibility (责任落实)",
    "social_security": "Social security (社会保障)",
    "industry": "Industry (产业帮扶)",
    "motivation": "Endogenous motivation (内生动力)",
}
WORDS: Final = {"oop": "out-of-pocket", "dibao": "低保"}
"""Abbreviations in knob names spelled out for the label."""


def label(param: Param) -> str:
    """Slider label from the knob name: 'oop_cap' -> 'Out-of-pocket cap'."""
    words = [WORDS.get(w, w) for w in param.name.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def slider_step(param: Param) -> float:
    """A round step giving about 100 positions over the knob's range (1 for whole numbers)."""
    if param.integer:
        return 1.0
    span = (param.high - param.low) / 100.0
    magnitude = 10.0 ** math.floor(math.log10(span))
    return max(m * magnitude for m in (1.0, 2.0, 5.0) if m * magnitude <= span)


def format_value(value: float, param: Param) -> str:
    if param.integer:
        return f"{round(value)}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


@cache
def baseline_values() -> dict[str, float]:
    """Knob values of the shipped baseline scenario (M County's status quo)."""
    return dict(load_scenario("baseline").values)


def knob_groups(lesson: Lesson) -> list[dict[str, Any]]:
    """The slider panel: one group per mechanism, one entry per knob (JSON-ready)."""
    baseline = baseline_values()
    pending = lesson.pending()
    groups = []
    for mechanism in MECHANISMS:
        knobs: list[dict[str, Any]] = []
        for p in (k for k in KNOBS if k.mechanism == mechanism):
            value = lesson.knob_value(p.key)
            scenario_value = lesson.base.values[p.key]
            knobs.append({
                "key": p.key, "label": label(p), "doc": p.doc, "unit": p.unit,
                "min": p.low, "max": p.high, "step": slider_step(p), "value": value,
                "text": format_value(value, p),
                "baseline": baseline[p.key], "baseline_text": format_value(baseline[p.key], p),
                "scenario_text": format_value(scenario_value, p),
                "moved": value != scenario_value, "setup_only": p.key in SETUP_ONLY,
                "pending": p.key in pending,
                # read only as the county is built, which the page always does under the
                # status quo: the slider would change nothing
                "inert": p.key in SETUP_ONLY and not takes_effect_at_reset(p.key),
            })
        groups.append({"mechanism": mechanism,
                       "title": MECHANISM_TITLES.get(mechanism, mechanism),
                       "moved": sum(bool(k["moved"]) for k in knobs), "knobs": knobs})
    return groups
