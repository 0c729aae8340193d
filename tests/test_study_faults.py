"""Every study command, killed or out of disk at chosen points, leaves a whole folder.

For compare, sweep, sensitivity, trial, calibrate and municipalities: a SIGKILL after the first
stored part, after the results are staged and after the folders are swapped
(``INTROSIM_STOP_AFTER_PARTS``, ``INTROSIM_STOP_AT``; test_study.py kills a sweep
started afresh), and a full disk at each
write a publication makes and at the first writes of a fresh study (every file
introsim writes goes through one atomic writer, made to raise ENOSPC at its k-th
call), leave the folder holding the previous complete results or the new ones,
never a mix, and a rerun then gives the same bytes as an uninterrupted run.
"""

from __future__ import annotations

import errno
import hashlib
import shutil
import signal
from pathlib import Path

import pandas as pd
import pytest

from introsim import output
from introsim.output import MARKER, published_files

from clitools import ROOT, call_cli, killed_in_fork, stderr_lines, write

# What each kind's folder holds besides its stored work; the data files must match bytes.
DATA = {
    "compare": ("replicates.parquet", "comparison.csv", "weekly.parquet", "subgroups.parquet"),
    "sweep": ("runs.parquet", "runs.csv", "points.parquet", "points.csv"),
    "sensitivity": ("indices.parquet", "indices.csv", "runs.parquet", "runs.csv"),
    "trial": ("trials.parquet", "power.csv"),
    "calibrate": ("posterior.toml", "members.csv", "targets.csv", "parameters.csv", "waves.csv"),
    "municipalities": ("runs.parquet", "municipalities.csv", "decomposition.csv"),
}
PANEL = """\
[panel]
name = "tiny"
question = "Two municipalities"
profile = "{profile}"
codes = ["1101", "5636"]
replications = 2
seed = 5

[[policy]]
name = "today"
scenario = "base.toml"

[[policy]]
name = "ips"
scenario = "ips.toml"
"""
KINDS = list(DATA)


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory, small_files) -> dict[str, tuple]:
    """Each command's arguments for a tiny study of an 80-participant cohort over 60 weeks."""
    from test_analyst import GRID, MORRIS
    from test_calibration import CALIBRATION, TARGETS
    from test_trial import _trial_file

    root = tmp_path_factory.mktemp("studies")
    base = small_files["base"].read_text(encoding="utf-8")
    base = base.replace("weeks = 120", "weeks = 60").replace("size = 200", "size = 80")
    write(root, "base.toml", base)
    write(root, "ips.toml", small_files["ips"].read_text(encoding="utf-8"))
    write(root, "targets.toml", TARGETS)
    profile = (ROOT / "municipalities" / "norway_2023.csv").as_posix()
    trial = _trial_file(root / "t", small_files, sizes="[40]", designs='["individual"]')
    return {
        "compare": (root / "base.toml", root / "ips.toml", "-r", "2"),
        "sweep": (write(root, "grid.toml", GRID),),
        "sensitivity": (write(root, "morris.toml", MORRIS),),
        "trial": (trial,),
        "calibrate": (write(root, "cal.toml", CALIBRATION.format(points=8)),),
        "municipalities": (write(root, "panel.toml", PANEL.format(profile=profile)),),
    }


@pytest.fixture(scope="module")
def whole(studies, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each study run once without interruption: the bytes every other run must give."""
    root = tmp_path_factory.mktemp("whole")
    for kind, args in studies.items():
        res = call_cli(kind, *args, "--out", root / kind)
        assert res.returncode == 0, (kind, res.stderr)
    return {kind: root / kind for kind in studies}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_whole(out: Path, kind: str) -> bool:
    """The folder holds complete results listed by its marker, or no results at all.

    Returns:
        Whether it holds results.
    """
    marker = published_files(out)
    present = [name for name in DATA[kind] if (out / name).exists()]
    if marker is None:
        assert present == [], f"{out} holds {present} without a marker: a mix"
        return False
    listed = marker["files"]
    assert set(DATA[kind]) <= set(listed), listed
    for name, about in listed.items():
        path = out / name
        assert path.is_file(), f"{name} is listed but missing"
        assert path.stat().st_size == about["bytes"], name
        if "sha256" in about:
            assert _sha(path) == about["sha256"], name
    return True


def assert_same(a: Path, b: Path, kind: str) -> None:
    for name in DATA[kind]:
        assert (a / name).read_bytes() == (b / name).read_bytes(), (kind, name)


def no_staging(parent: Path) -> None:
    assert not [p.name for p in parent.iterdir() if ".staging-" in p.name or ".old-" in p.name]


# --------------------------------------------------------------------------- kills
@pytest.mark.parametrize("kind", KINDS)
def test_a_kill_at_each_point_leaves_a_whole_folder_and_resumes_to_the_same_bytes(
    kind, studies, whole, tmp_path
):
    args, out = studies[kind], tmp_path / "out"
    # After the first stored part: runs kept, no results.
    assert killed_in_fork(kind, *args, "--out", out, parts=1) == -signal.SIGKILL
    assert (out / "parts").is_dir() and not assert_whole(out, kind)
    # After the results are staged beside the folder, before they are published: none yet.
    assert killed_in_fork(kind, *args, "--out", out, point="staged") == -signal.SIGKILL
    assert not assert_whole(out, kind)
    res = call_cli(kind, *args, "--out", out)
    assert res.returncode == 0, res.stderr
    assert assert_whole(out, kind)
    assert_same(whole[kind], out, kind)
    no_staging(tmp_path)
    # Published again and killed once the new folder is in place: the new one, whole.
    assert killed_in_fork(kind, *args, "--out", out, point="swapped") == -signal.SIGKILL
    assert assert_whole(out, kind)
    assert_same(whole[kind], out, kind)
    res = call_cli(kind, *args, "--out", out)  # the old folder left beside it is cleaned up
    assert res.returncode == 0, res.stderr
    assert_same(whole[kind], out, kind)
    no_staging(tmp_path)


# --------------------------------------------------------------------------- full disks
class FullDisk:
    """``output._atomic`` (every file introsim writes) raising ENOSPC at its k-th call."""

    def __init__(self, at: int) -> None:
        self.at, self.calls = at, 0
        self.write = output._atomic

    def __call__(self, path: Path, write) -> None:
        self.calls += 1
        if self.calls == self.at:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.write(path, write)


def _writes(kind: str, args: tuple, out: Path, monkeypatch) -> int:
    """How many files a run of the study into ``out`` writes."""
    counter = FullDisk(at=0)
    monkeypatch.setattr(output, "_atomic", counter)
    res = call_cli(kind, *args, "--out", out)
    monkeypatch.undo()
    assert res.returncode == 0, res.stderr
    return counter.calls


def _full_at(kind: str, args: tuple, out: Path, at: int, monkeypatch) -> None:
    monkeypatch.setattr(output, "_atomic", FullDisk(at))
    res = call_cli(kind, *args, "--out", out)
    monkeypatch.undo()
    assert res.returncode == 2, (kind, at, res.stdout)
    lines = stderr_lines(res)
    assert "Traceback" not in res.stderr and lines[-1].startswith("error: "), res.stderr
    assert lines[-1].endswith("could not write the results: No space left on device"), lines
    assert len([line for line in lines if line.startswith("error: ")]) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_full_disk_at_any_write_of_a_publication_keeps_the_old_folder(
    kind, studies, whole, tmp_path, monkeypatch
):
    args, out = studies[kind], tmp_path / "out"
    shutil.copytree(whole[kind], out)
    writes = _writes(kind, args, out, monkeypatch)  # the stored runs are reused: publication
    assert writes >= len(DATA[kind])
    # The first write, one in the middle and the last (the folder's marker, in the stage).
    for at in sorted({1, writes // 2, writes}):
        before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        _full_at(kind, args, out, at, monkeypatch)
        after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        assert after == before, (kind, at)  # not a byte of the old folder changed
        assert assert_whole(out, kind)
        no_staging(tmp_path)
    assert_same(whole[kind], out, kind)


@pytest.mark.parametrize("kind", KINDS)
def test_a_full_disk_while_a_study_stores_its_runs_leaves_no_results(
    kind, studies, whole, tmp_path, monkeypatch
):
    args, out = studies[kind], tmp_path / "out"
    # The study's record, its first stored part, its second: each refused in one line.
    for at in (1, 2, 3):
        _full_at(kind, args, out, at, monkeypatch)
        assert not assert_whole(out, kind)
        no_staging(tmp_path)
    res = call_cli(kind, *args, "--out", out)
    assert res.returncode == 0, res.stderr
    assert_same(whole[kind], out, kind)
    assert (out / MARKER).is_file()


# --------------------------------------------------------------------------- resumed runs
def test_resumed_runs_count_runs_not_parts(studies, tmp_path):
    import json

    from test_study import GRID

    # 20 points or more × 2 replicates: runs are stored three to a part.
    levels = ", ".join(str(c) for c in range(10, 30))
    path = write(
        studies["sweep"][0].parent,
        "wide.toml",
        GRID.replace("[10, 20, 30]", f"[{levels}]"),
    )
    out = tmp_path / "out"
    assert killed_in_fork("sweep", path, "--out", out, parts=2) == -signal.SIGKILL
    parts = list((out / "parts").glob("*.parquet"))
    stored = sum(len(pd.read_parquet(p)) for p in parts)
    assert len(parts) == 2 and stored == 6  # more runs than parts
    res = call_cli("sweep", path, "--out", out)
    assert res.returncode == 0, res.stderr
    assert json.loads((out / "manifest.json").read_text())["resumed_runs"] == stored
    # A study that runs in rounds loads the store once a round: each stored run counts once,
    # and runs this process stored itself do not count at all.
    from introsim.experiments.engine import TaskResult
    from introsim.experiments.store import RunStore

    store = RunStore(tmp_path / "rounds")
    store.open({"study": "rounds"})
    store.write([TaskResult(f"{k:016x}", {"y": float(k)}, "") for k in range(3)])
    again = RunStore(tmp_path / "rounds")
    again.open({"study": "rounds"})
    ids = [f"{k:016x}" for k in range(5)]
    assert len(again.load(ids[:2])) == 2 and again.reused == 2
    again.write([TaskResult(ids[4], {"y": 4.0}, "")])
    assert len(again.load(ids)) == 4 and again.reused == 3


def test_a_part_that_cannot_be_read_is_named_set_aside_and_run_again(studies, whole, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(whole["sweep"], out)
    part = sorted((out / "parts").glob("*.parquet"))[0]
    part.unlink()
    part.mkdir()  # reading it fails (an OSError), as an unreadable file's would
    res = call_cli("sweep", *studies["sweep"], "--out", out)
    assert res.returncode == 0, res.stderr
    assert f"{part} cannot be read (Is a directory); set aside" in res.stderr
    assert "could not write" not in res.stderr  # a read error is not called a write error
    assert_same(whole["sweep"], out, "sweep")
