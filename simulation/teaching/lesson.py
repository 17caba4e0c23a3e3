"""The page's model: one county (or two, side by side) under a scenario plus the teacher's knobs.

`Lesson` is the Mesa model that SolaraViz drives (step, play, reset). It holds one `Run` per
scenario shown — the scenario picked, with the slider settings on top, and optionally a
comparison scenario on the same seed (common random numbers: the same households meet the same
shocks, so differences between the two counties come from the policies). Each run is the
agents engine (`simulation.model.agents_engine.PovertyModel`) with a `Recorder` for the page.

The model lives one history, then policy: a scenario's knobs take effect at its policy date
(January 2026 for the command line). A teacher comparing strategies live wants to see a
strategy act from the first month, so the page runs every scenario with its policy date at the
start (`page_scenario`); the county itself (its households, members and villages) is built
under the status quo either way, so compared counties start identical.

Slider changes act like a scheduled policy change: from the next month on, in the running
county (and in the next Reset, which restarts from January 2021 with them). A few knobs only
shape the county as it is built (SETUP_ONLY); the page builds every county under the status
quo, so moving those changes nothing on the page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Final

import mesa
import numpy as np

from simulation.experiments.runner import DEFAULT_SEED
from simulation.model.agents_engine import PovertyModel
from simulation.model.scenario import (
    STRUCTURAL_SECTIONS,
    Scenario,
    ScenarioError,
    load_scenario,
    shipped_scenarios,
    validate_value,
)
from simulation.teaching.layout import CountyLayout, county_layout
from simulation.teaching.recorder import Recorder
from simulation.teaching.status import household_status

PAGE_HOUSEHOLDS: Final = 1000
"""Default simulated households on the page: ~10 villages, readable dots, ~20 ms a month."""
MIN_HOUSEHOLDS, MAX_HOUSEHOLDS = 200, 3000
"""Page limits: the history of 3,000 households over 15 years takes ~21 MB per county."""
MAX_SEED: Final = 2**31 - 1
STOP: Final = threading.Event()
"""Set when the server shuts down: lessons stop stepping, so a page left playing does not keep
the process alive (SolaraViz's play loop runs in a non-daemon thread until the model stops)."""
SETUP_ONLY: Final[frozenset[str]] = frozenset()
"""Mechanism knobs read only when the county is built (none at present: the county's initial
conditions are the structural sections, which are not sliders). tests/test_teaching.py checks
every other knob acts in a running county."""
SLIDER_AT: Final = 0.45
"""When, within the gap between two months, a slider change takes effect (a Mesa event):
after the scenario's own policy change (+0.4), before [[schedule]] entries (+0.5)."""


def takes_effect_at_reset(key: str) -> bool:
    """Whether a SETUP_ONLY knob changes the county built at Reset: only knobs of the
    structural sections do; the county is built under the status quo for everything else
    (Scenario.reference_values)."""
    return key.split(".", 1)[0] in STRUCTURAL_SECTIONS


def page_scenario(scenario: Scenario) -> Scenario:
    """The scenario as the page runs it: its knob changes in force from January 2021."""
    return replace(scenario, policy_month=0)


@dataclass
class Settings:
    """What the teacher chose, kept across Reset (one per browser session).

    Attributes:
        scenario: scenario shown (shipped name or path of a TOML file).
        compare: comparison scenario ("" for none).
        overrides: knob values set with the sliders, on top of `scenario`.
        files: extra scenario files offered in the picker: label -> path.
    """

    scenario: str = "baseline"
    compare: str = ""
    overrides: dict[str, float] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def choices(self) -> list[str]:
        """Picker entries: shipped scenario names, then the extra files' labels."""
        return [p.stem for p in shipped_scenarios()] + list(self.files)

    def reference(self, choice: str) -> str:
        """The scenario reference (name or path) behind a picker entry."""
        return self.files.get(choice, choice)

    def label(self, reference: str) -> str:
        """The picker entry of a reference (inverse of `reference`)."""
        for label, path in self.files.items():
            if path == reference:
                return label
        return reference

    def add_file(self, path: str | Path) -> str:
        """Offer a scenario file in the picker; returns its label."""
        label = f"file: {Path(path).name}"
        self.files[label] = str(path)
        return label


@dataclass(frozen=True)
class Change:
    """A knob moved while the county ran: in force from `month` (or at Reset when not live)."""

    month: int
    key: str
    old: float
    new: float
    live: bool


def parse_seed(value: Any) -> int:
    """A seed from the seed box (text or number); ValueError names the allowed range."""
    text = str(value).strip()
    try:
        seed = int(text)
    except ValueError:
        raise ValueError(f"seed must be a whole number in [0, {MAX_SEED}], got {text!r}") from None
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed = {seed} is out of range; allowed: [0, {MAX_SEED}]")
    return seed


class Run:
    """One county: a PovertyModel, its recorder, its map layout and the knob changes made."""

    def __init__(self, label: str, scenario: Scenario, seed: int) -> None:
        self.label = label
        self.scenario = scenario
        self.seed = seed
        self.model = PovertyModel(scenario, rng=seed, log_shocks=True)
        self._events: list[Callable[[], None]] = []  # Mesa holds event callbacks weakly
        self.recorder = Recorder.attach(self.model)
        cols = self.model.snapshot(("village", "category"))
        self.layout: CountyLayout = county_layout(cols["village"], cols["category"],
                                                  self.model.population.n_villages)
        self.changes: list[Change] = []

    @property
    def horizon(self) -> int:
        """Months the scenario runs."""
        return self.scenario.years * 12

    @property
    def month(self) -> int:
        """Months simulated so far (0 = nothing yet; 12 = all of 2021)."""
        return self.model.month

    @property
    def running(self) -> bool:
        return self.model.month < self.horizon

    def step(self) -> None:
        if self.running:
            self.model.step()

    def status_now(self) -> np.ndarray:
        """Map status of every household after the last month simulated (at the start: as
        the county enters 2021)."""
        rec = self.recorder
        if rec.t:
            return rec.status[rec.t - 1]
        cols = self.model.snapshot(("category", "state", "below", "alive"))
        return household_status(cols["category"], cols["state"], cols["below"], cols["alive"])

    def value(self, key: str) -> float:
        """The knob value in force now (scheduled changes included); before the first month,
        the scenario's value (its policy change takes effect as the first month begins)."""
        if self.model.month == 0 and self.scenario.policy_month == 0:
            return float(self.scenario.values[key])
        return float(self.model.env.values[key])

    def apply(self, values: dict[str, float]) -> None:
        """Put knob values in force from the next month, as a scheduled policy change does
        (a Mesa event between this month and the next, after the scenario's own policy
        change; validated like a scenario value)."""
        change = partial(self.model.apply_policy, dict(values), "teaching page")
        self._events.append(change)
        self.model.schedule_event(change, at=self.model.time + SLIDER_AT)


class Lesson(mesa.Model):
    """The model of the teaching page: one or two counties stepping together, one month a step.

    Args:
        households: simulated households per county.
        rng: seed (text from the seed box is accepted); both counties use it.
        settings: the teacher's choices (scenario, comparison, slider overrides); kept across
            Reset, which builds a new Lesson from the same Settings object.

    Bad input never raises: a scenario that does not load, a bad seed or household count are
    reported in `errors` (shown on the page) and replaced by the baseline / defaults.
    """

    def __init__(self, households: int = PAGE_HOUSEHOLDS, rng: Any = DEFAULT_SEED,
                 settings: Settings | None = None) -> None:
        self.errors: list[str] = []
        try:
            seed = parse_seed(rng)
        except ValueError as exc:
            self.errors.append(f"{exc}; using {DEFAULT_SEED}")
            seed = DEFAULT_SEED
        super().__init__(rng=seed)
        self.seed = seed
        self.settings = settings if settings is not None else Settings()
        self.households = self._households(households)

        base = self._load(self.settings.scenario)
        self.base = base  # the scenario as its file says, before the sliders
        overrides = self._valid_overrides(base)
        runs = [Run(base.name, page_scenario(base.with_values(
            {"run.households": self.households, **overrides}, origin="sliders")), seed)]
        if self.settings.compare:
            other = self._load(self.settings.compare)
            runs.append(Run(other.name, page_scenario(other.with_values(
                {"run.households": self.households})), seed))
        self.runs = runs
        self.running = True
        # Knob changes wait here for the next month: the play loop steps in its own thread,
        # and a change must not land in the middle of a month.
        self._queued: dict[str, float] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ building
    def _households(self, value: Any) -> int:
        try:
            n = int(value)
        except (TypeError, ValueError):
            n = -1
        if not MIN_HOUSEHOLDS <= n <= MAX_HOUSEHOLDS:
            self.errors.append(f"households must be a whole number in [{MIN_HOUSEHOLDS}, "
                               f"{MAX_HOUSEHOLDS}], got {value!r}; using {PAGE_HOUSEHOLDS}")
            n = PAGE_HOUSEHOLDS
        return n

    def _load(self, reference: str) -> Scenario:
        """Load a scenario (read again at every Reset, so a fixed file is picked up)."""
        try:
            return load_scenario(reference)
        except ScenarioError as exc:
            self.errors.append(f"{exc} — showing the baseline instead; fix the file and "
                               "press Reset to read it again")
            return load_scenario("baseline")

    def _valid_overrides(self, base: Scenario) -> dict[str, float]:
        good = {}
        for key, value in self.settings.overrides.items():
            try:
                good[key] = validate_value("sliders", key, value)
            except ScenarioError as exc:
                self.errors.append(str(exc))
        if any(k not in good for k in self.settings.overrides):
            self.settings.overrides = dict(good)
        return {k: v for k, v in good.items() if base.values[k] != v}

    # ------------------------------------------------------------------ time
    @property
    def month(self) -> int:
        """Months simulated (the counties step together)."""
        return self.runs[0].month

    @property
    def horizon(self) -> int:
        return max(run.horizon for run in self.runs)

    def step(self) -> None:
        """One month in every county (knob changes made since the last step first)."""
        if STOP.is_set():
            self.running = False
            return
        with self._lock:
            if self._queued:
                self.runs[0].apply(dict(self._queued))
                self._queued.clear()
            for run in self.runs:
                run.step()
            self.running = any(run.running for run in self.runs)

    # ------------------------------------------------------------------ knobs
    def knob_value(self, key: str) -> float:
        """The slider position of a knob: a pending setup-only value, else the value in force."""
        if key in SETUP_ONLY:  # what the next Reset will build with
            return float(self.settings.overrides.get(key, self.base.values[key]))
        if key in self._queued:
            return float(self._queued[key])
        return self.runs[0].value(key)

    def set_knob(self, key: str, value: float) -> Change | None:
        """Move a knob of the first county from the next month on (validated; errors go to
        `errors`). Returns the change, or None if nothing changed."""
        try:
            value = validate_value("slider", key, value)
        except ScenarioError as exc:
            self.errors.append(str(exc))
            return None
        run = self.runs[0]
        with self._lock:
            old = self.knob_value(key)
            if value == old:
                return None
            if value == self.base.values[key]:
                self.settings.overrides.pop(key, None)
            else:
                self.settings.overrides[key] = value
            live = key not in SETUP_ONLY
            if live:
                self._queued[key] = value
            change = Change(run.month, key, old, value, live)
            last = run.changes[-1] if run.changes else None
            if last is not None and last.key == key and last.month == run.month:
                change = Change(run.month, key, last.old, value, live)  # one slider drag
                run.changes[-1] = change
            else:
                run.changes.append(change)
        return change

    def reset_knobs(self) -> list[Change]:
        """All knobs back to the scenario's values (live from next month)."""
        changes = []
        for key in list(self.settings.overrides):
            change = self.set_knob(key, self.base.values[key])
            if change is not None:
                changes.append(change)
        self.settings.overrides.clear()
        return changes

    def pending(self) -> dict[str, float]:
        """Setup-only knob values that differ from those the county was built with (they
        wait for Reset, or change nothing: `takes_effect_at_reset`)."""
        built = self.runs[0].scenario.values
        return {k: self.knob_value(k) for k in SETUP_ONLY if built[k] != self.knob_value(k)}
