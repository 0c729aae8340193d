"""The analyst's, researcher's and Python user's path: what they paste and read is true.

Each test reproduces something a user met: a README snippet that crashed when
pasted into a script, a notebook that could not find the repository, a Mesa
user who looked for ``model.datacollector``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

from clitools import SRC, call_cli, write

SCRIPT = """\
from introsim.experiments.study import Runner, load_study

study = load_study("compare", [{a!r}, {b!r}], replications=2)
{indent_head}with Runner(jobs=2) as runner:
{indent}    result = study.run(runner)
{indent}print("label", runner.label, "rows", len(result.replicates))
"""


def _script(tmp_path: Path, guarded: bool) -> subprocess.CompletedProcess[str]:
    base = "[scenario]\nname = '{n}'\nweeks = 20\nseed = 3\n[cohort]\nsize = 60\n"
    a = write(tmp_path, "a.toml", base.format(n="a"))
    b = write(tmp_path, "b.toml", base.format(n="b") + "[follow_up]\nmethod = 'ips'\n")
    head = 'if __name__ == "__main__":\n    ' if guarded else ""
    text = SCRIPT.format(a=str(a), b=str(b), indent_head=head, indent="    " if guarded else "")
    script = write(tmp_path, "study.py", text)
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300
    )


def test_an_unguarded_script_runs_in_one_process_and_says_why(tmp_path: Path):
    res = _script(tmp_path, guarded=False)
    assert res.returncode == 0, res.stderr
    assert "label 1 process rows" in res.stdout
    assert "BrokenProcessPool" not in res.stderr and "bootstrapping" not in res.stderr
    assert 'if __name__ == "__main__":' in res.stderr and "study.py, line 4" in res.stderr


def test_a_guarded_script_is_not_taken_for_an_unguarded_one(tmp_path: Path, monkeypatch):
    from introsim.experiments import study

    for guarded, expected in ((True, None), (False, "line 3,")):
        body = "found = unguarded_main()\n"
        head = 'if __name__ == "__main__":\n    ' if guarded else ""
        path = write(tmp_path, f"script_{guarded}.py", f"import sys\n\n{head}{body}")
        module = types.ModuleType("__main__")
        module.__file__ = str(path)
        module.unguarded_main = study.unguarded_main
        monkeypatch.setitem(sys.modules, "__main__", module)
        exec(compile(path.read_text(), str(path), "exec"), vars(module))
        assert (module.found is None) if expected is None else expected in module.found


def test_the_readme_snippet_is_guarded():
    readme = (SRC.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index('load_study("sweep", "experiments/levers_oat.toml")')
    block = readme[readme.rindex("```python", 0, start) : readme.index("```\n", start)]
    assert 'if __name__ == "__main__":' in block
    assert block.index("__main__") < block.index("Runner(jobs=2)")


def test_the_repository_is_found_from_anywhere(tmp_path: Path, monkeypatch):
    from introsim.paths import repository

    root = SRC.parent
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert repository() == root  # from the installed package
    copy = tmp_path / "copy"
    (copy / "scenarios").mkdir(parents=True)
    write(copy, "pyproject.toml", "")
    monkeypatch.setenv("JPY_SESSION_NAME", str(copy / "notebooks" / "x.ipynb"))
    assert repository() == copy  # the notebook's own path comes first
    assert repository(root / "notebooks") == root


def test_paths_to_source_files_in_files_users_read_exist():
    root = SRC.parent
    mentioned = re.compile(r"src/introsim/[\w/]+\.py")
    places = [root / "README.md", *root.glob("docs/*.md"), *root.glob("notebooks/*.ipynb")]
    places += [*root.glob("scenarios/*.toml"), *root.glob("experiments/*.toml")]
    places += [*root.glob("calibration/*.toml")]
    missing = [
        f"{place.name}: {found}"
        for place in places
        for found in mentioned.findall(place.read_text(encoding="utf-8"))
        if not (root / found).exists()
    ]
    assert not missing, missing


def test_mesa_users_find_a_datacollector(small_files):
    from introsim.model.model import IntroModel
    from introsim.params.loader import load_scenario
    from introsim.run import simulate

    sc = load_scenario(small_files["base"]).with_overrides({"scenario.weeks": 30})
    model = IntroModel(sc, seed=4, agent_reporters={"status": "status"}).run()
    weeks = model.datacollector.get_model_vars_dataframe()
    expected = simulate(sc, 4).weekly.drop(columns="week")
    assert list(weeks.index) == list(range(1, 31)) and weeks.index.name == "Step"
    assert weeks.reset_index(drop=True).equals(expected)  # the same series as `introsim run`
    agents = model.datacollector.get_agent_vars_dataframe()
    last = agents.xs(30, level="Step")["status"].dropna().value_counts()
    assert last.sum() == sc.cohort.size
    assert all(last[name] == weeks.loc[30, name] for name in last.index)
    # Without agent reporters the whole horizon still runs in one compiled loop.
    plain = IntroModel(sc, seed=4, agents=False).run()
    assert plain.datacollector.get_model_vars_dataframe().equals(weeks)


# --------------------------------------------------------------------------- discover
def _runs_table(folder: Path, *, weak: bool) -> Path:
    """A runs table made by other means: two factors, an outcome following one weakly or clearly."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(5)
    points = 400
    a, b = rng.uniform(0, 1, points), rng.uniform(10, 40, points)
    noise = rng.uniform(-0.12, 0.12, points)
    share = 0.35 + 0.15 * (a - 0.5) + noise if weak else np.where(a < 0.3, 0.2, 0.4)
    runs = pd.DataFrame(
        {
            "point": np.arange(points),
            "replicate": 0,
            "a": a,
            "b": b,
            "employed_12m": share,
            "employed_60m": np.nan,  # past the horizon: no participant reached it
            "error": "",
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    runs.to_parquet(folder / "runs.parquet")
    return folder


def test_discover_says_when_no_box_reaches_the_threshold_and_what_to_try(tmp_path: Path):
    runs = _runs_table(tmp_path / "noise", weak=True)
    res = call_cli("discover", runs, "--outcome", "employed_12m", "--below", "0.3",
                   "--out", tmp_path / "d", "--threshold", "0.95", "--json")  # fmt: skip
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["chosen_box"] is None and data["box"] == [] and data["coverage"] is None
    assert "No box on PRIM's peeling trajectory reaches a density of 95%" in data["summary"]
    assert data["suggestion"].startswith("--threshold ") and "--box " in data["suggestion"]
    traj = pd.read_csv(tmp_path / "d" / "trajectory.csv")
    assert len(traj) > 2 and traj["density"].max() < 0.95  # the whole trajectory, not a dump box
    assert {"coverage", "density", "n", "k", "restrictions", "qp_max"} <= set(traj.columns)
    assert traj["qp_max"].iloc[1:].between(0, 1).all() and not traj["chosen"].any()
    # The suggestion works: the box it names is chosen.
    box = int(data["suggestion"].rsplit(" ", 1)[1])
    res = call_cli("discover", runs, "--outcome", "employed_12m", "--below", "0.3",
                   "--out", tmp_path / "d", "--box", box, "--json")  # fmt: skip
    chosen = json.loads(res.stdout)
    assert chosen["chosen_box"] == box and chosen["chosen_by"] == "--box"
    assert 0 <= chosen["quasi_p_max"] <= 1 and chosen["box"]
    shown = call_cli("discover", runs, "--outcome", "employed_12m", "--below", "0.3",
                     "--out", tmp_path / "d", "--box", 1)  # fmt: skip
    assert "PRIM's peeling trajectory" in shown.stdout and "quasi-p" in shown.stdout
    report = (tmp_path / "d" / "report.html").read_text(encoding="utf-8")
    assert "quasi-p" in report and "(chosen)" in report


def test_discover_chooses_the_widest_box_that_is_dense_enough(tmp_path: Path):
    runs = _runs_table(tmp_path / "clear", weak=False)
    res = call_cli("discover", runs, "--outcome", "employed_12m", "--below", "0.3",
                   "--out", tmp_path / "d", "--json")  # fmt: skip
    data = json.loads(res.stdout)
    traj = pd.read_csv(tmp_path / "d" / "trajectory.csv")
    dense = traj[traj["density"] >= 0.8]
    assert data["chosen_box"] == int(dense["id"].iloc[0])  # the most coverage among them
    assert data["density"] >= 0.8 and data["coverage"] == dense["coverage"].max()
    assert [r["factor"] for r in data["box"]] == ["a"] and data["quasi_p_max"] < 0.001
    bad = call_cli("discover", runs, "--outcome", "employed_12m", "--below", "0.3", "--box", 999)
    assert bad.returncode == 2 and f"from 0 to {traj['id'].max()}" in bad.stderr


def test_discover_names_an_outcome_missing_in_every_run(tmp_path: Path):
    runs = _runs_table(tmp_path / "late", weak=False)
    res = call_cli("discover", runs, "--outcome", "employed_60m", "--below", "0.3")
    assert res.returncode == 2
    assert "employed_60m is missing in every run" in res.stderr and "nan" not in res.stderr


# --------------------------------------------------------------------------- sensitivity
def _sobol_rows(n: int, s1: float, st: float) -> pd.DataFrame:
    rows = []
    for size in (n, n // 2):
        for factor, a, b in (("a", s1, st), ("b", 0.1, 0.15), ("dummy", 0.0, 0.01)):
            rows += [
                {"factor": factor, "index": "S1", "value": a, "low": a - 0.3, "high": a + 0.3},
                {"factor": factor, "index": "ST", "value": b, "low": b - 0.3, "high": b + 0.3},
            ]
            for r in rows[-2:]:
                r["n"] = size
    return pd.DataFrame(rows)


def test_sobol_indices_that_cannot_be_are_not_converged():
    from introsim.experiments.sensitivity import convergence, summary_text

    rows = _sobol_rows(16, 0.86, 0.48)  # S1 above ST, the same at N/2: "stable" but impossible
    verdict = convergence(rows, "sobol")
    assert verdict["enough"] is False and verdict["text"].startswith("Not converged")
    assert "S1 of a (0.86) above its ST (0.48)" in verdict["text"]
    text = summary_text(rows, "sobol", "employed_12m")
    assert "Interactions are small" not in text and "not converged" in text
    negative = _sobol_rows(128, 0.3, 0.4)
    negative.loc[(negative["factor"] == "b") & (negative["index"] == "S1"), ["value", "high"]] = (
        -0.4,
        -0.1,
    )
    assert "S1 of b (-0.40) below zero" in convergence(negative, "sobol")["text"]
    fine = _sobol_rows(128, 0.3, 0.4)
    assert convergence(fine, "sobol")["enough"] is True


def test_no_enough_verdict_below_the_least_n():
    from introsim.experiments.sensitivity import MIN_N, convergence

    rows = _sobol_rows(16, 0.3, 0.4)  # identical at N and N/2, but N = 16
    verdict = convergence(rows, "sobol")
    assert verdict["enough"] is False and "too small to call enough" in verdict["text"]
    assert f"N = {MIN_N['sobol']}" in verdict["text"]
    morris = pd.DataFrame(
        [
            {"factor": f, "index": i, "value": v, "low": v, "high": v, "n": n}
            for n in (4, 2)
            for f, v in (("a", 1.0), ("b", 0.5))
            for i in ("mu_star", "sigma")
        ]
    )
    assert "was enough" not in convergence(morris, "morris")["text"]


def test_morris_mu_star_intervals_stay_at_or_above_zero():
    import numpy as np
    from SALib.sample import morris as morris_sample

    from introsim.experiments.sensitivity import _indices

    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}
    x = morris_sample.sample(problem, 4, num_levels=4, seed=1)
    y = np.random.default_rng(2).standard_exponential(len(x)) ** 3  # heavy-tailed noise
    rows = pd.DataFrame(
        _indices("morris", problem, x, y, morris_levels=4, second_order=False, resamples=50, seed=0)
    )
    mu = rows[rows["index"] == "mu_star"]
    assert (mu["low"] >= 0).all() and (mu["low"] == 0).any()  # SALib's mu* - conf went below


def test_factor_labels_do_not_overlap():
    import numpy as np

    from introsim.reporting.sensitivity_report import _overlap, label_box, label_positions

    rng = np.random.default_rng(3)
    x, y = rng.uniform(0.5, 1, 24), rng.uniform(0.5, 1, 24)  # a crowded corner
    labels = [f"productivity_factor_{i}" for i in range(24)]
    positions = label_positions(x, y, labels)
    px, py = x / x.max(), y / y.max()
    boxes = [label_box(px[i], py[i], t, positions[i]) for i, t in enumerate(labels) if t]
    assert len(boxes) >= 3  # some fit, the rest are left to hover
    assert not any(_overlap(a, b) for k, a in enumerate(boxes) for b in boxes[k + 1 :])


def test_the_sobol_legend_is_in_colour():
    from introsim.reporting.sensitivity_report import GREY, _bars

    rows = _sobol_rows(128, 0.3, 0.4)
    rows.loc[rows["factor"] == "dummy", "value"] = -0.01  # the dummy sorts first
    fig = _bars(rows, "sobol")
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 2 and all(t.marker.color[0] != GREY for t in bars)
    assert fig.layout.yaxis.categoryarray[0] == "dummy"  # the axis keeps the sorted order


# --------------------------------------------------------------------------- calibration, trial
def test_counts_agree_with_their_nouns():
    from introsim.experiments.posterior_calibration import CalibrateStudy
    from introsim.terminal import count

    assert (count(1, "member"), count(0, "member"), count(3, "member")) == (
        "1 member",
        "0 members",
        "3 members",
    )
    # The calibration's note when the targets leave room for one member of the ten wanted.
    study = types.SimpleNamespace(cal=types.SimpleNamespace(meta=types.SimpleNamespace(members=10)))
    result = types.SimpleNamespace(
        posterior=types.SimpleNamespace(complete=False, members=[object()])
    )
    note = CalibrateStudy.notes(study, result)[0]
    assert note.startswith("only 1 of 10 members were found")


def test_the_trial_power_table_has_intervals(tmp_path: Path, small_files):
    from test_trial import _trial_file

    path = _trial_file(tmp_path, small_files, sizes="[40]", designs='["individual"]', trials=100)
    res = call_cli("trial", path, "--out", tmp_path / "out")
    assert res.returncode == 0, res.stderr
    power = pd.read_csv(tmp_path / "out" / "power.csv")
    itt = power[power["estimator"] == "itt"].iloc[0]
    shown = f"{100 * itt['power']:.0f} % [{100 * itt['power_low']:.0f}, "
    assert shown in res.stdout and "ITT power [95 %]" in res.stdout


# --------------------------------------------------------------------------- study conveniences
MORRIS = """\
[experiment]
name = "tiny_morris"
question = "Which mechanism matters?"
base = "base.toml"
replications = 2
seed = 3
design = "morris"
trajectories = 2
outcomes = ["employed_12m"]

[factors]
"mechanisms.separation_hazard" = { min = 0.002, max = 0.012 }
"""

GRID = """\
[experiment]
name = "tiny_grid"
question = "Does the caseload matter?"
base = "base.toml"
replications = 2
seed = 11
design = "grid"

[factors]
"follow_up.caseload" = { levels = [10, 30] }
"""


@pytest.fixture
def study_files(tmp_path: Path, small_files) -> dict[str, Path]:
    small = "[scenario]\nweeks = 60\n[cohort]\nsize = 80\n"
    base = small_files["base"].read_text(encoding="utf-8").replace("weeks = 120", "weeks = 60")
    base = base.replace("size = 200", "size = 80")
    assert small and "size = 80" in base
    files = {"base": write(tmp_path, "base.toml", base)}
    files["ips"] = write(tmp_path, "ips.toml", 'extends = "base.toml"\n[scenario]\nname = "ips"\n'
                         '[follow_up]\nmethod = "ips"\n')  # fmt: skip
    files["morris"] = write(tmp_path, "morris.toml", MORRIS)
    files["grid"] = write(tmp_path, "grid.toml", GRID)
    return files


def test_sweep_refuses_a_sensitivity_design_and_points_to_the_command(study_files, tmp_path):
    res = call_cli("sweep", study_files["morris"], "--out", tmp_path / "out")
    assert res.returncode == 2 and not (tmp_path / "out").exists()
    assert "is a sensitivity design" in res.stderr
    assert f"introsim sensitivity {study_files['morris']}" in res.stderr


def test_every_study_command_has_a_dry_run(study_files, tmp_path, small_files):
    from test_calibration import CALIBRATION, TARGETS
    from test_trial import _trial_file

    write(tmp_path, "targets.toml", TARGETS)
    cal = write(tmp_path, "cal.toml", CALIBRATION.format(points=8))
    trial = _trial_file(tmp_path / "t", small_files, sizes="[40]", designs='["individual"]')
    commands = {
        "compare": (study_files["base"], study_files["ips"], "-r", "4"),
        "sweep": (study_files["grid"],),
        "sensitivity": (study_files["morris"],),
        "trial": (trial,),
        "calibrate": (cal,),
    }
    # compare: 2 × 4; sweep: 3 points × 2; trial: 6 sites × 2 arms; sensitivity: as many as
    # the study runs (below); calibrate: its own estimate (waves may stop early).
    from introsim.experiments.study import load_study

    expected = {"compare": 8, "sweep": 6, "trial": 12}
    expected["calibrate"] = load_study("calibrate", cal).size()[1]
    ran = call_cli("sensitivity", study_files["morris"], "--out", tmp_path / "ran")
    assert ran.returncode == 0, ran.stderr
    expected["sensitivity"] = len(pd.read_parquet(tmp_path / "ran" / "runs.parquet"))
    for kind, args in commands.items():
        out = tmp_path / f"out-{kind}"
        res = call_cli(kind, *args, "--out", out, "--dry-run", "--json")
        assert res.returncode == 0, (kind, res.stderr)
        plan = json.loads(res.stdout)
        assert plan["runs"] == expected[kind], kind
        # Only a calibration's count is a bound, with a typical run's count below it.
        typical = plan["typical_runs"]
        assert (typical is None) == (kind != "calibrate") and (typical or 0) <= plan["runs"]
        assert plan["seconds_per_run"] > 0 and plan["estimate_s"] >= 0
        assert not out.exists(), kind  # nothing written
    text = call_cli("sweep", study_files["grid"], "--dry-run", "--jobs", "2").stdout
    assert "3 points × 2 replicates = 6 runs" in text and "on 2 processes" in text


def test_more_replications_extend_a_stored_study(study_files, tmp_path):
    out = tmp_path / "grid"
    first = call_cli("sweep", study_files["grid"], "--out", out)
    assert first.returncode == 0, first.stderr
    two = pd.read_parquet(out / "runs.parquet")
    res = call_cli("sweep", study_files["grid"], "--out", out, "--replications", "3", "--json")
    assert res.returncode == 0, res.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["resumed_runs"] == len(two) == 6
    three = pd.read_parquet(out / "runs.parquet")
    assert sorted(three["replicate"].unique()) == [0, 1, 2] and len(three) == 9
    kept = three[three["replicate"] < 2].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept.drop(columns="run_id"), two.drop(columns="run_id"))
    bad = call_cli("sweep", study_files["grid"], "--out", out, "--replications", "1")
    assert bad.returncode == 2 and "--replications" in bad.stderr
    # compare too: its folder keeps the runs of fewer replicates
    cmp_out = tmp_path / "cmp"
    pair = (study_files["base"], study_files["ips"])
    assert call_cli("compare", *pair, "-r", "2", "--out", cmp_out).returncode == 0
    parts = {p.name for p in (cmp_out / "parts").glob("*.parquet")}
    before = pd.read_parquet(cmp_out / "replicates.parquet")
    more = call_cli("compare", *pair, "-r", "3", "--out", cmp_out)
    assert more.returncode == 0, more.stderr
    assert parts < {p.name for p in (cmp_out / "parts").glob("*.parquet")}  # kept, not rerun
    after = pd.read_parquet(cmp_out / "replicates.parquet")
    assert sorted(after["replicate"].unique()) == [0, 1, 2]
    old = after[after["replicate"] < 2].reset_index(drop=True)
    pd.testing.assert_frame_equal(old, before.reset_index(drop=True), check_dtype=False)


# --------------------------------------------------------------------------- compare
ARRIVING_OVER_A_YEAR = """\
extends = "base.toml"
[scenario]
name = "small_town"
description = "A small municipality: forty people arriving over a year, followed 60 weeks"
[cohort]
size = 40
intake_weeks = 52
"""


@pytest.fixture
def compare_files(study_files) -> dict[str, Path]:
    folder = study_files["base"].parent
    return {**study_files, "town": write(folder, "town.toml", ARRIVING_OVER_A_YEAR)}


def test_compare_says_which_scenarios_are_not_paired(compare_files, tmp_path):
    from introsim.experiments.compare import unpaired_because
    from introsim.params.loader import load_scenario

    files = (compare_files["base"], compare_files["ips"], compare_files["town"])
    res = call_cli("compare", *files, "-r", "3", "--out", tmp_path / "c", "--json")
    assert res.returncode == 0, res.stderr
    assert "small_town differs from base in cohort, intake" in res.stderr
    data = json.loads(res.stdout)
    paired = {s["name"]: (s["paired"], s["unpaired_because"]) for s in data["scenarios"]}
    assert paired == {
        "base": (True, ""),
        "ips": (True, ""),
        "small_town": (False, "cohort, intake"),
    }
    table = pd.read_csv(tmp_path / "c" / "comparison.csv")
    town = table[(table["scenario"] == "small_town") & (table["outcome"] == "employed_12m")]
    assert not town["paired"].iloc[0] and "unpaired: Welch's interval" in town["note"].iloc[0]
    ips = table[(table["scenario"] == "ips") & (table["outcome"] == "employed_12m")]
    assert ips["paired"].iloc[0] and "unpaired" not in str(ips["note"].iloc[0])
    base, later = (load_scenario(compare_files[k]) for k in ("base", "base"))
    assert unpaired_because(base, later.with_overrides({"scenario.weeks": 70})) == "horizon"
    slack = later.with_overrides({"labour_market.unemployment_rate": 0.09})
    assert unpaired_because(base, slack) == "labour market"
    report = (tmp_path / "c" / "report.html").read_text(encoding="utf-8")
    assert "Not paired." in report and "Welch" in report


def test_every_share_says_how_many_people_it_rests_on(compare_files, tmp_path):
    from introsim.experiments.statistics import MIN_PEOPLE

    files = (compare_files["base"], compare_files["town"])
    env_cols = tmp_path / "c"
    res = call_cli("compare", *files, "-r", "3", "--out", env_cols)
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(env_cols / "comparison.csv")
    reps = pd.read_parquet(env_cols / "replicates.parquet")
    row = table[(table["scenario"] == "small_town") & (table["outcome"] == "employed_12m")].iloc[0]
    per_run = reps[(reps["scenario"] == "small_town") & (reps["outcome"] == "employed_12m")]
    # 40 people arriving over 52 weeks, followed for 60: those of the first 8 weeks reach 12 months
    assert (per_run["people"] == 7).all() and row["people"] == 7 and row["people_all"] == 21
    assert row["few_people"] and f"fewer than {MIN_PEOPLE} participants" in row["note"]
    never = table[(table["scenario"] == "base") & (table["outcome"] == "never_employed_share")]
    assert never["people"].iloc[0] == 80 and not never["few_people"].iloc[0]
    cost = table[table["outcome"] == "cost_per_participant_nok"]
    assert cost["people"].isna().all()  # not a share
    lines = res.stdout.splitlines()
    employed = next(i for i, line in enumerate(lines) if "employed_12m" in line)
    assert "‡" in lines[employed] and "✓" not in lines[employed] and "✗" not in lines[employed]
    assert "n 7" in "\n".join(lines[employed : employed + 6])
    assert "rests on fewer than 30 participants" in res.stdout
    report = (env_cols / "report.html").read_text(encoding="utf-8")
    assert 'class="num few"' in report and "n 80 per run" in report


def test_a_share_on_few_people_is_never_clearly_better():
    from introsim.reporting.compare_report import verdict

    assert verdict("employed_12m", 0.2, 0.1, 0.3) == "better"
    assert verdict("employed_12m", 0.2, 0.1, 0.3, few=True) == "unclear"


def test_validate_warns_when_intake_and_horizon_leave_few_people(compare_files):
    res = call_cli("validate", compare_files["town"])
    assert res.returncode == 0
    warned = [line for line in res.stderr.splitlines() if line.startswith("warning:")]
    assert any("employed_12m is observed for 7 of 40 participants" in w for w in warned)
    assert not any(
        "employed_12m" in w for w in call_cli("validate", compare_files["base"]).stderr.splitlines()
    )


def test_names_in_tables_descriptions_in_prose_and_set_marks_modified(compare_files, tmp_path):
    files = (compare_files["base"], compare_files["town"])
    res = call_cli("compare", *files, "-r", "2", "--out", tmp_path / "c", "--set", "cohort.size=60")
    assert res.returncode == 0, res.stderr
    assert "small_town (modified)" in res.stdout and "forty people" not in res.stdout
    assert "--set cohort.size=60" in res.stdout
    report = (tmp_path / "c" / "report.html").read_text(encoding="utf-8")
    title = report.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "small_town (modified)" in title and "forty people" not in title
    assert "forty people" in report  # in prose, with the --set said
    assert "--set cohort.size=60 changed it" in report


def test_terminal_tables_fit_the_terminal(compare_files, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    files = (compare_files["base"], compare_files["ips"], compare_files["town"])
    res = call_cli("compare", *files, "-r", "2", "--out", tmp_path / "c")
    assert res.returncode == 0, res.stderr
    table_lines = [line for line in res.stdout.splitlines() if set(line) & set("│┃┏└┡")]
    assert len(table_lines) > 40  # both tables
    too_wide = [line for line in table_lines if len(line) > 80]
    assert not too_wide, too_wide[:3]


def test_eligibility_is_said(compare_files, tmp_path):
    low = write(compare_files["base"].parent, "low.toml", 'extends = "base.toml"\n'
                '[scenario]\nname = "low"\n[wage_subsidy]\nrate = 0.4\nweeks = 26\n'
                'eligibility = "low_language"\n')  # fmt: skip
    none = write(compare_files["base"].parent, "none.toml", 'extends = "base.toml"\n'
                 '[scenario]\nname = "none"\n[wage_subsidy]\nrate = 0.4\nweeks = 26\n'
                 'eligibility = "none"\n')  # fmt: skip
    res = call_cli("compare", none, low, "-r", "2", "--out", tmp_path / "c", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)["outcomes"]
    # A new cohort all starts below B1: under low_language everyone may bring a subsidy.
    assert out["subsidy_eligible_share"]["low"]["mean"] == 1.0
    assert out["subsidy_eligible_share"]["none"]["mean"] == 0.0
    got = out["subsidy_received_share"]["low"]["mean"]
    assert 0 < got <= 1 and out["subsidy_received_share"]["low"]["people"] == 80


# --------------------------------------------------------------------------- sweeps
def _fake_sweep(means: list[float], half: float, design: str = "grid"):
    levels = [10, 20, 30, 40]
    rows = [
        {
            "point": i,
            "label": f"c={c}",
            "follow_up.caseload": c,
            "outcome": "employed_12m",
            "mean": m,
            "ci_low": m - half,
            "ci_high": m + half,
        }
        for i, (c, m) in enumerate(zip(levels, means, strict=True))
    ]
    meta = types.SimpleNamespace(design=design, outcomes=["employed_12m"], replications=3)
    return types.SimpleNamespace(
        design=types.SimpleNamespace(meta=meta, points=levels),
        points=pd.DataFrame(rows),
        factors=["follow_up.caseload"],
    )


def test_a_sweep_warns_when_its_replicates_cannot_resolve_a_curve():
    from introsim.experiments.sweep import unresolved_curves

    noisy = unresolved_curves(_fake_sweep([0.30, 0.33, 0.31, 0.34], 0.05))
    assert len(noisy) == 1 and "employed_12m along follow_up.caseload" in noisy[0]
    assert "--replications 12" in noisy[0]
    assert unresolved_curves(_fake_sweep([0.30, 0.33, 0.36, 0.39], 0.05)) == []  # monotone
    assert unresolved_curves(_fake_sweep([0.30, 0.40, 0.31, 0.42], 0.01)) == []  # resolved


def test_sweeps_say_differences_extra_persons_and_cost_per_extra(study_files, tmp_path):
    res = call_cli("sweep", study_files["grid"], "--out", tmp_path / "g")
    assert res.returncode == 0, res.stderr
    assert "Δ " in res.stdout and "extra in work at 12 months" in res.stdout
    # The terminal says what its intervals cover, as the report does.
    said = " ".join(res.stdout.split())
    assert "[95 % interval]: the randomness of the simulation only" in said, res.stdout
    points = pd.read_csv(tmp_path / "g" / "points.csv")
    assert points.loc[points["point"] == 0, "p_value"].isna().all()  # no p-value for the base
    share = points[points["outcome"] == "employed_12m"]
    assert (share["people"] == 80).all() and not share["few_people"].any()  # n of every share
    late = points[points["outcome"] == "employed_24m"]  # 60 weeks: nobody reaches 24 months
    assert (late["people"] == 0).all() and late["few_people"].all()
    assert points.loc[points["outcome"] == "cost_per_participant_nok", "people"].isna().all()
    extra = points[points["outcome"] == "extra_employed_12m"]
    assert len(extra) == 2 and extra["diff_low"].notna().all()
    assert set(points.loc[points["outcome"] == "cost_per_extra_job_nok", "status"]) <= {
        "dominant", "dominated", "ratio", "no clear extra cost", "fewer in work", "no clear gain"
    }  # fmt: skip


def test_heat_map_cells_are_in_their_unit():
    from introsim.reporting.sweep_report import _heatmap

    rows = [
        {"point": i + 1, "a": a, "b": b, "outcome": "cost_per_participant_nok", "mean": v}
        for i, (a, b, v) in enumerate([(1, 1, 767702.0), (1, 2, 700000.4), (2, 1, 1.0e6)])
    ]
    fake = types.SimpleNamespace(
        factors=["a", "b"],
        points=pd.DataFrame(rows),
        design=types.SimpleNamespace(points=[0, 1, 2, 3]),
    )
    cells = [t for row in _heatmap(fake, "cost_per_participant_nok").data[0].text for t in row]
    assert "767 702 NOK" in cells and not any(".0" in str(t) for t in cells)


def test_params_filters_and_wraps_without_splitting_words(monkeypatch):
    from introsim.params.catalog import matching

    monkeypatch.setenv("COLUMNS", "80")
    res = call_cli("params", "caseload")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines and all(len(line) <= 80 for line in lines)
    found = matching("caseload")
    assert "follow_up.caseload" in {p.path for p in found} and len(found) < 20
    for p in found:
        assert any(line.startswith(f"{p.path} = ") for line in lines)
        # Every word of the meaning is printed whole (wrapped only between words).
        assert " ".join(p.meaning.split()) in " ".join(res.stdout.split())
    every = call_cli("params").stdout
    assert len(every.splitlines()) > len(lines) and "scenario.name = " in every
    assert call_cli("params", "no-such-thing").returncode == 2
    assert {p.path for p in matching("wage_subsidy.*")} >= {"wage_subsidy.rate"}


def test_an_integer_bound_is_shown_exactly_and_accepts_what_it_shows():
    from pydantic import ValidationError

    from introsim.params.schema import Scenario

    res = call_cli("params", "scenario.seed")
    bounds = re.search(r"\[0, ([\d\u202f]+)\]", res.stdout)
    assert res.returncode == 0 and bounds, res.stdout
    high = int(bounds[1].replace("\u202f", ""))
    assert high == 2**63 - 1  # a float would show 2^63, one more than any seed accepted
    assert Scenario().with_overrides({"scenario.seed": high}).scenario.seed == high
    with pytest.raises(ValidationError):
        Scenario().with_overrides({"scenario.seed": high + 1})


# --------------------------------------------------------------------------- validate
THREE_MISTAKES = """\
[scenario]
name = "three"

[follow_up]
caseloda = 10
method = "ipz"

[labour_market]
unemployment_rate = 3.5
"""


def test_validate_reports_every_problem_of_a_file_at_once(tmp_path: Path, small_files):
    path = write(tmp_path, "three.toml", THREE_MISTAKES)
    res = call_cli("validate", path)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 3 and all(line.startswith(f"error: {path}:") for line in lines), lines
    assert [line.split(":")[2] for line in lines] == ["5", "6", "9"]  # in the file's order
    # Up to a limit: the rest are counted, not listed.
    many = "[follow_up]\n" + "".join(f"key{k} = 1\n" for k in range(30))
    res = call_cli("validate", write(tmp_path, "many.toml", many))
    lines = res.stderr.splitlines()
    assert len(lines) == 21 and lines[-1].endswith("and 10 more problems (fix these first)")
    # Study files too: the problems of every table of a trial file at once.
    from test_trial import _trial_file

    trial = _trial_file(tmp_path / "t", small_files, trials=1, sites=0)
    res = call_cli("validate", trial)
    assert "trial.trials" in res.stderr and "recruitment.sites" in res.stderr, res.stderr
    # An experiment file: its [experiment] table and its factors.
    study = write(
        tmp_path / "t",
        "study.toml",
        '[experiment]\nname = "s"\nquestion = "q"\nbase = "base.toml"\nreplications = 1\n'
        'seed = 1\ndesign = "grid"\n[factors]\n"follow_up.casload" = { levels = [10, 20] }\n',
    )
    res = call_cli("validate", study)
    assert "experiment.replications" in res.stderr and "follow_up.casload" in res.stderr


def test_did_you_mean_for_paths_and_values_and_per_cent_for_shares(tmp_path: Path):
    res = call_cli("validate", write(tmp_path, "three.toml", THREE_MISTAKES))
    assert "unknown key 'caseloda' in [follow_up]; did you mean 'caseload'?" in res.stderr
    assert "found string 'ipz'; did you mean 'ips'?" in res.stderr
    assert "found 3.5; did you mean 0.035?" in res.stderr
    # A share over its bound that is not a per cent gets no such hint; neither does a count.
    res = call_cli("validate", write(tmp_path, "f.toml", "[wage_subsidy]\nrate = 400\n"))
    assert res.returncode == 2 and "did you mean" not in res.stderr
    res = call_cli("validate", write(tmp_path, "c.toml", "[follow_up]\ncaseload = 0\n"))
    assert res.returncode == 2 and "did you mean" not in res.stderr
    # Paths in study files: a factor, a list point, an ensemble member.
    write(tmp_path, "base.toml", '[scenario]\nname = "base"\nweeks = 60\n[cohort]\nsize = 40\n')
    study = write(
        tmp_path,
        "study.toml",
        '[experiment]\nname = "s"\nquestion = "q"\nbase = "base.toml"\nreplications = 2\n'
        'seed = 1\ndesign = "grid"\n[factors]\n"follow_up.casload" = { levels = [10, 20] }\n',
    )
    assert "did you mean 'follow_up.caseload'?" in call_cli("validate", study).stderr
    member = write(tmp_path, "ens.toml", '[[member]]\n"folow_up.caseload" = 12\n')
    assert "did you mean 'follow_up.caseload'?" in call_cli("validate", member).stderr


def test_the_python_api_raises_the_command_lines_words():
    import introsim
    from introsim.params.errors import ScenarioError

    root = SRC.parent
    sc = introsim.load_scenario(root / "scenarios" / "baseline.toml")
    with pytest.raises(ScenarioError) as err:
        sc.with_overrides({"follow_up.caseloda": 10, "wage_subsidy.rate": 40})
    text = str(err.value)
    assert text == "overrides: unknown key 'caseloda' in [follow_up]; did you mean 'caseload'?"
    assert "pydantic" not in repr(err.value) and "errors.pydantic.dev" not in text
    assert len(err.value.errors) == 2 and "did you mean 0.4?" in err.value.errors[1]
    # The same words as --set on the command line, but for where they came from.
    res = call_cli("run", root / "scenarios" / "baseline.toml", "--set", "follow_up.caseloda=10")
    assert res.stderr.strip() == "error: --set: " + text.removeprefix("overrides: ")
    with pytest.raises(introsim.ScenarioError, match="caseload is a value, not a section"):
        sc.with_overrides({"follow_up.caseload.x": 1})
    # Code that caught pydantic's error still catches it, with pydantic's details.
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as raw:
        sc.with_overrides({"follow_up.method": "ipz"})
    assert raw.value.errors()[0]["type"] == "literal_error"
