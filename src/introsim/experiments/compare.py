"""Comparing scenarios with common random numbers.

A comparison runs ``replications`` replicates of every scenario. Replicate ``r``
uses the seed :func:`introsim.run.replicate_seed` ``(root_seed, r)`` in every
scenario (common random numbers): the same cohort, and the same counter-based
random draws wherever the scenarios behave alike. Differences between
scenarios are therefore estimated from replicate-wise (paired) differences,
which vary far less than differences between independent runs.

Statistics, all over replicates (the unit of replication is one simulated run;
the intervals describe simulation noise for the scenario as written, not
uncertainty about the model's parameters):

* A scenario's mean of an outcome: Student t 95 % interval over replicates.
* A difference from the first scenario (the reference): paired t 95 % interval
  over replicate-wise differences, with the paired t-test's two-sided p-value.
* ``extra_employed_12m``: the paired difference in the ``employed_12m`` share,
  times the compared scenario's cohort size, i.e. extra persons in work at 12
  months per cohort; paired t interval.
* ``person_years_in_work``: years in work (ordinary or subsidised) per
  participant over the whole horizon, from the weekly status counts:
  participant-weeks in work / 52 / cohort size. It covers the same weeks as
  ``cost_per_participant_nok``.
* ``extra_person_years_in_work``: the paired difference in
  ``person_years_in_work`` times the cohort size, i.e. extra person-years in
  work per cohort over the horizon; paired t interval.
* ``cost_per_extra_person_year_nok``: difference in cost per participant over
  difference in person-years in work per participant, both over the same
  horizon: the cost-effectiveness ratio with matched horizons.
* ``cost_per_extra_job_nok``: difference in cost per participant (over the
  horizon) over difference in the ``employed_12m`` share. Its horizons do not
  match (a policy whose effect comes after 12 months looks dear), so it is
  kept only under a label that says so.

Both ratios are ratios of mean differences with Fieller's 95 % interval for a
ratio of two correlated means (the per-replicate ratio is unstable). A
negative ratio never appears: each ratio row has a ``status``
(:data:`COST_STATUSES`): "dominant" where the scenario is clearly cheaper
*and* clearly better than the reference (both 95 % ranges exclude zero: over a
posterior ensemble the mechanisms' ranges, otherwise the simulation's intervals),
"dominated" where it is clearly dearer and clearly worse, "ratio" where the
gain is clear and the extra cost is positive (the ratio and its interval are
given), "no clear extra cost" where the gain is clear but the cost is not
clearly different and not higher on average, "fewer in work" where the effect
is clearly negative, and "no clear gain" otherwise. The ratio is NaN (shown as
"–") unless the status is "ratio".

Runs are pure functions of (scenario, seed), so results are identical for any
number of worker processes: they are always assembled in (scenario, replicate)
order.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from introsim.experiments.engine import Task, executor_for, model_version, provenance, run_cube
from introsim.experiments.statistics import (
    CONFIDENCE,
    FEW_PEOPLE,
    FEW_REPLICATES,
    MIN_PEOPLE,
    MIN_REPLICATES,
    UNPAIRED,
    fieller_ratio,
    interval,
    t_band,
    t_interval,
    unpaired_interval,
)
from introsim.experiments.store import RunStore
from introsim.experiments.study import Runner, Study, StudyError, register
from introsim.experiments.uncertainty import ThreeKinds, parameter_spread, three_kinds
from introsim.model.ledger import (
    FLOW_LABELS,
    FLOWS,
    LEDGER_FLOW_VALUES,
    LEDGER_OUTCOMES,
    LEDGER_PAYERS,
    LEDGER_YEARS,
    MAX_YEARS,
    PAYER_LABELS,
    PERSON_YEARS_PV,
    flow_name,
    ledger_detail,
    net_cost_name,
    payback_year,
    year_name,
)
from introsim.model.outcomes import (
    COST_PARTS,
    OUTCOME_INFO,
    OUTCOMES,
    OutcomeInfo,
    by_subgroup,
    observed_counts,
)
from introsim.model.state import IN_WORK_NAMES, STATUS_NAMES, WEEKS_PER_YEAR
from introsim.params.ensemble_file import Ensemble
from introsim.params.schema import PAYERS, Scenario
from introsim.run import replicate_seed, simulate
from introsim.terminal import Console, Table, printable, shown, wide_console

__all__ = [
    "COMPARISON_INFO",
    "COMPARISON_OUTCOMES",
    "COST_STATUSES",
    "INFO",
    "IN_WORK",
    "LEDGER_COMPARISONS",
    "LEDGER_DETAIL",
    "PAYBACK",
    "PAYER_RATIOS",
    "PERSON_YEARS",
    "REPLICATE_OUTCOMES",
    "SUBGROUP_OUTCOMES",
    "TABLE_OUTCOMES",
    "WEEKLY_SERIES",
    "Comparison",
    "ReplicateResult",
    "build_manifest",
    "compare",
    "run_replicate",
    "seed_text",
    "write_outputs",
]


MAX_REPLICATIONS = 10_000
"""Most replicates per scenario: beyond, intervals are far narrower than the model's own
uncertainty, and the results held for the report alone need gigabytes."""

RESULT_BYTES_PER_RUN_WEEK = 240
"""Memory a comparison keeps per run and simulated week (weekly series, subgroups, outcomes).

Measured: ``introsim compare`` of two 520-week scenarios grew by 240 MB from 20 to
1000 replicates (peak resident memory, ``/usr/bin/time``).
"""


def results_memory(scenarios: Sequence[Scenario], replications: int) -> int:
    """Bytes a comparison keeps for its results while it runs."""
    return RESULT_BYTES_PER_RUN_WEEK * replications * sum(sc.scenario.weeks for sc in scenarios)


PERSON_YEARS = "person_years_in_work"
"""Years in work per participant over the horizon, computed here from the weekly status counts."""

LEDGER_DETAIL: tuple[str, ...] = (*LEDGER_FLOW_VALUES, *LEDGER_YEARS)
"""The ledger's detail kept per replicate: each flow's present value to each payer, and each
payer's net cost to the end of each year (the stacked bars and the payback years)."""

ELIGIBILITY_OUTCOMES: tuple[str, ...] = ("subsidy_eligible_share", "subsidy_received_share")
"""Who may bring the scenario's wage subsidy (at arrival), and who had a subsidised job."""

PEOPLE = "people"
"""Prefix of a run's count of the participants a share rests on (``people_employed_60m``)."""

REPLICATE_OUTCOMES: tuple[str, ...] = (
    *OUTCOMES,
    *ELIGIBILITY_OUTCOMES,
    PERSON_YEARS,
    *COST_PARTS,
    *LEDGER_OUTCOMES,
    *LEDGER_DETAIL,
)
"""Run-level outcomes recorded per replicate: the fixed outcomes, person-years in work, the
cost parts, each payer's net cost in present value and the ledger's detail."""

TABLE_OUTCOMES: tuple[str, ...] = (*OUTCOMES, *ELIGIBILITY_OUTCOMES, PERSON_YEARS, *COST_PARTS)
"""The outcomes of the main table (terminal and report); the public finances have their own."""

COMPARISON_OUTCOMES: tuple[str, ...] = (
    "extra_person_years_in_work",
    "cost_per_extra_person_year_nok",
    "extra_employed_12m",
    "cost_per_extra_job_nok",
)
"""Outcomes that are themselves comparisons with the reference; the matched horizon first."""

EXTRA_YEARS_PV = "extra_person_years_in_work_pv"
"""Extra discounted person-years in work per cohort: the effect the payers' ratios divide by."""


def payer_ratio_name(payer: str) -> str:
    """The name of a payer's net cost per extra discounted person-year in work."""
    return f"cost_per_extra_person_year_pv_{payer}_nok"


def payback_name(payer: str) -> str:
    """The name of the year a policy pays back for a payer (``payback_year_<payer>``)."""
    return f"payback_year_{payer}"


PAYER_RATIOS: dict[str, str] = {payer_ratio_name(p): net_cost_name(p) for p in LEDGER_PAYERS}
"""Each payer's cost-effectiveness ratio and the net cost it divides."""
PAYBACK: dict[str, str] = {payback_name(p): p for p in LEDGER_PAYERS}
"""Each payback row and its payer."""
LEDGER_COMPARISONS: tuple[str, ...] = (EXTRA_YEARS_PV, *PAYER_RATIOS, *PAYBACK)
"""The public-finance rows of a comparison (kind "comparison"), after the others."""

COMPARISON_INFO: dict[str, OutcomeInfo] = {
    PERSON_YEARS: OutcomeInfo("Years in work per participant over the horizon", "years", True),
    "extra_person_years_in_work": OutcomeInfo(
        "Extra person-years in work over the horizon per cohort, vs the first scenario",
        "person-years",
        True,
    ),
    "cost_per_extra_person_year_nok": OutcomeInfo(
        "Extra public cost per extra person-year in work, both over the horizon",
        "NOK",
        False,
    ),
    "extra_employed_12m": OutcomeInfo(
        "Extra persons in work at 12 months per cohort, vs the first scenario", "persons", True
    ),
    "subsidy_eligible_share": OutcomeInfo(
        "Eligible at arrival for the scenario's wage subsidy (its eligibility rule)", "share", True
    ),
    "subsidy_received_share": OutcomeInfo(
        "Had a subsidised job within the horizon (any wage subsidy)", "share", True
    ),
    "cost_per_extra_job_nok": OutcomeInfo(
        "12-month figure: extra cost over the horizon per extra person in work at 12 months",
        "NOK",
        False,
    ),
    EXTRA_YEARS_PV: OutcomeInfo(
        "Extra discounted person-years in work over the horizon per cohort, vs the first scenario",
        "person-years",
        True,
    ),
    **{
        payer_ratio_name(p): OutcomeInfo(
            f"Extra net cost to {PAYER_LABELS[p]} per extra person-year in work, both in "
            "present value",
            "NOK",
            False,
        )
        for p in LEDGER_PAYERS
    },
    **{
        payback_name(p): OutcomeInfo(
            f"Year from whose end the policy has cost {PAYER_LABELS[p]} no more than the "
            "first scenario, in present value (0: never more)",
            "year",
            False,
        )
        for p in LEDGER_PAYERS
    },
    **{
        flow_name(p, f): OutcomeInfo(
            f"{FLOW_LABELS[f].capitalize()}: net cost to {PAYER_LABELS[p]} per participant, "
            "present value (negative: a gain)",
            "NOK",
            False,
        )
        for p in PAYERS
        for f in FLOWS
    },
    **{
        year_name(p, k): OutcomeInfo(
            f"Net cost to {PAYER_LABELS[p]} per participant, present value to the end of year {k}",
            "NOK",
            False,
        )
        for p in LEDGER_PAYERS
        for k in range(1, MAX_YEARS + 1)
    },
}
"""Label, unit and direction of the outcomes a comparison adds to the model's."""

INFO: dict[str, OutcomeInfo] = {**OUTCOME_INFO, **COMPARISON_INFO}
"""Every outcome a comparison reports, with its label, unit and direction."""

RATIOS: dict[str, tuple[str, str]] = {
    "cost_per_extra_person_year_nok": ("extra_person_years_in_work", PERSON_YEARS),
    "cost_per_extra_job_nok": ("extra_employed_12m", "employed_12m"),
}
"""Each cost-effectiveness ratio: its effect row and the per-participant outcome it divides by."""

COST_STATUSES: tuple[str, ...] = (
    "dominant",
    "dominated",
    "ratio",
    "no clear extra cost",
    "fewer in work",
    "no clear gain",
)
"""What a ratio row says; see the module docstring."""

SUBGROUP_OUTCOMES: tuple[str, ...] = ("employed_12m", "work_or_education_at_exit")
"""Per-participant outcomes broken down by subgroup."""

IN_WORK = "in_work"
_SHOWN_STATUSES: tuple[str, ...] = tuple(s for s in STATUS_NAMES if s != "not_arrived")
WEEKLY_SERIES: tuple[str, ...] = (IN_WORK, *_SHOWN_STATUSES)
"""Weekly series, each a share of the participants who have arrived: ``in_work``
(ordinary or subsidised work) and one per status."""

_STATUS_INDEX = {name: i for i, name in enumerate(STATUS_NAMES)}
_WORK = tuple(_STATUS_INDEX[name] for name in IN_WORK_NAMES)


# --------------------------------------------------------------------------- one run
@dataclass(frozen=True)
class ReplicateResult:
    """What one replicate of one scenario contributes to a comparison.

    Attributes:
        scenario: Index of the scenario in the comparison.
        replicate: Replicate number.
        summary: Each name of :data:`REPLICATE_OUTCOMES` mapped to its value.
        status: (weeks, statuses) counts of participants in each status, per week.
        subgroups: :func:`introsim.model.outcomes.by_subgroup` of the run's participants.
    """

    scenario: int
    replicate: int
    summary: dict[str, float]
    status: np.ndarray
    subgroups: pd.DataFrame


def seed_text(root_seed: int, replicate: int) -> str:
    """The seed of a replicate as text, ready to paste into Python."""
    ss = replicate_seed(root_seed, replicate)
    return f"SeedSequence({ss.entropy}, spawn_key={tuple(ss.spawn_key)})"


def _replicate_outputs(scenario: Scenario, seed: np.random.SeedSequence) -> dict[str, Any]:
    """What a comparison keeps of one run, in a form the run store keeps.

    Returns:
        The outcomes of :data:`REPLICATE_OUTCOMES` as numbers, ``status``: the
        weekly status counts flattened (see :func:`_unpack`), and ``subgroups``:
        the subgroup table as JSON text (columns and rows; floats round-trip exactly).
    """
    result = simulate(scenario, seed)
    status = result.weekly[list(STATUS_NAMES)].to_numpy(dtype=np.int64)
    kept = (*OUTCOMES, *COST_PARTS, *LEDGER_OUTCOMES)
    summary: dict[str, Any] = {name: float(result.summary[name]) for name in kept}
    summary[PERSON_YEARS] = person_years(status, scenario.cohort.size)
    summary.update(eligibility(result.participants, scenario))
    summary.update(people(result.participants))
    summary.update(ledger_detail(result.ledger, scenario))
    subgroups = by_subgroup(result.participants, outcomes=SUBGROUP_OUTCOMES)
    summary[_STATUS] = status.ravel()
    summary[_SUBGROUPS] = json.dumps(
        {"columns": list(subgroups.columns), "data": subgroups.to_numpy(dtype=object).tolist()}
    )
    return summary


_STATUS, _SUBGROUPS = "status", "subgroups"


def eligibility(participants: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """The share eligible for the scenario's wage subsidy at arrival, and the share who had one.

    Eligibility is the kernels' own rule (:func:`~introsim.model.kernels.subsidy_eligible`)
    applied to each participant's Norwegian and health at arrival: under
    ``low_language``, a cohort that all starts below B1 is all eligible.
    """
    from introsim.model.kernels import subsidy_eligible
    from introsim.model.policies import eligibility_code

    code = eligibility_code(scenario)
    below = scenario.wage_subsidy.low_language_below
    health = participants["mental_health"].cat.codes.to_numpy()
    language = participants["language_start"].to_numpy()
    eligible = [
        subsidy_eligible(code, float(x), int(h), below)
        for x, h in zip(language, health, strict=True)
    ]
    n = max(len(participants), 1)
    return {
        "subsidy_eligible_share": float(np.sum(eligible)) / n,
        "subsidy_received_share": float((participants["cost_subsidy_nok"] > 0).sum()) / n,
    }


def people(participants: pd.DataFrame) -> dict[str, float]:
    """How many participants each share of a run rests on (those who reached its horizon)."""
    out = observed_counts(participants)
    for o in ELIGIBILITY_OUTCOMES:
        out[f"{PEOPLE}_{o}"] = float(len(participants))
    return out


def _unpack(value: dict[str, Any]) -> tuple[dict[str, float], np.ndarray, pd.DataFrame]:
    """A stored replicate back as its outcomes, (weeks, statuses) counts and subgroup table."""
    summary = {name: float(value[name]) for name in REPLICATE_OUTCOMES}
    status = np.asarray(value[_STATUS]).reshape(-1, len(STATUS_NAMES)).astype(np.int64)
    table = json.loads(value[_SUBGROUPS])
    return summary, status, pd.DataFrame(table["data"], columns=table["columns"])


def person_years(status: np.ndarray, cohort_size: int) -> float:
    """Years in work (ordinary or subsidised) per participant, over every week of a run.

    Args:
        status: (weeks, statuses) counts of participants in each status, per week.
        cohort_size: Participants in the cohort.

    Returns:
        Participant-weeks in work / 52 / cohort size.
    """
    weeks_in_work = float(status[:, list(_WORK)].sum())
    return weeks_in_work / WEEKS_PER_YEAR / cohort_size


def cost_status(effect: tuple[float, float, float], cost: tuple[float, float, float]) -> str:
    """Classify a scenario's cost and effect against the reference (see :data:`COST_STATUSES`).

    Args:
        effect: Difference in the effect (higher is better): estimate, 95 % low, high.
        cost: Difference in cost: estimate, 95 % low, high.

    Returns:
        One of :data:`COST_STATUSES`.
    """
    _, e_lo, e_hi = effect
    c, c_lo, c_hi = cost
    better, worse = e_lo > 0, e_hi < 0
    cheaper, dearer = c_hi < 0, c_lo > 0
    if better and cheaper:
        return "dominant"
    if worse and dearer:
        return "dominated"
    if better:
        return "ratio" if c > 0 else "no clear extra cost"
    if worse:
        return "fewer in work"
    return "no clear gain"


def run_replicate(
    scenario: Scenario, root_seed: int, replicate: int, index: int = 0
) -> ReplicateResult:
    """Run replicate ``replicate`` of one scenario and keep what a comparison needs.

    Args:
        scenario: A validated scenario.
        root_seed: The comparison's root seed.
        replicate: Replicate number (its seed is ``replicate_seed(root_seed, replicate)``).
        index: The scenario's position in the comparison, stored in the result.

    Returns:
        The run's outcomes, weekly status counts and subgroup means.
    """
    value = _replicate_outputs(scenario, replicate_seed(root_seed, replicate))
    return ReplicateResult(index, replicate, *_unpack(value))


# --------------------------------------------------------------------------- statistics
# --------------------------------------------------------------------------- the comparison
@dataclass(frozen=True)
class Comparison:
    """Everything a comparison found, ready for tables, files and the report.

    Attributes:
        names: Scenario names, in command-line order; the first is the reference.
        digests: Each scenario's :meth:`Scenario.digest`.
        cohort_sizes: Each scenario's cohort size.
        weeks: Each scenario's horizon in weeks.
        root_seed: Root seed; replicate ``r`` ran with ``replicate_seed(root_seed, r)``.
        replications: Replicates per scenario.
        replicates: Long table, one row per scenario, replicate and outcome:
            ``scenario, replicate, seed, outcome, value``.
        table: One row per scenario and outcome: ``scenario, outcome, kind``
            ("outcome", "cost" or "comparison"), ``label, unit, n, mean, ci_low,
            ci_high, diff, diff_low, diff_high, p_value, note, status``. ``diff*`` are
            paired differences from the reference (NaN on the reference's rows).
            Intervals of shares are kept within their possible range
            (:func:`~introsim.experiments.statistics.bounded_interval`); ``note``
            says where one was clipped or rests on too few replicates. The
            comparison outcomes (:data:`COMPARISON_OUTCOMES`) are themselves
            differences from the reference: their rows exist for every scenario
            but the first, with the estimate in the ``diff`` columns and
            ``mean``/``ci_*`` NaN. ``status`` is one of :data:`COST_STATUSES` on
            the ratio rows (:data:`RATIOS`) and empty elsewhere.
        weekly: Per scenario, week and series of :data:`WEEKLY_SERIES`: the mean
            share of arrived participants over replicates, its t interval
            (``ci_low``, ``ci_high``) and the 2.5 and 97.5 % quantiles over
            replicates (``q_low``, ``q_high``).
        subgroups: Per scenario, subgroup, level and outcome of
            :data:`SUBGROUP_OUTCOMES`: mean participants ``n`` per replicate, the
            mean over replicates and its t interval, and the paired difference
            from the reference with its interval.
        confidence: Interval level.
        descriptions: Each scenario's ``[scenario] description`` (may be empty).
        programme_weeks: Each scenario's longest programme, ``programme.max_weeks``.
        intake_weeks: Each scenario's ``cohort.intake_weeks`` (arrivals spread over it).
        ensemble: The parameter ensemble the replicates cycled through
            (:meth:`~introsim.params.ensemble_file.Ensemble.describe`), or None.
        unpaired: Per scenario, what differs from the reference that common random
            numbers need alike ("cohort, horizon", say; empty where paired): its
            differences are then Welch's unpaired ones.
        modified: Per scenario, the ``--set`` overrides applied to it (empty if none).
    """

    names: tuple[str, ...]
    digests: tuple[str, ...]
    cohort_sizes: tuple[int, ...]
    weeks: tuple[int, ...]
    root_seed: int
    replications: int
    replicates: pd.DataFrame
    table: pd.DataFrame
    weekly: pd.DataFrame
    subgroups: pd.DataFrame
    confidence: float = CONFIDENCE
    descriptions: tuple[str, ...] = field(default=())
    programme_weeks: tuple[int, ...] = field(default=())
    intake_weeks: tuple[int, ...] = field(default=())
    ensemble: dict[str, Any] | None = None
    unpaired: tuple[str, ...] = field(default=())
    modified: tuple[str, ...] = field(default=())

    @property
    def reference(self) -> str:
        """Name of the first scenario, against which differences are taken."""
        return self.names[0]

    def title(self, scenario: str) -> str:
        """A scenario's short name for tables, legends and titles (its ``[scenario] name``).

        A scenario changed by ``--set`` is marked ``(modified)``: its file's
        description may no longer hold.
        """
        i = self.names.index(scenario)
        return f"{scenario} (modified)" if i < len(self.modified) and self.modified[i] else scenario

    def description(self, scenario: str) -> str:
        """A scenario's description for prose (its name where it has none), with its ``--set``."""
        i = self.names.index(scenario)
        text = self.descriptions[i].strip() if i < len(self.descriptions) else ""
        text = text or scenario
        if i < len(self.modified) and self.modified[i]:
            text += f" (the file's description; --set {self.modified[i]} changed it)"
        return text

    def is_paired(self, scenario: str) -> bool:
        """Whether the scenario's differences from the reference are paired by replicate."""
        i = self.names.index(scenario)
        return not (i < len(self.unpaired) and self.unpaired[i])

    def table_outcomes(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The main table's outcomes, and those left out: observed in no scenario's runs.

        An outcome past every scenario's horizon (``employed_120m`` in five-year runs) has no
        value anywhere; a row of dashes would only take room.
        """
        t = self.table
        observed = set(t.loc[np.isfinite(t["mean"].astype(float)), "outcome"])
        shown = tuple(o for o in TABLE_OUTCOMES if o in observed)
        return shown, tuple(o for o in TABLE_OUTCOMES if o not in observed)

    def row(self, scenario: str, outcome: str) -> dict[str, Any] | None:
        """The table row of one scenario and outcome as a dict, or None if absent."""
        t = self.table
        hit = t[(t["scenario"] == scenario) & (t["outcome"] == outcome)]
        return None if hit.empty else hit.iloc[0].to_dict()

    def to_json(self) -> dict[str, Any]:
        """The comparison as JSON-ready data (NaN stays NaN; ``output.json_text`` nulls it).

        Returns:
            ``reference``, ``root_seed``, ``replications``, ``confidence``,
            ``scenarios`` (name, description, digest, cohort size, weeks), and
            ``outcomes``, ``costs``, ``comparison``, ``public_finances`` (each payer's
            net cost in present value), ``ledger_flows`` (each flow to each payer) and
            ``ledger_years`` (each payer's net cost to the end of each year): each outcome
            name mapped to each scenario's ``n, mean, ci_low, ci_high, diff, diff_low,
            diff_high, p_value, note`` (``ci_*``, ``diff_low``/``diff_high``: simulation
            precision), the three kinds of uncertainty (``parameter_*``, ``cohort_*`` and
            their ``diff_`` forms) and each kind's label in plain words; the ratio rows of
            ``comparison`` also carry ``status`` ("dominant", "dominated", ...; see
            :data:`COST_STATUSES`), and the payback rows theirs (see
            :data:`introsim.model.ledger.PAYBACK_STATUSES`).
        """
        keys = (
            "n",
            "mean",
            "ci_low",
            "ci_high",
            "diff",
            "diff_low",
            "diff_high",
            "p_value",
            "note",
            "people",
            "people_all",
            "parameter_low",
            "parameter_high",
            "cohort_low",
            "cohort_high",
            "diff_parameter_low",
            "diff_parameter_high",
            "diff_cohort_low",
            "diff_cohort_high",
            "parameter_label",
            "cohort_label",
            "simulation_label",
        )
        groups: dict[str, dict[str, dict[str, dict[str, Any]]]] = {
            "outcome": {},
            "cost": {},
            "comparison": {},
            "public_finances": {},
            "ledger_flow": {},
            "ledger_year": {},
        }
        for rec in self.table.to_dict("records"):
            entry = {k: rec[k] for k in keys}
            entry["n"] = int(entry["n"])
            if rec["outcome"] in RATIOS or rec["outcome"] in (*PAYER_RATIOS, *PAYBACK):
                entry["status"] = rec["status"]
            groups[rec["kind"]].setdefault(rec["outcome"], {})[rec["scenario"]] = entry
        return {
            "reference": self.reference,
            "root_seed": self.root_seed,
            "replications": self.replications,
            "members": self.ensemble["members"] if self.ensemble is not None else 1,
            "confidence": self.confidence,
            "scenarios": [
                {
                    "name": n,
                    "description": self.description(n),
                    "digest": d,
                    "cohort_size": c,
                    "weeks": w,
                    "paired": self.is_paired(n),
                    "unpaired_because": self.unpaired[i] if i < len(self.unpaired) else "",
                }
                for i, (n, d, c, w) in enumerate(
                    zip(self.names, self.digests, self.cohort_sizes, self.weeks, strict=True)
                )
            ],
            "outcomes": groups["outcome"],
            "costs": groups["cost"],
            "comparison": groups["comparison"],
            "public_finances": groups["public_finances"],
            "ledger_flows": groups["ledger_flow"],
            "ledger_years": groups["ledger_year"],
        }


def compare(
    scenarios: Sequence[Scenario],
    replications: int,
    root_seed: int | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    ensemble: Ensemble | None = None,
    store: RunStore | None = None,
    modified: Sequence[str] = (),
) -> Comparison:
    """Compare scenarios over replicates with common random numbers.

    Args:
        scenarios: At least two validated scenarios with distinct names; the first
            is the reference for differences.
        replications: Replicates per scenario (at least 2, for intervals).
        root_seed: Root seed; default the first scenario's ``[scenario] seed``.
        jobs: Worker processes (1 runs everything in this process). Results do
            not depend on it.
        progress: Called as ``progress(done, total)`` after each run (and once
            with ``done = 0`` before the first).
        executor: Where to run (e.g. a Dask client's executor); by default a
            pool of ``jobs`` processes, or this process when ``jobs`` is 1.
        ensemble: Parameter sets: every member runs every replicate of every scenario,
            so each number carries the three kinds of uncertainty.
        store: Keeps runs as they finish, and skips runs already kept.
        modified: Per scenario, the ``--set`` overrides applied to it, as text.

    Returns:
        The comparison. Scenarios that differ from the reference in what common
        random numbers need alike (:func:`unpaired_because`) get unpaired intervals.

    Raises:
        ValueError: Fewer than two scenarios, duplicate names, fewer than two
            replications, fewer than one job, or a negative root seed.
    """
    scenarios = list(scenarios)
    if len(scenarios) < 2:
        raise ValueError(f"a comparison needs at least 2 scenarios, found {len(scenarios)}")
    names = [sc.scenario.name for sc in scenarios]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"scenario names must differ, found {', '.join(map(repr, duplicates))}")
    if replications < 2:
        raise ValueError(f"replications: expected at least 2, found {replications}")
    if jobs < 1:
        raise ValueError(f"jobs: expected at least 1, found {jobs}")
    seed = scenarios[0].scenario.seed if root_seed is None else root_seed
    if seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, found {seed}")

    # Over an ensemble every member runs every replicate: point i * K + k is scenario i with
    # member k, and replicate r has the same seed in every scenario and member.
    members = ensemble.size if ensemble is not None else 1
    tasks = [
        Task(i * members + k, r, sc if ensemble is None else ensemble.apply_member(sc, k), seed)
        for r in range(replications)
        for i, sc in enumerate(scenarios)
        for k in range(members)
    ]
    with contextlib.ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(
                executor_for(jobs, preload=["introsim.experiments.compare"])
            )
        cube = run_cube(
            tasks,
            REPLICATE_OUTCOMES,
            executor,
            evaluate=_replicate_outputs,
            store=store,
            progress=progress,
        )  # (scenario, replicate, outcome)
    for task in tasks:
        error = cube.errors[task.point, task.replicate]
        if error:
            where = f", member {task.point % members}" if ensemble is not None else ""
            raise RuntimeError(
                f"{scenarios[task.point // members].scenario.name}{where}, replicate "
                f"{task.replicate}: {error}"
            )
    # Runs of one scenario in member-major order: run k * R + r is member k, replicate r.
    runs = members * replications
    results = {
        (i, k * replications + r): ReplicateResult(
            i, k * replications + r, *_unpack(cube.results[i * members + k, r])
        )
        for i in range(len(scenarios))
        for k in range(members)
        for r in range(replications)
    }
    ordered = list(results.values())
    sizes = tuple(sc.cohort.size for sc in scenarios)
    grid = cube.values.reshape(len(scenarios), members, replications, -1)
    counts = np.array(
        [
            [
                [cube.results[i, r].get(f"{PEOPLE}_{o}", math.nan) for o in REPLICATE_OUTCOMES]
                for r in range(replications)
            ]
            for i in range(len(scenarios) * members)
        ],
        dtype=np.float64,
    ).reshape(len(scenarios), members, replications, -1)  # participants each share rests on
    unpaired = tuple(unpaired_because(scenarios[0], sc) for sc in scenarios)
    return Comparison(
        names=tuple(names),
        digests=tuple(sc.digest() for sc in scenarios),
        cohort_sizes=sizes,
        weeks=tuple(sc.scenario.weeks for sc in scenarios),
        root_seed=seed,
        replications=replications,
        replicates=_replicates_table(
            names, ordered, seed, replications, ensemble is not None, counts
        ),
        table=_comparison_table(names, grid, sizes, counts, unpaired),
        weekly=_weekly_bands(names, results, runs),
        subgroups=_subgroup_table(names, results, runs),
        descriptions=tuple(sc.scenario.description for sc in scenarios),
        programme_weeks=tuple(sc.programme.max_weeks for sc in scenarios),
        intake_weeks=tuple(sc.cohort.intake_weeks for sc in scenarios),
        ensemble={**ensemble.describe(), "rule": MEMBER_RULE} if ensemble is not None else None,
        unpaired=unpaired,
        modified=tuple(modified) if modified else ("",) * len(scenarios),
    )


PAIRED_ALIKE: dict[str, Callable[[Scenario], Any]] = {
    "cohort": lambda sc: sc.cohort.model_dump(exclude={"intake_weeks"}),
    "intake": lambda sc: sc.cohort.intake_weeks,
    "horizon": lambda sc: sc.scenario.weeks,
    "labour market": lambda sc: sc.labour_market.model_dump(),
}
"""What two scenarios must share for replicate r to be the same people in the same market."""


def unpaired_because(reference: Scenario, scenario: Scenario) -> str:
    """What of :data:`PAIRED_ALIKE` differs between a scenario and the reference ("" if none).

    Common random numbers pair replicate r of two scenarios only when both draw
    the same cohort, arriving in the same weeks, observed over the same horizon
    in the same labour market; otherwise the runs are independent draws and
    their difference must be read as unpaired.
    """
    return ", ".join(k for k, part in PAIRED_ALIKE.items() if part(reference) != part(scenario))


def few_observed(scenario: Scenario) -> list[str]:
    """Warnings for the outcomes that intake and horizon leave on few participants.

    An outcome measured a fixed time after arrival is observed only for those who
    arrived that long before the horizon; with arrivals spread over the intake,
    a late outcome may rest on a handful of people (or none). The arrival weeks
    are the model's own (:func:`~introsim.model.population.arrival_weeks`).

    Returns:
        One line per outcome that the horizon leaves on fewer than
        :data:`~introsim.experiments.statistics.MIN_PEOPLE` participants in a run.
    """
    from introsim.model.population import arrival_weeks
    from introsim.model.state import WEEKS_12M, WEEKS_24M, WEEKS_60M

    arrival = arrival_weeks(scenario.cohort.size, scenario.cohort.intake_weeks)
    weeks = scenario.scenario.weeks
    out = []
    for outcome, horizon in (
        ("employed_12m", WEEKS_12M),
        ("employed_24m", WEEKS_24M),
        ("employed_60m", WEEKS_60M),
    ):
        seen = int((weeks - arrival >= horizon).sum())
        if seen < MIN_PEOPLE and seen < arrival.size:  # a small cohort alone is the user's choice
            out.append(
                f"{outcome} is observed for {seen} of {arrival.size} participants in a run "
                f"(those who arrived at least {horizon} weeks before the horizon, week {weeks}; "
                f"arrivals spread over cohort.intake_weeks = {scenario.cohort.intake_weeks}): "
                f"fewer than {MIN_PEOPLE}, so it is no finding; lengthen scenario.weeks or "
                "shorten the intake"
            )
    return out


def unpaired_text(reference: str, scenario: str, why: str) -> str:
    """The warning for a scenario whose differences from the reference are not paired."""
    return (
        f"{scenario} differs from {reference} in {why}: replicate r is not the same people in "
        "the same market, so their differences are not paired (common random numbers cannot "
        "hold); they are shown with unpaired (Welch) intervals, wider than paired ones"
    )


def _replicates_table(
    names: list[str],
    ordered: list[ReplicateResult],
    root_seed: int,
    replications: int,
    with_members: bool,
    counts: np.ndarray | None = None,
) -> pd.DataFrame:
    """Long table of every run's outcomes, sorted by scenario, (member,) replicate, outcome.

    Over an ensemble a ``member`` column says which parameter set a run used.
    ``people``: the participants a share rests on in that run (NaN for other outcomes).
    """
    rows = [
        (
            names[res.scenario],
            res.replicate // replications,
            res.replicate % replications,
            seed_text(root_seed, res.replicate % replications),
            o,
            res.summary[o],
            math.nan
            if counts is None
            else counts[
                res.scenario, res.replicate // replications, res.replicate % replications, j
            ],
        )
        for res in ordered
        for j, o in enumerate(REPLICATE_OUTCOMES)
    ]
    columns = ["scenario", "member", "replicate", "seed", "outcome", "value", PEOPLE]
    df = pd.DataFrame(rows, columns=columns)
    if not with_members:
        df = df.drop(columns="member")
    else:
        df["member"] = df["member"].astype(np.int64)
    df["replicate"] = df["replicate"].astype(np.int64)
    df["value"] = df["value"].astype(np.float64)
    df[PEOPLE] = df[PEOPLE].astype(np.float64)
    for col in ("scenario", "seed", "outcome"):
        df[col] = df[col].astype(object)
    return df


def _kind(outcome: str) -> str:
    """The ``kind`` of an outcome's rows in the comparison table."""
    if outcome in COST_PARTS:
        return "cost"
    if outcome in LEDGER_OUTCOMES:
        return "public_finances"
    if outcome in LEDGER_FLOW_VALUES:
        return "ledger_flow"
    if outcome in LEDGER_YEARS:
        return "ledger_year"
    return "outcome"


def _decisive(simulation: Sequence[float], runs: np.ndarray) -> tuple[float, float, float]:
    """The estimate and the 95 % range a verdict ("clear", "dominant", ...) rests on.

    Where the runs span several parameter sets (members × replicates), the mechanisms'
    range: what we do not know about the mechanisms. The simulation's interval only says how
    well the runs pin down their own average, so with an ensemble it must not decide.
    With one parameter set it is all there is.

    Args:
        simulation: The estimate and its simulation interval: ``(estimate, low, high)``.
        runs: The (members, replicates) values the estimate comes from.
    """
    estimate, low, high = simulation
    spread = parameter_spread(runs)
    if math.isfinite(spread.low) and math.isfinite(spread.high):
        return estimate, spread.low, spread.high
    return estimate, low, high


def _ledger_estimates(
    values: np.ndarray,
    reference: np.ndarray,
    col: dict[str, int],
    size: int,
    statuses: dict[str, str],
    units: Callable[[np.ndarray], np.ndarray],
    ranges: dict[str, dict[str, float]],
) -> dict[str, tuple[float, ...]]:
    """The public-finance comparison rows of one scenario against the reference.

    Each payer's net cost per extra discounted person-year in work (Fieller's interval, and
    "dominant" and the like judged for that payer on :func:`_decisive` ranges), and the year
    the policy pays back for each payer: the year of the mean path of its extra net cost,
    with the years of the paths of the interval's ends (the low end pays back first, the
    high end last; NaN: not within the horizon). With an ensemble the ends' years are those
    of the mechanisms' range, put in ``ranges``; the rows keep the simulation's.

    Args:
        values: The scenario's (members, replicates, outcomes) values.
        reference: The reference's, paired by replicate.
        col: Each outcome's column.
        size: The scenario's cohort size (extra person-years are per cohort).
        statuses: Filled with each row's status.
        units: What the simulation interval is over (replicates, or members' averages).
        ranges: Filled with the payback rows' years at the ends of the mechanisms' range, as
            ``diff_parameter_low``/``diff_parameter_high`` columns (with an ensemble only).

    Returns:
        Each row of :data:`LEDGER_COMPARISONS` as ``(n, estimate, low, high, p)``.
    """
    nan = math.nan
    out: dict[str, tuple[float, ...]] = {}
    d_years_runs = values[..., col[PERSON_YEARS_PV]] - reference[..., col[PERSON_YEARS_PV]]
    d_years = units(d_years_runs)
    n, d, lo, hi, p = t_interval(d_years * size)
    out[EXTRA_YEARS_PV] = (n, d, lo, hi, p)
    effect = _decisive((d, lo, hi), d_years_runs * size)
    for ratio, cost in PAYER_RATIOS.items():
        d_cost_runs = values[..., col[cost]] - reference[..., col[cost]]
        d_cost = units(d_cost_runs)
        _, c, c_lo, c_hi, _ = t_interval(d_cost)
        statuses[ratio] = cost_status(effect, _decisive((c, c_lo, c_hi), d_cost_runs))
        n_ratio, r, rlo, rhi = fieller_ratio(d_cost, d_years)
        if statuses[ratio] != "ratio":
            r = rlo = rhi = nan
        out[ratio] = (n_ratio, r, rlo, rhi, nan)
    for row, payer in PAYBACK.items():
        years = [year_name(payer, k) for k in range(1, MAX_YEARS + 1)]
        runs = [values[..., col[y]] - reference[..., col[y]] for y in years]
        paths = np.array([t_interval(units(x)) for x in runs])
        # (years, (n, mean, low, high, p)); NaN past the horizon
        year, statuses[row] = payback_year(paths[:, 1])
        early, _ = payback_year(paths[:, 2])
        late, _ = payback_year(paths[:, 3])
        out[row] = (int(paths[0, 0]), year, early, late, nan)
        spreads = [parameter_spread(x) for x in runs]
        if math.isfinite(spreads[0].low):  # several parameter sets
            ranges[row] = {
                "diff_parameter_low": payback_year(np.array([x.low for x in spreads]))[0],
                "diff_parameter_high": payback_year(np.array([x.high for x in spreads]))[0],
            }
    return out


def _bounds_of(outcome: str, difference: bool = False) -> tuple[float, float] | None:
    """The range an outcome (or a difference of it) can take: shares only."""
    if INFO[outcome].unit != "share":
        return None
    return (-1.0, 1.0) if difference else (0.0, 1.0)


def _kinds_columns(kinds: ThreeKinds | None, prefix: str = "") -> dict[str, Any]:
    """The parameter and cohort spreads as ``{prefix}parameter_low`` ... columns."""
    nan = math.nan
    out: dict[str, Any] = {}
    for kind in ("parameter", "cohort"):
        spread = getattr(kinds, kind) if kinds is not None else None
        out[f"{prefix}{kind}_low"] = spread.low if spread is not None else nan
        out[f"{prefix}{kind}_high"] = spread.high if spread is not None else nan
    return out


def _labels(kinds: ThreeKinds | None) -> dict[str, str]:
    if kinds is None:
        return {f"{k}_label": "" for k in ("parameter", "cohort", "simulation")}
    return {f"{s.kind.value}_label": s.label for s in kinds}


def _comparison_table(
    names: list[str],
    grid: np.ndarray,
    sizes: tuple[int, ...],
    counts: np.ndarray | None = None,
    unpaired: Sequence[str] = (),
) -> pd.DataFrame:
    """Means, paired differences and the comparison outcomes, with the three kinds of uncertainty.

    A scenario that cannot be paired with the reference (``unpaired``) gets Welch's
    unpaired intervals for its differences. ``counts`` (like ``grid``) holds the
    participants each share rests on: a row's ``people`` is their mean per run (for a
    difference, the fewer of the two scenarios'), ``people_all`` their sum over the
    runs; below :data:`~introsim.experiments.statistics.MIN_PEOPLE` per run the row
    says so in ``note`` and ``few_people``.

    ``grid`` is (scenarios, members, replicates, outcomes). ``ci_*`` and ``diff_low``/
    ``diff_high`` are the simulation's precision: a t interval over replicates with one
    member, over the members' averages with several. ``parameter_*`` is the central 95 % of
    the members' averages (what we do not know about the mechanisms), ``cohort_*`` the
    central 95 % of single runs around their member's average (chance in one real cohort);
    ``diff_parameter_*`` and ``diff_cohort_*`` the same for the paired difference.
    """
    nan = math.nan
    rows: list[dict[str, Any]] = []
    col = {o: j for j, o in enumerate(REPLICATE_OUTCOMES)}
    members = grid.shape[1]

    def units(x: np.ndarray) -> np.ndarray:
        """What the simulation-precision interval is over: replicates, or members' averages."""
        if members == 1:
            return x[0]
        finite = np.isfinite(x)
        n = finite.sum(axis=1)
        total = np.where(finite, x, 0.0).sum(axis=1)
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)

    if counts is None:
        counts = np.full(grid.shape, nan)
    runs = counts.reshape(counts.shape[0], -1, counts.shape[-1])  # (scenario, run, outcome)
    with warnings.catch_warnings():  # the rows of outcomes that are not shares are all NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        per_run = np.nanmean(runs, axis=1)
    in_all = np.where(np.isfinite(runs), runs, 0.0).sum(axis=1)

    for s, name in enumerate(names):
        apart = s < len(unpaired) and bool(unpaired[s])
        for outcome in REPLICATE_OUTCOMES:
            j = col[outcome]
            unit = INFO[outcome].unit
            x = grid[s, :, :, j]
            level = interval(outcome, units(x), unit=unit)
            n, mean, lo, hi, note = level.n, level.estimate, level.low, level.high, level.note
            kinds = three_kinds(x, sizes[s], bounds=_bounds_of(outcome))
            row_kinds = {**_kinds_columns(kinds), **_kinds_columns(None, "diff_")}
            people = per_run[s, j]
            if s == 0:
                diff = (nan, nan, nan, nan)
            else:
                dx = x - grid[0, :, :, j]
                if apart:
                    d = unpaired_interval(outcome, units(x), units(grid[0, :, :, j]), unit=unit)
                else:
                    d = interval(outcome, units(dx), paired=True, unit=unit)
                diff = (d.estimate, d.low, d.high, d.p_value)
                note = "; ".join(dict.fromkeys(x for x in (note, d.note) if x))
                dk = three_kinds(dx, sizes[s], bounds=_bounds_of(outcome, difference=True))
                row_kinds.update(_kinds_columns(dk, "diff_"))
                if np.isfinite(people):
                    people = min(people, per_run[0, j])
            few = bool(np.isfinite(people) and people < MIN_PEOPLE)
            if few:
                note = "; ".join(x for x in (note, FEW_PEOPLE) if x)
            info = INFO[outcome]
            rows.append(
                {
                    "scenario": name,
                    "outcome": outcome,
                    "kind": _kind(outcome),
                    "label": info.label,
                    "unit": info.unit,
                    "n": n,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "diff": diff[0],
                    "diff_low": diff[1],
                    "diff_high": diff[2],
                    "p_value": diff[3],
                    "note": note,
                    "status": "",
                    "people": people,
                    "people_all": in_all[s, j] if np.isfinite(per_run[s, j]) else nan,
                    "few_people": few,
                    "paired": not apart,
                    **row_kinds,
                    **_labels(kinds),
                }
            )
    cost = grid[:, :, :, col["cost_per_participant_nok"]]
    for s, name in enumerate(names[1:], start=1):
        d_cost_runs = cost[s] - cost[0]
        d_cost = units(d_cost_runs)
        _, c, c_lo, c_hi, _ = t_interval(d_cost)
        estimates: dict[str, tuple[float, ...]] = {}
        statuses: dict[str, str] = {}
        spreads: dict[str, ThreeKinds | None] = {}
        apart = s < len(unpaired) and bool(unpaired[s])
        for ratio, (extra, per_participant) in RATIOS.items():
            j = col[per_participant]
            d_runs = grid[s, :, :, j] - grid[0, :, :, j]
            d_effect = units(d_runs)
            if apart:
                w = unpaired_interval(
                    extra,
                    units(grid[s, :, :, j]) * sizes[s],
                    units(grid[0, :, :, j]) * sizes[s],
                    unit=INFO[extra].unit,
                )
                effect = (w.n, w.estimate, w.low, w.high, w.p_value)
            else:
                effect = t_interval(d_effect * sizes[s])
            estimates[extra] = effect
            spreads[extra] = three_kinds(d_runs * sizes[s], sizes[s])
            status = cost_status(
                _decisive(effect[1:4], d_runs * sizes[s]),
                _decisive((c, c_lo, c_hi), d_cost_runs),
            )
            n_ratio, r, rlo, rhi = fieller_ratio(d_cost, d_effect)
            if status != "ratio":
                r = rlo = rhi = nan
            estimates[ratio] = (n_ratio, r, rlo, rhi, nan)
            statuses[ratio] = status
            spreads[ratio] = None  # a ratio of averages: no spread of single cohorts is shown
        ranges: dict[str, dict[str, float]] = {}
        estimates.update(
            _ledger_estimates(grid[s], grid[0], col, sizes[s], statuses, units, ranges)
        )
        for outcome in (*COMPARISON_OUTCOMES, *LEDGER_COMPARISONS):
            est = estimates[outcome]
            spread = spreads.get(outcome)
            rows.append(
                {
                    "scenario": name,
                    "outcome": outcome,
                    "kind": "comparison",
                    "label": INFO[outcome].label,
                    "unit": INFO[outcome].unit,
                    "n": est[0],
                    "mean": nan,
                    "ci_low": nan,
                    "ci_high": nan,
                    "diff": est[1],
                    "diff_low": est[2],
                    "diff_high": est[3],
                    "p_value": est[4],
                    "note": "; ".join(
                        x
                        for x in (
                            UNPAIRED if apart else "",
                            FEW_REPLICATES if 0 < est[0] < MIN_REPLICATES else "",
                        )
                        if x
                    ),
                    "status": statuses.get(outcome, ""),
                    "people": nan,
                    "people_all": nan,
                    "few_people": False,
                    "paired": not apart,
                    **_kinds_columns(None),
                    **_kinds_columns(spread, "diff_"),
                    **ranges.get(outcome, {}),
                    **_labels(spread),
                }
            )
    df = pd.DataFrame(rows)
    df["n"] = df["n"].astype(np.int64)
    for column in ("scenario", "outcome", "kind", "label", "unit", "note", "status"):
        df[column] = df[column].astype(object)
    for column in df.columns:
        if column.endswith("_label"):
            df[column] = df[column].astype(object)
    return df


def _weekly_bands(
    names: list[str], results: dict[tuple[int, int], ReplicateResult], replications: int
) -> pd.DataFrame:
    """Mean weekly shares of arrived participants in work and in each status, with bands."""
    frames = []
    not_arrived = _STATUS_INDEX["not_arrived"]
    for s, name in enumerate(names):
        counts = np.stack([results[(s, r)].status for r in range(replications)]).astype(float)
        arrived = counts.sum(axis=2) - counts[:, :, not_arrived]  # (replicates, weeks)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = counts / np.where(arrived > 0, arrived, np.nan)[:, :, None]
        weeks = np.arange(counts.shape[1], dtype=np.int64)
        series = {IN_WORK: share[:, :, list(_WORK)].sum(axis=2)}
        for status in _SHOWN_STATUSES:
            series[status] = share[:, :, _STATUS_INDEX[status]]
        for label, x in series.items():
            mean, lo, hi, qlo, qhi = t_band(x)
            frames.append(
                pd.DataFrame(
                    {
                        "scenario": name,
                        "series": label,
                        "week": weeks,
                        "mean": mean,
                        "ci_low": lo,
                        "ci_high": hi,
                        "q_low": qlo,
                        "q_high": qhi,
                    }
                )
            )
    df = pd.concat(frames, ignore_index=True)
    for c in ("scenario", "series"):
        df[c] = df[c].astype(object)
    return df


def _subgroup_table(
    names: list[str], results: dict[tuple[int, int], ReplicateResult], replications: int
) -> pd.DataFrame:
    """Subgroup means averaged over replicates, with paired differences from the reference."""
    first = results[(0, 0)].subgroups
    keys = list(zip(first["subgroup"], first["level"], strict=True))

    def matrix(s: int, column: str) -> np.ndarray:
        """(replicates, subgroup levels) of one column, aligned on (subgroup, level)."""
        out = np.full((replications, len(keys)), np.nan)
        for r in range(replications):
            sg = results[(s, r)].subgroups.set_index(["subgroup", "level"])
            out[r] = sg[column].reindex(keys).to_numpy(dtype=np.float64)
        return out

    rows = []
    for outcome in SUBGROUP_OUTCOMES:
        ref = matrix(0, outcome)
        for s, name in enumerate(names):
            vals = ref if s == 0 else matrix(s, outcome)
            counts = matrix(s, "n")
            for k, (group, level) in enumerate(keys):
                found = interval(outcome, vals[:, k], unit=INFO[outcome].unit)
                mean, lo, hi = found.estimate, found.low, found.high
                if s == 0:
                    d = dlo = dhi = math.nan
                else:
                    paired = interval(
                        outcome, vals[:, k] - ref[:, k], paired=True, unit=INFO[outcome].unit
                    )
                    d, dlo, dhi = paired.estimate, paired.low, paired.high
                rows.append(
                    {
                        "scenario": name,
                        "subgroup": group,
                        "level": level,
                        "outcome": outcome,
                        "n": float(np.mean(counts[:, k])),
                        "mean": mean,
                        "ci_low": lo,
                        "ci_high": hi,
                        "diff": d,
                        "diff_low": dlo,
                        "diff_high": dhi,
                    }
                )
    df = pd.DataFrame(rows)
    for c in ("scenario", "subgroup", "level", "outcome"):
        df[c] = df[c].astype(object)
    return df


# --------------------------------------------------------------------------- files
REPLICATES_FILE = "replicates.parquet"
COMPARISON_FILE = "comparison.csv"
WEEKLY_FILE = "weekly.parquet"
SUBGROUPS_FILE = "subgroups.parquet"
MANIFEST_FILE = "manifest.json"
REPORT_FILE = "report.html"
CSV_FILES: dict[str, str] = {
    REPLICATES_FILE: "replicates.csv",
    WEEKLY_FILE: "weekly.csv",
    SUBGROUPS_FILE: "subgroups.csv",
}
"""The CSV copy written next to each Parquet table, for spreadsheets."""
DATA_FILES: tuple[str, ...] = (
    REPLICATES_FILE,
    CSV_FILES[REPLICATES_FILE],
    COMPARISON_FILE,
    WEEKLY_FILE,
    CSV_FILES[WEEKLY_FILE],
    SUBGROUPS_FILE,
    CSV_FILES[SUBGROUPS_FILE],
    MANIFEST_FILE,
)
"""Every file :func:`write_outputs` writes, in order."""


def build_manifest(
    comparison: Comparison,
    paths: Sequence[str | os.PathLike[str]] | None = None,
    *,
    jobs: int = 1,
    wall_time_s: float | None = None,
    command: Sequence[str] | None = None,
) -> dict[str, Any]:
    """What is needed to reproduce a comparison, for ``manifest.json``.

    Args:
        comparison: The comparison.
        paths: Each scenario's file, in order (None where it came from code).
        jobs: Worker processes used.
        wall_time_s: Wall time of the runs, in seconds.
        command: The command line, as a list of words.

    Returns:
        Versions, commit, scenarios (name, file, digest), seeds, replications,
        jobs, wall time, command and the files written.
    """
    files = list(paths) if paths is not None else [None] * len(comparison.names)
    return {
        **provenance(command),
        "reference": comparison.reference,
        "scenarios": [
            {
                "name": name,
                "path": str(path) if path is not None else None,
                "digest": digest,
                "cohort_size": size,
                "weeks": weeks,
            }
            for name, path, digest, size, weeks in zip(
                comparison.names,
                files,
                comparison.digests,
                comparison.cohort_sizes,
                comparison.weeks,
                strict=True,
            )
        ],
        "root_seed": comparison.root_seed,
        "replicate_seed": "numpy.random.SeedSequence(root_seed, spawn_key=(replicate,)), "
        "the same in every scenario (common random numbers)",
        "replications": comparison.replications,
        "ensemble": comparison.ensemble,
        "intervals": UNCERTAINTY_TEXT
        + (
            f"; {MEMBER_RULE}, K = {comparison.ensemble['members']} parameter sets from "
            f"{comparison.ensemble['file']}"
            if comparison.ensemble is not None
            else "; one parameter set: what we do not know about the mechanisms is not shown"
        ),
        "confidence": comparison.confidence,
        "jobs": jobs,
        "wall_time_s": wall_time_s,
        "files": [*DATA_FILES, REPORT_FILE],
    }


def write_outputs(
    comparison: Comparison, out_dir: str | os.PathLike[str], manifest: dict[str, Any]
) -> list[Path]:
    """Write a comparison's data files atomically (the report is written elsewhere).

    Files: ``replicates.parquet`` (long: scenario, replicate, seed, outcome,
    value), ``comparison.csv`` (:attr:`Comparison.table`), ``weekly.parquet``
    (:attr:`Comparison.weekly`), ``subgroups.parquet`` (:attr:`Comparison.subgroups`),
    a CSV copy of each Parquet table (:data:`CSV_FILES`) and ``manifest.json``.
    The data files are byte-identical for identical results.

    Args:
        comparison: The comparison.
        out_dir: Output folder (created if missing).
        manifest: From :func:`build_manifest`.

    Returns:
        The paths written, in the order of :data:`DATA_FILES`.
    """
    from introsim.output import write_csv, write_json, write_parquet

    out = Path(out_dir)
    tables = {
        REPLICATES_FILE: comparison.replicates,
        WEEKLY_FILE: comparison.weekly,
        SUBGROUPS_FILE: comparison.subgroups,
    }
    for name, df in tables.items():
        write_parquet(df, out / name)
        write_csv(df, out / CSV_FILES[name])
    write_csv(comparison.table, out / COMPARISON_FILE)
    write_json(manifest, out / MANIFEST_FILE)
    return [out / name for name in DATA_FILES]


# --------------------------------------------------------------------------- the study
@register
class CompareStudy(Study):
    """``introsim compare``: scenarios over common-random-number replicates, paired."""

    kind = "compare"
    replaces_other = True
    files = (*DATA_FILES, REPORT_FILE)
    report_module = "introsim.reporting.compare_report"
    write_outputs = staticmethod(write_outputs)

    def __init__(
        self,
        scenarios: list[Scenario],
        paths: list[Path],
        replications: int,
        seed: int | None,
        ensemble: Ensemble | None,
        sets: dict[str, Any] | None = None,
    ) -> None:
        self.loaded, self.paths, self.replications = scenarios, paths, replications
        self.sets = ", ".join(f"{k}={v}" for k, v in (sets or {}).items())
        self.seed = scenarios[0].scenario.seed if seed is None else seed
        self.ensemble, self.name = ensemble, "compare"

    @classmethod
    def load(
        cls,
        paths: Sequence[Path],
        *,
        sets: dict[str, Any] | None = None,
        replications: int = 30,
        seed: int | None = None,
        ensemble: str | Path | None = None,
    ) -> CompareStudy:
        """Read two or more scenario files (with ``--set``) and check the comparison's options."""
        from introsim.params.ensemble_file import load_checked
        from introsim.params.loader import load_scenario, load_scenario_with

        paths = list(paths)
        loaded = [
            load_scenario_with(p, sets, source="--set") if sets else load_scenario(p) for p in paths
        ]
        if len(loaded) < 2:
            raise StudyError(f"compare: expected at least 2 scenario files, found {len(loaded)}")
        seen: dict[str, Path] = {}
        for path, sc in zip(paths, loaded, strict=True):
            name = sc.scenario.name
            if name in seen:
                raise StudyError(
                    f"{path}: [scenario] name {name!r} is also the name of {seen[name]}; "
                    "give each compared scenario a distinct name"
                )
            seen[name] = path
        if not 2 <= replications <= MAX_REPLICATIONS:
            raise StudyError(
                f"--replications: expected an integer from 2 to {MAX_REPLICATIONS}, "
                f"found {replications}"
            )
        if seed is not None and seed < 0:
            raise StudyError(f"--seed: expected a non-negative integer, found {seed}")
        return cls(
            loaded, paths, replications, seed, load_checked(ensemble, paths, sets or {}), sets
        )

    def default_out(self) -> Path:
        return Path("out") / "compare"

    def identity(self) -> dict[str, Any]:
        # Not the replications: replicate r is the same run whatever their number, so a
        # comparison with more replicates extends its stored runs.
        data = {
            "digests": [sc.digest() for sc in self.loaded],
            "seed": self.seed,
            "ensemble": self.ensemble.digest() if self.ensemble is not None else None,
        }
        text = json.dumps(data, sort_keys=True)
        return {
            "experiment": "compare",
            "fingerprint": hashlib.sha256(text.encode()).hexdigest(),
            "model_version": model_version(),
        }

    def scenarios(self) -> list[Scenario]:
        return self.loaded

    @property
    def members(self) -> int:
        """Parameter sets each replicate runs with (1 without an ensemble)."""
        return self.ensemble.size if self.ensemble is not None else 1

    def retained(self) -> int:
        return results_memory(self.loaded, self.members * self.replications)

    def cautions(self) -> list[str]:
        from introsim.params.ensemble_file import stale_posterior

        out = [line for line in (stale_posterior(self.ensemble, model_version()),) if line]
        out += [
            unpaired_text(self.loaded[0].scenario.name, sc.scenario.name, why)
            for sc in self.loaded[1:]
            if (why := unpaired_because(self.loaded[0], sc))
        ]
        if self.members * self.replications < MIN_REPLICATES:
            out.append(
                f"with {self.replications} replicates the 95 % intervals are too uncertain to "
                f"mean much; use --replications {MIN_REPLICATES} or more"
            )
        return out

    def size(self) -> tuple[str, int]:
        n = len(self.loaded)
        if self.ensemble is None:
            return f"{n} scenarios × {self.replications} replicates", n * self.replications
        runs = n * self.members * self.replications
        return f"{n} scenarios × {self.members} members × {self.replications} replicates", runs

    def run(self, runner: Runner) -> Comparison:
        try:
            return compare(
                self.loaded,
                self.replications,
                self.seed,
                executor=runner.executor,
                progress=runner.progress,
                ensemble=self.ensemble,
                store=runner.store,
                modified=[self.sets] * len(self.loaded),
            )
        except RuntimeError as exc:  # a run raised: one line naming the scenario and replicate
            raise StudyError(str(exc)) from None

    def manifest(self, result: Comparison, **provenance: Any) -> dict[str, Any]:
        return build_manifest(
            result,
            self.paths,
            jobs=provenance["jobs"],
            wall_time_s=provenance["wall_time_s"],
            command=provenance["command"],
        )

    def summary(self, result: Comparison, out: Path, wall: float, manifest: dict[str, Any]) -> dict:
        data = result.to_json()
        data["out"] = str(out)
        return data

    def show(self, result: Comparison, out: Path, wall: float) -> None:
        print_comparison(result)
        Console().print(
            f"wrote {printable(out)}/ {', '.join(DATA_FILES)}, report.html "
            f"({len(self.loaded) * self.members * self.replications} runs in {wall:.1f} s)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


MEMBER_RULE = "every ensemble member ran every replicate (members × replicates)"
UNCERTAINTY_TEXT = (
    "three kinds, each 95 %: parameter_* (what we do not know about the mechanisms: the "
    "members' averages), cohort_* (chance in one real cohort: single runs around their "
    "member's average), ci_*/diff_low/diff_high (simulation precision: the Monte Carlo error "
    "of the average)"
)


def _runs_text(result: Comparison) -> str:
    if result.ensemble is None:
        return f"{result.replications} replicates each"
    return f"{result.ensemble['members']} posterior members × {result.replications} replicates each"


def uncertainty_legend(result: Comparison) -> list[str]:
    """What the three ranges under each number mean, in plain words (terminal and report)."""
    sizes = sorted(set(result.cohort_sizes))
    size = " or ".join(str(n) for n in sizes)
    lines = []
    if result.ensemble is not None:
        lines.append(
            f"mechanisms: what we do not know about the mechanisms; 95 % of the "
            f"{result.ensemble['members']} plausible parameter sets of {result.ensemble['file']} "
            "give an average in this range (it does not shrink with more runs)."
        )
    else:
        lines.append(
            "mechanisms: not shown; these runs use one parameter set, so nothing here says how "
            "much the answer depends on what we do not know about the mechanisms (run with "
            "--ensemble and a calibration's posterior.toml to see it)."
        )
    lines.append(
        f"one cohort: chance in one real cohort of {size} participants; a single municipality's "
        "cohort lands in this range 95 % of the time."
    )
    lines.append(
        "simulation: simulation precision, the Monte Carlo error of the average; it narrows with "
        "more runs and says nothing about the world."
    )
    return lines


def print_comparison(result: Comparison) -> None:
    """Print a comparison as a table: means with 95 % intervals, and paired differences.

    Clear differences carry a symbol as well as a colour (✓ better, ✗ worse). The
    cost-effectiveness rows say "dominant" or "dominated" rather than show a
    negative or meaningless ratio.
    """
    from introsim.reporting.compare_report import MARKS, STATUS_TEXT, verdict
    from introsim.reporting.format import (
        decisive_range,
        excludes_zero,
        format_interval,
        format_number,
    )

    ref = result.reference
    apart = [n for n in result.names[1:] if not result.is_paired(n)]
    pairing = "differences paired run by run" + (
        f" except {', '.join(apart)} (unpaired)" if apart else ""
    )
    table = Table(
        title=f"{len(result.names)} scenarios, {_runs_text(result)}, root seed "
        f"{result.root_seed}: mean, and three 95 % ranges under it; {pairing}",
    )
    table.add_column("outcome", no_wrap=True)
    for name in result.names:
        table.add_column(shown(result.title(name)), justify="right")
    for name in result.names[1:]:
        table.add_column(
            f"{shown(result.title(name))} − {shown(result.title(ref))}", justify="right"
        )

    def unit_of(outcome: str) -> str:
        # Cost parts are in NOK like the total; format them as it is formatted.
        return "cost_per_participant_nok" if outcome in COST_PARTS else outcome

    def kinds(r: dict[str, Any], u: str, low: str, high: str, prefix: str = "") -> str:
        """The three kinds under a number, each named: mechanisms, one cohort, simulation."""
        signed = bool(prefix)
        lines = []
        for key, name in (("parameter", "mechanisms"), ("cohort", "one cohort")):
            span = format_interval(u, r[f"{prefix}{key}_low"], r[f"{prefix}{key}_high"], signed)
            if span:
                lines.append(f"{name} {span}")
        sim = format_interval(u, r[low], r[high], signed)
        if sim:
            lines.append(f"simulation {sim}")
        return "".join(f"\n[dim]{line}[/dim]" for line in lines)

    def level(outcome: str, name: str) -> str:
        r = result.row(name, outcome)
        if r is None:
            return "–"
        u = unit_of(outcome)
        percent = " %" if INFO[u].unit == "share" and r["mean"] == r["mean"] else ""
        text = format_number(u, r["mean"]) + percent
        people = f"\n[dim]n {r['people']:.0f}[/dim]" if r["people"] == r["people"] else ""
        if r["few_people"]:  # greyed and marked: see the note below the table
            return f"[dim]{text}‡[/dim]" + kinds(r, u, "ci_low", "ci_high") + people
        return text + kinds(r, u, "ci_low", "ci_high") + people

    def diff(outcome: str, name: str) -> str:
        r = result.row(name, outcome)
        if r is None:
            return "–"
        if r["few_people"]:  # never a finding: no mark, no colour
            u = unit_of(outcome)
            text = f"[dim]{format_number(u, r['diff'], signed=True)} pp‡[/dim]"
            return text + kinds(r, u, "diff_low", "diff_high", "diff_")
        if outcome in RATIOS and r["status"] != "ratio":
            style = {"dominant": "green", "dominated": "red"}.get(r["status"], "dim")
            mark = {"dominant": "✓ ", "dominated": "✗ "}.get(r["status"], "")
            return f"[{style}]{mark}{STATUS_TEXT.get(r['status'], r['status'])}[/{style}]"
        u = unit_of(outcome)
        ci = format_interval(u, r["diff_low"], r["diff_high"], signed=True)
        text = format_number(u, r["diff"], signed=True)
        if INFO.get(u) is not None and INFO[u].unit == "share" and text != "–":
            text += " pp"
        # Clearly better or worse: by what we do not know about the mechanisms where the runs
        # span a posterior, else by the simulation's precision.
        low, high, _ = decisive_range(r)
        v = verdict(outcome, r["diff"], low, high)
        style = {"better": "green", "worse": "red"}.get(v, "")
        if v in MARKS:
            text = f"{MARKS[v][0]} {text}"
        if outcome in COMPARISON_OUTCOMES and excludes_zero(low, high):
            style = "bold"
        if style:
            text = f"[{style}]{text}[/{style}]"
        return text + (kinds(r, u, "diff_low", "diff_high", "diff_") if ci else "")

    outcomes, unseen = result.table_outcomes()
    for outcome in outcomes:
        label = f"  {outcome}" if outcome in COST_PARTS else outcome
        cells = [level(outcome, n) for n in result.names]
        cells += [diff(outcome, n) for n in result.names[1:]]
        table.add_row(label, *cells, end_section=outcome == outcomes[-1])
    for outcome in COMPARISON_OUTCOMES:
        cells = ["–"] * len(result.names) + [diff(outcome, n) for n in result.names[1:]]
        table.add_row(outcome, *cells)
    console = wide_console(200)
    console.print(table)
    for name in apart:
        i = result.names.index(name)
        console.print(
            f"warning: {unpaired_text(ref, name, result.unpaired[i])}.",
            style="bold",
            markup=False,
        )
    if unseen:
        console.print(
            f"Not shown: {', '.join(unseen)}, past the horizon of every scenario.", markup=False
        )
    if result.table["few_people"].astype(bool).any():
        console.print(
            f"‡ rests on fewer than {MIN_PEOPLE} participants per run (n: those who reached "
            "the outcome's horizon in one run): not a finding, whatever its interval.",
            markup=False,
        )
    if any(result.modified):
        console.print(
            f"(modified): --set {next(m for m in result.modified if m)} applied; the files' "
            "descriptions may no longer hold.",
            markup=False,
        )
    console.print(_public_finances_table(result, console.width))
    for line in uncertainty_legend(result):
        console.print(line, soft_wrap=True, markup=False)
    console.print(
        "Shares in %, differences in percentage points (pp), costs in NOK per participant over "
        "the horizon; person_years_in_work: years in work per participant over the horizon.\n"
        "extra_person_years_in_work, extra_employed_12m: per cohort.\n"
        "cost_per_extra_person_year_nok: difference in cost / difference in years in work, both "
        "over the horizon, with Fieller's 95 % interval; cost_per_extra_job_nok: the 12-month "
        "figure (cost over the horizon / extra persons in work at 12 months).\n"
        "dominant: clearly cheaper and clearly more in work; dominated: clearly dearer and "
        "clearly fewer in work ('clearly' as for ✓).\n✓ green / ✗ red: clearly better / worse "
        "(the 95 % range of the mechanisms excludes zero; without a posterior, the simulation's "
        "interval does). Each interval of the payers' table names its kind: mechanisms' range "
        "or simulation only.\n"
        "Public finances: net cost per participant (costs less grants and taxes received) in "
        "present value at \\[public_finances] discount_rate (the Ministry of Finance's R-109 "
        "rate); per extra person-year: both discounted; pays back: the first year from whose "
        "end the policy has cost that payer no more than the first scenario, with the years "
        "at the ends of the 95 % interval.",
        style="dim",
    )


def _public_finances_table(result: Comparison, width: int) -> Table:
    """Each payer's net cost in present value, its difference, ratio and payback year.

    Where ``width`` (the console's) leaves the words (ratios, payback years) room to wrap,
    no number or interval breaks across lines; on a narrower console they wrap too, as
    folding the words into a few letters a line would leave nothing readable.
    """
    from introsim.reporting.ledger_report import payer_rows

    rows = payer_rows(result)
    numbers = [
        # A cell's lines: the number, its interval and the interval's kind (its last field).
        max(len(text) for row in rows for text in (*row[key][j][:2], row[key][j][-1]))
        for key, n in (("levels", len(result.names)), ("diffs", len(result.names) - 1))
        for j in range(n)
    ]
    words = 2 * (len(result.names) - 1)
    borders = 3 * (1 + len(numbers) + words) + 1
    fits = max(len(row["payer"]) for row in rows) + sum(numbers) + WORDS_WIDTH * words
    keep = fits + borders <= width
    ref = shown(result.title(result.reference))
    table = Table(title="Who pays and who gains: net cost per participant, present value")
    table.add_column("payer", no_wrap=True)
    for name in result.names:
        table.add_column(shown(result.title(name)), justify="right", no_wrap=keep)
    for name in result.names[1:]:
        title = shown(result.title(name))
        table.add_column(f"{title} − {ref}", justify="right", no_wrap=keep)
        table.add_column(f"{title}: per extra person-year in work", justify="right")
        table.add_column(f"{title}: pays back", justify="right")
    for row in rows:
        cells = [f"{value}\n[dim]{ci}\n{kind}[/dim]" for value, ci, kind in row["levels"]]
        for (diff, ci, clear, kind), ratio, payback in zip(
            row["diffs"], row["ratios"], row["paybacks"], strict=True
        ):
            text = f"[bold]{diff}[/bold]" if clear else diff
            cells += [f"{text}\n[dim]{ci}\n{kind}[/dim]", ratio, payback]
        table.add_row(row["payer"], *cells)
    return table


WORDS_WIDTH = 14
"""Characters a line the payers' table leaves each column of words ("dominant: cheaper")."""
