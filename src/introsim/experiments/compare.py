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
*and* clearly better than the reference (both 95 % intervals exclude zero),
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
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from introsim.experiments.engine import Task, executor_for, provenance, run_tasks
from introsim.experiments.statistics import (
    CONFIDENCE,
    FEW_REPLICATES,
    MIN_REPLICATES,
    bounded_interval,
    fieller_ratio,
    t_band,
    t_interval,
)
from introsim.model.outcomes import (
    COST_PARTS,
    OUTCOME_INFO,
    OUTCOMES,
    OutcomeInfo,
    by_subgroup,
)
from introsim.model.state import STATUS_NAMES, WEEKS_PER_YEAR, Status
from introsim.params.ensemble_file import Ensemble, intervals_text
from introsim.params.schema import Scenario
from introsim.run import replicate_seed, simulate

__all__ = [
    "COMPARISON_INFO",
    "COMPARISON_OUTCOMES",
    "COST_STATUSES",
    "INFO",
    "IN_WORK",
    "PERSON_YEARS",
    "REPLICATE_OUTCOMES",
    "SUBGROUP_OUTCOMES",
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

REPLICATE_OUTCOMES: tuple[str, ...] = (*OUTCOMES, PERSON_YEARS, *COST_PARTS)
"""Run-level outcomes recorded per replicate: the fixed outcomes, person-years in work and the
cost parts."""

COMPARISON_OUTCOMES: tuple[str, ...] = (
    "extra_person_years_in_work",
    "cost_per_extra_person_year_nok",
    "extra_employed_12m",
    "cost_per_extra_job_nok",
)
"""Outcomes that are themselves comparisons with the reference; the matched horizon first."""

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
    "cost_per_extra_job_nok": OutcomeInfo(
        "12-month figure: extra cost over the horizon per extra person in work at 12 months",
        "NOK",
        False,
    ),
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
_WORK = (_STATUS_INDEX[Status.EMPLOYED.name.lower()], _STATUS_INDEX[Status.SUBSIDISED.name.lower()])


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


def _replicate_outputs(
    scenario: Scenario, seed: np.random.SeedSequence
) -> tuple[dict[str, float], np.ndarray, pd.DataFrame]:
    """What a comparison keeps of one run: outcomes, weekly status counts, subgroups."""
    result = simulate(scenario, seed)
    status = result.weekly[list(STATUS_NAMES)].to_numpy(dtype=np.int64)
    summary = {name: float(result.summary[name]) for name in (*OUTCOMES, *COST_PARTS)}
    summary[PERSON_YEARS] = person_years(status, scenario.cohort.size)
    subgroups = by_subgroup(result.participants, outcomes=SUBGROUP_OUTCOMES)
    return summary, status, subgroups


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
    summary, status, subgroups = _replicate_outputs(scenario, replicate_seed(root_seed, replicate))
    return ReplicateResult(index, replicate, summary, status, subgroups)


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

    @property
    def reference(self) -> str:
        """Name of the first scenario, against which differences are taken."""
        return self.names[0]

    def title(self, scenario: str) -> str:
        """A scenario's human name: its description, or its name where it has none.

        A description that an earlier scenario already has (one inherited with
        ``extends``, say) would make two scenarios look the same: the later one
        is then called by its name.
        """
        i = self.names.index(scenario)
        texts = [d.strip() for d in self.descriptions]
        text = texts[i] if i < len(texts) else ""
        return scenario if not text or text in texts[:i] else text

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
            ``outcomes``, ``costs`` and ``comparison``: each outcome name mapped to
            each scenario's ``n, mean, ci_low, ci_high, diff, diff_low, diff_high,
            p_value, note``; the ratio rows of ``comparison`` also carry ``status``
            ("dominant", "dominated", ...; see :data:`COST_STATUSES`).
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
        )
        groups: dict[str, dict[str, dict[str, dict[str, Any]]]] = {
            "outcome": {},
            "cost": {},
            "comparison": {},
        }
        for rec in self.table.to_dict("records"):
            entry = {k: rec[k] for k in keys}
            entry["n"] = int(entry["n"])
            if rec["outcome"] in RATIOS:
                entry["status"] = rec["status"]
            groups[rec["kind"]].setdefault(rec["outcome"], {})[rec["scenario"]] = entry
        return {
            "reference": self.reference,
            "root_seed": self.root_seed,
            "replications": self.replications,
            "confidence": self.confidence,
            "scenarios": [
                {"name": n, "description": self.title(n), "digest": d, "cohort_size": c, "weeks": w}
                for n, d, c, w in zip(
                    self.names, self.digests, self.cohort_sizes, self.weeks, strict=True
                )
            ],
            "outcomes": groups["outcome"],
            "costs": groups["cost"],
            "comparison": groups["comparison"],
        }


def compare(
    scenarios: Sequence[Scenario],
    replications: int,
    root_seed: int | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    ensemble: Ensemble | None = None,
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
        ensemble: Parameter sets: replicate ``r`` of every scenario runs with
            member ``r mod K``, so intervals include parameter uncertainty.

    Returns:
        The comparison.

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

    tasks = [
        Task(i, r, sc if ensemble is None else ensemble.apply(sc, r), seed)
        for r in range(replications)
        for i, sc in enumerate(scenarios)
    ]
    with contextlib.ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(
                executor_for(jobs, preload=["introsim.experiments.compare"])
            )
        runs = run_tasks(tasks, executor, evaluate=_replicate_outputs, progress=progress)
    results: dict[tuple[int, int], ReplicateResult] = {}
    for task, run in zip(tasks, runs, strict=True):
        if run.error:
            raise RuntimeError(
                f"{scenarios[task.point].scenario.name}, replicate {task.replicate}: {run.error}"
            )
        results[(task.point, task.replicate)] = ReplicateResult(
            task.point, task.replicate, *run.value
        )
    ordered = [results[(i, r)] for i in range(len(scenarios)) for r in range(replications)]
    sizes = tuple(sc.cohort.size for sc in scenarios)
    values = np.array(
        [
            [[results[(i, r)].summary[o] for o in REPLICATE_OUTCOMES] for r in range(replications)]
            for i in range(len(scenarios))
        ],
        dtype=np.float64,
    )  # (scenario, replicate, outcome)
    return Comparison(
        names=tuple(names),
        digests=tuple(sc.digest() for sc in scenarios),
        cohort_sizes=sizes,
        weeks=tuple(sc.scenario.weeks for sc in scenarios),
        root_seed=seed,
        replications=replications,
        replicates=_replicates_table(names, ordered, seed),
        table=_comparison_table(names, values, sizes),
        weekly=_weekly_bands(names, results, replications),
        subgroups=_subgroup_table(names, results, replications),
        descriptions=tuple(sc.scenario.description for sc in scenarios),
        programme_weeks=tuple(sc.programme.max_weeks for sc in scenarios),
        intake_weeks=tuple(sc.cohort.intake_weeks for sc in scenarios),
        ensemble=ensemble.describe() if ensemble is not None else None,
    )


def _replicates_table(
    names: list[str], ordered: list[ReplicateResult], root_seed: int
) -> pd.DataFrame:
    """Long table of every replicate's outcomes, sorted by scenario, replicate, outcome order."""
    rows = [
        (names[res.scenario], res.replicate, seed_text(root_seed, res.replicate), o, res.summary[o])
        for res in ordered
        for o in REPLICATE_OUTCOMES
    ]
    df = pd.DataFrame(rows, columns=["scenario", "replicate", "seed", "outcome", "value"])
    df["replicate"] = df["replicate"].astype(np.int64)
    df["value"] = df["value"].astype(np.float64)
    for col in ("scenario", "seed", "outcome"):
        df[col] = df[col].astype(object)
    return df


def _interval(
    outcome: str, values: np.ndarray, paired: bool = False
) -> tuple[int, float, float, float, float, str]:
    """Interval for an outcome's mean (or paired difference): bounded for shares."""
    if INFO[outcome].unit == "share":
        return bounded_interval(values, -1.0 if paired else 0.0, 1.0)
    n, mean, lo, hi, p = t_interval(values)
    return n, mean, lo, hi, p, FEW_REPLICATES if 0 < n < MIN_REPLICATES else ""


def _comparison_table(names: list[str], values: np.ndarray, sizes: tuple[int, ...]) -> pd.DataFrame:
    """Means, paired differences and the comparison outcomes, with intervals."""
    nan = math.nan
    rows: list[dict[str, Any]] = []
    col = {o: j for j, o in enumerate(REPLICATE_OUTCOMES)}
    for s, name in enumerate(names):
        for outcome in REPLICATE_OUTCOMES:
            j = col[outcome]
            n, mean, lo, hi, _, note = _interval(outcome, values[s, :, j])
            if s == 0:
                diff = (nan, nan, nan, nan)
            else:
                _, d, dlo, dhi, p, diff_note = _interval(
                    outcome, values[s, :, j] - values[0, :, j], paired=True
                )
                diff = (d, dlo, dhi, p)
                note = "; ".join(dict.fromkeys(x for x in (note, diff_note) if x))
            info = INFO[outcome]
            rows.append(
                {
                    "scenario": name,
                    "outcome": outcome,
                    "kind": "cost" if outcome in COST_PARTS else "outcome",
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
                }
            )
    cost = values[:, :, col["cost_per_participant_nok"]]
    for s, name in enumerate(names[1:], start=1):
        d_cost = cost[s] - cost[0]
        _, c, c_lo, c_hi, _ = t_interval(d_cost)
        estimates: dict[str, tuple[float, ...]] = {}
        statuses: dict[str, str] = {}
        for ratio, (extra, per_participant) in RATIOS.items():
            j = col[per_participant]
            d_effect = values[s, :, j] - values[0, :, j]
            n, d, lo, hi, p = t_interval(d_effect * sizes[s])
            estimates[extra] = (n, d, lo, hi, p)
            status = cost_status((d, lo, hi), (c, c_lo, c_hi))
            n_ratio, r, rlo, rhi = fieller_ratio(d_cost, d_effect)
            if status != "ratio":
                r = rlo = rhi = nan
            estimates[ratio] = (n_ratio, r, rlo, rhi, nan)
            statuses[ratio] = status
        for outcome in COMPARISON_OUTCOMES:
            est = estimates[outcome]
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
                    "note": FEW_REPLICATES if 0 < est[0] < MIN_REPLICATES else "",
                    "status": statuses.get(outcome, ""),
                }
            )
    df = pd.DataFrame(rows)
    df["n"] = df["n"].astype(np.int64)
    for c in ("scenario", "outcome", "kind", "label", "unit", "note", "status"):
        df[c] = df[c].astype(object)
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
                _, mean, lo, hi, _, _ = _interval(outcome, vals[:, k])
                if s == 0:
                    d = dlo = dhi = math.nan
                else:
                    _, d, dlo, dhi, _, _ = _interval(outcome, vals[:, k] - ref[:, k], paired=True)
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
        "intervals": intervals_text(comparison.ensemble),
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
