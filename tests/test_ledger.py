"""The public-finance ledger: its flows add up, its rules give known answers, its totals move
the right way, and a comparison reports each payer with intervals."""

from __future__ import annotations

import typing

import numpy as np
import pytest
from pydantic import BaseModel

from introsim.experiments.compare import (
    COST_STATUSES,
    Comparison,
    payback_name,
    payer_ratio_name,
)
from introsim.model import kernels
from introsim.model.ledger import (
    FLOWS,
    LEDGER_FLOW_VALUES,
    LEDGER_OUTCOMES,
    LEDGER_PAYERS,
    MAX_YEARS,
    PAYBACK_STATUSES,
    PUBLIC,
    cumulative_by_year,
    flow_name,
    flow_rows,
    flow_values,
    flows_by_payer,
    ledger_outcomes,
    net_cost_name,
    payback_year,
    year_name,
)
from introsim.model.state import LEDGER_COLUMN, NO_ONE, WEEKS_PER_YEAR, Status
from introsim.model.world import advance, build_world
from introsim.params.catalog import iter_params
from introsim.params.schema import PAYERS, PublicFinances, Scenario
from introsim.run import replicate_seed, simulate, simulate_outcomes

SMALL = {"cohort.size": 150, "scenario.weeks": 156}


def _run(overrides: dict, seed: int = 3):
    sc = Scenario().with_overrides({**SMALL, **overrides})
    return sc, advance(build_world(sc, seed), 0, sc.scenario.weeks)


# --------------------------------------------------------------------------- the schema
def test_every_flow_block_has_a_rule_a_payer_and_sourced_rates():
    blocks = {
        name: field.annotation
        for name, field in PublicFinances.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    }
    assert set(blocks) == {
        "introduction_benefit",
        "integration_grant",
        "social_assistance",
        "wage_subsidy",
        "nav_follow_up",
        "specialists",
        "teaching",
        "income_tax",
        "employer_contributions",
    }
    for name, block in blocks.items():
        assert block.__doc__ and len(block.__doc__) > 40, f"{name}: no rule in its docstring"
        sides = {"payer", "receiver"} & set(block.model_fields)
        assert sides, f"{name}: neither payer nor receiver"
        for side in sides:
            assert typing.get_args(block.model_fields[side].annotation) == PAYERS, name
    for p in iter_params():
        if p.path.startswith("public_finances."):
            assert p.source, f"{p.path} has no source"
            assert p.unit, f"{p.path} has no unit"
            if p.source.startswith("assumption") and p.kind == "float":
                assert p.plausible is not None, f"{p.path}: an assumption without a range"


def test_a_municipal_rate_above_the_whole_rate_is_refused():
    with pytest.raises(ValueError, match="municipal_rate"):
        Scenario().with_overrides({"public_finances.income_tax.municipal_rate": 0.3})


# --------------------------------------------------------------------------- the rules
def _tax_2024(income: float) -> tuple[float, float]:
    """The 2024 rules written out by hand: (municipality's kept share, the rest)."""
    social = 0.0 if income <= 69_650 else min(0.078 * income, 0.25 * (income - 69_650))
    ordinary = max(0.0, income - min(0.46 * income, 92_000) - 88_250)
    steps = [(208_050, 0.017), (292_850, 0.04), (670_000, 0.136), (937_900, 0.166)]
    steps += [(1_350_000, 0.176), (np.inf, 0.0)]
    bracket = sum(
        rate * max(0.0, min(income, steps[j + 1][0]) - low)
        for j, (low, rate) in enumerate(steps[:-1])
    )
    kept = 0.4 * 0.1155 * ordinary
    return kept, social + 0.22 * ordinary + bracket - kept


@pytest.mark.parametrize("income", [0.0, 50_000.0, 80_000.0, 248_056.0, 410_166.0, 1_500_000.0])
def test_income_tax_follows_the_2024_rules(income):
    params = build_world(Scenario().with_overrides({"cohort.size": 5}), 1).params
    got = kernels.income_tax(income, params)
    assert got == pytest.approx(_tax_2024(income), abs=0.01)
    assert got == pytest.approx(kernels.income_tax.py_func(income, params), abs=1e-9)


def test_income_tax_at_a_typical_full_time_wage():
    # 410,166 NOK gross pay (a 9,000 NOK weekly wage cost less the employer's contribution):
    # contribution 31,993, ordinary income 229,916 taxed 50,582, bracket tax 1,442 + 4,693.
    kept, rest = _tax_2024(410_166.0)
    assert kept + rest == pytest.approx(88_710, abs=2)
    assert kept == pytest.approx(0.4 * 0.1155 * 229_916, abs=1)


@pytest.mark.parametrize("compiled", [True, False])
def test_unsubsidised_full_time_work_from_week_one_pays_tax_and_draws_no_benefit(compiled):
    sc = Scenario().with_overrides({"cohort.size": 4, "scenario.weeks": 60})
    w = build_world(sc, 2)
    r = w.refugees
    # Everyone arrives at week 0 and works full time, unsubsidised, from the first week.
    r.arrival_week[:] = 0
    r.age[:] = 30.0
    r.status[:] = Status.EMPLOYED
    r.job_wage[:] = 9_000.0
    r.job_start[:] = 0
    r.in_programme[:] = 0
    r.exit_week[:] = -1
    r.specialist[:] = NO_ONE
    week_fn = kernels.ledger_week if compiled else kernels.ledger_week.py_func
    for week in range(WEEKS_PER_YEAR):
        week_fn(week, r, w.specialists, w.tables, w.params, w.accounts, w.ledger[week])
    year = w.ledger[:WEEKS_PER_YEAR].sum(axis=0) / r.size
    col = LEDGER_COLUMN
    for flow in ("introduction_benefit", "social_assistance", "wage_subsidy", "nav_follow_up"):
        assert year[col[flow]] == 0.0, flow
    assert year[col["specialists"]] == 0.0 and year[col["teaching"]] == 0.0
    pay = 9_000.0 / 1.141 * WEEKS_PER_YEAR
    assert year[col["gross_pay"]] == pytest.approx(pay)
    assert year[col["employer_contributions"]] == pytest.approx(0.141 * pay)
    kept, rest = _tax_2024(pay)
    assert year[col["income_tax_municipality"]] == pytest.approx(kept)
    assert year[col["income_tax_rest"]] == pytest.approx(rest)
    # The tax is settled in the year's last week, and nothing of the year is carried over.
    assert w.ledger[: WEEKS_PER_YEAR - 1, col["income_tax_rest"]].sum() == 0.0
    assert (w.accounts.year_pay == 0).all() and (w.accounts.year_benefit == 0).all()
    assert (w.accounts.hours_worked == 37.5).all()


# --------------------------------------------------------------------------- adding up
def test_the_flows_add_up_to_each_payers_total_and_the_public_purse():
    sc, w = _run({"wage_subsidy.rate": 0.4, "follow_up.method": "ips"})
    out = ledger_outcomes(w.ledger, w.weekly, sc)
    values = flow_values(w.ledger, sc)
    for payer in PAYERS:
        parts = sum(values[flow_name(payer, f)] for f in FLOWS)
        assert out[net_cost_name(payer)] == pytest.approx(parts, rel=1e-12)
    public = sum(out[net_cost_name(p)] for p in PAYERS)
    assert out[net_cost_name(PUBLIC)] == pytest.approx(public, rel=1e-12)
    # The grant is a transfer: it costs the state what the municipality receives.
    assert values[flow_name("state", "integration_grant")] == pytest.approx(
        -values[flow_name("municipality", "integration_grant")]
    )
    # The yearly path ends at the total (the horizon is three whole years).
    years = cumulative_by_year(w.ledger, sc)
    for payer in LEDGER_PAYERS:
        assert years[year_name(payer, 3)] == pytest.approx(out[net_cost_name(payer)], rel=1e-12)
        assert np.isnan(years[year_name(payer, 4)]) and np.isnan(years[year_name(payer, MAX_YEARS)])
    table = flows_by_payer(simulate(sc, 3).ledger, sc)
    for payer in PAYERS:
        assert table[table["payer"] == payer]["nok"].sum() == pytest.approx(
            out[net_cost_name(payer)], rel=1e-9
        )


def test_the_ledger_books_what_accounting_charges():
    # Without the benefit's cut for paid hours and without part-time jobs (whose subsidy the
    # ledger takes on the hours worked), the ledger's costs are the accounting's. Nobody moves
    # away (the grant follows a mover to the new municipality).
    sc, w = _run(
        {
            "wage_subsidy.rate": 0.4,
            "public_finances.introduction_benefit.work_hours_reduction": 0.0,
            "programme.part_time_share": 0.0,
            "after_programme.migration_rate": 0.0,
        }
    )
    r, col = w.refugees, LEDGER_COLUMN
    total = w.ledger.sum(axis=0)
    assert total[col["introduction_benefit"]] == pytest.approx(r.cost_benefit.sum(), rel=1e-12)
    assert total[col["specialists"]] == pytest.approx(r.cost_specialist.sum(), rel=1e-12)
    assert total[col["wage_subsidy"]] == pytest.approx(r.cost_subsidy.sum(), rel=1e-12)
    assert total[col["wage_subsidy"]] > 0
    # Every participant arrives at week 0, so the grant is its first three years' rates.
    grant = sc.public_finances.integration_grant.nok_by_year
    assert total[col["integration_grant"]] == pytest.approx(r.size * sum(grant[:3]))


def test_payers_are_the_scenarios():
    base, w = _run({})
    moved = base.with_overrides({"public_finances.specialists.payer": "nav"})
    a = flow_values(w.ledger, base)
    b = flow_values(w.ledger, moved)
    assert b[flow_name("nav", "specialists")] == pytest.approx(
        a[flow_name("municipality", "specialists")]
    )
    assert b[flow_name("municipality", "specialists")] == 0.0
    assert a[flow_name("municipality", "specialists")] > 0


# --------------------------------------------------------------------------- discounting
def test_discounting_at_zero_equals_the_undiscounted_sum():
    sc, w = _run({"public_finances.discount_rate": 0.0})
    out = ledger_outcomes(w.ledger, w.weekly, sc)
    t = w.ledger.sum(axis=0) / sc.cohort.size
    c = LEDGER_COLUMN
    municipality = (
        t[c["introduction_benefit"]]
        + t[c["social_assistance"]]
        + t[c["specialists"]]
        + t[c["teaching"]]
        - t[c["integration_grant"]]
        - t[c["income_tax_municipality"]]
    )
    state = t[c["integration_grant"]] - t[c["income_tax_rest"]] - t[c["employer_contributions"]]
    nav = t[c["wage_subsidy"]] + t[c["nav_follow_up"]]
    assert out[net_cost_name("municipality")] == pytest.approx(municipality, rel=1e-12)
    assert out[net_cost_name("state")] == pytest.approx(state, rel=1e-12)
    assert out[net_cost_name("nav")] == pytest.approx(nav, rel=1e-12)
    assert flow_values(w.ledger, sc) == pytest.approx(flow_values(w.ledger, sc, discount=False))
    in_work = w.weekly[:, [int(Status.EMPLOYED), int(Status.SUBSIDISED)]].sum()
    assert out["person_years_in_work_pv"] == pytest.approx(in_work / 52 / sc.cohort.size)


def test_discounting_shrinks_later_flows():
    sc, w = _run({})
    at_4 = flow_values(w.ledger, sc)
    plain = flow_values(w.ledger, sc, discount=False)
    cost = flow_name("municipality", "introduction_benefit")
    assert 0 < at_4[cost] < plain[cost]
    # The first week is not discounted; week 52 by exactly 4 %.
    one = np.zeros_like(w.ledger)
    one[0, LEDGER_COLUMN["teaching"]] = 1.0
    one[52, LEDGER_COLUMN["teaching"]] = 1.0
    value = flow_values(one, sc)[flow_name("municipality", "teaching")] * sc.cohort.size
    assert value == pytest.approx(1 + 1 / 1.04)


# --------------------------------------------------------------------------- directions
def test_each_payer_moves_as_expected_when_a_subsidy_moves_people_into_work():
    # NAV's 40 % wage subsidy gets more people into work: NAV pays the subsidy, the state
    # collects more tax and contributions, the municipality pays less benefit and assistance.
    base = Scenario().with_overrides({"cohort.size": 300, "scenario.weeks": 156})
    policy = base.with_overrides({"wage_subsidy.rate": 0.4})
    d = {k: [] for k in (*LEDGER_OUTCOMES, "employed_12m")}
    for r in range(3):
        a = simulate_outcomes(base, replicate_seed(1, r))
        b = simulate_outcomes(policy, replicate_seed(1, r))
        for k in d:
            d[k].append(b[k] - a[k])
    assert min(d["employed_12m"]) > 0 and min(d["person_years_in_work_pv"]) > 0
    assert max(d[net_cost_name("state")]) < 0
    assert max(d[net_cost_name("municipality")]) < 0
    assert min(d[net_cost_name("nav")]) > 0


# --------------------------------------------------------------------------- payback
@pytest.mark.parametrize(
    ("path", "year", "status"),
    [
        ([5.0, 3.0, -1.0, -2.0, np.nan], 3.0, "pays back"),
        ([5.0, -1.0, 2.0, -0.5], 4.0, "pays back"),  # back above zero: the last crossing counts
        ([-1.0, -2.0], 0.0, "never dearer"),
        ([1.0, -1.0, 2.0], np.nan, "not within the horizon"),
        ([0.0, 0.0], np.nan, "no difference"),
        ([np.nan] * 3, np.nan, "no difference"),
    ],
)
def test_payback_year(path, year, status):
    got_year, got_status = payback_year(np.array(path))
    assert got_status == status
    assert (np.isnan(year) and np.isnan(got_year)) or got_year == year


# --------------------------------------------------------------------------- outcomes
def test_sweeps_get_the_same_ledger_outcomes_as_a_full_run():
    sc = Scenario().with_overrides({"cohort.size": 80, "scenario.weeks": 60})
    fast = simulate_outcomes(sc, 5)
    full = simulate(sc, 5)
    for k in LEDGER_OUTCOMES:
        assert fast[k] == full.summary[k], k
    assert full.ledger is not None and len(full.ledger) == 60


def test_a_comparison_reports_each_payer_with_intervals(small_comparison: Comparison):
    c = small_comparison
    for payer in LEDGER_PAYERS:
        ref = c.row("base", net_cost_name(payer))
        ips = c.row("ips", net_cost_name(payer))
        assert ref is not None and ips is not None
        assert ref["kind"] == "public_finances"
        assert ips["ci_low"] <= ips["mean"] <= ips["ci_high"]
        assert ips["diff_low"] <= ips["diff"] <= ips["diff_high"]
        ratio = c.row("ips", payer_ratio_name(payer))
        assert ratio is not None and ratio["status"] in COST_STATUSES
        back = c.row("ips", payback_name(payer))
        assert back is not None and back["status"] in PAYBACK_STATUSES
    # The grant does not depend on the method: its difference is exactly zero.
    grant = c.row("ips", flow_name("state", "integration_grant"))
    assert grant is not None and grant["diff"] == 0.0
    data = c.to_json()
    assert set(data["public_finances"]) >= {net_cost_name(p) for p in LEDGER_PAYERS}
    assert data["comparison"][payback_name(PUBLIC)]["ips"]["status"]
    assert flow_name("municipality", "specialists") in data["ledger_flows"]


def test_flow_rows_serve_a_dashboards_stacked_bar(small_comparison: Comparison):
    c = small_comparison
    means = {name: c.row("ips", name)["mean"] for name in LEDGER_FLOW_VALUES}
    rows = flow_rows(means)
    assert set(rows["payer"]) == set(PAYERS)
    for payer in PAYERS:
        net = c.row("ips", net_cost_name(payer))["mean"]
        assert rows[rows["payer"] == payer]["nok"].sum() == pytest.approx(net, rel=1e-9)
    assert (rows["nok"] != 0).all()
