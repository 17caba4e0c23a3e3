"""Poverty spells from saved events: exit cohorts, Kaplan-Meier time to return, re-entry hazard,
and months spent below the line.

Events (simulation.model.state.EVENTS) record every crossing of the monitoring line: `fall` (below
the line after at least `monitoring.spell_months` above: a new poverty spell, i.e. a return for
a formerly poor household), `dip` (below again within that time: the official rule counts it
as the same spell) and `rise` (above the line). A household's status therefore follows from
its 2021 status (households.parquet: 12-month income per person against the 2021 line) and
its crossings.

Exit cohorts (the usual survival-analysis set-up) — each episode starts at an exit and ends at
the household's next `fall` (a return), or is censored at the end of the horizon:

    formerly_poor_2021  every formerly poor household above the line in January 2021; time
                        counts from the start of 2021 (a fall in month m returned after m + 1
                        months);
    rose_above          every `rise` of any household; an exit followed by a `dip` (back
                        below within spell_months) is not an exit under the official rule and
                        is left out (counted as a short exit); time counts from the rise;
    risk_eliminated     every `risk_eliminated` event (monitoring outflow); time counts from
                        the elimination.

Episodes carry the household's county weight (Results.weight_column), so cohort statistics
describe the county; in the synthetic county the formerly poor cohort has one weight, so its
weighted and raw shares agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from analysis.paired import group_intervals
from analysis.results_io import Results, as_text

COHORTS: Final = ("formerly_poor_2021", "rose_above", "risk_eliminated")
COHORT_LABELS: Final = {
    "formerly_poor_2021": "formerly poor, above the line in 2021",
    "rose_above": "rose above the line (2021 on)",
    "risk_eliminated": "risk eliminated by monitoring (2021 on)",
}
WITHIN_YEARS: Final = (1, 2, 3, 5)
_DOWN: Final = ("fall", "dip")


# ----------------------------------------------------------------------------- Kaplan-Meier
def kaplan_meier(durations: Sequence[float] | np.ndarray, returned: Sequence[bool] | np.ndarray,
                 weights: Sequence[float] | np.ndarray | None = None) -> pd.DataFrame:
    """Weighted Kaplan-Meier estimate of the survival function (still out of poverty).

    An episode censored at time t is at risk at t (the usual convention: events at t happen
    before censoring at t). Greenwood's formula gives the standard error.

    Args:
        durations: time from exit to return or censoring (any unit, >= 0).
        returned: True for a return, False for censoring.
        weights: frequency weights (default 1 each).

    Returns:
        One row per distinct time: time, at_risk, events, censored (weighted counts),
        survival S(t) just after t, std_err (Greenwood).
    """
    t = np.asarray(durations, dtype=float)
    d = np.asarray(returned, dtype=bool)
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float)
    if t.size == 0:
        return pd.DataFrame(columns=["time", "at_risk", "events", "censored", "survival",
                                     "std_err"])
    times, inverse = np.unique(t, return_inverse=True)
    events = np.bincount(inverse, weights=w * d, minlength=times.size)
    total = np.bincount(inverse, weights=w, minlength=times.size)
    at_risk = total[::-1].cumsum()[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(at_risk > 0, 1.0 - events / at_risk, 1.0)
        survival = np.cumprod(step)
        terms = np.where(at_risk > events, events / (at_risk * (at_risk - events)), 0.0)
    std_err = survival * np.sqrt(np.cumsum(terms))
    return pd.DataFrame({"time": times, "at_risk": at_risk, "events": events,
                         "censored": total - events, "survival": survival,
                         "std_err": std_err})


def survival_at(km: pd.DataFrame, times: Sequence[float] | np.ndarray) -> np.ndarray:
    """S(t) of a Kaplan-Meier table at `times` (step function, S = 1 before the first time).

    NaN beyond the last observed time unless survival has reached 0 (nothing is known there).
    """
    t = np.asarray(times, dtype=float)
    if km.empty:
        return np.full(t.shape, np.nan)
    grid = km["time"].to_numpy()
    surv = km["survival"].to_numpy()
    idx = np.searchsorted(grid, t, side="right") - 1
    out = np.where(idx >= 0, surv[np.clip(idx, 0, None)], 1.0)
    beyond = (t > grid[-1]) & (surv[-1] > 0)
    return np.where(beyond, np.nan, out)


# ----------------------------------------------------------------------------- episodes
def _household_key(results: Results, frame: pd.DataFrame) -> np.ndarray:
    return results.household_key(frame)


def _households_key(results: Results) -> np.ndarray:
    """household_key of results.households (computed once per loaded folder)."""
    return results.memo("households_key", lambda: results.household_key(results.households))


def initial_below(results: Results) -> pd.Series:
    """Whether each household (rows of results.households) was below the 2021 line."""
    return results.memo("initial_below", lambda: _initial_below(results)).copy()


def _initial_below(results: Results) -> pd.Series:
    hh = results.households
    lines = np.array([float(sc.values["policy.line_2021"])
                      for sc in results.scenarios.values()] + [np.nan])
    # a scenario not in the folder has no line (NaN): not below, as with Series.map
    return pd.Series(hh["pc12"].to_numpy() < lines[results.scenario_positions(hh["scenario"])],
                     index=hh.index)


def exit_episodes(results: Results) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every exit episode of the three cohorts, and the count of short exits left out.

    Returns:
        episodes: scenario, replicate, household, category, cohort, start (month of exit;
            -1 for the 2021 cohort), duration (months), returned (bool), weight (county
            households per sample household).
        short: scenario, replicate, short_exits, rises (raw counts of `rise` events followed
            by a `dip`, and of all rises).
    """
    horizon = results.horizon_months
    hh = results.households
    ev = results.events
    ev = ev[ev["event"].isin(["fall", "dip", "rise", "risk_eliminated"])]
    ev = ev[["scenario", "replicate", "household", "month", "event"]].copy()
    ev["event"] = as_text(ev["event"])
    ev["key"] = _household_key(results, ev)
    ev = ev.sort_values(["key", "month"], kind="stable").reset_index(drop=True)
    category = pd.Series(hh["category"].to_numpy(), index=_households_key(results))
    frames = []

    # formerly poor above the line in 2021: time to the first fall
    start = hh[(hh["category"] == 0) & ~initial_below(results)]
    falls = ev[ev["event"] == "fall"]
    first_fall = falls.groupby("key", sort=False)["month"].min()
    keys = _household_key(results, start)
    month = first_fall.reindex(keys).to_numpy()
    returned = ~np.isnan(month)
    frames.append(pd.DataFrame({
        "scenario": start["scenario"].to_numpy(), "replicate": start["replicate"].to_numpy(),
        "household": start["household"].to_numpy(), "category": start["category"].to_numpy(),
        "cohort": "formerly_poor_2021", "start": -1,
        "duration": np.where(returned, month + 1, horizon), "returned": returned}))

    # rises: the next crossing decides (fall = return, dip = short exit, none = censored)
    cross = ev[ev["event"] != "risk_eliminated"].reset_index(drop=True)
    nxt_key = cross["key"].shift(-1)
    nxt_event = cross["event"].shift(-1)
    nxt_month = cross["month"].shift(-1)
    rise = (cross["event"] == "rise").to_numpy()
    same = (nxt_key == cross["key"]).to_numpy()
    is_fall = same & (nxt_event == "fall").to_numpy()
    is_dip = same & (nxt_event == "dip").to_numpy()
    keep = rise & ~is_dip
    r = cross[keep]
    r_fall = is_fall[keep]
    frames.append(pd.DataFrame({
        "scenario": r["scenario"].to_numpy(), "replicate": r["replicate"].to_numpy(),
        "household": r["household"].to_numpy(),
        "category": category.reindex(r["key"].to_numpy()).to_numpy(),
        "cohort": "rose_above", "start": r["month"].to_numpy(),
        "duration": np.where(r_fall, nxt_month[keep].to_numpy() - r["month"].to_numpy(),
                             horizon - 1 - r["month"].to_numpy()),
        "returned": r_fall}))
    short = (cross.assign(short=rise & is_dip, rises=rise)
             .groupby(["scenario", "replicate"], sort=False)[["short", "rises"]].sum()
             .rename(columns={"short": "short_exits"}).reset_index())

    # risk eliminated: the next fall at or after the elimination month
    elim = ev[ev["event"] == "risk_eliminated"]
    fall_pos = falls["key"].to_numpy() * (horizon + 1) + falls["month"].to_numpy()
    elim_pos = elim["key"].to_numpy() * (horizon + 1) + elim["month"].to_numpy()
    j = np.searchsorted(fall_pos, elim_pos, side="left")
    elim_keys = elim["key"].to_numpy()
    if fall_pos.size:
        jc = np.clip(j, 0, fall_pos.size - 1)
        found = (j < fall_pos.size) & (falls["key"].to_numpy()[jc] == elim_keys)
        fall_month = falls["month"].to_numpy()[jc]
    else:
        found = np.zeros(elim_keys.size, bool)
        fall_month = np.zeros(elim_keys.size, np.int64)
    frames.append(pd.DataFrame({
        "scenario": elim["scenario"].to_numpy(), "replicate": elim["replicate"].to_numpy(),
        "household": elim["household"].to_numpy(),
        "category": category.reindex(elim["key"].to_numpy()).to_numpy(),
        "cohort": "risk_eliminated", "start": elim["month"].to_numpy(),
        "duration": np.where(found, fall_month - elim["month"].to_numpy(),
                             horizon - 1 - elim["month"].to_numpy()),
        "returned": found}))

    episodes = pd.concat(frames, ignore_index=True)
    episodes["category"] = episodes["category"].astype(int)
    episodes["duration"] = episodes["duration"].astype(float)
    episodes["returned"] = episodes["returned"].astype(bool)
    episodes["weight"] = results.weight_column(episodes)
    return episodes, short


# ----------------------------------------------------------------------------- cohort tables
def km_by_replicate(episodes: pd.DataFrame, horizon_months: int) -> pd.DataFrame:
    """Weighted Kaplan-Meier survival on a monthly grid 0..horizon, per cohort, scenario and
    replicate (long: cohort, scenario, replicate, month, survival)."""
    grid = np.arange(horizon_months + 1)
    frames = []
    for (cohort, scenario, replicate), g in episodes.groupby(
            ["cohort", "scenario", "replicate"], sort=False):
        km = kaplan_meier(g["duration"], g["returned"], g["weight"])
        frames.append(pd.DataFrame({"cohort": cohort, "scenario": scenario,
                                    "replicate": replicate, "month": grid,
                                    "survival": survival_at(km, grid)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["cohort", "scenario", "replicate", "month", "survival"])


def km_bands(km_runs: pd.DataFrame) -> pd.DataFrame:
    """Mean survival over replicates with its 95% t-interval (clipped to [0, 1]), per cohort,
    scenario and month (replicates whose curve is undefined at a month are left out of it)."""
    out = group_intervals(km_runs, ["cohort", "scenario", "month"], "survival")
    out["low"] = out["low"].clip(lower=0.0)
    out["high"] = out["high"].clip(upper=1.0)
    return out


def returned_within(km_runs: pd.DataFrame, years: Sequence[int] = WITHIN_YEARS) -> pd.DataFrame:
    """Per run: share of the cohort returned within each number of years, 1 - S(12 k) from the
    Kaplan-Meier curve (wide: cohort, scenario, replicate, within_1y, ...; NaN when the
    horizon is shorter)."""
    wide = km_runs.pivot_table(index=["cohort", "scenario", "replicate"], columns="month",
                               values="survival", dropna=False, sort=False)
    out = pd.DataFrame(index=wide.index)
    for k in years:
        month = 12 * k
        out[f"within_{k}y"] = 1.0 - wide[month] if month in wide.columns else math.nan
    return out.reset_index()


def reentry_hazard(episodes: pd.DataFrame, horizon_months: int) -> pd.DataFrame:
    """Returns per household-year at risk by whole years since exit (0 = first year), per
    cohort, scenario and replicate (weighted: county returns / county household-years).

    Returns:
        cohort, scenario, replicate, year_since_exit, exposure (county household-years at
        risk), returns (county), exposure_sample (simulated household-years), hazard.
    """
    years = max(1, math.ceil(horizon_months / 12))
    keys = ["cohort", "scenario", "replicate"]
    codes = episodes.groupby(keys, sort=False).ngroup().to_numpy()
    groups = episodes[keys].drop_duplicates().reset_index(drop=True)  # in ngroup order
    n = len(groups)
    dur = episodes["duration"].to_numpy()
    w = episodes["weight"].to_numpy()
    ret = episodes["returned"].to_numpy()
    interval = np.clip(np.ceil(dur / 12.0).astype(int) - 1, 0, None)
    parts = []
    for k in range(years):  # one pass per year since exit; bincount keeps memory flat
        raw = np.clip(dur - 12 * k, 0, 12) / 12.0
        parts.append(groups.assign(
            year_since_exit=k,
            exposure=np.bincount(codes, weights=raw * w, minlength=n),
            returns=np.bincount(codes, weights=(ret & (interval == k)) * w, minlength=n),
            exposure_sample=np.bincount(codes, weights=raw, minlength=n)))
    agg = pd.concat(parts, ignore_index=True)
    agg["hazard"] = np.where(agg["exposure"] > 0, agg["returns"]
                             / agg["exposure"].where(agg["exposure"] > 0, 1.0), np.nan)
    return agg


def summarize_by(frame: pd.DataFrame, keys: Sequence[str], value: str) -> pd.DataFrame:
    """Mean and 95% t-interval of `value` over replicates for each key combination (NaN
    values left out; `replicates` counts the values used)."""
    return group_intervals(frame, keys, value)


# ----------------------------------------------------------------------------- time below
def months_below(results: Results, from_month: int = 0) -> pd.DataFrame:
    """Months each household spent below the line at month end from `from_month` to the
    horizon, from its 2021 status and its crossings (households rows with months_below and
    weight). A household whose last member died or moved out is not below from then on."""
    horizon = results.horizon_months
    hh = results.households
    ev = results.events
    cross = ev[ev["event"].isin(["fall", "dip", "rise", "dissolved"])]
    start = pd.DataFrame({"key": _households_key(results), "time": 0,
                          "below": initial_below(results).to_numpy(), "order": 0})
    changes = pd.DataFrame({"key": _household_key(results, cross),
                            "time": cross["month"].to_numpy().astype(np.int64),
                            "below": as_text(cross["event"]).isin(_DOWN).to_numpy(),
                            "order": 1})
    seq = (pd.concat([start, changes], ignore_index=True)
           .sort_values(["key", "time", "order"], kind="stable").reset_index(drop=True))
    nxt = seq["time"].shift(-1)
    last = seq["key"].shift(-1) != seq["key"]
    until = np.maximum(np.where(last.to_numpy(), horizon, nxt.to_numpy()), from_month)
    since = np.maximum(seq["time"].to_numpy(), from_month)
    seq["months"] = (until - since) * seq["below"].to_numpy()
    per_key = seq.groupby("key", sort=False)["months"].sum()
    out = hh[["scenario", "replicate", "household", "category"]].copy()
    out["months_below"] = per_key.reindex(_households_key(results)).to_numpy()
    out["weight"] = results.weight_column(out)
    return out


def below_at_month_end(results: Results, month: int) -> pd.DataFrame:
    """Whether each household was below the line at the end of `month` (households rows with
    a `below` column) — the status the year-end metrics count."""
    hh = results.households
    ev = results.events
    cross = ev[ev["event"].isin(["fall", "dip", "rise"]) & (ev["month"] <= month)]
    last = (cross.assign(key=_household_key(results, cross))
            .sort_values(["key", "month"], kind="stable").groupby("key", sort=False).tail(1))
    status = pd.Series(as_text(last["event"]).isin(_DOWN).to_numpy(),
                       index=last["key"].to_numpy())
    keys = _households_key(results)
    now = status.reindex(keys).to_numpy()
    initial = initial_below(results).to_numpy()
    gone = ev[(ev["event"] == "dissolved") & (ev["month"] <= month)]
    ended = np.isin(keys, _household_key(results, gone))
    out = hh[["scenario", "replicate", "household", "category"]].copy()
    # a household whose last member died or moved out is no longer counted (as in the metrics)
    out["below"] = np.where(pd.isna(now), initial, now).astype(bool) & ~ended
    return out
