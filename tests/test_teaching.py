"""The teaching page without a browser: layout, recorder, lesson, knobs, charts, stories, info,
and the whole page rendered with Solara's test renderer (as Mesa's own tests do).

Browser tests (real Chromium) are in test_teaching_browser.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import ipyvuetify as v
import numpy as np
import pytest
import solara

from simulation.model.agents_engine import PovertyModel
from simulation.model.codes import (
    ASSISTED,
    CHANNELS_ALL,
    DIBAO,
    EVENTS,
    FORMERLY_POOR,
    IDENTIFIED,
    JOBLESS,
    MARGINAL,
    NOT_MONITORED,
    ORDINARY,
    PENDING,
    PLACEMENT,
    PROJECT_JOB,
    RISK_ELIMINATED,
    TEKUN,
    WELFARE_POST,
    K,
)
from simulation.model.params import KNOBS, MECHANISMS, SCHEMA
from simulation.model.scenario import PolicyChange, load_scenario, shipped_scenarios
from simulation.teaching import charts, info, knobs, monitors, people, story
from simulation.teaching.experiments import EXPERIMENTS, OUTCOMES, check
from simulation.teaching.layout import county_layout, village_grid
from simulation.teaching.lesson import (
    SETUP_ONLY,
    Lesson,
    Run,
    Settings,
    page_scenario,
    parse_seed,
    takes_effect_at_reset,
)
from simulation.teaching.recorder import SOURCES, Recorder
from simulation.teaching.status import (
    BELOW_HELPED,
    BELOW_UNNOTICED,
    FORMERLY_POOR_STABLE,
    GONE,
    HELPED,
    MONITORED,
    STABLE,
    STATUSES,
    SUPPORT_FLAGS,
    below_line,
    household_status,
    support_bits,
)
from simulation.teaching.widgets import CountyMapWidget, EChartWidget, KnobPanelWidget, to_json

N = 300  # households: three villages, fast


def small_lesson(**settings: object) -> Lesson:
    return Lesson(households=N, rng=7, settings=Settings(**settings))  # type: ignore[arg-type]


def steps(lesson: Lesson, months: int) -> Lesson:
    for _ in range(months):
        lesson.step()
    return lesson


@pytest.fixture(scope="module")
def played() -> Lesson:
    """A compared pair of counties after 26 months (shared by read-only tests)."""
    return steps(small_lesson(compare="social_security"), 26)


# ----------------------------------------------------------------------------- layout
@pytest.mark.parametrize("n", [1, 3, 10, 30, 401])
def test_village_grid_holds_every_village(n: int) -> None:
    columns, rows = village_grid(n)
    assert columns * rows >= n
    assert columns * (rows - 1) < n  # no empty row


def test_county_layout_puts_households_inside_their_village() -> None:
    rng = np.random.default_rng(1)
    village = rng.integers(0, 7, 900)
    category = rng.integers(0, 3, 900)
    lay = county_layout(village, category, 7)
    dist = np.hypot(lay.x - lay.village_x[village], lay.y - lay.village_y[village])
    assert np.all(dist <= lay.village_r[village])
    # no two households share a spot: neighbours about one unit apart
    points = np.column_stack([lay.x, lay.y])
    gaps = np.linalg.norm(points[:, None] - points[None], axis=-1) + np.eye(900) * 99
    assert gaps.min() > 0.5
    assert (lay.x >= 0).all() and (lay.x <= lay.width).all()
    assert (lay.y >= 0).all() and (lay.y <= lay.height).all()
    # formerly poor innermost within a village
    v0 = village == 0
    assert dist[v0 & (category == 0)].max() <= dist[v0 & (category == 2)].max()
    again = county_layout(village, category, 7)
    assert np.array_equal(lay.x, again.x) and np.array_equal(lay.y, again.y)


def test_county_layout_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="village index"):
        county_layout(np.array([0, 3]), np.array([0, 0]), 3)
    with pytest.raises(ValueError, match="at least one village"):
        village_grid(0)


# ----------------------------------------------------------------------------- status
def test_household_status_priorities() -> None:
    category = np.array([ORDINARY, FORMERLY_POOR, MARGINAL, FORMERLY_POOR, ORDINARY,
                         FORMERLY_POOR, FORMERLY_POOR])
    state = np.array([NOT_MONITORED, NOT_MONITORED, IDENTIFIED, ASSISTED, NOT_MONITORED,
                      ASSISTED, RISK_ELIMINATED])
    below = np.array([False, False, False, False, True, True, False])
    codes = [STABLE, FORMERLY_POOR_STABLE, MONITORED, HELPED, BELOW_UNNOTICED, BELOW_HELPED,
             FORMERLY_POOR_STABLE]
    assert household_status(category, state, below).tolist() == codes
    assert len(STATUSES) == 6 and len(STATUSES) == GONE
    alive = np.array([True, True, True, True, False, True, True])
    assert household_status(category, state, below, alive).tolist() == [
        *codes[:4], GONE, *codes[5:]]
    assert below_line(np.array([*codes, GONE])).tolist() == [False] * 4 + [True, True, False,
                                                                           False]


def test_support_bits() -> None:
    programme = np.array([0, PENDING, DIBAO, TEKUN, 0])
    job_kind = np.array([PLACEMENT, 0, WELFARE_POST, PROJECT_JOB, 0])
    edu_aid = np.array([False, False, True, False, False])
    bits = support_bits(programme, job_kind, edu_aid)
    flags = [{f for k, f in enumerate(SUPPORT_FLAGS) if b >> k & 1} for b in bits.tolist()]
    assert flags == [{"placement"}, {"applied"}, {"dibao", "welfare_post", "edu_aid"},
                     {"tekun", "project_job"}, set()]


# ----------------------------------------------------------------------------- recorder
def test_recorder_matches_the_model() -> None:
    sc = load_scenario("baseline").with_values({"run.households": N, "run.years": 3})
    model = PovertyModel(sc, rng=11, log_shocks=True)
    rec = Recorder.attach(model)
    for t in range(14):
        model.step()
        cols = model.snapshot(("below", "category", "state", "alive", "programme", "savings",
                               "debt", "pc12_h", "y_labour", "y_production", "y_project",
                               "y_transfers", "y_rigid"))
        alive = cols["alive"]
        assert rec.t == t + 1
        assert rec.series["below_formerly_poor"][t] == np.count_nonzero(
            cols["below"] & (cols["category"] == FORMERLY_POOR) & alive)
        assert rec.series["monitored"][t] == np.count_nonzero(
            ((cols["state"] == IDENTIFIED) | (cols["state"] == ASSISTED)) & alive)
        assert rec.series["on_programme"][t] == np.count_nonzero(
            ((cols["programme"] == DIBAO) | (cols["programme"] == TEKUN)) & alive)
        assert np.array_equal(rec.status[t] == GONE, ~alive)
        np.testing.assert_allclose(rec.savings[t], cols["savings"], rtol=1e-6, atol=0.01)
        np.testing.assert_allclose(rec.debt[t], cols["debt"], rtol=1e-6, atol=0.01)
        np.testing.assert_allclose(rec.pc12_h[t], cols["pc12_h"], rtol=1e-6, atol=0.01)
        if t == 11:  # December: the year-to-date metrics are the model's yearly row
            assert rec.ytd == model.years[0]
    # this year's months add up to the model's year-to-date tallies (float32 history)
    ytd = np.column_stack([cols[f] for f in ("y_labour", "y_production", "y_project",
                                             "y_transfers", "y_rigid")])
    np.testing.assert_allclose(rec.income[12:14].sum(axis=0), ytd, rtol=1e-5, atol=0.05)
    assert rec.income.shape[2] == len(SOURCES)
    assert sum(len(e) for e in rec.events.values()) == len(model.events)
    assert [(e.month, idx, e.event, e.cause) for idx in sorted(rec.events)
            for e in rec.events[idx]] == sorted(model.events, key=lambda x: x[1])  # stable
    channels = [e.channel for es in rec.events.values() for e in es
                if EVENTS[e.event] == "identified"]
    assert channels and all(1 <= c < len(CHANNELS_ALL) for c in channels)
    before = rec.income.copy()
    rec.capture(model)  # a call between months changes nothing
    assert np.array_equal(before, rec.income) and rec.t == 14
    assert rec.nbytes() == 36 * N * (4 * len(SOURCES) + 4 * 4 + 1 + 1) + N * K * 2


def test_recorder_tells_who_an_event_concerns() -> None:
    """Deaths, births, moves and jobs name the member: the one who left, arrived or holds
    the job, as the model's person slots say."""
    sc = load_scenario("baseline").with_values({"run.households": 1000, "run.years": 3})
    model = PovertyModel(sc, rng=5, log_shocks=True)
    rec = Recorder.attach(model)
    start = model.people_snapshot()
    model.run(13)  # one January of demography
    now = model.people_snapshot()
    seen = set()
    for idx, events in rec.events.items():
        for e in events:
            name = EVENTS[e.event]
            if name in ("death", "moved_out", "birth", "job_start", "job_end", "job_loss"):
                assert e.who is not None, (idx, e)
                seen.add(name)
            if name == "death":  # the one who died was there at the start
                k = e.who.slot
                assert start["present"][idx, k] and start["age"][idx, k] == e.who.age
            elif name == "birth":
                assert now["present"][idx, e.who.slot] and e.who.age == 0
            elif name == "job_start" and model.households[idx].job_slot >= 0:
                assert e.kind != 0
    assert {"death", "birth", "moved_out", "job_start"} <= seen
    jobless = np.argwhere(now["present"] & (now["role"] == JOBLESS))
    assert all(0 <= rec.role_since[i, k] <= 12 or rec.role_since[i, k] == -1
               for i, k in jobless)


# ----------------------------------------------------------------------------- lesson
def test_parse_seed() -> None:
    assert parse_seed(" 42 ") == 42
    with pytest.raises(ValueError, match="whole number"):
        parse_seed("abc")
    with pytest.raises(ValueError, match="out of range"):
        parse_seed(-1)


def test_compared_counties_share_households_and_step_together(played: Lesson) -> None:
    a, b = played.runs
    assert a.seed == b.seed == 7 and played.month == a.month == b.month == 26
    first, second = a.model.initial, b.model.initial
    for key in ("category", "village", "members", "workers"):
        assert np.array_equal(first[key], second[key])
    assert a.scenario.values["social_security.coverage"] != \
        b.scenario.values["social_security.coverage"]


def test_page_scenarios_act_from_the_first_month() -> None:
    """The page runs a strategy from January 2021 (one history, then policy at month 0), and
    before the first month the sliders show the scenario's values, not the status quo's."""
    lesson = small_lesson(scenario="social_security")
    run = lesson.runs[0]
    assert run.scenario.policy_month == 0
    coverage = load_scenario("social_security").values["social_security.coverage"]
    assert lesson.knob_value("social_security.coverage") == coverage
    steps(lesson, 1)
    assert run.model.env.values["social_security.coverage"] == coverage
    # a slider moved before the first month is not undone by the scenario's own change
    lesson = small_lesson(scenario="social_security")
    lesson.set_knob("social_security.coverage", 0.4)
    steps(lesson, 2)
    assert lesson.runs[0].model.env.values["social_security.coverage"] == 0.4
    assert lesson.knob_value("social_security.coverage") == 0.4


def test_same_scenario_on_the_same_seed_is_identical() -> None:
    lesson = steps(small_lesson(compare="baseline"), 18)
    a, b = (r.recorder for r in lesson.runs)
    for name in a.series:
        assert np.array_equal(a.series[name], b.series[name])
    assert np.array_equal(a.income, b.income)


def test_slider_change_equals_a_scheduled_policy_change() -> None:
    """Moving a knob mid-run acts exactly like a [[schedule]] entry from the next month."""
    key, value = "social_security.coverage", 0.95
    lesson = steps(small_lesson(), 6)
    change = lesson.set_knob(key, value)
    assert change is not None and change.month == 6 and change.live
    assert lesson.knob_value(key) == value  # shown at once, applied at the next step
    steps(lesson, 18)
    base = lesson.runs[0].scenario
    assert base == page_scenario(base)
    planned = replace(base, schedule=(PolicyChange(6, {key: value}),))
    reference = Run("planned", planned, 7)
    for _ in range(24):
        reference.step()
    assert lesson.runs[0].model.years == reference.model.years
    assert np.array_equal(lesson.runs[0].recorder.status, reference.recorder.status)
    assert lesson.settings.overrides == {key: value}


def test_reset_keeps_slider_values_and_knobs_go_back() -> None:
    lesson = small_lesson()
    lesson.set_knob("industry.management", 0.9)
    again = Lesson(households=N, rng=7, settings=lesson.settings)  # what Reset does
    assert again.runs[0].scenario.values["industry.management"] == 0.9
    assert again.knob_value("industry.management") == 0.9
    again.reset_knobs()
    assert again.settings.overrides == {}
    assert again.knob_value("industry.management") == again.base.values["industry.management"]


def test_repeated_moves_in_one_month_are_one_change() -> None:
    lesson = small_lesson()
    lesson.set_knob("motivation.guidance", 0.5)
    lesson.set_knob("motivation.guidance", 0.7)
    assert [(c.old, c.new) for c in lesson.runs[0].changes] == [
        (lesson.base.values["motivation.guidance"], 0.7)]
    assert lesson.set_knob("motivation.guidance", 0.7) is None


def county_state(lesson: Lesson) -> dict[str, np.ndarray]:
    """Everything a knob can move: households, projects, and the yearly results (costs)."""
    model = lesson.runs[0].model
    state = model.snapshot()
    state["reserve"] = np.array([ind.reserve for ind in model.industries])
    state["years"] = np.array([sorted(row.items()) for row in model.years], dtype=object)
    return state


def test_every_knob_acts_live_unless_setup_only() -> None:
    """A knob moved in a running county changes it (SETUP_ONLY ones wait for Reset)."""
    reference = county_state(steps(small_lesson(), 30))
    for param in KNOBS:
        lesson = small_lesson()
        now = lesson.knob_value(param.key)
        far = param.high if now - param.low < param.high - now else param.low
        lesson.set_knob(param.key, far)
        state = county_state(steps(lesson, 30))
        same = all(np.array_equal(state[k], reference[k]) for k in reference)
        assert same == (param.key in SETUP_ONLY), param.key
        if param.key in SETUP_ONLY:
            assert param.key in lesson.pending()
            # and Reset builds the county under the status quo for every non-structural knob
            again = county_state(steps(Lesson(households=N, rng=7, settings=lesson.settings),
                                       30))
            unchanged = all(np.array_equal(again[k], reference[k]) for k in reference)
            assert unchanged == (not takes_effect_at_reset(param.key)), param.key


def test_bad_input_is_reported_not_raised(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[social_security]\ncoverage = 5.0\n')
    settings = Settings()
    settings.scenario = settings.reference(settings.add_file(bad))
    lesson = Lesson(households="many", rng="x", settings=settings)
    text = " | ".join(lesson.errors)
    assert "social_security.coverage" in text and "[0, 1]" in text and "bad.toml" in text
    assert "seed" in text and "households" in text
    assert lesson.base.name == "baseline" and lesson.households == 1000
    assert settings.choices()[-1] == "file: bad.toml"
    lesson.set_knob("social_security.coverage", 3.0)
    assert "out of range" in lesson.errors[-1]


def test_lesson_stops_at_the_horizon() -> None:
    lesson = Lesson(households=N, rng=1, settings=Settings(overrides={"run.years": 1}))
    assert lesson.horizon == 12
    steps(lesson, 13)
    assert lesson.month == 12 and not lesson.running


# ----------------------------------------------------------------------------- knobs
def test_knob_panel_covers_every_knob_by_mechanism(played: Lesson) -> None:
    groups = knobs.knob_groups(played)
    assert [g["mechanism"] for g in groups] == list(MECHANISMS)
    keys = [k["key"] for g in groups for k in g["knobs"]]
    assert keys == [p.key for m in MECHANISMS for p in KNOBS if p.mechanism == m]
    baseline = load_scenario("baseline").values
    for g in groups:
        for k in g["knobs"]:
            p = SCHEMA[k["key"]]
            assert k["baseline"] == baseline[p.key] and k["unit"] == p.unit
            assert (k["min"], k["max"]) == (p.low, p.high)
            positions = (p.high - p.low) / k["step"]
            assert k["step"] >= 1 if p.integer else 50 <= positions <= 250
            assert k["label"] and k["text"]
    json.dumps(groups)


def test_knob_labels_and_formats() -> None:
    assert knobs.label(SCHEMA["social_security.oop_cap"]) == "Out-of-pocket cap"
    assert knobs.format_value(10_000.0, SCHEMA["social_security.oop_cap"]) == "10,000"
    assert knobs.format_value(0.55, SCHEMA["responsibility.duty_performance"]) == "0.55"


# ----------------------------------------------------------------------------- charts, story
def test_chart_options_are_json_and_follow_the_months(played: Lesson) -> None:
    played.set_knob("motivation.guidance", 0.9)  # a marker for the change
    runs = played.runs
    for build in (charts.below_line_option, charts.monitoring_option, charts.causes_option,
                  charts.cost_option):
        option = build(runs)
        text = to_json(option)
        assert json.loads(text)["series"]
    below = charts.below_line_option(runs)
    assert len(below["series"]) == 4 * len(runs)  # three categories and the hardship count
    assert len(below["series"][0]["data"]) == 26
    assert below["series"][0]["data"][0][0] == "2021-01-01"
    marks = [m["label"]["formatter"] for m in below["series"][0]["markLine"]["data"]]
    assert any("guidance" in m for m in marks)
    assert "policy: low income recall → 0.3" in marks  # the baseline's own change in 2026
    causes = charts.causes_option(runs)
    assert len(causes["series"][0]["data"]) == 3  # 2021, 2022 and 2023 so far
    cost = charts.cost_option(runs)
    assert len(cost["series"][0]["data"]) == 3
    assert cost["series"][0]["data"][0] == round(
        runs[0].model.years[0]["fiscal_cost_responsibility"] / 1e6, 2)


def test_dated_changes_are_marked_once_a_date_in_time_order() -> None:
    """A scenario's [[schedule]] entries of one date are one line, with the values in force
    after them (no_monitoring turns off the platform its base switches on in 2026)."""
    lesson = steps(small_lesson(scenario="no_monitoring"), 2)
    before = lesson.knob_value("motivation.guidance")
    lesson.set_knob("motivation.guidance", 0.9)
    steps(lesson, 1)
    data = charts.below_line_option(lesson.runs)["series"][0]["markLine"]["data"]
    assert [(m["xAxis"], m["label"]["formatter"]) for m in data] == [
        ("2021-03-01", f"guidance {before:g} → 0.9"),
        ("2026-01-01", "policy: low income recall → 0")]


def test_story_of_a_household_that_fell(played: Lesson) -> None:
    run = played.runs[0]
    fall = EVENTS.index("fall")
    idx = next(i for i, es in sorted(run.recorder.events.items())
               if any(e.event == fall for e in es) and run.model.households[i].alive)
    entries = story.timeline(run, idx)
    assert [e.month for e in entries] == sorted(e.month for e in entries)
    assert any(e.kind == "fall" and "cause" in e.text for e in entries)
    facts = story.facts(run, idx)
    assert facts["household"].startswith(f"#{idx} in village")
    assert facts["members"].startswith("head, ") and "savings" in facts["money"]
    option = story.story_option(run, idx)
    json.loads(to_json(option))
    assert all(len(series["data"]) == 26 for series in option["series"])
    names = {s["name"] for s in option["series"]}
    assert {"savings", "debt", story.HARDSHIP_TEXT} <= names
    summary = story.summary(run, idx)
    assert int(summary["falls below the line"]) >= 1


def test_stories_tell_members_family_events_jobs_and_programmes() -> None:
    """Members with ages and roles ('son, 27, migrant work (jobless since ...)'), deaths,
    births and moves, jobs held, 低保/特困 spells, and households that are gone."""
    lesson = steps(Lesson(households=1000, rng=3, settings=Settings()), 62)
    run = lesson.runs[0]
    rec = run.recorder
    texts = {i: [e.text for e in story.timeline(run, i)] for i in rec.events}
    kinds = {e.kind for i in rec.events for e in story.timeline(run, i)}
    assert {"family", "job", "shock", "identified"} <= kinds
    every = " | ".join(t for ts in texts.values() for t in ts)
    for words in (" died", " was born", " moved out to set up a household elsewhere",
                  " started a", " lost the migrant job"):
        assert words in every, words
    assert re.search(r"the (head|spouse|son|daughter|father|mother|grandson|granddaughter|"
                     r"relative) \(\d+\) died", every)
    # a jobless migrant: since when
    households = run.model.households
    jobless = next(i for i, h in enumerate(households) for k in range(K)
                   if h.alive and h.p_present[k] and h.p_role[k] == JOBLESS
                   and rec.role_since[i, k] >= 0)
    assert re.search(r"migrant work \(jobless since 20\d\d-\d\d\)",
                     "; ".join(story.members(run, jobless)))
    # an assisted job: the member holding it
    holder = next(i for i, h in enumerate(households) if h.alive and h.job_slot >= 0)
    assert any(("public-welfare post" in m or "social partner" in m or "industry project" in m)
               for m in story.members(run, holder))
    # 低保 / 特困 spells: enrolments with their benefit
    enrolled = [t for ts in texts.values() for t in ts if t.startswith("enrolled in")]
    assert all(re.fullmatch(r"enrolled in (低保|特困 support): [\d,]+ yuan a month", t)
               for t in enrolled)
    # a household that has died out is not on the map, and its story says so
    gone = [i for i, h in enumerate(households) if not h.alive]
    if gone:
        assert run.status_now()[gone[0]] == GONE
        assert story.facts(run, gone[0])["now"].startswith("gone")


def test_family_ties_are_guessed_from_ages() -> None:
    ties = people.relations([58, 55, 27, 81, 3, 30], [0, 1, 0, 1, 1, 1],
                            [True, True, True, True, True, False])
    assert ties == {0: "head", 1: "spouse", 2: "son", 3: "mother", 4: "granddaughter"}
    assert people.someone("son", 27, 0) == "son, 27"
    assert people.someone("son", 27, 0, in_sentence=True) == "the son (27)"
    assert people.role_text(JOBLESS, 30) == "migrant work (jobless)"


def test_support_spans() -> None:
    applied = 1 << SUPPORT_FLAGS.index("applied")
    dibao = 1 << SUPPORT_FLAGS.index("dibao")
    edu = 1 << SUPPORT_FLAGS.index("edu_aid")
    bits = np.array([0, applied, applied, dibao, applied, 0, edu, 0], np.uint8)
    texts = [(e.month, e.text) for e in story.support_spans(bits, decided={3})]
    assert texts == [(1, "applied for 低保 / 特困"), (4, "applied for 低保 / 特困"),
                     (5, "application for 低保 / 特困 turned down (means test)"),
                     (6, "education aid (雨露计划) starts"),
                     (7, "education aid (雨露计划) ends")]


# ----------------------------------------------------------------------------- monitors
def test_monitors_agree_with_the_metrics(played: Lesson) -> None:
    run = played.runs[0]
    values = {m.key: m for m in monitors.monitors(run)}
    ytd = run.recorder.ytd
    assert values["returns_year"].value == f"{ytd['returned_households_sample']:,.0f}"
    total = run.model.years[0]["returned_households_sample"] + \
        run.model.years[1]["returned_households_sample"] + ytd["returned_households_sample"]
    assert values["returns_total"].value == f"{total:,.0f}"
    below = int(np.count_nonzero(below_line(run.recorder.status[25])))
    assert values["below_now"].value == f"{below:,}"
    hardship = sum(row["returned_households_hardship"] for row in (*run.model.years, ytd))
    assert values["hardship_total"].value == \
        f"{hardship / run.model.population.category_weights[0]:,.0f}"
    assert values["programme_now"].value == f"{run.recorder.series['on_programme'][25]:,}"
    assert monitors.date_text(26) == ("February 2023", "month 26 simulated")
    assert monitors.date_text(0)[0] == "January 2021"


def test_monitors_before_the_first_month() -> None:
    lesson = small_lesson()
    values = {m.key: m.value for m in monitors.monitors(lesson.runs[0])}
    below = int(np.count_nonzero(below_line(lesson.runs[0].status_now())))
    assert values["below_now"] == str(below) and values["returns_total"] == "0"


# ----------------------------------------------------------------------------- info
def test_things_to_try_name_real_knobs_scenarios_and_outcomes() -> None:
    shipped = {p.stem for p in load_scenario.__globals__["shipped_scenarios"]()}
    for exp in EXPERIMENTS:
        assert exp.scenario in shipped and (not exp.compare or exp.compare in shipped)
        assert all(SCHEMA[k].is_knob for k in exp.changes), exp.title
        for outcome, direction in exp.claims:
            assert outcome in OUTCOMES and direction in (-1, 1), exp.title
        assert exp.changes or exp.compare, "an experiment must change something"
        for key, value in exp.changes.items():  # a value the slider can take
            SCHEMA[key].check("things to try", value)


def test_info_and_glossary_render() -> None:
    html = info.info_html()
    for heading in ("What is it?", "How it works", "How to use it", "Things to notice",
                    "Things to try", "Extending the model"):
        assert f">{heading}</h2>" in html
    for exp in EXPERIMENTS:
        assert exp.title in html
    for p in KNOBS:
        assert p.doc in html  # the knob list comes from the schema
    glossary = info.glossary_html()
    assert glossary.count("<tr>") == len(info.GLOSSARY) + 1 and "低保" in glossary


def test_info_states_the_models_numbers() -> None:
    """Numbers and rules the Info text and the glossary quote are the baseline's."""
    base = load_scenario("baseline")
    values = base.values
    text = " ".join(info.info_markdown().split())
    glossary = info.glossary_markdown()
    line = values["policy.line_2021"]
    assert f"({line:,.0f} yuan per person in 2021, rising each year)" in text
    assert f"({line:,.0f} yuan in 2021, rising yearly)" in glossary
    assert values["policy.line_growth"] > 0
    assert f"below {values['monitoring.low_income_band']:g} times the 低保 standard" in text
    assert values["monitoring.elimination_months"] == 6  # "after half a year"
    # the low-income platform: off until January 2026, then on in every shipped scenario but
    # no_monitoring
    january_2026 = 5 * 12
    assert values["monitoring.low_income_recall"] == 0
    assert [c.month for c in base.schedule] == [january_2026]  # the baseline's one dated change
    for path in shipped_scenarios():
        scenario = load_scenario(path.stem)
        after = dict(scenario.values)
        for change in scenario.schedule:
            if change.month <= january_2026:
                after.update(change.values)
        assert (after["monitoring.low_income_recall"] > 0) == (path.stem != "no_monitoring")
    # raising 低保 "above the monitoring line" from a baseline standard below it
    dibao = next(e for e in EXPERIMENTS if "social_security.dibao_standard" in e.changes)
    assert values["social_security.dibao_standard"] < line < \
        dibao.changes["social_security.dibao_standard"]
    assert f"the baseline's {values['social_security.dibao_standard']:,.0f} is below" in \
        dibao.why


@pytest.mark.slow
@pytest.mark.parametrize("exp", EXPERIMENTS, ids=lambda e: e.outcome)
def test_things_to_try_hold_in_the_model(exp) -> None:  # type: ignore[no-untyped-def]
    """Each claim of the Info panel (its main outcome and every further one its text makes),
    on 4 paired seeds at the page's size: the mean paired difference has the claimed sign
    (python -m simulation.teaching.experiments gives the intervals over more seeds)."""
    for result in check(exp, range(2021, 2025), 1000):
        assert np.sign(result.mean) == result.direction, result


# ----------------------------------------------------------------------------- the page
@solara.component
def _App() -> None:
    from simulation.teaching.app import Layout, Page

    with Layout():  # the served page's frame: it hosts the sidebar
        Page()


def test_page_renders_steps_and_tells_a_story() -> None:
    box, rc = solara.render(_App(), handle_error=False)
    assert rc.find(v.Html, children=["January 2021"]).widgets
    step = rc.find(v.Btn, children=["Step"])
    for _ in range(13):
        step.widget.click()
    assert rc.find(v.Html, children=["January 2022"]).widgets
    county = rc.find(CountyMapWidget).widget
    assert len(county.status) == 1000 and county.selected == -1

    def story_text() -> str:
        return " ".join(w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets)

    assert "#3 in village" not in story_text()
    # a click on the map (what county.vue sends) opens the household's story
    county.vue_select_household({"run": 0, "household": 3})
    assert county.selected == 3
    assert "#3 in village" in story_text()
    assert len(rc.find(EChartWidget).widgets) == 5  # four charts and the story's
    # a slider move (what knobs.vue sends) reaches the model and the panel
    panel = rc.find(KnobPanelWidget).widget
    panel.vue_set_knob({"key": "social_security.coverage", "value": 0.95})
    coverage = next(k for g in json.loads(panel.groups) for k in g["knobs"]
                    if k["key"] == "social_security.coverage")
    assert coverage["value"] == 0.95 and coverage["moved"]


def test_a_new_scenario_after_a_finished_run_steps_without_reset(tmp_path: Path) -> None:
    """SolaraViz's controller disables Step and ▶ when a run reaches its horizon; picking
    another scenario then gives a county that steps at once (no Reset needed)."""
    from simulation.teaching import app

    short = tmp_path / "short.toml"
    short.write_text('name = "short"\nbase = "baseline"\n\n[run]\nyears = 1\n')
    app.STARTUP["scenario"] = str(short)
    try:
        box, rc = solara.render(_App(), handle_error=False)
        # the one-year file loads (the baseline's change dated 2026 lies beyond its horizon,
        # which is no error): the page runs it, not the baseline in its stead
        assert not rc.find(v.Alert, class_="teach-error").widgets
        step = rc.find(v.Btn, children=["Step"])
        for _ in range(12):
            step.widget.click()
        assert rc.find(v.Html, children=["December 2021"]).widgets
        step = rc.find(v.Btn, children=["Step"])
        assert step.widget.disabled  # the run is over
        rc.find(v.Select, label="Scenario").widget.v_model = "baseline"
        step = rc.find(v.Btn, children=["Step"])
        assert not step.widget.disabled
        assert not rc.find(v.Btn, children=["▶"]).widget.disabled
        step.widget.click()
        assert rc.find(v.Html, children=["January 2021"]).widgets
        assert rc.find(v.Html, children=["month 1 simulated"]).widgets
        # the controller's model parameters are those of the county running
        households = rc.find(v.Slider, label="Households (at Reset)")
        assert households.widget.v_model == 1000
    finally:
        app.STARTUP["scenario"] = None


def test_server_hides_the_solara_banner(monkeypatch: pytest.MonkeyPatch) -> None:
    """The "This website runs on Solara" banner is fixed over the page's bottom corner."""
    import solara.server.settings as settings

    from simulation.teaching import server

    for name in ("SOLARA_APP", "SOLARA_TELEMETRY_MIXPANEL_ENABLE", "SOLARA_THEME_VARIANT",
                 "SOLARA_THEME_SHOW_BANNER"):
        monkeypatch.delenv(name, raising=False)  # restored after the test
    for section, name in ((settings.main, "mode"), (settings.telemetry, "mixpanel_enable"),
                          (settings.theme, "show_banner")):
        monkeypatch.setattr(section, name, getattr(section, name))
    server.configure(None)
    assert settings.theme.show_banner is False
