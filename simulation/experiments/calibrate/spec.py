"""Targets files: what to fit (a county's own statistics) and which knobs are free.

A targets file is TOML (see targets/m_county.toml):

    name = "m_county"
    county = "m_county"              # the county profile calibrated (name or path)
    description = "..."
    population = "registry.csv"      # optional: household records the runs start from
                                     # (--population's format; path relative to this file)

    [parameters]                     # free parameters: schema key = [] (its schema range)
    "shocks.hospitalisation_rate" = []        # or [low, high] inside the schema range
    "income.volatility" = [0.05, 0.30]

    [start]                          # optional: values the calibration starts from (else the
    "income.volatility" = 0.30       # county's); the best fit is reported against them

    [[target]]
    name = "ever_monitored"
    metric = "ever_monitored_share_formerly_poor"   # a yearly output (metrics.METRICS)
    years = [2025]                   # the years it reads (2021 .. 2025 at most)
    statistic = "mean"               # see STATISTICS
    low = 0.08                       # a range ...
    high = 0.15
    # value = 0.14 and sd = 0.01     # ... or a value with its uncertainty
    unit = "share"                   # for tables: share | yuan/person | ... (optional)
    source = "[baoshan-2021]"

Every problem raises one ScenarioError (exit code 2) naming the file and the key.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from simulation.model.calendar import START_YEAR
from simulation.model.codes import CAUSES
from simulation.model.files import closest_key, find_file
from simulation.model.metrics import METRICS
from simulation.model.params import SCHEMA
from simulation.model.scenario import ScenarioError, check_name, read_toml

TARGET_DIR: Final = Path(__file__).resolve().parents[3] / "targets"
HISTORY_YEARS: Final = 5
"""The calibration window: 2021-2025, the transition period every scenario shares."""
LAST_YEAR: Final = START_YEAR + HISTORY_YEARS - 1
STATISTICS: Final[dict[str, str]] = {
    "mean": "mean of the metric over the years",
    "change": "the metric in the last year minus the first",
    "growth": "mean year-on-year growth rate over consecutive years (ratio - 1)",
    "cause_share": "this cause's share of all causes of identified risk, summed over the years "
                   "(metric: a risk_cause_* column)",
    "cause_leads": "1 if this cause is the leading cause of identified risk over the years, "
                   "else 0 (metric: a risk_cause_* column)",
}
ZERO_WIDTH_SD: Final = 0.05
"""Standard deviation of a zero-width target, relative to its value (assumption)."""
RISK_CAUSES: Final = tuple(f"risk_cause_{c}" for c in CAUSES)
_TOP_KEYS: Final = ("name", "county", "description", "population", "parameters", "start",
                    "target")
_TARGET_KEYS: Final = ("name", "metric", "years", "statistic", "low", "high", "value", "sd",
                       "unit", "source", "description")


@dataclass(frozen=True)
class FreeParameter:
    """A schema key the calibration may move, within [low, high]."""

    key: str
    low: float
    high: float
    integer: bool = False


@dataclass(frozen=True)
class Target:
    """One statistic of a county with what it should be.

    A range target (low, high) is met when the simulated mean lies inside it; its
    implausibility takes half the range as three standard deviations of the observation. A
    value target (value, sd) is met within three standard deviations."""

    name: str
    metric: str
    years: tuple[int, ...]
    statistic: str
    low: float
    high: float
    unit: str = ""
    source: str = ""
    description: str = ""

    @property
    def centre(self) -> float:
        return (self.low + self.high) / 2.0

    @property
    def sd(self) -> float:
        """The observation's standard deviation: a third of the half-range; a zero-width
        target (such as a flag) is read with a standard deviation of 5% of its value (at
        least 0.05), or no replicate mean short of it could ever be plausible."""
        if self.high == self.low:
            return ZERO_WIDTH_SD * max(1.0, abs(self.centre))
        return (self.high - self.low) / 6.0

    def metrics(self) -> tuple[str, ...]:
        return RISK_CAUSES if self.statistic.startswith("cause_") else (self.metric,)

    def of(self, yearly: Mapping[str, Sequence[float]], years: Sequence[int]) -> float:
        """The statistic of one run, from its yearly metrics (`yearly[metric][i]` is year
        `years[i]`)."""
        at = [list(years).index(y) for y in self.years]
        if self.statistic.startswith("cause_"):
            totals = {c: sum(yearly[c][i] for i in at) for c in RISK_CAUSES}
            total = sum(totals.values())
            if self.statistic == "cause_share":
                return totals[self.metric] / total if total else 0.0
            return float(total > 0 and max(totals, key=totals.__getitem__) == self.metric)
        values = [float(yearly[self.metric][i]) for i in at]
        if self.statistic == "mean":
            return float(np.mean(values))
        if self.statistic == "change":
            return values[-1] - values[0]
        ratios = [b / a - 1.0 for a, b in itertools.pairwise(values) if a]
        return float(np.mean(ratios)) if ratios else 0.0


@dataclass(frozen=True)
class CalibrationSpec:
    """A validated targets file."""

    name: str
    county: str
    parameters: tuple[FreeParameter, ...]
    targets: tuple[Target, ...]
    start: Mapping[str, float]
    description: str = ""
    source: str = ""
    population: str | None = None
    """Household records the runs are built from (absolute path), or None: the synthetic
    county."""

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.parameters)

    def metrics(self) -> tuple[str, ...]:
        """Every yearly metric a target reads, once."""
        return tuple(dict.fromkeys(m for t in self.targets for m in t.metrics()))

    def digest(self) -> str:
        doc = {"county": self.county, "parameters": [asdict(p) for p in self.parameters],
               "targets": [asdict(t) for t in self.targets], "start": dict(self.start),
               "population": self.population,
               # the records themselves: an edited file is a different calibration
               "records": hashlib.sha256(Path(self.population).read_bytes()).hexdigest()
               if self.population else None}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def resolve_targets(ref: str | Path) -> Path:
    """A targets reference (name in targets/ or path) -> existing file."""
    return find_file(ref, TARGET_DIR, "targets")


def load_targets(ref: str | Path) -> CalibrationSpec:
    """Read and validate a targets file."""
    path = resolve_targets(ref)
    origin = str(path)
    doc = read_toml(path)
    for key in doc:
        if key not in _TOP_KEYS:
            raise ScenarioError(f"{origin}: unknown key '{key}'; allowed top-level keys: "
                                f"{', '.join(_TOP_KEYS)}")
    name = check_name(origin, doc.get("name", path.stem))
    county = doc.get("county", "m_county")
    if not isinstance(county, str):
        raise ScenarioError(f"{origin}: key 'county' must be a county profile name or path")
    population = doc.get("population")
    if population is not None:
        if not isinstance(population, str) or not (path.parent / population).is_file():
            raise ScenarioError(f"{origin}: key 'population' = {population!r} must name a file "
                                "of household records (CSV or Parquet, path relative to the "
                                "targets file)")
        population = str((path.parent / population).resolve())
    parameters = _parameters(origin, doc.get("parameters"))
    start = _start(origin, doc.get("start", {}))
    targets = _targets(origin, doc.get("target"))
    return CalibrationSpec(name, county, parameters, targets, start,
                           str(doc.get("description", "")), origin, population)


def _schema_param(origin: str, where: str, key: str) -> Any:
    param = SCHEMA.get(key)
    if param is None:
        found = closest_key(key)
        hint = f" (did you mean '{found}'?)" if found else ""
        raise ScenarioError(f"{origin}: unknown key '{where}.\"{key}\"'{hint}; parameters are "
                            "schema keys (`python run.py params` lists them)")
    if param.section in ("run", "sample"):
        raise ScenarioError(f"{origin}: key '{where}.\"{key}\"' describes a run, not a county; "
                            "it cannot be calibrated")
    return param


def _parameters(origin: str, table: Any) -> tuple[FreeParameter, ...]:
    if not isinstance(table, dict) or not table:
        raise ScenarioError(f"{origin}: key 'parameters' must be a table of at least one "
                            "schema key = [] or [low, high]")
    out = []
    for key, bounds in table.items():
        param = _schema_param(origin, "parameters", key)
        where = f"parameters.\"{key}\""
        if bounds == []:
            low, high = param.low, param.high
        elif (isinstance(bounds, list) and len(bounds) == 2
              and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)):
            low, high = float(bounds[0]), float(bounds[1])
            if not param.low <= low < high <= param.high:
                raise ScenarioError(f"{origin}: key '{where}' = {bounds} must be [low, high] "
                                    f"with low < high inside the schema range "
                                    f"{param.range_text()} {param.unit}".rstrip())
        else:
            raise ScenarioError(f"{origin}: key '{where}' must be [] (the schema range "
                                f"{param.range_text()}) or [low, high]")
        out.append(FreeParameter(key, low, high, param.integer))
    return tuple(out)


def _start(origin: str, table: Any) -> dict[str, float]:
    if not isinstance(table, dict):
        raise ScenarioError(f"{origin}: key 'start' must be a table of schema key = value")
    start = {}
    for key, value in table.items():
        param = _schema_param(origin, "start", key)
        try:
            start[key] = param.check(origin, value, f"start.\"{key}\"")
        except ValueError as exc:
            raise ScenarioError(str(exc)) from None
    return start


def _number(origin: str, where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(f"{origin}: key '{where}' must be a finite number, got {value!r}")
    return float(value)


def _targets(origin: str, table: Any) -> tuple[Target, ...]:
    if not isinstance(table, list) or not table or not all(isinstance(t, dict) for t in table):
        raise ScenarioError(f"{origin}: key 'target' must be an array of tables [[target]] "
                            "(at least one)")
    out, names = [], set()
    for i, entry in enumerate(table):
        where = f"target[{i}]"
        extra = sorted(set(entry) - set(_TARGET_KEYS))
        if extra:
            raise ScenarioError(f"{origin}: unknown key '{where}.{extra[0]}'; allowed: "
                                f"{', '.join(_TARGET_KEYS)}")
        name = check_name(origin, entry.get("name"), f"{where}.name")
        if name in names:
            raise ScenarioError(f"{origin}: key '{where}.name' = {name!r} is used twice")
        names.add(name)
        statistic = entry.get("statistic", "mean")
        if statistic not in STATISTICS:
            raise ScenarioError(f"{origin}: key '{where}.statistic' = {statistic!r}; allowed: "
                                f"{', '.join(STATISTICS)}")
        metric = entry.get("metric")
        allowed = RISK_CAUSES if statistic.startswith("cause_") else \
            tuple(m for m in METRICS if m != "year")
        if metric not in allowed:
            found = difflib.get_close_matches(str(metric), allowed, n=1, cutoff=0.6)
            hint = f" (did you mean '{found[0]}'?)" if found else ""
            raise ScenarioError(f"{origin}: key '{where}.metric' = {metric!r} is not a yearly "
                                f"output{hint}; allowed: the names in docs/ODD.md's output "
                                f"table" + (" starting with risk_cause_"
                                            if statistic.startswith("cause_") else ""))
        years = entry.get("years")
        if (not isinstance(years, list) or not years
                or not all(isinstance(y, int) and not isinstance(y, bool)
                           and START_YEAR <= y <= LAST_YEAR for y in years)
                or sorted(set(years)) != years):
            raise ScenarioError(f"{origin}: key '{where}.years' must be a list of increasing "
                                f"years in [{START_YEAR}, {LAST_YEAR}] (the history the "
                                f"calibration runs), got {years!r}")
        if statistic in ("change", "growth") and len(years) < 2:
            raise ScenarioError(f"{origin}: key '{where}.years' needs at least two years for "
                                f"statistic '{statistic}'")
        has_range = "low" in entry or "high" in entry
        has_value = "value" in entry or "sd" in entry
        if has_range == has_value:
            raise ScenarioError(f"{origin}: key '{where}' needs either low and high (a range) "
                                "or value and sd (a value with its uncertainty)")
        if has_range:
            low = _number(origin, f"{where}.low", entry.get("low"))
            high = _number(origin, f"{where}.high", entry.get("high"))
            if low > high:
                raise ScenarioError(f"{origin}: key '{where}.low' = {low:g} must not exceed "
                                    f"'{where}.high' = {high:g}")
        else:
            value = _number(origin, f"{where}.value", entry.get("value"))
            sd = _number(origin, f"{where}.sd", entry.get("sd"))
            if sd <= 0:
                raise ScenarioError(f"{origin}: key '{where}.sd' must be above 0, got {sd:g}")
            low, high = value - 3.0 * sd, value + 3.0 * sd
        text = {k: entry.get(k, "") for k in ("unit", "source", "description")}
        for k, v in text.items():
            if not isinstance(v, str):
                raise ScenarioError(f"{origin}: key '{where}.{k}' must be a string")
        out.append(Target(name, metric, tuple(years), statistic, low, high, **text))
    return tuple(out)
