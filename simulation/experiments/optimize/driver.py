"""run_optimization: the best mixes of mechanism levers for a budget, on the poverty model.

Decision variables are *levers*: mechanism knobs (simulation.model.params.KNOBS, all 18 by
default) in their schema ranges, whole-number knobs rounded. A candidate is the baseline
scenario with the levers' values (`Scenario.with_values`); like every strategy, its values
take effect at the policy date after the shared 2021-2025 history. Three objectives, all
minimised and all totals over the evaluation window (the policy year to the horizon,
2026-2035 by default), county totals:

- `returns`: formerly poor households falling back below the line (households, summed over
  the window's years as in analysis/outcomes.py HORIZON_SUMS);
- `new_poverty`: marginal or ordinary households falling below the line (households);
- `extra_cost`: fiscal cost of the four mechanisms above the status quo's on the same seed
  (nominal yuan over the window; negative = the mix saves money).

Optional constraint: `extra_cost <= budget` (the same units). Common random numbers: every
candidate and the baseline run on the same `replicates` seeds (seed .. seed + K - 1) and the
objectives are the means over them; a generation's candidates share their history on a seed,
so each executor task runs one seed's history once and forks it for a chunk of candidates
(simulation.experiments.runner.run_shared_history; identical to separate runs).

The search itself is search.py (several NSGA-II searches with ε-box archives, merged by
ε-nondominance). Here: the evaluator, the folder and resuming. Every evaluation (one
candidate on one seed) is stored as it finishes, in atomic Parquet part files
(`parts/part-NNNNNN.parquet`: search, generation, candidate, seed, lever values, outcomes).
`--resume` replays each search from its seed: a candidate whose evaluations are on disk is
not run again, so the replay takes the same path and the result is identical to an
uninterrupted run (the stored lever values are checked against the replay's). A folder holds
one optimization: other settings are refused (fingerprint), and a lock file keeps a second
process out.

Folder layout (OPTIMIZE_ENTRIES): parts/, evaluations.parquet (every evaluation, the baseline
as search -1), pareto.parquet and pareto.csv (the merged ε-nondominated set: levers,
objective means with per-seed min and max), convergence.csv, scenarios/pareto-NNN.toml (each
Pareto point as a scenario file: `base` = the baseline, only the levers that differ from it),
manifest.json; the analysis layer adds best_for_budget.csv/.md, optimize.md and figures/.

Re-evaluation over futures (`python run.py optimize --futures N`, driven by the command line
because it picks the points with the analysis layer's budget ladder): `pareto_scenarios` loads
chosen Pareto files from scenarios/ with the scenario loader and puts them and the baseline
in the optimization's county at its households, so that run_robustness
(simulation.experiments.robustness) runs them in OUT/robustness/, a sub-folder it manages
itself (fingerprint, parts, lock, --resume); analysis/optimize.py summarises it into
pareto_futures.csv.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.common.errors import OutputError, UsageError
from simulation.common.output import atomic_write_frame, atomic_write_text
from simulation.experiments.optimize.search import (
    Candidate,
    Lever,
    SearchResult,
    generations_for,
    run_searches,
)
from simulation.experiments.workfolder import Parts, WorkFolder, read_parts
from simulation.model.calendar import START_YEAR
from simulation.model.files import closest_key, toml_num, toml_str
from simulation.model.params import KNOBS, SCHEMA
from simulation.model.scenario import Scenario, ScenarioError, load_scenario

FORMAT = 1
OBJECTIVES = ("returns", "new_poverty", "extra_cost")
"""Minimised, in this order (the --epsilons order). `returns` and `new_poverty` are counted
on the test `OptimizeOptions.count` names (COUNTS)."""
OBJECTIVE_UNITS = {"returns": "households", "new_poverty": "households",
                   "extra_cost": "yuan (nominal)"}
COUNTS = ("hardship", "official")
"""The tests returns and new poverty may be counted on: *official*, 12-month income below the
line; *hardship*, income net of the rigid costs (medical bills, school fees, disaster losses)
not paid from savings below it — a superset of the official count. Hardship is the default:
on the official count medical bills are invisible, and a search on it cuts medical assistance
to nothing (measured: 5,000 evaluations took `social_security.medical_assistance_rate` from
0.6 to 0.03 in every best-for-budget mix), saving money while the hardship it causes goes
uncounted."""
WINDOW_METRICS = {"returns_official": "returned_households",
                  "new_poverty_official": "newly_poor_households",
                  "returns_hardship": "returned_households_hardship",
                  "new_poverty_hardship": "newly_poor_households_hardship",
                  "fiscal_cost": "fiscal_cost_yuan"}
"""Window total -> yearly metric (simulation.model.metrics) summed over the evaluation window,
as analysis/outcomes.py HORIZON_SUMS sums them; every evaluation stores both counts."""
BUDGET_UNITS = ("extra fiscal cost over the evaluation window (policy year to horizon, "
                "2026-2035 by default) above the status quo, nominal yuan, county total")
DEFAULT_EPSILONS = (5.0, 20.0, 1e6)
"""ε-box sizes for returns (households), new poverty (households) and extra cost (yuan over
the window). Assumption, sized to what can be told apart: at 5,000 simulated households and 3
seeds the standard error of a candidate's mean window total is about 15 returned and 40 newly
poor households and a few million yuan (README: 850 returns [805, 895] over 20 replicates,
i.e. a per-run sd near 50), so boxes of 5 and 20 households and 1 million yuan (about 0.1% of
the window's fiscal cost) keep the front finer than the noise without filling the archive with
near-duplicates."""
BASELINE_SEARCH = -1
"""`search` of the baseline's evaluations (one per seed)."""
MAX_CHUNK = 25
"""Candidates per task at most (one history, then a fork each); assumption: about a minute
of work per task at 5,000 households, short enough to spread over the workers."""
OPTIMIZE_ENTRIES = frozenset({
    "manifest.json", "parts", "evaluations.parquet", "pareto.parquet", "pareto.csv",
    "convergence.csv", "scenarios", "best_for_budget.csv", "best_for_budget.md",
    "optimize.md", "figures", "robustness", "pareto_futures.csv", ".lock"})
"""Everything an optimization writes into its folder over its life (`robustness/`: the
re-evaluation of Pareto points over futures, a folder of run_robustness's own, and
`pareto_futures.csv`, its summary; both written by `python run.py optimize --futures N`)."""


@dataclass(frozen=True)
class OptimizeOptions:
    """What an optimization searches and how (all part of its fingerprint)."""

    levers: tuple[str, ...] = tuple(p.key for p in KNOBS)
    budget: float | None = None
    epsilons: tuple[float, float, float] = DEFAULT_EPSILONS
    evaluations: int = 2000
    """Candidate evaluations in total over all searches (each on `replicates` seeds);
    assumption: enough for NSGA-II on 18 levers to level off (see convergence.csv)."""
    population: int = 50
    """NSGA-II population per search (assumption: pymoo's default has 100; 50 doubles the
    generations within the same evaluations)."""
    searches: int = 2
    """Independent searches from different seeds, merged (assumption: 2 shows whether they
    agree at the least cost)."""
    replicates: int = 3
    """Seeds per evaluation (common random numbers; assumption: 3 balances noise and cost)."""
    households: int = 5000
    seed: int = 2021
    county: str | None = None
    baseline: str = "baseline"
    count: str = "hardship"
    """The test `returns` and `new_poverty` are counted on (COUNTS)."""

    @property
    def generations(self) -> int:
        return generations_for(self.evaluations, self.searches, self.population)

    def fingerprint(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["levers"] = list(self.levers)
        out["epsilons"] = list(self.epsilons)
        return out


@dataclass
class OptimizeReport:
    """What an optimization did."""

    out: Path
    evaluations: int = 0
    computed_runs: int = 0
    generations: int = 0
    pareto: int = 0
    stopped: bool = False
    wall_seconds: float = 0.0
    run_seconds: float = 0.0
    hypervolume: float = 0.0


# ----------------------------------------------------------------------------- inputs
def resolve_levers(keys: Sequence[str] | None) -> tuple[Lever, ...]:
    """The levers of `keys` (default: every mechanism knob); UsageError naming a key that is
    not a mechanism knob, with the closest one."""
    if not keys:
        return tuple(Lever(p.key, p.low, p.high, p.integer) for p in KNOBS)
    knobs = {p.key: p for p in KNOBS}
    levers, seen = [], set()
    for key in keys:
        if key in seen:
            raise UsageError(f"--levers: '{key}' is given twice")
        seen.add(key)
        p = knobs.get(key)
        if p is None:
            if key in SCHEMA:
                raise UsageError(f"--levers: '{key}' is not a mechanism knob (levers are the "
                                 "knobs `python run.py params` marks with a mechanism)")
            import difflib

            found = difflib.get_close_matches(key, list(knobs), n=1, cutoff=0.6)
            hint = found[0] if found else closest_key(key)
            raise UsageError(f"--levers: unknown lever '{key}'"
                             + (f" (did you mean '{hint}'?)" if hint else "")
                             + f"; allowed: the {len(knobs)} mechanism knobs, e.g. "
                               f"{', '.join(list(knobs)[:3])}")
        levers.append(Lever(p.key, p.low, p.high, p.integer))
    return tuple(levers)


def base_scenario(opts: OptimizeOptions) -> Scenario:
    """The status quo the levers start from: `opts.baseline` (in `opts.county` if given) at
    `opts.households`."""
    base = load_scenario(opts.baseline)
    if opts.county is not None:
        from simulation.model.county import load_county

        base = base.with_county(load_county(opts.county), "--county")
    return base.with_values({"run.households": opts.households}, origin="--households")


def window_of(base: Scenario) -> tuple[int, int]:
    """First and last year of the evaluation window (the policy year to the horizon)."""
    last = START_YEAR + base.years - 1
    return min(base.policy_year, last), last


def scenario_digest(sc: Scenario) -> str:
    """A hash of what decides a scenario's runs (values, dated changes, policy date, place)."""
    text = json.dumps({"values": {k: float(v) for k, v in sorted(sc.values.items())},
                       "policy_month": sc.policy_month,
                       "schedule": [[c.month, sorted(c.values.items())] for c in sc.schedule],
                       "disasters": [repr(d) for d in sc.disasters],
                       "population": sc.population_file}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- one task
@dataclass(frozen=True)
class CandidateChunk:
    """Candidates run on one seed in one task (picklable): the history once, a fork each."""

    base: Scenario
    lever_keys: tuple[str, ...]
    keys: tuple[tuple[int, int, int], ...]
    values: tuple[tuple[float, ...], ...]
    seed: int
    replicate: int
    window_start: int


def run_candidate_chunk(job: CandidateChunk) -> list[dict[str, Any]]:
    """One row per candidate: its key, seed, lever values and window totals."""
    from simulation.experiments.runner import run_one, run_shared_history

    start = time.perf_counter()
    scenarios = [job.base.with_values(dict(zip(job.lever_keys, v, strict=True)),
                                      origin="optimize candidate") for v in job.values]
    if len(scenarios) == 1 or not 0 < job.base.policy_month < job.base.years * 12:
        results = [run_one(sc, job.seed, replicate=job.replicate, record_events=False)
                   for sc in scenarios]
    else:
        results = run_shared_history(scenarios, job.seed, replicate=job.replicate,
                                     record_events=False)
    share = (time.perf_counter() - start) / len(scenarios)
    rows = []
    for (search, generation, candidate), v, res in zip(job.keys, job.values, results,
                                                        strict=True):
        row: dict[str, Any] = {"search": search, "generation": generation,
                               "candidate": candidate, "seed": job.seed,
                               "replicate": job.replicate,
                               **dict(zip(job.lever_keys, v, strict=True))}
        for name, metric in WINDOW_METRICS.items():
            row[name] = float(sum(y[metric] for y in res.years
                                  if y["year"] >= job.window_start))
        row["seconds"] = share
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- the evaluator
Progress = Callable[[str, int, int], None]


class ModelEvaluator:
    """Evaluates candidates on the model: cached evaluations from the folder's part files,
    the rest on the executor in chunks (one seed x up to MAX_CHUNK candidates per task), each
    finished task written as a part file at once."""

    def __init__(self, base: Scenario, levers: Sequence[Lever], opts: OptimizeOptions,
                 out: Path, executor: Any, progress: Progress | None = None) -> None:
        self.base, self.levers, self.opts, self.out = base, tuple(levers), opts, out
        self.keys = tuple(lv.key for lv in levers)
        self.executor, self.progress = executor, progress
        self.window_start = window_of(base)[0]
        self.parts = Parts(out)
        self.cache: dict[tuple[int, int, int, int], dict[str, Any]] = {}
        for row in self.parts.read().to_dict("records"):
            self.cache[(int(row["search"]), int(row["generation"]), int(row["candidate"]),
                        int(row["seed"]))] = row
        self.computed = 0
        self.run_seconds = 0.0
        self.seeds = [opts.seed + r for r in range(opts.replicates)]
        self.status_quo = tuple(float(base.values[k]) for k in self.keys)
        baseline = Candidate(BASELINE_SEARCH, -1, 0, self.status_quo)
        rows = self._rows([baseline], "baseline")
        self.baseline_cost = {s: rows[(BASELINE_SEARCH, -1, 0, s)]["fiscal_cost"]
                              for s in self.seeds}
        self.baseline_rows = [rows[(BASELINE_SEARCH, -1, 0, s)] for s in self.seeds]

    def __call__(self, candidates: Sequence[Candidate]) -> np.ndarray:
        label = f"generation {candidates[0].generation + 1}" if candidates else "generation"
        rows = self._rows(candidates, label)
        out = np.empty((len(candidates), len(OBJECTIVES)))
        for i, c in enumerate(candidates):
            per_seed = [rows[(c.search, c.generation, c.index, s)] for s in self.seeds]
            out[i, 0] = np.mean([r[f"returns_{self.opts.count}"] for r in per_seed])
            out[i, 1] = np.mean([r[f"new_poverty_{self.opts.count}"] for r in per_seed])
            out[i, 2] = np.mean([r["fiscal_cost"] - self.baseline_cost[s]
                                 for r, s in zip(per_seed, self.seeds, strict=True)])
        return out

    def _rows(self, candidates: Sequence[Candidate],
              label: str) -> dict[tuple[int, int, int, int], dict[str, Any]]:
        """Every (candidate, seed) row, from the cache or computed now."""
        pending: dict[int, list[Candidate]] = {s: [] for s in self.seeds}
        for c in candidates:
            for s in self.seeds:
                key = (c.search, c.generation, c.index, s)
                row = self.cache.get(key)
                if row is None:
                    pending[s].append(c)
                elif tuple(float(row[k]) for k in self.keys) != c.values:
                    raise OutputError(
                        f"{self.out}: the stored evaluation of search {c.search}, generation "
                        f"{c.generation}, candidate {c.index} has other lever values than "
                        "the replay; the folder was changed by hand — start afresh with "
                        "--replace")
        per_task = max(1, math.ceil(self.executor.capacity / len(self.seeds)))
        jobs = []
        for r, s in enumerate(self.seeds):
            todo = pending[s]
            if not todo:
                continue
            size = min(MAX_CHUNK, math.ceil(len(todo) / per_task))
            for k in range(0, len(todo), size):
                chunk = todo[k:k + size]
                jobs.append(CandidateChunk(
                    self.base, self.keys,
                    tuple((c.search, c.generation, c.index) for c in chunk),
                    tuple(c.values for c in chunk), s, r, self.window_start))
        total = len(candidates) * len(self.seeds)
        done = total - sum(len(j.keys) for j in jobs)
        if self.progress:
            self.progress(label, done, total)
        in_flight: dict[Any, CandidateChunk] = {}
        while jobs or in_flight:
            while jobs and len(in_flight) < self.executor.capacity:
                job = jobs.pop(0)
                in_flight[self.executor.submit(run_candidate_chunk, job)] = job
            for fut in self.executor.wait(list(in_flight)):
                in_flight.pop(fut)
                rows = fut.result()
                self.parts.write(pd.DataFrame(rows))
                for row in rows:
                    self.cache[(row["search"], row["generation"], row["candidate"],
                                row["seed"])] = row
                    self.run_seconds += row["seconds"]
                self.computed += len(rows)
                done += len(rows)
                if self.progress:
                    self.progress(label, done, total)
        return {(c.search, c.generation, c.index, s): self.cache[(c.search, c.generation,
                                                                  c.index, s)]
                for c in candidates for s in self.seeds}


# ----------------------------------------------------------------------------- the folder
def work_folder(out: Path) -> WorkFolder:
    """The optimization folder `out` (marker kind "optimization")."""
    return WorkFolder(out, "optimization", OPTIMIZE_ENTRIES, "optimization")


# ----------------------------------------------------------------------------- the run
def run_optimization(opts: OptimizeOptions, out: Path | str, *, workers: int | None = None,
                     scheduler: str | None = None, resume: bool = False,
                     replace: bool = False, progress: Progress | None = None,
                     notice: Callable[[str], None] | None = None,
                     command: Sequence[str] = (),
                     stop_after: int | None = None) -> OptimizeReport:
    """The optimization of `opts` into folder `out` (see the module docstring).

    Raises ScenarioError / UsageError / OutputError for bad input (CLI exit 2) before any
    run; KeyboardInterrupt leaves every finished evaluation on disk for --resume.
    `stop_after`: stop after that many generations as if interrupted (tests)."""
    from simulation.experiments.runner import prepare_engine
    from simulation.experiments.sweep.execute import make_executor

    out = Path(out)
    levers = resolve_levers(opts.levers)
    if opts.budget is not None and not (math.isfinite(opts.budget) and opts.budget >= 0):
        raise UsageError(f"--budget = {opts.budget!r} must be a number >= 0 ({BUDGET_UNITS})")
    if len(opts.epsilons) != len(OBJECTIVES) or not all(
            math.isfinite(e) and e > 0 for e in opts.epsilons):
        raise UsageError(f"--epsilons must be {len(OBJECTIVES)} positive numbers "
                         f"({', '.join(OBJECTIVES)}), got {list(opts.epsilons)}")
    if opts.count not in COUNTS:
        raise UsageError(f"--count = {opts.count!r}; allowed: {', '.join(COUNTS)}")
    if opts.evaluations < opts.searches * opts.population:
        raise UsageError(f"--evaluations {opts.evaluations} is less than one generation of "
                         f"every search (--searches {opts.searches} x --population "
                         f"{opts.population} = {opts.searches * opts.population})")
    base = base_scenario(opts)
    fingerprint = {**opts.fingerprint(), "baseline_digest": scenario_digest(base),
                   "engine": "arrays"}
    work = work_folder(out)
    manifest = work.state(fingerprint, resume, replace)
    work.make()
    lock = work.lock()
    report = OptimizeReport(out)
    start = time.perf_counter()
    executor = None
    evaluator: ModelEvaluator | None = None
    try:
        if manifest is None:  # the folder is ours from here on, whatever happens next
            manifest = work.create(fingerprint, command,
                                   {"kind": "poverty-return optimization", "format": FORMAT},
                                   subfolders=("parts",))
        prepare_engine("arrays", notice)
        executor = make_executor(workers, scheduler)
        evaluator = ModelEvaluator(base, levers, opts, out, executor, progress)

        def generation_done(gen: int, result: SearchResult) -> None:
            atomic_write_frame(out / "convergence.csv", pd.DataFrame(result.convergence))
            manifest["generations_done"] = gen + 1
            work.save(manifest)

        result = run_searches(levers, OBJECTIVES, evaluator, epsilons=opts.epsilons,
                              searches=opts.searches, generations=opts.generations,
                              population=opts.population, seed=opts.seed,
                              budget=opts.budget, budget_objective=OBJECTIVES.index(
                                  "extra_cost"), on_generation=generation_done,
                              stop_after=stop_after)
        report.generations = result.generations_done
        report.evaluations = len(result.candidates)
        report.stopped = result.stopped
        if not result.stopped:
            _write_outputs(out, opts, base, levers, evaluator, result, manifest)
            report.pareto = len(result.merged)
            report.hypervolume = float(result.convergence[-1]["hypervolume"])
            manifest["status"] = "complete"
    finally:
        if executor is not None:
            executor.close()
        lock.close()
        report.wall_seconds = time.perf_counter() - start
        if evaluator is not None:
            report.computed_runs = evaluator.computed
            report.run_seconds = evaluator.run_seconds
        work.end_session(manifest, {"runs_computed": report.computed_runs,
                                    "wall_seconds": round(report.wall_seconds, 1),
                                    "workers": workers, "scheduler": scheduler})
    return report


# ----------------------------------------------------------------------------- outputs
def _write_outputs(out: Path, opts: OptimizeOptions, base: Scenario, levers: Sequence[Lever],
                   evaluator: ModelEvaluator, result: SearchResult,
                   manifest: dict[str, Any]) -> None:
    """evaluations.parquet, pareto.parquet/.csv, convergence.csv, scenarios/, manifest."""
    keys = [lv.key for lv in levers]
    seeds = evaluator.seeds
    rows = [*evaluator.baseline_rows,
            *(evaluator.cache[(c.search, c.generation, c.index, s)]
              for c in result.candidates for s in seeds)]
    evaluations = pd.DataFrame(rows)
    evaluations["extra_cost"] = evaluations["fiscal_cost"] - evaluations["seed"].map(
        evaluator.baseline_cost)
    for name in ("returns", "new_poverty"):  # the objectives, on the count searched
        evaluations[name] = evaluations[f"{name}_{opts.count}"]
    counts = [f"{n}_{c}" for c in COUNTS for n in ("returns", "new_poverty")]
    evaluations = evaluations[["search", "generation", "candidate", "seed", "replicate", *keys,
                               "returns", "new_poverty", "fiscal_cost", "extra_cost", *counts,
                               "seconds"]]
    atomic_write_frame(out / "evaluations.parquet", evaluations)
    atomic_write_frame(out / "convergence.csv", pd.DataFrame(result.convergence))

    by_key = evaluations.set_index(["search", "generation", "candidate"]).sort_index()
    means = result.objective_array()
    records = []
    for i in result.merged:
        c = result.candidates[i]
        per_seed = by_key.loc[[(c.search, c.generation, c.index)]]  # a frame, even for 1 seed
        rec: dict[str, Any] = {"search": c.search, "generation": c.generation,
                               "candidate": c.index,
                               **dict(zip(keys, c.values, strict=True))}
        for j, name in enumerate(OBJECTIVES):
            rec[name] = float(means[i, j])
            rec[f"{name}_min"] = float(per_seed[name].min())
            rec[f"{name}_max"] = float(per_seed[name].max())
        rec["fiscal_cost"] = float(per_seed["fiscal_cost"].mean())
        for name in counts:
            rec[name] = float(per_seed[name].mean())
        rec["levers_changed"] = sum(v != q for v, q in zip(c.values, evaluator.status_quo,
                                                             strict=True))
        records.append(rec)
    pareto = pd.DataFrame(records)
    if len(pareto):
        pareto = pareto.sort_values(["extra_cost", "returns", "new_poverty"],
                                    ignore_index=True)
        pareto.insert(0, "point", [f"pareto-{k + 1:03d}" for k in range(len(pareto))])
    else:
        pareto = pd.DataFrame(columns=["point", "search", "generation", "candidate", *keys,
                                       *OBJECTIVES])
    atomic_write_frame(out / "pareto.parquet", pareto)
    atomic_write_frame(out / "pareto.csv", pareto)

    folder = out / "scenarios"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("pareto-*.toml"):  # ours: a resumed run writes them again
        old.unlink()
    window = window_of(base)
    for rec in pareto.to_dict("records"):
        atomic_write_text(folder / f"{rec['point']}.toml",
                          pareto_scenario_text(rec, base, opts, keys, window))

    baseline = evaluations[evaluations["search"] == BASELINE_SEARCH]
    manifest.update({
        "objectives": {name: OBJECTIVE_UNITS[name] for name in OBJECTIVES},
        "count": opts.count,
        "budget": opts.budget, "budget_units": BUDGET_UNITS,
        "window": list(window), "seeds": seeds,
        "levers": [{"key": lv.key, "low": lv.low, "high": lv.high, "integer": lv.integer,
                    "status_quo": q} for lv, q in zip(levers, evaluator.status_quo,
                                                      strict=True)],
        "baseline": {"name": base.name, "reference": baseline_reference(opts),
                     "returns": float(baseline["returns"].mean()),
                     "new_poverty": float(baseline["new_poverty"].mean()),
                     **{name: float(baseline[name].mean()) for name in counts},
                     "fiscal_cost": float(baseline["fiscal_cost"].mean())},
        "generations": result.generations_done, "evaluations": len(result.candidates),
        "runs": len(evaluations), "pareto_points": len(pareto),
        "hypervolume": float(result.convergence[-1]["hypervolume"]),
        "generations_done": result.generations_done})


def baseline_reference(opts: OptimizeOptions) -> str:
    """How a scenario file names the baseline: a shipped name as it is, a file by its
    absolute path (so the Pareto files work from anywhere)."""
    from simulation.model.scenario import SCENARIO_DIR, resolve_path

    path = resolve_path(opts.baseline).resolve()
    return path.stem if path.parent == SCENARIO_DIR.resolve() else str(path)


def pareto_scenario_text(rec: Mapping[str, Any], base: Scenario, opts: OptimizeOptions,
                         keys: Sequence[str], window: tuple[int, int]) -> str:
    """A Pareto point as a scenario file: the baseline with the levers that differ."""
    changed = [k for k in keys if float(rec[k]) != float(base.values[k])]
    name = str(rec["point"])  # pareto-NNN: the file's stem, the name in every table
    lines = [
        f"# {rec['point']}: a Pareto-optimal mix of `python run.py optimize` (search "
        f"{rec['search']}, generation {rec['generation']}, candidate {rec['candidate']}).",
        f"# Over {window[0]}-{window[1]}, means over {opts.replicates} seed(s) at "
        f"{opts.households:,} households, county totals:",
        f"#   returns {rec['returns_official']:,.1f} (hardship count "
        f"{rec['returns_hardship']:,.1f}), new poverty {rec['new_poverty_official']:,.1f} "
        f"({rec['new_poverty_hardship']:,.1f}) households;",
        f"#   extra fiscal cost {rec['extra_cost']:,.0f} yuan",
        "#   (nominal, over the window, above the status quo on the same seeds).",
        f"name = {toml_str(name)}",
        f"base = {toml_str(baseline_reference(opts))}",
        f"description = {toml_str(f'Optimized mix {rec['point']}: {len(changed)} lever(s) '
                                  'changed from the baseline.')}"]
    if opts.county is not None:
        lines.append(f"county_profile = {toml_str(base.county.ref)}")
    for section in dict.fromkeys(SCHEMA[k].section for k in changed):
        lines += ["", f"[{section}]"]
        for k in changed:
            p = SCHEMA[k]
            if p.section == section:
                lines.append(f"{p.name} = {toml_num(float(rec[k]), p)}  # status quo "
                             f"{toml_num(float(base.values[k]), p)} {p.unit}")
    return "\n".join(lines) + "\n"


def pareto_scenarios(out: Path | str, opts: OptimizeOptions,
                     points: Sequence[str]) -> tuple[list[Scenario], Scenario]:
    """The Pareto points `points` (names pareto-NNN) read from OUT/scenarios/ with the
    scenario loader, and the baseline, all in the optimization's county (`base_scenario`) at
    its households and horizon: what a re-evaluation over futures runs. ScenarioError if a
    file is missing or its horizon differs from the baseline's."""
    out = Path(out)
    base = base_scenario(opts)
    scenarios = []
    for point in points:
        path = out / "scenarios" / f"{point}.toml"
        if not path.is_file():
            raise ScenarioError(f"{path}: no such Pareto scenario file (the optimization in "
                                f"{out} is not finished or was changed by hand)")
        sc = load_scenario(path).with_county(base.county, "the optimization's county")
        sc = sc.with_values({"run.households": opts.households}, origin="--households")
        if sc.years != base.years or sc.policy_month != base.policy_month:
            raise ScenarioError(f"{path}: horizon or policy date differs from the baseline's "
                                f"({sc.years} years from {START_YEAR} vs {base.years})")
        scenarios.append(sc)
    return scenarios, base


__all__ = [
    "BASELINE_SEARCH",
    "BUDGET_UNITS",
    "COUNTS",
    "DEFAULT_EPSILONS",
    "OBJECTIVES",
    "OBJECTIVE_UNITS",
    "OPTIMIZE_ENTRIES",
    "CandidateChunk",
    "ModelEvaluator",
    "OptimizeOptions",
    "OptimizeReport",
    "base_scenario",
    "baseline_reference",
    "pareto_scenario_text",
    "pareto_scenarios",
    "read_parts",
    "resolve_levers",
    "run_candidate_chunk",
    "run_optimization",
    "scenario_digest",
    "window_of",
]
