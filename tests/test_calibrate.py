"""`calibrate`: targets files are validated (exit 2, file and key named, nothing written);
target statistics are exact; history matching keeps the truth of a known function and rules
out the rest; a small calibration runs end to end, writes a county profile any scenario can
use, and a killed calibration resumes to the same result."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.cli import main
from simulation.experiments.calibrate.emulate import Emulator, Wave, latin, non_implausible
from simulation.experiments.calibrate.spec import Target, load_targets
from simulation.model.county import load_county
from simulation.model.scenario import ScenarioError

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_targets_files_validate() -> None:
    for path in sorted((ROOT / "targets").glob("*.toml")):
        spec = load_targets(path)
        assert spec.targets and spec.parameters
        load_county(spec.county, path.parent)  # its county exists


def test_m_county_targets_are_the_calibration_check() -> None:
    from analysis.calibration import TARGETS

    spec = load_targets("m_county")
    assert [t.name for t in TARGETS] == [t.name for t in spec.targets]
    assert len(TARGETS) == 16


def test_statistics_are_exact() -> None:
    years = [2021, 2022, 2023, 2024, 2025]
    yearly = {"x": [1.0, 2.0, 4.0, 4.0, 2.0],
              **{f"risk_cause_{c}": [0.0] * 5 for c in ("disability", "job_loss", "accident",
                                                         "disaster", "schooling",
                                                         "industry_failure",
                                                         "transfer_withdrawal", "low_income")},
              "risk_cause_illness": [3.0, 3.0, 0.0, 0.0, 0.0]}
    yearly["risk_cause_disability"] = [1.0, 1.0, 1.0, 1.0, 0.0]

    def target(statistic: str, metric: str = "x", ys: tuple[int, ...] = (2021, 2022, 2023)
               ) -> Target:
        return Target("t", metric, ys, statistic, 0.0, 1.0)

    assert target("mean").of(yearly, years) == pytest.approx(7 / 3)
    assert target("change", ys=(2021, 2025)).of(yearly, years) == 1.0
    assert target("growth").of(yearly, years) == pytest.approx(1.0)  # +100%, +100%
    share = target("cause_share", "risk_cause_illness", tuple(years)).of(yearly, years)
    assert share == pytest.approx(6 / 10)
    assert target("cause_leads", "risk_cause_illness", tuple(years)).of(yearly, years) == 1.0
    assert target("cause_leads", "risk_cause_disability", tuple(years)).of(yearly, years) == 0.0


GOOD = """name = "tiny"
county = "m_county"
[parameters]
"shocks.hospitalisation_rate" = [0.05, 0.25]
"income.volatility" = []
[[target]]
name = "income_2021"
metric = "income_per_capita_formerly_poor"
years = [2021]
low = 11000.0
high = 14000.0
unit = "yuan/person"
"""


@pytest.mark.parametrize(("change", "message"), [
    (("\"income.volatility\" = []", "\"income.volatilty\" = []"),
     "unknown key 'parameters.\"income.volatilty\"' (did you mean 'income.volatility'?)"),
    (("\"income.volatility\" = []", "\"income.volatility\" = [0.2, 0.9]"),
     "must be [low, high] with low < high inside the schema range [0, 0.5]"),
    (("\"income.volatility\" = []", "\"run.years\" = []"), "describes a run, not a county"),
    (("metric = \"income_per_capita_formerly_poor\"", "metric = \"income_per_capita\""),
     "key 'target[0].metric' = 'income_per_capita' is not a yearly output"),
    (("years = [2021]", "years = [2030]"), "key 'target[0].years' must be a list of increasing"),
    (("low = 11000.0", "value = 12000.0"), "needs either low and high"),
    (("unit = \"yuan/person\"", "colour = \"red\""), "unknown key 'target[0].colour'"),
    (("name = \"tiny\"", "name = \"tiny\"\nwaves = 3"), "unknown key 'waves'"),
])
def test_bad_targets_files_exit_2(tmp_path: Path, change: tuple[str, str], message: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.toml"
    assert change[0] in GOOD
    path.write_text(GOOD.replace(change[0], change[1]), encoding="utf-8")
    with pytest.raises(ScenarioError):
        load_targets(path)
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err
    assert not out.exists()


def test_history_matching_keeps_the_truth_of_a_known_function() -> None:
    """f(x) = x0 + 0.2 x1 observed at x* = (0.3, 0.7): the non-implausible space contains x*,
    excludes points whose x0 is far from 0.3 - 0.2 (x1 - 0.7), and shrinks a lot."""
    rng = np.random.default_rng(1)
    x = latin(40, 2, rng)
    y = x[:, 0] + 0.2 * x[:, 1]
    truth = 0.3 + 0.2 * 0.7
    em = Emulator.fit("f", x, y, seed=0)
    e, v = em.predict(np.array([[0.3, 0.7]]))
    assert abs(e[0] - truth) < 0.01 and v[0] < 1e-3
    wave = Wave([em], np.array([truth]), np.array([0.01]))
    probe = np.array([[0.3, 0.7], [0.9, 0.1], [0.05, 0.2], [0.44, 0.0]])
    keep, worst = non_implausible([wave], probe)
    assert keep.tolist() == [True, False, False, True]
    share = non_implausible([wave], latin(5000, 2, rng))[0].mean()
    assert 0.02 < share < 0.2


def test_refocus_places_the_next_wave_where_the_model_comes_closest() -> None:
    """Two targets no parameter set meets together (f = x0 wants 0.2, g = x0 wants 0.6):
    nothing is consistent, so the next wave is designed at a raised cut-off around x0 = 0.4,
    where the largest implausibility is smallest."""
    from simulation.experiments.calibrate.emulate import refocus

    rng = np.random.default_rng(3)
    x = latin(30, 2, rng)
    f = Emulator.fit("f", x, x[:, 0], seed=0)
    g = Emulator.fit("g", x, x[:, 0], seed=1)
    wave = Wave([f, g], np.array([0.2, 0.6]), np.array([0.02, 0.02]))
    points, cutoff = refocus([wave], 10, 2, rng, candidates=2000, max_rounds=1)
    assert len(points) == 10 and cutoff > 3.0
    assert np.all(np.abs(points[:, 0] - 0.4) < 0.1)
    # consistent targets: the cut-off stays 3 and the points are inside
    wave = Wave([f, g], np.array([0.5, 0.5]), np.array([0.05, 0.05]))
    points, cutoff = refocus([wave], 10, 2, rng, candidates=2000, max_rounds=2)
    assert cutoff == 3.0 and np.all(np.abs(points[:, 0] - 0.5) < 0.16)


TINY = """name = "tiny"
county = "m_county"
[parameters]
"population.income_median_formerly_poor" = [6000.0, 20000.0]
"population.elderly_prob" = [0.0, 0.6]
[start]
"population.income_median_formerly_poor" = 19000.0
[[target]]
name = "income_2021"
metric = "income_per_capita_formerly_poor"
years = [2021]
low = 11900.0
high = 13200.0
unit = "yuan/person"
[[target]]
name = "age_60_plus"
metric = "share_60_plus"
years = [2021]
low = 0.21
high = 0.27
unit = "share"
"""


@pytest.mark.slow
def test_small_calibration_end_to_end_and_resume(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    targets = tmp_path / "tiny.toml"
    targets.write_text(TINY, encoding="utf-8")
    out = tmp_path / "cal"
    args = ["calibrate", str(targets), "--points", "16", "--replicates", "2", "--waves", "2",
            "--households", "300", "--check-replicates", "3", "--workers", "2", "--quiet",
            "--no-figures"]
    assert main([*args, "--out", str(out)]) == 0
    fit = pd.read_csv(out / "fit.csv")
    # the start (a median income of 19,000) misses the income target; the best fit meets both
    assert not fit.set_index("target").loc["income_2021", "start_inside"]
    assert fit["best_inside"].all()
    ensemble = pd.read_parquet(out / "ensemble.parquet")
    assert len(ensemble) > 0
    calibrated = load_county(out / "calibrated.toml")
    assert 6000 <= calibrated.values["population.income_median_formerly_poor"] < 19000
    assert "base = \"m_county\"" not in (out / "calibrated.toml").read_text(encoding="utf-8")
    # the calibrated profile works for any scenario
    sim = tmp_path / "sim"
    assert main(["simulate", "social_security", "--county", str(out / "calibrated.toml"),
                 "--years", "1", "--households", "100", "--out", str(sim), "--quiet",
                 "--no-figures"]) == 0

    # kill: lose the last wave's later part files and everything after; resume: same result
    points = pd.read_parquet(out / "points.parquet")
    text = (out / "calibrated.toml").read_text(encoding="utf-8")
    parts = sorted((out / "waves" / "wave-2" / "parts").glob("part-*.parquet"))
    for part in parts[1:]:
        part.unlink()
    shutil.rmtree(out / "waves" / "checks")
    for name in ("points.parquet", "calibrated.toml", "fit.csv", "ensemble.parquet"):
        (out / name).unlink()
    capsys.readouterr()
    assert main([*args, "--out", str(out)]) == 2  # neither --resume nor --replace
    assert "--resume" in capsys.readouterr().err
    assert main([*args, "--out", str(out), "--resume"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "points.parquet"), points)
    again = (out / "calibrated.toml").read_text(encoding="utf-8")
    def undated(t: str) -> list[str]:
        return [line for i, line in enumerate(t.splitlines()) if i != 1]

    assert undated(again) == undated(text)  # all but the header's date line
    # other options: not the same calibration, refused
    assert main([*args[:2], "--points", "20", *args[4:], "--out", str(out), "--resume"]) == 2


@pytest.mark.slow
def test_same_calibration_on_one_process_and_on_dask(tmp_path: Path) -> None:
    """Workers change nothing: one process and a Dask cluster give the same points and fit."""
    distributed = pytest.importorskip("distributed")
    targets = tmp_path / "tiny.toml"
    targets.write_text(TINY, encoding="utf-8")
    common = ["calibrate", str(targets), "--points", "12", "--replicates", "2", "--waves", "1",
              "--households", "200", "--check-replicates", "2", "--quiet", "--no-figures"]
    assert main([*common, "--workers", "1", "--out", str(tmp_path / "one")]) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  worker_dashboard_address=None) as cluster:
        assert main([*common, "--scheduler", cluster.scheduler_address,
                     "--out", str(tmp_path / "dask")]) == 0
    for name in ("points.parquet", "checks.parquet", "ensemble.parquet"):
        a = pd.read_parquet(tmp_path / "one" / name).drop(columns="seconds", errors="ignore")
        b = pd.read_parquet(tmp_path / "dask" / name).drop(columns="seconds", errors="ignore")
        pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_calibration_from_household_records(tmp_path: Path) -> None:
    """A targets file may name household records: every run starts from them."""
    records = ROOT / "examples" / "population_example.csv"
    targets = tmp_path / "records.toml"
    targets.write_text(TINY.replace('county = "m_county"',
                                    f'county = "m_county"\npopulation = "{records}"'),
                       encoding="utf-8")
    spec = load_targets(targets)
    assert spec.population == str(records.resolve())
    out = tmp_path / "cal"
    assert main(["calibrate", str(targets), "--points", "10", "--replicates", "1", "--waves",
                 "1", "--check-replicates", "2", "--workers", "1", "--quiet", "--no-figures",
                 "--out", str(out)]) == 0
    from simulation.experiments.calibrate.driver import history_scenario, start_county

    base = history_scenario(start_county(spec), 5000, spec.population)
    assert base.population_file == str(records.resolve()) and base.households == 300
    assert len(pd.read_parquet(out / "runs.parquet")) == 10
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace('county = "m_county"', 'population = "nowhere.csv"'),
                   encoding="utf-8")
    with pytest.raises(ScenarioError, match="key 'population' = 'nowhere.csv'"):
        load_targets(bad)
