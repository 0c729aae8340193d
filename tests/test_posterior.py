"""History matching with emulators on toy simulators: known answers, recovery, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from introsim.experiments.posterior import (
    Emulator,
    Parameter,
    Settings,
    Target,
    _check_emulator,
    combined_implausibility,
    history_match,
    implausibility,
    load_posterior,
    most_points,
    posterior_toml,
    recover,
    replicates_needed,
    synthetic_targets,
)

TRUE = np.array([0.3, 0.7, 0.5])
NOISE = 0.05


def noise(seed: int, replicate: int, point: np.ndarray, size: int) -> np.ndarray:
    """Chance of one run: keyed by the root seed, the replicate and the point, nothing else."""
    key = np.frombuffer(np.ascontiguousarray(point, dtype=np.float64).tobytes(), dtype=np.uint32)
    rng = np.random.default_rng(np.random.SeedSequence([seed, replicate, *key.tolist()]))
    return rng.standard_normal(size)


def means(points: np.ndarray) -> np.ndarray:
    """The toy's expected targets: a and b are identified, c has no effect at all."""
    a, b = points[:, 0], points[:, 1]
    return np.column_stack([a + 0.3 * b, b - 0.3 * a**2, 0.5 * a * b])


def toy(points: np.ndarray, replicates: tuple[int, ...], seed: int) -> np.ndarray:
    r_max = max(replicates)
    out = np.full((points.shape[0], r_max, len(replicates)), np.nan)
    mu = means(points)
    for i, p in enumerate(points):
        for r in range(r_max):
            out[i, r] = mu[i] + NOISE * noise(seed, r, p, len(replicates))
    return out


PARAMETERS = (
    Parameter("a", 0.0, 1.0),
    Parameter("b", 0.0, 1.0),
    Parameter("c", 0.01, 10.0, log=True),
)


def targets_at(truth: np.ndarray, sd: float = 0.01) -> tuple[Target, ...]:
    values = means(truth[None, :])[0]
    return tuple(
        Target(f"y{j}", v, v, observation_sd=sd, replicates=10, source="toy")
        for j, v in enumerate(values)
    )


SETTINGS = Settings(seed=11, waves=3, points=40, candidates=2048, members=100)


@pytest.fixture(scope="module")
def matched():
    return history_match(PARAMETERS, targets_at(TRUE), toy, SETTINGS)


# --------------------------------------------------------------------------- arithmetic
def test_implausibility_known_answers() -> None:
    got = implausibility(np.array([0.7, 0.5, 0.3, np.nan]), 0.4, 0.6, 0.01)
    assert got[:3] == pytest.approx([1.0, 0.0, 1.0])
    assert math.isnan(got[3])
    assert implausibility(np.array([-0.1]), 0.0, math.inf, 0.0025)[0] == pytest.approx(2.0)
    assert implausibility(np.array([0.61]), 0.4, 0.6, 0.0)[0] == math.inf
    assert implausibility(np.array([0.5]), 0.5, 0.5, 0.0)[0] == 0.0


def test_combined_implausibility_takes_the_max_then_the_second_max() -> None:
    x = np.array([[1.0, 5.0, 2.0]])
    assert combined_implausibility(x)[0] == 5.0
    assert combined_implausibility(x, rank=2)[0] == 2.0
    many = np.zeros((1, 10))
    many[0, 3], many[0, 7] = 9.0, 1.5
    assert combined_implausibility(many)[0] == 1.5  # ten targets: the second largest
    assert combined_implausibility(np.array([[np.nan, 2.0]]))[0] == 2.0


def test_replicates_needed_known_answers() -> None:
    assert replicates_needed(0.1, 0.02, share=0.25) == 400
    assert replicates_needed(0.01, 0.02) == 4
    assert replicates_needed(0.001, 0.02) == 2
    assert replicates_needed(0.1, math.inf) == 2
    assert replicates_needed(0.1, 0.0, most=500) == 500


def test_log_parameter_round_trip_and_bad_ranges() -> None:
    p = Parameter("x", 0.01, 100.0, log=True)
    assert p.from_unit(np.array([0.5]))[0] == pytest.approx(1.0)
    assert p.to_unit(p.from_unit(np.array([0.2, 0.9]))) == pytest.approx([0.2, 0.9])
    with pytest.raises(ValueError, match="low < high"):
        Parameter("x", 1.0, 1.0)
    with pytest.raises(ValueError, match="low > 0"):
        Parameter("x", 0.0, 1.0, log=True)
    with pytest.raises(ValueError, match="at least 2 replicates"):
        Target("t", 0.0, 1.0, replicates=1)


# --------------------------------------------------------------------------- emulators
def test_emulator_check_passes_a_smooth_output_and_fails_a_wrong_one() -> None:
    rng = np.random.default_rng(0)
    unit = rng.uniform(size=(60, 2))
    smooth = np.sin(3 * unit[:, 0]) + unit[:, 1] ** 2
    mc = np.full(60, 1e-4)
    good = _check_emulator("smooth", 1, unit, smooth, mc, seed=1)
    assert good.passed and good.r2 > 0.95 and good.checked == 12
    wrong = smooth.copy()
    wrong[-12:] += 5.0  # the held-out points say something the rest cannot predict
    bad = _check_emulator("wrong", 1, unit, wrong, mc, seed=1)
    assert not bad.passed and bad.within_3 < 0.5


def test_emulator_interpolates_and_is_unsure_away_from_the_design() -> None:
    unit = np.linspace(0, 0.5, 12)[:, None]
    em = Emulator(unit, np.cos(4 * unit[:, 0]), np.full(12, 1e-6), seed=0)
    mu, var = em.predict(np.array([[0.25], [0.95]]))
    assert mu[0] == pytest.approx(math.cos(1.0), abs=0.01)
    assert var[1] > 100 * var[0]
    flat = Emulator(unit, np.full(12, 0.4), np.full(12, 1e-6), seed=0)
    mu, var = flat.predict(np.array([[0.9]]))
    assert mu[0] == pytest.approx(0.4) and var[0] == 0.0  # a constant, known exactly


# --------------------------------------------------------------------------- the whole match
def test_recovers_known_parameters_within_declared_uncertainty(matched) -> None:
    post = matched
    assert post.complete and len(post.members) == 100
    assert (post.members.combined <= SETTINGS.cutoff).all()
    table = post.parameter_table().set_index("parameter")
    for name, truth in zip(("a", "b"), TRUE[:2], strict=True):
        row = table.loc[name]
        assert row.posterior_low <= truth <= row.posterior_high
        assert row.share_of_range < 0.2  # the targets constrain a and b
    # c has no effect: the data leave it where the declared range put it.
    assert table.loc["c", "share_of_range"] > 0.8
    waves = post.wave_table()
    assert waves.passed.all()
    assert waves.groupby("wave").volume.first().is_monotonic_decreasing


def test_out_of_sample_checks(matched) -> None:
    post = matched
    table = post.target_table()
    # On fresh seeds most members stay within the cut-off for every target.
    assert (table.fresh_within_cutoff > 0.8).all()
    assert not np.allclose(post.fresh.means, post.members.means)
    # Each target's posterior predictive interval holds its observed value.
    assert (table.posterior_low <= table.band_low).all()
    assert (table.band_high <= table.posterior_high).all()
    # Each target predicted from the other two alone reaches its value.
    assert len(post.leave_one_out) == 3
    assert all(x.overlaps and x.candidates > 0 for x in post.leave_one_out)


def test_leave_one_out_flags_a_target_the_others_contradict() -> None:
    # y0 asks for a + 0.3 b = 0.95 while y1 and y2 hold a and b near (0.3, 0.7).
    targets = list(targets_at(TRUE))
    targets[0] = Target("y0", 0.95, 0.95, observation_sd=0.01, replicates=10)
    post = history_match(
        PARAMETERS, targets, toy, Settings(seed=5, waves=2, points=40, candidates=2048, members=5)
    )
    loo = {x.target: x for x in post.leave_one_out}
    assert not loo["y0"].overlaps and loo["y0"].high < 0.95
    assert len(post.members) == 0 and not post.complete


def test_same_seed_same_bytes_other_seed_other_members(matched) -> None:
    again = history_match(PARAMETERS, targets_at(TRUE), toy, SETTINGS)
    assert again.members.values.tobytes() == matched.members.values.tobytes()
    assert again.evaluations == matched.evaluations
    other = history_match(
        PARAMETERS, targets_at(TRUE), toy, Settings(seed=12, waves=1, points=40, members=10)
    )
    assert other.members.values.tobytes() != matched.members.values[:10].tobytes()


def test_most_points_bounds_a_run_and_is_reached_when_no_candidate_passes(matched) -> None:
    assert matched.evaluations <= most_points(SETTINGS) * 10  # members found: far below
    # The worst case: the emulators let candidates through, but every simulated candidate
    # misses the targets, so each round of members asks for the most it may.
    settings = Settings(seed=3, waves=2, points=24, candidates=512, members=4, member_rounds=3)
    calls: list[int] = []

    def misleading(points: np.ndarray, replicates: tuple[int, ...], seed: int) -> np.ndarray:
        calls.append(points.shape[0])
        return toy(points, replicates, seed) + (1.0 if len(calls) > settings.waves else 0.0)

    post = history_match(PARAMETERS, targets_at(TRUE), misleading, settings)
    assert len(post.members) == 0 and calls == [24, 24, 4, 20, 20]
    # Every point of the bound but the fresh re-runs of members (there are none).
    assert post.evaluations == (most_points(settings) - settings.members) * 10


def test_simulator_of_the_wrong_shape_is_refused() -> None:
    def short(points: np.ndarray, replicates: tuple[int, ...], seed: int) -> np.ndarray:
        return np.zeros((points.shape[0], 1, len(replicates)))

    with pytest.raises(ValueError, match="expected"):
        history_match(PARAMETERS, targets_at(TRUE), short, Settings(seed=1, points=8))


def test_each_target_uses_only_its_own_replicates() -> None:
    seen: list[tuple[int, ...]] = []

    def spy(points: np.ndarray, replicates: tuple[int, ...], seed: int) -> np.ndarray:
        seen.append(replicates)
        out = toy(points, replicates, seed)
        out[:, 4:, 0] = 1e6  # beyond target 0's four replicates: must be ignored
        return out

    targets = list(targets_at(TRUE))
    targets[0] = Target("y0", targets[0].low, targets[0].high, 0.01, replicates=4)
    post = history_match(
        PARAMETERS, targets, spy, Settings(seed=3, waves=1, points=24, candidates=512, members=4)
    )
    assert seen[0] == (4, 10, 10)
    assert np.nanmax(post.waves[0].means[:, 0]) < 2.0


def test_posterior_file_round_trip(matched, tmp_path) -> None:
    text = posterior_toml(matched, {"calibration": "toy", "model_version": "test"})
    path = tmp_path / "posterior.toml"
    path.write_text(text, encoding="utf-8")
    back = load_posterior(path)
    assert back.size == 100
    assert back.members[0] == pytest.approx(
        dict(zip("abc", matched.members.values[0], strict=True))
    )
    assert back.info["identity"]["calibration"] == "toy"
    assert [t["source"] for t in back.info["target"]] == ["toy"] * 3
    assert back.info["parameter"][2]["scale"] == "log"
    # A parameter that takes whole numbers is written as the simulator ran it: rounded.
    rounded = tmp_path / "rounded.toml"
    rounded.write_text(posterior_toml(matched, {}, integers={"b"}), encoding="utf-8")
    member = load_posterior(rounded).members[0]
    whole = round(matched.members.values[0, 1])
    assert member["b"] == whole and f'"b" = {whole}\n' in rounded.read_text()
    assert member["a"] == pytest.approx(matched.members.values[0, 0])
    empty = tmp_path / "empty.toml"
    empty.write_text("[posterior]\nmembers = 0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no members"):
        load_posterior(empty)


def test_synthetic_targets_keep_the_declared_uncertainty() -> None:
    band = Target("band", 0.4, 0.6, 0.01, 0.02, 8, "real")
    value = Target("value", 0.3, 0.3, 0.03, 0.0, 8, "real")
    open_band = Target("open", 0.0, math.inf, 0.0, 0.01, 8, "real")
    moved = synthetic_targets([band, value, open_band], np.array([0.7, 0.25, 0.9]))
    assert (moved[0].low, moved[0].high) == pytest.approx((0.6, 0.8))
    assert (moved[0].observation_sd, moved[0].discrepancy_sd) == (0.01, 0.02)
    assert (moved[1].low, moved[1].high, moved[1].observation_sd) == (0.25, 0.25, 0.03)
    assert moved[2] is open_band


def test_recover_finds_a_member_again_from_its_own_output(matched) -> None:
    rec = recover(matched, toy, member=3, members=16)
    assert rec.members == 16 and rec.passed
    assert (rec.truth == matched.members.values[3]).all()
    assert rec.share_of_range[:2].max() < 0.3 and rec.share_of_range[2] > 0.6


def test_recovery_fails_when_the_simulator_changed(matched) -> None:
    def shifted(points: np.ndarray, replicates: tuple[int, ...], seed: int) -> np.ndarray:
        return toy(points[:, [1, 0, 2]], replicates, seed)  # a and b swapped

    rec = recover(matched, shifted, member=3, members=8)
    assert not rec.passed and not rec.inside[:2].all()
