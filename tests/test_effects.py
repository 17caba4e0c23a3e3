"""Knob effects: the ends each knob runs between, the command end to end, and (slow) the signs
the documentation holds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.effects import EXPLANATIONS, MARKER
from simulation.cli import main
from simulation.experiments.effects import effect_scenarios, end_name
from simulation.model.params import KNOBS, SCHEMA
from simulation.model.scenario import load_scenario

TINY = ["--replicates", "2", "--households", "200", "--years", "2", "--policy-date", "2021-01",
        "--workers", "1", "--quiet"]


def test_each_knob_runs_from_its_absent_value_to_its_strong_end() -> None:
    caseload, cap, coverage = (SCHEMA[k] for k in ("responsibility.caseload",
                                                   "social_security.oop_cap",
                                                   "social_security.coverage"))
    assert (caseload.weak_end, caseload.strong_end) == (150.0, 10.0)  # less is more
    assert (cap.weak_end, cap.strong_end) == (100_000.0, 1000.0)
    assert (coverage.weak_end, coverage.strong_end) == (0.0, 1.0)
    for knob in KNOBS:
        assert knob.low <= knob.weak_end <= knob.high and knob.weak_end != knob.strong_end


def test_effect_scenarios_change_one_knob_each() -> None:
    base = load_scenario("baseline")
    scenarios = effect_scenarios(base)
    assert len(scenarios) == 2 * len(KNOBS)
    for k, knob in enumerate(KNOBS):
        weak, strong = scenarios[2 * k], scenarios[2 * k + 1]
        assert (weak.name, strong.name) == (end_name(knob, "weak"), end_name(knob, "strong"))
        assert weak.values[knob.key] == knob.weak_end
        assert strong.values[knob.key] == knob.strong_end
        others = {key for key in base.values if base.values[key] != strong.values[key]}
        assert others <= {knob.key}
        assert strong.policy_month == base.policy_month and strong.schedule == base.schedule


def test_effects_command_writes_the_table_and_never_overwrites_a_users_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "knob-effects.md"
    assert main(["effects", "--doc", str(doc), "--out", str(tmp_path / "e"), *TINY]) == 0
    text = doc.read_text(encoding="utf-8")
    assert text.startswith(MARKER) and text.count("\n| `") == len(KNOBS)
    assert (tmp_path / "e" / "knob-effects.md").read_text(encoding="utf-8") == text
    table = pd.read_csv(tmp_path / "e" / "effects.csv")
    assert list(table["knob"]) == [k.key for k in KNOBS]
    assert (table["replicates"] == 2).all()
    # paired on seeds: an effect's interval brackets its mean
    assert ((table["returns_low"] <= table["returns"])
            & (table["returns"] <= table["returns_high"])).all()
    capsys.readouterr()
    # an earlier table is replaced only when asked
    assert main(["effects", "--doc", str(doc), "--out", str(tmp_path / "f"), *TINY]) == 2
    assert "--replace" in capsys.readouterr().err
    assert not (tmp_path / "f").exists()
    assert main(["effects", "--doc", str(doc), "--out", str(tmp_path / "f"), "--replace",
                 *TINY]) == 0
    # a file the command did not write is never touched
    mine = tmp_path / "notes.md"
    mine.write_text("# my notes\n", encoding="utf-8")
    assert main(["effects", "--doc", str(mine), "--out", str(tmp_path / "g"), *TINY]) == 2
    assert "not written by this command" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == "# my notes\n"


@pytest.mark.slow
def test_each_knobs_strong_end_lowers_returns_or_new_poverty_or_the_docs_say_why(
        tmp_path: Path) -> None:
    """The signs docs/knob-effects.md reports (15 years, policy date 2026-01, paired seeds)."""
    assert main(["effects", "--doc", "none", "--out", str(tmp_path / "e"), "--replicates", "4",
                 "--households", "3000", "--quiet"]) == 0
    table = pd.read_csv(tmp_path / "e" / "effects.csv")
    unexplained = table[~table["lowers"] & ~table["knob"].isin(list(EXPLANATIONS))]
    assert unexplained.empty, unexplained[["knob", "returns", "new_poverty"]].to_string()
