"""Calibration targets for the baseline, 2021-2025 (docs/ODD.md §1; sources in docs/sources.md).

Each target is a statistic of one run's yearly metrics; the baseline is inside a target's
range when the mean over replicates is (the 95% interval is reported alongside).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from simulation.common.stats import bounded, mean_interval
from simulation.model.codes import CAUSES

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


def _risk_illness_share(run: pd.DataFrame) -> float:
    causes = run[[f"risk_cause_{c}" for c in CAUSES]].sum()
    return float(causes["risk_cause_illness"] / causes.sum()) if causes.sum() else 0.0


def _illness_leads(run: pd.DataFrame) -> float:
    causes = run[[f"risk_cause_{c}" for c in CAUSES]].sum()
    return float(causes.idxmax() == "risk_cause_illness")


def _growth(run: pd.DataFrame) -> float:
    inc = run["income_per_capita_formerly_poor"]
    return float(((inc.loc[2022] / inc.loc[2021]) + (inc.loc[2023] / inc.loc[2022])) / 2 - 1)


TARGETS: tuple[Target, ...] = (
    Target("ever_monitored", "formerly poor ever monitored, 2021-2025", 0.08, 0.15, "share",
           "~10% nationally (inferred) [prior-targets]; 14% Baoshan 2021 [baoshan-2021]",
           lambda r: float(r.loc[2025, "ever_monitored_share_formerly_poor"])),
    Target("risk_eliminated_share", "monitored stock with risk eliminated, end 2023-2024",
           0.55, 0.70, "share", "63.5% (Nov 2023) [mara-2023], >60% (Sep 2024) [mara-2024]",
           lambda r: float(r.loc[[2023, 2024], "risk_eliminated_share"].mean())),
    Target("below_line", "formerly poor below the line at year end (mean 2021-2025)",
           0.005, 0.02, "share", "about 1% [prior-targets]",
           lambda r: float(r["below_line_share_formerly_poor"].mean())),
    Target("annual_return", "formerly poor returning to poverty per year (mean 2021-2025)",
           0.0, 0.005, "share/yr", "no large-scale return (≲0.1-0.5%) [prior-targets]",
           lambda r: float(r["returned_share_formerly_poor"].mean())),
    Target("illness_share", "illness among causes of identified risk, 2021-2025", 0.40, 0.50,
           "share", "illness 40-50% of risk [prior-causes] [nhfpc-illness]",
           _risk_illness_share),
    Target("illness_leads", "illness is the leading cause of risk (1 = yes)", 1.0, 1.0, "flag",
           "[prior-causes] [nhfpc-illness]", _illness_leads),
    Target("income_2021", "per-capita income of the formerly poor, 2021", 11_900.0, 13_200.0,
           "yuan/person", "12,550 yuan (NRRA) [nrra-2022], ±5%",
           lambda r: float(r.loc[2021, "income_per_capita_formerly_poor"])),
    Target("income_growth", "growth of that income, 2022-2023 mean", 0.08, 0.14, "1/yr",
           "+14.3% (2022) [nrra-2023], converging to 7-8% [nbs-exited-counties]", _growth),
    Target("transfer_share", "transfers in formerly poor households' income, 2021", 0.20, 0.30,
           "share", "27% (poor areas 2019) [nbs-poor-areas-2019]",
           lambda r: float(r.loc[2021, "transfer_share_formerly_poor"])),
    Target("doudi_people", "formerly poor people on 低保/特困 (兜底), 2021", 0.17, 0.23, "share",
           "20.04 M of the 98.99 M lifted out (Nov 2020) [scio-2020-doudi] [xinhua-2019]",
           lambda r: float(r.loc[2021, "programme_people_share_formerly_poor"])),
    Target("doudi_monitored", "monitored households on 低保/特困, year ends 2022-2025", 0.40,
           0.80, "share", "77% in Xijiang (2022) [xijiang-2022]; no national figure, assumed "
           "55% (40-80%): those without labour stay monitored after 兜底 [hainan-faq-2021] "
           "[prior-dibao]",
           lambda r: float(r.loc[2022:2025, "programme_share_monitored"].mean())),
    Target("age_60_plus", "county population aged 60+, 2021", 0.21, 0.27, "share",
           "rural 23.81% (2020 census) [census-2020] [aging-bulletin-2020]",
           lambda r: float(r.loc[2021, "share_60_plus"])),
    Target("ageing", "rise of the 60+ share, 2021 to 2025", 0.01, 0.06, "share",
           "national 60+ 17.8% (2020) to 21.5% (2025) [wpp-2022]; rural ages faster "
           "[prior-demography]",
           lambda r: float(r.loc[2025, "share_60_plus"] - r.loc[2021, "share_60_plus"])),
    Target("income_volatility", "s.d. of the year-to-year change in log household income, "
           "formerly poor and marginal, 2022-2025 mean", 0.15, 0.45, "log points",
           "rural panels: s.d. 0.5-0.7 measured, about half of the variance measurement "
           "error, for all rural households; formerly poor draw 25-30% of income from stable "
           "transfers; assumption "
           "[santaeulalia-zheng-2018] [ward-2016] [prior-income]",
           lambda r: float(r.loc[2022:2025, "income_change_sd"].mean())),
    Target("savings", "median liquid savings of formerly poor households, 2021-2025 mean",
           0.5, 6.0, "months of income", "low-income rural households: about 2 months, "
           "median near zero, long right tail [chfs-2011] [prior-finance]",
           lambda r: float(r["savings_median_months_formerly_poor"].mean())),
    Target("in_debt", "formerly poor households with outstanding debt, 2021-2025 mean", 0.30,
           0.50, "share", "43.8% of rural households with informal borrowing (CHFS 2013) "
           "[chfs-2014] [prior-finance]",
           lambda r: float(r["debt_share_formerly_poor"].mean())),
)


def evaluate(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per target: range, mean over replicates with 95% interval, inside or not."""
    per_run: dict[str, list[float]] = {t.name: [] for t in TARGETS}
    for _, run in runs.groupby(["scenario", "replicate"]):
        indexed = run.set_index("year")
        for t in TARGETS:
            per_run[t.name].append(t.statistic(indexed))
    rows = []
    for t in TARGETS:
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
    if unit == "yuan/person":
        return f"{v:,.0f}"
    if unit == "flag":
        return f"{v:.2f}"
    if unit in ("log points", "months of income"):
        return f"{v:.2f}"
    return f"{100 * v:.2f}%"


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
