"""`python run.py robustness STRATEGY...`: which strategy, in which worlds.

Runs every strategy and the baseline in N futures drawn from a futures file (futures/README.md:
a calibrated ensemble, uncertain constants, structural switches, shocks), on paired seeds
within each future (simulation/experiments/robustness), then writes how robust the ranking
is (analysis/robustness.py): first-rank probabilities, rank distributions, regret, cost per
avoided return, the share of futures where the leader's margin is within replicate noise,
and PRIM boxes of the futures where a leader loses its lead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from simulation.cli.longrun import Bar, add_folder_arguments, check_resume, notice_printer
from simulation.cli.sweeps import int_in
from simulation.model.params import SCHEMA

DEFAULT_STRATEGIES = ("responsibility", "social_security", "industry", "motivation",
                      "combined")
"""The shipped strategies ranked when none is named (the baseline always runs)."""


def add_robustness_arguments(p: argparse.ArgumentParser) -> None:
    from analysis.robustness import COUNTS
    from simulation.experiments.robustness.driver import Options
    from simulation.experiments.robustness.futures import DEFAULT_FUTURES

    d = Options()
    hh, years = SCHEMA["run.households"], SCHEMA["run.years"]
    p.add_argument("strategies", nargs="*", metavar="STRATEGY",
                   help="strategies to rank: shipped scenario names or TOML files (default: "
                        + " ".join(DEFAULT_STRATEGIES) + ")")
    p.add_argument("--futures-file", default=DEFAULT_FUTURES, metavar="FILE",
                   help=f"futures file: a name in futures/ or a TOML path (default "
                        f"{DEFAULT_FUTURES}; format in futures/README.md)")
    p.add_argument("-n", "--futures", type=int_in("--futures", 1, 100_000), default=d.count,
                   help=f"number of futures (default {d.count})")
    p.add_argument("--replicates", type=int_in("--replicates", 1, 1000), default=d.replicates,
                   help=f"runs per future and scenario, on seeds shared by every scenario of "
                        f"the future (default {d.replicates}; 2 or more to judge whether a "
                        "lead is within the replicate noise)")
    p.add_argument("--count", choices=COUNTS, default=COUNTS[0],
                   help="the test returns are ranked on: official (12-month income, as the "
                        "headline table) or hardship (income net of medical bills, school fees "
                        "and disaster losses not paid from savings). The runs hold both: "
                        "--resume --count hardship on a finished folder writes its tables "
                        "again on the other test without running anything (default official)")
    p.add_argument("--baseline", default="baseline", metavar="NAME",
                   help="scenario the costs per avoided return are measured against; always "
                        "run, ranked only if also named as a strategy (default baseline)")
    p.add_argument("--households", type=int_in("--households", int(hh.low), int(hh.high)),
                   default=d.households,
                   help=f"simulated households per run (default {d.households:,})")
    p.add_argument("--years", type=int_in("--years", int(years.low), int(years.high)),
                   default=None,
                   help=f"horizon in years from 2021 (default: the scenarios', "
                        f"{int(years.default)}; the window runs from the policy year, 2026)")
    p.add_argument("--seed", type=int_in("--seed", 0, 2**31 - 1), default=d.seed,
                   help=f"seed of the futures and of the runs' seeds (default {d.seed})")
    p.add_argument("--county", default=None, metavar="PROFILE",
                   help="county profile (default: the futures file's `county`)")
    p.add_argument("--engine", choices=("arrays", "agents"), default="arrays",
                   help="arrays (default, fast) or agents; identical results")
    add_folder_arguments(p, folder="robustness", noun="robustness run",
                         default_out="results/robustness-<time>",
                         resume="continue the run in --out (only missing futures are computed; "
                                "the result is the same as an uninterrupted run's)",
                         quiet="no progress bar or notes")


def robustness_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from analysis.robustness import write_robustness
    from simulation.common.output import fresh_folder
    from simulation.experiments.robustness.driver import (
        Options,
        futures_county,
        run_robustness,
        strategy_scenarios,
    )
    from simulation.experiments.robustness.futures import (
        describe,
        load_futures,
        overridden_ensemble_keys,
    )

    spec = load_futures(args.futures_file)
    county = futures_county(spec, args.county)
    scenarios, names, baseline = strategy_scenarios(
        list(args.strategies or DEFAULT_STRATEGIES), args.baseline, county, args.households,
        args.years)
    opts = Options(count=args.futures, replicates=args.replicates, households=args.households,
                   seed=args.seed, years=args.years, engine=args.engine)
    check_resume(args, "robustness")
    out = Path(args.out) if args.out else fresh_folder(Path("results"), "robustness")
    if not args.quiet:
        for switch, key in overridden_ensemble_keys(spec):
            print(f"note: switch {switch!r} replaces the calibrated ensemble's {key} in the "
                  "futures where it holds", file=sys.stderr)
    print(f"Robustness of {len(names)} strategies ({', '.join(names)}) against "
          f"{baseline.name!r}: {opts.count} futures ({describe(spec)}) x {opts.replicates} "
          f"replicate(s) x {len(scenarios)} scenarios at {opts.households:,} households; "
          f"folder {out}/", flush=True)
    bar = Bar(not args.quiet)
    notice = notice_printer(args.quiet)
    try:
        report = run_robustness(spec, county, scenarios, baseline.name, out, opts,
                                workers=args.workers, scheduler=args.scheduler,
                                resume=args.resume, replace=args.replace,
                                progress=bar.stage("robustness"),
                                notice=notice, command=["run.py", *argv])
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted: finished runs are on disk in {out}/; continue with the same "
              f"command plus --resume --out {out}", file=sys.stderr)
        return 130
    finally:
        bar.close()
    summary = write_robustness(out, report.runs, report.futures, names, baseline.name,
                               count=args.count,
                               figures=not args.no_figures)
    print(f"\n{'strategy':<22}{'P(first) [95%]':>22}{'mean rank':>11}{'regret mean':>13}"
          f"{'regret max':>12}")
    for _, r in summary.iterrows():
        share = (f"{100 * r['p_first']:.0f}% [{100 * r['p_first_low']:.0f}, "
                 f"{100 * r['p_first_high']:.0f}]")
        print(f"{r['strategy']:<22}{share:>22}{r['mean_rank']:>11.2f}"
              f"{r['regret_mean']:>13,.0f}{r['regret_max']:>12,.0f}")
    if report.computed_runs:
        print(f"\n{report.computed_runs:,} runs computed in {report.wall_seconds:.1f} s: "
              f"{report.runs_per_second:.1f} runs per second")
    else:
        print("\nevery run was already on disk; tables written again")
    print(f"report section: {out / 'robustness.md'}; tables: robustness.csv, "
          "futures_summary.csv, futures.csv, runs.parquet")
    return 0
