"""County profiles: the shipped profiles validate, M County's file equals the schema defaults,
a scenario's own settings apply on top of any county, a county's values are its status quo
(history, not policy), and bad profiles exit 2 naming the file, the key and the range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulation.cli import main
from simulation.experiments.runner import run_one
from simulation.model.county import (
    DEFAULT_COUNTY,
    load_county,
    shipped_counties,
    template,
)
from simulation.model.params import SCHEMA, defaults
from simulation.model.scenario import ScenarioError, load_scenario

SHIPPED = shipped_counties()


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_profile_validates(path: Path) -> None:
    county = load_county(path)
    assert county.name == path.stem
    assert set(county.values) == set(SCHEMA)


def test_m_county_file_is_the_template_and_the_schema_defaults() -> None:
    path = next(p for p in SHIPPED if p.stem == DEFAULT_COUNTY)
    assert path.read_text(encoding="utf-8") == template()
    assert load_county(DEFAULT_COUNTY).values == defaults()


def test_scenarios_default_to_m_county() -> None:
    sc = load_scenario("baseline")
    assert sc.county.name == DEFAULT_COUNTY
    assert sc.reference_values() == {**defaults(), "monitoring.low_income_recall":
                                     defaults()["monitoring.low_income_recall"]}


def _profile(tmp_path: Path, body: str, name: str = "elsewhere") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_strategy_settings_apply_on_top_of_any_county(tmp_path: Path) -> None:
    path = _profile(tmp_path, 'base = "m_county"\n[shocks]\nhospitalisation_rate = 0.05\n'
                    '[social_security]\ncoverage = 0.7\noop_cap = 20000.0\n')
    county = load_county(path)
    assert county.chain == ("m_county", "elsewhere")
    strategy = load_scenario("social_security").with_county(county)
    # the strategy's own settings win; the county's values hold where the strategy is silent
    assert strategy.values["social_security.coverage"] == 0.98
    assert strategy.values["social_security.oop_cap"] == 6000.0
    assert strategy.values["shocks.hospitalisation_rate"] == 0.05
    # and the county's values are its status quo: the reference, not a policy change
    assert strategy.reference_values()["shocks.hospitalisation_rate"] == 0.05
    assert strategy.reference_values()["social_security.coverage"] == 0.7
    assert "shocks.hospitalisation_rate" not in strategy.policy_changes()
    assert strategy.policy_changes()["social_security.coverage"] == 0.98
    baseline = load_scenario("baseline").with_county(county)
    assert set(strategy.knob_differences(baseline)) == set(
        load_scenario("social_security").knob_differences(load_scenario("baseline")))


def test_scenario_file_names_its_county(tmp_path: Path) -> None:
    _profile(tmp_path, 'base = "m_county"\n[county]\nhouseholds = 90000.0\n')
    (tmp_path / "mine.toml").write_text('base = "baseline"\ncounty_profile = "elsewhere"\n'
                                        '[motivation]\nguidance = 0.9\n', encoding="utf-8")
    sc = load_scenario(tmp_path / "mine.toml")
    assert sc.county.name == "elsewhere"
    assert sc.values["county.households"] == 90000.0
    assert sc.values["motivation.guidance"] == 0.9
    # a resolved scenario names its profile so that it loads again to the same values
    (tmp_path / "resolved.toml").write_text(sc.to_toml(), encoding="utf-8")
    again = load_scenario(tmp_path / "resolved.toml")
    assert again.values == sc.values and again.county.values == sc.county.values


def test_a_county_changes_the_history_a_policy_does_not(tmp_path: Path) -> None:
    """The same seed in another county differs from 2021 on; a strategy in that county shares
    the county's history up to its policy date."""
    county = load_county(_profile(tmp_path, 'base = "m_county"\n[shocks]\n'
                                  "hospitalisation_rate = 0.06\n"))
    small = {"run.households": 300, "run.years": 6}
    here = run_one(load_scenario("baseline").with_values(small), seed=5, record_events=False)
    there = run_one(load_scenario("baseline").with_values(small).with_county(county), seed=5,
                    record_events=False)
    strategy = run_one(load_scenario("social_security").with_values(small).with_county(county),
                       seed=5, record_events=False)
    assert here.years[0] != there.years[0]
    for year in range(5):  # 2021-2025: shared history
        assert there.years[year] == strategy.years[year]
    assert there.years[5] != strategy.years[5]


@pytest.mark.parametrize(("body", "message"), [
    ('[run]\nyears = 3\n', "key 'run.years' describes a run, not a county"),
    ('[sample]\nmarginal = 0.2\n', "key 'sample.marginal' describes a run"),
    ('[shocks]\nhospitalisation_rate = 9\n',
     "key 'shocks.hospitalisation_rate' = 9 is out of range; allowed: a number in [0, 0.3]"),
    ('[shocks]\nhospitalization_rate = 0.1\n', "unknown key 'shocks.hospitalization_rate'"),
    ('base = "nowhere"\n', "key 'base' = 'nowhere' names no county profile"),
    ('policy_date = "2026-01"\n', "unknown key 'policy_date'"),
    ('name = "../x"\n', "key 'name' = '../x' is not a valid name"),
    ('[county]\nhouseholds = "many"\n', "key 'county.households' must be a number"),
])
def test_bad_profiles_exit_2_naming_file_and_key(tmp_path: Path, body: str, message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = _profile(tmp_path, body)
    with pytest.raises(ScenarioError, match="elsewhere.toml"):
        load_county(path)
    assert main(["county", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err


def test_cli_county_option_and_missing_profile(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["simulate", "baseline", "--county", "nowhere", "--years", "1",
                 "--households", "100", "--out", str(out), "--quiet"]) == 2
    assert "nowhere: no such county profile" in capsys.readouterr().err
    assert not out.exists()
    path = _profile(tmp_path, 'base = "m_county"\n[county]\nhouseholds = 90000.0\n')
    assert main(["simulate", "baseline", "--county", str(path), "--years", "1",
                 "--households", "100", "--out", str(out), "--quiet", "--no-figures"]) == 0
    resolved = (out / "scenarios" / "baseline.toml").read_text(encoding="utf-8")
    assert f'county_profile = "{path.resolve()}"' in resolved
    assert "households = 90000.0" in resolved


def test_county_command_lists_differences(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["county"]) == 0
    out = capsys.readouterr().out
    assert out.count("ok:") == len(SHIPPED)
    assert main(["county", "--template"]) == 0
    assert capsys.readouterr().out == template()


def test_county_weights_follow_its_households(tmp_path: Path) -> None:
    """County totals scale with the profile's household count (sample weights)."""
    small = {"run.households": 200, "run.years": 1}
    big = load_county(_profile(tmp_path, 'base = "m_county"\n[county]\nhouseholds = 320000.0\n'))
    a = run_one(load_scenario("baseline").with_values(small), seed=1, record_events=False)
    b = run_one(load_scenario("baseline").with_values(small).with_county(big), seed=1,
                record_events=False)
    assert np.isclose(b.years[0]["formerly_poor_households"],
                      2 * a.years[0]["formerly_poor_households"])
