"""Calibration: targets and calibration files, the loss, the posterior command, ensembles."""

from __future__ import annotations

import json
import math
import signal
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from introsim.experiments.calibration import (
    MISSING_PENALTY,
    evaluate_targets,
    fitted_by,
    fitted_problems,
    score,
    target_loss,
)
from introsim.experiments.compare import compare
from introsim.experiments.design import load_experiment
from introsim.experiments.posterior import load_posterior
from introsim.experiments.posterior_calibration import load_posterior_calibration
from introsim.experiments.sweep import run_sweep, sweep_tasks
from introsim.experiments.uncertainty import denoised_member_means
from introsim.params.calibration_file import (
    STATISTICS,
    Z95,
    TargetSpec,
    load_targets,
)
from introsim.params.catalog import param_info
from introsim.params.ensemble_file import load_ensemble
from introsim.params.errors import InputError
from introsim.params.loader import load_scenario
from introsim.params.trial_file import load_trial
from introsim.run import replicate_seed, simulate_outcomes
from test_trial import _trial_file

from clitools import SRC, call_cli, killed_at, stderr_lines, write

ROOT = SRC.parent

TARGETS = """\
[[target]]
name = "exit"
statistic = "work_or_education_at_exit"
scenario = "base.toml"
band = [0.40, 0.60]
source = "a test band"

[[target]]
name = "ips_ahead"
statistic = "employed_12m"
terms = [{ scenario = "ips.toml" }, { scenario = "base.toml", coef = -1 }]
band = [0.0, inf]
scale = 0.05
test = "interval"
source = "a test band"
"""

CALIBRATION = """\
[calibration]
name = "tiny"
targets = "targets.toml"
replicates = 3
seed = 5
waves = 1
points = {points}
members = 4
member_rounds = 2
candidates = 256
discrepancy_sd = 0.05
recovery_members = 3

[parameters]
"mechanisms.separation_hazard" = {{ min = 0.002, max = 0.012, scale = "log" }}
"programme.inactive_share" = {{ min = 0.1, max = 0.4 }}
"""


@pytest.fixture
def tiny(tmp_path: Path, small_files: dict[str, Path]) -> Path:
    """A two-target, two-parameter calibration of the 200-participant test cohort."""
    for name in ("base", "ips"):
        write(tmp_path, f"{name}.toml", small_files[name].read_text(encoding="utf-8"))
    write(tmp_path, "targets.toml", TARGETS)
    return write(tmp_path, "cal.toml", CALIBRATION.format(points=10))


def _calibrate(path: Path, out: Path, *extra: str):
    result = call_cli("calibrate", path, "--out", out, *extra)
    assert result.returncode == 0, result.stderr
    return result


# --------------------------------------------------------------------------- the files
def test_shipped_targets_and_calibration_load():
    cal = load_posterior_calibration(ROOT / "calibration" / "default.toml")
    every = load_targets(ROOT / "calibration" / "targets.toml")
    names = [t.name for t in every.targets]
    assert len(names) >= 8 and len(set(names)) == len(names)
    for t in every.targets:
        assert t.spec.source.strip() and t.spec.weight > 0
        assert all(term.statistic in STATISTICS for term in t.terms)
    # Targets runs cannot give are listed with the reason, not dropped.
    assert all(nc.reason.strip() for nc in every.not_computed)
    # Trial targets are kept in the file and left out of the history match, by name.
    trial_targets = {t.name for t in every.targets if t.trial is not None}
    assert trial_targets and set(cal.excluded) == trial_targets
    assert {t.name for t in cal.fitted} == set(names) - trial_targets
    assert {s.path.name for s in cal.targets.scenarios} >= {"baseline.toml", "ips.toml"}
    assert len(cal.parameters) >= 20
    for p in cal.parameters:
        info = param_info(p.name)
        assert info is not None and info.low is not None and info.high is not None
        assert info.low <= p.low < p.high <= info.high
        assert p.source.strip(), p.name
    # The hiring model's weights and the method profiles are free.
    names = {p.name for p in cal.parameters}
    assert {"mechanisms.productivity_base", "mechanisms.score_noise"} <= names
    assert any(n.startswith("methods.ips.") for n in names)


BAD = {
    "unknown statistic": ("targets.toml", '"work_or_education_at_exit"', '"happiness"'),
    "band the wrong way": ("targets.toml", "[0.40, 0.60]", "[0.60, 0.40]"),
    "open band without scale": ("targets.toml", "scale = 0.05\n", ""),
    "no source": ("targets.toml", 'source = "a test band"\n\n', "\n"),
    "missing scenario file": ("targets.toml", 'scenario = "base.toml"', 'scenario = "nope.toml"'),
    "not a parameter": ("cal.toml", "programme.inactive_share", "programme.happiness"),
    "range beyond the schema": ("cal.toml", "max = 0.4", "max = 1.5"),
    "unknown key": ("cal.toml", "seed = 5", "seed = 5\nseeds = 6"),
    "missing targets file": ("cal.toml", '"targets.toml"', '"other.toml"'),
    "too few replicates": ("cal.toml", "replicates = 3", "replicates = 1"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_files_exit_2_with_one_line_and_write_nothing(kind, tiny, tmp_path):
    file, old, new = BAD[kind]
    path = tmp_path / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    out = tmp_path / "out"
    result = call_cli("calibrate", tiny, "--out", out)
    assert result.returncode == 2, result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1 and lines[0].startswith("error: ") and file in lines[0], lines
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_bad_file_errors_name_the_line(tiny, tmp_path):
    path = tmp_path / "cal.toml"
    path.write_text(path.read_text().replace("max = 0.4", "max = 1.5"), encoding="utf-8")
    line = next(i for i, s in enumerate(path.read_text().splitlines(), 1) if "inactive_share" in s)
    result = call_cli("calibrate", tiny, "--out", tmp_path / "out")
    assert f"cal.toml:{line}: programme.inactive_share" in result.stderr


# --------------------------------------------------------------------------- trial targets
TRIAL_TARGET = """
[[target]]
name = "power"
trial = "trial.toml"
statistic = "itt_power"
sample_size = 40
sites = 4
trials = 300
band = [0.0, 0.5]
source = "a test band"
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"trial": "t.toml", "scenario": "x.toml"}, "no scenario or terms"),
        ({"trial": "t.toml", "statistic": "employed_12m"}, "itt_power"),
        ({"scenario": "x.toml", "sites": 4}, "belong to a trial target"),
    ],
)
def test_trial_targets_are_checked(extra, message):
    fields = {"name": "t", "statistic": "itt_power", "band": [0.0, 0.5], "source": "s"}
    with pytest.raises(ValueError, match=message):
        TargetSpec(**{**fields, **extra})


def test_a_missing_trial_file_names_the_field(tiny, tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(TARGETS + TRIAL_TARGET, encoding="utf-8")
    expected = r"targets\.toml:\d+: target\[2\]\.trial: trial file 'trial\.toml' not found"
    with pytest.raises(InputError, match=expected):
        load_targets(path)


def test_a_candidate_reaches_both_arms_of_a_trial_and_the_recruitment_wins(tmp_path, small_files):
    path = _trial_file(tmp_path, small_files)
    spec = load_trial(path, {"cohort.language_mean": 1.25, "cohort.size": 999})
    for arm in (spec.control, spec.treatment):
        assert arm.cohort.language_mean == 1.25
        assert arm.cohort.size == spec.recruitment.per_site


def test_trial_targets_are_evaluated_over_simulated_trials(tiny, tmp_path, small_files):
    _trial_file(tmp_path, small_files)
    path = tmp_path / "targets.toml"
    path.write_text(TARGETS + TRIAL_TARGET, encoding="utf-8")
    targets = load_targets(path)
    assert targets.runs(3) == len(targets.scenarios) * 3 + 2 * 4
    seen: list[tuple[int, int]] = []
    results, _ = evaluate_targets(targets, {}, 3, 5, progress=lambda d, n: seen.append((d, n)))
    power = next(r for r in results if r.name == "power")
    assert power.n == 300 and 0.0 <= power.low <= power.mean <= power.high <= 1.0
    assert seen[-1] == (targets.runs(3), targets.runs(3))
    again, _ = evaluate_targets(targets, {}, 3, 5)
    assert next(r for r in again if r.name == "power") == power


def test_targets_of_one_trial_share_its_population(tiny, tmp_path, small_files):
    _trial_file(tmp_path, small_files)
    second = TRIAL_TARGET.replace('"power"', '"pp"').replace("itt_power", "per_protocol_minus_itt")
    path = tmp_path / "targets.toml"
    path.write_text(TARGETS + TRIAL_TARGET + second, encoding="utf-8")
    targets = load_targets(path)
    # Two targets of the same trial, sites and size: one population of 4 sites × 2 arms.
    assert targets.runs(3) == len(targets.scenarios) * 3 + 2 * 4
    seen: list[tuple[int, int]] = []
    results, _ = evaluate_targets(targets, {}, 3, 5, progress=lambda d, n: seen.append((d, n)))
    assert seen[-1] == (targets.runs(3), targets.runs(3))
    by_name = {r.name: r for r in results}
    assert by_name["power"].n == by_name["pp"].n == 300


# --------------------------------------------------------------------------- the loss
def _spec(**kw) -> TargetSpec:
    return TargetSpec(name="t", statistic="employed_12m", scenario="x.toml", source="s", **kw)


def test_loss_is_zero_inside_the_band_and_grows_with_the_distance_outside():
    band = _spec(band=[0.4, 0.6], weight=2.0)
    assert target_loss(band, 0.5, 0.45, 0.55, 0.1) == (True, 0.0)
    # mean 0.1 above, interval 0.15 above; scale = band width 0.2
    met, loss = target_loss(band, 0.7, 0.65, 0.75, 0.1)
    assert not met and loss == pytest.approx(2.0 * (0.1 / 0.2 + 0.1 * 0.15 / 0.2))
    # inside, but the interval spills over: met, with only the precision term
    met, loss = target_loss(band, 0.58, 0.55, 0.63, 0.1)
    assert met and loss == pytest.approx(2.0 * 0.1 * 0.03 / 0.2)


def test_interval_test_checks_the_whole_interval():
    clear = _spec(band=[0.0, math.inf], scale=0.05, test="interval")
    assert target_loss(clear, 0.05, 0.01, 0.09, 0.1) == (True, 0.0)
    met, loss = target_loss(clear, 0.03, -0.01, 0.07, 0.1)
    assert not met and loss == pytest.approx(0.01 / 0.05 + 0.1 * 0.01 / 0.05)
    mean_only = _spec(band=[0.0, math.inf], scale=0.05)
    assert target_loss(mean_only, 0.03, -0.01, 0.07, 0.1)[0]


def test_value_with_standard_error_and_missing_values():
    spec = _spec(value=0.5, se=0.01)
    assert spec.bounds == pytest.approx((0.5 - Z95 * 0.01, 0.5 + Z95 * 0.01))
    met, loss = target_loss(spec, 0.53, 0.53, 0.53, 0.0)
    assert not met and loss == pytest.approx((0.53 - (0.5 + Z95 * 0.01)) / 0.01)
    assert target_loss(_spec(band=[0.4, 0.6], weight=3.0), math.nan, math.nan, math.nan, 0.1) == (
        False,
        3.0 * MISSING_PENALTY,
    )


def test_score_pairs_terms_by_replicate(tiny, tmp_path):
    targets = load_targets(tmp_path / "targets.toml")
    assert [s.path.name for s in targets.scenarios] == ["base.toml", "ips.toml"]
    rng = np.random.default_rng(3)
    base_12m, ips_12m = rng.random(5), rng.random(5)
    values = [
        [{"work_or_education_at_exit": 0.5, "employed_12m": x} for x in base_12m],
        [{"employed_12m": x} for x in ips_12m],
    ]
    results, total = score(targets, values, 0.1)
    assert results[0].mean == 0.5 and results[0].met and results[0].loss == 0.0
    d = ips_12m - base_12m
    assert results[1].n == 5 and results[1].mean == pytest.approx(d.mean())
    half = results[1].high - results[1].mean
    assert half == pytest.approx(2.776445 * d.std(ddof=1) / np.sqrt(5), rel=1e-5)  # t(0.975, 4)
    assert total == pytest.approx(sum(r.loss for r in results))


# --------------------------------------------------------------------------- the command
def test_calibrate_writes_its_outputs_and_is_the_same_on_one_and_two_processes(tiny, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    _calibrate(tiny, one)
    _calibrate(tiny, two, "--jobs", "2")
    for f in ("posterior.toml", "members.csv", "targets.csv", "parameters.csv", "waves.csv"):
        assert (one / f).read_bytes() == (two / f).read_bytes(), f
    post = load_posterior(one / "posterior.toml")
    assert post.size == 4 and post.info["identity"]["calibration"] == "tiny"
    assert set(post.members[0]) == {"mechanisms.separation_hazard", "programme.inactive_share"}
    # The ensemble file is read by compare and sweep as it is.
    assert load_ensemble(one / "posterior.toml").size == 4
    manifest = json.loads((one / "manifest.json").read_text())
    assert manifest["members"] == 4 and manifest["model_runs"] > 0
    assert manifest["recovery"]["members"] == 3
    targets = pd.read_csv(one / "targets.csv")
    assert list(targets["target"]) == ["exit", "ips_ahead"]
    html = (one / "report.html").read_text()
    for part in ("chart-targets-chart", "ips_ahead", "a test band", "Synthetic recovery"):
        assert part in html, part
    again = call_cli("calibrate", tiny, "--out", one, "--json")
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["members"] == 4 and [t["target"] for t in data["targets"]] == ["exit", "ips_ahead"]


def test_killed_calibration_resumes_to_the_same_members(tiny, tmp_path):
    whole = tmp_path / "whole"
    _calibrate(tiny, whole)
    out = tmp_path / "killed"
    # Wave 1 is 10 points × 2 scenarios × 3 replicates, one part a run here: killed in it.
    assert killed_at("calibrate", tiny, "--out", out, parts=25) == -signal.SIGKILL
    assert not (out / "posterior.toml").exists()
    _calibrate(tiny, out)
    for f in ("posterior.toml", "members.csv", "targets.csv", "waves.csv"):
        assert (out / f).read_bytes() == (whole / f).read_bytes(), f


def test_a_changed_calibration_is_refused_unless_fresh(tiny, tmp_path):
    out = tmp_path / "out"
    _calibrate(tiny, out)
    tiny.write_text(tiny.read_text().replace("seed = 5", "seed = 6"), encoding="utf-8")
    refused = call_cli("calibrate", tiny, "--out", out)
    assert refused.returncode == 2 and len(stderr_lines(refused)) == 1
    assert "--fresh" in refused.stderr
    _calibrate(tiny, out, "--fresh")


# --------------------------------------------------------------------------- ensembles
ENSEMBLE = """\
[[member]]
trial = 3
loss = 0.0
"follow_up.caseload" = 10
"wage_subsidy.rate" = 0.2

[[member]]
trial = 7
loss = 0.0
"follow_up.caseload" = 15
"wage_subsidy.rate" = 0.3

[[member]]
trial = 9
loss = 0.0
"follow_up.caseload" = 30
"wage_subsidy.rate" = 0.4
"""


LIST = 'design = "list"\n[[points]]\n"follow_up.method" = "ips"\n'


def _experiment(tmp_path: Path, small_files, replications: int, design: str) -> Path:
    """An experiment file around the small base scenario: ``design`` is its design and points."""
    write(tmp_path, "base.toml", small_files["base"].read_text(encoding="utf-8"))
    head = '[experiment]\nname = "e"\nquestion = "q"\nbase = "base.toml"\nseed = 1\n'
    return write(tmp_path, "experiment.toml", f"{head}replications = {replications}\n{design}")


def test_sweep_runs_every_member_at_every_point_and_replicate(tmp_path, small_files):
    exp = _experiment(
        tmp_path,
        small_files,
        4,
        'design = "grid"\n[factors]\n"wage_subsidy.rate" = { levels = [0.0, 0.5] }\n',
    )
    ens = load_ensemble(write(tmp_path, "ensemble.toml", ENSEMBLE))
    assert ens.size == 3 and ens.labels == ("trial 3", "trial 7", "trial 9")
    design = load_experiment(exp)
    tasks = sweep_tasks(design, ens)
    plain = {(t.point, t.replicate): t for t in sweep_tasks(design)}
    assert len(tasks) == 3 * len(plain)
    members = tomllib.loads(ENSEMBLE)["member"]
    for task in tasks:
        i, k = divmod(task.point, 3)  # task point i * K + k: point i with member k
        m = members[k]
        assert task.scenario.follow_up.caseload == m["follow_up.caseload"]
        point = design.points[i]
        # a point's own factor wins over the member's value of the same parameter
        want = point.overrides.get("wage_subsidy.rate", m["wage_subsidy.rate"])
        assert task.scenario.wage_subsidy.rate == want
        bare = plain[(i, task.replicate)]
        assert task.seed.spawn_key == bare.seed.spawn_key  # the same seed under every member
    ids = {(t.point, t.replicate, t.scenario.digest()) for t in tasks}
    assert len(ids) == len(tasks)


def test_a_sweep_over_an_ensemble_has_the_three_kinds(tmp_path, small_files):
    exp = _experiment(tmp_path, small_files, 3, LIST)
    ens = load_ensemble(write(tmp_path, "ensemble.toml", ENSEMBLE))
    design = load_experiment(exp)
    sweep = run_sweep(design, ensemble=ens)
    runs = sweep.runs
    assert sorted(set(zip(runs["ensemble_member"], runs["replicate"], strict=True))) == [
        (k, r) for k in range(3) for r in range(3)
    ]
    pts = sweep.points.set_index(["point", "outcome"])
    ips = runs[runs["point"] == 1]
    base = runs[runs["point"] == 0]
    means = ips.groupby("ensemble_member")["employed_12m"].mean().to_numpy()
    row = pts.loc[(1, "employed_12m")]
    # what we do not know about the mechanisms: the members' averages' central 95 %, their own
    # Monte Carlo error taken out
    grid = ips["employed_12m"].to_numpy().reshape(3, 3)
    denoised, _ = denoised_member_means(grid)
    assert row["parameter_low"] == pytest.approx(np.quantile(denoised, 0.025))
    assert row["parameter_high"] == pytest.approx(np.quantile(denoised, 0.975))
    assert row["mean"] == pytest.approx(means.mean())
    # simulation precision: a t interval over the members' averages
    half = stats.t.ppf(0.975, 2) * means.std(ddof=1) / np.sqrt(3)
    assert row["ci_high"] - row["mean"] == pytest.approx(half)
    # the paired difference: the same, run by run
    d = ips["employed_12m"].to_numpy() - base["employed_12m"].to_numpy()
    d_means = d.reshape(3, 3).mean(axis=1)
    assert row["diff"] == pytest.approx(d_means.mean())
    d_denoised, _ = denoised_member_means(d.reshape(3, 3))
    assert row["diff_parameter_low"] == pytest.approx(np.quantile(d_denoised, 0.025))
    # chance in one cohort: single runs around their member's average (each deviation from an
    # average of 3 runs scaled by sqrt(3 / 2), as the run is part of that average)
    dev = (d.reshape(3, 3) - d_means[:, None]).ravel() * np.sqrt(3 / 2)
    assert row["diff_cohort_high"] == pytest.approx(d_means.mean() + np.quantile(dev, 0.975))
    extra = pts.loc[(1, "extra_employed_12m")]
    assert (
        extra["diff_parameter_low"] - 1e-9 <= extra["diff"] <= extra["diff_parameter_high"] + 1e-9
    )


def test_compare_runs_every_member_with_every_replicate(tmp_path, small_files):
    ens = load_ensemble(write(tmp_path, "ensemble.toml", ENSEMBLE))
    scenarios = [load_scenario(small_files[n]) for n in ("base", "ips")]
    result = compare(scenarios, replications=2, root_seed=9, ensemble=ens)
    assert result.ensemble is not None and result.ensemble["members"] == 3
    reps = result.replicates
    assert sorted(set(zip(reps["member"], reps["replicate"], strict=True))) == [
        (k, r) for k in range(3) for r in range(2)
    ]
    for sc in scenarios:
        for k, r in ((0, 1), (2, 0)):  # member k, with replicate r's seed in every member
            want = simulate_outcomes(sc.with_overrides(ens.members[k]), replicate_seed(9, r))
            got = reps[
                (reps["scenario"] == sc.scenario.name)
                & (reps["member"] == k)
                & (reps["replicate"] == r)
                & (reps["outcome"] == "employed_12m")
            ]["value"].iloc[0]
            assert got == want["employed_12m"]
    # The three kinds: the parameter range is the members' averages' central 95 % (their own
    # Monte Carlo error taken out).
    row = result.row("ips", "employed_12m")
    ips = reps[(reps["scenario"] == "ips") & (reps["outcome"] == "employed_12m")]
    means = ips.groupby("member")["value"].mean().to_numpy()
    grid = ips.sort_values(["member", "replicate"])["value"].to_numpy().reshape(3, 2)
    denoised, _ = denoised_member_means(grid)
    assert row["parameter_low"] == pytest.approx(np.quantile(denoised, 0.025))
    assert row["parameter_high"] == pytest.approx(np.quantile(denoised, 0.975))
    assert row["mean"] == pytest.approx(means.mean())
    assert "3 plausible parameter sets" in row["parameter_label"]


def test_compare_and_sweep_commands_say_the_intervals_include_parameter_uncertainty(
    tmp_path, small_files
):
    ens = write(tmp_path, "ensemble.toml", ENSEMBLE)
    out = tmp_path / "cmp"
    result = call_cli(
        "compare", small_files["base"], small_files["ips"], "-r", "3", "--out", out,
        "--ensemble", ens,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["ensemble"]["members"] == 3
    assert "what we do not know about the mechanisms" in manifest["intervals"]
    html = (out / "report.html").read_text()
    assert "3 plausible parameter sets" in html and "Chance in one real cohort" in html
    table = pd.read_csv(out / "comparison.csv")
    for kind in ("parameter", "cohort"):
        assert table[f"{kind}_low"].notna().any() and table[f"diff_{kind}_low"].notna().any()
    assert table["parameter_label"].str.contains("mechanisms").any()
    assert "mechanisms [" in result.stdout and "one cohort [" in result.stdout

    exp = _experiment(tmp_path, small_files, 3, LIST)
    sout = tmp_path / "sweep"
    result = call_cli("sweep", exp, "--out", sout, "--ensemble", ens)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((sout / "manifest.json").read_text())
    assert "every member ran every point and replicate" in manifest["ensemble"]["rule"]
    assert "what we do not know about the mechanisms" in manifest["intervals"]
    runs = pd.read_parquet(sout / "runs.parquet")
    assert len(runs) == 2 * 3 * 3  # points × members × replicates
    points = pd.read_csv(sout / "points.csv")
    for kind in ("parameter", "cohort"):
        assert points[f"{kind}_low"].notna().any() and points[f"diff_{kind}_low"].notna().any()
    assert "mechanisms [" in result.stdout and "one cohort [" in result.stdout
    assert "3 plausible parameter sets" in result.stdout
    assert "plausible parameter sets" in (sout / "report.html").read_text()


def test_a_bad_ensemble_is_refused_with_one_line(tmp_path, small_files):
    bad = write(
        tmp_path,
        "bad.toml",
        ENSEMBLE.replace('"wage_subsidy.rate" = 0.4', '"wage_subsidy.rate" = 4.0'),
    )
    out = tmp_path / "cmp"
    result = call_cli(
        "compare", small_files["base"], small_files["ips"], "-r", "2", "--out", out,
        "--ensemble", bad,
    )  # fmt: skip
    assert result.returncode == 2 and len(stderr_lines(result)) == 1
    assert "bad.toml" in result.stderr and "wage_subsidy.rate" in result.stderr
    assert not out.exists()
    empty = write(tmp_path, "empty.toml", "member = []\n")
    result = call_cli(
        "compare", small_files["base"], small_files["ips"], "-r", "2", "--out", out,
        "--ensemble", empty,
    )  # fmt: skip
    assert result.returncode == 2 and "no members" in result.stderr


# --------------------------------------------------------------------------- fitted parameters
def test_parameters_recorded_as_fitted_are_free_parameters_of_the_file_they_name():
    assert fitted_problems(ROOT) == []


def test_fitted_records_are_checked(monkeypatch):
    monkeypatch.chdir(ROOT)
    cal = load_posterior_calibration(ROOT / "calibration" / "default.toml")
    free = cal.parameters[0].name
    rel = "calibration/default.toml"
    assert fitted_by(f"fitted by {rel} (introsim calibrate)") == rel
    sources = {
        free: f"calibrated; fitted by {rel} (introsim calibrate)",
        "follow_up.caseload": f"fitted by {rel}",
        "cohort.size": "fitted by calibration/none.toml",
        "costs.g_nok": "NAV",
    }
    problems = fitted_problems(ROOT, sources)
    assert len(problems) == 2
    assert problems[0].startswith("follow_up.caseload: fitted by calibration/default.toml")
    assert problems[1].startswith("cohort.size: fitted by calibration/none.toml")


def test_a_posterior_from_another_model_version_is_named(tmp_path, small_files):
    from introsim.experiments.engine import model_version
    from introsim.params.ensemble_file import stale_posterior

    head = '[posterior]\nmembers = 1\n[posterior.identity]\nmodel_version = "{}"\n'
    member = '[[member]]\n"mechanisms.score_noise" = 0.3\n'
    old = load_ensemble(write(tmp_path, "old.toml", head.format("0.0+old") + member))
    assert "calibrated with model 0.0+old" in stale_posterior(old, model_version())
    same = load_ensemble(write(tmp_path, "same.toml", head.format(model_version()) + member))
    assert stale_posterior(same, model_version()) is None
    plain = load_ensemble(write(tmp_path, "plain.toml", member))
    assert stale_posterior(plain, model_version()) is None
