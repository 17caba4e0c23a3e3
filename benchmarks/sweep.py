"""Sweep benchmark: a Sobol' sweep of every mechanism knob, wall time, runs/s, 2-vs-1 speed-up.

    python benchmarks/sweep.py [--samples 256] [--households 5000] [--years 15]
                               [--engine arrays] [--serial-runs K] [--out benchmarks/sweep.json]

What it does, on this machine:
1. the full sweep scenarios/sweeps/mechanisms_sobol.toml (every mechanism knob, N base
   samples, 1 replicate, 5,000 households x 15 years) on 2 worker processes, end to end
   through run_sweep: wall time of the runs, runs per second, analysis + figures time;
2. parallel efficiency: the *same* first K runs of that sweep (K = --serial-runs, default 10%
   of the sweep, at least 64) on 1 worker (in-process) and on 2 workers; speed-up = time on 1
   / time on 2 (target >= 1.8x). Measuring 1 worker on all runs would double the benchmark
   time for a number that is a rate anyway; --serial-runs 0 measures the full sweep on 1 worker.

Every sweep writes into a fresh temporary folder (deleted afterwards), so nothing is resumed.
If the requested engine is not available, the script says so and uses "agents"; with the
agents engine it measures the K-run samples only and extrapolates the full sweep, labelled.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _sweep(spec, workers: int, max_runs: int | None, figures: bool) -> dict:  # type: ignore[no-untyped-def]
    from analysis.sweeps import run_and_analyse

    folder = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    try:
        start = time.perf_counter()
        report = run_and_analyse(spec, folder / "s", workers=workers, max_runs=max_runs,
                           figures=figures, engine=ENGINE)
        total = time.perf_counter() - start
        return {"workers": workers, "runs": report.computed, "failed": report.failed,
                "run_phase_s": report.wall_seconds,
                "runs_per_s": report.computed / report.wall_seconds,
                "model_s_per_run": report.run_seconds / max(report.computed, 1),
                "model_cpu_s_per_run": report.run_cpu_seconds / max(report.computed, 1),
                "load_average_after": os.getloadavg()[0],
                "analysis_and_figures_s": total - report.wall_seconds if report.complete
                else 0.0,
                "end_to_end_s": total, "complete": report.complete,
                "top_factors": report.top}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


ENGINE = "arrays"


def main() -> int:
    global ENGINE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--years", type=int, default=15)
    parser.add_argument("--engine", default=None)
    parser.add_argument("--serial-runs", type=int, default=None,
                        help="runs for the 1-vs-2 worker comparison (0 = the whole sweep)")
    parser.add_argument("--no-full", action="store_true",
                        help="only the 1-vs-2 worker comparison, not the full sweep")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "sweep.json"))
    args = parser.parse_args()

    from simulation.experiments.runner import ENGINES
    from simulation.experiments.sweep.driver import default_engine
    from simulation.experiments.sweep.spec import design_rows, load_sweep

    ENGINE = args.engine or default_engine()
    notes = []
    if ENGINE not in ENGINES:
        notes.append(f"engine {ENGINE!r} not available ({', '.join(ENGINES)}); using agents")
        ENGINE = "agents"
    spec = load_sweep("mechanisms_sobol").with_overrides(
        samples=args.samples, replicates=1, households=args.households, years=args.years)
    total = design_rows(spec)
    k = args.serial_runs if args.serial_runs is not None else max(64, math.ceil(total / 10))
    k = total if k == 0 else min(k, total)
    print(f"Sobol' sweep of {len(spec.factors)} knobs, N = {spec.samples}: {total:,} runs of "
          f"{args.households:,} households x {args.years} years, engine {ENGINE}, "
          f"{os.cpu_count()} cores", flush=True)

    results: dict = {"machine": {"platform": platform.platform(), "cores": os.cpu_count(),
                                 "python": platform.python_version()},
                     "engine": ENGINE, "factors": len(spec.factors), "samples": spec.samples,
                     "households": args.households, "years": args.years,
                     "total_runs": total, "comparison_runs": k, "notes": notes,
                     "load_average_before": os.getloadavg()[0]}
    full_feasible = ENGINE == "arrays"
    print(f"1 worker, first {k:,} runs ...", flush=True)
    one = _sweep(spec, 1, None if k == total else k, figures=False)
    print(f"2 workers, first {k:,} runs ...", flush=True)
    two = _sweep(spec, 2, None if k == total else k, figures=False)
    results["one_worker"], results["two_workers"] = one, two
    speedup = one["run_phase_s"] / two["run_phase_s"]
    results["speedup_2_over_1"] = speedup
    results["parallel_efficiency"] = speedup / 2
    if args.no_full:
        notes.append("full sweep skipped (--no-full)")
    elif k < total and full_feasible:
        print(f"2 workers, full sweep ({total:,} runs) ...", flush=True)
        results["full_two_workers"] = _sweep(spec, 2, None, figures=True)
    elif k < total:
        est = total / two["runs_per_s"]
        results["full_two_workers_extrapolated_s"] = est
        notes.append(f"full sweep NOT run with the {ENGINE} engine: extrapolated from "
                     f"{k} runs at {two['runs_per_s']:.2f} runs/s = {est / 60:.0f} min")
    else:
        results["full_two_workers"] = two

    rows = [("1 worker", one), ("2 workers", two)]
    if "full_two_workers" in results and results["full_two_workers"] is not two:
        rows.append(("2 workers, full", results["full_two_workers"]))
    print(f"\n{'configuration':<18}{'runs':>8}{'run phase s':>14}{'runs/s':>10}"
          f"{'model s/run':>13}{'cpu s/run':>11}{'analysis+fig s':>16}{'load':>7}")
    for name, r in rows:
        print(f"{name:<18}{r['runs']:>8,}{r['run_phase_s']:>14.1f}{r['runs_per_s']:>10.2f}"
              f"{r['model_s_per_run']:>13.3f}{r['model_cpu_s_per_run']:>11.3f}"
              f"{r['analysis_and_figures_s']:>16.1f}{r['load_average_after']:>7.2f}")
    print("(model s/run: wall time per run inside the worker; cpu s/run: its CPU time - wall "
          "above CPU means the worker waited for a core; load: 1-min load average after)")
    print(f"\nspeed-up of 2 workers over 1 on the same {k:,} runs: {speedup:.2f}x "
          f"(parallel efficiency {speedup / 2:.0%}; target >= 1.8x)")
    full = results.get("full_two_workers")
    if full:
        print(f"full sweep on 2 workers: {full['run_phase_s']:.0f} s of runs "
              f"({full['run_phase_s'] / 60:.1f} min, {full['runs_per_s']:.2f} runs/s) + "
              f"{full['analysis_and_figures_s']:.1f} s analysis and figures")
    for n in notes:
        print(f"note: {n}")
    Path(args.out).write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
