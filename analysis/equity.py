"""Who returns: falls below the line by household type and by village.

Household types are read from households.parquet (the households as they entered 2021) and
overlap (a household can be chronic and industry-linked); each is compared with all households
of the same population. Shares are per run, then averaged over replicates with 95% t-intervals;
differences against the baseline are paired on seeds.

Two populations:
    formerly_poor  formerly poor households; a fall is a return to poverty. In the synthetic
                   county one stratum weight, so the county-weighted share equals the raw
                   share (households from records carry their own weights).
    all            every household; a fall is a return or new poverty. Weighted shares
                   describe the county, raw shares the simulated (oversampled) sample.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import pandas as pd

from analysis.results_io import Results
from simulation.model.codes import DIBAO

HouseholdMask = Callable[[pd.DataFrame], pd.Series]

HOUSEHOLD_TYPES: Final[dict[str, tuple[str, HouseholdMask]]] = {
    "all": ("all (reference)", lambda h: pd.Series(True, index=h.index)),
    "chronic": ("with a chronic patient", lambda h: h["chronic"].astype(bool)),
    "disability": ("with a disabled member", lambda h: h["disabled"] > 0),
    "no_labour": ("without labour capacity (no worker)", lambda h: h["workers"] == 0),
    "elderly_only": ("elderly only (every member elderly)",
                     lambda h: h["elderly"] == h["members"]),
    "migrant_dependent": ("migrant-wage dependent (at least half the workers migrate)",
                          lambda h: (h["migrants"] > 0) & (2 * h["migrants"] >= h["workers"])),
    "industry_linked": ("industry-linked (利益联结, benefit linkage to a project)",
                        lambda h: h["linked"].astype(bool)),
    "dibao_2021": ("on 低保 or 特困 in January 2021",
                   lambda h: h["programme"] >= DIBAO),
    "key_village": ("in a key village (resident first secretary)",
                    lambda h: h["key_village"].astype(bool)),
    "other_village": ("in another village", lambda h: ~h["key_village"].astype(bool)),
}
POPULATIONS: Final = {"formerly_poor": "formerly poor households (returns)",
                      "all": "all households (returns and new poverty)"}


def _fell(results: Results) -> pd.Series:
    """Falls over the horizon of each household (rows of results.households)."""
    return results.memo("falls_per_household", lambda: _count_falls(results)).copy()


def _count_falls(results: Results) -> pd.Series:
    falls = results.events[results.events["event"] == "fall"]
    counted = falls.groupby(["scenario", "replicate", "household"], sort=False).size()
    hh = results.households.set_index(["scenario", "replicate", "household"]).index
    return pd.Series(counted.reindex(hh).fillna(0).to_numpy(), index=results.households.index)


def by_household_type(results: Results) -> pd.DataFrame:
    """Per run, population and household type: county and sample households, households
    that fell at least once over the horizon (county), share fell weighted and raw, and falls
    per 100 households (county-weighted).

    Returns:
        Long frame: scenario, replicate, seed, population, group, households, sample,
        fell, share, share_raw, falls_per_100.
    """
    hh = results.households
    falls = _fell(results).to_numpy()
    weight = results.weight_column(hh)
    seed = results.runs.drop_duplicates(["scenario", "replicate"]).set_index(
        ["scenario", "replicate"])["seed"]
    # group by one integer per run (its first row among the households) rather than by the
    # scenario's text: the same groups in the same order, without hashing 20 x 600,000
    # strings; the run's scenario and replicate are put back after the sums
    runs = hh[["scenario", "replicate"]].drop_duplicates()
    run_code = pd.Series(np.arange(len(runs)), index=pd.MultiIndex.from_frame(runs))
    code = run_code.reindex(pd.MultiIndex.from_arrays(
        [hh["scenario"].to_numpy(), hh["replicate"].to_numpy()])).to_numpy()
    every_run = np.arange(len(runs))
    frames = []
    for population in POPULATIONS:
        in_pop = (hh["category"] == 0) if population == "formerly_poor" else \
            pd.Series(True, index=hh.index)
        for group, (_, mask) in HOUSEHOLD_TYPES.items():
            sel = (in_pop & mask(hh)).to_numpy()
            part = pd.DataFrame({
                "run": code[sel], "w": weight[sel], "fell": (falls[sel] > 0).astype(float),
                "falls": falls[sel]})
            part["w_fell"] = part["w"] * part["fell"]
            part["w_falls"] = part["w"] * part["falls"]
            # a type absent from a run (small samples) still gets its row: 0 households
            agg = part.groupby("run", sort=False).agg(
                households=("w", "sum"), sample=("w", "size"), fell=("w_fell", "sum"),
                fell_raw=("fell", "sum"), falls=("w_falls", "sum")) \
                .reindex(every_run, fill_value=0)
            agg.insert(0, "scenario", runs["scenario"].to_numpy())
            agg.insert(1, "replicate", runs["replicate"].to_numpy())
            agg = agg.reset_index(drop=True)
            agg["population"], agg["group"] = population, group
            frames.append(agg)
    out = pd.concat(frames, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share"] = out["fell"] / out["households"]
        out["share_raw"] = out["fell_raw"] / out["sample"]
        out["falls_per_100"] = 100.0 * out["falls"] / out["households"]
    out["seed"] = seed.reindex(pd.MultiIndex.from_frame(out[["scenario", "replicate"]])) \
        .to_numpy()
    return out[["scenario", "replicate", "seed", "population", "group", "households", "sample",
                "fell", "share", "share_raw", "falls_per_100"]]


def by_village(results: Results) -> pd.DataFrame:
    """Per run and village: formerly poor sample households, the share of them that returned
    at least once, and whether the village is a key village.

    Village numbers identify villages within one replicate only (every seed draws a new
    county), so villages are compared through their distribution, not one by one.
    """
    hh = results.households
    fp = hh["category"] == 0
    part = hh.loc[fp, ["scenario", "replicate", "village", "key_village"]].copy()
    part["returned"] = (_fell(results)[fp] > 0).astype(float)
    out = part.groupby(["scenario", "replicate", "village"], sort=False).agg(
        key_village=("key_village", "first"), formerly_poor=("returned", "size"),
        returned_share=("returned", "mean")).reset_index()
    return out


def village_concentration(villages: pd.DataFrame, min_households: int = 10) -> pd.DataFrame:
    """Per run: how unequally returns spread over villages — the share of all returning
    households found in the fifth of villages with the highest return share (villages with
    at least `min_households` formerly poor sample households)."""
    v = villages[villages["formerly_poor"] >= min_households].copy()
    v["returned"] = v["returned_share"] * v["formerly_poor"]
    rows = []
    for (scenario, replicate), g in v.groupby(["scenario", "replicate"], sort=False):
        g = g.sort_values("returned_share", ascending=False)
        top = max(1, int(np.ceil(len(g) / 5)))
        total = g["returned"].sum()
        rows.append((scenario, replicate, len(g),
                     float(g["returned"].iloc[:top].sum() / total) if total else np.nan))
    return pd.DataFrame(rows, columns=["scenario", "replicate", "villages", "top_fifth_share"])
