"""``introsim run --history``: the participant-by-week panel agrees with every other table.

The panel is checked against the files written without it: weekly status
counts, each participant's exit week, exit status and status a year after exit,
end state and language. Recording it must not change any other result.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer

from introsim import cli
from introsim.experiments import executor
from introsim.model.state import PHASE_NAMES, STATUS_NAMES, WEEKS_12M
from introsim.output import MARKER
from introsim.params.loader import load_scenario
from introsim.params.schema import FULL_TIME_HOURS
from introsim.run import HISTORY_COLUMNS, history_memory, simulate

from clitools import ROOT, call_cli, stderr_lines, write

WEEKS = 170  # past the default programme length plus a year, so status 12 months after exit shows
SIZE = 160
TABLES = ("weekly.parquet", "participants.parquet", "weekly.csv", "participants.csv")


def scenario(tmp_path, method: str = "ips") -> str:
    """A small scenario with staggered arrivals and part-time jobs alongside the programme."""
    return str(
        write(
            tmp_path,
            f"{method}.toml",
            f'extends = "{ROOT / "scenarios" / "baseline.toml"}"\n'
            f'[scenario]\nname = "h"\nweeks = {WEEKS}\n'
            f"[cohort]\nsize = {SIZE}\nintake_weeks = 12\n"
            f'[follow_up]\nmethod = "{method}"\n',
        )
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same scenario and seed with and without --history, and a second --history run."""
    tmp = tmp_path_factory.mktemp("history")
    path = scenario(tmp)
    out = {}
    for label, extra in (("plain", ()), ("a", ("--history",)), ("b", ("--history",))):
        out[label] = tmp / label
        res = call_cli("run", path, "--seed", "5", "--out", out[label], *extra)
        assert res.returncode == 0, res.stderr
    res = call_cli("run", path, "--seed", "6", "--out", tmp / "c", "--history")
    assert res.returncode == 0, res.stderr
    out["c"] = tmp / "c"
    return out


@pytest.fixture(scope="module")
def tables(runs):
    d = runs["a"]
    return (
        pd.read_parquet(d / "history.parquet"),
        pd.read_parquet(d / "weekly.parquet"),
        pd.read_parquet(d / "participants.parquet"),
    )


def test_one_row_per_participant_and_week_with_the_model_names(tables):
    history, _, participants = tables
    assert list(history.columns) == list(HISTORY_COLUMNS)
    assert len(history) == len(participants) * WEEKS == SIZE * WEEKS
    expected = pd.MultiIndex.from_product([range(SIZE), range(WEEKS)])
    assert pd.MultiIndex.from_frame(history[["participant", "week"]]).equals(expected)
    assert list(history["status"].cat.categories) == list(STATUS_NAMES)
    assert list(history["phase"].cat.categories) == list(PHASE_NAMES)
    assert history["status"].notna().all() and history["phase"].notna().all()


def test_weekly_status_counts_equal_the_panel_counts(tables):
    history, weekly, _ = tables
    counts = pd.crosstab(history["week"], history["status"], dropna=False)
    counts = counts.reindex(columns=list(STATUS_NAMES), fill_value=0)
    assert np.array_equal(counts.to_numpy(), weekly[list(STATUS_NAMES)].to_numpy())


def test_flags_follow_the_status(tables):
    history = tables[0]
    status = history["status"].astype(str)
    assert (history["in_work"] == status.isin(["employed", "subsidised"])).all()
    assert (history["subsidised"] == (status == "subsidised")).all()
    assert (history["in_education"] == (status == "education")).all()
    assert history.loc[status == "programme", "in_programme"].all()
    assert not history.loc[status.isin(["not_arrived", "waiting"]), "in_programme"].any()
    # Part-time jobs alongside the programme occur in this scenario (the check is not vacuous).
    part_time = history["in_programme"] & history["in_work"]
    assert part_time.any()


def test_hours_worked_are_a_full_week_or_what_the_programme_leaves(tables):
    history = tables[0]
    methods = load_scenario(ROOT / "scenarios" / "baseline.toml").methods.model_dump()
    hours = history["hours_worked"].to_numpy()
    assert (hours[~history["in_work"].to_numpy()] == 0).all()
    full = history["in_work"] & ~history["in_programme"]
    assert (history.loc[full, "hours_worked"] == FULL_TIME_HOURS).all()
    part = history["in_work"] & history["in_programme"]
    allowed = {np.float32(FULL_TIME_HOURS - m["training_hours"]) for m in methods.values()}
    assert part.any() and set(history.loc[part, "hours_worked"].unique()) <= allowed


def test_the_programme_weeks_end_the_week_before_the_exit_week(tables):
    history, _, participants = tables
    started = ~history["status"].isin(["not_arrived", "waiting"])
    checked = 0
    for pid, rows in history.groupby("participant"):
        weeks = rows.loc[rows["in_programme"], "week"].to_numpy()
        exit_week = participants.loc[pid, "exit_week"]
        if weeks.size:  # one unbroken spell
            assert np.array_equal(weeks, np.arange(weeks[0], weeks[-1] + 1)), pid
        if np.isnan(exit_week):
            assert not weeks.size or weeks[-1] == WEEKS - 1, pid  # still in it at the horizon
        elif weeks.size:
            assert weeks[-1] + 1 == exit_week, pid
            checked += 1
        else:  # left in the week the programme began
            assert rows.loc[started[rows.index], "week"].iloc[0] == exit_week, pid
    assert checked > SIZE // 2


JOB_ENDED_AT_ONCE = {("employed", "unemployed"), ("subsidised", "unemployed")}


def test_exit_status_and_status_a_year_after_exit_match_the_panel(tables):
    history, _, participants = tables
    status = history["status"].astype(str).to_numpy().reshape(SIZE, WEEKS)
    left = participants.dropna(subset=["exit_week"])
    assert len(left) > SIZE // 2
    seen = moved = ended_at_once = 0
    for pid, row in left.iterrows():
        week = int(row["exit_week"])
        if status[pid, week] != row["exit_status"]:
            # The exit status is the status at the moment of leaving; the panel holds the end
            # of the week. A job started in the exit week can end in that same week (the
            # separation hazard applies from the first week): left for work, unemployed by
            # the week's end. Nothing else may differ, and it must stay rare.
            assert (row["exit_status"], status[pid, week]) in JOB_ENDED_AT_ONCE, pid
            ended_at_once += 1
        later = week + WEEKS_12M
        if later < WEEKS and pd.isna(row["status_12m_after_exit"]):
            # Moved out of the municipality before the year was up: no longer observed. The
            # panel has no status for a mover; it shows them inactive from then to the end.
            assert (status[pid, later:] == "inactive").all(), pid
            moved += 1
        elif later < WEEKS:
            assert status[pid, later] == row["status_12m_after_exit"], pid
            seen += 1
        else:
            assert pd.isna(row["status_12m_after_exit"]), pid
    assert seen > SIZE // 4
    assert moved < seen // 4  # about 8 % a year move on
    assert ended_at_once <= max(2, len(left) // 50)
    assert participants.loc[participants["exit_week"].isna(), "exit_status"].isna().all()
    assert participants["status_12m_after_exit"].cat.categories.tolist() == list(STATUS_NAMES)


def test_the_last_week_is_the_end_state(tables):
    history, _, participants = tables
    last = history[history["week"] == WEEKS - 1].set_index("participant")
    assert (last["status"].astype(str) == participants["status_end"].astype(str)).all()
    assert np.array_equal(last["language"].to_numpy(), participants["language_end"].to_numpy())
    first = history[history["week"] == 0]["language"].to_numpy()
    assert (first >= participants["language_start"].to_numpy()).all()


def test_same_seed_same_bytes_and_other_results_unchanged(runs):
    a, b, c, plain = (runs[k] for k in ("a", "b", "c", "plain"))
    assert (a / "history.parquet").read_bytes() == (b / "history.parquet").read_bytes()
    assert (a / "history.parquet").read_bytes() != (c / "history.parquet").read_bytes()
    assert not (plain / "history.parquet").exists()
    for name in (*TABLES, "summary.json"):
        assert (a / name).read_bytes() == (plain / name).read_bytes(), name
    assert "history.parquet" in json.loads((a / MARKER).read_text())["files"]


def test_simulate_returns_the_panel_only_when_asked(tmp_path):
    sc = load_scenario(scenario(tmp_path, "se"))
    without, with_ = simulate(sc, 2), simulate(sc, 2, history=True)
    assert without.history is None
    assert len(with_.history) == SIZE * WEEKS
    bits = lambda summary: {k: np.float64(v).tobytes() for k, v in summary.items()}  # noqa: E731
    assert bits(without.summary) == bits(with_.summary)  # NaN included
    pd.testing.assert_frame_equal(without.participants, with_.participants)
    pd.testing.assert_frame_equal(without.weekly, with_.weekly)


def test_a_panel_too_large_for_memory_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    path = scenario(tmp_path)
    sc = load_scenario(path)
    run_alone = executor.memory_needed(sc)
    assert history_memory(sc) > 0
    # Enough for the run, not for the run and its panel.
    monkeypatch.setattr(executor, "available_memory", lambda: run_alone + history_memory(sc) // 2)
    out = tmp_path / "o"
    with pytest.raises(typer.Exit) as exit_info:
        cli.run(path, seed=None, out=str(out), json_out=False, history=True)
    assert exit_info.value.exit_code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GiB" in err[0] and "--history" in err[0], err
    assert not out.exists()
    cli.run(path, seed=None, out=str(out), json_out=False, history=False)
    assert (out / "summary.json").exists() and not (out / "history.parquet").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("run", "{scenario}", "--history", "yes"),  # a flag takes no value
        ("run", "{scenario}", "--history=1"),
        ("compare", "{scenario}", "{scenario}", "--history"),  # only run has it
    ],
)
def test_bad_combinations_exit_2_in_one_line_writing_nothing(tmp_path, args):
    path = scenario(tmp_path)
    out = tmp_path / "never"
    res = call_cli(*(a.format(scenario=path) for a in args), "--out", out)
    assert res.returncode == 2, res.stdout + res.stderr
    assert len(stderr_lines(res)) == 1, res.stderr
    assert not out.exists()


def test_readme_lists_every_history_column():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "--history" in text
    for column in HISTORY_COLUMNS:
        assert f"`{column}`" in text, column
