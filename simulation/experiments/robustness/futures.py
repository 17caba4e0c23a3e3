"""Futures files: the uncertainty a ranking of strategies must survive, and the futures drawn.

A futures file is TOML (futures/README.md; the shipped one is futures/m_county.toml):

    name = "m_county"
    county = "m_county"                       # the county profile (--county overrides)
    description = "..."

    [ensemble]                                # optional: calibrated parameter sets
    folder = "m_county_ensemble.csv"          # a `calibrate` output folder, or a CSV/Parquet
                                              # file of schema-key columns (+ `member`)
    [uncertain]                               # status-quo constants sampled in a range
    "industry.job_share" = [0.1, 0.5]         # [low, high] inside the schema range ...
    "monitoring.data_recall" = []             # ... or [] for the schema range

    [structural.no_project_jobs]              # a switch: in a share p of the futures ...
    p = 0.5
    set = { "industry.job_share" = 0.0 }      # ... these status-quo values hold

    [shocks.downturn]                         # a what-if shock: in a share p of the futures
    p = 0.3                                   # every strategy lives it (scenario format)
    [[shocks.downturn.schedule]]
    date = "2027-01"
    set = { "shocks.downturn_multiplier" = 3.0 }

Future f takes ensemble member `order[f mod M]` (one seeded permutation of the M members,
cycled, so every member is used equally often), the uncertain constants at the f-th point of
a Latin hypercube, and each switch and shock with its probability. The status quo of the
future is the county with, in this order, the member's values, the uncertain values and the
values of the switches that hold (a switch wins). Futures depend only on the file, the number
of futures and the seed: each component has its own random stream derived from the seed, and
the runs' seeds another (run_seed).

Every problem raises one ScenarioError (exit code 2) naming the file and the key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from simulation.experiments.calibrate.emulate import latin
from simulation.model.county import County, load_county
from simulation.model.files import closest_key, find_file, flatten, read_toml, validate_value
from simulation.model.params import SCHEMA
from simulation.model.scenario import (
    Disaster,
    PolicyChange,
    Scenario,
    ScenarioError,
    check_name,
    parse_disasters,
    parse_schedule,
)

FUTURES_DIR: Final = Path(__file__).resolve().parents[3] / "futures"
DEFAULT_FUTURES: Final = "m_county"
_TOP_KEYS: Final = ("name", "county", "description", "ensemble", "uncertain", "structural",
                    "shocks")
ID_COLUMNS: Final = ("member", "point")
"""Columns of an ensemble file that name a member rather than set a value."""
SWITCH: Final = "switch:"
SHOCK: Final = "shock:"
"""Prefixes of the futures table's 0/1 columns of switches and shocks."""

# streams of the seed (np.random.default_rng([seed, STREAM, ...])): futures and runs apart
_STREAM_LHS, _STREAM_MEMBERS, _STREAM_SWITCHES, _STREAM_SHOCKS, _STREAM_RUNS = range(1, 6)


@dataclass(frozen=True)
class Uncertain:
    """A status-quo constant sampled in [low, high] (whole numbers rounded)."""

    key: str
    low: float
    high: float
    integer: bool = False

    def value(self, u: float) -> float:
        v = self.low + float(u) * (self.high - self.low)
        return float(round(v)) if self.integer else v


@dataclass(frozen=True)
class Switch:
    """A structural alternative that holds in a share `p` of the futures."""

    name: str
    p: float
    values: Mapping[str, float]


@dataclass(frozen=True)
class Shock:
    """A what-if shock every strategy lives in a share `p` of the futures."""

    name: str
    p: float
    schedule: tuple[PolicyChange, ...] = ()
    disasters: tuple[Disaster, ...] = ()


@dataclass(frozen=True)
class FuturesSpec:
    """A resolved futures file (see the module docstring)."""

    name: str
    source: str
    county: str
    description: str = ""
    ensemble: pd.DataFrame | None = None
    """One row per member: `member` and the schema keys it sets."""
    ensemble_source: str = ""
    uncertain: tuple[Uncertain, ...] = ()
    switches: tuple[Switch, ...] = ()
    shocks: tuple[Shock, ...] = ()
    content: bytes = field(default=b"", repr=False)
    """The file's bytes and the ensemble's (the fingerprint of a robustness folder)."""

    @property
    def ensemble_keys(self) -> list[str]:
        if self.ensemble is None:
            return []
        return [c for c in self.ensemble.columns if c != "member"]

    def digest(self) -> str:
        return hashlib.sha256(self.content).hexdigest()[:16]


# ----------------------------------------------------------------------------- reading
def resolve_futures_path(ref: str | Path) -> Path:
    """A futures reference (a name in futures/ or a path) -> existing file path."""
    return find_file(ref, FUTURES_DIR, "futures")


def load_futures(ref: str | Path) -> FuturesSpec:
    """Read and check a futures file (ScenarioError naming file and key otherwise)."""
    path = resolve_futures_path(ref)
    doc = read_toml(path)
    origin = str(path)
    for key in doc:
        if key not in _TOP_KEYS:
            raise ScenarioError(f"{origin}: unknown key '{key}'; allowed top-level keys: "
                                f"{', '.join(_TOP_KEYS)}")
    for key in ("name", "county", "description"):
        if key in doc and not isinstance(doc[key], str):
            raise ScenarioError(f"{origin}: key '{key}' must be a string, got {doc[key]!r}")
    name = check_name(origin, doc.get("name", path.stem))
    content = path.read_bytes()
    ensemble, ensemble_source, county = None, "", doc.get("county")
    if "ensemble" in doc:
        table = doc["ensemble"]
        if not isinstance(table, dict) or set(table) != {"folder"} or \
                not isinstance(table["folder"], str):
            raise ScenarioError(f"{origin}: key 'ensemble' must be a table with one key, "
                                "folder = \"...\" (a calibrate output folder or a CSV/Parquet "
                                "file of schema-key columns)")
        ensemble, ensemble_source, targets_county = read_ensemble(
            origin, path.parent / table["folder"])
        county = county or targets_county
        content += Path(ensemble_source).read_bytes() if Path(ensemble_source).is_file() \
            else b""
        content += ensemble.to_csv(index=False).encode()
    uncertain = _uncertain(origin, doc.get("uncertain", {}))
    switches = _switches(origin, doc.get("structural", {}))
    shocks = _shocks(origin, doc.get("shocks", {}))
    if ensemble is not None:
        both = sorted(set(ensemble.columns) & {u.key for u in uncertain})
        if both:
            raise ScenarioError(f"{origin}: key 'uncertain.\"{both[0]}\"' is also set by every "
                                f"member of the ensemble ({ensemble_source}); a value comes "
                                "from one of them: remove it from [uncertain] or from the "
                                "ensemble")
    spec = FuturesSpec(name, origin, county or "m_county", doc.get("description", ""),
                       ensemble, ensemble_source, uncertain, switches, shocks, content)
    check_extremes(spec, load_county(spec.county, path.parent))
    return spec


def read_ensemble(origin: str, path: Path) -> tuple[pd.DataFrame, str, str | None]:
    """An ensemble: a calibrate folder (ensemble.parquet with its targets.toml's parameters)
    or a CSV/Parquet file of schema-key columns (and `member`). Returns the members (column
    `member`, then the schema keys), the file read and the county a calibrate folder names."""
    county = None
    if path.is_dir():
        from simulation.experiments.calibrate.spec import load_targets

        file, targets = path / "ensemble.parquet", path / "targets.toml"
        if not file.is_file() or not targets.is_file():
            raise ScenarioError(f"{origin}: key 'ensemble.folder' = {str(path)!r} is not a "
                                "calibrate output folder (it needs ensemble.parquet and "
                                "targets.toml)")
        spec = load_targets(targets)
        county = spec.county
        frame = pd.read_parquet(file)
        missing = [k for k in spec.keys if k not in frame.columns]
        if missing:
            raise ScenarioError(f"{file}: column '{missing[0]}' of the calibrated parameters "
                                "is missing")
        members = frame["point"].to_numpy() if "point" in frame.columns else \
            range(len(frame))
        frame = frame[list(spec.keys)].copy()
        frame.insert(0, "member", members)  # the calibration's point id
    elif path.is_file():
        file = path
        try:
            frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        except Exception as exc:  # any unreadable table: one message naming the file
            raise ScenarioError(f"{path}: cannot be read as a {path.suffix or 'CSV'} table "
                                f"({exc})") from None
        ids = [c for c in frame.columns if c in ID_COLUMNS]
        members = frame[ids[0]].to_numpy() if ids else np.arange(len(frame))
        frame = frame.drop(columns=ids)
        for col in frame.columns:
            if col not in SCHEMA:
                hint = closest_key(str(col))
                raise ScenarioError(f"{path}: column '{col}' is not a schema key"
                                    + (f" (did you mean '{hint}'?)" if hint else "")
                                    + f"; an ensemble file has only schema-key columns and "
                                      f"an id column ({', '.join(ID_COLUMNS)})")
        frame.insert(0, "member", members)
    else:
        raise ScenarioError(f"{origin}: key 'ensemble.folder' = {str(path)!r}: no such folder "
                            "or file")
    if not len(frame):
        raise ScenarioError(f"{file}: the ensemble has no members")
    if "member" not in frame.columns:
        frame.insert(0, "member", np.arange(len(frame)))
    if frame["member"].duplicated().any():
        raise ScenarioError(f"{file}: column 'member' repeats a member id")
    for row in frame.to_dict("records"):
        for key in frame.columns[1:]:
            validate_value(f"{file} (member {row['member']})", key, row[key])
    frame = frame.reset_index(drop=True)
    frame[frame.columns[1:]] = frame[frame.columns[1:]].astype(float)
    return frame, str(file), county


def _uncertain(origin: str, table: Any) -> tuple[Uncertain, ...]:
    if not isinstance(table, dict):
        raise ScenarioError(f"{origin}: key 'uncertain' must be a table of \"key\" = "
                            "[low, high] (or [] for the schema range)")
    out = []
    for key, bounds in flatten(table).items():
        param = SCHEMA.get(key)
        where = f"uncertain.\"{key}\""
        if param is None:
            hint = closest_key(key)
            raise ScenarioError(f"{origin}: unknown key '{where}'"
                                + (f" (did you mean '{hint}'?)" if hint else ""))
        if param.section in ("run", "sample"):
            raise ScenarioError(f"{origin}: key '{where}' describes a run, not the county's "
                                "status quo; it cannot be uncertain")
        if not isinstance(bounds, list) or len(bounds) not in (0, 2) or not all(
                isinstance(b, int | float) and not isinstance(b, bool) for b in bounds):
            raise ScenarioError(f"{origin}: key '{where}' must be [low, high] or [] (the "
                                f"schema range {param.range_text()})")
        low, high = (param.low, param.high) if not bounds else map(float, bounds)
        if not param.low <= low < high <= param.high:
            raise ScenarioError(f"{origin}: key '{where}' = [{low:g}, {high:g}] must be a range "
                                f"low < high inside the schema range {param.range_text()}")
        out.append(Uncertain(key, low, high, param.integer))
    return tuple(out)


def _probability(origin: str, where: str, entry: dict[str, Any]) -> float:
    p = entry.get("p")
    if not isinstance(p, int | float) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ScenarioError(f"{origin}: key '{where}.p' must be a probability in [0, 1], "
                            f"got {p!r}")
    return float(p)


def _switches(origin: str, table: Any) -> tuple[Switch, ...]:
    if not isinstance(table, dict):
        raise ScenarioError(f"{origin}: key 'structural' must hold tables [structural.NAME]")
    out = []
    for name, entry in table.items():
        where = f"structural.{name}"
        check_name(origin, name, where)
        if not isinstance(entry, dict) or set(entry) - {"p", "set", "description"} or \
                not isinstance(entry.get("set"), dict) or not entry["set"]:
            raise ScenarioError(f"{origin}: key '{where}' needs p = probability and set = "
                                "{ \"section.key\" = value, ... } (and may have description)")
        p = _probability(origin, where, entry)
        values = {k: validate_value(origin, k, v) for k, v in flatten(entry["set"]).items()}
        bad = [k for k in values if SCHEMA[k].section in ("run", "sample")]
        if bad:
            raise ScenarioError(f"{origin}: key '{where}.set.\"{bad[0]}\"' describes a run, "
                                "not the county's status quo")
        out.append(Switch(name, p, values))
    return tuple(out)


def _shocks(origin: str, table: Any) -> tuple[Shock, ...]:
    if not isinstance(table, dict):
        raise ScenarioError(f"{origin}: key 'shocks' must hold tables [shocks.NAME]")
    out = []
    for name, entry in table.items():
        where = f"shocks.{name}"
        check_name(origin, name, where)
        if not isinstance(entry, dict) or set(entry) - {"p", "schedule", "disasters",
                                                        "description"}:
            raise ScenarioError(f"{origin}: key '{where}' may hold p, description, "
                                "[[schedule]] and [[disasters]] entries")
        if "schedule" not in entry and "disasters" not in entry:
            raise ScenarioError(f"{origin}: key '{where}' needs [[{where}.schedule]] or "
                                f"[[{where}.disasters]] entries")
        p = _probability(origin, where, entry)
        inner = f"{origin} [{where}]"
        schedule = parse_schedule(inner, entry.get("schedule", []))
        disasters = parse_disasters(inner, entry.get("disasters", []))
        out.append(Shock(name, p, tuple(schedule), tuple(disasters)))
    return tuple(out)


def check_extremes(spec: FuturesSpec, county: County) -> None:
    """Every member with the uncertain constants at their ends and every switch on must still
    be a valid county (cross-key rules), so that no future fails after the runs start."""
    members = spec.ensemble.to_dict("records") if spec.ensemble is not None else [{}]
    for member in members:
        values = {k: v for k, v in member.items() if k != "member"}
        for end in ("low", "high"):
            trial = {**values, **{u.key: getattr(u, end) for u in spec.uncertain}}
            for s in spec.switches:
                trial.update(s.values)
            county.with_values(trial, origin=spec.source)


# ----------------------------------------------------------------------------- futures
def make_futures(spec: FuturesSpec, count: int, seed: int) -> pd.DataFrame:
    """The futures table: one row per future: `future`, `member` (-1 without an ensemble),
    every ensemble key's and uncertain key's value, and a 0/1 column per switch
    (`switch:NAME`) and shock (`shock:NAME`). Deterministic in (spec, count, seed)."""
    table: dict[str, Any] = {"future": np.arange(count)}
    if spec.ensemble is not None:
        m = len(spec.ensemble)
        order = np.random.default_rng([seed, _STREAM_MEMBERS]).permutation(m)
        rows = order[np.arange(count) % m]
        table["member"] = spec.ensemble["member"].to_numpy()[rows]
        for key in spec.ensemble_keys:
            table[key] = spec.ensemble[key].to_numpy()[rows]
    else:
        table["member"] = np.full(count, -1)
    if spec.uncertain:
        unit = latin(count, len(spec.uncertain), np.random.default_rng([seed, _STREAM_LHS]))
        for j, u in enumerate(spec.uncertain):
            table[u.key] = [u.value(x) for x in unit[:, j]]
    draws = np.random.default_rng([seed, _STREAM_SWITCHES]).random((count, len(spec.switches)))
    for j, s in enumerate(spec.switches):
        table[SWITCH + s.name] = (draws[:, j] < s.p).astype(int)
    draws = np.random.default_rng([seed, _STREAM_SHOCKS]).random((count, len(spec.shocks)))
    for j, sh in enumerate(spec.shocks):
        table[SHOCK + sh.name] = (draws[:, j] < sh.p).astype(int)
    return pd.DataFrame(table)


def feature_columns(futures: pd.DataFrame) -> list[str]:
    """The columns that describe a future (everything but its id and member id)."""
    return [c for c in futures.columns if c not in ("future", "member")]


def run_seed(seed: int, future: int, replicate: int) -> int:
    """The seed of replicate r in future f: every strategy of the future runs on it (paired),
    futures differ; derived from its own stream, so futures and runs never share numbers."""
    state = np.random.SeedSequence([seed, _STREAM_RUNS, future, replicate]).generate_state(1)
    return int(state[0]) & 0x7FFF_FFFF


def future_county(spec: FuturesSpec, county: County, row: Mapping[str, Any]) -> County:
    """The status quo of one future (member, then uncertain values, then switches)."""
    values = {k: float(row[k]) for k in spec.ensemble_keys}
    values.update({u.key: float(row[u.key]) for u in spec.uncertain})
    for s in spec.switches:
        if int(row[SWITCH + s.name]):
            values.update(s.values)
    # County.with_values keeps the schema's number types (whole-number keys as int), so the
    # compiled loops, specialised on those types, are not compiled again in every worker
    return county.with_values(values, origin=f"{spec.source} (future {int(row['future'])})")


def future_scenarios(spec: FuturesSpec, county: County, row: Mapping[str, Any],
                     scenarios: Sequence[Scenario]) -> tuple[Scenario, ...]:
    """Every scenario in one future: its status quo, and the shocks that hold added to each
    scenario's own dated changes and disasters (the same for every scenario)."""
    place = future_county(spec, county, row)
    schedule: list[PolicyChange] = []
    disasters: list[Disaster] = []
    for sh in spec.shocks:
        if int(row[SHOCK + sh.name]):
            schedule += sh.schedule
            disasters += sh.disasters
    out = []
    for sc in scenarios:
        sc = sc.with_county(place, origin=f"{spec.source} (future {int(row['future'])})")
        if schedule or disasters:
            sc = replace(sc, schedule=tuple(sorted((*sc.schedule, *schedule),
                                                   key=lambda c: c.month)),
                         disasters=tuple(sorted((*sc.disasters, *disasters),
                                                key=lambda d: d.month)))
        out.append(sc)
    return tuple(out)


def overridden_ensemble_keys(spec: FuturesSpec) -> list[tuple[str, str]]:
    """(switch, key) pairs where a switch replaces a calibrated member's value when it holds
    (allowed: the switch is the question 'what if the calibration is wrong this way')."""
    keys = set(spec.ensemble_keys)
    return [(s.name, k) for s in spec.switches for k in s.values if k in keys]


def describe(spec: FuturesSpec) -> str:
    """One line saying what the futures vary."""
    parts = []
    if spec.ensemble is not None:
        parts.append(f"{len(spec.ensemble)} calibrated parameter sets "
                     f"({len(spec.ensemble_keys)} keys)")
    if spec.uncertain:
        parts.append(f"{len(spec.uncertain)} uncertain constants")
    if spec.switches:
        parts.append(f"{len(spec.switches)} structural switches")
    if spec.shocks:
        parts.append(f"{len(spec.shocks)} shocks")
    return ", ".join(parts) or "nothing (every future is the county's status quo)"


__all__ = ["DEFAULT_FUTURES", "FUTURES_DIR", "SHOCK", "SWITCH", "FuturesSpec", "Shock",
           "Switch", "Uncertain", "describe", "feature_columns", "future_county",
           "future_scenarios", "load_futures", "make_futures", "overridden_ensemble_keys",
           "read_ensemble", "resolve_futures_path", "run_seed"]
