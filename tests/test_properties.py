"""Properties over random valid scenarios (Hypothesis): both engines agree, outputs are
well-formed, households are conserved."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.model.agents_engine import PovertyModel
from simulation.model.arrays_engine import ArrayModel
from simulation.model.metrics import METRICS
from simulation.model.params import SCHEMA
from simulation.model.scenario import load_scenario

TUNABLE = [k for k, p in SCHEMA.items()
           if not k.startswith(("run.", "county.", "sample."))]


@st.composite
def scenarios(draw):  # type: ignore[no-untyped-def]
    """A valid scenario: a few keys anywhere in their schema range."""
    keys = draw(st.lists(st.sampled_from(TUNABLE), min_size=1, max_size=6, unique=True))
    values = {}
    for key in keys:
        p = SCHEMA[key]
        if p.integer:
            values[key] = draw(st.integers(int(p.low), int(min(p.high, p.low + 60))))
        else:
            values[key] = draw(st.floats(p.low, p.high, allow_nan=False))
    values["run.households"] = draw(st.integers(50, 160))
    values["run.years"] = draw(st.integers(1, 2))
    sc = load_scenario("baseline")
    if values.get("shocks.bill_min", sc.values["shocks.bill_min"]) >= values.get(
            "shocks.bill_max", sc.values["shocks.bill_max"]):
        values.pop("shocks.bill_min", None)
        values.pop("shocks.bill_max", None)
    if values.get("shocks.accident_bill_min", sc.values["shocks.accident_bill_min"]) >= \
            values.get("shocks.accident_bill_max", sc.values["shocks.accident_bill_max"]):
        values.pop("shocks.accident_bill_min", None)
        values.pop("shocks.accident_bill_max", None)
    return sc.with_values(values)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**31 - 1))
def test_engines_agree_and_outputs_are_well_formed(scenario, seed) -> None:  # type: ignore[no-untyped-def]
    agents, arrays = PovertyModel(scenario, rng=seed), ArrayModel(scenario, rng=seed)
    agents.run()
    arrays.run()
    assert len(agents.years) == scenario.years
    for ya, yb in zip(agents.years, arrays.years, strict=True):
        assert np.array_equal(np.array(list(ya.values())), np.array(list(yb.values())))
        assert set(ya) == set(METRICS)
        for name, value in ya.items():
            assert math.isfinite(value), name
            if METRICS[name][0] == "share" or name.endswith("_share"):
                assert -1e-12 <= value <= 1 + 1e-12, (name, value)
            if name.startswith(("returned", "newly_poor", "cause_", "monitor", "risk_",
                                "below_line", "fiscal_cost")):
                assert value >= 0, (name, value)
    final = arrays.snapshot()
    assert len(final["category"]) == scenario.households
    assert (final["workers"] >= 0).all() and (final["migrants"] <= final["workers"]).all()
    assert (final["unemployed"] <= final["migrants"]).all()
    assert (final["savings"] >= -1e-6).all()
    assert np.array_equal(agents.event_table(), arrays.event_table())
