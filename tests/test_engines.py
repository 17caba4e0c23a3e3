"""The two engines agree exactly: same scenario and seed => bit-identical yearly series,
events and final state of every household (np.array_equal, not a tolerance)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from simulation.model.agents_engine import PovertyModel
from simulation.model.arrays_engine import ArrayModel
from simulation.model.scenario import load_scenario, shipped_scenarios
from simulation.model.state import FIELDS, PERSON_FIELDS

SCENARIOS = [p.stem for p in shipped_scenarios()]
SEEDS = (1, 22, 333)


def _pair(name: str, seed: int, years: int, households: int = 300,  # type: ignore[no-untyped-def]
          policy_month: int = 12):
    # the strategies take effect in the second year here, so short runs cover them
    sc = replace(load_scenario(name).with_values({"run.years": years,
                                                  "run.households": households}),
                 policy_month=policy_month)
    agents = PovertyModel(sc, rng=seed, log_shocks=True)
    arrays = ArrayModel(sc, rng=seed, log_shocks=True)
    agents.run()
    arrays.run()
    return agents, arrays


def _assert_identical(agents: PovertyModel, arrays: ArrayModel) -> None:
    assert len(agents.years) == len(arrays.years)
    for ya, yb in zip(agents.years, arrays.years, strict=True):
        assert ya.keys() == yb.keys()
        a = np.array(list(ya.values()))
        b = np.array(list(yb.values()))
        assert np.array_equal(a, b), {k: (ya[k], yb[k]) for k in ya if ya[k] != yb[k]}
    assert np.array_equal(agents.event_table(), arrays.event_table())
    sa, sb = agents.snapshot(), arrays.snapshot()
    assert sa.keys() == sb.keys() == set(FIELDS) | {"ring", "ring_h", "losses"}
    for key in sa:
        assert np.array_equal(sa[key], sb[key]), key
    pa, pb = agents.people_snapshot(), arrays.people_snapshot()
    assert pa.keys() == pb.keys() == set(PERSON_FIELDS)
    for key in pa:
        assert np.array_equal(pa[key], pb[key]), key


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", SCENARIOS)
def test_engines_bit_identical(name: str, seed: int) -> None:
    # 7 years reach the 2026 transfer withdrawal and the July 2027 flood
    years = 7 if name in ("transfer_withdrawal", "disaster", "downturn") else 4
    _assert_identical(*_pair(name, seed, years))


def test_engines_identical_with_scheduled_knob_changes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Mid-run changes of every kind of knob (partners appear and go, coverage moves...)."""
    path = tmp_path / "moving.toml"
    path.write_text(
        'base = "baseline"\n'
        '[[schedule]]\ndate = "2021-07"\nset = { "responsibility.social_participation" = 80.0,'
        ' "social_security.coverage" = 0.95, "industry.linkage_share" = 0.9 }\n'
        '[[schedule]]\ndate = "2022-03"\nset = { "responsibility.social_participation" = 10.0,'
        ' "monitoring.lag_days" = 0, "income.formerly_poor_subsidy" = 200.0 }\n'
        '[[disasters]]\ndate = "2021-09"\nvillage_share = 0.5\n', encoding="utf-8")
    sc = load_scenario(path).with_values({"run.years": 3, "run.households": 300})
    for seed in SEEDS:
        agents, arrays = PovertyModel(sc, rng=seed), ArrayModel(sc, rng=seed)
        agents.run()
        arrays.run()
        _assert_identical(agents, arrays)


@pytest.mark.slow
def test_engines_identical_full_horizon() -> None:
    _assert_identical(*_pair("combined", 5, 15, households=1000,
                             policy_month=(2026 - 2021) * 12))


def test_engines_identical_on_household_records(tmp_path: Path) -> None:
    """A population read from records (examples/population_example.csv: recorded 低保/特困,
    monitored households; here with a weight of its own for every household) runs the same in
    both engines."""
    example = Path(__file__).resolve().parent.parent / "examples" / "population_example.csv"
    lines = example.read_text(encoding="utf-8").splitlines()
    weight = lines[0].split(",").index("weight")
    rows = [line.split(",") for line in lines[1:]]
    for i, row in enumerate(rows):
        row[weight] = repr(float(row[weight]) * (1.0 + i / 100.0))
    path = tmp_path / "pop.csv"
    path.write_text("\n".join([lines[0], *(",".join(row) for row in rows)]) + "\n",
                    encoding="utf-8")
    sc = replace(load_scenario("combined").with_values({"run.years": 3}),
                 policy_month=12).with_population(path)
    for seed in SEEDS[:2]:
        agents = PovertyModel(sc, rng=seed, log_shocks=True)
        arrays = ArrayModel(sc, rng=seed, log_shocks=True)
        agents.run()
        arrays.run()
        _assert_identical(agents, arrays)
