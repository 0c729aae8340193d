"""``introsim dashboard`` in a real browser: Debian's Chromium, headless, driven by Playwright.

The server is started as a user would start it, on a free port; every request the
page makes must stay on this machine, and no page may log an error in the browser's
console. Pictures of the views go to tests/artifacts/ (``make screenshots`` writes the
same views to docs/ with :mod:`dashboard_browser`).
"""

from __future__ import annotations

import io
import json
import re
import shlex
import socket
import time
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest

from dashboard_browser import (
    CONTROLS,
    PAINT_MARKS_JS,
    PRESET,
    TEST_POSTERIOR,
    VIEWS,
    chromium,
    covered,
    covered_anywhere,
    free_port,
    new_page,
    open_page,
    shipped_ensemble,
    show_view,
    sideways,
    start_dashboard,
    stop,
    wait_drawn,
    wait_settled,
)
from english import english_words, words
from introsim.app.export import reproduce_command
from introsim.app.i18n import number, t
from introsim.app.levers import BY_PATH, shown_value
from introsim.app.server import host_addresses
from introsim.app.update import update
from introsim.app.whatif import ENSEMBLE_REPLICATES, TARGET_OUTCOME
from introsim.model.model import IntroModel
from introsim.model.state import STATUS_NAMES
from introsim.params.loader import load_scenario
from introsim.run import replicate_seed
from test_browser import ARTIFACTS
from test_browser import chromium as chromium_binary

from clitools import call_cli, run_cli, stderr_lines

REPLICATIONS = 4


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    chromium_binary()  # skip (or fail on CI) without Debian's Chromium
    proc, address = start_dashboard(
        str(PRESET), "--port", str(free_port()), "--replications", str(REPLICATIONS)
    )
    yield address, proc.pid
    err = stop(proc)
    assert "Traceback" not in err, err[-3000:]
    assert "samesite" not in err.lower()  # no cookie warning in the terminal


@pytest.fixture(scope="module")
def browser():
    chromium_binary()
    with chromium() as b:
        yield b


@pytest.fixture
def page(server, browser):
    pg = new_page(browser)
    yield pg
    errors, requests = list(pg.errors), list(pg.requests)
    pg.context.close()
    assert not errors, errors  # nothing went wrong in the browser's console
    assert not [u for u in requests if not u.startswith((server[0], "blob:", "data:"))]


def box(page, path: str):
    """The text box of a lever (or of the runs per scenario)."""
    return page.locator(f".introsim-lever-{path.replace('.', '-')} input[type=text]")


def type_into(page, path: str, text: str) -> None:
    b = box(page, path)
    b.fill(text)
    b.press("Enter")


def lines(page) -> list[str]:
    return page.locator(".introsim-line").all_inner_texts()


def lever_values(page) -> list[str]:
    return page.locator(".introsim-lever-value").all_inner_texts()


def wait_changed(page, old: str) -> None:
    page.wait_for_function(
        "old => document.querySelector('.introsim-headline-0').innerText !== old", arg=old
    )
    wait_settled(page)


@pytest.fixture(scope="module")
def expected_40() -> list[str]:
    """The dashboard's words for a 40 % subsidy, computed here with the same runs."""
    up = update(
        load_scenario(PRESET),
        {"wage_subsidy.rate": 0.4},
        REPLICATIONS,
        "en",
        ensemble=shipped_ensemble(),
    )
    return [line.text for line in up.lines]


# --------------------------------------------------------------------------- inputs
@pytest.mark.browser
def test_typing_40_in_the_subsidy_box_runs_a_40_per_cent_subsidy(server, page, expected_40):
    before = open_page(page, server[0])
    type_into(page, "wage_subsidy.rate", "40")
    wait_changed(page, before)
    rate = BY_PATH["wage_subsidy.rate"]
    value = page.inner_text(".introsim-lever-wage_subsidy-rate .introsim-lever-value")
    assert value == shown_value(rate, 0.4, "en") == "40\u00a0%"
    assert box(page, "wage_subsidy.rate").input_value() == "40"
    assert f"{rate.label('en')} 40\u00a0%" in page.inner_text(".introsim-computed-for")
    assert lines(page) == expected_40  # the same words as a run at 0.40, seed for seed


@pytest.mark.browser
def test_a_refused_value_changes_nothing_and_says_so(server, page):
    before = open_page(page, server[0])
    type_into(page, "wage_subsidy.rate", "40")
    wait_changed(page, before)
    words_before, values_before = lines(page), lever_values(page)
    computed_for = page.inner_text(".introsim-computed-for")
    caseload = BY_PATH["follow_up.caseload"]

    type_into(page, "follow_up.caseload", f"{caseload.high + 300:g}")
    refusal = page.wait_for_selector(".introsim-refused").inner_text()
    assert caseload.label("en") in refusal and f"{caseload.high:g}" in refusal
    assert "Still in effect: 25" in refusal
    page.wait_for_selector(".introsim-stale")  # the results are greyed
    assert lever_values(page) == values_before and lines(page) == words_before
    assert page.inner_text(".introsim-computed-for") == computed_for
    slider = page.locator(".introsim-lever-follow_up-caseload [role=slider]")
    assert slider.get_attribute("aria-valuenow") == "25"  # not clamped to the slider's end
    assert slider.get_attribute("aria-label") == caseload.label("en")

    # The case that once ran a 100 % subsidy: a share typed as a percentage that is too
    # large, then another refused value. Nothing of either is applied.
    type_into(page, "wage_subsidy.rate", "4000")
    page.wait_for_function(
        "() => document.querySelector('.introsim-refused').innerText.includes('4000')"
    )
    type_into(page, "follow_up.caseload", "500")
    page.wait_for_function(
        "() => document.querySelector('.introsim-refused').innerText.includes('500')"
    )
    assert lever_values(page) == values_before and lines(page) == words_before
    assert page.inner_text(".introsim-computed-for") == computed_for

    type_into(page, "follow_up.caseload", "12")  # a value that fits: run, and no longer grey
    page.wait_for_function(
        "() => document.querySelector('.introsim-computed-for').innerText.includes(' 12')"
    )
    wait_settled(page)
    assert not page.query_selector(".introsim-refused")
    assert page.inner_text(".introsim-lever-follow_up-caseload .introsim-lever-value").startswith(
        "12"
    )


# --------------------------------------------------------------------------- layout
@pytest.mark.browser
@pytest.mark.parametrize("view", list(VIEWS))
def test_each_view_covers_nothing_and_fits_its_width(server, browser, view):
    page = show_view(browser, server[0], view)
    try:
        assert sideways(page) == 0
        assert covered_anywhere(page) == []
        if view == "projector":
            size = page.evaluate(
                "() => parseFloat(getComputedStyle("
                "document.querySelector('.introsim-headline-0')).fontSize)"
            )
            assert size >= 30  # large type
            # Every lever's value stays inside the levers' column.
            assert page.evaluate(
                "() => { const col = document.querySelector('.introsim-levers')"
                ".getBoundingClientRect(); return [...document.querySelectorAll("
                "'.introsim-lever-value')].every(e => e.getBoundingClientRect().right"
                " <= col.right + 1); }"
            )
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / str(VIEWS[view]["file"])))
        assert not page.errors, page.errors
    finally:
        page.context.close()


@pytest.mark.browser
def test_on_a_phone_the_levers_are_a_drawer_that_opens_and_closes(server, browser):
    page = show_view(browser, server[0], "phone")
    try:
        levers = page.locator(".introsim-levers")
        assert not levers.is_visible()  # closed at the start: the result comes first
        opener = page.locator(".introsim-open-levers")
        opener.click()
        page.wait_for_function(
            "() => getComputedStyle(document.querySelector('.introsim-levers'))"
            ".visibility === 'visible'"
        )
        page.wait_for_timeout(300)  # the slide-in transition
        closer = page.locator(".introsim-close-levers")
        assert closer.is_visible() and closer.bounding_box()["x"] + 20 < 390
        inside = ", ".join(f".introsim-levers {c.strip()}" for c in CONTROLS.split(","))
        assert covered(page, inside) == []
        assert sideways(page) == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-phone-levers.png"))
        closer.click()
        page.wait_for_function(
            "() => getComputedStyle(document.querySelector('.introsim-levers'))"
            ".visibility === 'hidden'"
        )
        opener.click()  # and a tap beside the drawer closes it too
        page.wait_for_function("() => document.querySelector('.introsim-scrim.open') !== null")
        page.mouse.click(385, 600)
        page.wait_for_function("() => document.querySelector('.introsim-scrim.open') === null")
        assert not page.errors, page.errors
    finally:
        page.context.close()


# --------------------------------------------------------------------------- bokmål
def _page_text(page) -> str:
    """Every text a person can read on the page (code blocks aside), and its labels."""
    return page.evaluate(
        """() => {
        const skip = (e) => e.closest('.introsim-code');
        const parts = [];
        const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walk.nextNode()) {
            const n = walk.currentNode, el = n.parentElement;
            if (!el || skip(el) || ['SCRIPT', 'STYLE'].includes(el.tagName)) continue;
            const s = getComputedStyle(el);
            if (s.display === 'none' || s.visibility === 'hidden') continue;
            parts.push(n.textContent);
        }
        for (const el of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
            if (skip(el)) continue;
            for (const a of ['aria-label', 'title', 'placeholder'])
                if (el.getAttribute(a)) parts.push(el.getAttribute(a));
        }
        parts.push(document.title);
        return parts.join(' ');
    }"""
    )


def _english_in(text: str) -> list[str]:
    """Each English word of ``text`` with a little of the text around it."""
    english = english_words()
    found = []
    for match in re.finditer(r"[A-Za-zÆØÅæøå]{2,}", text):
        if match.group().lower() in english:
            found.append(text[max(0, match.start() - 30) : match.end() + 30])
    return found


@pytest.mark.browser
def test_bokmaal_has_no_english_on_the_page(server, page):
    open_page(page, server[0] + "?lang=nb")
    seen = [_page_text(page)]
    page.hover(".introsim-lever-follow_up-caseload .introsim-lever-label")  # a tooltip
    page.wait_for_selector(".v-tooltip__content.menuable__content__active")
    seen.append(_page_text(page))
    page.get_by_role("tab", name=t("tab_watch", "nb")).click()
    page.wait_for_selector(".introsim-watch-week")
    wait_drawn(page, "cohort")
    seen.append(_page_text(page))
    page.get_by_role("tab", name=t("tab_share", "nb")).click()
    page.wait_for_selector(".introsim-link")
    seen.append(_page_text(page))
    assert _english_in(" | ".join(seen)) == []
    found = words(" ".join(seen))
    assert "kr" in found and "nok" not in found


@pytest.mark.browser
def test_bokmaal_numbers_use_a_decimal_comma(server, page):
    open_page(page, server[0] + "?lang=nb")
    words_nb = " ".join(lines(page))
    assert re.search(r"\d,\d\u00a0%", words_nb) and not re.search(r"\d\.\d", words_nb)
    assert "kr" in words_nb and "NOK" not in words_nb
    assert "Med samme forutsetninger havner resultatet" in words_nb


# --------------------------------------------------------------------------- export, links
def run_exported(page, folder, runs: int, over: bool) -> dict:
    """Download the exported files into ``folder``, run the page's command there; its JSON row.

    Args:
        page: A page showing a what-if.
        folder: Where to save the files (no presets, no scenarios folder beside them).
        runs: The page's runs per scenario.
        over: Whether the what-if ran over a posterior ensemble (its members are a third file).

    Returns:
        The what-if's row of the target outcome in ``introsim compare --json``.
    """
    page.get_by_role("tab", name=t("tab_share", "en")).click()
    folder.mkdir()
    labels = [t("download", "en"), t("download_reference", "en")]
    labels += [t("download_members", "en")] if over else []
    files = []
    for label in labels:
        with page.expect_download() as info:
            page.get_by_text(label).click()
        files.append(folder / info.value.suggested_filename)
        info.value.save_as(files[-1])
    whatif, reference, *members = files
    command = page.inner_text(".introsim-command")
    assert command == reproduce_command(
        reference.name,
        whatif.name,
        ENSEMBLE_REPLICATES if over else runs,
        members[0].name if members else None,
    )
    program, verb, *args = shlex.split(command)
    assert (program, verb) == ("introsim", "compare")
    res = run_cli(verb, *args, "--json", "--out", "out", cwd=folder, timeout=600)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)["outcomes"][TARGET_OUTCOME][whatif.stem]


@pytest.mark.browser
def test_the_exported_files_run_on_a_machine_without_the_presets(server, page, tmp_path):
    before = open_page(page, server[0])
    type_into(page, "follow_up.caseload", "15")
    wait_changed(page, before)
    headline = page.inner_text(".introsim-headline-0")
    row = run_exported(page, tmp_path / "elsewhere", REPLICATIONS, shipped_ensemble() is not None)
    assert f"{number(abs(100 * row['diff']), 'en')} percentage points" in headline

    link = page.get_attribute(".introsim-link", "href")
    assert "follow_up.caseload=15" in link
    assert open_page(page, link) == headline  # a fresh session, opened from the link alone
    value = page.inner_text(".introsim-lever-follow_up-caseload .introsim-lever-value")
    assert value.startswith("15")


@pytest.mark.browser
def test_a_hostile_link_is_refused_in_plain_words(server, page):
    huge = "7" * 5000
    query = (
        f"?replications=1000000&follow_up.caseload={huge}&wage_subsidy.rate=40"
        "&cohort.size=2000000&preset=%3Cscript%3E"
    )
    open_page(page, server[0] + query)
    problems = page.locator(".introsim-link-problem").all_inner_texts()
    assert len(problems) == 5, problems
    text = page.inner_text("body")
    for leak in ("Traceback", "site-packages", ".py", "/work", huge[:50]):
        assert leak not in text
    computed_for = page.inner_text(".introsim-computed-for")
    assert "no changes" in computed_for and f"{REPLICATIONS} runs" in computed_for


@pytest.mark.browser
def test_a_new_session_paints_the_result_in_words_before_it_asks_for_plotly(server, page):
    """The order a new page loads in: what the first result waits for, and what it does not.

    plotly.js keeps the browser busy for about a second, and the levers are most of the
    page's widgets: the page asks for both only once a frame with the result in words has
    been painted; the charts are drawn after. The two widget libraries are fetched once
    each and together, not the second after the first has run.
    """
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page.add_init_script(PAINT_MARKS_JS)
    page.add_init_script(
        """new MutationObserver(() => {
            if (!window.leversIn && document.querySelector('.introsim-lever'))
                window.leversIn = performance.now();
        }).observe(document, {subtree: true, childList: true})"""
    )
    page.goto(server[0])
    page.wait_for_function("() => window.introsimResultFrame")
    wait_drawn(page, "in_work", "status", "payers", "subgroups")
    page.wait_for_selector(".introsim-lever-replications")
    frame = page.evaluate("() => window.introsimResultFrame")
    assert page.evaluate("() => window.leversIn") > frame
    assert page.locator(".introsim-lever").count() == len(BY_PATH) + 1  # and the runs
    fetched = page.evaluate(
        """() => performance.getEntriesByType('resource')
        .filter(e => /plotly\\.min\\.js|nodeps\\.js/.test(e.name))
        .map(e => ({name: e.name, start: e.startTime, end: e.responseEnd}))"""
    )
    plotly = [f for f in fetched if "plotly.min.js" in f["name"]]
    assert len(plotly) == 1, fetched
    assert plotly[0]["start"] > frame  # asked for after the frame that paints the result
    libraries = sorted((f for f in fetched if "nodeps.js" in f["name"]), key=lambda f: f["start"])
    assert [f["name"].split("/")[-2] for f in libraries] == ["jupyter-vue", "jupyter-vuetify"]
    assert libraries[1]["start"] < libraries[0]["end"]  # together, not one after the other
    assert not [w for w in warnings if "preload" in w.lower()], warnings  # every preload used


@pytest.mark.browser
def test_work_for_a_closed_session_stops(server, browser):
    import psutil

    proc = psutil.Process(server[1])

    def cpu() -> float:
        """CPU seconds of the server and its workers so far."""
        total = sum(proc.cpu_times()[:2])
        for child in proc.children(recursive=True):
            try:
                total += sum(child.cpu_times()[:2])
            except psutil.NoSuchProcess:
                pass
        return total

    def ask(page, size: int) -> None:
        type_into(page, "replications", "20")
        wait_settled(page)
        type_into(page, "cohort.size", str(size))
        page.wait_for_selector(".introsim-computing")

    # What a what-if of 2 × 20 runs of 2,000 participants costs when its session stays.
    page = new_page(browser)
    open_page(page, server[0])
    start = cpu()
    ask(page, 2000)
    wait_settled(page)
    whole = cpu() - start
    page.context.close()
    # The same work (other runs: one participant fewer) for a session that goes away.
    page = new_page(browser)
    open_page(page, server[0])
    ask(page, 1999)
    page.context.close()  # the browser closed while its runs were under way
    closed = cpu()
    for _ in range(60):  # runs under way finish; then nothing more starts
        before = cpu()
        time.sleep(1.0)
        if cpu() - before < 0.1:
            break
    spent = cpu() - closed
    assert spent < whole / 3, (spent, whole)
    fresh = new_page(browser)  # and the server still answers
    try:
        open_page(fresh, server[0])
    finally:
        fresh.context.close()


@pytest.mark.browser
def test_over_a_posterior_the_page_says_how_likely_and_exports_the_members(browser, tmp_path):
    posterior = tmp_path / "posterior.toml"
    posterior.write_text(TEST_POSTERIOR, encoding="utf-8")
    proc, address = start_dashboard(
        str(PRESET), "--port", str(free_port()), "-r", "4", "--ensemble", str(posterior)
    )
    page = new_page(browser)
    try:
        before = open_page(page, address)
        computed_for = page.inner_text(".introsim-computed-for")
        assert "4 runs per scenario (2 of the 3 plausible sets of assumptions" in computed_for
        type_into(page, "follow_up.caseload", "15")
        wait_changed(page, before)
        target = page.inner_text(".introsim-line-target")
        assert target.startswith("Chance of reaching the municipal target of 55")
        assert "over 2 plausible sets of assumptions" in target
        assert "across 2 of the 3 plausible sets" in page.inner_text(".introsim-line-mechanisms")
        headline = page.inner_text(".introsim-headline-0")
        row = run_exported(page, tmp_path / "elsewhere", 4, over=True)
        assert f"{number(abs(100 * row['diff']), 'en')} percentage points" in headline
        assert not page.errors, page.errors
    finally:
        page.context.close()
        err = stop(proc)
    assert "Traceback" not in err, err[-3000:]


# --------------------------------------------------------------------------- watch one run
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
def test_watch_one_run_is_ready_at_once_and_pauses_exactly(server, page):
    expected = model_counts()
    later = next(w for w in range(2, len(expected)) if expected[w] != expected[1])
    open_page(page, server[0])
    page.get_by_role("tab", name=t("tab_watch", "en")).click()
    page.wait_for_selector(".introsim-watch-week")
    assert not page.query_selector(".introsim-computing")  # no computing for one run
    wait_drawn(page, "cohort")
    assert watched(page) == (0, expected[0])
    page.click(".introsim-step")
    page.wait_for_function(
        f"expected => {{ const s = ({WATCH_JS})(); return s !== null"
        " && s.week.startsWith('Week 1 of')"
        " && JSON.stringify(s.counts) === JSON.stringify(expected); }",
        arg=expected[1],
    )
    assert expected[1] != expected[0]  # the step changed the cohort's composition

    page.locator(".introsim-speed").click()  # the speed control
    page.get_by_role("option", name=t("weeks_per_second", "en", n=20)).click()
    page.click(".introsim-play")
    page.wait_for_function(
        "n => Number(document.querySelector('.introsim-watch-week').innerText"
        ".match(/(\\d+)/)[1]) >= n",
        arg=later,
    )
    # Pause, reading the week on the screen at the same moment.
    at_pause = page.evaluate(
        "() => { const w = document.querySelector('.introsim-watch-week').innerText;"
        " document.querySelector('.introsim-pause').click(); return w; }"
    )
    shown_week = int(re.match(r"Week (\d+) of", at_pause).group(1))
    page.wait_for_selector(".introsim-play")
    page.wait_for_timeout(1500)  # long enough for several weeks at 20 a second
    week, counts = watched(page)
    assert week == shown_week  # stopped where the room saw it stop
    assert counts == expected[week] and counts != expected[1]
    page.click(".introsim-step")  # and it goes on from there, one week
    # The week and each count are separate texts that arrive one by one: wait for the
    # whole state (a read between two of them once saw a count of the week before).
    page.wait_for_function(
        f"([w, expected]) => {{ const s = ({WATCH_JS})(); return s !== null"
        " && s.week.startsWith(`Week ${w + 1} of`)"
        " && JSON.stringify(s.counts) === JSON.stringify(expected); }",
        arg=[week, expected[week + 1]],
    )
    assert watched(page) == (week + 1, expected[week + 1])


# --------------------------------------------------------------------------- workshop mode
@pytest.mark.browser
def test_present_shows_the_what_if_in_large_type_and_a_picture_can_be_saved(server, page):
    from PIL import Image

    headline = open_page(page, server[0])
    with page.expect_download() as info:
        page.click(".introsim-snapshot")
    assert info.value.suggested_filename.startswith("introsim-baseline-")
    picture = Image.open(io.BytesIO(open(info.value.path(), "rb").read()))
    assert picture.format == "PNG" and picture.width == 1600 and picture.height > 2000
    grey = np.asarray(picture.convert("L"), dtype=float)
    assert grey.std() > 10  # words and charts, not a blank page

    page.click(".introsim-present-button")
    page.wait_for_selector(".introsim-present")
    wait_drawn(page, "in_work")
    assert page.inner_text(".introsim-present .introsim-headline-0") == headline
    assert not page.query_selector(".introsim-levers")
    size = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector("
        "'.introsim-present .introsim-headline-0')).fontSize)"
    )
    assert size >= 36
    assert covered(page) == []
    page.click(".introsim-present-exit")
    page.wait_for_selector(".introsim-levers")


# --------------------------------------------------------------------------- starting
def test_a_non_local_bind_is_refused_unless_asked():
    res = call_cli("dashboard", PRESET, "--host", "0.0.0.0", "--port", str(free_port()))
    assert res.returncode == 2
    lines_ = stderr_lines(res)
    assert len(lines_) == 1 and "--allow-remote" in lines_[0] and "0.0.0.0" in lines_[0]
    assert "Traceback" not in res.stderr


def test_a_non_local_bind_when_asked_says_so_and_names_the_addresses_it_answers_on():
    port = free_port()
    proc, address = start_dashboard(
        str(PRESET), "--host", "0.0.0.0", "--allow-remote", "--port", str(port), "-r", "2"
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
    one = tmp_path / "best.toml"
    one.write_text("[mechanisms]\nscore_noise = 0.5\n", encoding="utf-8")
    lever = tmp_path / "lever.toml"
    lever.write_text(
        '[[member]]\n"follow_up.caseload" = 10\n[[member]]\n"follow_up.caseload" = 20\n',
        encoding="utf-8",
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[member]]\n"cohort.size" = 100\n[[member]]\n"mechanisms.score_noise" = -1.0\n',
        encoding="utf-8",
    )
    preset = str(PRESET)
    for args, says in (
        ([preset, "--lang", "de"], "--lang"),
        ([preset, "--replications", "1"], "--replications"),
        ([preset, "--replications", "1000000"], "--replications"),
        ([str(tmp_path / "missing.toml")], "missing.toml"),
        ([preset, "--ensemble", str(tmp_path / "none.toml")], "none.toml"),
        ([preset, "--ensemble", str(one)], "two members or more"),
        ([preset, "--ensemble", str(lever)], "follow_up.caseload, which is a lever"),
        ([preset, "--ensemble", str(lever), "--no-ensemble"], "choose one"),
        ([preset, "--ensemble", str(bad)], "bad.toml"),
    ):
        res = call_cli("dashboard", *args, "--port", str(free_port()))
        assert res.returncode == 2, args
        assert len(stderr_lines(res)) == 1, res.stderr
        assert says in res.stderr, (args, res.stderr)
