"""Helpers shared by the tests (importable as `support` from test modules)."""

from __future__ import annotations

from simulation.model.scenario import Scenario, load_scenario

SMALL = {"run.households": 400, "run.years": 3}


def small(name: str = "baseline", **overrides: float) -> Scenario:
    """A shipped scenario shrunk to a few hundred households and years; keyword overrides
    use `__` for the dot (social_security__coverage=0.9)."""
    values = {**SMALL, **{k.replace("__", "."): v for k, v in overrides.items()}}
    return load_scenario(name).with_values(values)
