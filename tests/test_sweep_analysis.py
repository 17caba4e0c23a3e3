"""Analysis details: grid effects are exact, incomplete samples are excluded as documented."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from analysis.sweep_indices import grid_effects, sample_table, top_factors
from simulation.experiments.sweep.design import build_design
from simulation.experiments.sweep.spec import parse_sweep


def test_grid_effects_of_an_additive_function_are_its_variance_shares() -> None:
    levels = np.linspace(-1.0, 1.0, 5)
    x = np.array(list(itertools.product(levels, levels, levels)))
    y = 3.0 * x[:, 0] + 1.0 * x[:, 1]  # no interaction, x3 inert
    s1, st = grid_effects(x, y)
    assert s1 == pytest.approx([0.9, 0.1, 0.0], abs=1e-12)
    assert st == pytest.approx([0.9, 0.1, 0.0], abs=1e-12)


def test_grid_total_effect_sees_an_interaction_the_main_effect_misses() -> None:
    levels = np.array([-1.0, 1.0])
    x = np.array(list(itertools.product(levels, levels)))
    s1, st = grid_effects(x, x[:, 0] * x[:, 1])
    assert s1 == pytest.approx([0.0, 0.0]) and st == pytest.approx([1.0, 1.0])


def test_a_sample_counts_only_when_all_its_replicates_succeeded() -> None:
    spec = parse_sweep({"model": "ishigami", "method": "latin", "samples": 30, "seed": 1,
                        "replicates": 2, "outputs": ["y"],
                        "factors": {"x1": [-1, 1], "x2": [-1, 1], "x3": [-1, 1]}}, "t")
    design = build_design(spec)
    runs = pd.DataFrame({"run": np.arange(60), "sample": np.repeat(np.arange(30), 2),
                         "replicate": np.tile([0, 1], 30), "status": "ok",
                         "y": np.arange(60, dtype=float)})
    runs.loc[5, "status"] = "failed"  # sample 2, replicate 1
    runs.loc[5, "y"] = np.nan
    table = sample_table(spec, design, runs)
    assert not table.loc[2, "complete"] and np.isnan(table.loc[2, "y"])
    assert table.loc[3, "y"] == pytest.approx((6 + 7) / 2)
    assert table.loc[3, "y:sd"] == pytest.approx(np.std([6.0, 7.0], ddof=1))
    assert table["complete"].sum() == 29


def test_top_factor_uses_the_methods_ranking_index() -> None:
    ind = pd.DataFrame({"method": "sobol", "output": "y", "factor": ["a", "b", "a", "b"],
                        "index": ["S1", "S1", "ST", "ST"], "value": [0.5, 0.1, 0.5, 0.7],
                        "interval": 0.0})
    assert top_factors(ind, "sobol") == {"y": "b"}
