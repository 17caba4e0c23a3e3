"""County profiles: `counties/<name>.toml` describes a place, not a policy.

A profile holds what differs between counties — households by category, villages, age
structure, incomes, the paths of the monitoring line and the 低保 standard, programme unit
costs, base rates of shocks, and the status quo of the four mechanisms — as values of the one
schema (simulation/model/params.py). A scenario names its county (`county_profile = "..."`,
default M County) and sets only policy on top, so every strategy file applies to any county
unchanged:

    name = "baoshan"
    description = "Baoshan, Yunnan, 2021"
    base = "m_county"                 # optional: inherit a profile, override what differs
    [county]
    households = 150000.0

A profile may set any schema key except `run.*` and `sample.*`, which describe a run rather
than a place. Values are validated like a scenario's (file, key, allowed range; exit 2). The
schema's defaults *are* M County, so counties/m_county.toml states them explicitly and serves
as the template for a new county (`python run.py county --template`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulation.model.files import (
    ScenarioError,
    check_consistency,
    check_name,
    flatten,
    read_inheriting,
    toml_num,
    toml_str,
    validate_value,
)
from simulation.model.params import SCHEMA, SECTIONS, defaults

COUNTY_DIR = Path(__file__).resolve().parents[2] / "counties"
DEFAULT_COUNTY = "m_county"
RUN_SECTIONS = ("run", "sample")
"""Sections a profile may not set: the horizon and the sample design belong to a run."""
PLACE_SECTIONS = tuple(s for s in SECTIONS if s not in RUN_SECTIONS)
_META_KEYS = ("name", "base", "description")


@dataclass(frozen=True)
class County:
    """A resolved county profile.

    Attributes:
        name: the profile's name (its file stem unless the file says otherwise).
        values: every schema key: the schema default unless the profile (or a base) sets it.
        settings: the keys the profile and its bases set explicitly.
        source: the file it was read from ("<defaults>" for the built-in M County).
    """

    name: str
    values: Mapping[str, float]
    settings: Mapping[str, float] = field(default_factory=dict)
    description: str = ""
    source: str = "<defaults>"
    chain: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """How a resolved scenario names this profile so that it can be found again: the name
        of a shipped profile, else the file's absolute path."""
        if self.source == "<defaults>":
            return self.name
        path = Path(self.source).resolve()
        return self.name if path.parent == COUNTY_DIR and path.stem == self.name else str(path)

    def with_values(self, overrides: Mapping[str, float], origin: str = "command line",
                    name: str | None = None) -> County:
        """A copy with some keys changed (validated as a profile's values), e.g. the
        calibrated values of a county's free parameters."""
        checked = {k: _place_value(origin, k, v, validate_value) for k, v in overrides.items()}
        values = {**self.values, **checked}
        check_consistency(origin, values)
        return County(name or self.name, values, {**self.settings, **checked},
                      self.description, self.source, self.chain)

    def to_toml(self, header: str = "", base: str | None = None) -> str:
        """The profile as a county file. With `base`, only the keys whose value differs from
        the schema default or that the profile sets are written, under `base = ...`."""
        lines = [f"# {line}".rstrip() for line in header.splitlines()]
        lines += [f"name = {toml_str(self.name)}",
                  f"description = {toml_str(self.description)}"]
        if base is not None:
            lines.append(f"base = {toml_str(base)}")
        lines.append("")
        keys = [k for k in SCHEMA if SCHEMA[k].section in PLACE_SECTIONS
                and (base is None or k in self.settings
                     or self.values[k] != SCHEMA[k].default)]
        for section in PLACE_SECTIONS:
            mine = [k for k in keys if SCHEMA[k].section == section]
            if not mine:
                continue
            lines.append(f"[{section}]")
            for key in mine:
                param = SCHEMA[key]
                lines.append(f"{param.name} = {toml_num(self.values[key], param)}"
                             f"  # {param.unit}; {param.range_text()}")
            lines.append("")
        return "\n".join(lines)


def default_county() -> County:
    """M County: the schema defaults (the same values as counties/m_county.toml)."""
    return County(DEFAULT_COUNTY, defaults(), {}, "M County, H Province (the study's county)")


def _place_value(origin: str, key: str, value: Any, validate: Any) -> float:
    section = key.split(".", 1)[0]
    if section in RUN_SECTIONS and key in SCHEMA:
        raise ScenarioError(f"{origin}: key '{key}' describes a run, not a county; a county "
                            f"profile may set keys of the sections {', '.join(PLACE_SECTIONS)}")
    # Keep the schema's number type (int for whole-number keys): the compiled loops are
    # specialised on argument types, so a float where the defaults hold an int would compile
    # a second variant of every loop in every worker.
    return validate(origin, key, value)


def shipped_counties() -> list[Path]:
    """Every profile shipped in counties/ (not hidden files)."""
    return sorted(p for p in COUNTY_DIR.glob("*.toml") if not p.name.startswith("."))


def resolve_county_path(ref: str | Path, relative_to: Path | None = None) -> Path:
    """A county reference (name or path) -> existing file path; CountyError naming the
    shipped profiles otherwise."""
    ref_path = Path(ref)
    candidates = [ref_path]
    if ref_path.suffix != ".toml":
        candidates.append(ref_path.with_name(ref_path.name + ".toml"))
    if relative_to is not None and not ref_path.is_absolute():
        candidates += [relative_to / c for c in list(candidates)]
    if not ref_path.is_absolute() and len(ref_path.parts) == 1:
        shipped = [COUNTY_DIR / c.name for c in candidates[:2]]
        # a bare name is a shipped profile first (a file of that name elsewhere, such as a
        # targets file beside it, is not a county)
        candidates = shipped + candidates if ref_path.suffix != ".toml" else \
            candidates + shipped
    for c in candidates:
        if c.is_file():
            return c
    names = ", ".join(p.stem for p in shipped_counties())
    raise ScenarioError(f"{ref}: no such county profile (shipped profiles: {names})")


def load_county(ref: str | Path, relative_to: Path | None = None) -> County:
    """Load, inherit and validate a county profile given its name or path."""
    return _load(resolve_county_path(ref, relative_to), ())


def _load(path: Path, seen: tuple[str, ...]) -> County:
    doc, origin, key = read_inheriting(path, seen, _META_KEYS)
    if "base" in doc:
        try:
            base_path = resolve_county_path(doc["base"], path.parent)
        except ScenarioError as exc:
            raise ScenarioError(f"{origin}: key 'base' = {doc['base']!r} names no county "
                                f"profile ({str(exc).split(': ', 1)[1]})") from None
        parent = _load(base_path, (*seen, key))
        settings, chain = dict(parent.settings), parent.chain
    else:
        settings, chain = {}, ()
    for name, table in doc.items():
        if name in _META_KEYS:
            continue
        if name in SECTIONS:
            if not isinstance(table, dict):
                raise ScenarioError(f"{origin}: key '{name}' must be a table [{name}]")
            for k, v in flatten(table, name + ".").items():
                settings[k] = _place_value(origin, k, v, validate_value)
        else:
            raise ScenarioError(f"{origin}: unknown key '{name}'; allowed top-level keys: "
                                f"{', '.join((*_META_KEYS, *PLACE_SECTIONS))}")
    values = {**defaults(), **settings}
    check_consistency(origin, values)
    name = check_name(origin, doc["name"]) if "name" in doc else \
        check_name(origin, path.stem, "name (taken from the file name)")
    return County(name, values, settings, doc.get("description", ""), origin,
                  (*chain, path.stem))


def template() -> str:
    """counties/m_county.toml: every place key at M County's value, unit, range and source."""
    lines = [
        "# M County, H Province: the study's county and the model's default profile.",
        "# Every value here is the schema default (simulation/model/params.py, where each one",
        "# has its source); a test keeps the two equal. To describe another county, copy this",
        "# file to counties/<name>.toml, set `name`, change what differs (citing your source",
        "# next to each value), and delete the rest, or keep `base = \"m_county\"` and list",
        "# only what differs. `python run.py params baseline` shows each key's documentation.",
        'name = "m_county"',
        'description = "M County, H Province (central China): the county of the study"',
        "",
    ]
    for section in PLACE_SECTIONS:
        lines.append(f"[{section}]")
        for param in SCHEMA.values():
            if param.section == section:
                lines.append(f"{param.name} = {toml_num(param.default, param)}"
                             f"  # {param.unit}; {param.range_text()}; {param.doc}")
        lines.append("")
    return "\n".join(lines)
