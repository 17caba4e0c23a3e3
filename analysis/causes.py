"""Why households fall below the line: returns (formerly poor) and new poverty (marginal and
ordinary households) by cause, per scenario and year, from the saved events.

runs.parquet has `cause_<name>` for all falls together; events.parquet has each fall with its
household, so joining households.parquet's category splits returns from new poverty. A
household is counted once a year with the cause of its first fall that year — the definition
of the yearly metrics (simulation.model.metrics: `fell_this_year`, `fall_cause`), so these
counts add up to runs.parquet's `returned_households` and `newly_poor_households` exactly.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from analysis.results_io import Results, as_text
from simulation.model.calendar import START_YEAR
from simulation.model.codes import CAUSES

GROUPS: Final = ("returns", "new_poverty")
GROUP_LABELS: Final = {"returns": "returns to poverty (formerly poor)",
                       "new_poverty": "new poverty (marginal and ordinary)"}


def falls_by_cause(results: Results) -> pd.DataFrame:
    """Weighted (county) and raw counts of households falling below the line, per scenario,
    replicate, seed, year, group and cause — a full grid (zeros included).

    Returns:
        Long frame: scenario, replicate, seed, year, group, cause, households (county),
        households_sample (simulated).
    """
    # the outcomes of every run and the report's causes section both need it
    return results.memo("falls_by_cause", lambda: _falls_by_cause(results)).copy()


def _falls_by_cause(results: Results) -> pd.DataFrame:
    ev = results.events
    falls = ev[ev["event"] == "fall"][["scenario", "replicate", "household", "month", "cause"]]
    falls = falls.assign(year=START_YEAR + falls["month"].to_numpy() // 12)
    first = (falls.sort_values("month", kind="stable")
             .drop_duplicates(["scenario", "replicate", "household", "year"]))
    cat = results.households.set_index(["scenario", "replicate", "household"])["category"]
    first = first.join(cat, on=["scenario", "replicate", "household"])
    first["group"] = np.where(first["category"].to_numpy() == 0, "returns", "new_poverty")
    first["weight"] = results.weight_column(first)
    first["cause"] = as_text(first["cause"])
    counted = (first.groupby(["scenario", "replicate", "year", "group", "cause"], sort=False)
               .agg(households=("weight", "sum"), households_sample=("weight", "size")))
    runs = results.runs[["scenario", "replicate", "seed", "year"]].drop_duplicates()
    grid = (runs.merge(pd.DataFrame({"group": list(GROUPS)}), how="cross")
            .merge(pd.DataFrame({"cause": list(CAUSES)}), how="cross"))
    out = grid.join(counted, on=["scenario", "replicate", "year", "group", "cause"])
    out[["households", "households_sample"]] = out[["households", "households_sample"]] \
        .fillna(0.0)
    return out.reset_index(drop=True)


def cause_totals(falls: pd.DataFrame, group: str) -> pd.DataFrame:
    """Per run: county households falling over the horizon by cause for one group (wide:
    scenario, replicate, seed, one column per cause, and `total`)."""
    sub = falls[falls["group"] == group]
    wide = sub.pivot_table(index=["scenario", "replicate", "seed"], columns="cause",
                           values="households", aggfunc="sum", sort=False)
    wide = wide.reindex(columns=list(CAUSES), fill_value=0.0)
    wide["total"] = wide.sum(axis=1)
    wide.columns.name = None
    return wide.reset_index()


def yearly_by_cause(falls: pd.DataFrame) -> pd.DataFrame:
    """Mean over replicates of county households falling per scenario, year, group and cause
    (with the number of replicates)."""
    return (falls.groupby(["scenario", "year", "group", "cause"], sort=False)
            .agg(mean=("households", "mean"), replicates=("replicate", "nunique"))
            .reset_index())
