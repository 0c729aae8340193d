"""The command line: ``introsim run``, ``introsim validate`` and ``introsim compare``.

Bad input is answered with one line on stderr naming the file and field, exit
status 2, no traceback, and no output files.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from introsim import __version__
from introsim.outcomes import OUTCOME_INFO, OUTCOMES
from introsim.scenario import ScenarioError, load_scenario
from introsim.schema import Scenario

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
    """Refuse an output path that exists and is not a folder, before any work is done."""
    if out.exists() and not out.is_dir():
        fail(f"{out}: --out must be a folder, found a file")


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
        int | None, typer.Option(help="Seed (default: the scenario's [scenario] seed).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: out/SCENARIO-NAME).")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print summary.json to stdout instead of a table.")
    ] = False,
) -> None:
    """Run one scenario; write weekly.parquet, participants.parquet and summary.json."""
    from introsim.output import json_text, write_json, write_parquet
    from introsim.runner import simulate

    sc = load_or_fail(scenario)
    if seed is not None and seed < 0:
        fail(f"--seed: expected a non-negative integer, found {seed}")
    out_dir = out if out is not None else Path("out") / sc.scenario.name
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
    }
    write_parquet(result.weekly, out_dir / "weekly.parquet")
    write_parquet(result.participants, out_dir / "participants.parquet")
    write_json(summary, out_dir / "summary.json")

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


@app.command()
def version() -> None:
    """Print the introsim version."""
    typer.echo(__version__)
