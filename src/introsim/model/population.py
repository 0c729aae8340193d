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
from introsim.params.schema import METHODS, Scenario

AGE_MIN, AGE_MAX = 18.0, 55.0  # the programme's age range
PRIOR_WORK_CAP = 10.0  # years of prior work beyond which productivity stops rising


def draw_cohort(
    scenario: Scenario, rng: np.random.Generator, take_up_rng: np.random.Generator
) -> Refugees:
    """Draw the cohort from the scenario's profile.

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
    r.arrival_week[:] = (np.arange(n) * c.intake_weeks) // n
    r.sex[:] = rng.random(n) < c.share_female
    r.age[:] = np.clip(rng.normal(c.age_mean, c.age_sd, n), AGE_MIN, AGE_MAX)
    r.education[:] = rng.choice(len(c.education_shares), size=n, p=np.asarray(c.education_shares))
    r.prior_work_years[:] = (
        rng.exponential(c.prior_work_years_mean, n) if c.prior_work_years_mean > 0 else 0.0
    )
    r.language0[:] = np.clip(rng.normal(c.language_mean, c.language_sd, n), 0.0, 6.0)
    r.language[:] = r.language0
    r.mental_health[:] = rng.random(n) < c.mental_health_share
    care_p = np.where(r.sex == 1, c.care_share_female, c.care_share_male)
    r.care[:] = rng.random(n) < care_p
    shares = np.array([s.share for s in scenario.labour_market.sectors])
    r.preferred_sector[:] = rng.choice(len(shares), size=n, p=shares / shares.sum())

    r.productivity[:] = (
        mech.productivity_base
        + mech.productivity_per_education * r.education
        + mech.productivity_per_work_year * np.minimum(r.prior_work_years, PRIOR_WORK_CAP)
        - mech.productivity_age_penalty * np.maximum(0.0, r.age - 40.0)
        - mech.health_productivity * r.mental_health
    )

    # Take-up of the offered method falls with poor language (the Raskt i jobb trial).
    fu = scenario.follow_up
    u = take_up_rng.random(n)
    own = METHODS.index(fu.method)
    if own == 0 or (fu.take_up >= 1.0 and fu.take_up_language_slope == 0):
        r.method[:] = own
    else:
        base = _logit(fu.take_up)
        p = _expit(base + fu.take_up_language_slope * (r.language0 - c.language_mean))
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
    n = max(1, round(scenario.cohort.size * lm.employers_per_participant))
    shares = np.array([s.share for s in lm.sectors])
    sector = rng.choice(len(shares), size=n, p=shares / shares.sum()).astype(np.int16)
    base_wage = np.array([s.weekly_wage_nok for s in lm.sectors])
    open_to_refugees = (rng.random(n) < lm.open_share).astype(np.int8)
    conditions = rng.random(n)
    employers = Employers.validated(
        sector=sector,
        wage=base_wage[sector] * rng.lognormal(-0.005, 0.1, n),
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
