"""The reports in a real browser: Debian's Chromium, headless, offline.

Checks that every chart div holds an SVG that plotly drew (so plotly.js loaded
from the file itself and ran without error), and keeps a full-page screenshot in
tests/artifacts/ for a human to look at. The accessibility and layout checks of
``browser_checks.check_report`` run on the compare, sweep and sensitivity reports at desktop
and phone widths. ``make test`` installs Chromium; without it these tests fail
when CI=true and are skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from browser_checks import WIDTHS, check_report, text_of
from introsim.reporting.compare_report import SECTIONS, write_report

from clitools import run_cli, write

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


def chromium() -> str:
    """Path of Chromium, or fail (on CI) / skip (elsewhere) with a clear message."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    message = (
        "Chromium is not installed: run `make browser` "
        "(apt-get install chromium chromium-driver) to run the browser test"
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def headless(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


class ChartSvgs(HTMLParser):
    """Record, for each element with id ``chart-*``, whether it contains ``svg.main-svg``."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []  # chart id of each open element that is a chart div
        self.charts: dict[str, bool] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        ident = a.get("id") or ""
        if tag == "svg" and "main-svg" in (a.get("class") or "").split():
            for chart in self.stack:
                if chart is not None:
                    self.charts[chart] = True
        if tag in VOID:
            return
        if ident.startswith("chart-"):
            self.charts.setdefault(ident, False)
            self.stack.append(ident)
        else:
            self.stack.append(None)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)
        else:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()


@pytest.mark.browser
def test_report_renders_every_chart_offline(small_comparison, tmp_path):
    binary = chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    report = write_report(small_comparison, ARTIFACTS / "report.html")
    url = report.resolve().as_uri()

    dom = headless(binary, tmp_path / "p1", "--virtual-time-budget=10000", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    parser = ChartSvgs()
    parser.feed(dom.stdout)
    assert sorted(parser.charts) == sorted(f"chart-{s}" for s in SECTIONS), parser.charts
    missing = [chart for chart, drawn in parser.charts.items() if not drawn]
    assert not missing, f"plotly drew nothing in {missing}"

    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    res = headless(
        binary,
        tmp_path / "p2",
        "--virtual-time-budget=10000",
        f"--screenshot={shot}",
        "--window-size=1400,4000",
        url,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert shot.stat().st_size > 50_000  # a page of charts, not a blank one
    print(f"report screenshot: {shot}")


@pytest.mark.browser
def test_compare_report_is_accessible_at_desktop_and_phone_widths(small_comparison):
    chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    report = write_report(small_comparison, ARTIFACTS / "compare-a11y" / "report.html")
    problems = check_report(report, WIDTHS, screenshots=ARTIFACTS / "compare-a11y")
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_dominant_scenario_cost_line_reads_dominant(dominant_comparison):
    chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    report = write_report(dominant_comparison, ARTIFACTS / "dominant" / "report.html")
    problems = check_report(report, WIDTHS)
    assert not problems, "\n".join(problems)
    lines = text_of(report, '.versus[data-scenario="ips"] .cost-line')
    assert len(lines) == 1 and "dominant" in lines[0], lines
    cells = text_of(report, 'tr[data-outcome="cost_per_extra_person_year_nok"] td.status')
    assert cells and all("dominant" in c for c in cells), cells
    chart = text_of(report, "#chart-value .annotation-text")
    assert any("dominant" in t for t in chart), chart


TINY_GRID = """\
[experiment]
name = "tiny_grid"
question = "Does the caseload matter in a small cohort?"
base = "base.toml"
replications = 2
seed = 11
design = "grid"

[factors]
"follow_up.caseload" = { levels = [10, 30] }
"wage_subsidy.rate" = { levels = [0.0, 0.4] }
"""


def _command_report_passes(command: str, text: str, small_files, tmp_path: Path) -> None:
    """Run ``introsim COMMAND`` on an experiment file over the small cohort; check its report."""
    chromium()
    write(tmp_path, "base.toml", small_files["base"].read_text(encoding="utf-8"))
    study = write(tmp_path, f"{command}.toml", text)
    out = tmp_path / command
    res = run_cli(command, study, "--out", out, timeout=600)
    assert res.returncode == 0, res.stderr
    problems = check_report(out / "report.html", WIDTHS, screenshots=ARTIFACTS / f"{command}-a11y")
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_sweep_report_is_accessible_at_desktop_and_phone_widths(small_files, tmp_path):
    _command_report_passes("sweep", TINY_GRID, small_files, tmp_path)


@pytest.mark.browser
def test_sensitivity_report_is_accessible_at_desktop_and_phone_widths(small_files, tmp_path):
    from test_sensitivity import MORRIS

    _command_report_passes("sensitivity", MORRIS, small_files, tmp_path)
