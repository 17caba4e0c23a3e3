"""How fast is the teaching page? (python benchmarks/teaching_page.py [--browser])

1. model: the page's model (`Lesson`: agents engine + the page's recorder) stepping months;
2. frame: one Step on the rendered page without a browser (model step + Solara re-render of
   the map, monitors, charts and knobs), as SolaraViz's controller does it;
3. browser (--browser, needs /usr/bin/chromium and playwright): `run.py demo` in headless
   Chromium — page load until the map and charts are drawn, and months simulated in 10 s of
   play (▶) at the page's default play and render intervals.

Prints a table and writes JSON (default benchmarks/results/teaching_page.json).
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import solara  # noqa: E402

from simulation.teaching.lesson import Lesson, Settings  # noqa: E402


def model_speed(households: int, compare: bool, months: int = 36) -> float:
    """Seconds per simulated year of the page's model."""
    lesson = Lesson(households=households, settings=Settings(
        compare="social_security" if compare else ""))
    lesson.step()  # first-step costs (caches) aside
    start = time.perf_counter()
    for _ in range(months):
        lesson.step()
    return (time.perf_counter() - start) / months * 12


def frame_speed(compare: bool, frames: int = 24) -> float:
    """Seconds per Step click on the rendered page (no browser)."""
    import ipyvuetify as v

    from simulation.teaching import app

    @solara.component
    def App() -> None:
        with app.Layout():  # the served page's frame (Solara's AppLayout)
            app.Page()

    _, rc = solara.render(App(), handle_error=False)
    if compare:
        select = rc.find(v.Select, label="Compare with (same seed)").widget
        select.v_model = "social_security"
    step = rc.find(v.Btn, children=["Step"]).widget
    step.click()
    start = time.perf_counter()
    for _ in range(frames):
        step.click()
    return (time.perf_counter() - start) / frames


def browser_speed(compare: bool) -> dict[str, float]:
    """Page load seconds and months simulated in 10 s of play, in headless Chromium."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "run.py", "demo", "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        assert server.stdout is not None
        while f"127.0.0.1:{port}" not in server.stdout.readline():
            pass
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            start = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator("circle.teach-county__hh").nth(999).wait_for(timeout=60_000)
            page.locator('[data-chart="cost"] canvas').wait_for(timeout=60_000)
            load = time.perf_counter() - start
            if compare:
                page.get_by_label("Compare with (same seed)").click(force=True)
                page.get_by_role("option", name="social_security").click()
                page.locator('[data-run="1"] circle.teach-county__hh').nth(999).wait_for()
            months = page.locator('[data-monitor="date"] .teach-monitor__county').first
            page.get_by_role("button", name="▶").click()
            page.wait_for_timeout(10_000)
            done = int(months.inner_text().split()[1])
            page.get_by_role("button", name="❚❚").click()
            browser.close()
        return {"load_seconds": load, "months_in_10s": done,
                "seconds_per_year": 10.0 / done * 12}
    finally:
        server.terminate()
        server.wait(timeout=20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser", action="store_true", help="also measure in Chromium")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/teaching_page.json"))
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for households in (1000, 3000):
        for compare in (False, True):
            rows.append({"measure": "model s/simulated year", "households": households,
                         "compare": compare, "value": model_speed(households, compare)})
    for compare in (False, True):
        rows.append({"measure": "frame s/step (no browser)", "households": 1000,
                     "compare": compare, "value": frame_speed(compare)})
    if args.browser:
        for compare in (False, True):
            b = browser_speed(compare)
            rows.append({"measure": "browser page load s", "households": 1000,
                         "compare": compare, "value": b["load_seconds"]})
            rows.append({"measure": "browser play s/simulated year", "households": 1000,
                         "compare": compare, "value": b["seconds_per_year"]})
    print(f"{'measure':<34}{'households':>11}{'compare':>9}{'value':>10}")
    for r in rows:
        print(f"{r['measure']:<34}{r['households']:>11}{'yes' if r['compare'] else 'no':>9}"
              f"{r['value']:>10.3f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"python": platform.python_version(),
                               "machine": platform.machine(), "rows": rows}, indent=2))
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
