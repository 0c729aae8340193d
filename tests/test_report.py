"""The HTML report: one chart per section, self-contained, readable numbers."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from introsim.reporting.compare_report import SECTIONS, report_html, write_report
from introsim.reporting.format import format_diff, format_interval, format_number, format_value


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
    for name in c.names[1:]:
        assert f"{c.title(name)} compared with {c.title(c.reference)}" in page
    assert "How to read this report" in page
    assert "<code>employed_12m</code>" in page and "<code>extra_employed_12m</code>" in page
    assert f"root seed {c.root_seed}" in page
    assert c.digests[1][:16] in page and "abc123" in page and "introsim 9.9.9" in page
    assert "scenarios/base.toml" in page


def test_scenarios_are_called_by_their_names_and_described_in_prose(page, small_comparison):
    c = small_comparison
    assert [c.title(n) for n in ("base", "ips", "caseload_10")] == ["base", "ips", "caseload_10"]
    assert c.description("base") == "Small test cohort: standard follow-up"
    assert c.description("ips") == "IPS job specialists"
    heading = re.search(r"<h1>(.*?)</h1>", page, flags=re.S).group(1)
    assert "ips" in heading and "IPS job specialists" not in heading
    body = page.split("<footer>")[0]
    legends = re.findall(r'"name":"([^"]*)"', body)
    assert "ips" in legends and "IPS job specialists" not in legends
    footer = page.split("<footer>")[1]
    assert "<code>ips</code> (IPS job specialists)" in footer  # the description in prose


def test_charts_have_text_alternatives_and_csv_links(page):
    figures = re.findall(r'<figure class="chart-wrap"[^>]*aria-label="([^"]+)"', page)
    assert len(figures) == len(SECTIONS) and all(len(f) > 40 for f in figures)
    assert page.count('<figcaption class="sr-only">') == len(SECTIONS)
    for name in ("comparison.csv", "replicates.csv", "weekly.csv", "subgroups.csv"):
        assert f'href="{name}"' in page


def test_programme_end_is_marked_and_explained(page, small_comparison):
    c = small_comparison
    assert "programme ends" in page
    assert f"weeks {c.programme_weeks[0]} to {c.programme_weeks[0]}" in page
    assert "maximum length" in page


def test_clear_differences_carry_a_symbol(page):
    assert re.search(r'<td class="num good"><span class="mark" aria-hidden="true">✓</span>', page)
    assert '<span class="sr-only">clearly better: </span>' in page


def test_a_dominant_scenario_reads_dominant(dominant_comparison):
    page = report_html(dominant_comparison)
    line = re.search(r'<span class="cost-line" data-status="(\w+)">(.*?)</p>', page)
    assert line and line.group(1) == "dominant"
    assert re.sub(r"<[^>]+>", "", line.group(2)).endswith("it is ✓ dominant (cheaper and better).")
    cells = re.findall(r'<td class="num status good" data-status="dominant">', page)
    assert len(cells) == 2  # per person-year and the 12-month figure
    assert "−" not in page.split('data-outcome="cost_per_extra_person_year_nok"')[1][:400]


def test_a_built_table_renders_each_status(small_comparison):
    # Statuses that the small comparison does not produce, set directly in its table.
    t = small_comparison.table.copy()
    ratio = (t["outcome"] == "cost_per_extra_person_year_nok") & (t["scenario"] == "ips")
    t.loc[ratio, "status"] = "dominated"
    page = report_html(replace(small_comparison, table=t))
    assert 'data-status="dominated"' in page and "✗ " in page
    t.loc[ratio, ["status", "diff", "diff_low", "diff_high"]] = ["ratio", 250_000.0, 1e5, 4e5]
    page = report_html(replace(small_comparison, table=t))
    assert "250 000 NOK per extra person-year in work" in page


def test_names_are_escaped(small_comparison, tmp_path):
    odd = replace(small_comparison, names=("base", "<b>ips</b>", "a&b"), descriptions=())
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


def test_a_calibration_caveat_is_noted_next_to_its_scenario(small_comparison):
    from introsim.params.calibration_file import Caveat

    cav = Caveat(
        target="ips_made_up_target",
        description="IPS specialists find jobs for the hardest-to-place",
        source="A hand-made study, 2024",
        scenarios=("ips", "not_compared"),
        statistics=("employed_12m",),
    )
    elsewhere = Caveat("other", "A target about other scenarios", "Another source", ("x",), ("y",))
    html = report_html(small_comparison, caveats=[elsewhere, cav])
    notes = re.findall(
        r'<li id="caveat-(\d+)" data-target="([^"]+)" data-scenarios="([^"]+)"', html
    )
    assert notes == [("1", "ips_made_up_target", "ips")]
    assert "A hand-made study, 2024" in html and "hardest-to-place" in html
    assert "A target about other scenarios" not in html
    ips = re.escape(small_comparison.title("ips"))
    # The mark sits in both of the scenario's column heads and on the outcome's row.
    assert len(re.findall(ips + r' <a class="caveat-mark" href="#caveat-1"', html)) == 2
    assert re.search(r'<td class="label">[^<]*<a class="caveat-mark" href="#caveat-1"', html)
    base = re.escape(small_comparison.title("base"))
    assert not re.search(base + r' <a class="caveat-mark"', html)


def test_no_caveat_when_every_target_is_met(small_comparison):
    html = report_html(small_comparison, caveats=[])
    assert "Calibration caveats" not in html and '<a class="caveat-mark"' not in html
