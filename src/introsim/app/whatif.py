"""What if? The chosen settings against the reference preset, over paired replicates.

Replicate ``r`` of both scenarios runs with ``replicate_seed(root_seed, r)``
(common random numbers, as ``introsim compare`` does, with the reference's
``[scenario] seed`` as root), so the difference is estimated from paired runs
and a slider change shows the lever's effect rather than a new draw of luck.
Runs are cached by (scenario digest, root seed, replicate): the reference is
run once per preset, and moving a slider back costs nothing.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from introsim.experiments.compare import REPLICATE_OUTCOMES, ReplicateResult, run_replicate
from introsim.experiments.statistics import t_band, t_interval
from introsim.model.state import IN_WORK_NAMES, STATUS_NAMES, Status
from introsim.params.schema import Scenario

TARGET_AT_EXIT = 0.55
"""Municipal target: at least 55 % of participants directly into work or education after
the programme (KS / Østlandsforskning)."""

TARGET_OUTCOME = "work_or_education_at_exit"
"""The outcome the municipal target applies to."""

SUBGROUP_OUTCOME = "employed_12m"
"""The outcome the subgroup bars show."""

CACHE_RUNS = 512
"""Replicate results kept in memory (a few kB each)."""

_WORK = [STATUS_NAMES.index(name) for name in IN_WORK_NAMES]
_NOT_ARRIVED = STATUS_NAMES.index(Status.NOT_ARRIVED.name.lower())


@dataclass(frozen=True)
class Estimate:
    """A mean over replicates with its 95 % t interval."""

    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, values: np.ndarray) -> Estimate:
        """The estimate of one value per replicate (NaN ignored)."""
        _, mean, low, high, _ = t_interval(values)
        return cls(mean, low, high)


@dataclass(frozen=True)
class Band:
    """A weekly series over replicates: mean and 95 % t interval, one value per week."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


@dataclass(frozen=True)
class WhatIf:
    """The chosen settings against the reference.

    Attributes:
        reference: Name of the reference (the preset).
        replications: Replicates per scenario.
        root_seed: Root seed of the replicates.
        cohort_size: Participants in the chosen scenario's cohort.
        outcomes: Each name of ``REPLICATE_OUTCOMES`` mapped to (reference, chosen,
            paired difference chosen − reference).
        in_work: Weekly share of arrived participants in work: (reference, chosen).
        status: Mean weekly share of arrived participants in each status (columns
            ``STATUS_NAMES`` without ``not_arrived``), per scenario: (reference, chosen).
        subgroups: One row per subgroup and level: ``subgroup, level, n`` and, for
            :data:`SUBGROUP_OUTCOME`, ``ref_mean, ref_low, ref_high, mean, low, high,
            diff, diff_low, diff_high``.
        seconds: Wall time of the computation.
        runs: Simulations actually run (the rest came from the cache).
    """

    reference: str
    replications: int
    root_seed: int
    cohort_size: int
    outcomes: dict[str, tuple[Estimate, Estimate, Estimate]]
    in_work: tuple[Band, Band]
    status: tuple[pd.DataFrame, pd.DataFrame]
    subgroups: pd.DataFrame
    seconds: float
    runs: int


class RunCache:
    """Replicate results by (scenario digest, root seed, replicate), least recently used out.

    Runs happen in this process: a warm worker pool was slower for ten 500-participant
    runs than running them here, as the results (tables) cost more to send back than to make.

    Args:
        size: Most results kept.
    """

    def __init__(self, size: int = CACHE_RUNS) -> None:
        self.size = size
        self._runs: OrderedDict[tuple[str, int, int], ReplicateResult] = OrderedDict()
        self._lock = threading.Lock()  # several browser sessions share one server

    def get_many(self, tasks: list[tuple[Scenario, int, int]]) -> tuple[list[ReplicateResult], int]:
        """Results of (scenario, root seed, replicate) tasks in order, and how many were run."""
        keys = [(sc.digest(), root, r) for sc, root, r in tasks]
        with self._lock:
            found = {k: self._runs[k] for k in keys if k in self._runs}
            for k in found:
                self._runs.move_to_end(k)
        # Unchanged settings are the reference itself: each distinct run is run once.
        missing = {k: task for k, task in zip(keys, tasks, strict=True) if k not in found}
        fresh = [run_replicate(*task) for task in missing.values()]
        with self._lock:
            for k, result in zip(missing, fresh, strict=True):
                found[k] = self._runs[k] = result
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)
        return [found[k] for k in keys], len(missing)


def _shares(status: np.ndarray) -> np.ndarray:
    """(replicates, weeks, statuses) counts to shares of the arrived participants."""
    arrived = status.sum(axis=2) - status[:, :, _NOT_ARRIVED]
    with np.errstate(invalid="ignore", divide="ignore"):
        return status / np.where(arrived > 0, arrived, np.nan)[:, :, None]


def _band(x: np.ndarray) -> Band:
    mean, low, high, _, _ = t_band(x)
    return Band(mean, low, high)


def run_whatif(
    reference: Scenario,
    chosen: Scenario,
    replications: int,
    root_seed: int | None = None,
    cache: RunCache | None = None,
) -> WhatIf:
    """Run the reference and the chosen scenario over paired replicates and compare them.

    Args:
        reference: The preset.
        chosen: The preset with the workshop's settings.
        replications: Replicates per scenario (at least 2, for intervals).
        root_seed: Root seed; default the reference's ``[scenario] seed`` (as ``introsim
            compare`` takes its first scenario's).
        cache: Where runs are kept between calls; a fresh one if None.

    Returns:
        The comparison.

    Raises:
        ValueError: If ``replications`` is below 2.
    """
    if replications < 2:
        raise ValueError(f"replications: expected at least 2, found {replications}")
    t0 = time.perf_counter()
    cache = cache if cache is not None else RunCache()
    seed = reference.scenario.seed if root_seed is None else root_seed
    tasks = [(sc, seed, r) for sc in (reference, chosen) for r in range(replications)]
    flat, runs = cache.get_many(tasks)
    results = [flat[:replications], flat[replications:]]

    values = [
        np.array([[res.summary[o] for o in REPLICATE_OUTCOMES] for res in side], dtype=np.float64)
        for side in results
    ]  # each (replicates, outcomes)
    outcomes = {
        name: (
            Estimate.of(values[0][:, j]),
            Estimate.of(values[1][:, j]),
            Estimate.of(values[1][:, j] - values[0][:, j]),
        )
        for j, name in enumerate(REPLICATE_OUTCOMES)
    }
    shares = [
        _shares(np.stack([res.status for res in side]).astype(np.float64)) for side in results
    ]
    in_work = tuple(_band(s[:, :, _WORK].sum(axis=2)) for s in shares)
    shown = [s for s in STATUS_NAMES if s != STATUS_NAMES[_NOT_ARRIVED]]
    status = tuple(
        pd.DataFrame(np.nanmean(s, axis=0), columns=list(STATUS_NAMES))[shown] for s in shares
    )
    return WhatIf(
        reference=reference.scenario.name,
        replications=replications,
        root_seed=seed,
        cohort_size=chosen.cohort.size,
        outcomes=outcomes,
        in_work=(in_work[0], in_work[1]),
        status=(status[0], status[1]),
        subgroups=_subgroups(results),
        seconds=time.perf_counter() - t0,
        runs=runs,
    )


def _subgroups(results: list[list[ReplicateResult]]) -> pd.DataFrame:
    """Subgroup means of :data:`SUBGROUP_OUTCOME` per scenario, and their paired difference."""
    first = results[0][0].subgroups
    keys = list(zip(first["subgroup"], first["level"], strict=True))

    def matrix(side: int, column: str) -> np.ndarray:
        """(replicates, levels) of one column, aligned on the first run's (subgroup, level)."""
        out = []
        for res in results[side]:
            sg = res.subgroups
            if list(zip(sg["subgroup"], sg["level"], strict=True)) != keys:
                sg = sg.set_index(["subgroup", "level"]).reindex(keys).reset_index()
            out.append(sg[column].to_numpy(dtype=np.float64))
        return np.stack(out)

    ref, new, n = matrix(0, SUBGROUP_OUTCOME), matrix(1, SUBGROUP_OUTCOME), matrix(1, "n")
    rows = []
    for k, (group, level) in enumerate(keys):
        a, b, d = Estimate.of(ref[:, k]), Estimate.of(new[:, k]), Estimate.of(new[:, k] - ref[:, k])
        rows.append(
            {
                "subgroup": group,
                "level": level,
                "n": float(n[:, k].mean()),
                "ref_mean": a.mean,
                "ref_low": a.low,
                "ref_high": a.high,
                "mean": b.mean,
                "low": b.low,
                "high": b.high,
                "diff": d.mean,
                "diff_low": d.low,
                "diff_high": d.high,
            }
        )
    return pd.DataFrame(rows)
