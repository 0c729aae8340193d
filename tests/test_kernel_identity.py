"""The kernels' shortcuts give what the plain rule they stand for gives.

Speed-ups that must not change a run are checked here against a reference
written plainly from the rule (with numpy, in the test), on the model's own
state at several weeks, so no value is stored from an earlier version.
"""

from __future__ import annotations

import numpy as np
import pytest

from introsim.model import kernels
from introsim.model.model import IntroModel
from introsim.model.outcomes import _share_in
from introsim.model.state import NO_ONE, SLOTS_PER_EMPLOYER, Status
from introsim.params.schema import Scenario

WEEKS = (10, 30, 60, 90)


def _reference_routes(tie_employer, tie_strength, is_open):
    """Each specialist's (first open slot, strength) for every tie to an employer with one open."""
    routes = []
    for sp in range(tie_employer.shape[0]):
        mine = []
        for k in range(tie_employer.shape[1]):
            e = int(tie_employer[sp, k])
            if e == NO_ONE:
                continue
            slots = [e * SLOTS_PER_EMPLOYER + j for j in range(SLOTS_PER_EMPLOYER)]
            open_slots = [v for v in slots if is_open[v] == 1]
            if open_slots:
                mine.append((open_slots[0], float(tie_strength[sp, k])))
        routes.append(mine)
    return routes


@pytest.mark.parametrize("method", ["standard", "ips", "se"])
def test_tie_routes_list_every_tie_that_leads_to_an_open_vacancy(method):
    sc = Scenario().with_overrides(
        {"cohort.size": 150, "scenario.weeks": max(WEEKS) + 1, "follow_up.method": method}
    )
    model = IntroModel(sc, 4, agents=False)
    checked_routes = 0
    for week in WEEKS:
        while model.week < week:
            model.step()
        s, v, work = model.specialists, model.vacancies, model.world.work
        n_routes = kernels.tie_routes(s, v, work)
        total, start, vac, strength = (
            work.route_total,
            work.route_start,
            work.route_vac,
            work.route_strength,
        )
        assert start[-1] == n_routes
        expected = _reference_routes(s.tie_employer, s.tie_strength, v.is_open)
        for sp, mine in enumerate(expected):
            got = list(
                zip(
                    vac[start[sp] : start[sp + 1]].tolist(),
                    strength[start[sp] : start[sp + 1]].tolist(),
                    strict=True,
                )
            )
            assert got == mine, f"week {week}, specialist {sp}"
            # The weight of applying through ties: the strengths summed in tie-slot order.
            assert total[sp] == sum(x for _, x in mine)
            checked_routes += len(mine)
    assert checked_routes > 0, "no tie led to an open vacancy: the routes were not exercised"


def test_strengthen_reports_whether_the_employer_was_new():
    rng = np.random.default_rng(3)
    emp = np.full((2, 4), NO_ONE, dtype=np.int32)
    st = np.zeros((2, 4))
    for _ in range(300):
        s, e, gain = int(rng.integers(2)), int(rng.integers(9)), float(rng.uniform(0.05, 0.5))
        held_before = e in emp[s].tolist()
        assert kernels._strengthen(emp, st, s, e, gain) == (not held_before)
        assert emp[s].tolist().count(e) == 1  # an employer holds at most one slot


def test_share_in_equals_membership_with_unobserved_missing():
    rng = np.random.default_rng(5)
    status = rng.integers(-1, len(Status), size=400).astype(np.int8)
    codes = (Status.EMPLOYED, Status.SUBSIDISED, Status.EDUCATION)
    expected = np.where(status < 0, np.nan, np.isin(status, codes).astype(np.float64))
    got = _share_in(status, codes)
    assert got.dtype == np.float64
    assert np.array_equal(got, expected, equal_nan=True)


@pytest.mark.parametrize("method", ["standard", "ips"])
def test_nothing_carries_over_in_the_workspace(method):
    # The kernels' working arrays are written afresh each week before they are read: a run
    # whose workspace is spoiled between weeks is the same run, byte for byte.
    sc = Scenario().with_overrides(
        {"cohort.size": 120, "scenario.weeks": 80, "follow_up.method": method}
    )
    clean, spoiled = IntroModel(sc, 9, agents=False), IntroModel(sc, 9, agents=False)
    rng = np.random.default_rng(0)
    while clean.running:
        clean.step()
        for arr in spoiled.world.work:
            if arr.dtype == np.bool_:
                arr[:] = rng.integers(0, 2, arr.shape).astype(bool)
            elif arr.dtype.kind == "f":
                arr[:] = rng.normal(0.0, 1e6, arr.shape)
            else:
                arr[:] = rng.integers(-5, 10**6, arr.shape)
        spoiled.step()
    assert clean.weekly[:, kernels.COL_HIRES].sum() > 0, "no hires: matching was not exercised"
    assert np.array_equal(clean.weekly, spoiled.weekly)
    assert np.array_equal(clean.world.ledger, spoiled.world.ledger)
    for a, b in zip(clean.refugees, spoiled.refugees, strict=True):
        assert np.array_equal(a, b)
