"""Helpers shared by the tests (importable as `support` from test modules)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from simulation.model.params import Knobs, as_namespace, defaults
from simulation.model.scenario import Scenario, load_scenario

SMALL = {"run.households": 400, "run.years": 3}


def small(name: str = "baseline", policy_month: int = 0, **overrides: float) -> Scenario:
    """A shipped scenario shrunk to a few hundred households and years, its knobs in force
    from `policy_month` (default: the first month, so that a knob's effect shows in a short
    run; the population is built under the reference status quo either way); keyword
    overrides use `__` for the dot (social_security__coverage=0.9)."""
    values = {**SMALL, **{k.replace("__", "."): v for k, v in overrides.items()}}
    return dataclasses.replace(load_scenario(name).with_values(values),
                               policy_month=policy_month)


def sweep_toml(name: str, *, factors: dict[str, tuple[float, float]], outputs: tuple[str, ...],
               method: str = "sobol", samples: int = 8, replicates: int = 1, seed: int = 1,
               households: int = 100, years: int = 2, base: str = "baseline",
               policy_date: str = "2021-01") -> str:
    """A small sweep file of the real model (the set-up the sweep tests share; the factors
    take effect from `policy_date`, by default the first month)."""
    lines = [f'name = "{name}"', f'base = "{base}"', f'method = "{method}"',
             f"samples = {samples}", f"replicates = {replicates}", f"seed = {seed}",
             "outputs = [" + ", ".join(f'"{o}"' for o in outputs) + "]", "",
             "[run]", f"households = {households}", f"years = {years}",
             f'policy_date = "{policy_date}"', "", "[factors]"]
    lines += [f'"{key}" = [{low}, {high}]' for key, (low, high) in factors.items()]
    return "\n".join(lines) + "\n"


def write_sweep(folder: Path, filename: str = "tiny.toml", **spec: Any) -> Path:
    """Write sweep_toml(**spec) into `folder` and return the file's path."""
    path = Path(folder) / filename
    path.write_text(sweep_toml(**spec), encoding="utf-8")
    return path


def knobs(**overrides: float) -> Knobs:
    """The default knobs with some values changed (`__` for the dot, as `small`)."""
    values = {**defaults(), **{k.replace("__", "."): v for k, v in overrides.items()}}
    return as_namespace(values)
