"""Verdicts of a comparison or a sweep over a posterior ensemble rest on the mechanisms' range."""

from __future__ import annotations

import numpy as np
import pandas as pd

from introsim.experiments.compare import PERSON_YEARS, REPLICATE_OUTCOMES, _comparison_table
from introsim.model.ledger import MAX_YEARS, PERSON_YEARS_PV, net_cost_name, year_name

COL = {o: j for j, o in enumerate(REPLICATE_OUTCOMES)}


def _table(members: int, cost_by_member: np.ndarray) -> pd.DataFrame:
    """Two scenarios; b is clearly better in work, its cost differs from a's by member."""
    rng = np.random.default_rng(1)
    grid = 0.5 + 0.001 * rng.standard_normal((2, members, 3, len(REPLICATE_OUTCOMES)))
    cost = cost_by_member[:, None]
    nav_years = (year_name("nav", k) for k in range(1, MAX_YEARS + 1))
    for outcome in ("cost_per_participant_nok", net_cost_name("nav"), *nav_years):
        grid[1, :, :, COL[outcome]] += cost
    for outcome in ("employed_12m", PERSON_YEARS, PERSON_YEARS_PV):
        grid[1, :, :, COL[outcome]] += 0.1
    t = _comparison_table(["a", "b"], grid, (200, 200))
    return t[t["scenario"] == "b"].set_index("outcome")


def test_a_cost_the_mechanisms_leave_open_is_not_dominant():
    # 20 plausible parameter sets: on average b saves 18 000 NOK, precisely known as an
    # average over the sets, but some sets make it dearer.
    b = _table(20, np.linspace(-70_000, 34_000, 20))
    cost = b.loc["cost_per_participant_nok"]
    assert cost["diff_high"] < 0 < cost["diff_parameter_high"]  # simulation vs mechanisms
    assert b.loc["cost_per_extra_person_year_nok", "status"] == "no clear extra cost"
    assert b.loc["cost_per_extra_job_nok", "status"] == "no clear extra cost"
    assert b.loc["cost_per_extra_person_year_pv_nav_nok", "status"] == "no clear extra cost"
    # The payback year's ends under the mechanisms are kept next to the simulation's: the
    # simulation says never dearer at both ends, the mechanisms that it may never pay back.
    payback = b.loc["payback_year_nav"]
    assert payback["status"] == "never dearer"
    assert payback["diff_low"] == payback["diff_high"] == 0
    assert payback["diff_parameter_low"] == 0 and np.isnan(payback["diff_parameter_high"])


def test_a_clear_saving_is_dominant_under_the_mechanisms_and_with_one_parameter_set():
    assert (
        _table(20, np.linspace(-30_000, -10_000, 20)).loc[
            "cost_per_extra_person_year_nok", "status"
        ]
        == "dominant"
    )
    one = _table(1, np.array([-18_000.0]))
    assert one.loc["cost_per_extra_person_year_nok", "status"] == "dominant"
    assert one.loc["cost_per_extra_person_year_pv_nav_nok", "status"] == "dominant"
    assert np.isnan(one.loc["payback_year_nav", "diff_parameter_low"])


def test_the_payers_table_keeps_every_interval_on_one_line(small_comparison, monkeypatch, capsys):
    from introsim.experiments.compare import print_comparison

    monkeypatch.setenv("COLUMNS", "200")
    print_comparison(small_comparison)  # three scenarios
    out = capsys.readouterr().out
    payers = out[out.index("Who pays and who gains") :].split("└")[0]
    lines = [x for x in payers.splitlines() if "[" in x or "]" in x]
    assert sum(x.count("[") for x in lines) == 4 * 5  # 4 payers: 3 scenarios, 2 differences
    assert all(x.count("[") == x.count("]") for x in lines)
    assert "simulation only" in payers


def test_a_sweep_points_cost_status_rests_on_the_mechanisms_range_too():
    from introsim.experiments.design import Point
    from introsim.experiments.sweep import _extra_rows
    from introsim.params.schema import Scenario

    point = Point(1, "p", {}, Scenario().with_overrides({"cohort.size": 200}))
    col = {"employed_12m": 0, "cost_per_participant_nok": 1}
    rng = np.random.default_rng(2)

    def status(members: int, cost_by_member: np.ndarray) -> str:
        base = 0.5 + 0.001 * rng.standard_normal((members, 3, 2))
        values = base.copy()
        values[:, :, 0] += 0.1  # clearly more in work
        values[:, :, 1] += cost_by_member[:, None]
        return _extra_rows(point, values, base, col, members)[1][6]

    # Saves 18 000 NOK on average over 20 plausible parameter sets, some of which make it
    # dearer: the simulation alone would call it dominant.
    assert status(20, np.linspace(-70_000, 34_000, 20)) == "no clear extra cost"
    assert status(20, np.linspace(-30_000, -10_000, 20)) == "dominant"
    assert status(1, np.array([-18_000.0])) == "dominant"


def test_the_payers_table_measures_the_kind_of_interval_too(monkeypatch):
    # Intervals shorter than their kind's name ("mechanisms' range"): a table judged wide
    # enough on the numbers alone would cut the names short ("mechanisms' ra…").
    from types import SimpleNamespace

    from rich.console import Console

    from introsim.experiments import compare as compare_module
    from introsim.reporting import ledger_report

    kind = "mechanisms' range"
    row = {
        "payer": "NAV",
        "levels": [("−900", "[−950, −850]", kind), ("−800", "[−900, +500]", kind)],
        "diffs": [("+100", "[−900, +500]", False, kind)],
        "ratios": ["no clear gain"],
        "paybacks": ["never dearer"],
    }
    monkeypatch.setattr(ledger_report, "payer_rows", lambda result: [row, {**row, "payer": "x"}])
    result = SimpleNamespace(names=["a", "b"], reference="a", title=lambda name: name)
    kept = 0
    for width in range(60, 161, 2):
        table = compare_module._public_finances_table(result, width)
        if not table.columns[1].no_wrap:
            continue  # too narrow to keep numbers whole: everything wraps, by design
        kept += 1
        console = Console(width=width, record=True, color_system=None)
        console.print(table)
        text = console.export_text()
        assert "…" not in text, f"width {width}:\n{text}"
        assert text.count(kind) == 2 * 3, f"width {width}:\n{text}"
    assert kept > 0, "no width kept the numbers whole: the check was not exercised"
