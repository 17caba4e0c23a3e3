"""`python run.py optimize`: ε-box archive, the search on toy problems with known fronts,
resuming a killed optimization, worker-count independence, and the command line."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.cli import main
from simulation.experiments.optimize.archive import (
    EpsilonArchive,
    box_of,
    epsilon_nondominated,
)
from simulation.experiments.optimize.driver import OptimizeOptions, run_optimization
from simulation.experiments.optimize.search import Candidate, Lever, run_searches

# ----------------------------------------------------------------------------- ε archive


def test_boxes_floor_each_objective_by_its_epsilon() -> None:
    eps = np.array([5.0, 20.0, 1e6])
    assert box_of([12.0, 40.0, -1.0], eps).tolist() == [2.0, 2.0, -1.0]
    assert box_of([10.0, 39.999, 0.0], eps).tolist() == [2.0, 1.0, 0.0]


def test_archive_rejects_box_dominated_and_drops_what_a_new_box_dominates() -> None:
    a = EpsilonArchive([1.0, 1.0])
    assert a.add([2.5, 2.5], "p")          # box (2, 2)
    assert not a.add([3.2, 2.1], "q")      # box (3, 2): dominated by (2, 2)
    assert a.add([0.5, 5.5], "r")          # box (0, 5): non-dominated, kept beside p
    assert a.add([4.5, 0.5], "s")          # box (4, 0)
    assert sorted(a.items) == ["p", "r", "s"]
    assert a.add([0.2, 0.2], "t")          # box (0, 0) dominates every other box
    assert a.items == ["t"] and a.progress == 4


def test_one_point_per_box_nearest_the_corner_ties_keep_the_incumbent() -> None:
    a = EpsilonArchive([1.0, 1.0])
    assert a.add([1.6, 1.5], "first")
    # same box (1, 1), nearer its corner (1, 1): replaces without counting as progress
    assert a.add([1.5, 1.2], "nearer")
    assert a.items == ["nearer"] and a.progress == 1
    # same box, same distance (mirror image): the incumbent stays
    assert not a.add([1.2, 1.5], "tie")
    # same box, farther from the corner but Pareto-dominating: wins
    b = EpsilonArchive([1.0, 1.0])
    b.add([1.0, 1.9], "x")
    assert not b.add([1.9, 1.0], "far")   # same distance from the corner: incumbent stays
    assert b.add([1.0, 1.8], "dominates")
    assert b.items == ["dominates"]
    # an exact duplicate is not taken
    assert not b.add([1.0, 1.8], "again")


def test_merge_is_the_epsilon_nondominated_set_in_offer_order() -> None:
    f = np.array([[0.5, 3.5], [3.5, 0.5], [1.5, 1.5], [1.2, 1.1], [2.0, 2.0], [0.1, 3.1]])
    # boxes: (0,3) (3,0) (1,1) (1,1) (2,2) (0,3); (2,2) is dominated by (1,1);
    # row 3 is nearer (1,1)'s corner than row 2, row 5 nearer (0,3)'s corner than row 0;
    # a replacement takes the incumbent's place in the archive's order
    assert epsilon_nondominated(f, [1.0, 1.0]) == [5, 1, 3]


def test_archive_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="positive"):
        EpsilonArchive([1.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        EpsilonArchive([1.0, 1.0]).add([np.nan, 1.0], "x")


# ----------------------------------------------------------------------------- toy problems
def zdt1(candidates: list[Candidate]) -> np.ndarray:
    """ZDT1 (Zitzler, Deb & Thiele 2000), n = 5: the front is f2 = 1 - sqrt(f1), f1 in [0, 1]."""
    out = []
    for c in candidates:
        x = np.array(c.values)
        g = 1.0 + 9.0 * x[1:].mean()
        out.append([x[0], g * (1.0 - np.sqrt(x[0] / g))])
    return np.array(out)


def igd(found: np.ndarray, f1_max: float = 1.0) -> float:
    """Inverted generational distance of `found` to ZDT1's front (1,001 points)."""
    f1 = np.linspace(0.0, f1_max, 1001)
    true = np.column_stack([f1, 1.0 - np.sqrt(f1)])
    return float(np.mean([np.min(np.linalg.norm(found - t, axis=1)) for t in true]))


LEVERS = tuple(Lever(f"x{i}", 0.0, 1.0) for i in range(5))
IGD_TOLERANCE = 0.01
"""ZDT1's front is 1.48 long; with ε = 0.01 boxes a converged archive has IGD near 0.004."""


def test_search_recovers_the_zdt1_front_and_leaves_global_random_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    np.random.seed(7)  # noqa: NPY002 - the global state must not move
    random.seed(7)
    np_state, py_state = np.random.get_state()[1].copy(), random.getstate()  # noqa: NPY002
    seeded = np.random.default_rng

    def only_seeded(seed: object = None) -> np.random.Generator:
        assert seed is not None, "an unseeded numpy Generator was made"
        return seeded(seed)  # type: ignore[arg-type]

    monkeypatch.setattr(np.random, "default_rng", only_seeded)
    result = run_searches(LEVERS, ("f1", "f2"), zdt1, epsilons=(0.01, 0.01), searches=2,
                          generations=50, population=40, seed=3)
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    assert random.getstate() == py_state
    found = result.objective_array()[result.merged]
    assert igd(found) < IGD_TOLERANCE
    assert len(result.candidates) == 2 * 50 * 40
    again = run_searches(LEVERS, ("f1", "f2"), zdt1, epsilons=(0.01, 0.01), searches=2,
                         generations=50, population=40, seed=3)
    assert np.array_equal(again.objective_array(), result.objective_array())
    assert again.merged == result.merged
    hv = pd.DataFrame(result.convergence)
    per_search = hv[hv["search"] == 0]["hypervolume"].to_numpy()
    assert per_search[-1] > per_search[0]


def test_budget_constraint_keeps_the_feasible_part_of_the_front() -> None:
    # budget on f1: f1 <= 0.5, so the feasible front is f2 = 1 - sqrt(f1), f1 in [0, 0.5]
    result = run_searches(LEVERS, ("f1", "f2"), zdt1, epsilons=(0.01, 0.01), searches=2,
                          generations=50, population=40, seed=4, budget=0.5,
                          budget_objective=0)
    found = result.objective_array()[result.merged]
    assert (found[:, 0] <= 0.5).all()
    assert found[:, 0].max() > 0.45
    assert igd(found, f1_max=0.5) < IGD_TOLERANCE


def test_integer_levers_are_searched_on_whole_numbers() -> None:
    levers = (Lever("a", 0.0, 36.0, integer=True), Lever("b", 0.0, 1.0))
    seen: list[tuple[float, ...]] = []

    def evaluate(cands: list[Candidate]) -> np.ndarray:
        seen.extend(c.values for c in cands)
        return np.array([[c.values[0], (36 - c.values[0]) * c.values[1]] for c in cands])

    run_searches(levers, ("f", "g"), evaluate, epsilons=(1.0, 1.0), searches=1,
                 generations=3, population=8, seed=1)
    assert all(float(v[0]).is_integer() for v in seen)


# ----------------------------------------------------------------------------- the model
TINY = OptimizeOptions(
    levers=("social_security.coverage", "industry.dividend",
            "social_security.follow_up_months"),
    evaluations=24, population=8, searches=1, replicates=1, households=300)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("opt") / "full"
    report = run_optimization(TINY, out, workers=1)
    assert report.generations == 3 and report.evaluations == 24 and not report.stopped
    return out


def test_killed_run_resumes_to_the_same_front(uninterrupted: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    first = run_optimization(TINY, out, workers=1, stop_after=1)
    # the baseline (1 run) and generation 1 (8 runs, one serial task: one part file each)
    assert first.stopped and first.computed_runs == 9 and not (out / "pareto.csv").exists()
    # generation 1's part file lost as well (killed before its write): recomputed on resume
    parts = sorted((out / "parts").glob("part-*.parquet"))
    assert len(parts) == 2
    parts[-1].unlink()
    second = run_optimization(TINY, out, workers=2, resume=True)
    assert second.computed_runs == 24
    assert (out / "pareto.csv").read_bytes() == (uninterrupted / "pareto.csv").read_bytes()
    assert (out / "convergence.csv").read_bytes() == \
        (uninterrupted / "convergence.csv").read_bytes()
    # resuming a finished run computes nothing and gives the same files
    third = run_optimization(TINY, out, workers=1, resume=True)
    assert third.computed_runs == 0
    assert (out / "pareto.csv").read_bytes() == (uninterrupted / "pareto.csv").read_bytes()


def test_two_workers_give_the_same_front(uninterrupted: Path, tmp_path: Path) -> None:
    run_optimization(TINY, tmp_path / "w2", workers=2)
    assert (tmp_path / "w2" / "pareto.csv").read_bytes() == \
        (uninterrupted / "pareto.csv").read_bytes()
    a = pd.read_parquet(uninterrupted / "evaluations.parquet").drop(columns="seconds")
    b = pd.read_parquet(tmp_path / "w2" / "evaluations.parquet").drop(columns="seconds")
    pd.testing.assert_frame_equal(a, b)


def test_the_front_is_consistent_with_the_evaluations(uninterrupted: Path) -> None:
    pareto = pd.read_csv(uninterrupted / "pareto.csv")
    ev = pd.read_parquet(uninterrupted / "evaluations.parquet")
    base = ev[ev["search"] == -1]
    assert len(base) == 1 and base["extra_cost"].iloc[0] == 0.0
    assert len(ev) == 1 + 24
    for row in pareto.to_dict("records"):
        mine = ev[(ev["search"] == row["search"]) & (ev["generation"] == row["generation"])
                  & (ev["candidate"] == row["candidate"])]
        assert row["returns"] == pytest.approx(mine["returns"].mean())
        assert row["extra_cost"] == pytest.approx(mine["extra_cost"].mean())
        # the objectives are on the hardship count (the default); both counts are kept
        assert row["returns"] == row["returns_hardship"] >= row["returns_official"]
        assert row["new_poverty"] == row["new_poverty_hardship"] >= \
            row["new_poverty_official"]
    assert pareto["extra_cost"].is_monotonic_increasing


# ----------------------------------------------------------------------------- command line
CLI = ["optimize", "--levers", ",".join(TINY.levers), "--evaluations", "24", "--population",
       "8", "--searches", "1", "--replicates", "1", "--households", "300", "--quiet"]
NO_FUTURES = [*CLI, "--futures", "0"]


def test_cli_writes_everything_and_the_strategy_files_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "opt"
    assert main([*NO_FUTURES, "--budget", "2e8", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "budget" in printed and re.search(r"pareto-\d{3}", printed)
    for name in ("pareto.csv", "pareto.parquet", "evaluations.parquet", "convergence.csv",
                 "best_for_budget.csv", "best_for_budget.md", "optimize.md", "manifest.json",
                 "figures/parallel_axes.png", "figures/convergence.png"):
        assert (out / name).is_file(), name
    # --futures 0: no re-evaluation over futures
    assert not (out / "robustness").exists() and not (out / "pareto_futures.csv").exists()
    assert "Across the futures" not in (out / "optimize.md").read_text(encoding="utf-8")
    best = pd.read_csv(out / "best_for_budget.csv")
    assert 2e8 in best["budget_yuan"].to_list() and 0.0 in best["budget_yuan"].to_list()
    md = (out / "optimize.md").read_text(encoding="utf-8")
    assert "## The best mix for the budget" in md and "nominal yuan" in md
    files = sorted((out / "scenarios").glob("pareto-*.toml"))
    pareto = pd.read_csv(out / "pareto.csv")
    assert len(files) == len(pareto) > 0
    text = files[0].read_text(encoding="utf-8")
    assert 'base = "baseline"' in text and "[run]" not in text
    assert main(["validate", *map(str, files)]) == 0
    assert main(["compare", "baseline", str(files[0]), "--replicates", "1", "--households",
                 "300", "--years", "6", "--quiet", "--no-figures", "--out",
                 str(tmp_path / "cmp")]) == 0
    # the same folder again: refused without --resume; other settings refused with it
    assert main([*NO_FUTURES, "--budget", "2e8", "--out", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main([*NO_FUTURES, "--budget", "1e8", "--out", str(out), "--resume"]) == 2
    assert "budget differs" in capsys.readouterr().err


def test_cli_bad_lever_names_it_and_suggests(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "never"
    assert main(["optimize", "--levers", "social_security.coverag", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "'social_security.coverag'" in err and "did you mean 'social_security.coverage'" in err
    assert main(["optimize", "--levers", "run.years", "--out", str(out)]) == 2
    assert "not a mechanism knob" in capsys.readouterr().err
    assert not out.exists()


def test_cli_refuses_a_negative_budget(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["optimize", "--budget", "-5"]) == 2
    assert "--budget" in capsys.readouterr().err
    assert main(["optimize", "--epsilons", "5,20"]) == 2
    assert main(["optimize", "--help"]) == 0
    assert "nominal yuan" in capsys.readouterr().out


# ----------------------------------------------------------------------------- analysis
def test_best_for_budget_picks_the_fewest_returns_within_each_budget() -> None:
    from analysis.optimize import best_for_budget, budget_ladder, round_up

    assert round_up(123_456.0) == 130_000.0 and round_up(0.0) == 0.0
    pareto = pd.DataFrame({"point": ["pareto-001", "pareto-002", "pareto-003"],
                           "a": [0.9, 0.95, 1.0], "returns": [800.0, 700.0, 600.0],
                           "new_poverty": [100.0, 90.0, 95.0],
                           "extra_cost": [-5e6, 2e6, 9.1e6]})
    assert budget_ladder(pareto, 3e6) == [0.0, 2.3e6, 3e6, 4.6e6, 6.9e6, 9.1e6]
    manifest = {"baseline": {"returns": 850.0, "new_poverty": 100.0},
                "levers": [{"key": "a", "status_quo": 0.9, "integer": False}]}
    table = best_for_budget(pareto, manifest, [0.0, 3e6, 1e7])
    assert table["point"].to_list() == ["pareto-001", "pareto-002", "pareto-003"]
    assert table["returns_reduction"].to_list() == [50.0, 150.0, 250.0]
    assert table["changes"].to_list() == ["none (the status quo)", "a 0.9 → 0.95", "a 0.9 → 1"]
    assert table["feasible_points"].to_list() == [1, 2, 3]


# ----------------------------------------------------------------------------- across futures
def hand_runs() -> pd.DataFrame:
    """Three futures x two replicates of the baseline and two Pareto points; returns are
    the per-future value -2 / +2 on replicates 0 / 1 (so the per-future means are the values
    below), fiscal cost the same on both."""
    per_future = {  # future: {scenario: (returns, fiscal cost)}
        0: {"baseline": (100, 1000), "pareto-001": (80, 1010), "pareto-002": (70, 1030)},
        1: {"baseline": (120, 1000), "pareto-001": (90, 1005), "pareto-002": (95, 1050)},
        2: {"baseline": (110, 2000), "pareto-001": (60, 2000), "pareto-002": (60, 2015)}}
    rows = []
    for future, scenarios in per_future.items():
        for rep, delta in ((0, -2.0), (1, 2.0)):
            for name, (returns, cost) in scenarios.items():
                rows.append({"future": future, "replicate": rep, "seed": 10 * future + rep,
                             "scenario": name, "returns": returns + delta,
                             "new_poverty": 0.0, "returns_hardship": 0.0,
                             "new_poverty_hardship": 0.0, "fiscal_cost": float(cost)})
    return pd.DataFrame(rows)


HAND_PARETO = pd.DataFrame({"point": ["pareto-001", "pareto-002"], "returns": [75.0, 65.0],
                            "new_poverty": [5.0, 6.0], "extra_cost": [8.0, 18.0]})


def test_robust_summary_of_a_hand_made_runs_frame() -> None:
    from analysis.optimize import add_robust_columns, robust_summary

    s = robust_summary(hand_runs(), HAND_PARETO, "baseline", budget=20.0).set_index("point")
    assert list(s.index) == ["pareto-001", "pareto-002"]
    # per-future means: p1 80, 90, 60; p2 70, 95, 60 (future 2 a tie: both first)
    assert s.loc["pareto-001", "returns_mean"] == pytest.approx(230 / 3)
    assert s.loc["pareto-001", "returns_p10"] == pytest.approx(64.0)   # 60 + 0.2 x 20
    assert s.loc["pareto-001", "returns_p90"] == pytest.approx(88.0)   # 80 + 0.8 x 10
    assert s.loc["pareto-002", "returns_p10"] == pytest.approx(62.0)
    assert s.loc["pareto-002", "returns_p90"] == pytest.approx(90.0)   # 70 + 0.8 x 25
    # regret against the best of the two in each future: p1 10, 0, 0; p2 0, 5, 0
    assert s.loc["pareto-001", "regret_mean"] == pytest.approx(10 / 3)
    assert s.loc["pareto-001", "regret_p90"] == pytest.approx(8.0)
    assert s.loc["pareto-002", "regret_mean"] == pytest.approx(5 / 3)
    assert s.loc["pareto-002", "regret_p90"] == pytest.approx(4.0)
    assert s["p_first"].tolist() == pytest.approx([2 / 3, 2 / 3])
    # extra cost against the baseline in the same future: p1 10, 5, 0; p2 30, 50, 15
    assert s["extra_cost_mean"].tolist() == pytest.approx([5.0, 95 / 3])
    assert s["within_budget"].tolist() == pytest.approx([1.0, 1 / 3])
    assert s["reference_returns"].tolist() == [75.0, 65.0]
    assert s["futures"].tolist() == [3, 3]
    assert robust_summary(hand_runs(), HAND_PARETO, "baseline", None)["within_budget"] \
        .isna().all()
    table = pd.DataFrame({"budget_yuan": [0.0, 10.0, 40.0],
                          "point": ["", "pareto-001", "pareto-002"]})
    robust = add_robust_columns(table, hand_runs(), HAND_PARETO, "baseline")
    assert robust["futures_within_budget"].tolist()[1:] == pytest.approx([1.0, 2 / 3])
    assert robust["futures_returns_mean"].tolist()[1:] == pytest.approx([230 / 3, 75.0])
    assert np.isnan(robust["futures_within_budget"].iloc[0])


def test_reeval_points_take_the_ladder_picks_then_spread_over_cost() -> None:
    from analysis.optimize import reeval_points

    pareto = pd.DataFrame({"point": [f"pareto-{k:03d}" for k in range(1, 7)],
                           "a": [0.9] * 6,
                           "returns": [900.0, 850.0, 800.0, 700.0, 650.0, 600.0],
                           "new_poverty": [1.0] * 6,
                           "extra_cost": [-5e6, 0.0, 1e6, 2e6, 5e6, 9e6]})
    manifest = {"baseline": {"returns": 1000.0, "new_poverty": 1.0}, "budget": None,
                "levers": [{"key": "a", "status_quo": 0.9, "integer": False}]}
    # ladder 0, 2.3e6, 4.5e6, 6.8e6, 9e6 picks 002, 004, 004, 005, 006
    assert reeval_points(pareto, manifest, 2) == ["pareto-002", "pareto-004"]
    assert reeval_points(pareto, manifest, 4) == ["pareto-002", "pareto-004", "pareto-005",
                                                  "pareto-006"]
    # one slot left: the target is the cheapest cost, -5e6
    assert reeval_points(pareto, manifest, 5) == ["pareto-001", "pareto-002", "pareto-004",
                                                  "pareto-005", "pareto-006"]
    assert reeval_points(pareto, manifest, 20) == pareto["point"].tolist()


FUTURES_CLI = [*CLI, "--budget", "2e8", "--futures", "2", "--robust-points", "3",
               "--no-figures"]


@pytest.fixture(scope="module")
def reevaluated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reeval") / "opt"
    assert main([*FUTURES_CLI, "--out", str(out)]) == 0
    return out


def test_cli_reevaluates_the_pareto_points_over_futures(
        reevaluated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from analysis.optimize import reeval_points, robust_summary
    from analysis.robustness import on_count

    out = reevaluated
    pareto = pd.read_parquet(out / "pareto.parquet")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    points = reeval_points(pareto, manifest, 3)
    table = pd.read_csv(out / "pareto_futures.csv")
    assert table["point"].tolist() == points and 0 < len(points) <= 3
    assert list(table.columns) == [
        "point", "reference_returns", "reference_new_poverty", "reference_extra_cost",
        "futures", "returns_mean", "returns_p10", "returns_p90", "regret_mean", "regret_p90",
        "p_first", "p_first_low", "p_first_high", "mean_rank", "extra_cost_mean",
        "within_budget"]
    assert (table["futures"] == 2).all()
    runs = pd.read_parquet(out / "robustness" / "runs.parquet")
    assert sorted(runs["scenario"].unique()) == sorted([*points, "baseline"])
    assert len(runs) == 2 * 1 * (len(points) + 1)
    # ranks and regret on the count searched (hardship by default)
    expected = robust_summary(on_count(runs, manifest["count"]), pareto, "baseline", 2e8)
    pd.testing.assert_frame_equal(table, expected, check_exact=False, rtol=1e-12)
    best = pd.read_csv(out / "best_for_budget.csv")
    assert {"futures_returns_mean", "futures_within_budget"} <= set(best.columns)
    assert best["futures_returns_mean"].notna().all()  # every ladder pick was re-evaluated
    md = (out / "optimize.md").read_text(encoding="utf-8")
    assert "### Across the futures" in md and "**Reading.**" in md
    assert "within budget in" in (out / "best_for_budget.md").read_text(encoding="utf-8")
    # the re-evaluated runs are the futures' runs of the optimization's own points: the
    # reference county and horizon (a sub-folder of run_robustness with its manifest)
    sub = json.loads((out / "robustness" / "manifest.json").read_text(encoding="utf-8"))
    assert sub["status"] == "complete" and sub["fingerprint"]["households"] == 300


def test_resuming_a_killed_reevaluation_gives_the_same_table(
        reevaluated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    out = tmp_path / "opt"
    shutil.copytree(reevaluated, out)
    want = (reevaluated / "pareto_futures.csv").read_bytes()
    # killed before any part file of the re-evaluation was written
    for part in (out / "robustness" / "parts").glob("part-*.parquet"):
        part.unlink()
    (out / "robustness" / "runs.parquet").unlink()
    (out / "pareto_futures.csv").unlink()
    assert main([*FUTURES_CLI, "--out", str(out), "--resume"]) == 0
    assert (out / "pareto_futures.csv").read_bytes() == want
    # killed before the re-evaluation began
    shutil.rmtree(out / "robustness")
    assert main([*FUTURES_CLI, "--out", str(out), "--resume"]) == 0
    assert (out / "pareto_futures.csv").read_bytes() == want
    # other futures options on --resume: the sub-folder refuses, naming itself
    assert main([*CLI, "--budget", "2e8", "--futures", "3", "--robust-points", "3",
                 "--no-figures", "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "robustness: holds a re-evaluation over futures with other settings (count " \
        "differs: 2 there, 3 now)" in err and "--futures" in err


def test_cli_bad_futures_file_names_it_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "never"
    assert main([*CLI, "--futures-file", "no_such_futures", "--out", str(out)]) == 2
    assert "no_such_futures" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nwhatever = 1\n', encoding="utf-8")
    assert main([*CLI, "--futures-file", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "whatever" in err
    assert not out.exists()


def test_official_count_is_searched_when_asked(tmp_path: Path) -> None:
    """`--count official`: the objectives are the official count, recorded in the manifest
    and said in the report; an unknown count is refused before anything is written."""
    out = tmp_path / "off"
    assert main([*NO_FUTURES, "--count", "official", "--no-figures", "--out", str(out)]) == 0
    pareto = pd.read_csv(out / "pareto.csv")
    assert (pareto["returns"] == pareto["returns_official"]).all()
    assert json.loads((out / "manifest.json").read_text())["count"] == "official"
    assert "counted on the official income test" in (out / "optimize.md").read_text()
    assert "counted on the hardship test" not in (out / "optimize.md").read_text()
    assert main([*NO_FUTURES, "--count", "both", "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()
