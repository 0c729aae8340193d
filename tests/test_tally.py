"""The compiled totals of a run give numpy's results bit for bit.

:mod:`introsim.model.tally` replaces some fifty numpy calls a run with two compiled passes;
a sweep's outcomes must not move by a bit for it. Each test compares with the numpy path
that tables still take (``summarise(participant_outcomes(...))``, ``ledger._booked``), on
real runs and on made-up states that reach what runs rarely do (NaN values, -1 statuses,
nobody with a first job, an even count of first jobs).
"""

from __future__ import annotations

import numpy as np
import pytest

from introsim.model.ledger import (
    FLOWS,
    LEDGER_OUTCOMES,
    PERSON_YEARS_PV,
    PUBLIC,
    _booked,
    discount_factors,
    entries,
    ledger_outcomes,
    net_cost_name,
)
from introsim.model.outcomes import (
    COST_PARTS,
    OUTCOMES,
    observed_counts,
    participant_outcomes,
    run_summary,
    summarise,
)
from introsim.model.state import LEDGER_FLOWS, Refugees, Status
from introsim.model.tally import numpy_sum
from introsim.model.world import advance, build_world
from introsim.params.schema import PAYERS, Scenario


def _bits(values: dict[str, float]) -> dict[str, str]:
    return {k: float(v).hex() for k, v in values.items()}


@pytest.mark.parametrize("n", [*range(0, 40), 127, 128, 129, 255, 256, 257, 500, 1023, 5000])
def test_numpy_sum_adds_as_numpy_does(n):
    rng = np.random.default_rng(n)
    for _ in range(3):
        a = rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 6, n)
        assert float(numpy_sum(a)).hex() == float(np.add.reduce(a)).hex()
    assert float(numpy_sum(-np.zeros(n))).hex() == float(np.add.reduce(-np.zeros(n))).hex()


def _reference(refugees: Refugees, weeks: int) -> tuple[dict[str, float], dict[str, float]]:
    participants = participant_outcomes(refugees, weeks)
    return summarise(participants), observed_counts(participants)


@pytest.mark.parametrize(
    ("overrides", "seed"),
    [
        ({}, 1),
        ({"cohort.size": 1}, 2),
        ({"cohort.size": 2, "scenario.weeks": 60}, 3),
        ({"follow_up.method": "ips", "wage_subsidy.rate": 0.5, "cohort.size": 333}, 4),
        ({"follow_up.method": "se", "cohort.intake_weeks": 52, "scenario.weeks": 520}, 5),
    ],
)
def test_run_summary_equals_the_tables_summary(overrides, seed):
    sc = Scenario().with_overrides(overrides)
    weeks = sc.scenario.weeks
    world = advance(build_world(sc, seed), 0, weeks)
    summary, counts = run_summary(world.refugees, weeks)
    expected, expected_counts = _reference(world.refugees, weeks)
    assert list(summary) == [*OUTCOMES, *COST_PARTS] == list(expected)
    assert _bits(summary) == _bits(expected)
    assert list(counts) == list(expected_counts)
    assert _bits(counts) == _bits(expected_counts)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [1, 2, 9, 200])
def test_run_summary_equals_the_tables_summary_on_any_final_state(seed, n):
    # States no run would leave, to reach every branch: statuses -1 to 7 anywhere, first jobs
    # or none, censored jobs, NaN costs, arrivals after the 24-month horizon.
    rng = np.random.default_rng(seed)
    r = Refugees.allocate(n)
    weeks = int(rng.integers(1, 300))
    r.arrival_week[:] = rng.integers(0, weeks, n)
    r.first_job_week[:] = np.where(rng.random(n) < 0.3 * (seed % 3), -1, r.arrival_week + 3)
    r.first_job_active[:] = rng.integers(0, 2, n)
    r.first_job_weeks[:] = rng.integers(0, 60, n)
    for name in ("status_12m", "status_24m", "status_60m", "status_120m", "exit_status"):
        getattr(r, name)[:] = rng.integers(-1, len(Status), n)
    r.status_after_exit_12m[:] = -1 if seed == 5 else rng.integers(-1, len(Status), n)
    r.weeks_employed_24m[:] = rng.integers(0, 105, n)
    for name in ("cost_specialist", "cost_subsidy", "cost_benefit"):
        cost = getattr(r, name)
        cost[:] = rng.random(n) * 10.0 ** rng.uniform(0, 6, n)
        cost[rng.random(n) < 0.1] = np.nan
    summary, counts = run_summary(r, weeks)
    expected, expected_counts = _reference(r, weeks)
    assert _bits(summary) == _bits(expected)
    assert _bits(counts) == _bits(expected_counts)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 51, 52])
@pytest.mark.parametrize("spread", [10, 100_000_000])
def test_the_median_weeks_to_a_first_job_is_numpys(n, spread):
    # Counted by value when the weeks lie within a run's range, numpy's median beyond it.
    rng = np.random.default_rng(n + spread)
    r = Refugees.allocate(n)
    r.first_job_week[:] = rng.integers(0, spread, n)
    r.first_job_week[0] = -1 if n > 2 else r.first_job_week[0]
    summary, _ = run_summary(r, 300)
    expected, _ = _reference(r, 300)
    assert float(summary["weeks_to_first_job"]).hex() == float(expected["weeks_to_first_job"]).hex()


def _ledger_reference(ledger, weekly, sc) -> dict[str, float]:
    """The ledger's outcomes as numpy works them out (the code before the compiled pass)."""
    booked = _booked(ledger, sc, True).sum(axis=(0, 2))
    out = {net_cost_name(p): float(booked[i]) for i, p in enumerate(PAYERS)}
    out[net_cost_name(PUBLIC)] = float(booked.sum())
    factors = discount_factors(ledger.shape[0], sc.public_finances.discount_rate)
    in_work = weekly[: ledger.shape[0], [int(Status.EMPLOYED), int(Status.SUBSIDISED)]]
    worked = in_work.sum(axis=1).astype(np.float64)
    out[PERSON_YEARS_PV] = float((worked * factors).sum() / 52 / sc.cohort.size)
    return out


def _naive_booked(ledger, sc) -> np.ndarray:
    """``_booked`` one entry at a time, as it was before the entries were grouped."""
    weeks = ledger.shape[0]
    per_person = (
        ledger
        * (discount_factors(weeks, sc.public_finances.discount_rate) / sc.cohort.size)[:, None]
    )
    out = np.zeros((weeks, len(PAYERS), len(FLOWS)))
    for e in entries(sc):
        out[:, PAYERS.index(e.payer), FLOWS.index(e.flow)] += e.sign * per_person[:, e.column]
    return out


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        # Both parts of the income tax to the municipality: one cell booked twice.
        {"public_finances.income_tax.receiver": "municipality"},
        {"public_finances.integration_grant.receiver": "nav", "public_finances.discount_rate": 0},
    ],
)
@pytest.mark.parametrize("weeks", [1, 52, 260, 333])
def test_ledger_outcomes_equal_numpys_sums(overrides, weeks):
    sc = Scenario().with_overrides({"cohort.size": 77, **overrides})
    rng = np.random.default_rng(weeks)
    ledger = rng.random((weeks, len(LEDGER_FLOWS))) * 10.0 ** rng.uniform(0, 7, (weeks, 1))
    ledger[rng.random(ledger.shape) < 0.2] = 0.0
    weekly = rng.integers(0, 77, (weeks, 15))
    got = ledger_outcomes(ledger, weekly, sc)
    assert list(got) == list(LEDGER_OUTCOMES)
    assert _bits(got) == _bits(_ledger_reference(ledger, weekly, sc))
    assert _booked(ledger, sc, True).tobytes() == _naive_booked(ledger, sc).tobytes()
