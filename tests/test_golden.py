"""Golden output: a few yearly numbers of one seeded run, pinned exactly.

Any change to the model's rules, draws or defaults changes these numbers. That is allowed, but
only on purpose: regenerate the file with

    UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

and add a line to CHANGELOG.md saying what changed in the model and why.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from simulation.experiments.runner import run_one
from simulation.model.scenario import load_scenario

GOLDEN = Path(__file__).resolve().parent / "golden" / "baseline_seed2021.json"
METRICS = ("returned_households", "newly_poor_households", "below_line_share_formerly_poor",
           "monitored_stock", "income_per_capita_formerly_poor", "fiscal_cost_yuan")
RUN = {"scenario": "baseline", "seed": 2021, "households": 1000, "years": 5}


def pinned() -> dict[str, object]:
    sc = load_scenario(RUN["scenario"]).with_values({"run.households": RUN["households"],
                                                     "run.years": RUN["years"]})
    result = run_one(sc, RUN["seed"], engine="arrays", record_events=False)
    return {"run": RUN, "years": [{m: year[m] for m in ("year", *METRICS)}
                                  for year in result.years]}


def test_golden_output() -> None:
    got = pinned()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(got, indent=1) + "\n", encoding="utf-8")
        pytest.skip("golden output rewritten; add a CHANGELOG.md line")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got == expected, ("the model's output changed; if on purpose, regenerate with "
                             "UPDATE_GOLDEN=1 and add a CHANGELOG.md line")
