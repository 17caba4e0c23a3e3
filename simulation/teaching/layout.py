"""Where things are drawn on the county map: villages on a grid, households around their centre.

The model has no space (a household belongs to a village, nothing more), so the page computes
a layout once per run. Villages sit on a grid, in index order, left to right and top to bottom;
each village's households fill a sunflower (Vogel) spiral around its centre, formerly poor
households innermost, then marginal, then ordinary, so the categories form visible rings.
Positions are in layout units (1 unit = the spacing between two household dots); the map draws
them in an SVG viewBox, so they scale with the browser window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
"""Angle between consecutive points of a Vogel spiral (radians): packs points evenly."""
SPIRAL = 0.56
"""Radius factor of the spiral: r_k = SPIRAL * sqrt(k + 0.5) puts neighbours ~1 unit apart
(a disc of n points of unit spacing has radius ~sqrt(n / pi) = 0.56 sqrt(n))."""
MARGIN = 1.6
"""Free space around a village disc (units): room for the village label and its icons."""


@dataclass(frozen=True)
class CountyLayout:
    """Positions on the map (layout units; y grows downwards, as in SVG).

    Attributes:
        x, y: position of each household (index order of the model's households).
        village_x, village_y: centre of each village.
        village_r: radius of each village disc (its households lie inside it).
        width, height: extent of the whole map.
        columns, rows: the village grid.
    """

    x: np.ndarray
    y: np.ndarray
    village_x: np.ndarray
    village_y: np.ndarray
    village_r: np.ndarray
    width: float
    height: float
    columns: int
    rows: int


def village_grid(n_villages: int, aspect: float = 1.6) -> tuple[int, int]:
    """Columns and rows of a grid holding `n_villages`, about `aspect` times wider than tall."""
    if n_villages < 1:
        raise ValueError(f"need at least one village, got {n_villages}")
    columns = max(1, min(n_villages, math.ceil(math.sqrt(n_villages * aspect))))
    return columns, math.ceil(n_villages / columns)


def spiral(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of `n` points of a Vogel spiral around (0, 0), innermost first."""
    k = np.arange(n, dtype=np.float64)
    r = SPIRAL * np.sqrt(k + 0.5)
    theta = k * GOLDEN_ANGLE
    return r * np.cos(theta), r * np.sin(theta)


def county_layout(village: np.ndarray, category: np.ndarray, n_villages: int,
                  aspect: float = 1.6) -> CountyLayout:
    """Lay out households (their `village` and `category` columns) and `n_villages` villages.

    Every village cell has the size of the largest village, so the grid is regular; inside a
    village, households are ordered by (category, index): deterministic for a given county.
    """
    village = np.asarray(village, dtype=np.int64)
    category = np.asarray(category, dtype=np.int64)
    if village.shape != category.shape:
        raise ValueError("village and category columns differ in length")
    if village.size and (village.min() < 0 or village.max() >= n_villages):
        raise ValueError(f"village index outside 0..{n_villages - 1}")
    counts = np.bincount(village, minlength=n_villages)
    radius = SPIRAL * np.sqrt(counts + 0.5) + 0.5
    cell = 2.0 * (float(radius.max()) + MARGIN)
    columns, rows = village_grid(n_villages, aspect)
    v = np.arange(n_villages)
    village_x = (v % columns + 0.5) * cell
    village_y = (v // columns + 0.5) * cell

    x = np.empty(village.size)
    y = np.empty(village.size)
    order = np.lexsort((np.arange(village.size), category, village))  # by village, category, index
    starts = np.concatenate(([0], np.cumsum(counts)))
    dx, dy = spiral(int(counts.max()) if counts.size else 0)
    for j in range(n_villages):
        members = order[starts[j]:starts[j + 1]]
        x[members] = village_x[j] + dx[:members.size]
        y[members] = village_y[j] + dy[:members.size]
    return CountyLayout(x=x, y=y, village_x=village_x, village_y=village_y, village_r=radius,
                        width=columns * cell, height=rows * cell, columns=columns, rows=rows)
