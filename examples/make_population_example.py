"""Write a synthetic example of a population file (docs/population-format.md).

    python examples/make_population_example.py [--households N] [--seed S]
                                               [--out examples/population_example.csv] [--replace]

The households are the model's own synthetic county (simulation.model.population, baseline
scenario, N sample households on seed S) as it enters 2021, written as household records:
members with their age, sex, labour and health; last year's income by source; 低保/特困 as
the county's rules enrol them; the stratum weights. So the example is as realistic as the
synthetic county, and running it with `--population` gives a county like the synthetic one.
It holds no real household.

Income by source (yuan a year): production is the household's production base; property the
model's property income; transfers the basic pensions of members of pension age plus the
formerly poor subsidy; wages the rest of the household's income target (never below 0).
Monitoring: the synthetic county starts with nobody monitored; to show the column, formerly
poor and marginal households whose 2021 income is inside the alert band are written as
`monitored` (an illustration, not a rule of the model).

The file is written atomically. An existing file is replaced only with --replace, and only if
it is an earlier example (its header row is the one this script writes): a file this script
did not write is never overwritten.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulation.common.output import atomic_write_text  # noqa: E402
from simulation.model.codes import (  # noqa: E402
    CATEGORIES,
    DIBAO,
    FEMALE,
    FORMERLY_POOR,
    LOCAL,
    MIGRANT,
    ORDINARY,
    STUDENT,
    TEKUN,
    K,
)
from simulation.model.microdata import HOUSEHOLD_COLUMNS, MEMBER_FIELDS  # noqa: E402
from simulation.model.params import as_namespace  # noqa: E402
from simulation.model.population import build_population  # noqa: E402
from simulation.model.scenario import load_scenario  # noqa: E402
from simulation.model.state import initial_state, member_counts  # noqa: E402

DEFAULT_OUT = ROOT / "examples" / "population_example.csv"
COLUMNS = (*HOUSEHOLD_COLUMNS, "programme", "monitoring",
           *(f"{field}_{k}" for k in range(1, K + 1) for field in MEMBER_FIELDS))
LABOUR = {LOCAL: "local", MIGRANT: "migrant", STUDENT: "student"}


def example_rows(households: int, seed: int) -> list[dict[str, str]]:
    """The synthetic county's households as rows of the population format."""
    scenario = load_scenario("baseline").with_values({"run.households": households})
    p = as_namespace(scenario.reference_values())
    pop = build_population(p, np.random.default_rng(seed))
    state, _ = initial_state(p, pop)
    hh, people = pop.households, pop.people
    inc = p.income
    counts = member_counts(people["age"], people["present"], people["role"],
                           people["disabled"], people["chronic"], p.demography.pension_age)
    members = counts["members"].astype(np.float64)
    production = hh["production"] * 12.0
    prop = np.full(pop.n, inc.property * 12.0)
    transfers = 12.0 * (counts["elderly"] * inc.pension
                        + (hh["category"] == FORMERLY_POOR) * inc.formerly_poor_subsidy)
    wages = np.maximum(hh["income_target"] * members - production - prop - transfers, 0.0)
    alert = state["pc12"] < p.policy.line_2021 * p.monitoring.alert_band
    monitored = alert & (hh["category"] != ORDINARY)
    rows = []
    for i in range(pop.n):
        programme = {DIBAO: "dibao", TEKUN: "tekun"}.get(int(state["programme"][i]), "none")
        row = {"household": f"H{i + 1:05d}", "village": f"V{int(hh['village'][i]) + 1:03d}",
               "category": CATEGORIES[int(hh["category"][i])],
               "weight": repr(float(pop.weights[i])),
               "income_wages": f"{wages[i]:.0f}", "income_production": f"{production[i]:.0f}",
               "income_transfers": f"{transfers[i]:.0f}", "income_property": f"{prop[i]:.0f}",
               "programme": programme,
               "monitoring": "monitored" if monitored[i] else "none"}
        for k in range(K):
            here = bool(people["present"][i, k])
            slot = k + 1
            row[f"age_{slot}"] = str(int(people["age"][i, k])) if here else ""
            row[f"sex_{slot}"] = ("female" if people["sex"][i, k] == FEMALE else "male") \
                if here else ""
            row[f"labour_{slot}"] = LABOUR.get(int(people["role"][i, k]), "none") \
                if here else ""
            row[f"disabled_{slot}"] = ("yes" if people["disabled"][i, k] else "no") \
                if here else ""
            row[f"chronic_{slot}"] = ("yes" if people["chronic"][i, k] else "no") \
                if here else ""
        rows.append(row)
    return rows


def to_csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def check_target(out: Path, replace: bool) -> None:
    """Refuse a path holding anything but an earlier example (and that without --replace)."""
    if not out.exists():
        if not out.parent.is_dir():
            raise SystemExit(f"error: {out}: folder {out.parent} does not exist")
        return
    if not out.is_file():
        raise SystemExit(f"error: {out}: exists and is not a file")
    with out.open(encoding="utf-8", errors="replace") as fh:
        header = fh.readline().strip()
    if header != ",".join(COLUMNS):
        raise SystemExit(f"error: {out}: exists and was not written by this script; choose "
                         "another --out")
    if not replace:
        raise SystemExit(f"error: {out}: holds an earlier example; add --replace to replace it")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=300,
                        help="households in the example (default 300; at least 50)")
    parser.add_argument("--seed", type=int, default=2021, help="seed (default 2021)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="file to write (default examples/population_example.csv)")
    parser.add_argument("--replace", action="store_true",
                        help="replace an earlier example written by this script")
    args = parser.parse_args(argv)
    check_target(args.out, args.replace)
    atomic_write_text(args.out, to_csv(example_rows(args.households, args.seed)))
    print(f"wrote {args.out} ({args.households} households, seed {args.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
