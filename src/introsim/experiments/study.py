"""One driver for every kind of study: compare, sweep, sensitivity, trial, calibrate.

Each kind is a :class:`Study` subclass in its own module that registers itself
with :func:`register`; :func:`study_kind` finds it by name. A study says how to
load its file, what its stored runs belong to (``identity``), which scenarios
it runs (for the memory check), how to run (``run``, usually its tasks through
:meth:`Runner.run_tasks` and then its analysis), what it writes (``manifest``,
``outputs``, ``report``) and what it prints (``summary`` as data, ``show`` as
a table). A new kind of study is one new module and one line in :data:`KINDS`.

A :class:`Runner` holds what every study runs on: the executor (this process,
the warm process pool or Dask), the run store (resume after any interruption)
and the progress reporter. It is a context manager, like EMA Workbench's
evaluators, and serves the command line, notebooks and Python code alike::

    study = load_study("sweep", "experiments/levers_oat.toml")
    with Runner(jobs=2) as runner:
        sweep = study.run(runner)

:func:`drive` is the command line's whole life of a study: checks before any
work (jobs, output folder, memory), the runs, then the results published
all-or-nothing (the folder holds the old results or the new, never a mix).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

from introsim.experiments.engine import ExecutorError, Task, TaskResult, executor_for, run_tasks
from introsim.experiments.registry import COMMANDS, KINDS, CommandLine
from introsim.experiments.store import RunStore, StoreMismatch
from introsim.params.errors import StudyError
from introsim.params.schema import Scenario
from introsim.run import simulate_outcomes

__all__ = [
    "COMMANDS",
    "KINDS",
    "CommandLine",
    "Runner",
    "Study",
    "StudyError",
    "check_runs",
    "drive",
    "load_study",
    "register",
    "study_kind",
]

_REGISTRY: dict[str, type[Study]] = {}


def register(cls: type[Study]) -> type[Study]:
    """Class decorator: make a study kind findable by its :attr:`Study.kind`."""
    _REGISTRY[cls.kind] = cls
    return cls


def study_kind(kind: str) -> type[Study]:
    """The study class of a kind named in :data:`KINDS`."""
    if kind not in _REGISTRY:
        importlib.import_module(KINDS[kind])
    return _REGISTRY[kind]


def load_study(kind: str, *args: Any, **options: Any) -> Study:
    """Load a study of ``kind`` from its file(s); see each kind's :meth:`Study.load`."""
    return study_kind(kind).load(*args, **options)


class Study:
    """One study of some kind: its loaded file and what the driver needs to know of it.

    Subclasses set the class attributes and implement the methods that raise
    ``NotImplementedError``.
    """

    kind: ClassVar[str] = ""
    """The command's name, e.g. ``sweep``."""
    work: ClassVar[str] = "runs"
    """What its stored tasks are called in messages, e.g. ``site runs``."""
    stores: ClassVar[bool] = True
    """Whether its runs are kept in its folder (and resume)."""
    replaces_other: ClassVar[bool] = False
    """Whether runs of another study in its folder are discarded rather than refused
    (a comparison's folder is replaced as a whole, as it always was)."""
    files: ClassVar[tuple[str, ...]] = ()
    """What its folder holds after it ran, as printed."""
    report_module: ClassVar[str] = ""
    """The module whose ``write_report(result, path, manifest)`` writes its report."""
    manifest_options: ClassVar[tuple[str, ...]] = ("executor", "wall_time_s", "command", "resumed")
    """What of the driver's provenance its ``build_manifest`` takes."""
    build_manifest: ClassVar[Callable[..., dict[str, Any]]]
    """``build_manifest(result, **provenance)`` of its module (a ``staticmethod``)."""
    write_outputs: ClassVar[Callable[..., Any]]
    """``write_outputs(result, folder, manifest)`` of its module (a ``staticmethod``)."""

    name: str
    """The study's name (the default folder is ``out/KIND-NAME``)."""

    @classmethod
    def load(cls, *args: Any, **options: Any) -> Study:
        """Read and check the study's file(s); raise a ``ScenarioError`` (one line) if bad."""
        raise NotImplementedError

    def default_out(self) -> Path:
        """Where results go without ``--out``."""
        from introsim.output import folder_name

        return Path("out") / f"{self.kind}-{folder_name(self.name)}"

    def identity(self) -> dict[str, Any]:
        """What the folder's stored runs must belong to for the study to resume there."""
        raise NotImplementedError

    def scenarios(self) -> list[Scenario]:
        """The scenarios it runs (the memory check takes the largest)."""
        raise NotImplementedError

    def retained(self) -> int:
        """Bytes of results it keeps while running, besides the runs themselves."""
        return 0

    def cautions(self) -> list[str]:
        """Notes to print before the work starts (results that will mean little, say)."""
        return []

    def size(self) -> tuple[str, int]:
        """The progress bar's label and the number of tasks to do (at most, where not known)."""
        raise NotImplementedError

    def typical_runs(self) -> int | None:
        """The runs a typical run asks for where :meth:`size` is only a bound; else None.

        A calibration's bound is far above a typical run (its rounds of members stop once
        enough are found). The dry run says this beside the bound; the progress bar counts to it.
        """
        return None

    def run(self, runner: Runner) -> Any:
        """Run the study on ``runner`` and analyse it; return its result."""
        raise NotImplementedError

    def manifest(self, result: Any, **provenance: Any) -> dict[str, Any]:
        """``manifest.json``: what is needed to reproduce the result.

        Args:
            result: What :meth:`run` returned.
            **provenance: ``executor``, ``jobs``, ``wall_time_s``, ``command`` and
                ``resumed`` (runs found stored); :attr:`manifest_options` picks.
        """
        wanted = {k: v for k, v in provenance.items() if k in self.manifest_options}
        return type(self).build_manifest(result, **wanted)

    def outputs(self, result: Any, folder: Path, manifest: dict[str, Any]) -> None:
        """Write the result's data files and manifest into ``folder``."""
        type(self).write_outputs(result, folder, manifest)

    def report(self, result: Any, path: Path, manifest: dict[str, Any]) -> None:
        """Write the result's HTML report."""
        importlib.import_module(self.report_module).write_report(result, path, manifest)

    def warnings(self, result: Any, out: Path) -> list[str]:
        """Warnings to print after the files are written (failed runs, say)."""
        return []

    def notes(self, result: Any) -> list[str]:
        """Notes to print after the files are written (what could not be done, and why)."""
        return []

    def summary(self, result: Any, out: Path, wall: float, manifest: dict[str, Any]) -> dict:
        """The result as data for ``--json``."""
        raise NotImplementedError

    def show(self, result: Any, out: Path, wall: float) -> None:
        """Print the result for a person: a table and the files written."""
        raise NotImplementedError


class Runner:
    """What studies run on: an executor, a run store and a progress reporter.

    Args:
        jobs: Worker processes (1: this process), or workers of a Dask ``LocalCluster``.
        dask: None, ``"local"`` or a scheduler address (``tcp://host:8786``).
        store: Where runs are kept as they finish (None: not kept).
        fresh: The store was emptied first (a study with more stored work empties it too).
        progress: Called with (done, total) as runs finish.
        preload: Modules the process pool's fork server imports first.
    """

    def __init__(
        self,
        jobs: int = 1,
        dask: str | None = None,
        *,
        store: RunStore | None = None,
        fresh: bool = False,
        progress: Callable[[int, int], None] | None = None,
        preload: Sequence[str] = (),
    ) -> None:
        self.jobs, self.dask, self.store, self.progress = jobs, dask, store, progress
        self.fresh = fresh
        self.preload = ["introsim.experiments.study", *preload]
        self.executor: Executor | None = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Runner:
        if self.dask is None and self.jobs > 1:
            where = unguarded_main()
            if where is not None:
                self._one_process(
                    f'{where} starts worker processes outside `if __name__ == "__main__":`, '
                    "so each worker would run the script again"
                )
        try:
            self.executor = self._stack.enter_context(
                executor_for(self.jobs, self.dask, preload=self.preload)
            )
        except ExecutorError as exc:
            raise StudyError(str(exc)) from None
        except (OSError, RuntimeError) as exc:  # no semaphores or /dev/shm, say
            if self.dask is not None or self.jobs <= 1:
                raise
            self._one_process(f"the worker processes could not start ({exc})")
        if self.dask is None and self.executor is not None:
            try:  # workers start here, so a pool that cannot start is found before any run
                self.executor.submit(os.getpid).result()
            except (BrokenProcessPool, OSError, RuntimeError) as exc:
                self._stack.close()
                self._stack = contextlib.ExitStack()
                self.executor = None
                self._one_process(f"the worker processes could not start ({exc})")
        return self

    def _one_process(self, why: str) -> None:
        """Run in this process instead of a pool, and say why and what to do."""
        warnings.warn(
            f"introsim: {why}; running the {self.jobs} jobs' work in this one process instead. "
            'In a script, put the code that runs studies under `if __name__ == "__main__":`.',
            RuntimeWarning,
            stacklevel=3,
        )
        self.jobs = 1

    def __exit__(self, *exc: object) -> None:
        self._stack.__exit__(*exc)  # type: ignore[arg-type]

    @property
    def label(self) -> str:
        """Which executor ran the work, for manifests."""
        if self.dask:
            return f"dask {self.dask}"
        return f"{self.jobs} processes" if self.jobs > 1 else "1 process"

    @property
    def resumed(self) -> int:
        """Runs found already done in the store."""
        return self.store.reused if self.store is not None else 0

    def run_tasks(
        self,
        tasks: Sequence[Task],
        evaluate: Callable[[Any, Any], Any] = simulate_outcomes,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[TaskResult]:
        """Run tasks on this runner's executor and store (see :func:`engine.run_tasks`)."""
        return run_tasks(
            tasks,
            self.executor,
            evaluate=evaluate,
            store=self.store,
            progress=progress if progress is not None else self.progress,
        )


def unguarded_main() -> str | None:
    """Where a script starts worker processes that would run the script again, or None.

    Worker processes import the main script (Python's ``spawn`` and ``forkserver``
    start methods do), so a script that starts a pool at its top level, outside
    ``if __name__ == "__main__":``, would start one again in every worker, which
    Python refuses (``BrokenProcessPool``). Found from the line the script's top
    level is executing: inside that guard (or in a notebook, the interactive
    interpreter, ``python -m package``) all is well.

    Returns:
        ``"FILE, line N"`` of the unguarded statement, or None.
    """
    import ast

    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    spec = getattr(getattr(main, "__spec__", None), "name", None) or ""
    if main is None or path is None or spec == "__main__" or spec.endswith(".__main__"):
        return None  # workers do not import such a main module
    frame: FrameType | None = sys._getframe()
    top = None
    while frame is not None:
        if frame.f_globals is vars(main) and frame.f_code.co_name == "<module>":
            top = frame
        frame = frame.f_back
    if top is None:
        return None
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    line = top.f_lineno
    for statement in tree.body:
        if statement.lineno <= line <= (statement.end_lineno or statement.lineno):
            if isinstance(statement, ast.If) and _is_main_guard(statement.test):
                return None
            break
    return f"{path}, line {line},"


def _is_main_guard(test: Any) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    import ast

    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    sides = [test.left, *test.comparators]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    texts = [s.value for s in sides if isinstance(s, ast.Constant)]
    return isinstance(test.ops[0], ast.Eq) and names == ["__name__"] and texts == ["__main__"]


# --------------------------------------------------------------------------- checks before work
def check_out_dir(out: Path, *, replace: bool = True) -> list[str]:
    """Refuse an output folder that cannot be written, before any work is done.

    Results are staged beside the folder and published by renaming, so the
    folder's parent (or its nearest existing ancestor) must be writable, and an
    existing folder must be one introsim may replace. With ``replace`` False (a
    study's folder, which holds its stored runs and is resumed) the folder must
    be a folder or absent, and writable.

    Returns:
        Notes for the user (stale staging folders removed, say).

    Raises:
        StudyError: Why the folder cannot be used.
    """
    from introsim.output import output_folder_problem

    if not str(out).strip():
        raise StudyError("--out: expected a folder name, found an empty string")
    target = Path(os.path.realpath(out))
    probe = target.parent
    while not probe.exists():  # the nearest part of the path that exists must be a writable folder
        probe = probe.parent
    if not probe.is_dir():
        raise StudyError(f"{out}: --out cannot be created: {probe} is a file")
    try:
        name_max = os.pathconf(probe, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if any(len(os.fsencode(part)) > name_max for part in target.parts):
        raise StudyError(f"{out}: --out has a name longer than the file system's {name_max} bytes")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise StudyError(
            f"{out}: --out cannot be written: no permission in {probe}, where results are staged"
        )
    if not replace:
        if target.exists() and not target.is_dir():
            raise StudyError(f"{out}: --out must be a folder, found a file")
        if target.exists() and not os.access(target, os.W_OK | os.X_OK):
            raise StudyError(f"{out}: --out cannot be written: no permission")
        from introsim.output import clean_stale_staging

        return clean_stale_staging(target.parent)
    problem, notes = output_folder_problem(target)
    if problem is not None:
        raise StudyError(f"{out}: {problem}")
    return notes


def check_runs(study: Study) -> None:
    """Refuse a study that asks for more model runs than any study may, before any work.

    Each kind's file loader bounds what decides its size; this is the one check of the
    total every kind shares (a calibration's waves × points × replicates, say).

    Raises:
        StudyError: The study's runs (its own estimate) and the limit.
    """
    from introsim.params.limits import MAX_RUNS, count

    what, runs = study.size()
    if runs > MAX_RUNS:
        title = study.kind if study.name == study.kind else f"{study.kind} {study.name}"
        raise StudyError(
            f"{title}: the study asks for {count(runs)} model runs ({what}); at most "
            f"{count(MAX_RUNS)} are allowed"
        )


def check_memory(
    scenarios: Sequence[Scenario], jobs: int, retained: int = 0, hint: str = ""
) -> None:
    """Refuse runs that would not fit in memory, before anything is allocated.

    Raises:
        StudyError: The largest scenario's runs, ``jobs`` at a time, and what is
            retained besides (``hint`` says how to do without it) need more than is free.
    """
    from introsim.experiments.executor import memory_problem

    problem = memory_problem(list(scenarios), jobs, retained)
    if problem is not None:
        raise StudyError(problem + hint)


def capped_jobs(jobs: int, dask: str | None, note: Callable[[str], None]) -> int:
    """``--jobs`` checked, and at most the usable cores for the local pool (more only slows)."""
    from introsim.experiments.executor import usable_cores

    if jobs < 1:
        raise StudyError(f"--jobs: expected an integer >= 1, found {jobs}")
    cores = usable_cores()
    if dask is None and jobs > cores:
        note(f"--jobs {jobs} is more than the {cores} usable cores; using {cores}")
        return cores
    return jobs


# --------------------------------------------------------------------------- a dry run
def dry_run(
    study: Study,
    *,
    jobs: int = 1,
    dask: str | None = None,
    note: Callable[[str], None] = lambda text: None,
) -> dict[str, Any]:
    """What a study would run and about how long it would take, without running it.

    The checks before any work are made (jobs, memory); then three runs of the
    study's largest scenario are timed here, after loading the compiled kernels,
    and the estimate is their median for every run, ``jobs`` at a time on free
    cores (a busy machine is said to be so).

    Returns:
        ``{"study", "name", "runs", "typical_runs", "what", "jobs", "seconds_per_run",
        "estimate_s", "load", "text"}`` (``typical_runs`` None where ``runs`` is exact).

    Raises:
        StudyError: A check failed (one line).
    """
    import statistics

    from introsim.experiments.executor import memory_needed, usable_cores, warm_up

    jobs = capped_jobs(jobs, dask, note)
    check_runs(study)
    scenarios = study.scenarios()
    check_memory(scenarios, jobs, study.retained())
    what, runs = study.size()
    largest = max(scenarios, key=memory_needed)
    warm_up([largest])  # numba's cache loaded once, as the workers' warm-up does
    times = []
    for seed in range(3):
        t0 = time.perf_counter()
        simulate_outcomes(largest, seed)
        times.append(time.perf_counter() - t0)
    per_run = statistics.median(times)
    estimate = runs * per_run / max(1, jobs)
    workers = "Dask workers" if dask else "processes" if jobs > 1 else "process"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    cores = usable_cores()
    busy = (
        f" This machine is busy now (load {load:.1f} on {cores} cores): expect longer."
        if load > cores
        else ""
    )
    title = study.kind if study.name == study.kind else f"{study.kind} {study.name}"
    took = f"{per_run:.2f} s" if per_run >= 0.1 else f"{1000 * per_run:.0f} ms"
    typical = study.typical_runs()
    usually = (
        f" Most ask for far fewer: about {typical} runs ({_duration(typical * per_run / jobs)}) "
        "is typical."
        if typical is not None
        else ""
    )
    text = (
        f"{title}: {what} = {runs} runs. A run of the largest scenario "
        f"({largest.scenario.name}) takes {took} here, so the runs would take about "
        f"{_duration(estimate)} on {jobs} {workers} with cores to themselves (the simulation "
        "alone; runs already stored in the output folder are not run again)." + usually + busy
    )
    return {
        "study": study.kind,
        "name": study.name,
        "runs": runs,
        "typical_runs": typical,
        "what": what,
        "jobs": jobs,
        "seconds_per_run": round(per_run, 4),
        "estimate_s": round(estimate, 1),
        "load": round(load, 2),
        "text": text,
    }


def _duration(seconds: float) -> str:
    """A duration for people: ``40 s``, ``12 min``, ``3.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# --------------------------------------------------------------------------- the whole life
def drive(
    study: Study,
    *,
    out: Path | None,
    jobs: int = 1,
    dask: str | None = None,
    fresh: bool = False,
    note: Callable[[str], None] = lambda text: None,
    progress: Callable[..., contextlib.AbstractContextManager[Callable[[int, int], None]]]
    | None = None,
    command: Sequence[str] | None = None,
) -> tuple[Any, Path, float, dict[str, Any]]:
    """Check, run and publish a study; the command line's whole handling of one.

    Args:
        study: The loaded study.
        out: Its folder (None: :meth:`Study.default_out`).
        jobs: Worker processes, or Dask workers for ``--dask local``.
        dask: None, ``"local"`` or a scheduler address.
        fresh: Discard the runs stored in ``out`` first.
        note: Prints a line of information.
        progress: ``progress(label, total)``, a context manager yielding the tick.
        command: The command line, for the manifest.

    Returns:
        The result, the folder, the wall time and the manifest written.

    Raises:
        StudyError: One line for the user; nothing was published.
        KeyboardInterrupt: Ctrl-C or SIGTERM; finished runs stay stored.
    """
    from introsim.output import staged_output, staged_study

    out = study.default_out() if out is None else out
    jobs = capped_jobs(jobs, dask, note)
    check_runs(study)
    check_memory(study.scenarios(), jobs, study.retained())
    for line in [*check_out_dir(out, replace=not study.stores), *study.cautions()]:
        note(line)
    store = RunStore(out) if study.stores else None
    label, total = study.size()
    total = study.typical_runs() or total  # a bound far above a typical run would mislead
    t0 = time.perf_counter()
    try:
        with (
            progress(label, total)
            if progress is not None
            else contextlib.nullcontext(None) as tick,
            Runner(
                jobs, dask, store=store, fresh=fresh, progress=tick, preload=[KINDS[study.kind]]
            ) as runner,
        ):
            if store is not None:  # after the executor: a bad --dask leaves nothing behind
                store.open(study.identity(), fresh=fresh, replace_other=study.replaces_other)
            result = study.run(runner)
    except StoreMismatch as exc:  # the folder's stored runs cannot be used (named)
        raise StudyError(str(exc)) from None
    except OSError as exc:
        raise StudyError(f"{out}: could not write the results: {exc.strerror or exc}") from None
    finally:
        for line in store.notes if store is not None else []:
            note(line)
    wall = time.perf_counter() - t0
    manifest = study.manifest(
        result,
        executor=runner.label,
        jobs=jobs,
        wall_time_s=round(wall, 3),
        command=list(command) if command is not None else None,
        resumed=runner.resumed,
    )
    try:
        with staged_study(out) if study.stores else staged_output(out) as stage:
            study.outputs(result, stage, manifest)
            study.report(result, stage / "report.html", manifest)
    except OSError as exc:
        raise StudyError(f"{out}: could not write the results: {exc.strerror or exc}") from None
    return result, out, wall, manifest
