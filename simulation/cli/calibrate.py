"""`python run.py calibrate TARGETS.toml`: fit a county to its own statistics."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from simulation.cli.longrun import Bar, add_folder_arguments, check_resume, notice_printer
from simulation.cli.sweeps import int_in
from simulation.model.params import SCHEMA


def add_calibrate_arguments(p: argparse.ArgumentParser) -> None:
    from simulation.experiments.calibrate.driver import Options

    d = Options()
    hh = SCHEMA["run.households"]
    p.add_argument("targets", help="targets file (a name in targets/ or a TOML path)")
    p.add_argument("--points", type=int_in("--points", 10, 100_000), default=d.points,
                   help=f"parameter sets per wave (default {d.points})")
    p.add_argument("--replicates", type=int_in("--replicates", 1, 1000),
                   default=d.replicates,
                   help=f"runs per parameter set, on the same seeds for every set (default "
                        f"{d.replicates})")
    p.add_argument("--waves", type=int_in("--waves", 1, 20), default=d.waves,
                   help=f"history-matching waves (default {d.waves})")
    p.add_argument("--check-replicates", type=int_in("--check-replicates", 2, 1000),
                   default=d.check_replicates,
                   help=f"replicates of the best-fit candidates' check (default "
                        f"{d.check_replicates})")
    p.add_argument("--households", type=int_in("--households", int(hh.low), int(hh.high)),
                   default=d.households,
                   help=f"simulated households per run (default {d.households})")
    p.add_argument("--seed", type=int_in("--seed", 0, 2**31 - 1), default=d.seed,
                   help=f"seed of the design and of replicate 0 (default {d.seed})")
    add_folder_arguments(p, folder="calibration", noun="calibration",
                         default_out="results/calibrate-<name>-<time>",
                         resume="continue the calibration in --out (only missing runs are "
                                "computed)")


def calibrate_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from analysis.calibration_fit import write_fit
    from simulation.experiments.calibrate.driver import Options, run_calibration
    from simulation.experiments.calibrate.spec import load_targets

    spec = load_targets(args.targets)
    opts = Options(points=args.points, replicates=args.replicates, waves=args.waves,
                   households=args.households, seed=args.seed,
                   check_replicates=args.check_replicates)
    check_resume(args, "calibration")
    out = Path(args.out) if args.out else \
        Path("results") / f"calibrate-{spec.name}-{datetime.now():%Y%m%d-%H%M%S}"
    print(f"Calibrating {spec.name!r}: {len(spec.parameters)} free parameters, "
          f"{len(spec.targets)} targets; up to {opts.waves} waves of {opts.points} points x "
          f"{opts.replicates} replicates at {opts.households:,} households; folder {out}/",
          flush=True)
    bar = Bar(not args.quiet)
    notice = notice_printer(args.quiet)
    try:
        report = run_calibration(spec, out, opts, workers=args.workers,
                                 scheduler=args.scheduler, resume=args.resume,
                                 replace=args.replace, progress=bar, notice=notice,
                                 command=["run.py", *argv])
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted: finished runs are on disk in {out}/; continue with\n"
              f"  python run.py calibrate {args.targets} --resume --out {out}"
              + "".join(f" --{k.replace('_', '-')} {getattr(args, k)}"
                        for k in ("points", "replicates", "waves", "households", "seed",
                                  "check_replicates")), file=sys.stderr)
        return 130
    finally:
        bar.close()
    table = write_fit(spec, out, report, figures=not args.no_figures)
    for w in report.waves:
        if "space_left" in w:
            raised = (f" (designed at cut-off {w['design_cutoff']:.3g}: nothing was consistent"
                      " at 3)") if w["design_cutoff"] > 3.0 + 1e-9 else ""
            print(f"wave {w['wave']}: {w['points']} points{raised}, {w['runs']} runs; "
                  f"{100 * w['space_left']:.2g}% of the space left; "
                  f"{w['points_meeting_all']} points meet every target")
        else:
            print(f"wave {w['wave']}: stopped ({w['stopped']})")
    met = int(table["best_inside"].sum())
    print(f"best fit: {met} of {len(table)} targets met on {opts.check_replicates} "
          f"replicates (start: {int(table['start_inside'].sum())}); plausible ensemble: "
          f"{report.ensemble} parameter sets; {report.computed:,}"
          f" runs computed in {report.wall_seconds / 60:.1f} min")
    if report.unreachable:
        print(f"targets the model cannot reach (no simulated set met them): "
              f"{', '.join(report.unreachable)} — see fit.md", file=sys.stderr)
    print(f"calibrated county profile: {out / 'calibrated.toml'} (use with --county); "
          f"report: {out / 'fit.md'}")
    return 0
