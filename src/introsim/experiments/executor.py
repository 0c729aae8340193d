"""Running many simulations: in this process or on a warm pool of worker processes.

The engine (:mod:`introsim.experiments.engine`) submits its tasks to this pool
or to any other ``concurrent.futures`` executor.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from introsim.params.schema import Scenario
from introsim.run import simulate

__all__ = ["make_pool", "pool_context", "usable_cores", "warm_up"]


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


def _init_worker() -> None:
    # Ctrl-C is the parent's to handle: it cancels queued work and exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_pool(jobs: int, *, preload: Sequence[str] = ()) -> ProcessPoolExecutor:
    """A warm pool of ``jobs`` worker processes (see :func:`pool_context`).

    Args:
        jobs: Number of worker processes.
        preload: Modules the fork server imports before forking workers.

    Returns:
        A ``concurrent.futures`` executor; the caller shuts it down.
    """
    return ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=pool_context(preload),
        initializer=_init_worker,
    )
