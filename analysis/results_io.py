"""Read a saved results folder (of `simulate`, `compare`, `decompose` or the main job).

Everything in analysis/ works from these files only (EMA's separation of experiments and
analysis): nothing here runs the model. A missing or unreadable file raises `ResultsError`
naming the file, which the CLI turns into exit code 2 with one message.

Files read (see simulation/experiments/results.py for how they are written):

    manifest.json              seeds, replicates, baseline, engine, versions, git revision
    runs.parquet               one row per run and year with every metric (simulation.model.metrics)
    events.parquet             per-household events: fall, dip, rise, risk_eliminated, ...
    households.parquet         households as they entered 2021 (category, type, village, ...)
    scenarios/<name>.toml      each scenario as resolved: values and the stratum weights

County weights: each household's weight is the `weight` column of households.parquet; folders
written before that column existed get their stratum weights from the saved scenarios.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from simulation.common.errors import OutputError
from simulation.model.calendar import START_YEAR
from simulation.model.codes import CATEGORIES
from simulation.model.params import SCHEMA, SECTIONS, as_namespace, defaults
from simulation.model.population import stratum_sizes
from simulation.model.scenario import (
    Disaster,
    PolicyChange,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_disasters,
    parse_schedule,
)

RUN_KEYS = ("scenario", "replicate", "seed", "year")
HOUSEHOLD_COLUMNS = ("scenario", "replicate", "household", "category", "village", "members",
                     "workers", "migrants", "elderly", "children", "students", "disabled",
                     "chronic", "programme", "pc12", "linked", "key_village")
EVENT_COLUMNS = ("scenario", "replicate", "month", "household", "event", "cause")
MANIFEST_KEYS = ("seed", "replicates", "seeds", "scenarios")
RUN_STRIDE = 100_000
"""household_key: a run's key is scenario position x RUN_STRIDE + replicate (replicates are
below 10,000, `run.py --replicates`' maximum)."""
HOUSEHOLD_STRIDE = 10_000_000
"""household_key: a household's key is its run's key x HOUSEHOLD_STRIDE + household number
(households number below run.households' maximum, far below this)."""
T = TypeVar("T")


def evaluation_start(scenarios: Iterable[Scenario], last_year: int) -> int:
    """First year of the evaluation window: the year of the earliest policy date among the
    scenarios (a policy date within a year opens the window at that year's January); the
    whole horizon when that year is past `last_year` (the policy never took effect)."""
    first = min((sc.policy_year for sc in scenarios), default=START_YEAR)
    return first if first <= last_year else START_YEAR


class ResultsError(OutputError):
    """A results folder is incomplete or a file in it cannot be read (exit code 2)."""


@dataclass
class Results:
    """A loaded results folder.

    Attributes:
        folder: the results folder.
        manifest: manifest.json as a dict.
        runs: runs.parquet (scenario, replicate, seed, year, metrics...).
        events: events.parquet (scenario and event/cause as categories).
        households: households.parquet (initial attributes per scenario and replicate).
        scenarios: name -> resolved Scenario, in the order of the comparison.
        baseline: the scenario differences are taken against (None for a single scenario).
        weights: scenario -> county households per sample household, by category (the
            mean over a category's households when they carry their own weights).
        warnings: problems that do not stop the analysis (e.g. an older schema).
    """

    folder: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    events: pd.DataFrame
    households: pd.DataFrame
    scenarios: dict[str, Scenario]
    baseline: str | None
    weights: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def memo(self, name: str, compute: Callable[[], T]) -> T:
        """`compute()`, computed once per loaded folder: the report's sections need the same
        per-household tables (falls, keys, weights), which cost most of its time. The frames
        must be treated as read-only by callers (copy before changing them)."""
        if name not in self._memo:
            self._memo[name] = compute()
        return self._memo[name]  # type: ignore[no-any-return]

    def household_key(self, frame: pd.DataFrame) -> np.ndarray:
        """One int64 per row of a frame with scenario, replicate and household columns,
        unique per household of a run and ordered by scenario (in the comparison's order),
        replicate and household; negative for a scenario not in the folder."""
        return self._household_key(frame, self.scenario_positions(frame["scenario"]))

    @staticmethod
    def _household_key(frame: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
        run = positions * RUN_STRIDE + frame["replicate"].to_numpy().astype(np.int64)
        return run * HOUSEHOLD_STRIDE + frame["household"].to_numpy().astype(np.int64)

    def scenario_positions(self, scenario: pd.Series) -> np.ndarray:
        """Position of each row's scenario among `names` (int64; -1 for a scenario not in
        the folder's manifest). Factorizing first looks each distinct name up once."""
        codes, uniques = pd.factorize(scenario, use_na_sentinel=False)
        positions = pd.Index(self.names).get_indexer(pd.Index(uniques).astype(str))
        return positions.astype(np.int64)[codes]

    @property
    def names(self) -> list[str]:
        return list(self.scenarios)

    @property
    def replicates(self) -> int:
        """Replicates per scenario (the smallest, should they differ)."""
        return int(self.runs.groupby("scenario", observed=True)["replicate"].nunique().min())

    @property
    def seeds(self) -> list[int]:
        return sorted(int(s) for s in self.runs["seed"].unique())

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.runs["year"].unique())

    @property
    def window_start(self) -> int:
        """First year of the evaluation window (evaluation_start)."""
        return evaluation_start(self.scenarios.values(), max(self.years))

    @property
    def window_label(self) -> str:
        return f"{self.window_start}–{max(self.years)}"

    @property
    def horizon_months(self) -> int:
        return 12 * len(self.years)

    def weight_column(self, frame: pd.DataFrame) -> np.ndarray:
        """County weight of each row of a frame with scenario and category columns (and
        replicate and household, used when households.parquet holds each household's
        weight)."""
        if "weight" in self.households.columns and {"replicate", "household"} <= set(frame):
            return self._household_weights(frame)
        table = np.array([self.weights[s] for s in self.names])
        # get_indexer always returns integer positions; Series.map would give an object array
        # for an empty frame (e.g. no falls in a tiny run), which numpy cannot index with
        rows = pd.Index(self.names).get_indexer(frame["scenario"].astype(str))
        if (rows < 0).any():
            unknown = frame["scenario"].astype(str).to_numpy()[rows < 0][0]
            raise ResultsError(f"{self.folder}: scenario {unknown!r} is not in manifest.json")
        return table[rows, frame["category"].to_numpy(dtype=np.intp)]

    def _household_weights(self, frame: pd.DataFrame) -> np.ndarray:
        hh = self.households

        def index() -> tuple[pd.Index, np.ndarray]:
            positions = self.scenario_positions(hh["scenario"])
            known = positions >= 0
            return (pd.Index(self._household_key(hh, positions)[known]), np.flatnonzero(known))

        keys, rows_of_keys = self.memo("household_index", index)
        positions = self.scenario_positions(frame["scenario"])
        found = keys.get_indexer(self._household_key(frame, positions))
        found[positions < 0] = -1
        rows = np.full(found.shape, -1, dtype=np.intp)
        rows[found >= 0] = rows_of_keys[found[found >= 0]]
        if (rows < 0).any():
            bad = frame.iloc[int(np.flatnonzero(rows < 0)[0])]
            raise ResultsError(f"{self.folder / 'households.parquet'}: no household "
                               f"{int(bad['household'])} of scenario {bad['scenario']!r}, "
                               f"replicate {int(bad['replicate'])}")
        return hh["weight"].to_numpy(np.float64)[rows]

    def seed_span(self) -> str:
        seeds = self.seeds
        if not seeds:
            return "no seeds"
        if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
            return f"seeds {seeds[0]}–{seeds[-1]}"
        return "seeds " + ", ".join(str(s) for s in seeds)

    def replicate_note(self) -> str:
        """The sentence every table and figure carries: replicates and pairing."""
        paired = ", paired on common seeds" if len(self.names) > 1 else ""
        n = self.replicates
        return f"n = {n} replicate{'s' if n != 1 else ''} ({self.seed_span()}){paired}"


def _read_parquet(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise ResultsError(f"{path}: missing from the results folder (re-run the simulation "
                           "that produced it)")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise ResultsError(f"{path}: cannot be read as Parquet ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else 'damaged'})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ResultsError(f"{path}: column '{missing[0]}' is missing (expected columns: "
                           f"{', '.join(columns)})")
    return frame


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ResultsError(f"{path}: missing from the results folder (re-run the simulation "
                           "that produced it)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise ResultsError(f"{path}: must hold a JSON object")
    missing = [k for k in MANIFEST_KEYS if k not in manifest]
    if missing:
        raise ResultsError(f"{path}: key '{missing[0]}' is missing (expected keys: "
                           f"{', '.join(MANIFEST_KEYS)})")
    if not isinstance(manifest["scenarios"], dict) or not manifest["scenarios"]:
        raise ResultsError(f"{path}: key 'scenarios' must name at least one scenario")
    return manifest


def _read_scenario(folder: Path, name: str, warnings: list[str]) -> Scenario:
    """The saved, resolved scenario. A file written under an older schema (keys since renamed,
    removed or added, ranges since changed) is still read: unknown keys are ignored, missing
    keys take today's defaults, and each such difference is reported in `warnings`."""
    path = folder / "scenarios" / f"{name}.toml"
    if not path.is_file() and (folder / name / "scenario.toml").is_file():
        path = folder / name / "scenario.toml"  # the layout before scenarios/ (older folders)
    if not path.is_file():
        raise ResultsError(f"{path}: missing from the results folder (scenario {name!r} is "
                           "listed in manifest.json)")
    try:
        scenario = load_scenario(path)
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not a readable scenario file (not UTF-8 text)") from None
    except ScenarioError as exc:
        scenario = _read_scenario_leniently(path, str(exc), warnings)
    if scenario.name != name:
        raise ResultsError(f"{path}: key 'name' is {scenario.name!r}, but the folder and "
                           f"manifest.json say {name!r}")
    return scenario


def _read_scenario_leniently(path: Path, problem: str, warnings: list[str]) -> Scenario:
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ResultsError(f"{path}: not a readable scenario file ({exc})") from None
    values = defaults()
    unknown, bad = [], []
    for section in SECTIONS:
        table = doc.get(section, {})
        if not isinstance(table, dict):
            raise ResultsError(f"{path}: key '{section}' must be a table [{section}]")
        for key, value in table.items():
            dotted = f"{section}.{key}"
            if dotted not in SCHEMA:
                unknown.append(dotted)
            elif isinstance(value, bool) or not isinstance(value, int | float):
                bad.append(dotted)
            else:
                values[dotted] = value
    missing = [k for k in SCHEMA if k.split(".", 1)[0] not in doc
               or k.split(".", 1)[1] not in doc[k.split(".", 1)[0]]]
    if bad:
        raise ResultsError(f"{path}: key '{bad[0]}' must be a number")
    schedule: tuple[PolicyChange, ...] = ()
    disasters: tuple[Disaster, ...] = ()
    try:
        origin = str(path)
        schedule = tuple(parse_schedule(origin, doc.get("schedule", [])))
        disasters = tuple(parse_disasters(origin, doc.get("disasters", [])))
    except ScenarioError as exc:
        warnings.append(f"schedule or disasters not readable with today's schema ({exc}); "
                        "they are left out of the knob comparison")
    notes = []
    if unknown:
        notes.append(f"keys unknown to today's schema ignored: {', '.join(unknown[:5])}"
                     + (" …" if len(unknown) > 5 else ""))
    if missing:
        notes.append(f"keys added since use today's defaults: {', '.join(missing[:5])}"
                     + (" …" if len(missing) > 5 else ""))
    if not notes:
        notes.append(problem)
    warnings.append("written by another version of the model's schema; " + "; ".join(notes))
    return Scenario(name=str(doc.get("name", path.parent.name)), values=values,
                    description=str(doc.get("description", "")), source=str(path),
                    schedule=schedule, disasters=disasters,
                    population_file=(str(doc["population_file"])
                                     if "population_file" in doc else None))


def as_text(column: pd.Series) -> pd.Series:
    """`column.astype(str)`: an object column of str. A categorical column (events.parquet's
    scenario) is converted through its categories, which takes a millisecond where astype
    takes half a second on a million events."""
    if isinstance(column.dtype, pd.CategoricalDtype) and not column.isna().any():
        labels = np.asarray(column.cat.categories.astype(str), dtype=object)
        return pd.Series(labels[column.cat.codes.to_numpy()], index=column.index,
                         name=column.name, dtype=object)
    return column.astype(str)


def load_results(folder: str | Path) -> Results:
    """Load and check every file of a results folder; raise ResultsError naming a bad file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such results folder (write one with `python run.py "
                           "compare ...` or `python run.py simulate ...`)")
    if (folder / "parts").is_dir() and (folder / "design.parquet").is_file():
        raise ResultsError(f"{folder}: is a sweep folder, not the results of simulate / compare "
                           "/ decompose; its indices are in indices.csv and figures/, and "
                           f"`python run.py discover {folder} --metric M --below X` finds the "
                           "knob ranges where an output stays below X")
    manifest = _read_manifest(folder / "manifest.json")
    names = list(manifest["scenarios"])
    notes: dict[str, list[str]] = {}
    scenarios = {}
    for name in names:
        found: list[str] = []
        scenarios[name] = _read_scenario(folder, name, found)
        for note in found:
            notes.setdefault(note, []).append(name)
    warnings = [f"{folder}/scenarios/{{{','.join(which)}}}.toml: {note}" if len(which) > 1
                else f"{folder / 'scenarios' / which[0]}.toml: {note}"
                for note, which in notes.items()]
    runs = _read_parquet(folder / "runs.parquet", RUN_KEYS)
    events = _read_parquet(folder / "events.parquet", EVENT_COLUMNS)
    households = _read_parquet(folder / "households.parquet", HOUSEHOLD_COLUMNS)
    runs["scenario"] = as_text(runs["scenario"])
    households["scenario"] = as_text(households["scenario"])
    events["scenario"] = as_text(events["scenario"])
    for frame, file in ((runs, "runs.parquet"), (households, "households.parquet")):
        present = set(frame["scenario"].unique())
        absent = [n for n in names if n not in present]
        if absent:
            raise ResultsError(f"{folder / file}: no rows for scenario {absent[0]!r} listed in "
                               "manifest.json")
    unknown = sorted(set(events["scenario"].unique()) - set(names))
    if unknown:
        raise ResultsError(f"{folder / 'events.parquet'}: scenario {unknown[0]!r} is not in "
                           "manifest.json")
    runs = runs[runs["scenario"].isin(names)].reset_index(drop=True)
    if runs["year"].min() != START_YEAR:
        raise ResultsError(f"{folder / 'runs.parquet'}: years must start in {START_YEAR}, "
                           f"found {int(runs['year'].min())}")
    weights: dict[str, tuple[float, float, float]] = {}
    for name, sc in scenarios.items():
        sample = households[(households["scenario"] == name)
                            & (households["replicate"] == households["replicate"].min())]
        if sc.population_file is not None and "weight" in sample.columns:
            # households from records: their own weights (mean by category for the text)
            by_category = sample.groupby("category")["weight"].mean()
            mean = float(sample["weight"].mean())
            weights[name] = tuple(float(by_category.get(c, mean))  # type: ignore[assignment]
                                  for c in range(3))
            continue
        counts, w = stratum_sizes(as_namespace(dict(sc.values)))
        found_counts = tuple(int((sample["category"] == c).sum()) for c in range(3))
        if found_counts != tuple(counts):
            found_text = dict(zip(CATEGORIES, found_counts, strict=True))
            implied = dict(zip(CATEGORIES, counts, strict=True))
            raise ResultsError(
                f"{folder / 'households.parquet'}: scenario {name!r} has {found_text} sample "
                f"households, but {folder / 'scenarios' / name}.toml implies {implied}")
        weights[name] = w
    baseline = manifest.get("baseline")
    if baseline is not None and baseline not in scenarios:
        raise ResultsError(f"{folder / 'manifest.json'}: key 'baseline' = {baseline!r} is not "
                           f"one of the scenarios ({', '.join(names)})")
    if baseline is None and len(names) > 1:
        baseline = names[0]
    return Results(folder=folder, manifest=manifest, runs=runs, events=events,
                   households=households, scenarios=scenarios, baseline=baseline,
                   weights=weights, warnings=warnings)
