"""The state: one struct-of-arrays object per population.

Each population (refugees, specialists, employers, vacancies) is one object
holding one numpy array per attribute, allocated once at the start of a run and
validated for length. The kernels read and write these arrays in place; the
Mesa agents in :mod:`introsim.model.agents` are views onto them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np


class Status(IntEnum):
    """A participant's status in a week: exactly one at any time."""

    NOT_ARRIVED = 0
    WAITING = 1
    PROGRAMME = 2
    EMPLOYED = 3
    SUBSIDISED = 4
    EDUCATION = 5
    UNEMPLOYED = 6
    INACTIVE = 7


class Phase(IntEnum):
    """What a participant is doing within programme or follow-along support."""

    NONE = 0
    LANGUAGE = 1
    PRACTICE = 2
    SE_CONTACT = 3
    SE_PROFILING = 4
    JOB_SEARCH = 5
    FOLLOW_ALONG = 6
    SE_EMPLOYER_COOPERATION = 7
    SE_TRAINING_SUPPORT = 8


class MethodCode(IntEnum):
    """Follow-up method as stored in arrays (order of ``schema.METHODS``)."""

    STANDARD = 0
    IPS = 1
    SE = 2


STATUS_NAMES: tuple[str, ...] = tuple(s.name.lower() for s in Status)
PHASE_NAMES: tuple[str, ...] = tuple(p.name.lower() for p in Phase)
NO_ONE = -1  # index value meaning "none" in integer index arrays


class _Arrays:
    """Shared behaviour of the population classes: length checks and copies."""

    def __post_init__(self) -> None:
        n = None
        for f in fields(self):
            arr = getattr(self, f.name)
            if not isinstance(arr, np.ndarray):
                raise TypeError(f"{type(self).__name__}.{f.name} must be a numpy array")
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ValueError(
                    f"{type(self).__name__}.{f.name} has {arr.shape[0]} rows, expected {n}"
                )

    def __len__(self) -> int:
        return getattr(self, fields(self)[0].name).shape[0]

    def as_dict(self) -> dict[str, np.ndarray]:
        """Return the arrays by attribute name (no copies)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Refugees(_Arrays):
    """Participants: characteristics drawn at intake, then weekly state and trackers."""

    # Drawn at intake (see population.py).
    arrival_week: np.ndarray  # int32
    sex: np.ndarray  # int8, 1 = female
    age: np.ndarray  # float64, years at arrival
    education: np.ndarray  # int8, index into schema.EDUCATION_LEVELS
    prior_work_years: np.ndarray  # float64
    language0: np.ndarray  # float64, proficiency at arrival
    mental_health: np.ndarray  # int8, 1 = burden
    care: np.ndarray  # int8, 1 = care responsibilities
    preferred_sector: np.ndarray  # int16
    method: np.ndarray  # int8 MethodCode after take-up
    productivity: np.ndarray  # float64, productivity before language fit
    # Weekly state.
    language: np.ndarray  # float64
    status: np.ndarray  # int8 Status
    phase: np.ndarray  # int8 Phase
    specialist: np.ndarray  # int32, NO_ONE if none
    programme_start: np.ndarray  # int32, week the programme began, -1 before
    follow_along_left: np.ndarray  # int32, weeks of in-job support remaining
    job_vacancy: np.ndarray  # int64, serial of the vacancy filled, -1 if none
    job_employer: np.ndarray  # int32
    job_start: np.ndarray  # int32
    job_requirement: np.ndarray  # float64, the job's language requirement
    job_wage: np.ndarray  # float64, NOK/week
    job_fit: np.ndarray  # int8, 1 = in the preferred sector
    subsidy_weeks: np.ndarray  # int32, weeks of subsidy the job carries
    # Outcome trackers, filled week by week (see outcomes.py).
    exit_week: np.ndarray  # int32, -1 until the programme ends
    exit_status: np.ndarray  # int8
    status_after_exit_12m: np.ndarray  # int8, -1 until observed
    status_12m: np.ndarray  # int8
    status_24m: np.ndarray  # int8
    status_60m: np.ndarray  # int8
    weeks_employed_24m: np.ndarray  # int32
    first_job_week: np.ndarray  # int32
    first_job_weeks: np.ndarray  # int32
    first_job_active: np.ndarray  # int8
    cost_specialist: np.ndarray  # float64, NOK
    cost_subsidy: np.ndarray  # float64, NOK
    cost_benefit: np.ndarray  # float64, NOK

    @classmethod
    def allocate(cls, n: int) -> Refugees:
        """Allocate ``n`` participants with every array at its starting value."""
        i32 = lambda v: np.full(n, v, dtype=np.int32)  # noqa: E731
        i8 = lambda v: np.full(n, v, dtype=np.int8)  # noqa: E731
        f64 = lambda: np.zeros(n, dtype=np.float64)  # noqa: E731
        return cls(
            arrival_week=i32(0),
            sex=i8(0),
            age=f64(),
            education=i8(0),
            prior_work_years=f64(),
            language0=f64(),
            mental_health=i8(0),
            care=i8(0),
            preferred_sector=np.zeros(n, dtype=np.int16),
            method=i8(0),
            productivity=f64(),
            language=f64(),
            status=i8(Status.NOT_ARRIVED),
            phase=i8(Phase.NONE),
            specialist=i32(NO_ONE),
            programme_start=i32(-1),
            follow_along_left=i32(0),
            job_vacancy=np.full(n, -1, dtype=np.int64),
            job_employer=i32(NO_ONE),
            job_start=i32(-1),
            job_requirement=f64(),
            job_wage=f64(),
            job_fit=i8(0),
            subsidy_weeks=i32(0),
            exit_week=i32(-1),
            exit_status=i8(-1),
            status_after_exit_12m=i8(-1),
            status_12m=i8(-1),
            status_24m=i8(-1),
            status_60m=i8(-1),
            weeks_employed_24m=i32(0),
            first_job_week=i32(-1),
            first_job_weeks=i32(0),
            first_job_active=i8(0),
            cost_specialist=f64(),
            cost_subsidy=f64(),
            cost_benefit=f64(),
        )


@dataclass
class Specialists(_Arrays):
    """Job specialists and programme advisors, with their employer ties."""

    method: np.ndarray  # int8 MethodCode
    cap: np.ndarray  # int32, caseload cap
    skill: np.ndarray  # float64, relationship-building multiplier (mean ~1)
    caseload: np.ndarray  # int32, participants currently followed
    tie_employer: np.ndarray  # int32 (S, K), NO_ONE for a free slot
    tie_strength: np.ndarray  # float64 (S, K), employer's trust in 0-1
    contacts: np.ndarray  # int64, employer contacts made so far
    placements: np.ndarray  # int64, hires of own participants so far


@dataclass
class Employers(_Arrays):
    """Local employers."""

    sector: np.ndarray  # int16
    wage: np.ndarray  # float64, NOK/week
    open_to_refugees: np.ndarray  # int8
    requires_follow_up: np.ndarray  # int8
    requires_subsidy: np.ndarray  # int8


@dataclass
class Vacancies(_Arrays):
    """Vacancy slots: ``SLOTS_PER_EMPLOYER`` per employer, reused as they close.

    Slot ``v`` belongs to employer ``v // SLOTS_PER_EMPLOYER``; each opening gets
    a fresh ``serial`` so a job can be traced to exactly one opening.
    """

    is_open: np.ndarray  # int8
    serial: np.ndarray  # int64, id of the current or last opening
    weeks_left: np.ndarray  # int32
    requirement: np.ndarray  # float64, language requirement of this opening
    bar: np.ndarray  # float64, score the best outside candidate sets
    hidden: np.ndarray  # int8, 1 = never advertised
    filled: np.ndarray  # int8, 1 = the current opening was filled by a participant


SLOTS_PER_EMPLOYER = 2

WEEKS_PER_YEAR = 52  # one tick is a week

# Outcome horizons in weeks after a participant's own start (DESIGN.md section 6).
WEEKS_12M = WEEKS_PER_YEAR
WEEKS_24M = 2 * WEEKS_PER_YEAR
WEEKS_60M = 5 * WEEKS_PER_YEAR
