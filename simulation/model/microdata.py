"""The initial population from household records (`--population FILE`) instead of the
synthetic draw: reading, checking and turning the records into a `Population`.

A population file is a CSV or Parquet table with one row per household and the household's
members in person slots 1..K (columns `age_1`, `sex_1`, `labour_1`, `disabled_1`,
`chronic_1`, ..., `age_6`, ...); docs/population-format.md lists every column. Every problem is
one `PopulationError` naming the file, the data row (1-based, the header not counted: data row
1 is line 2 of a CSV) and the column, and what is allowed; the CLI turns it into exit code 2.

What the records hold is taken as given: categories, villages, members (age, sex, labour,
disability, chronic illness), last year's income by source (the household's income target,
its production), 低保/特困 enrolment and monitoring status, and each household's weight (the
county's households it stands for). What they do not hold is drawn from the model's
generator, in this order (fixed sizes, so the stream does not depend on the data's values):
  motivation; dependency propensity; coverage propensity; linkage propensity; project-job
  propensity; application propensity; earnings deviation; debt; legal supporter;
  key villages; industry sectors; industry reserves; official duty factors; order in which
  villages gain a social partner.
The same distributions as the synthetic county (simulation.model.population) are used.

Parsed records are cached per process, keyed by the file's path, modification time and size,
so the replicates of a run (and a worker's later runs) read a file once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from simulation.model.codes import (
    ASSISTED,
    DIBAO,
    FEMALE,
    FORMERLY_POOR,
    LOCAL,
    MALE,
    MARGINAL,
    MIGRANT,
    NONE,
    NOT_MONITORED,
    OFF,
    ORDINARY,
    RISK_ELIMINATED,
    STUDENT,
    TEKUN,
    K,
)
from simulation.model.params import SCHEMA, Knobs
from simulation.model.population import (
    Population,
    build_population,
    draw_villages,
    member_order,
)
from simulation.model.scenario import Scenario, ScenarioError

SUFFIXES: Final = (".csv", ".parquet")
MAX_AGE: Final = 110
"""Oldest age accepted (years); older entries are taken for typing errors (assumption)."""
WORKING_AGE: Final = 16
"""Youngest age of a local or migrant worker (years; assumption: the statutory minimum working
age of the Labour Law of the PRC, art. 15)."""

HOUSEHOLD_COLUMNS: Final = ("household", "village", "category", "weight", "income_wages",
                            "income_production", "income_transfers", "income_property")
"""Required household columns."""
OPTIONAL_COLUMNS: Final = ("programme", "monitoring")
"""Household columns that may be left out (every household then: none)."""
MEMBER_FIELDS: Final = ("age", "sex", "labour", "disabled", "chronic")
"""Columns of each person slot k = 1..K: `age_k`, `sex_k`, ..."""
INCOME_SOURCES: Final = ("income_wages", "income_production", "income_transfers",
                         "income_property")

CATEGORY_VALUES: Final = {"formerly_poor": FORMERLY_POOR, "脱贫户": FORMERLY_POOR,
                          "marginal": MARGINAL, "边缘户": MARGINAL,
                          "ordinary": ORDINARY, "一般户": ORDINARY}
SEX_VALUES: Final = {"male": MALE, "m": MALE, "男": MALE, "female": FEMALE, "f": FEMALE,
                     "女": FEMALE}
LABOUR_VALUES: Final = {"none": NONE, "local": LOCAL, "migrant": MIGRANT, "student": STUDENT}
YES_NO: Final = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False,
                 "1.0": True, "0.0": False, "是": True, "否": False, "": False}
PROGRAMME_VALUES: Final = {"none": OFF, "dibao": DIBAO, "低保": DIBAO, "tekun": TEKUN,
                           "特困": TEKUN, "": OFF}
MONITORING_VALUES: Final = {"none": NOT_MONITORED, "monitored": ASSISTED,
                            "eliminated": RISK_ELIMINATED, "": NOT_MONITORED}


class PopulationError(ScenarioError):
    """A population file cannot be used; the message names the file, row and column (exit
    code 2, like a bad scenario file)."""


@dataclass(frozen=True)
class Records:
    """The checked household records of a population file (n households; people n x K in the
    model's slot order, the head in slot 0)."""

    source: str
    household: np.ndarray  # the file's household ids (str)
    village: np.ndarray  # int32, 0 .. villages - 1
    village_ids: tuple[str, ...]  # the file's village id of each village index
    category: np.ndarray  # int8 (simulation.model.codes.CATEGORIES)
    weight: np.ndarray  # float64 > 0: county households this household stands for
    income: dict[str, np.ndarray]  # INCOME_SOURCES -> yuan last year (float64 >= 0)
    programme: np.ndarray  # int8: OFF, DIBAO or TEKUN
    monitoring: np.ndarray  # int8: NOT_MONITORED, ASSISTED or RISK_ELIMINATED
    people: dict[str, np.ndarray]  # age, sex, present, role, disabled, chronic (n x K)

    @property
    def n(self) -> int:
        return int(self.category.size)


# ----------------------------------------------------------------------------- reading
_CACHE: dict[tuple[str, int, int], Records] = {}
_CACHE_SIZE: Final = 4
"""Parsed files kept per process (design choice: a run uses one file; a few cover tests)."""


def read_records(path: str | Path) -> Records:
    """The checked records of a population file (cached per process by path, modification
    time and size); raises PopulationError naming the file, row and column of a problem."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise PopulationError(f"{path}: not a population file (file type "
                              f"'{path.suffix or 'none'}'); allowed: .csv (UTF-8, comma-"
                              "separated, header row) or .parquet (docs/population-format.md)")
    try:
        stat = path.resolve().stat()
    except OSError:
        raise PopulationError(f"{path}: no such population file") from None
    if not path.is_file():
        raise PopulationError(f"{path}: not a file")
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = parse_records(_read_table(path), str(path),
                                    line_offset=1 if path.suffix.lower() == ".csv" else None)
    return _CACHE[key]


def _read_table(path: Path) -> pd.DataFrame:
    """The file as a table of strings ('' for a blank cell), every column as written."""
    kind = path.suffix.lower().lstrip(".")
    try:
        if kind == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                                skipinitialspace=True)
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise PopulationError(f"{path}: the file is empty (a header row and one row per "
                              "household are expected)") from None
    except Exception as exc:  # pandas and pyarrow raise many types for unreadable files
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PopulationError(f"{path}: cannot be read as {kind.upper()} ({text})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.astype(object).where(frame.notna(), "").map(
        lambda v: v.strip() if isinstance(v, str) else _text(v))


def _text(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


# ----------------------------------------------------------------------------- checking
def parse_records(frame: pd.DataFrame, source: str, line_offset: int | None = 1) -> Records:
    """Check a table of strings (one row per household) and turn it into Records.

    `line_offset`: a CSV's data row r is on line r + 1 (the header is line 1), which the
    message gives too; None for a file without lines (Parquet)."""

    def fail(row: int, column: str, problem: str) -> PopulationError:
        where = f"data row {row + 1}" + (f" (line {row + 1 + line_offset})"
                                         if line_offset is not None else "")
        return PopulationError(f"{source}: {where}, column '{column}': {problem}")

    columns = list(frame.columns)
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise PopulationError(f"{source}: column '{dupes[0]}' appears twice")
    missing = [c for c in (*HOUSEHOLD_COLUMNS, "age_1", "sex_1", "labour_1") if c not in columns]
    if missing:
        raise PopulationError(f"{source}: column '{missing[0]}' is missing (required: "
                              f"{', '.join(HOUSEHOLD_COLUMNS)}, and age_k, sex_k, labour_k "
                              "for the person slots used; docs/population-format.md)")
    member_columns = {f"{f}_{k}" for f in MEMBER_FIELDS for k in range(1, K + 1)}
    for column in columns:
        if column in (*HOUSEHOLD_COLUMNS, *OPTIONAL_COLUMNS) or column in member_columns:
            continue
        field, _, slot = column.rpartition("_")
        if field in MEMBER_FIELDS and slot.isdigit() and int(slot) > K:
            filled = np.flatnonzero(frame[column].to_numpy() != "")
            problem = (f"at most {K} members per household (person slots 1-{K}); a household "
                       "with more keeps its first six and describes the others in the "
                       "documentation of the file")
            if filled.size:
                raise fail(int(filled[0]), column, problem)
            raise PopulationError(f"{source}: column '{column}': {problem}")
        raise PopulationError(f"{source}: column '{column}' is not part of the population "
                              "format; allowed: " + ", ".join((*HOUSEHOLD_COLUMNS,
                                                                *OPTIONAL_COLUMNS))
                              + f", and {', '.join(f + '_k' for f in MEMBER_FIELDS)} for "
                              f"k = 1..{K} (docs/population-format.md)")
    n = len(frame)
    if n == 0:
        raise PopulationError(f"{source}: no households (a header row and one row per "
                              "household are expected)")
    low = int(SCHEMA["run.households"].low)
    if n < low:
        raise PopulationError(f"{source}: {n} households; a population file needs at least "
                              f"{low} (run.households, allowed {SCHEMA['run.households']
                                                                .range_text()})")
    high = int(SCHEMA["run.households"].high)
    if n > high:
        raise PopulationError(f"{source}: {n:,} households; at most {high:,} (run.households)")

    def cells(column: str) -> np.ndarray:
        return frame[column].to_numpy(dtype=object).astype(str) if column in frame else \
            np.full(n, "", dtype=object).astype(str)

    def text(column: str) -> np.ndarray:
        values = cells(column)
        blank = np.flatnonzero(values == "")
        if blank.size:
            raise fail(int(blank[0]), column, "blank; a value is required")
        return values

    def coded(column: str, table: Mapping[str, int | bool], allowed: str,
              where: np.ndarray | None = None) -> np.ndarray:
        values = np.char.lower(cells(column))
        known = np.isin(values, list(table))
        if where is not None:
            known |= ~where
        if not known.all():
            row = int(np.flatnonzero(~known)[0])
            raise fail(row, column, f"{_shown(cells(column)[row])} is not allowed; allowed: "
                                    f"{allowed}")
        return np.array([table.get(v, 0) for v in values])

    def number(column: str, allowed: str, ok: Callable[[np.ndarray], np.ndarray],
               where: np.ndarray | None = None) -> np.ndarray:
        raw = cells(column).tolist()
        need = np.ones(n, bool) if where is None else where
        values = np.array([_float(v) for v in raw], np.float64)  # NaN: not a number
        with np.errstate(invalid="ignore"):
            bad = need & ~(np.isfinite(values) & ok(values))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            shown = ("blank" if raw[row] == "" else f"{raw[row]!r} is not a number"
                     if np.isnan(values[row]) else f"{raw[row]} is out of range")
            raise fail(row, column, f"{shown}; allowed: {allowed}")
        return np.where(need, values, 0.0)

    household = text("household")
    seen: dict[str, int] = {}
    for row, hid in enumerate(household.tolist()):
        if hid in seen:
            raise fail(row, "household", f"id {hid!r} is also on data row {seen[hid] + 1}; "
                                         "each household once")
        seen[hid] = row
    village_text = text("village")
    village_ids, village = _villages(village_text)
    category = coded("category", CATEGORY_VALUES,
                     "formerly_poor (脱贫户), marginal (边缘户), ordinary (一般户)")
    weight = number("weight", "a number > 0 (county households this household stands for)",
                    lambda v: v > 0)
    income = {c: number(c, "a number >= 0 (yuan last year)", lambda v: v >= 0)
              for c in INCOME_SOURCES}
    programme = coded("programme", PROGRAMME_VALUES, "none, dibao (低保), tekun (特困), or "
                      "blank (none)")
    monitoring = coded("monitoring", MONITORING_VALUES, "none, monitored, eliminated, or "
                       "blank (none)")

    age = np.zeros((n, K), np.int16)
    sex = np.zeros((n, K), np.int8)
    role = np.full((n, K), NONE, np.int8)
    present = np.zeros((n, K), bool)
    disabled = np.zeros((n, K), bool)
    chronic = np.zeros((n, K), bool)
    for k in range(K):
        slot = k + 1
        here = cells(f"age_{slot}") != ""
        for field in MEMBER_FIELDS[1:]:
            stray = ~here & (cells(f"{field}_{slot}") != "")
            if stray.any():
                raise fail(int(np.flatnonzero(stray)[0]), f"age_{slot}",
                           f"blank, but {field}_{slot} is given; a member needs an age (an "
                           "empty slot leaves all its cells blank)")
        years = number(f"age_{slot}", f"a whole number of years, 0-{MAX_AGE}",
                       lambda v: (v >= 0) & (v <= MAX_AGE) & (v == np.floor(v)), here)
        sexes = coded(f"sex_{slot}", SEX_VALUES, "male, female (m, f, 男, 女)", here)
        work = coded(f"labour_{slot}", LABOUR_VALUES,
                     "none, local (works in the county), migrant (works away), student", here)
        young = here & ((work == LOCAL) | (work == MIGRANT)) & (years < WORKING_AGE)
        if young.any():
            row = int(np.flatnonzero(young)[0])
            raise fail(row, f"labour_{slot}", f"a member aged {int(years[row])} cannot work; "
                                              f"allowed: local or migrant from age "
                                              f"{WORKING_AGE}, else none or student")
        yes_no = "yes, no (also 1, 0, true, false, 是, 否), or blank (no)"
        is_disabled = coded(f"disabled_{slot}", YES_NO, yes_no, here)
        is_chronic = coded(f"chronic_{slot}", YES_NO, yes_no, here)
        if missing_cell := [f for f, v in (("sex", sexes), ("labour", work))
                            if (here & (cells(f"{f}_{slot}") == "")).any()]:
            column = f"{missing_cell[0]}_{slot}"
            row = int(np.flatnonzero(here & (cells(column) == ""))[0])
            raise fail(row, column, f"blank for a member (age_{slot} is given); a value is "
                                    "required")
        age[:, k] = years.astype(np.int16)
        sex[:, k] = np.where(here, sexes, MALE)
        role[:, k] = np.where(here, work, NONE)
        present[:, k] = here
        disabled[:, k] = here & is_disabled.astype(bool)
        chronic[:, k] = here & is_chronic.astype(bool)
    nobody = ~present.any(axis=1)
    if nobody.any():
        raise fail(int(np.flatnonzero(nobody)[0]), "age_1",
                   f"the household has no members (age_1 .. age_{K} all blank); at least one "
                   "member is required")

    # the model's slot order: the head first (population.member_order)
    order = member_order(age, (role == LOCAL) | (role == MIGRANT), present)
    people = {name: np.take_along_axis(a, order, axis=1) for name, a in
              (("age", age), ("sex", sex), ("present", present), ("role", role),
               ("disabled", disabled), ("chronic", chronic))}
    return Records(source=source, household=household, village=village,
                   village_ids=village_ids, category=category.astype(np.int8),
                   weight=weight, income=income, programme=programme.astype(np.int8),
                   monitoring=monitoring.astype(np.int8), people=people)


def _float(text: str) -> float:
    """A cell as a number (Python's parser: the shortest repr of a float reads back exactly);
    NaN when it is blank or not a number."""
    try:
        return float(text) if text else math.nan
    except ValueError:
        return math.nan


def _shown(value: str) -> str:
    return "blank" if value == "" else repr(str(value))


def _villages(ids: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """Village ids -> indices 0..V-1, in the ids' order (numerically when all are whole
    numbers, so villages 1, 2, 10 keep that order)."""
    unique = sorted(set(ids.tolist()))
    if all(v.lstrip("-").isdigit() for v in unique):
        unique.sort(key=int)
    index = {v: i for i, v in enumerate(unique)}
    return tuple(unique), np.array([index[v] for v in ids.tolist()], np.int32)


# ----------------------------------------------------------------------------- the population
def build_from_records(p: Knobs, records: Records, rng: np.random.Generator) -> Population:
    """The run's population from `records`; what the records do not hold is drawn from `rng`
    in the documented order (module docstring), as the synthetic county draws it."""
    n = records.n
    n_villages = len(records.village_ids)
    category = records.category
    people = {k: v.copy() for k, v in records.people.items()}
    members = people["present"].sum(axis=1)
    workers = (people["present"] & ((people["role"] == LOCAL) | (people["role"] == MIGRANT))
               ).sum(axis=1)
    pop = p.population
    total = sum(records.income[c] for c in INCOME_SOURCES)
    motivation = np.clip(pop.motivation_mean + 0.5 * (rng.random(n) - 0.5), 0.0, 1.0)
    u_dependency = rng.random(n)
    u_coverage = rng.random(n)
    u_linkage = rng.random(n)
    u_project_job = rng.random(n)
    u_apply = rng.random(n)
    dev = p.income.volatility * rng.standard_normal(n)
    debt_u = rng.random(n)
    supporter_u = rng.random(n)
    # 特困 presupposes no legal supporter; other households without labour lack one as often
    # as in the synthetic county
    no_supporter = (records.programme == TEKUN) | ((workers == 0)
                                                    & (supporter_u < pop.no_supporter_share))

    villages = draw_villages(p, rng, n_villages)

    group_weights, weight_group = np.unique(records.weight, return_inverse=True)
    counts = tuple(int((category == c).sum()) for c in range(3))
    mean_weight = float(records.weight.sum() / n)
    category_weights = tuple(float(records.weight[category == c].sum() / counts[c])
                             if counts[c] else mean_weight for c in range(3))
    households = {
        "category": category,
        "village": records.village,
        # last year's income on the official count, per person (低保/特困 are added by
        # state.initial_state, as for the synthetic county)
        "income_target": total / members,
        "production": records.income["income_production"] / 12.0,  # yuan/month
        "motivation": motivation,
        "dependency": (u_dependency < pop.dependency_prevalence) & (category != ORDINARY),
        "u_coverage": u_coverage,
        "u_linkage": u_linkage,
        "u_project_job": u_project_job,
        "u_apply": u_apply,
        "dev": dev,
        "indebted": (debt_u < p.income.initial_debt_share) & (category != ORDINARY),
        "no_supporter": no_supporter,
        "weight_group": weight_group.astype(np.int32),
        # recorded status replaces the synthetic rules in state.initial_state
        "programme_recorded": records.programme,
        "monitoring_recorded": records.monitoring,
    }
    return Population(households, people, villages, records.weight.copy(),
                      tuple(float(w) for w in group_weights),
                      category_weights,  # type: ignore[arg-type]
                      counts)  # type: ignore[arg-type]


def initial_population(p: Knobs, rng: np.random.Generator,
                       population_file: str | None = None) -> Population:
    """The run's initial population: from the records in `population_file`, or the synthetic
    county when it is None. Both engines build theirs here."""
    if population_file is None:
        return build_population(p, rng)
    return build_from_records(p, read_records(population_file), rng)


def use_population(scenario: Scenario, path: str | Path) -> Scenario:
    """`scenario` with its population read from `path` (checked now, before any run): the
    file is recorded in the scenario and run.households becomes the number of records."""
    records = read_records(path)
    return scenario.with_population(path).with_values({"run.households": records.n},
                                                      origin=str(path))


def county_note(scenario: Scenario, records: Records) -> str | None:
    """A note when the records' weights and the scenario's county differ by more than 1%:
    counts come from the weights, the programme costs' scale (officials, villages) from
    [county]."""
    county = float(scenario.values["county.households"])
    weighted = float(records.weight.sum())
    if math.isclose(weighted, county, rel_tol=0.01):
        return None
    return (f"note: {records.source}: the weights add up to {weighted:,.0f} households, "
            f"county.households is {county:,.0f}; county totals follow the weights, the "
            "programme costs that scale with the county (officials, villages) follow "
            "[county]")
