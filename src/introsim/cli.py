"""The command line: ``introsim run``, ``validate``, ``compare``, ``sweep``, ``trial`` and more.

Bad input is answered with one line on stderr naming the file and field, exit
status 2, no traceback, and no output files.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from introsim import __version__
from introsim.model.outcomes import OUTCOME_INFO, OUTCOMES
from introsim.params.errors import InputError
from introsim.params.loader import load_scenario, load_scenario_with
from introsim.params.schema import Scenario
from introsim.params.text import visible
from introsim.reporting.format import format_value

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from concurrent.futures import Executor

    from introsim.experiments.compare import Comparison
    from introsim.experiments.store import RunStore
    from introsim.experiments.sweep import Sweep
    from introsim.experiments.trial import TrialResult

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Simulate Norway's introduction programme for refugees and compare follow-up policies.",
)
BAD_INPUT = 2


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"introsim {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            metavar="",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Simulate Norway's introduction programme for refugees and compare follow-up policies."""


err_console = Console(stderr=True, highlight=False)


def printable(text: object) -> str:
    """Text safe to print on a terminal: control, format and invisible characters escaped."""
    return visible(text)


def shown(name: str) -> str:
    """A user's text for a rich table: printable, and ``[...]`` not taken for markup."""
    return rich_escape(printable(name))


def fail(message: str) -> NoReturn:
    """Print one line to stderr and exit with status 2 (bad input)."""
    err_console.print(f"error: {printable(message)}", markup=False, soft_wrap=True)
    raise typer.Exit(BAD_INPUT)


def load_or_fail(path: Path, sets: dict[str, object] | None = None) -> Scenario:
    """Load a scenario (with ``--set`` overrides), or exit with its one-line error."""
    try:
        if sets:
            return load_scenario_with(path, sets, source="--set")
        return load_scenario(path)
    except InputError as e:
        fail(str(e))


def note(message: str) -> None:
    """Print one line of information to stderr (not an error)."""
    err_console.print(f"note: {printable(message)}", markup=False, soft_wrap=True)


def out_option(value: str) -> Path:
    """Turn the ``--out`` text into a path, refusing an empty one (it would mean ``.``)."""
    if not value.strip():
        fail("--out: expected a folder name, found an empty string")
    return Path(value)


def check_out_dir(out: Path, *, replace: bool = True) -> None:
    """Refuse an output folder that cannot be written, before any work is done.

    Results are staged beside the folder and published by renaming, so the
    folder's parent (or its nearest existing ancestor) must be writable, and an
    existing folder must be one introsim may replace. With ``replace`` False (a
    sweep's folder, which holds its stored runs and is resumed, not replaced)
    only writability is checked.
    """
    from introsim.output import output_folder_problem

    target = Path(os.path.realpath(out))
    probe = target.parent
    while not probe.exists():  # the nearest part of the path that exists must be a writable folder
        probe = probe.parent
    if not probe.is_dir():
        fail(f"{out}: --out cannot be created: {probe} is a file")
    try:
        name_max = os.pathconf(probe, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if any(len(os.fsencode(part)) > name_max for part in target.parts):
        fail(f"{out}: --out has a name longer than the file system's {name_max} bytes")
    if not os.access(probe, os.W_OK | os.X_OK):
        fail(f"{out}: --out cannot be written: no permission in {probe}, where results are staged")
    if not replace:
        if target.exists() and not os.access(target, os.W_OK | os.X_OK):
            fail(f"{out}: --out cannot be written: no permission")
        return
    problem, notes = output_folder_problem(target)
    for line in notes:
        note(line)
    if problem is not None:
        fail(f"{out}: {problem}")


def capped_jobs(jobs: int) -> int:
    """``--jobs``, at most the usable cores (more only slows the runs and costs memory)."""
    from introsim.experiments.executor import usable_cores

    cores = usable_cores()
    if jobs > cores:
        note(f"--jobs {jobs} is more than the {cores} usable cores; using {cores}")
        return cores
    return jobs


def check_memory(
    scenarios: list[Scenario], jobs: int, retained: int = 0, *, hint: str = ""
) -> None:
    """Refuse runs that would not fit in memory, before anything is allocated.

    ``retained`` is what the caller keeps besides the runs (results, a history
    panel); ``hint`` is added to the message to say how to do without it.
    """
    from introsim.experiments.executor import memory_problem

    problem = memory_problem(scenarios, jobs, retained)
    if problem is not None:
        fail(problem + hint)


def publish_failed(out: Path, err: OSError) -> NoReturn:
    """Report an output folder that could not be written after all (one line, nothing left)."""
    fail(f"{out}: could not write the results: {err.strerror or err}")


def parse_sets(items: list[str] | None) -> dict[str, object]:
    """Turn ``--set dotted.path=value`` options into overrides, or exit with one line."""
    from introsim.params.loader import parse_sets as parse

    try:
        return parse(items or [])
    except InputError as e:
        fail(str(e))


JobsOption = Annotated[
    int, typer.Option("--jobs", "-j", help="Worker processes (results do not depend on it).")
]
DaskOption = Annotated[
    str | None,
    typer.Option(
        help="Run on Dask: 'local' starts a LocalCluster, or a scheduler address "
        "such as tcp://host:8786 (needs the dask extra).",
    ),
]
FreshOption = Annotated[
    bool,
    typer.Option("--fresh", metavar="", help="Discard runs stored in --out and start again."),
]


SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Override a parameter, e.g. --set follow_up.caseload=10 (repeatable; "
        "`introsim params` lists the paths).",
    ),
]


EnsembleOption = Annotated[
    Path | None,
    typer.Option(
        "--ensemble",
        help="Parameter ensemble (ensemble.toml or best.toml from `introsim calibrate`): "
        "replicate r runs with member r mod K, so intervals include parameter uncertainty.",
    ),
]


def load_ensemble_or_fail(
    path: Path | None, scenario_paths: list[Path], sets: dict, points: Sequence[Any] = ()
) -> Any:
    """Read an ensemble and check every member on every scenario file and design point.

    Exits with one line at the first member that makes a scenario invalid, before any run.
    """
    from introsim.params.ensemble_file import load_checked

    try:
        return load_checked(path, scenario_paths, sets, points)
    except InputError as e:
        fail(str(e))


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    seed: Annotated[
        int | None, typer.Option(help="Seed (default: the scenario's \\[scenario] seed).")
    ] = None,
    out: Annotated[
        str | None, typer.Option(help="Output folder (default: out/SCENARIO-NAME).")
    ] = None,
    json_out: Annotated[
        bool,
        typer.Option("--json", metavar="", help="Print summary.json to stdout instead of a table."),
    ] = False,
    sets: SetOption = None,
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            metavar="",
            help="Also write history.parquet: one row per participant and week "
            "(status, phase, in programme, in work, subsidised, in education, language).",
        ),
    ] = False,
) -> None:
    """Run one scenario; write weekly and participants tables (Parquet and CSV) and summary.json.

    With --history, also history.parquet: every participant's status week by week.
    """
    from introsim.output import (
        folder_name,
        git_commit,
        json_text,
        package_versions,
        staged_output,
        write_csv,
        write_json,
        write_parquet,
    )
    from introsim.run import history_memory, simulate

    sc = load_or_fail(scenario, parse_sets(sets))
    if seed is not None and seed < 0:
        fail(f"--seed: expected a non-negative integer, found {seed}")
    out_dir = out_option(out) if out is not None else Path("out") / folder_name(sc.scenario.name)
    if history:
        panel = history_memory(sc)
        hint = f"; the --history panel alone needs about {panel / (1 << 30):.1f} GiB"
        check_memory([sc], jobs=1, retained=panel, hint=hint)
    else:
        check_memory([sc], jobs=1)
    check_out_dir(out_dir)
    run_seed = seed if seed is not None else sc.scenario.seed

    t0 = time.perf_counter()
    result = simulate(sc, run_seed, history=history)
    wall = time.perf_counter() - t0
    summary = {
        "scenario": sc.scenario.name,
        "seed": run_seed,
        "introsim_version": __version__,
        "scenario_hash": sc.digest(),
        "outcomes": {k: result.summary[k] for k in OUTCOMES},
        "costs": {k: v for k, v in result.summary.items() if k not in OUTCOMES},
        "participants": sc.cohort.size,
        "weeks": sc.scenario.weeks,
        "packages": package_versions(),
        "git_commit": git_commit(),
    }
    try:
        with staged_output(out_dir) as stage:
            for table, df in (("weekly", result.weekly), ("participants", result.participants)):
                write_parquet(df, stage / f"{table}.parquet")
                write_csv(df, stage / f"{table}.csv")  # for spreadsheets
            if result.history is not None:
                # Parquet only: the panel is for analysis code; as CSV it is 7 times larger.
                write_parquet(result.history, stage / "history.parquet")
            write_json(summary, stage / "summary.json")
    except OSError as e:
        publish_failed(out_dir, e)

    if json_out:
        sys.stdout.write(json_text(summary) + "\n")
        return
    console = Console()
    table = Table(
        title=f"{shown(sc.scenario.name)}: {sc.cohort.size} participants, "
        f"{sc.scenario.weeks} weeks, seed {run_seed}"
    )
    table.add_column("outcome")
    table.add_column("value", justify="right")
    table.add_column("meaning")
    for name in OUTCOMES:
        table.add_row(name, format_value(name, result.summary[name]), OUTCOME_INFO[name].label)
    console.print(table)
    extra = ", history.parquet" if history else ""
    console.print(
        f"wrote {printable(out_dir)}/weekly.parquet, participants.parquet, weekly.csv, "
        f"participants.csv{extra}, summary.json ({wall:.2f} s)",
        markup=False,
    )


@app.command()
def validate(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Scenario, experiment, trial, calibration, targets or ensemble files to check."
        ),
    ],
) -> None:
    """Check input files of any kind; print 'ok' per good file, one error line per bad one."""
    from introsim.experiments.checks import check_file

    bad = 0
    for path in files:
        try:
            what = check_file(path)
        except InputError as e:
            err_console.print(f"error: {printable(e)}", markup=False, soft_wrap=True)
            bad += 1
        else:
            typer.echo(f"{printable(path)}: ok ({printable(what)})")
    if bad:
        raise typer.Exit(BAD_INPUT)


@app.command("compare")
def compare_command(
    scenarios: Annotated[
        list[Path],
        typer.Argument(help="Two or more scenario TOML files; the first is the reference."),
    ],
    replications: Annotated[
        int, typer.Option("--replications", "-r", help="Replicates per scenario (at least 2).")
    ] = 30,
    jobs: JobsOption = 1,
    seed: Annotated[
        int | None,
        typer.Option(help="Root seed (default: the first scenario's \\[scenario] seed)."),
    ] = None,
    out_text: Annotated[str, typer.Option("--out", help="Output folder.")] = "out/compare",
    json_out: Annotated[
        bool,
        typer.Option("--json", metavar="", help="Print the comparison as JSON instead of a table."),
    ] = False,
    sets: SetOption = None,
    ensemble_path: EnsembleOption = None,
) -> None:
    """Compare scenarios over replicates with common random numbers; write tables and a report.

    Replicate r uses the same seed in every scenario, so differences from the
    first scenario are paired. Writes replicates, weekly and subgroups tables
    (Parquet and CSV), comparison.csv, manifest.json and report.html.
    """
    overrides = parse_sets(sets)
    loaded = [load_or_fail(path, overrides) for path in scenarios]
    if len(loaded) < 2:
        fail(f"compare: expected at least 2 scenario files, found {len(loaded)}")
    seen: dict[str, Path] = {}
    for path, sc in zip(scenarios, loaded, strict=True):
        name = sc.scenario.name
        if name in seen:
            fail(
                f"{path}: [scenario] name {name!r} is also the name of {seen[name]}; "
                "give each compared scenario a distinct name"
            )
        seen[name] = path
    from introsim.experiments.compare import MAX_REPLICATIONS, results_memory

    if not 2 <= replications <= MAX_REPLICATIONS:
        most = MAX_REPLICATIONS
        fail(f"--replications: expected an integer from 2 to {most}, found {replications}")
    if jobs < 1:
        fail(f"--jobs: expected an integer >= 1, found {jobs}")
    if seed is not None and seed < 0:
        fail(f"--seed: expected a non-negative integer, found {seed}")
    ensemble = load_ensemble_or_fail(ensemble_path, list(scenarios), overrides)
    out = out_option(out_text)
    jobs = capped_jobs(jobs)
    check_memory(loaded, jobs=jobs, retained=results_memory(loaded, replications))
    check_out_dir(out)

    from introsim.experiments.compare import DATA_FILES, build_manifest, compare, write_outputs
    from introsim.experiments.statistics import MIN_REPLICATES
    from introsim.output import staged_output
    from introsim.progress import progress_reporter
    from introsim.reporting.compare_report import write_report

    if replications < MIN_REPLICATES:  # after every check: bad input still gets one line
        note(
            f"with {replications} replicates the 95 % intervals are too uncertain to mean "
            f"much; use --replications {MIN_REPLICATES} or more"
        )
    t0 = time.perf_counter()
    label = f"{len(loaded)} scenarios × {replications} replicates"
    with progress_reporter(label, len(loaded) * replications, console=err_console) as tick:
        try:
            result = compare(
                loaded, replications, seed, jobs=jobs, progress=tick, ensemble=ensemble
            )
        except KeyboardInterrupt as e:
            err_console.print("interrupted: nothing written", markup=False)
            raise typer.Exit(128 + signal.SIGTERM if isinstance(e, Terminated) else 130) from None
    wall = time.perf_counter() - t0
    manifest = build_manifest(
        result,
        scenarios,
        jobs=jobs,
        wall_time_s=round(wall, 3),
        command=["introsim", *sys.argv[1:]],
    )
    try:
        with staged_output(out) as stage:
            write_outputs(result, stage, manifest)
            write_report(result, stage / "report.html", manifest)
    except OSError as e:
        publish_failed(out, e)

    if json_out:
        data = result.to_json()
        data["out"] = str(out)
        print_json(data)
        return
    print_comparison(result)
    Console().print(
        f"wrote {printable(out)}/ {', '.join(DATA_FILES)}, report.html "
        f"({len(loaded) * replications} runs in {wall:.1f} s)",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def print_comparison(result: Comparison) -> None:
    """Print a comparison as a table: means with 95 % intervals, and paired differences.

    Clear differences carry a symbol as well as a colour (✓ better, ✗ worse). The
    cost-effectiveness rows say "dominant" or "dominated" rather than show a
    negative or meaningless ratio.
    """
    from introsim.experiments.compare import COMPARISON_OUTCOMES, INFO, RATIOS, REPLICATE_OUTCOMES
    from introsim.model.outcomes import COST_PARTS
    from introsim.reporting.compare_report import MARKS, STATUS_TEXT, verdict
    from introsim.reporting.format import excludes_zero, format_interval, format_number

    ref = result.reference
    table = Table(
        title=f"{len(result.names)} scenarios, {result.replications} replicates each, root seed "
        f"{result.root_seed}: mean [95 % interval]; differences paired by replicate",
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

    def level(outcome: str, name: str) -> str:
        r = result.row(name, outcome)
        if r is None:
            return "–"
        ci = format_interval(unit_of(outcome), r["ci_low"], r["ci_high"])
        return format_value(unit_of(outcome), r["mean"]) + (f"\n[dim]{ci}[/dim]" if ci else "")

    def diff(outcome: str, name: str) -> str:
        r = result.row(name, outcome)
        if r is None:
            return "–"
        if outcome in RATIOS and r["status"] != "ratio":
            style = {"dominant": "green", "dominated": "red"}.get(r["status"], "dim")
            mark = {"dominant": "✓ ", "dominated": "✗ "}.get(r["status"], "")
            return f"[{style}]{mark}{STATUS_TEXT.get(r['status'], r['status'])}[/{style}]"
        u = unit_of(outcome)
        ci = format_interval(u, r["diff_low"], r["diff_high"], signed=True)
        text = format_number(u, r["diff"], signed=True)
        if INFO.get(u) is not None and INFO[u].unit == "share" and text != "–":
            text += " pp"
        v = verdict(outcome, r["diff"], r["diff_low"], r["diff_high"])
        style = {"better": "green", "worse": "red"}.get(v, "")
        if v in MARKS:
            text = f"{MARKS[v][0]} {text}"
        if outcome in COMPARISON_OUTCOMES and excludes_zero(r["diff_low"], r["diff_high"]):
            style = "bold"
        if style:
            text = f"[{style}]{text}[/{style}]"
        return text + (f"\n[dim]{ci}[/dim]" if ci else "")

    outcomes = list(REPLICATE_OUTCOMES)
    for outcome in outcomes:
        label = f"  {outcome}" if outcome in COST_PARTS else outcome
        cells = [level(outcome, n) for n in result.names]
        cells += [diff(outcome, n) for n in result.names[1:]]
        table.add_row(label, *cells, end_section=outcome == outcomes[-1])
    for outcome in COMPARISON_OUTCOMES:
        cells = ["–"] * len(result.names) + [diff(outcome, n) for n in result.names[1:]]
        table.add_row(outcome, *cells)
    console = Console(highlight=False)
    if not console.is_terminal:  # piped or redirected: do not squeeze into 80 columns
        console = Console(highlight=False, width=max(console.width, 200))
    console.print(table)
    if result.ensemble is not None:
        console.print(
            f"Intervals include parameter uncertainty: replicate r ran with member r mod "
            f"{result.ensemble['members']} of the ensemble {result.ensemble['file']}.",
            soft_wrap=True,
        )
    console.print(
        "Shares in %, differences in percentage points (pp), costs in NOK per participant over "
        "the horizon; person_years_in_work: years in work per participant over the horizon.\n"
        "extra_person_years_in_work, extra_employed_12m: per cohort.\n"
        "cost_per_extra_person_year_nok: difference in cost / difference in years in work, both "
        "over the horizon, with Fieller's 95 % interval; cost_per_extra_job_nok: the 12-month "
        "figure (cost over the horizon / extra persons in work at 12 months).\n"
        "dominant: clearly cheaper and clearly more in work; dominated: clearly dearer and "
        "clearly fewer in work.\n✓ green / ✗ red: clearly better / worse (the 95 % interval "
        "excludes zero).",
        style="dim",
    )


@dataclass
class StoredWork:
    """What a command that stores its runs works with (see :func:`stored_work`)."""

    store: RunStore
    executor: Executor | None
    tick: Callable[[int, int], None]
    resumed: int


def dask_or_fail(dask: str | None) -> None:
    """Refuse ``--dask`` when Dask is not installed."""
    if dask is None:
        return
    try:
        import distributed  # noqa: F401
    except ImportError:
        fail("--dask: Dask is not installed; pip install 'introsim[dask]'")


def executor_label(jobs: int, dask: str | None) -> str:
    """Which executor ran the work, for manifests."""
    if dask:
        return f"dask {dask}"
    return f"{jobs} processes" if jobs > 1 else "1 process"


@contextlib.contextmanager
def stored_work(
    out_dir: Path,
    identity: dict[str, Any],
    *,
    fresh: bool,
    jobs: int,
    dask: str | None,
    preload: list[str],
    label: str,
    total: int,
    what: str = "runs",
) -> Iterator[StoredWork]:
    """Open the store in ``out_dir``, start the executor and the progress reporter.

    The folder is resumed, never replaced; a folder of another experiment is
    refused (or emptied with ``fresh``). Ctrl-C or SIGTERM keeps what finished
    and says how to resume; a folder that cannot be written is one line.
    """
    from introsim.experiments.engine import executor_for
    from introsim.experiments.store import RunStore, StoreMismatch
    from introsim.progress import progress_reporter

    check_out_dir(out_dir, replace=False)
    store = RunStore(out_dir)
    try:
        resumed = store.open(identity, fresh=fresh)
    except StoreMismatch as e:
        fail(str(e))
    except OSError as e:
        publish_failed(out_dir, e)
    try:
        with (
            progress_reporter(label, total, console=err_console) as tick,
            executor_for(jobs, dask, preload=preload) as ex,
        ):
            yield StoredWork(store, ex, tick, resumed)
    except KeyboardInterrupt as e:
        err_console.print(
            f"interrupted: finished {what} are kept in {out_dir}; run the same command to resume",
            markup=False,
        )
        raise typer.Exit(128 + signal.SIGTERM if isinstance(e, Terminated) else 130) from None
    except OSError as e:
        publish_failed(out_dir, e)


def publish_study(
    out_dir: Path,
    result: Any,
    *,
    build_manifest: Callable[..., dict[str, Any]],
    write_outputs: Callable[[Any, Path, dict[str, Any]], None],
    write_report: Callable[[Any, Path, dict[str, Any]], None],
    executor: str,
    wall: float,
    warnings: Sequence[str] = (),
    **manifest_extra: Any,
) -> dict[str, Any]:
    """Write a stored study's tables, manifest and report, then its warnings.

    The one tail of sweep, sensitivity, trial and calibrate: a folder that cannot
    be written is one line (exit 2); warnings go to stderr after the files.

    Returns:
        The manifest written.
    """
    manifest = build_manifest(
        result,
        executor=executor,
        wall_time_s=round(wall, 3),
        command=["introsim", *sys.argv[1:]],
        **manifest_extra,
    )
    try:
        write_outputs(result, out_dir, manifest)
        write_report(result, out_dir / "report.html", manifest)
    except OSError as e:
        publish_failed(out_dir, e)
    for line in warnings:
        err_console.print(f"warning: {line}", markup=False)
    return manifest


def failed_runs(failed: int, runs: int, out_dir: Path, consequence: str = "") -> list[str]:
    """The warning for runs that raised (none when none did), pointing to their errors."""
    if not failed:
        return []
    also = f"; {consequence}" if consequence else ""
    return [
        f"{failed} of {runs} runs failed{also}; the errors are in {out_dir}/runs.csv (column error)"
    ]


def print_json(data: dict[str, Any]) -> None:
    """Print a command's ``--json`` answer on stdout."""
    from introsim.output import json_text

    sys.stdout.write(json_text(data) + "\n")


@app.command()
def sweep(
    experiment: Annotated[Path, typer.Argument(help="Experiment TOML file (see experiments/).")],
    out_text: Annotated[
        str | None,
        typer.Option("--out", help="Output folder (default: out/sweep-EXPERIMENT-NAME)."),
    ] = None,
    jobs: JobsOption = 1,
    dask: DaskOption = None,
    fresh: FreshOption = False,
    sets: SetOption = None,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json", metavar="", help="Print the points table as JSON instead of a table."
        ),
    ] = False,
    ensemble_path: EnsembleOption = None,
) -> None:
    """Run an experiment's design points over common-random-number replicates.

    Results are stored as they finish; the same command after an interruption
    runs only what is missing. Writes runs.parquet/.csv, points.parquet/.csv,
    manifest.json and report.html.
    """
    from introsim.experiments.design import load_experiment
    from introsim.experiments.sweep import (
        build_manifest,
        run_sweep,
        store_identity,
        write_outputs,
    )
    from introsim.output import folder_name
    from introsim.reporting.sweep_report import write_report

    if jobs < 1:
        fail(f"--jobs: expected an integer >= 1, found {jobs}")
    try:
        design = load_experiment(experiment, overrides=parse_sets(sets))
    except InputError as e:
        fail(str(e))
    ensemble = load_ensemble_or_fail(ensemble_path, [design.base_path], design.sets, design.points)
    dask_or_fail(dask)
    if out_text is None:
        out_dir = Path("out") / f"sweep-{folder_name(design.meta.name)}"
    else:
        out_dir = out_option(out_text)
    if dask is None:
        jobs = capped_jobs(jobs)
    check_memory([p.scenario for p in design.points], jobs=jobs)
    t0 = time.perf_counter()
    with stored_work(
        out_dir,
        store_identity(design, ensemble),
        fresh=fresh,
        jobs=jobs,
        dask=dask,
        preload=["introsim.experiments.sweep"],
        label=f"{len(design.points)} points × {design.meta.replications} replicates",
        total=design.run_count,
    ) as work:
        result = run_sweep(
            design, work.executor, store=work.store, progress=work.tick, ensemble=ensemble
        )
    wall = time.perf_counter() - t0
    failed = failed_runs(result.failed, len(result.runs), out_dir)
    publish_study(
        out_dir,
        result,
        build_manifest=build_manifest,
        write_outputs=write_outputs,
        write_report=write_report,
        executor=executor_label(jobs, dask),
        wall=wall,
        warnings=failed,
        resumed=work.resumed,
    )
    if json_out:
        print_json(
            {
                "out": str(out_dir),
                "runs": len(result.runs),
                "failed": result.failed,
                "points": result.points.to_dict("records"),
            }
        )
        return
    print_sweep(result)
    Console().print(
        f"wrote {out_dir}/ runs.parquet, points.parquet, points.csv, manifest.json, report.html "
        f"({len(result.runs)} runs in {wall:.1f} s)",
        highlight=False,
        soft_wrap=True,
    )


def print_sweep(result: Sweep) -> None:
    """Print the sweep's chosen outcomes per point: mean [95 % interval] and difference."""
    from introsim.reporting.format import format_interval

    outcomes = list(result.design.meta.outcomes)
    table = Table(
        title=f"{result.design.meta.name}: {len(result.design.points)} points × "
        f"{result.design.meta.replications} replicates; mean [95 % interval], "
        "difference from the base paired by replicate",
    )
    table.add_column("point", no_wrap=True)
    for o in outcomes:
        table.add_column(o, justify="right")
    pts = result.points
    for p in result.design.points:
        cells = []
        for o in outcomes:
            r = pts[(pts["point"] == p.index) & (pts["outcome"] == o)].iloc[0]
            text = format_value(o, r["mean"])
            ci = format_interval(o, r["ci_low"], r["ci_high"])
            cells.append(text + (f" {ci}" if ci else ""))
        table.add_row(p.label, *cells)
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=max(console.width, 200))
    console.print(table)


@app.command()
def params(
    fmt: Annotated[str, typer.Option("--format", help="table, markdown, csv or json.")] = "table",
) -> None:
    """List every scenario parameter: dotted path, default, unit, bounds, meaning, source."""
    from introsim.params.catalog import iter_params, params_table

    if fmt not in ("table", "markdown", "csv", "json"):
        fail(f"--format: expected one of table, markdown, csv, json, found {fmt!r}")
    if fmt != "table":
        sys.stdout.write(params_table(fmt))
        return
    table = Table(title="Scenario parameters (set in a scenario file, or with --set PATH=VALUE)")
    for col in ("path", "default", "unit", "bounds", "meaning", "source"):
        table.add_column(col, overflow="fold")
    for p in iter_params():
        table.add_row(p.path, p.default_text(), p.unit, p.bounds_text(), p.meaning, p.source or "")
    Console(highlight=False).print(table)


@app.command()
def trial(
    trial_file: Annotated[Path, typer.Argument(help="Trial TOML file (see experiments/).")],
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: out/trial-TRIAL-NAME).")
    ] = None,
    jobs: JobsOption = 1,
    dask: DaskOption = None,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh", metavar="", help="Discard site runs stored in --out and start again."
        ),
    ] = False,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json", metavar="", help="Print the power table as JSON instead of a table."
        ),
    ] = False,
) -> None:
    """Simulate a randomised trial many times at each sample size: power, bias, coverage.

    Every site is simulated under both arms with common random numbers, so each
    participant's true effect is known; simulated trials drawn from these sites
    are analysed by intention to treat, per protocol and IV (CACE). Site runs are
    stored as they finish; the same command after an interruption runs only what
    is missing. Writes trials.parquet, power.csv, manifest.json and report.html.
    """
    from introsim.experiments.trial import (
        build_manifest,
        run_trial,
        store_identity,
        write_outputs,
    )
    from introsim.output import folder_name
    from introsim.params.trial_file import load_trial
    from introsim.reporting.trial_report import write_report

    if jobs < 1:
        fail(f"--jobs: expected an integer >= 1, found {jobs}")
    try:
        spec = load_trial(trial_file)
    except InputError as e:
        fail(str(e))
    dask_or_fail(dask)
    out_dir = out if out is not None else Path("out") / f"trial-{folder_name(spec.meta.name)}"
    if dask is None:
        jobs = capped_jobs(jobs)
    sites = spec.recruitment.sites
    t0 = time.perf_counter()
    try:
        with stored_work(
            out_dir,
            store_identity(spec),
            fresh=fresh,
            jobs=jobs,
            dask=dask,
            preload=["introsim.experiments.trial"],
            label=f"{sites} sites × 2 arms",
            total=2 * sites,
            what="site runs",
        ) as work:
            result = run_trial(spec, work.executor, store=work.store, progress=work.tick)
    except RuntimeError as e:
        fail(f"{trial_file}: {e}")
    wall = time.perf_counter() - t0
    failed = result.population.failed
    publish_study(
        out_dir,
        result,
        build_manifest=build_manifest,
        write_outputs=write_outputs,
        write_report=write_report,
        executor=executor_label(jobs, dask),
        wall=wall,
        warnings=[f"{len(failed)} site runs failed and were left out; see {out_dir}/manifest.json"]
        if failed
        else [],
        resumed=work.resumed,
    )
    for line in result.notes:
        note(line)
    if json_out:
        print_json(
            {
                "out": str(out_dir),
                "truths": result.truths,
                "icc": result.icc,
                "n_for_80_percent_power": result.needed(),
                "power": result.power.to_dict("records"),
            }
        )
        return
    print_trial(result)
    Console().print(
        f"wrote {out_dir}/ trials.parquet, power.csv, manifest.json, report.html "
        f"({2 * sites} site runs, {len(result.trials)} simulated trials in {wall:.1f} s)",
        highlight=False,
        soft_wrap=True,
    )


def print_trial(result: TrialResult) -> None:
    """Print power and mean estimates per design and sample size, and the n for 80 % power."""
    pw = result.power
    t = result.truths
    table = Table(
        title=f"{result.spec.meta.name}: {result.spec.meta.outcome}, power at alpha "
        f"{result.spec.meta.alpha:g} over {result.spec.meta.trials} simulated trials; truth: "
        f"ITT {t['itt']:+.3f}, compliers {t['cace']:+.3f}, everyone {t['ate']:+.3f}",
    )
    for col in ("design", "n", "ITT power", "ITT mean", "PP mean", "CACE mean", "CACE coverage"):
        table.add_column(col, justify="right")
    for (design, n), g in pw.groupby(["design", "n"], sort=False):
        r = {row["estimator"]: row for row in g.to_dict("records")}
        clusters = f" ({r['itt']['clusters']} sites)" if design == "cluster" else ""
        table.add_row(
            str(design),
            f"{n}{clusters}",
            f"{r['itt']['power']:.0%}",
            f"{r['itt']['mean_estimate']:+.3f}",
            f"{r['per_protocol']['mean_estimate']:+.3f}",
            f"{r['cace']['mean_estimate']:+.3f}",
            f"{r['cace']['coverage']:.0%}",
        )
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=max(console.width, 160))
    console.print(table)
    for design, need in result.needed().items():
        if need["smallest"] is None:
            console.print(f"{design}: 80 % ITT power not reached up to n = {need['largest']}")
        else:
            sites = f" ({need['clusters']} sites)" if need["clusters"] else ""
            console.print(
                f"{design}: 80 % ITT power at n = {need['smallest']}{sites} "
                f"(about {need['interpolated']} by interpolation)"
            )


@app.command()
def sensitivity(
    study: Annotated[Path, typer.Argument(help="Study file with a morris, sobol or delta design.")],
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: out/sensitivity-STUDY-NAME).")
    ] = None,
    jobs: JobsOption = 1,
    dask: DaskOption = None,
    fresh: FreshOption = False,
    sets: SetOption = None,
    json_out: Annotated[
        bool, typer.Option("--json", metavar="", help="Print the indices and verdicts as JSON.")
    ] = False,
) -> None:
    """Global sensitivity analysis: Morris, Sobol or delta indices over replicated runs.

    Runs the study's SALib sample (each row over common-random-number
    replicates; stored as they finish, so the same command resumes), then
    computes the indices on replicate means, the noise share, the dummy's noise
    floor and a convergence check. Writes indices.parquet/.csv,
    runs.parquet/.csv, manifest.json and report.html.
    """
    from introsim.experiments.design import SENSITIVITY_DESIGNS, load_experiment
    from introsim.experiments.sensitivity import (
        PRIMARY,
        build_manifest,
        check_analysis,
        run_sensitivity,
        verdicts,
        write_outputs,
    )
    from introsim.experiments.sweep import store_identity
    from introsim.output import folder_name
    from introsim.reporting.sensitivity_report import write_report

    if jobs < 1:
        fail(f"--jobs: expected an integer >= 1, found {jobs}")
    try:
        design = load_experiment(study, overrides=parse_sets(sets))
    except InputError as e:
        fail(str(e))
    if design.meta.design not in SENSITIVITY_DESIGNS:
        fail(
            f"{study}: experiment.design: {design.meta.design!r} is not a sensitivity design; "
            f"use one of {', '.join(SENSITIVITY_DESIGNS)} (or `introsim sweep`)"
        )
    try:
        check_analysis(design)
    except InputError as e:
        fail(str(e))
    dask_or_fail(dask)
    default = Path("out") / f"sensitivity-{folder_name(design.meta.name)}"
    out_dir = out if out is not None else default
    if dask is None:
        jobs = capped_jobs(jobs)
    refs = design.reference.points if design.reference is not None else []
    check_memory([p.scenario for p in (*design.points, *refs)], jobs=jobs)
    t0 = time.perf_counter()
    with stored_work(
        out_dir,
        store_identity(design),
        fresh=fresh,
        jobs=jobs,
        dask=dask,
        preload=["introsim.experiments.sweep"],
        label=f"{len(design.points)} points × {design.meta.replications} replicates"
        + (" × 2 arms" if refs else ""),
        total=design.run_count,
    ) as work:
        result = run_sensitivity(design, work.executor, store=work.store, progress=work.tick)
    wall = time.perf_counter() - t0
    failed = failed_runs(
        result.failed,
        len(result.sweep.runs),
        out_dir,
        "outcomes with a failed run are not analysed",
    )
    publish_study(
        out_dir,
        result,
        build_manifest=build_manifest,
        write_outputs=write_outputs,
        write_report=write_report,
        executor=executor_label(jobs, dask),
        wall=wall,
        warnings=failed,
        resumed=work.resumed,
    )
    if json_out:
        print_json(
            {
                "out": str(out_dir),
                "method": result.method,
                "runs": len(result.sweep.runs),
                "failed": result.failed,
                "wall_time_s": round(wall, 3),
                "verdicts": verdicts(result),
                "indices": result.indices.to_dict("records"),
            }
        )
        return
    console = Console(highlight=False, soft_wrap=True)
    primary = PRIMARY[result.method]
    idx = result.indices
    for v in verdicts(result):
        part = idx[
            (idx["stratum"] == v["stratum"])
            & (idx["outcome"] == v["outcome"])
            & (idx["index"] == primary)
            & (idx["n"] == idx["n"].max())
        ].sort_values("value", ascending=False)
        table = Table(
            title=f"{result.outcome_text(v['outcome'])} ({v['stratum']}): {primary} [95 % interval]"
        )
        table.add_column("factor", no_wrap=True)
        table.add_column(primary, justify="right")
        for _, r in part.iterrows():
            table.add_row(r["factor"], f"{r['value']:.4g} [{r['low']:.4g}, {r['high']:.4g}]")
        console.print(table)
        console.print(v["summary"], markup=False)
        console.print(v["convergence"], markup=False)
    console.print(
        f"wrote {out_dir}/ indices.parquet, indices.csv, runs.parquet, manifest.json, report.html "
        f"({len(result.sweep.runs)} runs in {wall:.1f} s)",
        markup=False,
    )


@app.command()
def discover(
    runs: Annotated[
        Path, typer.Argument(help="runs.parquet of a sweep or sensitivity study, or its folder.")
    ],
    outcome: Annotated[str, typer.Option(help="The outcome to explain.")],
    below: Annotated[
        float | None, typer.Option(help="Cases of interest: the outcome below this value.")
    ] = None,
    above: Annotated[
        float | None, typer.Option(help="Cases of interest: the outcome above this value.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: out/discover-OUTCOME).")
    ] = None,
    threshold: Annotated[
        float, typer.Option(help="Least density (share of cases of interest) of the chosen box.")
    ] = 0.8,
    json_out: Annotated[
        bool, typer.Option("--json", metavar="", help="Print the box and trajectory as JSON.")
    ] = False,
) -> None:
    """Scenario discovery: the boxes of factor space where an outcome falls short (PRIM).

    Uses the EMA Workbench's PRIM on the replicate means of each design point.
    Writes trajectory.csv, box.csv, manifest.json and report.html.
    """
    from introsim.experiments.discovery import DiscoveryError, discover_boxes, write_outputs
    from introsim.output import folder_name

    if (below is None) == (above is None):
        fail("give exactly one of --below VALUE or --above VALUE")
    if outcome not in OUTCOMES:
        fail(f"--outcome: unknown outcome {outcome!r}; valid: {', '.join(OUTCOMES)}")
    if not 0 < threshold <= 1:
        fail(f"--threshold: expected a share in (0, 1], found {threshold:g}")
    try:
        result = discover_boxes(runs, outcome, below=below, above=above, threshold=threshold)
    except DiscoveryError as e:
        fail(str(e))
    out_dir = out if out is not None else Path("out") / f"discover-{folder_name(outcome)}"
    check_out_dir(out_dir)
    try:
        manifest = write_outputs(result, out_dir, command=["introsim", *sys.argv[1:]])
    except OSError as e:
        publish_failed(out_dir, e)
    if json_out:
        print_json(manifest["result"])
        return
    console = Console(highlight=False, soft_wrap=True)
    console.print(result.summary, markup=False)
    table = Table(title="The chosen box: factor limits")
    for col in ("factor", "low", "high"):
        table.add_column(col, justify="right" if col != "factor" else "left")
    for _, r in result.box.iterrows():
        table.add_row(str(r["factor"]), str(r["low"]), str(r["high"]))
    console.print(table)
    console.print(
        f"wrote {out_dir}/ trajectory.csv, box.csv, manifest.json, report.html", markup=False
    )


@app.command()
def calibrate(
    calibration: Annotated[
        Path, typer.Argument(help="Calibration TOML file (see calibration/default.toml).")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: out/calibrate-NAME).")
    ] = None,
    trials: Annotated[
        int | None, typer.Option(help="Candidates to evaluate in all (default: the file's).")
    ] = None,
    jobs: JobsOption = 1,
    dask: DaskOption = None,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh", metavar="", help="Discard the study and runs in --out and start again."
        ),
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", metavar="", help="Print the best trial and targets as JSON.")
    ] = False,
) -> None:
    """Fit free parameters to calibration targets with Optuna's TPE sampler.

    Each candidate runs every scenario the targets need over common-random-number
    replicates. The study (SQLite) and the runs are kept in --out as they finish;
    the same command after an interruption resumes. Writes best.toml (apply it
    with --set, by copying its tables into a scenario file, or with --ensemble),
    trials.csv, ensemble.toml (every parameter set meeting all bands),
    manifest.json and report.html.
    """
    from introsim.experiments.calibration import (
        build_manifest,
        run_calibration,
        study_identity,
        write_outputs,
    )
    from introsim.output import folder_name
    from introsim.params.calibration_file import load_calibration
    from introsim.reporting.calibration_report import write_report

    if jobs < 1:
        fail(f"--jobs: expected an integer >= 1, found {jobs}")
    if trials is not None and trials < 1:
        fail(f"--trials: expected an integer >= 1, found {trials}")
    try:
        cal = load_calibration(calibration)
    except InputError as e:
        fail(str(e))
    dask_or_fail(dask)
    if dask is None:
        jobs = capped_jobs(jobs)
    out_dir = out if out is not None else Path("out") / f"calibrate-{folder_name(cal.meta.name)}"
    wanted = trials if trials is not None else cal.meta.trials
    per_trial = cal.targets.runs(cal.meta.replications)
    t0 = time.perf_counter()
    with stored_work(
        out_dir,
        study_identity(cal),
        fresh=fresh,
        jobs=jobs,
        dask=dask,
        preload=["introsim.experiments.calibration"],
        label=f"{wanted} trials × {per_trial} runs",
        total=wanted * per_trial,
        what="trials and runs",
    ) as work:
        if fresh:
            (out_dir / cal.meta.storage).unlink(missing_ok=True)
        result = run_calibration(
            cal, out_dir, work.executor, trials=wanted, store=work.store, progress=work.tick
        )
    wall = time.perf_counter() - t0
    manifest = publish_study(
        out_dir,
        result,
        build_manifest=build_manifest,
        write_outputs=write_outputs,
        write_report=write_report,
        executor=executor_label(jobs, dask),
        wall=wall,
    )
    best = result.best
    if json_out:
        data = {
            "out": str(out_dir),
            "trials": len(result.trials),
            "resumed_trials": result.resumed,
            "best_trial": best.index if best else None,
            "best_loss": best.loss if best else None,
            "best_params": manifest["best_params"],
            "targets": [r.__dict__ for r in best.results] if best else [],
            "ensemble_members": len(result.ensemble),
        }
        print_json(data)
        return
    table = Table(
        title=f"calibration {cal.meta.name}: {len(result.trials)} trials × {per_trial} runs; "
        f"best trial {best.index if best else '–'}, loss {best.loss if best else float('nan'):.4g}"
    )
    for col in ("target", "band", "defaults", "best", "met"):
        table.add_column(col, justify="left" if col in ("target", "band") else "right")
    defaults = {r.name: r for r in result.defaults.results} if result.defaults else {}
    for target, r in zip(cal.targets.targets, best.results if best else [], strict=False):
        d = defaults.get(target.name)
        table.add_row(
            target.name,
            target.spec.band_text(),
            f"{d.mean:.3f}" + (" ✓" if d.met else "") if d else "–",
            f"{r.mean:.3f} [{r.low:.3f}, {r.high:.3f}]",
            "yes" if r.met else "no",
        )
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=max(console.width, 160))
    console.print(table)
    console.print(
        f"wrote {out_dir}/ best.toml, trials.csv, ensemble.toml ({len(result.ensemble)} members), "
        f"manifest.json, report.html ({wall:.1f} s)",
        soft_wrap=True,
    )


@app.command()
def version() -> None:
    """Print the introsim version."""
    typer.echo(__version__)


@app.command()
def dashboard(
    scenario: Annotated[
        Path | None,
        typer.Argument(
            help="Preset to open (default: the first in ./scenarios); its folder's "
            "other scenario files are the other presets."
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on (another than this machine's own needs --allow-remote)."
        ),
    ] = "127.0.0.1",
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            metavar="",
            help="Let other machines open the dashboard (with a non-local --host).",
        ),
    ] = False,
    lang: Annotated[str, typer.Option(help="Language of the page: en or nb.")] = "en",
    replications: Annotated[
        int, typer.Option("--replications", "-r", help="Replicates per scenario (at least 2).")
    ] = 10,
) -> None:
    """Start the workshop dashboard in the browser: levers, what-if charts, one run week by week."""
    import socket

    from introsim.app import server
    from introsim.app.i18n import LANGUAGES

    if lang not in LANGUAGES:
        fail(f"--lang: expected one of {', '.join(LANGUAGES)}, found {lang!r}")
    if replications < 2:
        fail(f"--replications: expected an integer >= 2, found {replications}")
    if not 0 < port < 65536:
        fail(f"--port: expected 1 to 65535, found {port}")
    if scenario is not None:
        load_or_fail(scenario)
    try:
        presets = server.find_presets(scenario)
    except FileNotFoundError as e:
        fail(f"{e}; name a scenario file")
    for path in presets.values():
        load_or_fail(path)
    if not server.port_free(host, port):
        fail(f"--port: {host}:{port} is in use or cannot be listened on; choose another --port")
    if not server.is_local(host):
        if not allow_remote:
            fail(
                f"--host {host}: other machines could open the dashboard; add --allow-remote "
                "if that is what you want (the default, 127.0.0.1, is this machine only)"
            )
        err_console.print(
            f"warning: listening on {host}: other machines on the network can open the "
            "dashboard (you asked for this with --allow-remote)",
            markup=False,
            soft_wrap=True,
        )
    config = server.DashboardConfig(
        presets=presets,
        start=scenario.stem if scenario is not None else next(iter(presets)),
        lang=lang,
        replications=replications,
        host=host,
        port=port,
    )
    if host in server.WILDCARDS:
        # The server answers on every address of this machine: say so, and which ones.
        typer.echo(
            f"introsim dashboard: listening on {host} port {port} (every address of this "
            f"machine); here open {config.address} (Ctrl-C to stop)"
        )
        others = config.remote_addresses
        typer.echo(
            "from other machines open "
            + (" or ".join(others) if others else f"this machine's address, port {port}")
            + f" (or its name, {socket.gethostname()}, where the network knows it)"
        )
    else:
        typer.echo(f"introsim dashboard: open {config.address} (Ctrl-C to stop)")
    server.serve(config)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be so that both stop work the same clean way."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def main() -> None:
    """Entry point: run the app, turning usage errors into one line and exit status 2.

    SIGTERM is handled like Ctrl-C: queued runs are cancelled, workers end,
    nothing is written; the exit status is 128 + the signal's number.
    """
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = app(standalone_mode=False)
    except typer.Abort as e:
        code = 128 + signal.SIGTERM if isinstance(e.__context__, Terminated) else 130
    except Terminated:
        code = 128 + signal.SIGTERM
    except Exception as e:
        # Usage errors (bad option, bad value, missing argument) carry a message and
        # an exit code; typer releases differ in where those classes live.
        message, exit_code = getattr(e, "format_message", None), getattr(e, "exit_code", None)
        if message is None or not isinstance(exit_code, int):
            raise
        text = message().strip()
        if not text:  # bare `introsim`: the help was the answer
            raise SystemExit(0) from None
        ctx = getattr(e, "ctx", None)
        where = f"{ctx.command_path}: " if ctx is not None else ""
        err_console.print(f"error: {printable(where + text)}", markup=False, soft_wrap=True)
        code = exit_code
    raise SystemExit(code if isinstance(code, int) else 0)
