"""The analysis and the report on the smallest allowed runs: 1 replicate, 1 year, 50-100
households. Such runs may have no fall at all, so every table and figure must cope with empty
event sets and with a single run (a mean, but no interval)."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import figures
from analysis.causes import falls_by_cause, yearly_by_cause
from analysis.paired import describe
from analysis.report import write_report
from analysis.results_io import load_results
from simulation.cli import main

TINY = ["--replicates", "1", "--years", "1", "--workers", "1", "--quiet", "--no-figures"]
# a "[x, x]" interval: one run shown as if it had an interval of zero width
DEGENERATE = re.compile(r"(?<![\d.,])([-+]?[\d.,]*\d)%? \[\1, \1\]")


@pytest.fixture(scope="module")
def simulate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "sim"
    assert main(["simulate", "baseline", "--households", "50", "--out", str(out), *TINY]) == 0
    return out


@pytest.fixture(scope="module")
def decompose_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "dec"
    assert main(["decompose", "baseline", "combined", "--households", "100", "--out", str(out),
                 *TINY]) == 0
    return out


def _report(folder: Path, out: Path, decomposition: Path | None = None) -> str:
    html_path, md_path, _ = write_report(folder, out, decomposition)
    assert html_path.is_file()
    return md_path.read_text(encoding="utf-8")


def test_weight_column_of_an_empty_frame_is_an_empty_float_array(simulate_dir: Path) -> None:
    # the root of `decompose` crashing on a run without falls: Series.map of an empty frame
    # gave an object array, which numpy refuses as an index
    r = load_results(simulate_dir)
    weights = r.weight_column(r.households.iloc[:0])
    assert weights.shape == (0,) and weights.dtype.kind == "f"


def test_falls_by_cause_without_any_fall_is_a_grid_of_zeros(simulate_dir: Path) -> None:
    r = load_results(simulate_dir)
    r.events = r.events[r.events["event"] != "fall"]
    falls = falls_by_cause(r)
    assert len(falls) and (falls["households"] == 0).all()
    assert (yearly_by_cause(falls)["mean"] == 0).all()


def test_report_of_one_replicate_and_one_year(simulate_dir: Path, tmp_path: Path) -> None:
    md = _report(simulate_dir, tmp_path / "r.html")
    assert "One replicate: an interval needs at least two runs" in md
    assert "n = 1 replicate (" in md and "over 1 year (" in md
    assert not DEGENERATE.search(md), DEGENERATE.search(md)


def test_report_without_any_event(simulate_dir: Path, tmp_path: Path) -> None:
    # no fall, rise, identification...: every figure of returns gives way to a note
    folder = tmp_path / "no_events"
    shutil.copytree(simulate_dir, folder)
    events = pd.read_parquet(folder / "events.parquet")
    events.iloc[:0].to_parquet(folder / "events.parquet")
    md = _report(folder, tmp_path / "r.html")
    assert "No returns to poverty (formerly poor) in any of these runs" in md
    assert "No exit episode ended in a return" in md
    assert "report_files/returns_by_cause_and_year.png" not in md


def test_decompose_with_one_replicate(decompose_dir: Path, tmp_path: Path) -> None:
    table = pd.read_csv(decompose_dir / "decomposition.csv")
    total = table[(table["outcome"] == "returns") & (table["component"] == "total")]
    assert len(total) == 1 and total["replicates"].iloc[0] == 1
    md = _report(decompose_dir, tmp_path / "r.html")
    assert "Shapley decomposition: combined − baseline" in md
    assert not DEGENERATE.search(md), DEGENERATE.search(md)


def test_report_with_a_one_replicate_decomposition(simulate_dir: Path, decompose_dir: Path,
                                                   tmp_path: Path) -> None:
    md = _report(simulate_dir, tmp_path / "r.html", decompose_dir)
    assert "Shapley decomposition: combined − baseline" in md
    assert not DEGENERATE.search(md), DEGENERATE.search(md)


def test_single_intervals_are_dropped_and_others_kept() -> None:
    frame = pd.DataFrame({"scenario": ["a", "b", "b"], "x": [1.0, 2.0, 4.0]})
    out = describe(frame, ["x"]).set_index("scenario")
    assert out.loc["a", "mean"] == 1.0 and out.loc["a", ["low", "high"]].astype(float).isna().all()
    assert out.loc["b", "low"] < 3.0 < out.loc["b", "high"]


def test_figures_draw_without_falls_or_intervals() -> None:
    # no cause with a fall: no legend (matplotlib cannot lay out a legend of none)
    yearly = pd.DataFrame({"scenario": "baseline", "year": 2021, "cause": ["illness"],
                           "mean": [0.0], "replicates": [1]})
    ce = pd.DataFrame({"scenario": ["combined"], "replicates": [1], "extra_cost": [5e6],
                       "avoided_returns": [12.0], "per_return": [5e6 / 12.0],
                       **{f"{c}_{b}": [np.nan] for c in ("extra_cost", "avoided_returns")
                          for b in ("low", "high")}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "All-NaN slice" from bounds of one run
        for fig in (figures.falls_by_cause_panels(yearly, "returns"),
                    figures.cost_effectiveness_plane(ce)):
            figures.plt.close(fig)
