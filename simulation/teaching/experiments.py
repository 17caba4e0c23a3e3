"""The Info panel's "things to try", each a checkable claim about the model.

Every experiment says what to do on the page (scenario, comparison, knob moves), what to watch,
and which measurable outcome should move in which direction. `check` runs it the way the page
does — the same households on paired seeds, with and without the change, the scenario's knobs
in force from January 2021 (`lesson.page_scenario`) — so the Info text is verified against the
model instead of being hoped for:

    python -m simulation.teaching.experiments [--seeds 8] [--households 1000]

prints, per experiment, the paired mean difference with a 95% interval and the share of seeds
that moved in the claimed direction. tests/test_teaching.py runs the same check (slow).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from simulation.common.stats import mean_interval
from simulation.experiments.runner import DEFAULT_SEED
from simulation.model.codes import CAUSES, FALL, FALL_HARDSHIP, FORMERLY_POOR
from simulation.model.scenario import load_scenario
from simulation.teaching.lesson import Run, page_scenario


def falls(run: Run, cause: str | None = None, formerly_poor_only: bool = False,
          event: int = FALL) -> float:
    """Falls below the line over the run (events), optionally of one cause / the formerly
    poor; `event=FALL_HARDSHIP` counts falls on the hardship count instead."""
    code = None if cause is None else CAUSES.index(cause)
    n = 0
    for idx, events in run.recorder.events.items():
        if formerly_poor_only and run.model.households[idx].category != FORMERLY_POOR:
            continue
        n += sum(1 for e in events if e.event == event and (code is None or e.cause == code))
    return float(n)


def mean_series(run: Run, names: Sequence[str]) -> float:
    """Monthly mean of the sum of recorder series (e.g. households below the line)."""
    t = run.recorder.t
    if not t:
        return 0.0
    return float(np.sum([run.recorder.series[n][:t] for n in names], axis=0).mean())


def mean_year(run: Run, metric: str) -> float:
    return float(np.mean([row[metric] for row in run.model.years])) if run.model.years else 0.0


def hardship_returns(run: Run) -> float:
    """Formerly poor households falling below the line on the hardship count, counted year by
    year as the *Hardship returns since 2021* monitor counts them (dots on the map)."""
    weight = run.model.population.category_weights[FORMERLY_POOR]
    return sum(row["returned_households_hardship"] for row in run.model.years) / weight


_BASELINE: Final = load_scenario("baseline").values
_BASELINE_DIBAO: Final = float(_BASELINE["social_security.dibao_standard"])
_LINE_2021: Final = float(_BASELINE["policy.line_2021"])
"""Baseline numbers the texts quote (tests/test_teaching.py checks the claims around them)."""


OUTCOMES: Final[dict[str, tuple[str, Callable[[Run], float]]]] = {
    "illness_falls": ("falls below the line caused by illness",
                      lambda r: falls(r, "illness")),
    "illness_hardship": ("falls on the hardship count caused by illness",
                         lambda r: falls(r, "illness", event=FALL_HARDSHIP)),
    "hardship_falls": ("falls on the hardship count (income net of rigid costs), all causes",
                       lambda r: falls(r, event=FALL_HARDSHIP)),
    "hardship_returns": ("hardship returns of the formerly poor, counted year by year",
                         hardship_returns),
    "failed_projects": ("share of industry projects failed (yearly mean)",
                        lambda r: mean_year(r, "industries_failed_share")),
    "illness_returns": ("returns to poverty (formerly poor) caused by illness",
                        lambda r: falls(r, "illness", formerly_poor_only=True)),
    "industry_falls": ("falls caused by industry failure",
                       lambda r: falls(r, "industry_failure")),
    "all_falls": ("falls below the line, all causes", falls),
    "below": ("households below the line (monthly mean)",
              lambda r: mean_series(r, ("below_formerly_poor", "below_marginal",
                                        "below_ordinary"))),
    "monitored": ("households monitored (monthly mean)",
                  lambda r: mean_series(r, ("monitored",))),
    "below_hardship": ("households below the line net of rigid costs (monthly mean)",
                       lambda r: mean_series(r, ("below_hardship",))),
    "programme": ("households on 低保 or 特困 (monthly mean)",
                  lambda r: mean_series(r, ("on_programme",))),
    "lag": ("months from risk to identification (yearly mean)",
            lambda r: mean_year(r, "identification_lag_months")),
    "transfer_falls": ("falls caused by withdrawn transfers",
                       lambda r: falls(r, "transfer_withdrawal")),
    "cost": ("fiscal cost, million yuan over the run",
             lambda r: sum(y["fiscal_cost_yuan"] for y in r.model.years) / 1e6),
}


@dataclass(frozen=True)
class Experiment:
    """A thing to try on the page.

    Attributes:
        title: one line.
        scenario: scenario to pick; `changes` are slider moves on top of it.
        compare: comparison scenario ("" = the same scenario without the slider moves).
        changes: knob key -> value to set with the sliders before Reset.
        watch: where on the page the effect shows.
        why: the mechanism behind it.
        outcome: key of OUTCOMES that should move; direction: -1 fewer/lower, +1 more/higher.
        also: further (outcome, direction) claims the `watch` text makes, checked the same way.
        years: how long to run (the claim holds after this many years).
    """

    title: str
    scenario: str
    compare: str
    changes: dict[str, float] = field(default_factory=dict)
    watch: str = ""
    why: str = ""
    outcome: str = "all_falls"
    direction: int = -1
    also: tuple[tuple[str, int], ...] = ()
    years: int = 10

    @property
    def claims(self) -> tuple[tuple[str, int], ...]:
        """Every (outcome, direction) this experiment claims, the main one first."""
        return ((self.outcome, self.direction), *self.also)

    def instructions(self) -> str:
        """What to do on the page, in words."""
        steps = [f"pick the scenario **{self.scenario}**"]
        if self.compare:
            steps.append(f"compare with **{self.compare}**")
        else:
            steps.append(f"compare with **{self.scenario}** (the same county without your "
                         "change)")
        if self.changes:
            moves = ", ".join(f"{k.split('.', 1)[1].replace('_', ' ')} → {v:g}"
                              for k, v in self.changes.items())
            steps.append(f"move the sliders: {moves}")
        steps.append(f"press Reset, then ▶ for about {self.years} years")
        return "; ".join(steps) + "."


EXPERIMENTS: Final = (
    Experiment(
        "Widen social security: fewer families pushed under by medical bills", "baseline", "",
        {"social_security.coverage": 1.0},
        watch="*Hardship returns since 2021* ends lower in the first county (and *Monitored "
              "now* runs a little lower). Open the story of a household hit by a hospital "
              "bill: the dotted line, income net of rigid costs, dips less in the first county",
        why="covered households get medical assistance and a cap on what a hospital bill costs "
            "them. A bill does not change the official income test (income before costs), but "
            "it eats into what the family has to live on: the hardship count",
        outcome="hardship_returns", also=(("monitored", -1),)),
    Experiment(
        "Switch off monitoring", "baseline", "no_monitoring",
        watch="the comparison's *Monitored now* stays at zero and its map collects red dots "
              "without rings, while more households fall below the line (*Households below "
              "the line now* runs higher)",
        why="nobody identifies households at risk, so no one gets matched help before or after "
            "they fall (households can still apply for 低保 and 特困)",
        outcome="all_falls", direction=+1, also=(("below", +1), ("monitored", -1))),
    Experiment(
        "Raise the 低保 standard above the monitoring line", "baseline", "",
        {"social_security.dibao_standard": 7000.0},
        watch="*On 低保 / 特困 now* climbs in the first county and its lines in *Households "
              "below the line now* sit lower; a story of an enrolled household shows its "
              "income chart shaded green while it receives 低保",
        why="低保 tops a household's own income up to the standard (7,000 yuan per person a "
            f"year in 2021, rising each year; the baseline's {_BASELINE_DIBAO:,.0f} is below "
            f"the {_LINE_2021:,.0f}-yuan monitoring line). Those who take it up are lifted "
            "above the line, and more households qualify. It costs more",
        outcome="below", also=(("programme", +1), ("cost", +1))),
    Experiment(
        "Fix the industries", "baseline", "industry",
        watch="grey (failed) project squares are rarer on the comparison's map, and it has "
              "slightly fewer households below the line",
        why="market fit, insurance and follow-up management keep projects paying dividends and "
            "wages to linked households",
        outcome="failed_projects", also=(("below", -1),)),
    Experiment(
        "Sharpen responsibility: find households sooner", "baseline", "responsibility",
        watch="red dots get their ring sooner: the mean time from risk to identification is "
              "shorter, and more households are caught (the comparison's *Monitored now* is "
              "higher)",
        why="more real screening visits, smaller caseloads and data warnings that reach the "
            "official in time",
        outcome="lag", also=(("monitored", +1),)),
    Experiment(
        "Training that works", "baseline", "",
        {"motivation.training_practicality": 0.3},
        watch="*Monitoring*: the first county's stock line runs below the comparison's",
        why="a trained worker earns more, so fewer households drift into the alert band",
        outcome="monitored"),
    Experiment(
        "Withdraw transfers in 2026", "baseline", "transfer_withdrawal",
        watch="from 2026 the comparison shows 'transfer withdrawal' bars that the baseline "
              "hardly has, and more households below the line",
        why="formerly poor households lose the subsidies that made up part of their income",
        outcome="transfer_falls", direction=+1, also=(("below", +1),), years=8),
)
"""Direction is that of (comparison - first county) when `compare` is set, and of
(with the slider moves - without them) otherwise."""


@dataclass(frozen=True)
class Check:
    experiment: Experiment
    outcome: str
    direction: int
    mean: float
    low: float
    high: float
    agree: float  # share of seeds moving in the claimed direction
    baseline: float

    @property
    def holds(self) -> bool:
        """The 95% interval of the paired difference excludes zero on the claimed side."""
        return self.low > 0 if self.direction > 0 else self.high < 0


def pair(exp: Experiment, seed: int, households: int) -> tuple[dict[str, float],
                                                                dict[str, float]]:
    """Outcomes without and with the experiment's change on one seed (the claimed difference
    is second - first), for every outcome the experiment claims."""
    size = {"run.households": households, "run.years": exp.years}
    base = load_scenario(exp.scenario).with_values(size)
    if exp.compare:  # page: first county = scenario (+ slider moves), second = comparison
        first = base.with_values(exp.changes)
        second = load_scenario(exp.compare).with_values(size)
    else:  # page: the slider moves against the same scenario without them
        first, second = base, base.with_values(exp.changes)
    first, second = page_scenario(first), page_scenario(second)
    values = []
    for scenario in (first, second):
        run = Run(scenario.name, scenario, seed)
        for _ in range(run.horizon):
            run.step()
        values.append({name: OUTCOMES[name][1](run) for name, _ in exp.claims})
    return values[0], values[1]


def check(exp: Experiment, seeds: Sequence[int], households: int) -> list[Check]:
    """Paired differences over `seeds`, one Check per claim (the main outcome first)."""
    pairs = [pair(exp, s, households) for s in seeds]
    out = []
    for name, direction in exp.claims:
        diffs = np.array([b[name] - a[name] for a, b in pairs])
        mean, low, high = mean_interval(diffs)
        agree = float(np.mean(np.sign(diffs) == direction))
        out.append(Check(exp, name, direction, mean, low, high, agree,
                         float(np.mean([a[name] for a, _ in pairs]))))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the Info panel's things to try.")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--households", type=int, default=1000)
    args = parser.parse_args(argv)
    seeds = range(DEFAULT_SEED, DEFAULT_SEED + args.seeds)
    print(f"{'experiment':<58}{'outcome':<18}{'first':>9}{'difference [95%]':>28}"
          f"{'agree':>8}  holds")
    failed = 0
    for exp in EXPERIMENTS:
        start = time.perf_counter()
        for k, c in enumerate(check(exp, seeds, args.households)):
            failed += not c.holds
            title = exp.title[:57] if k == 0 else "  and"
            print(f"{title:<58}{c.outcome:<18}{c.baseline:>9.1f}"
                  f"{f'{c.mean:+.2f} [{c.low:+.2f}, {c.high:+.2f}]':>28}{c.agree:>8.0%}  "
                  f"{'yes' if c.holds else 'NO'}"
                  + (f"  ({time.perf_counter() - start:.0f} s)" if k == 0 else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
