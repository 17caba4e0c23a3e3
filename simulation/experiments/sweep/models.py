"""Model plug-ins: what a sweep evaluates.

A plug-in says which factors and outputs exist (for validation) and builds a picklable
`runner(values, seed, replicate) -> Series` that one worker process calls per run. Two ship:

- "poverty" (default): the M County model through simulation.experiments.runner.run_after_history
  (run_one, with a worker's last history kept for the next run on the same seed); factors are
  scenario keys of simulation.model.params.SCHEMA, outputs are simulation.model.metrics.METRICS.
- "ishigami": Ishigami & Homma's (1990) test function, whose Sobol' indices are known
  analytically; it checks the sweep machinery itself (tests, `salib`-style demos).

Other plug-ins can be added with `register_model` (tests use this for a model that fails).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np

from simulation.experiments.sweep.errors import SweepError
from simulation.model.files import closest_key
from simulation.model.params import SCHEMA, Param


@dataclass(frozen=True, slots=True)
class Series:
    """One run's outputs: yearly values per metric (`periods` labels the years)."""

    periods: list[int]
    values: dict[str, list[float]]


Runner = Callable[[Mapping[str, float], int, int], Series]


class ModelPlugin(Protocol):
    """What the sweep machinery needs from a model."""

    name: str
    uses_scenarios: bool

    def factor_param(self, origin: str, key: str, sweepable: bool = True) -> Param:
        """The schema entry of factor `key`; raises SweepError naming the key if unknown."""
        ...

    def output_unit(self, origin: str, metric: str) -> str:
        """Unit of output `metric`; raises SweepError naming it if unknown."""
        ...

    def make_runner(self, base: Any, engine: str) -> Runner:
        """A picklable callable that runs the model once."""
        ...


# ----------------------------------------------------------------------------- poverty model
class PovertyRunner:
    """Runs the M County model on `base` with a sample's values (picklable)."""

    def __init__(self, base: Any, engine: str) -> None:
        self.base = base
        self.engine = engine

    def __call__(self, values: Mapping[str, float], seed: int, replicate: int) -> Series:
        from simulation.experiments.runner import run_after_history

        # samples of policy knobs on one seed share the history before the policy date:
        # a worker simulates it once and forks it for each (same results as run_one)
        scenario = self.base.with_values(values, origin="sweep sample")
        return series_of(run_after_history(scenario, seed, replicate=replicate,
                                           engine=self.engine, record_events=False))


def series_of(result: Any) -> Series:
    """A run's yearly metrics as a Series (every metric, year by year)."""
    periods = [int(y["year"]) for y in result.years]
    metrics = [k for k in result.years[0] if k != "year"] if result.years else []
    return Series(periods, {m: [float(y[m]) for y in result.years] for m in metrics})


class PovertyModel:
    """The M County model: factors are scenario keys, outputs are yearly metrics."""

    name = "poverty"
    uses_scenarios = True

    def factor_param(self, origin: str, key: str, sweepable: bool = True) -> Param:
        param = SCHEMA.get(key)
        if param is None:
            found = closest_key(key)
            hint = f" (did you mean '{found}'?)" if found else ""
            raise SweepError(f"{origin}: unknown factor 'factors.\"{key}\"'{hint}; factors "
                               "are scenario keys (`python run.py params` lists them)")
        if sweepable and param.section == "run":
            raise SweepError(f"{origin}: key 'factors.\"{key}\"' cannot be swept; set it in "
                               "[run] or with --years/--households")
        return param

    def output_unit(self, origin: str, metric: str) -> str:
        from simulation.model.metrics import METRICS

        if metric not in METRICS or metric == "year":
            choices = [m for m in METRICS if m != "year"]
            found = difflib.get_close_matches(metric, choices, n=1, cutoff=0.6)
            hint = f" (did you mean '{found[0]}'?)" if found else ""
            raise SweepError(f"{origin}: key 'outputs' names unknown metric '{metric}'{hint};"
                               " allowed: names in simulation.model.metrics.METRICS")
        return METRICS[metric][0]

    def make_runner(self, base: Any, engine: str) -> Runner:
        return PovertyRunner(base, engine)


# ----------------------------------------------------------------------------- Ishigami
ISHIGAMI_A = 7.0  # Ishigami & Homma (1990); SALib.test_functions.Ishigami defaults
ISHIGAMI_B = 0.1


def ishigami_indices(a: float = ISHIGAMI_A, b: float = ISHIGAMI_B) -> dict[str, np.ndarray]:
    """Analytic S1 and ST of the Ishigami function on [-pi, pi]^3 (Sobol' & Levitan 1999)."""
    var = 0.5 + a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    s1 = np.array([v1, v2, 0.0]) / var
    st = np.array([v1 + v13, v2, v13]) / var
    return {"S1": s1, "ST": st, "S2_13": np.array(v13 / var)}


class IshigamiRunner:
    """y = sin x1 + a sin^2 x2 + b x3^4 sin x1 (deterministic; the seed is ignored)."""

    def __call__(self, values: Mapping[str, float], seed: int, replicate: int) -> Series:
        x1, x2, x3 = values["x1"], values["x2"], values["x3"]
        y = math.sin(x1) + ISHIGAMI_A * math.sin(x2) ** 2 + ISHIGAMI_B * x3**4 * math.sin(x1)
        return Series([0], {"y": [y]})


class IshigamiModel:
    """Test function with known Sobol' indices: factors x1, x2, x3 in [-pi, pi]; output y."""

    name = "ishigami"
    uses_scenarios = False
    params: ClassVar[dict[str, Param]] = {
        k: Param(k, 0.0, -math.pi, math.pi, "-", "Ishigami input", "Ishigami & Homma 1990")
        for k in ("x1", "x2", "x3")}

    def factor_param(self, origin: str, key: str, sweepable: bool = True) -> Param:
        if key not in self.params:
            raise SweepError(f"{origin}: unknown factor 'factors.\"{key}\"'; the ishigami "
                               "model has factors x1, x2, x3")
        return self.params[key]

    def output_unit(self, origin: str, metric: str) -> str:
        if metric != "y":
            raise SweepError(f"{origin}: key 'outputs' names unknown metric '{metric}'; the "
                               "ishigami model has output y")
        return "-"

    def make_runner(self, base: Any, engine: str) -> Runner:
        return IshigamiRunner()


MODELS: dict[str, ModelPlugin] = {"poverty": PovertyModel(), "ishigami": IshigamiModel()}


def register_model(plugin: ModelPlugin) -> None:
    """Make a model available to sweep files as `model = "<plugin.name>"`."""
    MODELS[plugin.name] = plugin


def get_model(name: str, origin: str = "sweep") -> ModelPlugin:
    if name not in MODELS:
        raise SweepError(f"{origin}: key 'model' = {name!r} is not a model; allowed: "
                           f"{', '.join(MODELS)}")
    return MODELS[name]


def aggregate(values: list[float], how: str) -> float:
    """Reduce a yearly series to one number (see spec.AGGREGATIONS)."""
    if not values:
        return math.nan
    if how == "mean":
        return math.fsum(values) / len(values)
    if how == "total":
        return math.fsum(values)
    if how == "final":
        return values[-1]
    if how == "max":
        return max(values)
    if how == "min":
        return min(values)
    raise ValueError(f"unknown aggregation {how!r}")
