"""run_calibration: history matching in waves, the plausible ensemble and a best fit.

Each wave designs points in the space not yet ruled out, runs every point on the same
replicate seeds (common random numbers: differences between points are not noise), fits one
emulator per target, and rules out the implausible space. After the last wave:

- the **plausible ensemble**: every simulated parameter set whose replicate mean meets every
  target (ensemble.parquet), next to a sample of the non-implausible space the emulators
  still allow (non_implausible.parquet);
- a **best fit**: optuna's TPE sampler minimises the largest implausibility over the last
  wave's emulators (over the parameters' whole ranges), and the best candidates (optuna's
  and the best simulated sets) are checked with more replicates; the one meeting most
  targets, then the closest, is written as a county profile (calibrated.toml) that any
  scenario can use (`--county`).

The folder (layout in CALIBRATION_ENTRIES) is written as the work goes: every finished chunk
of runs is an atomic Parquet part file, so a calibration killed at any moment resumes
(`--resume`) with only the missing runs; designs are stored before their runs, so a resumed
calibration gives the same result as an uninterrupted one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.common.output import atomic_write_frame, atomic_write_text
from simulation.experiments.calibrate.emulate import (
    CUTOFF,
    Emulator,
    Wave,
    latin,
    non_implausible,
    refocus,
)
from simulation.experiments.calibrate.spec import HISTORY_YEARS, CalibrationSpec, Target
from simulation.experiments.workfolder import Parts, WorkFolder, read_parts
from simulation.model.county import County, load_county
from simulation.model.scenario import Scenario, ScenarioError, load_scenario

FORMAT = 1
CALIBRATION_ENTRIES = frozenset({
    "manifest.json", "targets.toml", "start.toml", "waves", "runs.parquet", "points.parquet",
    "implausibility.parquet",
    "ensemble.parquet", "non_implausible.parquet", "checks.parquet", "calibrated.toml",
    "fit.md", "fit.csv", "waves.csv", "figures", ".lock"})
"""Everything a calibration writes into its folder over its life."""
START_POINT = 999_999
"""The start county's point among the best-fit checks."""
CHUNK = 8  # runs per task: a few seconds of work per message at the default size


@dataclass(frozen=True)
class Options:
    """How a calibration runs (all part of its fingerprint except workers/scheduler)."""

    points: int = 120
    replicates: int = 4
    waves: int = 4
    households: int = 5000
    seed: int = 2021
    check_replicates: int = 10
    trials: int = 150
    cutoff: float = CUTOFF

    def fingerprint(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class CalibrationReport:
    """What a calibration produced (paths in `out`; see the module docstring)."""

    out: Path
    runs: int = 0
    computed: int = 0
    wall_seconds: float = 0.0
    waves: list[dict[str, Any]] = field(default_factory=list)
    ensemble: int = 0
    best: dict[str, float] = field(default_factory=dict)
    inside: int = 0
    targets: int = 0
    unreachable: list[str] = field(default_factory=list)

    @property
    def waves_run(self) -> int:
        """Waves that ran (a wave that stopped before its runs is not counted)."""
        return sum("runs" in w for w in self.waves)


class CountyRunner:
    """One history run of the county with some of its values changed (picklable)."""

    def __init__(self, base: Scenario, county: County, engine: str) -> None:
        self.base, self.county, self.engine = base, county, engine

    def __call__(self, values: Mapping[str, float], seed: int, replicate: int) -> Any:
        from simulation.experiments.runner import run_one
        from simulation.experiments.sweep.models import series_of

        county = self.county.with_values(values, origin="calibration point")
        scenario = self.base.with_county(county, origin="calibration point")
        return series_of(run_one(scenario, seed, replicate=replicate, engine=self.engine,
                                 record_events=False))


def start_county(spec: CalibrationSpec) -> County:
    """The county the calibration starts from: the profile with the file's [start] values."""
    county = load_county(spec.county, Path(spec.source).parent)
    return county.with_values(spec.start, origin=f"{spec.source} [start]") if spec.start \
        else county


def history_scenario(county: County, households: int,
                     population: str | None = None) -> Scenario:
    """The baseline over the calibration window (2021-2025) in `county`; from household
    records when `population` names a file (then every record is simulated)."""
    base = load_scenario("baseline").with_county(county)
    base = base.with_values({"run.years": HISTORY_YEARS, "run.households": households},
                            origin="calibration")
    if population is not None:
        from simulation.model.microdata import use_population

        base = use_population(base, population)
    return base


def to_values(spec: CalibrationSpec, unit: np.ndarray) -> list[dict[str, float]]:
    """Points of the unit cube as parameter values (whole numbers rounded)."""
    out = []
    for row in np.atleast_2d(unit):
        values = {}
        for p, u in zip(spec.parameters, row, strict=True):
            v = p.low + float(u) * (p.high - p.low)
            values[p.key] = float(round(v)) if p.integer else v
        out.append(values)
    return out


def to_unit(spec: CalibrationSpec, values: Mapping[str, float]) -> np.ndarray:
    return np.array([(values[p.key] - p.low) / (p.high - p.low) for p in spec.parameters])


# ----------------------------------------------------------------------------- the folder
def _describe(manifest: Mapping[str, Any]) -> str:
    return f"{manifest.get('status', '?')}, {manifest.get('waves_done', 0)} wave(s) done"


def work_folder(out: Path) -> WorkFolder:
    """The calibration folder `out` (marker kind "calibration")."""
    return WorkFolder(out, "calibration", CALIBRATION_ENTRIES, "calibration",
                      same="targets file and options", describe=_describe)


def _create(folder: WorkFolder, spec: CalibrationSpec, county: County,
            fingerprint: dict[str, Any], command: Sequence[str]) -> dict[str, Any]:
    return folder.create(
        fingerprint, command,
        {"kind": "poverty-return calibration", "format": FORMAT, "name": spec.name,
         "targets_file": spec.source},
        state={"waves_done": 0}, subfolders=("waves",),
        files={"targets.toml": Path(spec.source).read_text(encoding="utf-8"),
               "start.toml": county.to_toml(
                   f"The county the calibration started from ({spec.source})")})


def _wave_dir(out: Path, k: int) -> Path:
    return out / "waves" / f"wave-{k}"


# ----------------------------------------------------------------------------- running
Progress = Callable[[str, int, int], None]


def _run_points(spec: CalibrationSpec, folder: Path, design: pd.DataFrame, runner: CountyRunner,
                opts: Options, executor: Any, progress: Progress | None, label: str,
                replicates: int | None = None) -> tuple[pd.DataFrame, int]:
    """Run every (point, replicate) of `design` not yet on disk in `folder`; part files as
    chunks finish. Returns (every run's target statistics, runs computed now)."""
    from simulation.experiments.sweep.execute import ChunkJob, RunTask, run_chunk
    from simulation.experiments.sweep.spec import Output

    reps = replicates or opts.replicates
    parts = Parts(folder)
    done = parts.read()
    have = set(zip(done["point"], done["replicate"], strict=True)) if len(done) else set()
    keys = list(spec.keys)
    tasks = [RunTask(int(pt) * reps + r, int(pt), r, opts.seed + r,
                     {k: float(row[k]) for k in keys})
             for pt, row in design.set_index("point").iterrows() for r in range(reps)
             if (int(pt), r) not in have]
    outputs = tuple(Output(m, "mean") for m in spec.metrics())
    periods = tuple(range(2021, 2021 + HISTORY_YEARS))
    total, finished = len(design) * reps, len(have)
    pending = [tasks[i:i + CHUNK] for i in range(0, len(tasks), CHUNK)]
    in_flight: dict[Any, Any] = {}
    if progress:
        progress(label, finished, total)
    while pending or in_flight:
        while pending and len(in_flight) < executor.capacity:
            job = ChunkJob(runner, outputs, periods, tuple(pending.pop(0)))
            in_flight[executor.submit(run_chunk, job)] = job
        for fut in executor.wait(list(in_flight)):
            in_flight.pop(fut)
            rows = fut.result()
            failed = [r for r in rows if r["status"] != "ok"]
            if failed:
                raise RuntimeError(f"a calibration run failed (point {failed[0]['sample']}, "
                                   f"replicate {failed[0]['replicate']}): {failed[0]['error']}")
            frame = _statistics(spec, rows, periods)
            parts.write(frame)
            finished += len(rows)
            if progress:
                progress(label, finished, total)
    runs = parts.read().sort_values(["point", "replicate"], ignore_index=True)
    return runs, total - len(have)


def _statistics(spec: CalibrationSpec, rows: list[dict[str, Any]],
                periods: Sequence[int]) -> pd.DataFrame:
    """One row per run: point, replicate, seed, parameter values, each target's statistic."""
    out = []
    for row in rows:
        yearly = {m: [row[f"{m}@{p}"] for p in periods] for m in spec.metrics()}
        rec = {"point": int(row["sample"]), "replicate": int(row["replicate"]),
               "seed": int(row["seed"]), **{k: float(row[k]) for k in spec.keys},
               "seconds": float(row["seconds"])}
        rec.update({t.name: t.of(yearly, periods) for t in spec.targets})
        out.append(rec)
    return pd.DataFrame(out)


def point_summary(spec: CalibrationSpec, runs: pd.DataFrame) -> pd.DataFrame:
    """Per point: parameter values, each target's replicate mean and variance of that mean,
    whether the mean meets the target, and the largest standardised distance from the targets
    (the implausibility with no emulator uncertainty)."""
    grouped = runs.groupby("point", sort=True)
    points = grouped[list(spec.keys)].first()
    for t in spec.targets:
        mean = grouped[t.name].mean()
        n = grouped[t.name].count()
        var = grouped[t.name].var(ddof=1).fillna(0.0) / n
        points[t.name] = mean
        points[f"{t.name}:var"] = var
        points[f"{t.name}:in"] = (mean >= t.low - 1e-12) & (mean <= t.high + 1e-12)
    points["targets_met"] = points[[f"{t.name}:in" for t in spec.targets]].sum(axis=1)
    points["distance"] = _distance(spec, points)
    return points.reset_index()


def _distance(spec: CalibrationSpec, points: pd.DataFrame) -> pd.Series:
    """Largest standardised distance of a point's means from the targets' centres."""
    cols = []
    for t in spec.targets:
        denom = np.sqrt(t.sd ** 2 + points[f"{t.name}:var"].to_numpy() + 1e-300)
        cols.append(np.abs(points[t.name].to_numpy() - t.centre) / denom)
    return pd.Series(np.max(cols, axis=0), index=points.index)


@dataclass(frozen=True)
class _FitJob:
    """One target's emulator fit (picklable: it runs on a worker like a chunk of runs)."""

    name: str
    x: np.ndarray
    y: np.ndarray
    held: np.ndarray
    seed: int


def _fit_target(job: _FitJob) -> tuple[Emulator, float]:
    """The target's emulator on every point, and the share of held-out points that the
    emulator fitted without them predicts within three standard deviations."""
    train = np.setdiff1d(np.arange(len(job.y)), job.held)
    check = Emulator.fit(job.name, job.x[train], job.y[train], job.seed)
    e, v = check.predict(job.x[job.held])
    z = np.abs(job.y[job.held] - e) / np.sqrt(v + 1e-300)
    return Emulator.fit(job.name, job.x, job.y, job.seed), float(np.mean(z <= 3.0))


def fit_wave(spec: CalibrationSpec, points: pd.DataFrame, seed: int, nth: int = 1,
             executor: Any = None) -> tuple[Wave, list[dict[str, Any]]]:
    """Emulators of every target from the points' replicate means, and their validation:
    each is first fitted without a sixth of the points, which it must then predict within
    three standard deviations (the share that is is reported). The targets' fits run on
    `executor`'s workers when one is given (they are independent; the result is the same)."""
    x = np.array([to_unit(spec, row) for row in points[list(spec.keys)].to_dict("records")])
    rng = np.random.default_rng(seed)
    held = rng.permutation(len(points))[: max(1, len(points) // 6)]
    jobs = [_FitJob(t.name, x, points[t.name].to_numpy(dtype=float), held, seed + j)
            for j, t in enumerate(spec.targets)]
    if executor is None:
        fitted = [_fit_target(job) for job in jobs]
    else:
        futures = [executor.submit(_fit_target, job) for job in jobs]
        fitted = [f.result() for f in futures]
    emulators, diagnostics = [], []
    for (em, validated), t in zip(fitted, spec.targets, strict=True):
        scales = em.length_scales()
        order = np.argsort(scales)[:3]
        diagnostics.append({
            "target": t.name, "validated_share": validated,
            "active": ", ".join(spec.keys[i] for i in order if scales[i] < 5.0)})
        emulators.append(em)
    wave = Wave(emulators, np.array([t.centre for t in spec.targets]),
                np.array([t.sd for t in spec.targets]), nth)
    return wave, diagnostics


# ----------------------------------------------------------------------------- the waves
def run_calibration(spec: CalibrationSpec, out: Path | str, opts: Options, *,
                    engine: str = "arrays", workers: int | None = None,
                    scheduler: str | None = None, resume: bool = False,
                    replace: bool = False, progress: Progress | None = None,
                    notice: Callable[[str], None] | None = None,
                    command: Sequence[str] = ()) -> CalibrationReport:
    """History matching of `spec` into folder `out` (see the module docstring).

    Raises ScenarioError / OutputError for bad input (CLI exit 2) before any run;
    KeyboardInterrupt leaves every finished run on disk for --resume."""
    from simulation.experiments.runner import prepare_engine
    from simulation.experiments.sweep.execute import make_executor

    out = Path(out)
    if opts.points < len(spec.keys) + 2:
        raise ScenarioError(f"{spec.source}: {len(spec.keys)} free parameters need at least "
                            f"{len(spec.keys) + 2} points per wave (--points), got "
                            f"{opts.points}")
    county = start_county(spec)
    base = history_scenario(county, opts.households, spec.population)
    fingerprint = {"targets": spec.digest(), "engine": engine, **opts.fingerprint()}
    work = work_folder(out)
    manifest = work.state(fingerprint, resume, replace)
    work.make("waves")
    lock = work.lock()
    report = CalibrationReport(out)
    start = time.perf_counter()
    executor = None
    try:
        if manifest is None:  # the folder is ours from here on, whatever happens next
            manifest = _create(work, spec, county, fingerprint, command)
        prepare_engine(engine, notice)
        executor = make_executor(workers, scheduler)
        runner = CountyRunner(base, county, engine)
        waves: list[Wave] = []
        all_points: list[pd.DataFrame] = []
        box: tuple[np.ndarray, np.ndarray] | None = None
        # one fixed probe of the whole space measures what each wave leaves of it
        probe = latin(20_000, len(spec.keys), np.random.default_rng([opts.seed, 0]))
        probe_frame = pd.DataFrame(to_values(spec, probe))
        for k in range(1, opts.waves + 1):
            folder = _wave_dir(out, k)
            design_path = folder / "design.parquet"
            rng = np.random.default_rng([opts.seed, k])
            if design_path.is_file():
                design = pd.read_parquet(design_path)
            else:
                if k == 1:
                    unit, used = latin(opts.points, len(spec.keys), rng), opts.cutoff
                else:
                    low, high = box if box is not None else (None, None)
                    unit, used = refocus(waves, opts.points, len(spec.keys), rng, low, high,
                                         cutoff=opts.cutoff)
                if len(unit) < max(8, len(spec.keys) + 2):
                    report.waves.append({"wave": k, "points": len(unit),
                                         "stopped": "too few non-implausible points left to "
                                                    "design a wave"})
                    break
                design = pd.DataFrame(to_values(spec, unit))
                design.insert(0, "point", np.arange(len(design)) + 100_000 * k)
                design["design_cutoff"] = used
                folder.mkdir(parents=True, exist_ok=True)
                atomic_write_frame(design_path, design)
            runs, computed = _run_points(spec, folder, design, runner, opts, executor,
                                         progress, f"wave {k}")
            report.computed += computed
            report.runs += len(runs)
            points = point_summary(spec, runs)
            points.insert(1, "wave", k)
            # emulators learn from this wave's points and the earlier points still inside
            # the space this wave starts from
            if waves and all_points:
                old = pd.concat(all_points, ignore_index=True)
                x_old = np.array([to_unit(spec, r) for r in
                                  old[list(spec.keys)].to_dict("records")])
                keep, _ = non_implausible(waves, x_old, opts.cutoff)
                train = pd.concat([old[keep], points], ignore_index=True)
            else:
                train = points
            # early waves with many targets rule out by the second-largest implausibility;
            # the last wave by the largest
            nth = 2 if len(spec.targets) >= 8 and k < opts.waves else 1
            wave, diagnostics = fit_wave(spec, train, opts.seed + 1000 * k, nth, executor)
            waves.append(wave)
            all_points.append(points)
            # what is left of the whole space, and the box to design the next wave in
            mask, worst = non_implausible(waves, probe, opts.cutoff)
            probe_frame[f"wave_{k}"] = worst
            per_target = wave.implausibilities(probe[:4000]) <= opts.cutoff
            box = _box(probe[mask])  # None (the whole cube) when hardly anything is left
            info = {"wave": k, "points": len(design), "runs": len(runs),
                    "design_cutoff": float(design["design_cutoff"].iloc[0]),
                    "space_left": float(mask.mean()),
                    "points_meeting_all": int((points["targets_met"] == len(spec.targets)).sum()),
                    "best_distance": float(points["distance"].min())}
            for d, t, col in zip(diagnostics, spec.targets, per_target.T, strict=True):
                info[f"{t.name}:validated"] = d["validated_share"]
                info[f"{t.name}:space"] = float(col.mean())
                info[f"{t.name}:met_by"] = int(points[f"{t.name}:in"].sum())
                info[f"{t.name}:active"] = d["active"]
            report.waves.append(info)
            manifest["waves_done"] = k
            work.save(manifest)
        atomic_write_frame(out / "implausibility.parquet", probe_frame)
        points = pd.concat(all_points, ignore_index=True)
        _finish(spec, out, opts, waves, points, county, runner, executor, report, progress)
        manifest["status"] = "complete"
    finally:
        if executor is not None:
            executor.close()
        lock.close()
        report.wall_seconds = time.perf_counter() - start
        work.end_session(manifest, {"runs_computed": report.computed,
                                    "wall_seconds": round(report.wall_seconds, 1),
                                    "workers": workers, "scheduler": scheduler})
    return report


def _box(x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The bounding box of points, widened by a tenth of its size each way."""
    if len(x) < 2:
        return None
    low, high = x.min(axis=0), x.max(axis=0)
    pad = 0.1 * (high - low) + 0.02
    return np.clip(low - pad, 0.0, 1.0), np.clip(high + pad, 0.0, 1.0)


def _finish(spec: CalibrationSpec, out: Path, opts: Options, waves: list[Wave],
            points: pd.DataFrame, county: County, runner: CountyRunner, executor: Any,
            report: CalibrationReport, progress: Progress | None) -> None:
    """Ensemble, non-implausible sample, best fit checked with more replicates, county file."""
    atomic_write_frame(out / "points.parquet", points)
    runs = pd.concat([read_parts(_wave_dir(out, int(w))) for w in sorted(points["wave"].unique())],
                     ignore_index=True)
    atomic_write_frame(out / "runs.parquet", runs)
    n_targets = len(spec.targets)
    ensemble = points[points["targets_met"] == n_targets]
    atomic_write_frame(out / "ensemble.parquet", ensemble)
    report.ensemble = len(ensemble)
    rng = np.random.default_rng([opts.seed, 99])
    probe = latin(20_000, len(spec.keys), rng)
    mask, worst = non_implausible(waves, probe, opts.cutoff)
    sample = pd.DataFrame(to_values(spec, probe[mask][:2000]))
    sample["max_implausibility"] = worst[mask][:2000]
    atomic_write_frame(out / "non_implausible.parquet", sample)

    # targets no simulated point ever met, and none the last emulators think reachable
    report.unreachable = [t.name for t in spec.targets if not points[f"{t.name}:in"].any()]

    candidates = _candidates(spec, opts, waves, points)
    # the start is checked too (point START_POINT), to show where the calibration began
    design = pd.DataFrame([*candidates, {k: county.values[k] for k in spec.keys}])
    design.insert(0, "point", [*(np.arange(len(candidates)) + 900_000), START_POINT])
    checks_dir = out / "waves" / "checks"
    checks_dir.mkdir(parents=True, exist_ok=True)
    design_path = checks_dir / "design.parquet"
    if design_path.is_file():
        design = pd.read_parquet(design_path)
    else:
        atomic_write_frame(design_path, design)
    runs, computed = _run_points(spec, checks_dir, design, runner, opts, executor, progress,
                                 "best-fit check", replicates=opts.check_replicates)
    report.computed += computed
    checks = point_summary(spec, runs[runs["point"] != START_POINT])
    checks = checks.sort_values(["targets_met", "distance"], ascending=[False, True],
                                ignore_index=True)
    atomic_write_frame(out / "checks.parquet", checks)
    best = checks.iloc[0]
    report.best = {k: float(best[k]) for k in spec.keys}
    report.inside = int(best["targets_met"])
    report.targets = n_targets
    calibrated = county.with_values(report.best, origin="calibration",
                                    name=f"{county.name}_calibrated")
    header = (f"County profile calibrated by `python run.py calibrate {spec.source}`\n"
              f"({datetime.now(UTC):%Y-%m-%d}; seed {opts.seed}; {report.runs} runs in "
              f"{report.waves_run} waves; {report.ensemble} simulated sets in the plausible "
              f"ensemble).\nBest fit: {report.inside} of {n_targets} targets met on "
              f"{opts.check_replicates} replicates (fit.md in this folder).\n"
              f"Use it with --county {out / 'calibrated.toml'}")
    atomic_write_text(out / "calibrated.toml",
                      calibrated.to_toml(header, base=county.ref if not spec.start else None))


def _candidates(spec: CalibrationSpec, opts: Options, waves: list[Wave],
                points: pd.DataFrame) -> list[dict[str, float]]:
    """Best-fit candidates: optuna's minimum of the largest implausibility over the last
    emulators, and the three best simulated sets. optuna starts from the best simulated set
    and from the best of a wide look (the emulators at 20,000 Latin-hypercube points, one
    call per target), and refines from there."""
    import optuna

    ranked = points.sort_values(["targets_met", "distance"], ascending=[False, True])
    top = [{k: float(r[k]) for k in spec.keys} for _, r in ranked.head(3).iterrows()]
    last = waves[-1]
    wide = latin(20_000, len(spec.keys), np.random.default_rng([opts.seed, 98]))
    widest = wide[int(np.argmin(last.implausibilities(wide).max(axis=1)))]

    def objective(trial: Any) -> float:
        u = np.array([[trial.suggest_float(k, 0.0, 1.0) for k in spec.keys]])
        return float(last.implausibilities(u).max())

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=opts.seed))
    study.enqueue_trial(dict(zip(spec.keys, to_unit(spec, top[0]), strict=True)))
    study.enqueue_trial(dict(zip(spec.keys, widest, strict=True)))
    study.optimize(objective, n_trials=opts.trials)
    best_unit = np.array([study.best_params[k] for k in spec.keys])
    return [to_values(spec, best_unit)[0], *top]


def target_table(spec: CalibrationSpec, runs: pd.DataFrame) -> pd.DataFrame:
    """Each target: range, simulated mean with 95% interval over replicates, met or not."""
    from simulation.common.stats import mean_interval

    rows = []
    for t in spec.targets:
        mean, low, high = mean_interval(runs[t.name].to_list())
        rows.append({"target": t.name, "metric": t.metric, "statistic": t.statistic,
                     "years": "-".join(map(str, (t.years[0], t.years[-1])))
                     if len(t.years) > 1 else str(t.years[0]),
                     "low_target": t.low, "high_target": t.high, "unit": t.unit,
                     "mean": mean, "low": low, "high": high,
                     "inside": bool(t.low - 1e-12 <= mean <= t.high + 1e-12),
                     "source": t.source})
    return pd.DataFrame(rows)


__all__ = ["CALIBRATION_ENTRIES", "CalibrationReport", "CountyRunner", "Options", "Target",
           "history_scenario", "point_summary", "run_calibration", "start_county",
           "target_table", "to_unit", "to_values"]
