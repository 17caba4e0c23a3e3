"""Analysis of a complete sweep folder: indices, tables and figures written into it, and the
one call `run.py sweep` makes (run or resume, then analyse)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from analysis.sweep_figures import save_figures
from analysis.sweep_indices import Analysis, analyze, sample_table, top_factors
from simulation.common.output import OutputFolder, atomic_write_frame, atomic_write_text
from simulation.experiments.sweep.driver import SweepReport, run_sweep
from simulation.experiments.sweep.spec import AGGREGATIONS, SweepSpec


def analyse_sweep(report: SweepReport, figures: bool = True) -> Analysis:
    """Indices, tables and figures of a complete sweep, from its runs on disk, written into its
    folder (every file atomically); the manifest then says "complete". Returns the analysis
    (also kept in `report`)."""
    store, design, spec = report.store, report.design, report.spec
    if store is None or design is None or not report.complete:
        raise ValueError("analyse_sweep needs a complete sweep (run_sweep(...).complete)")
    out = store.out
    runs = store.read_runs()
    samples = sample_table(spec, design, runs)
    analysis = analyze(spec, design, samples)
    report.analysis = analysis
    report.top = top_factors(analysis.indices, spec.method)
    report.notes += analysis.notes
    atomic_write_frame(out / "runs.parquet", runs)
    atomic_write_frame(out / "samples.csv", samples)
    failures = runs[runs["status"] != "ok"][["run", "sample", "replicate", "seed", "error",
                                              "worker", *spec.names]]
    atomic_write_frame(out / "failures.csv", failures)
    atomic_write_frame(out / "indices.csv", analysis.indices)
    if analysis.convergence is not None:
        atomic_write_frame(out / "convergence.csv", analysis.convergence)
    atomic_write_frame(out / "outputs.csv", pd.DataFrame(
        [(o.metric, o.aggregate, AGGREGATIONS[o.aggregate], o.unit,
          analysis.samples_used.get(o.metric, 0)) for o in spec.outputs],
        columns=["output", "aggregate", "meaning", "unit", "samples_used"]))
    if figures:
        # figures/ of an earlier analysis of this sweep is this program's own output
        with OutputFolder(out / "figures", kind="sweep figures", replace=True) as folder:
            save_figures(folder.path, spec, analysis, samples, len(runs))
    manifest = store.read_manifest()
    manifest.update(status="complete", runs_on_disk=len(runs),
                    failed_runs=int((runs["status"] != "ok").sum()),
                    analysis_notes=analysis.notes, top_factors=report.top,
                    analysed=datetime.now(UTC).isoformat(timespec="seconds"))
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2))
    return analysis


def run_and_analyse(spec: SweepSpec, out: Any, *, figures: bool = True,
                    **run_options: Any) -> SweepReport:
    """run_sweep, then analyse_sweep if every run is on disk (what `run.py sweep` does)."""
    report = run_sweep(spec, out, **run_options)
    if report.complete:
        analyse_sweep(report, figures)
    return report
