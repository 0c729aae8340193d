"""The world of one run: every input the kernels take, built from a scenario and a seed.

The kernels take a few named groups instead of long argument lists: the four
populations (``Refugees``, ``Specialists``, ``Employers``, ``Vacancies``), the
per-method ``MethodTables``, the run's constants ``Params`` and the
``Counters`` carried from week to week. A kernel called with two groups
swapped does not compile. :func:`build_world` makes them without Mesa, so
headless runs skip the agent machinery; ``IntroModel`` wraps the same world.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from introsim.model import kernels
from introsim.model.policies import MethodTables, eligibility_code, method_tables, step_down_week
from introsim.model.population import draw_cohort, draw_employers, method_ranges, staff
from introsim.model.state import (
    EVENTS,
    SLOTS_PER_EMPLOYER,
    WEEKS_PER_YEAR,
    Counters,
    Employers,
    Refugees,
    Specialists,
    Status,
    Vacancies,
)
from introsim.params.schema import Scenario

VACANCY_REQUIREMENT_SD = 0.6  # spread of one opening's language requirement around its sector's
VACANCY_BAR_SD = 0.1  # spread of the outside-competition bar between openings


class Params(NamedTuple):
    """The run's constants: scenario values the kernels use, some worked out once.

    Names are the schema's field names where a field is used as it is.
    """

    key: int  # the run's 63-bit key for counter-based draws
    n_employers: int
    n_sectors: int
    spec_lo: np.ndarray  # int64 per method: first specialist of the method
    spec_hi: np.ndarray  # int64 per method: one past the last
    sector_requirement: np.ndarray  # each sector's mean language requirement
    # [programme]
    max_weeks: int
    language_gain_per_hour: float
    education_gain: np.ndarray
    age_gain_per_year: float
    in_work_hours: float
    after_exit_hours: float
    education_hazard: float
    education_entry_base: float
    education_entry_young: float
    education_entry_per_level: float
    education_entry_per_language: float
    inactive_share: float
    reactivation_rate: float
    unemployed_search_intensity: float
    part_time_share: float
    education_weeks: int
    education_completion: float
    education_qualification: float
    # [after_programme]
    nav_follow_up_hours: float
    nav_subsidy_share: float
    nav_subsidy_rate: float
    nav_subsidy_weeks: int
    network_applications: float
    network_trust: float
    # [follow_up]
    hours_per_week: float
    hours_per_employer_contact: float
    # [labour_market], some derived
    open_rate: float  # chance a closed slot opens this week
    vacancy_weeks: int
    hidden_share: float
    outside_fill: float  # weekly chance of an outside hire, scaled by unemployment
    bar_mean: float  # outside-competition bar at this unemployment
    requirement_sd: float
    bar_sd: float
    discrimination_penalty: float
    # [mechanisms]
    health_search: float
    care_search: float
    specialist_support: float
    support_saturation_hours: float
    language_slope: float
    score_noise: float
    unmet_requirement_penalty: float
    practice_trust: float
    tie_growth: float
    tie_decay: float
    tie_placement: float
    new_contact_share: float
    on_job_growth: float
    keep_bar: float
    separation_hazard: float
    separation_fit: float
    separation_support: float
    separation_health: float
    # [wage_subsidy]
    subsidy_code: int  # index into schema.ELIGIBILITY; "none" when there is no subsidy
    subsidy_rate: float
    subsidy_weeks: int
    subsidy_step_down_week: int
    subsidy_rate_after: float
    low_language_below: float
    hiring_weight: float
    # [costs], per week
    specialist_week_cost: float
    benefit_week: float
    benefit_under_25_share: float


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
    sc = scenario
    lm, fu, p, m, ws, cost = (
        sc.labour_market,
        sc.follow_up,
        sc.programme,
        sc.mechanisms,
        sc.wage_subsidy,
        sc.costs,
    )
    ap = sc.after_programme
    pressure = lm.unemployment_rate / lm.reference_unemployment_rate
    lo, hi = method_ranges(specialists)
    return Params(
        key=int(key),
        n_employers=int(n_employers),
        n_sectors=len(lm.sectors),
        spec_lo=lo,
        spec_hi=hi,
        sector_requirement=np.array([s.language_requirement for s in lm.sectors], dtype=float),
        max_weeks=int(p.max_weeks),
        language_gain_per_hour=float(p.language_gain_per_hour),
        education_gain=np.array(p.education_gain, dtype=float),
        age_gain_per_year=float(p.age_gain_per_year),
        in_work_hours=float(p.in_work_hours),
        after_exit_hours=float(p.after_exit_hours),
        education_hazard=float(p.education_hazard),
        education_entry_base=float(p.education_entry_base),
        education_entry_young=float(p.education_entry_young),
        education_entry_per_level=float(p.education_entry_per_level),
        education_entry_per_language=float(p.education_entry_per_language),
        inactive_share=float(p.inactive_share),
        reactivation_rate=float(p.reactivation_rate),
        unemployed_search_intensity=float(p.unemployed_search_intensity),
        part_time_share=float(p.part_time_share),
        education_weeks=int(p.education_weeks),
        education_completion=float(p.education_completion),
        education_qualification=float(p.education_qualification),
        nav_follow_up_hours=float(ap.nav_follow_up_hours),
        nav_subsidy_share=float(ap.nav_subsidy_share),
        nav_subsidy_rate=float(ap.nav_subsidy_rate),
        nav_subsidy_weeks=int(ap.nav_subsidy_weeks),
        network_applications=float(ap.network_applications),
        network_trust=float(ap.network_trust),
        hours_per_week=float(fu.hours_per_week),
        hours_per_employer_contact=float(fu.hours_per_employer_contact),
        open_rate=float(lm.vacancy_rate / SLOTS_PER_EMPLOYER),
        vacancy_weeks=int(lm.vacancy_weeks),
        hidden_share=float(lm.hidden_share),
        outside_fill=float(min(1.0, lm.outside_fill_rate * pressure)),
        # The bar rises per percentage point of unemployment above reference.
        bar_mean=float(
            lm.outside_bar
            + lm.outside_bar_per_point
            * 100.0
            * (lm.unemployment_rate - lm.reference_unemployment_rate)
        ),
        requirement_sd=VACANCY_REQUIREMENT_SD,
        bar_sd=VACANCY_BAR_SD,
        discrimination_penalty=float(lm.discrimination_penalty),
        health_search=float(m.health_search),
        care_search=float(m.care_search),
        specialist_support=float(m.specialist_support),
        support_saturation_hours=float(m.support_saturation_hours),
        language_slope=float(m.language_slope),
        score_noise=float(m.score_noise),
        unmet_requirement_penalty=float(m.unmet_requirement_penalty),
        practice_trust=float(m.practice_trust),
        tie_growth=float(m.tie_growth),
        tie_decay=float(m.tie_decay),
        tie_placement=float(m.tie_placement),
        new_contact_share=float(m.new_contact_share),
        on_job_growth=float(m.on_job_growth),
        keep_bar=float(m.keep_bar),
        separation_hazard=float(m.separation_hazard),
        separation_fit=float(m.separation_fit),
        separation_support=float(m.separation_support),
        separation_health=float(m.separation_health),
        subsidy_code=int(eligibility_code(sc)),
        subsidy_rate=float(ws.rate),
        subsidy_weeks=int(ws.weeks),
        subsidy_step_down_week=int(step_down_week(sc)),
        subsidy_rate_after=float(ws.rate_after_step_down),
        low_language_below=float(ws.low_language_below),
        hiring_weight=float(ws.hiring_weight),
        specialist_week_cost=float(cost.specialist_nok_per_year / WEEKS_PER_YEAR),
        benefit_week=float(cost.benefit_g_per_year * cost.g_nok / WEEKS_PER_YEAR),
        benefit_under_25_share=float(cost.benefit_under_25_share),
    )


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
        method_tables(scenario),
        params,
        counters,
        weekly,
        model_ss,
    )


def advance(world: World, start: int, stop: int) -> World:
    """Simulate weeks ``start`` to ``stop - 1`` in one compiled loop; return the world.

    Calls the same kernels, in the same order, as stepping week by week.
    """
    kernels.run_weeks(start, stop, *world[:7], world.weekly)
    return world
