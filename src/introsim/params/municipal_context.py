"""A municipality's context as scenario values: its intake and its labour market.

A profile row (:class:`~introsim.params.municipalities.MunicipalityProfile`) gives a run the
context the municipality cannot choose: how many refugees it settles, over the year, with what
share of women (the cohort), how many jobs are located there (the employers reachable) and
how its employment rate compares with the country's (the outside competition). Programme
practice (method, caseload, subsidy use, specialist skill, ``schema.PRACTICE_PATHS``) is not
touched: it stays whatever the scenario says.

One function, :func:`profile_values`, turns a row into dotted-path values; a scenario file's
``[municipality]`` table (through the scenario loader) and the national panel (one row at a
time) both use it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from introsim.params.municipalities import MunicipalityProfile, Table, load_profiles
from introsim.params.schema import (
    JOBS_PER_RESIDENT,
    MUNICIPAL_INTAKE_WEEKS,
    SUPPRESSED_CELL_PERSONS,
    Municipality,
    Scenario,
)

__all__ = [
    "CONTEXT_PATHS",
    "cached_profiles",
    "cohort_size",
    "profile_values",
    "settled_estimate",
    "with_profile",
]

CONTEXT_PATHS: tuple[str, ...] = (
    "municipality.name",
    "municipality.code",
    "municipality.settled",
    "municipality.local_jobs",
    "municipality.employment_rate",
    "municipality.centrality_index",
    "cohort.size",
    "cohort.intake_weeks",
    "cohort.share_female",
)
"""What a profile decides in a scenario (a value a file sets for one of them is replaced)."""


def settled_estimate(row: MunicipalityProfile) -> int:
    """Refugees the municipality settled in 2023, each withheld cell at its midpoint.

    Returns:
        The estimate; 0 where the profile has no 2023 figure.
    """
    if row.settled_2023 is None:
        return 0
    cells = row.settled_2023_suppressed_cells or 0
    return round(row.settled_2023 + SUPPRESSED_CELL_PERSONS * cells)


def cohort_size(row: MunicipalityProfile, participants_per_settled: float | None = None) -> int:
    """Participants who start the programme: settled × ``participants_per_settled`` (0: none)."""
    share = (
        participants_per_settled
        if participants_per_settled is not None
        else Municipality().participants_per_settled
    )
    settled = settled_estimate(row)
    return max(1, round(settled * share)) if settled > 0 else 0


def profile_values(
    row: MunicipalityProfile, participants_per_settled: float | None = None
) -> dict[str, Any]:
    """The dotted-path values a profile row gives a scenario (:data:`CONTEXT_PATHS`).

    Local jobs are the jobs located in the municipality (SSB 11616, by workplace); where
    the profile has none, the population × ``schema.JOBS_PER_RESIDENT``. The employment
    rate is left unset (the national outside competition) where the profile has none.

    Args:
        row: The municipality's profile.
        participants_per_settled: Participants per settled refugee (default: the schema's).

    Returns:
        Dotted paths mapped to values.

    Raises:
        ValueError: The municipality settled nobody in the profile's year.
    """
    size = cohort_size(row, participants_per_settled)
    if size == 0:
        raise ValueError(
            f"{row.municipality_name} ({row.municipality_number}) settled no refugees in 2023, "
            "so it has no cohort to simulate"
        )
    jobs = row.employed_workplace_2022
    if jobs is None:
        jobs = max(1, round(row.population * JOBS_PER_RESIDENT))
    rate = (
        row.employed_residents_2022 / row.population_15_74_2022
        if row.employed_residents_2022 is not None and row.population_15_74_2022
        else None
    )
    women, men = row.settled_2023_women, row.settled_2023_men
    share_female = women / (women + men) if women is not None and men and women + men > 0 else None
    return {
        "municipality.name": row.municipality_name,
        "municipality.code": row.municipality_number,
        "municipality.settled": settled_estimate(row),
        "municipality.local_jobs": int(jobs),
        "municipality.employment_rate": None if rate is None else round(rate, 6),
        "municipality.centrality_index": row.centrality_index,
        "cohort.size": size,
        "cohort.intake_weeks": MUNICIPAL_INTAKE_WEEKS,
        "cohort.share_female": None if share_female is None else round(share_female, 6),
    }


def with_profile(scenario: Scenario, row: MunicipalityProfile, profile: str) -> Scenario:
    """``scenario`` in the municipality of ``row``: its context replaced, its practice kept.

    Args:
        scenario: A validated scenario (a policy).
        row: The municipality's profile.
        profile: The profile file as named (recorded in ``[municipality] profile``).

    Returns:
        The validated scenario.
    """
    values = profile_values(row, scenario.municipality.participants_per_settled)
    return scenario.with_overrides({**values, "municipality.profile": profile})


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _cached(key: tuple[str, int, int]) -> Table[MunicipalityProfile]:
    return load_profiles(key[0])


def cached_profiles(path: str | os.PathLike[str]) -> Table[MunicipalityProfile]:
    """:func:`load_profiles`, read once per file version (scenarios of one panel share it).

    Raises:
        ScenarioError: As :func:`load_profiles` (a missing file included).
    """
    path = Path(path)
    try:
        key = _file_key(path)
    except OSError:
        return load_profiles(path)  # its own one-line error for a missing or unreadable file
    return _cached(key)
