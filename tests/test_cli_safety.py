"""Nothing lost, nothing silently wrong: output folders, names, options, signals, bad input.

Each test reproduces a way the command line once lost a user's files, ignored an option or
crashed on allowed input, and holds the fix.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import simulation.experiments.runner
from simulation.cli import main
from simulation.common.output import (
    MARKER,
    OutputFolder,
    atomic_write_bytes,
    remove_stale_temporaries,
)
from simulation.common.stats import interval_text

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--households", "200", "--years", "2", "--quiet", "--no-figures"]


def _no_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the command gets as far as running the model."""
    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("the model ran, but the output should have been refused first")

    monkeypatch.setattr(simulation.experiments.runner, "run_many", refuse)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


# ----------------------------------------------------------------------------- --out
@pytest.mark.parametrize("command", [
    ["simulate", "baseline"], ["compare", "baseline", "industry"],
    ["decompose", "baseline", "combined"], []])
def test_out_never_replaces_a_users_folder(command: list[str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my own work")
    _no_runs(monkeypatch)
    for extra in ([], ["--replace"]):
        assert main([*command, "--out", str(mine), *extra, *TINY]) == 2
        err = capsys.readouterr().err
        assert "did not write" in err and str(mine) in err
    assert (mine / "notes.txt").read_text() == "my own work"


@pytest.mark.parametrize("out", [".", ".."])
def test_out_dot_and_dotdot_are_refused(out: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "clone"
    work.mkdir()
    (work / "source.py").write_text("print('keep me')")
    monkeypatch.chdir(work)
    _no_runs(monkeypatch)
    before = _tree(tmp_path)
    assert main(["simulate", "baseline", "--out", out, "--replace", *TINY]) == 2
    assert "error:" in capsys.readouterr().err
    assert _tree(tmp_path) == before


def test_a_folder_of_results_folders_is_refused(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    assert main(["simulate", "baseline", "--out", str(results / "a"), *TINY]) == 0
    before = _tree(results)
    assert main(["simulate", "baseline", "--out", str(results), "--replace", *TINY]) == 2
    assert "holds other results folders" in capsys.readouterr().err
    assert _tree(results) == before


def test_replacing_own_output_needs_replace_and_keeps_user_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "res"
    assert main(["simulate", "baseline", "--out", str(out), *TINY]) == 0
    first = (out / "runs.parquet").read_bytes()
    assert main(["simulate", "baseline", "--out", str(out), "--seed", "5", *TINY]) == 2
    assert "add --replace" in capsys.readouterr().err
    assert (out / "runs.parquet").read_bytes() == first
    assert main(["simulate", "baseline", "--out", str(out), "--seed", "5", "--replace",
                 *TINY]) == 0
    assert (out / "runs.parquet").read_bytes() != first
    assert json.loads((out / "manifest.json").read_text())["seed"] == 5
    # a report added by `report` does not stop a replacement; a user's file does
    assert main(["report", str(out)]) == 0
    assert main(["simulate", "baseline", "--out", str(out), "--replace", *TINY]) == 0
    (out / "mine.txt").write_text("mine")
    assert main(["simulate", "baseline", "--out", str(out), "--replace", *TINY]) == 2
    assert "'mine.txt'" in capsys.readouterr().err
    assert (out / "mine.txt").read_text() == "mine"


def test_an_empty_folder_is_used(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["simulate", "baseline", "--out", str(out), *TINY]) == 0
    assert (out / "runs.parquet").is_file() and (out / MARKER).is_file()


def test_default_folders_are_new_and_latest_points_at_the_newest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "baseline", *TINY]) == 0
    assert main(["simulate", "baseline", "--seed", "9", *TINY]) == 0
    folders = sorted(p for p in (tmp_path / "results").iterdir() if not p.is_symlink())
    assert len(folders) == 2 and all(p.name.startswith("baseline-") for p in folders)
    latest = tmp_path / "results" / "latest"
    assert latest.is_symlink()
    assert json.loads((latest / "manifest.json").read_text())["seed"] == 9


def test_a_real_latest_folder_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    latest = tmp_path / "results" / "latest"
    latest.mkdir(parents=True)
    (latest / "keep.txt").write_text("keep")
    assert main(["simulate", "baseline", *TINY]) == 0
    assert "left as it is" in capsys.readouterr().err
    assert (latest / "keep.txt").read_text() == "keep" and not latest.is_symlink()


def test_unwritable_out_is_refused_before_any_run(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _no_runs(monkeypatch)
    assert main(["simulate", "baseline", "--out", "/proc/no-such/x", *TINY]) == 2
    assert "/proc/no-such/x" in capsys.readouterr().err


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f".res.tmp-{dead}-abc"
    stale.mkdir()
    (stale / "runs.parquet").write_text("half written")
    live = tmp_path / f".res.tmp-{os.getpid()}-xyz"
    live.mkdir()
    other = tmp_path / ".hidden-user-folder"
    other.mkdir()
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert live.exists() and other.exists()


def test_outputs_follow_the_umask(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    os.umask(mask)
    with OutputFolder(tmp_path / "out", kind="test") as folder:
        atomic_write_bytes(folder.path / "a.bin", b"x")
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((tmp_path / "out" / "a.bin").stat().st_mode) == 0o666 & ~mask


# ----------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["../escaped", "/tmp/abs", "", ".", "a/b", "..", " x"])
def test_scenario_names_are_not_paths(name: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "s.toml"
    f.write_text(f'name = {json.dumps(name)}\nbase = "baseline"\n', encoding="utf-8")
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and "'name'" in err and "not a path" in err


def test_a_name_like_a_result_file_is_harmless(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text('name = "runs.parquet"\nbase = "baseline"\n', encoding="utf-8")
    assert main(["simulate", str(f), "--out", str(tmp_path / "r"), *TINY]) == 0
    assert (tmp_path / "r" / "scenarios" / "runs.parquet.toml").is_file()
    assert len(pd.read_parquet(tmp_path / "r" / "runs.parquet")) == 2


# ----------------------------------------------------------------------------- options
def test_options_before_the_command_apply(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert main(["--replicates", "2", "--years", "2", "--households", "200", "--quiet",
                 "simulate", "baseline", "--out", str(out), "--no-figures"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replicates"] == 2
    assert manifest["scenarios"]["baseline"] == {**manifest["scenarios"]["baseline"],
                                                 "years": 2, "households": 200}


def test_options_after_the_command_win(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert main(["--replicates", "3", "simulate", "baseline", "--replicates", "2",
                 "--out", str(out), *TINY]) == 0
    assert json.loads((out / "manifest.json").read_text())["replicates"] == 2


@pytest.mark.parametrize("args", [
    ["--replicates", "2", "validate", "baseline"],
    ["--quiet", "params"],
    ["calibration", "--years", "3"],
    ["calibration", "--no-figures"],
])
def test_options_a_command_does_not_take_are_refused(args: list[str],
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    assert main(args) == 2
    assert capsys.readouterr().err


@pytest.mark.parametrize("table", ["schedule", "disasters"])
def test_events_after_the_horizon_are_refused_in_a_file(table: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    f = tmp_path / "late.toml"
    entry = ('date = "2027-07"\nset = { "responsibility.duty_performance" = 0.9 }'
             if table == "schedule" else 'date = "2027-07"')
    f.write_text(f'base = "baseline"\n[run]\nyears = 5\n[[{table}]]\n{entry}\n',
                 encoding="utf-8")
    assert main(["validate", str(f)]) == 2
    assert main(["simulate", str(f), "--out", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "after the horizon" in err and "2027-07" in err and str(f) in err
    assert not (tmp_path / "r").exists()


def test_a_horizon_shortened_on_the_command_line_says_what_will_not_happen(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "disaster", "--out", str(tmp_path / "r"), *TINY]) == 0
    err = capsys.readouterr().err
    assert "[[disasters]] dated 2027-07 is after the horizon (2022-12) and will not happen" \
        in err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_discover_threshold_must_be_finite(value: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discover", str(tmp_path), "--metric", "x", f"--below={value}"]) == 2
    assert "finite" in capsys.readouterr().err


def test_utf8_bom_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bom.toml"
    f.write_bytes(b"\xef\xbb\xbfbase = \"baseline\"\n")
    assert main(["validate", str(f)]) == 2
    assert "byte-order mark" in capsys.readouterr().err


def test_more_households_than_the_county_is_explained(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def stop(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt  # the note comes before the runs; no need to run them

    monkeypatch.setattr(simulation.experiments.runner, "run_many", stop)
    assert main(["simulate", "baseline", "--households", "100000", "--out",
                 str(tmp_path / "r"), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "more than the county's" in err and "weight below 1" in err


# ----------------------------------------------------------------------------- intervals
def test_intervals_respect_bounds_and_need_two_replicates() -> None:
    assert interval_text(233, -190, 657, floor=0.0) == "233 [0, 657]"
    assert interval_text(0.5, -0.88, 1.98, "{:.2f}", 0.0, 1.0) == "0.50 [0.00, 1.00]"
    assert interval_text(267, float("nan"), float("nan")) == "267"


def test_one_replicate_prints_no_interval(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "baseline", "--out", str(tmp_path / "r"), "--replicates", "1",
                 *TINY]) == 0
    out = capsys.readouterr().out
    assert "one replicate: no intervals" in out
    row = next(line for line in out.splitlines() if line.startswith("baseline"))
    assert "[" not in row


def test_calibration_exits_3_when_a_target_is_missed(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import analysis.calibration as calibration

    impossible = calibration.Target("impossible", "a target no run can meet", 2.0, 3.0, "share",
                                    "test", lambda run: 0.0)
    monkeypatch.setattr(calibration, "TARGETS", (*calibration.TARGETS, impossible))
    assert main(["calibration", "--replicates", "2", "--households", "200", "--quiet"]) == 3
    captured = capsys.readouterr()
    assert "targets inside" in captured.out and "calibration check failed" in captured.err


# ----------------------------------------------------------------------------- processes
def _cli(*args: str, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kw)  # type: ignore[call-overload]


def test_params_into_a_closed_pipe_is_quiet() -> None:
    done = subprocess.run(f"{sys.executable} {ROOT / 'run.py'} params | head -1", shell=True,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith("Parameters")
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_sigterm_is_clean(tmp_path: Path) -> None:
    """SIGTERM stops a run like Ctrl-C: exit 143, one line, no worker tracebacks, no
    leaked-semaphore warning, no temporary folder left behind."""
    proc = _cli("simulate", "baseline", "--replicates", "400", "--workers", "2",
                "--out", str(tmp_path / "r"), cwd=tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(tmp_path.glob(".r.tmp-*")):
        time.sleep(0.1)
    time.sleep(2.0)  # the workers are running now
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in err and "leaked" not in err and "terminated" in err
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- report
def test_report_replaces_only_its_own_report(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "res"
    assert main(["simulate", "baseline", "--out", str(out), "--replicates", "2", *TINY]) == 0
    assert main(["report", str(out)]) == 0
    first = (out / "report.html").read_bytes()
    assert main(["report", str(out)]) == 2
    assert "add --replace" in capsys.readouterr().err
    assert main(["report", str(out), "--replace"]) == 0
    # a user's own page of that name is never replaced, with or without --replace
    page = tmp_path / "page.html"
    page.write_text("<html>my page</html>")
    for extra in ([], ["--replace"]):
        assert main(["report", str(out), "--out", str(page), *extra]) == 2
        assert "not written by this program" in capsys.readouterr().err
    assert page.read_text() == "<html>my page</html>"
    notes = tmp_path / "notes_files"
    notes.mkdir()
    (notes / "keep.csv").write_text("a,b")
    assert main(["report", str(out), "--out", str(tmp_path / "notes.html"), "--replace"]) == 2
    assert (notes / "keep.csv").read_text() == "a,b"
    assert (out / "report.html").read_bytes() != b"" and first


def test_report_on_a_sweep_folder_points_to_discover(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    sweep = tmp_path / "sweep"
    (sweep / "parts").mkdir(parents=True)
    (sweep / "design.parquet").write_bytes(b"")
    (sweep / "manifest.json").write_text('{"kind": "poverty-return sweep"}')
    assert main(["report", str(sweep)]) == 2
    err = capsys.readouterr().err
    assert "sweep folder" in err and "discover" in err
