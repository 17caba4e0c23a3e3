"""Paired comparisons on common random numbers, and intervals for ratios of paired means.

Replicate r of every scenario in a comparison runs on seed `seed + r`
(simulation.experiments.runner), so the difference between a scenario and the baseline is
computed per seed and the 95% interval is the Student-t interval of the mean of those paired
differences. Pairing removes the shared Monte-Carlo noise (same households, same shocks) from
the comparison.

Ratios (cost per avoided return) get Fieller's interval (Fieller 1954, J. R. Stat. Soc. B 16:
175-185, doi:10.1111/j.2517-6161.1954.tb00159.x), which is exact when the two paired means are
jointly normal and, unlike the delta method, says so when the denominator is not clearly
positive (the interval is then unbounded). A paired bootstrap over seeds (percentile interval,
seeded generator) is provided as a check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import stdtrit  # Student-t quantile; lighter than scipy.stats

from simulation.common.stats import LEVEL

BOOTSTRAP_RESAMPLES = 2000


def group_intervals(frame: pd.DataFrame, keys: Sequence[str], value: str,
                    level: float = LEVEL) -> pd.DataFrame:
    """Mean and Student-t interval of `value` over the rows of each key group (NaN values left
    out), vectorized; the same numbers as simulation.common.stats.mean_interval per group (so a
    group of one value has NaN bounds: one run gives no interval).

    Returns:
        keys..., mean, low, high, replicates (rows used).
    """
    grouped = frame.groupby(list(keys), sort=False, observed=True)[value]
    agg = grouped.agg(["mean", "std", "count"]).reset_index()
    n = agg["count"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(n > 1, stdtrit(np.maximum(n - 1, 1), 0.5 + level / 2.0), np.nan)
        half = np.where(n > 1, t * agg["std"].to_numpy(dtype=float) / np.sqrt(n), np.nan)
    mean = agg["mean"].to_numpy(dtype=float)
    out = agg[list(keys)].copy()
    out["mean"], out["low"], out["high"] = mean, mean - half, mean + half
    out["replicates"] = n.astype(int)
    return out


def per_run_totals(runs: pd.DataFrame, metrics: Sequence[str],
                   years: Sequence[int] | None = None) -> pd.DataFrame:
    """Per run (scenario, replicate, seed): each metric summed over `years` (default all)."""
    frame = runs if years is None else runs[runs["year"].isin(list(years))]
    return (frame.groupby(["scenario", "replicate", "seed"], sort=False)[list(metrics)].sum()
            .reset_index())


def describe(per_run: pd.DataFrame, metrics: Sequence[str],
             order: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean and 95% t-interval over replicates of each metric, per scenario (long format:
    scenario, metric, mean, low, high, replicates)."""
    long = per_run.melt(id_vars=["scenario"], value_vars=list(metrics), var_name="metric")
    return _order(group_intervals(long, ["scenario", "metric"], "value"), order)


def paired_differences(per_run: pd.DataFrame, baseline: str, metrics: Sequence[str],
                       order: Sequence[str] | None = None, by: Sequence[str] = ()) -> pd.DataFrame:
    """Scenario minus baseline on the same seed, per metric: mean of the paired differences
    with its 95% t-interval, the baseline mean and the relative change.

    Args:
        per_run: one row per run with columns scenario, seed, *by and the metrics.
        baseline: the scenario subtracted.
        metrics: value columns.
        order: scenario order of the output (default: as found).
        by: further key columns (e.g. year) that must match between the paired runs.

    Returns:
        Long frame: scenario, *by, metric, mean, low, high, replicates, baseline_mean,
        relative (mean difference / baseline mean; NaN when the baseline mean is 0). Seeds
        missing on either side are left out; `replicates` counts the pairs used.
    """
    keys = ["seed", *by]
    metrics = list(metrics)
    base = per_run[per_run["scenario"] == baseline][keys + metrics]
    others = per_run[per_run["scenario"] != baseline][["scenario", *keys, *metrics]]
    merged = others.merge(base, on=keys, suffixes=("", "_base"))
    parts = []
    for metric in metrics:
        parts.append(merged[["scenario", *by]].assign(
            metric=metric, diff=merged[metric] - merged[f"{metric}_base"],
            base=merged[f"{metric}_base"]))
    columns = ["scenario", *by, "metric", "mean", "low", "high", "replicates", "baseline_mean",
               "relative"]
    if not parts or merged.empty:
        return pd.DataFrame(columns=columns)
    long = pd.concat(parts, ignore_index=True)
    out = group_intervals(long, ["scenario", *by, "metric"], "diff")
    base_mean = (long.groupby(["scenario", *by, "metric"], sort=False)["base"].mean()
                 .rename("baseline_mean").reset_index())
    out = out.merge(base_mean, on=["scenario", *by, "metric"], how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["relative"] = np.where(out["baseline_mean"] != 0,
                                   out["mean"] / out["baseline_mean"], np.nan)
    return _order(out[columns], order)


def _order(frame: pd.DataFrame, order: Sequence[str] | None) -> pd.DataFrame:
    if order is None or frame.empty:
        return frame.reset_index(drop=True)
    rank = {name: k for k, name in enumerate(order)}
    frame = frame[frame["scenario"].isin(rank)]
    return (frame.assign(_rank=frame["scenario"].map(rank)).sort_values("_rank", kind="stable")
            .drop(columns="_rank").reset_index(drop=True))


@dataclass(frozen=True)
class RatioInterval:
    """A ratio of two paired means with its interval.

    Attributes:
        estimate: mean(numerator) / mean(denominator).
        low, high: interval bounds. When unbounded, high is +inf and low is where the ray
            of the confidence set holding the estimate starts (-inf if the set is the whole
            line).
        status: "bounded"; "unbounded" (the denominator is not clearly different from 0:
            the data are compatible with no effect, so no finite upper bound exists);
            "no effect" (the denominator's mean is <= 0).
    """

    estimate: float
    low: float
    high: float
    status: str


def fieller_ratio(numerator: Sequence[float] | np.ndarray, denominator: Sequence[float] |
                  np.ndarray, level: float = LEVEL) -> RatioInterval:
    """Fieller's interval for mean(numerator) / mean(denominator) from paired replicates.

    Solves (a - R b)^2 = t^2 (v_a - 2 R c + R^2 v_b) for R, where a, b are the means, v_a,
    v_b their variances, c their covariance (all of the mean: divided by n) and t the Student
    quantile with n - 1 degrees of freedom. Bounded only when the denominator's mean is
    significantly different from zero (b^2 > t^2 v_b).
    """
    x = np.asarray(numerator, dtype=float)
    y = np.asarray(denominator, dtype=float)
    n = x.size
    a, b = float(x.mean()), float(y.mean())
    if b <= 0:
        return RatioInterval(math.nan, math.nan, math.nan, "no effect")
    estimate = a / b
    if n < 2:
        return RatioInterval(estimate, math.nan, math.nan, "unbounded")
    cov = np.cov(x, y, ddof=1) / n
    va, vb, c = float(cov[0, 0]), float(cov[1, 1]), float(cov[0, 1])
    t2 = float(stdtrit(n - 1, 0.5 + level / 2.0)) ** 2
    qa = b * b - t2 * vb
    qb = a * b - t2 * c
    qc = a * a - t2 * va
    if qa <= 0:
        # the denominator is not clearly positive: the confidence set is the whole line, or
        # two rays (-inf, r1] and [r2, inf); the ray holding the estimate starts at r2
        disc = qb * qb - qa * qc
        low = (qb - math.sqrt(disc)) / qa if disc >= 0 and qa < 0 else -math.inf
        return RatioInterval(estimate, low if low <= estimate else -math.inf, math.inf,
                             "unbounded")
    disc = max(qb * qb - qa * qc, 0.0)
    root = math.sqrt(disc)
    return RatioInterval(estimate, (qb - root) / qa, (qb + root) / qa, "bounded")


def bootstrap_ratio(numerator: Sequence[float] | np.ndarray, denominator: Sequence[float] |
                    np.ndarray, seed: int, resamples: int = BOOTSTRAP_RESAMPLES,
                    level: float = LEVEL) -> RatioInterval:
    """Paired percentile bootstrap for mean(numerator) / mean(denominator): seeds are
    resampled with replacement (pairs kept together) by `np.random.default_rng(seed)`.

    When more than (1 - level) / 2 of the resamples have a denominator mean <= 0, the upper
    bound is +inf (status "unbounded"): the data do not exclude "no effect".
    """
    x = np.asarray(numerator, dtype=float)
    y = np.asarray(denominator, dtype=float)
    n = x.size
    b = float(y.mean())
    if b <= 0:
        return RatioInterval(math.nan, math.nan, math.nan, "no effect")
    estimate = float(x.mean()) / b
    if n < 2:
        return RatioInterval(estimate, math.nan, math.nan, "unbounded")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    num, den = x[idx].mean(axis=1), y[idx].mean(axis=1)
    tail = (1.0 - level) / 2.0
    positive = den > 0
    if (~positive).mean() > tail:
        low = float(np.quantile(np.where(positive, num / np.where(positive, den, 1.0),
                                         np.inf), tail))
        return RatioInterval(estimate, low, math.inf, "unbounded")
    ratio = np.where(positive, num / np.where(positive, den, 1.0), np.inf)
    low, high = np.quantile(ratio, [tail, 1.0 - tail])
    return RatioInterval(estimate, float(low), float(high), "bounded")
