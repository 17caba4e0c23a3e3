"""`python run.py sweep ...` and `python run.py discover ...`: arguments, progress, summaries.

simulation/cli/__init__.py only registers these; everything else lives here. Imports of the heavy
machinery happen inside the command functions, so `run.py --help` stays fast.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def int_in(name: str, low: int, high: int):  # type: ignore[no-untyped-def]
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, got {text!r}") \
                from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} = {value} is out of range; allowed: "
                                             f"[{low}, {high}]")
        return value
    return parse


def _float_in(name: str, low: float, high: float):  # type: ignore[no-untyped-def]
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{name} must be a finite number, got {text!r}")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} = {value} is out of range; allowed: "
                                             f"[{low:g}, {high:g}]")
        return value
    return parse


def add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `sweep` (see module docstring of simulation.experiments.sweep)."""
    from simulation.experiments.sweep.spec import METHODS, shipped_sweeps

    shipped = ", ".join(p.stem for p in shipped_sweeps()) or "none"
    p.epilog = (f"Methods: {', '.join(METHODS)}. Shipped sweeps: {shipped}. The sweep file "
                "format is documented in simulation/experiments/sweep/spec.py. Results: "
                "indices.csv, convergence.csv (Sobol), samples.csv, runs.parquet, failures.csv, "
                "figures/.")
    p.add_argument("sweep", help="sweep file (TOML) or the name of one in scenarios/sweeps/")
    p.add_argument("--workers", type=int_in("--workers", 1, 4096), default=None,
                   help="local worker processes (default: all cores; 1 = this process)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 "
                        "(needs the 'dask' extra; overrides --workers)")
    p.add_argument("--resume", action="store_true",
                   help="continue the sweep in --out: nothing already on disk is recomputed")
    p.add_argument("--replace", action="store_true",
                   help="start afresh over an earlier sweep folder of this program in --out")
    p.add_argument("--retry-failed", action="store_true",
                   help="with --resume: compute the runs that failed again")
    p.add_argument("--max-runs", type=int_in("--max-runs", 1, 10**9), default=None,
                   help="compute at most this many runs now, then stop (resume later)")
    p.add_argument("--samples", type=int_in("--samples", 1, 10**9), default=None,
                   help="override the file's samples (Sobol: base samples N, a power of 2)")
    p.add_argument("--replicates", type=int_in("--replicates", 1, 10_000), default=None,
                   help="override the file's replicates per sample")
    p.add_argument("--seed", type=int_in("--seed", 0, 2**63 - 1), default=None,
                   help="override the file's seed")
    p.add_argument("--households", type=int, default=None,
                   help="override the simulated households of the base scenario")
    p.add_argument("--years", type=int, default=None,
                   help="override the horizon (years from 2021) of the base scenario")
    p.add_argument("--policy-date", default=None, metavar="YYYY-MM",
                   help="month the sampled knobs take effect (default: the file's "
                        "run.policy_date, else the base scenario's); outputs are aggregated "
                        "from its year on")
    p.add_argument("--engine", default=None,
                   help="simulation engine: arrays (fast, default when available) or agents")
    p.add_argument("--out", default=None,
                   help="sweep folder (default results/sweeps/<sweep name>)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_discover_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `discover`."""
    p.add_argument("results", help="folder of a finished sweep (e.g. results/sweeps/NAME)")
    p.add_argument("--metric", required=True, help="an output of the sweep")
    side = p.add_mutually_exclusive_group(required=True)
    side.add_argument("--below", type=_float_in("--below", -math.inf, math.inf),
                      help="find where the metric stays below this")
    side.add_argument("--above", type=_float_in("--above", -math.inf, math.inf),
                      help="find where the metric stays above this")
    p.add_argument("--min-density", type=_float_in("--min-density", 0.0, 1.0), default=0.8,
                   help="least density of a selected box (default 0.8)")
    p.add_argument("--boxes", type=int_in("--boxes", 1, 10), default=1,
                   help="boxes to find one after another (default 1)")
    p.add_argument("--peel-alpha", type=_float_in("--peel-alpha", 0.01, 0.5), default=0.05,
                   help="share of samples peeled per step (default 0.05)")
    p.add_argument("--mass-min", type=_float_in("--mass-min", 0.001, 0.9), default=0.05,
                   help="least share of samples in a box (default 0.05)")
    p.add_argument("--out", default=None,
                   help="output folder, new or empty (default "
                        "RESULTS/discover/<metric>-<below|above>-<X>)")
    p.add_argument("--replace", action="store_true",
                   help="replace an earlier discovery of this program in that folder")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")


class _Bar:
    """tqdm progress bar on stderr: runs done, failures, time left."""

    def __init__(self, enabled: bool, name: str) -> None:
        self.enabled, self.name = enabled, name
        self.bar: Any = None

    def __call__(self, done: int, total: int, failed: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, desc=f"sweep {self.name}", unit="run",
                            file=sys.stderr, dynamic_ncols=True, smoothing=0.1)
        self.bar.update(done - self.bar.n)
        self.bar.set_postfix(failed=failed, refresh=True)
        if done >= total:  # the analysis that follows prints its own summary
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
            self.enabled = False


def sweep_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run or resume a sweep and print its summary."""
    from analysis.sweeps import run_and_analyse
    from simulation.experiments.sweep.spec import design_rows, load_sweep, parse_policy_date

    spec = load_sweep(args.sweep).with_overrides(
        samples=args.samples, replicates=args.replicates, seed=args.seed,
        households=args.households, years=args.years,
        policy_month=None if args.policy_date is None else parse_policy_date(
            "command line", "--policy-date", args.policy_date))
    out = Path(args.out or f"results/sweeps/{spec.name}")
    total = design_rows(spec) * spec.replicates
    print(f"Sweep {spec.name!r}: {spec.method}, {len(spec.factors)} factors, "
          f"{design_rows(spec):,} samples x {spec.replicates} replicate(s) = {total:,} runs; "
          f"folder {out}/", flush=True)
    bar = _Bar(not args.quiet, spec.name)
    try:
        report = run_and_analyse(spec, out, figures=not args.no_figures, engine=args.engine,
                                 workers=args.workers, scheduler=args.scheduler,
                                 resume=args.resume, retry_failed=args.retry_failed,
                                 max_runs=args.max_runs, progress=bar,
                                 command=["run.py", *argv], replace=args.replace)
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted: finished runs are on disk in {out}/; continue with\n"
              f"  python run.py sweep {args.sweep} --resume --out {out}"
              + "".join(f" {a}" for a in _override_args(args)), file=sys.stderr)
        return 130
    finally:
        bar.close()
    print(format_report(report, args))
    return 0


def _override_args(args: argparse.Namespace) -> list[str]:
    flags = []
    for name in ("samples", "replicates", "seed", "households", "years", "policy_date",
                 "engine"):
        value = getattr(args, name)
        if value is not None:
            flags.append(f"--{name.replace('_', '-')} {value}")
    return flags


def format_report(report: Any, args: argparse.Namespace | None = None) -> str:
    """Summary printed after a sweep: counts, speed, top factors per output, notes."""
    from analysis.sweep_indices import RANKING_INDEX

    spec = report.spec
    rate = report.computed / report.wall_seconds if report.wall_seconds > 0 else 0.0
    lines = [f"{report.computed:,} runs computed now in {report.wall_seconds:.1f} s "
             f"({rate:.2f} runs/s, {report.executor}"
             + (f", engine {report.engine}" if report.engine else "") + "); "
             f"{report.done:,} of {report.total:,} runs on disk, {report.failed:,} failed"]
    if report.failed:
        lines.append(f"failed runs (error and parameters): {report.out}/failures.csv; rerun "
                     "them with --resume --retry-failed")
    if not report.complete:
        lines.append(f"not complete: continue with `python run.py sweep {spec.source} "
                     f"--resume --out {report.out}`")
        lines += [f"note: {n}" for n in report.notes]
        return "\n".join(lines)
    a = report.analysis
    index = RANKING_INDEX[spec.method]
    conf = spec.option("conf_level")
    lines += ["", f"Most influential factors by {index} ({spec.method}; ± half-width of the "
              f"{conf:.0%} bootstrap interval):"]
    used = {"sobol": "base samples", "morris": "trajectories"}.get(spec.method, "samples")
    for o in spec.outputs:
        sub = a.indices[(a.indices["output"] == o.metric) & (a.indices["index"] == index)]
        sub = sub.dropna(subset=["value"]).sort_values("value", ascending=False).head(5)
        lines.append(f"  {o.metric} ({o.aggregate}, {o.unit}; "
                     f"{a.samples_used.get(o.metric, 0):,} {used})")
        for _, r in sub.iterrows():
            ci = "" if r["interval"] != r["interval"] else f" ± {r['interval']:.3g}"
            lines.append(f"      {r['factor']:<42} {r['value']:>9.3g}{ci}")
    lines += [f"note: {n}" for n in report.notes]
    lines.append(f"\nindices.csv, samples.csv, runs.parquet, figures/ in {report.out}/")
    return "\n".join(lines)


def discover_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """PRIM scenario discovery on a finished sweep."""
    from analysis.discovery import discover, format_discovery, write_discovery
    from simulation.common.output import OutputFolder

    below = args.below is not None
    threshold = args.below if below else args.above
    side = "below" if below else "above"
    out = Path(args.out or Path(args.results) / "discover" / f"{args.metric}-{side}-{threshold:g}")
    # PRIM takes seconds; it runs first so that a wrong sweep folder creates nothing
    result = discover(Path(args.results), args.metric, threshold, below=below,
                      min_density=args.min_density, boxes=args.boxes,
                      peel_alpha=args.peel_alpha, mass_min=args.mass_min)
    with OutputFolder(out, kind="discovery", replace=args.replace) as folder:
        write_discovery(result, folder.path, figures=not args.no_figures)
    print(format_discovery(result))
    print(f"\nboxes.csv, trajectory.csv, discovery.json and figures in {out}/")
    return 0
