"""Scenario discovery: knob ranges (boxes) in which an output stays below (or above) a threshold.

Uses PRIM (Friedman & Fisher 1999) as maintained in EMA Workbench 3.0
(`ema_workbench.analysis.prim.Prim`, Kwakkel 2017) on the samples of a finished sweep: x = the
sweep's factors (model units), y = whether the sample's output (mean over replicates, see
analysis.py) meets the condition. A Latin-hypercube sweep (method "latin") is the natural
input; any method's samples work.

PRIM peels a box step by step; each step trades *coverage* (share of all samples meeting the
condition that lie inside the box) for *density* (share of samples inside the box that meet
it). We select, on each box's peeling trajectory, the step with the highest coverage among
those with density >= --min-density (the usual scenario-discovery rule, Bryant & Lempert
2010); if no step is that dense, the densest step. Further boxes (--boxes) are searched among
the samples outside the earlier boxes. Quasi-p-values say whether a restriction is
statistically meaningful (EMA Workbench's binomial test; > 0.05 suggests dropping it).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.experiments.sweep.errors import SweepError


@dataclass
class Box:
    """One selected PRIM box."""

    number: int
    coverage: float
    density: float
    mass: float
    samples: int
    limits: pd.DataFrame  # factor, low, high, restricted_low, restricted_high, qp_low, qp_high
    trajectory: pd.DataFrame
    step: int


@dataclass
class Discovery:
    """Result of scenario discovery on one output."""

    metric: str
    condition: str
    threshold: float
    samples: int
    cases: int
    boxes: list[Box] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_sweep_samples(folder: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """Manifest and per-sample table of a finished sweep folder (SweepError if unusable)."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not folder.is_dir():
        raise SweepError(f"{folder}: no such sweep results folder")
    if not manifest_path.is_file():
        raise SweepError(f"{folder}: not a sweep results folder (no manifest.json)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("kind") != "poverty-return sweep":
        raise SweepError(f"{folder}/manifest.json: not a sweep results folder")
    if manifest.get("status") != "complete" or not (folder / "samples.csv").is_file():
        raise SweepError(f"{folder}: the sweep is not complete ({manifest.get('runs_on_disk')} "
                         f"of {manifest.get('total_runs')} runs); finish it with "
                         "`python run.py sweep SWEEP.toml --resume --out "
                         f"{folder}`")
    samples = pd.read_csv(folder / "samples.csv")
    return manifest, samples


def discover(folder: Path, metric: str, threshold: float, *, below: bool = True,
             min_density: float = 0.8, boxes: int = 1, peel_alpha: float = 0.05,
             paste_alpha: float = 0.05, mass_min: float = 0.05) -> Discovery:
    """Find up to `boxes` PRIM boxes where `metric` < threshold (or > with below=False)."""
    manifest, samples = load_sweep_samples(folder)
    outputs = [o["metric"] for o in manifest["outputs"]]
    if metric not in outputs:
        raise SweepError(f"--metric {metric!r} is not an output of the sweep in {folder}; "
                         f"allowed: {', '.join(outputs)}")
    factors = manifest["factors"]
    ok = samples[samples["complete"].astype(bool)].reset_index(drop=True)
    # Integer knobs go in as floats: EMA Workbench 3.0.0's PRIM fails on int64 columns under
    # pandas 3 (EMAworkbench#448, fixed after 3.0.0 by PR #451); their limits are rounded
    # inward afterwards, which keeps the same samples inside the box.
    x = pd.DataFrame({f["key"]: ok[f["key"]].astype(np.float64) for f in factors})
    values = ok[metric].to_numpy(np.float64)
    y = values < threshold if below else values > threshold
    condition = "below" if below else "above"
    result = Discovery(metric, condition, threshold, len(y), int(y.sum()))
    if len(y) < len(samples):
        result.notes.append(f"{len(samples) - len(y)} samples with failed runs left out")
    if result.cases == 0:
        result.notes.append(f"no sample has {metric} {condition} {threshold:g} (range of the "
                            f"sample means: {values.min():g} to {values.max():g})")
        return result
    if result.cases == len(y):
        result.notes.append(f"every sample has {metric} {condition} {threshold:g}: no knob "
                            "needs restricting within the swept ranges")
        return result

    found, notes = prim_boxes(x, y, factors, min_density=min_density, boxes=boxes,
                              peel_alpha=peel_alpha, paste_alpha=paste_alpha,
                              mass_min=mass_min)
    result.boxes += found
    result.notes += notes
    if not result.boxes:
        result.notes.append("PRIM found no box")
    return result


def prim_boxes(x: pd.DataFrame, y: np.ndarray, factors: list[dict[str, Any]], *,
               min_density: float = 0.8, boxes: int = 1, peel_alpha: float = 0.05,
               paste_alpha: float = 0.05, mass_min: float = 0.05
               ) -> tuple[list[Box], list[str]]:
    """Up to `boxes` PRIM boxes of the cases `y` (bool) in `x` (float columns, one per factor:
    dicts with key, low, high, integer, unit), each selected on its peeling trajectory by the
    rule of the module docstring; and notes. Used by `discover` (a sweep's samples) and by
    analysis.robustness (the futures where a strategy loses its lead)."""
    found: list[Box] = []
    notes: list[str] = []
    with warnings.catch_warnings():
        # EMA Workbench warns at import that ipyparallel is absent (not used here), and its
        # pandas calls may raise deprecation notices the user cannot act on.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        from ema_workbench.analysis import prim

        finder = prim.Prim(x, y, peel_alpha=peel_alpha, paste_alpha=paste_alpha,
                           mass_min=mass_min)
        for number in range(1, boxes + 1):
            box = finder.find_box()
            if box is None:
                break
            traj = box.peeling_trajectory.reset_index(drop=True)
            dense = traj[traj["density"] >= min_density]
            if dense.empty:
                step = int(traj["density"].idxmax())
                notes.append(f"box {number}: no step reaches density {min_density:g}; "
                             f"the densest step ({traj.loc[step, 'density']:.2f}) is shown")
            else:
                best = dense.sort_values(["coverage", "res_dim"], ascending=[False, True])
                step = int(best.index[0])
            box.select(step)
            stats, limits = box.inspect(step, style="data")[0]
            if float(stats["coverage"]) <= 0:
                break
            table = _limits(box.box_lims[step], box.box_lims[0], limits, factors)
            traj = traj.assign(box=number, selected=traj.index == step)
            found.append(Box(number, float(stats["coverage"]), float(stats["density"]),
                             float(stats["mass"]), int(stats["n"]), table, traj, step))
    return found, notes


def _limits(lims: pd.DataFrame, initial: pd.DataFrame, inspected: pd.DataFrame,
            factors: list[dict[str, Any]]) -> pd.DataFrame:
    """Box limits per factor; an unrestricted side shows the factor's sweep bound."""
    rows = []
    qp = inspected.droplevel(0, axis=1) if isinstance(inspected.columns, pd.MultiIndex) \
        else inspected
    for f in factors:
        key = f["key"]
        lo, hi = float(lims.loc[0, key]), float(lims.loc[1, key])
        r_lo, r_hi = lo > float(initial.loc[0, key]), hi < float(initial.loc[1, key])
        qp_lo = qp_hi = np.nan
        if key in qp.index:
            vals = qp.loc[key].to_numpy()
            qp_lo, qp_hi = float(vals[2]), float(vals[3])
        if f["integer"]:
            lo, hi = float(np.ceil(lo)), float(np.floor(hi))
        rows.append({"factor": key, "low": lo if r_lo else f["low"],
                     "high": hi if r_hi else f["high"], "restricted_low": r_lo,
                     "restricted_high": r_hi, "qp_low": qp_lo, "qp_high": qp_hi,
                     "sweep_low": f["low"], "sweep_high": f["high"], "unit": f["unit"]})
    return pd.DataFrame(rows)


def inside(samples: pd.DataFrame, limits: pd.DataFrame) -> np.ndarray:
    """Which samples lie inside a box (limits as in Box.limits)."""
    mask = np.ones(len(samples), dtype=bool)
    for _, r in limits.iterrows():
        v = samples[r["factor"]].to_numpy(np.float64)
        mask &= (v >= r["low"]) & (v <= r["high"])
    return mask


def format_discovery(d: Discovery) -> str:
    """The text the `discover` command prints."""
    lines = [f"Scenario discovery (PRIM, EMA Workbench): {d.metric} {d.condition} "
             f"{d.threshold:g} in {d.cases:,} of {d.samples:,} samples "
             f"({d.cases / max(d.samples, 1):.1%})"]
    for box in d.boxes:
        restricted = box.limits[box.limits["restricted_low"] | box.limits["restricted_high"]]
        lines += ["", f"Box {box.number}: coverage {box.coverage:.2f} (share of the "
                  f"{d.condition}-threshold samples inside the box), density {box.density:.2f} "
                  f"(share of the box's samples that are {d.condition}), mass {box.mass:.2f} "
                  f"({box.samples} samples); {len(restricted)} knob(s) restricted:"]
        for _, r in restricted.iterrows():
            qp = np.nanmax([r["qp_low"], r["qp_high"]])
            lines.append(f"  {r['factor']:<40} {r['low']:>10.4g} .. {r['high']:<10.4g} "
                         f"(swept {r['sweep_low']:g} .. {r['sweep_high']:g} {r['unit']}; "
                         f"quasi-p {qp:.2g})")
    lines += [f"note: {n}" for n in d.notes]
    return "\n".join(lines)


def write_discovery(d: Discovery, folder: Path, figures: bool = True) -> None:
    """boxes.csv, trajectory.csv, discovery.json and figures into `folder` (a new folder being
    built, see simulation.common.output.OutputFolder)."""
    tmp = Path(folder)
    boxes = pd.concat([b.limits.assign(box=b.number, coverage=b.coverage,
                                       density=b.density, mass=b.mass)
                       for b in d.boxes]) if d.boxes else pd.DataFrame()
    boxes.to_csv(tmp / "boxes.csv", index=False)
    traj = pd.concat([b.trajectory for b in d.boxes]) if d.boxes else pd.DataFrame()
    traj.to_csv(tmp / "trajectory.csv", index=False)
    summary = {"metric": d.metric, "condition": d.condition, "threshold": d.threshold,
               "samples": d.samples, "cases": d.cases, "notes": d.notes,
               "boxes": [{"box": b.number, "coverage": b.coverage, "density": b.density,
                          "mass": b.mass, "samples": b.samples, "step": b.step}
                         for b in d.boxes]}
    (tmp / "discovery.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    if figures and d.boxes:
        _figures(d, tmp)


def _figures(d: Discovery, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
    for b in d.boxes:
        t = b.trajectory
        sc = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=14,
                        marker="os^v"[(b.number - 1) % 4], label=f"box {b.number}")
        ax.scatter([b.coverage], [b.density], s=90, facecolors="none", edgecolors="red")
    fig.colorbar(sc, ax=ax, label="restricted knobs")
    ax.set_xlabel("coverage")
    ax.set_ylabel("density")
    ax.set_title(f"PRIM peeling trajectories: {d.metric} {d.condition} {d.threshold:g}\n"
                 f"{d.samples} samples; red circle: selected box", fontsize=9)
    ax.legend(fontsize=8)
    fig.savefig(folder / "tradeoff.png", dpi=120)
    plt.close(fig)

    restricted = [b.limits[b.limits["restricted_low"] | b.limits["restricted_high"]]
                  for b in d.boxes]
    rows = sum(len(r) for r in restricted) or 1
    fig, ax = plt.subplots(figsize=(7, 0.45 * rows + 1.5), layout="constrained")
    labels, y = [], 0
    for b, r in zip(d.boxes, restricted, strict=True):
        for _, row in r.iterrows():
            span = row["sweep_high"] - row["sweep_low"] or 1.0
            lo = (row["low"] - row["sweep_low"]) / span
            hi = (row["high"] - row["sweep_low"]) / span
            ax.barh(y, hi - lo, left=lo, color=f"C{b.number - 1}", height=0.6)
            ax.text(1.01, y, f"{row['low']:.3g} .. {row['high']:.3g}", va="center", fontsize=7)
            labels.append(f"box {b.number}: {row['factor']}")
            y += 1
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlim(0, 1.25)
    ax.set_xlabel("position within the swept range (0 = low bound, 1 = high bound)")
    ax.invert_yaxis()
    ax.set_title(f"Knob ranges where {d.metric} stays {d.condition} {d.threshold:g}",
                 fontsize=9)
    fig.savefig(folder / "boxes.png", dpi=120)
    plt.close(fig)
