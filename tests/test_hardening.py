"""Hostile input and faults: each test reproduces one way the tool used to crash, hang or leak."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import typing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from pydantic import BaseModel
from rich.console import Console

from introsim import cli, output, progress
from introsim.experiments import executor, study
from introsim.experiments.compare import (
    MAX_REPLICATIONS,
    Comparison,
    compare,
    results_memory,
    write_outputs,
)
from introsim.experiments.statistics import (
    CLIPPED,
    FEW_REPLICATES,
    MIN_REPLICATES,
    bounded_interval,
    t_interval,
)
from introsim.output import (
    MARKER,
    MAX_FOLDER_NAME,
    folder_name,
    output_folder_problem,
    staged_output,
    write_csv,
    write_text,
)
from introsim.params.document import MAX_FILE_BYTES
from introsim.params.loader import ScenarioError, load_scenario
from introsim.params.schema import MAX_NAME_LENGTH, Scenario
from introsim.reporting import compare_report

from clitools import call_cli, stderr_lines, write


def one_line_error(result) -> str:
    """The single error line of a refused command (exit 2, no traceback)."""
    lines = stderr_lines(result)
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# --------------------------------------------------------------------------- 1. symlink loops
def test_symlink_loop_is_one_line(tmp_path: Path) -> None:
    loop = tmp_path / "main.toml"
    loop.symlink_to("main.toml")
    res = call_cli("validate", loop)
    assert "symbolic link loop" in one_line_error(res)


def test_extends_through_a_symlink_loop_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.toml").symlink_to("b.toml")
    (tmp_path / "b.toml").symlink_to("a.toml")
    child = write(tmp_path, "child.toml", 'extends = "a.toml"\n[scenario]\nname = "c"\n')
    with pytest.raises(ScenarioError, match="symbolic link loop"):
        load_scenario(child)


# --------------------------------------------------------------------------- 2. devices, FIFOs
def test_extends_dev_zero_is_refused_without_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "z.toml", 'extends = "/dev/zero"\n')
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario(path)


def test_extends_fifo_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.toml")
    path = write(tmp_path, "f.toml", 'extends = "pipe.toml"\n')
    for args in (["validate", path], ["run", path, "--out", tmp_path / "o"]):
        res = call_cli(*args)
        assert "named pipe" in one_line_error(res), args
    assert not (tmp_path / "o").exists()


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "big.toml", "#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ScenarioError, match="larger than"):
        load_scenario(path)


def test_deeply_nested_toml_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.toml", "a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ScenarioError, match="nested too deeply"):
        load_scenario(path)


# --------------------------------------------------------------------------- 4. bounds
def numeric_fields(model: type[BaseModel] = Scenario, prefix: str = "") -> dict[str, typing.Any]:
    """Every numeric field of the schema (tuple items included) with its FieldInfo."""
    found = {}
    for name, info in model.model_fields.items():
        dotted = f"{prefix}{name}"
        annotation = info.annotation
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        plain = args[0] if len(args) == 1 and typing.get_origin(annotation) else annotation
        if isinstance(plain, type) and issubclass(plain, BaseModel):
            found |= numeric_fields(plain, f"{dotted}.")
        elif plain in (int, float):
            found[dotted] = info.metadata
        elif typing.get_origin(plain) is tuple:
            items = typing.get_args(plain)
            if (items and items[-1] is not Ellipsis and items[0] in (int, float)) or any(
                typing.get_origin(a) is typing.Annotated for a in items
            ):
                found[dotted] = [
                    bound
                    for a in items
                    for m in getattr(a, "__metadata__", ())
                    for bound in getattr(m, "metadata", [m])
                ]
    return found


def test_every_numeric_field_has_an_upper_bound() -> None:
    fields = numeric_fields()
    assert len(fields) > 50  # the walk found the schema's numbers
    shares: set[str] = set()  # fields bounded only by a rule of their own
    unbounded = [
        name
        for name, metadata in fields.items()
        if name not in shares
        and not any(getattr(m, "le", None) is not None or getattr(m, "lt", None) for m in metadata)
    ]
    assert unbounded == []


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("follow_up", "after_follow_up_weeks", "1e20"),
        ("cohort", "intake_weeks", "1e19"),
        ("cohort", "intake_weeks", "1e9"),
        ("follow_up", "specialists", "1e9"),
        ("labour_market", "employers_per_participant", "1e9"),
        ("labour_market", "employers_per_participant", "1e308"),
        ("mechanisms", "productivity_base", "1e308"),
        ("mechanisms", "productivity_per_education", "1e308"),
        ("costs", "g_nok", "1e308"),
        ("follow_up", "hours_per_employer_contact", "1e-300"),
    ],
)
def test_huge_values_are_refused_by_validate(tmp_path: Path, section, key, value) -> None:
    path = write(tmp_path, "big.toml", f"[{section}]\n{key} = {value}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert f"{section}.{key}:" in str(err.value) and "\n" not in str(err.value)


def test_huge_value_is_refused_by_run_before_simulating(tmp_path: Path) -> None:
    path = write(tmp_path, "big.toml", "[labour_market]\nemployers_per_participant = 1e9\n")
    res = call_cli("run", path, "--out", tmp_path / "o")
    assert "employers_per_participant" in one_line_error(res)
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- 10. control chars
@pytest.mark.parametrize("name", ["a\\u001b[31mred", "nul\\u0000", "two\\nlines", "tab\\there"])
def test_control_characters_in_names_are_refused(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, "c.toml", f'[scenario]\nname = "{name}"\n')
    res = call_cli("validate", path)
    line = one_line_error(res)
    assert "control characters" in line and "\x1b" not in res.stderr and "\x00" not in res.stderr


def test_control_characters_in_file_names_are_escaped_when_printed(tmp_path: Path) -> None:
    path = write(tmp_path, "evil\x1b[31m.toml", "[scenario]\nname = 1\n")
    res = call_cli("validate", path)
    assert "\\x1b[31m" in one_line_error(res) and "\x1b" not in res.stderr
    ok = write(tmp_path, "ok\x1b[2J.toml", '[scenario]\nname = "fine"\n')
    res = call_cli("validate", ok)
    assert res.returncode == 0 and "\x1b" not in res.stdout and "\\x1b[2J" in res.stdout


# --------------------------------------------------------------------------- output folders
def tiny(tmp_path: Path, name: str, file: str = "tiny.toml", extra: str = "") -> Path:
    """A scenario that runs in well under a second."""
    text = f"[scenario]\nname = {name}\nweeks = 20\n[cohort]\nsize = 20\n{extra}"
    return write(tmp_path, file, text)


def publish(out: Path, files: dict[str, str]) -> None:
    with staged_output(out) as stage:
        for name, text in files.items():
            write_text(text, stage / name)


def test_long_scenario_names_make_bounded_distinct_folders(tmp_path: Path) -> None:
    a, b = folder_name("x" * 300 + "a"), folder_name("x" * 300 + "b")
    assert a != b and len(a) <= MAX_FOLDER_NAME and len(b) <= MAX_FOLDER_NAME
    # An --out whose own name is near the file system's limit still stages beside it.
    out = tmp_path / ("y" * 250)
    publish(out, {"a.txt": "1"})
    publish(out, {"a.txt": "2"})
    assert (out / "a.txt").read_text() == "2"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_long_scenario_name_runs_twice(tmp_path: Path) -> None:
    path = tiny(tmp_path, '"' + "n" * MAX_NAME_LENGTH + '"')
    for _ in range(2):
        res = call_cli("run", path, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
    (folder,) = (tmp_path / "out").iterdir()
    assert (folder / "summary.json").is_file()


def test_out_in_read_only_parent_is_refused_before_running(tmp_path, monkeypatch) -> None:
    parent = tmp_path / "ro"
    (parent / "out").mkdir(parents=True)
    real_access = os.access
    # Emulate a read-only parent even when the tests run as root (who may write anywhere).
    monkeypatch.setattr(
        study.os, "access", lambda p, mode: Path(p) != parent and real_access(p, mode)
    )
    with pytest.raises(study.StudyError, match="no permission"):
        study.check_out_dir(parent / "out")


def test_failed_write_leaves_the_old_folder_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    publish(out, {"manifest.json": "old", "weekly.parquet": "old"})
    with pytest.raises(OSError), staged_output(out) as stage:
        write_text("new", stage / "manifest.json")
        raise OSError(28, "No space left on device")
    assert {p.name: p.read_text() for p in out.iterdir() if p.name != MARKER} == {
        "manifest.json": "old",
        "weekly.parquet": "old",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left


def test_failed_publish_leaves_the_old_folder_whole(tmp_path, monkeypatch) -> None:
    out = tmp_path / "out"
    publish(out, {"manifest.json": "old", "weekly.parquet": "old"})

    def broken(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(output, "_exchange", broken)
    with pytest.raises(OSError):
        publish(out, {"manifest.json": "new", "comparison.csv": "new"})
    assert {p.name: p.read_text() for p in out.iterdir() if p.name != MARKER} == {
        "manifest.json": "old",
        "weekly.parquet": "old",
    }


def test_publish_replaces_the_whole_folder_also_without_exchange(tmp_path, monkeypatch) -> None:
    out = tmp_path / "out"
    publish(out, {"manifest.json": "old", "weekly.parquet": "old"})
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    publish(out, {"manifest.json": "new", "comparison.csv": "new"})
    names = {p.name: p.read_text() for p in out.iterdir() if p.name != MARKER}
    assert names == {"manifest.json": "new", "comparison.csv": "new"}  # nothing of the old run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_staging_of_a_killed_run_is_removed_and_noted(tmp_path: Path) -> None:
    stale = tmp_path / f".out.staging-{dead_pid()}-abc"
    stale.mkdir()
    write(stale, "weekly.parquet", "half")
    live = tmp_path / f".out.staging-{os.getpid()}-abc"  # a run still writing: left alone
    live.mkdir()
    problem, notes = output_folder_problem(tmp_path / "out")
    assert problem is None and not stale.exists() and live.exists()
    assert len(notes) == 1 and "killed" in notes[0]


def test_next_run_notes_stale_staging_and_altered_folder(tmp_path: Path) -> None:
    path = tiny(tmp_path, '"t"')
    out = tmp_path / "out"
    res = call_cli("run", path, "--out", out)
    assert res.returncode == 0, res.stderr
    (out / "weekly.parquet").unlink()  # half a folder, as an old publish-file-by-file could leave
    (tmp_path / f".out.staging-{dead_pid()}-x").mkdir()
    res = call_cli("run", path, "--out", out)
    assert res.returncode == 0, res.stderr
    notes = [line for line in stderr_lines(res) if line.startswith("note: ")]
    assert any("killed" in n for n in notes) and any("incomplete" in n for n in notes)
    assert (out / "weekly.parquet").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tiny.toml"]


def test_folder_not_written_by_introsim_is_refused(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    write(mixed, "manifest.json", "{}")  # an old-style folder: no list of what belongs
    problem, _ = output_folder_problem(mixed)
    assert problem is not None and MARKER in problem
    ours = tmp_path / "ours"
    publish(ours, {"a.txt": "1"})
    write(ours, "my notes.txt", "keep me")
    problem, _ = output_folder_problem(ours)
    assert problem is not None and "my notes.txt" in problem


def test_empty_out_is_refused(tmp_path: Path) -> None:
    path = tiny(tmp_path, '"t"')
    for command in ("run", "compare"):
        args = [path, path] if command == "compare" else [path]
        res = call_cli(command, *args, "--out", "", cwd=tmp_path)
        assert "empty" in one_line_error(res)
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.toml"]


# --------------------------------------------------------------------------- 8. CSV
def test_write_csv_neutralises_formulas(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "scenario": ['=HYPERLINK("https://evil.example","click")', "+1", "@SUM(A1)", "ok"],
            "=cmd": ["-2", "\tx", "\ry", "plain"],
            "value": [-1.5, 2.0, 3.0, 4.0],
        }
    )
    write_csv(df, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert list(back.columns) == ["scenario", "'=cmd", "value"]
    assert back["scenario"].tolist()[:3] == [
        '\'=HYPERLINK("https://evil.example","click")',
        "'+1",
        "'@SUM(A1)",
    ]
    # A tab or carriage return is written as its escape, which no spreadsheet runs.
    assert back["'=cmd"].tolist() == ["'-2", "\\tx", "\\ry", "plain"]
    assert back["value"].tolist() == [-1.5, 2.0, 3.0, 4.0]  # numbers stay numbers


# --------------------------------------------------------------------------- 4. memory
def test_memory_estimate_refuses_before_allocating(tmp_path, monkeypatch, capsys) -> None:
    path = tiny(tmp_path, '"m"')
    sc = load_scenario(path)
    need = executor.memory_needed(sc)
    assert need > 0
    bigger = sc.with_overrides({"cohort.size": 10 * sc.cohort.size})
    assert executor.memory_needed(bigger) > 5 * need  # grows with the cohort
    monkeypatch.setattr(executor, "available_memory", lambda: need // 2)
    with pytest.raises(typer.Exit) as exit_info:
        cli.run(path, seed=None, out=str(tmp_path / "o"), json_out=False)
    assert exit_info.value.exit_code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GiB" in err[0] and "cohort.size" in err[0]
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- 5. signals
def descendants_after_kill(tmp_path: Path, signum: int) -> tuple[list, float | None, str]:
    """Start a long comparison on 2 workers, send ``signum`` once they run, see who is left."""
    psutil = pytest.importorskip("psutil")
    a, b = tiny(tmp_path, '"a"', "a.toml"), tiny(tmp_path, '"b"', "b.toml")
    env = dict(os.environ, PYTHONPATH=str(Path(cli.__file__).parents[1]))
    command = [sys.executable, "-m", "introsim", "compare", a, b, "-r", "5000", "-j", "2"]
    children: list = []
    proc = subprocess.Popen(
        [*map(str, command), "--out", str(tmp_path / "o")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            children = parent.children(recursive=True)
            if len(children) >= 4:  # resource tracker, fork server, two workers
                break
            time.sleep(0.1)
        assert len(children) >= 4, proc.stderr.read().decode() if proc.poll() is not None else ""
        proc.send_signal(signum)
        try:
            _, err = proc.communicate(timeout=30)  # returns once every holder of the pipes is gone
            closed = True
        except subprocess.TimeoutExpired:
            closed, err = False, b""
        alive = psutil.wait_procs(children, timeout=10)[1]
        return alive, proc.returncode if closed else None, err.decode()
    finally:
        for child in children:  # only what this test started
            with contextlib.suppress(psutil.Error):
                child.kill()
        proc.kill()
        proc.wait()


needs_two_cores = pytest.mark.skipif(executor.usable_cores() < 2, reason="needs 2 usable cores")


@needs_two_cores
def test_sigterm_stops_compare_cleanly_and_leaves_no_process(tmp_path: Path) -> None:
    alive, code, err = descendants_after_kill(tmp_path, signal.SIGTERM)
    assert alive == []
    # Finished runs are kept for a resume; no result is published.
    assert code == 128 + signal.SIGTERM and "interrupted: finished runs are kept" in err
    assert "Traceback" not in err and not (tmp_path / "o" / "comparison.csv").exists()


@needs_two_cores
def test_sigkill_of_compare_leaves_no_process(tmp_path: Path) -> None:
    alive, code, _ = descendants_after_kill(tmp_path, signal.SIGKILL)
    assert alive == [] and code == -signal.SIGKILL


# --------------------------------------------------------------------------- 12. --jobs cap
def test_jobs_capped_at_usable_cores_with_a_note(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(executor, "usable_cores", lambda: 1)  # a one-core machine: no pool
    a, b = tiny(tmp_path, '"a"', "a.toml"), tiny(tmp_path, '"b"', "b.toml")
    res = call_cli("compare", a, b, "-r", "2", "-j", "64", "--json", "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    assert "note: --jobs 64 is more than the 1 usable cores; using 1" in res.stderr
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["jobs"] == 1
    pool = executor.make_pool(64)  # no worker starts before work is submitted
    try:
        assert pool._max_workers == 1
    finally:
        pool.shutdown()


# --------------------------------------------------------------------------- 13. progress
class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def plain_console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=False, width=200), buffer


def test_long_work_is_announced_after_the_first_runs() -> None:
    console, buffer = plain_console()
    clock = FakeClock()
    total = 100_000
    with progress.progress_reporter("sweep", total, console=console, clock=clock) as tick:
        tick(0, total)
        clock.now += 600  # start-up (compiling, starting workers) before the first run
        tick(1, total)
        assert "note:" not in buffer.getvalue()
        clock.now += progress.ESTIMATE_AFTER_S
        tick(11, total)  # then 10 runs in 3 s: 100 000 runs take 10 min + about 8.3 h
    notes = [line for line in buffer.getvalue().splitlines() if line.startswith("note:")]
    assert notes == ["note: sweep: about 8.5 h for 100000 runs (estimated from runs 2 to 11)"]


def test_time_left_leaves_out_the_start_up_and_waits_for_a_rate() -> None:
    # As a study on a pool: 40 s compiling the kernels, then the first batch of 32 runs at once,
    # then 32 runs every 2 s (800 runs in 57.5 s, nowhere near the 16 min the first line said).
    console, buffer = plain_console()
    clock = FakeClock()
    with progress.progress_reporter("study", 800, console=console, clock=clock) as tick:
        tick(0, 800)
        clock.now += 40
        tick(32, 800)
        clock.now += progress.PLAIN_EVERY_S  # 5 batches of 32 runs later
        tick(192, 800)
    lines = [line for line in buffer.getvalue().splitlines() if not line.startswith("note:")]
    first, second = lines
    assert first == "study: 32/800 runs (4 %), 40 s"  # no rate yet: no estimate
    assert second == "study: 192/800 runs (24 %), 50 s, about 38 s left"  # 608 runs at 16/s


def test_short_work_is_not_announced_and_plain_lines_are_spaced() -> None:
    console, buffer = plain_console()
    clock = FakeClock()
    with progress.progress_reporter("cmp", 40, console=console, clock=clock) as tick:
        for done in range(41):
            clock.now += progress.LONG_RUN_S / 80  # 40 runs in half the time that is long
            tick(done, 40)
    lines = buffer.getvalue().splitlines()
    assert not any(line.startswith("note:") for line in lines)
    assert lines[-1].startswith("cmp: 40/40 runs (100 %)")
    expected = progress.LONG_RUN_S / 2 / progress.PLAIN_EVERY_S + 1  # one per interval, one at end
    assert expected - 1 <= len(lines) <= expected + 1  # not one per run


def test_piped_compare_prints_plain_progress(tmp_path: Path) -> None:
    a, b = tiny(tmp_path, '"a"', "a.toml"), tiny(tmp_path, '"b"', "b.toml")
    res = call_cli("compare", a, b, "-r", "3", "--json", "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    assert "2 scenarios × 3 replicates: 6/6 runs (100 %)" in res.stderr
    assert "\x1b[" not in res.stderr  # no terminal codes in a pipe


# --------------------------------------------------------------------------- 14. share intervals
def test_share_intervals_stay_within_0_and_1_and_say_so() -> None:
    # Cohort of 2, three replicates: shares 0, 1, 0 give a t interval of about -74 % to 174 %.
    n, mean, lo, hi, _, note = bounded_interval(np.array([0.0, 1.0, 0.0]), 0.0, 1.0)
    assert n == 3 and mean == pytest.approx(1 / 3)
    assert (lo, hi) == (0.0, 1.0)
    assert CLIPPED in note and FEW_REPLICATES in note
    _, _, raw_lo, raw_hi, _ = t_interval(np.array([0.0, 1.0, 0.0]))
    assert raw_lo < 0 and raw_hi > 1  # what the plain t interval said
    many = np.linspace(0.4, 0.6, MIN_REPLICATES)
    assert bounded_interval(many, 0.0, 1.0)[-1] == ""  # inside the range, enough replicates


def test_comparison_of_a_tiny_cohort_keeps_shares_in_range(tmp_path: Path) -> None:
    scenarios = [
        load_scenario(
            write(
                tmp_path,
                f"{m}.toml",
                f'[scenario]\nname = "{m}"\nweeks = 60\n'
                f'[cohort]\nsize = 2\n[follow_up]\nmethod = "{m}"\n',
            )
        )
        for m in ("standard", "ips")
    ]
    result = compare(scenarios, replications=3)
    shares = result.table[result.table["unit"] == "share"]
    assert (shares[["ci_low", "ci_high"]].dropna() >= 0).all().all()
    assert (shares[["ci_low", "ci_high"]].dropna() <= 1).all().all()
    assert (shares[["diff_low", "diff_high"]].dropna().abs() <= 1).all().all()
    counted = shares[shares["n"].between(1, MIN_REPLICATES - 1)]
    assert len(counted) and counted["note"].str.contains(FEW_REPLICATES, regex=False).all()


# --------------------------------------------------------------------------- 8, 9. hostile names
LINK = '<a href="https://evil.example/x">ips</a>'
FORMULA = '=HYPERLINK("https://evil.example","click")'


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    folder = tmp_path_factory.mktemp("hostile")
    names = (FORMULA, LINK, "<b>ips</b>")
    scenarios = [
        load_scenario(tiny(folder, f"'{name}'", f"s{i}.toml", '[follow_up]\nmethod = "ips"\n'))
        for i, name in enumerate(names)
    ]
    return compare(scenarios, replications=2)


def test_formula_names_are_neutralised_in_comparison_csv(hostile, tmp_path: Path) -> None:
    write_outputs(hostile, tmp_path, manifest={})
    text = (tmp_path / "comparison.csv").read_text()
    table = pd.read_csv(tmp_path / "comparison.csv", keep_default_na=False)
    assert set(table["scenario"]) == {"'" + FORMULA, LINK, "<b>ips</b>"}
    assert '\n"=' not in text and "\n=" not in text and ',"=' not in text


def trace_texts(fig) -> list[str]:
    """Every string of a figure that plotly renders as markup."""
    texts = []
    for trace in fig.data:
        for key in ("name", "hovertemplate", "text", "legendgrouptitle"):
            value = getattr(trace, key, None)
            if isinstance(value, str):
                texts.append(value)
        for key in ("x", "y"):
            values = getattr(trace, key, None)
            if values is not None and len(values) and isinstance(values[0], str):
                texts.extend(values)
    layout = fig.layout
    texts += [a.text for a in layout.annotations or () if a.text]
    for axis in ("xaxis", "xaxis2", "yaxis"):
        ax = getattr(layout, axis, None)
        if ax is not None and ax.ticktext is not None:
            texts.extend(ax.ticktext)
    return texts


def test_names_are_escaped_in_every_chart(hostile) -> None:
    figures = [
        compare_report._employment_chart(hostile),
        compare_report._status_chart(hostile),
        compare_report._distribution_chart(hostile),
        compare_report._costs_chart(hostile),
        compare_report._subgroup_chart(hostile),
    ]
    texts = [t for fig in figures for t in trace_texts(fig)]
    assert texts and not any("<a " in t or "<b>ips" in t for t in texts)
    assert any("&lt;a href=" in t for t in texts) and any("&lt;b&gt;ips" in t for t in texts)
    html_text = compare_report.report_html(hostile)
    assert '<a href=\\"https://evil.example' not in html_text
    assert '<a href="https://evil.example' not in html_text


def test_replications_beyond_the_limit_are_refused(tmp_path: Path) -> None:
    a, b = tiny(tmp_path, '"a"', "a.toml"), tiny(tmp_path, '"b"', "b.toml")
    too_many = str(MAX_REPLICATIONS + 1)
    res = call_cli("compare", a, b, "-r", too_many, "--out", tmp_path / "o")
    assert f"from 2 to {MAX_REPLICATIONS}" in one_line_error(res)
    sc = load_scenario(a)
    assert results_memory([sc, sc], MAX_REPLICATIONS) > results_memory([sc, sc], 2)


def test_markup_in_names_is_printed_as_written(tmp_path: Path) -> None:
    a = tiny(tmp_path, '"[red]a[/red]"', "a.toml")
    b = tiny(tmp_path, '"[bold]b"', "b.toml")
    res = call_cli("compare", a, b, "-r", "2", "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    assert "[red]a[/red]" in res.stdout and "[bold]b" in res.stdout
