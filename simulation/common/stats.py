"""Small statistics used across outputs: means with 95% intervals over replicates, and the one
way every table (console, report, calibration) prints such an interval."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import stdtrit  # Student-t quantile (scipy.stats costs 2 s to import)

LEVEL = 0.95


def mean_interval(values: Sequence[float] | np.ndarray,
                  level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval of the mean (replicates are
    independent runs). One value gives no interval: its bounds are NaN."""
    x = np.asarray(values, dtype=float)
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan
    half = float(stdtrit(n - 1, 0.5 + level / 2.0) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def bounded(low: float, high: float, floor: float | None = None,
            ceiling: float | None = None) -> tuple[float, float]:
    """An interval truncated to the values the quantity can take (a count is never below 0,
    a share never above 1); NaN bounds stay NaN."""
    if floor is not None and low == low:
        low = max(low, floor)
    if ceiling is not None and high == high:
        high = min(high, ceiling)
    return low, high


def interval_text(mean: float, low: float, high: float, fmt: str = "{:,.0f}",
                  floor: float | None = None, ceiling: float | None = None) -> str:
    """'mean [low, high]', the interval truncated to [floor, ceiling]; the mean alone when
    there is no interval (one replicate) and '–' when there is no mean."""
    if mean != mean:
        return "–"
    low, high = bounded(low, high, floor, ceiling)
    text = fmt.format(mean)
    if low != low or high != high:
        return text
    return f"{text} [{fmt.format(low)}, {fmt.format(high)}]"
