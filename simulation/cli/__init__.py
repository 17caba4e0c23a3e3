"""Command line: `python run.py [COMMAND] ...` (also installed as `poverty-return`).

Exit codes: 0 success, 2 bad input (scenario files, values, paths, arguments), 3 a check that
ran but failed (calibration targets outside their ranges), 1 unexpected error, 130/143
interrupted (Ctrl-C / SIGTERM). Results are written atomically into a new or empty folder: an
interrupted or failed command leaves nothing half-written, and no command deletes or
overwrites a folder it did not write (replacing its own earlier output needs --replace).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from simulation.common.errors import OutputError, UsageError
from simulation.model.calendar import START_YEAR
from simulation.model.county import load_county
from simulation.model.params import SCHEMA
from simulation.model.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    month_label,
    parse_month,
    shipped_scenarios,
)

MAIN_SCENARIOS = ("baseline", "responsibility", "social_security", "industry", "motivation",
                  "combined")
DEFAULT_REPLICATES = 20
RESULTS_ROOT = Path("results")
"""Default outputs go to new folders here; results/latest points at the newest."""
DOCS_ROOT = Path(__file__).resolve().parent.parent.parent / "docs"
"""The project's docs folder (where `effects` writes its table by default)."""
EFFECTS_REPLICATES = 10
REPORT_ENTRIES = frozenset({"report.html", "report.md", "report_files"})
"""What `report` may add to a results folder (kept when the folder is replaced)."""
EXIT_CHECK_FAILED = 3


# ----------------------------------------------------------------------------- option types
def _whole(name: str, low: int, high: int, unit: str = "") -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} = {value} is out of range; allowed: "
                                             f"[{low:,}, {high:,}]{unit}")
        return value
    return parse


def _policy_date(text: str) -> int:
    try:
        return parse_month("--policy-date", "policy_date", text)
    except ScenarioError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--policy-date: ")) from None


def _schema_whole(key: str, flag: str) -> Callable[[str], int]:
    p = SCHEMA[key]
    return _whole(f"{flag} ({key})", int(p.low), int(p.high), f" {p.unit}")


# ----------------------------------------------------------------------------- options
def _add_run_options(p: argparse.ArgumentParser, replicates: int, *, years: bool = True,
                     figures: bool = True) -> None:
    p.add_argument("--seed", type=_whole("--seed", 0, 2**31 - 1), default=2021,
                   help="seed of replicate 0; replicate r uses seed + r (default 2021)")
    p.add_argument("--replicates", type=_whole("--replicates", 1, 10_000),
                   default=replicates, help=f"replicates per scenario (default {replicates})")
    if years:
        y = SCHEMA["run.years"]
        p.add_argument("--years", type=_schema_whole("run.years", "--years"), default=None,
                       help=f"horizon in years from 2021 (default: the scenario's, "
                            f"{int(y.default)}; allowed {y.range_text()})")
        p.add_argument("--policy-date", type=_policy_date, default=None, metavar="YYYY-MM",
                       help="month every scenario's policy knobs take effect (default: each "
                            "scenario's policy_date, normally 2026-01; the years before it are "
                            "the shared history); comparisons are made from its year on")
        p.add_argument("--population", default=None, metavar="FILE",
                       help="build the initial households from records (CSV or Parquet, one "
                            "row per household; docs/population-format.md) instead of the "
                            "synthetic county; --households is then the number of records")
    p.add_argument("--county", default=None, metavar="PROFILE",
                   help="county profile, a name in counties/ or a TOML file (default: each "
                        "scenario's county_profile, normally m_county); the scenarios' own "
                        "settings apply on top of it")
    hh = SCHEMA["run.households"]
    p.add_argument("--households", type=_schema_whole("run.households", "--households"),
                   default=None,
                   help=f"simulated households (default: the scenario's, {int(hh.default)}; "
                        f"allowed {hh.range_text()})")
    p.add_argument("--workers", type=_whole("--workers", 1, 512), default=None,
                   help="parallel worker processes (default: all cores)")
    p.add_argument("--engine", choices=("arrays", "agents"), default="arrays",
                   help="arrays (numpy, fast; default) or agents (Mesa agents, for teaching "
                        "and debugging); both give identical results")
    if figures:
        p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_out(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"output folder, new or empty (default: a new folder {default}; "
                        "results/latest then points at it)")
    p.add_argument("--replace", action="store_true",
                   help="replace the folder given by --out if it holds earlier results of "
                        "this program (and nothing else)")


# ----------------------------------------------------------------------------- helpers
def _load(refs: Sequence[str], years: int | None, households: int | None,
          policy_month: int | None = None, *, note_late: bool = True,
          county: str | None = None, population: str | None = None) -> list[Scenario]:
    """Load scenarios and apply --county, --years / --households (validated like a file's
    values), --policy-date and --population (checked here, before any output folder
    exists)."""
    overrides: dict[str, float] = {}
    if years is not None:
        overrides["run.years"] = years
    if households is not None:
        overrides["run.households"] = households
    scenarios = [load_scenario(ref) for ref in refs]
    if county is not None:
        profile = load_county(county)
        scenarios = [sc.with_county(profile, "--county") for sc in scenarios]
    if overrides:
        scenarios = [sc.with_values(overrides, origin="command line") for sc in scenarios]
    if policy_month is not None:
        scenarios = [dataclasses.replace(sc, policy_month=policy_month) for sc in scenarios]
    scenarios = _with_population(scenarios, population, households)
    names = [sc.name for sc in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"scenario name {dupes[0]!r} given twice; each scenario in a "
                         "comparison needs its own name")
    for sc in scenarios:
        _note_oversampling(sc)
        for event in sc.late_events() if note_late else ():  # a shortened horizon
            print(f"note: scenario {sc.name!r}: {event} is after the horizon "
                  f"({2020 + sc.years}-12) and will not happen in this run", file=sys.stderr)
    return scenarios


def _with_population(scenarios: list[Scenario], population: str | None,
                     households: int | None) -> list[Scenario]:
    """--population (or a scenario's own population_file): every scenario's households are
    the file's records; run.households becomes their number."""
    from simulation.model.microdata import county_note, read_records, use_population

    out, notes = [], set()
    for sc in scenarios:
        path = population if population is not None else sc.population_file
        if path is None:
            out.append(sc)
            continue
        sc = use_population(sc, path)
        records = read_records(path)
        if households is not None and households != records.n:
            notes.add(f"note: --households {households:,} does not apply: the population "
                      f"file {path} has {records.n:,} households, and all of them are "
                      "simulated")
        note = county_note(sc, records)
        if note:
            notes.add(note)
        out.append(sc)
    for note in sorted(notes):
        print(note, file=sys.stderr)
    return out


def _note_oversampling(sc: Scenario) -> None:
    """Say what it means to simulate more households of a kind than the county has."""
    from simulation.model.codes import CATEGORIES
    from simulation.model.params import as_namespace
    from simulation.model.population import stratum_sizes

    if sc.population_file is not None:  # the records bring their own weights
        return
    counts, weights = stratum_sizes(as_namespace(dict(sc.values)))
    over = [(c, n, n * w) for c, n, w in zip(CATEGORIES, counts, weights, strict=True) if w < 1]
    if over:
        cat, n, county = over[0]
        print(f"note: scenario {sc.name!r} simulates {n:,} {cat.replace('_', ' ')} households, "
              f"more than the county's {county:,.0f}; each then stands for fewer than one "
              "real household (weight below 1). County totals stay right; the extra "
              "households only add precision and time.", file=sys.stderr)


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
                      what: str = "simulating", record_events: bool = True
                      ) -> tuple[list[Any], float]:
    """Every scenario on the replicates' seeds with a progress bar; (results, wall seconds)."""
    from simulation.experiments.runner import prepare_engine, run_many

    total = len(scenarios) * args.replicates
    start = time.perf_counter()
    notice = None if args.quiet else partial(print, file=sys.stderr)
    prepare_engine(args.engine, notice)  # before the bar, which would otherwise sit at 0%
    update, close = _progress(not args.quiet, total, what)
    try:
        results = run_many(scenarios, args.replicates, args.seed, engine=args.engine,
                           workers=args.workers, record_events=record_events, progress=update)
    finally:
        close()
    return results, time.perf_counter() - start


@contextmanager
def results_folder(args: argparse.Namespace, default_stem: str) -> Iterator[Path]:
    """The output folder of a run command, checked before any run: `--out` (new, empty, or
    with --replace an earlier output of this program) or a new `results/<stem>-<time>`.
    Yields the folder to write into; puts it in place when the block succeeds."""
    from simulation.common.output import OutputFolder, fresh_folder, point_latest

    default = args.out is None
    target = fresh_folder(RESULTS_ROOT, default_stem) if default else Path(args.out)
    folder = OutputFolder(target, kind="results", replace=args.replace, extra=REPORT_ENTRIES)
    with folder:
        yield folder.path
    if default:
        note = point_latest(target, RESULTS_ROOT / "latest")
        if note:
            print(note, file=sys.stderr)
    args.written = target


def _write_results(folder: Path, scenarios: list[Scenario], results: list[Any],
                   args: argparse.Namespace, baseline: str | None, argv: Sequence[str],
                   wall: float) -> Any:
    """The runs' files (experiments layer), then the tables and figures made from them
    (analysis layer); returns the headline table."""
    from analysis.headline import write_tables
    from simulation.experiments.results import write_results

    runs = write_results(folder, scenarios, results, baseline=baseline, seed=args.seed,
                         replicates=args.replicates, engine=args.engine, wall_seconds=wall,
                         command=["run.py", *argv])
    return write_tables(folder, runs, baseline, args.seed, figures=not args.no_figures,
                        start_year=_window(scenarios)[0])


def _window(scenarios: Sequence[Scenario]) -> tuple[int, int]:
    """The evaluation window (first and last year) of a comparison."""
    from analysis.results_io import evaluation_start

    last = START_YEAR + scenarios[0].years - 1
    return evaluation_start(scenarios, last), last


def _simulate_and_write(scenarios: list[Scenario], args: argparse.Namespace,
                        argv: Sequence[str], baseline: str | None, stem: str,
                        report: bool = False) -> None:
    with results_folder(args, stem) as folder:
        results, wall = run_with_progress(scenarios, args)
        with ExitStack() as stack:
            renderer = None
            if report:  # its workers start up while the results are written
                from analysis.report_render import FIGURE_WORKERS, FigureRenderer

                renderer = stack.enter_context(FigureRenderer(FIGURE_WORKERS))
            table = _write_results(folder, scenarios, results, args, baseline, argv, wall)
            if report:
                from analysis.report import write_report

                _, _, seconds = write_report(folder, renderer=renderer)
    print(format_headline(table, scenarios, args.replicates, baseline))
    print(f"\n{len(results)} runs in {wall:.1f} s; results in {args.written}/")
    if report:
        print(f"report ({seconds:.1f} s): {args.written / 'report.html'} and "
              f"{args.written / 'report.md'}")


def format_headline(table: Any, scenarios: Sequence[Scenario], replicates: int,
                    baseline: str | None) -> str:
    """The per-scenario table printed after simulate / compare (analysis.headline's numbers,
    the same as headline.csv and the report)."""
    from simulation.common.stats import interval_text

    first, last = _window(scenarios)
    values = scenarios[0].values
    formerly_poor = values["county.households"] * values["county.formerly_poor_share"]
    history = (f"; {START_YEAR}-{first - 1} is the shared history before the policy date"
               if first > START_YEAR else "")
    head = (f"Formerly poor households returning to poverty (of the county's "
            f"{formerly_poor:,.0f}; a household counts once a year), county totals over the "
            f"evaluation window {first}-{last} (policy date to horizon{history}); fiscal cost "
            f"is the total over those years; mean [95% interval], {replicates} replicate"
            + ("s" if replicates > 1 else "")
            + (f", paired seeds against {baseline}" if baseline else ""))
    if replicates == 1:
        head += "\n(one replicate: no intervals; use --replicates 2 or more for them)"
    lines = [head, "",
             f"{'scenario':<22}{'returns':>20}{'change vs baseline':>22}"
             f"{'fiscal cost (M yuan)':>22}{'yuan per avoided return (Fieller)':>38}",
             "-" * 124]
    for _, r in table.iterrows():
        returns = interval_text(r["returns"], r["returns_low"], r["returns_high"], floor=0.0)
        cost = f"{r['fiscal_cost'] / 1e6:,.1f}"
        if baseline and r["scenario"] != baseline and "change_returns" in r:
            change = interval_text(r["change_returns"], r["change_returns_low"],
                                   r["change_returns_high"], "{:+,.0f}")
            per = _per_return_text(r)
        else:
            change, per = "-", "-"
        lines.append(f"{r['scenario']:<22}{returns:>20}{change:>22}{cost:>22}{per:>38}")
    return "\n".join(lines)


def _per_return_text(r: Any) -> str:
    from simulation.common.stats import interval_text

    status = r["per_return_status"]
    if status == "avoids none":
        return "avoids no return"
    if status == "cost-saving":
        return "cost-saving"
    if status == "unbounded":
        return f"{r['per_return']:,.0f} (no upper bound)"
    return interval_text(r["per_return"], r["per_return_low"], r["per_return_high"])


# ----------------------------------------------------------------------------- commands
def cmd_main(args: argparse.Namespace, argv: Sequence[str]) -> int:
    scenarios = _load(MAIN_SCENARIOS, args.years, args.households, args.policy_date,
                      county=args.county, population=args.population)
    _simulate_and_write(scenarios, args, argv, "baseline", "main", report=True)
    return 0


def cmd_simulate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    scenarios = _load([args.scenario], args.years, args.households, args.policy_date,
                      county=args.county, population=args.population)
    _simulate_and_write(scenarios, args, argv, None, scenarios[0].name)
    return 0


def cmd_compare(args: argparse.Namespace, argv: Sequence[str]) -> int:
    scenarios = _load(args.scenarios, args.years, args.households, args.policy_date,
                      county=args.county, population=args.population)
    names = [sc.name for sc in scenarios]
    baseline = args.baseline or names[0]
    if baseline not in names:
        raise UsageError(f"--baseline {baseline!r} is not among the compared scenarios "
                         f"({', '.join(names)})")
    _simulate_and_write(scenarios, args, argv, baseline, "compare")
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


def cmd_county(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Validate county profiles and show how each differs from M County, or print the
    template of a new profile."""
    from simulation.model.county import shipped_counties, template

    if args.template:
        sys.stdout.write(template())
        return 0
    failed = 0
    for ref in args.profiles or [str(p) for p in shipped_counties()]:
        try:
            county = load_county(ref)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        differ = {k: v for k, v in county.values.items() if v != SCHEMA[k].default}
        print(f"ok: {county.source} (county {county.name!r}: {county.description or '-'}; "
              f"{len(differ)} values differ from M County)")
        for key, value in differ.items():
            p = SCHEMA[key]
            print(f"    {key:<44} {value:>12g}  (M County {p.default:g}) {p.unit}")
    return 2 if failed else 0


def load_scenario_defaults() -> Scenario:
    from simulation.model.params import defaults

    return Scenario(name="defaults", values=defaults())


def cmd_params(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from simulation.model.calendar import month_label

    sc = load_scenario(args.scenario) if args.scenario else load_scenario_defaults()
    current_section = None
    print(f"Parameters of scenario {sc.name!r} ({sc.source}); * = mechanism knob, "
          "(!) = differs from the default; [key] = an entry of docs/sources.md\n")
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
        items = ", ".join(f"{k} = {v:g}" for k, v in change.values.items())
        print(f"\nscheduled from {month_label(change.month)}: {items}")
    for d in sc.disasters:
        print(f"\ndisaster in {month_label(d.month)}: {d.village_share:.0%} of villages, "
              f"production -{d.production_loss:.0%} for {d.months} months, assets "
              f"-{d.asset_loss:g} x annual production")
    return 0


def cmd_calibration(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from analysis.calibration import CALIBRATION_YEARS, evaluate, format_table, targets_of
    from simulation.experiments.calibrate.spec import load_targets
    from simulation.experiments.results import runs_frame

    county = args.county
    targets = None
    if args.targets:  # checked before any run; its county unless --county says otherwise
        targets = targets_of(args.targets)
        if county is None:
            spec = load_targets(args.targets)
            county = str(load_county(spec.county, Path(spec.source).parent).source)
    # the calibration window is the history: dated changes from 2026 on are not part of it
    scenarios = _load([args.scenario], CALIBRATION_YEARS, args.households, note_late=False,
                      county=county)
    results, _ = run_with_progress(scenarios, args, "calibration runs", record_events=False)
    table = evaluate(runs_frame(results), targets)
    print(f"Calibration of {scenarios[0].name!r} in {scenarios[0].county.name!r} against "
          f"{args.targets or 'm_county'}'s targets, 2021-2025, {args.replicates} replicate"
          f"{'s' if args.replicates > 1 else ''} (the mean over replicates must lie inside "
          "the target range)\n")
    print(format_table(table))
    inside = int(table["inside"].sum())
    print(f"\n{inside} of {len(table)} targets inside their range")
    if inside < len(table):
        print(f"calibration check failed: {len(table) - inside} target(s) outside their range "
              f"(exit code {EXIT_CHECK_FAILED})", file=sys.stderr)
        return EXIT_CHECK_FAILED
    return 0


def cmd_report(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from analysis.report import cli

    return cli(args)


def cmd_decompose(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run the coalitions of BASE and OTHER, write the results folder and decomposition.csv."""
    from analysis.decompose import decomposition_table, format_table
    from analysis.shapley import NotDecomposable, coalition_scenarios

    base, other = _load([args.base, args.other], args.years, args.households,
                        args.policy_date,
                        county=args.county, population=args.population)
    try:
        pair, scenarios = coalition_scenarios(base, other)
    except NotDecomposable as exc:
        raise UsageError(str(exc)) from None
    total = len(scenarios) * args.replicates
    with results_folder(args, f"decompose-{base.name}-{other.name}") as folder:
        print(f"{len(scenarios)} combinations of {len(pair.players)} mechanism changes "
              f"({', '.join(pair.players)}) x {args.replicates} replicates = {total} runs")
        results, wall = run_with_progress(scenarios, args, "decomposition runs")
        _write_results(folder, scenarios, results, args, base.name, argv, wall)
        table = decomposition_table(folder, base.name, other.name)
        table.to_csv(folder / "decomposition.csv", index=False)
    print(format_table(table, base.name, other.name, args.replicates))
    print(f"\n{total} runs in {wall:.1f} s; results in {args.written}/ (decomposition.csv; "
          f"`python run.py report {args.written}` for the full report)")
    return 0


def cmd_effects(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Every mechanism knob from its weak to its strong end on paired seeds: effects.csv in a
    results folder and the documented table (docs/knob-effects.md unless --doc says else)."""
    from analysis.effects import MARKER, effects_table, render_markdown
    from simulation.common.output import atomic_write_frame, atomic_write_text
    from simulation.experiments.effects import effect_scenarios

    base = _load([args.scenario], args.years, args.households, args.policy_date,
                  county=args.county, population=args.population)[0]
    doc = None if args.doc == "none" else Path(args.doc)
    if doc is not None:
        _check_doc(doc, MARKER, args.replace)
    scenarios = effect_scenarios(base)
    first, last = _window([base])
    with results_folder(args, "effects") as folder:
        print(f"{len(scenarios) // 2} knobs x 2 ends x {args.replicates} replicates = "
              f"{len(scenarios) * args.replicates} runs; effects over {first}-{last}",
              flush=True)
        results, wall = run_with_progress(scenarios, args, "knob effects", record_events=False)
        runs = pd_years(results)
        table = effects_table(runs, first)
        atomic_write_frame(folder / "effects.csv", table)
        seeds = f"{args.seed}–{args.seed + args.replicates - 1}"
        meta = {"window": (first, last), "replicates": args.replicates, "seeds": seeds,
                "households": base.households, "engine": args.engine,
                "policy_date": month_label(base.policy_month),
                "command": "python run.py effects --replace"}
        text = render_markdown(table, meta)
        atomic_write_text(folder / "knob-effects.md", text)
    if doc is not None:
        atomic_write_text(doc, text)
    _print_effects(table)
    print(f"\n{len(results)} runs in {wall:.1f} s; results in {args.written}/"
          + (f"; table written to {doc}" if doc is not None else ""))
    return 0


def pd_years(results: Sequence[Any]) -> Any:
    """The yearly metrics of runs as one frame (scenario, replicate, seed, year, metrics)."""
    import pandas as pd

    return pd.DataFrame([{"scenario": r.scenario, "replicate": r.replicate, "seed": r.seed,
                          **y} for r in results for y in r.years])


def _check_doc(path: Path, marker: str, replace: bool) -> None:
    """The table may go to a new file, or replace one this command wrote (--replace)."""
    if not path.parent.is_dir():
        raise UsageError(f"--doc {path}: folder {path.parent} does not exist")
    if not path.exists():
        return
    if not path.is_file():
        raise UsageError(f"--doc {path}: not a file")
    first = path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
    if first.strip() != marker:
        raise UsageError(f"--doc {path}: the file exists and was not written by this command; "
                         "choose another --doc path")
    if not replace:
        raise UsageError(f"--doc {path}: holds an earlier table of this command; add --replace "
                         "to replace it")


def _print_effects(table: Any) -> None:
    print(f"\n{'knob':<42}{'weak':>9}{'strong':>9}{'returns':>24}{'new poverty':>24}")
    for _, r in table.iterrows():
        effect = (f"{r['returns']:+,.0f} [{r['returns_low']:+,.0f}, {r['returns_high']:+,.0f}]"
                  if r["returns_low"] == r["returns_low"] else f"{r['returns']:+,.0f}")
        new = (f"{r['new_poverty']:+,.0f} [{r['new_poverty_low']:+,.0f}, "
               f"{r['new_poverty_high']:+,.0f}]"
               if r["new_poverty_low"] == r["new_poverty_low"] else f"{r['new_poverty']:+,.0f}")
        print(f"{r['knob']:<42}{r['weak']:>9g}{r['strong']:>9g}{effect:>24}{new:>24}")


def cmd_sweep(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from simulation.cli.sweeps import sweep_command

    return sweep_command(args, argv)


def cmd_calibrate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from simulation.cli.calibrate import calibrate_command

    return calibrate_command(args, argv)


def cmd_robustness(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from simulation.cli.robustness import robustness_command

    return robustness_command(args, argv)


def cmd_optimize(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from simulation.cli.optimize import optimize_command

    return optimize_command(args, argv)


def cmd_discover(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from simulation.cli.sweeps import discover_command

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
                    "replicates, paired seeds), write a new results folder with a report, and "
                    "point results/latest at it.",
        epilog=f"Shipped scenarios: {shipped}. A scenario is a name or a path to a TOML file. "
               "Options may come before or after the command.")
    _add_out(parser, "results/main-<date>-<time>")
    _add_run_options(parser, DEFAULT_REPLICATES)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)

    p = sub.add_parser("simulate", help="run one scenario over replicates",
                       description="Run one scenario and write its results.")
    p.add_argument("scenario", help="scenario name or TOML file")
    _add_out(p, "results/<scenario>-<date>-<time>")
    _add_run_options(p, 1)

    p = sub.add_parser("compare", help="run scenarios on paired seeds and compare them",
                       description="Run several scenarios on the same seeds; differences are "
                                   "paired per seed against the baseline.")
    p.add_argument("scenarios", nargs="+", help="scenario names or TOML files")
    p.add_argument("--baseline", help="scenario to compare against (default: the first)")
    _add_out(p, "results/compare-<date>-<time>")
    _add_run_options(p, DEFAULT_REPLICATES)

    p = sub.add_parser("validate", help="check scenario files",
                       description="Load and validate scenario files (exit 2 if any is bad).")
    p.add_argument("files", nargs="+", help="scenario files or names")

    p = sub.add_parser("county", help="check county profiles, or print a new profile's template",
                       description="Validate county profiles (default: every profile in "
                                   "counties/) and list the values in which each differs from "
                                   "M County (exit 2 if any is bad); --template prints a "
                                   "template for a new county.")
    p.add_argument("profiles", nargs="*", help="profile names or TOML files")
    p.add_argument("--template", action="store_true",
                   help="print counties/m_county.toml's template (every place key with unit, "
                        "range and meaning) to standard output")

    p = sub.add_parser("params", help="list every knob with unit, value, range, source",
                       description="List every parameter of a scenario (default: the schema "
                                   "defaults) with unit, value, range and source.")
    p.add_argument("scenario", nargs="?", help="scenario name or TOML file")

    p = sub.add_parser("calibration", help="check the baseline against the calibration targets",
                       description="Run a scenario (default: the baseline) over 2021-2025 and "
                                   "compare it with the calibration targets (docs/ODD.md). "
                                   f"Exit code {EXIT_CHECK_FAILED} if a target is missed.")
    p.add_argument("scenario", nargs="?", default="baseline", help="scenario (default baseline)")
    p.add_argument("--targets", default=None, metavar="FILE",
                   help="targets file (a name in targets/ or a path; default m_county, "
                        "the targets of docs/ODD.md)")
    _add_run_options(p, DEFAULT_REPLICATES, years=False, figures=False)

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
    p.add_argument("--replace", action="store_true",
                   help="replace a report this program wrote there earlier")
    p.add_argument("--decomposition", metavar="DIR",
                   help="results folder of `decompose` to include in the report")
    p.add_argument("--robustness", metavar="DIR",
                   help="folder of `robustness` to include (section \"Which strategy, in "
                        "which worlds\")")
    p.add_argument("--optimization", metavar="DIR",
                   help="folder of `optimize` to include (section \"The best mix for the "
                        "budget\")")

    p = sub.add_parser("decompose", help="Shapley decomposition of two scenarios by mechanism",
                       description="Run every combination of the mechanism knob changes "
                                   "between BASE and OTHER (16 when all four mechanisms "
                                   "differ) on paired seeds, write them as one results folder "
                                   "and the Shapley contributions (decomposition.csv).")
    p.add_argument("base", help="scenario the changes are applied to (e.g. baseline)")
    p.add_argument("other", help="scenario whose mechanism knobs are applied (e.g. combined)")
    _add_out(p, "results/decompose-BASE-OTHER-<date>-<time>")
    _add_run_options(p, DEFAULT_REPLICATES)

    p = sub.add_parser("effects", help="each mechanism knob from weak to strong on paired seeds",
                       description="Run every mechanism knob at its weak end (the value that "
                                   "removes its channel) and at its strong end, every other "
                                   "value as in SCENARIO, on paired seeds; write effects.csv "
                                   "and the knob-effects table (returns, new poverty, "
                                   "hardship, fiscal cost over the evaluation window, with 95% "
                                   "intervals).")
    p.add_argument("scenario", nargs="?", default="baseline",
                   help="scenario the knobs are moved in (default baseline)")
    p.add_argument("--doc", default=str(DOCS_ROOT / "knob-effects.md"), metavar="FILE",
                   help="where the markdown table goes besides the results folder (default "
                        "docs/knob-effects.md; 'none' for nowhere); a file there must be an "
                        "earlier table of this command, replaced only with --replace")
    _add_out(p, "results/effects-<date>-<time>")
    _add_run_options(p, EFFECTS_REPLICATES, figures=False)

    # The long commands' options need heavy modules (pandas, scipy, scikit-learn, pymoo, the
    # experiments' drivers) for their defaults; they are added only when that command is
    # parsed, so `run.py --help` and every other command start without them.
    _lazy_parser(sub, "sweep", _sweep_arguments,
                 help="sensitivity sweep (Sobol, Morris, FAST, LHS, grid)",
                 description="Run a sensitivity sweep over scenario knobs (SALib 1.6) on "
                             "a local process pool or a Dask cluster; runs stream to "
                             "disk and a killed sweep continues with --resume.")
    _lazy_parser(sub, "calibrate", _calibrate_arguments,
                 help="fit a county to its own statistics (history matching)",
                 description="Calibrate a county profile to the targets of a targets "
                             "file by history matching in waves (emulators, "
                             "implausibility, refocusing): the plausible ensemble, a "
                             "best fit written as a county profile, and a fit report. "
                             "Runs stream to disk; a killed calibration continues with "
                             "--resume.")
    _lazy_parser(sub, "robustness", _robustness_arguments,
                 help="which strategy, in which worlds: rank strategies over many futures",
                 description="Run every strategy and the baseline in N futures drawn "
                             "from a futures file (calibrated parameter sets, uncertain "
                             "constants, structural switches, shocks; futures/README.md) "
                             "on paired seeds within each future, and report how "
                             "robust their ranking by returns to poverty is: first-rank "
                             "probabilities, rank distributions, regret, cost per "
                             "avoided return, and PRIM boxes of the futures where a "
                             "leader loses its lead. Runs stream to disk; a killed run "
                             "continues with --resume.",
                 epilog="Example: python run.py robustness industry combined -n 200 "
                        "--replicates 3 --out results/robust-200")
    from simulation.cli.optimize import DESCRIPTION, EPILOG

    _lazy_parser(sub, "optimize", _optimize_arguments,
                 help="the best mixes of mechanism levers for a budget (ε-NSGA-II)",
                 description=DESCRIPTION, epilog=EPILOG)
    _lazy_parser(sub, "discover", _discover_arguments,
                 help="knob ranges where an output stays below a threshold",
                 description="Scenario discovery on a finished sweep with PRIM (EMA "
                             "Workbench): boxes of knob ranges, with coverage and "
                             "density.")

    p = sub.add_parser("demo", help="serve the teaching page: a live county in the browser",
                       description="Serve the teaching page on 127.0.0.1 (Mesa SolaraViz, "
                                   "agents engine): sliders for the four mechanisms, the "
                                   "county's households, monitors, live charts, household "
                                   "stories, compare mode. Works offline. Ctrl-C stops it.")
    p.add_argument("--port", type=_whole("--port", 1024, 65535), default=8521,
                   help="port on 127.0.0.1 (default 8521)")
    p.add_argument("--scenario", help="scenario TOML file to open the page with (a file with "
                                      "errors opens the page with the error shown)")

    _OPTION_DEFAULTS.clear()
    _OPTION_DEFAULTS[None] = _defer_defaults(parser)
    for name, subparser in sub.choices.items():
        if not (isinstance(subparser, _CommandParser) and subparser.pending):  # at first use
            _OPTION_DEFAULTS[name] = _defer_defaults(subparser)
    return parser


class _CommandParser(argparse.ArgumentParser):
    """A command's parser. Given `populate`, its options are added on first use: when the
    command is parsed (which includes `run.py COMMAND --help`) or its help or usage is
    formatted; the command's deferred defaults (see _defer_defaults) are recorded then."""

    def __init__(self, *args: Any,
                 populate: Callable[[argparse.ArgumentParser], None] | None = None,
                 command: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._populate = populate
        self._command = command

    @property
    def pending(self) -> bool:
        """Whether the options are still to be added."""
        return self._populate is not None

    def populate(self) -> None:
        if self._populate is None:
            return
        populate, self._populate = self._populate, None
        populate(self)
        _OPTION_DEFAULTS[self._command] = _defer_defaults(self)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self.populate()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self.populate()
        return super().format_usage()

    def format_help(self) -> str:
        self.populate()
        return super().format_help()


def _lazy_parser(sub: Any, name: str, populate: Callable[[argparse.ArgumentParser], None],
                 **kwargs: Any) -> argparse.ArgumentParser:
    """A sub-command whose options `populate` adds when the command is used (_CommandParser)."""
    parser: argparse.ArgumentParser = sub.add_parser(name, populate=populate, command=name,
                                                     **kwargs)
    return parser


def _sweep_arguments(p: argparse.ArgumentParser) -> None:
    from simulation.cli.sweeps import add_sweep_arguments

    add_sweep_arguments(p)


def _discover_arguments(p: argparse.ArgumentParser) -> None:
    from simulation.cli.sweeps import add_discover_arguments

    add_discover_arguments(p)


def _calibrate_arguments(p: argparse.ArgumentParser) -> None:
    from simulation.cli.calibrate import add_calibrate_arguments

    add_calibrate_arguments(p)


def _robustness_arguments(p: argparse.ArgumentParser) -> None:
    from simulation.cli.robustness import add_robustness_arguments

    add_robustness_arguments(p)


def _optimize_arguments(p: argparse.ArgumentParser) -> None:
    from simulation.cli.optimize import add_optimize_arguments

    add_optimize_arguments(p)


_OPTION_DEFAULTS: dict[str | None, dict[str, Any]] = {}
"""Per command: option name -> default, applied after parsing (see _defer_defaults)."""


def _defer_defaults(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """Take the defaults of a parser's options out of argparse and return them.

    argparse lets a sub-command's defaults overwrite options given before the command, so
    `run.py --replicates 2 simulate x` would silently run the default replicates. With every
    default suppressed, the namespace holds exactly what was typed, wherever it was typed;
    `main` fills in the command's defaults and rejects options the command does not take."""
    defaults = {}
    for action in parser._actions:
        if action.option_strings and action.dest not in ("help", argparse.SUPPRESS):
            defaults[action.dest] = action.default
            action.default = argparse.SUPPRESS
    return defaults


def _apply_defaults(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    command = getattr(args, "command", None)
    accepted = _OPTION_DEFAULTS[command]
    top_level = _OPTION_DEFAULTS[None]
    for dest in list(vars(args)):
        if dest in top_level and dest not in accepted:
            flag = "--" + dest.replace("_", "-")
            raise UsageError(f"option {flag} does not apply to '{command}' (see `python "
                             f"run.py {command} --help`)")
    for dest, default in accepted.items():
        if not hasattr(args, dest):
            setattr(args, dest, default)


COMMANDS = {None: cmd_main, "simulate": cmd_simulate, "compare": cmd_compare,
            "validate": cmd_validate, "county": cmd_county, "params": cmd_params,
            "calibration": cmd_calibration, "effects": cmd_effects,
            "report": cmd_report, "decompose": cmd_decompose,
            "sweep": cmd_sweep, "calibrate": cmd_calibrate, "discover": cmd_discover,
            "robustness": cmd_robustness,
            "optimize": cmd_optimize,
            "demo": cmd_demo}


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (nothing half-written, workers stopped)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    previous = None
    try:
        _apply_defaults(args, parser)
        if sys.platform != "win32" and _is_main_thread():
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        return COMMANDS[args.command](args, argv)
    except (ScenarioError, UsageError, OutputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except _Terminated:
        print("terminated; no results written", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("interrupted; no results written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `run.py params | head`: the reader has gone; not an error
        _silence_stdout()
        return 0
    except Exception:  # pragma: no cover - the last line of defence
        traceback.print_exc()
        print("internal error (see above); please report it", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _silence_stdout() -> None:
    """After a broken pipe, send what is left of stdout to /dev/null so that Python's exit
    flush does not print a second traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
