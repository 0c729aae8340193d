"""The population: drawing the cohort, the specialists and the employers.

Each population draws from its own child of the run's ``SeedSequence``, so the
cohort of a replicate is the same whatever the scenario's caseload or labour
market (common random numbers across a comparison).
"""

from __future__ import annotations

import math

import numpy as np

from introsim.model.state import (
    NO_ONE,
    SLOTS_PER_EMPLOYER,
    Employers,
    Refugees,
    Specialists,
    Vacancies,
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
    n = c.size
    r = Refugees.allocate(n)
    r.arrival_week[:] = arrival_weeks(n, c.intake_weeks)
    table = sex_age_table(c)
    bands = table.shape[1]
    cell = rng.choice(table.size, size=n, p=table.ravel())
    female, band = cell // bands, cell % bands
    r.sex[:] = female
    edges = np.asarray(AGE_BANDS)
    r.age[:] = edges[band] + rng.random(n) * (edges[band + 1] - edges[band])
    # Education given sex: inverse CDF of each sex's shares on one uniform each.
    cdf = np.cumsum([c.education_shares_male, c.education_shares_female], axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(n)
    r.education[:] = np.minimum((u[:, None] >= cdf[female]).sum(axis=1), len(EDUCATION_LEVELS) - 1)
    # Prior work given sex, education and age: whether, then a share of the adult years
    # outside school, so it never exceeds the years since 18.
    base = np.where(female == 1, _logit(c.prior_work_share_female), _logit(c.prior_work_share_male))
    worked = rng.random(n) < _expit(base + c.prior_work_per_education * (r.education - 1))
    k = c.prior_work_concentration
    fraction = rng.beta(k * c.prior_work_fraction, k * (1.0 - c.prior_work_fraction), n)
    adult_years = np.maximum(
        0.0, r.age - AGE_BANDS[0] - np.asarray(c.study_years_after_18, dtype=float)[r.education]
    )
    r.prior_work_years[:] = np.where(worked, fraction * adult_years, 0.0)
    r.language0[:] = np.clip(rng.normal(c.language_mean, c.language_sd, n), 0.0, 6.0)
    r.language[:] = r.language0
    health_p = np.where(female == 1, c.mental_health_share_female, c.mental_health_share_male)
    r.mental_health[:] = rng.random(n) < health_p
    care_p = np.where(
        female == 1, np.asarray(c.care_female_by_age)[band], np.asarray(c.care_male_by_age)[band]
    )
    r.care[:] = rng.random(n) < care_p
    shares = np.array([s.share for s in scenario.labour_market.sectors])
    r.preferred_sector[:] = rng.choice(len(shares), size=n, p=shares / shares.sum())

    r.productivity[:] = (
        mech.productivity_base
        + mech.productivity_per_education * r.education
        + mech.productivity_per_work_year
        * np.minimum(r.prior_work_years, mech.prior_work_cap_years)
        - mech.productivity_age_penalty * np.maximum(0.0, r.age - mech.productivity_age_from)
        - mech.health_productivity * r.mental_health
    )

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
    for m, _name in enumerate(METHODS):
        need = int(np.count_nonzero(refugees.method == m))
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
    m = len(METHODS)
    counts = np.bincount(specialists.method, minlength=m) if specialists.size else np.zeros(m, int)
    hi = np.cumsum(counts).astype(np.int64)
    lo = (hi - counts).astype(np.int64)
    return lo, hi


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
    shares = np.array([s.share for s in lm.sectors])
    sector = rng.choice(len(shares), size=n, p=shares / shares.sum()).astype(np.int16)
    base_wage = np.array([s.weekly_wage_nok for s in lm.sectors])
    open_to_refugees = (rng.random(n) < lm.open_share).astype(np.int8)
    conditions = rng.random(n)
    employers = Employers.validated(
        sector=sector,
        # Log-normal with mean 1 around the sector's wage.
        wage=base_wage[sector] * rng.lognormal(-lm.wage_sd * lm.wage_sd / 2.0, lm.wage_sd, n),
        open_to_refugees=open_to_refugees,
        # The two conditions are drawn jointly, not as independent hurdles: one draw
        # per employer, so those who would ask for a subsidy are mostly the same
        # employers who would ask for follow-up (the survey gives the two shares only).
        requires_follow_up=(conditions < lm.requires_follow_up_share).astype(np.int8),
        requires_subsidy=(conditions < lm.requires_subsidy_share).astype(np.int8),
    )
    v = n * SLOTS_PER_EMPLOYER
    vacancies = Vacancies.validated(
        is_open=np.zeros(v, dtype=np.int8),
        serial=np.full(v, -1, dtype=np.int64),
        weeks_left=np.zeros(v, dtype=np.int32),
        requirement=np.zeros(v),
        bar=np.zeros(v),
        hidden=np.zeros(v, dtype=np.int8),
        filled=np.zeros(v, dtype=np.int8),
    )
    return employers, vacancies
