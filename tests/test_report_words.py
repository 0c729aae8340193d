"""The comparison report's words: what it calls clear, the units it names, the ranges it labels."""

from __future__ import annotations

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
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", block.group(1)))


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
