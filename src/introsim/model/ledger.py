"""The public-finance ledger: who pays, who gains and when, in present value.

The kernel ``ledger_week`` writes each week's public flows, summed over participants, into
the run's ledger (``World.ledger``, columns ``state.LEDGER_FLOWS``), each a non-negative
amount. This module applies the scenario's ``[public_finances]`` to it: each flow's payer (a
cost) and receiver (a gain), discounting at ``public_finances.discount_rate`` (the Ministry of
Finance's real rate, circular R-109) to the start of the run, and the results per participant:

* ``net_cost_pv_<payer>_nok`` for the municipality, the state, NAV and the public purse as a
  whole (:data:`LEDGER_OUTCOMES`, outcomes of every run: sweeps and sensitivity studies can
  use them): the present value of the payer's costs less its gains over the horizon.
* by flow and payer (:func:`flow_values`, :func:`flows_by_payer`): what the stacked bars show.
* by year (:func:`cumulative_by_year`): the net cost to the end of each year, up to ten, from
  which a comparison finds the year a policy pays back for each payer.

Signs: a cost to a payer is positive, a gain (a grant received, tax) negative, so the public
purse's net cost is the sum of the three payers' and transfers between them cancel.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from introsim.model.state import (
    LEDGER_COLUMN,
    LEDGER_FLOWS,
    STATUS_NAMES,
    WEEKS_PER_YEAR,
    Status,
    per_scenario,
)
from introsim.params.schema import MAX_WEEKS, PAYERS, Scenario
from introsim.tables import Columns, frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FLOWS",
    "FLOW_LABELS",
    "LEDGER_FLOW_VALUES",
    "LEDGER_OUTCOMES",
    "LEDGER_PAYERS",
    "LEDGER_YEARS",
    "MAX_YEARS",
    "PAYBACK_STATUSES",
    "PAYER_LABELS",
    "PERSON_YEARS_PV",
    "PUBLIC",
    "Entry",
    "cumulative_by_year",
    "discount_factors",
    "entries",
    "flow_name",
    "flow_rows",
    "flow_values",
    "flows_by_payer",
    "ledger_detail",
    "ledger_outcomes",
    "ledger_table",
    "net_cost_name",
    "payback_year",
    "year_name",
]

PUBLIC = "public"
"""The public purse as a whole: the municipality, the state and NAV together."""
LEDGER_PAYERS: tuple[str, ...] = (*PAYERS, PUBLIC)
"""Whose accounts the ledger keeps, the public purse last."""
PAYER_LABELS: dict[str, str] = {
    "municipality": "the municipality",
    "state": "the state",
    "nav": "NAV",
    PUBLIC: "the public purse",
}
FLOWS: tuple[str, ...] = (
    "introduction_benefit",
    "social_assistance",
    "specialists",
    "teaching",
    "wage_subsidy",
    "nav_follow_up",
    "integration_grant",
    "income_tax",
    "employer_contributions",
)
"""The public flows, as reported (the two parts of the income tax are one flow)."""
FLOW_LABELS: dict[str, str] = {
    "introduction_benefit": "introduction benefit",
    "social_assistance": "social assistance",
    "specialists": "advisors and job specialists",
    "teaching": "teachers",
    "wage_subsidy": "wage subsidy",
    "nav_follow_up": "NAV follow-up and measures",
    "integration_grant": "integration grant",
    "income_tax": "income tax",
    "employer_contributions": "employer's contributions",
}
MAX_YEARS = MAX_WEEKS // WEEKS_PER_YEAR
"""Years the yearly accounts cover at most (the model's longest horizon, 10 years)."""
PERSON_YEARS_PV = "person_years_in_work_pv"
"""Years in work per participant over the horizon, discounted like the money."""


def net_cost_name(payer: str) -> str:
    """The outcome name of a payer's net cost in present value, e.g. ``net_cost_pv_state_nok``."""
    return f"net_cost_pv_{payer}_nok"


def flow_name(payer: str, flow: str) -> str:
    """The name of one flow's present value to one payer, e.g. ``pv_state_income_tax_nok``."""
    return f"pv_{payer}_{flow}_nok"


def year_name(payer: str, year: int) -> str:
    """The name of a payer's net cost in present value to the end of year ``year`` (from 1)."""
    return f"net_cost_pv_{payer}_year{year}_nok"


LEDGER_OUTCOMES: tuple[str, ...] = (*(net_cost_name(p) for p in LEDGER_PAYERS), PERSON_YEARS_PV)
"""Run-level outcomes of the ledger: each payer's net cost per participant in present value
over the horizon, and the discounted years in work they buy."""
LEDGER_FLOW_VALUES: tuple[str, ...] = tuple(flow_name(p, f) for p in PAYERS for f in FLOWS)
"""Each flow's present value to each payer (:func:`flow_values`)."""
LEDGER_YEARS: tuple[str, ...] = tuple(
    year_name(p, k) for p in LEDGER_PAYERS for k in range(1, MAX_YEARS + 1)
)
"""Each payer's net cost in present value to the end of each year (:func:`cumulative_by_year`)."""


class Entry(NamedTuple):
    """One line of the accounts: a ledger column booked to a payer with a sign."""

    flow: str  # one of FLOWS
    column: int  # index into LEDGER_FLOWS
    payer: str  # one of PAYERS
    sign: float  # +1: a cost to the payer, -1: a gain


def entries(scenario: Scenario) -> tuple[Entry, ...]:
    """The scenario's accounts: each ledger column booked to who pays and who receives it.

    Args:
        scenario: The resolved scenario (its ``[public_finances]`` names the payers).

    Returns:
        One entry per (flow, payer) booking; a transfer between public bodies is two.
    """
    pf = scenario.public_finances
    col = LEDGER_COLUMN
    cost = [
        ("introduction_benefit", pf.introduction_benefit.payer),
        ("social_assistance", pf.social_assistance.payer),
        ("specialists", pf.specialists.payer),
        ("teaching", pf.teaching.payer),
        ("wage_subsidy", pf.wage_subsidy.payer),
        ("nav_follow_up", pf.nav_follow_up.payer),
    ]
    out = [Entry(flow, col[flow], payer, 1.0) for flow, payer in cost]
    grant = pf.integration_grant
    out += [
        Entry("integration_grant", col["integration_grant"], grant.payer, 1.0),
        Entry("integration_grant", col["integration_grant"], grant.receiver, -1.0),
        Entry("income_tax", col["income_tax_municipality"], "municipality", -1.0),
        Entry("income_tax", col["income_tax_rest"], pf.income_tax.receiver, -1.0),
        Entry(
            "employer_contributions",
            col["employer_contributions"],
            pf.employer_contributions.receiver,
            -1.0,
        ),
    ]
    return tuple(out)


def discount_factors(weeks: int, rate: float) -> np.ndarray:
    """Each week's discount factor to the start of the run: ``(1 + rate) ** -(week / 52)``."""
    return (1.0 + rate) ** -(np.arange(weeks, dtype=np.float64) / WEEKS_PER_YEAR)


class _Bookings(NamedTuple):
    """A scenario's accounts as the arrays :func:`_booked` needs, worked out once."""

    # The entries in rounds that book each (payer, flow) cell at most once: payer, flow,
    # sign and ledger column of each entry, as index arrays.
    rounds: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], ...]
    entries: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # the same, in one round
    discount: np.ndarray  # each week's discount factor over the scenario's horizon
    per_person: np.ndarray  # each week's factor to NOK per participant, discounted


@per_scenario
def _bookings(scenario: Scenario) -> _Bookings:
    rounds: list[list[Entry]] = []
    booked: dict[tuple[str, str], int] = {}
    for e in entries(scenario):
        # The k-th entry for a cell goes in round k (both parts of the income tax may go
        # to the municipality), so each cell adds its entries in their order.
        k = booked.get((e.payer, e.flow), 0)
        booked[(e.payer, e.flow)] = k + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(e)
    weeks = scenario.scenario.weeks
    discount = discount_factors(weeks, scenario.public_finances.discount_rate)
    return _Bookings(
        rounds=tuple(_entry_arrays(r) for r in rounds),
        entries=_entry_arrays(entries(scenario)),
        discount=discount,
        per_person=discount / scenario.cohort.size,
    )


def _entry_arrays(
    booked: Collection[Entry],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Entries as index arrays: payer (in ``PAYERS``), flow (in ``FLOWS``), sign, column."""
    return (
        np.array([PAYERS.index(e.payer) for e in booked], dtype=np.int64),
        np.array([FLOWS.index(e.flow) for e in booked], dtype=np.int64),
        np.array([e.sign for e in booked], dtype=np.float64),
        np.array([e.column for e in booked], dtype=np.int64),
    )


def _factors(scenario: Scenario, weeks: int, discount: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each week's discount factor (1 where not discounted) and its factor to NOK per participant.

    The scenario's own horizon, discounted, is kept with its bookings; other lengths (a run
    looked at part-way) and undiscounted views are worked out.
    """
    b = _bookings(scenario)
    if discount and weeks == b.discount.shape[0]:
        return b.discount, b.per_person
    factors = discount_factors(weeks, scenario.public_finances.discount_rate if discount else 0.0)
    return factors, factors / scenario.cohort.size


def _booked(ledger: np.ndarray, scenario: Scenario, discount: bool) -> np.ndarray:
    """(weeks, payers, flows) signed NOK per participant, discounted where asked."""
    weeks = ledger.shape[0]
    per_person = ledger * _factors(scenario, weeks, discount)[1][:, None]
    out = np.zeros((weeks, len(PAYERS), len(FLOWS)))
    for payer, flow, sign, column in _bookings(scenario).rounds:
        out[:, payer, flow] += sign * per_person[:, column]
    return out


def flow_values(ledger: np.ndarray, scenario: Scenario, discount: bool = True) -> dict[str, float]:
    """Each flow's value to each payer per participant over the horizon, by :func:`flow_name`.

    Args:
        ledger: The run's ledger, (weeks, ``LEDGER_FLOWS``).
        scenario: The scenario that ran.
        discount: Present values (the default) or plain sums.

    Returns:
        Every payer and flow of :data:`PAYERS` x :data:`FLOWS`, zero where the payer has no
        part in the flow.
    """
    total = _booked(ledger, scenario, discount).sum(axis=0)
    return {
        flow_name(p, f): float(total[i, j])
        for i, p in enumerate(PAYERS)
        for j, f in enumerate(FLOWS)
    }


def cumulative_by_year(ledger: np.ndarray, scenario: Scenario) -> dict[str, float]:
    """Each payer's net cost per participant in present value to the end of years 1 to 10.

    Args:
        ledger: The run's ledger, (weeks, ``LEDGER_FLOWS``).
        scenario: The scenario that ran.

    Returns:
        By :func:`year_name`, for every payer of :data:`LEDGER_PAYERS` and year 1 to
        :data:`MAX_YEARS`; NaN for a year the horizon does not complete.
    """
    weekly = _booked(ledger, scenario, True).sum(axis=2)  # (weeks, payers)
    weekly = np.column_stack([weekly, weekly.sum(axis=1)])
    running = np.cumsum(weekly, axis=0)
    out = {}
    for k in range(1, MAX_YEARS + 1):
        end = k * WEEKS_PER_YEAR
        row = running[end - 1] if end <= ledger.shape[0] else np.full(len(LEDGER_PAYERS), np.nan)
        out.update({year_name(p, k): float(row[i]) for i, p in enumerate(LEDGER_PAYERS)})
    return out


_IN_WORK_COLUMNS = [
    STATUS_NAMES.index(s.name.lower()) for s in (Status.EMPLOYED, Status.SUBSIDISED)
]


def _in_work(weekly: np.ndarray) -> np.ndarray:
    """Participants in work each week, from the weekly status counts."""
    return weekly[:, _IN_WORK_COLUMNS].sum(axis=1).astype(np.float64)


def ledger_outcomes(ledger: np.ndarray, weekly: np.ndarray, scenario: Scenario) -> dict[str, float]:
    """The run-level outcomes of the ledger (:data:`LEDGER_OUTCOMES`).

    Args:
        ledger: The run's ledger, (weeks, ``LEDGER_FLOWS``).
        weekly: The run's weekly series, (weeks, statuses + events); its status counts give
            the years in work.
        scenario: The scenario that ran.

    Returns:
        Each payer's net cost per participant in present value over the horizon, and the
        years in work per participant discounted at the same rate.
    """
    from introsim.model.tally import ledger_sums  # compiled: numba only when running

    weeks = ledger.shape[0]
    discount, per_person = _factors(scenario, weeks, True)
    payer, flow, sign, column = _bookings(scenario).entries
    net, public, worked = ledger_sums(
        np.ascontiguousarray(ledger, dtype=np.float64),
        per_person,
        payer,
        flow,
        sign,
        column,
        len(PAYERS),
        len(FLOWS),
        np.ascontiguousarray(weekly[:weeks, _IN_WORK_COLUMNS]),
        discount,
    )
    out = {net_cost_name(p): v for p, v in zip(PAYERS, net.tolist(), strict=True)}
    out[net_cost_name(PUBLIC)] = public
    out[PERSON_YEARS_PV] = worked / WEEKS_PER_YEAR / scenario.cohort.size
    return out


def _array(ledger: pd.DataFrame | np.ndarray | None) -> np.ndarray:
    """A ledger as its (weeks, ``LEDGER_FLOWS``) array, from the table or the array itself."""
    if ledger is None:
        raise ValueError("no ledger: the run was not made by introsim.run.simulate")
    if not isinstance(ledger, np.ndarray):  # the table (a DataFrame)
        return ledger[list(LEDGER_FLOWS)].to_numpy(dtype=np.float64)
    return np.asarray(ledger, dtype=np.float64)


def ledger_detail(ledger: pd.DataFrame | np.ndarray | None, scenario: Scenario) -> dict[str, float]:
    """What a comparison keeps of a run's ledger besides :data:`LEDGER_OUTCOMES`.

    Args:
        ledger: :attr:`introsim.run.SimResult.ledger`, or the world's array.
        scenario: The scenario that ran.

    Returns:
        :func:`flow_values` (present values) and :func:`cumulative_by_year`, by name
        (:data:`LEDGER_FLOW_VALUES`, :data:`LEDGER_YEARS`).
    """
    array = _array(ledger)
    return {**flow_values(array, scenario), **cumulative_by_year(array, scenario)}


def ledger_columns(ledger: np.ndarray) -> Columns:
    """The weekly ledger as columns: ``week`` and one NOK column per ``LEDGER_FLOWS``."""
    return {
        "week": np.arange(ledger.shape[0], dtype=np.int64),
        **{name: ledger[:, j] for j, name in enumerate(LEDGER_FLOWS)},
    }


def ledger_table(ledger: np.ndarray) -> pd.DataFrame:
    """The weekly ledger as a table: ``week`` and one NOK column per ``LEDGER_FLOWS``."""
    return frame(ledger_columns(ledger))


def flows_by_payer(ledger: pd.DataFrame | np.ndarray, scenario: Scenario) -> pd.DataFrame:
    """The flows by payer of one run, per participant in present value: a stacked bar's data.

    For the dashboard and notebooks: ``flows_by_payer(simulate(sc, seed).ledger, sc)``.

    Args:
        ledger: The run's ledger: :attr:`introsim.run.SimResult.ledger` (the table of
            :func:`ledger_table`) or its array, (weeks, ``LEDGER_FLOWS``).
        scenario: The scenario that ran.

    Returns:
        One row per payer of :data:`PAYERS` and flow of :data:`FLOWS` where the payer has a
        part in it: ``payer``, ``flow``, ``label`` (words), ``nok`` (positive a cost to the
        payer, negative a gain).
    """
    booked = {(e.payer, e.flow) for e in entries(scenario)}
    return flow_rows(flow_values(_array(ledger), scenario), booked)


def flow_rows(
    values: Mapping[str, float], booked: Collection[tuple[str, str]] | None = None
) -> pd.DataFrame:
    """Flows by payer as rows, from values named by :func:`flow_name`.

    The dashboard's what-if keeps every outcome of a comparison's replicates, these among
    them: ``flow_rows({k: v.mean for k, v in chosen.items()})`` gives its stacked bar's data.

    Args:
        values: Each ``flow_name(payer, flow)`` mapped to NOK per participant (others ignored).
        booked: The (payer, flow) pairs to keep; None keeps those with a value other than 0.

    Returns:
        ``payer``, ``flow``, ``label`` (words), ``nok`` (positive a cost, negative a gain), in
        the order of :data:`PAYERS` and :data:`FLOWS`.
    """
    rows = [
        {"payer": p, "flow": f, "label": FLOW_LABELS[f], "nok": float(values[flow_name(p, f)])}
        for p in PAYERS
        for f in FLOWS
        if flow_name(p, f) in values
        and ((p, f) in booked if booked is not None else values[flow_name(p, f)] != 0)
    ]
    import pandas as pd

    return pd.DataFrame(rows, columns=["payer", "flow", "label", "nok"])


PAYBACK_STATUSES: tuple[str, ...] = (
    "pays back",
    "never dearer",
    "not within the horizon",
    "no difference",
)
"""What a payback path says (see :func:`payback_year`)."""


def payback_year(path: np.ndarray) -> tuple[float, str]:
    """The year a policy pays back for one payer, from its cumulative extra net cost by year.

    Args:
        path: The policy's net cost minus the reference's, in present value to the end of
            years 1, 2, ... (NaN for years past the horizon, which are left out).

    Returns:
        ``(year, status)``: "pays back" with the first year from whose end the extra cost stays
        at or below zero to the horizon; "never dearer" (year 0: ahead from the start) when it
        is never above zero and somewhere below; "not within the horizon" (NaN) when it is
        still above zero at the horizon's last full year; "no difference" (NaN) when it is zero
        throughout or the horizon holds no full year.
    """
    p = np.asarray(path, dtype=np.float64)
    p = p[np.isfinite(p)]
    dearer = p > 0
    if not dearer.any():
        return (0.0, "never dearer") if (p < 0).any() else (float("nan"), "no difference")
    if dearer[-1]:
        return float("nan"), "not within the horizon"
    return float(np.flatnonzero(dearer)[-1] + 2), "pays back"
