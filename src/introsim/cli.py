"""The command line: ``introsim run``, ``introsim validate`` and ``introsim compare``.

Bad input is answered with one line on stderr naming the file and field, exit
status 2, no traceback, and no output files.
"""

from __future__ import annotations

import os
import sys
import time
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from introsim import __version__
from introsim.model.outcomes import OUTCOME_INFO, OUTCOMES
from introsim.params.loader import ScenarioError, load_scenario, load_scenario_with
from introsim.params.schema import Scenario

if TYPE_CHECKING:
    from collections.abc import Callable

    from introsim.experiments.compare import Comparison
    from introsim.experiments.sweep import Sweep

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
    """Text safe to print on a terminal: control characters (escape, NUL, newline) escaped."""
    return "".join(
        c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) == "Cc" else c
        for c in str(text)
    )


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
    except ScenarioError as e:
        fail(str(e))


def note(message: str) -> None:
    """Print one line of information to stderr (not an error)."""
    err_console.print(f"note: {printable(message)}", markup=False, soft_wrap=True)


def out_option(value: str) -> Path:
    """Turn the ``--out`` text into a path, refusing an empty one (it would mean ``.``)."""
    if not value.strip():
        fail("--out: expected a folder name, found an empty string")
    return Path(value)


def check_out_dir(out: Path) -> None:
    """Refuse an output folder that cannot be written, before any work is done.

    Results are staged beside the folder and published by renaming, so the
    folder's parent (or its nearest existing ancestor) must be writable, and an
    existing folder must be one introsim may replace.
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
    problem, notes = output_folder_problem(target)
    for line in notes:
        note(line)
    if problem is not None:
        fail(f"{out}: {problem}")


def publish_failed(out: Path, err: OSError) -> NoReturn:
    """Report an output folder that could not be written after all (one line, nothing left)."""
    fail(f"{out}: could not write the results: {err.strerror or err}")


def format_value(name: str, value: float | None) -> str:
    """Format an outcome for a table: shares as %, NOK with thousands, others to 1 decimal."""
    if value is None or value != value:
        return "–"
    unit = OUTCOME_INFO[name].unit if name in OUTCOME_INFO else ""
    if unit == "share":
        return f"{100 * value:.1f} %"
    if unit == "NOK":
        return f"{value:,.0f}".replace(",", " ")
    return f"{value:.1f}"


def parse_sets(items: list[str] | None) -> dict[str, object]:
    """Turn ``--set dotted.path=value`` options into overrides (values read as TOML).

    ``--set follow_up.caseload=10`` gives an integer, ``--set follow_up.method=ips``
    a string (a value that is not TOML is taken as text).
    """
    import tomllib

    out: dict[str, object] = {}
    for item in items or []:
        path, eq, text = item.partition("=")
        path = path.strip()
        if not eq or not path or not text.strip():
            fail(f"--set: expected dotted.path=value, found {item!r}")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        out[path] = value
    return out


SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Override a parameter, e.g. --set follow_up.caseload=10 (repeatable; "
        "`introsim params` lists the paths).",
    ),
]


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
) -> None:
    """Run one scenario; write weekly and participants tables (Parquet and CSV) and summary.json."""
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
    from introsim.run import simulate

    sc = load_or_fail(scenario, parse_sets(sets))
    if seed is not None and seed < 0:
        fail(f"--seed: expected a non-negative integer, found {seed}")
    out_dir = out_option(out) if out is not None else Path("out") / folder_name(sc.scenario.name)
    check_out_dir(out_dir)
    run_seed = seed if seed is not None else sc.scenario.seed

    t0 = time.perf_counter()
    result = simulate(sc, run_seed)
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
            write_json(summary, stage / "summary.json")
    except OSError as e:
        publish_failed(out_dir, e)

    if json_out:
        sys.stdout.write(json_text(summary) + "\n")
        return
    console = Console()
    table = Table(
        title=f"{sc.scenario.name}: {sc.cohort.size} participants, "
        f"{sc.scenario.weeks} weeks, seed {run_seed}"
    )
    table.add_column("outcome")
    table.add_column("value", justify="right")
    table.add_column("meaning")
    for name in OUTCOMES:
        table.add_row(name, format_value(name, result.summary[name]), OUTCOME_INFO[name].label)
    console.print(table)
    console.print(
        f"wrote {out_dir}/weekly.parquet, participants.parquet, weekly.csv, participants.csv, "
        f"summary.json ({wall:.2f} s)"
    )


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario TOML files to check.")],
) -> None:
    """Check scenario files; print 'ok' per good file, one error line per bad one."""
    bad = 0
    for path in files:
        try:
            load_scenario(path)
        except ScenarioError as e:
            err_console.print(f"error: {printable(e)}", markup=False, soft_wrap=True)
            bad += 1
        else:
            typer.echo(f"{printable(path)}: ok")
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
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Worker processes (results do not depend on it).")
    ] = 1,
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
    if replications < 2:
        fail(f"--replications: expected an integer >= 2, found {replications}")
    if jobs < 1:
        fail(f"--jobs: expected an integer >= 1, found {jobs}")
    if seed is not None and seed < 0:
        fail(f"--seed: expected a non-negative integer, found {seed}")
    out = out_option(out_text)
    check_out_dir(out)

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from introsim.experiments.compare import DATA_FILES, build_manifest, compare, write_outputs
    from introsim.output import json_text, staged_output
    from introsim.reporting.compare_report import write_report

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    t0 = time.perf_counter()
    with progress:
        task = progress.add_task(
            f"{len(loaded)} scenarios × {replications} replicates",
            total=len(loaded) * replications,
        )

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            result = compare(loaded, replications, seed, jobs=jobs, progress=tick)
        except KeyboardInterrupt:
            err_console.print("interrupted: nothing written", markup=False)
            raise typer.Exit(130) from None
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
        sys.stdout.write(json_text(data) + "\n")
        return
    print_comparison(result)
    Console().print(
        f"wrote {out}/ {', '.join(DATA_FILES)}, report.html "
        f"({len(loaded) * replications} runs in {wall:.1f} s)",
        highlight=False,
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
    from introsim.reporting.compare_report import (
        MARKS,
        STATUS_TEXT,
        excludes_zero,
        format_interval,
        format_number,
        verdict,
    )

    ref = result.reference
    table = Table(
        title=f"{len(result.names)} scenarios, {result.replications} replicates each, root seed "
        f"{result.root_seed}: mean [95 % interval]; differences paired by replicate",
    )
    table.add_column("outcome", no_wrap=True)
    for name in result.names:
        table.add_column(result.title(name), justify="right")
    for name in result.names[1:]:
        table.add_column(f"{result.title(name)} − {result.title(ref)}", justify="right")

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


def progress_bar(description: str, total: int) -> tuple[object, Callable[[int, int], None]]:
    """A progress bar on stderr (runs done, runs/s, time left); plain when not a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RunsPerSecond(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed or 0:.1f} runs/s", style="progress.data.speed")

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RunsPerSecond(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    task = bar.add_task(description, total=total)

    def tick(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, tick


@app.command()
def sweep(
    experiment: Annotated[Path, typer.Argument(help="Experiment TOML file (see experiments/).")],
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: out/sweep-EXPERIMENT-NAME).")
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Worker processes (results do not depend on it).")
    ] = 1,
    dask: Annotated[
        str | None,
        typer.Option(
            help="Run on Dask: 'local' starts a LocalCluster, or a scheduler address "
            "such as tcp://host:8786 (needs the dask extra).",
        ),
    ] = None,
    fresh: Annotated[
        bool,
        typer.Option("--fresh", metavar="", help="Discard runs stored in --out and start again."),
    ] = False,
    sets: SetOption = None,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json", metavar="", help="Print the points table as JSON instead of a table."
        ),
    ] = False,
) -> None:
    """Run an experiment's design points over common-random-number replicates.

    Results are stored as they finish; the same command after an interruption
    runs only what is missing. Writes runs.parquet/.csv, points.parquet/.csv,
    manifest.json and report.html.
    """
    from introsim.experiments.design import load_experiment
    from introsim.experiments.engine import executor_for
    from introsim.experiments.store import RunStore, StoreMismatch
    from introsim.experiments.sweep import (
        build_manifest,
        run_sweep,
        store_identity,
        write_outputs,
    )
    from introsim.output import folder_name, json_text
    from introsim.reporting.sweep_report import write_report

    if jobs < 1:
        fail(f"--jobs: expected an integer >= 1, found {jobs}")
    try:
        design = load_experiment(experiment, overrides=parse_sets(sets))
    except ScenarioError as e:
        fail(str(e))
    if dask is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            fail("--dask: Dask is not installed; pip install 'introsim[dask]'")
    out_dir = out if out is not None else Path("out") / f"sweep-{folder_name(design.meta.name)}"
    check_out_dir(out_dir)
    store = RunStore(out_dir)
    try:
        resumed = store.open(store_identity(design), fresh=fresh)
    except StoreMismatch as e:
        fail(str(e))
    except OSError as e:
        publish_failed(out_dir, e)
    total = len(design.points) * design.meta.replications
    bar, tick = progress_bar(
        f"{len(design.points)} points × {design.meta.replications} replicates", total
    )
    t0 = time.perf_counter()
    try:
        with bar, executor_for(jobs, dask, preload=["introsim.experiments.sweep"]) as ex:  # type: ignore[attr-defined]
            result = run_sweep(design, ex, store=store, progress=tick)
    except KeyboardInterrupt:
        err_console.print(
            f"interrupted: finished runs are kept in {out_dir}; run the same command to resume",
            markup=False,
        )
        raise typer.Exit(130) from None
    except OSError as e:
        publish_failed(out_dir, e)
    wall = time.perf_counter() - t0
    executor_name = f"dask {dask}" if dask else (f"{jobs} processes" if jobs > 1 else "1 process")
    manifest = build_manifest(
        result,
        executor=executor_name,
        wall_time_s=round(wall, 3),
        command=["introsim", *sys.argv[1:]],
        resumed=resumed,
    )
    try:
        write_outputs(result, out_dir, manifest)
        write_report(result, out_dir / "report.html", manifest)
    except OSError as e:
        publish_failed(out_dir, e)
    if result.failed:
        err_console.print(
            f"warning: {result.failed} of {len(result.runs)} runs failed; their errors are in "
            f"{out_dir}/runs.csv (column error)",
            markup=False,
        )
    if json_out:
        data = {
            "out": str(out_dir),
            "runs": len(result.runs),
            "failed": result.failed,
            "points": result.points.to_dict("records"),
        }
        sys.stdout.write(json_text(data) + "\n")
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
    from introsim.reporting.compare_report import format_interval

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
def version() -> None:
    """Print the introsim version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point: run the app, turning usage errors into one line and exit status 2."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        code = 130
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
