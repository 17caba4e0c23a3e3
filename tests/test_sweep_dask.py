"""The same sweep on a real Dask scheduler with two worker processes on 127.0.0.1 gives the
same runs and indices as the local pool and a single process."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from support import write_sweep

from simulation.cli import main
from simulation.experiments.sweep import execute

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow

TINY = {"name": "tiny_dask", "samples": 8, "replicates": 2, "seed": 17,
        "outputs": ("returned_households", "newly_poor_households", "fiscal_cost_yuan"),
        "factors": {"responsibility.duty_performance": (0.0, 1.0),
                    "social_security.coverage": (0.0, 1.0),
                    "industry.linkage_share": (0.0, 1.0),
                    "motivation.guidance": (0.0, 1.0)}}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  worker_dashboard_address=None) as local:
        yield local


def test_dask_cluster_gives_the_same_indices_as_the_local_pool(tmp_path: Path, cluster,
                                                                capsys) -> None:
    path = write_sweep(tmp_path, **TINY)
    common = [str(path), "--quiet", "--no-figures"]
    assert main(["sweep", *common, "--out", str(tmp_path / "serial"), "--workers", "1"]) == 0
    assert main(["sweep", *common, "--out", str(tmp_path / "pool"), "--workers", "2"]) == 0
    assert main(["sweep", *common, "--out", str(tmp_path / "dask"), "--scheduler",
                 cluster.scheduler_address]) == 0
    assert f"Dask cluster at {cluster.scheduler_address}" in capsys.readouterr().out
    runs = pd.read_parquet(tmp_path / "dask" / "runs.parquet")
    workers = set(runs["worker"])
    assert len(workers) == 2, f"both Dask workers should have computed runs: {workers}"
    indices = {k: pd.read_csv(tmp_path / k / "indices.csv") for k in ("serial", "pool", "dask")}
    pd.testing.assert_frame_equal(indices["dask"], indices["pool"], check_exact=True)
    pd.testing.assert_frame_equal(indices["dask"], indices["serial"], check_exact=True)
    volatile = ["seconds", "cpu_seconds", "worker"]
    local = pd.read_parquet(tmp_path / "pool" / "runs.parquet").drop(columns=volatile)
    pd.testing.assert_frame_equal(runs.drop(columns=volatile), local, check_exact=True)


def test_dask_resume_after_a_partial_local_run(tmp_path: Path, cluster) -> None:
    path = write_sweep(tmp_path, **TINY)
    out = tmp_path / "mixed"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2", "--max-runs", "40",
                 "--quiet", "--no-figures"]) == 0
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--scheduler",
                 cluster.scheduler_address, "--quiet", "--no-figures"]) == 0
    assert main(["sweep", str(path), "--out", str(tmp_path / "whole"), "--workers", "1",
                 "--quiet", "--no-figures"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "indices.csv"),
                                  pd.read_csv(tmp_path / "whole" / "indices.csv"),
                                  check_exact=True)


def test_unreachable_scheduler_exits_2(tmp_path: Path, capsys,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execute, "DASK_CONNECT_TIMEOUT", 1.0)
    path = write_sweep(tmp_path, **TINY)
    assert main(["sweep", str(path), "--out", str(tmp_path / "x"), "--scheduler",
                 "tcp://127.0.0.1:9", "--quiet"]) == 2
    assert "cannot connect to a Dask scheduler" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
