"""``introsim dashboard`` in a real browser: Debian's Chromium, headless, driven by Playwright.

The server is started as a user would start it, on a free port; every request
the page makes must stay on this machine. The what-if page's screenshot is kept
as docs/dashboard.png for the README.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest

from browser_checks import WIDTHS
from introsim.app.i18n import TEXT, number, percent, t, unit
from introsim.app.levers import BY_PATH
from introsim.app.server import host_addresses
from introsim.app.update import CHARTS
from introsim.app.whatif import TARGET_OUTCOME
from introsim.model.model import IntroModel
from introsim.model.state import STATUS_NAMES
from introsim.params.loader import load_scenario
from introsim.run import replicate_seed
from test_browser import chromium

from clitools import ROOT, SRC, call_cli, run_cli, stderr_lines

PRESET = ROOT / "scenarios" / "baseline.toml"
REPLICATIONS = 4
SCREENSHOT = ROOT / "docs" / "dashboard.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 120
# A page waits for the server's runs and for plotly; on a shared, busy machine (a load of
# 15 on two cores was seen) opening it took over three minutes.
PAGE_TIMEOUT_MS = 400_000
PLOTLY_DEFAULT_WIDTH = 700
"""plotly.js's width of a figure that sets none and is not told its container's."""
LAPTOP = 1280


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_dashboard(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``introsim dashboard ARGS`` and wait until it answers; return it and its address."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "introsim", "dashboard", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    line = proc.stdout.readline()
    # A wildcard host is named as such, with the address to open on this machine.
    match = re.search(r"open (http://\S+)", line)
    if match is None:
        proc.kill()
        pytest.fail(f"no address printed: {line!r} {proc.stderr.read()[-2000:]}")
    address = match.group(1)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the dashboard exited: {proc.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(address, timeout=5) as response:
                if response.status == 200:
                    return proc, address
        except OSError:
            time.sleep(0.5)
    proc.kill()
    pytest.fail(f"the dashboard did not answer at {address} within {START_TIMEOUT_S} s")


def stop(proc: subprocess.Popen[str]) -> str:
    """Stop a started dashboard; return what it wrote to stderr."""
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    proc, address = start_dashboard(
        str(PRESET), "--port", str(free_port()), "--replications", str(REPLICATIONS)
    )
    yield address
    stop(proc)


@pytest.fixture(scope="module")
def browser():
    binary = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=binary, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(PAGE_TIMEOUT_MS)
    pg.requests = []  # every URL the page asked for
    pg.on("request", lambda r: pg.requests.append(r.url))
    yield pg
    context.close()


# A chart is drawn when plotly has laid out its traces at the width of the page's column:
# plotly's graph div keeps its data and its computed layout (``_fullLayout``).
DRAWN_JS = """names => names.every(name => {
    const gd = document.querySelector(`.introsim-chart-${name} .js-plotly-plot`);
    if (gd === null || !gd._fullLayout || !gd.data || gd.data.length === 0) return false;
    const svg = gd.querySelector('.main-svg');
    const width = gd.getBoundingClientRect().width;
    return svg !== null && width > 0 && Math.abs(gd._fullLayout.width - width) <= 1
        && gd.querySelectorAll('.trace').length > 0;
})"""


def wait_drawn(page, *names: str) -> None:
    """Wait until each named chart is drawn with its data and fills its container's width."""
    page.wait_for_function(DRAWN_JS, arg=list(names))


def chart_width(page, name: str) -> float:
    """The drawn width of one chart in CSS pixels."""
    return page.evaluate(
        "name => document.querySelector(`.introsim-chart-${name} .main-svg`)"
        ".getBoundingClientRect().width",
        name,
    )


def open_page(page, url: str) -> str:
    """Open the dashboard and wait for its headline and every chart; return the headline."""
    page.goto(url)
    page.wait_for_selector(".introsim-headline-0")
    wait_drawn(page, *CHARTS)
    return page.inner_text(".introsim-headline-0")


PATHS_JS = (
    "name => Array.from(document.querySelectorAll("
    "`.introsim-chart-${name} path.js-line, .introsim-chart-${name} path.js-fill`))"
    ".map(e => e.getAttribute('d'))"
)


def chart_paths(page, name: str) -> list[str]:
    """The drawn lines and areas of one chart (their SVG path data)."""
    return page.evaluate(PATHS_JS, name)


def only_local(requests: list[str], address: str) -> list[str]:
    """Requests that left this machine (none expected)."""
    return [u for u in requests if not u.startswith((address, "blob:", "data:"))]


@pytest.mark.browser
def test_moving_a_slider_changes_the_chart_and_the_headline(server, page):
    before = open_page(page, server)
    lines_before = chart_paths(page, "in_work")
    assert lines_before
    thumb = page.locator(".introsim-lever-follow_up-caseload [role=slider]")
    thumb.focus()
    thumb.press("Home")  # the slider's lowest caseload: one participant per advisor
    page.wait_for_function(
        "old => document.querySelector('.introsim-headline-0').innerText !== old", arg=before
    )
    after = page.inner_text(".introsim-headline-0")
    low = f"{BY_PATH['follow_up.caseload'].slider[0]:g}"
    assert page.inner_text(".introsim-lever-follow_up-caseload .introsim-lever-value").startswith(
        low
    )
    page.wait_for_function(
        f"old => JSON.stringify(({PATHS_JS})('in_work')) !== JSON.stringify(old)",
        arg=lines_before,
    )
    assert chart_paths(page, "in_work") != lines_before
    assert after != before
    assert "0.0 percentage points" in before and "0.0 percentage points" not in after
    assert re.search(r"Updated in \d+\.\d\d s", page.inner_text(".introsim-timing"))

    wait_drawn(page, *CHARTS)  # every chart redrawn with the new settings before the picture
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert SCREENSHOT.stat().st_size > 50_000
    assert not only_local(page.requests, server)


@pytest.mark.browser
def test_charts_fill_the_column_and_follow_the_window(server, browser):
    phone = min(WIDTHS)
    context = browser.new_context(viewport={"width": LAPTOP, "height": 900})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        open_page(page, server)
        wide = chart_width(page, "in_work")
        assert PLOTLY_DEFAULT_WIDTH < wide <= LAPTOP
        page.set_viewport_size({"width": phone, "height": 800})
        page.wait_for_function(  # redrawn at the new width
            f"w => ({DRAWN_JS})({json.dumps(list(CHARTS))})"
            " && document.querySelector('.introsim-chart-in_work .main-svg')"
            ".getBoundingClientRect().width < w",
            arg=wide,
        )
        assert chart_width(page, "in_work") <= phone
        page.set_viewport_size({"width": LAPTOP, "height": 900})  # and back
        page.wait_for_function(
            f"w => ({DRAWN_JS})(['in_work']) && document.querySelector("
            "'.introsim-chart-in_work .main-svg').getBoundingClientRect().width === w",
            arg=wide,
        )
    finally:
        context.close()


@pytest.mark.browser
def test_norwegian_labels(server, page):
    headline = open_page(page, server + "?lang=nb")
    sidebar = page.inner_text(".introsim-root").lower()  # buttons are upper case
    for key in ("follow_up.method", "follow_up.caseload", "projector", "reset"):
        assert t(key, "nb").lower() in sidebar, key
        assert t(key, "en").lower() not in sidebar
    assert unit("weeks", "nb") in sidebar
    assert headline.startswith(TEXT["headline"]["nb"].split("{")[0])
    assert t("tab_watch", "nb").upper() in page.inner_text(".v-tabs").upper()


@pytest.mark.browser
def test_out_of_range_value_gives_a_clear_message(server, page):
    open_page(page, server)
    caseload = BY_PATH["follow_up.caseload"]
    box = page.locator(
        ".introsim-lever-follow_up-caseload input[type=text], "
        ".introsim-lever-follow_up-caseload input[type=number]"
    ).last
    box.fill(f"{caseload.high + 100:g}")
    box.press("Enter")
    problem = page.wait_for_selector(".introsim-problem")
    text = problem.inner_text()
    assert t("follow_up.caseload", "en") in text and f"{caseload.high:g}" in text
    # The charts still show the last settings that could be run.
    assert page.query_selector(".introsim-chart-in_work .main-svg") is not None


@pytest.mark.browser
def test_export_reproduces_the_numbers_and_the_link_reopens_them(server, page, tmp_path):
    open_page(page, server)
    before = page.inner_text(".introsim-headline-0")
    page.locator(".introsim-lever-wage_subsidy-rate [role=slider]").focus()
    page.keyboard.press("End")  # the highest subsidy rate
    page.wait_for_function(
        "old => document.querySelector('.introsim-headline-0').innerText !== old", arg=before
    )
    headline = page.inner_text(".introsim-headline-0")
    page.get_by_text(t("tab_share", "en"), exact=False).first.click()
    with page.expect_download() as info:
        page.get_by_text(t("download", "en")).click()
    exported = tmp_path / info.value.suggested_filename
    info.value.save_as(exported)

    assert call_cli("validate", exported).returncode == 0
    out = tmp_path / "compare"
    res = run_cli(
        "compare", PRESET, exported, "--replications", str(REPLICATIONS), "--json", "--out", out
    )
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    row = data["outcomes"][TARGET_OUTCOME][exported.stem]
    for value in (row["diff_low"], row["diff_high"]):
        assert number(100 * value, "en", signed=True) in headline
    assert number(abs(100 * row["diff"]), "en") + " percentage points" in headline

    link = page.get_attribute(".introsim-link", "href")
    assert "wage_subsidy.rate=" in link
    assert open_page(page, link) == headline  # a fresh session, opened from the link alone
    top = percent(BY_PATH["wage_subsidy.rate"].slider[1], "en")
    assert page.inner_text(".introsim-lever-wage_subsidy-rate .introsim-lever-value") == top
    assert not only_local(page.requests, server)


WATCH_JS = """() => {
    const week = document.querySelector('.introsim-watch-week');
    const counts = {};
    for (const e of document.querySelectorAll('.introsim-watch-count')) {
        const name = Array.from(e.classList).find(c => c.startsWith('introsim-watch-count-'));
        counts[name.slice('introsim-watch-count-'.length)] =
            Number(e.innerText.split(':').pop().replace(/\\D/g, ''));
    }
    return week === null ? null : {week: week.innerText, counts: counts};
}"""


def watched(page) -> tuple[int, dict[str, int]]:
    """The week the watch tab shows and its status counts, read in one go."""
    shown = page.evaluate(WATCH_JS)
    return int(re.match(r"Week (\d+) of", shown["week"]).group(1)), shown["counts"]


def model_counts() -> list[dict[str, int]]:
    """The preset's watched run (replicate 0), stepped here: status counts after each week."""
    sc = load_scenario(PRESET)
    model = IntroModel(sc, replicate_seed(sc.scenario.seed, 0), agents=False)
    out = []
    while True:
        counts = np.bincount(model.refugees.status, minlength=len(STATUS_NAMES))
        out.append(dict(zip(STATUS_NAMES, counts.tolist(), strict=True)))
        if not model.running:
            return out
        model.step()


@pytest.mark.browser
def test_watch_one_run_steps_week_by_week(server, page):
    from playwright.sync_api import expect

    expected = model_counts()
    # The first week after week 1 whose composition differs (someone finds work, say).
    later = next(w for w in range(2, len(expected)) if expected[w] != expected[1])
    open_page(page, server)
    page.get_by_text(t("tab_watch", "en"), exact=False).first.click()
    page.wait_for_selector(".introsim-watch-week")
    wait_drawn(page, "cohort")
    assert watched(page) == (0, expected[0])
    step = page.get_by_role("button", name="Step")
    step.click()
    # The label and the counts are redrawn in separate updates: wait until both show week 1.
    page.wait_for_function(
        f"expected => {{ const s = ({WATCH_JS})(); return s !== null"
        " && s.week.startsWith('Week 1 of')"
        " && JSON.stringify(s.counts) === JSON.stringify(expected); }",
        arg=expected[1],
    )
    assert watched(page) == (1, expected[1])
    assert expected[1] != expected[0]  # the step changed the cohort's composition
    page.wait_for_function(  # the weeks so far, drawn: one point per week
        "() => { const gd = document.querySelector('.introsim-chart-counts .js-plotly-plot');"
        " return gd.data.length > 0 && gd.data[0].x.length === 1; }"
    )

    page.get_by_role("button", name="▶").click()  # play: week follows week
    page.wait_for_function(
        "n => Number(document.querySelector('.introsim-watch-week').innerText"
        ".match(/(\\d+)/)[1]) >= n",
        arg=later,
    )
    page.get_by_role("button", name="❚❚").click()
    expect(step).to_be_enabled()
    # A week under way when pausing still finishes: wait for the label and counts to agree.
    page.wait_for_function(
        f"expected => {{ const s = ({WATCH_JS})(); const w = Number(s.week.match(/(\\d+)/)[1]);"
        " return JSON.stringify(s.counts) === JSON.stringify(expected[w]); }",
        arg=expected,
    )
    week, counts = watched(page)
    assert week >= later
    assert counts == expected[week] and counts != expected[1]


def test_a_non_local_bind_is_refused_unless_asked():
    res = call_cli("dashboard", PRESET, "--host", "0.0.0.0", "--port", str(free_port()))
    assert res.returncode == 2
    lines = stderr_lines(res)
    assert len(lines) == 1 and "--allow-remote" in lines[0] and "0.0.0.0" in lines[0]
    assert "Traceback" not in res.stderr


def test_a_non_local_bind_when_asked_says_so_and_names_the_addresses_it_answers_on():
    port = free_port()
    proc, address = start_dashboard(
        str(PRESET), "--host", "0.0.0.0", "--allow-remote", "--port", str(port)
    )
    try:
        others = proc.stdout.readline()
        reachable = host_addresses("0.0.0.0")
        for ip in reachable:  # each address named answers, as the bind promised
            with urllib.request.urlopen(f"http://{ip}:{port}/", timeout=30) as response:
                assert response.status == 200
    finally:
        err = stop(proc)
    assert address == f"http://127.0.0.1:{port}/"  # this machine's own browser
    assert "warning: listening on 0.0.0.0" in err
    assert others.startswith("from other machines open ")
    assert socket.gethostname() in others
    for ip in reachable:
        assert f"http://{ip}:{port}/" in others
    assert "127.0.0.1" not in others


def test_bad_dashboard_options_are_one_line_errors(tmp_path):
    for args in (["--lang", "de"], ["--replications", "1"], [str(tmp_path / "missing.toml")]):
        res = call_cli("dashboard", *args, "--port", str(free_port()))
        assert res.returncode == 2, args
        assert len(stderr_lines(res)) == 1, res.stderr
