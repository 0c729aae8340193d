"""Running the model: one simulation as a function, and seeds for many.

``simulate(scenario, seed)`` and ``simulate_outcomes(scenario, seed)`` build the
run's world without Mesa and loop over the weeks in compiled code
(``IntroModel`` wraps the same world for stepping week by week). They have no
hidden state, so a process pool or a cluster gives the same results as a loop.
Replicate seeds come from one root seed through ``numpy.random.SeedSequence``;
replicate ``r`` gets the same seed in every scenario of a comparison (common
random numbers).

``simulate(scenario, seed, history=True)`` also returns the run's panel: one
row per participant and week. The weeks then advance one at a time from
Python, each week's state copied into preallocated columnar buffers; the
compiled loop itself records nothing, so runs without the panel keep its speed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from introsim.model.ledger import LEDGER_OUTCOMES, ledger_columns, ledger_outcomes
from introsim.model.outcomes import participant_columns, run_summary, summarise
from introsim.model.state import EVENTS, IN_WORK, PHASE_NAMES, STATUS_NAMES, Status
from introsim.model.world import World, advance, build_world
from introsim.params.schema import Scenario
from introsim.tables import Columns, frame

if TYPE_CHECKING:  # Mesa takes a second to import; runs without the dashboard never need it.
    import pandas as pd

    from introsim.model.model import IntroModel


@dataclass(frozen=True)
class SimResult:
    """What one run returns.

    Attributes:
        summary: Each run-level outcome name mapped to its value.
        weekly: One row per week: status counts and event counts.
        participants: One row per participant: characteristics, outcomes, costs.
        history: One row per participant and week (columns :data:`HISTORY_COLUMNS`),
            sorted by participant then week; None unless asked for.
        ledger: One row per week: the public flows in NOK summed over participants
            (:func:`introsim.model.ledger.ledger_table`); who pays each is the scenario's
            ``[public_finances]`` (:func:`introsim.model.ledger.flows_by_payer`).
    """

    summary: dict[str, float]
    weekly: pd.DataFrame
    participants: pd.DataFrame
    history: pd.DataFrame | None = None
    ledger: pd.DataFrame | None = None


def replicate_seed(root: int, replicate: int) -> np.random.SeedSequence:
    """Seed of replicate ``replicate`` under root seed ``root`` (the same in every scenario)."""
    return np.random.SeedSequence(entropy=root, spawn_key=(replicate,))


def weekly_table(model: IntroModel) -> pd.DataFrame:
    """The weekly series of a model as a DataFrame (week, status counts, events)."""
    return _weekly_frame(model.weekly[: model.week])


def _weekly_frame(weekly: np.ndarray) -> pd.DataFrame:
    return frame(_weekly_columns(weekly))


def _weekly_columns(weekly: np.ndarray) -> Columns:
    return {
        "week": np.arange(weekly.shape[0], dtype=np.int64),
        **{name: weekly[:, j] for j, name in enumerate((*STATUS_NAMES, *EVENTS))},
    }


HISTORY_COLUMNS: dict[str, str] = {
    "participant": "participant number, as in participants.parquet",
    "week": "week of the run, as in weekly.parquet (the state at the end of the week)",
    "status": "status that week (the names of weekly.parquet's status columns)",
    "phase": "programme or follow-along phase ('none' outside both)",
    "in_programme": "in the introduction programme: started it and not yet left",
    "in_work": "in an ordinary or subsidised job (part-time when in_programme too)",
    "hours_worked": "paid hours that week: a full-time week in a job, or alongside the "
    "programme the hours its training leaves (a part-time job); 0 out of work",
    "subsidised": "in a subsidised job",
    "in_education": "in ordinary education",
    "language": "language proficiency (the scale of language_start and language_end)",
}
"""Columns of the history panel (:attr:`SimResult.history`), with their meaning."""

_HISTORY_DTYPES: dict[str, np.dtype] = {
    "participant": np.dtype(np.int32),
    "week": np.dtype(np.int32),
    "status": np.dtype(np.int8),  # categorical codes
    "phase": np.dtype(np.int8),
    "in_programme": np.dtype(bool),
    "in_work": np.dtype(bool),
    "hours_worked": np.dtype(np.float32),
    "subsidised": np.dtype(bool),
    "in_education": np.dtype(bool),
    "language": np.dtype(np.float64),
}
# Peak copies of the panel while a run records and writes it (buffers, DataFrame, Arrow's
# table), on the high side: 1.6 measured at 20,000 participants over 260 weeks.
HISTORY_COPIES = 2


def history_memory(scenario: Scenario) -> int:
    """Estimate the extra peak bytes of recording and writing a run's history panel.

    Args:
        scenario: The scenario.

    Returns:
        Bytes for ``cohort.size * scenario.weeks`` rows, :data:`HISTORY_COPIES` times.
    """
    rows = scenario.cohort.size * scenario.scenario.weeks
    return HISTORY_COPIES * rows * sum(d.itemsize for d in _HISTORY_DTYPES.values())


def simulate(
    scenario: Scenario, seed: int | np.random.SeedSequence, *, history: bool = False
) -> SimResult:
    """Run one scenario to its horizon.

    Args:
        scenario: A validated scenario.
        seed: Integer seed or ``SeedSequence`` (see :func:`replicate_seed`).
        history: Also record the panel of every participant's week (see
            :data:`HISTORY_COLUMNS`). The other results are the same either way.

    Returns:
        The run's summary, weekly series and participant table (and history if asked).
    """
    run = _simulate_columns(scenario, seed, history=history)
    return SimResult(
        run.summary,
        frame(run.weekly),
        frame(run.participants),
        run.history,
        frame(run.ledger),
    )


@dataclass(frozen=True)
class _Columns:
    """What :func:`simulate` returns, the tables as columns (:mod:`introsim.tables`)."""

    summary: dict[str, float]
    weekly: Columns
    participants: Columns
    history: pd.DataFrame | None
    ledger: Columns


def _simulate_columns(
    scenario: Scenario, seed: int | np.random.SeedSequence, *, history: bool
) -> _Columns:
    """:func:`simulate` without pandas, unless the history panel is asked for."""
    weeks = scenario.scenario.weeks
    world = build_world(scenario, seed)
    panel = _advance_recording(world, weeks) if history else None
    if panel is None:
        advance(world, 0, weeks)
    participants = participant_columns(world.refugees, weeks)
    summary = summarise(participants)
    summary.update(ledger_outcomes(world.ledger, world.weekly, scenario))
    return _Columns(
        summary, _weekly_columns(world.weekly), participants, panel, ledger_columns(world.ledger)
    )


def _advance_recording(world: World, weeks: int) -> pd.DataFrame:
    """Simulate weeks 0 to ``weeks - 1`` one at a time; return the history panel.

    Buffers are (participant, week), so each participant's weeks are contiguous
    and the panel's columns are the buffers flattened, without a copy.
    """
    import pandas as pd

    r = world.refugees
    n = r.size
    status = np.empty((n, weeks), dtype=_HISTORY_DTYPES["status"])
    phase = np.empty((n, weeks), dtype=_HISTORY_DTYPES["phase"])
    in_programme = np.empty((n, weeks), dtype=_HISTORY_DTYPES["in_programme"])
    language = np.empty((n, weeks), dtype=_HISTORY_DTYPES["language"])
    hours = np.empty((n, weeks), dtype=_HISTORY_DTYPES["hours_worked"])
    for week in range(weeks):
        advance(world, week, week + 1)
        status[:, week] = r.status
        phase[:, week] = r.phase
        # Started and not yet left: the programme's weeks are [start, exit week).
        np.logical_and(r.programme_start >= 0, r.exit_week < 0, out=in_programme[:, week])
        language[:, week] = r.language
        hours[:, week] = world.accounts.hours_worked  # the ledger's, which pays wages by them
    codes = status.ravel()
    in_work = np.isin(codes, [int(s) for s in IN_WORK])
    flat_programme = in_programme.ravel()
    return pd.DataFrame(
        {
            "participant": np.repeat(np.arange(n, dtype=_HISTORY_DTYPES["participant"]), weeks),
            "week": np.tile(np.arange(weeks, dtype=_HISTORY_DTYPES["week"]), n),
            "status": pd.Categorical.from_codes(codes, list(STATUS_NAMES)),
            "phase": pd.Categorical.from_codes(phase.ravel(), list(PHASE_NAMES)),
            "in_programme": flat_programme,
            "in_work": in_work,
            "hours_worked": hours.ravel(),
            "subsidised": codes == Status.SUBSIDISED,
            "in_education": codes == Status.EDUCATION,
            "language": language.ravel(),
        }
    )


def simulate_outcomes(scenario: Scenario, seed: int | np.random.SeedSequence) -> dict[str, float]:
    """Run one scenario and return only its run-level outcomes and cost parts.

    This is what sweeps, sensitivity studies, calibration and trials need from a
    run: the weeks run in one compiled loop, without Mesa agents, and the
    outcomes come straight from the arrays, without pandas. The values equal
    ``simulate(scenario, seed).summary`` exactly.

    Args:
        scenario: A validated scenario.
        seed: Integer seed or ``SeedSequence``.

    Returns:
        Each name of :data:`introsim.model.outcomes.OUTCOMES`,
        :data:`introsim.model.outcomes.COST_PARTS` and
        :data:`introsim.model.ledger.LEDGER_OUTCOMES` mapped to its value.
    """
    return _outcomes(scenario, seed, people=False)


def simulate_outcomes_and_people(
    scenario: Scenario, seed: int | np.random.SeedSequence
) -> dict[str, float]:
    """:func:`simulate_outcomes`, and how many participants each share rests on.

    The counts are :func:`introsim.model.outcomes.observed_counts` (``people_<outcome>``).
    """
    return _outcomes(scenario, seed, people=True)


def _outcomes(
    scenario: Scenario, seed: int | np.random.SeedSequence, *, people: bool
) -> dict[str, float]:
    weeks = scenario.scenario.weeks
    world = advance(build_world(scenario, seed), 0, weeks)
    # The same values as simulate's summarise(participant_columns(...)), in one compiled pass.
    summary, counts = run_summary(world.refugees, weeks)
    summary.update(ledger_outcomes(world.ledger, world.weekly, scenario))
    if people:
        summary.update(counts)
    return summary


RUN_CAVEAT = (
    "One simulated cohort with one seed and the parameters as written: each figure is a "
    "single draw, not an estimate. Another seed gives other figures; `introsim compare` "
    "runs replicates and says how sure each difference is."
)


def write_run(
    scenario: Scenario, seed: int, out: Path, *, history: bool = False, json_out: bool = False
) -> dict[str, float]:
    """``introsim run``: simulate, publish the tables and ``summary.json`` whole, print them.

    The tables are written from columns (:mod:`introsim.tables`), without importing pandas
    (a quarter of the command's start-up), unless the history panel is asked for.

    Args:
        scenario: The scenario.
        seed: Its seed.
        out: The output folder (replaced as a whole).
        history: Also write ``history.parquet``.
        json_out: Print ``summary.json`` instead of a table.

    Returns:
        The run's summary (:attr:`SimResult.summary`).

    Raises:
        OSError: The folder could not be written (nothing was published).
    """
    import sys

    from introsim import __version__
    from introsim.model.outcomes import OUTCOME_INFO, OUTCOMES
    from introsim.output import (
        git_commit,
        json_text,
        package_versions,
        staged_output,
        write_csv,
        write_json,
        write_parquet,
    )
    from introsim.terminal import Console, Table, format_value, printable, shown

    t0 = time.perf_counter()
    result = _simulate_columns(scenario, seed, history=history)
    wall = time.perf_counter() - t0
    summary = {
        "scenario": scenario.scenario.name,
        "seed": seed,
        "introsim_version": __version__,
        "scenario_hash": scenario.digest(),
        "outcomes": {k: result.summary[k] for k in OUTCOMES},
        "costs": {
            k: v
            for k, v in result.summary.items()
            if k not in OUTCOMES and k not in LEDGER_OUTCOMES
        },
        "public_finances": {k: result.summary[k] for k in LEDGER_OUTCOMES},
        "participants": scenario.cohort.size,
        "weeks": scenario.scenario.weeks,
        "packages": package_versions(),
        "git_commit": git_commit(),
    }
    with staged_output(out) as stage:
        for table, df in (("weekly", result.weekly), ("participants", result.participants)):
            write_parquet(df, stage / f"{table}.parquet")
            write_csv(df, stage / f"{table}.csv")  # for spreadsheets
        if result.history is not None:
            # Parquet only: the panel is for analysis code; as CSV it is 7 times larger.
            write_parquet(result.history, stage / "history.parquet")
        write_json(summary, stage / "summary.json")
    if json_out:
        sys.stdout.write(json_text(summary) + "\n")
        return result.summary
    console = Console()
    shown_table = Table(
        title=f"{shown(scenario.scenario.name)}: {scenario.cohort.size} participants, "
        f"{scenario.scenario.weeks} weeks, seed {seed}",
        # One run is one draw of one cohort: say so beside its figures.
        caption=RUN_CAVEAT,
        caption_justify="left",
    )
    shown_table.add_column("outcome")
    shown_table.add_column("value", justify="right")
    shown_table.add_column("meaning")
    for name in OUTCOMES:
        shown_table.add_row(
            name, format_value(name, result.summary[name]), OUTCOME_INFO[name].label
        )
    console.print(shown_table)
    extra = ", history.parquet" if history else ""
    console.print(
        f"wrote {printable(out)}/weekly.parquet, participants.parquet, weekly.csv, "
        f"participants.csv{extra}, summary.json ({wall:.2f} s)",
        markup=False,
    )
    return result.summary
