"""Command line: `python run.py [COMMAND] ...` (also installed as `poverty-return`).

Exit codes: 0 success, 2 bad input (scenario files, values, paths, arguments), 1 unexpected
error. Results are written atomically: an interrupted or failed command leaves no partial
output folder behind.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulation.errors import OutputError
from simulation.params import SCHEMA
from simulation.scenario import Scenario, ScenarioError, load_scenario, shipped_scenarios

MAIN_SCENARIOS = ("baseline", "responsibility", "social_security", "industry", "motivation",
                  "combined")
DEFAULT_REPLICATES = 20


class UsageError(ValueError):
    """A command-line value is not acceptable (exit code 2)."""


# ----------------------------------------------------------------------------- helpers
def _positive(name: str, low: int, high: int):  # type: ignore[no-untyped-def]
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} = {value} is out of range; allowed: "
                                             f"[{low}, {high}]")
        return value
    return parse


def _add_run_options(p: argparse.ArgumentParser, replicates: int) -> None:
    p.add_argument("--seed", type=_positive("--seed", 0, 2**31 - 1), default=2021,
                   help="seed of replicate 0; replicate r uses seed + r (default 2021)")
    p.add_argument("--replicates", type=_positive("--replicates", 1, 10_000),
                   default=replicates, help=f"replicates per scenario (default {replicates})")
    years = SCHEMA["run.years"]
    p.add_argument("--years", type=int, default=None,
                   help=f"horizon in years from 2021 (default: the scenario's, "
                        f"{int(years.default)}; allowed {years.range_text()})")
    hh = SCHEMA["run.households"]
    p.add_argument("--households", type=int, default=None,
                   help=f"simulated households (default: the scenario's, {int(hh.default)}; "
                        f"allowed {hh.range_text()})")
    p.add_argument("--workers", type=_positive("--workers", 1, 512), default=None,
                   help="parallel worker processes (default: all cores)")
    p.add_argument("--engine", choices=("arrays", "agents"), default="arrays",
                   help="arrays (numpy, fast; default) or agents (Mesa agents, for teaching "
                        "and debugging); both give identical results")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _load(refs: Sequence[str], years: int | None, households: int | None) -> list[Scenario]:
    overrides: dict[str, float] = {}
    if years is not None:
        overrides["run.years"] = years
    if households is not None:
        overrides["run.households"] = households
    scenarios = [load_scenario(ref) for ref in refs]
    if overrides:
        scenarios = [sc.with_values(overrides, origin="command line") for sc in scenarios]
    names = [sc.name for sc in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"scenario name {dupes[0]!r} given twice; each scenario in a "
                         "comparison needs its own name")
    return scenarios


def _progress(enabled: bool, total: int, what: str):  # type: ignore[no-untyped-def]
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=what, unit="run", file=sys.stderr, leave=False,
               dynamic_ncols=True)

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return update, bar.close


def run_with_progress(scenarios: list[Scenario], args: argparse.Namespace,
                      what: str = "simulating") -> tuple[list[Any], float]:
    """Every scenario on the replicates' seeds with a progress bar; (results, wall seconds)."""
    from simulation.runner import run_many

    total = len(scenarios) * args.replicates
    update, close = _progress(not args.quiet, total, what)
    start = time.perf_counter()
    try:
        results = run_many(scenarios, args.replicates, args.seed, engine=args.engine,
                           workers=args.workers, progress=update)
    finally:
        close()
    return results, time.perf_counter() - start


def _run_and_write(scenarios: list[Scenario], args: argparse.Namespace, out: Path,
                   baseline: str | None, argv: Sequence[str]) -> None:
    from simulation.results import write_results

    results, wall = run_with_progress(scenarios, args)
    total = len(results)
    table = write_results(out, scenarios, results, baseline=baseline, seed=args.seed,
                          replicates=args.replicates, engine=args.engine, wall_seconds=wall,
                          command=["run.py", *argv], figures=not args.no_figures)
    print(format_headline(table, scenarios, args.replicates, baseline))
    print(f"\n{total} runs in {wall:.1f} s; results in {out}/")


def format_headline(table, scenarios: Sequence[Scenario], replicates: int,  # type: ignore[no-untyped-def]
                    baseline: str | None) -> str:
    """The per-scenario table printed after simulate / compare."""
    years = scenarios[0].years
    head = (f"Formerly poor households returning to poverty, county totals over {years} years "
            f"(2021-{2020 + years}); mean [95% interval], {replicates} replicates"
            + (f", paired seeds against {baseline}" if baseline else ""))
    lines = [head, "",
             f"{'scenario':<22}{'returns':>22}{'change vs baseline':>26}"
             f"{'fiscal cost (M yuan)':>22}{'yuan per avoided return':>26}",
             "-" * 118]

    def ci(m: float, lo: float, hi: float, fmt: str = "{:,.0f}") -> str:
        return f"{fmt.format(m)} [{fmt.format(lo)}, {fmt.format(hi)}]"

    for _, r in table.iterrows():
        returns = ci(r["returns"], r["returns_low"], r["returns_high"])
        cost = f"{r['cost'] / 1e6:,.1f}"
        if baseline and r["scenario"] != baseline and "avoided" in r and r["avoided"] == \
                r["avoided"]:
            change = ci(-r["avoided"], -r["avoided_high"], -r["avoided_low"], "{:+,.0f}")
            per = r["cost_per_avoided_return"]
            per_text = f"{per:,.0f}" if per == per else "no returns avoided"
        else:
            change, per_text = "-", "-"
        lines.append(f"{r['scenario']:<22}{returns:>22}{change:>26}{cost:>22}{per_text:>26}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- commands
def cmd_main(args: argparse.Namespace, argv: Sequence[str]) -> int:
    scenarios = _load(MAIN_SCENARIOS, args.years, args.households)
    _run_and_write(scenarios, args, Path(args.out), "baseline", argv)
    from analysis.report import write_report

    html, md, seconds = write_report(Path(args.out))
    print(f"report ({seconds:.1f} s): {html} and {md}")
    return 0


def cmd_simulate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    scenarios = _load([args.scenario], args.years, args.households)
    out = Path(args.out or f"results/{scenarios[0].name}")
    _run_and_write(scenarios, args, out, None, argv)
    return 0


def cmd_compare(args: argparse.Namespace, argv: Sequence[str]) -> int:
    scenarios = _load(args.scenarios, args.years, args.households)
    names = [sc.name for sc in scenarios]
    baseline = args.baseline or names[0]
    if baseline not in names:
        raise UsageError(f"--baseline {baseline!r} is not among the compared scenarios "
                         f"({', '.join(names)})")
    out = Path(args.out or "results/compare")
    _run_and_write(scenarios, args, out, baseline, argv)
    return 0


def cmd_validate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    failed = 0
    for ref in args.files:
        try:
            sc = load_scenario(ref)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
        else:
            changed = len(sc.knob_differences(load_scenario_defaults()))
            print(f"ok: {sc.source} (scenario {sc.name!r}, {changed} values differ from the "
                  f"defaults, {len(sc.schedule)} scheduled changes, {len(sc.disasters)} "
                  "disasters)")
    return 2 if failed else 0


def load_scenario_defaults() -> Scenario:
    from simulation.params import defaults

    return Scenario(name="defaults", values=defaults())


def cmd_params(args: argparse.Namespace, argv: Sequence[str]) -> int:
    sc = load_scenario(args.scenario) if args.scenario else load_scenario_defaults()
    current_section = None
    print(f"Parameters of scenario {sc.name!r} ({sc.source}); * = mechanism knob, "
          "(!) = differs from the default\n")
    for key, p in SCHEMA.items():
        if p.section != current_section:
            current_section = p.section
            print(f"[{p.section}]")
        value = sc.values[key]
        shown = f"{int(value)}" if p.integer else f"{value:g}"
        mark = "*" if p.is_knob else " "
        diff = " (!)" if value != p.default else ""
        print(f" {mark} {p.name:<32} {shown:>12} {p.unit:<26} range {p.range_text():<18}"
              f"{diff}\n      {p.doc}. Source: {p.source}")
    for change in sc.schedule:
        from simulation.calendar import month_label

        items = ", ".join(f"{k} = {v:g}" for k, v in change.values.items())
        print(f"\nscheduled from {month_label(change.month)}: {items}")
    for d in sc.disasters:
        from simulation.calendar import month_label

        print(f"\ndisaster in {month_label(d.month)}: {d.village_share:.0%} of villages, "
              f"production -{d.production_loss:.0%} for {d.months} months, assets "
              f"-{d.asset_loss:g} x annual production")
    return 0


def cmd_calibration(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from simulation.calibration import CALIBRATION_YEARS, evaluate, format_table
    from simulation.results import runs_frame
    from simulation.runner import run_many

    scenarios = _load([args.scenario], CALIBRATION_YEARS, args.households)
    update, close = _progress(not args.quiet, args.replicates, "calibration runs")
    try:
        results = run_many(scenarios, args.replicates, args.seed, engine=args.engine,
                           workers=args.workers, record_events=False, progress=update)
    finally:
        close()
    table = evaluate(runs_frame(results))
    print(f"Calibration of {scenarios[0].name!r}, 2021-2025, {args.replicates} replicates "
          "(mean over replicates must lie inside the target range)\n")
    print(format_table(table))
    inside = int(table["inside"].sum())
    print(f"\n{inside} of {len(table)} targets inside their range")
    return 0


def cmd_report(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from analysis.report import cli

    return cli(args)


def cmd_decompose(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from analysis.decompose import cli

    return cli(args, argv)


def cmd_sweep(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from simulation.sweep.commands import sweep_command

    return sweep_command(args, argv)


def cmd_discover(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from simulation.sweep.commands import discover_command

    return discover_command(args, argv)


def cmd_demo(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from simulation.teaching.server import PortError, serve

    try:
        serve(port=args.port, scenario=args.scenario)
    except PortError as exc:
        raise UsageError(str(exc)) from None
    return 0


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    shipped = ", ".join(p.stem for p in shipped_scenarios())
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="Households returning to poverty in M County: an agent-based model of the "
                    "four prevention mechanisms. Without a command: compare the baseline, the "
                    "four optimization strategies and all four combined (15 years, 20 "
                    "replicates, paired seeds) and write results/latest/.",
        epilog=f"Shipped scenarios: {shipped}. A scenario is a name or a path to a TOML file.")
    parser.add_argument("--out", default="results/latest",
                        help="output folder of the main job (default results/latest)")
    _add_run_options(parser, DEFAULT_REPLICATES)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("simulate", help="run one scenario over replicates",
                       description="Run one scenario and write its results.")
    p.add_argument("scenario", help="scenario name or TOML file")
    p.add_argument("--out", help="output folder (default results/<scenario>)")
    _add_run_options(p, 1)

    p = sub.add_parser("compare", help="run scenarios on paired seeds and compare them",
                       description="Run several scenarios on the same seeds; differences are "
                                   "paired per seed against the baseline.")
    p.add_argument("scenarios", nargs="+", help="scenario names or TOML files")
    p.add_argument("--baseline", help="scenario to compare against (default: the first)")
    p.add_argument("--out", help="output folder (default results/compare)")
    _add_run_options(p, DEFAULT_REPLICATES)

    p = sub.add_parser("validate", help="check scenario files",
                       description="Load and validate scenario files (exit 2 if any is bad).")
    p.add_argument("files", nargs="+", help="scenario files or names")

    p = sub.add_parser("params", help="list every knob with unit, value, range, source",
                       description="List every parameter of a scenario (default: the schema "
                                   "defaults) with unit, value, range and source.")
    p.add_argument("scenario", nargs="?", help="scenario name or TOML file")

    p = sub.add_parser("calibration", help="check the baseline against the calibration targets",
                       description="Run the baseline 2021-2025 and compare with DESIGN §7's "
                                   "targets.")
    p.add_argument("scenario", nargs="?", default="baseline", help="scenario (default baseline)")
    _add_run_options(p, DEFAULT_REPLICATES)

    p = sub.add_parser("report", help="write the comparison report of a results folder",
                       description="Write a self-contained report.html (figures embedded, "
                                   "opens offline) and report.md from saved results: paired "
                                   "differences, causes, decomposition, cohorts and time to "
                                   "return, who returns, cost-effectiveness, calibration, "
                                   "manifest.")
    p.add_argument("results", help="results folder of simulate / compare / decompose / the "
                                   "main job")
    p.add_argument("--out", help="report file (default RESULTS/report.html; report.md and "
                                 "report_files/ are written next to it)")
    p.add_argument("--decomposition", metavar="DIR",
                   help="results folder of `decompose` to include in the report")

    p = sub.add_parser("decompose", help="Shapley decomposition of two scenarios by mechanism",
                       description="Run every combination of the mechanism knob changes "
                                   "between BASE and OTHER (16 when all four mechanisms "
                                   "differ) on paired seeds, write them as one results folder "
                                   "and the Shapley contributions (decomposition.csv).")
    p.add_argument("base", help="scenario the changes are applied to (e.g. baseline)")
    p.add_argument("other", help="scenario whose mechanism knobs are applied (e.g. combined)")
    p.add_argument("--out", help="output folder (default results/decompose-BASE-OTHER)")
    _add_run_options(p, DEFAULT_REPLICATES)

    from simulation.sweep.commands import add_discover_arguments, add_sweep_arguments

    p = sub.add_parser("sweep", help="sensitivity sweep (Sobol, Morris, FAST, LHS, grid)",
                       description="Run a sensitivity sweep over scenario knobs (SALib 1.6) on "
                                   "a local process pool or a Dask cluster; runs stream to "
                                   "disk and a killed sweep continues with --resume.")
    add_sweep_arguments(p)
    p = sub.add_parser("discover", help="knob ranges where an output stays below a threshold",
                       description="Scenario discovery on a finished sweep with PRIM (EMA "
                                   "Workbench): boxes of knob ranges, with coverage and "
                                   "density.")
    add_discover_arguments(p)

    p = sub.add_parser("demo", help="serve the teaching page: a live county in the browser",
                       description="Serve the teaching page on 127.0.0.1 (Mesa SolaraViz, "
                                   "agents engine): sliders for the four mechanisms, the "
                                   "county's households, monitors, live charts, household "
                                   "stories, compare mode. Works offline. Ctrl-C stops it.")
    p.add_argument("--port", type=_positive("--port", 1024, 65535), default=8521,
                   help="port on 127.0.0.1 (default 8521)")
    p.add_argument("--scenario", help="scenario TOML file to open the page with (a file with "
                                      "errors opens the page with the error shown)")
    return parser


COMMANDS = {None: cmd_main, "simulate": cmd_simulate, "compare": cmd_compare,
            "validate": cmd_validate, "params": cmd_params, "calibration": cmd_calibration,
            "report": cmd_report, "decompose": cmd_decompose,
            "sweep": cmd_sweep, "discover": cmd_discover, "demo": cmd_demo}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        return COMMANDS[args.command](args, argv)
    except (ScenarioError, UsageError, OutputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; no results written", file=sys.stderr)
        return 130
    except Exception:  # pragma: no cover - the last line of defence
        traceback.print_exc()
        print("internal error (see above); please report it", file=sys.stderr)
        return 1
