"""`python run.py report RESULTS_DIR [--out FILE]`: the strategy-comparison report.

Reads a results folder (analysis.results_io) and writes one self-contained report.html (opens
offline, readable on a phone), a report.md and report_files/ (figures as PNG, every table as
CSV). Sections: scenarios and their knob differences, headline with paired differences,
causes, mechanism decomposition (Shapley), exit cohorts and time to return, who returns,
cost-effectiveness, calibration, run manifest, methods.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import figures
from analysis.causes import GROUP_LABELS, cause_totals, falls_by_cause, yearly_by_cause
from analysis.costs import cost_by_year, cost_effectiveness
from analysis.decompose import DECOMPOSED, SHAPLEY_OUTCOMES
from analysis.equity import (
    HOUSEHOLD_TYPES,
    POPULATIONS,
    by_household_type,
    by_village,
    village_concentration,
)
from analysis.outcomes import COST_COLUMNS, OUTCOMES, run_outcomes
from analysis.paired import describe, paired_differences
from analysis.report_render import (
    FIGURE_WORKERS,
    Document,
    FigureRenderer,
    check_output,
    write_document,
)
from analysis.results_io import Results, load_results
from analysis.shapley import (
    NotDecomposable,
    Pair,
    all_coalitions,
    decompose,
    find_coalitions,
    mechanism_changes,
    one_at_a_time,
)
from analysis.spells import (
    COHORT_LABELS,
    COHORTS,
    WITHIN_YEARS,
    exit_episodes,
    km_bands,
    km_by_replicate,
    reentry_hazard,
    returned_within,
    summarize_by,
)
from simulation.common.errors import OutputError
from simulation.common.stats import mean_interval
from simulation.model.calendar import START_YEAR
from simulation.model.codes import CAUSES
from simulation.model.params import MECHANISMS, SCHEMA
from simulation.model.scenario import month_label


# ----------------------------------------------------------------------------- formatting
def _num(v: float, decimals: int = 0, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    text = f"{v:+,.{decimals}f}" if signed else f"{v:,.{decimals}f}"
    return "0" if text in ("+0", "-0") and decimals == 0 else text


def ci(mean: float, low: float, high: float, decimals: int = 0, signed: bool = False,
       scale: float = 1.0, suffix: str = "", floor: float | None = None) -> str:
    """'mean [low, high]' with thousands separators; `floor` truncates the interval of a
    quantity that cannot be below it (counts and shares: 0)."""
    m, lo, hi = (x * scale if x == x else x for x in (mean, low, high))
    if floor is not None and lo == lo:
        lo = max(lo, floor)
    if lo != lo or hi != hi:
        return f"{_num(m, decimals, signed)}{suffix}"
    return (f"{_num(m, decimals, signed)}{suffix} [{_num(lo, decimals, signed)}, "
            f"{_num(hi, decimals, signed)}]")


def pct(mean: float, low: float = math.nan, high: float = math.nan, decimals: int = 1,
        signed: bool = False) -> str:
    """A share as a percentage with its interval (truncated at 0 unless signed)."""
    return ci(mean, low, high, decimals, signed, scale=100.0, suffix="%",
              floor=None if signed else 0.0)


def _value(v: float, key: str) -> str:
    p = SCHEMA[key]
    return f"{int(v)}" if p.integer else f"{v:g}"


def _label(name: str) -> str:
    return name.replace("_", " ")


# ----------------------------------------------------------------------------- the report

def _outcome_format(outcome: str) -> tuple[float, int, str]:
    """Scale, decimals and unit of a decomposed outcome in report tables."""
    if outcome == "fiscal_cost":
        return 1e-6, 1, "million yuan"
    return 1.0, 0, OUTCOMES[outcome][0]

class Report:
    """Computes every table and figure of the report from a loaded results folder."""

    def __init__(self, results: Results, decomposition: Results | None = None,
                 robustness: Path | None = None, optimization: Path | None = None,
                 renderer: FigureRenderer | None = None) -> None:
        self.r = results
        self.extra = decomposition
        self.robustness_folder = robustness
        self.optimization_folder = optimization
        self.baseline = results.baseline
        self.names = results.names
        self.per_run = run_outcomes(results)
        self.pairs = self._shapley_pairs(results, self.per_run)
        intermediate = {n for pair, names, _ in self.pairs for n in names.values()} - \
            {p.base for p, _, _ in self.pairs} - {p.other for p, _, _ in self.pairs}
        self.focus = [n for n in self.names if n not in intermediate]
        self.colours = figures.scenario_colours(self.names, self.baseline)
        self.doc = Document(self._title(), renderer=renderer)
        self.n_note = results.replicate_note()

    # -- helpers
    def _title(self) -> str:
        years = self.r.years
        return (f"Return to poverty in M County: strategy comparison, {years[0]}–{years[-1]} "
                f"({self.r.folder.name})")

    def _focus(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["scenario"].isin(self.focus)]

    @staticmethod
    def _shapley_pairs(results: Results, per_run: pd.DataFrame
                       ) -> list[tuple[Pair, dict[frozenset[str], str], pd.DataFrame]]:
        """Pairs (baseline, scenario) whose every mechanism coalition is in the results."""
        found: list[tuple[Pair, dict[frozenset[str], str]]] = []
        base = results.baseline
        if base is None:
            return []
        for other in results.names:
            if other == base:
                continue
            try:
                pair = mechanism_changes(results.scenarios[base], results.scenarios[other])
            except NotDecomposable:
                continue
            if len(pair.players) < 2:
                continue
            names = find_coalitions(results.scenarios, base, other)
            if names is None:
                continue
            found.append((pair, names))
        # keep the largest decompositions: baseline vs an intermediate combination of a
        # larger one is complete too, but is part of that one
        maximal = [(p, n) for p, n in found
                   if not any(set(n.values()) < set(m.values()) for _, m in found)]
        outcomes = list(DECOMPOSED)
        return [(p, n, decompose(per_run, p, n, outcomes)) for p, n in maximal]

    # -- sections
    def build(self) -> Document:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("overview", self.overview), ("scenarios", self.scenarios),
            ("headline", self.headline), ("causes", self.causes),
            ("decomposition", self.decomposition), ("cohorts", self.cohorts),
            ("who", self.who_returns), ("monitoring", self.monitoring_and_disasters),
            ("costs", self.costs), ("robustness", self.robustness),
            ("optimization", self.optimization),
            ("calibration", self.calibration), ("manifest", self.manifest),
            ("methods", self.methods)]
        for _, step in steps:
            step()
        return self.doc

    def overview(self) -> None:
        r, d = self.r, self.doc
        years = r.years
        sc = r.scenarios[self.names[0]]
        county = int(sc.values["county.households"])
        d.heading("Overview")
        d.paragraph(
            f"This report compares {len(self.focus)} scenario"
            f"{'s' if len(self.focus) != 1 else ''} "
            f"({', '.join(f'**{_label(n)}**' for n in self.focus)}) over {len(years)} "
            f"year{'s' if len(years) != 1 else ''} "
            f"({years[0]}–{years[-1]}) in a simulated county of {county:,} rural households "
            + (f"(a stratified sample of {sc.households:,} simulated households, weighted to "
               "the county). " if sc.population_file is None else
               f"({sc.households:,} households from the records in {sc.population_file}, "
               "each with its own weight). ")
            + "Each scenario was run "
            f"{'once' if r.replicates == 1 else f'{r.replicates} times'} ({r.seed_span()}); "
            "replicate r of every scenario uses the same seed, so differences against the "
            "baseline "
            f"(**{_label(self.baseline) if self.baseline else 'none'}**) are paired per seed. "
            "Every interval is a 95% interval of the mean over replicates (Student t); every "
            "table and figure states its number of replicates.")
        first = r.window_start
        if first > years[0]:
            dates = sorted({month_label(r.scenarios[n].policy_month) for n in self.focus})
            d.paragraph(
                f"**Evaluation window {r.window_label}.** The scenarios' knobs take effect at "
                f"their policy date ({', '.join(dates)}); "
                f"{years[0]}–{first - 1} is history, the same for every scenario on a seed. "
                "Totals, differences, causes and costs are summed over the window; yearly "
                "figures show the whole run, history included.")
        if r.replicates < 2:
            d.warn("One replicate: an interval needs at least two runs, so the tables show the "
                   "single run's values without intervals, and the figures' bands are absent. "
                   "Run more replicates (`--replicates`) to see how much the results vary.")
        if len(self.names) != len(self.focus):
            d.note(f"The folder also holds {len(self.names) - len(self.focus)} intermediate "
                   "scenarios of a mechanism decomposition; they are used in the "
                   "decomposition section only.")
        for warning in r.warnings + (self.extra.warnings if self.extra else []):
            d.warn(warning)
        d.note(f"Results folder: `{r.folder}`. Tables behind every figure are saved as CSV "
               "files next to this report (report_files/).")

    def scenarios(self) -> None:
        r, d = self.r, self.doc
        d.heading("Scenarios compared")
        rows = []
        for name in self.focus:
            sc = r.scenarios[name]
            diff = len(sc.knob_differences(r.scenarios[self.baseline])) if self.baseline else 0
            rows.append({"scenario": _label(name), "description": sc.description or "–",
                         "values changed vs baseline": "–" if name == self.baseline else
                         str(diff),
                         "scheduled changes": str(len(sc.schedule)),
                         "disasters": str(len(sc.disasters)),
                         "digest": str(r.manifest["scenarios"].get(name, {}).get("digest",
                                                                                  "–"))})
        d.table(pd.DataFrame(rows), "Scenarios (resolved files: scenarios/<scenario>.toml in the "
                "results folder)", text_columns=("description",))
        if not self.baseline:
            return
        base = r.scenarios[self.baseline]
        others = [n for n in self.focus if n != self.baseline]
        diffs = {n: r.scenarios[n].knob_differences(base) for n in others}
        keys = [k for k in SCHEMA if any(k in d for d in diffs.values())]
        rows, long = [], []
        for key in keys:
            p = SCHEMA[key]
            row = {"key": key, "mechanism": _label(p.mechanism) if p.mechanism else
                   "(constant)", "unit": p.unit, _label(self.baseline): _value(
                       base.values[key], key)}
            for n in others:
                row[_label(n)] = _value(diffs[n][key][1], key) if key in diffs[n] else "·"
                if key in diffs[n]:
                    long.append({"scenario": n, "key": key, "baseline": diffs[n][key][0],
                                 "value": diffs[n][key][1], "unit": p.unit})
            row["what it is"] = p.doc
            rows.append(row)
        for n in others:
            sc = r.scenarios[n]
            if sc.schedule != base.schedule or sc.disasters != base.disasters:
                d.note(f"{_label(n)} also differs from {_label(self.baseline)} in its dated "
                       f"policy changes ({len(sc.schedule)} vs {len(base.schedule)}) or "
                       f"scheduled disasters ({len(sc.disasters)} vs {len(base.disasters)}); "
                       f"see scenarios/{n}.toml.")
        if rows:
            d.table(pd.DataFrame(rows), f"Knob values that differ from {_label(self.baseline)} "
                    "(· = same as the baseline; from the saved scenario files)",
                    text_columns=("what it is",),
                    csv=("knob_differences.csv", pd.DataFrame(long)))

    def headline(self) -> None:
        r, d = self.r, self.doc
        d.heading("Headline results")
        metrics = ["returns", "new_poverty", "returns_hardship", "household_years_below",
                   "fiscal_cost"]
        desc = describe(self._focus(self.per_run), metrics,
                                                 order=self.focus)
        rows = []
        for name in self.focus:
            sub = desc[desc["scenario"] == name].set_index("metric")

            def cell(metric: str, scale: float = 1.0, decimals: int = 0,
                     s: pd.DataFrame = sub) -> str:
                return ci(s.loc[metric, "mean"], s.loc[metric, "low"], s.loc[metric, "high"],
                          decimals, scale=scale, floor=0.0)

            rows.append({"scenario": _label(name), "returns (households)": cell("returns"),
                         "new poverty (households)": cell("new_poverty"),
                         "returns, hardship count": cell("returns_hardship"),
                         "household-years below the line": cell("household_years_below"),
                         "fiscal cost (million yuan)": cell("fiscal_cost", 1e-6, 1),
                         "replicates": str(int(sub["replicates"].iloc[0]))})
        d.table(pd.DataFrame(rows), f"County totals over the evaluation window "
                f"{r.window_label}: mean [95% interval]; {self.n_note}",
                csv=("headline.csv", desc))
        if self.baseline and len(self.focus) > 1:
            diffs = paired_differences(
                self._focus(self.per_run), self.baseline, metrics, order=self.focus)
            rows = []
            for name in self.focus[1:] if self.focus[0] == self.baseline else \
                    [n for n in self.focus if n != self.baseline]:
                sub = diffs[diffs["scenario"] == name].set_index("metric")

                def dcell(metric: str, scale: float = 1.0, decimals: int = 0,
                          s: pd.DataFrame = sub) -> str:
                    rel = s.loc[metric, "relative"]
                    text = ci(s.loc[metric, "mean"], s.loc[metric, "low"],
                              s.loc[metric, "high"], decimals, signed=True, scale=scale)
                    return text + (f" ({100 * rel:+.0f}%)" if rel == rel else "")

                rows.append({"scenario": _label(name), "Δ returns": dcell("returns"),
                             "Δ new poverty": dcell("new_poverty"),
                             "Δ returns (hardship)": dcell("returns_hardship"),
                             "Δ household-years below": dcell("household_years_below"),
                             "Δ fiscal cost (million yuan)": dcell("fiscal_cost", 1e-6, 1),
                             "pairs": str(int(sub["replicates"].iloc[0]))})
            d.table(pd.DataFrame(rows), f"Scenario − {_label(self.baseline)}, paired on seeds: "
                    "mean difference [95% interval] (relative change); "
                    f"{self.n_note}", csv=("paired_differences.csv", diffs))
            gain = self._pairing_gain()
            if gain:
                d.note(gain)
        runs = self._focus(r.runs)
        returns = bool(runs["returned_households"].any())
        if returns:
            d.plot(figures.returns_by_scenario, (runs,), "returns_by_year",
                     f"Formerly poor households returning to poverty per year (county), mean "
                     f"and 95% interval; {self.n_note}.")
        else:  # lines flat at zero would only look like a drawing error
            d.note("No formerly poor household returned to poverty in any of these runs, so "
                   "there are no figures of returns per year.")
        if self.baseline and len(self.focus) > 1:
            yearly = paired_differences(
                runs, self.baseline, ["returned_households", "newly_poor_households"],
                order=self.focus, by=["year"])
            ret = yearly[yearly["metric"] == "returned_households"]
            self.doc.tables["paired_differences_by_year.csv"] = yearly
            if returns:
                d.plot(figures.paired_difference_by_year, (
                    ret, "change in returns (households/yr, county)",
                    f"Returns to poverty: scenario − {_label(self.baseline)} per year",
                    self.colours), "returns_difference_by_year",
                    f"Change in yearly returns against {_label(self.baseline)} (paired on "
                    f"seeds); {self.n_note}.")

    def _pairing_gain(self) -> str:
        """How much narrower the paired interval of the change in returns is than an
        unpaired (Welch) interval on the same runs."""
        per_run = self._focus(self.per_run)
        base = per_run[per_run["scenario"] == self.baseline].set_index("seed")["returns"]
        ratios = []
        for name in self.focus:
            if name == self.baseline:
                continue
            other = per_run[per_run["scenario"] == name].set_index("seed")["returns"]
            seeds = other.index.intersection(base.index)
            n = len(seeds)
            if n < 2:
                continue
            paired_sd = float((other[seeds] - base[seeds]).std(ddof=1))
            unpaired_sd = math.sqrt(float(other[seeds].var(ddof=1) + base[seeds].var(ddof=1)))
            if paired_sd > 0:
                ratios.append(unpaired_sd / paired_sd)
        if not ratios:
            return ""
        return ("Pairing on common seeds: the interval of the change in returns is "
                f"{min(ratios):.1f}–{max(ratios):.1f} times narrower than it would be from "
                "independent runs of the same size (ratio of standard deviations).")

    def causes(self) -> None:
        r, d = self.r, self.doc
        d.heading("Causes of returns and new poverty")
        falls = self._focus(falls_by_cause(r))
        in_window = falls[falls["year"] >= r.window_start]
        d.paragraph("Each household that falls below the line is counted once a year with the "
                    "cause of its first fall that year (the shock or failure behind the income "
                    "drop; `low_income` = no recorded shock). Returns are falls of formerly "
                    "poor households; new poverty, falls of marginal and ordinary households.")
        yearly = yearly_by_cause(falls)
        d.tables["causes_by_year.csv"] = yearly
        for group in ("returns", "new_poverty"):
            totals = cause_totals(in_window, group)
            desc = describe(totals, [*CAUSES, "total"],
                                                     order=self.focus)
            rows = []
            for cause in [*CAUSES, "total"]:
                row = {"cause": _label(cause)}
                for name in self.focus:
                    s = desc[(desc["scenario"] == name) & (desc["metric"] == cause)].iloc[0]
                    row[_label(name)] = ci(s["mean"], s["low"], s["high"], floor=0.0)
                rows.append(row)
            d.table(pd.DataFrame(rows), f"{GROUP_LABELS[group].capitalize()} by cause, county "
                    f"households over the evaluation window {r.window_label}: mean [95% "
                    f"interval]; {self.n_note}",
                    csv=(f"{group}_by_cause.csv", desc))
            if not totals["total"].any():
                # panels without a single bar: say so instead of drawing them
                d.note(f"No {GROUP_LABELS[group]} in any of these runs, so there are no "
                       "figures by cause.")
                continue
            d.plot(figures.falls_by_cause_panels, (yearly[yearly["group"] == group],
                                                   GROUP_LABELS[group]),
                     f"{group}_by_cause_and_year",
                     f"{GROUP_LABELS[group].capitalize()} by cause and year (county households, "
                     f"means); {self.n_note}.")
            if self.baseline and len(self.focus) > 1 and group == "returns":
                diffs = paired_differences(
                    totals, self.baseline, list(CAUSES), order=self.focus)
                d.tables[f"{group}_by_cause_differences.csv"] = diffs
                if diffs["mean"].ne(0).any() or diffs["high"].gt(diffs["low"]).any():
                    d.plot(figures.cause_differences, (diffs, GROUP_LABELS[group],
                                                       self.colours),
                             f"{group}_cause_differences",
                             f"Change in {GROUP_LABELS[group]} by cause against "
                             f"{_label(self.baseline)} (paired); {self.n_note}.")
                else:  # an axis without a single bar
                    d.note(f"No scenario changes {GROUP_LABELS[group]} by any cause against "
                           f"{_label(self.baseline)} in these runs, so there is no figure of "
                           "the changes.")

    def decomposition(self) -> None:
        d = self.doc
        d.heading("Mechanism decomposition")
        pairs = [(pair, names, table, self.r) for pair, names, table in self.pairs]
        if self.extra is not None:
            mine = self.r.scenarios[self.names[0]]
            theirs = next(iter(self.extra.scenarios.values()))
            if (self.extra.years != self.r.years or theirs.households != mine.households
                    or self.extra.seeds != self.r.seeds):
                d.warn(f"The decomposition folder `{self.extra.folder}` was run with other "
                       f"settings ({self.extra.years[0]}–{self.extra.years[-1]}, "
                       f"{theirs.households:,} households, {self.extra.seed_span()}) than "
                       f"these results ({self.r.years[0]}–{self.r.years[-1]}, "
                       f"{mine.households:,} households, {self.r.seed_span()}); its numbers "
                       "describe its own runs and will not match the tables above exactly.")
            extra_pairs = self._shapley_pairs(self.extra, run_outcomes(self.extra))
            if not extra_pairs:
                d.warn(f"The decomposition folder `{self.extra.folder}` holds no complete set "
                       "of mechanism combinations (write one with `python run.py decompose "
                       "BASE OTHER --out DIR`).")
            pairs += [(pair, names, table, self.extra) for pair, names, table in extra_pairs]
        if pairs:
            d.paragraph(
                "The difference between two scenarios is split into the contributions of the "
                "four mechanisms by Shapley values: every combination of the mechanisms' knob "
                "changes was run on the same seeds, and each mechanism gets its marginal effect "
                "averaged over every order in which the changes can be made. Contributions are "
                "computed per seed and add up exactly to the total difference; the "
                "'interaction' row is the total minus the sum of the one-at-a-time effects "
                "(what the mechanisms achieve together beyond their separate effects).")
            for pair, names, table, source in pairs:
                self._shapley_section(pair, names, table, source)
            return
        done = False
        if self.baseline:
            for other in self.focus:
                if other == self.baseline:
                    continue
                try:
                    pair = mechanism_changes(self.r.scenarios[self.baseline],
                                             self.r.scenarios[other])
                except NotDecomposable:
                    continue
                if len(pair.players) < 2:
                    continue
                table = one_at_a_time(self.per_run, pair, self.r.scenarios,
                                      list(SHAPLEY_OUTCOMES))
                cmd = (f"`python run.py decompose {self.baseline} {other} --years "
                       f"{len(self.r.years)} --households {self.r.scenarios[other].households} "
                       f"--replicates {self.r.replicates} --seed {self.r.manifest['seed']} "
                       f"--engine {self.r.manifest.get('engine', 'arrays')} --out DIR`")
                if table is None:
                    d.paragraph(f"{_label(other)} changes {len(pair.players)} mechanisms; a "
                                f"Shapley decomposition needs all {2 ** len(pair.players)} "
                                f"combinations. Run {cmd} and then `python run.py report "
                                f"{self.r.folder} --decomposition DIR`.")
                    done = True
                    continue
                self._one_at_a_time_section(pair, table, cmd)
                done = True
        if not done:
            d.paragraph("No scenario in these results changes more than one mechanism against "
                        "the baseline, so there is nothing to decompose. `python run.py "
                        "decompose BASE OTHER` runs the combinations of two scenarios that "
                        "differ in several mechanisms.")

    def _shapley_section(self, pair: Pair, names: dict[frozenset[str], str],
                         table: pd.DataFrame, source: Results) -> None:
        d = self.doc
        label = f"{_label(pair.other)} − {_label(pair.base)}"
        d.heading(f"Shapley decomposition: {label}", level=3)
        table = table
        coalitions = all_coalitions(pair.players)
        d.note(f"{len(coalitions)} combinations of {len(pair.players)} mechanism changes "
               f"({', '.join(_label(m) for m in pair.players)}), each run on "
               f"{source.replicate_note()} (results folder `{source.folder}`).")
        rows = []
        for outcome in SHAPLEY_OUTCOMES:
            sub = table[table["outcome"] == outcome].set_index("component")
            scale, decimals, unit = _outcome_format(outcome)
            for comp in [*pair.players, "interaction", "total"]:
                s = sub.loc[comp]
                rows.append({
                    "outcome": f"{_label(outcome)} ({unit})", "component": _label(comp),
                    "Shapley contribution": ci(s["shapley"], s["low"], s["high"], decimals,
                                               True, scale),
                    "changed alone": ci(s["alone"], s["alone_low"], s["alone_high"], decimals,
                                        True, scale) if s["alone"] == s["alone"] else "–",
                    "replicates": str(int(s["replicates"]))})
            parts = sub.loc[list(pair.players), "shapley"].sum()
            total = sub.loc["total", "shapley"]
            rows.append({"outcome": f"{_label(outcome)} ({unit})",
                         "component": "check: sum of contributions − total",
                         "Shapley contribution": f"{(parts - total) * scale:+.2g}",
                         "changed alone": "", "replicates": ""})
        d.table(pd.DataFrame(rows), f"Contributions to {label}: mean over seeds [95% interval]; "
                f"'changed alone' = that mechanism's knobs changed on their own; "
                f"{source.replicate_note()}",
                csv=(f"shapley_{pair.base}_{pair.other}.csv", table))
        returns = table[table["outcome"] == "returns"]
        by_cause = table[table["outcome"].str.startswith("returns_")]
        if returns[["shapley", "low", "high", "alone", "alone_low", "alone_high"]] \
                .fillna(0.0).ne(0.0).any(axis=None):
            d.plot(figures.shapley_contributions, (
                returns, "contribution to the change in returns (households, county, "
                f"{source.window_label})",
                label), f"shapley_{pair.other}", f"Shapley decomposition of the change in "
                                                  f"returns, {label}; "
                                                  f"{source.replicate_note()}.")
            d.plot(figures.shapley_by_cause, (by_cause, label), f"shapley_causes_{pair.other}",
                     f"Shapley contributions to the change in returns by cause, {label}; "
                     f"{source.replicate_note()}.")
        else:  # every bar and cell would be 0
            d.note(f"Returns to poverty do not change in these runs: {label} and every "
                   "mechanism's contribution are 0 on every seed, so there are no figures of "
                   "the decomposition of returns.")
        coalition_rows = [{"combination": ", ".join(_label(m) for m in pair.players if m in c)
                           or "(none: the base)", "scenario": names[c]} for c in coalitions]
        d.table(pd.DataFrame(coalition_rows), "Combinations run (each on the same seeds)",
                text_columns=("combination",))

    def _one_at_a_time_section(self, pair: Pair, table: pd.DataFrame, cmd: str) -> None:
        d = self.doc
        table = table
        label = f"{_label(pair.other)} − {_label(pair.base)}"
        d.heading(f"One mechanism at a time: {label}", level=3)
        d.paragraph(f"These results hold {_label(pair.base)}, each single-mechanism strategy "
                    f"and {_label(pair.other)}, but not the combinations of two or three "
                    "mechanisms a Shapley decomposition needs. The table shows each mechanism's "
                    "effect when changed alone, and the interaction: the change of all four "
                    "together minus the sum of the separate changes (paired per seed). For the "
                    f"full decomposition run {cmd}, then pass `--decomposition DIR` to "
                    "`python run.py report`.")
        rows = []
        for outcome in SHAPLEY_OUTCOMES:
            sub = table[table["outcome"] == outcome].set_index("component")
            scale, decimals, unit = _outcome_format(outcome)
            for comp in [*pair.players, "interaction", "total"]:
                s = sub.loc[comp]
                rows.append({"outcome": f"{_label(outcome)} ({unit})",
                             "component": _label(comp) + (
                                 f" ({_label(s['scenario'])})" if comp in pair.players
                                 and s["scenario"] != comp else ""),
                             "effect": ci(s["effect"], s["low"], s["high"], decimals, True,
                                          scale),
                             "replicates": str(int(s["replicates"]))})
        d.table(pd.DataFrame(rows), f"Effects against {_label(pair.base)}: paired mean "
                f"[95% interval]; {self.n_note}", csv=("one_at_a_time.csv", table))

    def cohorts(self) -> None:
        r, d = self.r, self.doc
        d.heading("Exit cohorts and time to return")
        if self.focus == self.names:  # no intermediate scenarios: the folder as loaded
            focused = r
        else:
            events = r.events[r.events["scenario"].isin(self.focus)]
            households = r.households[r.households["scenario"].isin(self.focus)]
            focused = Results(r.folder, r.manifest, self._focus(r.runs), events, households,
                              {n: r.scenarios[n] for n in self.focus}, self.baseline,
                              r.weights)
        episodes, short = exit_episodes(focused)
        horizon = r.horizon_months
        km_runs = km_by_replicate(episodes, horizon)
        bands = km_bands(km_runs)
        within = returned_within(km_runs)
        seeds = r.runs.drop_duplicates(["scenario", "replicate"])[["scenario", "replicate",
                                                                    "seed"]]
        within = within.merge(seeds, on=["scenario", "replicate"])
        d.paragraph(
            "Households that exited poverty are followed as cohorts until their next return "
            "(a `fall`: below the line after at least "
            f"{int(r.scenarios[self.names[0]].values['monitoring.spell_months'])} months "
            "above it) or the end of the horizon (censored): "
            + "; ".join(f"**{COHORT_LABELS[c]}**" for c in COHORTS) + ". Shares returned "
            "within k years are 1 − S(12k months) of a county-weighted Kaplan–Meier curve per "
            "replicate; intervals are over replicates.")
        counts = (episodes.groupby(["cohort", "scenario", "replicate"], sort=False).size()
                  .groupby(["cohort", "scenario"], sort=False).mean())
        rows = []
        for cohort in COHORTS:
            for name in self.focus:
                sub = within[(within["cohort"] == cohort) & (within["scenario"] == name)]
                if sub.empty:
                    continue
                row = {"cohort": COHORT_LABELS[cohort], "scenario": _label(name),
                       "episodes per replicate": _num(float(counts.get((cohort, name),
                                                                       math.nan)))}
                for k in WITHIN_YEARS:
                    values = sub[f"within_{k}y"].dropna().to_numpy()
                    if values.size > 1:
                        mean, low, high = mean_interval(values)
                        text = pct(mean, low, min(high, 1.0), 2)  # a share is at most 100%
                    else:  # one run gives no interval
                        text = pct(values[0], decimals=2) if values.size else "beyond horizon"
                    if 0 < values.size < len(sub):  # some replicates' follow-up is too short
                        text += f" (n = {values.size})"
                    row[f"within {k} yr"] = text
                row["replicates"] = str(len(sub))
                rows.append(row)
        d.table(pd.DataFrame(rows), f"Share of each exit cohort that returned within 1, 2, 3 "
                f"and 5 years (county-weighted Kaplan–Meier): mean [95% interval]; "
                f"{self.n_note}", text_columns=("cohort",), csv=("cohorts_returned_within.csv",
                                                                within))
        if self.baseline and len(self.focus) > 1:
            cols = [f"within_{k}y" for k in WITHIN_YEARS if 12 * k <= horizon]
            rows = []
            for cohort in COHORTS:
                sub = within[within["cohort"] == cohort]
                if sub.empty or not cols:
                    continue
                diffs = paired_differences(sub, self.baseline, cols,
                                                                    order=self.focus)
                for name in self.focus:
                    if name == self.baseline:
                        continue
                    dd = diffs[diffs["scenario"] == name].set_index("metric")
                    # no pair at all: no replicate of the cohort was followed long enough
                    if dd.empty or not dd["replicates"].any():
                        continue
                    row = {"cohort": COHORT_LABELS[cohort], "scenario": _label(name)}
                    for c in cols:
                        row[c.replace("within_", "within ").replace("y", " yr")] = (
                            ci(100 * dd.loc[c, "mean"], 100 * dd.loc[c, "low"],
                               100 * dd.loc[c, "high"], 2, True) + " pp"
                            if dd.loc[c, "replicates"] else "–")
                    row["pairs"] = str(int(dd["replicates"].max()))
                    rows.append(row)
            if rows:
                d.table(pd.DataFrame(rows), f"Change in the share returned against "
                        f"{_label(self.baseline)}, percentage points, paired on seeds: mean "
                        f"[95% interval]; {self.n_note}", text_columns=("cohort",))
        returned = bool(episodes["returned"].any())
        if returned:
            d.plot(figures.km_cumulative_returns, (bands, COHORT_LABELS, self.colours),
                     "kaplan_meier", f"Kaplan–Meier share returned by years since exit, per "
                                     f"cohort; {self.n_note}.")
        else:  # every curve would lie flat at 0%
            d.note("No exit episode ended in a return within the horizon, so there are no "
                   "figures of the time to return or of the re-entry hazard.")
        d.tables["kaplan_meier.csv"] = bands
        hazard = reentry_hazard(episodes, horizon)
        keys = ["cohort", "scenario", "year_since_exit"]
        summary = summarize_by(hazard, keys, "hazard").merge(
            hazard.groupby(keys, sort=False)["exposure_sample"].mean().reset_index(), on=keys)
        # the figure draws a year only with enough exposure in every replicate
        drawn = (summary["exposure_sample"] >= figures.MIN_EXPOSURE) \
            & (summary["replicates"] == summary["replicates"].max()) & summary["mean"].notna()
        if returned and drawn.any():
            d.plot(figures.reentry_hazard, (summary, COHORT_LABELS, self.colours),
                     "reentry_hazard", f"Re-entry hazard: returns per 100 household-years at "
                                       f"risk, by whole years since exit; {self.n_note}.")
        elif returned:
            d.note(f"Too few households at risk for a re-entry hazard (a year since exit is "
                   f"shown with at least {figures.MIN_EXPOSURE:g} simulated household-years at "
                   "risk per replicate); run more households (`--households`).")
        d.tables["reentry_hazard.csv"] = summary
        d.tables["reentry_hazard_by_run.csv"] = hazard
        total_short = short.groupby("scenario", sort=False)[["short_exits", "rises"]].sum()
        share = (total_short["short_exits"] / total_short["rises"].where(
            total_short["rises"] > 0)).dropna()
        if len(share):
            d.note(f"Rises above the line followed within "
                   f"{int(r.scenarios[self.names[0]].values['monitoring.spell_months'])} months "
                   "by a new fall below it continue the same poverty spell under the official "
                   "rule and are not counted as exits: "
                   + ", ".join(f"{_label(str(n))} {100 * v:.0f}%" for n, v in share.items())
                   + " of all rises (simulated households).")

    def who_returns(self) -> None:
        r, d = self.r, self.doc
        d.heading("Who returns")
        types = by_household_type(r)
        types = self._focus(types)
        labels = {g: lab for g, (lab, _) in HOUSEHOLD_TYPES.items()}
        d.paragraph(
            "Share of households that fell below the line at least once over the horizon, by "
            "household type in January 2021 (types overlap). For formerly poor households a "
            "fall is a return to poverty; in the synthetic county all formerly poor households "
            "share one sample weight, so county-weighted and raw shares are equal (households "
            "from a population file carry their own weights). For all households (returns and new "
            "poverty) the county-weighted share and the raw share of the oversampled simulation "
            "differ; both are given.")
        summary = summarize_by(types, ["population", "group", "scenario"], "share")
        raw = summarize_by(types, ["population", "group", "scenario"], "share_raw")
        for shares in (summary, raw):  # t-intervals of few runs can pass 100%; a share cannot
            shares["high"] = shares["high"].clip(upper=1.0)
        size = types.groupby(["population", "group"], sort=False)[["households", "sample"]] \
            .mean()
        for population in POPULATIONS:
            rows = []
            for group in HOUSEHOLD_TYPES:
                if (population, group) not in size.index:
                    continue
                row = {"household type": labels[group],
                       "county households": _num(float(size.loc[(population, group),
                                                                  "households"])),
                       "sample": _num(float(size.loc[(population, group), "sample"]))}
                for name in self.focus:
                    s = summary[(summary["population"] == population)
                                & (summary["group"] == group) & (summary["scenario"] == name)]
                    if s.empty:
                        continue
                    s = s.iloc[0]
                    # no share without households of the type (small samples)
                    row[_label(name)] = (pct(s["mean"], s["low"], s["high"], 1)
                                         if s["replicates"] else "–")
                    if population == "all" and name == self.focus[0]:
                        q = raw[(raw["population"] == population) & (raw["group"] == group)
                                & (raw["scenario"] == name)].iloc[0]
                        row[f"{_label(name)} (raw)"] = (pct(q["mean"], q["low"], q["high"], 1)
                                                        if q["replicates"] else "–")
                rows.append(row)
            d.table(pd.DataFrame(rows), f"{POPULATIONS[population].capitalize()}: share that "
                    "fell below the line at least once, county-weighted (raw = unweighted "
                    f"sample), mean [95% interval]; {self.n_note}",
                    text_columns=("household type",))
        d.tables["who_returns.csv"] = types
        fp = summary[summary["population"] == "formerly_poor"]
        returned = bool(fp["mean"].fillna(0.0).any())
        if returned:
            d.plot(figures.who_returns, (fp, labels,
                                         "formerly poor households returned at least once (%)",
                                         "Who returns: formerly poor households by type",
                                         self.colours), "who_returns",
                     f"Share of formerly poor households returning at least once over the "
                     f"horizon by household type; {self.n_note}.")
        else:  # every dot would sit at 0%
            d.note("No formerly poor household returned to poverty in any of these runs, so "
                   "there are no figures by household type or village.")
        if self.baseline and len(self.focus) > 1:
            diffs = paired_differences(
                types[types["population"] == "formerly_poor"], self.baseline, ["share"],
                order=self.focus, by=["group"])
            rows = []
            for group in HOUSEHOLD_TYPES:
                row = {"household type": labels[group]}
                for name in self.focus:
                    s = diffs[(diffs["group"] == group) & (diffs["scenario"] == name)]
                    if not s.empty:
                        s = s.iloc[0]
                        row[_label(name)] = (ci(100 * s["mean"], 100 * s["low"],
                                                100 * s["high"], 1, True) + " pp"
                                             if s["replicates"] else "–")
                rows.append(row)
            d.table(pd.DataFrame(rows), "Who benefits: change in the share of formerly poor "
                    f"households returning against {_label(self.baseline)}, percentage points, "
                    f"paired on seeds: mean [95% interval]; {self.n_note}",
                    text_columns=("household type",), csv=("who_benefits.csv", diffs))
        villages = by_village(r)
        villages = self._focus(villages)
        d.tables["villages.csv"] = villages
        conc = village_concentration(villages)  # villages large enough to compare
        if returned and conc["villages"].any():
            d.plot(figures.village_distribution, (villages, r.replicates, self.colours),
                     "villages", "Distribution over villages of the share of formerly poor "
                                 f"households returning (villages of all replicates pooled); "
                                 f"{self.n_note}.")
        elif returned:
            d.note("No village has 10 or more formerly poor sample households, so returns "
                   "are not compared across villages; run more households (`--households`).")
        if not conc.dropna().empty:
            cs = summarize_by(conc, ["scenario"], "top_fifth_share")
            cs["high"] = cs["high"].clip(upper=1.0)  # a share is at most 100%
            villages_per_run = conc.groupby("scenario", sort=False)["villages"].mean()
            rows = [{"scenario": _label(n),
                     "villages per replicate": _num(float(villages_per_run.get(n, math.nan))),
                     "returns in the fifth of villages with most returns":
                         pct(s["mean"], s["low"], s["high"], 0) if s["replicates"] else
                         "– (no returns)",
                     "replicates": str(int(s["replicates"]))}
                    for n in self.focus for _, s in cs[cs["scenario"] == n].iterrows()]
            d.table(pd.DataFrame(rows), "Concentration of returns across villages (villages "
                    "with at least 10 formerly poor sample households; 20% would mean an even "
                    f"spread): mean [95% interval]; {self.n_note}",
                    csv=("village_concentration.csv", conc))

    def monitoring_and_disasters(self) -> None:
        """What identification and disasters do to households at risk, over the window."""
        r, d = self.r, self.doc
        d.heading("Monitoring and disasters")
        runs = self._focus(r.runs)
        runs = runs[runs["year"] >= r.window_start]
        keys = ["scenario", "seed"]
        per_run = runs.groupby(keys, sort=False).agg(
            identified=("at_risk_identified_fell_share", "mean"),
            unidentified=("at_risk_unidentified_fell_share", "mean"),
            at_risk=("at_risk_households", "mean")).reset_index()
        hit_years = runs[runs["disaster_hit_households"] > 0]
        hit = hit_years.groupby(keys, sort=False).agg(
            hit=("disaster_hit_households", "sum"),
            hit_fell=("disaster_hit_fell_share", "mean")).reset_index()
        per_run = per_run.merge(hit, on=keys, how="left")
        per_run["hit"] = per_run["hit"].fillna(0.0)  # no disaster in that run: none hit
        metrics = ["at_risk", "identified", "unidentified", "hit", "hit_fell"]
        desc = describe(per_run, metrics, order=self.focus)
        rows = []
        for name in self.focus:
            sub = desc[desc["scenario"] == name].set_index("metric")

            def cell(metric: str, share: bool, sub: pd.DataFrame = sub) -> str:
                m = sub.loc[metric]
                if not math.isfinite(m["mean"]):
                    return "–"
                if share:
                    return pct(m["mean"], m["low"], m["high"])
                return ci(m["mean"], m["low"], m["high"], floor=0.0)

            rows.append({"scenario": _label(name),
                         "households at risk per year": cell("at_risk", False),
                         "identified: share that fell": cell("identified", True),
                         "not yet identified: share that fell": cell("unidentified", True),
                         "households hit by disasters": cell("hit", False),
                         "hit: share that fell": cell("hit_fell", True)})
        d.table(pd.DataFrame(rows), "Households at risk (an income shock or an income near the "
                f"line) over the evaluation window {r.window_label}: the yearly share that fell "
                "below the line among those identified by monitoring that year and among those "
                "not (yet) identified; disasters: households hit (summed over the window) and "
                "the share of them that fell below the line in the year of the disaster, where "
                f"a disaster struck; mean [95% interval]; {self.n_note}",
                csv=("monitoring_and_disasters.csv", desc))
        d.note("Identified and not-yet-identified households are not comparable groups: "
               "monitoring finds the households whose income has already dropped, so the "
               "identified fall more often. The effect of monitoring itself is the paired "
               "difference against a scenario without it (the `no_monitoring` scenario).")

    def robustness(self) -> None:
        """The ranking across plausible futures (a `robustness` folder), or how to get it."""
        from analysis.robustness import TITLE, render_robustness_section

        folder = self.robustness_folder
        if folder is None:
            self.doc.heading(TITLE)
            self.doc.paragraph(
                "The tables above compare the strategies at one point: the county's status "
                "quo and the model's default values of constants no source pins down. A "
                "ranking at one point is not yet evidence. `python run.py robustness "
                "--out DIR` runs every strategy in many plausible futures (calibrated "
                "parameter sets, uncertain constants, structural alternatives, what-if "
                "shocks) and reports how often each ranks first, its regret and where it "
                f"loses its lead; `python run.py report {self.r.folder} --robustness DIR` "
                "adds that section here.")
            return
        self._embedded(render_robustness_section(folder), folder, "robustness")

    def optimization(self) -> None:
        """The best mixes of levers for a budget (an `optimize` folder), or how to get it."""
        from analysis.optimize import render_optimize_section

        folder = self.optimization_folder
        if folder is None:
            self.doc.heading("The best mix for the budget")
            self.doc.paragraph(
                "The strategies compared here are the study's four proposals and their "
                "combination. `python run.py optimize --budget YUAN --out DIR` searches the "
                "mechanism levers for the mixes with the fewest returns, least new poverty "
                "and least extra cost, and names the best mix for each budget; `python run.py "
                f"report {self.r.folder} --optimization DIR` adds that section here.")
            return
        self._embedded(render_optimize_section(folder), folder, "optimization")

    def _embedded(self, section: str, folder: Path, name: str) -> None:
        """A section another command wrote in markdown: its `## ` title becomes the
        report's heading (contents list), the rest is included with its figures."""
        title, _, body = section.lstrip().partition("\n")
        self.doc.heading(title.removeprefix("## ").strip())
        self.doc.paragraph(f"From the folder `{folder}`.")
        images = {link: (folder / link).read_bytes()
                  for link in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", body)
                  if (folder / link).is_file()}
        self.doc.markdown(body, name, images)

    def costs(self) -> None:
        r, d = self.r, self.doc
        d.heading("Fiscal cost and cost-effectiveness")
        runs = self._focus(r.runs)
        by_year = cost_by_year(runs)
        d.tables["cost_by_mechanism_and_year.csv"] = by_year
        metrics = [*COST_COLUMNS, "fiscal_cost"]
        desc = describe(self._focus(self.per_run), metrics,
                                                 order=self.focus)
        rows = []
        for name in self.focus:
            sub = desc[desc["scenario"] == name].set_index("metric")
            row = {"scenario": _label(name)}
            for m, col in zip([*MECHANISMS, "total"], metrics, strict=True):
                row[_label(m)] = ci(sub.loc[col, "mean"], sub.loc[col, "low"],
                                    sub.loc[col, "high"], 1, scale=1e-6, floor=0.0)
            rows.append(row)
        d.table(pd.DataFrame(rows), "Fiscal cost by mechanism over the evaluation window "
                f"{self.r.window_label}, million yuan "
                f"(nominal, undiscounted): mean [95% interval]; {self.n_note}",
                csv=("cost_by_mechanism.csv", desc))
        d.plot(figures.cost_by_mechanism, (by_year,), "cost_by_mechanism",
                 f"Fiscal cost per year by mechanism (million yuan, means); {self.n_note}.")
        if not self.baseline or len(self.focus) < 2:
            d.paragraph("Cost-effectiveness needs a baseline to compare against (run `python "
                        "run.py compare`).")
            return
        diffs = paired_differences(
            self._focus(self.per_run), self.baseline, metrics, order=self.focus)
        rows = []
        for name in self.focus:
            if name == self.baseline:
                continue
            sub = diffs[diffs["scenario"] == name].set_index("metric")
            row = {"scenario": _label(name)}
            for m, col in zip([*MECHANISMS, "total"], metrics, strict=True):
                row[f"Δ {_label(m)}"] = ci(sub.loc[col, "mean"], sub.loc[col, "low"],
                                           sub.loc[col, "high"], 1, True, 1e-6)
            rows.append(row)
        d.table(pd.DataFrame(rows), f"Extra fiscal cost against {_label(self.baseline)} by "
                f"mechanism, million yuan, paired: mean [95% interval]; {self.n_note}")
        ce = cost_effectiveness(self._focus(self.per_run), self.baseline,
                               int(r.manifest["seed"]), order=self.focus)
        rows = []
        for _, row in ce.iterrows():
            rows.append({
                "scenario": _label(row["scenario"]),
                "extra cost (million yuan)": ci(row["extra_cost"], row["extra_cost_low"],
                                                row["extra_cost_high"], 1, True, 1e-6),
                "returns avoided": ci(row["avoided_returns"], row["avoided_returns_low"],
                                      row["avoided_returns_high"], 0, True),
                "yuan per avoided return": self._ratio(row, "per_return"),
                "household-years below avoided": ci(row["avoided_years"],
                                                    row["avoided_years_low"],
                                                    row["avoided_years_high"], 0, True),
                "yuan per household-year kept above the line": self._ratio(row, "per_year"),
                "pairs": str(int(row["replicates"]))})
        d.table(pd.DataFrame(rows), "Cost-effectiveness against "
                f"{_label(self.baseline)} over the evaluation window {self.r.window_label}: "
                "ratios of paired means with "
                f"Fieller 95% intervals; {self.n_note}",
                csv=("cost_effectiveness.csv", ce))
        # a bootstrap interval exists only where a ratio does and there are seeds to resample
        boot = ce[ce["per_return_boot_low"].notna() & ce["per_return_boot_high"].notna()]
        if len(boot):
            d.note("Bootstrap check (2,000 paired resamples of seeds, generator seeded with the "
                   f"comparison seed {r.manifest['seed']}), yuan per avoided return: "
                   + "; ".join(f"{_label(row['scenario'])} [{_num(row['per_return_boot_low'])}, "
                               f"{_num(row['per_return_boot_high'])}]"
                               for _, row in boot.iterrows()) + ".")
        effect = ce[["avoided_returns", "avoided_returns_low", "avoided_returns_high"]]
        if effect.fillna(0.0).ne(0.0).any(axis=None):
            d.plot(figures.cost_effectiveness_plane, (ce, self.colours), "cost_effectiveness",
                     f"Cost-effectiveness plane: returns avoided against extra fiscal cost, "
                     f"paired on seeds; dashed lines mark equal cost per avoided return; "
                     f"{self.n_note}.")
        else:  # every point would sit on the vertical axis
            d.note(f"No scenario avoids or adds a return against {_label(self.baseline)} in "
                   "these runs, so there is no cost-effectiveness plane.")

    @staticmethod
    def _ratio(row: pd.Series, key: str) -> str:
        status = row[f"{key}_status"]
        if status == "avoids none":
            return "avoids none"
        if status == "cost-saving":
            return "cost-saving (avoids more for less)"
        if row["replicates"] < 2:  # a ratio from one pair, with no interval
            return _num(row[key])
        if status == "unbounded":
            low = row[f"{key}_low"]
            bound = f"≥ {_num(low)}" if low == low and not math.isinf(low) else "any value"
            return f"{_num(row[key])} [{bound}; no upper bound: the effect may be 0]"
        return ci(row[key], row[f"{key}_low"], row[f"{key}_high"])

    def calibration(self) -> None:
        from analysis.calibration import (
            CALIBRATION_YEARS,
            evaluate,
            format_estimate,
            format_value,
        )

        r, d = self.r, self.doc
        d.heading("Calibration")
        target = self.baseline or self.names[0]
        last = START_YEAR + CALIBRATION_YEARS - 1
        if r.years[-1] < last:
            d.warn(f"These results cover {r.years[0]}–{r.years[-1]}; the calibration targets "
                   f"(docs/ODD.md §1) need {START_YEAR}–{last}, so no calibration table is shown. "
                   "`python run.py calibration` runs the baseline over those years.")
            return
        runs = r.runs[(r.runs["scenario"] == target) & (r.runs["year"] <= last)]
        table = evaluate(runs)
        d.paragraph(f"The {_label(target)} runs of these results, {START_YEAR}–{last}, against "
                    "the calibration targets (analysis.calibration; sources in "
                    "docs/sources.md). A target is met when the mean over replicates lies inside "
                    "its range.")

        fmt = format_value
        rows = [{"target": t["description"],
                 "range": f"{fmt(t['low_target'], t['unit'])} – {fmt(t['high_target'], t['unit'])}",
                 "mean [95% interval]": format_estimate(t),
                 "inside": "yes" if t["inside"] else "**no**",
                 "replicates": str(int(t["replicates"])), "source": t["source"]}
                for _, t in table.iterrows()]
        inside = int(table["inside"].sum())
        n = int(table["replicates"].min())
        d.table(pd.DataFrame(rows), f"Calibration of {_label(target)}, {START_YEAR}–{last}: "
                f"{inside} of {len(table)} targets inside their range; "
                f"n = {n} replicate{'s' if n != 1 else ''}",
                text_columns=("target", "source"), csv=("calibration.csv", table))

    def manifest(self) -> None:
        r, d = self.r, self.doc
        m = r.manifest
        d.heading("Run manifest")
        seeds = m.get("seeds", [])
        pairs = [("results folder", f"`{r.folder}`"),
                 ("created", str(m.get("created", "–"))),
                 ("command", f"`{' '.join(str(a) for a in m.get('command', []))}`"),
                 ("engine", str(m.get("engine", "–"))),
                 ("seed", f"{m.get('seed')} (replicate r uses seed + r)"),
                 ("replicates", str(m.get("replicates"))),
                 ("seeds", ", ".join(str(s) for s in seeds) if len(seeds) <= 30 else
                  f"{seeds[0]} … {seeds[-1]} ({len(seeds)} seeds)"),
                 ("baseline", str(m.get("baseline"))),
                 ("git revision", f"`{m.get('git_revision', 'unknown')}`"),
                 ("platform", str(m.get("platform", "–"))),
                 ("simulation wall time", f"{m.get('wall_seconds', math.nan):,.1f} s")]
        pairs += [(f"version: {k}", str(v)) for k, v in m.get("versions", {}).items()]
        if self.extra is not None:
            pairs.append(("decomposition folder", f"`{self.extra.folder}` (git "
                          f"`{self.extra.manifest.get('git_revision', 'unknown')}`, "
                          f"{self.extra.replicate_note()})"))
        d.definitions(pairs)
        rows = [{"scenario": _label(n), "source": str(info.get("source", "–")),
                 "digest": str(info.get("digest", "–")), "years": str(info.get("years", "–")),
                 "households": _num(float(info.get("households", math.nan)))}
                for n, info in m["scenarios"].items()]
        d.table(pd.DataFrame(rows), "Scenario files as run (digest = SHA-256 of the resolved "
                "scenario, first 16 hex digits)", text_columns=("source",))

    def methods(self) -> None:
        d = self.doc
        d.heading("Methods and definitions")
        d.bullets([
            "**Replicates and pairing.** Replicate r of every scenario runs on seed + r (common "
            "random numbers: the same synthetic county and the same shocks where the scenarios "
            "do not change them). A difference is computed per seed and summarized by the "
            "mean with a Student-t 95% interval over seeds.",
            "**County weights.** The simulated households are a stratified sample (formerly "
            "poor, marginal, ordinary); each stratum's weight is county households / sample "
            "households (simulation.model.population.stratum_sizes); households read from a "
            "population file (--population) carry their own weights instead. Counts are "
            "county totals unless marked raw.",
            "**Returns and new poverty.** A fall below the line after at least "
            "`monitoring.spell_months` above it starts a new poverty spell: a return for a "
            "formerly poor household, new poverty for a marginal or ordinary one; a household "
            "counts once a year (as in runs.parquet).",
            "**Household-years below the line.** Months at whose end a household's 12-month "
            "income per person was below the line, reconstructed from its 2021 status and its "
            "crossings (fall, dip, rise), summed with county weights and divided by 12.",
            "**Kaplan–Meier.** Weighted product-limit estimator per replicate (events at a time "
            "precede censoring at that time); shares returned within k years = 1 − S(12k); the "
            "re-entry hazard is county returns / county household-years at risk in each whole "
            "year since exit.",
            "**Shapley decomposition.** For two scenarios differing in the knobs of k "
            "mechanisms, the 2^k combinations are run on the same seeds; each mechanism's "
            "contribution is its marginal effect averaged over all orders of the changes "
            "(Shapley 1953; Shorrocks 2013, doi:10.1007/s10888-011-9214-z). It is computed per "
            "seed, so contributions add up exactly to the paired total.",
            "**Cost-effectiveness.** Extra fiscal cost (nominal yuan, undiscounted, summed over "
            "the horizon) divided by returns avoided (or household-years below the line "
            "avoided), both paired on seeds. Intervals by Fieller's theorem (Fieller 1954, "
            "doi:10.1111/j.2517-6161.1954.tb00159.x) with the t quantile on n − 1 degrees of "
            "freedom; when the avoided quantity is not significantly above zero the interval is "
            "unbounded and reported so. A paired bootstrap over seeds (percentile, 2,000 "
            "resamples, generator seeded with the comparison seed) is given as a check.",
            "**Household types** (January 2021): chronic = a chronic patient; disability = a "
            "disabled member; no labour capacity = no worker; elderly only = every member "
            "elderly; migrant-wage dependent = at least one migrant worker and at least half "
            "the workers migrate; industry-linked = a benefit linkage to a project.",
        ])


def write_report(folder: str | Path, out: str | Path | None = None,
                 decomposition: str | Path | None = None, replace: bool = False,
                 robustness: str | Path | None = None,
                 optimization: str | Path | None = None,
                 figure_workers: int = 0,
                 renderer: FigureRenderer | None = None) -> tuple[Path, Path, float]:
    """Build the report of a results folder; returns (html path, md path, seconds).
    An earlier report of this program at the same place is replaced only with `replace`.
    The figures are drawn on `figure_workers` spawned processes while the tables are
    computed (0: in this process); the files are the same either way. Workers need the
    calling script's `if __name__ == "__main__":` guard (spawn imports it again), which is
    why they are the command line's choice (FIGURE_WORKERS) and not this default. A caller
    that started a `renderer` earlier (its workers then start up while it does other work)
    passes it instead; it stays open."""
    start = time.perf_counter()
    html_path = Path(out) if out is not None else Path(folder) / "report.html"
    check_output(html_path, replace)
    robust = _finished_folder(robustness, "robustness", "robustness.csv", "--robustness")
    optim = _finished_folder(optimization, "optimize", "pareto.csv", "--optimization")
    with FigureRenderer(0 if renderer is not None else figure_workers) as own:
        results = load_results(folder)
        extra = load_results(decomposition) if decomposition is not None else None
        doc = Report(results, extra, robust, optim, renderer or own).build()
        html_path, md_path, _ = write_document(doc, html_path, replace)
    return html_path, md_path, time.perf_counter() - start


def _finished_folder(folder: str | Path | None, command: str, result: str,
                     option: str) -> Path | None:
    """`folder` if it holds the finished results of `python run.py COMMAND`; OutputError
    (exit 2) naming the option and the folder otherwise."""
    if folder is None:
        return None
    path = Path(folder)
    if not (path / result).is_file() or not (path / "manifest.json").is_file():
        raise OutputError(f"{option} {path}: not a finished `python run.py {command}` folder "
                          f"(no {result} and manifest.json in it)")
    return path


def cli(args: Any) -> int:
    """`python run.py report RESULTS_DIR [--out FILE] [--decomposition DIR] [--robustness DIR]
    [--optimization DIR] [--replace]`."""
    html_path, md_path, seconds = write_report(args.results, args.out, args.decomposition,
                                               args.replace, args.robustness,
                                               args.optimization, FIGURE_WORKERS)
    print(f"report written in {seconds:.1f} s: {html_path} (self-contained) and {md_path}")
    return 0

