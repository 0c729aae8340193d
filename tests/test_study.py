"""The study driver: resume, checked parts, all-or-nothing folders, executors that cannot run.

Stored studies must never publish a wrong result: a damaged part is named, set
aside and run again; a folder holds the old results or the new, never a mix;
an executor that cannot run answers in one line before anything is written.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from introsim.experiments.study import KINDS, Runner, load_study, study_kind
from introsim.output import MARKER

from clitools import call_cli, killed_at, stderr_lines, write

GRID = """\
[experiment]
name = "tiny_grid"
question = "Does the caseload matter in a small cohort?"
base = "base.toml"
replications = 2
seed = 11
design = "grid"

[factors]
"follow_up.caseload" = { levels = [10, 20, 30] }
"""
RESULTS = ("runs.parquet", "runs.csv", "points.parquet", "points.csv")


@pytest.fixture
def grid(tmp_path: Path, small_files: dict[str, Path]) -> Path:
    """A 4-point grid × 2 replicates over the 200-participant test cohort."""
    write(tmp_path, "base.toml", small_files["base"].read_text(encoding="utf-8"))
    return write(tmp_path, "grid.toml", GRID)


@pytest.fixture(scope="module")
def compare_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two 200-participant scenarios over 60 weeks."""
    folder = tmp_path_factory.mktemp("compare")
    base = "[scenario]\nname = '{n}'\nweeks = 60\nseed = 3\n[cohort]\nsize = 200\n"
    a = write(folder, "a.toml", base.format(n="a"))
    b = write(folder, "b.toml", base.format(n="b") + "[follow_up]\nmethod = 'ips'\n")
    return a, b


def _ok(*args: str | Path) -> None:
    res = call_cli(*args)
    assert res.returncode == 0, res.stderr


def _same(a: Path, b: Path, files: tuple[str, ...]) -> None:
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


# --------------------------------------------------------------------------- the registry
def test_every_kind_is_registered_and_runs_from_python(grid: Path, tmp_path: Path):
    assert {study_kind(k).kind for k in KINDS} == set(KINDS)
    study = load_study("sweep", grid)
    with Runner() as runner:
        sweep = study.run(runner)
    _ok("sweep", grid, "--out", tmp_path / "cli")
    assert len(sweep.runs) == 8 and study.name == "tiny_grid"
    stored = pd.read_parquet(tmp_path / "cli" / "runs.parquet")
    pd.testing.assert_frame_equal(sweep.runs, stored, check_dtype=False)


# --------------------------------------------------------------------------- compare
COMPARE_FILES = ("replicates.parquet", "comparison.csv", "weekly.parquet", "subgroups.parquet")


def test_killed_compare_resumes_to_the_same_bytes(compare_files, tmp_path: Path):
    a, b = compare_files
    whole, out = tmp_path / "whole", tmp_path / "killed"
    _ok("compare", a, b, "-r", "4", "--out", whole)
    assert killed_at("compare", a, b, "-r", "4", "--out", out, parts=3) == -signal.SIGKILL
    assert len(list((out / "parts").glob("*.parquet"))) == 3
    assert not (out / "comparison.csv").exists()
    _ok("compare", a, b, "-r", "4", "--out", out)
    _same(whole, out, COMPARE_FILES)
    # Other scenarios in the same folder: a comparison's folder is replaced, as it always was.
    _ok("compare", b, a, "-r", "4", "--out", out)
    assert "b" == json.loads((out / "manifest.json").read_text())["reference"]


def test_compare_on_dask_gives_the_same_bytes(compare_files, tmp_path: Path):
    a, b = compare_files
    _ok("compare", a, b, "-r", "3", "--out", tmp_path / "one")
    _ok("compare", a, b, "-r", "3", "--out", tmp_path / "dask", "--dask", "local")
    _same(tmp_path / "one", tmp_path / "dask", COMPARE_FILES)


# --------------------------------------------------------------------------- checked parts
@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, small_files) -> tuple[Path, Path]:
    """A finished sweep's folder and its experiment file."""
    folder = tmp_path_factory.mktemp("finished")
    write(folder, "base.toml", small_files["base"].read_text(encoding="utf-8"))
    path = write(folder, "grid.toml", GRID)
    _ok("sweep", path, "--out", folder / "whole")
    return folder / "whole", path


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_damaged_parts_are_set_aside_and_never_published(finished, tmp_path_factory, data):
    whole, path = finished
    out = tmp_path_factory.mktemp("damaged") / "out"
    shutil.copytree(whole, out)
    parts = sorted((out / "parts").glob("*.parquet"))
    hurt = data.draw(st.sets(st.sampled_from(parts), min_size=1, max_size=len(parts)))
    for part in hurt:
        raw = bytearray(part.read_bytes())
        if data.draw(st.booleans(), label="truncate"):
            raw = raw[: data.draw(st.integers(0, len(raw) - 1), label="keep")]
        else:
            for at in data.draw(st.sets(st.integers(0, len(raw) - 1), min_size=1, max_size=4)):
                raw[at] ^= data.draw(st.integers(1, 255), label="mask")
        part.write_bytes(bytes(raw))
    res = call_cli("sweep", path, "--out", out, "--json")
    assert res.returncode == 0, res.stderr
    for part in hurt:  # each named, set aside, and its runs run again
        assert str(part) in res.stderr and (out / "parts" / "bad" / part.name).is_file()
    _same(whole, out, RESULTS)
    runs = json.loads((out / "manifest.json").read_text())["resumed_runs"]
    assert runs == 8 - len(hurt)  # one run a part in this process


# --------------------------------------------------------------------------- whole folders
@pytest.mark.parametrize("point", ["staged", "swapped"])
def test_a_kill_while_publishing_leaves_the_old_or_the_new_folder(grid, tmp_path, point):
    out = tmp_path / "out"
    _ok("sweep", grid, "--out", out)
    old = {n: (out / n).read_bytes() for n in RESULTS}
    grid.write_text(GRID.replace("seed = 11", "seed = 12"), encoding="utf-8")
    assert killed_at("sweep", grid, "--out", out, "--fresh", point=point) == -signal.SIGKILL
    now = {n: (out / n).read_bytes() for n in RESULTS}
    marker = json.loads((out / MARKER).read_text())
    # The folder's marker lists exactly what it holds: the old results or the new, whole.
    assert (now == old) == (point == "staged")
    for name in RESULTS:
        assert marker["files"][name]["bytes"] == len(now[name])
    _ok("sweep", grid, "--out", out)  # the staging folder left behind is cleaned up
    assert not [p for p in tmp_path.iterdir() if ".staging-" in p.name]


def test_discover_refuses_runs_of_a_study_restarted_since(grid, tmp_path):
    out = tmp_path / "out"
    _ok("sweep", grid, "--out", out)
    # Cases of interest: the points below the median of the points' means (some, not all).
    means = pd.read_parquet(out / "runs.parquet").groupby("point")["employed_12m"].mean()
    below = f"{means.median() + 1e-9:.10f}"
    discover = ("discover", out, "--outcome", "employed_12m", "--below", below)
    _ok(*discover, "--out", tmp_path / "d1")
    grid.write_text(GRID.replace("seed = 11", "seed = 12"), encoding="utf-8")
    assert killed_at("sweep", grid, "--out", out, "--fresh", parts=1) == -signal.SIGKILL
    res = call_cli(*discover, "--out", tmp_path / "d2")
    assert res.returncode == 2 and len(stderr_lines(res)) == 1
    assert "has not finished" in res.stderr and not (tmp_path / "d2").exists()


def test_a_full_disk_while_publishing_keeps_the_old_folder(grid, tmp_path, monkeypatch):
    import errno

    from introsim.reporting import sweep_report

    out = tmp_path / "out"
    _ok("sweep", grid, "--out", out)
    old = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sweep_report, "write_report", full)
    grid.write_text(GRID.replace("seed = 11", "seed = 12"), encoding="utf-8")
    res = call_cli("sweep", grid, "--out", out, "--fresh")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert stderr_lines(res)[-1].endswith("could not write the results: No space left on device")
    now = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert {k: v for k, v in now.items() if k != "experiment.json"} == {
        k: v for k, v in old.items() if k != "experiment.json"
    }


def test_out_that_is_a_file_gets_one_message_everywhere(grid, compare_files, tmp_path):
    file = write(tmp_path, "file", "x")
    for args in (("sweep", grid), ("compare", *compare_files), ("run", compare_files[0])):
        res = call_cli(*args, "--out", file)
        assert res.returncode == 2 and len(stderr_lines(res)) == 1, args
        assert "--out must be a folder, found a file" in res.stderr, args
        res = call_cli(*args, "--out", "")
        assert res.returncode == 2 and "expected a folder name" in res.stderr, args


def test_a_full_disk_during_calibration_is_one_line(tmp_path, monkeypatch):
    import errno

    from introsim.experiments.store import RunStore

    def full(self, results):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(RunStore, "write", full)
    from clitools import ROOT

    res = call_cli("calibrate", ROOT / "calibration" / "default.toml", "--out", tmp_path / "o")
    assert res.returncode == 2 and len(stderr_lines(res)) == 1, res.stderr
    assert "No space left on device" in res.stderr and "Traceback" not in res.stderr


# --------------------------------------------------------------------------- executors
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _refused(grid: Path, tmp_path: Path, dask: str, message: str, within: float) -> None:
    out = tmp_path / "out"
    t0 = time.monotonic()
    res = call_cli("sweep", grid, "--out", out, "--dask", dask)
    assert time.monotonic() - t0 < within
    assert res.returncode == 2 and len(stderr_lines(res)) == 1, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()  # nothing half-made


def test_dask_that_is_not_an_address_is_one_line(grid, tmp_path):
    _refused(grid, tmp_path, "foo", "expected 'local' or a scheduler address", 5)


def test_dask_where_nothing_listens_is_one_line_at_once(grid, tmp_path):
    _refused(grid, tmp_path, f"tcp://127.0.0.1:{_free_port()}", "no scheduler answers", 5)


def test_dask_scheduler_without_workers_is_one_line_within_seconds(grid, tmp_path, monkeypatch):
    from distributed import LocalCluster

    from introsim.experiments import engine

    monkeypatch.setattr(engine, "WORKERS_S", 1.0)  # the wait is the same; the test need not be
    with LocalCluster(n_workers=0, dashboard_address=None, silence_logs=40) as cluster:
        _refused(grid, tmp_path, cluster.scheduler_address, "none joined within 1 s", 10)


def test_stored_values_keep_names_that_are_not_python_identifiers(tmp_path: Path):
    from introsim.experiments.engine import TaskResult
    from introsim.experiments.store import RunStore

    store = RunStore(tmp_path / "study")
    store.open({"study": "names"})
    value = {"people_work_or_education_at_exit": 12.0, "share.in-work": 0.25, "2nd": 3.0}
    store.write([TaskResult("a" * 16, value, "")])
    loaded = RunStore(tmp_path / "study").load(["a" * 16])
    assert loaded["a" * 16].value == value
