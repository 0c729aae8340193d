"""Outcomes and costs: per participant, aggregated, and by subgroup.

The names are fixed; reports, tests and users rely on
them. Every outcome is measured from each participant's own start week. An
outcome a participant has not reached by the horizon is missing (NaN) for
them and left out of the mean, never counted as zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from introsim.model.ledger import LEDGER_PAYERS, PAYER_LABELS, PERSON_YEARS_PV, net_cost_name
from introsim.model.state import STATUS_NAMES, WEEKS_24M, WEEKS_PER_YEAR, Refugees, Status
from introsim.params.schema import EDUCATION_LEVELS, METHODS
from introsim.tables import Coded, Columns, frame

if TYPE_CHECKING:
    import pandas as pd

OUTCOMES: tuple[str, ...] = (
    "employed_12m",
    "employed_24m",
    "employed_60m",
    "employed_120m",
    "work_or_education_at_exit",
    "work_or_education_12m_after_exit",
    "months_employed_24m",
    "weeks_to_first_job",
    "never_employed_share",
    "retention_26w",
    "subsidised_share_12m",
    "cost_per_participant_nok",
)
"""Run-level outcome names, in the order tables show them."""

COST_PARTS: tuple[str, ...] = ("cost_specialist_nok", "cost_subsidy_nok", "cost_benefit_nok")

RETENTION_WEEKS = 26
MONTHS_PER_WEEK = 12.0 / WEEKS_PER_YEAR
SUBGROUPS: tuple[str, ...] = ("sex", "education", "language_band", "mental_health", "care")
LANGUAGE_BANDS = (0.5, 1.0)  # starting proficiency cut points: below A1-, around A1, above


@dataclass(frozen=True)
class OutcomeInfo:
    """What an outcome means and how to read it."""

    label: str
    unit: str
    higher_is_better: bool


OUTCOME_INFO: dict[str, OutcomeInfo] = {
    "employed_12m": OutcomeInfo("In work 12 months after start", "share", True),
    "employed_24m": OutcomeInfo("In work 24 months after start", "share", True),
    "employed_60m": OutcomeInfo("In work 60 months after start", "share", True),
    "employed_120m": OutcomeInfo(
        "In work 120 months after start (needs a 10-year horizon)", "share", True
    ),
    "work_or_education_at_exit": OutcomeInfo(
        "In work or education when leaving the programme", "share", True
    ),
    "work_or_education_12m_after_exit": OutcomeInfo(
        "In work or education 12 months after leaving", "share", True
    ),
    "months_employed_24m": OutcomeInfo("Months in work in the first 24 months", "months", True),
    "weeks_to_first_job": OutcomeInfo(
        "Weeks to first job (median, those who found one)", "weeks", False
    ),
    "never_employed_share": OutcomeInfo("Never found a job within the horizon", "share", False),
    "retention_26w": OutcomeInfo("First jobs lasting 26 weeks or more", "share", True),
    "subsidised_share_12m": OutcomeInfo(
        "Of those in work at 12 months, share subsidised", "share", False
    ),
    "cost_per_participant_nok": OutcomeInfo(
        "Public cost per participant over the horizon", "NOK", False
    ),
    "cost_specialist_nok": OutcomeInfo(
        "Specialist and advisor cost per participant (the caseload slots they occupy)", "NOK", False
    ),
    "cost_subsidy_nok": OutcomeInfo("Wage subsidy paid per participant", "NOK", False),
    "cost_benefit_nok": OutcomeInfo("Introduction benefit paid per participant", "NOK", False),
    **{
        net_cost_name(payer): OutcomeInfo(
            f"Net cost to {PAYER_LABELS[payer]} per participant, present value over the horizon",
            "NOK",
            False,
        )
        for payer in LEDGER_PAYERS
    },
    PERSON_YEARS_PV: OutcomeInfo(
        "Years in work per participant over the horizon, discounted like the money",
        "years",
        True,
    ),
}

_WORK = (Status.EMPLOYED, Status.SUBSIDISED)
_WORK_OR_EDUCATION = (*_WORK, Status.EDUCATION)


def _share_table(codes: tuple[Status, ...]) -> np.ndarray:
    """By status code: 1.0 for one of ``codes``, 0.0 for another; NaN last, which -1 reaches."""
    table = np.zeros(len(Status) + 1)
    table[list(codes)] = 1.0
    table[-1] = np.nan
    return table


def _share_in(status: np.ndarray, codes: tuple[Status, ...]) -> np.ndarray:
    """1.0 where status is one of ``codes``, 0.0 where another, NaN where not observed (-1)."""
    # A lookup by status code (faster than np.isin on a run's few hundred rows).
    return _share_table(codes)[status]


def participant_outcomes(refugees: Refugees, weeks: int) -> dict[str, np.ndarray]:
    """Each participant's numeric outcomes and costs, straight from the arrays.

    Args:
        refugees: The state at the end of a run.
        weeks: The run's horizon, to tell censored first jobs from short ones.

    Returns:
        One float array per outcome column of :func:`participant_table` (NaN where
        not observed), by column name.
    """
    r = refugees
    first = r.first_job_week
    found = first >= 0
    weeks_to_first = np.where(found, first - r.arrival_week, np.nan).astype(np.float64)
    # A first job that started fewer than 26 weeks before the horizon and still runs is censored.
    observable = found & ((first + RETENTION_WEEKS <= weeks) | (r.first_job_active == 0))
    retained = np.where(observable, (r.first_job_weeks >= RETENTION_WEEKS).astype(float), np.nan)
    employed_12m = _share_in(r.status_12m, _WORK)
    subsidised_12m = np.where(
        employed_12m == 1.0, (r.status_12m == Status.SUBSIDISED).astype(float), np.nan
    )
    seen_24m = weeks - r.arrival_week >= WEEKS_24M
    months_24m = np.where(seen_24m, r.weeks_employed_24m * MONTHS_PER_WEEK, np.nan)
    return {
        "employed_12m": employed_12m,
        "employed_24m": _share_in(r.status_24m, _WORK),
        "employed_60m": _share_in(r.status_60m, _WORK),
        "employed_120m": _share_in(r.status_120m, _WORK),
        "work_or_education_at_exit": _share_in(r.exit_status, _WORK_OR_EDUCATION),
        "work_or_education_12m_after_exit": _share_in(r.status_after_exit_12m, _WORK_OR_EDUCATION),
        "months_employed_24m": months_24m,
        "weeks_to_first_job": weeks_to_first,
        "never_employed": (~found).astype(np.float64),
        "retention_26w": retained,
        "subsidised_12m": subsidised_12m,
        "cost_specialist_nok": r.cost_specialist,
        "cost_subsidy_nok": r.cost_subsidy,
        "cost_benefit_nok": r.cost_benefit,
        "cost_per_participant_nok": r.cost_specialist + r.cost_subsidy + r.cost_benefit,
    }


def participant_columns(refugees: Refugees, weeks: int) -> Columns:
    """One row per participant: characteristics, outcomes and costs, as columns.

    Args:
        refugees: The state at the end of a run.
        weeks: The run's horizon, to tell censored first jobs from short ones.

    Returns:
        The columns of :func:`participant_table` (categorical ones as
        :class:`introsim.tables.Coded`), without pandas.
    """
    r = refugees
    return {
        "participant": np.arange(r.size, dtype=np.int64),
        "arrival_week": r.arrival_week,
        "sex": Coded(r.sex, ("male", "female")),
        "age_at_arrival": r.age,
        "education": Coded(r.education, EDUCATION_LEVELS),
        "language_start": r.language0,
        "language_band": language_band(r.language0),
        "mental_health": Coded(r.mental_health, ("no burden", "burden")),
        "care": Coded(r.care, ("no care", "care")),
        "method": Coded(r.method, METHODS),
        "language_end": r.language,
        "status_end": Coded(r.status, STATUS_NAMES),
        "exit_week": _week_or_nan(r.exit_week),
        "exit_status": Coded(r.exit_status, STATUS_NAMES),
        "status_12m_after_exit": Coded(r.status_after_exit_12m, STATUS_NAMES),
        **participant_outcomes(r, weeks),
    }


def participant_table(refugees: Refugees, weeks: int) -> pd.DataFrame:
    """One row per participant: characteristics, outcomes and costs.

    Args:
        refugees: The state at the end of a run.
        weeks: The run's horizon, to tell censored first jobs from short ones.

    Returns:
        A DataFrame with the per-participant outcomes under their fixed names, and
        each participant's programme exit: ``exit_week`` (NaN if still in it or never
        started), ``exit_status`` and ``status_12m_after_exit`` (missing where not
        reached by the horizon).
    """
    return frame(participant_columns(refugees, weeks))


def _week_or_nan(weeks: np.ndarray) -> np.ndarray:
    """Week numbers as floats; -1 (not yet happened) becomes NaN, as other unobserved values."""
    return np.where(weeks >= 0, weeks, np.nan)


def language_band(language0: np.ndarray) -> Coded:
    """Band of starting proficiency: 'low' (< 0.5), 'some' (0.5-1), 'A1+' (>= 1)."""
    codes = np.searchsorted(np.asarray(LANGUAGE_BANDS), language0, side="right")
    return Coded(codes, ("low", "some", "A1+"))


def _observed(x: pd.Series | np.ndarray) -> np.ndarray:
    v = np.asarray(x, dtype=np.float64)
    return v[~np.isnan(v)]


def _mean(x: pd.Series | np.ndarray) -> float:
    v = _observed(x)
    return float(v.mean()) if v.size else float("nan")


def summarise(participants: pd.DataFrame | Mapping[str, np.ndarray]) -> dict[str, float]:
    """Aggregate per-participant outcomes into the run-level outcomes of ``OUTCOMES``.

    Args:
        participants: The table from :func:`participant_table`, or the arrays from
            :func:`participant_outcomes` (the same values, without pandas).

    Returns:
        Each outcome name and cost part mapped to its value (NaN where nobody reached it).
    """
    p = participants
    weeks_found = _observed(p["weeks_to_first_job"])
    out = {
        "employed_12m": _mean(p["employed_12m"]),
        "employed_24m": _mean(p["employed_24m"]),
        "employed_60m": _mean(p["employed_60m"]),
        "employed_120m": _mean(p["employed_120m"]),
        "work_or_education_at_exit": _mean(p["work_or_education_at_exit"]),
        "work_or_education_12m_after_exit": _mean(p["work_or_education_12m_after_exit"]),
        "months_employed_24m": _mean(p["months_employed_24m"]),
        "weeks_to_first_job": float(np.median(weeks_found)) if weeks_found.size else float("nan"),
        "never_employed_share": _mean(p["never_employed"]),
        "retention_26w": _mean(p["retention_26w"]),
        "subsidised_share_12m": _mean(p["subsidised_12m"]),
        "cost_per_participant_nok": _mean(p["cost_per_participant_nok"]),
    }
    for part in COST_PARTS:
        out[part] = _mean(p[part])
    return out


SHARE_COLUMNS: dict[str, str] = {
    "employed_12m": "employed_12m",
    "employed_24m": "employed_24m",
    "employed_60m": "employed_60m",
    "employed_120m": "employed_120m",
    "work_or_education_at_exit": "work_or_education_at_exit",
    "work_or_education_12m_after_exit": "work_or_education_12m_after_exit",
    "never_employed_share": "never_employed",
    "retention_26w": "retention_26w",
    "subsidised_share_12m": "subsidised_12m",
}
"""Each share outcome and the per-participant column :func:`summarise` averages for it."""


_MEANS: tuple[str, ...] = ("months_employed_24m", "cost_per_participant_nok", *COST_PARTS)
"""The outcomes :func:`run_summary` averages in numpy: sums of fractions, whose order counts."""


def run_summary(refugees: Refugees, weeks: int) -> tuple[dict[str, float], dict[str, float]]:
    """``summarise(participant_outcomes(...))`` and its :func:`observed_counts`, the same bits.

    What a run without tables needs (sweeps, calibration, trials: thousands of runs), in one
    compiled pass over the participants instead of some forty numpy calls on a few hundred
    rows each. Shares are counts of ones over counts of observed values, as exact as numpy's
    sums of ones; the means of fractions (months, costs) are numpy's own sums of the
    observed values in participant order, so they add in the same order; the median is
    numpy's for values that are whole numbers. ``tests/test_tally.py`` checks it
    against the tables' path bit for bit.

    Args:
        refugees: The state at the end of a run.
        weeks: The run's horizon, to tell censored first jobs from short ones.

    Returns:
        The run-level outcomes and cost parts (as :func:`summarise`), and how many
        participants each share rests on (as :func:`observed_counts`).
    """
    from introsim.model.tally import participant_tally  # compiled: numba only when running

    r = refugees
    counts, means, median, weeks_found = participant_tally(
        r.first_job_week,
        r.arrival_week,
        r.first_job_active,
        r.first_job_weeks,
        r.status_12m,
        r.status_24m,
        r.status_60m,
        r.status_120m,
        r.exit_status,
        r.status_after_exit_12m,
        r.weeks_employed_24m,
        r.cost_specialist,
        r.cost_subsidy,
        r.cost_benefit,
        weeks,
        _share_table(_WORK),
        _share_table(_WORK_OR_EDUCATION),
    )
    k = len(SHARE_COLUMNS)
    ones, observed = counts[:k].tolist(), counts[k:].tolist()
    found = {
        o: ones[j] / observed[j] if observed[j] else math.nan for j, o in enumerate(SHARE_COLUMNS)
    }
    found.update(zip(_MEANS, means.tolist(), strict=True))
    if weeks_found.size and math.isnan(median):  # weeks spread wider than a run's
        median = float(np.median(weeks_found.astype(np.float64)))
    found["weeks_to_first_job"] = median
    out = {o: found[o] for o in (*OUTCOMES, *COST_PARTS)}
    return out, {f"people_{o}": float(observed[j]) for j, o in enumerate(SHARE_COLUMNS)}


def observed_counts(participants: pd.DataFrame | Mapping[str, np.ndarray]) -> dict[str, float]:
    """How many participants each share rests on: those with a value (who reached it).

    Returns:
        ``people_<outcome>`` for each share of :data:`SHARE_COLUMNS`.
    """
    return {
        f"people_{o}": float(np.isfinite(np.asarray(participants[c], dtype=np.float64)).sum())
        for o, c in SHARE_COLUMNS.items()
    }


def by_subgroup(
    participants: pd.DataFrame, outcomes: tuple[str, ...] = ("employed_12m",)
) -> pd.DataFrame:
    """Outcome means within each subgroup (sex, education, language, health, care).

    Args:
        participants: The table from :func:`participant_table`.
        outcomes: Per-participant columns to average.

    Returns:
        Long table with columns ``subgroup``, ``level``, ``n``, and one per outcome.
    """
    import pandas as pd

    rows = []
    for group in SUBGROUPS:
        for level, part in participants.groupby(group, observed=False):
            row = {"subgroup": group, "level": str(level), "n": len(part)}
            row.update({o: _mean(part[o]) for o in outcomes})
            rows.append(row)
    return pd.DataFrame(rows)
