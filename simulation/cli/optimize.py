"""`python run.py optimize [--budget YUAN]`: the best mixes of mechanism levers for a budget.

The search (simulation.experiments.optimize.run_optimization), its tables
(analysis.optimize.write_optimize_outputs) and then, unless `--futures 0`, the Pareto set
re-evaluated over the robustness futures: up to `--robust-points` Pareto mixes
(analysis.optimize.reeval_points: the best-for-budget picks of the budget ladder first, then
mixes spread evenly over extra cost) and the baseline run in `--futures` futures of
`--futures-file` with simulation.experiments.robustness.run_robustness, with the search's
replicates, households, seed, workers and engine, in the optimization's county (`--county`,
default the futures file's county), into OUT/robustness/. That sub-folder is run_robustness's
own (fingerprint, part files, lock): `--resume` continues it, `--replace` (which empties the
optimization folder) starts it afresh. The orchestration lives here, in the interfaces
layer, because choosing the points needs the analysis layer's budget ladder.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from simulation.cli.longrun import Bar, add_folder_arguments, check_resume, notice_printer
from simulation.cli.sweeps import int_in
from simulation.model.params import SCHEMA

DEFAULT_REEVAL_FUTURES = 20
"""Futures the Pareto points are re-evaluated in (assumption: enough for a first-place share
to about ±0.2 and a p10/p90 spread, at a small fraction of the search's runs)."""
DEFAULT_ROBUST_POINTS = 20
"""Pareto points re-evaluated at most (assumption: the ladder's picks, at most 6, plus an
even spread over the front's extra cost)."""

DESCRIPTION = (
    "Search the mechanism knobs (the levers; all 18 by default) for the mixes that minimise "
    "returns, new poverty and extra fiscal cost over the evaluation window (2026-2035), "
    "with an ε-NSGA-II search (pymoo NSGA-II with ε-box archives; several searches merged). "
    "Every mix and the status quo run on the same seeds (common random numbers). With "
    "--budget, only mixes whose extra cost stays within it are kept. BUDGET UNITS: extra "
    "fiscal cost over the evaluation window 2026-2035 above the status quo, nominal yuan, "
    "county total (e.g. --budget 50e6 is 50 million yuan over the ten years). Writes the "
    "Pareto mixes (pareto.csv, scenarios/pareto-NNN.toml), the best mix for a ladder of "
    "budgets (best_for_budget.md), convergence and optimize.md. Then (unless --futures 0) "
    "up to --robust-points Pareto mixes (the best pick for each budget first, then mixes "
    "spread over extra cost) and the baseline run again in --futures futures of "
    "--futures-file, as `python run.py robustness` does, into OUT/robustness/; "
    "pareto_futures.csv, best_for_budget and optimize.md then say how each mix fares across "
    "the futures (returns mean [p10-p90], regret, share of futures first, share within the "
    "budget). Evaluations stream to disk; a killed optimization (search or re-evaluation) "
    "continues with --resume --out DIR and the same options.")

EPILOG = (
    "Examples: `python run.py optimize --budget 500e6` (all 18 levers, 2,000 mixes x 3 seeds "
    "at 5,000 households, then 20 futures: about 7 minutes on two cores; 5,000 mixes took "
    "15); `python run.py optimize --levers "
    "social_security.coverage,industry.dividend --evaluations 400 --futures 50 "
    "--robust-points 10 --out results/opt`; `--futures 0` skips the re-evaluation; "
    "after Ctrl-C: the same command with --resume --out results/opt. Then `python run.py "
    "compare baseline results/opt/scenarios/pareto-001.toml` runs a chosen mix with more "
    "replicates.")


def _budget(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--budget must be a number of yuan, got {text!r}") \
            from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"--budget = {text} is out of range; allowed: a number >= 0 (extra fiscal cost "
            "over the evaluation window above the status quo, nominal yuan)")
    return value


def _epsilons(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(
            f"--epsilons must be three positive numbers RETURNS,NEW_POVERTY,COST (households, "
            f"households, yuan), got {text!r}")
    return values  # type: ignore[return-value]


def add_optimize_arguments(p: argparse.ArgumentParser) -> None:
    from simulation.experiments.optimize.driver import (
        COUNTS,
        DEFAULT_EPSILONS,
        OptimizeOptions,
    )

    d = OptimizeOptions()
    hh = SCHEMA["run.households"]
    p.add_argument("--budget", type=_budget, default=None, metavar="YUAN",
                   help="largest extra fiscal cost over the evaluation window 2026-2035 above "
                        "the status quo, nominal yuan, county total (default: no constraint)")
    p.add_argument("--levers", default=None, metavar="KEY,KEY...",
                   help="the mechanism knobs to search (default: all 18; `python run.py "
                        "params` lists them), e.g. social_security.coverage,industry.dividend")
    p.add_argument("--epsilons", type=_epsilons, default=d.epsilons,
                   metavar="RETURNS,NEW_POVERTY,COST",
                   help="ε-box sizes: households, households, yuan (default "
                        f"{','.join(f'{e:g}' for e in DEFAULT_EPSILONS)}: finer than the "
                        "noise of a 3-seed mean at 5,000 households)")
    p.add_argument("--evaluations", type=int_in("--evaluations", 2, 1_000_000),
                   default=d.evaluations,
                   help=f"mixes evaluated in total over all searches (default "
                        f"{d.evaluations}), used in whole generations: each search runs "
                        "EVALUATIONS // (SEARCHES x POPULATION) generations; each "
                        "evaluation is --replicates runs")
    p.add_argument("--population", type=int_in("--population", 4, 10_000),
                   default=d.population, help=f"NSGA-II population (default {d.population})")
    p.add_argument("--searches", type=int_in("--searches", 1, 100), default=d.searches,
                   help=f"independent searches from different seeds, merged (default "
                        f"{d.searches})")
    p.add_argument("--replicates", type=int_in("--replicates", 1, 1000), default=d.replicates,
                   help=f"seeds per evaluation, the same for every mix (default "
                        f"{d.replicates})")
    p.add_argument("--households", type=int_in("--households", int(hh.low), int(hh.high)),
                   default=d.households,
                   help=f"simulated households per run (default {d.households:,})")
    p.add_argument("--seed", type=int_in("--seed", 0, 2**31 - 1), default=d.seed,
                   help=f"seed of the searches and of replicate 0 (default {d.seed})")
    p.add_argument("--county", default=None, metavar="PROFILE",
                   help="county profile (a name in counties/ or a TOML file; default the "
                        "baseline's, normally m_county)")
    p.add_argument("--baseline", default=d.baseline, metavar="NAME",
                   help="the status quo the levers start from and extra cost is measured "
                        f"against (default {d.baseline})")
    p.add_argument("--count", choices=COUNTS, default=d.count,
                   help="the test returns and new poverty are counted on: hardship (income "
                        "net of medical bills, school fees and disaster losses not paid from "
                        "savings; includes the official count) or official (12-month income "
                        "alone). Default hardship: on the official count medical bills are "
                        "invisible and the search cuts medical assistance to nothing")
    p.add_argument("--futures", type=int_in("--futures", 0, 100_000),
                   default=DEFAULT_REEVAL_FUTURES, metavar="N",
                   help="after the search, re-evaluate Pareto mixes and the baseline in N "
                        "futures (as `python run.py robustness`; same --replicates, "
                        "--households, --seed) into OUT/robustness/ (default "
                        f"{DEFAULT_REEVAL_FUTURES}; 0 = skip it: an earlier finished "
                        "re-evaluation in the folder is still reported)")
    p.add_argument("--futures-file", default=None, metavar="NAME_OR_PATH",
                   help="futures file of the re-evaluation: a name in futures/ or a TOML "
                        "path (default m_county; format in futures/README.md); its county is "
                        "the optimization's when --county is not given")
    p.add_argument("--robust-points", type=int_in("--robust-points", 1, 10_000),
                   default=DEFAULT_ROBUST_POINTS, metavar="K",
                   help="Pareto mixes re-evaluated at most: the best mix for each budget of "
                        "the ladder first, then mixes spread evenly over extra cost (default "
                        f"{DEFAULT_ROBUST_POINTS})")
    add_folder_arguments(p, folder="optimization", noun="optimization",
                         default_out="results/optimize-<time>",
                         resume="continue the optimization in --out (stored evaluations are "
                                "reused)")


def _options(args: argparse.Namespace) -> Any:
    from simulation.experiments.optimize.driver import OptimizeOptions

    levers = tuple(k.strip() for k in args.levers.split(",") if k.strip()) if args.levers \
        else OptimizeOptions().levers
    return OptimizeOptions(levers=levers, budget=args.budget, epsilons=tuple(args.epsilons),
                           evaluations=args.evaluations, population=args.population,
                           searches=args.searches, replicates=args.replicates,
                           households=args.households, seed=args.seed, county=args.county,
                           baseline=args.baseline, count=args.count)


def _futures_setup(args: argparse.Namespace, opts: Any) -> tuple[Any, Any]:
    """(futures spec or None, options) with the optimization's county settled: `--county`,
    else the futures file's county when it differs from the baseline's place (so that the
    search, the Pareto files, the baseline and the futures share one county). A bad futures
    file or county is a ScenarioError here, before any folder is made."""
    from dataclasses import replace

    from simulation.experiments.robustness.driver import futures_county
    from simulation.experiments.robustness.futures import DEFAULT_FUTURES, load_futures
    from simulation.model.scenario import load_scenario

    if args.futures == 0:
        return None, opts
    spec = load_futures(args.futures_file or DEFAULT_FUTURES)
    if opts.county is None:
        place = futures_county(spec)
        if dict(place.values) != dict(load_scenario(opts.baseline).county.values):
            opts = replace(opts, county=place.ref)
    return spec, opts


def reevaluate(out: Path, opts: Any, spec: Any, args: argparse.Namespace,
               argv: Sequence[str]) -> Any:
    """Run the chosen Pareto points and the baseline over `args.futures` futures of `spec`
    into OUT/robustness (resumed when it holds an earlier re-evaluation and --resume was
    given); returns run_robustness's report, or None when the front is empty."""
    from analysis.optimize import load_optimization, reeval_points
    from analysis.robustness import write_robustness
    from simulation.common.errors import OutputError
    from simulation.experiments.optimize.driver import pareto_scenarios
    from simulation.experiments.robustness.driver import Options, run_robustness

    pareto, manifest, _ = load_optimization(out)
    points = reeval_points(pareto, manifest, args.robust_points)
    if not points:
        return None
    scenarios, base = pareto_scenarios(out, opts, points)
    sub = out / "robustness"
    resume = args.resume and (sub / "manifest.json").is_file()
    ropts = Options(count=args.futures, replicates=opts.replicates, households=opts.households,
                    seed=opts.seed, years=None, engine="arrays")
    print(f"Re-evaluating {len(points)} Pareto mixes and the baseline in {args.futures} "
          f"futures of {spec.name!r} x {opts.replicates} replicate(s) into {sub}/", flush=True)
    bar = Bar(not args.quiet)
    try:
        report = run_robustness(spec, base.county, [*scenarios, base], base.name, sub, ropts,
                                workers=args.workers, scheduler=args.scheduler, resume=resume,
                                progress=bar.stage("futures"),
                                command=["run.py", *argv])
    except OutputError as exc:
        if not resume or "cannot resume" not in str(exc):
            raise
        raise OutputError(f"{sub}: holds a re-evaluation over futures with other settings "
                          f"({str(exc).split('(', 1)[-1].split(')', 1)[0]}); resume with the "
                          "same --futures, --futures-file and --robust-points, or start the "
                          "optimization afresh with --replace") from None
    finally:
        bar.close()
    # the robustness tables of these mixes, as `python run.py robustness` writes them
    write_robustness(sub, report.runs, report.futures, points, base.name, figures=False,
                     count=opts.count)
    return report


def optimize_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from analysis.optimize import signed, write_optimize_outputs
    from simulation.experiments.optimize.driver import resolve_levers, run_optimization

    opts = _options(args)
    resolve_levers(opts.levers)  # a bad key stops here, before any folder is made
    check_resume(args, "optimization")
    spec, opts = _futures_setup(args, opts)  # a bad futures file stops here too
    out = Path(args.out) if args.out else \
        Path("results") / f"optimize-{datetime.now():%Y%m%d-%H%M%S}"
    budget = "no budget" if opts.budget is None else \
        f"budget {opts.budget:,.0f} yuan (extra fiscal cost over the window above the status quo)"
    print(f"Optimizing {len(opts.levers)} levers: {opts.searches} searches x "
          f"{opts.generations} generations x {opts.population} mixes, each on "
          f"{opts.replicates} seed(s) at {opts.households:,} households; {budget}; folder "
          f"{out}/", flush=True)
    bar = Bar(not args.quiet)
    notice = notice_printer(args.quiet)
    robust = None
    try:
        report = run_optimization(opts, out, workers=args.workers, scheduler=args.scheduler,
                                  resume=args.resume, replace=args.replace, progress=bar,
                                  notice=notice, command=["run.py", *argv])
        bar.close()
        if spec is not None and not report.stopped:
            robust = reevaluate(out, opts, spec, args, argv)
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted: finished evaluations are on disk in {out}/; continue with the "
              f"same options and --resume --out {out}", file=sys.stderr)
        return 130
    finally:
        bar.close()
    table = write_optimize_outputs(out, figures=not args.no_figures)
    runs = report.computed_runs
    rate = f"; {runs / report.wall_seconds:.2f} runs/s" if runs and report.wall_seconds else ""
    print(f"{report.evaluations:,} mixes in {report.generations} generations ({runs:,} runs "
          f"computed now in {report.wall_seconds / 60:.1f} min{rate}); Pareto front: "
          f"{report.pareto} mixes")
    for r in table.to_dict("records"):
        if r["point"]:
            print(f"  budget {r['budget_yuan']:>16,.0f} yuan: {r['point']}  returns "
                  f"{r['returns']:,.0f} ({signed(-r['returns_reduction'])} vs baseline), extra "
                  f"cost {r['extra_cost_yuan']:,.0f} yuan")
        else:
            print(f"  budget {r['budget_yuan']:>16,.0f} yuan: no Pareto mix within it")
    if robust is not None:
        _print_futures(out, opts, robust)
    print(f"report: {out / 'optimize.md'}; strategy files: {out / 'scenarios'}/")
    return 0


def _print_futures(out: Path, opts: Any, robust: Any) -> None:
    """The re-evaluated points across the futures, one line each."""
    import pandas as pd

    table = pd.read_csv(out / "pareto_futures.csv")
    n = int(table["futures"].max()) if len(table) else 0
    print(f"\nAcross {n} futures ({robust.computed_runs:,} runs computed now in "
          f"{robust.wall_seconds:.1f} s; robustness/):")
    budget = "within budget" if opts.budget is not None else ""
    print(f"  {'point':<12}{'reference':>11}{'futures mean [p10, p90]':>28}{'P(first)':>10}"
          f"{budget:>15}")
    for r in table.to_dict("records"):
        spread = (f"{r['returns_mean']:,.0f} [{r['returns_p10']:,.0f}, "
                  f"{r['returns_p90']:,.0f}]")
        within = f"{100 * r['within_budget']:.0f}%" if opts.budget is not None else ""
        print(f"  {r['point']:<12}{r['reference_returns']:>11,.0f}{spread:>28}"
              f"{100 * r['p_first']:>9.0f}%{within:>15}")
