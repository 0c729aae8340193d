"""What if? The chosen settings against the reference preset, over paired replicates.

Replicate ``r`` of both scenarios runs with ``replicate_seed(root_seed, r)``
(common random numbers, as ``introsim compare`` does, with the reference's
``[scenario] seed`` as root), so the difference is estimated from paired runs
and a slider change shows the lever's effect rather than a new draw of luck.
Runs are cached by (scenario digest, root seed, replicate): the reference is
run once per preset, and moving a slider back costs nothing.

Over a calibration's posterior ensemble (:class:`~introsim.params.ensemble_file.Ensemble`)
the runs are spread over plausible parameter sets: :func:`ensemble_design` picks members
evenly through the ensemble, each run with :data:`ENSEMBLE_REPLICATES` replicates (the
same seeds in every member and in both scenarios), as ``introsim compare --ensemble`` runs
a file holding those members. The estimates are then members × replicates, and the
three kinds of uncertainty include what we do not know about the mechanisms.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from introsim.experiments.compare import INFO, REPLICATE_OUTCOMES, ReplicateResult, run_replicate
from introsim.experiments.statistics import t_band
from introsim.experiments.uncertainty import TargetChance, ThreeKinds, chance_met, three_kinds
from introsim.model.ledger import LEDGER_FLOW_VALUES, LEDGER_OUTCOMES
from introsim.model.outcomes import COST_PARTS
from introsim.model.state import IN_WORK_NAMES, STATUS_NAMES, Status
from introsim.params.schema import Scenario

if TYPE_CHECKING:
    from introsim.params.ensemble_file import Ensemble

TARGET_AT_EXIT = 0.55
"""Municipal target: at least 55 % of participants directly into work or education after
the programme (KS / Østlandsforskning)."""

TARGET_OUTCOME = "work_or_education_at_exit"
"""The outcome the municipal target applies to."""

SUBGROUP_OUTCOME = "employed_12m"
"""The outcome the subgroup bars show."""

CACHE_RUNS = 1024
"""Replicate results kept in memory (about 20 kB each)."""

POLL_S = 0.05
"""How often a computation waiting for its runs checks whether it is still wanted."""

ENSEMBLE_REPLICATES = 2
"""Replicates per posterior member in a what-if over an ensemble: the fewest that show the
chance in one cohort within a member, so that a page's runs reach as many members as they can."""

SHOWN_OUTCOMES: tuple[str, ...] = (
    TARGET_OUTCOME,
    SUBGROUP_OUTCOME,
    "cost_per_participant_nok",
    *COST_PARTS,
)
"""The outcomes the page states (words and charts): only these are summarised."""

SHARE_OUTCOMES = frozenset(o for o in REPLICATE_OUTCOMES if INFO[o].unit == "share")
"""Outcomes that are shares 0-1: their intervals stay within the possible range."""

_WORK = [STATUS_NAMES.index(name) for name in IN_WORK_NAMES]
_NOT_ARRIVED = STATUS_NAMES.index(Status.NOT_ARRIVED.name.lower())


class Cancelled(Exception):
    """The computation is no longer wanted (newer settings, or the session closed)."""


@dataclass(frozen=True)
class Estimate:
    """One outcome (or paired difference) over runs, with its three kinds of uncertainty.

    The kinds come from :func:`introsim.experiments.uncertainty.three_kinds`, the same
    function ``introsim compare`` uses, on a members × replicates array: the dashboard
    runs one parameter set (one member), so the parameter spread is not known (NaN)
    until the runs come from a calibration's posterior ensemble.

    Attributes:
        mean: Average over every run.
        low: Lower end of the 95 % interval of the average (simulation precision).
        high: Upper end of that interval.
        kinds: Parameter, cohort and simulation spreads.
        values: Members × replicates.
    """

    mean: float
    low: float
    high: float
    kinds: ThreeKinds
    values: np.ndarray

    @classmethod
    def of(
        cls,
        values: np.ndarray,
        bounds: tuple[float, float] | None = None,
        cohort_size: int | None = None,
    ) -> Estimate:
        """The estimate of one value per run.

        Args:
            values: One value per replicate, or members × replicates.
            bounds: The range the quantity can take (``(0, 1)`` for a share,
                ``(-1, 1)`` for a difference of shares); intervals stay inside it.
            cohort_size: Participants in one run's cohort.
        """
        x = np.asarray(values, dtype=np.float64)
        x = x[np.newaxis, :] if x.ndim == 1 else x
        kinds = three_kinds(x, cohort_size, bounds=bounds)
        sim = kinds.simulation
        return cls(sim.estimate, sim.low, sim.high, kinds, x)

    @property
    def spread_low(self) -> float:
        """Lower end of where one cohort's result usually lands (95 % of single runs)."""
        return self.kinds.cohort.low

    @property
    def spread_high(self) -> float:
        """Upper end of where one cohort's result usually lands."""
        return self.kinds.cohort.high

    @property
    def n(self) -> int:
        """Runs with a finite value."""
        return int(np.isfinite(self.values).sum())

    def chance_met(self, threshold: float) -> TargetChance:
        """How likely ``threshold`` is reached: on average across members, and by one cohort."""
        return chance_met(self.values, threshold)


@dataclass(frozen=True)
class Band:
    """A weekly series over replicates, one value per week.

    Attributes:
        mean: Mean over replicates.
        low: Lower end of the 95 % t interval of the mean.
        high: Upper end of that interval.
        spread_low: Where one run (one cohort) usually lands: the 2.5 % quantile of the
            single runs, week by week (the weekly form of the cohort spread).
        spread_high: The 97.5 % quantile.
    """

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    spread_low: np.ndarray
    spread_high: np.ndarray


@dataclass(frozen=True)
class WhatIf:
    """The chosen settings against the reference.

    Attributes:
        reference: Name of the reference (the preset).
        replications: Replicates per scenario.
        root_seed: Root seed of the replicates.
        cohort_size: Participants in the chosen scenario's cohort.
        outcomes: Each name of :data:`SHOWN_OUTCOMES` mapped to (reference, chosen,
            paired difference chosen − reference).
        in_work: Weekly share of arrived participants in work: (reference, chosen).
        status: Mean weekly share of arrived participants in each status (columns
            ``STATUS_NAMES`` without ``not_arrived``), per scenario: (reference, chosen).
        subgroups: One row per subgroup and level: ``subgroup, level, n`` and, for
            :data:`SUBGROUP_OUTCOME`, ``ref_mean, ref_low, ref_high, mean, low, high,
            diff, diff_low, diff_high``.
        seconds: Wall time of the computation.
        runs: Simulations actually run (the rest came from the cache).
        flows: Per scenario (reference, chosen), the average over the runs of each payer's
            flows and net cost per participant in present value
            (:data:`~introsim.model.ledger.LEDGER_FLOW_VALUES` and
            :data:`~introsim.model.ledger.LEDGER_OUTCOMES`): the who-pays chart's data.
        members: The posterior members the runs used (their positions in the ensemble),
            empty without an ensemble.
        ensemble_size: Members in the whole ensemble (0 without one).
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
    flows: tuple[dict[str, float], dict[str, float]] = ({}, {})
    members: tuple[int, ...] = ()
    ensemble_size: int = 0

    @property
    def replicates(self) -> int:
        """Runs per parameter set: per member over an ensemble, else every run."""
        return self.replications if not self.members else ENSEMBLE_REPLICATES

    @property
    def runs_per_scenario(self) -> int:
        """Runs of each scenario: members × replicates over an ensemble."""
        return max(1, len(self.members)) * self.replicates


Task = tuple[Scenario, int, int]
"""One run: (scenario, root seed, replicate)."""
Key = tuple[str, int, int]
"""What a run is kept under: (scenario digest, root seed, replicate)."""


def keys_of(tasks: list[Task]) -> list[Key]:
    """What each run is kept under."""
    return [(sc.digest(), root, r) for sc, root, r in tasks]


class RunCache:
    """Replicate results by (scenario digest, root seed, replicate), least recently used out.

    Shared by every browser session of a server. Missing runs go to a warm worker pool
    when one is given (each result, about 20 kB, costs well under a millisecond to send
    back), else they run in this thread. A run already under way on the pool (asked for
    by another session, or worked out ahead by :meth:`prefetch`) is waited for, not run
    again.

    Runs worked out ahead go to the pool a few at a time, only as many as it has workers,
    and a computation someone waits for drops those not yet started: the pool is never
    more than one run per worker behind the person moving a lever.

    Args:
        size: Most results kept.
        ahead: Runs worked out ahead at once (the pool's workers).
    """

    def __init__(self, size: int = CACHE_RUNS, ahead: int = 2) -> None:
        self.size = size
        self.ahead = ahead
        self._runs: OrderedDict[Key, ReplicateResult] = OrderedDict()
        self._lock = threading.RLock()  # several browser sessions share one server
        self._running: dict[Key, Future[ReplicateResult]] = {}
        self._queued: OrderedDict[Key, Task] = OrderedDict()  # ahead, not yet sent
        self._ahead: set[Key] = set()  # sent ahead, nobody waits for them yet
        self._executor: Executor | None = None

    def __len__(self) -> int:
        return len(self._runs)

    def _keep(self, key: Key, result: ReplicateResult) -> None:
        with self._lock:
            self._runs[key] = result
            self._runs.move_to_end(key)
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)

    def _submit(self, executor: Executor, key: Key, task: Task) -> Future[ReplicateResult]:
        """Send one run to the pool; its result is kept when it arrives (lock held)."""
        future = executor.submit(run_replicate, *task)
        self._running[key] = future
        future.add_done_callback(functools.partial(self._arrived, key))
        return future

    def _arrived(self, key: Key, future: Future[ReplicateResult]) -> None:
        with self._lock:
            if self._running.get(key) is future:
                del self._running[key]
            was_ahead = key in self._ahead
            self._ahead.discard(key)
            if not future.cancelled() and future.exception() is None:
                self._keep(key, future.result())
            if was_ahead:
                self._pump()

    def _pump(self) -> None:
        """Send runs worked out ahead while fewer than :attr:`ahead` of them are under way."""
        with self._lock:
            while self._queued and self._executor is not None and len(self._ahead) < self.ahead:
                key, task = self._queued.popitem(last=False)
                if key in self._runs or key in self._running:
                    continue
                self._ahead.add(key)
                self._submit(self._executor, key, task)

    def prefetch(self, tasks: list[Task], executor: Executor) -> int:
        """Work out runs ahead of being asked for (on the pool, a few at a time).

        Replaces what was queued ahead before: the newest guess of what comes next wins.

        Returns:
            Runs queued (those neither kept nor under way).
        """
        with self._lock:
            self._executor = executor
            self._queued.clear()
            for key, task in zip(keys_of(tasks), tasks, strict=True):
                if key not in self._runs and key not in self._running:
                    self._queued[key] = task
            queued = len(self._queued)
            self._pump()
        return queued

    def holds(self, keys: list[Key]) -> bool:
        """Whether every one of these runs (see :func:`keys_of`) is kept."""
        with self._lock:
            return all(k in self._runs for k in keys)

    def get_many(
        self,
        tasks: list[Task],
        executor: Executor | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> tuple[list[ReplicateResult], int]:
        """Results of (scenario, root seed, replicate) tasks in order, and how many were run.

        Args:
            tasks: The runs wanted.
            executor: Where missing runs go; None runs them in this thread.
            cancelled: Asked between runs; once it says True, runs this call sent and
                not yet started are dropped and :class:`Cancelled` is raised (finished
                ones stay cached).

        Raises:
            Cancelled: If ``cancelled`` said so before every result was in.

        Returns:
            The results, and how many were not yet finished when asked (run now, or
            under way already).
        """
        keys = keys_of(tasks)
        wanted = set(keys)
        with self._lock:
            found = {k: self._runs[k] for k in keys if k in self._runs}
            for k in found:
                self._runs.move_to_end(k)
            if len(found) == len(wanted):  # all kept: nothing to wait for
                return [found[k] for k in keys], 0
            # Someone waits now: runs worked out ahead that this computation does not need
            # make way (those not yet started), and those it needs are its own.
            self._queued.clear()
            for k in list(self._ahead):
                if k in wanted:
                    self._ahead.discard(k)
                elif self._running[k].cancel():
                    self._ahead.discard(k)
            shared = {k: self._running[k] for k in wanted if k not in found and k in self._running}
        # Unchanged settings are the reference itself: each distinct run is run once.
        missing = {
            k: task
            for k, task in zip(keys, tasks, strict=True)
            if k not in found and k not in shared
        }
        stop = cancelled or (lambda: False)
        if executor is None or len(missing) + len(shared) < 2:
            for k, future in shared.items():
                found[k] = future.result()
            for k, task in missing.items():
                if stop():
                    raise Cancelled
                found[k] = run_replicate(*task)
                self._keep(k, found[k])
        else:
            with self._lock:
                own = {self._submit(executor, k, task): k for k, task in missing.items()}
            futures = {**own, **{f: k for k, f in shared.items()}}
            pending = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                    for future in done:
                        found[futures[future]] = future.result()
                    if pending and stop():
                        raise Cancelled
            finally:
                for future in pending:
                    if future in own:
                        future.cancel()
        return [found[k] for k in keys], len(missing) + len(shared)


def _shares(status: np.ndarray) -> np.ndarray:
    """(replicates, weeks, statuses) counts to shares of the arrived participants."""
    arrived = status.sum(axis=2) - status[:, :, _NOT_ARRIVED]
    with np.errstate(invalid="ignore", divide="ignore"):
        return status / np.where(arrived > 0, arrived, np.nan)[:, :, None]


def _band(x: np.ndarray) -> Band:
    """Weekly shares (replicates, weeks) to their mean, t interval and one-cohort spread."""
    mean, low, high, q_low, q_high = t_band(x)
    return Band(mean, low, high, q_low, q_high)


def ensemble_design(size: int, runs: int) -> tuple[int, ...]:
    """Which members of an ensemble of ``size`` a what-if of about ``runs`` runs per scenario uses.

    Each member used runs :data:`ENSEMBLE_REPLICATES` replicates, so ``runs // 2`` members
    (at least two, at most the whole ensemble), spread evenly through it. A posterior's
    members are a sample of the plausible region in no particular order, so every
    member is as good as another; spreading them keeps a member's place fixed as the
    page's runs grow.
    """
    used = min(size, max(2, runs // ENSEMBLE_REPLICATES))
    return tuple(k * size // used for k in range(used))


def whatif_tasks(
    reference: Scenario,
    chosen: Scenario,
    replications: int,
    root_seed: int | None = None,
    ensemble: Ensemble | None = None,
) -> tuple[list[Task], tuple[int, ...], int]:
    """The runs a what-if needs: the reference's, then the chosen settings'.

    Args: as :func:`run_whatif`.

    Returns:
        The runs (member-major within each scenario: run ``k * replicates + r`` of a side is
        member ``k``, replicate ``r``), the members used (empty without an ensemble), and
        the replicates per member.

    Raises:
        ValueError: If ``replications`` is below 2, or the ensemble has one member.
    """
    if replications < 2:
        raise ValueError(f"replications: expected at least 2, found {replications}")
    seed = reference.scenario.seed if root_seed is None else root_seed
    if ensemble is not None:
        if ensemble.size < 2:
            raise ValueError(f"{ensemble.path}: a what-if needs two members or more")
        members = ensemble_design(ensemble.size, replications)
        sides = [[ensemble.apply_member(sc, k) for k in members] for sc in (reference, chosen)]
        replicates = ENSEMBLE_REPLICATES
    else:
        members = ()
        sides = [[reference], [chosen]]
        replicates = replications
    tasks = [(sc, seed, r) for side in sides for sc in side for r in range(replicates)]
    return tasks, members, replicates


def run_whatif(
    reference: Scenario,
    chosen: Scenario,
    replications: int,
    root_seed: int | None = None,
    cache: RunCache | None = None,
    executor: Executor | None = None,
    cancelled: Callable[[], bool] | None = None,
    ensemble: Ensemble | None = None,
) -> WhatIf:
    """Run the reference and the chosen scenario over paired replicates and compare them.

    Args:
        reference: The preset.
        chosen: The preset with the workshop's settings.
        replications: Runs per scenario (at least 2, for intervals).
        root_seed: Root seed; default the reference's ``[scenario] seed`` (as ``introsim
            compare`` takes its first scenario's).
        cache: Where runs are kept between calls; a fresh one if None.
        executor: A warm worker pool for the runs not in the cache; None runs them here.
        cancelled: Asked while waiting for runs (see :meth:`RunCache.get_many`).
        ensemble: A calibration's posterior ensemble (two members or more): the runs are
            spread over the members :func:`ensemble_design` picks, each member applied to
            both scenarios as ``introsim compare --ensemble`` applies it.

    Returns:
        The comparison.

    Raises:
        ValueError: If ``replications`` is below 2, or the ensemble has one member.
        Cancelled: If ``cancelled`` said so before the runs were in.
    """
    t0 = time.perf_counter()
    cache = cache if cache is not None else RunCache()
    tasks, members, replicates = whatif_tasks(reference, chosen, replications, root_seed, ensemble)
    seed = tasks[0][1]
    flat, runs = cache.get_many(tasks, executor, cancelled)
    per_side = len(tasks) // 2
    results = [flat[:per_side], flat[per_side:]]
    shape = (max(1, len(members)), replicates)

    names = (*SHOWN_OUTCOMES, *LEDGER_FLOW_VALUES, *LEDGER_OUTCOMES)
    columns = {name: REPLICATE_OUTCOMES.index(name) for name in names}
    values = [
        np.array([[res.summary[o] for o in REPLICATE_OUTCOMES] for res in side], dtype=np.float64)
        for side in results
    ]  # each (runs, outcomes)
    outcomes = {}
    sizes = (reference.cohort.size, chosen.cohort.size)
    for name in SHOWN_OUTCOMES:
        j = columns[name]
        share = name in SHARE_OUTCOMES
        level = (0.0, 1.0) if share else None
        ref, new = (v[:, j].reshape(shape) for v in values)
        outcomes[name] = (
            Estimate.of(ref, level, sizes[0]),
            Estimate.of(new, level, sizes[1]),
            Estimate.of(new - ref, (-1.0, 1.0) if share else None, sizes[1]),
        )
    ledger = [n for n in names if n not in SHOWN_OUTCOMES]
    flows = tuple({n: float(np.nanmean(v[:, columns[n]])) for n in ledger} for v in values)
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
        flows=(flows[0], flows[1]),
        members=members,
        ensemble_size=ensemble.size if ensemble is not None else 0,
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
    columns: dict[str, Any] = {
        "subgroup": [g for g, _ in keys],
        "level": [lv for _, lv in keys],
        "n": np.nanmean(n, axis=0),
    }
    # All levels at once: the mean and its t interval (how precisely the runs pin it),
    # kept within what a share, or a difference of shares, can be.
    for prefix, x, (lo, hi) in (
        ("ref_", ref, (0.0, 1.0)),
        ("", new, (0.0, 1.0)),
        ("diff_", new - ref, (-1.0, 1.0)),
    ):
        mean, low, high, _, _ = t_band(x)
        name = "diff" if prefix == "diff_" else f"{prefix}mean"
        columns[name] = mean
        columns[f"{prefix}low"] = np.clip(low, lo, hi)
        columns[f"{prefix}high"] = np.clip(high, lo, hi)
    return pd.DataFrame(columns)
