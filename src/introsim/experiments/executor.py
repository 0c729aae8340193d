"""Running many simulations: in this process or on a warm pool of worker processes.

Results never depend on where a run happened: every run is a pure function of
its task, and results come back in task order.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from introsim.params.schema import Scenario
from introsim.run import simulate

__all__ = ["MAX_CHUNK", "make_pool", "pool_context", "run_all", "usable_cores", "warm_up"]

T = TypeVar("T")
R = TypeVar("R")

MAX_CHUNK = 8
"""Most runs sent to a worker in one message."""


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def warm_up(scenarios: Sequence[Scenario]) -> None:
    """Run a tiny version of each scenario, so compiled kernels are in numba's cache.

    Worker processes then load the kernels from the cache instead of each
    compiling them.
    """
    tiny = {"cohort.size": 20, "scenario.weeks": 8, "cohort.intake_weeks": 1}
    for sc in scenarios:
        try:
            small = sc.with_overrides(tiny)
        except ValueError:  # a validator ties these fields to others: warm up on the real one
            small = sc
        simulate(small, 0)


def pool_context(preload: Sequence[str] = ()) -> multiprocessing.context.BaseContext:
    """Start method for workers: a fork server where there is one, else spawn; never fork.

    A plain fork would copy a parent that may run threads (the progress bar's)
    and has numba's LLVM loaded. The fork server is a fresh process that imports
    introsim once; workers fork from it, so they start fast and need not each
    import the packages (spawn would), and they load compiled kernels from
    numba's cache, which :func:`warm_up` has filled.

    Args:
        preload: Modules the fork server imports before forking workers.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["introsim.run", *preload])
        return context
    return multiprocessing.get_context("spawn")


_SHARED: list[Any] = [None]


def _init_worker(shared: Any) -> None:
    # Ctrl-C is the parent's to handle: it cancels queued work and exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _SHARED[0] = shared


def _run_chunk(func: Callable[[Any, T], R], chunk: list[T]) -> list[R]:
    return [func(_SHARED[0], task) for task in chunk]


def make_pool(jobs: int, *, shared: Any = None, preload: Sequence[str] = ()) -> ProcessPoolExecutor:
    """A warm pool of ``jobs`` worker processes (see :func:`pool_context`).

    Args:
        jobs: Number of worker processes.
        shared: Data every worker keeps for :func:`run_all`'s tasks.
        preload: Modules the fork server imports before forking workers.

    Returns:
        A ``concurrent.futures`` executor; the caller shuts it down.
    """
    return ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=pool_context(preload),
        initializer=_init_worker,
        initargs=(shared,),
    )


def run_all(
    func: Callable[[Any, T], R],
    tasks: Sequence[T],
    *,
    shared: Any,
    jobs: int,
    scenarios: Sequence[Scenario] = (),
    progress: Callable[[int, int], None] | None = None,
) -> list[R]:
    """Apply ``func(shared, task)`` to every task, in this process or in ``jobs`` workers.

    Args:
        func: A module-level function (workers import it by name).
        tasks: The tasks, small and picklable.
        shared: Data every task needs (e.g. the scenarios), sent once per worker.
        jobs: Worker processes; 1 runs everything here.
        scenarios: Scenarios whose kernels are compiled into the cache first.
        progress: Called with (done, total) as results arrive.

    Returns:
        One result per task, in task order.
    """
    total = len(tasks)
    results: list[Any] = [None] * total
    done = 0
    if progress is not None:
        progress(0, total)
    if jobs <= 1:
        for k, task in enumerate(tasks):
            results[k] = func(shared, task)
            if progress is not None:
                progress(k + 1, total)
        return results
    warm_up(scenarios)
    # Several small chunks per worker: little overhead per run, a moving progress bar,
    # and little left to finish after an error or Ctrl-C cancels the queued chunks.
    size = max(1, min(MAX_CHUNK, math.ceil(total / (jobs * 8))))
    starts = range(0, total, size)
    pool = make_pool(min(jobs, len(starts)), shared=shared, preload=[func.__module__])
    try:
        futures = {pool.submit(_run_chunk, func, list(tasks[s : s + size])): s for s in starts}
        for future in as_completed(futures):
            start = futures[future]
            chunk = future.result()
            results[start : start + len(chunk)] = chunk
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    except BaseException:
        # An error or Ctrl-C: cancel the queued chunks, let the running ones end.
        # (Not a `with` block: its own shutdown would undo the cancelling.)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results
