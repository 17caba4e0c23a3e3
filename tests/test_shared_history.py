"""Scenarios that share their history run it once (the array engine forks the model at the
policy date): every run is exactly the run of its scenario alone on the same seed."""

from __future__ import annotations

import dataclasses

import numpy as np

from simulation.experiments import runner
from simulation.experiments.runner import _tasks, run_after_history, run_many, run_one
from simulation.model.arrays_engine import history_key
from simulation.model.scenario import load_scenario, shipped_scenarios

SMALL = {"run.households": 300, "run.years": 8}


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    assert a.scenario == b.scenario and a.seed == b.seed and a.replicate == b.replicate
    assert a.years == b.years
    np.testing.assert_array_equal(a.events, b.events)
    assert a.households.keys() == b.households.keys()
    for k in a.households:
        np.testing.assert_array_equal(a.households[k], b.households[k])


def test_forked_runs_equal_runs_alone() -> None:
    scenarios = [load_scenario(p).with_values(SMALL) for p in shipped_scenarios()]
    # one with an earlier policy date: a history of its own
    scenarios.append(dataclasses.replace(load_scenario("industry").with_values(SMALL),
                                         name="industry_2023", policy_month=24))
    tasks = _tasks(scenarios, 2, 7, "arrays", True)
    shared = [t for t in tasks if len(t.scenarios) > 1]
    assert shared, "the shipped strategies share the baseline's history"
    assert all(len(t.scenarios) < len(scenarios) for t in tasks)
    together = run_many(scenarios, 2, seed=7, workers=1)
    for result in together:
        sc = next(s for s in scenarios if s.name == result.scenario)
        _same(result, run_one(sc, result.seed, replicate=result.replicate))


def test_history_key_separates_what_changes_the_history() -> None:
    base = load_scenario("baseline").with_values(SMALL)
    assert history_key(base) == history_key(load_scenario("motivation").with_values(SMALL))
    assert history_key(base) != history_key(dataclasses.replace(base, policy_month=24))
    assert history_key(base) != history_key(base.with_values({"run.households": 301}))


def test_remembered_histories_give_the_runs_alone(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A sweep's worker keeps recent histories (run_after_history): runs that share one on a
    seed fork it, others simulate their own; interleaved seeds, a history-changing value and a
    full memory (the oldest history forgotten) all give exactly run_one's results."""
    monkeypatch.setattr(runner, "_HISTORIES", type(runner._HISTORIES)())
    monkeypatch.setattr(runner, "HISTORY_MEMORY_HOUSEHOLDS", 2 * SMALL["run.households"])
    base = load_scenario("baseline").with_values(SMALL)
    plan = [(base.with_values({"social_security.coverage": 0.99}), 3),
            (base.with_values({"industry.linkage_share": 0.9}), 4),
            (base.with_values({"motivation.guidance": 0.1}), 3),   # seed 3 remembered
            (dataclasses.replace(base, policy_month=24), 3),  # a history of its own
            (base, 4)]  # seed 4's history forgotten (memory holds two) and simulated again
    for scenario, seed in plan:
        _same(run_after_history(scenario, seed, record_events=True), run_one(scenario, seed))
    assert [(k[0] == history_key(base), k[1]) for k in runner._HISTORIES] == [(False, 3),
                                                                             (True, 4)]
