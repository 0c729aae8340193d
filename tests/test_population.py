"""Drawing a run's populations: the same draws as before the speed-ups, and no state shared.

What a scenario alone decides is worked out once per scenario and kept
(:func:`introsim.model.state.per_scenario`); a population's columns are rows of a few
blocks. These tests hold the parts that make that safe: ``Generator.choice`` is what the
kept tables reproduce, each scenario keeps its own, and the columns are independent arrays.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from introsim.model import population
from introsim.model.state import SCENARIOS_KEPT, Refugees, Vacancies, per_scenario
from introsim.model.world import build_world
from introsim.params.schema import Scenario
from introsim.run import simulate_outcomes


@njit
def _search_right(cdf: np.ndarray, u: float) -> int:
    """What the compiled fills do with a kept table and one uniform draw."""
    return np.searchsorted(cdf, u, side="right")


@pytest.mark.parametrize(
    "p",
    [
        np.array([0.2, 0.3, 0.5]),
        np.array([1.0]),
        np.array([0.0, 0.7, 0.0, 0.3]),
        np.random.default_rng(3).dirichlet(np.ones(10)),
    ],
)
@pytest.mark.parametrize("n", [0, 1, 500])
def test_searching_the_kept_table_draws_what_choice_draws(p, n):
    cdf = population._choice_cdf(p)
    a, b = np.random.default_rng(9), np.random.default_rng(9)
    expected = a.choice(p.size, size=n, p=p)
    u = b.random(n)
    assert np.array_equal(cdf.searchsorted(u, side="right"), expected)
    # What the compiled fills use: numba's searchsorted of one value at a time.
    assert [_search_right(cdf, x) for x in u] == expected.tolist()
    # Both generators have used the same draws: the streams go on together.
    assert a.random() == b.random()


def test_the_kept_table_refuses_what_choice_refuses():
    with pytest.raises(ValueError, match=r"(?i)probabilities"):
        population._choice_cdf(np.array([0.5, 0.6]))


def test_consecutive_uniform_draws_are_one_call():
    # The cohort draws four uniform columns in one call where it drew them one by one.
    a, b = np.random.default_rng(4), np.random.default_rng(4)
    one = a.random((4, 7))
    assert np.array_equal(one, np.stack([b.random(7) for _ in range(4)]))


def test_columns_start_at_their_values_and_are_independent():
    r = Refugees.allocate(5)
    for name, col in Refugees.columns().items():
        arr = getattr(r, name)
        assert arr.dtype == np.dtype(col.dtype) and arr.shape == (5,), name
        assert arr.flags.c_contiguous and arr.flags.writeable, name
        assert (arr == col.initial).all(), name
    # Writing one column leaves every other at its starting value.
    for written in ("job_vacancy", "age", "status", "specialist"):
        r = Refugees.allocate(5)
        getattr(r, written)[:] = 7
        for name, col in Refugees.columns().items():
            assert (getattr(r, name) == (7 if name == written else col.initial)).all(), name
    # A second population shares nothing with the first.
    assert (Refugees.allocate(5).job_vacancy == -1).all()
    v = Vacancies.allocate(3, bar=np.arange(3.0))
    assert v.bar.tolist() == [0.0, 1.0, 2.0] and v.serial.tolist() == [-1, -1, -1]
    with pytest.raises(TypeError, match=r"Vacancies\.bar"):
        Vacancies.allocate(3, bar=np.arange(3))


def _bits(values: dict[str, float]) -> dict[str, str]:
    return {k: float(v).hex() for k, v in values.items()}


def test_each_scenario_keeps_its_own_derived_inputs():
    base = Scenario().with_overrides({"cohort.size": 60, "scenario.weeks": 120})
    # Each differs from the base in an input worked out once per scenario.
    variants = [
        base.with_overrides({"cohort.share_female": 0.9}),
        base.with_overrides({"labour_market.vacancy_rate": 0.3}),
        base.with_overrides({"follow_up.method": "ips"}),
        base.with_overrides({"public_finances.discount_rate": 0.0}),
    ]
    alone = [_bits(simulate_outcomes(sc, 5)) for sc in (base, *variants)]
    # Interleaved, each scenario gets what it got alone, and no two get the same.
    for _ in range(2):
        for sc, expected in zip((base, *variants), alone, strict=True):
            assert _bits(simulate_outcomes(sc, 5)) == expected
    assert len({tuple(sorted(o.items())) for o in alone}) == len(alone)
    # An equal scenario made afresh works it out again and gets the same.
    again = Scenario().with_overrides({"cohort.size": 60, "scenario.weeks": 120})
    assert again is not base
    assert _bits(simulate_outcomes(again, 5)) == alone[0]


def test_per_scenario_keeps_a_few_and_tells_scenarios_apart():
    calls = []

    @per_scenario
    def derived(scenario):
        calls.append(scenario)
        return object()

    a, b = Scenario(), Scenario()
    assert derived(a) is derived(a)
    assert derived(b) is not derived(a)
    assert calls == [a, b]
    for _ in range(SCENARIOS_KEPT + 1):
        derived(Scenario())
    assert len(calls) == SCENARIOS_KEPT + 3


def test_a_world_is_built_from_its_own_draws():
    sc = Scenario().with_overrides({"cohort.size": 80})
    one, two = build_world(sc, 3), build_world(sc, 3)
    for group in ("refugees", "specialists", "employers", "vacancies"):
        for name, arr in getattr(one, group)._asdict().items():
            other = getattr(getattr(two, group), name)
            assert arr.tobytes() == other.tobytes(), (group, name)
            assert not np.shares_memory(arr, other), (group, name)
