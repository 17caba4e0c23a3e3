"""Household records as the initial population (`--population FILE`): the format round trip,
every kind of bad row (exit 2 naming row and column, nothing written), per-household weights
in every county total, the CLI end to end."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from analysis.results_io import load_results
from simulation.cli import main
from simulation.model.arrays_engine import ArrayModel
from simulation.model.codes import ASSISTED, DIBAO, NOT_MONITORED, TEKUN
from simulation.model.metrics import METRICS
from simulation.model.microdata import PopulationError, read_records
from simulation.model.params import as_namespace
from simulation.model.population import build_population
from simulation.model.scenario import load_scenario
from simulation.model.state import initial_state

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "population_example.csv"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_population_example", ROOT / "examples" / "make_population_example.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _example() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)


# ----------------------------------------------------------------------------- round trip
@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_round_trip_reproduces_the_synthetic_population(tmp_path: Path, kind: str) -> None:
    script = _script()
    households, seed = 120, 7
    rows = script.example_rows(households, seed)
    path = tmp_path / f"pop.{kind}"
    if kind == "csv":
        path.write_text(script.to_csv(rows), encoding="utf-8")
    else:
        pd.DataFrame(rows, columns=list(script.COLUMNS)).to_parquet(path, index=False)
    records = read_records(path)

    scenario = load_scenario("baseline").with_values({"run.households": households})
    p = as_namespace(scenario.reference_values())
    pop = build_population(p, np.random.default_rng(seed))
    state, _ = initial_state(p, pop)
    assert records.n == pop.n
    present = pop.people["present"]
    for name, values in pop.people.items():  # (the synthetic draw fills empty slots' sex)
        assert np.array_equal(np.where(present, records.people[name], 0),
                              np.where(present, values, 0)), name
    assert np.array_equal(records.people["present"], present)
    assert np.array_equal(records.category, pop.households["category"])
    assert np.array_equal(records.weight, pop.weights)  # exactly: repr reads back
    villages = np.array([int(v[1:]) - 1 for v in records.village_ids])[records.village]
    assert np.array_equal(villages, pop.households["village"])
    assert np.array_equal(records.programme, state["programme"])


def test_records_build_a_population_that_keeps_them() -> None:
    scenario = load_scenario("baseline").with_population(EXAMPLE)
    model = ArrayModel(scenario.with_values({"run.years": 1}), rng=3)
    records = read_records(EXAMPLE)
    pop = model.population
    assert pop.n == records.n == 300 and np.array_equal(pop.weights, records.weight)
    assert pop.n_villages == len(records.village_ids)
    assert model.initial["weight"].tolist() == records.weight.tolist()
    s = model.snapshot()
    assert np.array_equal(s["programme"], records.programme)
    monitored = records.monitoring == ASSISTED
    assert monitored.any() and (s["state"][monitored] == ASSISTED).all()
    assert s["ever_monitored"][monitored].all()
    assert (s["state"][records.monitoring == NOT_MONITORED] == NOT_MONITORED).all()
    assert ((records.programme == DIBAO) | (records.programme == TEKUN)).any()


def test_scenario_carries_the_population_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "pop.csv"
    target.write_bytes(EXAMPLE.read_bytes())
    path = tmp_path / "mine.toml"
    path.write_text('base = "baseline"\npopulation_file = "data/pop.csv"\n', encoding="utf-8")
    sc = load_scenario(path)
    assert sc.population_file == str(target.resolve())
    assert f'population_file = "{target.resolve()}"' in sc.to_toml()
    assert "population_file" not in load_scenario("baseline").to_toml()
    saved = tmp_path / "saved.toml"
    saved.write_text(sc.to_toml(), encoding="utf-8")
    assert load_scenario(saved).population_file == sc.population_file


# ----------------------------------------------------------------------------- bad files
def _edit(frame: pd.DataFrame, row: int, column: str, value: str) -> pd.DataFrame:
    frame = frame.copy()
    if column not in frame:
        frame[column] = ""
    frame.loc[row - 1, column] = value
    return frame


BAD_ROWS = [
    ("age_1", "-3", "out of range; allowed: a whole number of years, 0-110"),
    ("age_2", "forty", "'forty' is not a number"),
    ("category", "poor", "'poor' is not allowed; allowed: formerly_poor (脱贫户)"),
    ("weight", "0", "out of range; allowed: a number > 0"),
    ("weight", "", "blank; allowed: a number > 0"),
    ("income_wages", "-1", "out of range; allowed: a number >= 0"),
    ("sex_1", "x", "'x' is not allowed; allowed: male, female"),
    ("labour_1", "farmer", "'farmer' is not allowed; allowed: none, local"),
    ("programme", "wubao", "'wubao' is not allowed; allowed: none, dibao"),
    ("monitoring", "watched", "'watched' is not allowed; allowed: none, monitored"),
    ("age_7", "30", "at most 6 members per household"),
    ("household", "H00001", "id 'H00001' is also on data row 1"),
]


@pytest.mark.parametrize(("column", "value", "problem"), BAD_ROWS)
def test_a_bad_row_exits_2_naming_row_and_column(tmp_path: Path, column: str, value: str,
                                                 problem: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pop.csv"
    _edit(_example(), 3, column, value).to_csv(path, index=False)
    out = tmp_path / "res"
    assert main(["simulate", "baseline", "--population", str(path), "--years", "2",
                 "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: data row 3 (line 4), column '{column}': " in err and problem in err, err
    assert err.count("error:") == 1
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["pop.csv"]


def test_parquet_rows_are_named_without_lines(tmp_path: Path) -> None:
    path = tmp_path / "pop.parquet"
    frame = _edit(_example(), 5, "weight", "-2")
    frame.to_parquet(path, index=False)
    with pytest.raises(PopulationError, match=r"data row 5, column 'weight': -2 is out of "):
        read_records(path)


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("pop.xlsx", "x", "not a population file (file type '.xlsx'); allowed: .csv"),
    ("absent.csv", None, "no such population file"),
    ("empty.csv", "", "the file is empty"),
    ("short.csv", "household,village\nH1,V1\n", "column 'category' is missing (required: "),
    ("parquet.parquet", "not parquet", "cannot be read as PARQUET"),
])
def test_unusable_files_exit_2(tmp_path: Path, name: str, content: str | None, problem: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    out = tmp_path / "res"
    assert main(["simulate", "baseline", "--population", str(path), "--quiet", "--out",
                 str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: {problem}" in err, err
    assert not out.exists()


def test_missing_column_and_unknown_column(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    _example().drop(columns="weight").to_csv(path, index=False)
    with pytest.raises(PopulationError, match="column 'weight' is missing"):
        read_records(path)
    _example().assign(notes="x").to_csv(path, index=False)
    with pytest.raises(PopulationError, match="column 'notes' is not part of the population "):
        read_records(path)


def test_member_cells_without_an_age_and_child_workers(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    frame = _example()
    empty = int(np.flatnonzero(frame["age_6"].to_numpy() == "")[0])
    _edit(frame, empty + 1, "sex_6", "male").to_csv(path, index=False)
    with pytest.raises(PopulationError, match=rf"data row {empty + 1} \(line {empty + 2}\), "
                                              r"column 'age_6': blank, but sex_6 is given"):
        read_records(path)
    frame = _edit(_edit(frame, 2, "age_1", "12"), 2, "labour_1", "local")
    frame.to_csv(path, index=False)
    with pytest.raises(PopulationError, match="column 'labour_1': a member aged 12 cannot work"):
        read_records(path)


# ----------------------------------------------------------------------------- weights
COUNTS = ("formerly_poor_households", "returned_households", "newly_poor_households",
          "below_line_households", "below_line_people", "monitored_stock", "monitoring_inflow",
          "risk_eliminated", "at_risk_households", "dibao_households", "tekun_households",
          "people", "fiscal_cost_social_security", "assisted_jobs", "trainees")


@pytest.mark.parametrize("distinct", [False, True])
def test_doubling_every_weight_doubles_county_totals(tmp_path: Path, distinct: bool) -> None:
    # the example's stratum weights (3 weight groups), or a weight of its own per household
    frame = _example()
    if distinct:
        frame["weight"] = [repr(float(w) * (1.0 + i / 100.0))
                           for i, w in enumerate(frame["weight"])]
    single = tmp_path / "single.csv"
    frame.to_csv(single, index=False)
    doubled = tmp_path / "doubled.csv"
    frame["weight"] = [repr(2 * float(w)) for w in frame["weight"]]
    frame.to_csv(doubled, index=False)
    # partners place a county's number of jobs among sample households by weight; without
    # partners the county's size changes nothing but the totals
    base = dataclasses.replace(load_scenario("baseline").with_values(
        {"run.years": 3, "responsibility.social_participation": 0.0}), policy_month=0)
    runs = []
    for path in (single, doubled):
        model = ArrayModel(base.with_population(path), rng=11)
        model.run()
        runs.append(model.years)
    moved = 0.0
    for one, two in zip(*runs, strict=True):
        for name in COUNTS:
            assert two[name] == 2 * one[name], name
        for name in METRICS:
            if name.endswith(("_sample", "_share", "share_formerly_poor")) or "share" in name:
                assert two[name] == one[name], name
        moved += one["returned_households"] + one["monitoring_inflow"]
    assert moved > 0  # the totals compared are not all zero


def test_synthetic_weights_are_the_stratum_weights() -> None:
    scenario = load_scenario("baseline").with_values({"run.households": 200})
    pop = build_population(as_namespace(scenario.reference_values()),
                           np.random.default_rng(1))
    category = pop.households["category"]
    assert pop.group_weights == pop.category_weights
    assert np.array_equal(pop.weights, np.asarray(pop.category_weights)[category])
    assert np.array_equal(pop.households["weight_group"], category)


# ----------------------------------------------------------------------------- CLI
def test_cli_end_to_end_with_workers(tmp_path: Path) -> None:
    out = tmp_path / "res"
    done = subprocess.run(
        [sys.executable, "run.py", "simulate", "baseline", "--population",
         "examples/population_example.csv", "--replicates", "2", "--years", "2",
         "--households", "1000", "--workers", "2", "--no-figures", "--quiet", "--out",
         str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "--households 1,000 does not apply" in done.stderr and "300 households" in done.stderr
    assert f'population_file = "{EXAMPLE}"' in (out / "scenarios" / "baseline.toml").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenarios"]["baseline"]["population_file"] == str(EXAMPLE)
    assert manifest["scenarios"]["baseline"]["households"] == 300
    households = pd.read_parquet(out / "households.parquet")
    assert len(households) == 2 * 300
    weights = read_records(EXAMPLE).weight
    for _, run in households.groupby("replicate"):
        assert np.array_equal(run["weight"].to_numpy(), weights)
        assert (run["category"].to_numpy() == read_records(EXAMPLE).category).all()
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 4 and (runs["formerly_poor_households_sample"] == 180).all()
    assert runs["formerly_poor_households"].iloc[0] == pytest.approx(weights[:180].sum())
    results = load_results(out)
    first = results.households[results.households["replicate"] == 0]
    assert np.array_equal(results.weight_column(first), weights)


def test_example_script_never_overwrites_a_foreign_file(tmp_path: Path) -> None:
    script = _script()
    mine = tmp_path / "mine.csv"
    mine.write_text("my own data\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="was not written by this script"):
        script.main(["--out", str(mine), "--households", "60", "--replace"])
    assert mine.read_text(encoding="utf-8") == "my own data\n"
    out = tmp_path / "example.csv"
    assert script.main(["--out", str(out), "--households", "60"]) == 0
    with pytest.raises(SystemExit, match="add --replace"):
        script.main(["--out", str(out), "--households", "60"])
    assert script.main(["--out", str(out), "--households", "60", "--replace"]) == 0
    assert read_records(out).n == 60


def test_records_are_parsed_once_per_file_version(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_bytes(EXAMPLE.read_bytes())
    first = read_records(path)
    assert read_records(path) is first  # replicates in a process reuse the parse
    _edit(_example(), 1, "weight", "5").to_csv(path, index=False)
    changed = read_records(path)
    assert changed is not first and changed.weight[0] == 5.0
