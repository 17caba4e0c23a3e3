"""Small statistics used across outputs: means with 95% intervals over replicates."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import stdtrit  # Student-t quantile (scipy.stats costs 2 s to import)

LEVEL = 0.95


def mean_interval(values: Sequence[float] | np.ndarray,
                  level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval of the mean (replicates are
    independent runs). With one value the interval collapses to it."""
    x = np.asarray(values, dtype=float)
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n == 1:
        return mean, mean, mean
    half = float(stdtrit(n - 1, 0.5 + level / 2.0) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half
