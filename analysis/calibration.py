"""Calibration targets for the baseline, 2021-2025 (docs/ODD.md §1; sources in docs/sources.md).

The targets are M County's targets file, targets/m_county.toml (the one definition: the
`calibration` check reads it and `calibrate` fits to it). Each target is a statistic of one
run's yearly metrics; the baseline is inside a target's range when the mean over replicates is
(the 95% interval is reported alongside).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulation.common.stats import bounded, mean_interval
from simulation.experiments.calibrate import spec

CALIBRATION_YEARS = 5  # 2021-2025: the transition period


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    low: float
    high: float
    unit: str
    source: str
    statistic: Callable[[pd.DataFrame], float]  # one run's rows (indexed by year) -> value


def _from_file(target: spec.Target) -> Target:
    """A targets-file target as a statistic of one run's rows (indexed by year)."""
    def statistic(run: pd.DataFrame) -> float:
        years = [int(y) for y in run.index]
        return target.of({m: run[m].tolist() for m in target.metrics()}, years)

    return Target(target.name, target.description, target.low, target.high, target.unit,
                  target.source, statistic)


TARGETS: tuple[Target, ...] = tuple(_from_file(t) for t in
                                    spec.load_targets(spec.TARGET_DIR / "m_county.toml").targets)
"""M County's targets, read from targets/m_county.toml (the file `calibrate` fits to)."""


def targets_of(ref: str | Path) -> tuple[Target, ...]:
    """The targets of a targets file (name in targets/ or path)."""
    return tuple(_from_file(t) for t in spec.load_targets(ref).targets)


def evaluate(runs: pd.DataFrame, targets: tuple[Target, ...] | None = None) -> pd.DataFrame:
    """One row per target (default: M County's): range, mean over replicates with 95%
    interval, inside or not."""
    targets = TARGETS if targets is None else targets
    per_run: dict[str, list[float]] = {t.name: [] for t in targets}
    for _, run in runs.groupby(["scenario", "replicate"]):
        indexed = run.set_index("year")
        for t in targets:
            per_run[t.name].append(t.statistic(indexed))
    rows = []
    for t in targets:
        mean, low, high = mean_interval(per_run[t.name])
        rows.append({"target": t.name, "description": t.description, "low_target": t.low,
                     "high_target": t.high, "unit": t.unit, "mean": mean, "low": low,
                     "high": high, "inside": bool(t.low <= mean <= t.high),
                     "replicates": len(per_run[t.name]), "source": t.source})
    return pd.DataFrame(rows)


SHARE_UNITS = ("share", "share/yr", "flag")
"""Units of targets that lie in [0, 1]: their intervals are truncated there."""


def target_interval(row: pd.Series) -> tuple[float, float]:
    """A target's 95% interval, truncated to the values its statistic can take."""
    ceiling = 1.0 if row["unit"] in SHARE_UNITS else None
    return bounded(row["low"], row["high"], 0.0, ceiling)


def format_value(v: float, unit: str) -> str:
    """A target value as the calibration tables print it (shares as percentages)."""
    if v != v:
        return "–"
    if unit in ("yuan/person", "households", "people"):
        return f"{v:,.0f}"
    if unit == "flag":
        return f"{v:.2f}"
    if unit in ("log points", "months of income"):
        return f"{v:.2f}"
    if unit in ("share", "share/yr", "1/yr"):
        return f"{100 * v:.2f}%"
    return f"{v:.3g}"  # a unit these tables do not know (targets files may name any)


def format_estimate(row: pd.Series) -> str:
    """'mean [low, high]' of a target (no interval from one replicate)."""
    low, high = target_interval(row)
    text = format_value(row["mean"], row["unit"])
    if low != low or high != high:
        return text
    return f"{text} [{format_value(low, row['unit'])}, {format_value(high, row['unit'])}]"


def format_table(table: pd.DataFrame) -> str:
    """Plain-text calibration table."""
    fmt = format_value

    lines = [f"{'target':<24}{'range':>20}{'mean':>11}{'95% interval':>24}  inside",
             "-" * 86]
    for _, r in table.iterrows():
        rng = f"{fmt(r.low_target, r.unit)}–{fmt(r.high_target, r.unit)}"
        low, high = target_interval(r)
        ci = "(one replicate)" if low != low else f"[{fmt(low, r.unit)}, {fmt(high, r.unit)}]"
        lines.append(f"{r.target:<24}{rng:>20}{fmt(r['mean'], r.unit):>11}{ci:>24}  "
                     f"{'yes' if r.inside else 'NO'}")
    return "\n".join(lines)
