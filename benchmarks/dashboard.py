"""Dashboard benchmark: the first result in a new browser session, and a slider to its charts.

Measured as a workshop meets it: ``introsim dashboard scenarios/baseline.toml``
(500 participants, 260 weeks, 10 runs per scenario, its warm pool of two
workers) is started as a user starts it, and Debian's Chromium, headless and
driven by Playwright, opens it.

* **First result in a new session**: from opening the address in a fresh
  browser context (no cache, no cookie: a person opening the link on a phone)
  until the result in words is painted on the screen: the settings it is for,
  the headline numbers and the plain-words sentences of how sure they are. The
  browser says when it painted each line (its Element Timing; this benchmark
  marks the lines itself, before they are painted), so the time is the page's
  own, not when a poll noticed it. The page asks for plotly.js only once that
  result is painted, so the charts come later: **charts drawn** is timed in the
  same sessions, until every chart is drawn at its width, and reported in a
  row of its own. Timed over several sessions; the server was started before
  (its start-up, which computes the starting point's runs, is reported on its
  own).
* **Slider to charts**: in one session, the caseload slider moved one step
  (the arrow key), each to a caseload not seen before (the starting point's
  runs come from the cache); timed from the key press until the words name
  the new caseload, nothing is computing, and all four charts are redrawn.
  Twice: *after reading*, each press :data:`READ_S` seconds after the charts
  were redrawn, as a person reads a result before the next step (meanwhile the
  server works out the runs of the lever's next steps either side on its idle
  workers); and *at once*, each press as soon as the charts were redrawn (the
  look-ahead for that step has only just started: close to computing afresh).

The same change is also timed without a browser (``introsim.app.update.update``
on the same warm pool, nothing worked out ahead): the server's share of a
change computed afresh.

``python -m benchmarks.dashboard`` runs it alone; ``make bench`` runs it as one
section of ``benchmarks/RESULTS.md``. Timed targets live here, never in tests.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PRESET = ROOT / "scenarios" / "baseline.toml"
REPLICATIONS = 10
MOVES = 10
SESSIONS = 5
TARGET_FIRST_S = 2.0
"""The first result in a new browser session in under two seconds."""
TARGET_S = 0.5
"""A slider change to updated charts in under half a second (median)."""
READ_S = 1.5
"""Seconds a person reads a result before the next step (the "after reading" slider figure)."""

# Redrawn: every chart's traces differ from what they were before the key press. Both axes'
# data count: the who-pays chart's bars lie across the page (its numbers are its x).
_CHART_STATE_JS = """() => ['in_work', 'status', 'payers', 'subgroups'].map(name => {
    const gd = document.querySelector(`.introsim-chart-${name} .js-plotly-plot`);
    if (!gd || !gd.data) return '';
    return gd.data.map(t => JSON.stringify([t.x || [], t.y || [], t.z || []]))
        .join('|');
})"""
_REDRAWN_JS = (
    """([before, value]) => {
    const words = document.querySelector('.introsim-computed-for');
    if (!words || !words.innerText.includes(value)) return false;
    if (document.querySelector('.introsim-computing, .introsim-stale')) return false;
    const now = ("""
    + _CHART_STATE_JS
    + """)();
    return now.every((s, k) => s !== '' && s !== before[k]);
}"""
)


def _browser_helpers() -> Any:
    """The browser tests' own helpers (starting the server, opening pages)."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import dashboard_browser

    return dashboard_browser


def server_side(moves: int, replications: int = REPLICATIONS) -> dict[str, Any]:
    """``update()`` after each slider move, on a warm pool as the server has it (no browser)."""
    from introsim.app.levers import BY_PATH
    from introsim.app.server import start_workers
    from introsim.app.update import update
    from introsim.app.whatif import RunCache
    from introsim.experiments.executor import stop_pool
    from introsim.params.loader import load_scenario

    preset = load_scenario(PRESET)
    cache = RunCache()
    ensemble = _browser_helpers().shipped_ensemble()  # as the started server has it
    pool = start_workers(2)
    try:
        # the preset, cached
        update(preset, {}, replications, "en", cache=cache, executor=pool, ensemble=ensemble)
        lever = BY_PATH["follow_up.caseload"]
        start = preset.follow_up.caseload
        values = [int(max(lever.slider[0], start - 1 - k)) for k in range(moves)]
        walls, runs = [], []
        for value in values:
            up = update(
                preset,
                {lever.path: value},
                replications,
                "en",
                cache=cache,
                executor=pool,
                ensemble=ensemble,
            )
            walls.append(up.seconds)
            runs.append(up.runs)
    finally:
        if pool is not None:
            stop_pool(pool)
    members = ensemble.size if ensemble is not None else 0
    return {"walls": walls, "runs": runs, "values": values, "ensemble_members": members}


def in_browser(moves: int, sessions: int = SESSIONS) -> dict[str, Any]:
    """First results in new sessions and slider-to-chart times, in Chromium."""
    db = _browser_helpers()
    t0 = time.perf_counter()
    proc, address = db.start_dashboard(
        str(PRESET), "--port", str(db.free_port()), "--replications", str(REPLICATIONS)
    )
    startup = time.perf_counter() - t0
    first: list[float] = []  # the result in words painted
    charts: list[float] = []  # every chart drawn
    read: list[float] = []  # a step after reading the result
    slider: list[float] = []  # a step at once
    values: list[int] = []
    try:
        with db.chromium() as browser:
            for _ in range(sessions):
                page = db.new_page(browser)
                page.add_init_script(db.PAINT_MARKS_JS)
                t1 = time.time()  # the page's clock is the same wall clock
                page.goto(address)
                first.append(db.result_painted(page) - t1)
                db.wait_drawn(page, *db.CHARTS)
                charts.append(time.time() - t1)
                page.context.close()
            page = db.new_page(browser)
            db.open_page(page, address)
            thumb = page.locator(".introsim-lever-follow_up-caseload [role=slider]")
            value = int(thumb.get_attribute("aria-valuenow"))
            for pause, times in ((READ_S, read), (0.0, slider)):
                for _ in range(moves):
                    value -= 1
                    page.wait_for_timeout(pause * 1000)
                    before = page.evaluate(_CHART_STATE_JS)
                    thumb.focus()
                    t2 = time.perf_counter()
                    thumb.press("ArrowLeft")
                    page.wait_for_function(
                        _REDRAWN_JS, arg=[before, f" {value}\u00a0"], polling="raf"
                    )
                    times.append(time.perf_counter() - t2)
                    values.append(value)
            page.context.close()
    finally:
        db.stop(proc)
    return {
        "startup_s": startup,
        "first": first,
        "charts": charts,
        "read": read,
        "slider": slider,
        "values": values,
        "read_s": READ_S,
    }


def measure(moves: int = MOVES) -> dict[str, Any]:
    """Both timings; a missing browser is said, not fatal."""
    import os

    from introsim.params.loader import load_scenario

    preset = load_scenario(PRESET)
    out: dict[str, Any] = {
        "preset": str(PRESET.relative_to(ROOT)),
        "participants": preset.cohort.size,
        "weeks": preset.scenario.weeks,
        "replications": REPLICATIONS,
        "lever": "follow_up.caseload",
        "load_start": os.getloadavg(),
        "server": server_side(moves),
    }
    try:
        out["browser"] = in_browser(moves, SESSIONS if moves >= MOVES else 2)
    except (ImportError, OSError, RuntimeError) as e:  # no Playwright or no Chromium here
        out["browser"] = {"error": " ".join(str(e).split())[-400:]}
    out["load_end"] = os.getloadavg()
    return out


def _s(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s" if values else "–"


def _spread(values: list[float]) -> str:
    return f"{_s(values)}, {min(values):.2f} s, {max(values):.2f} s" if values else "–"


def render(add: Any, res: dict[str, Any] | None) -> None:
    """The section of RESULTS.md."""
    if res is None:
        add("Not run.")
        add("")
        return
    add(
        f"`introsim dashboard {res['preset']}` ({res['participants']} participants, "
        f"{res['weeks']} weeks, {res['replications']} runs per scenario, a warm pool of two "
        "workers), opened in Debian's Chromium (headless, Playwright). First result: a fresh "
        "browser context, from opening the address until the result in words (the settings it "
        "is for, the headline numbers and the sentences saying how sure they are) is painted, "
        "as the browser's Element Timing reports it. The page asks for plotly.js only after "
        "that, so the charts come later: charts drawn is timed in the same sessions until all "
        "four charts are drawn at their width. "
        f"Slider: `{res['lever']}` moved one step by the arrow key, each to a value not seen "
        "before, until the words name it and all four charts are redrawn: after "
        f"reading, each press {res.get('browser', {}).get('read_s', READ_S):g} s after the "
        "redraw (meanwhile the server works out the lever's next steps either side on its idle "
        "workers); at once, each press as soon as the charts are redrawn (that work has only "
        "just begun). Server: the same change in `introsim.app.update.update` on the same warm "
        "pool, computed afresh, no browser. "
        f"Load average at start {res['load_start'][0]:.1f}, at end {res['load_end'][0]:.1f}."
        + (
            f" Over the shipped posterior of {members} members (each what-if spreads its runs "
            "over members, two runs each)."
            if (members := res["server"].get("ensemble_members"))
            else " The presets' own parameters (no posterior shipped)."
        )
    )
    add("")
    br = res.get("browser", {})
    if "error" in br:
        add(f"In the browser: not measured ({br['error']}).")
        add("")
    else:
        add("| measure | median, best, worst |")
        add("|---|---|")
        add(f"| server start-up (computes the starting point) | {br['startup_s']:.1f} s |")
        sessions = f"({len(br['first'])} sessions)"
        add(
            "| first result in a new session (the result in words painted) "
            f"| {_spread(br['first'])} {sessions} |"
        )
        if br.get("charts"):  # not measured before the two were told apart
            add(f"| charts drawn in a new session | {_spread(br['charts'])} {sessions} |")
        add(
            f"| slider, a step after reading ({br['read_s']:g} s) "
            f"| {_spread(br['read'])} ({len(br['read'])} moves) |"
        )
        add(f"| slider, a step at once | {_spread(br['slider'])} ({len(br['slider'])} moves) |")
        add("")
    sv = res["server"]
    add(
        f"Server's share of a slider change (no browser): median {_s(sv['walls'])}, best "
        f"{min(sv['walls']):.2f} s, worst {max(sv['walls']):.2f} s; "
        f"{statistics.median(sv['runs']):.0f} new runs each."
    )
    add("")


def target_rows(res: dict[str, Any], verdict: Any) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) rows for the targets table.

    Args:
        res: What :func:`measure` returned.
        verdict: ``verdict(ok, value, target)`` of the benchmark runner.
    """
    br = res.get("browser", {})
    if "error" in br or not br.get("first"):
        return [
            (
                "dashboard: first result in a new browser session < 2 s; slider to charts "
                "< 0.5 s median",
                "not measured: " + br.get("error", "no browser"),
                "**no**: not measured",
            )
        ]
    first = statistics.median(br["first"])
    size = f"{res['replications']} runs of {res['participants']} participants"
    charts = (
        f"; its charts drawn {statistics.median(br['charts']):.2f} s median"
        if br.get("charts")
        else ""
    )
    rows = [
        (
            f"dashboard: first result (the result in words painted) in a new browser session "
            f"({size}): < {TARGET_FIRST_S:g} s",
            f"{first:.2f} s median, {min(br['first']):.2f} s best{charts}",
            verdict(first < TARGET_FIRST_S, first, TARGET_FIRST_S),
        )
    ]
    # Both slider figures, each with its verdict: a step after reading the result (the
    # next steps worked out meanwhile) and a step at once (close to computing afresh).
    for key, how in (
        ("read", f"a step after reading ({br.get('read_s', READ_S):g} s)"),
        ("slider", "a step at once"),
    ):
        if not br.get(key):
            continue
        median = statistics.median(br[key])
        rows.append(
            (
                f"dashboard: slider change to updated charts in the browser, {how} ({size}): "
                f"< {TARGET_S:g} s median",
                f"{median:.2f} s median, {min(br[key]):.2f} s best",
                verdict(median < TARGET_S, median, TARGET_S),
            )
        )
    return rows


if __name__ == "__main__":
    result = measure()
    lines: list[str] = []
    render(lines.append, result)
    print("\n".join(lines))
    print(json.dumps(result), file=sys.stderr)
