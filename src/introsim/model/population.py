"""The population: drawing the cohort, the specialists and the employers.

Each population draws from its own child of the run's ``SeedSequence``, so the
cohort of a replicate is the same whatever the scenario's caseload or labour
market (common random numbers across a comparison).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from introsim.model.state import (
    NO_ONE,
    SLOTS_PER_EMPLOYER,
    Employers,
    Refugees,
    Specialists,
    Vacancies,
    per_scenario,
)
from introsim.params.schema import AGE_BANDS, EDUCATION_LEVELS, METHODS, Cohort, Scenario


def arrival_weeks(size: int, intake_weeks: int) -> np.ndarray:
    """Each participant's arrival week: the cohort spread evenly over the intake weeks."""
    return (np.arange(size, dtype=np.int64) * intake_weeks) // max(size, 1)


def sex_age_table(cohort: Cohort) -> np.ndarray:
    """Joint probabilities of (sex, age band): row 0 men, row 1 women.

    The table's counts give the shares; a set ``share_female`` rescales the two rows to it,
    keeping each sex's ages.

    Args:
        cohort: The scenario's ``[cohort]``.

    Returns:
        A 2 × bands array summing to 1.
    """
    table = np.array([cohort.men_by_age, cohort.women_by_age], dtype=float)
    if cohort.share_female is not None:
        totals = table.sum(axis=1, keepdims=True)
        rows = np.divide(table, totals, out=np.zeros_like(table), where=totals > 0)
        return rows * np.array([[1.0 - cohort.share_female], [cohort.share_female]])
    return table / table.sum()


class _CohortTables(NamedTuple):
    """What drawing a cohort needs from the scenario, worked out once per scenario."""

    arrival_week: np.ndarray  # each participant's arrival week
    cell_cdf: np.ndarray  # (sex, age band) cells, as Generator.choice searches them
    bands: int
    age_low: np.ndarray  # each band's lower edge
    age_width: np.ndarray  # each band's width
    education_cdf: np.ndarray  # (sex, level): shares summed, the last set to 1
    work_probability: np.ndarray  # (sex, level): chance of having worked before
    study_years: np.ndarray  # years of study after 18, by level
    health_share: np.ndarray  # by sex
    care_share: np.ndarray  # (sex, age band)


def _choice_cdf(p: np.ndarray) -> np.ndarray:
    """What ``Generator.choice(p.size, size, p=p)`` searches: p summed and scaled to end at 1.

    ``choice`` draws ``random(size)`` and returns ``cdf.searchsorted(u, side="right")``, so
    searching this table, worked out once per scenario, on the same uniform draws (compiled
    ``np.searchsorted``) gives the same values (``tests/test_population.py`` checks it
    against ``choice``). ``p`` is checked here as ``choice`` checks it, with its errors.
    """
    np.random.default_rng(0).choice(p.size, p=p)
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return cdf


class _SectorTables(NamedTuple):
    """The sectors' values a run draws from, worked out once per scenario."""

    cdf: np.ndarray  # the shares as Generator.choice searches them (_choice_cdf)
    base_wage: np.ndarray  # each sector's weekly wage, NOK


@per_scenario
def _sector_tables(scenario: Scenario) -> _SectorTables:
    sectors = scenario.labour_market.sectors
    shares = np.array([s.share for s in sectors])
    return _SectorTables(
        cdf=_choice_cdf(shares / shares.sum()),
        base_wage=np.array([s.weekly_wage_nok for s in sectors]),
    )


@per_scenario
def _cohort_tables(scenario: Scenario) -> _CohortTables:
    c = scenario.cohort
    table = sex_age_table(c)
    edges = np.asarray(AGE_BANDS)
    cdf = np.cumsum([c.education_shares_male, c.education_shares_female], axis=1)
    cdf[:, -1] = 1.0
    base = np.array([_logit(c.prior_work_share_male), _logit(c.prior_work_share_female)])
    levels = np.arange(len(EDUCATION_LEVELS)) - 1
    return _CohortTables(
        arrival_week=arrival_weeks(c.size, c.intake_weeks),
        cell_cdf=_choice_cdf(table.ravel()),
        bands=table.shape[1],
        age_low=edges[:-1],
        age_width=edges[1:] - edges[:-1],
        education_cdf=cdf,
        # The chance given sex and level: the same sums, made for each of the few pairs.
        work_probability=_expit(base[:, None] + c.prior_work_per_education * levels[None, :]),
        study_years=np.asarray(c.study_years_after_18, dtype=float),
        health_share=np.array([c.mental_health_share_male, c.mental_health_share_female]),
        care_share=np.array([c.care_male_by_age, c.care_female_by_age], dtype=float),
    )


def draw_cohort(
    scenario: Scenario, rng: np.random.Generator, take_up_rng: np.random.Generator
) -> Refugees:
    """Draw the cohort jointly: sex and age band from SSB's table, then the rest given them.

    Characteristics are drawn from ``rng`` in a fixed order and read only ``[cohort]`` and
    the sectors' shares, so a replicate's cohort is the same whatever the follow-up,
    caseload, subsidy or labour market's openness. The share of adult years worked is a beta
    draw, whose use of ``rng`` depends on its shape, so changing
    ``cohort.prior_work_fraction`` redraws the characteristics after it as well.

    Args:
        scenario: The resolved scenario.
        rng: Generator for the participants' characteristics.
        take_up_rng: Generator for who takes up the method (kept apart so the
            cohort is identical whatever the method).

    Returns:
        The participants, not yet arrived.
    """
    c = scenario.cohort
    mech = scenario.mechanisms
    t = _cohort_tables(scenario)
    n = c.size
    r = Refugees.allocate(n)
    # The draws, in their fixed order: (sex, age band), age within the band, education
    # given sex, whether worked before, the share of adult years worked, language, mental
    # health, care, preferred sector. Consecutive uniform draws are one call: a generator's
    # stream is the same in one call or several.
    early = rng.random((4, n))
    k = c.prior_work_concentration
    fraction = rng.beta(k * c.prior_work_fraction, k * (1.0 - c.prior_work_fraction), n)
    language = rng.normal(c.language_mean, c.language_sd, n)
    late = rng.random((3, n))
    productivity = (
        mech.productivity_base,
        mech.productivity_per_education,
        mech.productivity_per_work_year,
        mech.prior_work_cap_years,
        mech.productivity_age_penalty,
        mech.productivity_age_from,
        mech.health_productivity,
    )
    _fill_cohort(early, fraction, language, late, t, _sector_tables(scenario).cdf, productivity, r)

    # Take-up of the offered method falls with poor language (the Raskt i jobb trial).
    fu = scenario.follow_up
    u = take_up_rng.random(n)
    own = METHODS.index(fu.method)
    if own == 0 or (fu.take_up >= 1.0 and fu.take_up_language_slope == 0):
        r.method[:] = own
    else:
        log_odds = _logit(fu.take_up)
        p = _expit(log_odds + fu.take_up_language_slope * (r.language0 - c.language_mean))
        r.method[:] = np.where(u < p, own, 0)
    return r


@njit(cache=True)
def _fill_cohort(
    early: np.ndarray,
    fraction: np.ndarray,
    language: np.ndarray,
    late: np.ndarray,
    t: _CohortTables,
    sector_cdf: np.ndarray,
    productivity: tuple[float, ...],
    r: Refugees,
) -> None:
    """Each participant's characteristics from the draws, one pass in compiled code.

    ``early`` holds the uniform draws for the (sex, age band) cell, the age, the education
    and prior work; ``late`` those for mental health, care and the preferred sector. The same
    arithmetic, in the same order, as the numpy expressions it replaced (numpy's elementwise
    results are IEEE operations on each element: ``benchmarks.identity`` checks the cohorts
    are the same bit for bit); the chances that need ``exp`` come ready from
    :class:`_CohortTables`, and a categorical draw searches its table with ``np.searchsorted``.
    """
    base, per_education, per_work_year, work_cap, age_penalty, age_from, health = productivity
    adult_from = AGE_BANDS[0]
    levels = t.education_cdf.shape[1]
    bands = t.bands
    for i in range(early.shape[1]):
        r.arrival_week[i] = t.arrival_week[i]
        cell = np.searchsorted(t.cell_cdf, early[0, i], side="right")
        female = cell // bands
        band = cell % bands
        r.sex[i] = female
        a = t.age_low[band] + early[1, i] * t.age_width[band]
        r.age[i] = a
        # Education given sex: the inverse CDF of the sex's shares on one uniform.
        level = 0
        for j in range(levels):
            if early[2, i] >= t.education_cdf[female, j]:
                level += 1
        level = min(level, levels - 1)
        r.education[i] = level
        # Prior work: whether, then a share of the adult years outside school.
        adult_years = np.maximum(0.0, a - adult_from - t.study_years[level])
        worked = early[3, i] < t.work_probability[female, level]
        years = fraction[i] * adult_years if worked else 0.0
        r.prior_work_years[i] = years
        spoken = np.minimum(np.maximum(language[i], 0.0), 6.0)
        r.language0[i] = spoken
        r.language[i] = spoken
        burden = 1 if late[0, i] < t.health_share[female] else 0
        r.mental_health[i] = burden
        r.care[i] = 1 if late[1, i] < t.care_share[female, band] else 0
        r.preferred_sector[i] = np.searchsorted(sector_cdf, late[2, i], side="right")
        r.productivity[i] = (
            base
            + per_education * level
            + per_work_year * np.minimum(years, work_cap)
            - age_penalty * np.maximum(0.0, a - age_from)
            - health * burden
        )


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def staff(scenario: Scenario, refugees: Refugees, rng: np.random.Generator) -> Specialists:
    """Employ specialists: the method's at its caseload cap, standard advisors for the rest.

    Specialists of one method sit in one contiguous index range, in the order
    of ``schema.METHODS``.

    Args:
        scenario: The resolved scenario.
        refugees: The cohort (its ``method`` decides how many of each are needed).
        rng: Generator for the specialists' skill.

    Returns:
        The specialists with empty caseloads and no employer ties.
    """
    fu = scenario.follow_up
    own = METHODS.index(fu.method)
    counts, caps = [], []
    needs = np.bincount(refugees.method, minlength=len(METHODS)).tolist()
    for m, need in enumerate(needs):
        cap = fu.caseload if m == own else fu.advisor_caseload
        k = math.ceil(need / cap) if need else 0
        if m == own and fu.specialists is not None:
            k = fu.specialists
        counts.append(k)
        caps.append(cap)
    total = sum(counts)
    k_ties = scenario.mechanisms.ties_per_specialist
    # Skill is log-normal with mean 1: the person matters.
    sd = fu.skill_sd
    skill = rng.lognormal(-0.5 * sd * sd, sd, total) if sd > 0 else np.ones(total)
    skill *= fu.skill_mean  # the municipality's practice: 1 is the national average
    return Specialists.validated(
        method=np.repeat(np.arange(len(METHODS), dtype=np.int8), counts),
        cap=np.repeat(np.array(caps, dtype=np.int32), counts),
        skill=skill,
        caseload=np.zeros(total, dtype=np.int32),
        tie_employer=np.full((total, k_ties), NO_ONE, dtype=np.int32),
        tie_strength=np.zeros((total, k_ties), dtype=np.float64),
        contacts=np.zeros(total, dtype=np.int64),
        placements=np.zeros(total, dtype=np.int64),
    )


def method_ranges(specialists: Specialists) -> tuple[np.ndarray, np.ndarray]:
    """Return (lo, hi) index arrays: method m's specialists are ``lo[m]:hi[m]``."""
    counts = np.bincount(specialists.method, minlength=len(METHODS)).astype(np.int64)
    hi = np.cumsum(counts)
    return hi - counts, hi


def employer_count(scenario: Scenario) -> int:
    """Local employers reachable by the programme.

    A municipality's come from its local jobs (``[municipality] local_jobs``), so its
    labour market does not grow with the number of refugees it settles; without one, from
    the cohort's size (``labour_market.employers_per_participant``).
    """
    lm, jobs = scenario.labour_market, scenario.municipality.local_jobs
    if jobs is not None:
        return max(1, round(jobs * lm.employers_per_thousand_jobs / 1000.0))
    return max(1, round(scenario.cohort.size * lm.employers_per_participant))


def draw_employers(scenario: Scenario, rng: np.random.Generator) -> tuple[Employers, Vacancies]:
    """Draw the local employers and their (closed) vacancy slots.

    Openness and conditions follow the IMDi/Norstat 2017 employer survey.

    Args:
        scenario: The resolved scenario.
        rng: Generator for the employers.

    Returns:
        The employers and ``SLOTS_PER_EMPLOYER`` closed vacancy slots for each.
    """
    lm = scenario.labour_market
    n = employer_count(scenario)
    # The draws in their fixed order: sector, openness, conditions (one call: the same
    # stream), then the wage (log-normal with mean 1 around the sector's wage).
    u = rng.random((3, n))
    wage = rng.lognormal(-lm.wage_sd * lm.wage_sd / 2.0, lm.wage_sd, n)
    employers = Employers.allocate(n)
    shares = (lm.open_share, lm.requires_follow_up_share, lm.requires_subsidy_share)
    _fill_employers(u, wage, _sector_tables(scenario), shares, employers)
    return employers, Vacancies.allocate(n * SLOTS_PER_EMPLOYER)


@njit(cache=True)
def _fill_employers(
    u: np.ndarray,
    wage: np.ndarray,
    sectors: _SectorTables,
    shares: tuple[float, float, float],
    e: Employers,
) -> None:
    """Each employer's sector, wage, openness and conditions from the draws (compiled).

    The two conditions are drawn jointly, not as independent hurdles: one draw per
    employer, so those who would ask for a subsidy are mostly the same employers who would
    ask for follow-up (the survey gives the two shares only).
    """
    open_share, follow_up_share, subsidy_share = shares
    for i in range(u.shape[1]):
        sector = np.searchsorted(sectors.cdf, u[0, i], side="right")
        e.sector[i] = sector
        e.wage[i] = sectors.base_wage[sector] * wage[i]
        e.open_to_refugees[i] = 1 if u[1, i] < open_share else 0
        e.requires_follow_up[i] = 1 if u[2, i] < follow_up_share else 0
        e.requires_subsidy[i] = 1 if u[2, i] < subsidy_share else 0
