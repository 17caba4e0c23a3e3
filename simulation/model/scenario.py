"""TOML scenario files: inheritance (`base`), validation against the schema, resolved output.

A scenario file sets knob values by section, may name a `base` scenario and override only what
changes, and may schedule dated policy changes and disasters:

    name = "transfer_withdrawal"
    base = "baseline"
    description = "Direct transfers to formerly poor households stop from 2026."

    [[schedule]]
    date = "2026-01"                       # takes effect from the first month of 2026
    set = { "income.formerly_poor_subsidy" = 0.0 }

    [[disasters]]
    date = "2027-07"
    village_share = 0.33                   # share of villages hit

Every problem is reported as one ScenarioError naming the file, the key and what is allowed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from simulation.model.calendar import START_YEAR, month_label
from simulation.model.county import County, default_county, load_county
from simulation.model.files import NAME as NAME  # re-exported: scenario names
from simulation.model.files import ScenarioError as ScenarioError
from simulation.model.files import check_consistency as check_consistency
from simulation.model.files import check_name as check_name
from simulation.model.files import checked as checked
from simulation.model.files import flatten as flatten
from simulation.model.files import read_inheriting, toml_num, toml_str
from simulation.model.files import read_toml as read_toml
from simulation.model.files import validate_value as validate_value
from simulation.model.params import SCHEMA, SECTIONS, Param

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
_META_KEYS = ("name", "base", "description", "policy_date", "county_profile",
              "population_file")
DEFAULT_POLICY_MONTH = (2026 - START_YEAR) * 12
"""January 2026: strategies take effect after the 2021-2025 history (docs/ODD.md §2)."""
STRUCTURAL_SECTIONS = ("run", "county", "sample", "population")
"""Sections that describe the county and the run rather than a policy: a scenario's values of
these hold from the start; every other value takes effect at its policy date."""
_DATE = re.compile(r"^(\d{4})-(\d{2})$")




@dataclass(frozen=True, slots=True)
class PolicyChange:
    """Knob values that take effect from `month` (months since January 2021)."""

    month: int
    values: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Disaster:
    """A scheduled covariate disaster (e.g. a severe flood) in `month`."""

    month: int
    village_share: float
    production_loss: float
    asset_loss: float
    months: int


def _disaster_field(name: str, schema_key: str, doc: str) -> Param:
    """A [[disasters]] entry's field: the schema's random-disaster parameter, under its name."""
    p = SCHEMA[schema_key]
    return Param(f"disasters.{name}", p.default, p.low, p.high, p.unit, doc,
                 f"default: {schema_key}", p.integer)


DISASTER_FIELDS: dict[str, Param] = {
    "village_share": _disaster_field("village_share", "shocks.disaster_village_share",
                                     "villages hit"),
    "production_loss": _disaster_field("production_loss", "shocks.disaster_production_loss",
                                       "production income lost while recovering"),
    "asset_loss": _disaster_field("asset_loss", "shocks.disaster_asset_loss",
                                  "one-off asset loss"),
    "months": _disaster_field("months", "shocks.disaster_months", "months of reduced production"),
}
"""Fields of a [[disasters]] entry; a missing field takes the default."""


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: every schema key has a value; events are sorted by month."""

    name: str
    values: Mapping[str, float]
    description: str = ""
    base: str | None = None
    source: str = "<defaults>"
    schedule: tuple[PolicyChange, ...] = ()
    disasters: tuple[Disaster, ...] = ()
    chain: tuple[str, ...] = field(default=())
    policy_month: int = DEFAULT_POLICY_MONTH
    county: County = field(default_factory=default_county)
    """The place: its profile's values are the status quo the run starts from."""
    settings: Mapping[str, float] = field(default_factory=dict)
    """The keys the scenario's files (and the command line) set on top of the county."""
    population_file: str | None = None
    """Household records the run's population is built from (simulation.model.microdata);
    None: the synthetic county."""

    @property
    def years(self) -> int:
        return int(self.values["run.years"])

    @property
    def households(self) -> int:
        return int(self.values["run.households"])

    def with_values(self, overrides: Mapping[str, float], origin: str = "command line") -> Scenario:
        """A copy with some keys changed (validated like a file's values)."""
        checked = {k: validate_value(origin, k, v) for k, v in overrides.items()}
        values = {**self.values, **checked}
        check_consistency(origin, values)
        return replace(self, values=values, settings={**self.settings, **checked})

    def with_county(self, county: County, origin: str = "command line") -> Scenario:
        """The same scenario in another county: the profile's values under the scenario's
        own settings (a strategy file applies to any county unchanged)."""
        values = {**county.values, **self.settings}
        check_consistency(f"{origin} (county profile {county.name!r})", values)
        return replace(self, values=values, county=county)

    def with_population(self, path: str | Path) -> Scenario:
        """A copy whose population is built from the household records in `path` (stored as
        an absolute path, so worker processes and saved scenarios find the same file)."""
        return replace(self, population_file=str(Path(path).resolve()))

    def late_events(self) -> list[str]:
        """Dated changes and disasters after the horizon (they will not happen), described."""
        last = self.years * 12 - 1
        late = [f"[[{what}]] dated {month_label(m)}"
                for what, months in (("schedule", [c.month for c in self.schedule]),
                                     ("disasters", [d.month for d in self.disasters]))
                for m in months if m > last]
        if self.policy_month > last and self.policy_changes():
            late.insert(0, f"policy_date {month_label(self.policy_month)} (when its "
                           f"{len(self.policy_changes())} knob change(s) take effect)")
        return late

    @property
    def policy_year(self) -> int:
        return START_YEAR + self.policy_month // 12

    def reference_values(self) -> dict[str, float]:
        """The values the run starts from: the county and run as this scenario describes them,
        everything else at the county's status quo (its profile; for M County the schema
        defaults). The initial population is built from these, never from the scenario's
        policy knobs."""
        status_quo = self.county.values
        return {k: (v if k.split(".", 1)[0] in STRUCTURAL_SECTIONS else status_quo[k])
                for k, v in self.values.items()}

    def policy_changes(self) -> dict[str, float]:
        """What this scenario changes at its policy date: its values that differ from the
        reference status quo (keys of the non-structural sections)."""
        reference = self.reference_values()
        return {k: v for k, v in self.values.items() if v != reference[k]}

    def knob_differences(self, other: Scenario) -> dict[str, tuple[float, float]]:
        """Keys whose value differs from `other`'s: key -> (other's value, this value)."""
        return {k: (other.values[k], v) for k, v in self.values.items() if other.values[k] != v}

    def to_toml(self) -> str:
        """The resolved scenario as TOML (every key, after inheritance)."""
        lines = [f"# Resolved scenario (after inheritance from: {' <- '.join(self.chain) or '-'})",
                 f"name = {toml_str(self.name)}",
                 f"description = {toml_str(self.description)}",
                 f"policy_date = {toml_str(month_label(self.policy_month))}",
                 f"county_profile = {toml_str(self.county.ref)}", ""]
        if self.population_file is not None:
            lines.insert(-1, f"population_file = {toml_str(self.population_file)}")
        for section in SECTIONS:
            lines.append(f"[{section}]")
            for key, param in SCHEMA.items():
                if param.section == section:
                    lines.append(f"{param.name} = {toml_num(self.values[key], param)}"
                                 f"  # {param.unit}")
            lines.append("")
        for change in self.schedule:
            items = ", ".join(f"{toml_str(k)} = {toml_num(v, SCHEMA[k])}"
                              for k, v in change.values.items())
            lines += ["[[schedule]]", f"date = {toml_str(month_label(change.month))}",
                      f"set = {{ {items} }}", ""]
        for d in self.disasters:
            lines += ["[[disasters]]", f"date = {toml_str(month_label(d.month))}",
                      f"village_share = {d.village_share!r}",
                      f"production_loss = {d.production_loss!r}",
                      f"asset_loss = {d.asset_loss!r}", f"months = {d.months}", ""]
        return "\n".join(lines)

    def digest(self) -> str:
        """Short content hash of the resolved scenario (for manifests)."""
        return hashlib.sha256(self.to_toml().encode()).hexdigest()[:16]






# ----------------------------------------------------------------------------- validation






def parse_month(origin: str, key: str, text: Any) -> int:
    """'YYYY-MM' -> months since January 2021."""
    m = _DATE.match(text) if isinstance(text, str) else None
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ScenarioError(f"{origin}: key '{key}' must be a date \"YYYY-MM\", got {text!r}")
    month = (int(m.group(1)) - START_YEAR) * 12 + int(m.group(2)) - 1
    last = int(SCHEMA["run.years"].high) * 12 - 1
    if not 0 <= month <= last:
        raise ScenarioError(f"{origin}: key '{key}' = {text!r} is out of range; allowed: "
                            f"{month_label(0)} to {month_label(last)}")
    return month




# ----------------------------------------------------------------------------- loading
def resolve_path(ref: str | Path, relative_to: Path | None = None) -> Path:
    """A scenario reference (name or path) -> existing file path."""
    ref_path = Path(ref)
    candidates = [ref_path]
    if ref_path.suffix != ".toml":
        candidates.append(ref_path.with_name(ref_path.name + ".toml"))
    if relative_to is not None and not ref_path.is_absolute():
        candidates += [relative_to / c for c in list(candidates)]
    if not ref_path.is_absolute() and len(ref_path.parts) == 1:
        candidates += [SCENARIO_DIR / c.name for c in list(candidates)]
    for c in candidates:
        if c.is_file():
            return c
    shipped = ", ".join(p.stem for p in shipped_scenarios())
    raise ScenarioError(f"{ref}: no such scenario file (shipped scenarios: {shipped})")


def load_scenario(ref: str | Path) -> Scenario:
    """Load, inherit and validate a scenario given its name or path."""
    return _load(resolve_path(ref), ())






def _load(path: Path, seen: tuple[str, ...]) -> Scenario:
    doc, origin, key = read_inheriting(path, seen, _META_KEYS)

    if "base" in doc:
        try:
            base_path = resolve_path(doc["base"], path.parent)
        except ScenarioError as exc:
            raise ScenarioError(f"{origin}: key 'base' = {doc['base']!r} names no scenario "
                                f"({str(exc).split(': ', 1)[1]})") from None
        parent = _load(base_path, (*seen, key))
        settings = dict(parent.settings)
        schedule, disasters, chain = list(parent.schedule), list(parent.disasters), parent.chain
        policy_month, county = parent.policy_month, parent.county
        population_file = parent.population_file
    else:
        settings, schedule, disasters, chain = {}, [], [], ()
        policy_month, county = DEFAULT_POLICY_MONTH, default_county()
        population_file = None
    if "population_file" in doc:  # relative to the scenario file, like `base`
        population_file = str((path.parent / doc["population_file"]).resolve())
    if "policy_date" in doc:
        policy_month = parse_month(origin, "policy_date", doc["policy_date"])
    if "county_profile" in doc:
        try:
            county = load_county(doc["county_profile"], path.parent)
        except ScenarioError as exc:
            if str(exc).startswith(f"{doc['county_profile']}: no such county profile"):
                raise ScenarioError(f"{origin}: key 'county_profile' = "
                                    f"{doc['county_profile']!r} names no county profile "
                                    f"({str(exc).split(': ', 1)[1]})") from None
            raise

    inherited = len(schedule), len(disasters)
    for name, table in doc.items():
        if name in _META_KEYS:
            continue
        if name == "schedule":
            schedule += parse_schedule(origin, table)
        elif name == "disasters":
            disasters += parse_disasters(origin, table)
        elif name in SECTIONS:
            if not isinstance(table, dict):
                raise ScenarioError(f"{origin}: key '{name}' must be a table [{name}]")
            for k, v in flatten(table, name + ".").items():
                settings[k] = validate_value(origin, k, v)
        else:
            allowed = ", ".join((*_META_KEYS, *SECTIONS, "schedule", "disasters"))
            raise ScenarioError(f"{origin}: unknown key '{name}'; "
                                f"allowed top-level keys: {allowed}")

    values = {**county.values, **settings}
    check_consistency(origin, values)
    name = check_name(origin, doc["name"]) if "name" in doc else \
        check_name(origin, path.stem, "name (taken from the file name)")
    scenario = Scenario(
        name=name, values=values, description=doc.get("description", ""),
        base=doc.get("base"), source=origin,
        schedule=tuple(sorted(schedule, key=lambda c: c.month)),
        disasters=tuple(sorted(disasters, key=lambda d: d.month)), chain=(*chain, path.stem),
        policy_month=policy_month, county=county, settings=settings,
        population_file=population_file)
    # in a file, an event of its own that can never happen is a mistake (a base scenario's
    # later events simply fall outside a shorter run)
    late = replace(scenario, schedule=tuple(schedule[inherited[0]:]),
                   disasters=tuple(disasters[inherited[1]:])).late_events()
    if late:
        raise ScenarioError(
            f"{origin}: {late[0]} is after the horizon (run.years = {scenario.years}: "
            f"{month_label(0)} to {month_label(scenario.years * 12 - 1)}); lengthen run.years "
            "or move the date")
    return scenario


def _entries(origin: str, name: str, table: Any) -> Iterable[tuple[str, dict[str, Any]]]:
    if not isinstance(table, list) or not all(isinstance(e, dict) for e in table):
        raise ScenarioError(f"{origin}: key '{name}' must be an array of tables [[{name}]]")
    for i, entry in enumerate(table):
        yield f"{name}[{i}]", entry


def parse_schedule(origin: str, table: Any) -> list[PolicyChange]:
    changes = []
    for where, entry in _entries(origin, "schedule", table):
        extra = set(entry) - {"date", "set"}
        if extra:
            raise ScenarioError(f"{origin}: unknown key '{where}.{sorted(extra)[0]}'; "
                                "allowed: date, set")
        if "date" not in entry or "set" not in entry or not isinstance(entry["set"], dict):
            raise ScenarioError(f"{origin}: key '{where}' needs date = \"YYYY-MM\" and "
                                "set = {{ \"section.key\" = value }}")
        month = parse_month(origin, f"{where}.date", entry["date"])
        values = {k: validate_value(origin, k, v) for k, v in flatten(entry["set"]).items()}
        if any(k.startswith(("run.", "county.", "sample.", "population.")) for k in values):
            raise ScenarioError(f"{origin}: key '{where}.set' may only change mechanism, "
                                "policy, shock and cost keys (not run/county/sample/population)")
        changes.append(PolicyChange(month, values))
    return changes


def parse_disasters(origin: str, table: Any) -> list[Disaster]:
    disasters = []
    for where, entry in _entries(origin, "disasters", table):
        extra = set(entry) - {"date", *DISASTER_FIELDS}
        if extra:
            raise ScenarioError(f"{origin}: unknown key '{where}.{sorted(extra)[0]}'; allowed: "
                                f"date, {', '.join(DISASTER_FIELDS)}")
        if "date" not in entry:
            raise ScenarioError(f"{origin}: key '{where}.date' is missing (\"YYYY-MM\")")
        month = parse_month(origin, f"{where}.date", entry["date"])
        fields = {f: checked(param, origin, entry.get(f, param.default), f"{where}.{f}")
                  for f, param in DISASTER_FIELDS.items()}
        disasters.append(Disaster(month, fields["village_share"], fields["production_loss"],
                                  fields["asset_loss"], int(fields["months"])))
    return disasters




def shipped_scenarios() -> list[Path]:
    """Every scenario file shipped in scenarios/ (not sweeps, not hidden files)."""
    return sorted(p for p in SCENARIO_DIR.glob("*.toml") if not p.name.startswith("."))
