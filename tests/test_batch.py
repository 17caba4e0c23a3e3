"""A batch of replicates (simulation/model/batch.py) gives every run exactly the results of
running it alone: yearly series, events and final household and person state."""

from __future__ import annotations

import numpy as np
import pytest
from support import small

from simulation.experiments.runner import run_one, run_replicates
from simulation.model.arrays_engine import ArrayModel
from simulation.model.batch import ReplicateBatch
from simulation.model.scenario import load_scenario


def _same_model(a: ArrayModel, b: ArrayModel) -> None:
    assert a.years == b.years
    np.testing.assert_array_equal(a.event_table(), b.event_table())
    for k, v in a.snapshot().items():
        np.testing.assert_array_equal(v, b.snapshot()[k], err_msg=k)
    for k, v in a.people_snapshot().items():
        np.testing.assert_array_equal(v, b.people_snapshot()[k], err_msg=k)


@pytest.mark.parametrize("name", ["baseline", "combined", "disaster", "transfer_withdrawal"])
def test_each_run_of_a_batch_equals_the_run_alone(name: str) -> None:
    """Every phase is exercised: demography in January, training in March, scheduled changes
    (transfer_withdrawal) and a scheduled disaster (disaster), over a policy date."""
    scenario = load_scenario(name).with_values({"run.households": 300, "run.years": 7})
    batch = ReplicateBatch(scenario, [11, 12, 13], record_events=True, log_shocks=True)
    batch.run()
    for seed, model in zip([11, 12, 13], batch.models, strict=True):
        alone = ArrayModel(scenario, rng=seed, record_events=True, log_shocks=True)
        alone.run()
        _same_model(model, alone)


def test_a_random_disaster_in_one_run_only() -> None:
    """Random disasters strike some runs of a batch and not others."""
    scenario = small(run__households=200, run__years=6, shocks__disaster_rate=0.3)
    seeds = list(range(6))
    batch = ReplicateBatch(scenario, seeds)
    batch.run()
    hit = [sum(y["disasters"] for y in m.years) for m in batch.models]
    assert min(hit) < max(hit), hit  # the runs differ
    for seed, model in zip(seeds, batch.models, strict=True):
        alone = ArrayModel(scenario, rng=seed)
        alone.run()
        _same_model(model, alone)


def test_run_replicates_equals_run_one() -> None:
    scenario = load_scenario("industry").with_values({"run.households": 250, "run.years": 4})
    batched = run_replicates(scenario, [5, 6], replicates=[0, 1], record_events=True)
    for result, (seed, rep) in zip(batched, [(5, 0), (6, 1)], strict=True):
        alone = run_one(scenario, seed, replicate=rep)
        assert (result.scenario, result.seed, result.replicate) == (alone.scenario, seed, rep)
        assert result.years == alone.years
        np.testing.assert_array_equal(result.events, alone.events)
        for k in alone.households:
            np.testing.assert_array_equal(result.households[k], alone.households[k])


def test_run_many_batches_the_replicates_of_a_lone_scenario() -> None:
    """A scenario that shares its history with no other is run in batches of replicates
    (small runs); the results are those of each run alone, in (scenario, replicate) order."""
    from simulation.experiments.runner import _tasks, run_many

    scenario = load_scenario("motivation").with_values({"run.households": 150, "run.years": 3})
    tasks = _tasks([scenario], 4, 21, "arrays", False, batch=2)
    assert [t.seeds for t in tasks] == [(21, 22), (23, 24)]
    results = run_many([scenario], 4, seed=21, workers=1, record_events=False)
    assert [(r.replicate, r.seed) for r in results] == [(0, 21), (1, 22), (2, 23), (3, 24)]
    for result in results:
        assert result.years == run_one(scenario, result.seed, record_events=False).years
