"""The teaching page in a real browser: `run.py demo` served, headless Chromium driving it.

Uses Debian's chromium (/usr/bin/chromium; `.ci/run` installs it) through Playwright's Python
client — never a downloaded browser — with network access cut off except to 127.0.0.1, so the
page must load every front-end file from our own server (no CDN). Any page error or console
error fails the test. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                "(apt-get install chromium); browser tests skipped", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright (the `test` extra) is not installed")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        # offline: no host but this machine resolves, so a CDN request would fail loudly
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)

    def stop(self) -> tuple[int, str]:
        """Ctrl-C, as a teacher would; returns (exit code, output)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            out, _ = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
            return -9, "".join(self.lines) + out
        return self.process.returncode, "".join(self.lines) + out


def start(*extra: str) -> Server:
    """`python run.py demo --port P ...`; returns once it printed its address."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "run.py", "demo", "--port", str(port), *extra],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env)
    server = Server(process, f"http://127.0.0.1:{port}/")
    deadline = time.monotonic() + START_TIMEOUT
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        server.lines.append(line)
        if server.url in line:
            return server
    server.stop()
    raise AssertionError("demo server did not start:\n" + "".join(server.lines))


@dataclass
class Browser:
    page: sync_api.Page
    problems: list[str]
    outside: list[str]


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = chromium.new_page(viewport={"width": 1500, "height": 1700})
        problems: list[str] = []
        outside: list[str] = []
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("request", lambda r: outside.append(r.url)
                if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:",
                                         "blob:")) else None)
        page.set_default_timeout(30_000)
        yield Browser(page, problems, outside)
        chromium.close()


def date(page: sync_api.Page) -> str:
    return page.locator('[data-monitor="date"] .teach-monitor__value').first.inner_text()


def open_page(b: Browser, url: str) -> float:
    """Load the page; seconds until the map and all charts are drawn."""
    t0 = time.perf_counter()
    b.page.goto(url)
    # (on a phone the controls are in the closed sidebar: there, but hidden)
    b.page.get_by_role("button", name="Step", include_hidden=True).wait_for(state="attached")
    b.page.locator("circle.teach-county__hh").nth(999).wait_for()
    for name in ("causes", "below", "monitoring", "cost"):
        b.page.locator(f'[data-chart="{name}"] canvas').wait_for()
    return time.perf_counter() - t0


def chart_option(page: sync_api.Page, name: str, points: int) -> dict:  # type: ignore[type-arg]
    """The ECharts option a chart on the page is drawing, once its first series has `points`
    points (widgets update one by one: a chart may follow the date monitor a moment later)."""
    get = f"document.querySelector('[data-chart=\"{name}\"] .teach-echart').__vue__.option"
    page.wait_for_function(f"n => JSON.parse({get}).series[0].data.length === n", arg=points)
    return json.loads(page.evaluate(f"() => {get}"))


def step_until(page: sync_api.Page, text: str, clicks: int) -> int:
    """Press Step (by role: its name also matches 'Render Interval (steps)') until the date
    monitor shows `text`; returns the clicks it took."""
    button = page.get_by_role("button", name="Step")
    months = '[data-monitor="date"] .teach-monitor__county'
    for n in range(1, clicks + 1):
        before = page.locator(months).first.inner_text()  # "month k simulated"
        button.click()
        page.wait_for_function(f"prev => document.querySelector('{months}').innerText !== prev",
                               arg=before)
        if date(page) == text:
            return n
    raise AssertionError(f"date still {date(page)!r} after {clicks} steps")


def test_page_in_a_real_browser(browser: Browser) -> None:
    """Load, move a slider, step a year, read the charts and a household's story, compare."""
    ARTIFACTS.mkdir(exist_ok=True)
    server = start()
    page = browser.page
    try:
        load_seconds = open_page(browser, server.url)
        assert date(page) == "January 2021"
        step_until(page, "January 2021", 1)  # January simulated

        # from February on: move the social-security coverage slider to the end of its track
        knob = page.locator('[data-knob="social_security.coverage"]')
        knob.scroll_into_view_if_needed()
        box = knob.locator(".v-slider").bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
        value = knob.locator(".teach-knob__value")
        sync_api.expect(value).to_have_class(re.compile("teach-knob__value--moved"))
        assert float(value.inner_text().split()[0]) >= 0.95  # was 0.9 (baseline)
        sync_api.expect(page.get_by_text("Changes in this run:")).to_be_visible()

        # the year goes by: the date monitor reaches January 2022
        assert step_until(page, "January 2022", 12) == 12
        returns = page.locator('[data-monitor="returns_total"] .teach-monitor__value')
        assert re.fullmatch(r"\d+", returns.first.inner_text())

        # the charts hold the year (ECharts draws on a canvas; its option says what is drawn)
        for name in ("causes", "below", "monitoring", "cost"):
            assert page.locator(f'[data-chart="{name}"] canvas').first.is_visible()
        below = chart_option(page, "below", 13)  # one point a month
        assert below["title"]["text"].startswith("Households below the line")
        marks = below["series"][0]["markLine"]["data"]
        # the slider change, and the baseline's own dated change ahead (the low-income
        # platform from January 2026)
        assert [m["xAxis"] for m in marks] == ["2021-02-01", "2026-01-01"], marks
        assert "coverage" in marks[0]["label"]["formatter"]
        assert marks[1]["label"]["formatter"] == "policy: low income recall → 0.3"
        chart_option(page, "causes", 2)  # bars for 2021, and 2022 begun

        # a household's story: its members, its chart (income, savings and debt)
        page.locator("circle.teach-county__hh").nth(7).click()
        story = page.locator('[data-panel="story"]')
        sync_api.expect(story.get_by_text("#7 in village")).to_be_visible()
        sync_api.expect(story.get_by_text(re.compile(r"^head, \d+"))).to_be_visible()
        sync_api.expect(story.locator("canvas").first).to_be_visible()
        # no Solara banner over the page's corner
        assert page.get_by_text("This website runs on").count() == 0
        page.screenshot(path=str(ARTIFACTS / "teaching-page.png"), full_page=True)

        # compare mode: two counties on the same seed, stepping together
        page.get_by_label("Compare with (same seed)").click(force=True)
        page.get_by_role("option", name="social_security").click()
        page.locator('[data-run="1"] circle.teach-county__hh').nth(999).wait_for()
        step_until(page, "March 2021", 3)
        sync_api.expect(page.locator(".teach-monitors")).to_have_count(2)
        page.screenshot(path=str(ARTIFACTS / "teaching-page-compare.png"), full_page=True)

        # Info and glossary
        page.get_by_role("tab", name="Info").click()
        sync_api.expect(page.get_by_text("Things to try").first).to_be_visible()
        page.get_by_role("tab", name="Glossary").click()
        sync_api.expect(page.get_by_text("minimum living allowance").first).to_be_visible()

        (ARTIFACTS / "teaching-page.json").write_text(json.dumps(
            {"load_seconds": round(load_seconds, 2)}, indent=2))
    finally:
        code, output = server.stop()
    assert browser.problems == [], browser.problems
    assert browser.outside == [], f"requests off this machine: {browser.outside}"
    assert code == 0 and "Teaching page stopped." in output, output


NO_SIDEWAYS_SCROLL = """() => {
  // the page, and every scrolling box of the main area, no wider than what it shows
  const boxes = [...document.querySelectorAll('.v-content *, .v-main *')].filter(el => {
    const style = getComputedStyle(el);
    return ['auto', 'scroll'].includes(style.overflowX) && el.clientWidth > 0
      && !el.closest('.teach-table-scroll, .teach-info table');
  });
  const wide = boxes.filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => el.tagName + '.' + el.className + ' ' + el.scrollWidth + '>' + el.clientWidth);
  return {page: document.documentElement.scrollWidth, width: window.innerWidth, wide: wide};
}"""


def no_sideways_scroll(page: sync_api.Page) -> None:
    found = page.evaluate(NO_SIDEWAYS_SCROLL)
    assert found["page"] <= found["width"] + 1, found
    assert found["wide"] == [], found


def test_page_on_a_phone(browser: Browser) -> None:
    """A phone-sized screen (390 x 844): nothing sticks out sideways, the controls are a tap
    away behind ☰ and close again, the map and a household's story fit the screen."""
    ARTIFACTS.mkdir(exist_ok=True)
    server = start()
    page = browser.page
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        open_page(browser, server.url)
        no_sideways_scroll(page)
        step = page.get_by_role("button", name="Step")
        assert not step.is_visible()  # the sidebar starts closed on a phone
        page.locator(".v-app-bar__nav-icon").click()
        sync_api.expect(step).to_be_visible()
        assert step_until(page, "February 2021", 3) == 2
        no_sideways_scroll(page)
        page.screenshot(path=str(ARTIFACTS / "teaching-phone-controls.png"))
        page.locator(".v-app-bar__nav-icon").click(force=True)  # (over the drawer's scrim)
        sync_api.expect(step).not_to_be_visible()

        page.locator("circle.teach-county__hh").nth(7).click()
        story = page.locator('[data-panel="story"]')
        sync_api.expect(story.get_by_text("#7 in village")).to_be_visible()
        sync_api.expect(story.locator("canvas").first).to_be_visible()
        story.scroll_into_view_if_needed()
        box = story.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 391
        no_sideways_scroll(page)
        page.screenshot(path=str(ARTIFACTS / "teaching-phone.png"))
        for tab in ("Info", "Glossary"):
            page.get_by_role("tab", name=tab).click()
            no_sideways_scroll(page)
        assert page.get_by_text("This website runs on").count() == 0
    finally:
        code, output = server.stop()
    assert browser.problems == [], browser.problems
    assert browser.outside == [], browser.outside
    assert code == 0, output


def test_new_scenario_after_a_finished_run(browser: Browser, tmp_path: Path) -> None:
    """When a run has reached its horizon, Step and ▶ are off; picking a scenario then gives
    a new county that steps at once, without pressing Reset."""
    short = tmp_path / "short.toml"
    short.write_text('name = "short"\nbase = "baseline"\n\n[run]\nyears = 1\n')
    server = start("--scenario", str(short))
    page = browser.page
    try:
        open_page(browser, server.url)
        # the file loads (its base's change dated 2026 lies beyond its one year: no error)
        sync_api.expect(page.locator(".teach-error")).to_have_count(0)
        assert step_until(page, "December 2021", 12) == 12
        step = page.get_by_role("button", name="Step")
        sync_api.expect(step).to_be_disabled()
        page.get_by_label("Scenario", exact=True).click(force=True)
        page.get_by_role("option", name="social_security").click()
        sync_api.expect(page.get_by_role("button", name="Step")).to_be_enabled()
        sync_api.expect(page.get_by_role("button", name="▶")).to_be_enabled()
        assert step_until(page, "January 2021", 1) == 1
        sync_api.expect(page.locator(".teach-monitor--date .teach-monitor__county").first) \
            .to_have_text("month 1 simulated")
    finally:
        code, output = server.stop()
    assert browser.problems == [], browser.problems
    assert code == 0, output


def test_broken_scenario_file_shows_an_error(browser: Browser, tmp_path: Path) -> None:
    """A scenario file with a bad value: the page says so (file, key, range), shows the
    baseline and keeps working; the server keeps serving and stops cleanly on Ctrl-C."""
    ARTIFACTS.mkdir(exist_ok=True)
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "broken"\nbase = "baseline"\n\n[social_security]\n'
                      "coverage = 5.0\n")
    server = start("--scenario", str(broken))
    page = browser.page
    try:
        open_page(browser, server.url)
        error = page.locator(".teach-error").first
        sync_api.expect(error).to_contain_text("broken.toml")
        sync_api.expect(error).to_contain_text("social_security.coverage")
        sync_api.expect(error).to_contain_text("[0, 1]")
        step_until(page, "February 2021", 2)  # the page still runs (the baseline)
        page.screenshot(path=str(ARTIFACTS / "teaching-broken-scenario.png"), full_page=False)
        page.reload()  # and the server still serves
        open_page(browser, server.url)
        assert server.process.poll() is None
    finally:
        code, output = server.stop()
    assert "warning: " in output and "social_security.coverage" in output
    assert browser.problems == [], browser.problems
    assert browser.outside == [], browser.outside
    assert code == 0 and "Teaching page stopped." in output, output
