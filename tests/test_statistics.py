"""Statistical expectations over paired seeds (slow): strategies lower returns, the baseline
is calibrated, monitoring matters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.calibration import CALIBRATION_YEARS, evaluate
from simulation.common.stats import mean_interval
from simulation.experiments.results import runs_frame
from simulation.experiments.runner import run_many
from simulation.model.params import MECHANISMS
from simulation.model.scenario import load_scenario

pytestmark = pytest.mark.slow
REPLICATES = 20  # paired seeds 2021..2040, as the main job

KNOWN_MISSES = {"below_line", "doudi_monitored"}
"""Targets the calibrated baseline does not reach (stated in docs/ODD.md and the CHANGELOG):
the formerly poor below the line at year end (spells too short) and the 兜底 share of the
monitored (the monitored stock starts empty in 2021). Listed so that every other target is
held in range, and so that fixing one of them fails this test until it is taken off."""


def _returns_by_seed(names: list[str], households: int = 5000,
                     years: int = 15) -> pd.DataFrame:
    scenarios = [load_scenario(n).with_values({"run.households": households, "run.years": years})
                 for n in names]
    runs = runs_frame(run_many(scenarios, REPLICATES, 2021, record_events=False))
    return runs.groupby(["scenario", "seed"])["returned_households"].sum().unstack("scenario")


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    return _returns_by_seed(["baseline", *MECHANISMS, "combined", "no_monitoring"])


@pytest.mark.parametrize("strategy", [*MECHANISMS, "combined"])
def test_each_strategy_lowers_returns_over_paired_seeds(returns: pd.DataFrame,
                                                        strategy: str) -> None:
    """Paired difference strategy - baseline over 20 seeds at the main job's size (the
    policies start in 2026, so 2021-2025 are identical): the whole 95% interval below 0."""
    diff = returns[strategy] - returns["baseline"]
    mean, low, high = mean_interval(diff)
    assert high < 0, f"{strategy}: change {mean:.0f} [{low:.0f}, {high:.0f}]"


def test_combined_beats_every_single_strategy(returns: pd.DataFrame) -> None:
    for strategy in MECHANISMS:
        assert returns["combined"].mean() < returns[strategy].mean()


def test_without_monitoring_more_households_return(returns: pd.DataFrame) -> None:
    mean, low, _ = mean_interval(returns["no_monitoring"] - returns["baseline"])
    assert low > 0


def test_baseline_calibration_targets() -> None:
    """Calibration targets (docs/ODD.md §1): every target's mean over 20 replicates (5,000
    households) in range, except the known misses, which are still outside."""
    sc = load_scenario("baseline").with_values({"run.years": CALIBRATION_YEARS})
    table = evaluate(runs_frame(run_many([sc], 20, 2021, record_events=False)))
    outside = table[~table["inside"]]
    assert set(outside["target"]) == KNOWN_MISSES, \
        outside[["target", "low_target", "high_target", "mean"]].to_string()
    assert np.isfinite(table["low"]).all()
