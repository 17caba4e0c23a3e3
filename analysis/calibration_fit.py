"""The fit report of a calibration folder: fit.md, fit.csv, waves.csv and figures/.

Reads what simulation/experiments/calibrate/driver.py wrote: the best-fit checks (each target
vs simulated, with 95% intervals over the check replicates, for the start and the best fit),
the waves (points, runs, space left, emulator validation), the implausibility of a fixed probe
of the whole space after each wave, and the plausible ensemble. Targets that no simulated
parameter set ever met are said plainly: the model cannot reach them from these parameters,
a sign of misspecification (or of a target that does not describe this county).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.calibration import format_estimate, format_value
from simulation.common.output import atomic_write_frame, atomic_write_text
from simulation.experiments.calibrate.driver import (
    START_POINT,
    CalibrationReport,
    target_table,
)
from simulation.experiments.calibrate.emulate import CUTOFF
from simulation.experiments.calibrate.spec import CalibrationSpec


def fit_tables(spec: CalibrationSpec, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(targets: start and best fit side by side, parameters: start, best, ensemble range)."""
    runs = pd.read_parquet(out / "waves" / "checks" / "parts").sort_values(
        ["point", "replicate"]) if (out / "waves" / "checks" / "parts").is_dir() \
        else pd.DataFrame()
    checks = pd.read_parquet(out / "checks.parquet")
    best_point = int(checks.iloc[0]["point"])
    best = target_table(spec, runs[runs["point"] == best_point])
    start = target_table(spec, runs[runs["point"] == START_POINT])
    table = best[["target", "years", "statistic", "low_target", "high_target", "unit",
                  "source"]].copy()
    for label, t in (("start", start), ("best", best)):
        for col in ("mean", "low", "high", "inside"):
            table[f"{label}_{col}"] = t[col].to_numpy()
    ensemble = pd.read_parquet(out / "ensemble.parquet")
    rows = []
    start_values = runs[runs["point"] == START_POINT].iloc[0]
    best_values = checks.iloc[0]
    for p in spec.parameters:
        rows.append({"parameter": p.key, "low": p.low, "high": p.high,
                     "start": float(start_values[p.key]), "best": float(best_values[p.key]),
                     "ensemble_min": float(ensemble[p.key].min()) if len(ensemble) else np.nan,
                     "ensemble_max": float(ensemble[p.key].max()) if len(ensemble) else np.nan})
    return table, pd.DataFrame(rows)


def write_fit(spec: CalibrationSpec, out: Path, report: CalibrationReport,
              figures: bool = True) -> pd.DataFrame:
    """Write fit.csv, waves.csv, fit.md (and figures/ unless `figures` is False); returns the
    target table."""
    table, params = fit_tables(spec, out)
    atomic_write_frame(out / "fit.csv", table)
    waves = pd.DataFrame(report.waves)
    atomic_write_frame(out / "waves.csv", waves)
    if figures:
        _figures(spec, out, table, waves)
    atomic_write_text(out / "fit.md", _markdown(spec, report, table, params, waves, figures))
    return table


def _markdown(spec: CalibrationSpec, report: CalibrationReport, table: pd.DataFrame,
              params: pd.DataFrame, waves: pd.DataFrame, figures: bool) -> str:
    n = len(spec.targets)
    met = int(table["best_inside"].sum())
    start_met = int(table["start_inside"].sum())
    lines = [f"# Calibration fit: {spec.name}", "",
             f"Targets file `{Path(spec.source).name}`; county `{spec.county}`; "
             f"{len(spec.parameters)} free parameters, {n} targets. History matching in "
             f"{report.waves_run} wave(s), {report.runs:,} runs "
             f"({report.computed:,} computed in this session, "
             f"{report.wall_seconds / 60:.1f} min).", "",
             f"**Best fit: {met} of {n} targets met** (mean over the check replicates inside "
             f"the target's range); the start met {start_met} of {n}. The plausible "
             f"ensemble holds {report.ensemble} simulated parameter sets that meet every "
             "target.", ""]
    unreachable = report.unreachable
    if unreachable:
        lines += ["**Targets the model cannot reach.** No simulated parameter set, in any "
                  f"wave, met: {', '.join(unreachable)}. Within these parameters' ranges the "
                  "model does not produce these statistics: a sign of misspecification (a "
                  "mechanism missing or wrong), or of a target that does not describe this "
                  "county. They are reported, not forced.", ""]
    missed = [t for t, ok in zip(table["target"], table["best_inside"], strict=True) if not ok]
    if missed and not unreachable:
        lines += [f"Targets the best fit misses: {', '.join(missed)}.", ""]
    cutoffs = waves.get("design_cutoff", pd.Series(dtype=float))
    over = waves[cutoffs > CUTOFF + 1e-9]
    raised = over["design_cutoff"].astype(float).tolist()
    if report.ensemble == 0:
        text = ("**No parameter set met every target at once.** Each target was met by some "
                "simulated sets, but none met them all")
        if raised:
            text += (f", and from wave {int(over['wave'].min())} on no candidate was "
                     "consistent with every target under the emulators, so the waves were "
                     f"designed at a raised cut-off ({raised[0]:.3g} to {raised[-1]:.3g})")
        lines += [text + ". With these free parameters and ranges the model does not "
                  "reproduce these statistics together: a sign of misspecification (a mechanism "
                  "missing or wrong for this county), of free parameters that leave out what "
                  "matters, or of targets that do not fit together. The best fit is the "
                  "closest compromise, not a calibrated county.", ""]
    lines += ["## Targets", "",
              "| target | years | range | start | best fit | met |", "|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        unit = r["unit"]
        rng = f"{format_value(r['low_target'], unit)}–{format_value(r['high_target'], unit)}"
        start = format_estimate(pd.Series({"mean": r["start_mean"], "low": r["start_low"],
                                           "high": r["start_high"], "unit": unit}))
        best = format_estimate(pd.Series({"mean": r["best_mean"], "low": r["best_low"],
                                          "high": r["best_high"], "unit": unit}))
        lines.append(f"| {r['target']} | {r['years']} | {rng} | {start} | {best} | "
                     f"{'yes' if r['best_inside'] else '**no**'} |")
    lines += ["", "Means over the check replicates with 95% intervals.", "",
              "## Parameters", "",
              "| parameter | range searched | start | best fit | plausible ensemble |",
              "|---|---|---|---|---|"]
    for _, r in params.iterrows():
        ens = "–" if r["ensemble_min"] != r["ensemble_min"] else \
            f"{r['ensemble_min']:.4g}–{r['ensemble_max']:.4g}"
        lines.append(f"| {r['parameter']} | {r['low']:.4g}–{r['high']:.4g} | "
                     f"{r['start']:.4g} | {r['best']:.4g} | {ens} |")
    lines += ["", "## Waves", "",
              "| wave | points | designed at cut-off | runs | space left | points meeting all "
              "targets | closest point (max distance in sd) |", "|---|---|---|---|---|---|---|"]
    for _, w in waves.iterrows():
        if "space_left" not in w or w.get("space_left") != w.get("space_left"):
            lines.append(f"| {int(w['wave'])} | {int(w['points'])} | – | – | – | – | "
                         f"stopped: {w.get('stopped', '')} |")
            continue
        lines.append(f"| {int(w['wave'])} | {int(w['points'])} | "
                     f"{w['design_cutoff']:.3g} | {int(w['runs'])} | "
                     f"{100 * w['space_left']:.2g}% | {int(w['points_meeting_all'])} | "
                     f"{w['best_distance']:.2f} |")
    lines += ["", "*Space left*: the share of the whole parameter space (a fixed Latin-"
              "hypercube probe of 20,000 points) that no wave so far has ruled out. *Designed "
              "at cut-off*: the implausibility the wave's points satisfy under the earlier "
              "waves' emulators — 3 as a rule; higher when no candidate was consistent with "
              "every target, so the wave was placed where the model came closest.", "",
              "## Emulators", "",
              "Each target's emulator, fitted without a sixth of its wave's points, predicts "
              "them within three standard deviations for the share shown; *active* are the "
              "parameters with the shortest fitted length scales (those the target is most "
              "sensitive to).", ""]
    first = f"{spec.targets[0].name}:validated"
    valid = waves.dropna(subset=[first]) if first in waves.columns else waves.iloc[:0]
    lines += ["| target | " + "".join(f"wave {int(w)} | " for w in valid["wave"])
              + "active (last wave) |", "|---|" + "---|" * (len(valid) + 1)]
    for t in spec.targets:
        shares = " | ".join(f"{100 * v:.0f}%" for v in valid[f"{t.name}:validated"])
        active = valid[f"{t.name}:active"].iloc[-1] if len(valid) else ""
        lines.append(f"| {t.name} | {shares} | {active or '–'} |")
    if figures:
        lines += ["", "## Figures", "",
                  "![Minimum implausibility by parameter](figures/implausibility.png)", "",
                  "*Minimum implausibility* over the probe points in each slice of a "
                  "parameter's range, after each wave: where the curve is above the cut-off "
                  "(3), no value of the other parameters makes that slice consistent with "
                  "the targets.", "",
                  "![Targets: start and best fit](figures/fit.png)", ""]
    lines += ["", "## Method", "",
              "History matching (Vernon, Goldstein & Bower 2010; Iskauskas et al. 2024): "
              "a Latin-hypercube design of the free parameters, every point run on the same "
              "replicate seeds; one Gaussian-process emulator per target (scikit-learn); a "
              "parameter set is ruled out when a target's implausibility "
              "|z − E[f(x)]| / sqrt(Var_emulator + Var_observation) exceeds 3, a range target "
              "read as its centre ± 3 sd; each later wave is designed inside what is left. "
              "The best fit minimises the largest implausibility over the last emulators "
              "(optuna, TPE sampler), and it and the best simulated sets are run again with "
              "more replicates; the one meeting most targets, then closest to their centres, "
              "becomes `calibrated.toml`. The plausible ensemble (`ensemble.parquet`) is every "
              "simulated set meeting every target; `non_implausible.parquet` samples the "
              "space the emulators still allow.", ""]
    return "\n".join(lines)


def _figures(spec: CalibrationSpec, out: Path, table: pd.DataFrame, waves: pd.DataFrame
             ) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.figures import save_png

    folder = out / "figures"
    folder.mkdir(exist_ok=True)
    probe = pd.read_parquet(out / "implausibility.parquet")
    wave_cols = [c for c in probe.columns if c.startswith("wave_")]
    keys = list(spec.keys)
    cols = 4
    rows = int(np.ceil(len(keys) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.3 * rows), squeeze=False)
    for ax, p in zip(axes.flat, spec.parameters, strict=False):
        edges = np.linspace(p.low, p.high, 21)
        mids = (edges[:-1] + edges[1:]) / 2
        bins = np.clip(np.digitize(probe[p.key], edges) - 1, 0, 19)
        for c in wave_cols:
            low = pd.Series(probe[c].to_numpy()).groupby(bins).min().reindex(range(20))
            ax.plot(mids, low.to_numpy(), label=c.replace("_", " "))
        ax.axhline(3.0, color="black", lw=0.8, ls="--")
        ax.set_yscale("log")
        ax.set_title(p.key, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    fig.suptitle("Minimum implausibility by parameter value (cut-off 3, dashed)", fontsize=10)
    fig.tight_layout()
    save_png(fig, folder / "implausibility.png", dpi=110)

    fig, ax = plt.subplots(figsize=(7, 0.42 * len(table) + 1.2))
    for i, (_, r) in enumerate(table.iterrows()):
        lo, hi = r["low_target"], r["high_target"]
        span = (hi - lo) or max(abs(hi), 1e-9) * 0.1

        def pos(v: float, lo: float = lo, span: float = span) -> float:
            return (v - lo) / span

        ax.plot([0, 1], [i, i], color="tab:green", lw=6, alpha=0.35, solid_capstyle="butt")
        for label, color, dy in (("start", "tab:red", 0.15), ("best", "tab:blue", -0.15)):
            m, a, b = (r[f"{label}_{c}"] for c in ("mean", "low", "high"))
            x = np.clip(pos(m), -1.5, 2.5)
            err = [[max(x - np.clip(pos(a), -1.5, 2.5), 0)], [max(np.clip(pos(b), -1.5, 2.5)
                                                                 - x, 0)]] \
                if a == a else None
            ax.errorbar([x], [i + dy], xerr=err, fmt="o", color=color, ms=4,
                        label=label if i == 0 else None)
    ax.set_yticks(range(len(table)), table["target"], fontsize=8)
    ax.set_xlabel("position relative to the target range (0 = low end, 1 = high end)")
    ax.set_xlim(-1.6, 2.6)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Targets: start and best fit (95% intervals)", fontsize=10)
    fig.tight_layout()
    save_png(fig, folder / "fit.png", dpi=110)
