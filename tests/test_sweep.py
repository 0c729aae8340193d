"""Sweeps: experiment files, designs, the engine on every executor, resume, bad input."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from introsim.experiments.design import load_experiment
from introsim.experiments.engine import Task, run_tasks
from introsim.experiments.store import RunStore
from introsim.experiments.sweep import SWEEP_OUTCOMES, run_sweep
from introsim.params.catalog import iter_params, param_info
from introsim.params.errors import ExperimentError
from introsim.params.loader import load_scenario

from clitools import SRC, call_cli, killed_at, stderr_lines, write

ROOT = SRC.parent
SHIPPED = sorted(  # experiment files; trial files in the same folder have a [trial] table
    p for p in (ROOT / "experiments").glob("*.toml") if "\n[experiment]" in "\n" + p.read_text()
)

GRID = """\
[experiment]
name = "tiny_grid"
question = "Does the caseload matter in a small cohort?"
base = "base.toml"
replications = {reps}
seed = 11
design = "grid"

[factors]
"follow_up.caseload" = {{ levels = [10, 20, 30] }}
"wage_subsidy.rate" = {{ levels = [0.0, 0.4] }}
"""


@pytest.fixture
def tiny(tmp_path: Path, small_files: dict[str, Path]) -> Path:
    """A 7-point grid over the 200-participant test cohort, in its own folder."""
    write(tmp_path, "base.toml", small_files["base"].read_text(encoding="utf-8"))
    return write(tmp_path, "grid.toml", GRID.format(reps=3))


# --------------------------------------------------------------------------- designs
def test_shipped_experiments_load():
    assert len(SHIPPED) >= 3
    designs = {load_experiment(p).meta.design for p in SHIPPED}
    assert {"grid", "lhs", "oat"} <= designs
    grid = load_experiment(ROOT / "experiments" / "caseload_subsidy_market.toml")
    assert len(grid.points) - 1 >= 60  # the base plus at least 60 grid points


def test_grid_is_every_combination_plus_the_base(tiny: Path):
    d = load_experiment(tiny)
    assert [p.label for p in d.points][:2] == ["base", "follow_up.caseload=10, wage_subsidy.rate=0"]
    assert len(d.points) == 1 + 3 * 2
    combos = {(p.scenario.follow_up.caseload, p.scenario.wage_subsidy.rate) for p in d.points[1:]}
    assert combos == {(c, r) for c in (10, 20, 30) for r in (0.0, 0.4)}


def test_oat_moves_one_factor_and_skips_the_base_level(tmp_path: Path, small_files):
    write(tmp_path, "base.toml", small_files["base"].read_text(encoding="utf-8"))
    text = GRID.format(reps=2).replace('"grid"', '"oat"')
    d = load_experiment(write(tmp_path, "oat.toml", text))
    base = d.points[0].scenario
    for p in d.points[1:]:
        assert len(p.overrides) == 1
    # the base's caseload (25) is not a level, the base's rate (0.0) is: 3 + 1 points
    assert len(d.points) == 1 + 3 + (2 - int(base.wage_subsidy.rate in (0.0, 0.4)))


def test_lhs_rounds_integers_samples_categories_and_respects_log_ranges(tmp_path, small_files):
    write(tmp_path, "base.toml", small_files["base"].read_text(encoding="utf-8"))
    text = """\
[experiment]
name = "lhs"
question = "q"
base = "base.toml"
replications = 2
seed = 3
design = "lhs"
samples = 40
design_seed = 9

[factors]
"follow_up.caseload" = { min = 10, max = 30 }
"follow_up.method" = { levels = ["standard", "ips", "se"] }
"mechanisms.separation_hazard" = { min = 0.001, max = 0.02, scale = "log" }
"""
    path = write(tmp_path, "lhs.toml", text)
    d = load_experiment(path)
    pts = d.points[1:]
    assert len(pts) == 40 and d.design_seed == 9
    caseloads = [p.overrides["follow_up.caseload"] for p in pts]
    assert all(isinstance(c, int) and 10 <= c <= 30 for c in caseloads)
    methods = [p.overrides["follow_up.method"] for p in pts]
    assert sorted(set(methods)) == ["ips", "se", "standard"]
    assert (
        max(methods.count(m) for m in set(methods)) - min(methods.count(m) for m in set(methods))
        <= 1
    )  # a Latin hypercube stratifies each factor: equal shares of the levels
    hazard = np.array([p.overrides["mechanisms.separation_hazard"] for p in pts])
    assert hazard.min() >= 0.001 and hazard.max() <= 0.02
    # log scale: as many points below the geometric midpoint as above it
    assert abs(int((hazard < np.sqrt(0.001 * 0.02)).sum()) - 20) <= 1
    again = load_experiment(path)
    assert [p.overrides for p in again.points] == [p.overrides for p in d.points]
    other = load_experiment(write(tmp_path, "lhs2.toml", text.replace("design_seed = 9", "")))
    assert [p.overrides for p in other.points] != [p.overrides for p in d.points]


def test_list_design(tmp_path, small_files):
    write(tmp_path, "base.toml", small_files["base"].read_text(encoding="utf-8"))
    text = """\
[experiment]
name = "two"
question = "q"
base = "base.toml"
replications = 2
seed = 3
design = "list"

[[points]]
name = "small caseload"
follow_up.caseload = 10

[[points]]
"follow_up.method" = "ips"
"wage_subsidy.rate" = 0.4
"""
    d = load_experiment(write(tmp_path, "list.toml", text))
    assert [p.label for p in d.points] == [
        "base",
        "small caseload",
        "follow_up.method=ips, wage_subsidy.rate=0.4",
    ]
    assert d.points[2].scenario.follow_up.method == "ips"


# --------------------------------------------------------------------------- bad files
BAD = {
    "toml syntax": ("design = = 1", "invalid TOML"),
    "unknown section": (
        "[experimnt]\nname='x'",
        "unknown section 'experimnt', did you mean [experiment]? ([experiment] is required)",
    ),
    "missing experiment": ("[factors]\n", "missing [experiment]"),
    "unknown factor": (
        GRID.format(reps=2) + '"follow_up.casload" = { levels = [1] }\n',
        "'follow_up.casload' is not a parameter",
    ),
    "level above the schema's bound": (
        GRID.format(reps=2).replace("[10, 20, 30]", "[10, 20, 300]"),
        "follow_up.caseload: expected an integer <= 200, found 300",
    ),
    "range below the schema's bound": (
        GRID.format(reps=2)
        .replace('design = "grid"', 'design = "lhs"\nsamples = 4')
        .replace("{ levels = [0.0, 0.4] }", "{ min = -0.5, max = 0.4 }")
        .replace("{ levels = [10, 20, 30] }", "{ min = 10, max = 30 }"),
        "wage_subsidy.rate: expected a number >= 0",
    ),
    "unknown category": (
        GRID.format(reps=2) + '"follow_up.method" = { levels = ["ips", "ipx"] }\n',
        "expected one of standard, ips, se, found string 'ipx'",
    ),
    "too few replications": (GRID.format(reps=1), "experiment.replications"),
    "unknown design": (GRID.format(reps=2).replace('"grid"', '"factorial"'), "experiment.design"),
    "lhs without samples": (GRID.format(reps=2).replace('"grid"', '"lhs"'), "needs samples"),
    "grid with a range": (
        GRID.format(reps=2).replace("{ levels = [10, 20, 30] }", "{ min = 10, max = 30 }"),
        "a grid design needs levels",
    ),
    "min above max": (
        GRID.format(reps=2)
        .replace('design = "grid"', 'design = "lhs"\nsamples = 4')
        .replace("{ levels = [10, 20, 30] }", "{ min = 30, max = 10 }"),
        "expected min < max",
    ),
    "missing base": (GRID.format(reps=2).replace("base.toml", "nope.toml"), "not found"),
    "unknown outcome": (
        GRID.format(reps=2).replace('design = "grid"', 'design = "grid"\noutcomes = ["jobs"]'),
        "unknown outcome 'jobs'",
    ),
    "text factor": (
        GRID.format(reps=2) + '"scenario.name" = { levels = ["a"] }\n',
        "not a number or category",
    ),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_experiment_files_exit_2_with_one_line(kind, tmp_path, small_files):
    text, expected = BAD[kind]
    write(tmp_path, "base.toml", small_files["base"].read_text(encoding="utf-8"))
    path = write(tmp_path, "bad.toml", text)
    out = tmp_path / "out"
    result = call_cli("sweep", path, "--out", out)
    assert result.returncode == 2, result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {path}"), lines[0]
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_bad_levels_name_the_line_of_the_factor(tmp_path, small_files):
    write(tmp_path, "base.toml", small_files["base"].read_text(encoding="utf-8"))
    path = write(tmp_path, "bad.toml", GRID.format(reps=2).replace("[10, 20, 30]", "[0, 20]"))
    with pytest.raises(ExperimentError) as err:
        load_experiment(path)
    line = next(
        i
        for i, t in enumerate(path.read_text().splitlines(), 1)
        if t.startswith('"follow_up.caseload"')
    )
    assert err.value.line == line and err.value.field == "follow_up.caseload"


# --------------------------------------------------------------------------- the engine
def _boom(scenario, seed):
    if scenario.follow_up.caseload == 10:
        raise RuntimeError("no specialists today")
    return {"x": float(scenario.follow_up.caseload)}


def test_a_failing_run_is_recorded_and_the_rest_go_on(tiny, tmp_path):
    d = load_experiment(tiny)
    tasks = [Task(p.index, 0, p.scenario, 1) for p in d.points]
    store = RunStore(tmp_path / "store")
    store.open({"experiment": "t"})
    results = run_tasks(tasks, evaluate=_boom, store=store)
    errors = [r.error for r in results]
    assert sum(bool(e) for e in errors) == 2
    assert all(e == "RuntimeError: no specialists today" for e in errors if e)
    assert [r.value["x"] for r in results if r.value] == [25.0, 20, 20, 30, 30]
    # stored: a second call runs nothing (an evaluate that always raises proves it)
    again = run_tasks(tasks, evaluate=_always_raises, store=store)
    assert [(r.value, r.error) for r in again] == [(r.value, r.error) for r in results]


def _always_raises(scenario, seed):
    raise AssertionError("should not run")


def test_replicate_seed_is_the_same_at_every_point(tiny):
    d = load_experiment(tiny)
    tasks = [Task(p.index, r, p.scenario, 11) for p in d.points for r in range(2)]
    seeds = {(t.replicate, tuple(t.seed.spawn_key), t.seed.entropy) for t in tasks}
    assert len(seeds) == 2


def test_points_are_paired_differences_from_the_base(tiny):
    s = run_sweep(load_experiment(tiny))
    assert len(s.runs) == 7 * 3 and s.failed == 0
    runs = s.runs
    base = runs[runs["point"] == 0]["employed_12m"].to_numpy()
    for p in range(1, 7):
        x = runs[runs["point"] == p]["employed_12m"].to_numpy()
        row = s.points[(s.points["point"] == p) & (s.points["outcome"] == "employed_12m")]
        assert row["diff"].iloc[0] == pytest.approx((x - base).mean())
        assert row["mean"].iloc[0] == pytest.approx(x.mean())
    assert set(s.points["outcome"]) == {
        *SWEEP_OUTCOMES,
        "extra_employed_12m",
        "cost_per_extra_job_nok",
    }
    # The base is not tested against itself; the other points have extra persons per cohort.
    base_rows = s.points[s.points["point"] == 0]
    assert base_rows["p_value"].isna().all() and "extra_employed_12m" not in set(
        base_rows["outcome"]
    )
    size = load_experiment(tiny).points[3].scenario.cohort.size
    extra = s.points[(s.points["point"] == 3) & (s.points["outcome"] == "extra_employed_12m")]
    x = runs[runs["point"] == 3]["employed_12m"].to_numpy()
    assert extra["diff"].iloc[0] == pytest.approx((x - base).mean() * size)


# --------------------------------------------------------------------------- the command
def _sweep(path: Path, out: Path, *extra: str):
    result = call_cli("sweep", path, "--out", out, *extra)
    assert result.returncode == 0, result.stderr
    return result


def test_same_bytes_on_one_process_two_processes_and_dask(tiny, tmp_path):
    outs = {}
    for name, extra in {
        "one": (),
        "two": ("--jobs", "2"),
        "dask": ("--dask", "local", "--jobs", "2"),
    }.items():
        out = tmp_path / name
        _sweep(tiny, out, *extra)
        outs[name] = out
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["runs"] == 21 and manifest["failed_runs"] == 0
    for f in ("runs.parquet", "points.parquet", "points.csv"):
        ref = (outs["one"] / f).read_bytes()
        assert (outs["two"] / f).read_bytes() == ref, f
        assert (outs["dask"] / f).read_bytes() == ref, f
    html = (outs["one"] / "report.html").read_text()
    assert "chart-heatmap-employed_12m" in html and "<script src" not in html


def test_killed_sweep_resumes_to_the_same_bytes_and_reruns_nothing(tmp_path, small_files):
    write(tmp_path, "base.toml", small_files["base"].read_text(encoding="utf-8"))
    text = GRID.format(reps=6).replace("[0.0, 0.4]", "[0.0, 0.2, 0.4]")
    path = write(tmp_path, "grid.toml", text)
    whole = tmp_path / "whole"
    _sweep(path, whole)

    out = tmp_path / "killed"
    parts = out / "parts"
    assert killed_at("sweep", path, "--out", out, parts=2) == -signal.SIGKILL
    before = {p.name: p.stat().st_mtime_ns for p in parts.glob("*.parquet")}
    done_before = sum(len(pd.read_parquet(p)) for p in parts.glob("*.parquet"))
    total = len(pd.read_parquet(whole / "runs.parquet"))
    assert len(before) == 2 and 0 < done_before < total and not (out / "runs.parquet").exists()

    _sweep(path, out)
    after = {p.name: p.stat().st_mtime_ns for p in parts.glob("*.parquet")}
    assert all(after[name] == mtime for name, mtime in before.items())  # none rewritten
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["resumed_runs"] == done_before  # runs, not parts
    for f in ("runs.parquet", "points.parquet"):
        assert (out / f).read_bytes() == (whole / f).read_bytes(), f


def test_a_changed_experiment_is_refused_unless_fresh(tiny, tmp_path):
    out = tmp_path / "out"
    _sweep(tiny, out)
    tiny.write_text(tiny.read_text().replace("[10, 20, 30]", "[10, 15, 30]"), encoding="utf-8")
    refused = call_cli("sweep", tiny, "--out", out)
    assert refused.returncode == 2
    lines = stderr_lines(refused)
    assert len(lines) == 1 and "a different version of this experiment" in lines[0]
    assert "--fresh" in lines[0]
    _sweep(tiny, out, "--fresh")
    runs = pd.read_parquet(out / "runs.parquet")
    assert sorted(runs["follow_up.caseload"].unique()) == [10, 15, 25, 30]


def test_set_overrides_the_base_and_is_validated(tiny, tmp_path):
    out = tmp_path / "out"
    _sweep(tiny, out, "--set", "cohort.size=60", "--json")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["experiment"]["set"] == {"cohort.size": 60}
    bad = call_cli("sweep", tiny, "--out", tmp_path / "o2", "--set", "cohort.size=0")
    assert bad.returncode == 2
    assert stderr_lines(bad) == ["error: --set: cohort.size: expected an integer >= 1, found 0"]
    assert not (tmp_path / "o2").exists()


def test_set_on_run_and_compare(small_files, tmp_path):
    ok = call_cli(
        "run",
        small_files["base"],
        "--out",
        tmp_path / "r",
        "--json",
        "--set",
        "follow_up.method=ips",
        "--set",
        "follow_up.caseload=12",
    )
    assert ok.returncode == 0, ok.stderr
    typo = call_cli(
        "compare",
        small_files["base"],
        small_files["ips"],
        "-r",
        "2",
        "--out",
        tmp_path / "c",
        "--set",
        "follow_up.casload=12",
    )
    assert typo.returncode == 2
    assert stderr_lines(typo) == [
        "error: --set: unknown key 'casload' in [follow_up]; did you mean 'caseload'?"
    ]
    missing = call_cli("run", small_files["base"], "--set", "follow_up.caseload")
    assert missing.returncode == 2 and "expected dotted.path=value" in missing.stderr


def test_params_lists_every_parameter_from_the_schema():
    result = call_cli("params", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    paths = [r["path"] for r in rows]
    assert "follow_up.caseload" in paths and "wage_subsidy.rate" in paths
    info = param_info("follow_up.caseload")
    row = rows[paths.index("follow_up.caseload")]
    assert row["default"] == str(info.default) and row["unit"] == info.unit
    assert row["bounds"] == info.bounds_text() and row["meaning"] == info.meaning
    scalar = [p.path for p in iter_params() if p.kind != "other" or p.default is not None]
    assert paths == scalar
    assert load_scenario(ROOT / "scenarios" / "baseline.toml")  # sanity: schema loads
