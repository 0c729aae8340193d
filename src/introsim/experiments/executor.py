"""Running many simulations: in this process or on a warm pool of worker processes.

The engine (:mod:`introsim.experiments.engine`) submits its tasks to this pool
or to any other ``concurrent.futures`` executor.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from introsim.params.limits import available_memory
from introsim.params.schema import Scenario
from introsim.run import simulate

__all__ = [
    "RUN_MEMORY_FACTOR",
    "available_memory",
    "make_pool",
    "memory_needed",
    "memory_problem",
    "pool_context",
    "stop_pool",
    "usable_cores",
    "warm_up",
]


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


def usable_cores() -> int:
    """Number of cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


RUN_MEMORY_FACTOR = 4.0
"""Peak memory of a run over the bytes of its state arrays.

Measured with ``/usr/bin/time -f %M introsim run`` at 200,000 participants (see
also the README's limits table): the outputs (participants table, weekly series,
Parquet buffers) and the kernels' temporaries add up to three times the state.
"""


@functools.cache
def _bytes_per_unit() -> tuple[float, float, float, float]:
    """Bytes per participant, per employer (with its vacancy slots), per specialist, per tie.

    Read from the arrays of a small model, so they follow the state's dtypes.
    """
    from introsim.model.world import build_world  # the arrays, without Mesa's import

    model = build_world(Scenario().with_overrides({"cohort.size": 100}), 0)

    def total(population: Any, ndim: int) -> int:
        return sum(a.nbytes for a in population.as_dict().values() if a.ndim == ndim)

    spec = model.specialists
    ties = spec.tie_employer.size
    return (
        total(model.refugees, 1) / len(model.refugees),
        (total(model.employers, 1) + total(model.vacancies, 1)) / len(model.employers),
        total(spec, 1) / len(spec),
        total(spec, 2) / ties,
    )


def memory_needed(scenario: Scenario) -> int:
    """Estimate the peak bytes one run of ``scenario`` needs, before allocating anything.

    Args:
        scenario: The scenario.

    Returns:
        Bytes beyond the interpreter's own: the populations' arrays times
        :data:`RUN_MEMORY_FACTOR`, on the high side of the measured peaks (0.9
        of it at 200,000 participants, 0.55 at 2,000,000).
    """
    per_participant, per_employer, per_specialist, per_tie = _bytes_per_unit()
    c, fu = scenario.cohort, scenario.follow_up
    employers = max(1, round(c.size * scenario.labour_market.employers_per_participant))
    own = fu.specialists if fu.specialists is not None else math.ceil(c.size / fu.caseload)
    staff = own + math.ceil(c.size / fu.advisor_caseload)
    ties = staff * scenario.mechanisms.ties_per_specialist
    state = (
        c.size * per_participant
        + employers * per_employer
        + staff * per_specialist
        + ties * per_tie
    )
    return int(RUN_MEMORY_FACTOR * state)


def memory_problem(scenarios: Sequence[Scenario], jobs: int = 1, retained: int = 0) -> str | None:
    """Say why runs of these scenarios would not fit in memory, or None if they would.

    Args:
        scenarios: The scenarios to run.
        jobs: Runs at the same time (each worker holds one).
        retained: Bytes of results the caller keeps while the runs go on.

    Returns:
        One line naming the largest scenario, what it needs and what is free; None if it fits.
    """
    if not scenarios:
        return None
    largest = max(scenarios, key=memory_needed)
    need = memory_needed(largest) * max(1, min(jobs, usable_cores())) + retained
    free = available_memory()
    if free is None or need <= free:
        return None
    gib = 1 << 30
    runs = f" ({jobs} runs at once)" if jobs > 1 else ""
    return (
        f"{largest.scenario.name}: needs about {need / gib:.1f} GiB{runs}, "
        f"{free / gib:.1f} GiB is available; lower cohort.size, "
        "labour_market.employers_per_participant or --jobs"
    )


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _exit_with(pid: int) -> None:
    """Make this worker end when process ``pid`` (the pool's owner) ends, however it ends.

    Workers hang on after a parent killed by SIGTERM or SIGKILL: each holds the
    write end of its own task queue, so it waits for tasks forever, and keeps the
    fork server and the resource tracker alive (and the parent's stdout open).
    The fork server, not the owner, is a worker's parent, so the kernel's
    parent-death signal alone is not enough: a thread waits on a pidfd of the owner
    (polling where there is none) and ends the worker when the owner is gone.
    """
    with contextlib.suppress(AttributeError, OSError):  # not Linux: the watcher still works
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):
        fd = None

    def watch() -> None:
        if fd is not None:
            select.select([fd], [], [])
        else:
            while _alive(pid):
                time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="introsim-owner-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _init_worker(owner: int | None = None) -> None:
    # Ctrl-C and SIGTERM are the owner's to handle: it cancels queued work and exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if owner is not None:
        _exit_with(owner)


def make_pool(jobs: int, *, preload: Sequence[str] = ()) -> ProcessPoolExecutor:
    """A warm pool of ``jobs`` worker processes (see :func:`pool_context`).

    Workers end when this process ends, even by SIGKILL, so none outlives it.

    Args:
        jobs: Number of worker processes; more than :func:`usable_cores` only
            slows the runs down and costs memory, so it is capped there.
        preload: Modules the fork server imports before forking workers.

    Returns:
        A ``concurrent.futures`` executor; the caller shuts it down.
    """
    return ProcessPoolExecutor(
        max_workers=max(1, min(jobs, usable_cores())),
        mp_context=pool_context(preload),
        initializer=_init_worker,
        initargs=(os.getpid(),),
    )


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel queued work and end the workers now (on an error, Ctrl-C or SIGTERM)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
    else:
        # Before any shutdown call: shutdown forgets the processes.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError, ValueError):
                process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)
