"""`python run.py report` and `python run.py decompose` end to end on tiny real runs, and the
exit code 2 for results folders with missing or damaged files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.cli import main

TINY = ["--households", "300", "--replicates", "3", "--workers", "1", "--quiet", "--no-figures",
        "--policy-date", "2021-01"]
SECTIONS = ("Overview", "Scenarios compared", "Headline results",
            "Causes of returns and new poverty", "Mechanism decomposition",
            "Exit cohorts and time to return", "Who returns", "Monitoring and disasters",
            "Fiscal cost and cost-effectiveness", "Which strategy, in which worlds",
            "The best mix for the budget", "Calibration", "Run manifest",
            "Methods and definitions")


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "cmp"
    assert main(["compare", "baseline", "social_security", "combined", "--years", "5",
                 "--out", str(out), *TINY]) == 0
    return out


@pytest.fixture(scope="module")
def decompose_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "dec"
    assert main(["decompose", "baseline", "combined", "--years", "2", "--out", str(out),
                 "--households", "300", "--replicates", "2", "--workers", "1", "--quiet",
                 "--no-figures", "--policy-date", "2021-01"]) == 0
    return out


def _headings(text: str) -> list[str]:
    return re.findall(r"<h2 id=\"[^\"]*\">([^<]*)</h2>", text)


def test_report_is_self_contained_and_has_every_section(compare_dir: Path, decompose_dir: Path,
                                                         tmp_path: Path) -> None:
    html_path = tmp_path / "out" / "r.html"
    assert main(["report", str(compare_dir), "--out", str(html_path),
                 "--decomposition", str(decompose_dir)]) == 0
    html = html_path.read_text(encoding="utf-8")
    assert _headings(html) == list(SECTIONS)
    assert "Shapley decomposition: combined − baseline" in html
    # offline: no scripts, stylesheets, fonts or images fetched from anywhere
    assert "<script" not in html and "<link" not in html and "url(" not in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert 'name="viewport"' in html and "@media (max-width:640px)" in html
    images = re.findall(r'<img src="data:image/png;base64,', html)
    assert len(images) >= 10
    # every result table and figure states its replicates (2 in the decomposition, else 3)
    for caption in re.findall(r"<caption>(.*?)</caption>", html):
        if "mean" in caption or "interval" in caption:
            assert re.search(r"n = [23] replicates", caption), caption
    for caption in re.findall(r"<figcaption>(.*?)</figcaption>", html):
        assert re.search(r"n = [23] replicates", caption), caption
    assert "Calibration of baseline, 2021–2025" in html  # 5 years cover the targets
    assert "Fieller" in html and "Kaplan–Meier" in html
    md = (tmp_path / "out" / "r.md").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f"\n## {section}\n" in md
    files = tmp_path / "out" / "r_files"
    for link in re.findall(r"\]\((r_files/[^)]+)\)", md):
        assert (tmp_path / "out" / link).is_file()
    ce = pd.read_csv(files / "cost_effectiveness.csv")
    assert list(ce["scenario"]) == ["social_security", "combined"]
    watch = pd.read_csv(files / "monitoring_and_disasters.csv")
    assert set(watch["metric"]) == {"at_risk", "identified", "unidentified", "hit", "hit_fell"}
    shares = watch[watch["metric"].isin(["identified", "unidentified"])]["mean"].dropna()
    assert len(shares) and shares.between(0.0, 1.0).all()
    assert {"per_return", "per_return_low", "per_return_high", "per_return_boot_low",
            "per_year"} <= set(ce.columns)


def test_report_defaults_to_the_results_folder(compare_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # a copy cut to 2021-2023: the calibration table is replaced by a statement saying why
    short = tmp_path / "short"
    shutil.copytree(compare_dir, short)
    runs = pd.read_parquet(short / "runs.parquet")
    runs[runs["year"] <= 2023].to_parquet(short / "runs.parquet")
    events = pd.read_parquet(short / "events.parquet")
    events[events["month"] < 36].to_parquet(short / "events.parquet")
    assert main(["report", str(short)]) == 0
    assert (short / "report.html").is_file() and (short / "report.md").is_file()
    assert "report written" in capsys.readouterr().out
    html = (short / "report.html").read_text(encoding="utf-8")
    assert "need 2021–2025, so no calibration table is shown" in html


def _damage_missing(folder: Path, name: str) -> None:
    (folder / name).unlink()


def _damage_garbage(folder: Path, name: str) -> None:
    (folder / name).write_bytes(b"\x00 this is not what the file should hold \xff")


def _damage_column(folder: Path, name: str) -> None:
    pd.read_parquet(folder / name).drop(columns=["year"]).to_parquet(folder / name)


@pytest.mark.parametrize(("damage", "name"), [
    (_damage_missing, "runs.parquet"),
    (_damage_missing, "households.parquet"),
    (_damage_garbage, "events.parquet"),
    (_damage_garbage, "manifest.json"),
    (_damage_missing, "manifest.json"),
    (_damage_column, "runs.parquet"),
    (_damage_missing, "scenarios/social_security.toml"),
    (_damage_garbage, "scenarios/combined.toml"),
])
def test_damaged_results_exit_2_naming_the_file(compare_dir: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                damage, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "damaged"
    shutil.copytree(compare_dir, folder)
    damage(folder, name)
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert str(folder / name) in err[0]
    assert not (folder / "report.html").exists()


def test_missing_folder_and_bad_output_exit_2(compare_dir: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "no such results folder" in capsys.readouterr().err
    assert main(["report", str(compare_dir), "--out", str(tmp_path)]) == 2  # a folder
    assert main(["report", str(compare_dir), "--out", str(tmp_path / "r.pdf")]) == 2
    assert capsys.readouterr().err.count("error: ") == 2


def test_decompose_contributions_sum_to_the_paired_total(decompose_dir: Path) -> None:
    table = pd.read_csv(decompose_dir / "decomposition.csv")
    runs = pd.read_parquet(decompose_dir / "runs.parquet")
    assert runs["scenario"].nunique() == 16
    for outcome, sub in table.groupby("outcome"):
        sub = sub.set_index("component")
        parts = sub.loc[["responsibility", "social_security", "industry", "motivation"],
                        "shapley"].sum()
        assert parts == pytest.approx(sub.loc["total", "shapley"], abs=1e-6), outcome
    # the total is the paired difference of the two scenarios' saved returns
    totals = runs.groupby(["scenario", "seed"])["returned_households"].sum()
    expected = (totals["combined"] - totals["baseline"]).mean()
    total = table[(table["outcome"] == "returns") & (table["component"] == "total")]
    assert float(total["shapley"].iloc[0]) == pytest.approx(expected)
    assert np.isfinite(table["shapley"]).all()


def test_report_shows_the_decomposition(decompose_dir: Path, tmp_path: Path) -> None:
    assert main(["report", str(decompose_dir), "--out", str(tmp_path / "d.html")]) == 0
    html = (tmp_path / "d.html").read_text(encoding="utf-8")
    assert "Shapley decomposition: combined − baseline" in html
    assert "16 combinations of 4 mechanism changes" in html
    assert "intermediate scenarios of a mechanism decomposition" in html
    assert "check: sum of contributions − total" in html


def test_decompose_refuses_pairs_outside_the_mechanisms(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert main(["decompose", "baseline", "disaster", "--out", str(tmp_path / "d"),
                 *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "mechanism" in err
    assert not (tmp_path / "d").exists()


def test_main_job_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "latest"
    assert main(["--out", str(out), "--years", "2", "--households", "300", "--replicates",
                 "2", "--workers", "1", "--quiet", "--no-figures"]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert _headings(html) == list(SECTIONS)
    assert "One mechanism at a time: combined − baseline" in html
    assert "python run.py decompose baseline combined" in html


def test_single_scenario_report(tmp_path: Path) -> None:
    out = tmp_path / "one"
    assert main(["simulate", "baseline", "--out", str(out), "--years", "2", *TINY]) == 0
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert _headings(html) == list(SECTIONS)
    assert "Cost-effectiveness needs a baseline" in html


def test_report_includes_robustness_and_optimization(compare_dir: Path, tmp_path: Path) -> None:
    """`--robustness DIR --optimization DIR`: both sections come from those folders, their
    figures embedded in the HTML and copied next to report.md; a folder of another kind is
    refused with exit 2 before anything is written."""
    robust, optim = tmp_path / "rob", tmp_path / "opt"
    assert main(["robustness", "social_security", "industry", "-n", "3", "--replicates", "1",
                 "--households", "300", "--years", "7", "--workers", "1", "--quiet",
                 "--out", str(robust)]) == 0
    assert main(["optimize", "--levers", "social_security.coverage,industry.dividend",
                 "--evaluations", "8", "--population", "4", "--searches", "1",
                 "--replicates", "1", "--households", "300", "--futures", "0",
                 "--workers", "1", "--quiet", "--out", str(optim)]) == 0
    html_path = tmp_path / "r.html"
    assert main(["report", str(compare_dir), "--out", str(html_path), "--robustness",
                 str(robust), "--optimization", str(optim)]) == 0
    html = html_path.read_text(encoding="utf-8")
    assert _headings(html) == list(SECTIONS)
    assert f"From the folder <code>{robust}</code>" in html
    assert "P(first) [95% Wilson]" in html and re.search(r"pareto-\d{3}", html)
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) >= 3
    md = html_path.with_suffix(".md").read_text(encoding="utf-8")
    for link in re.findall(r"\]\((r_files/(?:robustness|optimization)-[^)]+)\)", md):
        assert (tmp_path / link).is_file(), link
    assert "r_files/robustness-rank_distribution.png" in md
    # a folder that is not a finished robustness run: exit 2, nothing written
    assert main(["report", str(compare_dir), "--out", str(tmp_path / "x.html"),
                 "--robustness", str(optim)]) == 2
    assert not (tmp_path / "x.html").exists() and not (tmp_path / "x_files").exists()


def test_figure_workers_do_not_change_the_report(compare_dir: Path, decompose_dir: Path,
                                                 tmp_path: Path) -> None:
    """Figures drawn on worker processes are the very bytes drawn in this process, and every
    other file of the report is the same too."""
    from analysis.report import write_report

    written = {}
    for workers in (0, 1, 2):  # 1: the report process draws the figures left over
        # the folder's name, with a '-' that base64 (the embedded figures) never holds
        name = f"out-{workers}"
        html_path, md_path, _ = write_report(compare_dir, tmp_path / name / "r.html",
                                             decomposition=decompose_dir,
                                             figure_workers=workers)
        files = sorted(p for p in (html_path.parent / "r_files").iterdir()
                       if not p.name.startswith("."))  # the folder's stamp has a time
        assert sum(p.suffix == ".png" for p in files) >= 10
        written[workers] = ({p.name: p.read_bytes() for p in files},
                            md_path.read_text(encoding="utf-8").replace(name, "out"),
                            html_path.read_text(encoding="utf-8").replace(name, "out"))
    assert written[0] == written[1] == written[2]
