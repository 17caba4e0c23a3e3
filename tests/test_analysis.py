"""Analysis of saved results: paired intervals, ratios, Shapley, Kaplan-Meier and spells on
synthetic inputs with known answers (no simulation runs here; see test_analysis_results.py)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.costs import cost_effectiveness
from analysis.paired import (
    bootstrap_ratio,
    describe,
    fieller_ratio,
    group_intervals,
    paired_differences,
)
from analysis.results_io import Results
from analysis.shapley import (
    NotDecomposable,
    Pair,
    all_coalitions,
    coalition_scenarios,
    decompose,
    find_coalitions,
    mechanism_changes,
    shapley_values,
)
from analysis.spells import (
    exit_episodes,
    kaplan_meier,
    km_by_replicate,
    months_below,
    reentry_hazard,
    returned_within,
    survival_at,
)
from simulation.common.stats import mean_interval
from simulation.model.params import MECHANISMS
from simulation.model.scenario import load_scenario

T3 = 3.182446305284263  # Student t, 97.5% quantile, 3 degrees of freedom


# ----------------------------------------------------------------------------- paired intervals
def test_paired_differences_known_answer() -> None:
    # baseline 10, 20, 30, 40; scenario 6, 14, 25, 35 on the same seeds: differences -4, -6,
    # -5, -5 -> mean -5, sd sqrt(2/3), half-width t(0.975, 3) * sd / 2
    runs = pd.DataFrame({
        "scenario": ["s"] * 4 + ["b"] * 4 + ["s"],
        "seed": [4, 3, 2, 1, 1, 2, 3, 4, 9],  # shuffled; seed 9 has no baseline partner
        "returns": [35, 25, 14, 6, 10, 20, 30, 40, 1000]})
    out = paired_differences(runs, "b", ["returns"])
    row = out.iloc[0]
    half = T3 * math.sqrt(2 / 3) / 2
    assert row["scenario"] == "s" and row["replicates"] == 4
    assert row["mean"] == pytest.approx(-5.0)
    assert row["low"] == pytest.approx(-5.0 - half, rel=1e-9)
    assert row["high"] == pytest.approx(-5.0 + half, rel=1e-9)
    assert row["baseline_mean"] == pytest.approx(25.0)
    assert row["relative"] == pytest.approx(-0.2)


def test_paired_differences_by_year_pairs_within_year() -> None:
    runs = pd.DataFrame({"scenario": ["b", "b", "s", "s"] * 2, "seed": [1, 2, 1, 2] * 2,
                         "year": [2021] * 4 + [2022] * 4,
                         "x": [1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 10.0, 20.0]})
    out = paired_differences(runs, "b", ["x"], by=["year"]).set_index("year")
    assert out.loc[2021, "mean"] == 2.0 and out.loc[2021, "low"] == 2.0  # zero spread
    assert out.loc[2022, "mean"] == 0.0


def test_group_intervals_agree_with_mean_interval() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"g": rng.integers(0, 4, 60), "v": rng.normal(size=60)})
    frame.loc[frame.index[:3], "v"] = np.nan  # NaN values are left out
    out = group_intervals(frame, ["g"], "v").set_index("g")
    for g, sub in frame.groupby("g"):
        expected = mean_interval(sub["v"].dropna().to_numpy())
        assert tuple(out.loc[g, ["mean", "low", "high"]]) == pytest.approx(expected)
    single = group_intervals(pd.DataFrame({"g": [1], "v": [3.0]}), ["g"], "v").iloc[0]
    assert single["mean"] == 3.0 and np.isnan(single["low"]) and np.isnan(single["high"])


def test_describe_is_per_scenario() -> None:
    frame = pd.DataFrame({"scenario": ["a", "a", "b", "b"], "x": [1.0, 3.0, 5.0, 5.0]})
    out = describe(frame, ["x"], order=["b", "a"])
    assert list(out["scenario"]) == ["b", "a"]
    assert out.iloc[1]["mean"] == 2.0 and out.iloc[0]["low"] == 5.0


# ----------------------------------------------------------------------------- ratios
def test_fieller_with_a_certain_numerator_inverts_the_denominator_interval() -> None:
    # cost difference exactly 100 on every seed: the ratio interval is 100 / the t-interval of
    # the mean avoided count, [100 / (b + t se), 100 / (b - t se)]
    avoided = np.array([2.0, 4.0, 6.0, 8.0])
    cost = np.full(4, 100.0)
    r = fieller_ratio(cost, avoided)
    se = avoided.std(ddof=1) / 2
    assert r.status == "bounded"
    assert r.estimate == pytest.approx(20.0)
    assert r.low == pytest.approx(100 / (5 + T3 * se))
    assert r.high == pytest.approx(100 / (5 - T3 * se))


def test_fieller_unbounded_when_effect_may_be_zero() -> None:
    r = fieller_ratio([100.0, 120.0, 90.0, 110.0], [-3.0, 5.0, 1.0, 2.0])
    assert r.status == "unbounded" and r.high == math.inf
    assert r.low <= r.estimate
    assert fieller_ratio([1.0, 2.0], [-1.0, -2.0]).status == "no effect"


def test_bootstrap_ratio_is_seeded_and_brackets_the_estimate() -> None:
    rng = np.random.default_rng(1)
    avoided = rng.normal(50, 10, 12)
    cost = 1000 * avoided + rng.normal(0, 2000, 12)
    a = bootstrap_ratio(cost, avoided, seed=7)
    b = bootstrap_ratio(cost, avoided, seed=7)
    assert a == b and a.status == "bounded"
    assert a.low < a.estimate < a.high
    fieller = fieller_ratio(cost, avoided)
    assert a.low == pytest.approx(fieller.low, rel=0.05)
    assert a.high == pytest.approx(fieller.high, rel=0.05)
    assert bootstrap_ratio([1.0, 2.0, 3.0], [5.0, -4.0, 0.5], seed=1).high == math.inf


def test_cost_effectiveness_known_answer() -> None:
    per_run = pd.DataFrame({
        "scenario": ["b"] * 4 + ["s"] * 4, "seed": [1, 2, 3, 4] * 2,
        "returns": [10.0, 12.0, 14.0, 16.0, 8.0, 8.0, 8.0, 8.0],
        "household_years_below": [50.0] * 4 + [40.0] * 4,
        "fiscal_cost": [1000.0] * 4 + [1100.0] * 4})
    ce = cost_effectiveness(per_run, "b", seed=1).iloc[0]
    avoided = np.array([2.0, 4.0, 6.0, 8.0])
    se = avoided.std(ddof=1) / 2
    assert ce["avoided_returns"] == 5.0 and ce["extra_cost"] == 100.0
    assert ce["per_return"] == pytest.approx(20.0)
    assert ce["per_return_low"] == pytest.approx(100 / (5 + T3 * se))
    assert ce["per_year"] == pytest.approx(10.0)
    assert ce["per_year_low"] == ce["per_year_high"] == pytest.approx(10.0)
    cheaper = per_run.assign(fiscal_cost=[1000.0] * 4 + [900.0] * 4)
    assert cost_effectiveness(cheaper, "b", seed=1).iloc[0]["per_return_status"] == "cost-saving"


# ----------------------------------------------------------------------------- Shapley
PLAYERS = ("a", "b", "c", "d")


def test_shapley_of_an_additive_game_is_each_players_own_effect() -> None:
    effect = {"a": -3.0, "b": 5.0, "c": 0.5, "d": -10.0}
    values = {s: sum(effect[p] for p in s) for s in all_coalitions(PLAYERS)}
    phi = shapley_values(values, PLAYERS)
    assert phi == pytest.approx(effect)


def test_shapley_splits_a_pairwise_interaction_equally() -> None:
    effect = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}
    values = {s: sum(effect[p] for p in s) + (6.0 if {"a", "b"} <= s else 0.0)
              for s in all_coalitions(PLAYERS)}
    phi = shapley_values(values, PLAYERS)
    assert phi == pytest.approx({"a": 4.0, "b": 5.0, "c": 3.0, "d": 4.0})


def test_shapley_contributions_sum_to_the_total_per_seed() -> None:
    rng = np.random.default_rng(3)
    values = {s: rng.normal(size=7) for s in all_coalitions(PLAYERS)}  # 7 seeds, any game
    phi = shapley_values(values, PLAYERS)
    total = values[frozenset(PLAYERS)] - values[frozenset()]
    np.testing.assert_allclose(sum(phi.values()), total, rtol=0, atol=1e-12)
    # a player that never changes anything gets nothing
    null = {s: float(len(s - {"d"})) ** 2 for s in all_coalitions(PLAYERS)}
    assert shapley_values(null, PLAYERS)["d"] == pytest.approx(0.0)


def test_decompose_table_sums_and_interaction() -> None:
    players = ("responsibility", "industry")
    pair = Pair("base", "other", players, {})
    names = {frozenset(): "base", frozenset({"responsibility"}): "r",
             frozenset({"industry"}): "i", frozenset(players): "other"}
    rows = []
    for seed, noise in zip((1, 2, 3), (0.0, 1.0, -2.0), strict=True):
        for name, value in (("base", 100.0), ("r", 90.0), ("i", 80.0), ("other", 60.0)):
            rows.append({"scenario": name, "seed": seed, "returns": value + noise})
    table = decompose(pd.DataFrame(rows), pair, names, ["returns"]).set_index("component")
    # total -40; alone -10 and -20; interaction -10, split equally
    assert table.loc["total", "shapley"] == pytest.approx(-40.0)
    assert table.loc["responsibility", "shapley"] == pytest.approx(-15.0)
    assert table.loc["industry", "shapley"] == pytest.approx(-25.0)
    assert table.loc["interaction", "shapley"] == pytest.approx(-10.0)
    assert table.loc["industry", "alone"] == pytest.approx(-20.0)
    assert table.loc[list(players), "shapley"].sum() == pytest.approx(
        table.loc["total", "shapley"])


def test_coalition_scenarios_of_baseline_and_combined() -> None:
    base, combined = load_scenario("baseline"), load_scenario("combined")
    pair, scenarios = coalition_scenarios(base, combined)
    assert pair.players == MECHANISMS and len(scenarios) == 16
    assert scenarios[0].name == "baseline" and scenarios[-1].name == "combined"
    assert dict(scenarios[-1].values) == dict(combined.values)
    assert dict(scenarios[0].values) == dict(base.values)
    names = [sc.name for sc in scenarios]
    assert len(set(names)) == 16 and "baseline+social_security+industry" in names
    single = next(sc for sc in scenarios if sc.name == "baseline+industry")
    assert set(single.knob_differences(base)) == set(pair.changes["industry"])
    found = find_coalitions({sc.name: sc for sc in scenarios}, "baseline", "combined")
    assert found is not None and found[frozenset({"industry"})] == "baseline+industry"
    assert find_coalitions({sc.name: sc for sc in scenarios[:-2] + scenarios[-1:]},
                           "baseline", "combined") is None


@pytest.mark.parametrize("other", ["disaster", "downturn"])
def test_pairs_that_differ_outside_the_mechanisms_are_not_decomposable(other: str) -> None:
    with pytest.raises(NotDecomposable, match="mechanism"):
        mechanism_changes(load_scenario("baseline"), load_scenario(other))
    changed = load_scenario("baseline").with_values({"shocks.accident_rate": 0.02,
                                                      "industry.positioning": 0.9})
    with pytest.raises(NotDecomposable, match=r"shocks\.accident_rate"):
        mechanism_changes(load_scenario("baseline"), changed)


# ----------------------------------------------------------------------------- Kaplan-Meier
def test_kaplan_meier_hand_computed() -> None:
    # times 1, 2, 2+, 3, 4+, 5: S = 5/6, 4/6, 4/9 (at 3), 4/9 (4 censored), 0 (at 5)
    km = kaplan_meier([1, 2, 2, 3, 4, 5], [True, True, False, True, False, True])
    assert list(km["time"]) == [1, 2, 3, 4, 5]
    assert list(km["at_risk"]) == [6, 5, 3, 2, 1]
    assert km["survival"].to_numpy() == pytest.approx([5 / 6, 4 / 6, 4 / 9, 4 / 9, 0.0])
    # Greenwood at t = 2: S^2 (1/(6*5) + 1/(5*4))
    assert km["std_err"].iloc[1] == pytest.approx(math.sqrt((4 / 6) ** 2 * (1 / 30 + 1 / 20)))
    assert survival_at(km, [0, 1, 2.5, 7]) == pytest.approx([1.0, 5 / 6, 4 / 6, 0.0])


def test_kaplan_meier_weights_are_frequencies() -> None:
    weighted = kaplan_meier([1, 3, 4], [True, False, True], [2.0, 1.0, 3.0])
    expanded = kaplan_meier([1, 1, 3, 4, 4, 4], [True, True, False, True, True, True])
    assert weighted["survival"].to_numpy() == pytest.approx(expanded["survival"].to_numpy())
    open_end = kaplan_meier([2, 5], [True, False])
    assert math.isnan(survival_at(open_end, [6])[0])  # nothing is known after the last time


# ----------------------------------------------------------------------------- spells
def _synthetic_results() -> Results:
    """Three households over 24 months (line 6,000 yuan in 2021):

    h0 formerly poor, above: fall m5, rise m8, risk eliminated m14, fall m20
    h1 formerly poor, above: nothing happens
    h2 marginal, below: rise m3, dip m6 (short exit), rise m7, risk eliminated m10
    """
    sc = load_scenario("baseline").with_values({"run.years": 2, "run.households": 100})
    households = pd.DataFrame({"scenario": "s", "replicate": 0, "household": [0, 1, 2],
                               "category": [0, 0, 1], "pc12": [8000.0, 9000.0, 5000.0]})
    events = pd.DataFrame(
        [(5, 0, "fall"), (8, 0, "rise"), (14, 0, "risk_eliminated"), (20, 0, "fall"),
         (3, 2, "rise"), (6, 2, "dip"), (7, 2, "rise"), (10, 2, "risk_eliminated"),
         (4, 1, "identified")], columns=["month", "household", "event"])
    events = events.assign(scenario="s", replicate=0, cause="illness")
    runs = pd.DataFrame({"scenario": "s", "replicate": 0, "seed": 1, "year": [2021, 2022]})
    return Results(folder=Path("synthetic"), manifest={}, runs=runs, events=events,
                   households=households, scenarios={"s": sc}, baseline=None,
                   weights={"s": (10.0, 5.0, 2.0)})


def test_exit_episodes_hand_computed() -> None:
    episodes, short = exit_episodes(_synthetic_results())
    got = {(r.cohort, r.household): (r.duration, r.returned, r.weight)
           for r in episodes.itertuples()}
    assert got == {
        ("formerly_poor_2021", 0): (6.0, True, 10.0),    # fall in month 5: 6 months
        ("formerly_poor_2021", 1): (24.0, False, 10.0),  # censored at the horizon
        ("rose_above", 0): (12.0, True, 10.0),           # rise 8 -> fall 20
        ("rose_above", 2): (16.0, False, 5.0),           # rise 7 -> censored at month 23
        ("risk_eliminated", 0): (6.0, True, 10.0),       # eliminated 14 -> fall 20
        ("risk_eliminated", 2): (13.0, False, 5.0),      # eliminated 10 -> censored
    }
    assert short.iloc[0]["short_exits"] == 1 and short.iloc[0]["rises"] == 3


def test_months_below_hand_computed() -> None:
    below = months_below(_synthetic_results()).set_index("household")["months_below"]
    assert below.to_dict() == {0: 7, 1: 0, 2: 4}  # h0: 5-7 and 20-23; h2: 0-2 and 6


def test_cohort_tables_from_episodes() -> None:
    episodes, _ = exit_episodes(_synthetic_results())
    km = km_by_replicate(episodes, 24)
    within = returned_within(km, years=(1, 2, 3)).set_index("cohort")
    # formerly poor: weights 10 and 10; one returns at month 6 -> 50% within a year
    assert within.loc["formerly_poor_2021", "within_1y"] == pytest.approx(0.5)
    assert math.isnan(within.loc["formerly_poor_2021", "within_3y"])  # beyond the horizon
    hazard = reentry_hazard(episodes, 24)
    first = hazard[(hazard["cohort"] == "formerly_poor_2021")
                   & (hazard["year_since_exit"] == 0)].iloc[0]
    # exposure in year 0: h0 6 months, h1 12 months, each weight 10 -> 15 household-years
    assert first["exposure"] == pytest.approx(15.0)
    assert first["returns"] == pytest.approx(10.0)
    assert first["hazard"] == pytest.approx(10.0 / 15.0)


def test_kaplan_meier_agrees_with_lifelines() -> None:
    """The hand-written estimator (vectorised over hundreds of thousands of episodes, no
    import cost in the CLI) against the maintained library: the same survival curve and the
    same exponential-Greenwood 95% band on random censored, weighted data."""
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(3)
    n = 400
    durations = rng.integers(1, 60, n).astype(float)
    returned = rng.random(n) < 0.6
    weights = rng.integers(1, 5, n).astype(float)
    km = kaplan_meier(durations, returned, weights)
    fit = lifelines.KaplanMeierFitter().fit(durations, returned, weights=weights)
    ref = fit.survival_function_.iloc[1:, 0]  # lifelines adds a row at t = 0
    assert ref.index.to_numpy() == pytest.approx(km["time"].to_numpy())
    assert ref.to_numpy() == pytest.approx(km["survival"].to_numpy(), rel=1e-12)
    # exponential Greenwood: lower = S^exp(z sqrt(V) / |log S|), V = (std_err / S)^2
    s = km["survival"].to_numpy()
    keep = (s > 0) & (s < 1)
    root_v = (km["std_err"].to_numpy()[keep] / s[keep])
    z = 1.959963984540054
    low = s[keep] ** np.exp(z * root_v / np.abs(np.log(s[keep])))
    band = fit.confidence_interval_.iloc[1:][keep]
    assert band.iloc[:, 0].to_numpy() == pytest.approx(low, rel=1e-9)
