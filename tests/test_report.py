"""The HTML report: one chart per section, self-contained, readable numbers."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from introsim.reporting.compare_report import (
    SECTIONS,
    format_diff,
    format_interval,
    format_number,
    format_value,
    report_html,
    write_report,
)


@pytest.fixture(scope="module")
def page(small_comparison) -> str:
    manifest = {
        "git_commit": "abc123",
        "packages": {"introsim": "9.9.9", "numpy": "2"},
        "scenarios": [{"name": "base", "path": "scenarios/base.toml"}],
        "command": "introsim compare a.toml b.toml",
        "jobs": 2,
        "wall_time_s": 1.5,
    }
    return report_html(small_comparison, manifest)


def test_one_chart_per_section(page):
    ids = re.findall(r'<div id="(chart-[a-z]+)" class="plotly-graph-div', page)
    assert ids == [f"chart-{s}" for s in SECTIONS]
    for section in SECTIONS:
        assert page.count(f'id="chart-{section}"') == 1
        assert re.search(rf'Plotly\.newPlot\(\s*"chart-{section}"', page)


def test_self_contained(page):
    scripts = re.findall(r"<script\b[^>]*>", page, flags=re.I)
    assert scripts and not any("src=" in s.lower() for s in scripts)
    assert not re.search(r"<link\b[^>]*href=[\"']?https?:", page, flags=re.I)
    assert not re.search(r"<(img|iframe)\b[^>]*src=[\"']?https?:", page, flags=re.I)
    assert "cdn.plot.ly" not in re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)
    assert page.count("Plotly.newPlot(") >= len(SECTIONS)
    assert len(page) > 3_000_000  # plotly.js is inline, once
    assert len(page) < 8_000_000


def test_summary_table_and_footer(page, small_comparison):
    c = small_comparison
    for name in c.names:
        assert f"{name} compared with {c.reference}" in page or name == c.reference
    assert "How to read this report" in page
    assert "<code>employed_12m</code>" in page and "<code>extra_employed_12m</code>" in page
    assert f"root seed {c.root_seed}" in page
    assert c.digests[1][:16] in page and "abc123" in page and "introsim 9.9.9" in page
    assert "scenarios/base.toml" in page


def test_names_are_escaped(small_comparison, tmp_path):
    odd = replace(small_comparison, names=("base", "<b>ips</b>", "a&b"))
    table = odd.table.copy()
    table["scenario"] = table["scenario"].replace({"ips": "<b>ips</b>", "caseload_10": "a&b"})
    weekly = odd.weekly.copy()
    weekly["scenario"] = weekly["scenario"].replace({"ips": "<b>ips</b>", "caseload_10": "a&b"})
    odd = replace(odd, table=table, weekly=weekly)
    path = write_report(odd, tmp_path / "r" / "report.html")
    text = path.read_text(encoding="utf-8")
    assert "&lt;b&gt;ips&lt;/b&gt; compared with base" in text and "a&amp;b" in text
    assert "<b>ips</b> compared" not in text


def test_formatting():
    assert format_value("employed_12m", 0.4213) == "42.1 %"
    assert format_diff("employed_12m", 0.089) == "+8.9 pp"
    assert format_diff("employed_12m", -0.0001) == "+0.0 pp"  # never "-0.0"
    assert format_value("cost_per_participant_nok", 472829.2) == "472 829 NOK"
    assert format_diff("cost_per_extra_job_nok", -87690.4) == "−87 690 NOK"
    assert format_number("months_employed_24m", 2.0, signed=True) == "+2.0"
    assert format_value("employed_12m", float("nan")) == "–"
    assert format_interval("employed_12m", 0.1, float("nan")) == ""
    assert format_interval("employed_12m", -0.02, 0.03, signed=True) == "[−2.0, +3.0]"
