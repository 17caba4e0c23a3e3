"""Scenarios that share their history run it once (the array engine forks the model at the
policy date): every run is exactly the run of its scenario alone on the same seed."""

from __future__ import annotations

import dataclasses

import numpy as np

from simulation.experiments.runner import _tasks, run_many, run_one
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
