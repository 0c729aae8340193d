"""The policies: follow-up methods, wage subsidy and language support as kernel inputs.

The scenario schema says what each method does in words and numbers; this
module turns that into the small arrays the kernels index by method code, so
no kernel needs to know a method by name.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from introsim.model.state import Phase
from introsim.params.schema import ELIGIBILITY, METHODS, Scenario

MAX_PHASES = 6  # phases a programme schedule can hold, the open-ended search included
OPEN_ENDED = np.iinfo(np.int32).max


class MethodTables(NamedTuple):
    """Per-method values, each array indexed by ``MethodCode`` (one kernel argument)."""

    employer_time_share: np.ndarray
    training_hours: np.ndarray
    search_intensity: np.ndarray
    practice_intensity: np.ndarray
    endorsement: np.ndarray
    preference_weight: np.ndarray
    follow_along_weeks: np.ndarray  # int32
    language_support_hours: np.ndarray
    employer_step_weeks: np.ndarray  # int32, SE step 4 at the start of a job (0 elsewhere)
    schedule_phase: np.ndarray  # int8 (methods, MAX_PHASES)
    schedule_end: np.ndarray  # int32 (methods, MAX_PHASES), programme week each phase ends
    participant_hours: np.ndarray  # specialist hours a week for participants, not employers
    job_carving: np.ndarray  # language points a tied employer's requirement is negotiated down


def programme_schedule(scenario: Scenario, method: str) -> list[tuple[Phase, int]]:
    """Return a method's programme phases as (phase, weeks), ending in open-ended job search.

    Standard follow-up trains then places (language, then work practice, then
    search); IPS searches after a few language weeks; SE passes steps 1 and 2
    before step 3, job finding (AFI/OsloMet for IMDi 2016-2019).

    Args:
        scenario: The resolved scenario.
        method: One of ``schema.METHODS``.

    Returns:
        The phases in order with their lengths in weeks; zero-length phases are left out.
    """
    prof = scenario.methods.profile(method)
    phases = [
        (Phase.LANGUAGE, prof.language_first_weeks),
        (Phase.PRACTICE, prof.practice_weeks),
        (Phase.SE_CONTACT, prof.step_weeks[0]),
        (Phase.SE_PROFILING, prof.step_weeks[1]),
    ]
    return [(p, w) for p, w in phases if w > 0] + [(Phase.JOB_SEARCH, OPEN_ENDED)]


def method_tables(scenario: Scenario) -> MethodTables:
    """Build the per-method arrays the kernels use.

    The scenario's ``[follow_up]`` overrides of after-follow-up weeks and
    language support apply to the scenario's own method only.

    Args:
        scenario: The resolved scenario.

    Returns:
        The tables, one row per method in the order of ``schema.METHODS``.
    """
    fu = scenario.follow_up
    profiles = [scenario.methods.profile(m) for m in METHODS]
    follow_along = [p.follow_along_weeks for p in profiles]
    support = [p.language_support_hours for p in profiles]
    own = METHODS.index(fu.method)
    if fu.after_follow_up_weeks is not None:
        follow_along[own] = fu.after_follow_up_weeks
    if fu.language_support_hours is not None:
        support[own] = fu.language_support_hours

    sched_phase = np.zeros((len(METHODS), MAX_PHASES), dtype=np.int8)
    sched_end = np.full((len(METHODS), MAX_PHASES), OPEN_ENDED, dtype=np.int32)
    for m, name in enumerate(METHODS):
        end = 0
        for k, (phase, weeks) in enumerate(programme_schedule(scenario, name)):
            sched_phase[m, k] = phase
            end = OPEN_ENDED if weeks == OPEN_ENDED else end + weeks
            sched_end[m, k] = end

    f = lambda attr: np.array([getattr(p, attr) for p in profiles], dtype=np.float64)  # noqa: E731
    employer_time_share = f("employer_time_share")
    return MethodTables(
        employer_time_share=employer_time_share,
        training_hours=f("training_hours"),
        search_intensity=f("search_intensity"),
        practice_intensity=f("practice_intensity"),
        endorsement=f("endorsement"),
        preference_weight=f("preference_weight"),
        follow_along_weeks=np.array(follow_along, dtype=np.int32),
        language_support_hours=np.array(support, dtype=np.float64),
        employer_step_weeks=np.array([p.step_weeks[2] for p in profiles], dtype=np.int32),
        schedule_phase=sched_phase,
        schedule_end=sched_end,
        participant_hours=(1.0 - employer_time_share) * fu.hours_per_week,
        job_carving=f("job_carving"),
    )


def eligibility_code(scenario: Scenario) -> int:
    """Return the wage-subsidy eligibility rule as an integer for the kernels.

    No subsidy (rate 0 or 0 weeks) is the same as eligibility ``none``.
    """
    ws = scenario.wage_subsidy
    if ws.rate <= 0 or ws.weeks <= 0:
        return ELIGIBILITY.index("none")
    return ELIGIBILITY.index(ws.eligibility)


def step_down_week(scenario: Scenario) -> int:
    """Return the job week after which the lower subsidy rate applies (never: the horizon)."""
    ws = scenario.wage_subsidy
    return ws.weeks if ws.step_down_week is None else ws.step_down_week
