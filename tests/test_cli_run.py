"""``introsim run``: its files, identical bytes for a seed, JSON on request, clean bad input."""

from __future__ import annotations

import gc
import json

import numpy as np
import pandas as pd

from introsim.model.outcomes import OUTCOMES
from introsim.output import MARKER

from clitools import ROOT, call_cli, run_cli, stderr_lines

FILES = (
    "weekly.parquet",
    "participants.parquet",
    "weekly.csv",
    "participants.csv",
    "summary.json",
)


def small_scenario(tmp_path, **extra: str) -> str:
    body = "\n".join(f"{k} = {v}" for k, v in extra.items())
    path = tmp_path / "small.toml"
    path.write_text(
        f'extends = "{ROOT / "scenarios" / "baseline.toml"}"\n'
        f'[scenario]\nname = "small"\nweeks = 120\n[cohort]\nsize = 200\n{body}\n',
        encoding="utf-8",
    )
    return str(path)


def test_run_writes_its_files_and_a_table(tmp_path):
    out = tmp_path / "out"
    res = call_cli("run", small_scenario(tmp_path), "--seed", "4", "--out", out)
    assert res.returncode == 0, res.stderr
    for name in FILES:
        assert (out / name).stat().st_size > 0
    assert "employed_12m" in res.stdout and "small" in res.stdout
    # One run's figures are one draw: the table says so beside them.
    shown = " ".join(res.stdout.split())
    assert "each figure is a single draw, not an estimate" in shown
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 4 and summary["scenario"] == "small"
    assert len(summary["scenario_hash"]) == 64
    assert set(OUTCOMES) <= set(summary["outcomes"])
    for table in ("weekly", "participants"):  # the CSV holds what the Parquet file holds
        a = pd.read_parquet(out / f"{table}.parquet")
        b = pd.read_csv(out / f"{table}.csv")
        assert list(a.columns) == list(b.columns) and len(a) == len(b), table
        num = a.select_dtypes("number").columns
        assert np.allclose(a[num].to_numpy(float), b[num].to_numpy(float), equal_nan=True)


def test_same_seed_same_bytes_different_seed_differs(tmp_path):
    scenario = small_scenario(tmp_path)
    dirs = {}
    for label, seed in (("a", "11"), ("b", "11"), ("c", "12")):
        dirs[label] = tmp_path / label
        res = call_cli("run", scenario, "--seed", seed, "--out", dirs[label])
        assert res.returncode == 0, res.stderr
    for name in ("weekly.parquet", "participants.parquet", "weekly.csv", "participants.csv"):
        a, b, c = ((dirs[x] / name).read_bytes() for x in "abc")
        assert a == b, f"{name}: same seed, different bytes"
        assert a != c, f"{name}: different seeds, same bytes"


def test_json_prints_every_outcome(tmp_path):
    res = call_cli("run", small_scenario(tmp_path), "--json", "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert set(OUTCOMES) <= set(data["outcomes"])
    assert data["scenario"] == "small" and data["introsim_version"]


def test_bad_scenario_exits_2_with_one_line_and_no_output(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[cohort]\nsize = -5\n", encoding="utf-8")
    out = tmp_path / "never"
    res = call_cli("run", bad, "--out", out)
    assert res.returncode == 2
    lines = stderr_lines(res)
    assert len(lines) == 1 and "bad.toml" in lines[0] and "cohort.size" in lines[0]
    assert "Traceback" not in res.stderr
    assert not out.exists()


def test_out_path_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    res = call_cli("run", small_scenario(tmp_path), "--out", target)
    assert res.returncode == 2 and "--out" in res.stderr and "Traceback" not in res.stderr


def test_usage_errors_are_one_line_with_exit_2(tmp_path):
    scenario = small_scenario(tmp_path)
    for args, expect in (
        (("run", scenario, "--seed", "abc"), "--seed"),
        (("run", scenario, "--bogus", "1"), "--bogus"),
        (("frobnicate",), "frobnicate"),
        (("run",), "SCENARIO"),
    ):
        res = call_cli(*args)
        lines = stderr_lines(res)
        assert res.returncode == 2, (args, res.stderr)
        assert len(lines) == 1 and expect.lower() in lines[0].lower(), (args, lines)
        assert "Traceback" not in res.stderr


def test_out_below_a_file_is_refused_before_running(tmp_path):
    (tmp_path / "taken").write_text("x")
    res = call_cli("run", small_scenario(tmp_path), "--out", tmp_path / "taken" / "sub")
    lines = stderr_lines(res)
    assert res.returncode == 2 and len(lines) == 1 and "taken" in lines[0]
    assert "Traceback" not in res.stderr


def test_default_folder_stays_inside_out_whatever_the_name(tmp_path):
    path = tmp_path / "odd.toml"
    path.write_text(
        '[scenario]\nname = "../../a b/c"\nweeks = 60\n[cohort]\nsize = 40\n', encoding="utf-8"
    )
    work = tmp_path / "work"
    work.mkdir()
    res = call_cli("run", path, cwd=work)
    assert res.returncode == 0, res.stderr
    files = [p for p in work.rglob("*.json") if p.name != MARKER]
    assert sorted(p.relative_to(work).as_posix() for p in files) == ["out/a_b_c/summary.json"]
    left = [p for p in (work / "out").rglob("*") if p.name.startswith(".") and p.name != MARKER]
    assert left == []  # no staging left


def test_run_leaves_the_callers_garbage_collector_as_it_was(tmp_path):
    # The command runs without the collector's pauses and freezes objects only at exit:
    # a caller in the same process gets its collector back, on success and on refusal.
    scenario = small_scenario(tmp_path)
    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    assert call_cli("run", scenario, "--out", tmp_path / "a").returncode == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    assert call_cli("run", scenario, "--seed", "-1", "--out", tmp_path / "b").returncode == 2
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    gc.disable()
    try:
        assert call_cli("run", scenario, "--out", tmp_path / "c").returncode == 0
        assert not gc.isenabled()
    finally:
        gc.enable()
    gc.freeze()  # a caller's frozen objects stay frozen
    try:
        kept = gc.get_freeze_count()
        assert call_cli("run", scenario, "--out", tmp_path / "d").returncode == 0
        # none unfrozen (only freed), none of the run's added
        assert 0 < gc.get_freeze_count() <= kept and gc.isenabled()
    finally:
        gc.unfreeze()


def test_a_whole_process_prints_and_writes_everything(tmp_path):
    # The process's shutdown skips its frozen objects: what it printed and wrote is whole.
    res = run_cli("run", small_scenario(tmp_path), "--json", "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == json.loads((tmp_path / "o" / "summary.json").read_text())
    res = run_cli("run", small_scenario(tmp_path), "--out", tmp_path / "p")
    assert res.returncode == 0, res.stderr
    assert res.stdout.rstrip().endswith("s)") and "summary.json" in res.stdout
