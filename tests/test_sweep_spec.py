"""Sweep files: shipped files are complete and valid; bad files exit 2 naming the key."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simulation.cli import main
from simulation.experiments.sweep.design import build_design, run_seed, sample_values
from simulation.experiments.sweep.spec import (
    SWEEP_DIR,
    SweepError,
    default_aggregate,
    design_rows,
    load_sweep,
    parse_sweep,
)
from simulation.model.metrics import METRICS
from simulation.model.params import KNOBS, SCHEMA

GOOD = """
name = "tiny"
base = "baseline"
method = "sobol"
samples = 8
replicates = 1
seed = 3
outputs = ["returned_households", "below_line_share_formerly_poor"]

[run]
households = 100
years = 2

[factors]
"responsibility.duty_performance" = [0.0, 1.0]
"social_security.follow_up_months" = [0, 12]
"""


def write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["mechanisms_sobol", "mechanisms_morris"])
def test_shipped_sweeps_cover_every_mechanism_knob_over_its_schema_range(name: str) -> None:
    spec = load_sweep(SWEEP_DIR / f"{name}.toml")
    assert [(f.key, f.low, f.high) for f in spec.factors] == \
        [(p.key, p.low, p.high) for p in KNOBS]
    assert all(o.metric in METRICS for o in spec.outputs)
    assert spec.method == name.split("_")[1]


def test_sobol_file_has_the_benchmark_size() -> None:
    spec = load_sweep("mechanisms_sobol")
    assert spec.samples == 256 and spec.run == {"households": 5000, "years": 15}
    assert design_rows(spec) == 256 * (len(KNOBS) + 2)


def test_flows_are_summed_and_levels_averaged_by_default() -> None:
    assert default_aggregate(METRICS["returned_households"][0]) == "total"
    assert default_aggregate(METRICS["below_line_share_formerly_poor"][0]) == "mean"
    spec = parse_sweep({**_doc(), "aggregate": {"returned_households": "final"}}, "t")
    assert [o.aggregate for o in spec.outputs] == ["final", "mean"]


def test_outputs_aggregate_the_evaluation_window_from_the_policy_date() -> None:
    from simulation.experiments.sweep.execute import ChunkJob, RunTask, run_chunk
    from simulation.experiments.sweep.models import Series

    def runner(values: dict, seed: int, replicate: int) -> Series:
        return Series([2021, 2022, 2023], {"returned_households": [1.0, 10.0, 100.0]})

    spec = parse_sweep({**_doc(), "outputs": ["returned_households"]}, "t")
    task = RunTask(0, 0, 0, 1, {})
    whole = run_chunk(ChunkJob(runner, spec.outputs, (2021, 2022, 2023), (task,)))[0]
    window = run_chunk(ChunkJob(runner, spec.outputs, (2021, 2022, 2023), (task,), 2022))[0]
    assert whole["returned_households"] == 111.0 and window["returned_households"] == 110.0
    assert window["returned_households@2021"] == 1.0  # the history is kept
    spec = parse_sweep({**_doc(), "run": {"policy_date": "2022-07"}}, "t")
    assert spec.run["policy_month"] == 18


def _doc() -> dict:
    import tomllib

    return tomllib.loads(GOOD)


@pytest.mark.parametrize(("change", "named"), [
    ({"factors": {"responsibility.duty_performanc": [0.0, 1.0]}},
     "responsibility.duty_performanc"),
    ({"factors": {"responsibility.duty_performance": [0.0, 1.5]}},
     "responsibility.duty_performance"),
    ({"factors": {"responsibility.caseload": [5.0, 100.0]}}, "responsibility.caseload"),
    ({"factors": {"social_security.follow_up_months": [0.5, 12]}},
     "social_security.follow_up_months"),
    ({"factors": {"responsibility.coordination": [0.7, 0.2]}}, "responsibility.coordination"),
    ({"factors": {"run.years": [1, 3]}}, "run.years"),
    ({"outputs": ["returned_household"]}, "returned_household"),
    ({"samples": 10}, "samples"),
    ({"method": "saltelli"}, "method"),
    ({"colour": "red"}, "colour"),
    ({"run": {"households": 10}}, "run.households"),
    ({"run": {"policy_date": "2019-01"}}, "run.policy_date"),
    ({"run": {"policy_date": "2026-13"}}, "run.policy_date"),
    ({"options": {"num_levels": 4}}, "options.num_levels"),
    ({"aggregate": {"returned_households": "median"}}, "aggregate.returned_households"),
    ({"model": "nonsense"}, "model"),
])
def test_bad_sweep_values_raise_naming_the_key(change: dict, named: str) -> None:
    with pytest.raises(SweepError, match=named.replace(".", r"\.")):
        parse_sweep({**_doc(), **change}, "bad.toml")


@pytest.mark.parametrize(("text", "named"), [
    (GOOD.replace('"responsibility.duty_performance"', '"responsibility.nonsense"'),
     "responsibility.nonsense"),
    (GOOD.replace("[0.0, 1.0]", "[0.0, 2.0]"), "responsibility.duty_performance"),
    (GOOD.replace("samples = 8", "samples = [8"), "not valid TOML"),
    (GOOD.replace('seed = 3\n', ''), "seed"),
])
def test_bad_sweep_files_exit_2_naming_file_and_key(tmp_path: Path, capsys, text: str,
                                                    named: str) -> None:
    path = write(tmp_path, text)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(path) in err and named in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_missing_sweep_file_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["sweep", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml: no such sweep file" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "named"), [
    (["--samples", "12"], "--samples"),
    (["--households", "10"], "run.households"),
    (["--years", "99"], "run.years"),
    (["--engine", "turbo"], "--engine"),
    (["--policy-date", "May 2026"], "--policy-date"),
])
def test_bad_overrides_exit_2(tmp_path: Path, capsys, flags: list[str], named: str) -> None:
    path = write(tmp_path, GOOD)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--quiet", *flags]) == 2
    assert named in capsys.readouterr().err


def test_factors_knobs_shorthand_and_integer_keys() -> None:
    spec = parse_sweep({**_doc(), "factors": "knobs"}, "t")
    assert spec.names == [p.key for p in KNOBS]
    assert [f.integer for f in spec.factors] == [p.integer for p in KNOBS]


# ----------------------------------------------------------------------------- design
def test_design_is_deterministic_in_the_seed_and_prefixes_nest() -> None:
    spec = parse_sweep(_doc(), "t")
    a, b = build_design(spec), build_design(spec)
    assert np.array_equal(a.raw, b.raw)
    other = build_design(parse_sweep({**_doc(), "seed": 4}, "t"))
    assert not np.array_equal(a.raw, other.raw)
    # the first N/4 base samples of a Sobol' design are the design with N/4 (convergence)
    big = build_design(spec.with_overrides(samples=32))
    assert np.array_equal(big.raw[: a.rows], a.raw)


def test_integer_factors_reach_every_whole_value_and_stay_in_range() -> None:
    spec = parse_sweep({**_doc(), "method": "latin", "samples": 400}, "t")
    design = build_design(spec)
    months = design.values[:, 1]
    assert set(np.unique(months).tolist()) == set(range(13))
    values = sample_values(spec, design, 0)
    assert type(values["social_security.follow_up_months"]) is int
    assert type(values["responsibility.duty_performance"]) is float
    high = SCHEMA["responsibility.duty_performance"].high
    assert design.values[:, 0].max() <= high


def test_common_random_numbers_share_seeds_across_samples() -> None:
    crn = parse_sweep({**_doc(), "replicates": 3}, "t")
    assert run_seed(crn, 0, 1) == run_seed(crn, 5, 1) != run_seed(crn, 5, 2)
    indep = parse_sweep({**_doc(), "replicates": 3, "common_random_numbers": False}, "t")
    seeds = {run_seed(indep, s, r) for s in range(20) for r in range(3)}
    assert len(seeds) == 60
    assert run_seed(crn, 0, 0) == run_seed(parse_sweep({**_doc(), "replicates": 3}, "t"), 0, 0)


@pytest.mark.parametrize(("method", "samples", "rows"), [
    ("sobol", 8, 8 * 4), ("morris", 5, 5 * 3), ("fast", 70, 70 * 2), ("rbd_fast", 50, 50),
    ("latin", 30, 30), ("grid", 3, 9),
])
def test_every_method_builds_a_design_of_the_announced_size(method: str, samples: int,
                                                            rows: int) -> None:
    spec = parse_sweep({**_doc(), "method": method, "samples": samples}, "t")
    design = build_design(spec)
    assert design.rows == design_rows(spec) == rows
    for j, f in enumerate(spec.factors):
        assert f.low <= design.values[:, j].min() and design.values[:, j].max() <= f.high
    assert not math.isnan(design.raw.sum())
