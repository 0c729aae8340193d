"""``introsim dashboard`` in a real browser, for the tests and for the screenshots in docs/.

Debian's Chromium (``/usr/bin/chromium``), headless, driven by Playwright's Python
package; no browser is downloaded. The server is started as a user starts it, on a
free port. The browser tests (``tests/test_dashboard.py``) and ``make screenshots``
share this module: the tests keep their pictures in ``tests/artifacts/``, and
``make screenshots`` runs :func:`main`, which writes the same views to ``docs/``.

    python tests/dashboard_browser.py docs      # what `make screenshots` runs
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from browser_checks import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PRESET = ROOT / "scenarios" / "baseline.toml"
START_TIMEOUT_S = 300
"""The server computes its preset's runs before it answers; a busy shared machine is slow."""
PAGE_TIMEOUT_MS = 300_000

WHATIF = "follow_up.method=ips&follow_up.caseload=15"
"""The what-if the pictures show: IPS job specialists with 15 participants each."""
VIEWS: dict[str, dict[str, object]] = {
    # name: viewport, link parameters, picture name in docs/
    "desktop": {"viewport": (1400, 900), "query": WHATIF, "file": "dashboard.png"},
    "phone": {
        "viewport": (390, 844),
        "query": f"{WHATIF}&lang=nb",
        "file": "dashboard-phone.png",
    },
    "projector": {
        "viewport": (1920, 1080),
        "query": f"{WHATIF}&projector=1",
        "file": "dashboard-projector.png",
    },
}
"""The views a workshop meets: a laptop, a phone (in bokmål), a projector at 1920 × 1080."""


TEST_POSTERIOR = """\
[posterior]
about = "three parameter sets for the tests"

[[member]]
trial = 4
"mechanisms.score_noise" = 0.2
"programme.reactivation_rate" = 0.01

[[member]]
trial = 9
"mechanisms.score_noise" = 0.6
"programme.reactivation_rate" = 0.03

[[member]]
trial = 12
"mechanisms.score_noise" = 1.0
"programme.reactivation_rate" = 0.02
"""
"""A small posterior ensemble for the tests: three plausible sets of two mechanisms."""


def shipped_ensemble():
    """The posterior ensemble a dashboard started here runs over: the shipped one, or None."""
    from introsim.app.server import SHIPPED_POSTERIOR
    from introsim.params.ensemble_file import load_ensemble

    path = ROOT / SHIPPED_POSTERIOR
    return load_ensemble(path) if path.is_file() else None


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StartFailed(RuntimeError):
    """The dashboard did not start or did not answer."""


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
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()
    # A wildcard host is named as such, with the address to open on this machine.
    match = re.search(r"open (http://\S+)", line)
    if match is None:
        proc.kill()
        raise StartFailed(f"no address printed: {line!r} {proc.stderr.read()[-2000:]}")
    address = match.group(1)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartFailed(f"the dashboard exited: {proc.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(address, timeout=5) as response:
                if response.status == 200:
                    return proc, address
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise StartFailed(f"the dashboard did not answer at {address} within {START_TIMEOUT_S} s")


def stop(proc: subprocess.Popen[str]) -> str:
    """Stop a started dashboard; return what it wrote to stderr."""
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium, headless, via Playwright (closed on leaving)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, width: int = 1400, height: int = 900):
    """A page in a fresh context (a new session), recording its requests and console errors."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.requests = []
    page.errors = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


# A chart is drawn when plotly has laid out its traces at the width of its box:
# plotly's graph div keeps its data and its computed layout (``_fullLayout``).
DRAWN_JS = """names => names.every(name => {
    const gd = document.querySelector(`.introsim-chart-${name} .js-plotly-plot`);
    if (gd === null || !gd._fullLayout || !gd.data || gd.data.length === 0) return false;
    const svg = gd.querySelector('.main-svg');
    const width = gd.getBoundingClientRect().width;
    return svg !== null && width > 0 && Math.abs(gd._fullLayout.width - width) <= 1
        && gd.querySelectorAll('.trace').length > 0;
})"""

CHARTS = ("in_work", "status", "payers", "subgroups")


def wait_drawn(page, *names: str) -> None:
    """Wait until each named chart is drawn with its data and fills its box's width."""
    page.wait_for_function(DRAWN_JS, arg=list(names))


# When the result in words is painted. Each line of the headline card (the settings it is for,
# the headline numbers, the sentences saying how sure they are, ...) gets an ``elementtiming``
# mark as it enters the page, before it can be painted, and the browser reports when it painted
# each one (Element Timing). ``introsimResultFrame``: the page's time in the first animation
# frame after the headline entered the page (that frame is painted after its callbacks run).
# Added to a page before it opens (``page.add_init_script``).
PAINT_MARKS_JS = """(() => {
    const painted = window.introsimPainted = {};
    let n = 0;
    new PerformanceObserver(list => {
        for (const e of list.getEntries()) {
            if (!(e.identifier in painted)) painted[e.identifier] = e.renderTime || e.loadTime;
        }
    }).observe({type: 'element', buffered: true});
    new MutationObserver(() => {
        for (const el of document.querySelectorAll(
                '.introsim-headline-card .introsim-line:not([elementtiming]),'
                + ' .introsim-headline-card .introsim-computed-for:not([elementtiming])')) {
            el.setAttribute('elementtiming', `introsim-${n++}`);
            if (el.classList.contains('introsim-line-headline') && !window.introsimResultIn) {
                window.introsimResultIn = performance.now();
                requestAnimationFrame(() => { window.introsimResultFrame = performance.now(); });
            }
        }
    }).observe(document, {subtree: true, childList: true});
})()"""

# The page's time (ms since it began to load) when the last line of the result in words was
# painted: once the headline and its sentence of how sure it is are there and every line of
# the card has been painted; null before.
RESULT_PAINTED_JS = """() => {
    if (!window.introsimPainted) return null;
    const card = '.introsim-headline-card';
    if (!document.querySelector(`${card} .introsim-line-headline`)
        || !document.querySelector(`${card} .introsim-line-spread`)) return null;
    const lines = [...document.querySelectorAll(`${card} [elementtiming]`)];
    const times = lines.map(el => window.introsimPainted[el.getAttribute('elementtiming')]);
    if (times.some(t => t === undefined)) return null;
    return Math.max(...times);
}"""


def result_painted(page) -> float:
    """Wait until the result in words is painted; return when, in seconds since the epoch.

    The page must have :data:`PAINT_MARKS_JS` (added before it opened).
    """
    since_start = page.wait_for_function(RESULT_PAINTED_JS, polling="raf").json_value()
    return (page.evaluate("() => performance.timeOrigin") + since_start) / 1000


STILL_MS = 400
"""How long the result's words must stay the same to count as drawn (they arrive in parts)."""


def wait_settled(page) -> None:
    """Wait until no computation is under way, nothing is greyed, and the words stay put."""
    page.wait_for_function(
        "() => !document.querySelector('.introsim-computing')"
        " && !document.querySelector('.introsim-stale')"
    )
    page.wait_for_function(
        """ms => {
        const now = [...document.querySelectorAll('.introsim-line, .introsim-computed-for')]
            .map(e => e.innerText).join('|');
        const t = performance.now();
        if (window.introsimLast !== now) { window.introsimLast = now; window.introsimSince = t; }
        return t - window.introsimSince >= ms;
    }""",
        arg=STILL_MS,
        polling=100,
    )


def open_page(page, url: str) -> str:
    """Open the dashboard, wait for its result, every chart and the levers; return the headline."""
    page.goto(url)
    page.wait_for_selector(".introsim-headline-0")
    wait_settled(page)
    wait_drawn(page, *CHARTS)
    # The levers come once the rest is painted (hidden in a closed drawer on a phone).
    page.wait_for_selector(".introsim-lever-replications", state="attached")
    return page.inner_text(".introsim-headline-0")


# Whether anything covers a control or a chart: the element at the centre of each (and
# at its four inner corners) must be the element itself, inside it, or one of its own
# parents' own box (a label). Returns a sentence per covered element.
COVERED_JS = r"""
(selector) => {
  const problems = [];
  const name = (el) => {
    const cls = (el.getAttribute('class') || '').split(/\s+/).slice(0, 3).join('.');
    return `${el.tagName.toLowerCase()}.${cls} "${(el.innerText || '').trim().slice(0, 30)}"`;
  };
  const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    if (r.width < 2 || r.height < 2 || s.visibility === 'hidden' || s.display === 'none') continue;
    if (el.closest('.introsim-levers') && getComputedStyle(el.closest('.introsim-levers'))
        .visibility === 'hidden') continue;
    const points = [[0.5, 0.5], [0.1, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9]];
    for (const [fx, fy] of points) {
      const x = r.left + fx * r.width, y = r.top + fy * r.height;
      if (x < 0 || y < 0 || x >= vw || y >= vh) continue;  // off screen: scrolled to later
      const top = document.elementFromPoint(x, y);
      if (top === null || el.contains(top) || top.contains(el)) continue;
      // Parts of one widget (a switch's ripple over its input, plotly's layers) are one.
      const widget = (e) => e.closest('.v-input, .v-btn, .js-plotly-plot, .v-tab');
      if (widget(el) !== null && widget(el) === widget(top)) continue;
      const at = `(${Math.round(x)}, ${Math.round(y)})`;
      problems.push(`${name(el)} is covered at ${at} by ${name(top)}`);
      break;
    }
  }
  return problems;
}
"""

CONTROLS = (
    "button, input, [role=slider], .v-select__slot, .introsim-lever-value, .introsim-line,"
    " .introsim-computed-for, .introsim-chart .main-svg, .v-tab"
)
"""What a person reads or touches: none of it may be covered by anything else."""


def covered(page, selector: str = CONTROLS) -> list[str]:
    """Controls, texts and charts on the screen now that something else covers."""
    return page.evaluate(COVERED_JS, selector)


def covered_anywhere(page, selector: str = CONTROLS) -> list[str]:
    """As :func:`covered`, scrolling the results through the whole page."""
    problems: list[str] = []
    height = page.evaluate("() => document.scrollingElement.scrollHeight")
    view = page.viewport_size["height"]
    for top in range(0, max(1, height), max(200, view - 100)):
        page.evaluate("y => window.scrollTo(0, y)", top)
        page.wait_for_timeout(50)
        problems += [p for p in covered(page, selector) if p not in problems]
    page.evaluate("() => window.scrollTo(0, 0)")
    return problems


def sideways(page) -> int:
    """How far the page scrolls sideways, in CSS pixels (0: it fits its width)."""
    return page.evaluate(
        "() => document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
    )


def show_view(browser, address: str, name: str):
    """Open one of :data:`VIEWS` in a new session and wait until it is drawn; return the page."""
    view = VIEWS[name]
    width, height = view["viewport"]
    page = new_page(browser, width, height)
    query = str(view["query"])
    open_page(page, address + ("?" + query if query else ""))
    return page


def take_views(address: str, folder: Path) -> dict[str, Path]:
    """Pictures of every view in :data:`VIEWS`, written to ``folder``; their paths by view."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    with chromium() as browser:
        for name, view in VIEWS.items():
            page = show_view(browser, address, name)
            out[name] = folder / str(view["file"])
            page.screenshot(path=str(out[name]), full_page=False)
            page.context.close()
    return out


def main(argv: list[str]) -> int:
    """Write the dashboard's pictures (desktop, phone, projector) to the folder named."""
    if len(argv) != 1:
        print("usage: python tests/dashboard_browser.py FOLDER", file=sys.stderr)
        return 2
    proc, address = start_dashboard(str(PRESET), "--port", str(free_port()))
    try:
        for name, path in take_views(address, Path(argv[0])).items():
            print(f"{name}: {path}")
    finally:
        stop(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
