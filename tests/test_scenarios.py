"""Scenario files: shipped files validate; bad files are rejected with one message naming
the file, the key and the allowed range (exit code 2 from the CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from simulation.cli import main
from simulation.model.params import KNOBS, MECHANISMS, SCHEMA
from simulation.model.scenario import ScenarioError, load_scenario, shipped_scenarios

SHIPPED = shipped_scenarios()


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_validates(path: Path) -> None:
    sc = load_scenario(path)
    assert sc.name == path.stem
    assert set(sc.values) == set(SCHEMA)


def test_cli_validates_all_shipped(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", *map(str, SHIPPED)]) == 0
    assert capsys.readouterr().out.count("ok:") == len(SHIPPED)


def test_expected_scenarios_are_shipped() -> None:
    names = {p.stem for p in SHIPPED}
    assert {"baseline", "responsibility", "social_security", "industry", "motivation",
            "combined", "transfer_withdrawal", "no_monitoring", "disaster",
            "downturn"} <= names


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_each_strategy_moves_only_its_mechanism(mechanism: str) -> None:
    base, strategy = load_scenario("baseline"), load_scenario(mechanism)
    changed = strategy.knob_differences(base)
    assert changed, f"{mechanism} changes nothing"
    assert all(SCHEMA[k].mechanism == mechanism for k in changed)


def test_combined_is_the_union_of_the_four_strategies() -> None:
    base, combined = load_scenario("baseline"), load_scenario("combined")
    union: dict[str, float] = {}
    for mechanism in MECHANISMS:
        union.update({k: v[1] for k, v in load_scenario(mechanism).knob_differences(base).items()})
    assert {k: v[1] for k, v in combined.knob_differences(base).items()} == union


def test_inheritance_overrides_only_what_changes(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        'base = "social_security"\n[industry]\npositioning = 0.9\n', encoding="utf-8")
    sc = load_scenario(tmp_path / "mine.toml")
    assert sc.values["industry.positioning"] == 0.9
    assert sc.values["social_security.coverage"] == load_scenario(
        "social_security").values["social_security.coverage"]
    assert sc.chain == ("baseline", "social_security", "mine")


def test_schedule_and_disasters_parse() -> None:
    tw = load_scenario("transfer_withdrawal")
    # the baseline's 2026 regime first, then the scenario's own change
    assert [(c.month, dict(c.values)) for c in tw.schedule] == [
        (60, {"monitoring.low_income_recall": 0.3}), (60, {"income.formerly_poor_subsidy": 0.0})]
    nm = load_scenario("no_monitoring")
    assert [dict(c.values) for c in nm.schedule][-1] == {"monitoring.low_income_recall": 0.0}
    d = load_scenario("disaster").disasters[0]
    assert (d.month, d.village_share, d.months) == (6 * 12 + 6, 0.33, 9)


def test_resolved_toml_round_trips(tmp_path: Path) -> None:
    for name in ("downturn", "disaster", "combined"):
        sc = load_scenario(name)
        path = tmp_path / f"{name}.toml"
        path.write_text(sc.to_toml(), encoding="utf-8")
        again = load_scenario(path)
        assert dict(again.values) == dict(sc.values)
        assert again.schedule == sc.schedule and again.disasters == sc.disasters


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _rejected(path: Path, capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1, f"one message expected, got: {err}"
    assert str(path) in err
    for needle in needles:
        assert needle in err, err
    return err


def test_unknown_key_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "[responsibility]\nduty_performence = 0.5\n")
    _rejected(path, capsys, "responsibility.duty_performence", "did you mean",
              "responsibility.duty_performance")


def test_unknown_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _rejected(_write(tmp_path, "[magic]\nx = 1\n"), capsys, "magic", "allowed top-level keys")


def test_malformed_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _rejected(_write(tmp_path, "[responsibility\nduty = \n"), capsys, "not valid TOML")


def test_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b"[responsibility]\nduty_performance = 0.5 # \xff\xfe\n")
    _rejected(path, capsys, "UTF-8")


def test_missing_file_and_base(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert "no such scenario file" in capsys.readouterr().err
    _rejected(_write(tmp_path, 'base = "does_not_exist"\n'), capsys, "does_not_exist")


def test_base_cycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.toml").write_text('base = "b"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('base = "a"\n', encoding="utf-8")
    assert main(["validate", str(tmp_path / "a.toml")]) == 2
    assert "cycle" in capsys.readouterr().err


def test_bad_schedule_entries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _rejected(_write(tmp_path, '[[schedule]]\ndate = "2026-13"\nset = { "x.y" = 1 }\n'),
              capsys, "schedule[0].date", "YYYY-MM")
    _rejected(_write(tmp_path, '[[schedule]]\ndate = "2026-01"\n'
                               'set = { "industry.positioning" = 2.0 }\n'),
              capsys, "industry.positioning", "[0, 1]")
    _rejected(_write(tmp_path, '[[schedule]]\ndate = "2026-01"\n'
                               'set = { "run.households" = 500 }\n'), capsys, "schedule[0].set")
    _rejected(_write(tmp_path, '[[disasters]]\ndate = "2027-07"\nvillage_share = 3\n'),
              capsys, "disasters[0].village_share", "[0, 1]")


def test_cross_key_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _rejected(_write(tmp_path, "[shocks]\nbill_min = 9000\nbill_max = 20000\n"
                               "accident_bill_min = 20000\naccident_bill_max = 10000\n"),
              capsys, "accident_bill_min")


keys = st.sampled_from(sorted(SCHEMA))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=keys, where=st.sampled_from(["below", "above"]), margin=st.floats(1e-3, 1e6))
@example(key="social_security.coverage", where="above", margin=0.5)
def test_any_out_of_range_value_exits_2_naming_key_and_range(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, where: str,
        margin: float) -> None:
    p = SCHEMA[key]
    value = p.low - margin if where == "below" else p.high + margin
    if p.integer:
        value = int(value) - 1 if where == "below" else int(value) + 1
    section, name = key.split(".", 1)
    path = _write(tmp_path, f"[{section}]\n{name} = {value!r}\n")
    _rejected(path, capsys, f"'{key}'", "out of range", "allowed")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=keys, bad=st.sampled_from(['"high"', "true", "[1, 2]", "{ a = 1 }"]))
def test_any_wrongly_typed_value_exits_2_naming_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, bad: str) -> None:
    section, name = key.split(".", 1)
    path = _write(tmp_path, f"[{section}]\n{name} = {bad}\n")
    err = _rejected(path, capsys)
    assert name in err


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from([k.key for k in KNOBS]), st.floats(0, 1),
                       max_size=5))
def test_valid_knob_values_are_accepted(overrides: dict[str, float]) -> None:
    base = load_scenario("baseline")
    ok = {k: max(min(v * SCHEMA[k].high, SCHEMA[k].high), SCHEMA[k].low)
          for k, v in overrides.items()}
    ok = {k: (int(v) if SCHEMA[k].integer else v) for k, v in ok.items()}
    assert base.with_values(ok).values.items() >= ok.items()


def test_command_line_overrides_are_validated() -> None:
    with pytest.raises(ScenarioError, match="run.households"):
        load_scenario("baseline").with_values({"run.households": 3})
