"""The kernels: every per-agent weekly loop, as numba-compiled pure array functions.

Each kernel takes a few named groups (``NamedTuple``s of arrays and scalars,
see ``world.py``): the populations, the method tables, the run's constants and
its counters. It changes the arrays it is given in place and returns small
counts. Each kernel unpacks the fields it uses at its top, so the loop bodies
read like array code. Randomness is counter-based: a draw is a hash
of (run key, week, agent index, stream), so it depends on neither loop order
nor thread count, and the same participant sees the same draws in every
scenario of a comparison (common random numbers).

Every kernel is compiled once and cached (``@njit(cache=True)``); ``kernel.py_func`` is
the same code run as plain Python, which the tests compare against the compiled version.
The weekly kernels allocate nothing: the arrays they work in come with the run
(``state.Workspace``), so they are compiled without numba's reference counting (see
``_weekly_kernel``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from introsim.model.state import (
    EVENT_COLUMN,
    LEDGER_COLUMN,
    NO_ONE,
    SLOTS_PER_EMPLOYER,
    WEEKS_12M,
    WEEKS_24M,
    WEEKS_60M,
    WEEKS_120M,
    WEEKS_PER_YEAR,
    MethodCode,
    Phase,
    Status,
)
from introsim.params.schema import (
    EDUCATION_ENTRY_REFERENCE_LANGUAGE,
    EDUCATION_ENTRY_REFERENCE_LEVEL,
    EDUCATION_LEVELS,
    ELIGIBILITY,
    FULL_BENEFIT_AGE,
    FULL_TIME_HOURS,
    LANGUAGE_MAX,
)

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
N_EDUCATION = len(EDUCATION_LEVELS)

PH_NONE = int(Phase.NONE)
PH_LANGUAGE = int(Phase.LANGUAGE)
PH_PRACTICE = int(Phase.PRACTICE)
PH_JOB_SEARCH = int(Phase.JOB_SEARCH)
PH_FOLLOW_ALONG = int(Phase.FOLLOW_ALONG)
PH_SE_EMPLOYER = int(Phase.SE_EMPLOYER_COOPERATION)
PH_SE_TRAINING = int(Phase.SE_TRAINING_SUPPORT)
SE = int(MethodCode.SE)

COL_HIRES = EVENT_COLUMN["hires"]
COL_SEPARATIONS = EVENT_COLUMN["separations"]
COL_RELEASES = EVENT_COLUMN["subsidy_releases"]
COL_EXITS = EVENT_COLUMN["programme_exits"]
COL_OPENED = EVENT_COLUMN["vacancies_opened"]
COL_OUTSIDE = EVENT_COLUMN["outside_fills"]
COL_CONTACTS = EVENT_COLUMN["employer_contacts"]

L_BENEFIT = LEDGER_COLUMN["introduction_benefit"]
L_GRANT = LEDGER_COLUMN["integration_grant"]
L_SOCIAL = LEDGER_COLUMN["social_assistance"]
L_SUBSIDY = LEDGER_COLUMN["wage_subsidy"]
L_NAV = LEDGER_COLUMN["nav_follow_up"]
L_SPECIALISTS = LEDGER_COLUMN["specialists"]
L_TEACHING = LEDGER_COLUMN["teaching"]
L_TAX_MUNICIPALITY = LEDGER_COLUMN["income_tax_municipality"]
L_TAX_REST = LEDGER_COLUMN["income_tax_rest"]
L_CONTRIBUTIONS = LEDGER_COLUMN["employer_contributions"]
L_PAY = LEDGER_COLUMN["gross_pay"]
GRANT_YEARS = 5  # the integration grant runs the year of settlement and four more

ELIG_NONE = ELIGIBILITY.index("none")
ELIG_ALL = ELIGIBILITY.index("all")
ELIG_LOW_LANGUAGE = ELIGIBILITY.index("low_language")
ELIG_REDUCED_CAPACITY = ELIGIBILITY.index("reduced_capacity")

SLOTS = SLOTS_PER_EMPLOYER

# The weekly kernels take the run's named groups (about 90 arrays in all). With numba's
# reference counting on, every function that is not inlined increments and decrements the
# count of every array it is given, atomically, on entry and exit, and those operations keep
# LLVM from inlining it: about 1,600 atomic operations a week whatever the population (a
# quarter of a 20-participant run, a tenth of a 500-participant one). None of these kernels
# allocates or returns an array (numba refuses to compile one that does without the runtime),
# so they need no counts: the arrays stay owned by the caller for the whole call.
_weekly_kernel = njit(cache=True, error_model="numpy", _nrt=False)  # type: ignore[call-overload]

# The weekly kernels, in the order IntroModel.step calls them (the fixed weekly order).
WEEKLY_KERNELS: tuple[str, ...] = (
    "assign_waiting",
    "programme_week",
    "specialist_week",
    "vacancy_week",
    "match_week",
    "jobs_week",
    "exit_week_kernel",
    "account_week",
    "ledger_week",
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
S_NAV = 22 << 20  # keyed to week 0: whether NAV offers this person a wage subsidy
S_NETWORK = 23 << 20
S_NETWORK_PICK = 24 << 20
S_PART_TIME = 25 << 20
S_EDU_LENGTH = 26 << 20
S_EDU_DONE = 27 << 20
S_EDU_DROP = 28 << 20
S_NAV_FOLLOW = 29 << 20
S_OUTSIDE_CHOICE = 30 << 20  # the outside candidates' Gumbel term, per vacancy and week
S_EDU_AFTER = 31 << 20
S_DISABILITY = 32 << 20
S_MIGRATION = 33 << 20
S_NORMAL_PAIR = 1 << 19  # offset of the second uniform of a normal draw

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53
_LARGEST_U = 1.0 - _TO_UNIT  # the largest uniform draw


# --------------------------------------------------------------------------- random draws
@njit(cache=True, error_model="numpy")
def _splitmix(z):
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, error_model="numpy")
def week_key(key, week):
    """The part of every draw of one week that depends on (key, week) only: hashed once a week."""
    # Kept as the same 64 bits in a signed integer, so a plain-Python caller can pass it on.
    return np.int64(_splitmix(np.uint64(key) + np.uint64(week) * _GOLDEN))


@njit(cache=True, error_model="numpy")
def draw(wk, index, stream):
    """Return a uniform draw in [0, 1) fixed by a week's key ``wk``, an index and a stream."""
    z = _splitmix(np.uint64(wk) ^ (np.uint64(index) * _GOLDEN + np.uint64(stream)))
    return float(z >> np.uint64(11)) * _TO_UNIT


@njit(cache=True, error_model="numpy")
def gauss(wk, index, stream):
    """Return a standard normal draw fixed by a week's key, index and stream (Box-Muller)."""
    u1 = draw(wk, index, stream)
    u2 = draw(wk, index, stream + S_NORMAL_PAIR)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True, error_model="numpy")
def gumbel(wk, index, stream):
    """Return a standard Gumbel draw (location 0, scale 1) fixed by a week's key, index, stream.

    The argmax of values plus independent Gumbel terms of scale s picks option j with the
    conditional-logit probability exp(V_j / s) / sum_k exp(V_k / s) (the Gumbel-max rule).
    """
    return gumbel_of(draw(wk, index, stream))


@njit(cache=True, error_model="numpy")
def gumbel_of(u):
    """The standard Gumbel draw of a uniform draw ``u`` in [0, 1) (see :func:`gumbel`)."""
    # u + half a step is in (0, 1), except for the largest u, where it rounds to 1 (and the
    # term would be infinite): that one is held at the largest u itself.
    return -math.log(-math.log(min(u + 0.5 * _TO_UNIT, _LARGEST_U)))


# In matching's ``best_app``: the outside option leads, its value known only to its bin.
OUTSIDE_BOUNDED = NO_ONE - 1

# An upper bound of the Gumbel draw of any u in each of GUMBEL_BINS equal bins of [0, 1):
# the draw rises with u, so bin k's draws stay below that of (k + 1) / GUMBEL_BINS; the last
# bin's below that of the largest u, 1 - 2**-53 (a draw is below 54 ln 2 < 37.5). Matching
# compares an application's best possible value with the vacancy's best so far before working
# out its language fit and Gumbel term (two logs), which only a possible winner needs.
GUMBEL_BINS = 256
GUMBEL_CEILING = np.array(
    [-math.log(-math.log((k + 1) / GUMBEL_BINS)) for k in range(GUMBEL_BINS - 1)] + [37.5]
)
# The matching lower bound: bin k's draws are at least that of k / GUMBEL_BINS; the first
# bin's at least that of the smallest u + half a step, 2**-54 (a draw is above -ln(54 ln 2)
# > -3.7). With both bounds the outside option's term is worked out only when an applicant's
# value falls between them.
GUMBEL_FLOOR = np.array(
    [-3.7] + [-math.log(-math.log(k / GUMBEL_BINS)) for k in range(1, GUMBEL_BINS)]
)
# Rounding in working out a value and its bound is below 1e-13 at the scores' sizes (up to
# about 50); a bound this much above the best is never used to skip a possible winner.
SKIP_MARGIN = 1e-9


@njit(cache=True, error_model="numpy")
def logistic(wk, index, stream):
    """Return a standard logistic draw (the difference of two standard Gumbel draws)."""
    u = draw(wk, index, stream) + 0.5 * _TO_UNIT
    return math.log(u) - math.log(1.0 - u)


@njit(cache=True, error_model="numpy")
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
    return draw(week_key(key, week), index, stream)


@njit(cache=True, error_model="numpy")
def normal(key, week, index, stream):
    """Return a standard normal draw fixed by (key, week, index, stream) (Box-Muller)."""
    return gauss(week_key(key, week), index, stream)


@njit(cache=True, error_model="numpy")
def language_fit(language, requirement, slope):
    """Share of a job's productivity reached at a language level (logistic around its need)."""
    return 1.0 / (1.0 + math.exp(-slope * (language - requirement)))


@njit(cache=True, error_model="numpy")
def age_at(age_at_arrival, arrival_week, week):
    """A participant's age in a given week, years."""
    return age_at_arrival + (week - arrival_week) / WEEKS_PER_YEAR


@njit(cache=True, error_model="numpy")
def subsidy_eligible(code, language, mental_health, low_language_below):
    """Whether a participant may bring a wage subsidy under eligibility rule ``code``."""
    if code == ELIG_ALL:
        return True
    if code == ELIG_LOW_LANGUAGE:
        return language < low_language_below
    if code == ELIG_REDUCED_CAPACITY:
        return mental_health == 1
    return False


@njit(cache=True, error_model="numpy")
def subsidy_offer(i, status, has_specialist, language, mental_health, transition, params, wk0):
    """(first-period rate, weeks) of the wage subsidy participant ``i`` brings to an employer.

    The scenario's own subsidy where the participant is eligible; otherwise, for an
    unemployed former participant followed by NAV alone, NAV's ordinary temporary
    subsidy if NAV offers it to this person (a draw fixed for the run, against a higher
    share in the ``transition`` weeks after the programme).
    """
    if subsidy_eligible(params.subsidy_code, language, mental_health, params.low_language_below):
        return params.subsidy_rate, params.subsidy_weeks
    share = params.transition_subsidy_share if transition else params.nav_subsidy_share
    if (
        status == UNEMPLOYED
        and not has_specialist
        and params.nav_subsidy_rate > 0.0
        and draw(wk0, i, S_NAV) < share
    ):
        return params.nav_subsidy_rate, params.nav_subsidy_weeks
    return 0.0, 0


@njit(cache=True, inline="always", error_model="numpy")
def _strengthen(tie_employer, tie_strength, s, e, gain):
    """Strengthen specialist s's tie to employer e, taking a free or the weakest slot if new.

    Returns:
        Whether e was new to s (held no tie before).
    """
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
        return False
    k = k_free if k_free >= 0 else k_weak
    tie_employer[s, k] = e
    tie_strength[s, k] = gain
    return True


@njit(cache=True, inline="always", error_model="numpy")
def _release(i, specialist, caseload, follow_along_left):
    """End participant i's follow-up, freeing the specialist's caseload slot."""
    s = specialist[i]
    if s != NO_ONE:
        caseload[s] -= 1
        specialist[i] = NO_ONE
    follow_along_left[i] = 0


# --------------------------------------------------------------------------- 1. intake
@_weekly_kernel
def assign_waiting(week, refugees, specialists, params, counters, work):
    """Arrivals join the queue; queued participants get a specialist of their method with room.

    Specialists of one method occupy the index range ``[spec_lo[m], spec_hi[m])``;
    ``pointer[m]`` rotates through it so caseloads fill evenly.

    Returns:
        The number still waiting after assignment.
    """
    arrival_week, status, phase, method = (
        refugees.arrival_week,
        refugees.status,
        refugees.phase,
        refugees.method,
    )
    specialist, programme_start = refugees.specialist, refugees.programme_start
    spec_lo, spec_hi, spec_cap, caseload, pointer = (
        params.spec_lo,
        params.spec_hi,
        specialists.cap,
        specialists.caseload,
        counters.pointer,
    )
    waiting = 0
    full = work.method_full
    full[:] = False
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
@_weekly_kernel
def programme_week(week, refugees, tables, params):
    """Language grows with training, support and work; programme and support phases advance.

    Language and phase are written; the programme schedule comes from ``tables``.
    """
    status, phase, method, programme_start = (
        refugees.status,
        refugees.phase,
        refugees.method,
        refugees.programme_start,
    )
    language, education, age, specialist = (
        refugees.language,
        refugees.education,
        refugees.age,
        refugees.specialist,
    )
    job_start = refugees.job_start
    schedule_phase, schedule_end = tables.schedule_phase, tables.schedule_end
    training_hours, support_hours = tables.training_hours, tables.language_support_hours
    employer_step_weeks = tables.employer_step_weeks
    in_work_hours, after_exit_hours = params.in_work_hours, params.after_exit_hours
    gain_per_hour, education_gain = params.language_gain_per_hour, params.education_gain
    age_gain_per_year, learning_age_from = params.age_gain_per_year, params.learning_age_from
    learning_speed_floor = params.learning_speed_floor
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
            # Alongside a part-time job the programme's training goes on.
            hours = in_work_hours
            if refugees.in_programme[i] == 1:
                hours += training_hours[m]
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
                learning_speed_floor,
                1.0 - age_gain_per_year * max(0.0, age[i] - learning_age_from),
            )
            language[i] += hours * gain_per_hour * speed * (1.0 - language[i] / LANGUAGE_MAX)


# --------------------------------------------------------------------------- 3. specialists
@_weekly_kernel
def specialist_week(week, specialists, tables, params):
    """Ties fade; specialists with participants contact employers, new and known.

    Returns:
        The number of employer contacts made this week.
    """
    wk = week_key(params.key, week)
    spec_method, skill, caseload = (
        specialists.method,
        specialists.skill,
        specialists.caseload,
    )
    tie_employer, tie_strength, contacts = (
        specialists.tie_employer,
        specialists.tie_strength,
        specialists.contacts,
    )
    n_employers, employer_time_share = params.n_employers, tables.employer_time_share
    hours_per_week, hours_per_contact = params.hours_per_week, params.hours_per_employer_contact
    tie_growth, tie_decay, new_contact_share = (
        params.tie_growth,
        params.tie_decay,
        params.new_contact_share,
    )
    tie_forget_below = params.tie_forget_below
    total = 0
    n_slots = tie_employer.shape[1]
    for s in range(spec_method.shape[0]):
        n_ties = 0
        for k in range(n_slots):
            if tie_employer[s, k] != NO_ONE:
                tie_strength[s, k] *= 1.0 - tie_decay
                if tie_strength[s, k] < tie_forget_below:
                    tie_employer[s, k] = NO_ONE
                    tie_strength[s, k] = 0.0
                else:
                    n_ties += 1
        if caseload[s] == 0:
            continue
        expected = employer_time_share[spec_method[s]] * hours_per_week / hours_per_contact
        n_contacts = int(expected)
        if draw(wk, s, S_CONTACTS) < expected - n_contacts:
            n_contacts += 1
        gain = min(1.0, tie_growth * skill[s])
        for c in range(n_contacts):
            if n_ties == 0 or draw(wk, s, S_CONTACT_NEW + c) < new_contact_share:
                e = int(draw(wk, s, S_CONTACT_PICK + c) * n_employers)
                was_new = _strengthen(tie_employer, tie_strength, s, e, gain)
                if was_new and n_ties < n_slots:
                    n_ties += 1
            else:
                # Revisit a known employer, chosen uniformly among held ties (an employer
                # holds at most one slot, so its tie is the one found here).
                target = int(draw(wk, s, S_CONTACT_PICK + c) * n_ties)
                seen = 0
                for k in range(n_slots):
                    if tie_employer[s, k] != NO_ONE:
                        if seen == target:
                            tie_strength[s, k] += gain * (1.0 - tie_strength[s, k])
                            break
                        seen += 1
            contacts[s] += 1
            total += 1
    return total


# --------------------------------------------------------------------------- 4. vacancies
@_weekly_kernel
def vacancy_week(week, employers, vacancies, params, counters, work):
    """Open vacancies close (outside hire or expiry); closed slots open new ones.

    The week's open slots are listed in ascending order in ``work.open_slots`` (their
    number in ``work.n_open[0]``): matching looks at these alone (about 3 in a hundred).

    Returns:
        (vacancies opened, filled by outside job seekers).
    """
    wk = week_key(params.key, week)
    is_open, serial, weeks_left = (
        vacancies.is_open,
        vacancies.serial,
        vacancies.weeks_left,
    )
    requirement, bar, hidden, filled = (
        vacancies.requirement,
        vacancies.bar,
        vacancies.hidden,
        vacancies.filled,
    )
    employer_sector, sector_requirement = employers.sector, params.sector_requirement
    next_serial = counters.next_serial[0]
    open_rate, vacancy_weeks, hidden_share = (
        params.open_rate,
        params.vacancy_weeks,
        params.hidden_share,
    )
    outside_fill, bar_mean = params.outside_fill, params.bar_mean
    requirement_sd, bar_sd = params.vacancy_requirement_sd, params.vacancy_bar_sd
    open_slots = work.open_slots
    n_open = 0
    opened = 0
    outside = 0
    for v in range(is_open.shape[0]):
        if is_open[v] == 1:
            if draw(wk, v, S_VAC_OUTSIDE) < outside_fill:
                is_open[v] = 0
                outside += 1
                continue
            weeks_left[v] -= 1
            if weeks_left[v] <= 0:
                is_open[v] = 0
            else:
                open_slots[n_open] = v
                n_open += 1
        elif draw(wk, v, S_VAC_OPEN) < open_rate:
            e = v // SLOTS
            serial[v] = next_serial
            next_serial += 1
            is_open[v] = 1
            filled[v] = 0
            weeks_left[v] = vacancy_weeks
            req = sector_requirement[employer_sector[e]] + requirement_sd * gauss(wk, v, S_VAC_REQ)
            requirement[v] = min(LANGUAGE_MAX, max(0.0, req))
            bar[v] = bar_mean + bar_sd * gauss(wk, v, S_VAC_BAR)
            hidden[v] = 1 if draw(wk, v, S_VAC_HIDDEN) < hidden_share else 0
            opened += 1
            open_slots[n_open] = v
            n_open += 1
    work.n_open[0] = n_open
    counters.next_serial[0] = next_serial
    return opened, outside


# --------------------------------------------------------------------------- 5. matching
@_weekly_kernel
def tie_routes(specialists, vacancies, work):
    """Each specialist's routes this week: ties to employers with an open vacancy.

    Written into ``work``: the routes of specialist ``sp`` are
    ``route_vac[route_start[sp]:route_start[sp + 1]]`` (each tied employer's first open
    slot) with the tie's strength in ``route_strength``, in tie-slot order, so applying
    through ties scans only ties that lead somewhere; ``route_total[sp]`` is their summed
    strength, the weight of applying through ties.

    Returns:
        The number of routes.
    """
    tie_employer, tie_strength, is_open = (
        specialists.tie_employer,
        specialists.tie_strength,
        vacancies.is_open,
    )
    route_total, route_start = work.route_total, work.route_start
    route_vac, route_strength = work.route_vac, work.route_strength
    n_spec, n_slots = tie_employer.shape
    route_start[0] = 0
    n_routes = 0
    for sp in range(n_spec):
        route_total[sp] = 0.0
        for k in range(n_slots):
            e = tie_employer[sp, k]
            if e != NO_ONE:
                for j in range(SLOTS):
                    if is_open[e * SLOTS + j] == 1:
                        route_total[sp] += tie_strength[sp, k]
                        route_vac[n_routes] = e * SLOTS + j
                        route_strength[n_routes] = tie_strength[sp, k]
                        n_routes += 1
                        break
        route_start[sp + 1] = n_routes
    return n_routes


@_weekly_kernel
def advertised_by_sector(employers, vacancies, n_sectors, work):
    """Advertised open vacancies grouped by sector (counting sort), written into ``work``.

    ``sector_count[s + 1]`` is sector s's count, ``sector_start[s]`` its first entry in
    ``adv``, the advertised vacancies sector by sector.

    Returns:
        The number of advertised vacancies (the length of ``adv`` in use).
    """
    hidden, employer_sector = vacancies.hidden, employers.sector
    sector_count, sector_start, fill, adv = (
        work.sector_count,
        work.sector_start,
        work.sector_fill,
        work.adv,
    )
    open_slots, n_open = work.open_slots, work.n_open[0]
    sector_count[:] = 0
    for k in range(n_open):
        vac = open_slots[k]
        if hidden[vac] == 0:
            sector_count[employer_sector[vac // SLOTS] + 1] += 1
    sector_start[0] = sector_count[0]
    for sec in range(1, n_sectors + 1):
        sector_start[sec] = sector_start[sec - 1] + sector_count[sec]
    for sec in range(n_sectors):
        fill[sec] = sector_start[sec]
    for k in range(n_open):
        vac = open_slots[k]
        if hidden[vac] == 0:
            sec = employer_sector[vac // SLOTS]
            adv[fill[sec]] = vac
            fill[sec] += 1
    return sector_start[n_sectors]


@_weekly_kernel
def applications(
    week,
    refugees,
    specialists,
    employers,
    vacancies,
    tables,
    params,
    work,
    n_adv,
):
    """Searching participants apply; each vacancy chooses among its applicants and outsiders.

    The employer's choice is a conditional logit: each option's value (an applicant's
    valuation, or the outside candidates' bar) plus an independent Gumbel term of scale
    ``score_noise``, and the highest wins (the Gumbel-max rule). The outside option's term is
    drawn once per vacancy and week, when its first applicant arrives; a vacancy whose
    outside option wins hires no participant this week. One loop over participants, kept
    whole: splitting it costs a third or more of the matching time.

    The routes (``tie_routes``) and the ``n_adv`` advertised vacancies
    (``advertised_by_sector``) are read from ``work``. Written there: the best value per
    vacancy (``best_score``), its applicant or ``NO_ONE`` where the outside option won
    (``best_app``), the language requirement as negotiated for that applicant
    (``best_req``) and, in ``applied``, the vacancies that had an applicant this week in
    ascending order: the only ones offers and hires look at.

    Returns:
        The number of vacancies that had an applicant.
    """
    wk = week_key(params.key, week)
    wk0 = week_key(params.key, 0)  # the work-practice host and NAV's offer are drawn once
    follow_along_weeks, job_carving = tables.follow_along_weeks, tables.job_carving
    n_employers, network_rate = params.n_employers, params.network_applications
    network_trust, nav_hours = params.network_trust, params.nav_follow_up_hours
    status, phase, method, specialist = (
        refugees.status,
        refugees.phase,
        refugees.method,
        refugees.specialist,
    )
    language, productivity, mental_health = (
        refugees.language,
        refugees.productivity,
        refugees.mental_health,
    )
    care, preferred_sector = refugees.care, refugees.preferred_sector
    skill, caseload = specialists.skill, specialists.caseload
    route_total, route_start = work.route_total, work.route_start
    route_vac, route_strength = work.route_vac, work.route_strength
    sector_count, sector_start, adv = work.sector_count, work.sector_start, work.adv
    employer_sector, open_to_refugees = employers.sector, employers.open_to_refugees
    requires_follow_up, requires_subsidy = employers.requires_follow_up, employers.requires_subsidy
    is_open, requirement, bar = vacancies.is_open, vacancies.requirement, vacancies.bar
    search_intensity, practice_intensity = tables.search_intensity, tables.practice_intensity
    endorsement, preference_weight = tables.endorsement, tables.preference_weight
    participant_hours = tables.participant_hours
    unemployed_intensity = params.unemployed_search_intensity
    health_search, care_search = params.health_search, params.care_search
    specialist_support, support_saturation_hours = (
        params.specialist_support,
        params.support_saturation_hours,
    )
    language_slope, score_noise = params.language_slope, params.score_noise
    unmet_penalty, discrimination = params.unmet_requirement_penalty, params.discrimination_penalty
    practice_trust, hiring_weight = params.practice_trust, params.hiring_weight
    productivity_weight, route_saturation = params.productivity_weight, params.tie_route_saturation

    n = status.shape[0]
    best_score, best_app, best_req = work.best_score, work.best_app, work.best_req
    # Only open slots get applications, so only they are reset and scanned (best_req needs
    # no reset: it is read only for a vacancy's winner, written when it won).
    open_slots, n_open = work.open_slots, work.n_open[0]
    for k in range(n_open):
        best_score[open_slots[k]] = -np.inf
        best_app[open_slots[k]] = NO_ONE
    applied = work.applied
    # Specialist (or NAV) time per person has diminishing returns: its value saturates.
    # Worked out once a week per specialist (a participant has their specialist's method).
    spec_method = specialists.method
    time_value_of = work.time_value
    for sp in range(caseload.shape[0]):
        hours = participant_hours[spec_method[sp]] / max(1, caseload[sp])
        time_value_of[sp] = 1.0 - math.exp(-hours / support_saturation_hours)
    nav_value = 1.0 - math.exp(-nav_hours / support_saturation_hours)
    # In the first weeks after the programme NAV follows more closely (the transition).
    nav_transition_value = 1.0 - math.exp(-params.transition_hours / support_saturation_hours)
    pending_start, exit_week = refugees.pending_start, refugees.exit_week

    for i in range(n):
        st = status[i]
        m = method[i]
        s = specialist[i]
        if pending_start[i] >= 0:
            continue  # a job is accepted and starts soon: no more applications
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
        # NAV follows the unemployed who have no specialist (its ordinary services).
        transition = exit_week[i] >= 0 and week - exit_week[i] < params.transition_weeks
        nav_now = nav_transition_value if transition else nav_value
        time_value = time_value_of[s] if s != NO_ONE else nav_now
        intensity *= (1.0 - health_search * mental_health[i]) * (1.0 - care_search * care[i])
        intensity *= 1.0 + specialist_support * time_value
        n_apps = int(intensity)
        if draw(wk, i, S_APPS) < intensity - n_apps:
            n_apps += 1
        # After the programme, people also apply through networks and unsolicited approaches.
        n_net = 0
        if st == UNEMPLOYED and network_rate > 0.0:
            n_net = int(network_rate)
            if draw(wk, i, S_NETWORK) < network_rate - n_net:
                n_net += 1

        rate = subsidy_offer(
            i, st, s != NO_ONE, language[i], mental_health[i], transition, params, wk0
        )[0]
        followed = rate > 0.0 or (s != NO_ONE and follow_along_weeks[m] > 0)
        # NAV's follow-up is public follow-up too: it meets the employer's condition
        # with a chance that saturates in NAV's hours, like a specialist's support.
        nav_cover = nav_now if (st == UNEMPLOYED and s == NO_ONE) else 0.0
        pref = preferred_sector[i]
        # In work practice the first application goes to the host, if it has an opening.
        host = NO_ONE
        host_vacancy = NO_ONE
        if in_practice:
            host = int(draw(wk0, i, S_HOST) * employer_sector.shape[0])
            for j in range(SLOTS):
                if is_open[host * SLOTS + j] == 1:
                    host_vacancy = host * SLOTS + j
                    break
        for a in range(n_apps + n_net):
            vac = NO_ONE
            trust = 0.0
            endorsed = False
            if a >= n_apps:
                emp = int(draw(wk, i, S_NETWORK_PICK + a) * n_employers)
                for j in range(SLOTS):
                    if is_open[emp * SLOTS + j] == 1:
                        vac = emp * SLOTS + j
                        trust = network_trust
                        break
            elif a == 0 and host_vacancy != NO_ONE:
                vac = host_vacancy
            elif (
                s != NO_ONE
                and route_total[s] > 0.0
                and (
                    draw(wk, i, S_ROUTE + a)
                    < time_value * route_total[s] / (route_total[s] + route_saturation)
                )
            ):
                # A route in proportion to its tie's strength.
                target = draw(wk, i, S_PICK + a) * route_total[s]
                acc = 0.0
                for r in range(route_start[s], route_start[s + 1]):
                    acc += route_strength[r]
                    vac = route_vac[r]
                    trust = route_strength[r]
                    endorsed = True
                    if acc > target:
                        break
            elif n_adv > 0:
                u = draw(wk, i, S_PICK + a)
                in_pref = sector_count[pref + 1]
                if in_pref > 0 and draw(wk, i, S_SECTOR + a) < preference_weight[m]:
                    vac = adv[sector_start[pref] + int(u * in_pref)]
                else:
                    vac = adv[int(u * n_adv)]
            if vac == NO_ONE:
                continue
            emp = vac // SLOTS
            if emp == host:
                trust = max(trust, practice_trust)
            known = trust > 0.0
            if not known:
                # An employer closed to refugee applicants may consider one who brings a
                # wage subsidy (the survey's "might, with a subsidy").
                if open_to_refugees[emp] == 0 and rate <= 0.0:
                    continue
                if draw(wk, i, S_DISCRIM + a) < discrimination:
                    continue
            if best_score[vac] == -np.inf:
                # The vacancy's first applicant this week: the outside option enters the choice.
                # Its Gumbel term is known to its bin first: best_score holds the lower bound
                # until a comparison needs the value itself (see below).
                k_out = int(draw(wk, vac, S_OUTSIDE_CHOICE) * GUMBEL_BINS)
                best_score[vac] = bar[vac] + score_noise * GUMBEL_FLOOR[k_out]
                best_app[vac] = OUTSIDE_BOUNDED
            u = draw(wk, i, S_NOISE + a)
            endorsed_value = endorsement[m] * trust * skill[s] if s != NO_ONE else 0.0
            # The best this application can score (a language fit of 1, no unmet condition,
            # its Gumbel term's bin's ceiling): if that cannot beat the best so far, it loses.
            noise_ceiling = score_noise * GUMBEL_CEILING[int(u * GUMBEL_BINS)]
            ceiling = (
                max(productivity_weight * productivity[i], 0.0)
                + endorsed_value
                + hiring_weight * rate
                + noise_ceiling
            )
            if ceiling + SKIP_MARGIN <= best_score[vac]:
                continue
            req = requirement[vac]
            if endorsed and req > language[i]:
                # Job development: the specialist carves the job to fit the person's language now.
                req -= min(req - language[i], job_carving[m])
            score = (
                productivity_weight
                * productivity[i]
                * language_fit(language[i], req, language_slope)
            )
            if s != NO_ONE:
                score += endorsed_value
            score += hiring_weight * rate
            # The employer's conditions, drawn jointly, cost one penalty if any is unmet:
            # follow-up is met by a known contact, a specialist's follow-along or NAV's
            # follow-up with a subsidy; the subsidy condition by a subsidy on offer, or by
            # the trusted specialist's endorsement, which takes on the employer's risk.
            unmet_follow_up = (
                requires_follow_up[emp] == 1
                and not (known or followed)
                and not (nav_cover > 0.0 and draw(wk, i, S_NAV_FOLLOW + a) < nav_cover)
            )
            unmet_subsidy = requires_subsidy[emp] == 1 and rate <= 0.0 and not endorsed
            if unmet_follow_up or unmet_subsidy:
                score -= unmet_penalty
            # Bounded again with the fit and conditions known, before the Gumbel term's logs.
            if score + noise_ceiling + SKIP_MARGIN <= best_score[vac]:
                continue
            score += score_noise * gumbel_of(u)
            if best_app[vac] == OUTSIDE_BOUNDED:
                # Against the outside option's bounds: at or below the lower one it loses,
                # above the upper one it wins; between them the outside's value decides.
                if score <= best_score[vac] - SKIP_MARGIN:
                    continue
                u_out = draw(wk, vac, S_OUTSIDE_CHOICE)
                outside_ceiling = bar[vac] + score_noise * GUMBEL_CEILING[int(u_out * GUMBEL_BINS)]
                if score <= outside_ceiling + SKIP_MARGIN:
                    best_score[vac] = bar[vac] + score_noise * gumbel_of(u_out)
                    best_app[vac] = NO_ONE
            if score > best_score[vac]:
                best_score[vac] = score
                best_app[vac] = i
                best_req[vac] = req
    # Listed in ascending order, so offers and hires visit vacancies in the order a loop over
    # all would (a scan of the open slots costs less than sorting the list as it was met).
    n_applied = 0
    for k in range(n_open):
        vac = open_slots[k]
        if best_score[vac] != -np.inf:
            applied[n_applied] = vac
            n_applied += 1
            if best_app[vac] == OUTSIDE_BOUNDED:
                best_app[vac] = NO_ONE  # the outside option won; its value is not needed
    return n_applied


@_weekly_kernel
def accepted_offers(refugees, employers, params, work, n_applied):
    """Each participant accepts the best offer: its valuation, plus the preferred sector's value.

    The first ``n_applied`` of ``work.applied`` are the vacancies that had an applicant
    (ascending); no other made an offer. Writes ``work.offer``: the vacancy each
    participant who won one accepts (other participants' entries are not this week's and
    are never read).
    """
    preferred_sector, employer_sector = refugees.preferred_sector, employers.sector
    best_score, best_app = work.best_score, work.best_app
    offer, offer_value = work.offer, work.offer_value
    # Only winners' entries are reset and read (a pass over the vacancies with applicants
    # costs less than one over all participants).
    for k in range(n_applied):
        i = best_app[work.applied[k]]
        if i != NO_ONE:
            offer_value[i] = -np.inf
    for k in range(n_applied):
        vac = work.applied[k]
        i = best_app[vac]
        if i == NO_ONE:
            continue
        value = best_score[vac]
        if employer_sector[vac // SLOTS] == preferred_sector[i]:
            value += params.preferred_offer_value
        if value > offer_value[i]:
            offer_value[i] = value
            offer[i] = vac


@_weekly_kernel
def hire(
    week,
    refugees,
    specialists,
    employers,
    vacancies,
    tables,
    params,
    work,
    n_applied,
):
    """Accepted offers become jobs: the vacancy closes, ties grow, the job starts or waits.

    A job starts ``job_start_lag_weeks`` after the offer is accepted (at once if 0); until
    then the participant stops applying and stays where they are (see :func:`start_job`).

    Returns:
        The number of hires (offers accepted).
    """
    status, specialist = refugees.status, refugees.specialist
    language, mental_health, preferred_sector = (
        refugees.language,
        refugees.mental_health,
        refugees.preferred_sector,
    )
    tie_employer, tie_strength = specialists.tie_employer, specialists.tie_strength
    employer_sector, employer_wage = employers.sector, employers.wage
    is_open, serial, filled = vacancies.is_open, vacancies.serial, vacancies.filled
    wk = week_key(params.key, week)
    wk0 = week_key(params.key, 0)
    lag = params.job_start_lag_weeks
    best_app, best_req, offer, applied = work.best_app, work.best_req, work.offer, work.applied
    hires = 0
    for k in range(n_applied):  # the vacancies that had an applicant, ascending
        vac = applied[k]
        i = best_app[vac]
        if i == NO_ONE or offer[i] != vac:
            continue
        emp = vac // SLOTS
        transition = (
            refugees.exit_week[i] >= 0 and week - refugees.exit_week[i] < params.transition_weeks
        )
        rate, weeks = subsidy_offer(
            i,
            status[i],
            specialist[i] != NO_ONE,
            language[i],
            mental_health[i],
            transition,
            params,
            wk0,
        )
        refugees.job_subsidy_rate[i] = rate if weeks > 0 else 0.0
        refugees.job_subsidy_after[i] = params.subsidy_rate_after if weeks > 0 else 0.0
        refugees.job_step_down[i] = params.subsidy_step_down_week
        refugees.job_vacancy[i] = serial[vac]
        refugees.job_employer[i] = emp
        refugees.job_requirement[i] = best_req[vac]
        refugees.job_wage[i] = employer_wage[emp]
        refugees.job_fit[i] = 1 if employer_sector[emp] == preferred_sector[i] else 0
        refugees.subsidy_weeks[i] = weeks
        is_open[vac] = 0
        filled[vac] = 1
        sp = specialist[i]
        if sp != NO_ONE:
            specialists.placements[sp] += 1
            _strengthen(tie_employer, tie_strength, sp, emp, params.tie_placement)
        if lag > 0:
            refugees.pending_start[i] = week + lag
        else:
            start_job(i, week, wk, refugees, specialists, tables, params)
        hires += 1
    return hires


@_weekly_kernel
def start_job(i, week, wk, refugees, specialists, tables, params):
    """Participant i starts the job they accepted (its terms are already in the job arrays).

    A job started during the programme is part-time with chance ``part_time_share``: the
    programme goes on alongside it (the specialist stays, training continues). A full-time
    job ends the programme. Either way the method's follow-along support starts with the job
    (``follow_along_weeks``); without it, a full-time job releases the specialist.
    """
    status, phase, specialist = refugees.status, refugees.phase, refugees.specialist
    from_programme = status[i] == PROGRAMME
    part_time = from_programme and draw(wk, i, S_PART_TIME) < params.part_time_share
    status[i] = SUBSIDISED if refugees.subsidy_weeks[i] > 0 else EMPLOYED
    refugees.job_start[i] = week
    refugees.pending_start[i] = -1
    if refugees.first_job_week[i] < 0:
        refugees.first_job_week[i] = week
        refugees.first_job_active[i] = 1
    if part_time:
        refugees.in_programme[i] = 1
    elif from_programme:
        refugees.exit_week[i] = week
        refugees.exit_status[i] = status[i]
    if specialist[i] != NO_ONE:
        fa = tables.follow_along_weeks[refugees.method[i]]
        if fa > 0:
            refugees.follow_along_left[i] = fa
            phase[i] = PH_FOLLOW_ALONG
        elif not part_time:
            _release(i, specialist, specialists.caseload, refugees.follow_along_left)
            phase[i] = PH_NONE
    else:
        phase[i] = PH_NONE


@_weekly_kernel
def match_week(week, refugees, specialists, employers, vacancies, tables, params, work):
    """One week of matching: applications, employer scoring, offers and acceptances.

    Participants searching (in a search phase of the programme, or unemployed)
    send applications: through their specialist's employer ties (endorsed, and
    reaching vacancies never advertised) or to advertised vacancies, leaning to
    their preferred sector. Each employer values applicants on productivity and
    language fit, the specialist's endorsement weighted by its trust, and the
    subsidy's cut in wage cost, and chooses among them and the outside candidates
    (whose value is the vacancy's bar) by a conditional logit. Each vacancy offers
    to the applicant it chose, if any; each participant accepts the best offer. In
    work practice, the first application goes to the practice host, whose trust
    counts like a specialist's tie.

    Returns:
        The number of hires.
    """
    tie_routes(specialists, vacancies, work)
    n_adv = advertised_by_sector(employers, vacancies, params.n_sectors, work)
    n_applied = applications(
        week, refugees, specialists, employers, vacancies, tables, params, work, n_adv
    )
    accepted_offers(refugees, employers, params, work, n_applied)
    return hire(week, refugees, specialists, employers, vacancies, tables, params, work, n_applied)


# --------------------------------------------------------------------------- 6. jobs
@_weekly_kernel
def jobs_week(week, refugees, specialists, tables, params):
    """Jobs: accepted jobs start, subsidies end (keep or release), people leave, support ends.

    Returns:
        (separations, of which releases when a subsidy ended).
    """
    wk = week_key(params.key, week)
    status, phase, specialist = (
        refugees.status,
        refugees.phase,
        refugees.specialist,
    )
    caseload, follow_along_left = specialists.caseload, refugees.follow_along_left
    language, productivity, mental_health = (
        refugees.language,
        refugees.productivity,
        refugees.mental_health,
    )
    job_vacancy, job_start, job_requirement = (
        refugees.job_vacancy,
        refugees.job_start,
        refugees.job_requirement,
    )
    job_fit, subsidy_weeks, first_job_active = (
        refugees.job_fit,
        refugees.subsidy_weeks,
        refugees.first_job_active,
    )
    language_slope, on_job_growth, keep_bar = (
        params.language_slope,
        params.on_job_growth,
        params.keep_bar,
    )
    score_noise, separation_hazard = params.score_noise, params.separation_hazard
    separation_fit, separation_support = params.separation_fit, params.separation_support
    separation_health = params.separation_health
    in_programme, pending_start = refugees.in_programme, refugees.pending_start
    separations = 0
    released = 0
    for i in range(status.shape[0]):
        if pending_start[i] == week:
            start_job(i, week, wk, refugees, specialists, tables, params)
        st = status[i]
        if st == EMPLOYED or st == SUBSIDISED:
            tenure = week - job_start[i]
            leave = False
            if st == SUBSIDISED and tenure >= subsidy_weeks[i]:
                # Keep the worker only if worth the full wage: a binary logit at the
                # valuation's scale (the difference of two Gumbel terms is logistic).
                worth = (
                    params.productivity_weight
                    * productivity[i]
                    * language_fit(language[i], job_requirement[i], language_slope)
                )
                worth += on_job_growth * min(tenure, WEEKS_PER_YEAR) / WEEKS_PER_YEAR
                worth += score_noise * logistic(wk, i, S_KEEP)
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
                leave = draw(wk, i, S_SEPARATE) < h
            if leave:
                separations += 1
                first_job_active[i] = 0
                job_vacancy[i] = -1
                if in_programme[i] == 1:
                    in_programme[i] = 0
                    follow_along_left[i] = 0
                    status[i] = PROGRAMME  # a part-time job ended; the programme goes on
                else:
                    status[i] = UNEMPLOYED
                    phase[i] = PH_JOB_SEARCH if specialist[i] != NO_ONE else PH_NONE
        st = status[i]
        if specialist[i] != NO_ONE and st != PROGRAMME and st != WAITING and pending_start[i] < 0:
            if in_programme[i] == 1:
                # Support in a part-time job counts down; the programme's follow-up goes on.
                if follow_along_left[i] > 0:
                    follow_along_left[i] -= 1
            else:
                follow_along_left[i] -= 1
                if follow_along_left[i] <= 0:
                    _release(i, specialist, caseload, follow_along_left)
                    phase[i] = PH_NONE
    return separations, released


# --------------------------------------------------------------------------- 7. exits
@njit(cache=True, inline="always", error_model="numpy")
def _weekly(yearly):
    """The weekly chance that gives a yearly chance ``yearly`` over a year of weeks."""
    return 1.0 - (1.0 - min(1.0, yearly)) ** (1.0 / WEEKS_PER_YEAR)


@_weekly_kernel
def _leave_for_good(i, week, moved, refugees, specialists):
    """Participant i leaves the labour force on health grounds, or moves away (``moved``).

    A job, an accepted job not yet started, an education and any follow-up end; the
    status is inactive (after moving: no longer observed, see ``account_week``).
    """
    status = refugees.status
    if status[i] == EMPLOYED or status[i] == SUBSIDISED:
        refugees.first_job_active[i] = 0
    refugees.job_vacancy[i] = -1
    refugees.pending_start[i] = -1
    refugees.education_end[i] = -1
    refugees.in_programme[i] = 0
    _release(i, refugees.specialist, specialists.caseload, refugees.follow_along_left)
    refugees.phase[i] = PH_NONE
    status[i] = INACTIVE
    if moved:
        refugees.moved_week[i] = week
    else:
        refugees.left_labour_force[i] = 1


H_DISABILITY, H_DISABILITY_BURDEN, H_MIGRATION, H_MIGRATION_CARE = range(4)


@_weekly_kernel
def exit_week_kernel(week, refugees, specialists, tables, params, work):
    """Programme exits; after the programme: education, reactivation, health exits, moves.

    The programme ends at full length (into education, job search or inactivity; or
    without work but with a job starting soon) or early into education. After it, the
    young unemployed at the education language level may start education, the inactive may
    start searching and anyone may leave the labour force on health grounds, each at a weekly
    hazard. From the programme's full length after arrival anyone may move out of the
    municipality (a weekly hazard too).

    Returns:
        The number who left the programme this week.
    """
    wk = week_key(params.key, week)
    status, phase, specialist = (
        refugees.status,
        refugees.phase,
        refugees.specialist,
    )
    caseload, follow_along_left = specialists.caseload, refugees.follow_along_left
    programme_start, exit_week, exit_status = (
        refugees.programme_start,
        refugees.exit_week,
        refugees.exit_status,
    )
    age, arrival_week, education, language = (
        refugees.age,
        refugees.arrival_week,
        refugees.education,
        refugees.language,
    )
    mental_health, care = refugees.mental_health, refugees.care
    max_weeks, education_hazard = params.max_weeks, params.education_hazard
    edu_base, edu_young = params.education_entry_base, params.education_entry_young
    edu_per_level, edu_per_language = (
        params.education_entry_per_level,
        params.education_entry_per_language,
    )
    inactive_share, reactivation_rate = params.inactive_share, params.reactivation_rate
    in_programme, education_end = refugees.in_programme, refugees.education_end
    pending_start, left_labour_force, moved_week = (
        refugees.pending_start,
        refugees.left_labour_force,
        refugees.moved_week,
    )
    edu_after = params.education_after_exit_hazard
    # Weekly hazards, kept in an array: LLVM would otherwise sink each loop-invariant pow
    # into the branch that uses it and work it out again for every person (5 times slower).
    hazard = work.hazard
    hazard[H_DISABILITY] = _weekly(params.disability_rate)
    hazard[H_DISABILITY_BURDEN] = _weekly(params.disability_rate * params.disability_health_factor)
    hazard[H_MIGRATION] = _weekly(params.migration_rate)
    hazard[H_MIGRATION_CARE] = _weekly(params.migration_rate * params.migration_care_factor)
    exits = 0
    for i in range(status.shape[0]):
        st = status[i]
        if moved_week[i] >= 0 or st == NOT_ARRIVED:
            continue
        if week - arrival_week[i] >= max_weeks:
            # Moving away: from when the programme would end at full length, whatever the
            # person does (so who moves is the same under every method).
            h = hazard[H_MIGRATION_CARE] if care[i] == 1 else hazard[H_MIGRATION]
            if draw(wk, i, S_MIGRATION) < h:
                _leave_for_good(i, week, True, refugees, specialists)
                continue
        if in_programme[i] == 1 and week - programme_start[i] + 1 >= max_weeks:
            # The programme ends around a part-time job: leave it in work, with what is
            # left of the job's follow-along support.
            in_programme[i] = 0
            exit_week[i] = week
            exit_status[i] = st
            if follow_along_left[i] > 0 and specialist[i] != NO_ONE:
                phase[i] = PH_FOLLOW_ALONG
            else:
                _release(i, specialist, caseload, follow_along_left)
                phase[i] = PH_NONE
            exits += 1
        elif st == PROGRAMME and pending_start[i] >= 0:
            if week - programme_start[i] + 1 >= max_weeks:
                # The programme ends before the accepted job starts: the participant leaves
                # it without work; the specialist stays to follow the job when it starts.
                status[i] = UNEMPLOYED
                phase[i] = PH_NONE
                exit_week[i] = week
                exit_status[i] = UNEMPLOYED
                exits += 1
        elif st == PROGRAMME:
            young = age_at(age[i], arrival_week[i], week) < params.education_young_age
            new = -1
            if (
                young
                and language[i] >= params.education_language
                and (draw(wk, i, S_EDU_EARLY) < education_hazard)
            ):
                new = EDUCATION
            elif week - programme_start[i] + 1 >= max_weeks:
                logit = (
                    edu_base
                    + edu_per_level * (education[i] - EDUCATION_ENTRY_REFERENCE_LEVEL)
                    + edu_per_language * (language[i] - EDUCATION_ENTRY_REFERENCE_LANGUAGE)
                )
                if young:
                    logit += edu_young
                if draw(wk, i, S_EDU_EXIT) < 1.0 / (1.0 + math.exp(-logit)):
                    new = EDUCATION
                else:
                    burden = (
                        params.inactive_burden_multiplier
                        if (care[i] == 1 or mental_health[i] == 1)
                        else 1.0
                    )
                    p_inactive = min(1.0, inactive_share * burden)
                    new = INACTIVE if draw(wk, i, S_INACTIVE) < p_inactive else UNEMPLOYED
            if new >= 0:
                status[i] = new
                phase[i] = PH_NONE
                exit_week[i] = week
                exit_status[i] = new
                _release(i, specialist, caseload, follow_along_left)
                if new == EDUCATION:
                    _enter_education(i, week, wk, refugees, params)
                exits += 1
        elif exit_week[i] >= 0 and exit_week[i] < week:
            # After the programme (from the week after leaving it).
            if left_labour_force[i] == 1:
                continue
            h = hazard[H_DISABILITY_BURDEN] if mental_health[i] == 1 else hazard[H_DISABILITY]
            if draw(wk, i, S_DISABILITY) < h:
                _leave_for_good(i, week, False, refugees, specialists)
                continue
            if st == EDUCATION and week >= education_end[i]:
                # Education ends: completed (a new qualification) or dropped out; then search.
                if refugees.education_done[i] == 1:
                    refugees.productivity[i] += params.education_qualification
                    education[i] = min(education[i] + 1, N_EDUCATION - 1)
                education_end[i] = -1
                status[i] = UNEMPLOYED
            elif st == INACTIVE and draw(wk, i, S_REACTIVATE) < reactivation_rate:
                status[i] = UNEMPLOYED
            elif (
                st == UNEMPLOYED
                and pending_start[i] < 0
                and edu_after > 0.0
                and language[i] >= params.education_language
                and age_at(age[i], arrival_week[i], week) < params.education_young_age
                and draw(wk, i, S_EDU_AFTER) < edu_after
            ):
                # A former participant starts education (upper secondary, vocational).
                status[i] = EDUCATION
                phase[i] = PH_NONE
                _release(i, specialist, caseload, follow_along_left)
                _enter_education(i, week, wk, refugees, params)
    return exits


@_weekly_kernel
def _enter_education(i, week, wk, refugees, params):
    """Draw the length of participant i's education and whether it is completed.

    Length is (1 - spread) to (1 + spread) times ``education_weeks``; those who drop out
    leave at a uniform point of it.
    """
    spread = params.education_weeks_spread
    weeks = params.education_weeks * (1.0 - spread + 2.0 * spread * draw(wk, i, S_EDU_LENGTH))
    done = draw(wk, i, S_EDU_DONE) < params.education_completion
    if not done:
        weeks *= draw(wk, i, S_EDU_DROP)
    refugees.education_done[i] = 1 if done else 0
    refugees.education_end[i] = week + max(1, int(weeks))


# --------------------------------------------------------------------------- 8. accounting
@_weekly_kernel
def account_week(week, refugees, specialists, params, status_counts):
    """Costs, outcome trackers and this week's status counts.

    Trackers and costs of ``refugees`` are written; ``status_counts`` is this
    week's row of the weekly series, counted into by status.
    """
    status, arrival_week, age, specialist = (
        refugees.status,
        refugees.arrival_week,
        refugees.age,
        refugees.specialist,
    )
    spec_cap, job_start, job_wage, exit_week = (
        specialists.cap,
        refugees.job_start,
        refugees.job_wage,
        refugees.exit_week,
    )
    status_12m, status_24m, status_60m, status_120m = (
        refugees.status_12m,
        refugees.status_24m,
        refugees.status_60m,
        refugees.status_120m,
    )
    moved_week = refugees.moved_week
    status_after_exit_12m, weeks_employed_24m = (
        refugees.status_after_exit_12m,
        refugees.weeks_employed_24m,
    )
    first_job_active, first_job_weeks = refugees.first_job_active, refugees.first_job_weeks
    cost_specialist, cost_subsidy, cost_benefit = (
        refugees.cost_specialist,
        refugees.cost_subsidy,
        refugees.cost_benefit,
    )
    specialist_week_cost, benefit_week = params.specialist_week_cost, params.benefit_week
    benefit_under_25_share = params.benefit_under_25_share
    for i in range(status.shape[0]):
        st = status[i]
        status_counts[st] += 1
        if st == NOT_ARRIVED or moved_week[i] >= 0:
            continue  # after moving away a participant is no longer observed here
        s = specialist[i]
        if s != NO_ONE:
            # A participant is charged the cost of the caseload slot they occupy.
            cost_specialist[i] += specialist_week_cost / spec_cap[s]
        # The benefit is paid for every programme week, the week of leaving included.
        if st == PROGRAMME or refugees.in_programme[i] == 1 or exit_week[i] == week:
            age_now = age_at(age[i], arrival_week[i], week)
            cost_benefit[i] += benefit_week * (
                1.0 if age_now >= FULL_BENEFIT_AGE else benefit_under_25_share
            )
        employed = st == EMPLOYED or st == SUBSIDISED
        if st == SUBSIDISED:
            tenure = week - job_start[i]
            if tenure < refugees.job_step_down[i]:
                cost_subsidy[i] += refugees.job_subsidy_rate[i] * job_wage[i]
            else:
                cost_subsidy[i] += refugees.job_subsidy_after[i] * job_wage[i]
        t = week + 1 - arrival_week[i]
        if employed and t <= WEEKS_24M:
            weeks_employed_24m[i] += 1
        if t == WEEKS_12M:
            status_12m[i] = st
        elif t == WEEKS_24M:
            status_24m[i] = st
        elif t == WEEKS_60M:
            status_60m[i] = st
        elif t == WEEKS_120M:
            status_120m[i] = st
        if exit_week[i] >= 0 and week - exit_week[i] == WEEKS_12M:
            status_after_exit_12m[i] = st
        if first_job_active[i] == 1 and employed:
            first_job_weeks[i] += 1


# --------------------------------------------------------------------------- 9. the ledger
@njit(cache=True, inline="always", error_model="numpy")
def income_tax(income, params):
    """The year's tax on a personal income (NOK), by the rules of ``[public_finances.income_tax]``.

    Returns:
        (the municipality's kept share, the rest): the municipality keeps
        ``tax_municipal_kept`` of its part of the tax on ordinary income; the rest is the
        national insurance contribution, the bracket tax, the state's and county's parts and
        what income equalisation takes.
    """
    if income <= 0.0:
        return 0.0, 0.0
    social = 0.0
    if income > params.tax_social_floor:
        social = min(
            params.tax_social_rate * income,
            params.tax_social_taper * (income - params.tax_social_floor),
        )
    deduction = min(params.tax_deduction_rate * income, params.tax_deduction_max)
    ordinary = max(0.0, income - deduction - params.tax_personal_allowance)
    lows, rates = params.tax_bracket_from, params.tax_bracket_rate
    bracket = 0.0
    for j in range(lows.shape[0]):
        if income > lows[j]:
            top = income if j + 1 == lows.shape[0] else min(income, lows[j + 1])
            bracket += rates[j] * (top - lows[j])
    kept = params.tax_municipal_kept * params.tax_municipal_rate * ordinary
    return kept, social + params.tax_ordinary_rate * ordinary + bracket - kept


@_weekly_kernel
def ledger_week(week, refugees, specialists, tables, params, accounts, flows):
    """The week's public flows, each participant's summed into ``flows`` (``LEDGER_FLOWS``).

    Every amount is non-negative NOK; who pays or receives it is the scenario's
    (``[public_finances]``), applied after the run. Paid work is a full-time week, or
    alongside the programme the hours its training leaves; a job's wage is its wage cost,
    of which the employer's contribution is the part above gross pay. The benefit follows
    the programme's weeks as in accounting, cut for hours in paid work; social assistance is
    an expected amount for each week without work, benefit or education; the year's income
    tax is settled in the run year's last week (and in the horizon's last).
    """
    status, arrival_week, age, method = (
        refugees.status,
        refugees.arrival_week,
        refugees.age,
        refugees.method,
    )
    specialist, in_programme, exit_week = (
        refugees.specialist,
        refugees.in_programme,
        refugees.exit_week,
    )
    job_start, job_wage, job_step_down = (
        refugees.job_start,
        refugees.job_wage,
        refugees.job_step_down,
    )
    hours_worked, year_pay, year_benefit = (
        accounts.hours_worked,
        accounts.year_pay,
        accounts.year_benefit,
    )
    training_hours, spec_cap = tables.training_hours, specialists.cap
    contribution, reduction = params.employer_contribution_rate, params.benefit_work_reduction
    grant_by_year = params.grant_by_year
    settle = (week + 1) % WEEKS_PER_YEAR == 0 or week == params.horizon_weeks - 1
    benefit = grant = social = subsidy = nav = staff = teaching = 0.0
    tax_municipality = tax_rest = contributions = pay_total = 0.0
    for i in range(status.shape[0]):
        st = status[i]
        hours_worked[i] = 0.0
        if st == NOT_ARRIVED or refugees.moved_week[i] >= 0:
            continue  # after moving away the flows are another municipality's
        m = method[i]
        alongside = in_programme[i] == 1
        if st == EMPLOYED or st == SUBSIDISED:
            hours = FULL_TIME_HOURS - training_hours[m] if alongside else FULL_TIME_HOURS
            hours_worked[i] = hours
            wage_cost = job_wage[i] * hours / FULL_TIME_HOURS
            pay = wage_cost / (1.0 + contribution)
            pay_total += pay
            contributions += wage_cost - pay
            year_pay[i] += pay
            if st == SUBSIDISED:
                if week - job_start[i] < job_step_down[i]:
                    subsidy += refugees.job_subsidy_rate[i] * wage_cost
                else:
                    subsidy += refugees.job_subsidy_after[i] * wage_cost
        paid_benefit = st == PROGRAMME or alongside or exit_week[i] == week
        if paid_benefit:
            rate = 1.0
            if age_at(age[i], arrival_week[i], week) < FULL_BENEFIT_AGE:
                rate = params.benefit_under_25_share
            amount = params.benefit_week * rate
            amount *= 1.0 - reduction * hours_worked[i] / FULL_TIME_HOURS
            benefit += amount
            year_benefit[i] += amount
        elif st == WAITING or st == UNEMPLOYED or st == INACTIVE:
            social += params.social_assistance_week
        if st == PROGRAMME or alongside:
            teaching += training_hours[m] * params.teaching_hour_cost
        s = specialist[i]
        if s != NO_ONE:
            staff += params.specialist_week_cost / spec_cap[s]
        elif st == UNEMPLOYED:
            nav += params.nav_week_cost
            if week - exit_week[i] < params.transition_weeks:
                nav += params.nav_transition_extra_cost
        t = week - arrival_week[i]
        if t == 0:
            grant += grant_by_year[0]
        elif t < GRANT_YEARS * WEEKS_PER_YEAR and t >= WEEKS_PER_YEAR:
            grant += grant_by_year[t // WEEKS_PER_YEAR] / WEEKS_PER_YEAR
        if settle:
            kept, rest = income_tax(year_pay[i] + year_benefit[i], params)
            tax_municipality += kept
            tax_rest += rest
            year_pay[i] = 0.0
            year_benefit[i] = 0.0
    flows[L_BENEFIT] = benefit
    flows[L_GRANT] = grant
    flows[L_SOCIAL] = social
    flows[L_SUBSIDY] = subsidy
    flows[L_NAV] = nav
    flows[L_SPECIALISTS] = staff
    flows[L_TEACHING] = teaching
    flows[L_TAX_MUNICIPALITY] = tax_municipality
    flows[L_TAX_REST] = tax_rest
    flows[L_CONTRIBUTIONS] = contributions
    flows[L_PAY] = pay_total


# --------------------------------------------------------------------------- the week
@_weekly_kernel
def run_week(
    week,
    refugees,
    specialists,
    employers,
    vacancies,
    tables,
    params,
    counters,
    row,
    accounts,
    flows,
    work,
):
    """One week, in its fixed order, counted into ``row`` and ``flows``.

    The populations (``refugees`` ... ``vacancies``), ``tables``, ``params`` and
    ``counters`` are the run's named groups (``world.py``); ``row`` is this week's
    row of the weekly series: status counts, then events; ``accounts`` and ``flows``
    (this week's row of the ledger) are the public-finance ledger's; ``work`` holds the
    kernels' working arrays.
    """
    assign_waiting(week, refugees, specialists, params, counters, work)  # 1 (waiting in counts)
    programme_week(week, refugees, tables, params)  # 2
    row[COL_CONTACTS] = specialist_week(week, specialists, tables, params)  # 3
    opened, outside = vacancy_week(week, employers, vacancies, params, counters, work)  # 4
    row[COL_OPENED] = opened
    row[COL_OUTSIDE] = outside
    row[COL_HIRES] = match_week(
        week, refugees, specialists, employers, vacancies, tables, params, work
    )  # 5
    separations, released = jobs_week(week, refugees, specialists, tables, params)  # 6
    row[COL_SEPARATIONS] = separations
    row[COL_RELEASES] = released
    row[COL_EXITS] = exit_week_kernel(week, refugees, specialists, tables, params, work)  # 7
    account_week(week, refugees, specialists, params, row[:N_STATUS])  # 8
    ledger_week(week, refugees, specialists, tables, params, accounts, flows)  # 8, by payer


@_weekly_kernel
def run_weeks(
    start,
    stop,
    refugees,
    specialists,
    employers,
    vacancies,
    tables,
    params,
    counters,
    weekly,
    accounts,
    ledger,
    work,
):
    """Weeks ``start`` to ``stop - 1`` in one compiled loop (what ``IntroModel.run`` uses)."""
    for week in range(start, stop):
        run_week(
            week,
            refugees,
            specialists,
            employers,
            vacancies,
            tables,
            params,
            counters,
            weekly[week],
            accounts,
            ledger[week],
            work,
        )
