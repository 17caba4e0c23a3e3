"""The Info panel's "things to try", each a checkable claim about the model.

Every experiment says what to do on the page (scenario, comparison, knob moves), what to watch,
and which measurable outcome should move in which direction. `check` runs it the way the page
does — the same households on paired seeds, with and without the change — so the Info text is
verified against the model instead of being hoped for:

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
from simulation.model.codes import CAUSES, EVENTS
from simulation.model.scenario import load_scenario
from simulation.teaching.lesson import Run

FALL = EVENTS.index("fall")


def falls(run: Run, cause: str | None = None, formerly_poor_only: bool = False) -> float:
    """Falls below the line over the run (events), optionally of one cause / the formerly poor."""
    code = None if cause is None else CAUSES.index(cause)
    n = 0
    for idx, events in run.recorder.events.items():
        if formerly_poor_only and run.model.households[idx].category != 0:
            continue
        n += sum(1 for _, e, c, _ in events if e == FALL and (code is None or c == code))
    return float(n)


def mean_series(run: Run, names: Sequence[str]) -> float:
    """Monthly mean of the sum of recorder series (e.g. households below the line)."""
    t = run.recorder.t
    if not t:
        return 0.0
    return float(np.sum([run.recorder.series[n][:t] for n in names], axis=0).mean())


def mean_year(run: Run, metric: str) -> float:
    return float(np.mean([row[metric] for row in run.model.years])) if run.model.years else 0.0


OUTCOMES: Final[dict[str, tuple[str, Callable[[Run], float]]]] = {
    "illness_falls": ("falls below the line caused by illness",
                      lambda r: falls(r, "illness")),
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
    years: int = 10

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
        "Widen social security, watch illness-driven returns fall", "baseline", "",
        {"social_security.coverage": 1.0},
        watch="*Returns since 2021* ends lower in the first county, and its red illness bars in "
              "*Why households fell below the line* (full colour) are shorter than the "
              "comparison's (light)",
        why="covered households get medical assistance and a cap on what a hospital bill costs "
            "them; uncovered ones pay the bill from a thin income",
        outcome="illness_returns"),
    Experiment(
        "Switch off monitoring", "baseline", "no_monitoring",
        watch="the comparison's *Monitored now* stays at zero and its map collects red dots "
              "without rings, while falls pile up in the cause chart",
        why="nobody identifies households at risk, so no one gets matched help before or after "
            "they fall",
        outcome="all_falls", direction=+1),
    Experiment(
        "Raise the 低保 standard", "baseline", "",
        {"social_security.dibao_standard": 1.2},
        watch="*Households below the line now*: the first county's lines sit lower",
        why="低保 tops a household up to the standard; above the monitoring line, enrolled "
            "households are lifted out",
        outcome="below"),
    Experiment(
        "Fix the industries", "baseline", "industry",
        watch="grey (failed) project squares on the comparison's map are rarer, and "
              "'industry failure' bars shrink",
        why="market fit, insurance and follow-up management keep projects paying dividends and "
            "wages to linked households",
        outcome="industry_falls"),
    Experiment(
        "Sharpen responsibility: find households sooner", "baseline", "responsibility",
        watch="red dots get their ring sooner: the mean time from risk to identification is "
              "shorter, and more households are caught (the comparison's *Monitored now* is "
              "higher)",
        why="more real screening visits, smaller caseloads and data warnings that reach the "
            "official in time",
        outcome="lag"),
    Experiment(
        "Training that works", "baseline", "",
        {"motivation.training_practicality": 0.3},
        watch="*Monitoring*: the first county's stock line runs below the comparison's",
        why="a trained worker earns more, so fewer households drift into the alert band",
        outcome="monitored"),
    Experiment(
        "Withdraw transfers in 2026", "baseline", "transfer_withdrawal",
        watch="from 2026 the comparison shows 'transfer withdrawal' bars that the baseline does "
              "not have",
        why="formerly poor households lose the subsidies that made up part of their income",
        outcome="transfer_falls", direction=+1, years=8),
)
"""Direction is that of (comparison - first county) when `compare` is set, and of
(with the slider moves - without them) otherwise."""


@dataclass(frozen=True)
class Check:
    experiment: Experiment
    mean: float
    low: float
    high: float
    agree: float  # share of seeds moving in the claimed direction
    baseline: float

    @property
    def holds(self) -> bool:
        """The 95% interval of the paired difference excludes zero on the claimed side."""
        return self.low > 0 if self.experiment.direction > 0 else self.high < 0


def pair(exp: Experiment, seed: int, households: int) -> tuple[float, float]:
    """Outcome without and with the experiment's change on one seed (the claimed difference is
    second - first)."""
    size = {"run.households": households, "run.years": exp.years}
    base = load_scenario(exp.scenario).with_values(size)
    if exp.compare:  # page: first county = scenario (+ slider moves), second = comparison
        first = base.with_values(exp.changes)
        second = load_scenario(exp.compare).with_values(size)
    else:  # page: the slider moves against the same scenario without them
        first, second = base, base.with_values(exp.changes)
    measure = OUTCOMES[exp.outcome][1]
    values = []
    for scenario in (first, second):
        run = Run(scenario.name, scenario, seed)
        for _ in range(run.horizon):
            run.step()
        values.append(measure(run))
    return values[0], values[1]


def check(exp: Experiment, seeds: Sequence[int], households: int) -> Check:
    """Paired differences over `seeds`."""
    pairs = [pair(exp, s, households) for s in seeds]
    diffs = np.array([b - a for a, b in pairs])
    mean, low, high = mean_interval(diffs)
    agree = float(np.mean(np.sign(diffs) == exp.direction))
    return Check(exp, mean, low, high, agree, float(np.mean([a for a, _ in pairs])))


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
        c = check(exp, seeds, args.households)
        failed += not c.holds
        print(f"{exp.title[:57]:<58}{exp.outcome:<18}{c.baseline:>9.1f}"
              f"{f'{c.mean:+.2f} [{c.low:+.2f}, {c.high:+.2f}]':>28}{c.agree:>8.0%}  "
              f"{'yes' if c.holds else 'NO'}  ({time.perf_counter() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
