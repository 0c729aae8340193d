"""The three kinds of uncertainty: known answers, what shrinks with runs and what does not."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from introsim.experiments.statistics import t_interval
from introsim.experiments.uncertainty import (
    KIND_NAMES,
    Kind,
    chance_met,
    cohort_spread,
    denoised_member_means,
    parameter_spread,
    simulation_spread,
    three_kinds,
)


def grid(members: int = 101, replicates: int = 40, chance: float = 0.1) -> np.ndarray:
    """Member k's average is k / (members - 1); its runs alternate ± ``chance`` around it."""
    centre = np.linspace(0.0, 1.0, members)[:, None]
    signs = np.where(np.arange(replicates) % 2 == 0, 1.0, -1.0)[None, :]
    return centre + chance * signs


def test_parameter_spread_is_the_members_central_95_percent() -> None:
    s = parameter_spread(grid())
    assert s.kind is Kind.PARAMETER
    assert s.estimate == pytest.approx(0.5)
    assert (s.low, s.high) == pytest.approx((0.025, 0.975))
    assert s.members == 101 and s.replicates == 101 * 40
    assert "101 plausible parameter sets" in s.label
    assert s.label.startswith(KIND_NAMES[Kind.PARAMETER])


def test_cohort_spread_is_chance_around_each_member() -> None:
    s = cohort_spread(grid(), cohort_size=60)
    # Every run is its member's average ± 0.1, half each way; a deviation from an average of
    # 40 runs is scaled by sqrt(40 / 39) for the run's own share in that average.
    half = 0.1 * math.sqrt(40 / 39)
    assert (s.low, s.high) == pytest.approx((0.5 - half, 0.5 + half))
    assert "one real cohort of 60 participants" in s.label


def test_few_replicates_per_member_do_not_narrow_the_cohort_range() -> None:
    rng = np.random.default_rng(5)
    centre = rng.uniform(0.3, 0.5, size=(2000, 1))
    for replicates in (2, 4, 30):
        runs = centre + rng.normal(0, 0.05, size=(2000, replicates))
        s = cohort_spread(runs)
        assert s.high - s.low == pytest.approx(2 * 1.96 * 0.05, rel=0.05), replicates


def test_simulation_spread_is_a_t_interval_of_the_member_averages() -> None:
    s = simulation_spread(grid())
    means = np.linspace(0.0, 1.0, 101)
    half = stats.t.ppf(0.975, 100) * means.std(ddof=1) / math.sqrt(101)
    assert (s.low, s.high) == pytest.approx((0.5 - half, 0.5 + half))
    assert "says nothing about the world" in s.label


def test_one_member_has_no_parameter_spread_and_uses_replicates_for_precision() -> None:
    runs = np.array([0.2, 0.4, 0.3, 0.5, 0.35, 0.25])
    kinds = three_kinds(runs, cohort_size=100)
    assert math.isnan(kinds.parameter.low) and "one parameter set" in kinds.parameter.note
    _, mean, low, high, _ = t_interval(runs)
    assert (kinds.simulation.estimate, kinds.simulation.low, kinds.simulation.high) == (
        pytest.approx((mean, low, high))
    )


def _width(spread) -> float:
    return spread.high - spread.low


def test_more_runs_narrow_only_the_simulation_interval() -> None:
    rng = np.random.default_rng(3)

    def runs(members: int, replicates: int) -> np.ndarray:
        centre = rng.uniform(0.3, 0.5, size=(members, 1))
        return centre + rng.normal(0, 0.05, size=(members, replicates))

    small, big = three_kinds(runs(50, 10)), three_kinds(runs(800, 40))
    # Members' averages spread uniformly over 0.3-0.5 and chance is ± 0.05 in both.
    assert _width(small.parameter) == pytest.approx(0.19, abs=0.02)
    assert _width(big.parameter) == pytest.approx(0.19, abs=0.01)
    assert _width(big.cohort) == pytest.approx(2 * 1.96 * 0.05, rel=0.05)
    assert _width(small.cohort) == pytest.approx(2 * 1.96 * 0.05, rel=0.15)
    # Sixteen times the members: the average's error about a quarter.
    assert _width(big.simulation) / _width(small.simulation) == pytest.approx(0.25, rel=0.2)
    # One member: more replicates narrow the simulation interval as 1 / sqrt(R).
    one_few, one_many = three_kinds(runs(1, 25)[0]), three_kinds(runs(1, 2500)[0])
    ratio = _width(one_many.simulation) / _width(one_few.simulation)
    assert ratio == pytest.approx(0.1, rel=0.3)


def test_shares_are_clipped_and_say_so() -> None:
    # Three members at 1.0 and one at 0.7: the t interval of the average reaches past 1.
    values = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.7, 0.7]])
    raw = simulation_spread(values)
    assert raw.high > 1.0 and raw.note == ""
    clipped = simulation_spread(values, bounds=(0.0, 1.0))
    assert clipped.high == 1.0 and clipped.low == raw.low
    assert clipped.note == "interval clipped to the possible range"


def test_nan_runs_and_members_are_left_out() -> None:
    values = grid(members=11, replicates=4)
    values[0, :] = np.nan  # a member without the number
    values[1, 0] = np.nan
    s = three_kinds(values)
    assert s.parameter.members == 10
    assert s.parameter.replicates == 10 * 4 - 1
    assert math.isfinite(s.simulation.low)


def test_columns_and_json_name_every_kind_in_plain_words() -> None:
    kinds = three_kinds(grid(), cohort_size=500)
    cols = kinds.columns("employed_12m_")
    for kind in Kind:
        assert f"employed_12m_{kind.value}_low" in cols
        assert cols[f"employed_12m_{kind.value}_label"].startswith(KIND_NAMES[kind])
    data = kinds.as_dict()
    assert data["cohort"]["name"] == "chance in one real cohort"
    assert [s.kind for s in kinds] == [Kind.PARAMETER, Kind.COHORT, Kind.SIMULATION]


def test_a_three_dimensional_array_is_refused() -> None:
    with pytest.raises(ValueError, match="members × replicates"):
        three_kinds(np.zeros((2, 2, 2)))


def test_chance_a_target_is_met_by_members_and_by_single_cohorts() -> None:
    # Members' averages 0.50, 0.52, ..., 0.68; each run its average ± 0.1.
    values = np.linspace(0.5, 0.68, 10)[:, None] + np.array([0.1, -0.1, 0.1, -0.1])
    c = chance_met(values, 0.55, cohort_size=60)
    assert c.by_mechanisms == pytest.approx(0.7)  # 0.56 and above: seven of ten
    # Runs at +0.1 all meet it (20 of 40); at -0.1 those of averages 0.66 and 0.68 (4 runs).
    assert c.one_cohort == pytest.approx(24 / 40)
    assert "70 % of the 10 plausible parameter sets" in c.label
    assert "one real cohort of 60 participants meets it 60 % of the time" in c.label
    lower = chance_met(values, 0.55, above=False)
    assert lower.by_mechanisms == pytest.approx(0.3)
    single = chance_met(np.array([0.6, 0.5, 0.7]), 0.55)
    assert "one parameter set only" in single.label and single.one_cohort == pytest.approx(2 / 3)


def test_the_members_own_monte_carlo_error_is_taken_out_of_their_spread() -> None:
    rng = np.random.default_rng(11)
    common = rng.normal(0, 0.05, size=(1, 4))  # chance shared by every member (same seeds)
    # Fifty members that do not differ at all: their averages differ by noise alone.
    same = 0.4 + common + rng.normal(0, 0.05, size=(50, 4))
    raw = np.quantile(same.mean(axis=1), [0.025, 0.975])
    s = parameter_spread(same)
    assert _width(s) < 0.6 * (raw[1] - raw[0])
    assert "Monte Carlo error" in s.note
    # Members that do differ (uniform over 0.3-0.5), three replicates each: the spread of their
    # averages is wider than the members' own; taking the noise out comes back close to it.
    truth = rng.uniform(0.3, 0.5, size=(400, 1))
    runs = truth + rng.normal(0, 0.05, size=(1, 3)) + rng.normal(0, 0.05, size=(400, 3))
    true_width = float(np.diff(np.quantile(truth, [0.025, 0.975]))[0])
    noisy = float(np.diff(np.quantile(runs.mean(axis=1), [0.025, 0.975]))[0])
    s = parameter_spread(runs)
    assert abs(_width(s) - true_width) < 0.5 * abs(noisy - true_width)
    means, c = denoised_member_means(runs)
    assert 0.8 < c < 1.0 and means.shape == (400,)
    # Chance shared by every member (common random numbers) is not noise between members.
    shared_only = truth[:20] + rng.normal(0, 0.05, size=(1, 3))
    assert denoised_member_means(shared_only)[1] == pytest.approx(1.0)
