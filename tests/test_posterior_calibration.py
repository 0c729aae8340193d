"""A calibration file run as a posterior on the model: the file, the run, the outputs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from introsim.experiments.posterior import load_posterior
from introsim.experiments.posterior_calibration import (
    CalibrateStudy,
    build_manifest,
    load_posterior_calibration,
    min_points,
    run_posterior_calibration,
    write_posterior_outputs,
)
from introsim.experiments.store import RunStore
from introsim.params.errors import CalibrationError

BASE = """\
[scenario]
name = "base"
weeks = 110

[cohort]
size = 150

[follow_up]
method = "standard"
"""

TARGETS = """\
[[target]]
name = "b1"
statistic = "language_b1_at_end"
scenario = "base.toml"
value = 0.42
se = 0.02
source = "a test: the model's own share at the default"

[[target]]
name = "in_work_24m"
statistic = "employed_24m"
scenario = "base.toml"
band = [0.2, 0.7]
source = "a test band"

[[target]]
name = "trial_power"
trial = "trial.toml"
statistic = "itt_power"
band = [0.0, 0.5]
source = "a trial target the history match cannot run"
"""

CALIBRATION = """\
[calibration]
name = "small"
targets = "targets.toml"
seed = 3
waves = 2
points = 20
members = 10
candidates = 512
replicates = 4
discrepancy_sd = 0.02
exclude = ["trial_power"]

[parameters]
"programme.language_gain_per_hour" = { min = 0.0015, max = 0.004, source = "test range" }
"mechanisms.score_noise" = "plausible"

[target.b1]
replicates = 6
discrepancy_sd = 0.01
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "base.toml").write_text(BASE, encoding="utf-8")
    (tmp_path / "targets.toml").write_text(TARGETS, encoding="utf-8")
    (tmp_path / "trial.toml").write_text(_trial_file(), encoding="utf-8")
    (tmp_path / "cal.toml").write_text(CALIBRATION, encoding="utf-8")
    return tmp_path


def _trial_file() -> str:
    src = Path(__file__).resolve().parents[1] / "experiments" / "raskt_i_jobb_trial.toml"
    text = src.read_text(encoding="utf-8")
    return text.replace("../scenarios/", str(src.parents[1] / "scenarios") + "/")


def test_the_file_resolves_targets_parameters_and_uncertainty(folder: Path) -> None:
    cal = load_posterior_calibration(folder / "cal.toml")
    assert [t.name for t in cal.fitted] == ["b1", "in_work_24m"]
    b1, work = cal.fitted
    assert (b1.low, b1.high, b1.observation_sd) == (0.42, 0.42, 0.02)
    assert (b1.discrepancy_sd, b1.replicates) == (0.01, 6)
    assert (work.low, work.high, work.discrepancy_sd, work.replicates) == (0.2, 0.7, 0.02, 4)
    noise = cal.parameters[1]
    assert (noise.low, noise.high) == cal.infos["mechanisms.score_noise"].plausible
    assert cal.excluded == ("trial_power",)
    assert len(cal.targets.scenarios) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('exclude = ["trial_power"]', "exclude = []"), "add it to exclude"),
        (('exclude = ["trial_power"]', 'exclude = ["nope"]'), "no target named 'nope'"),
        (
            ('"mechanisms.score_noise" = "plausible"', '"mechanisms.score_noise" = "wide"'),
            "expected",
        ),
        (("[target.b1]", "[target.b2]"), "no fitted target named 'b2'"),
        (("max = 0.004,", "max = 0.001,"), "min < max"),
        (("replicates = 6", "replicates = 1"), "expected an integer >= 2, found 1"),
        (('"mechanisms.score_noise"', '"mechanisms.no_such"'), "not a parameter"),
    ],
)
def test_bad_files_fail_with_one_line_naming_the_field(folder: Path, change, message) -> None:
    path = folder / "cal.toml"
    path.write_text(CALIBRATION.replace(*change), encoding="utf-8")
    with pytest.raises(CalibrationError) as info:
        load_posterior_calibration(path)
    assert message in str(info.value)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_too_few_design_points_for_the_parameters_are_refused_before_any_run(folder: Path) -> None:
    more = "\n".join(
        f'"{name}" = "plausible"'
        for name in (
            "mechanisms.productivity_base",
            "mechanisms.productivity_weight",
            "mechanisms.language_slope",
            "labour_market.outside_bar",
        )
    )
    text = CALIBRATION.replace("points = 20", "points = 9").replace(
        '"mechanisms.score_noise" = "plausible"', f'"mechanisms.score_noise" = "plausible"\n{more}'
    )
    path = folder / "cal.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalibrationError) as info:
        load_posterior_calibration(path)
    assert "calibration.points: expected at least 10 design points per wave for 6 free" in str(
        info.value
    )
    # Each emulator is fitted on four fifths of the design and needs the parameters + 2 points.
    for d in (1, 6, 35, 100):
        n = min_points(d)
        assert n - max(2, n // 5) >= d + 2 and (n - 1) - max(2, (n - 1) // 5) < d + 2


def test_the_dry_runs_bound_holds_the_runs_the_shipped_posterior_took() -> None:
    root = Path(__file__).resolve().parents[1] / "calibration"
    header = (root / "posterior.toml").read_text(encoding="utf-8")
    took = re.search(r"Cost: +([\d,]+) model runs", header)
    assert took, "the shipped posterior's header no longer gives its model runs"
    what, runs = CalibrateStudy.load(root / "default.toml").size()
    assert what.startswith("at most ") and runs >= int(took[1].replace(",", ""))


def test_a_typical_figure_is_given_only_below_the_bound(folder: Path) -> None:
    # With one round of members the bound is below what a typical run would ask for: the
    # bound is then the figure, and nothing is called "far fewer" than itself.
    def typical_and_bound(rounds: int) -> tuple[int | None, int]:
        text = CALIBRATION.replace("members = 10\n", f"members = 10\nmember_rounds = {rounds}\n")
        (folder / f"cal{rounds}.toml").write_text(text, encoding="utf-8")
        study = CalibrateStudy.load(folder / f"cal{rounds}.toml")
        return study.typical_runs(), study.size()[1]

    typical, bound = typical_and_bound(8)
    assert typical is not None and typical < bound
    typical, bound = typical_and_bound(1)
    assert typical is None and bound > 0


def test_runs_on_the_engine_and_writes_the_ensemble(folder: Path, tmp_path: Path) -> None:
    cal = load_posterior_calibration(folder / "cal.toml")
    store = RunStore(tmp_path / "out")
    store.open(cal.identity())
    result = run_posterior_calibration(cal, store=store)
    post = result.posterior
    assert len(post.members) >= 5
    # The dry run's "at most" is a bound on the runs a calibration asks for.
    assert 0 < result.runs <= CalibrateStudy(cal).size()[1]
    out = tmp_path / "written"
    out.mkdir()
    manifest = build_manifest(result, executor="1 process", wall_time_s=1.0, command=None)
    write_posterior_outputs(result, out, manifest)
    back = load_posterior(out / "posterior.toml")
    assert back.size == len(post.members)
    assert set(back.members[0]) == {"programme.language_gain_per_hour", "mechanisms.score_noise"}
    assert back.info["identity"]["fingerprint"] == cal.fingerprint()
    for name in manifest["files"][:-1]:
        assert (out / name).is_file(), name
    # A rerun takes every run from the store and gives the same members.
    again = run_posterior_calibration(cal, store=store)
    assert again.posterior.members.values.tobytes() == post.members.values.tobytes()
