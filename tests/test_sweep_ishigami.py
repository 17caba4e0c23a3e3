"""The sweep machinery recovers the known sensitivity indices of the Ishigami function.

Expected values are analytic (Ishigami & Homma 1990; Sobol' & Levitan 1999); the tolerance is
SALib's own regression tolerance for this function (SALib tests/test_regression.py:
atol = 0.05, rtol = 0.1), here at N = 1024 instead of SALib's 10,000.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.sweeps import run_and_analyse
from simulation.experiments.sweep.models import ishigami_indices
from simulation.experiments.sweep.spec import parse_sweep

TOL = {"atol": 0.05, "rtol": 0.1}
EXACT = ishigami_indices()


def spec_for(method: str, samples: int, **extra: object):
    doc = {"model": "ishigami", "method": method, "samples": samples, "seed": 11,
           "outputs": ["y"], "factors": {k: [-math.pi, math.pi] for k in ("x1", "x2", "x3")},
           **extra}
    return parse_sweep(doc, f"ishigami-{method}")


def values(indices: pd.DataFrame, index: str) -> np.ndarray:
    sub = indices[indices["index"] == index].set_index("factor")
    return sub.loc[["x1", "x2", "x3"], "value"].to_numpy()


@pytest.fixture(scope="module")
def sobol_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    spec = spec_for("sobol", 1024, second_order=True)
    root = tmp_path_factory.mktemp("ishigami")
    serial = run_and_analyse(spec, root / "serial", workers=1, figures=True)
    pooled = run_and_analyse(spec, root / "pooled", workers=2, figures=False)
    assert serial.complete and pooled.complete and serial.failed == 0
    return {"serial": root / "serial", "pooled": root / "pooled"}


def test_sobol_recovers_ishigami_first_total_and_second_order(sobol_runs) -> None:
    ind = pd.read_csv(sobol_runs["serial"] / "indices.csv")
    assert list(ind.columns) == ["method", "output", "factor", "index", "value", "interval"]
    assert_allclose(values(ind, "S1"), EXACT["S1"], **TOL)
    assert_allclose(values(ind, "ST"), EXACT["ST"], **TOL)
    s2 = ind[ind["index"] == "S2"].set_index("factor")["value"]
    assert_allclose([s2["x1:x2"], s2["x1:x3"], s2["x2:x3"]], [0.0, EXACT["S2_13"], 0.0], **TOL)
    # intervals are bootstrap half-widths: positive and covering the truth for ST
    st = ind[ind["index"] == "ST"]
    assert (st["interval"] > 0).all()
    assert (np.abs(st["value"].to_numpy() - EXACT["ST"]) < 2 * st["interval"].to_numpy()).all()


def test_sobol_indices_do_not_depend_on_the_number_of_workers(sobol_runs) -> None:
    a = pd.read_csv(sobol_runs["serial"] / "indices.csv")
    b = pd.read_csv(sobol_runs["pooled"] / "indices.csv")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    ra = pd.read_parquet(sobol_runs["serial"] / "runs.parquet")
    rb = pd.read_parquet(sobol_runs["pooled"] / "runs.parquet")
    assert ra["y"].equals(rb["y"])


def test_sobol_convergence_reports_quarter_half_and_full_n(sobol_runs) -> None:
    conv = pd.read_csv(sobol_runs["serial"] / "convergence.csv")
    assert sorted(conv["base_samples"].unique()) == [256, 512, 1024]
    full = conv[(conv["base_samples"] == 1024) & (conv["index"] == "ST")]
    ind = pd.read_csv(sobol_runs["serial"] / "indices.csv")
    assert_allclose(full["value"].to_numpy(), values(ind, "ST"))
    figures = {p.name for p in (sobol_runs["serial"] / "figures").iterdir()}
    assert {"sobol_indices.png", "sobol_convergence.png", "sobol_s2_y.png",
            "outputs_vs_top_factor.png"} <= figures


@pytest.mark.parametrize(("method", "samples", "checks"), [
    ("fast", 1000, ("S1", "ST")),
    ("rbd_fast", 2000, ("S1",)),
    ("latin", 2000, ("S1",)),
    ("grid", 25, ("S1", "ST")),
])
def test_other_methods_recover_ishigami(tmp_path: Path, method: str, samples: int,
                                        checks: tuple[str, ...]) -> None:
    report = run_and_analyse(spec_for(method, samples), tmp_path / method, workers=1, figures=False)
    for index in checks:
        assert_allclose(values(report.analysis.indices, index), EXACT[index], **TOL)


def test_morris_ranks_and_the_exact_x2_effect(tmp_path: Path) -> None:
    # with 4 levels, every x2 step is between -pi/3, pi/3 and +-pi: |EE| = 7 * 3/4 * ... fixed
    report = run_and_analyse(spec_for("morris", 100), tmp_path / "m", workers=1, figures=True)
    mu_star = values(report.analysis.indices, "mu_star")
    assert_allclose(mu_star[1], 7.875, rtol=1e-9)  # SALib regression value for x2
    assert (mu_star > 1.0).all()  # x3 matters through its interaction with x1
    assert (tmp_path / "m" / "figures" / "morris_mustar_sigma.png").is_file()
