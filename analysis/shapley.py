"""Shapley decomposition of the difference between two scenarios into the four mechanisms.

Two scenarios A (e.g. baseline) and B (e.g. combined) differ in knobs of several mechanisms
(simulation.model.params.Param.mechanism). A *coalition* S of mechanisms is the scenario made by
applying to A the knob values of B for the mechanisms in S only (`coalition_scenarios`); with
k mechanisms changed there are 2^k coalitions (16 for all four), each run on the same seeds.
With v(S) an outcome of coalition S on one seed, mechanism i contributes its Shapley value

    phi_i = sum over S not containing i of |S|! (k - |S| - 1)! / k! * (v(S + {i}) - v(S)),

the average of its marginal effects over every order in which the changes can be made
(Shapley 1953; for decompositions of distributional changes, Shorrocks 2013, J. Econ.
Inequality 11: 99-126, doi:10.1007/s10888-011-9214-z). The contributions add up exactly to
v(B) - v(A) on every seed, so their means add up to the mean paired difference. They are
computed per seed and averaged; the 95% interval is the t-interval over seeds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np
import pandas as pd

from simulation.common.stats import mean_interval
from simulation.model.params import MECHANISMS, SCHEMA
from simulation.model.scenario import Scenario

Coalition = frozenset[str]


def shapley_values(values: Mapping[Coalition, float | np.ndarray],
                   players: Sequence[str]) -> dict[str, float | np.ndarray]:
    """Shapley value of each player for the game `values` (coalition -> worth; every subset of
    `players` must be present). Worths may be arrays (e.g. one per seed): computed elementwise.
    """
    k = len(players)
    missing = [set(s) for s in all_coalitions(players) if s not in values]
    if missing:
        raise ValueError(f"coalition {sorted(missing[0])} has no value")
    out: dict[str, float | np.ndarray] = {}
    for player in players:
        others = [p for p in players if p != player]
        total: float | np.ndarray = 0.0
        for size in range(k):
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            for subset in combinations(others, size):
                s = frozenset(subset)
                total = total + weight * (np.asarray(values[s | {player}])
                                          - np.asarray(values[s]))
        out[player] = total
    return out


def all_coalitions(players: Sequence[str]) -> list[Coalition]:
    """Every subset of `players`, smallest first, in a fixed order."""
    return [frozenset(c) for size in range(len(players) + 1)
            for c in combinations(players, size)]


@dataclass(frozen=True)
class Pair:
    """Two scenarios and how their knob differences group into mechanisms.

    Attributes:
        base, other: scenario names (differences are other - base).
        players: mechanisms with at least one knob difference, in MECHANISMS order.
        changes: mechanism -> {key: (base value, other value)}.
    """

    base: str
    other: str
    players: tuple[str, ...]
    changes: Mapping[str, Mapping[str, tuple[float, float]]]


class NotDecomposable(ValueError):
    """The two scenarios differ in something that is not a mechanism knob."""


def mechanism_changes(base: Scenario, other: Scenario) -> Pair:
    """Group other's knob differences from base by mechanism; raise NotDecomposable when they
    also differ in a constant, a scheduled policy change or a disaster."""
    diffs = other.knob_differences(base)
    constants = sorted(k for k in diffs if SCHEMA[k].mechanism is None)
    if constants:
        raise NotDecomposable(
            f"scenarios {base.name!r} and {other.name!r} also differ in key '{constants[0]}', "
            "which belongs to no mechanism; a decomposition into the four mechanisms needs "
            "scenarios that differ in mechanism knobs only")
    if base.schedule != other.schedule or base.disasters != other.disasters:
        raise NotDecomposable(
            f"scenarios {base.name!r} and {other.name!r} differ in their [[schedule]] or "
            "[[disasters]]; a decomposition into the four mechanisms needs scenarios that "
            "differ in mechanism knobs only")
    changes: dict[str, dict[str, tuple[float, float]]] = {}
    for key, pair in diffs.items():
        changes.setdefault(str(SCHEMA[key].mechanism), {})[key] = pair
    players = tuple(m for m in MECHANISMS if m in changes)
    if not players:
        raise NotDecomposable(f"scenarios {base.name!r} and {other.name!r} have the same "
                              "mechanism knobs; there is nothing to decompose")
    return Pair(base.name, other.name, players, {m: changes[m] for m in players})


def coalition_name(pair: Pair, coalition: Coalition) -> str:
    """The scenario name of a coalition: the base, the other, or base+mech+mech."""
    if not coalition:
        return pair.base
    if coalition == frozenset(pair.players):
        return pair.other
    return pair.base + "+" + "+".join(m for m in pair.players if m in coalition)


def coalition_scenarios(base: Scenario, other: Scenario) -> tuple[Pair, list[Scenario]]:
    """Every coalition scenario of the pair (base first, other last), made by applying a subset
    of the mechanisms' knob differences to `base` with Scenario.with_values."""
    pair = mechanism_changes(base, other)
    scenarios = []
    for coalition in all_coalitions(pair.players):
        overrides = {k: v for m in coalition for k, (_, v) in pair.changes[m].items()}
        sc = base.with_values(overrides, origin=f"decomposition of {other.name}")
        name = coalition_name(pair, coalition)
        description = (f"{base.name} with the {', '.join(sorted(coalition))} knobs of "
                       f"{other.name}" if coalition else base.description)
        if coalition == frozenset(pair.players):
            description = other.description
        scenarios.append(replace(sc, name=name, description=description))
    return pair, scenarios



def _saved_as(scenarios: Mapping[str, Scenario], target: Scenario) -> str | None:
    """The name of a saved scenario identical to `target` (values, schedule, disasters)."""
    return next((n for n, sc in scenarios.items()
                 if dict(sc.values) == dict(target.values)
                 and sc.schedule == target.schedule and sc.disasters == target.disasters),
                None)

def find_coalitions(scenarios: Mapping[str, Scenario], base: str,
                    other: str) -> dict[Coalition, str] | None:
    """Coalition -> scenario name when every coalition of the pair is among `scenarios`
    (matched by values, schedule and disasters, not by name); None otherwise."""
    try:
        pair, wanted = coalition_scenarios(scenarios[base], scenarios[other])
    except NotDecomposable:
        return None
    found: dict[Coalition, str] = {}
    for coalition, target in zip(all_coalitions(pair.players), wanted, strict=True):
        match = _saved_as(scenarios, target)
        if match is None:
            return None
        found[coalition] = match
    return found


def decompose(per_run: pd.DataFrame, pair: Pair, names: Mapping[Coalition, str],
              outcomes: Sequence[str]) -> pd.DataFrame:
    """Shapley contributions of each mechanism to other - base, per outcome.

    Args:
        per_run: one row per run with scenario, seed and the outcome columns.
        pair: the decomposed pair.
        names: coalition -> scenario name in per_run.
        outcomes: outcome columns to decompose.

    Returns:
        Long frame: outcome, component (a mechanism, "total" = other - base, or
        "interaction" = total - the sum of the one-at-a-time effects), shapley (mean over
        seeds), low, high (95% t-interval), alone (mean effect of changing that mechanism
        only: v({i}) - v({}), NaN for total/interaction), alone_low, alone_high, replicates.
        Only seeds present in every coalition are used.
    """
    seeds = None
    tables = {}
    for coalition, name in names.items():
        t = per_run[per_run["scenario"] == name].set_index("seed")
        tables[coalition] = t
        seeds = t.index if seeds is None else seeds.intersection(t.index)
    assert seeds is not None
    seeds = seeds.sort_values()
    rows = []
    empty: Coalition = frozenset()
    for outcome in outcomes:
        values = {c: t.loc[seeds, outcome].to_numpy(dtype=float) for c, t in tables.items()}
        phi = shapley_values(values, pair.players)
        total = values[frozenset(pair.players)] - values[empty]
        alone_sum = np.zeros_like(total)
        for m in pair.players:
            alone = values[frozenset({m})] - values[empty]
            alone_sum = alone_sum + alone
            rows.append((outcome, m, *mean_interval(np.asarray(phi[m])), *mean_interval(alone),
                         len(seeds)))
        nan3 = (math.nan, math.nan, math.nan)
        rows.append((outcome, "interaction", *mean_interval(total - alone_sum), *nan3,
                     len(seeds)))
        rows.append((outcome, "total", *mean_interval(total), *nan3, len(seeds)))
    return pd.DataFrame(rows, columns=["outcome", "component", "shapley", "low", "high",
                                       "alone", "alone_low", "alone_high", "replicates"])


def one_at_a_time(per_run: pd.DataFrame, pair: Pair, scenarios: Mapping[str, Scenario],
                  outcomes: Sequence[str]) -> pd.DataFrame | None:
    """When only the single-mechanism coalitions and the full pair were run (e.g. the main
    job: baseline, the four strategies, combined), the effect of each mechanism alone and
    the interaction (total - sum of the effects alone), per outcome; None when a
    single-mechanism coalition is missing.

    Returns:
        Long frame: outcome, component (mechanism, "interaction", "total"), effect, low,
        high, replicates, scenario (the scenario that changes that mechanism alone).
    """
    base_sc, other_sc = scenarios[pair.base], scenarios[pair.other]
    _, wanted = coalition_scenarios(base_sc, other_sc)
    singles: dict[str, str] = {}
    for coalition, target in zip(all_coalitions(pair.players), wanted, strict=True):
        if len(coalition) != 1:
            continue
        match = _saved_as(scenarios, target)
        if match is None:
            return None
        singles[next(iter(coalition))] = match
    base = per_run[per_run["scenario"] == pair.base].set_index("seed")
    full = per_run[per_run["scenario"] == pair.other].set_index("seed")
    seeds = base.index.intersection(full.index)
    for name in singles.values():
        seeds = seeds.intersection(per_run[per_run["scenario"] == name]["seed"])
    seeds = seeds.sort_values()
    rows = []
    for outcome in outcomes:
        b = base.loc[seeds, outcome].to_numpy(dtype=float)
        total = full.loc[seeds, outcome].to_numpy(dtype=float) - b
        summed = np.zeros_like(total)
        for m in pair.players:
            s = per_run[per_run["scenario"] == singles[m]].set_index("seed")
            effect = s.loc[seeds, outcome].to_numpy(dtype=float) - b
            summed = summed + effect
            rows.append((outcome, m, *mean_interval(effect), len(seeds), singles[m]))
        rows.append((outcome, "interaction", *mean_interval(total - summed), len(seeds), ""))
        rows.append((outcome, "total", *mean_interval(total), len(seeds), pair.other))
    return pd.DataFrame(rows, columns=["outcome", "component", "effect", "low", "high",
                                       "replicates", "scenario"])
