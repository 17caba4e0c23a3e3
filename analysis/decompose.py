"""The Shapley table of a `python run.py decompose BASE OTHER` results folder.

The command (simulation/cli/__init__.py) runs the 2^k coalition scenarios of the pair
(analysis.shapley.coalition_scenarios; 16 when all four mechanisms differ) on the same seeds
and writes them as an ordinary comparison folder (baseline = BASE). The decomposition itself is
computed here from the saved files, like every other analysis, and written as
decomposition.csv; `python run.py report DIR` shows it (and `report OTHER_DIR --decomposition
DIR` adds it to another comparison's report).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.outcomes import run_outcomes
from analysis.results_io import ResultsError, load_results
from analysis.shapley import (
    decompose,
    find_coalitions,
    mechanism_changes,
)
from simulation.common.stats import interval_text
from simulation.model.codes import CAUSES

SHAPLEY_OUTCOMES = ("returns", "new_poverty", "household_years_below", "fiscal_cost")
"""Outcomes a decomposition splits by mechanism (with returns by cause, DECOMPOSED)."""
DECOMPOSED = (*SHAPLEY_OUTCOMES, *(f"returns_{c}" for c in CAUSES))


def decomposition_table(folder: Path, base: str, other: str) -> pd.DataFrame:
    """The Shapley table of a decomposition folder, computed from its saved files."""
    results = load_results(folder)
    pair = mechanism_changes(results.scenarios[base], results.scenarios[other])
    names = find_coalitions(results.scenarios, base, other)
    if names is None:
        raise ResultsError(f"{folder}: not every combination of {base!r} and {other!r} is in "
                           "this results folder")
    return decompose(run_outcomes(results), pair, names, DECOMPOSED)


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
            cells.append(interval_text(r["shapley"] * scale, r["low"] * scale,
                                       r["high"] * scale, fmt))
        lines.append(f"{comp.replace('_', ' '):<18}" + "".join(f"{c:>26}" for c in cells))
    return "\n".join(lines)
