"""The command line: ``introsim run``, ``introsim validate`` and ``introsim compare``.

Bad input is answered with one line on stderr naming the file and field, exit
status 2, no traceback, and no output files.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from introsim import __version__
from introsim.model.outcomes import OUTCOME_INFO, OUTCOMES
from introsim.params.loader import ScenarioError, load_scenario
from introsim.params.schema import Scenario

if TYPE_CHECKING:
    from introsim.experiments.compare import Comparison

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Simulate Norway's introduction programme for refugees and compare follow-up policies.",
)
BAD_INPUT = 2
err_console = Console(stderr=True, highlight=False)


def fail(message: str) -> NoReturn:
    """Print one line to stderr and exit with status 2 (bad input)."""
    err_console.print(f"error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(BAD_INPUT)


def load_or_fail(path: Path) -> Scenario:
    """Load a scenario, or exit with its one-line error."""
    try:
        return load_scenario(path)
    except ScenarioError as e:
        fail(str(e))


def check_out_dir(out: Path) -> None:
    """Refuse an output folder that cannot be written, before any work is done."""
    if out.exists() and not out.is_dir():
        fail(f"{out}: --out must be a folder, found a file")
    probe = out
    while not probe.exists():  # the nearest part of the path that exists must be a writable folder
        probe = probe.parent
    if not probe.is_dir():
        fail(f"{out}: --out cannot be created: {probe} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        fail(f"{out}: --out cannot be written: no permission in {probe}")


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


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    seed: Annotated[
        int | None, typer.Option(help="Seed (default: the scenario's \\[scenario] seed).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: out/SCENARIO-NAME).")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print summary.json to stdout instead of a table.")
    ] = False,
) -> None:
    """Run one scenario; write weekly.parquet, participants.parquet and summary.json."""
    from introsim.output import (
        folder_name,
        git_commit,
        json_text,
        package_versions,
        staged_output,
        write_json,
        write_parquet,
    )
    from introsim.run import simulate

    sc = load_or_fail(scenario)
    if seed is not None and seed < 0:
        fail(f"--seed: expected a non-negative integer, found {seed}")
    out_dir = out if out is not None else Path("out") / folder_name(sc.scenario.name)
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
            write_parquet(result.weekly, stage / "weekly.parquet")
            write_parquet(result.participants, stage / "participants.parquet")
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
        f"wrote {out_dir}/weekly.parquet, participants.parquet, summary.json ({wall:.2f} s)"
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
            err_console.print(f"error: {e}", markup=False, soft_wrap=True)
            bad += 1
        else:
            typer.echo(f"{path}: ok")
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
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out/compare"),
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the comparison as JSON instead of a table.")
    ] = False,
) -> None:
    """Compare scenarios over replicates with common random numbers; write tables and a report.

    Replicate r uses the same seed in every scenario, so differences from the
    first scenario are paired. Writes replicates.parquet, comparison.csv,
    weekly.parquet, subgroups.parquet, manifest.json and report.html.
    """
    loaded = [load_or_fail(path) for path in scenarios]
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
    check_out_dir(out)

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from introsim.experiments.compare import build_manifest, compare, write_outputs
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
        f"wrote {out}/ replicates.parquet, comparison.csv, weekly.parquet, subgroups.parquet, "
        f"manifest.json, report.html ({len(loaded) * replications} runs in {wall:.1f} s)",
        highlight=False,
        soft_wrap=True,
    )


def print_comparison(result: Comparison) -> None:
    """Print a comparison as a table: means with 95 % intervals, and paired differences."""
    from introsim.model.outcomes import COMPARISON_OUTCOMES, COST_PARTS
    from introsim.reporting.compare_report import (
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
        table.add_column(name, justify="right")
    for name in result.names[1:]:
        table.add_column(f"{name} − {ref}", justify="right")

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
        u = unit_of(outcome)
        ci = format_interval(u, r["diff_low"], r["diff_high"], signed=True)
        text = format_number(u, r["diff"], signed=True)
        if OUTCOME_INFO.get(u) is not None and OUTCOME_INFO[u].unit == "share" and text != "–":
            text += " pp"
        style = {"better": "green", "worse": "red"}.get(
            verdict(outcome, r["diff"], r["diff_low"], r["diff_high"]), ""
        )
        if outcome in COMPARISON_OUTCOMES and excludes_zero(r["diff_low"], r["diff_high"]):
            style = "bold"
        if style:
            text = f"[{style}]{text}[/{style}]"
        return text + (f"\n[dim]{ci}[/dim]" if ci else "")

    for outcome in (*OUTCOMES, *COST_PARTS):
        label = outcome if outcome in OUTCOMES else f"  {outcome}"
        cells = [level(outcome, n) for n in result.names]
        cells += [diff(outcome, n) for n in result.names[1:]]
        table.add_row(label, *cells, end_section=outcome == COST_PARTS[-1])
    for outcome in COMPARISON_OUTCOMES:
        cells = ["–"] * len(result.names) + [diff(outcome, n) for n in result.names[1:]]
        table.add_row(outcome, *cells)
    console = Console(highlight=False)
    if not console.is_terminal:  # piped or redirected: do not squeeze into 80 columns
        console = Console(highlight=False, width=max(console.width, 200))
    console.print(table)
    console.print(
        "Shares in %, differences in percentage points (pp), costs in NOK per participant.\n"
        "extra_employed_12m: extra persons in work at 12 months per cohort (difference in "
        "employed_12m share × cohort size).\n"
        "cost_per_extra_job_nok: difference in cost per participant / difference in "
        "employed_12m share, with Fieller's 95 % interval; – where the extra is not clearly "
        "above zero.\nGreen/red: clearly better/worse (the 95 % interval excludes zero).",
        style="dim",
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
            help="Let other machines open the dashboard (with a non-local --host).",
        ),
    ] = False,
    lang: Annotated[str, typer.Option(help="Language of the page: en or nb.")] = "en",
    replications: Annotated[
        int, typer.Option("--replications", "-r", help="Replicates per scenario (at least 2).")
    ] = 10,
) -> None:
    """Start the workshop dashboard in the browser: levers, what-if charts, one run week by week."""
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
    typer.echo(f"introsim dashboard: open {config.address} (Ctrl-C to stop)")
    server.serve(config)


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
        err_console.print(f"error: {where}{text}", markup=False, soft_wrap=True)
        code = exit_code
    raise SystemExit(code if isinstance(code, int) else 0)
