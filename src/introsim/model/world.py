"""The world of one run: every input the kernels take, built from a scenario and a seed.

The kernels take a few named groups instead of long argument lists: the four
populations (``Refugees``, ``Specialists``, ``Employers``, ``Vacancies``), the
per-method ``MethodTables``, the run's constants ``Params`` and the
``Counters`` carried from week to week. A kernel called with two groups
swapped does not compile. :func:`build_world` makes them without Mesa, so
headless runs skip the agent machinery; ``IntroModel`` wraps the same world.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from introsim.model import kernels
from introsim.model.policies import MethodTables, eligibility_code, method_tables, step_down_week
from introsim.model.population import draw_cohort, draw_employers, method_ranges, staff
from introsim.model.state import (
    EVENTS,
    LEDGER_FLOWS,
    SLOTS_PER_EMPLOYER,
    WEEKS_PER_YEAR,
    Accounts,
    Counters,
    Employers,
    Refugees,
    Specialists,
    Status,
    Vacancies,
    Workspace,
    per_scenario,
)
from introsim.params.paths import get
from introsim.params.schema import FULL_TIME_HOURS, KernelField, Scenario, kernel_fields

RUN_FIELDS: tuple[tuple[str, type], ...] = (
    ("key", int),  # the run's 63-bit key for counter-based draws
    ("n_employers", int),
    ("spec_lo", np.ndarray),  # int64 per method: first specialist of the method
    ("spec_hi", np.ndarray),  # int64 per method: one past the last
)
"""Constants that come from the run's draws, not from the scenario alone."""


class Derived(NamedTuple):
    """A kernel constant worked out from scenario values (not a scenario field itself)."""

    kind: type
    inputs: tuple[str, ...]  # the dotted scenario paths it is worked out from
    value: Callable[[Scenario], Any]


UNEMPLOYMENT_RANGE = (0.005, 0.5)
"""A municipality's local unemployment is kept inside the bounds of ``labour_market.
unemployment_rate`` (and ``reference_unemployment_rate``'s floor)."""

_UNEMPLOYMENT_INPUTS = (
    "labour_market.unemployment_rate",
    "labour_market.reference_unemployment_rate",
    "labour_market.reference_employment_rate",
    "labour_market.unemployment_per_employment_gap",
    "municipality.employment_rate",
)


def local_unemployment(sc: Scenario) -> float:
    """The unemployment outside job seekers bring: a municipality's from its employment rate.

    With ``[municipality] employment_rate`` it is ``unemployment_rate`` raised by
    ``unemployment_per_employment_gap`` per point the municipality's employment rate lies
    below ``reference_employment_rate`` (lowered above it); otherwise ``unemployment_rate``.
    """
    lm, rate = sc.labour_market, sc.municipality.employment_rate
    if rate is None:
        return lm.unemployment_rate
    value = lm.unemployment_rate + lm.unemployment_per_employment_gap * (
        lm.reference_employment_rate - rate
    )
    return min(max(value, UNEMPLOYMENT_RANGE[0]), UNEMPLOYMENT_RANGE[1])


def _bar_mean(sc: Scenario) -> float:
    """The outside candidates' bar at this unemployment: it rises per point above reference."""
    lm = sc.labour_market
    return lm.outside_bar + lm.outside_bar_per_point * 100.0 * (
        local_unemployment(sc) - lm.reference_unemployment_rate
    )


def _social_assistance_week(sc: Scenario) -> float:
    """Expected social assistance a week for one person without income (monthly rates)."""
    sa = sc.public_finances.social_assistance
    return sa.take_up * (sa.living_nok_per_month + sa.housing_nok_per_month) * 12 / WEEKS_PER_YEAR


def _nav_week_cost(sc: Scenario) -> float:
    """NAV's cost a week for one unemployed former participant: follow-up time and measures."""
    nav = sc.public_finances.nav_follow_up
    hour = sc.costs.specialist_nok_per_year / (WEEKS_PER_YEAR * FULL_TIME_HOURS)
    return sc.after_programme.nav_follow_up_hours * hour + nav.measure_share * (
        nav.measure_nok_per_week
    )


def _nav_transition_extra_cost(sc: Scenario) -> float:
    """NAV's extra cost a week in the transition after the programme: the added hours."""
    ap = sc.after_programme
    hour = sc.costs.specialist_nok_per_year / (WEEKS_PER_YEAR * FULL_TIME_HOURS)
    return max(0.0, ap.transition_hours - ap.nav_follow_up_hours) * hour


def _teaching_hour_cost(sc: Scenario) -> float:
    """A participant's share of one teaching hour."""
    t = sc.public_finances.teaching
    return t.teacher_nok_per_year / WEEKS_PER_YEAR / t.class_hours_per_week / t.class_size


DERIVED: dict[str, Derived] = {
    "n_sectors": Derived(int, ("labour_market.sectors",), lambda sc: len(sc.labour_market.sectors)),
    "sector_requirement": Derived(
        np.ndarray,
        ("labour_market.sectors",),
        lambda sc: np.array([s.language_requirement for s in sc.labour_market.sectors], float),
    ),
    # A closed vacancy slot opens at the employer's rate shared over its slots.
    "open_rate": Derived(
        float,
        ("labour_market.vacancy_rate",),
        lambda sc: sc.labour_market.vacancy_rate / SLOTS_PER_EMPLOYER,
    ),
    # Outside hires scale with the unemployed's share against its reference.
    "outside_fill": Derived(
        float,
        ("labour_market.outside_fill_rate", *_UNEMPLOYMENT_INPUTS),
        lambda sc: min(
            1.0,
            sc.labour_market.outside_fill_rate
            * (local_unemployment(sc) / sc.labour_market.reference_unemployment_rate),
        ),
    ),
    "bar_mean": Derived(
        float,
        ("labour_market.outside_bar", "labour_market.outside_bar_per_point", *_UNEMPLOYMENT_INPUTS),
        _bar_mean,
    ),
    "subsidy_code": Derived(
        int,
        ("wage_subsidy.eligibility", "wage_subsidy.rate", "wage_subsidy.weeks"),
        eligibility_code,
    ),
    "subsidy_step_down_week": Derived(
        int, ("wage_subsidy.step_down_week", "wage_subsidy.weeks"), step_down_week
    ),
    "specialist_week_cost": Derived(
        float,
        ("costs.specialist_nok_per_year",),
        lambda sc: sc.costs.specialist_nok_per_year / WEEKS_PER_YEAR,
    ),
    "benefit_week": Derived(
        float,
        ("costs.benefit_g_per_year", "costs.g_nok"),
        lambda sc: sc.costs.benefit_g_per_year * sc.costs.g_nok / WEEKS_PER_YEAR,
    ),
    "benefit_under_25_share": Derived(
        float, ("costs.benefit_under_25_share",), lambda sc: sc.costs.benefit_under_25_share
    ),
    "horizon_weeks": Derived(int, ("scenario.weeks",), lambda sc: sc.scenario.weeks),
    "social_assistance_week": Derived(
        float,
        (
            "public_finances.social_assistance.living_nok_per_month",
            "public_finances.social_assistance.housing_nok_per_month",
            "public_finances.social_assistance.take_up",
        ),
        _social_assistance_week,
    ),
    "nav_week_cost": Derived(
        float,
        (
            "after_programme.nav_follow_up_hours",
            "costs.specialist_nok_per_year",
            "public_finances.nav_follow_up.measure_share",
            "public_finances.nav_follow_up.measure_nok_per_week",
        ),
        _nav_week_cost,
    ),
    "nav_transition_extra_cost": Derived(
        float,
        (
            "after_programme.transition_hours",
            "after_programme.nav_follow_up_hours",
            "costs.specialist_nok_per_year",
        ),
        _nav_transition_extra_cost,
    ),
    "teaching_hour_cost": Derived(
        float,
        (
            "public_finances.teaching.teacher_nok_per_year",
            "public_finances.teaching.class_hours_per_week",
            "public_finances.teaching.class_size",
        ),
        _teaching_hour_cost,
    ),
}
"""Kernel constants worked out from the scenario: name -> (type, the paths it reads, how)."""

KERNEL_FIELDS: tuple[KernelField, ...] = kernel_fields()
"""The scenario fields the kernels read as they are (marked ``kernel`` in the schema)."""

_PARAMS_FIELDS: list[tuple[str, Any]] = [
    *RUN_FIELDS,
    *((name, d.kind) for name, d in DERIVED.items()),
    *((f.name, np.ndarray if f.kind is tuple else f.kind) for f in KERNEL_FIELDS),
]
Params = NamedTuple("Params", _PARAMS_FIELDS)  # type: ignore[misc]  # fields from the schema
Params.__doc__ = """The run's constants: every value the kernels read besides the state.

Built at import time from three declarations, so a mechanism parameter is declared once, in
the schema: the run's own draws (``RUN_FIELDS``), values worked out from the scenario
(``DERIVED``) and every scenario field the schema marks ``kernel`` (``KERNEL_FIELDS``,
under its kernel name). Numba compiles kernels over this named tuple as over any other.
"""


def _cast(value: Any, kind: type) -> Any:
    """A scenario value as the type the compiled kernels expect."""
    if kind is int:
        return int(value)
    if kind is float:
        return float(value)
    return np.asarray(value, dtype=np.float64)


def make_params(scenario: Scenario, key: int, specialists: Specialists, n_employers: int) -> Params:
    """Work out the run's constants from a scenario.

    Args:
        scenario: The resolved scenario.
        key: The run's key for random draws.
        specialists: The staff (their method ranges are part of the constants).
        n_employers: Number of local employers.

    Returns:
        The constants, each cast to the type the compiled kernels expect.
    """
    lo, hi = method_ranges(specialists)
    # RUN_FIELDS come first in Params, then the scenario's constants in their order.
    return Params._make((int(key), int(n_employers), lo, hi, *_scenario_constants(scenario)))


@per_scenario
def _scenario_constants(scenario: Scenario) -> tuple[Any, ...]:
    """The constants worked out from the scenario alone (``DERIVED``, ``KERNEL_FIELDS``).

    In the order of ``Params``' fields after ``RUN_FIELDS``. Kept for the last few
    scenarios (:func:`introsim.model.state.per_scenario`; the kernels never write these
    arrays): every replicate of a sweep's point would work them out again, about a tenth
    of a millisecond per value, a few per cent of a 500-participant run.
    """
    values = [_cast(d.value(scenario), d.kind) for d in DERIVED.values()]
    values += [_cast(get(scenario, f.path), f.kind) for f in KERNEL_FIELDS]
    return tuple(values)


_method_tables = per_scenario(method_tables)  # read only by the kernels, like the constants


def seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """Return the ``SeedSequence`` of a run from an integer seed or an existing sequence."""
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def child_seeds(ss: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The first ``n`` children of ``ss``, derived without changing ``ss``.

    ``SeedSequence.spawn`` counts the children it has handed out, so passing one
    sequence to two models would give them different streams; deriving children
    from the spawn key keeps a replicate's draws identical in every scenario.
    """
    return [
        np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, i), pool_size=ss.pool_size)
        for i in range(n)
    ]


class World(NamedTuple):
    """Everything one run's kernels read and write."""

    refugees: Refugees
    specialists: Specialists
    employers: Employers
    vacancies: Vacancies
    tables: MethodTables
    params: Params
    counters: Counters
    weekly: np.ndarray  # int64 (weeks, statuses + events)
    model_seed: np.random.SeedSequence  # for the Mesa model's own generator
    accounts: Accounts  # each participant's running accounts with the public purse
    ledger: np.ndarray  # float64 (weeks, LEDGER_FLOWS): public flows, NOK summed over people
    work: Workspace  # the weekly kernels' working arrays (nothing carried between weeks)


def build_world(scenario: Scenario, seed: int | np.random.SeedSequence) -> World:
    """Draw the populations and work out the kernels' inputs for one run.

    Args:
        scenario: A validated scenario.
        seed: Integer seed or ``numpy.random.SeedSequence`` for this run.

    Returns:
        The world at week 0.
    """
    ss = seed_sequence(seed)
    model_ss, cohort_ss, take_up_ss, staff_ss, employer_ss = child_seeds(ss, 5)
    # 63 bits keep the key a signed int64 for the kernels.
    key = int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    gen = lambda s: np.random.Generator(np.random.PCG64(s))  # noqa: E731
    refugees = draw_cohort(scenario, gen(cohort_ss), gen(take_up_ss))
    specialists = staff(scenario, refugees, gen(staff_ss))
    employers, vacancies = draw_employers(scenario, gen(employer_ss))
    params = make_params(scenario, key, specialists, employers.size)
    counters = Counters(
        pointer=np.zeros(params.spec_lo.shape[0], dtype=np.int64),
        next_serial=np.zeros(1, dtype=np.int64),
    )
    weekly = np.zeros((scenario.scenario.weeks, len(Status) + len(EVENTS)), dtype=np.int64)
    return World(
        refugees,
        specialists,
        employers,
        vacancies,
        _method_tables(scenario),
        params,
        counters,
        weekly,
        model_ss,
        Accounts.allocate(refugees.size),
        np.zeros((scenario.scenario.weeks, len(LEDGER_FLOWS)), dtype=np.float64),
        Workspace.allocate(
            refugees.size,
            vacancies.size,
            specialists.size,
            specialists.tie_employer.shape[1],
            params.n_sectors,
            params.spec_lo.shape[0],
        ),
    )


def advance(world: World, start: int, stop: int) -> World:
    """Simulate weeks ``start`` to ``stop - 1`` in one compiled loop; return the world.

    Calls the same kernels, in the same order, as stepping week by week.
    """
    kernels.run_weeks(
        start, stop, *world[:7], world.weekly, world.accounts, world.ledger, world.work
    )
    return world
