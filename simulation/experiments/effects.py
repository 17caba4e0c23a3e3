"""Knob effects: every mechanism knob run from its weak to its strong end on paired seeds.

For each knob of simulation.model.params.KNOBS two scenarios are made from a base scenario:
the knob at its weak end (`Param.weak_end`: the value that removes its channel, or the weak end
of its range) and at its strong end (`Param.strong_end`), every other value as in the base. Both
take effect at the base's policy date, so on a seed the two runs share their history and differ
only through the knob (common random numbers); the analysis (analysis/effects.py) takes the
paired differences over the evaluation window.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

from simulation.model.params import KNOBS, Param
from simulation.model.scenario import Scenario

ENDS: Final = ("weak", "strong")


def end_name(param: Param, end: str) -> str:
    """The scenario name of a knob's end, e.g. "responsibility-caseload-strong"."""
    return f"{param.key.replace('.', '-').replace('_', '-')}-{end}"


def effect_scenarios(base: Scenario, knobs: Sequence[Param] = KNOBS) -> list[Scenario]:
    """Two scenarios per knob (weak end, strong end), in the order of `knobs`."""
    out = []
    for param in knobs:
        for end in ENDS:
            value = param.weak_end if end == "weak" else param.strong_end
            sc = base.with_values({param.key: value}, origin=f"knob effects ({end} end)")
            out.append(dataclasses.replace(sc, name=end_name(param, end)))
    return out
