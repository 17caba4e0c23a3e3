"""Sweep files: what to vary, how to sample it, what to measure — validated before any run.

A sweep file is TOML (see scenarios/sweeps/mechanisms_sobol.toml)::

    name = "mechanisms_sobol"
    base = "baseline"                  # scenario every sample starts from (name or path)
    method = "sobol"                   # sobol | morris | fast | rbd_fast | latin | grid
    samples = 256                      # meaning depends on the method (METHODS below)
    replicates = 1                     # model runs per sample (seeds: see design.py)
    seed = 20210101
    second_order = false               # Sobol only: S2 costs N * D extra runs
    common_random_numbers = true       # replicate r uses the same seed in every sample
    outputs = ["returned_households", "fiscal_cost_yuan"]    # simulation.model.metrics.METRICS

    [aggregate]                        # optional: how a yearly metric becomes one number
    fiscal_cost_yuan = "total"         # mean | total | final | max | min

    [run]                              # optional: the base scenario's horizon and size
    households = 5000
    years = 15
    policy_date = "2026-01"            # when the factors take effect (default: the base's)

    [factors]                          # dotted scenario key = [low, high] inside its range
    "responsibility.duty_performance" = [0.0, 1.0]
    # or, instead of the table: factors = "knobs" — every mechanism knob
    # (simulation.model.params.KNOBS) over its full schema range

    [options]                          # optional, per method (OPTIONS below)
    conf_level = 0.95

Every problem raises one SweepError (exit code 2) naming the file, the key and what is
allowed. SweepError is a ScenarioError, so the CLI's bad-input handling applies unchanged.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from simulation.experiments.sweep.errors import SweepError
from simulation.model.params import Param
from simulation.model.scenario import SCENARIO_DIR, ScenarioError, check_name, flatten, read_toml

SWEEP_DIR: Final = SCENARIO_DIR / "sweeps"

METHODS: Final[dict[str, str]] = {
    "sobol": "Sobol' indices S1, ST (and S2) — SALib sample.sobol + analyze.sobol; samples = "
             "N base samples (a power of 2); runs = N(D+2), or N(2D+2) with second_order",
    "morris": "Morris elementary effects mu, mu*, sigma — samples = trajectories; "
              "runs = trajectories x (D+1)",
    "fast": "extended FAST S1, ST — samples = runs per factor (> 4 M^2); runs = samples x D",
    "rbd_fast": "RBD-FAST S1 on a Latin hypercube — runs = samples",
    "latin": "Latin hypercube for exploration and scenario discovery; RBD-FAST S1 and PAWN "
             "(moment-independent) indices — runs = samples",
    "grid": "full-factorial grid — samples = levels per factor; runs = samples^D; main-effect "
            "shares of variance",
}

AGGREGATIONS: Final[dict[str, str]] = {
    "mean": "mean over the evaluation window's years (policy date's year to the horizon)",
    "total": "sum over the evaluation window's years",
    "final": "value in the last simulated year (the horizon)",
    "max": "largest yearly value in the evaluation window",
    "min": "smallest yearly value in the evaluation window",
}

# method option -> (default, low, high, integer, applies to, doc)
OPTIONS: Final[dict[str, Param]] = {
    "conf_level": Param("options.conf_level", 0.95, 0.5, 0.999, "share",
                        "confidence level of the bootstrap intervals", "SALib default"),
    "num_resamples": Param("options.num_resamples", 100, 10, 10_000, "resamples",
                           "bootstrap resamples for the intervals", "SALib default",
                           integer=True),
    "num_levels": Param("options.num_levels", 4, 2, 100, "levels",
                        "Morris grid levels (even)", "SALib default", integer=True),
    "M": Param("options.M", 4, 1, 100, "harmonics",
               "interference factor (harmonics); FAST default 4, RBD-FAST default 10",
               "SALib defaults", integer=True),
}
"""Method options of a sweep file's [options] table, checked like every number (Param)."""
OPTION_METHODS: Final[dict[str, tuple[str, ...]]] = {
    "conf_level": tuple(METHODS),
    "num_resamples": ("sobol", "morris", "fast", "rbd_fast", "latin"),
    "num_levels": ("morris",),
    "M": ("fast", "rbd_fast", "latin"),
}
"""The methods each option applies to."""
REPLICATES: Final = Param("replicates", 1, 1, 10_000, "runs per sample",
                          "replicates of every sample (seeds)", "sweep design", integer=True)
SEED: Final = Param("seed", 0, 0, 2**63 - 1, "", "seed of the design and of the runs",
                    "sweep design", integer=True)
SAMPLES: Final = Param("samples", 1, 1, 10**9, "", "samples of the design (per method)",
                       "sweep design", integer=True)

_TOP_KEYS: Final = ("name", "description", "model", "base", "method", "samples", "replicates",
                    "seed", "second_order", "common_random_numbers", "outputs", "aggregate",
                    "run", "factors", "options")
_RUN_KEYS: Final = ("households", "years", "policy_date")
MAX_RUNS: Final = 50_000_000  # sanity bound on a design (runs); beyond it a typo is likelier


@dataclass(frozen=True, slots=True)
class Factor:
    """One swept scenario key with its bounds (model units)."""

    key: str
    low: float
    high: float
    integer: bool = False
    unit: str = ""


@dataclass(frozen=True, slots=True)
class Output:
    """One output: a yearly metric reduced to one number per run."""

    metric: str
    aggregate: str
    unit: str = ""


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep (after command-line overrides)."""

    name: str
    source: str
    model: str
    base: str | None
    method: str
    samples: int
    replicates: int
    seed: int
    factors: tuple[Factor, ...]
    outputs: tuple[Output, ...]
    description: str = ""
    second_order: bool = False
    common_random_numbers: bool = True
    run: Mapping[str, int] = field(default_factory=dict)
    options: Mapping[str, float] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [f.key for f in self.factors]

    @property
    def output_names(self) -> list[str]:
        return [o.metric for o in self.outputs]

    def option(self, name: str) -> float:
        """A method option's value (its default when the file does not set it)."""
        if name in self.options:
            return self.options[name]
        if name == "M" and self.method in ("rbd_fast", "latin"):
            return 10
        return OPTIONS[name].default

    def canonical(self) -> dict[str, Any]:
        """Everything that determines the results (for fingerprints and the manifest)."""
        doc = asdict(self)
        doc.pop("source")
        doc.pop("description")
        doc["run"] = dict(self.run)
        doc["options"] = {k: self.option(k) for k in OPTIONS
                          if self.method in OPTION_METHODS[k]}
        return doc

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.canonical(), sort_keys=True).encode()).hexdigest()

    def with_overrides(self, *, samples: int | None = None, replicates: int | None = None,
                       seed: int | None = None, households: int | None = None,
                       years: int | None = None, policy_month: int | None = None) -> SweepSpec:
        """A copy with command-line overrides applied and validated."""
        run = dict(self.run)
        if households is not None:
            run["households"] = households
        if years is not None:
            run["years"] = years
        if policy_month is not None:
            run["policy_month"] = policy_month
        spec = replace(self, run=run,
                       samples=self.samples if samples is None else samples,
                       replicates=self.replicates if replicates is None else replicates,
                       seed=self.seed if seed is None else seed)
        origin = "command line"
        if samples is not None:
            _check_samples(origin, "--samples", spec.method, spec.samples, spec)
        if replicates is not None:
            _check(REPLICATES, origin, replicates, "--replicates")
        if seed is not None:
            _check(SEED, origin, seed, "--seed")
        _check_size(origin, spec)
        return spec


# ----------------------------------------------------------------------------- loading
def resolve_sweep_path(ref: str | Path) -> Path:
    """A sweep reference (path, or name of a file in scenarios/sweeps/) -> existing file."""
    path = Path(ref)
    candidates = [path]
    if path.suffix != ".toml":
        candidates.append(path.with_name(path.name + ".toml"))
    if len(path.parts) == 1:
        candidates += [SWEEP_DIR / c.name for c in list(candidates)]
    for c in candidates:
        if c.is_file():
            return c
    shipped = ", ".join(p.stem for p in shipped_sweeps()) or "none"
    raise SweepError(f"{ref}: no such sweep file (shipped sweeps: {shipped})")


def shipped_sweeps() -> list[Path]:
    """Every sweep file shipped in scenarios/sweeps/ (not hidden files)."""
    return sorted(p for p in SWEEP_DIR.glob("*.toml") if not p.name.startswith("."))


def load_sweep(ref: str | Path) -> SweepSpec:
    """Read and validate a sweep file (see the module docstring for its keys)."""
    path = resolve_sweep_path(ref)
    return parse_sweep(read_toml(path, SweepError), origin=str(path))


def parse_sweep(doc: Mapping[str, Any], origin: str) -> SweepSpec:
    """Validate a parsed sweep document; `origin` names it in error messages."""
    from simulation.experiments.sweep.models import get_model

    for key in doc:
        if key not in _TOP_KEYS:
            raise SweepError(f"{origin}: unknown key '{key}'{_hint(key, _TOP_KEYS)}; allowed "
                             f"keys: {', '.join(_TOP_KEYS)}")
    for key in ("name", "description", "model", "base", "method"):
        if key in doc and not isinstance(doc[key], str):
            raise SweepError(f"{origin}: key '{key}' must be a string, got {doc[key]!r}")

    model_name = doc.get("model", "poverty")
    model = get_model(model_name, origin)
    method = _required(origin, doc, "method")
    if method not in METHODS:
        raise SweepError(f"{origin}: key 'method' = {method!r} is not a method; allowed: "
                         f"{', '.join(METHODS)}")

    factors = _parse_factors(origin, doc.get("factors"), model)
    outputs = _parse_outputs(origin, doc.get("outputs"), doc.get("aggregate", {}), model)
    replicates = int(_check(REPLICATES, origin, doc.get("replicates", 1)))
    seed = int(_check(SEED, origin, _required(origin, doc, "seed")))
    second_order = _check_bool(origin, "second_order", doc.get("second_order", False))
    if second_order and method != "sobol":
        raise SweepError(f"{origin}: key 'second_order' applies to method 'sobol' only")
    crn = _check_bool(origin, "common_random_numbers", doc.get("common_random_numbers", True))
    run = _parse_run(origin, doc.get("run", {}), model)
    options = _parse_options(origin, doc.get("options", {}), method)
    if "base" in doc and not model.uses_scenarios:
        raise SweepError(f"{origin}: key 'base' does not apply to model '{model_name}'")
    base = doc.get("base", "baseline") if model.uses_scenarios else None

    samples = int(_check(SAMPLES, origin, _required(origin, doc, "samples")))
    spec = SweepSpec(
        name=_check_name(origin, doc.get("name", Path(origin).stem)), source=origin,
        model=model_name, base=base,
        method=method, samples=samples, replicates=replicates, seed=seed, factors=factors,
        outputs=outputs, description=doc.get("description", ""), second_order=second_order,
        common_random_numbers=crn, run=run, options=options)
    _check_samples(origin, "samples", method, samples, spec)
    _check_size(origin, spec)
    return spec


def _check_name(origin: str, name: str) -> str:
    try:
        return check_name(origin, name)
    except ScenarioError as exc:
        raise SweepError(str(exc)) from None


def _required(origin: str, doc: Mapping[str, Any], key: str) -> Any:
    if key not in doc:
        raise SweepError(f"{origin}: key '{key}' is missing")
    return doc[key]


def _hint(key: str, choices: Any) -> str:
    found = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{found[0]}'?)" if found else ""


def _check(param: Param, origin: str, value: Any, key: str | None = None) -> float:
    """Param.check with its error as a SweepError."""
    try:
        return param.check(origin, value, key)
    except ValueError as exc:
        raise SweepError(str(exc)) from None


def _check_bool(origin: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SweepError(f"{origin}: key '{key}' must be true or false, got {value!r}")
    return value


def _parse_factors(origin: str, table: Any, model: Any) -> tuple[Factor, ...]:
    if table == "knobs" and model.uses_scenarios:
        # every mechanism knob over its full schema range (stays right when knobs change)
        from simulation.model.params import KNOBS

        table = {p.key: [p.low, p.high] for p in KNOBS}
    if not isinstance(table, dict) or not table:
        raise SweepError(f"{origin}: key 'factors' must be \"knobs\" (every mechanism knob "
                         "over its schema range) or a table of \"section.key\" = [low, high] "
                         "with at least one factor")
    factors = []
    for key, bounds in flatten(table).items():
        where = f"factors.\"{key}\""
        param = model.factor_param(origin, key)  # raises SweepError naming the key
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, int | float) and not isinstance(b, bool)
                           and math.isfinite(b) for b in bounds)):
            raise SweepError(f"{origin}: key '{where}' must be [low, high] (two numbers), "
                             f"got {bounds!r}")
        low, high = float(bounds[0]), float(bounds[1])
        allowed = f"inside {param.range_text()} {param.unit}"
        if not low < high:
            raise SweepError(f"{origin}: key '{where}' = {bounds!r} needs low < high; allowed: "
                             f"{allowed}")
        if low < param.low or high > param.high:
            raise SweepError(f"{origin}: key '{where}' = {bounds!r} is outside the schema's "
                             f"range; allowed: {allowed}")
        if param.integer and not (low.is_integer() and high.is_integer()):
            raise SweepError(f"{origin}: key '{where}' = {bounds!r} must be whole numbers "
                             f"(the key is an integer); allowed: {allowed}")
        factors.append(Factor(key, low, high, param.integer, param.unit))
    return tuple(factors)


def _parse_outputs(origin: str, outputs: Any, aggregate: Any, model: Any) -> tuple[Output, ...]:
    if (not isinstance(outputs, list) or not outputs
            or not all(isinstance(o, str) for o in outputs)):
        raise SweepError(f"{origin}: key 'outputs' must be a non-empty list of metric names, "
                         f"got {outputs!r}")
    if len(set(outputs)) != len(outputs):
        dupe = next(o for o in outputs if outputs.count(o) > 1)
        raise SweepError(f"{origin}: key 'outputs' names '{dupe}' twice")
    if not isinstance(aggregate, dict):
        raise SweepError(f"{origin}: key 'aggregate' must be a table metric = \"mean\"|...")
    for metric, how in aggregate.items():
        if metric not in outputs:
            raise SweepError(f"{origin}: key 'aggregate.{metric}' is not among the outputs "
                             f"({', '.join(outputs)})")
        if how not in AGGREGATIONS:
            raise SweepError(f"{origin}: key 'aggregate.{metric}' = {how!r}; allowed: "
                             f"{', '.join(AGGREGATIONS)}")
    result = []
    for metric in outputs:
        unit = model.output_unit(origin, metric)  # raises SweepError naming the metric
        result.append(Output(metric, aggregate.get(metric, default_aggregate(unit)), unit))
    return tuple(result)


def default_aggregate(unit: str) -> str:
    """Flows (units per year) are summed over the evaluation window; levels, shares and indices
    are averaged over its years. E.g. returned_households (households/yr) -> total returns
    2026-2035 (policy date 2026-01); below_line_share_formerly_poor (share) -> mean year-end
    share."""
    return "total" if unit.endswith("/yr") else "mean"


def _parse_run(origin: str, table: Any, model: Any) -> dict[str, int]:
    if not isinstance(table, dict):
        raise SweepError(f"{origin}: key 'run' must be a table (households, years)")
    if table and not model.uses_scenarios:
        raise SweepError(f"{origin}: key 'run' does not apply to this model")
    run = {}
    for key, value in table.items():
        if key not in _RUN_KEYS:
            raise SweepError(f"{origin}: unknown key 'run.{key}'; allowed: "
                             f"{', '.join(_RUN_KEYS)}")
        if key == "policy_date":  # stored as months since January 2021
            run["policy_month"] = parse_policy_date(origin, "run.policy_date", value)
            continue
        param = model.factor_param(origin, f"run.{key}", sweepable=False)
        run[key] = int(_check(param, origin, value))
    return run


def parse_policy_date(origin: str, key: str, value: Any) -> int:
    """A policy date "YYYY-MM" as months since January 2021 (SweepError if it is not one)."""
    from simulation.model.scenario import ScenarioError, parse_month

    try:
        return parse_month(origin, key, value)
    except ScenarioError as exc:
        raise SweepError(str(exc)) from None


def _parse_options(origin: str, table: Any, method: str) -> dict[str, float]:
    if not isinstance(table, dict):
        raise SweepError(f"{origin}: key 'options' must be a table")
    options: dict[str, float] = {}
    for key, value in table.items():
        if key not in OPTIONS:
            raise SweepError(f"{origin}: unknown key 'options.{key}'{_hint(key, OPTIONS)}; "
                             f"allowed: {', '.join(OPTIONS)}")
        if method not in OPTION_METHODS[key]:
            raise SweepError(f"{origin}: key 'options.{key}' ({OPTIONS[key].doc}) applies to "
                             f"method(s) {', '.join(OPTION_METHODS[key])}, not {method!r}")
        options[key] = _check(OPTIONS[key], origin, value)
    if method == "morris" and int(options.get("num_levels", 4)) % 2:
        raise SweepError(f"{origin}: key 'options.num_levels' must be even (Morris design)")
    return options


def _check_samples(origin: str, key: str, method: str, n: int, spec: SweepSpec) -> None:
    def fail(allowed: str) -> None:
        raise SweepError(f"{origin}: key '{key}' = {n} is not allowed for method '{method}'; "
                         f"allowed: {allowed}")

    if method == "sobol" and (n < 4 or n & (n - 1)):
        fail("a power of 2, at least 4 (Sobol' sequences balance only at powers of 2; "
             "convergence is reported at N/4, N/2 and N)")
    if method == "morris" and n < 2:
        fail("at least 2 trajectories")
    if method == "fast":
        m = int(spec.option("M"))
        if n <= 4 * m * m:
            fail(f"more than 4 M^2 = {4 * m * m} runs per factor")
    if method in ("rbd_fast", "latin"):
        m = int(spec.option("M"))
        if n <= 2 * m:
            fail(f"more than 2 M = {2 * m} samples")
    if method == "grid" and n < 2:
        fail("at least 2 levels per factor")
    if method == "grid":
        for f in spec.factors:
            whole = int(f.high - f.low) + 1
            if f.integer and n > whole:
                fail(f"at most {whole} levels: integer factor '{f.key}' has only {whole} "
                     "whole values")


def design_rows(spec: SweepSpec) -> int:
    """Samples (rows of the design) the sweep will evaluate."""
    n, d = spec.samples, len(spec.factors)
    return {"sobol": n * (2 * d + 2 if spec.second_order else d + 2),
            "morris": n * (d + 1), "fast": n * d, "rbd_fast": n, "latin": n,
            "grid": n ** d}[spec.method]


def _check_size(origin: str, spec: SweepSpec) -> None:
    if spec.method == "grid" and len(spec.factors) * math.log10(spec.samples) > 8:
        raise SweepError(f"{origin}: key 'samples' = {spec.samples} levels over "
                         f"{len(spec.factors)} factors is a grid of more than 10^8 points; "
                         f"allowed: at most {MAX_RUNS:,} runs")
    runs = design_rows(spec) * spec.replicates
    if runs > MAX_RUNS:
        raise SweepError(f"{origin}: key 'samples' gives {runs:,} runs; allowed: at most "
                         f"{MAX_RUNS:,} runs")
