"""The model's calendar: one step is one month, from January 2021 (docs/ODD.md §2)."""

from __future__ import annotations

from typing import Final

START_YEAR: Final = 2021
TRANSITION_END_YEAR: Final = 2025  # 2026: the normalized mechanism (docs/sources.md [no1-2026])
MARCH: Final = 2  # month of year (0-based) when training and guidance rounds run
SEPTEMBER: Final = 8  # school year starts: schooling costs and education grants are paid


def year_of(month: int) -> int:
    """Calendar year of a month index (0 = January 2021)."""
    return START_YEAR + month // 12


def month_label(month: int) -> str:
    """'YYYY-MM' of a month index."""
    return f"{START_YEAR + month // 12}-{month % 12 + 1:02d}"


def lag_in_months(days: int) -> int:
    """Identification-to-assistance lag in whole monthly steps (15 days -> the next month)."""
    return -(-days // 30)
