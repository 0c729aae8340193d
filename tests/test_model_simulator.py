"""The model as a history-matching simulator, and recovery of known parameters from its output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from introsim.experiments.model_simulator import ModelSimulator
from introsim.experiments.posterior import Parameter, Settings, Target, history_match
from introsim.experiments.store import RunStore
from introsim.params.calibration_file import load_targets

BASE = """\
[scenario]
name = "base"
weeks = 120

[cohort]
size = 200

[follow_up]
method = "standard"
"""

TARGETS = """\
[[target]]
name = "b1"
statistic = "language_b1_at_end"
scenario = "base.toml"
band = [0.0, 1.0]
source = "test"

[[target]]
name = "employed"
statistic = "employed_24m"
scenario = "base.toml"
band = [0.0, 1.0]
source = "test"

[[target]]
name = "ips_minus_base"
statistic = "employed_24m"
terms = [
  { scenario = "base.toml", coef = -1.0 },
  { scenario = "base.toml", coef = 1.0, set = { "follow_up.method" = "ips" } },
]
band = [-1.0, 1.0]
source = "test"
"""

NAMES = ("programme.language_gain_per_hour", "mechanisms.separation_hazard")


@pytest.fixture(scope="module")
def targets_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("targets")
    (folder / "base.toml").write_text(BASE, encoding="utf-8")
    path = folder / "targets.toml"
    path.write_text(TARGETS, encoding="utf-8")
    return path


def test_points_become_paired_runs_and_stored_runs_are_not_rerun(targets_file, tmp_path) -> None:
    targets = load_targets(targets_file)
    store = RunStore(tmp_path / "runs")
    store.open({"experiment": "test"})
    calls: list[tuple[int, int]] = []
    sim = ModelSimulator(targets, NAMES, store=store, progress=lambda d, n: calls.append((d, n)))
    points = np.array([[0.0025, 0.008], [0.003, 0.012]])
    values = sim(points, (3, 4, 2), root_seed=5)
    assert values.shape == (2, 4, 3)
    assert np.isnan(values[:, 3, 0]).all()  # b1 asked for 3 replicates: the 4th is not its own
    assert np.isfinite(values[:, :2, 2]).all()
    # base runs 4 replicates (the most its targets ask), the IPS variant 2: per point 6 runs.
    assert calls[-1] == (12, 12)
    assert sim.scenario_replicates((3, 4, 2)) == [4, 2]
    # The difference is paired: replicate r of base is the same run in both targets.
    ips = ModelSimulator(targets, NAMES)(points, (2, 2, 2), root_seed=5)
    assert ips[:, :2, 1] == pytest.approx(values[:, :2, 1])
    calls.clear()
    again = sim(points, (3, 4, 2), root_seed=5)
    assert calls[0] == (24, 24)  # counted on from the first batch; all from the store
    assert np.array_equal(again, values, equal_nan=True)
    assert not np.array_equal(sim(points, (3, 4, 2), root_seed=6), values, equal_nan=True)


def test_an_invalid_point_gives_nan_not_an_error(targets_file) -> None:
    sim = ModelSimulator(load_targets(targets_file), NAMES)
    values = sim(np.array([[0.0025, 2.0]]), (2, 2, 2), root_seed=1)  # a hazard above 1
    assert np.isnan(values).all()


def test_trial_targets_and_unknown_parameters_are_refused(targets_file) -> None:
    with pytest.raises(ValueError, match="not a numeric scenario parameter"):
        ModelSimulator(load_targets(targets_file), ("follow_up.method",))


@pytest.mark.slow
def test_recovers_known_parameters_from_the_model_s_own_output(targets_file) -> None:
    targets_spec = load_targets(targets_file)
    truth = np.array([[0.0025, 0.008]])
    sim = ModelSimulator(targets_spec, NAMES)
    # The synthetic observation: the model's own averages at the truth, on other seeds.
    observed = np.nanmean(sim(truth, (40, 40, 40), root_seed=999), axis=1)[0]
    targets = [
        Target(name, v, v, observation_sd=0.01, replicates=8)
        for name, v in zip(("b1", "employed"), observed[:2], strict=True)
    ]
    # The IPS difference is left out: the simulator computes three targets, we fit two.
    two = _first_targets(sim, 2)
    parameters = [
        Parameter(NAMES[0], 0.0015, 0.0040),
        Parameter(NAMES[1], 0.003, 0.02, log=True),
    ]
    post = history_match(
        parameters,
        targets,
        two,
        Settings(seed=4, waves=2, points=24, candidates=1024, members=30, member_rounds=4),
    )
    assert len(post.members) >= 20
    table = post.parameter_table().set_index("parameter")
    for name, value in zip(NAMES, truth[0], strict=True):
        row = table.loc[name]
        assert row.posterior_low <= value <= row.posterior_high, name
    # Language is pinned by the B1 share: a narrow slice of its range survives.
    assert table.loc[NAMES[0], "share_of_range"] < 0.2
    # Employment at 24 months bounds the separation hazard, more loosely.
    assert table.loc[NAMES[1], "share_of_range"] < 0.8
    assert (post.target_table().fresh_within_cutoff >= 0.7).all()


def _first_targets(sim: ModelSimulator, k: int):
    def run(points: np.ndarray, replicates: tuple[int, ...], seed: int) -> np.ndarray:
        full = (*replicates, 2)[: len(sim.targets.targets)]
        return sim(points, tuple(full), seed)[:, :, :k]

    return run
