"""Sensitivity indices from the runs on disk (SALib 1.6 analysers) and their convergence.

Per sample, an output is the mean over its replicates of the run's aggregated metric (see
spec.default_aggregate). A sample counts only when *all* its replicates succeeded: averaging
over the survivors would change the seeds behind that sample and break the pairing of common
random numbers. Incomplete samples are dropped in the smallest unit the method allows:

    sobol     the base sample's block of D+2 (2D+2) rows      analyze.sobol
    morris    the trajectory (D+1 rows)                        analyze.morris
    fast      nothing can be dropped: indices are NaN          analyze.fast
    rbd_fast  the row                                          analyze.rbd_fast
    latin     the row                                          analyze.rbd_fast (S1) and
                                                               analyze.pawn (median KS)
    grid      the row                                          main and total effect shares

Every interval is the half-width of a bootstrap confidence interval at `conf_level`
(SALib's `*_conf`), with the bootstrap seeded from the sweep seed; a full-factorial grid has
no sampling error and PAWN no bootstrap, so they have no interval. (SALib documents FAST's
bootstrap intervals as indicative only; the note is passed on.) PAWN (Pianosi & Wagener
2015) is the median Kolmogorov-Smirnov distance between the output's distribution and its
distributions conditional on slices of a factor: moment-independent, cheap on any sample.

indices.csv has one row per method, output, factor, index: value and interval; second-order
rows name the pair as "a:b".
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulation.experiments.sweep.design import Design, derived_seed
from simulation.experiments.sweep.spec import SweepSpec

INDEX_COLUMNS = ["method", "output", "factor", "index", "value", "interval"]
RANKING_INDEX = {"sobol": "ST", "morris": "mu_star", "fast": "ST", "rbd_fast": "S1",
                 "latin": "pawn", "grid": "ST"}
"""The index that ranks factors for each method (figures, summaries)."""


@dataclass
class Analysis:
    """Indices of a finished sweep."""

    indices: pd.DataFrame
    convergence: pd.DataFrame | None = None
    s2: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    samples_used: dict[str, int] = field(default_factory=dict)


def sample_table(spec: SweepSpec, design: Design, runs: pd.DataFrame) -> pd.DataFrame:
    """Per sample: factor values, and per output the mean over replicates, its standard
    deviation, the replicates that succeeded and whether the sample is complete."""
    frame = pd.DataFrame({"sample": np.arange(design.rows, dtype=np.int64)})
    for j, k in enumerate(design.names):
        frame[k] = design.values[:, j]
    ok = runs[runs["status"] == "ok"]
    grouped = ok.groupby("sample")
    n_ok = grouped.size().reindex(frame["sample"], fill_value=0).to_numpy()
    complete = n_ok == spec.replicates
    for o in spec.outputs:
        mean = grouped[o.metric].mean().reindex(frame["sample"]).to_numpy()
        sd = grouped[o.metric].std(ddof=1).reindex(frame["sample"]).to_numpy()
        frame[o.metric] = np.where(complete, mean, np.nan)
        frame[f"{o.metric}:sd"] = np.where(complete, sd, np.nan) if spec.replicates > 1 \
            else np.nan
    frame["replicates_ok"] = n_ok
    frame["complete"] = complete
    return frame


def analyze(spec: SweepSpec, design: Design, samples: pd.DataFrame) -> Analysis:
    """Indices of every output with the sweep's method."""
    result = Analysis(pd.DataFrame(columns=INDEX_COLUMNS))
    rows: list[tuple[Any, ...]] = []
    conv_rows: list[tuple[Any, ...]] = []
    for o in spec.outputs:
        y = samples[o.metric].to_numpy(np.float64)
        # Some SALib analysers seed numpy's *global* generator (fast, pawn) and change the
        # warning filters; keep both from leaking into the rest of the program.
        state = np.random.get_state()  # noqa: NPY002 - saved to undo SALib's seeding
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with np.errstate(all="ignore"):
                    out_rows, used, conv = _analyze_one(spec, design, o.metric, y, result)
            finally:
                np.random.set_state(state)  # noqa: NPY002
        rows += out_rows
        conv_rows += conv
        result.samples_used[o.metric] = used
        messages = sorted({str(w.message).splitlines()[0] for w in caught})
        result.notes += [f"{o.metric}: {m}" for m in messages]
    result.indices = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    if spec.method == "sobol":
        result.convergence = pd.DataFrame(conv_rows, columns=[
            "output", "factor", "index", "base_samples", "runs", "value", "interval"])
    return result


def _analyze_one(spec: SweepSpec, design: Design, output: str, y: np.ndarray,
                 result: Analysis) -> tuple[list[tuple[Any, ...]], int, list[tuple[Any, ...]]]:
    names = design.names
    d = len(names)
    problem = design.problem
    conf = float(spec.option("conf_level"))
    boot = derived_seed(spec.seed, 3) % (2**32 - 1) + 1  # SALib treats seed 0 as "no seed"
    rows: list[tuple[Any, ...]] = []

    def add(index: str, values: Any, intervals: Any = None, factors: list[str] = names) -> None:
        values = np.asarray(values, dtype=np.float64).ravel()
        ints = (np.full(values.shape, np.nan) if intervals is None
                else np.asarray(intervals, dtype=np.float64).ravel())
        for f, v, i in zip(factors, values, ints, strict=True):
            rows.append((spec.method, output, f, index, float(v), float(i)))

    def nan_rows(indices: tuple[str, ...], why: str) -> tuple[list[tuple[Any, ...]], int,
                                                             list[tuple[Any, ...]]]:
        result.notes.append(f"{output}: {why}")
        for index in indices:
            add(index, np.full(d, np.nan))
        return rows, 0, []

    if spec.method == "sobol":
        from SALib.analyze import sobol

        block = 2 * d + 2 if spec.second_order else d + 2
        blocks = y.reshape(-1, block)
        keep = np.isfinite(blocks).all(axis=1)
        if keep.sum() < 2:
            return nan_rows(("S1", "ST"), "fewer than 2 complete base samples")
        if not keep.all():
            result.notes.append(f"{output}: {int((~keep).sum())} of {len(keep)} base samples "
                                "dropped (failed runs)")
        kept = blocks[keep]
        if np.ptp(kept) == 0:
            return nan_rows(("S1", "ST"), "output is constant across samples")
        args = {"calc_second_order": spec.second_order, "conf_level": conf,
                "num_resamples": int(spec.option("num_resamples")), "seed": boot}
        si = sobol.analyze(problem, kept.ravel(), **args)
        add("S1", si["S1"], si["S1_conf"])
        add("ST", si["ST"], si["ST_conf"])
        if spec.second_order:
            s2, s2c = np.asarray(si["S2"]), np.asarray(si["S2_conf"])
            result.s2[output] = s2
            pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
            add("S2", [s2[i, j] for i, j in pairs], [s2c[i, j] for i, j in pairs],
                [f"{names[i]}:{names[j]}" for i, j in pairs])
        conv = []
        total = len(kept)
        for n in sorted({max(1, spec.samples // 4), max(1, spec.samples // 2), spec.samples}):
            part = kept[: min(n, total)]
            if len(part) < 2 or np.ptp(part) == 0:
                continue
            sc = sobol.analyze(problem, part.ravel(), **{**args, "calc_second_order":
                                                         spec.second_order})
            for key in ("S1", "ST"):
                for f, v, i in zip(names, sc[key], sc[f"{key}_conf"], strict=True):
                    conv.append((output, f, key, len(part), len(part) * block * spec.replicates,
                                 float(v), float(i)))
        return rows, int(keep.sum()), conv

    if spec.method == "morris":
        from SALib.analyze import morris

        traj = y.reshape(-1, d + 1)
        keep = np.isfinite(traj).all(axis=1)
        if keep.sum() < 2:
            return nan_rows(("mu", "mu_star", "sigma"), "fewer than 2 complete trajectories")
        if not keep.all():
            result.notes.append(f"{output}: {int((~keep).sum())} of {len(keep)} trajectories "
                                "dropped (failed runs)")
        x = design.raw.reshape(-1, d + 1, d)[keep].reshape(-1, d)
        si = morris.analyze(problem, x, traj[keep].ravel(), conf_level=conf,
                            num_resamples=int(spec.option("num_resamples")),
                            num_levels=int(spec.option("num_levels")), seed=boot)
        add("mu", si["mu"])
        add("mu_star", si["mu_star"], si["mu_star_conf"])
        add("sigma", si["sigma"])
        return rows, int(keep.sum()), []

    if spec.method == "fast":
        from SALib.analyze import fast

        if not np.isfinite(y).all():
            return nan_rows(("S1", "ST"), "FAST needs every sample; some runs failed "
                            "(rerun them with --resume --retry-failed)")
        si = fast.analyze(problem, y, M=int(spec.option("M")), conf_level=conf,
                          num_resamples=int(spec.option("num_resamples")), seed=boot)
        add("S1", si["S1"], si["S1_conf"])
        add("ST", si["ST"], si["ST_conf"])
        return rows, len(y), []

    keep = np.isfinite(y)
    if not keep.all():
        result.notes.append(f"{output}: {int((~keep).sum())} of {len(y)} samples dropped "
                            "(failed runs)")
    x, yk = design.raw[keep], y[keep]
    if len(yk) < 3 or np.ptp(yk) == 0:
        indices = {"rbd_fast": ("S1",), "latin": ("S1", "pawn"), "grid": ("S1", "ST")}
        return nan_rows(indices[spec.method], "too few complete samples or constant output")

    if spec.method in ("rbd_fast", "latin"):
        from SALib.analyze import rbd_fast

        si = rbd_fast.analyze(problem, x, yk, M=int(spec.option("M")), conf_level=conf,
                              num_resamples=int(spec.option("num_resamples")), seed=boot)
        add("S1", si["S1"], si["S1_conf"])
    if spec.method == "latin":
        from SALib.analyze import pawn

        si = pawn.analyze(problem, x, yk, S=10, seed=boot)
        add("pawn", si["median"])
    elif spec.method == "grid":
        s1, st = grid_effects(x, yk)
        add("S1", s1)
        add("ST", st)
    return rows, int(keep.sum()), []


def grid_effects(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Main- and total-effect shares of variance on a full-factorial grid.

    S1_j = Var(E[Y | X_j]) / Var(Y); ST_j = 1 - Var(E[Y | X_~j]) / Var(Y), with expectations
    and variances over the grid points (equal weights), i.e. the Sobol' indices of the
    discrete uniform distribution on the grid."""
    frame = pd.DataFrame(x, columns=[f"x{j}" for j in range(x.shape[1])])
    frame["y"] = y
    var = float(np.var(y))
    cols = list(frame.columns[:-1])
    s1, st = [], []
    for c in cols:
        s1.append(float(np.var(frame.groupby(c)["y"].transform("mean"))) / var)
        others = [o for o in cols if o != c]
        if others:
            st.append(1.0 - float(np.var(frame.groupby(others)["y"].transform("mean"))) / var)
        else:
            st.append(1.0)
    return np.array(s1), np.array(st)


def top_factors(indices: pd.DataFrame, method: str) -> dict[str, str]:
    """Most influential factor of each output (by the method's ranking index)."""
    ranked = indices[indices["index"] == RANKING_INDEX[method]].dropna(subset=["value"])
    out = {}
    for output, g in ranked.groupby("output", sort=False):
        out[str(output)] = str(g.loc[g["value"].idxmax(), "factor"])
    return out
