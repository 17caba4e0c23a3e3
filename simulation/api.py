"""A small Python API for notebooks: load a county and a scenario, run, compare, calibrate.

    from simulation import api

    county = api.load_county("baoshan")                         # counties/baoshan.toml
    baseline = api.load_scenario("baseline", county=county, households=2000)
    runs = api.run(baseline, replicates=5)        # yearly metrics, one row per run and year
    table = api.compare(["baseline", "social_security"], county=county, replicates=5)
    check = api.check(baseline, targets="baoshan", replicates=5)
    fit = api.calibrate("baoshan", out="results/cal-baoshan", points=60, waves=3)
    better = api.load_scenario("baseline", county=fit.county)
    robust = api.robustness(["social_security", "industry"], out="results/rob", futures=50)

Everything here calls what the command line calls (same seeds, same engines, same results);
nothing is written to disk except by `calibrate` and `robustness`, into the folder given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulation.experiments.runner import DEFAULT_SEED
from simulation.model.county import County
from simulation.model.county import load_county as _load_county
from simulation.model.scenario import Scenario
from simulation.model.scenario import load_scenario as _load_scenario

__all__ = ["Calibration", "Robustness", "calibrate", "check", "compare", "load_county",
           "load_scenario", "robustness", "run"]


def load_county(ref: str | Path) -> County:
    """A county profile by name (counties/<name>.toml) or path."""
    return _load_county(ref)


def load_scenario(ref: str | Path | Scenario, *, county: County | str | Path | None = None,
                  households: int | None = None, years: int | None = None,
                  policy_date: str | None = None,
                  values: Mapping[str, float] | None = None) -> Scenario:
    """A scenario by name or path, optionally in another county, with its size, horizon,
    policy date ("YYYY-MM") or any knob changed (validated like a file's values)."""
    import dataclasses

    from simulation.model.scenario import parse_month

    sc = ref if isinstance(ref, Scenario) else _load_scenario(ref)
    if county is not None:
        sc = sc.with_county(county if isinstance(county, County) else _load_county(county))
    overrides = dict(values or {})
    if households is not None:
        overrides["run.households"] = households
    if years is not None:
        overrides["run.years"] = years
    if overrides:
        sc = sc.with_values(overrides, origin="api")
    if policy_date is not None:
        sc = dataclasses.replace(sc, policy_month=parse_month("api", "policy_date",
                                                              policy_date))
    return sc


def _scenarios(scenarios: Sequence[str | Path | Scenario] | str | Path | Scenario,
               county: County | str | Path | None, households: int | None,
               years: int | None) -> list[Scenario]:
    many: Sequence[str | Path | Scenario] = (
        scenarios if isinstance(scenarios, list | tuple) else [scenarios])  # type: ignore[list-item]
    return [load_scenario(s, county=county, households=households, years=years)
            for s in many]


def run(scenarios: Sequence[str | Path | Scenario] | str | Path | Scenario, *,
        replicates: int = 1, seed: int = DEFAULT_SEED, county: County | str | Path | None = None,
        households: int | None = None, years: int | None = None,
        workers: int | None = None) -> pd.DataFrame:
    """Run scenarios on seeds seed .. seed + replicates - 1 (paired across scenarios); one row
    per scenario, replicate and year with every yearly metric (docs/ODD.md's outputs)."""
    from simulation.experiments.results import runs_frame
    from simulation.experiments.runner import run_many

    results = run_many(_scenarios(scenarios, county, households, years), replicates, seed,
                       workers=workers, record_events=False)
    return runs_frame(results)


def compare(scenarios: Sequence[str | Path | Scenario], *, baseline: str | None = None,
            replicates: int = 10, seed: int = DEFAULT_SEED,
            county: County | str | Path | None = None, households: int | None = None,
            years: int | None = None, workers: int | None = None) -> pd.DataFrame:
    """The headline comparison the command line prints: per scenario, returns, new poverty
    and fiscal cost over the evaluation window (policy year to horizon) with 95% intervals,
    and against the baseline (default: the first) the paired change in returns and the cost
    per avoided return."""
    from analysis.headline import headline
    from analysis.results_io import evaluation_start
    from simulation.model.calendar import START_YEAR

    loaded = _scenarios(scenarios, county, households, years)
    runs = run(loaded, replicates=replicates, seed=seed, workers=workers)
    last = START_YEAR + loaded[0].years - 1
    return headline(runs, baseline or loaded[0].name, seed, [s.name for s in loaded],
                    start_year=evaluation_start(loaded, last))


def check(scenario: str | Path | Scenario, *, targets: str | Path = "m_county",
          replicates: int = 10, seed: int = DEFAULT_SEED,
          county: County | str | Path | None = None, households: int | None = None,
          workers: int | None = None) -> pd.DataFrame:
    """The scenario's 2021-2025 against a targets file (as `python run.py calibration`): one
    row per target with its range, the mean over replicates, its 95% interval, inside or
    not. The scenario runs in `county` if given; else a Scenario object in its own county,
    and a scenario name or path in the targets file's county (as `calibration --targets`)."""
    from analysis.calibration import CALIBRATION_YEARS, evaluate, targets_of
    from simulation.experiments.calibrate.spec import load_targets

    if county is None and not isinstance(scenario, Scenario):
        spec = load_targets(targets)
        county = _load_county(spec.county, Path(spec.source).parent)
    sc = load_scenario(scenario, county=county, households=households,
                       years=CALIBRATION_YEARS)
    return evaluate(run(sc, replicates=replicates, seed=seed, workers=workers),
                    targets_of(targets))


@dataclass
class Calibration:
    """What `calibrate` produced: the fit table (each target: start and best fit with 95%
    intervals), the plausible ensemble, the calibrated county, the folder it is all in."""

    fit: pd.DataFrame
    ensemble: pd.DataFrame
    county: County
    folder: Path
    runs: int
    unreachable: list[str]


def calibrate(targets: str | Path, *, out: str | Path, points: int = 120,
              replicates: int = 4, waves: int = 4, households: int = 5000,
              seed: int = 2021, check_replicates: int = 10, workers: int | None = None,
              resume: bool = False, replace: bool = False,
              figures: bool = True) -> Calibration:
    """History matching of a targets file (as `python run.py calibrate`) into folder `out`."""
    from analysis.calibration_fit import write_fit
    from simulation.experiments.calibrate.driver import Options, run_calibration
    from simulation.experiments.calibrate.spec import load_targets

    spec = load_targets(targets)
    opts = Options(points=points, replicates=replicates, waves=waves, households=households,
                   seed=seed, check_replicates=check_replicates)
    folder = Path(out)
    report = run_calibration(spec, folder, opts, workers=workers, resume=resume,
                             replace=replace)
    fit = write_fit(spec, folder, report, figures=figures)
    return Calibration(fit, pd.read_parquet(folder / "ensemble.parquet"),
                       _load_county(folder / "calibrated.toml"), folder, report.runs,
                       report.unreachable)


@dataclass(frozen=True)
class Robustness:
    """What `robustness` produced: per strategy the share of futures where it ranks first
    (with its Wilson interval), rank shares, regret and cost per avoided return (`summary`,
    as robustness.csv); per future and scenario the mean outcomes, rank and regret
    (`per_future`); the futures drawn (`futures`); every run (`runs`); the folder."""

    summary: pd.DataFrame
    per_future: pd.DataFrame
    futures: pd.DataFrame
    runs: pd.DataFrame
    folder: Path


def robustness(strategies: Sequence[str | Path], *, out: str | Path,
               futures: int = 50, futures_file: str | Path = "m_county",
               baseline: str | Path = "baseline", replicates: int = 3,
               households: int = 5000, county: str | Path | None = None,
               seed: int = DEFAULT_SEED, workers: int | None = None, resume: bool = False,
               replace: bool = False, figures: bool = True,
               count: str = "official") -> Robustness:
    """Every strategy and the baseline in `futures` futures of a futures file, on paired seeds
    within each future (as `python run.py robustness`), into folder `out`; returns ranked on
    `count` ("official" or "hardship")."""
    from analysis.robustness import write_robustness
    from simulation.experiments.robustness.driver import (
        Options,
        futures_county,
        run_robustness,
        strategy_scenarios,
    )
    from simulation.experiments.robustness.futures import load_futures

    spec = load_futures(futures_file)
    place = futures_county(spec, county)
    scenarios, names, base = strategy_scenarios(list(strategies), baseline, place, households)
    opts = Options(count=futures, replicates=replicates, households=households, seed=seed,
                   years=None, engine="arrays")
    folder = Path(out)
    report = run_robustness(spec, place, scenarios, base.name, folder, opts, workers=workers,
                            resume=resume, replace=replace)
    summary = write_robustness(folder, report.runs, report.futures, names, base.name,
                               figures=figures, count=count)
    return Robustness(summary, pd.read_csv(folder / "futures_summary.csv"), report.futures,
                      report.runs, folder)

