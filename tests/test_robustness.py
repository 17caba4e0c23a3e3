"""`robustness`: a toy with a known answer (first-rank probability, regret, PRIM box), the
futures drawn (deterministic, switch frequencies, ensemble cycling, Latin hypercube), bad
futures files (exit 2, file and key named, nothing written), a killed run resuming to the
same result, 1 and 2 workers giving the same result, and the command end to end."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.outcomes import HORIZON_SUMS
from analysis.robustness import (
    lost_lead_boxes,
    rank_futures,
    render_robustness_section,
    strategy_summary,
    wilson,
)
from simulation.cli import main
from simulation.experiments.robustness import driver
from simulation.experiments.robustness.driver import (
    OUTCOMES,
    WINDOW_TOTALS,
    FutureTask,
    Options,
    run_robustness,
)
from simulation.experiments.robustness.futures import (
    SWITCH,
    future_scenarios,
    load_futures,
    make_futures,
    run_seed,
)
from simulation.model.county import load_county
from simulation.model.params import SCHEMA
from simulation.model.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
TOY = """
name = "toy"
county = "m_county"
[uncertain]
"industry.job_share" = [0.0, 1.0]
"""


class Toy:
    """A's returns = 100 x, B's = 50, the baseline's 120 (x = industry.job_share ~ U(0, 1))."""

    def __call__(self, task: FutureTask) -> dict[str, dict[str, float]]:
        x = float(task.features["industry.job_share"])
        zero = dict.fromkeys(OUTCOMES, 0.0)
        return {"A": {**zero, "returns": 100.0 * x, "fiscal_cost": 1000.0},
                "B": {**zero, "returns": 50.0, "fiscal_cost": 2000.0},
                "baseline": {**zero, "returns": 120.0}}


def test_window_totals_are_the_analysis_sums() -> None:
    assert all(HORIZON_SUMS[k] == v for k, v in WINDOW_TOTALS.items())


def test_toy_ranking_has_the_known_answer(tmp_path: Path) -> None:
    path = tmp_path / "toy.toml"
    path.write_text(TOY, encoding="utf-8")
    spec = load_futures(path)
    county = load_county("m_county")
    base = load_scenario("baseline")
    scenarios = [dataclasses.replace(base, name="A"), dataclasses.replace(base, name="B"),
                 base]
    opts = Options(count=400, replicates=1)
    report = run_robustness(spec, county, scenarios, "baseline", tmp_path / "out", opts,
                            evaluate=Toy(), workers=1)
    ranked = rank_futures(report.runs, ["A", "B"], "baseline")
    summary = strategy_summary(ranked, ["A", "B"]).set_index("strategy")
    # Latin hypercube: one x in each 1/400 stratum, so A (100 x < 50) is first in exactly half
    assert abs(summary.loc["A", "p_first"] - 0.5) <= 0.01
    assert summary.loc["A", "p_first"] + summary.loc["B", "p_first"] == pytest.approx(1.0)
    low, high = wilson(200, 400)
    assert (summary.loc["A", "p_first_low"], summary.loc["A", "p_first_high"]) == \
        pytest.approx((low, high), abs=0.01)
    assert low == pytest.approx(0.4512, abs=1e-4) and high == pytest.approx(0.5488, abs=1e-4)
    # regret of A = max(100 x - 50, 0): mean 12.5, 90th percentile 40, maximum 50; B likewise
    assert summary.loc["A", "regret_mean"] == pytest.approx(12.5, abs=0.5)
    assert summary.loc["A", "regret_p90"] == pytest.approx(40.0, abs=0.5)
    assert summary.loc["A", "regret_max"] == pytest.approx(50.0, abs=0.5)
    assert summary.loc["B", "regret_mean"] == pytest.approx(12.5, abs=0.5)
    assert summary.loc["A", "regret_pct_max"] == pytest.approx(100 * 50 / 120, abs=0.5)
    # cost per avoided return of B: 2000 / (120 - 50) in every future
    assert summary.loc["B", "per_avoided_median"] == pytest.approx(2000 / 70)
    assert summary.loc["B", "share_none_avoided"] == 0.0
    # PRIM: A loses its lead exactly where x > 0.5. The selected box is the most covering
    # one with density >= 0.8: x >= low with 0.5 / (1 - low) = 0.8, i.e. low = 0.375
    boxes, notes = lost_lead_boxes(ranked, report.futures, ["A", "B"])
    box = boxes[boxes["strategy"] == "A"].set_index("feature")
    assert list(box.index) == ["industry.job_share"]
    assert box.loc["industry.job_share", "low"] == pytest.approx(0.375, abs=0.01)
    assert box["density"].iloc[0] == pytest.approx(0.8, abs=0.01)
    assert box["coverage"].iloc[0] == pytest.approx(1.0)


def test_futures_are_deterministic_and_drawn_as_declared(tmp_path: Path) -> None:
    members = pd.DataFrame({"member": [7, 8, 9], "income.volatility": [0.2, 0.25, 0.3],
                            "income.savings_rate": [0.2, 0.3, 0.4]})
    members.to_csv(tmp_path / "ens.csv", index=False)
    (tmp_path / "f.toml").write_text(
        '[ensemble]\nfolder = "ens.csv"\n[uncertain]\n"industry.job_share" = []\n'
        '"social_security.review_months" = [3, 12]\n'
        '[structural.often]\np = 0.3\nset = { "industry.job_share" = 0.0 }\n'
        '[shocks.flood]\np = 0.1\n[[shocks.flood.disasters]]\ndate = "2027-07"\n',
        encoding="utf-8")
    spec = load_futures(tmp_path / "f.toml")
    a, b = make_futures(spec, 2000, 5), make_futures(spec, 2000, 5)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(make_futures(spec, 2000, 6))
    assert abs(a[SWITCH + "often"].mean() - 0.3) < 0.03
    assert abs(a["shock:flood"].mean() - 0.1) < 0.02
    # every member used equally (a permutation, cycled)
    assert sorted(a["member"].value_counts().tolist()) == [666, 667, 667]
    assert set(a["member"][:3]) == {7, 8, 9}
    assert (a.loc[a["member"] == 8, "income.volatility"] == 0.25).all()
    # Latin hypercube: one point per stratum; whole-number keys rounded
    strata = np.floor(a["industry.job_share"] * 2000).astype(int)
    assert sorted(strata) == list(range(2000))
    assert set(a["social_security.review_months"]) <= set(range(3, 13))
    # run seeds: the same for every scenario of a (future, replicate), different otherwise
    seeds = {run_seed(5, f, r) for f in range(50) for r in range(3)}
    assert len(seeds) == 150 and run_seed(5, 3, 1) == run_seed(5, 3, 1)
    # a future's values are int for whole-number keys and float otherwise (the compiled
    # loops are specialised on the types: another would compile them again in every worker)
    county = load_county("m_county")
    built = future_scenarios(spec, county, a.iloc[0].to_dict(), [load_scenario("industry")])
    for values in (built[0].values, built[0].county.values):
        assert {k: type(v) for k, v in values.items()} == \
            {k: int if p.integer else float for k, p in SCHEMA.items()}


GOOD = """name = "bad"
[ensemble]
folder = "ens.csv"
[uncertain]
"industry.job_share" = [0.1, 0.5]
"""


@pytest.mark.parametrize(("change", "key", "message"), [
    (('"industry.job_share"', '"industry.job_shar"'), "uncertain.\"industry.job_shar\"",
     "did you mean 'industry.job_share'"),
    (("[0.1, 0.5]", "[0.1, 1.5]"), "uncertain.\"industry.job_share\"",
     "inside the schema range [0, 1]"),
    (('"industry.job_share" = [0.1, 0.5]', '"income.volatility" = [0.1, 0.3]'),
     "uncertain.\"income.volatility\"", "also set by every member of the ensemble"),
    (("[uncertain]", "[uncertain"), "", "not valid TOML"),
    (("[uncertain]", "[structural.x]\np = 1.5\nset = { \"industry.job_share\" = 0.0 }\n"
                     "[uncertain]"), "structural.x.p", "probability in [0, 1]"),
])
def test_bad_futures_files_exit_2(tmp_path: Path, change: tuple[str, str], key: str,
                                  message: str, capsys: pytest.CaptureFixture[str]) -> None:
    pd.DataFrame({"member": [1], "income.volatility": [0.2]}).to_csv(tmp_path / "ens.csv",
                                                                     index=False)
    path = tmp_path / "bad.toml"
    assert change[0] in GOOD
    path.write_text(GOOD.replace(change[0], change[1]), encoding="utf-8")
    with pytest.raises(ScenarioError):
        load_futures(path)
    out = tmp_path / "out"
    assert main(["robustness", "industry", "--futures-file", str(path), "--out", str(out),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and key in err and message in err
    assert not out.exists()


TINY = ["robustness", "industry", "combined", "-n", "3", "--replicates", "1",
        "--households", "300", "--years", "7", "--quiet", "--no-figures"]


def _same(a: Path, b: Path) -> None:
    pd.testing.assert_frame_equal(pd.read_parquet(a / "runs.parquet"),
                                  pd.read_parquet(b / "runs.parquet"))
    for name in ("robustness.csv", "futures_summary.csv", "futures.csv", "robustness.md"):
        assert (a / name).read_text() == (b / name).read_text(), name


def test_killed_run_resumes_to_the_same_result_and_workers_do_not_matter(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole, killed, two = tmp_path / "whole", tmp_path / "killed", tmp_path / "two"
    assert main([*TINY, "--workers", "1", "--out", str(whole)]) == 0
    with monkeypatch.context() as m:
        m.setattr(driver, "run_robustness", functools.partial(run_robustness, stop_after=1))
        assert main([*TINY, "--workers", "1", "--out", str(killed)]) == 130
    assert len(list((killed / "parts").iterdir())) == 1
    manifest = json.loads((killed / "manifest.json").read_text())
    assert manifest["status"] == "partial"
    assert main([*TINY, "--workers", "1", "--out", str(killed)]) == 2  # needs --resume
    assert main([*TINY, "--workers", "1", "--out", str(killed), "--resume"]) == 0
    _same(whole, killed)
    assert json.loads((killed / "manifest.json").read_text())["sessions"][-1][
        "tasks_computed"] == 2
    # a lost part file is recomputed (a part number is never reused)
    parts = sorted((killed / "parts").iterdir())
    parts[0].unlink()
    assert main([*TINY, "--workers", "1", "--out", str(killed), "--resume"]) == 0
    _same(whole, killed)
    # another specification is refused in the same folder
    assert main([*TINY[:4], "4", *TINY[5:], "--out", str(killed), "--resume"]) == 2
    assert main([*TINY, "--workers", "2", "--out", str(two)]) == 0
    _same(whole, two)
    runs = pd.read_parquet(whole / "runs.parquet")
    assert len(runs) == 3 * 3 and list(runs["scenario"][:3]) == ["industry", "combined",
                                                                 "baseline"]
    # paired seeds within a future, different across futures
    assert runs.groupby("future")["seed"].nunique().eq(1).all()
    assert runs["seed"].nunique() == 3


def test_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r"
    assert main(["robustness", "industry", "motivation", "-n", "3", "--replicates", "2",
                 "--households", "300", "--years", "7", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "runs per second" in printed
    for name in ("runs.parquet", "futures.csv", "futures_summary.csv", "robustness.csv",
                 "robustness.md", "manifest.json", "futures.toml",
                 "figures/rank_distribution.png", "figures/regret.png",
                 "figures/cost_per_avoided.png"):
        assert (out / name).is_file(), name
    section = render_robustness_section(out)
    assert section.startswith("## Which strategy, in which worlds")
    assert section == (out / "robustness.md").read_text()
    summary = pd.read_csv(out / "robustness.csv")
    assert list(summary["strategy"]) == ["industry", "motivation"]
    assert summary[["rank_1", "rank_2"]].sum(axis=1).tolist() == pytest.approx([1.0, 1.0])
    futures = pd.read_csv(out / "futures.csv")
    assert len(futures) == 3 and "income.volatility" in futures and \
        "industry.job_share" in futures and "switch:no_project_jobs" in futures

    assert main(["robustness", "industry", "motivation", "-n", "3", "--replicates", "2",
                 "--households", "300", "--years", "7", "--quiet", "--out", str(out)]) == 2
    assert "--replace" in capsys.readouterr().err
    (out / "figures" / "regret.png").unlink()
    assert main(["robustness", "industry", "-n", "2", "--replicates", "1", "--households",
                 "300", "--years", "7", "--quiet", "--no-figures", "--out", str(out),
                 "--replace"]) == 0
    assert not (out / "figures").exists()
    assert len(pd.read_csv(out / "futures.csv")) == 2

    assert main(["robustness", "no_such_strategy", "--out", str(tmp_path / "x")]) == 2
    assert "no_such_strategy" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["robustness", "industry", "--out", str(mine), "--quiet"]) == 2
    assert "did not write" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert main(["robustness", "industry", "--resume", "--quiet"]) == 2


@pytest.mark.slow
def test_dask_cluster_gives_the_same_result(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    assert main([*TINY, "--workers", "1", "--out", str(tmp_path / "one")]) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  worker_dashboard_address=None) as cluster:
        assert main([*TINY, "--scheduler", cluster.scheduler_address,
                     "--out", str(tmp_path / "dask")]) == 0
    _same(tmp_path / "one", tmp_path / "dask")


def test_python_api_gives_the_command_s_result(tmp_path: Path) -> None:
    """`api.robustness` runs what the command runs: the same runs and summary."""
    from simulation import api

    cli_out, api_out = tmp_path / "cli", tmp_path / "api"
    assert main(["robustness", "industry", "-n", "2", "--replicates", "1", "--households",
                 "300", "--quiet", "--no-figures", "--workers", "1",
                 "--out", str(cli_out)]) == 0
    result = api.robustness(["industry"], out=api_out, futures=2, replicates=1,
                            households=300, workers=1, figures=False)
    pd.testing.assert_frame_equal(result.runs, pd.read_parquet(cli_out / "runs.parquet"))
    assert (api_out / "robustness.csv").read_text() == (cli_out / "robustness.csv").read_text()
    assert list(result.summary["strategy"]) == ["industry"]
    assert set(result.per_future["scenario"]) == {"industry", "baseline"}



def test_the_same_runs_ranked_on_the_hardship_count(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`--count hardship` ranks on the hardship test; on a finished folder `--resume` with the
    other count writes the tables again without running anything."""
    out = tmp_path / "r"
    args = ["robustness", "industry", "motivation", "-n", "3", "--replicates", "1",
            "--households", "300", "--years", "7", "--quiet", "--no-figures", "--workers", "1",
            "--out", str(out)]
    assert main(args) == 0
    runs = pd.read_parquet(out / "runs.parquet")
    official = pd.read_csv(out / "futures_summary.csv")
    capsys.readouterr()
    assert main([*args, "--resume", "--count", "hardship"]) == 0
    assert "every run was already on disk" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), runs)
    hardship = pd.read_csv(out / "futures_summary.csv")
    means = runs.groupby(["future", "scenario"])["returns_hardship"].mean().round(6)
    for row in hardship.to_dict("records"):
        assert row["returns"] == pytest.approx(means[(row["future"], row["scenario"])])
    assert (hardship["returns"] >= official["returns"]).all()
    assert (pd.read_csv(out / "robustness.csv")["count"] == "hardship").all()
    assert "on the hardship test" in (out / "robustness.md").read_text()
    assert render_robustness_section(out) == (out / "robustness.md").read_text()
