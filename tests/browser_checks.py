"""Accessibility and layout checks of an HTML report in headless Chromium (Playwright).

:func:`check_report` opens a report at each width and returns every problem it
finds, as sentences; an empty list means the report passed. What it checks, at
each width:

* every chart (``div[id^=chart-]``) holds an ``svg.main-svg`` that plotly drew;
* every chart has a text alternative: an enclosing ``figure`` with a non-empty
  ``aria-label`` and a non-empty ``figcaption``;
* nothing sticks out of the viewport sideways (the page itself does not scroll
  sideways, and no element's box passes the right edge) except inside a table
  scroll container (``.table-wrap``); a container that does overflow shows its
  cue (its ``.scroll-box`` has class ``overflows`` and the "scroll →" hint is
  displayed), and one that does not overflow hides the hint;
* within each chart, no two of the title (``.gtitle``), the legend
  (``.legend``'s background box), the subplot titles and other annotations, the
  axis titles and a drop-down menu overlap, and none of them is cut off at the
  chart's edges.

Browser: Debian's ``/usr/bin/chromium`` (no browser download); without it the
caller skips or fails (see ``tests/test_browser.py``).
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
WIDTHS: tuple[int, ...] = (1400, 390)
"""Desktop and phone widths, in CSS pixels."""

# Runs in the page; returns a list of problems (strings).
_CHECKS = r"""
() => {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  const box = (el) => el.getBoundingClientRect();
  const visible = (el) => {
    const r = box(el);
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const name = (el) => {
    const cls = (el.getAttribute('class') || '').split(/\s+/).slice(0, 2).join('.');
    const txt = (el.textContent || '').trim().slice(0, 40);
    return `${el.tagName.toLowerCase()}${cls ? '.' + cls : ''} "${txt}"`;
  };

  // 1. charts drawn, 2. text alternatives
  const charts = [...document.querySelectorAll('div[id^="chart-"]')];
  if (!charts.length) problems.push('no chart found');
  for (const c of charts) {
    if (!c.querySelector('svg.main-svg')) problems.push(`${c.id}: plotly drew no svg`);
    const fig = c.closest('figure');
    const label = fig && (fig.getAttribute('aria-label') || '').trim();
    const caption = fig && fig.querySelector('figcaption');
    if (!label || !caption || !caption.textContent.trim()) {
      problems.push(`${c.id}: no text alternative (figure aria-label and figcaption)`);
    }
  }

  // 3. horizontal overflow, scroll cues
  const doc = document.scrollingElement;
  if (doc.scrollWidth > vw + 1) {
    problems.push(`the page scrolls sideways (${doc.scrollWidth} > ${vw} px)`);
  }
  for (const wrap of document.querySelectorAll('.table-wrap')) {
    const over = wrap.scrollWidth > wrap.clientWidth + 1;
    const sbox = wrap.closest('.scroll-box');
    const hint = sbox && sbox.querySelector('.scroll-hint');
    const shown = !!hint && visible(hint);
    if (over && !(sbox && sbox.classList.contains('overflows') && shown)) {
      problems.push(`a table scrolls sideways without a visible cue (${name(wrap)})`);
    }
    if (!over && shown) problems.push(`a scroll hint shows on a table that fits (${name(wrap)})`);
  }
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.table-wrap') || el.closest('.sr-only')) continue;
    const outer = el.closest('svg');
    if (outer && outer !== el) continue;  // an svg's own box counts, not its clipped parts
    if (!visible(el)) continue;
    const r = box(el);
    // Wholly off to the left is a deliberate hiding place (plotly's text tester), not overflow.
    if (r.right > vw + 1 || (r.left < -1 && r.right > 0)) {
      const span = `${Math.round(r.left)} to ${Math.round(r.right)}`;
      problems.push(`${name(el)} sticks out of the ${vw} px viewport (${span})`);
    }
  }

  // 4. titles, legends, annotations and menus: no overlap, not cut off
  for (const c of charts) {
    const svg = c.querySelector('svg.main-svg');
    if (!svg) continue;
    const frame = box(c);
    const items = [];
    const add = (el, what) => { if (el && visible(el)) items.push([what, el, box(el)]); };
    c.querySelectorAll('.gtitle').forEach((el) => add(el, 'title'));
    c.querySelectorAll('g.legend rect.bg').forEach((el) => add(el, 'legend'));
    c.querySelectorAll('g.annotation-text-g').forEach((el) => add(el, 'annotation'));
    c.querySelectorAll('g.updatemenu-header-group').forEach((el) => add(el, 'menu'));
    c.querySelectorAll('g[class^="g-x"][class$="title"], g[class^="g-y"][class$="title"]')
      .forEach((el) => add(el, 'axis title'));
    for (let i = 0; i < items.length; i++) {
      const [what, el, r] = items[i];
      if (r.left < frame.left - 1 || r.right > frame.right + 1) {
        problems.push(`${c.id}: ${what} ${name(el)} is cut off at the chart's edge`);
      }
      for (let j = i + 1; j < items.length; j++) {
        const [what2, el2, q] = items[j];
        const w = Math.min(r.right, q.right) - Math.max(r.left, q.left);
        const h = Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top);
        if (w > 1 && h > 1) {
          problems.push(`${c.id}: ${what} ${name(el)} overlaps ${what2} ${name(el2)}`);
        }
      }
    }
  }
  return problems;
}
"""


_SETTLED = """
() => [...document.querySelectorAll('div[id^="chart-"]')].every((d) => {
  const svg = d.querySelector('svg.main-svg');
  return svg && svg.getBoundingClientRect().width <= d.getBoundingClientRect().width + 1;
})
"""


def check_report(
    path: str | Path, widths: tuple[int, ...] = WIDTHS, screenshots: Path | None = None
) -> list[str]:
    """Open a report in headless Chromium at each width and list what is wrong with it.

    Args:
        path: The report's HTML file.
        widths: Viewport widths in CSS pixels.
        screenshots: Folder for a full-page screenshot per width (None: none).

    Returns:
        One sentence per problem, each prefixed with the width; empty if none.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    url = Path(path).resolve().as_uri()
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width in widths:
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(url, wait_until="load")
                page.wait_for_function(
                    "() => [...document.querySelectorAll('div[id^=\"chart-\"]')]"
                    ".every(d => d.querySelector('svg.main-svg'))",
                    timeout=30_000,
                )
                # Let plotly's responsive relayout settle: each chart's svg no wider than
                # its box. A chart still too wide after that is reported below.
                try:
                    page.wait_for_function(_SETTLED, timeout=5_000)
                except PlaywrightTimeout:
                    pass
                page.wait_for_timeout(200)
                problems += [f"{width} px: {p}" for p in page.evaluate(_CHECKS)]
                if screenshots is not None:
                    screenshots.mkdir(parents=True, exist_ok=True)
                    shot = screenshots / f"{Path(path).stem}-{width}.png"
                    page.screenshot(path=str(shot), full_page=True)
                page.close()
        finally:
            browser.close()
    return problems


def text_of(path: str | Path, selector: str, width: int = WIDTHS[0]) -> list[str]:
    """The text of every element matching ``selector`` in a report (SVG text included)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(Path(path).resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(300)
            texts = page.locator(selector).evaluate_all("els => els.map(e => e.textContent)")
            return [t.strip() for t in texts]
        finally:
            browser.close()
