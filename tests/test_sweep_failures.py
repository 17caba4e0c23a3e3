"""A run that raises (or kills its worker) is recorded with its error and parameters; the
sweep goes on and says how many failed; --retry-failed reruns only those."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sweeps import run_and_analyse
from simulation.cli import main
from simulation.experiments.sweep.design import build_design
from simulation.experiments.sweep.models import (
    IshigamiModel,
    IshigamiRunner,
    Series,
    register_model,
)
from simulation.experiments.sweep.spec import parse_sweep

LIMIT = {"x1": 2.0}  # FlakyRunner fails above this; tests change it to "fix the model"


class FlakyRunner:
    """Ishigami, but raises for x1 above LIMIT and kills its process for one marked point."""

    def __call__(self, values: Mapping[str, float], seed: int, replicate: int) -> Series:
        if values["x3"] > 2.9 and os.environ.get("SWEEP_TEST_KILL") == "1":
            os._exit(3)  # a worker dying (segfault, OOM kill) rather than raising
        if values["x1"] > LIMIT["x1"]:
            raise ValueError(f"x1 = {values['x1']:.3f} is too large for this model")
        return IshigamiRunner()(values, seed, replicate)


class FlakyModel(IshigamiModel):
    name = "flaky"

    def make_runner(self, base: object, engine: str) -> FlakyRunner:
        return FlakyRunner()


register_model(FlakyModel())


def doc(method: str = "sobol", samples: int = 64) -> dict:
    return {"model": "flaky", "method": method, "samples": samples, "seed": 2,
            "outputs": ["y"], "factors": {k: [-math.pi, math.pi] for k in ("x1", "x2", "x3")}}


@pytest.mark.parametrize("workers", [1, 2])
def test_failing_runs_are_recorded_and_the_sweep_goes_on(tmp_path: Path, workers: int) -> None:
    spec = parse_sweep(doc(), "flaky.toml")
    expected = build_design(spec).values[:, 0] > LIMIT["x1"]
    report = run_and_analyse(spec, tmp_path / "s", workers=workers, figures=False)
    assert report.complete and report.failed == int(expected.sum()) > 0
    runs = pd.read_parquet(tmp_path / "s" / "runs.parquet")
    assert np.array_equal(runs["status"].eq("failed").to_numpy(), expected)
    assert runs.loc[expected, "y"].isna().all() and runs.loc[~expected, "y"].notna().all()
    failures = pd.read_csv(tmp_path / "s" / "failures.csv")
    assert len(failures) == expected.sum()
    assert failures["error"].str.startswith("ValueError: x1 = ").all()
    assert (failures["x1"] > LIMIT["x1"]).all()  # the parameters travel with the error
    # Sobol': base-sample blocks with a failure are dropped, the rest analysed
    assert any("base samples dropped" in n for n in report.notes)
    assert report.analysis.indices["value"].notna().all()


def test_cli_summary_counts_failures_and_retry_reruns_only_them(tmp_path: Path,
                                                                capsys) -> None:
    path = tmp_path / "flaky.toml"
    path.write_text('model = "flaky"\nmethod = "latin"\nsamples = 60\nseed = 4\n'
                    'outputs = ["y"]\n[factors]\nx1 = [-3.1, 3.1]\nx2 = [-3.1, 3.1]\n'
                    'x3 = [-3.1, 3.1]\n', encoding="utf-8")
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--no-figures"]) == 0
    captured = capsys.readouterr()
    failed = int((pd.read_csv(out / "failures.csv")).shape[0])
    assert failed > 0 and f"{failed:,} failed" in captured.out
    assert "failures.csv" in captured.out
    assert f"failed={failed}" in captured.err  # the progress bar shows failures too
    parts = len(list((out / "parts").iterdir()))
    LIMIT["x1"] = 10.0  # the model is fixed; rerun the failed runs only
    try:
        assert main(["sweep", str(path), "--out", str(out), "--resume", "--retry-failed",
                     "--quiet", "--no-figures"]) == 0
    finally:
        LIMIT["x1"] = 2.0
    out_text = capsys.readouterr().out
    assert f"{failed:,} runs computed now" in out_text and ", 0 failed" in out_text
    assert len(list((out / "parts").iterdir())) > parts
    runs = pd.read_parquet(out / "runs.parquet")
    assert (runs["status"] == "ok").all() and len(runs) == 60


def test_a_run_that_kills_its_worker_is_recorded_and_the_pool_recovers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWEEP_TEST_KILL", "1")  # inherited by the forked workers
    spec = parse_sweep({**doc("latin", 40), "factors": {"x1": [-1.0, 1.0], "x2": [-1.0, 1.0],
                                                        "x3": [-3.14, 3.14]}}, "killer.toml")
    killers = build_design(spec).values[:, 2] > 2.9
    assert 0 < killers.sum() < 5
    report = run_and_analyse(spec, tmp_path / "k", workers=2, figures=False)
    assert report.complete and report.failed == int(killers.sum())
    runs = pd.read_parquet(tmp_path / "k" / "runs.parquet")
    assert np.array_equal(runs["status"].eq("failed").to_numpy(), killers)
    assert runs.loc[killers, "error"].str.contains("died").all()
    assert runs.loc[~killers, "y"].notna().all()
