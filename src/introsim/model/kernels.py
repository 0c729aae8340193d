"""The kernels: every per-agent weekly loop, as numba-compiled pure array functions.

Each kernel takes arrays and scalars only, changes the arrays it is given in
place and returns small counts. Randomness is counter-based: a draw is a hash
of (run key, week, agent index, stream), so it depends on neither loop order
nor thread count, and the same participant sees the same draws in every
scenario of a comparison (common random numbers).

Every kernel is ``@njit(cache=True)``; ``kernel.py_func`` is the same code run
as plain Python, which the tests compare against the compiled version.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from introsim.model.state import (
    NO_ONE,
    SLOTS_PER_EMPLOYER,
    WEEKS_12M,
    WEEKS_24M,
    WEEKS_60M,
    WEEKS_PER_YEAR,
    MethodCode,
    Phase,
    Status,
)
from introsim.params.schema import ELIGIBILITY

# Integer codes frozen into the compiled kernels.
NOT_ARRIVED = int(Status.NOT_ARRIVED)
WAITING = int(Status.WAITING)
PROGRAMME = int(Status.PROGRAMME)
EMPLOYED = int(Status.EMPLOYED)
SUBSIDISED = int(Status.SUBSIDISED)
EDUCATION = int(Status.EDUCATION)
UNEMPLOYED = int(Status.UNEMPLOYED)
INACTIVE = int(Status.INACTIVE)
N_STATUS = len(Status)

PH_NONE = int(Phase.NONE)
PH_LANGUAGE = int(Phase.LANGUAGE)
PH_PRACTICE = int(Phase.PRACTICE)
PH_JOB_SEARCH = int(Phase.JOB_SEARCH)
PH_FOLLOW_ALONG = int(Phase.FOLLOW_ALONG)
PH_SE_EMPLOYER = int(Phase.SE_EMPLOYER_COOPERATION)
PH_SE_TRAINING = int(Phase.SE_TRAINING_SUPPORT)
SE = int(MethodCode.SE)

ELIG_NONE = ELIGIBILITY.index("none")
ELIG_ALL = ELIGIBILITY.index("all")
ELIG_LOW_LANGUAGE = ELIGIBILITY.index("low_language")
ELIG_REDUCED_CAPACITY = ELIGIBILITY.index("reduced_capacity")

SLOTS = SLOTS_PER_EMPLOYER
TIE_FLOOR = 0.01  # a tie weaker than this is forgotten and its slot freed
LANGUAGE_CEILING = 6.0
YOUNG_AGE = 30.0
FULL_BENEFIT_AGE = 25.0
EDUCATION_LANGUAGE = 3.0  # B1: enough to start upper-secondary or vocational education
PREFERRED_OFFER_BONUS = 1e6  # an offer in the preferred sector beats any other (IPS honours choice)

# The weekly kernels, in the order IntroModel.step calls them (DESIGN.md section 5).
WEEKLY_KERNELS: tuple[str, ...] = (
    "assign_waiting",
    "programme_week",
    "specialist_week",
    "vacancy_week",
    "match_week",
    "jobs_week",
    "exit_week_kernel",
    "account_week",
)

# Streams: one per kind of draw, spaced so sub-draws (k-th application) never collide.
S_CONTACTS = 1 << 20
S_CONTACT_NEW = 2 << 20
S_CONTACT_PICK = 3 << 20
S_VAC_OUTSIDE = 4 << 20
S_VAC_OPEN = 5 << 20
S_VAC_REQ = 6 << 20
S_VAC_BAR = 7 << 20
S_VAC_HIDDEN = 8 << 20
S_APPS = 9 << 20
S_ROUTE = 10 << 20
S_PICK = 11 << 20
S_SECTOR = 12 << 20
S_DISCRIM = 13 << 20
S_NOISE = 14 << 20
S_KEEP = 15 << 20
S_SEPARATE = 16 << 20
S_EDU_EARLY = 17 << 20
S_EDU_EXIT = 18 << 20
S_INACTIVE = 19 << 20
S_REACTIVATE = 20 << 20
S_HOST = 21 << 20  # keyed to week 0: a participant keeps one work-practice host
S_NORMAL_PAIR = 1 << 19  # offset of the second uniform of a normal draw

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


# --------------------------------------------------------------------------- random draws
@njit(cache=True)
def _splitmix(z):
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def uniform(key, week, index, stream):
    """Return a uniform draw in [0, 1) fixed by (key, week, index, stream).

    Args:
        key: The run's 63-bit key, from its seed.
        week: Simulation week.
        index: Index of the agent or vacancy the draw belongs to.
        stream: What the draw is for (one of the ``S_*`` constants, plus a sub-draw number).

    Returns:
        A float in [0, 1).
    """
    z = _splitmix(np.uint64(key) + np.uint64(week) * _GOLDEN)
    z = _splitmix(z ^ (np.uint64(index) * _GOLDEN + np.uint64(stream)))
    return float(z >> np.uint64(11)) * _TO_UNIT


@njit(cache=True)
def normal(key, week, index, stream):
    """Return a standard normal draw fixed by (key, week, index, stream) (Box-Muller)."""
    u1 = uniform(key, week, index, stream)
    u2 = uniform(key, week, index, stream + S_NORMAL_PAIR)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def language_fit(language, requirement, slope):
    """Share of a job's productivity reached at a language level (logistic around its need)."""
    return 1.0 / (1.0 + math.exp(-slope * (language - requirement)))


@njit(cache=True)
def age_at(age_at_arrival, arrival_week, week):
    """A participant's age in a given week, years."""
    return age_at_arrival + (week - arrival_week) / WEEKS_PER_YEAR


@njit(cache=True)
def subsidy_eligible(code, language, mental_health, low_language_below):
    """Whether a participant may bring a wage subsidy under eligibility rule ``code``."""
    if code == ELIG_ALL:
        return True
    if code == ELIG_LOW_LANGUAGE:
        return language < low_language_below
    if code == ELIG_REDUCED_CAPACITY:
        return mental_health == 1
    return False


@njit(cache=True, inline="always")
def _strengthen(tie_employer, tie_strength, s, e, gain):
    """Strengthen specialist s's tie to employer e, taking a free or the weakest slot if new."""
    k_found = -1
    k_free = -1
    k_weak = 0
    for k in range(tie_employer.shape[1]):
        if tie_employer[s, k] == e:
            k_found = k
            break
        if tie_employer[s, k] == NO_ONE:
            if k_free < 0:
                k_free = k
        elif tie_strength[s, k] < tie_strength[s, k_weak]:
            k_weak = k
    if k_found >= 0:
        tie_strength[s, k_found] += gain * (1.0 - tie_strength[s, k_found])
    else:
        k = k_free if k_free >= 0 else k_weak
        tie_employer[s, k] = e
        tie_strength[s, k] = gain


@njit(cache=True, inline="always")
def _release(i, specialist, caseload, follow_along_left):
    """End participant i's follow-up, freeing the specialist's caseload slot."""
    s = specialist[i]
    if s != NO_ONE:
        caseload[s] -= 1
        specialist[i] = NO_ONE
    follow_along_left[i] = 0


# --------------------------------------------------------------------------- 1. intake
@njit(cache=True)
def assign_waiting(
    week,
    arrival_week,
    status,
    phase,
    method,
    specialist,
    programme_start,
    spec_lo,
    spec_hi,
    spec_cap,
    caseload,
    pointer,
):
    """Arrivals join the queue; queued participants get a specialist of their method with room.

    Specialists of one method occupy the index range ``[spec_lo[m], spec_hi[m])``;
    ``pointer[m]`` rotates through it so caseloads fill evenly.

    Returns:
        The number still waiting after assignment.
    """
    waiting = 0
    full = np.zeros(spec_lo.shape[0], dtype=np.bool_)
    for i in range(status.shape[0]):
        if status[i] == NOT_ARRIVED and arrival_week[i] <= week:
            status[i] = WAITING
        if status[i] != WAITING:
            continue
        m = method[i]
        lo = spec_lo[m]
        n_spec = spec_hi[m] - lo
        found = NO_ONE
        if n_spec > 0 and not full[m]:
            for _ in range(n_spec):
                s = lo + pointer[m]
                pointer[m] = (pointer[m] + 1) % n_spec
                if caseload[s] < spec_cap[s]:
                    found = s
                    break
        if found == NO_ONE:
            full[m] = True
            waiting += 1
            continue
        specialist[i] = found
        caseload[found] += 1
        status[i] = PROGRAMME
        programme_start[i] = week
        phase[i] = PH_NONE
    return waiting


# --------------------------------------------------------------------------- 2. programme
@njit(cache=True)
def programme_week(
    week,
    status,
    phase,
    method,
    programme_start,
    language,
    education,
    age,
    specialist,
    follow_along_left,
    job_start,
    schedule_phase,
    schedule_end,
    training_hours,
    support_hours,
    employer_step_weeks,
    in_work_hours,
    after_exit_hours,
    gain_per_hour,
    education_gain,
    age_gain_per_year,
):
    """Language grows with training, support and work; programme and support phases advance.

    Inputs, in signature order:
        week: Simulation week.
        status ... job_start: ``Refugees`` arrays of the same names (language and
            phase are written).
        schedule_phase, schedule_end: Each method's programme phases and the
            programme week each ends (``MethodTables``).
        training_hours ... employer_step_weeks: ``MethodTables`` rows, by method code.
        in_work_hours ... age_gain_per_year: ``[programme]`` values of the same names.
    """
    for i in range(status.shape[0]):
        st = status[i]
        m = method[i]
        hours = 0.0
        if st == PROGRAMME:
            pw = week - programme_start[i]
            k = 0
            while schedule_end[m, k] <= pw:
                k += 1
            phase[i] = schedule_phase[m, k]
            hours = training_hours[m] + support_hours[m]
        elif st == EMPLOYED or st == SUBSIDISED:
            # Full-time work crowds out formal training; language still grows on the job.
            hours = in_work_hours
            if specialist[i] != NO_ONE:
                hours += support_hours[m]
                if m == SE:
                    tenure = week - job_start[i]
                    phase[i] = PH_SE_EMPLOYER if tenure < employer_step_weeks[m] else PH_SE_TRAINING
                else:
                    phase[i] = PH_FOLLOW_ALONG
        elif st == EDUCATION:
            hours = training_hours[m]
        elif st == UNEMPLOYED:
            hours = after_exit_hours
        if hours > 0.0:
            speed = education_gain[education[i]] * max(
                0.3, 1.0 - age_gain_per_year * max(0.0, age[i] - 25.0)
            )
            language[i] += hours * gain_per_hour * speed * (1.0 - language[i] / LANGUAGE_CEILING)


# --------------------------------------------------------------------------- 3. specialists
@njit(cache=True)
def specialist_week(
    week,
    key,
    spec_method,
    skill,
    caseload,
    tie_employer,
    tie_strength,
    contacts,
    n_employers,
    employer_time_share,
    hours_per_week,
    hours_per_contact,
    tie_growth,
    tie_decay,
    new_contact_share,
):
    """Ties fade; specialists with participants contact employers, new and known.

    Returns:
        The number of employer contacts made this week.
    """
    total = 0
    n_slots = tie_employer.shape[1]
    for s in range(spec_method.shape[0]):
        n_ties = 0
        for k in range(n_slots):
            if tie_employer[s, k] != NO_ONE:
                tie_strength[s, k] *= 1.0 - tie_decay
                if tie_strength[s, k] < TIE_FLOOR:
                    tie_employer[s, k] = NO_ONE
                    tie_strength[s, k] = 0.0
                else:
                    n_ties += 1
        if caseload[s] == 0:
            continue
        expected = employer_time_share[spec_method[s]] * hours_per_week / hours_per_contact
        n_contacts = int(expected)
        if uniform(key, week, s, S_CONTACTS) < expected - n_contacts:
            n_contacts += 1
        gain = min(1.0, tie_growth * skill[s])
        for c in range(n_contacts):
            if n_ties == 0 or uniform(key, week, s, S_CONTACT_NEW + c) < new_contact_share:
                e = int(uniform(key, week, s, S_CONTACT_PICK + c) * n_employers)
            else:
                # Revisit a known employer, chosen uniformly among held ties.
                target = int(uniform(key, week, s, S_CONTACT_PICK + c) * n_ties)
                e = NO_ONE
                seen = 0
                for k in range(n_slots):
                    if tie_employer[s, k] != NO_ONE:
                        if seen == target:
                            e = tie_employer[s, k]
                            break
                        seen += 1
            was_new = True
            for k in range(n_slots):
                if tie_employer[s, k] == e:
                    was_new = False
                    break
            _strengthen(tie_employer, tie_strength, s, e, gain)
            if was_new and n_ties < n_slots:
                n_ties += 1
            contacts[s] += 1
            total += 1
    return total


# --------------------------------------------------------------------------- 4. vacancies
@njit(cache=True)
def vacancy_week(
    week,
    key,
    is_open,
    serial,
    weeks_left,
    requirement,
    bar,
    hidden,
    filled,
    employer_sector,
    sector_requirement,
    next_serial,
    open_rate,
    vacancy_weeks,
    hidden_share,
    outside_fill,
    bar_mean,
    requirement_sd,
    bar_sd,
):
    """Open vacancies close (outside hire or expiry); closed slots open new ones.

    Returns:
        (next serial, vacancies opened, filled by outside job seekers).
    """
    opened = 0
    outside = 0
    for v in range(is_open.shape[0]):
        if is_open[v] == 1:
            if uniform(key, week, v, S_VAC_OUTSIDE) < outside_fill:
                is_open[v] = 0
                outside += 1
                continue
            weeks_left[v] -= 1
            if weeks_left[v] <= 0:
                is_open[v] = 0
        elif uniform(key, week, v, S_VAC_OPEN) < open_rate:
            e = v // SLOTS
            serial[v] = next_serial
            next_serial += 1
            is_open[v] = 1
            filled[v] = 0
            weeks_left[v] = vacancy_weeks
            req = sector_requirement[employer_sector[e]] + requirement_sd * normal(
                key, week, v, S_VAC_REQ
            )
            requirement[v] = min(LANGUAGE_CEILING, max(0.0, req))
            bar[v] = bar_mean + bar_sd * normal(key, week, v, S_VAC_BAR)
            hidden[v] = 1 if uniform(key, week, v, S_VAC_HIDDEN) < hidden_share else 0
            opened += 1
    return next_serial, opened, outside


# --------------------------------------------------------------------------- 5. matching
@njit(cache=True)
def match_week(
    week,
    key,
    # participants
    status,
    phase,
    method,
    specialist,
    language,
    productivity,
    mental_health,
    care,
    preferred_sector,
    follow_along_left,
    job_vacancy,
    job_employer,
    job_start,
    job_requirement,
    job_wage,
    job_fit,
    subsidy_weeks,
    first_job_week,
    first_job_active,
    exit_week,
    exit_status,
    # specialists
    skill,
    caseload,
    tie_employer,
    tie_strength,
    placements,
    # employers and vacancies
    employer_sector,
    employer_wage,
    open_to_refugees,
    requires_follow_up,
    requires_subsidy,
    is_open,
    serial,
    requirement,
    bar,
    hidden,
    filled,
    n_sectors,
    # method tables
    search_intensity,
    practice_intensity,
    endorsement,
    preference_weight,
    follow_along_weeks,
    participant_hours,
    # scalars
    unemployed_intensity,
    health_search,
    care_search,
    specialist_support,
    support_saturation_hours,
    language_slope,
    score_noise,
    unmet_penalty,
    discrimination,
    practice_trust,
    subsidy_code,
    subsidy_rate,
    subsidy_max_weeks,
    low_language_below,
    hiring_weight,
    tie_placement,
):
    """One week of matching: applications, employer scoring, offers and acceptances.

    Participants searching (in a search phase of the programme, or unemployed)
    send applications: through their specialist's employer ties (endorsed, and
    reaching vacancies never advertised) or to advertised vacancies, leaning to
    their preferred sector. Each employer scores applicants on productivity and
    language fit, the specialist's endorsement weighted by its trust, and the
    subsidy's cut in wage cost, against the bar set by outside competition.
    Each vacancy offers to its best applicant above the bar; each participant
    accepts the best offer. In work practice, the first application goes to the
    practice host, whose trust counts like a specialist's tie.

    Inputs, in signature order:
        week, key: Simulation week and the run's key for the random draws.
        status ... exit_status: ``Refugees`` arrays of the same names; those of
            the job and first-job trackers are written for each hire.
        skill ... placements: ``Specialists`` arrays; ties grow with each placement.
        employer_sector ... requires_subsidy: ``Employers`` arrays.
        is_open ... filled: ``Vacancies`` arrays; a filled opening closes.
        n_sectors: Number of sectors.
        search_intensity ... participant_hours: ``MethodTables`` rows, by method code.
        unemployed_intensity ... tie_placement: Scenario scalars of the same names
            (see ``IntroModel._matching`` for the schema field of each).

    Returns:
        The number of hires.
    """
    n = status.shape[0]
    n_vac = is_open.shape[0]

    # Open vacancies reachable through a tie: sum of tie strength per specialist.
    route_total = np.zeros(tie_employer.shape[0])
    for s in range(tie_employer.shape[0]):
        for k in range(tie_employer.shape[1]):
            e = tie_employer[s, k]
            if e != NO_ONE:
                for j in range(SLOTS):
                    if is_open[e * SLOTS + j] == 1:
                        route_total[s] += tie_strength[s, k]
                        break

    # Advertised open vacancies, grouped by sector (counting sort).
    sector_count = np.zeros(n_sectors + 1, dtype=np.int64)
    for v in range(n_vac):
        if is_open[v] == 1 and hidden[v] == 0:
            sector_count[employer_sector[v // SLOTS] + 1] += 1
    sector_start = np.cumsum(sector_count)
    n_adv = sector_start[n_sectors]
    adv = np.empty(n_adv, dtype=np.int64)
    fill = sector_start[:n_sectors].copy()
    for v in range(n_vac):
        if is_open[v] == 1 and hidden[v] == 0:
            sec = employer_sector[v // SLOTS]
            adv[fill[sec]] = v
            fill[sec] += 1

    best_score = np.full(n_vac, -np.inf)
    best_app = np.full(n_vac, NO_ONE, dtype=np.int64)

    for i in range(n):
        st = status[i]
        m = method[i]
        s = specialist[i]
        intensity = 0.0
        in_practice = False
        if st == PROGRAMME:
            if phase[i] == PH_JOB_SEARCH:
                intensity = search_intensity[m]
            elif phase[i] == PH_PRACTICE:
                intensity = search_intensity[m] * practice_intensity[m]
                in_practice = True
        elif st == UNEMPLOYED:
            intensity = search_intensity[m] if s != NO_ONE else unemployed_intensity
        if intensity <= 0.0:
            continue
        support = 0.0
        if s != NO_ONE:
            support = participant_hours[m] / max(1, caseload[s])
        intensity *= (1.0 - health_search * mental_health[i]) * (1.0 - care_search * care[i])
        intensity *= 1.0 + specialist_support * (
            1.0 - math.exp(-support / support_saturation_hours)
        )
        n_apps = int(intensity)
        if uniform(key, week, i, S_APPS) < intensity - n_apps:
            n_apps += 1

        eligible = subsidy_eligible(subsidy_code, language[i], mental_health[i], low_language_below)
        rate = subsidy_rate if eligible else 0.0
        pref = preferred_sector[i]
        # In work practice the first application goes to the host, if it has an opening.
        host = NO_ONE
        host_vacancy = NO_ONE
        if in_practice:
            host = int(uniform(key, 0, i, S_HOST) * employer_sector.shape[0])
            for j in range(SLOTS):
                if is_open[host * SLOTS + j] == 1:
                    host_vacancy = host * SLOTS + j
                    break
        for a in range(n_apps):
            v = NO_ONE
            trust = 0.0
            if a == 0 and host_vacancy != NO_ONE:
                v = host_vacancy
            elif (
                s != NO_ONE
                and route_total[s] > 0.0
                and (uniform(key, week, i, S_ROUTE + a) < route_total[s] / (route_total[s] + 1.0))
            ):
                target = uniform(key, week, i, S_PICK + a) * route_total[s]
                acc = 0.0
                for k in range(tie_employer.shape[1]):
                    e = tie_employer[s, k]
                    if e == NO_ONE:
                        continue
                    slot = NO_ONE
                    for j in range(SLOTS):
                        if is_open[e * SLOTS + j] == 1:
                            slot = e * SLOTS + j
                            break
                    if slot == NO_ONE:
                        continue
                    acc += tie_strength[s, k]
                    v = slot
                    trust = tie_strength[s, k]
                    if acc > target:
                        break
            elif n_adv > 0:
                u = uniform(key, week, i, S_PICK + a)
                in_pref = sector_count[pref + 1]
                if in_pref > 0 and uniform(key, week, i, S_SECTOR + a) < preference_weight[m]:
                    v = adv[sector_start[pref] + int(u * in_pref)]
                else:
                    v = adv[int(u * n_adv)]
            if v == NO_ONE:
                continue
            e = v // SLOTS
            if e == host:
                trust = max(trust, practice_trust)
            known = trust > 0.0
            if not known:
                if open_to_refugees[e] == 0:
                    continue
                if uniform(key, week, i, S_DISCRIM + a) < discrimination:
                    continue
            score = (
                2.0 * productivity[i] * language_fit(language[i], requirement[v], language_slope)
            )
            if s != NO_ONE:
                score += endorsement[m] * trust * skill[s]
            score += hiring_weight * rate
            # A NAV wage subsidy comes with NAV's own follow-up of the employer.
            if requires_follow_up[e] == 1 and not known and rate <= 0.0:
                score -= unmet_penalty
            if requires_subsidy[e] == 1 and rate <= 0.0:
                score -= unmet_penalty
            score += score_noise * normal(key, week, i, S_NOISE + a)
            if score > bar[v] and score > best_score[v]:
                best_score[v] = score
                best_app[v] = i

    # Each participant accepts the best offer: preferred sector first, then score.
    offer = np.full(n, NO_ONE, dtype=np.int64)
    offer_value = np.full(n, -np.inf)
    for v in range(n_vac):
        i = best_app[v]
        if i == NO_ONE:
            continue
        value = best_score[v]
        if employer_sector[v // SLOTS] == preferred_sector[i]:
            value += PREFERRED_OFFER_BONUS
        if value > offer_value[i]:
            offer_value[i] = value
            offer[i] = v

    hires = 0
    for v in range(n_vac):
        i = best_app[v]
        if i == NO_ONE or offer[i] != v:
            continue
        e = v // SLOTS
        eligible = subsidy_eligible(subsidy_code, language[i], mental_health[i], low_language_below)
        weeks = subsidy_max_weeks if eligible else 0
        from_programme = status[i] == PROGRAMME
        status[i] = SUBSIDISED if weeks > 0 else EMPLOYED
        job_vacancy[i] = serial[v]
        job_employer[i] = e
        job_start[i] = week
        job_requirement[i] = requirement[v]
        job_wage[i] = employer_wage[e]
        job_fit[i] = 1 if employer_sector[e] == preferred_sector[i] else 0
        subsidy_weeks[i] = weeks
        is_open[v] = 0
        filled[v] = 1
        if first_job_week[i] < 0:
            first_job_week[i] = week
            first_job_active[i] = 1
        if from_programme:
            exit_week[i] = week
            exit_status[i] = status[i]
        s = specialist[i]
        if s != NO_ONE:
            placements[s] += 1
            _strengthen(tie_employer, tie_strength, s, e, tie_placement)
            fa = follow_along_weeks[method[i]]
            if fa > 0:
                follow_along_left[i] = fa
                phase[i] = PH_FOLLOW_ALONG
            else:
                _release(i, specialist, caseload, follow_along_left)
                phase[i] = PH_NONE
        else:
            phase[i] = PH_NONE
        hires += 1
    return hires


# --------------------------------------------------------------------------- 6. jobs
@njit(cache=True)
def jobs_week(
    week,
    key,
    status,
    phase,
    specialist,
    caseload,
    follow_along_left,
    language,
    productivity,
    mental_health,
    job_vacancy,
    job_start,
    job_requirement,
    job_fit,
    subsidy_weeks,
    first_job_active,
    language_slope,
    on_job_growth,
    keep_bar,
    score_noise,
    separation_hazard,
    separation_fit,
    separation_support,
    separation_health,
):
    """Jobs: subsidies expire (keep or release), separations happen, follow-along counts down.

    Returns:
        (separations, of which releases when a subsidy ended).
    """
    separations = 0
    released = 0
    for i in range(status.shape[0]):
        st = status[i]
        if st == EMPLOYED or st == SUBSIDISED:
            tenure = week - job_start[i]
            leave = False
            if st == SUBSIDISED and tenure >= subsidy_weeks[i]:
                # Keep the worker only if worth the full wage.
                worth = (
                    2.0
                    * productivity[i]
                    * language_fit(language[i], job_requirement[i], language_slope)
                )
                worth += on_job_growth * min(tenure, WEEKS_PER_YEAR) / WEEKS_PER_YEAR
                worth += score_noise * normal(key, week, i, S_KEEP)
                if worth >= keep_bar:
                    status[i] = EMPLOYED
                else:
                    leave = True
                    released += 1
            else:
                h = separation_hazard * (1.0 - separation_fit * job_fit[i])
                if follow_along_left[i] > 0:
                    h *= 1.0 - separation_support
                h *= 1.0 + separation_health * mental_health[i]
                leave = uniform(key, week, i, S_SEPARATE) < h
            if leave:
                separations += 1
                status[i] = UNEMPLOYED
                first_job_active[i] = 0
                job_vacancy[i] = -1
                phase[i] = PH_JOB_SEARCH if specialist[i] != NO_ONE else PH_NONE
        st = status[i]
        if specialist[i] != NO_ONE and st != PROGRAMME and st != WAITING:
            follow_along_left[i] -= 1
            if follow_along_left[i] <= 0:
                _release(i, specialist, caseload, follow_along_left)
                phase[i] = PH_NONE
    return separations, released


# --------------------------------------------------------------------------- 7. exits
@njit(cache=True)
def exit_week_kernel(
    week,
    key,
    status,
    phase,
    specialist,
    caseload,
    follow_along_left,
    programme_start,
    exit_week,
    exit_status,
    age,
    arrival_week,
    education,
    language,
    mental_health,
    care,
    max_weeks,
    education_hazard,
    edu_base,
    edu_young,
    edu_per_level,
    edu_per_language,
    inactive_share,
    reactivation_rate,
):
    """Programme exits at full length or early into education; the inactive may start searching.

    Returns:
        The number who left the programme this week.
    """
    exits = 0
    for i in range(status.shape[0]):
        st = status[i]
        if st == PROGRAMME:
            young = age_at(age[i], arrival_week[i], week) < YOUNG_AGE
            new = -1
            if (
                young
                and language[i] >= EDUCATION_LANGUAGE
                and (uniform(key, week, i, S_EDU_EARLY) < education_hazard)
            ):
                new = EDUCATION
            elif week - programme_start[i] + 1 >= max_weeks:
                logit = (
                    edu_base
                    + edu_per_level * (education[i] - 1)
                    + edu_per_language * (language[i] - 2.0)
                )
                if young:
                    logit += edu_young
                if uniform(key, week, i, S_EDU_EXIT) < 1.0 / (1.0 + math.exp(-logit)):
                    new = EDUCATION
                else:
                    burden = 2.0 if (care[i] == 1 or mental_health[i] == 1) else 1.0
                    p_inactive = min(1.0, inactive_share * burden)
                    new = INACTIVE if uniform(key, week, i, S_INACTIVE) < p_inactive else UNEMPLOYED
            if new >= 0:
                status[i] = new
                phase[i] = PH_NONE
                exit_week[i] = week
                exit_status[i] = new
                _release(i, specialist, caseload, follow_along_left)
                exits += 1
        elif st == INACTIVE and uniform(key, week, i, S_REACTIVATE) < reactivation_rate:
            status[i] = UNEMPLOYED
    return exits


# --------------------------------------------------------------------------- 8. accounting
@njit(cache=True)
def account_week(
    week,
    status,
    arrival_week,
    age,
    specialist,
    spec_cap,
    job_start,
    job_wage,
    exit_week,
    status_12m,
    status_24m,
    status_60m,
    status_after_exit_12m,
    weeks_employed_24m,
    first_job_active,
    first_job_weeks,
    cost_specialist,
    cost_subsidy,
    cost_benefit,
    status_counts,
    specialist_week_cost,
    benefit_week,
    benefit_under_25_share,
    subsidy_rate,
    subsidy_step_down_week,
    subsidy_rate_after,
):
    """Costs, outcome trackers and this week's status counts.

    Inputs, in signature order:
        week: Simulation week.
        status ... cost_benefit: ``Refugees`` arrays of the same names (trackers and
            costs are written); ``spec_cap`` is the specialists' caseload caps.
        status_counts: This week's row of the weekly series, counted into by status.
        specialist_week_cost: One specialist's cost per week, NOK.
        benefit_week, benefit_under_25_share: Introduction benefit per week, NOK,
            and the share paid under 25.
        subsidy_rate, subsidy_step_down_week, subsidy_rate_after: The wage subsidy's
            rates and the job week the lower one starts.
    """
    for i in range(status.shape[0]):
        st = status[i]
        status_counts[st] += 1
        if st == NOT_ARRIVED:
            continue
        s = specialist[i]
        if s != NO_ONE:
            # A participant is charged the cost of the caseload slot they occupy.
            cost_specialist[i] += specialist_week_cost / spec_cap[s]
        # The benefit is paid for every programme week, the week of leaving included.
        if st == PROGRAMME or exit_week[i] == week:
            age_now = age_at(age[i], arrival_week[i], week)
            cost_benefit[i] += benefit_week * (
                1.0 if age_now >= FULL_BENEFIT_AGE else benefit_under_25_share
            )
        employed = st == EMPLOYED or st == SUBSIDISED
        if st == SUBSIDISED:
            tenure = week - job_start[i]
            rate = subsidy_rate if tenure < subsidy_step_down_week else subsidy_rate_after
            cost_subsidy[i] += rate * job_wage[i]
        t = week + 1 - arrival_week[i]
        if employed and t <= WEEKS_24M:
            weeks_employed_24m[i] += 1
        if t == WEEKS_12M:
            status_12m[i] = st
        elif t == WEEKS_24M:
            status_24m[i] = st
        elif t == WEEKS_60M:
            status_60m[i] = st
        if exit_week[i] >= 0 and week - exit_week[i] == WEEKS_12M:
            status_after_exit_12m[i] = st
        if first_job_active[i] == 1 and employed:
            first_job_weeks[i] += 1
