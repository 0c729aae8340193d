"""The command line: ``introsim run``, ``validate``, ``compare``, ``sweep``, ``trial`` and more.

The study commands (compare, sweep, sensitivity, trial, calibrate) are a thin
table over the study registry (:mod:`introsim.experiments.study`): each parses
its own options and hands the study to one driver, with the options every
study shares declared once here.

Bad input is answered with one line on stderr naming the file and field, exit
status 2, no traceback, and no output files.
"""

from __future__ import annotations

import atexit
import gc
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from introsim import __version__
from introsim.experiments.registry import COMMANDS
from introsim.params.errors import InputError, StudyError
from introsim.params.loader import load_scenario, load_scenario_with, parse_sets
from introsim.params.schema import Scenario
from introsim.terminal import (
    Console,
    Terminated,
    on_sigterm,
    print_json,
    printable,
    shown,
)

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
__all__ = ["app", "fail", "main", "note", "printable", "shown"]


def fail(message: str) -> NoReturn:
    """Print one line to stderr and exit with status 2 (bad input)."""
    err_console.print(f"error: {printable(message)}", markup=False, soft_wrap=True)
    raise typer.Exit(BAD_INPUT)


def note(message: str) -> None:
    """Print one line of information to stderr (not an error)."""
    err_console.print(f"note: {printable(message)}", markup=False, soft_wrap=True)


def out_option(value: str) -> Path:
    """Turn the ``--out`` text into a path, refusing an empty one (it would mean ``.``)."""
    if not value.strip():
        fail("--out: expected a folder name, found an empty string")
    return Path(value)


@contextmanager
def no_collection_pauses() -> Iterator[None]:
    """Run a short command without the cyclic garbage collector's automatic passes.

    A command's start-up (numba and its typing registries, the scenario schema, the
    output libraries) makes hundreds of thousands of long-lived objects and next to no
    garbage, and each automatic pass walks them all again: about a tenth of a second of
    ``introsim run``. After the command the collector is as it was, and what the command
    made counts as old (:func:`gc.freeze` then :func:`gc.unfreeze` move every object to
    the oldest generation) rather than being walked at once by the next young pass, which
    would cost most of what was saved. So a caller in the same process (a test, a
    notebook) keeps its collector; one that froze objects itself keeps them frozen.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _skip_collection_at_exit() -> None:
    """Let the interpreter's shutdown skip the objects that live until the process ends.

    At exit Python collects garbage over and over while it clears the modules, each pass
    walking every object still alive (numba's registries, pydantic's schemas): a third of
    a second of ``introsim run``, longer than its simulation. Frozen objects are skipped
    (:func:`gc.freeze`); the process is ending and the system takes its memory back.
    Files are closed where they are written, and the standard streams are flushed by
    the shutdown itself. Registered at exit, so a caller that goes on (a test calling
    :func:`main`) keeps its collector as it was.
    """
    gc.freeze()


def checked(check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a check or loader; its refusal (bad input) is one line, exit 2."""
    try:
        return check(*args, **kwargs)
    except (StudyError, InputError) as e:
        fail(str(e))


# --------------------------------------------------------------------------- shared options
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
OutOption = Annotated[
    str | None, typer.Option("--out", help="Output folder (default: out/COMMAND-NAME).")
]
JsonOption = Annotated[
    bool, typer.Option("--json", metavar="", help="Print the result as JSON instead of a table.")
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
        help="Posterior ensemble (posterior.toml from `introsim calibrate`): every member runs "
        "every replicate, and each number shows what we do not know about the mechanisms, "
        "chance in one real cohort and the simulation's precision.",
    ),
]


MembersOption = Annotated[
    int | None,
    typer.Option(
        "--members",
        help="With --ensemble: only the first N members (each runs every site and every "
        "simulated trial).",
    ),
]


DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        metavar="",
        help="Say how many runs the study needs and about how long they would take "
        "(from runs of its largest scenario timed here), then stop without writing anything.",
    ),
]


ReplicationsOption = Annotated[
    int | None,
    typer.Option(
        "--replications",
        "-r",
        help="Replicates per design point instead of the file's; stored runs are reused.",
    ),
]


@dataclass(frozen=True)
class Shared:
    """The options every study command takes, as given."""

    out: str | None
    jobs: int
    dask: str | None
    fresh: bool
    json_out: bool
    dry_run: bool = False


def study_command(kind: str, *args: Any, shared: Shared, **options: Any) -> None:
    """Load a study of ``kind``, run it with the one driver, publish it, print it."""
    from introsim.experiments.study import drive, dry_run, load_study
    from introsim.progress import progress_reporter

    try:
        study = load_study(kind, *args, **options)
        if shared.dry_run:
            plan = dry_run(study, jobs=shared.jobs, dask=shared.dask, note=note)
            print_json(plan) if shared.json_out else typer.echo(plan["text"])
            return
        out_dir = out_option(shared.out) if shared.out is not None else study.default_out()
        result, out_dir, wall, manifest = drive(
            study,
            out=out_dir,
            jobs=shared.jobs,
            dask=shared.dask,
            fresh=shared.fresh,
            note=note,
            progress=lambda label, total: progress_reporter(label, total, console=err_console),
            command=["introsim", *sys.argv[1:]],
        )
    except (InputError, StudyError) as e:
        fail(str(e))
    except KeyboardInterrupt as e:
        err_console.print(
            f"interrupted: finished {study.work} are kept in {out_dir}; run the same command "
            "to resume",
            markup=False,
        )
        raise typer.Exit(128 + signal.SIGTERM if isinstance(e, Terminated) else 130) from None
    for line in study.warnings(result, out_dir):
        err_console.print(f"warning: {line}", markup=False)
    for line in study.notes(result):
        note(line)
    if shared.json_out:
        print_json(study.summary(result, out_dir, wall, manifest))
    else:
        study.show(result, out_dir, wall)


# --------------------------------------------------------------------------- other commands
@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    seed: Annotated[
        int | None, typer.Option(help="Seed (default: the scenario's \\[scenario] seed).")
    ] = None,
    out: OutOption = None,
    json_out: JsonOption = False,
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
    with no_collection_pauses():  # one run: the command is mostly start-up
        from introsim.experiments import study as driver
        from introsim.output import folder_name
        from introsim.run import history_memory, write_run

        overrides = checked(parse_sets, sets)
        sc: Scenario = (
            checked(load_scenario_with, scenario, overrides, source="--set")
            if overrides
            else checked(load_scenario, scenario)
        )
        if seed is not None and seed < 0:
            fail(f"--seed: expected a non-negative integer, found {seed}")
        out_dir = (
            out_option(out) if out is not None else Path("out") / folder_name(sc.scenario.name)
        )
        panel = history_memory(sc) if history else 0
        hint = (
            f"; the --history panel alone needs about {panel / (1 << 30):.1f} GiB"
            if history
            else ""
        )
        checked(driver.check_memory, [sc], 1, panel, hint)
        for line in checked(driver.check_out_dir, out_dir):
            note(line)
        run_seed = seed if seed is not None else sc.scenario.seed

        try:
            write_run(sc, run_seed, out_dir, history=history, json_out=json_out)
        except OSError as e:
            fail(f"{out_dir}: could not write the results: {e.strerror or e}")


@app.command()
def validate(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Scenario, experiment, trial, panel, calibration, targets or ensemble files, or "
            "municipal profile CSV files, to check."
        ),
    ],
) -> None:
    """Check input files of any kind; print 'ok' per good file, every problem of a bad one."""
    from introsim.experiments.checks import check_file, problems

    bad = 0
    for path in files:
        try:
            checked_file = check_file(path)
        except InputError as e:
            for line in problems(e):
                err_console.print(f"error: {printable(line)}", markup=False, soft_wrap=True)
            bad += 1
        else:
            typer.echo(f"{printable(path)}: ok ({printable(checked_file.what)})")
            for line in checked_file.warnings:
                err_console.print(
                    f"warning: {printable(path)}: {line}", markup=False, soft_wrap=True
                )
    if bad:
        raise typer.Exit(BAD_INPUT)


# --------------------------------------------------------------------------- study commands
@app.command("compare")
def compare_command(
    scenarios: Annotated[
        list[Path],
        typer.Argument(help="Two or more scenario TOML files; the first is the reference."),
    ],
    replications: Annotated[
        int,
        typer.Option(
            "--replications",
            "-r",
            help="Replicates per scenario (at least 2); runs stored in --out are reused.",
        ),
    ] = 30,
    jobs: JobsOption = 1,
    dask: DaskOption = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Root seed (default: the first scenario's \\[scenario] seed)."),
    ] = None,
    out: Annotated[str, typer.Option("--out", help="Output folder.")] = "out/compare",
    fresh: FreshOption = False,
    json_out: JsonOption = False,
    dry_run: DryRunOption = False,
    sets: SetOption = None,
    ensemble: EnsembleOption = None,
) -> None:
    """Compare scenarios over replicates with common random numbers; write tables and a report.

    Replicate r uses the same seed in every scenario, so differences from the
    first scenario are paired. Runs are stored as they finish; the same command
    after an interruption resumes. Writes replicates, weekly and subgroups tables
    (Parquet and CSV), comparison.csv, manifest.json and report.html.
    """
    shared = Shared(out, jobs, dask, fresh, json_out, dry_run)
    study_command(
        "compare",
        scenarios,
        sets=checked(parse_sets, sets),
        replications=replications,
        seed=seed,
        ensemble=ensemble,
        shared=shared,
    )


def file_study_command(kind: str) -> Callable[..., None]:
    """The command of a study kind that reads one file, from its entry in ``registry.COMMANDS``.

    Every such command takes the file and the shared options; ``--replications``,
    ``--set`` and ``--ensemble`` only where its entry names them.
    """
    import inspect
    import typing

    entry = COMMANDS[kind]
    wanted: dict[str, tuple[Any, Any]] = {
        "study_file": (Annotated[Path, typer.Argument(help=entry.argument)], inspect._empty),
        "out": (OutOption, None),
        "replications": (ReplicationsOption, None),
        "jobs": (JobsOption, 1),
        "dask": (DaskOption, None),
        "fresh": (FreshOption, False),
        "sets": (SetOption, None),
        "json_out": (JsonOption, False),
        "dry_run": (DryRunOption, False),
        "ensemble": (EnsembleOption, None),
        "members": (MembersOption, None),
    }
    for name, text in entry.option_help.items():  # a kind's own words for a shared option
        flag = "--" + name.replace("_", "-")
        base = typing.get_args(wanted[name][0])[0]  # the type without the shared option
        wanted[name] = (Annotated[base, typer.Option(flag, help=text)], wanted[name][1])
    optional = {"replications", "sets", "ensemble", "members"}
    names = [n for n in wanted if n not in optional or n in entry.options]

    def command(**given: Any) -> None:
        shared = Shared(
            given["out"],
            given["jobs"],
            given["dask"],
            given["fresh"],
            given["json_out"],
            given["dry_run"],
        )
        options: dict[str, Any] = {
            k: given[k] for k in ("replications", "ensemble", "members") if k in given
        }
        if "sets" in given:
            options["sets"] = checked(parse_sets, given["sets"])
        study_command(kind, given["study_file"], shared=shared, **options)

    kind_ = inspect.Parameter.KEYWORD_ONLY
    command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, kind_, annotation=wanted[n][0], default=wanted[n][1]) for n in names]
    )
    command.__annotations__ = {n: wanted[n][0] for n in names}
    command.__doc__ = inspect.cleandoc(entry.help)
    command.__name__ = kind
    return command


for _kind in COMMANDS:
    app.command(_kind)(file_study_command(_kind))


@app.command()
def params(
    pattern: Annotated[
        str | None, typer.Argument(help="Only parameters whose path or meaning holds this.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, markdown, csv or json.")] = "text",
) -> None:
    """List scenario parameters: dotted path, default, unit, bounds, meaning, source."""
    from introsim.params.catalog import matching, params_table, params_text

    if fmt not in ("text", "table", "markdown", "csv", "json"):
        fail(f"--format: expected one of text, markdown, csv, json, found {fmt!r}")
    if fmt not in ("text", "table"):
        sys.stdout.write(params_table(fmt))
        return
    found = matching(pattern)
    if not found:
        fail(f"no parameter's path or meaning holds {pattern!r}; `introsim params` lists them all")
    sys.stdout.write(params_text(found, Console().width))


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
    out: OutOption = None,
    threshold: Annotated[
        float, typer.Option(help="Least density (share of cases of interest) of the chosen box.")
    ] = 0.8,
    box: Annotated[
        int | None,
        typer.Option(help="Choose this box of the peeling trajectory (its id) instead."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Scenario discovery: the boxes of factor space where an outcome falls short (PRIM).

    Uses the EMA Workbench's PRIM on the replicate means of each design point.
    Writes trajectory.csv, box.csv, manifest.json and report.html.
    """
    from introsim.experiments import study as driver
    from introsim.experiments.discovery import DiscoveryError, discover_boxes, show, write_outputs
    from introsim.output import folder_name, staged_output

    try:
        result = discover_boxes(
            runs, outcome, below=below, above=above, threshold=threshold, box=box
        )
    except DiscoveryError as e:
        fail(str(e))
    out_dir = (
        out_option(out) if out is not None else Path("out") / f"discover-{folder_name(outcome)}"
    )
    for line in checked(driver.check_out_dir, out_dir):
        note(line)
    try:
        with staged_output(out_dir) as stage:
            manifest = write_outputs(result, stage, command=["introsim", *sys.argv[1:]])
    except OSError as e:
        fail(f"{out_dir}: could not write the results: {e.strerror or e}")
    if json_out:
        print_json(manifest["result"])
    else:
        show(result, out_dir)


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
    ensemble: Annotated[
        Path | None,
        typer.Option(
            "--ensemble",
            help="Posterior ensemble (posterior.toml from `introsim calibrate`) to spread the "
            "runs over (default: calibration/posterior.toml when it exists).",
        ),
    ] = None,
    no_ensemble: Annotated[
        bool,
        typer.Option(
            "--no-ensemble",
            metavar="",
            help="Run the presets' own parameters only, even where a posterior is shipped.",
        ),
    ] = False,
) -> None:
    """Start the workshop dashboard in the browser: levers, what-if charts, one run week by week."""
    from introsim.app import server

    def warn(text: str) -> None:
        err_console.print(f"warning: {text}", markup=False, soft_wrap=True)

    try:
        server.launch(
            scenario,
            port=port,
            host=host,
            allow_remote=allow_remote,
            lang=lang,
            replications=replications,
            ensemble=ensemble,
            use_shipped=not no_ensemble,
            say=typer.echo,
            warn=warn,
        )
    except (server.LaunchError, InputError) as e:
        fail(str(e))


def main() -> None:
    """Entry point: run the app, turning usage errors into one line and exit status 2.

    SIGTERM is handled like Ctrl-C: queued runs are cancelled, workers end,
    nothing is written; the exit status is 128 + the signal's number.
    """
    signal.signal(signal.SIGTERM, on_sigterm)
    atexit.unregister(_skip_collection_at_exit)  # registered once, however often main() runs
    atexit.register(_skip_collection_at_exit)
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
