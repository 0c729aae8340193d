"""The experiment engine: tasks, run ids, and one way to run them on any executor.

Compare, sweep, sensitivity, calibration and trials all do the same thing:
make tasks (a scenario and a replicate seed), run them on an executor and
collect the outcomes. This module is that once.

* A :class:`Task` is a design point's scenario and a replicate number under a
  root seed. Replicate ``r`` has the same seed at every point (common random
  numbers), so differences between points are paired.
* Its run id hashes the model's version, the scenario, the seed and the point,
  so stored results can be found again and a rerun does only what is missing.
* :func:`run_tasks` takes any ``concurrent.futures.Executor`` (the warm
  process pool, a Dask client's executor) or none, and returns results in task
  order: they never depend on which executor ran them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import os
import shlex
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import introsim
from introsim.experiments.executor import make_pool, stop_pool, usable_cores, warm_up
from introsim.run import replicate_seed, simulate_outcomes

if TYPE_CHECKING:
    from introsim.experiments.store import RunStore

__all__ = [
    "Cube",
    "Outcome",
    "Task",
    "TaskResult",
    "executor_for",
    "model_version",
    "run_cube",
    "run_id",
    "run_tasks",
]

Outcome = dict[str, float]
BATCH = 32
"""Most tasks sent to a worker at once: small enough to balance, big enough to amortise (each
batch is one part file of the run store: at 8, writing the parts took a fifth of a 11,000-run
study's main process)."""


@dataclass(frozen=True)
class Task:
    """One run to do.

    Attributes:
        point: Index of the design point (or scenario) the run belongs to.
        replicate: Replicate number; its seed is ``replicate_seed(root_seed, replicate)``.
        scenario: A validated :class:`~introsim.params.schema.Scenario`, or any
            picklable object with a ``digest()`` method that ``evaluate`` accepts.
        root_seed: The experiment's root seed.
    """

    point: int
    replicate: int
    scenario: Any
    root_seed: int

    @property
    def seed(self) -> np.random.SeedSequence:
        """The replicate's seed: the same at every point (common random numbers)."""
        return replicate_seed(self.root_seed, self.replicate)


@dataclass(frozen=True)
class TaskResult:
    """What one task gave: its value, or the error it raised.

    Attributes:
        run_id: The task's run id.
        value: What ``evaluate`` returned (None when it raised).
        error: ``"TypeName: message"`` when it raised, else ``""``.
    """

    run_id: str
    value: Any
    error: str = ""


_SOURCES = ("model", "params/schema.py", "run.py")


@functools.cache
def model_version() -> str:
    """The package version and a hash of the model's source files.

    Stored results are keyed by it, so results made by a different model are
    never mixed with new ones.
    """
    root = Path(introsim.__file__).parent
    digest = hashlib.sha256()
    for name in _SOURCES:
        path = root / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            digest.update(f.relative_to(root).as_posix().encode())
            digest.update(f.read_bytes())
    return f"{introsim.__version__}+{digest.hexdigest()[:12]}"


def run_id(task: Task, version: str | None = None) -> str:
    """A stable id of a task: hash of model version, scenario, seed and point."""
    text = "|".join(
        (
            version or model_version(),
            task.scenario.digest(),
            str(task.root_seed),
            str(task.replicate),
            str(task.point),
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _run_batch(
    evaluate: Callable[[Any, np.random.SeedSequence], Any], batch: list[tuple[str, Task]]
) -> list[TaskResult]:
    out = []
    for rid, task in batch:
        try:
            out.append(TaskResult(rid, evaluate(task.scenario, task.seed)))
        except Exception as exc:  # recorded with the run; the experiment goes on
            text = " ".join(str(exc).split())
            out.append(TaskResult(rid, None, f"{type(exc).__name__}: {text}"[:500]))
    return out


def _warm(tasks: Sequence[Task]) -> None:
    """Compile the kernels once here, so workers load them from numba's cache."""
    from introsim.params.schema import Scenario

    by_method: dict[str, Scenario] = {}
    for t in tasks:
        if isinstance(t.scenario, Scenario):
            by_method.setdefault(t.scenario.follow_up.method, t.scenario)
    warm_up(list(by_method.values()))


def run_tasks(
    tasks: Sequence[Task],
    executor: Executor | None = None,
    *,
    evaluate: Callable[[Any, np.random.SeedSequence], Any] = simulate_outcomes,
    store: RunStore | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[TaskResult]:
    """Run every task once, on ``executor`` or in this process, and return results in order.

    Args:
        tasks: The runs to do.
        executor: Any ``concurrent.futures.Executor``; None runs them here.
        evaluate: ``evaluate(scenario, seed)``, a module-level function (workers
            import it by name); by default the run's outcomes.
        store: Where results are kept as they finish; tasks already stored are
            not run again. Its values must be dicts of numbers.
        progress: Called with (done, total) as results arrive.

    Returns:
        One :class:`TaskResult` per task, in task order.
    """
    version = model_version()
    ids = [run_id(t, version) for t in tasks]
    if len(set(ids)) < len(ids):
        raise ValueError("two tasks have the same run id (same point, scenario and replicate)")
    results: dict[str, TaskResult] = store.load(ids) if store is not None else {}
    todo = [(rid, t) for rid, t in zip(ids, tasks, strict=True) if rid not in results]
    total, done = len(tasks), len(tasks) - len(todo)
    if progress is not None:
        progress(done, total)
    size = max(1, min(BATCH, -(-len(todo) // 16)))
    batches = [todo[k : k + size] for k in range(0, len(todo), size)]

    def collect(batch_results: list[TaskResult]) -> None:
        nonlocal done
        if store is not None:
            store.write(batch_results)
        for r in batch_results:
            results[r.run_id] = r
        done += len(batch_results)
        if progress is not None:
            progress(done, total)

    if executor is None:
        for batch in batches:
            collect(_run_batch(evaluate, batch))
    elif batches:
        _warm([t for _, t in todo])
        futures: list[Future[list[TaskResult]]] = [
            executor.submit(_run_batch, evaluate, batch) for batch in batches
        ]
        try:
            for future in as_completed(futures):
                collect(future.result())
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return [results[rid] for rid in ids]


@dataclass(frozen=True)
class Cube:
    """Runs' results as labelled arrays: point × replicate × outcome.

    Attributes:
        outcomes: The outcomes along the last axis of ``values``.
        values: ``float64`` array (points, replicates, outcomes); NaN where a run
            failed or did not give the outcome.
        run_ids: (points, replicates) the runs' ids.
        errors: (points, replicates) a failed run's error, else ``""``.
        results: (points, replicates) each run's whole value (for what is not a
            number: a trial's per-participant arrays, a comparison's weekly counts).
    """

    outcomes: tuple[str, ...]
    values: np.ndarray
    run_ids: np.ndarray
    errors: np.ndarray
    results: np.ndarray

    def __getitem__(self, outcome: str) -> np.ndarray:
        """One outcome's (points, replicates) values."""
        return self.values[:, :, self.outcomes.index(outcome)]

    @property
    def failed(self) -> int:
        """How many runs raised an error."""
        return int((self.errors != "").sum())


def to_cube(tasks: Sequence[Task], results: Sequence[TaskResult], outcomes: Sequence[str]) -> Cube:
    """Place each task's result at its (point, replicate) in a :class:`Cube`."""
    shape = (max(t.point for t in tasks) + 1, max(t.replicate for t in tasks) + 1)
    values = np.full((*shape, len(outcomes)), np.nan)
    run_ids = np.full(shape, "", dtype=object)
    errors = np.full(shape, "", dtype=object)
    whole = np.full(shape, None, dtype=object)
    for task, res in zip(tasks, results, strict=True):
        at = (task.point, task.replicate)
        run_ids[at], errors[at], whole[at] = res.run_id, res.error, res.value
        got = res.value or {}
        values[at] = [float(got.get(o, np.nan)) for o in outcomes]
    return Cube(tuple(outcomes), values, run_ids, errors, whole)


def run_cube(
    tasks: Sequence[Task],
    outcomes: Sequence[str],
    executor: Executor | None = None,
    **options: Any,
) -> Cube:
    """:func:`run_tasks`, its results as a :class:`Cube` of the given outcomes.

    Args:
        tasks: The runs to do; their (point, replicate) pairs fill the cube.
        outcomes: The outcomes to hold as numbers.
        executor: Any ``concurrent.futures.Executor``; None runs them here.
        **options: ``evaluate``, ``store`` and ``progress``, as for :func:`run_tasks`.

    Returns:
        The cube.
    """
    return to_cube(tasks, run_tasks(tasks, executor, **options), outcomes)


def _prepare_worker() -> None:
    from introsim.params.schema import Scenario

    warm_up([Scenario()])


@contextlib.contextmanager
def executor_for(
    jobs: int = 1, dask: str | None = None, preload: Sequence[str] = ()
) -> Iterator[Executor | None]:
    """The executor a command asked for, shut down on leaving.

    Args:
        jobs: Worker processes for the local pool (1: run in this process), or
            workers of a Dask ``LocalCluster``.
        dask: None for the local pool; ``"local"`` to start a Dask
            ``LocalCluster``; or a scheduler address such as ``tcp://host:8786``.
        preload: Modules the local pool's fork server imports first.

    Yields:
        An executor, or None to run in this process.
    """
    if dask is None:
        if jobs <= 1:
            yield None
            return
        pool = make_pool(jobs, preload=preload)
        try:
            yield pool
        except BaseException:
            # An error, Ctrl-C or SIGTERM: nothing more is wanted from the workers.
            stop_pool(pool)
            raise
        pool.shutdown(wait=True)
        return
    client, cluster = _dask_client(dask, jobs)
    try:
        # Each worker imports the model and loads its kernels once, before any task is timed.
        client.run(_prepare_worker)
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class ExecutorError(Exception):
    """The executor asked for cannot run work (one line for the user)."""


CONNECT_S = 5.0
"""Seconds to wait for a Dask scheduler to answer."""
WORKERS_S = 10.0
"""Seconds to wait for a Dask scheduler's first worker."""


def _dask_client(dask: str, jobs: int) -> tuple[Any, Any]:
    """A Dask client (and the cluster it started, for ``local``) with at least one worker.

    Raises:
        ExecutorError: Dask is not installed, the address is not one, nothing
            answers there, or no worker joins within :data:`WORKERS_S`.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError("--dask: Dask is not installed; pip install 'introsim[dask]'") from None
    if dask == "local":
        # Workers are processes with one thread each: the kernels hold the GIL.
        cache = os.environ.get("NUMBA_CACHE_DIR")
        env = {"NUMBA_CACHE_DIR": cache} if cache else {}
        cluster = LocalCluster(
            n_workers=max(1, min(jobs, usable_cores())) if jobs > 1 else 2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
            env=env,
        )
        return Client(cluster), cluster
    scheme, sep, rest = dask.partition("://")
    host, colon, port = (rest if sep else dask).rpartition(":")
    if (sep and scheme != "tcp") or not colon or not host or not port.isdigit():
        raise ExecutorError(
            f"--dask: expected 'local' or a scheduler address such as tcp://host:8786, "
            f"found {dask!r}"
        )
    import socket

    try:  # a plain connection first: it fails at once where nothing listens
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_S).close()
    except OSError as exc:
        raise ExecutorError(
            f"--dask {dask}: no scheduler answers there ({exc.strerror or exc}); start one "
            "with `dask scheduler`, or use --dask local"
        ) from None
    try:
        client = Client(dask, timeout=f"{CONNECT_S:g}s")
    except (OSError, TimeoutError) as exc:
        raise ExecutorError(f"--dask {dask}: could not connect to a scheduler ({exc})") from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_S)
    except (OSError, TimeoutError):
        client.close()
        raise ExecutorError(
            f"--dask {dask}: the scheduler has no workers (none joined within {WORKERS_S:g} s); "
            f"start some with `dask worker {dask}`"
        ) from None
    return client, None


def provenance(command: Sequence[str] | None) -> dict[str, Any]:
    """The head every manifest starts with: versions, commit, time and the command.

    Args:
        command: The command line that produced the outputs (None where not known).

    Returns:
        ``introsim_version``, ``model_version``, ``packages``, ``git_commit``,
        ``created_utc`` and ``command``.
    """
    from introsim.output import git_commit, package_versions

    return {
        "introsim_version": package_versions(())["introsim"],
        "model_version": model_version(),
        "packages": package_versions(),
        "git_commit": git_commit(),
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": shlex.join(command) if command is not None else None,
    }
