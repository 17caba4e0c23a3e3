"""Nothing lost: runs stream to disk, an interrupted sweep resumes to exactly the same results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from support import write_sweep

from analysis.sweeps import run_and_analyse
from simulation.cli import main
from simulation.experiments.sweep.spec import load_sweep

ROOT = Path(__file__).resolve().parent.parent
TINY = {"name": "tiny_resume", "replicates": 2, "seed": 5,
        "outputs": ("returned_households", "fiscal_cost_yuan", "below_line_share_formerly_poor"),
        "factors": {"responsibility.duty_performance": (0.0, 1.0),
                    "social_security.coverage": (0.2, 1.0),
                    "industry.positioning": (0.0, 1.0),
                    "social_security.follow_up_months": (0, 24)}}
VOLATILE = ["seconds", "cpu_seconds", "worker"]  # how long and where a run ran: not a result


def sweep_file(tmp_path: Path, samples: int = 8) -> Path:
    return write_sweep(tmp_path, samples=samples, **TINY)


def results(folder: Path) -> dict[str, pd.DataFrame]:
    return {"runs": pd.read_parquet(folder / "runs.parquet").drop(columns=VOLATILE),
            "samples": pd.read_csv(folder / "samples.csv"),
            "indices": pd.read_csv(folder / "indices.csv"),
            "convergence": pd.read_csv(folder / "convergence.csv")}


def assert_same_results(a: Path, b: Path) -> None:
    ra, rb = results(a), results(b)
    for name in ra:
        pd.testing.assert_frame_equal(ra[name], rb[name], check_exact=True, obj=name)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("resume")
    spec = load_sweep(sweep_file(root))
    report = run_and_analyse(spec, root / "whole", workers=2, figures=False)
    assert report.complete and report.done == report.total == 8 * 6 * 2
    return root / "whole"


def test_stopped_and_resumed_sweep_equals_the_uninterrupted_one(tmp_path: Path,
                                                                uninterrupted: Path) -> None:
    spec = load_sweep(sweep_file(tmp_path))
    out = tmp_path / "pieces"
    first = run_and_analyse(spec, out, workers=2, max_runs=30, figures=False)
    assert (first.done, first.computed, first.complete) == (30, 30, False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "partial" and manifest["runs_on_disk"] == 30
    assert not (out / "indices.csv").exists()
    on_disk = pd.concat(pd.read_parquet(p) for p in sorted((out / "parts").iterdir()))
    assert len(on_disk) == 30 and on_disk["run"].is_unique

    second = run_and_analyse(spec, out, workers=1, resume=True, max_runs=25, figures=False)
    assert (second.done, second.computed) == (55, 25)
    last = run_and_analyse(spec, out, workers=2, resume=True, figures=False)
    assert last.complete and last.computed == last.total - 55
    assert_same_results(out, uninterrupted)
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert [s["runs_computed"] for s in sessions] == [30, 25, last.total - 55]


def test_resuming_a_finished_sweep_recomputes_nothing(tmp_path: Path,
                                                      uninterrupted: Path) -> None:
    spec = load_sweep(sweep_file(tmp_path))
    parts = {p.name: p.stat().st_mtime_ns for p in (uninterrupted / "parts").iterdir()}
    before = results(uninterrupted)
    again = run_and_analyse(spec, uninterrupted, workers=2, resume=True, figures=False)
    assert again.complete and again.computed == 0
    assert {p.name: p.stat().st_mtime_ns for p in (uninterrupted / "parts").iterdir()} == parts
    for name, frame in results(uninterrupted).items():
        pd.testing.assert_frame_equal(frame, before[name], check_exact=True)


def test_existing_sweep_folder_needs_resume(tmp_path: Path, capsys) -> None:
    path = sweep_file(tmp_path)
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out), "--max-runs", "3", "--quiet",
                 "--workers", "1"]) == 0
    assert "3 of 96 runs on disk" in capsys.readouterr().out
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    assert "--resume" in capsys.readouterr().err
    # resuming with different options would mix two sweeps: refused, naming what differs
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--samples", "16",
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "samples" in err and "8 on disk, 16 now" in err


def _wait_for_parts(folder: Path, count: int, proc: subprocess.Popen, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        parts = folder / "parts"
        if parts.is_dir() and len([p for p in parts.iterdir() if p.suffix == ".parquet"]) >= \
                count:
            return
        if proc.poll() is not None:
            pytest.fail(f"sweep ended early: {proc.communicate()}")
        time.sleep(0.05)
    pytest.fail("no part files appeared in time")


def _start(path: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "sweep", str(path), "--out", str(out),
         "--workers", "2", "--quiet", "--no-figures"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)  # its own process group: we can kill it and its workers


def _group_gone(pgid: int, limit: float = 10.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_sweep_killed_with_sigkill_resumes_to_identical_results(tmp_path: Path) -> None:
    path = sweep_file(tmp_path, samples=16)
    whole = tmp_path / "whole"
    assert run_and_analyse(load_sweep(path), whole, workers=2, figures=False).complete
    out = tmp_path / "killed"
    proc = _start(path, out)
    _wait_for_parts(out, 3, proc, limit=60)
    os.kill(proc.pid, signal.SIGKILL)  # the parent only, like an OOM kill: no clean-up runs
    proc.communicate()
    assert _group_gone(proc.pid), "worker processes outlived their killed parent"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "running"  # it never got to say otherwise
    report = run_and_analyse(load_sweep(path), out, workers=2, resume=True, figures=False)
    assert report.complete and 0 < report.computed < report.total
    assert_same_results(out, whole)


@pytest.mark.slow
def test_sigterm_stops_cleanly_and_the_sweep_resumes(tmp_path: Path, capsys) -> None:
    path = sweep_file(tmp_path, samples=16)
    out = tmp_path / "termed"
    proc = _start(path, out)
    _wait_for_parts(out, 3, proc, limit=60)
    os.kill(proc.pid, signal.SIGTERM)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "--resume" in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "partial"
    assert manifest["runs_on_disk"] < manifest["total_runs"]
    assert _group_gone(proc.pid)
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--quiet",
                 "--no-figures"]) == 0
    assert f"{manifest['total_runs']:,} of {manifest['total_runs']:,} runs on disk" in \
        capsys.readouterr().out
