"""The comparison report's words: what it calls clear, the units it names, the ranges it labels."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pandas as pd
import pytest

from introsim.model.ledger import LEDGER_PAYERS, net_cost_name
from introsim.reporting.compare_report import report_html


def _set(table: pd.DataFrame, scenario: str, outcome: str, **columns: object) -> None:
    """Set columns of one (scenario, outcome) row of a comparison table in place."""
    row = (table["scenario"] == scenario) & (table["outcome"] == outcome)
    assert row.sum() == 1
    for column, value in columns.items():
        table.loc[row, column] = value


def _versus(page: str, scenario: str) -> str:
    """The summary block of one compared scenario, as text without tags."""
    start = f'<div class="versus" data-scenario="{scenario}">'
    block = re.search(re.escape(start) + r"(.*?)</ul></div>", page, re.S)
    assert block
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", block.group(1))))


@pytest.fixture(scope="module")
def unclear_page(small_comparison) -> str:
    """The small comparison with every headline difference of ips spanning zero."""
    t = small_comparison.table.copy()
    _set(t, "ips", "extra_employed_12m", diff=1.0, diff_low=-1.8, diff_high=2.8)
    _set(t, "ips", "extra_person_years_in_work", diff=-5.8, diff_low=-13.6, diff_high=2.1)
    _set(t, "ips", "cost_per_participant_nok", diff=-1000.0, diff_low=-5000.0, diff_high=3000.0)
    _set(t, "ips", "cost_per_extra_person_year_nok", status="no clear gain")
    for payer in LEDGER_PAYERS:
        _set(t, "ips", net_cost_name(payer), diff=-500.0, diff_low=-4000.0, diff_high=3000.0)
    return report_html(replace(small_comparison, table=t))


def test_the_summary_shows_no_python_object(unclear_page):
    assert "built-in method" not in unclear_page
    assert " object at 0x" not in unclear_page


def test_differences_whose_interval_spans_zero_are_not_called_clear(unclear_page):
    text = _versus(unclear_page, "ips")
    assert "the number in work 12 months after the start is not clearly different" in text
    assert "of every 200 participants are in work 12 months after they start" not in text
    assert "5.8 fewer person-years in work, not a clear difference" in text
    assert "Its cost per participant is not clearly different." in text
    assert "no net cost clearly differs" in text
    assert "It costs the public purse" not in text


def test_clear_differences_are_called_clear(small_comparison):
    t = small_comparison.table.copy()
    _set(t, "ips", "extra_employed_12m", diff=12.0, diff_low=8.0, diff_high=16.0)
    _set(t, "ips", "extra_person_years_in_work", diff=20.0, diff_low=10.0, diff_high=30.0)
    _set(t, "ips", "net_cost_pv_public_nok", diff=9000.0, diff_low=5000.0, diff_high=13000.0)
    text = _versus(report_html(replace(small_comparison, table=t)), "ips")
    assert "about 12 more of every 200 participants are in work 12 months after" in text
    assert "20.0 more person-years in work (" in text
    assert re.search(r"it costs [^;.]*public purse 9 000 NOK more per participant", text)


def test_the_summary_names_each_unit_once(small_comparison):
    page = report_html(small_comparison)
    for name in small_comparison.names[1:]:
        text = _versus(page, name)
        assert "percentage points higher percentage points" not in text
        assert "percentage points lower percentage points" not in text
        assert not re.search(r"NOK (higher|lower) NOK", text)
        assert re.search(r"(percentage points|NOK|\d) (higher|lower) \(95 % ranges", text)


def test_a_key_named_like_a_dict_method_is_the_key():
    from introsim.reporting.html import _environment

    template = _environment().from_string(
        "{{ d.clear }} {{ d.items }} {{ d.get }} "
        "{% for k, v in e.items() %}{{ k }}{{ v }}{% endfor %}"
    )
    assert template.render(d={"clear": False, "items": 3, "get": "x"}, e={"a": 1}) == "False 3 x a1"


@pytest.fixture(scope="module")
def ensemble_page(small_comparison) -> str:
    """ips against base as if over 20 parameter sets: the simulation sure, the mechanisms not."""
    t = small_comparison.table.copy()
    for name in ("base", "ips", "caseload_10"):
        _set(t, name, "net_cost_pv_nav_nok", parameter_low=1000.0, parameter_high=90_000.0)
    _set(t, "ips", "employed_12m", diff=0.05, diff_low=0.03, diff_high=0.07)
    _set(t, "ips", "employed_12m", diff_parameter_low=-0.01, diff_parameter_high=0.11)
    _set(t, "ips", "extra_person_years_in_work", diff=440.0, diff_low=397.7, diff_high=482.4)
    _set(t, "ips", "extra_person_years_in_work", diff_parameter_low=83.7)
    _set(t, "ips", "extra_person_years_in_work", diff_parameter_high=873.7)
    _set(t, "ips", "cost_per_participant_nok", diff=-17_875.0, diff_low=-20_000.0)
    _set(t, "ips", "cost_per_participant_nok", diff_high=-15_000.0)
    _set(t, "ips", "cost_per_participant_nok", diff_parameter_low=-69_051.0)
    _set(t, "ips", "cost_per_participant_nok", diff_parameter_high=24_255.0)
    _set(t, "ips", "cost_per_extra_person_year_nok", status="no clear extra cost")
    for payer in LEDGER_PAYERS:
        _set(t, "ips", net_cost_name(payer), diff=-20_000.0, diff_low=-22_917.0)
        _set(t, "ips", net_cost_name(payer), diff_high=-17_992.0)
        _set(t, "ips", net_cost_name(payer), diff_parameter_low=-45_952.0)
        _set(t, "ips", net_cost_name(payer), diff_parameter_high=220.0)
    for payer in LEDGER_PAYERS:
        payback = f"payback_year_{payer}"
        _set(t, "ips", payback, status="never dearer", diff=0.0, diff_low=0.0, diff_high=0.0)
        _set(t, "ips", payback, diff_parameter_low=0.0, diff_parameter_high=float("nan"))
    ensemble = {"members": 20, "file": "posterior.toml"}
    return report_html(replace(small_comparison, table=t, ensemble=ensemble))


def _cells(page: str, marker: str) -> list[tuple[str, str]]:
    """The cells of the table row that starts with ``marker``: each its class and its text."""
    row = re.search(re.escape(marker) + r"(.*?)</tr>", page, re.S)
    assert row
    cells = re.findall(r'<td class="([^"]*)"[^>]*>(.*?)</td>', row.group(1), re.S)
    return [
        (cls, html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", x)).strip()))
        for cls, x in cells
    ]


def test_under_an_ensemble_the_summary_judges_and_labels_by_the_mechanisms(ensemble_page):
    text = _versus(ensemble_page, "ips")
    assert "440.0 more person-years in work (95 %, mechanisms' range: 83.7 to 873.7)" in text
    assert "397.7" not in text
    assert "It costs the public purse" not in text  # its cost is not clearly different
    assert "no net cost clearly differs" in text
    assert "never dearer (95 %, mechanisms' range: the start to after year 2)" in text


def test_under_an_ensemble_the_tables_judge_and_label_by_the_mechanisms(ensemble_page):
    # base, ips, caseload_10, ips − base, caseload_10 − base
    employed = _cells(ensemble_page, "<code>employed_12m</code></td>")
    assert employed[3] == ("num ", "+5.0 pp [−1.0, +11.0]")  # no mark, no colour
    # NAV; base, ips, caseload_10; ips − base: difference, ratio, payback; caseload_10's
    nav = _cells(ensemble_page, '<tr data-payer="nav">')
    assert nav[1][1].endswith("[1 000, 90 000] mechanisms' range")
    assert nav[4] == ("num", "−20 000 NOK [−45 952, +220] mechanisms' range")  # not strong
    assert "never dearer (95 %, mechanisms' range: the start to after year 2)" in nav[6][1]
    notes = [
        html.unescape(x) for x in re.findall(r'<p class="table-note">(.*?)</p>', ensemble_page)
    ]
    assert "95 % mechanisms' range: 95 % of the 20 plausible parameter sets" in notes[0]


def test_without_an_ensemble_every_interval_says_it_covers_the_simulation_only(small_comparison):
    page = report_html(small_comparison)
    notes = re.findall(r'<p class="table-note">(.*?)</p>', html.unescape(page))
    assert "95 % interval, simulation only: it covers the simulation's randomness" in notes[0]
    for name in small_comparison.names[1:]:
        assert "person-years in work" not in _versus(page, name) or re.search(
            r"person-years in work(, not a clear difference)? \(95 %, simulation only: ",
            _versus(page, name),
        )
    nav = _cells(page, '<tr data-payer="nav">')
    assert nav[1][1].endswith("] simulation only") and nav[4][1].endswith("] simulation only")
    assert "] mechanisms' range" not in html.unescape(page)
