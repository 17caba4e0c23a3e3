"""A tiny sweep of the real model end to end through the CLI, then scenario discovery on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import write_sweep

from analysis.discovery import inside
from simulation.cli import main

LATIN = {"name": "tiny_latin", "method": "latin", "samples": 60, "seed": 9, "households": 400,
         "years": 3,
         "outputs": ("returned_households", "fiscal_cost_yuan"),
         "factors": {"social_security.coverage": (0.0, 1.0),
                     "social_security.medical_assistance_rate": (0.0, 0.9),
                     "industry.positioning": (0.0, 1.0),
                     "social_security.follow_up_months": (0, 36)}}


@pytest.fixture(scope="module")
def latin_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    path = write_sweep(root, **LATIN)
    out = root / "latin"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    return out


def test_tiny_real_sweep_writes_every_result(latin_sweep: Path) -> None:
    manifest = json.loads((latin_sweep / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["runs_on_disk"] == 60
    assert manifest["engine"] == "arrays" and manifest["base"]["households"] == 400
    assert [o["aggregate"] for o in manifest["outputs"]] == ["total", "total"]
    runs = pd.read_parquet(latin_sweep / "runs.parquet")
    assert len(runs) == 60 and (runs["status"] == "ok").all()
    # yearly values are kept and the output is their documented aggregate (total)
    yearly = runs[[f"returned_households@{y}" for y in (2021, 2022, 2023)]].sum(axis=1)
    assert np.allclose(yearly, runs["returned_households"])
    # the model got whole months for the integer key
    assert (runs["social_security.follow_up_months"] % 1 == 0).all()
    ind = pd.read_csv(latin_sweep / "indices.csv")
    assert list(ind.columns) == ["method", "output", "factor", "index", "value", "interval"]
    assert len(ind) == 2 * 4 * 2  # outputs x factors x (S1, pawn)
    assert (latin_sweep / "figures" / "latin_indices.png").is_file()
    assert (latin_sweep / "figures" / "outputs_vs_top_factor.png").is_file()
    samples = pd.read_csv(latin_sweep / "samples.csv")
    assert samples["complete"].all() and len(samples) == 60


def test_sobol_cli_gives_identical_indices_on_one_and_two_workers(tmp_path: Path,
                                                                  capsys) -> None:
    path = write_sweep(tmp_path, "sobol.toml", **{**LATIN, "method": "sobol", "samples": 8})
    for workers in ("1", "2"):
        assert main(["sweep", str(path), "--out", str(tmp_path / workers), "--workers",
                     workers, "--no-figures"]) == 0
    captured = capsys.readouterr()
    assert "Most influential factors by ST" in captured.out
    assert "48 of 48 runs on disk, 0 failed" in captured.out
    assert "run/s" in captured.err and "failed=0" in captured.err  # the progress bar
    one = pd.read_csv(tmp_path / "1" / "indices.csv")
    two = pd.read_csv(tmp_path / "2" / "indices.csv")
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    assert set(one["index"]) == {"S1", "ST"}


def test_discover_finds_a_box_with_the_reported_coverage_and_density(
        latin_sweep: Path, tmp_path: Path, capsys) -> None:
    samples = pd.read_csv(latin_sweep / "samples.csv")
    threshold = float(samples["fiscal_cost_yuan"].quantile(0.4))
    out = tmp_path / "disc"
    assert main(["discover", str(latin_sweep), "--metric", "fiscal_cost_yuan",
                 "--below", f"{threshold}", "--min-density", "0.6", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Box 1: coverage" in text
    summary = json.loads((out / "discovery.json").read_text())
    box = summary["boxes"][0]
    limits = pd.read_csv(out / "boxes.csv")
    limits = limits[limits["box"] == 1]
    # recount coverage and density from the samples and the box limits
    cases = samples["fiscal_cost_yuan"].to_numpy() < threshold
    mask = inside(samples, limits)
    assert summary["cases"] == cases.sum()
    assert box["coverage"] == pytest.approx((mask & cases).sum() / cases.sum())
    assert box["density"] == pytest.approx((mask & cases).sum() / mask.sum())
    assert box["mass"] == pytest.approx(mask.mean())
    assert (limits["restricted_low"] | limits["restricted_high"]).any()
    assert {"tradeoff.png", "boxes.png", "trajectory.csv"} <= {p.name for p in out.iterdir()}


@pytest.mark.parametrize(("args", "named"), [
    (["--metric", "gini", "--below", "1"], "--metric 'gini'"),
    (["--metric", "returned_households"], "--below"),
])
def test_discover_bad_input_exits_2(latin_sweep: Path, capsys, args: list[str],
                                    named: str) -> None:
    assert main(["discover", str(latin_sweep), *args]) == 2
    assert named in capsys.readouterr().err


def test_discover_needs_a_finished_sweep(tmp_path: Path, capsys) -> None:
    assert main(["discover", str(tmp_path / "none"), "--metric", "x", "--below", "1"]) == 2
    assert "no such sweep results folder" in capsys.readouterr().err
    path = write_sweep(tmp_path, "t.toml", **LATIN)
    assert main(["sweep", str(path), "--out", str(tmp_path / "p"), "--max-runs", "5",
                 "--quiet", "--workers", "1"]) == 0
    assert main(["discover", str(tmp_path / "p"), "--metric", "returned_households",
                 "--below", "1"]) == 2
    assert "not complete (5 of 60 runs)" in capsys.readouterr().err
