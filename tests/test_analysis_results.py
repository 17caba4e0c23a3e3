"""Analysis of a small real comparison: what is rebuilt from events must agree exactly with
the yearly metrics the model wrote (structural checks; no model values are pinned)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.causes import falls_by_cause
from analysis.equity import by_household_type, by_village
from analysis.outcomes import run_outcomes
from analysis.results_io import load_results
from analysis.spells import below_at_month_end, exit_episodes, months_below
from simulation.experiments.results import write_results
from simulation.experiments.runner import run_many
from simulation.model.calendar import START_YEAR
from simulation.model.codes import CAUSES
from simulation.model.scenario import load_scenario

SCENARIOS = ("baseline", "social_security", "combined")


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenarios = [dataclasses.replace(load_scenario(n).with_values(
        {"run.households": 300, "run.years": 4}), policy_month=0) for n in SCENARIOS]
    runs = run_many(scenarios, 3, 2021, engine="arrays", workers=1)
    out = tmp_path_factory.mktemp("analysis") / "cmp"
    out.mkdir()
    write_results(out, scenarios, runs, baseline="baseline", seed=2021, replicates=3,
                  engine="arrays", wall_seconds=0.0, command=["test"])
    return out


def test_falls_by_cause_add_up_to_the_yearly_metrics(results_dir: Path) -> None:
    r = load_results(results_dir)
    falls = falls_by_cause(r)
    runs = r.runs.set_index(["scenario", "replicate", "year"])
    by_group = falls.groupby(["scenario", "replicate", "year", "group"])["households"].sum() \
        .unstack("group")
    np.testing.assert_allclose(by_group["returns"], runs.loc[by_group.index,
                                                             "returned_households"], atol=1e-6)
    np.testing.assert_allclose(by_group["new_poverty"],
                               runs.loc[by_group.index, "newly_poor_households"], atol=1e-6)
    by_cause = falls.groupby(["scenario", "replicate", "year", "cause"])["households"].sum() \
        .unstack("cause")
    for cause in by_cause.columns:
        np.testing.assert_allclose(by_cause[cause], runs.loc[by_cause.index, f"cause_{cause}"],
                                   atol=1e-6)


def test_status_rebuilt_from_crossings_matches_year_end_stocks(results_dir: Path) -> None:
    r = load_results(results_dir)
    for year in r.years:
        status = below_at_month_end(r, 12 * (year - START_YEAR) + 11)
        status["w"] = r.weight_column(status)
        got = status[status["below"]].groupby(["scenario", "replicate"])["w"].sum()
        expected = r.runs[r.runs["year"] == year].set_index(["scenario", "replicate"])[
            "below_line_households"]
        np.testing.assert_allclose(got.reindex(expected.index).fillna(0.0), expected,
                                   atol=1e-6)


def test_months_below_and_episodes_are_consistent(results_dir: Path) -> None:
    r = load_results(results_dir)
    below = months_below(r)
    assert below["months_below"].between(0, r.horizon_months).all()
    episodes, _ = exit_episodes(r)
    assert episodes["duration"].between(0, r.horizon_months).all()
    start = episodes[episodes["cohort"] == "formerly_poor_2021"]
    spell = int(r.scenarios["baseline"].values["monitoring.spell_months"])
    rose = episodes[(episodes["cohort"] == "rose_above") & episodes["returned"]]
    assert (rose["duration"] >= spell).all()  # a fall needs spell_months above the line
    # every formerly poor household above the line in 2021 starts one episode per run
    fp_above = r.households[(r.households["category"] == 0)
                            & (r.households["pc12"] >= 6000.0)]  # baseline line, 2021
    assert len(start) == len(fp_above)
    # the 2021 cohort's returns are a subset of the formerly poor that ever returned
    last = r.runs[r.runs["year"] == r.years[-1]].set_index(["scenario", "replicate"])
    fp_n = r.households[r.households["category"] == 0].groupby(["scenario", "replicate"]).size()
    returned = start[start["returned"]].groupby(["scenario", "replicate"]).size()
    share = returned.reindex(fp_n.index).fillna(0) / fp_n
    assert (share <= last.loc[share.index, "ever_returned_share_formerly_poor"] + 1e-12).all()


def test_who_returns_reference_group_matches_the_metric(results_dir: Path) -> None:
    r = load_results(results_dir)
    types = by_household_type(r)
    ref = types[(types["population"] == "formerly_poor") & (types["group"] == "all")] \
        .set_index(["scenario", "replicate"])
    last = r.runs[r.runs["year"] == r.years[-1]].set_index(["scenario", "replicate"])
    np.testing.assert_allclose(ref["share"], last.loc[ref.index,
                                                      "ever_returned_share_formerly_poor"])
    np.testing.assert_allclose(ref["share"], ref["share_raw"])  # one weight in the stratum
    everyone = types[(types["population"] == "all") & (types["group"] == "all")]
    assert np.allclose(everyone["households"], r.scenarios["baseline"].values[
        "county.households"])
    villages = by_village(r)
    assert villages["returned_share"].between(0, 1).all()


def test_run_outcomes_match_runs_parquet(results_dir: Path) -> None:
    r = load_results(results_dir)
    out = run_outcomes(r).set_index(["scenario", "replicate"])
    totals = r.runs.groupby(["scenario", "replicate"])[["returned_households",
                                                        "fiscal_cost_yuan"]].sum()
    np.testing.assert_allclose(out["returns"], totals.loc[out.index, "returned_households"])
    np.testing.assert_allclose(out["fiscal_cost"], totals.loc[out.index, "fiscal_cost_yuan"])
    causes = [f"returns_{c}" for c in CAUSES]
    np.testing.assert_allclose(out[causes].sum(axis=1), out["returns"], atol=1e-6)
    assert isinstance(out, pd.DataFrame)
