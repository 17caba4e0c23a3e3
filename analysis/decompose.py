"""`python run.py decompose BASE OTHER`: run the mechanism combinations of a pair of scenarios
and write them as one results folder, plus the Shapley table.

This is the one command in analysis/ that simulates: the 2^k coalition scenarios of the pair
(analysis.shapley.coalition_scenarios; 16 when all four mechanisms differ) are run with
simulation.runner.run_many on the same seeds and written with simulation.results.write_results
(baseline = BASE), so the folder is an ordinary comparison. The decomposition itself is then
computed from the saved files, like every other analysis, and written as decomposition.csv;
`python run.py report DIR` shows it (and `report OTHER_DIR --decomposition DIR` adds it to
another comparison's report).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from analysis.outcomes import run_outcomes
from analysis.results_io import ResultsError, load_results
from analysis.shapley import (
    NotDecomposable,
    coalition_scenarios,
    decompose,
    find_coalitions,
    mechanism_changes,
)
from simulation.rules import CAUSES

OUTCOMES = ("returns", "new_poverty", "household_years_below", "fiscal_cost",
            *(f"returns_{c}" for c in CAUSES))


def decomposition_table(folder: Path, base: str, other: str) -> pd.DataFrame:
    """The Shapley table of a decomposition folder, computed from its saved files."""
    results = load_results(folder)
    pair = mechanism_changes(results.scenarios[base], results.scenarios[other])
    names = find_coalitions(results.scenarios, base, other)
    if names is None:
        raise ResultsError(f"{folder}: not every combination of {base!r} and {other!r} is in "
                           "this results folder")
    return decompose(run_outcomes(results), pair, names, OUTCOMES)


def format_table(table: pd.DataFrame, base: str, other: str, replicates: int) -> str:
    """The text table printed after the runs."""
    lines = [f"Change {other} - {base} over the horizon, by mechanism (Shapley); mean [95% "
             f"interval], {replicates} replicates on paired seeds", "",
             f"{'component':<18}{'returns':>26}{'new poverty':>26}{'cost (M yuan)':>26}",
             "-" * 96]
    for comp in dict.fromkeys(table["component"]):
        cells = []
        for outcome, scale in (("returns", 1.0), ("new_poverty", 1.0), ("fiscal_cost", 1e-6)):
            r = table[(table["outcome"] == outcome) & (table["component"] == comp)].iloc[0]
            fmt = "{:+,.0f}" if scale == 1.0 else "{:+,.1f}"
            cells.append(f"{fmt.format(r['shapley'] * scale)} [{fmt.format(r['low'] * scale)}, "
                         f"{fmt.format(r['high'] * scale)}]")
        lines.append(f"{comp.replace('_', ' '):<18}" + "".join(f"{c:>26}" for c in cells))
    return "\n".join(lines)


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        table.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cli(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run the coalitions of BASE and OTHER, write the results folder and decomposition.csv."""
    from simulation.cli import UsageError, _load, run_with_progress
    from simulation.results import write_results

    base, other = _load([args.base, args.other], args.years, args.households)
    try:
        pair, scenarios = coalition_scenarios(base, other)
    except NotDecomposable as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.out or f"results/decompose-{base.name}-{other.name}")
    total = len(scenarios) * args.replicates
    print(f"{len(scenarios)} combinations of {len(pair.players)} mechanism changes "
          f"({', '.join(pair.players)}) x {args.replicates} replicates = {total} runs")
    results, wall = run_with_progress(scenarios, args, "decomposition runs")
    write_results(out, scenarios, results, baseline=base.name, seed=args.seed,
                  replicates=args.replicates, engine=args.engine, wall_seconds=wall,
                  command=["run.py", *argv], figures=not args.no_figures)
    table = decomposition_table(out, base.name, other.name)
    _write_csv(table, out / "decomposition.csv")
    print(format_table(table, base.name, other.name, args.replicates))
    print(f"\n{total} runs in {wall:.1f} s; results in {out}/ (decomposition.csv; "
          f"`python run.py report {out}` for the full report)")
    return 0
