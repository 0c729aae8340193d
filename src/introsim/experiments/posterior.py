"""Calibration as a posterior: history matching with Gaussian-process emulators.

The question a calibration answers here is not "which parameter set fits best"
but "which parameter sets are not ruled out by what we know", and the answer is
an ensemble of parameter sets (the *posterior ensemble*) that every later
analysis runs over, so that what we do not know about the mechanisms shows in
every interval.

Method (Vernon, Goldstein and Bower 2010; Andrianakis et al. 2015):

1. **Waves.** Wave 1 runs the simulator at a space-filling design (a scrambled
   Sobol sequence) over the parameters' declared ranges, each point with its
   targets' replicate counts under common random numbers.
2. **Emulators.** For each target a Gaussian process (scikit-learn) is fitted to
   the replicate means, with each mean's Monte Carlo variance (the replicates'
   variance over their count) on the diagonal. Each emulator is first fitted
   without the last fifth of the design and checked on it: the standardised
   errors ``(y - m(x)) / sqrt(v(x) + mc)`` should lie within ±3 (at most one in
   twenty outside, rounded up); an emulator that fails does not cut that wave.
3. **Implausibility.** For target ``j`` with band ``[lo, hi]``, a point's
   implausibility is its emulated mean's distance outside the band over the
   square root of the emulator's variance plus the observation variance plus
   the model-discrepancy variance. A point is *implausible* when the largest
   implausibility over targets (the second largest from ten targets on) exceeds
   the cut-off (3: Pukelsheim's three-sigma rule for unimodal distributions).
4. **Refocusing.** Wave ``k + 1``'s design is drawn from the points no wave's
   emulators ruled out, in the bounding box of the last wave's survivors; waves
   go on until the set limit or until a wave keeps nearly all of the region it
   started from.
5. **Members.** Candidates are drawn from the final non-implausible region and
   *simulated*; a candidate is kept when its simulated implausibility (Monte
   Carlo variance of the replicate mean in place of the emulator's variance) is
   within the cut-off. Members are therefore a sample of the prior (uniform
   over the declared ranges) restricted to the parameter sets whose simulated
   targets are within the cut-off: rejection ABC with a uniform kernel in
   standardised distance (Wilkinson 2013: exact under a uniform model error of
   that width), the emulators serving only to propose efficiently.
6. **Out of sample.** Members are re-simulated on fresh seeds and re-scored;
   each target is predicted from the other targets alone (leave one target
   out, with the wave-1 emulators, the only ones trained over the whole range).

Why this and not ABC-SMC (pyabc): every simulation must run as batches of
(parameter point, replicate seed) tasks on the project's engine, which stores
them, resumes after a kill and gives the same bytes on any executor. History
matching proposes each wave as one batch that depends only on earlier batches'
stored results, so the whole calibration is a deterministic function of its
seed and a rerun after a kill reruns only what is missing. pyabc's parallel
samplers accept particles in the order they finish (dynamic scheduling) and
seed workers from numpy's global state; deterministic only on one core. It also
needs thousands of single simulations per generation, where emulators need a
few hundred replicate means per wave. scikit-learn's Gaussian process is the
maintained emulator; the history-matching bookkeeping (a few hundred lines)
follows the R package hmer's conventions (second-maximum implausibility from
ten targets on), for which there is no maintained Python counterpart.

The simulator is a plain function of a batch of points, so tests use toy
simulators: ``simulator(points, replicates, root_seed)`` returns the values of
every target at every point and replicate (see :data:`Simulator`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

__all__ = [
    "CUTOFF",
    "Emulator",
    "EmulatorCheck",
    "LeaveOneOut",
    "Members",
    "Parameter",
    "Posterior",
    "PosteriorFile",
    "Recovery",
    "Settings",
    "Simulator",
    "Target",
    "Wave",
    "combined_implausibility",
    "history_match",
    "implausibility",
    "load_posterior",
    "most_points",
    "posterior_toml",
    "recover",
    "replicates_needed",
    "synthetic_targets",
]

Simulator = Callable[[np.ndarray, tuple[int, ...], int], np.ndarray]
"""``simulator(points, replicates, root_seed) -> values``.

``points`` is (n, d) in the parameters' own units, ``replicates[j]`` the number
of replicates target ``j`` needs, ``root_seed`` the root of the replicate seeds
(replicate ``r`` has the same seed at every point). ``values`` is
(n, max(replicates), m): target ``j`` at point ``i`` in replicate ``r``; entries
at ``r >= replicates[j]`` are ignored, NaN marks a value the run could not give.
It must be deterministic given its arguments."""

CUTOFF = 3.0
"""Implausibility cut-off: Pukelsheim's three-sigma rule (at least 95 % of any
unimodal distribution lies within three standard deviations of its mean)."""

SECOND_MAX_FROM = 10
"""From this many targets on, the second-largest implausibility decides (hmer's
convention: one badly emulated target among many should not cut alone)."""

VALIDATION_LIMIT = 3.0
"""An emulator's standardised validation error beyond this is a failure."""

VALIDATION_FAILURES = 0.05
"""Share of validation errors allowed beyond :data:`VALIDATION_LIMIT` (rounded up)."""

REGION_MARGIN = 0.1
"""The next wave's box is the survivors' bounding box widened by this share of its
width on each side (within the declared ranges), so it does not clip the region."""

RECOVERY_SLACK = 0.25
"""Share of the recovered members' range added on each side when checking a known value."""

MAX_BATCH = 5
"""A later round of member candidates simulates at most this many times the members wanted:
the round after a poor acceptance rate asks for more, but not without bound."""

_PURPOSE = {"design": 1, "screen": 2, "members": 3, "loto": 4, "gp": 5}
"""Spawn keys of the random streams, one per use, so adding draws to one leaves the others."""


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Parameter:
    """A free parameter and its declared range (the prior is uniform over it).

    Attributes:
        name: Its dotted scenario path.
        low: Lowest value.
        high: Highest value.
        log: Uniform in the logarithm (both ends must be positive).
        source: Where the range comes from.
    """

    name: str
    low: float
    high: float
    log: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"{self.name}: expected low < high, found {self.low}, {self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"{self.name}: a log range needs low > 0, found {self.low}")

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Values for positions ``u`` in [0, 1] along the range."""
        u = np.asarray(u, dtype=np.float64)
        if self.log:
            a, b = math.log(self.low), math.log(self.high)
            return np.exp(a + u * (b - a))
        return self.low + u * (self.high - self.low)

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        """Positions in [0, 1] of values ``x``."""
        x = np.asarray(x, dtype=np.float64)
        if self.log:
            a, b = math.log(self.low), math.log(self.high)
            return (np.log(x) - a) / (b - a)
        return (x - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class Target:
    """What a statistic should be, and how sure we are of it.

    A band ``[low, high]`` (``low == high`` for a single observed value) is where
    the real-world quantity lies; ``observation_sd`` is the error of that
    statement (a survey's standard error, the step from test-takers to every
    participant) and ``discrepancy_sd`` how far the model may sit from the real
    quantity at its best parameters (what it leaves out). Open bands use ``inf``.

    Attributes:
        name: The target's name.
        low: Lower end of the band.
        high: Upper end.
        observation_sd: Standard deviation of the observation error.
        discrepancy_sd: Standard deviation of the model discrepancy.
        replicates: Replicates per point its Monte Carlo noise needs (at least 2).
        source: The study or statistic it comes from.
    """

    name: str
    low: float
    high: float
    observation_sd: float = 0.0
    discrepancy_sd: float = 0.0
    replicates: int = 10
    source: str = ""

    def __post_init__(self) -> None:
        if math.isnan(self.low) or math.isnan(self.high) or self.low > self.high:
            raise ValueError(f"{self.name}: expected low <= high, found {self.low}, {self.high}")
        if self.observation_sd < 0 or self.discrepancy_sd < 0:
            raise ValueError(f"{self.name}: standard deviations cannot be negative")
        if self.replicates < 2:
            raise ValueError(f"{self.name}: at least 2 replicates (their spread is the MC error)")

    @property
    def fixed_variance(self) -> float:
        """Observation plus model-discrepancy variance."""
        return self.observation_sd**2 + self.discrepancy_sd**2


@dataclass(frozen=True)
class Settings:
    """How the history match runs.

    Attributes:
        seed: Root seed of designs, replicates and emulator fits.
        waves: Most waves.
        points: Design points per wave.
        cutoff: Implausibility cut-off.
        candidates: Candidates drawn per round when screening with emulators.
        members: Members of the posterior ensemble wanted.
        member_rounds: Most rounds of simulated candidates to find them.
        stop_share: Stop after a wave that keeps at least this share of its region.
        fresh_seed: Root seed of the out-of-sample re-runs (default: ``seed + 1``).
    """

    seed: int
    waves: int = 4
    points: int = 80
    cutoff: float = CUTOFF
    candidates: int = 8192
    members: int = 100
    member_rounds: int = 8
    stop_share: float = 0.9
    fresh_seed: int | None = None

    def __post_init__(self) -> None:
        if self.waves < 1 or self.points < 4 or self.members < 1 or self.member_rounds < 1:
            raise ValueError("waves, members and member_rounds must be >= 1, points >= 4")
        if self.cutoff <= 0 or self.candidates < 16:
            raise ValueError("cutoff must be > 0 and candidates >= 16")

    @property
    def out_of_sample_seed(self) -> int:
        """The root seed of the fresh re-runs."""
        return self.fresh_seed if self.fresh_seed is not None else self.seed + 1


# --------------------------------------------------------------------------- arithmetic
def implausibility(
    mean: np.ndarray, low: float, high: float, variance: np.ndarray | float
) -> np.ndarray:
    """Distance of ``mean`` outside ``[low, high]`` in standard deviations.

    Args:
        mean: Emulated or simulated means.
        low: Lower end of the band (``-inf`` for none).
        high: Upper end (``inf`` for none).
        variance: Total variance: emulator or Monte Carlo, plus observation and
            model discrepancy.

    Returns:
        0 inside the band; outside, the distance over the standard deviation
        (``inf`` where the variance is 0). NaN where ``mean`` is NaN.
    """
    m = np.asarray(mean, dtype=np.float64)
    v = np.broadcast_to(np.asarray(variance, dtype=np.float64), m.shape)
    distance = np.maximum(np.maximum(low - m, m - high), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(distance > 0, distance / np.sqrt(v), 0.0)
    return np.where(np.isnan(m), np.nan, out)


def combined_implausibility(values: np.ndarray, rank: int | None = None) -> np.ndarray:
    """The ``rank``-th largest implausibility over targets (last axis), NaN as no constraint.

    Args:
        values: (..., m) implausibilities.
        rank: 1 for the maximum, 2 for the second largest; None: 1 with fewer than
            :data:`SECOND_MAX_FROM` targets, else 2.

    Returns:
        The combined implausibility of each point.
    """
    x = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    m = x.shape[-1]
    if rank is None:
        rank = 2 if m >= SECOND_MAX_FROM else 1
    rank = max(1, min(rank, m))
    return np.sort(x, axis=-1)[..., m - rank]


def replicates_needed(
    run_sd: float, tolerance_sd: float, share: float = 0.25, most: int = 1000
) -> int:
    """Replicates that make a mean's Monte Carlo error small beside the target's tolerance.

    Args:
        run_sd: Standard deviation of the statistic between single runs.
        tolerance_sd: The target's own uncertainty (observation and discrepancy),
            or its band's half-width over the cut-off where those are 0.
        share: The Monte Carlo standard error wanted, as a share of ``tolerance_sd``.
        most: Upper limit.

    Returns:
        The smallest ``R >= 2`` with ``run_sd / sqrt(R) <= share * tolerance_sd``.
    """
    if not run_sd > 0 or math.isinf(tolerance_sd):
        return 2  # no noise, or nothing to resolve it against
    if not tolerance_sd > 0:
        return most  # an exact target: as many as allowed
    return int(min(most, max(2, math.ceil((run_sd / (share * tolerance_sd)) ** 2))))


def _stream(seed: int, purpose: str, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_PURPOSE[purpose], *key)))


def _sobol(d: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of a scrambled Sobol sequence in [0, 1)^d (drawn as a power of two)."""
    m = max(1, math.ceil(math.log2(max(n, 2))))
    return qmc.Sobol(d, scramble=True, seed=rng).random_base2(m)[:n]


def _replicate_stats(values: np.ndarray, replicates: Sequence[int]) -> tuple[np.ndarray, ...]:
    """Per point and target: mean, Monte Carlo variance of the mean, finite runs, run sd."""
    n, _, m = values.shape
    mean = np.full((n, m), np.nan)
    mc = np.full((n, m), np.nan)
    sd = np.full((n, m), np.nan)
    count = np.zeros((n, m), dtype=np.int64)
    for j, r in enumerate(replicates):
        x = values[:, :r, j]
        finite = np.isfinite(x)
        k = finite.sum(axis=1)
        count[:, j] = k
        with np.errstate(invalid="ignore", divide="ignore"):
            mu = np.where(k > 0, np.where(finite, x, 0.0).sum(axis=1) / np.maximum(k, 1), np.nan)
            dev = np.where(finite, x - mu[:, None], 0.0)
            var = np.where(k > 1, (dev**2).sum(axis=1) / np.maximum(k - 1, 1), np.nan)
        mean[:, j], sd[:, j] = mu, np.sqrt(var)
        mc[:, j] = var / np.maximum(k, 1)
    return mean, mc, count, sd


# --------------------------------------------------------------------------- emulators
def _one_thread() -> Any:
    """A context with one BLAS thread for the Gaussian processes.

    Their matrices are small; on a busy machine (or beside the simulation's own
    workers) more threads only wait for each other.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


@dataclass(frozen=True)
class EmulatorCheck:
    """How an emulator did on design points it was not fitted to.

    Attributes:
        target: The target's name.
        wave: The wave (1-based).
        fitted: Design points it was fitted to in the check.
        checked: Held-out points.
        within_3: Share of standardised errors within ±3.
        within_2: Share within ±2 (about 95 % for a well-calibrated emulator).
        r2: Share of the held-out means' variance the emulator's mean explains.
        passed: Whether at most :data:`VALIDATION_FAILURES` (rounded up) lie beyond ±3.
        note: Why there is no emulator, else ``""``.
    """

    target: str
    wave: int
    fitted: int
    checked: int
    within_3: float
    within_2: float
    r2: float
    passed: bool
    note: str = ""


class Emulator:
    """A Gaussian process of one target's replicate mean over the unit parameter box.

    Args:
        unit: (n, d) design points in [0, 1]^d.
        mean: (n,) replicate means.
        mc_variance: (n,) Monte Carlo variance of each mean.
        seed: Seed of the hyperparameter optimiser's restarts.
    """

    def __init__(
        self, unit: np.ndarray, mean: np.ndarray, mc_variance: np.ndarray, seed: int
    ) -> None:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        ok = np.isfinite(mean) & np.isfinite(mc_variance)
        x, y, v = unit[ok], mean[ok], mc_variance[ok]
        self.centre = float(y.mean()) if y.size else math.nan
        self.scale = float(y.std()) if y.size else 0.0
        self.gp: Any = None
        if y.size == 0 or self.scale <= 1e-12 * max(1.0, abs(self.centre)):
            self.scale = 0.0
            return  # a constant (or nothing): predicted exactly, no process needed
        d = unit.shape[1]
        # Smooth (Matern 5/2) with one length scale per parameter; the white term takes
        # roughness the Monte Carlo variance on the diagonal does not explain.
        kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
            length_scale=np.full(d, 0.5), length_scale_bounds=(1e-2, 1e2), nu=2.5
        ) + WhiteKernel(1e-3, (1e-8, 1.0))
        self.gp = GaussianProcessRegressor(
            kernel=kernel,
            alpha=np.maximum(v / self.scale**2, 1e-10),
            n_restarts_optimizer=2,
            random_state=seed,
        )
        with warnings.catch_warnings(), _one_thread():
            # Length scales at their bounds (a parameter without effect) are expected.
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp.fit(x, (y - self.centre) / self.scale)

    def predict(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulated mean and its variance at points ``unit`` (n, d)."""
        n = unit.shape[0]
        if self.gp is None:
            return np.full(n, self.centre), np.zeros(n)
        with _one_thread():
            mu, sd = self.gp.predict(unit, return_std=True)
        return self.centre + self.scale * mu, (self.scale * sd) ** 2


def _check_emulator(
    target: str,
    wave: int,
    unit: np.ndarray,
    mean: np.ndarray,
    mc: np.ndarray,
    seed: int,
) -> EmulatorCheck:
    """Fit on the first four fifths of the design, score the last fifth."""
    ok = np.flatnonzero(np.isfinite(mean) & np.isfinite(mc))
    d = unit.shape[1]
    held = max(2, len(ok) // 5)
    if len(ok) - held < d + 2:
        return EmulatorCheck(
            target, wave, 0, 0, math.nan, math.nan, math.nan, False, "too few finite means"
        )
    fit, test = ok[:-held], ok[-held:]
    emulator = Emulator(unit[fit], mean[fit], mc[fit], seed)
    mu, var = emulator.predict(unit[test])
    total = var + mc[test]
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.where(total > 0, (mean[test] - mu) / np.sqrt(total), 0.0)
    err = np.where((total == 0) & (mean[test] != mu), np.inf, err)
    spread = float(((mean[test] - mean[test].mean()) ** 2).sum())
    r2 = 1.0 - float(((mean[test] - mu) ** 2).sum()) / spread if spread > 0 else math.nan
    beyond = int((np.abs(err) > VALIDATION_LIMIT).sum())
    allowed = math.ceil(VALIDATION_FAILURES * held)
    return EmulatorCheck(
        target,
        wave,
        len(fit),
        held,
        float((np.abs(err) <= VALIDATION_LIMIT).mean()),
        float((np.abs(err) <= 2.0).mean()),
        r2,
        beyond <= allowed,
    )


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Wave:
    """One wave: its design, the simulated means and the emulators fitted to them.

    Attributes:
        index: 1-based.
        box_low: Lower corner (unit scale) of the region its design was drawn in.
        box_high: Upper corner.
        unit: (n, d) design points on the unit scale.
        means: (n, m) replicate means.
        mc_variance: (n, m) their Monte Carlo variances.
        checks: Each target's emulator check.
        kept: Share of the candidates that passed earlier waves which pass this one too.
        volume: Estimated share of the declared ranges' volume still not implausible.
        evaluations: Point-replicates simulated.
    """

    index: int
    box_low: np.ndarray
    box_high: np.ndarray
    unit: np.ndarray
    means: np.ndarray
    mc_variance: np.ndarray
    checks: tuple[EmulatorCheck, ...]
    kept: float
    volume: float
    evaluations: int
    emulators: tuple[Emulator | None, ...] = field(repr=False, default=())


@dataclass(frozen=True)
class Members:
    """Simulated parameter sets: the ensemble's members (or candidates for it).

    Attributes:
        unit: (K, d) on the unit scale.
        values: (K, d) in the parameters' units.
        means: (K, m) replicate means of each target.
        mc_variance: (K, m) their Monte Carlo variances.
        run_sd: (K, m) standard deviation between single runs.
        implausibility: (K, m) simulated implausibility of each target.
        combined: (K,) the combined implausibility.
    """

    unit: np.ndarray
    values: np.ndarray
    means: np.ndarray
    mc_variance: np.ndarray
    run_sd: np.ndarray
    implausibility: np.ndarray
    combined: np.ndarray

    def __len__(self) -> int:
        return int(self.unit.shape[0])

    def take(self, index: np.ndarray) -> Members:
        """The members at ``index``."""
        return Members(*(np.asarray(a)[index] for a in dataclass_values(self)))


def dataclass_values(obj: Any) -> list[Any]:
    """A dataclass's field values in order."""
    return [getattr(obj, f) for f in obj.__dataclass_fields__]


@dataclass(frozen=True)
class LeaveOneOut:
    """A target predicted from the other targets alone.

    Attributes:
        target: The left-out target.
        candidates: Candidates over the declared ranges the other targets keep.
        median: Median of the predictive distribution of the observed quantity (the
            emulator's mean and variance over the kept candidates, plus observation
            and model-discrepancy variance).
        low: 2.5 % point of the predictive distribution.
        high: 97.5 % point.
        overlaps: Whether the 95 % predictive interval meets the target's band.
        note: Why there is no prediction, else ``""``.
    """

    target: str
    candidates: int
    median: float
    low: float
    high: float
    overlaps: bool
    note: str = ""


@dataclass(frozen=True)
class Posterior:
    """A finished history match: waves, members and their out-of-sample checks.

    Attributes:
        parameters: The free parameters.
        targets: The targets.
        settings: How it ran.
        waves: The waves in order.
        members: The posterior ensemble (at most ``settings.members``).
        proposed: Candidates simulated to find them.
        fresh: The members re-simulated on fresh seeds.
        leave_one_out: Each target predicted from the others.
        evaluations: Point-replicates simulated in all.
        stopped: Why the waves stopped, in words.
    """

    parameters: tuple[Parameter, ...]
    targets: tuple[Target, ...]
    settings: Settings
    waves: tuple[Wave, ...]
    members: Members
    proposed: int
    fresh: Members
    leave_one_out: tuple[LeaveOneOut, ...]
    evaluations: int
    stopped: str

    def loo_note(self, target: str) -> str:
        """Why ``target`` has no prediction from the other targets, in plain words."""
        for x in self.leave_one_out:
            if x.target == target and x.note:
                return LOO_NOTES.get(x.note, x.note)
        return "no prediction"

    @property
    def complete(self) -> bool:
        """Whether as many members as wanted were found."""
        return len(self.members) >= self.settings.members

    def member_table(self) -> pd.DataFrame:
        """One row per member: parameter values, each target's mean and implausibility."""
        df = pd.DataFrame(self.members.values, columns=[p.name for p in self.parameters])
        df.insert(0, "member", np.arange(len(self.members)))
        for j, t in enumerate(self.targets):
            df[f"{t.name}"] = self.members.means[:, j]
            df[f"{t.name}_implausibility"] = self.members.implausibility[:, j]
            df[f"{t.name}_fresh"] = self.fresh.means[:, j]
        df["implausibility"] = self.members.combined
        df["implausibility_fresh"] = self.fresh.combined
        return df

    def target_table(self) -> pd.DataFrame:
        """One row per target: band, posterior predictive interval, out-of-sample checks."""
        rows = []
        cut = self.settings.cutoff
        loo = {x.target: x for x in self.leave_one_out}
        for j, t in enumerate(self.targets):
            mine = self.members.means[:, j]
            fresh = self.fresh.means[:, j]
            lo, mid, hi = _quantiles3(mine)
            flo, fmid, fhi = _quantiles3(fresh)
            x = loo.get(t.name)
            rows.append(
                {
                    "target": t.name,
                    "band_low": t.low,
                    "band_high": t.high,
                    "observation_sd": t.observation_sd,
                    "discrepancy_sd": t.discrepancy_sd,
                    "replicates": t.replicates,
                    "posterior_median": mid,
                    "posterior_low": lo,
                    "posterior_high": hi,
                    "fresh_median": fmid,
                    "fresh_low": flo,
                    "fresh_high": fhi,
                    "fresh_within_cutoff": _share(self.fresh.implausibility[:, j] <= cut),
                    "loo_low": x.low if x else math.nan,
                    "loo_high": x.high if x else math.nan,
                    "loo_overlaps": x.overlaps if x else False,
                    "source": t.source,
                }
            )
        return pd.DataFrame(rows)

    def parameter_table(self) -> pd.DataFrame:
        """One row per parameter: declared range and the members' 2.5/50/97.5 % points.

        ``share_of_range`` is how much of its range the members leave open: the width of
        their central 95 % (on the range's own scale, linear or log) over the 95 % a
        spread across the whole range would take. About 1: the targets say nothing about
        the parameter on its own; small: they pin it down. (The central 95 % rather than
        the extremes, so a few members in the tails do not make a narrow posterior look wide.)
        """
        rows = []
        for i, p in enumerate(self.parameters):
            lo, mid, hi = _quantiles3(self.members.values[:, i])
            u_lo, _, u_hi = _quantiles3(self.members.unit[:, i])
            width = (u_hi - u_lo) / 0.95 if len(self.members) else math.nan
            rows.append(
                {
                    "parameter": p.name,
                    "range_low": p.low,
                    "range_high": p.high,
                    "scale": "log" if p.log else "linear",
                    "posterior_low": lo,
                    "posterior_median": mid,
                    "posterior_high": hi,
                    "share_of_range": width,
                    "source": p.source,
                }
            )
        return pd.DataFrame(rows)

    def wave_table(self) -> pd.DataFrame:
        """One row per wave and target: the emulator check, the share kept and the volume."""
        rows = []
        for w in self.waves:
            for c in w.checks:
                rows.append(
                    {
                        "wave": w.index,
                        "points": int(w.unit.shape[0]),
                        "evaluations": w.evaluations,
                        "kept": w.kept,
                        "volume": w.volume,
                        **{k: v for k, v in c.__dict__.items() if k != "wave"},
                    }
                )
        return pd.DataFrame(rows)


LOO_NOTES = {
    "no emulator": "its wave-1 emulator failed its check",
    "nothing kept": "the other targets keep no candidate",
}
"""Why a target has no prediction from the others, in plain words."""


def _share(mask: np.ndarray) -> float:
    return float(np.mean(mask)) if np.size(mask) else math.nan


def _quantiles3(x: np.ndarray) -> tuple[float, float, float]:
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if not x.size:
        return math.nan, math.nan, math.nan
    lo, mid, hi = np.quantile(x, [0.025, 0.5, 0.975])
    return float(lo), float(mid), float(hi)


# --------------------------------------------------------------------------- the history match
class _Match:
    """The state of one history match while it runs."""

    def __init__(
        self,
        parameters: Sequence[Parameter],
        targets: Sequence[Target],
        simulator: Simulator,
        settings: Settings,
        log: Callable[[str], None] | None,
    ) -> None:
        if not parameters or not targets:
            raise ValueError("a history match needs at least one parameter and one target")
        self.parameters = tuple(parameters)
        self.targets = tuple(targets)
        self.simulator = simulator
        self.settings = settings
        self.log = log or (lambda _text: None)
        self.replicates = tuple(t.replicates for t in self.targets)
        self.fixed = np.array([t.fixed_variance for t in self.targets])
        self.low = np.array([t.low for t in self.targets])
        self.high = np.array([t.high for t in self.targets])
        self.emulators: list[tuple[Emulator | None, ...]] = []
        self.evaluations = 0
        d = len(self.parameters)
        self.box: tuple[np.ndarray, np.ndarray] = (np.zeros(d), np.ones(d))

    @property
    def d(self) -> int:
        return len(self.parameters)

    def values_of(self, unit: np.ndarray) -> np.ndarray:
        return np.column_stack([p.from_unit(unit[:, i]) for i, p in enumerate(self.parameters)])

    def simulate(self, unit: np.ndarray, seed: int) -> Members:
        """Simulate points and score them with their Monte Carlo variance."""
        values = self.values_of(unit)
        out = np.asarray(self.simulator(values, self.replicates, seed), dtype=np.float64)
        want = (unit.shape[0], max(self.replicates), len(self.targets))
        if out.shape != want:
            raise ValueError(f"the simulator returned shape {out.shape}, expected {want}")
        self.evaluations += unit.shape[0] * max(self.replicates)
        mean, mc, _, sd = _replicate_stats(out, self.replicates)
        imp = np.column_stack(
            [
                implausibility(mean[:, j], t.low, t.high, mc[:, j] + t.fixed_variance)
                for j, t in enumerate(self.targets)
            ]
        )
        return Members(unit, values, mean, mc, sd, imp, combined_implausibility(imp))

    def emulated(
        self, unit: np.ndarray, waves: Sequence[tuple[Emulator | None, ...]]
    ) -> np.ndarray:
        """Whether each point passes every given wave's emulators."""
        keep = np.ones(unit.shape[0], dtype=bool)
        for emulators in waves:
            if not keep.any():
                break
            idx = np.flatnonzero(keep)
            imp = np.full((idx.size, len(self.targets)), np.nan)
            for j, em in enumerate(emulators):
                if em is None:
                    continue
                mu, var = em.predict(unit[idx])
                imp[:, j] = implausibility(mu, self.low[j], self.high[j], var + self.fixed[j])
            keep[idx] = combined_implausibility(imp) <= self.settings.cutoff
        return keep

    def draw(
        self, purpose: str, key: int, n: int, box: tuple[np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, int]:
        """Up to ``n`` points in ``box`` that pass every wave so far, and candidates drawn."""
        lo, hi = box
        found: list[np.ndarray] = []
        drawn, have = 0, 0
        for attempt in range(16):
            rng = _stream(self.settings.seed, purpose, key, attempt)
            u = lo + _sobol(self.d, self.settings.candidates, rng) * (hi - lo)
            drawn += u.shape[0]
            ok = u[self.emulated(u, self.emulators)]
            found.append(ok)
            have += ok.shape[0]
            if have >= n:
                break
        pts = np.vstack(found) if found else np.empty((0, self.d))
        return pts[:n], drawn

    def wave(self, index: int, box: tuple[np.ndarray, np.ndarray]) -> Wave | None:
        s = self.settings
        if index == 1:
            unit = _sobol(self.d, s.points, _stream(s.seed, "design", index))
        else:
            unit, _ = self.draw("design", index, s.points, box)
        if unit.shape[0] < self.d + 4:
            self.log(f"wave {index}: only {unit.shape[0]} non-implausible points found; stopping")
            return None
        before = self.evaluations
        sim = self.simulate(unit, s.seed)
        checks, emulators = [], []
        for j, t in enumerate(self.targets):
            gp_seed = int(_stream(s.seed, "gp", index, j).integers(2**31 - 1))
            check = _check_emulator(
                t.name, index, unit, sim.means[:, j], sim.mc_variance[:, j], gp_seed
            )
            checks.append(check)
            usable = check.passed and not check.note
            emulators.append(
                Emulator(unit, sim.means[:, j], sim.mc_variance[:, j], gp_seed) if usable else None
            )
        # The share of the region (as it stood) that this wave's emulators keep.
        rng = _stream(s.seed, "screen", index)
        u = box[0] + _sobol(self.d, s.candidates, rng) * (box[1] - box[0])
        before_ok = self.emulated(u, self.emulators)
        self.emulators.append(tuple(emulators))
        after_ok = before_ok & self.emulated(u, self.emulators[-1:])
        kept = after_ok.sum() / max(before_ok.sum(), 1)
        volume = float(np.prod(box[1] - box[0]) * after_ok.mean())
        new_box = _box(u[after_ok], box)
        self.box = new_box
        return Wave(
            index,
            box[0],
            box[1],
            unit,
            sim.means,
            sim.mc_variance,
            tuple(checks),
            float(kept),
            volume,
            self.evaluations - before,
            tuple(emulators),
        )

    def members(self) -> tuple[Members, int]:
        """Simulate candidates from the final region until enough are within the cut-off."""
        s = self.settings
        kept: list[Members] = []
        have, proposed, batch = 0, 0, s.members
        for rnd in range(s.member_rounds):
            unit, _ = self.draw("members", rnd, batch, self.box)
            if unit.shape[0] == 0:
                break
            sim = self.simulate(unit, s.seed)
            proposed += unit.shape[0]
            ok = sim.combined <= s.cutoff
            kept.append(sim.take(np.flatnonzero(ok)))
            have += int(ok.sum())
            self.log(
                f"members, round {rnd + 1}: {int(ok.sum())} of {unit.shape[0]} candidates "
                f"within the cut-off ({have} of {s.members})"
            )
            if have >= s.members:
                break
            rate = max(have / proposed, 0.02)
            batch = int(min(MAX_BATCH * s.members, math.ceil(1.2 * (s.members - have) / rate)))
        if not kept:
            empty = np.empty((0, self.d))
            m0 = np.empty((0, len(self.targets)))
            return Members(empty, empty, m0, m0, m0, m0, np.empty(0)), proposed
        allm = Members(
            *(np.concatenate(parts) for parts in zip(*map(dataclass_values, kept), strict=True))
        )
        return allm.take(np.arange(min(len(allm), s.members))), proposed

    def leave_one_out(self) -> tuple[LeaveOneOut, ...]:
        """Each target predicted from the others with the wave-1 emulators."""
        s = self.settings
        first = self.emulators[0]
        u = _sobol(self.d, s.candidates, _stream(s.seed, "loto", 0))
        pred = [em.predict(u) if em is not None else None for em in first]
        imp = np.full((u.shape[0], len(self.targets)), np.nan)
        for j, p in enumerate(pred):
            if p is not None:
                imp[:, j] = implausibility(p[0], self.low[j], self.high[j], p[1] + self.fixed[j])
        out = []
        for j, t in enumerate(self.targets):
            if pred[j] is None:
                out.append(
                    LeaveOneOut(t.name, 0, math.nan, math.nan, math.nan, False, "no emulator")
                )
                continue
            others = np.delete(imp, j, axis=1)
            keep = (
                combined_implausibility(others) <= s.cutoff
                if others.shape[1]
                else np.ones(u.shape[0], dtype=bool)
            )
            if not keep.any():
                out.append(
                    LeaveOneOut(t.name, 0, math.nan, math.nan, math.nan, False, "nothing kept")
                )
                continue
            mean_var = pred[j]
            assert mean_var is not None  # targets without an emulator were skipped above
            mu, var = mean_var[0][keep], mean_var[1][keep]
            rng = _stream(s.seed, "loto", 1, j)
            draws = mu + np.sqrt(var + self.fixed[j]) * rng.standard_normal(mu.size)
            lo, mid, hi = np.quantile(draws, [0.025, 0.5, 0.975])
            overlaps = bool(hi >= t.low and lo <= t.high)
            out.append(
                LeaveOneOut(t.name, int(keep.sum()), float(mid), float(lo), float(hi), overlaps)
            )
        return tuple(out)


def _box(points: np.ndarray, box: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The bounding box of ``points`` widened by :data:`REGION_MARGIN`, inside the unit box."""
    if points.shape[0] == 0:
        return box
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = REGION_MARGIN * np.maximum(hi - lo, 1.0 / max(points.shape[0], 1))
    return np.maximum(lo - pad, 0.0), np.minimum(hi + pad, 1.0)


def most_points(settings: Settings) -> int:
    """The most parameter points :func:`history_match` can simulate with ``settings``.

    Every wave simulates at most ``points`` (the first exactly that many); the first round
    of member candidates ``members``, each of the other ``member_rounds - 1`` at most
    :data:`MAX_BATCH` × ``members``; then at most ``members`` again on fresh seeds. A run
    reaches this only when almost no candidate is within the cut-off: the rounds stop once
    ``members`` are found.
    """
    s = settings
    candidates = s.members * (1 + MAX_BATCH * (s.member_rounds - 1))
    return s.waves * s.points + candidates + s.members


def history_match(
    parameters: Sequence[Parameter],
    targets: Sequence[Target],
    simulator: Simulator,
    settings: Settings,
    log: Callable[[str], None] | None = None,
) -> Posterior:
    """Run waves of history matching, then draw and check the posterior ensemble.

    Args:
        parameters: The free parameters with their declared ranges.
        targets: The targets with bands, uncertainties and replicate counts.
        simulator: See :data:`Simulator`; called once per wave, once per round of
            members and once for the fresh re-runs.
        settings: Seeds, waves, design size, cut-off, members.
        log: Called with one line of progress per wave and round.

    Returns:
        The waves, the members (fewer than wanted when the region is too small:
        see :attr:`Posterior.complete`) and their out-of-sample checks.
    """
    with _one_thread():
        return _history_match(parameters, targets, simulator, settings, log)


def _history_match(
    parameters: Sequence[Parameter],
    targets: Sequence[Target],
    simulator: Simulator,
    settings: Settings,
    log: Callable[[str], None] | None,
) -> Posterior:
    match = _Match(parameters, targets, simulator, settings, log)
    waves: list[Wave] = []
    stopped = f"the last of {settings.waves} waves"
    for index in range(1, settings.waves + 1):
        wave = match.wave(index, match.box)
        if wave is None:
            stopped = f"wave {index} found too few non-implausible points to emulate"
            break
        waves.append(wave)
        match.log(
            f"wave {index}: {wave.unit.shape[0]} points, emulators passed "
            f"{sum(c.passed for c in wave.checks)} of {len(wave.checks)}, kept {wave.kept:.0%} "
            f"of its region; about {wave.volume:.2%} of the declared ranges remain"
        )
        if wave.kept >= settings.stop_share and index > 1:
            stopped = (
                f"wave {index} kept {wave.kept:.0%} of its region (>= {settings.stop_share:.0%})"
            )
            break
    if not waves:
        raise ValueError("no wave could be run: too few design points")
    members, proposed = match.members()
    fresh = match.simulate(members.unit, settings.out_of_sample_seed) if len(members) else members
    return Posterior(
        match.parameters,
        match.targets,
        settings,
        tuple(waves),
        members,
        proposed,
        fresh,
        match.leave_one_out(),
        match.evaluations,
        stopped,
    )


# --------------------------------------------------------------------------- synthetic recovery
@dataclass(frozen=True)
class Recovery:
    """Known parameters recovered from targets the simulator itself made there.

    Attributes:
        truth: (d,) the known parameter values (a member of the posterior).
        low: (d,) 2.5 % point of each parameter among the recovered members.
        high: (d,) 97.5 % point.
        inside: (d,) whether each truth lies within the recovered members' range widened
            by :data:`RECOVERY_SLACK` of its width on each side (a posterior draw falls outside
            its own 95 % interval one time in twenty, so the interval alone would fail often).
        share_of_range: (d,) the recovered members' spread as a share of the range.
        members: Members recovered.
        evaluations: Point-replicates it simulated (wave 1 repeats the main run's design).
    """

    truth: np.ndarray
    low: np.ndarray
    high: np.ndarray
    inside: np.ndarray
    share_of_range: np.ndarray
    members: int
    evaluations: int

    @property
    def passed(self) -> bool:
        """Whether every known value was recovered within its interval."""
        return bool(self.members > 0 and self.inside.all())


def synthetic_targets(targets: Sequence[Target], values: np.ndarray) -> tuple[Target, ...]:
    """The targets moved to ``values`` with their declared uncertainty kept.

    A single value moves to the new value; a finite band keeps its width around it;
    an open band (one end infinite) says nothing about where the value is and stays.
    """
    out = []
    for t, v in zip(targets, values, strict=True):
        if not (math.isfinite(t.low) and math.isfinite(t.high)) or not math.isfinite(v):
            out.append(t)
            continue
        half = (t.high - t.low) / 2
        out.append(
            Target(
                t.name,
                v - half,
                v + half,
                t.observation_sd,
                t.discrepancy_sd,
                t.replicates,
                "synthetic: the model's own value at a known point",
            )
        )
    return tuple(out)


def recover(
    result: Posterior,
    simulator: Simulator,
    member: int = 0,
    members: int = 30,
    log: Callable[[str], None] | None = None,
) -> Recovery:
    """Re-run the history match on targets the model made at one member, and check it.

    The member's own out-of-sample means (fresh seeds) become the targets, with
    the declared uncertainty of the real ones; the same settings (and so the
    same first wave) search for it again.

    Args:
        result: A finished history match with at least one member.
        simulator: The same simulator.
        member: Which member is the truth.
        members: Members to recover.
        log: As for :func:`history_match`.

    Returns:
        Each parameter's recovered interval and whether the truth is inside it.
    """
    if not len(result.members):
        raise ValueError("no member to recover")
    truth = result.members.values[member]
    targets = synthetic_targets(result.targets, result.fresh.means[member])
    settings = dataclasses.replace(result.settings, members=members)
    again = history_match(result.parameters, targets, simulator, settings, log=log)
    vals = again.members.values
    if len(again.members):
        low, high = np.quantile(vals, [0.025, 0.975], axis=0)
        unit = again.members.unit
        share = np.ptp(unit, axis=0)
        spot = np.array(
            [p.to_unit(np.array([v]))[0] for p, v in zip(result.parameters, truth, strict=True)]
        )
        slack = RECOVERY_SLACK * share
        inside = (unit.min(axis=0) - slack <= spot) & (spot <= unit.max(axis=0) + slack)
    else:
        low = high = share = np.full(len(truth), np.nan)
        inside = np.zeros(len(truth), dtype=bool)
    return Recovery(truth, low, high, inside, share, len(again.members), again.evaluations)


# --------------------------------------------------------------------------- the ensemble file
def posterior_toml(
    result: Posterior, identity: dict[str, Any], integers: Collection[str] = ()
) -> str:
    """The posterior ensemble as TOML: identity, sources, and one ``[[member]]`` per member.

    Each member table holds only dotted parameter paths and their values, so the
    file is read like any ensemble file; the ``[posterior]`` table says what made it.

    Args:
        result: The finished history match.
        identity: What the calibration is (its file, fingerprint, model version,
            command); written under ``[posterior.identity]``.
        integers: Parameters that take whole numbers: written rounded, as the
            simulator ran them (the history match's points are continuous).

    Returns:
        The file's text.
    """
    from introsim.output import toml_value

    s = result.settings
    lines = [
        "# Posterior ensemble: parameter sets that history matching with emulators did not",
        "# rule out (each member's simulated targets within the implausibility cut-off).",
        "# Every member is equally plausible; run an analysis over all of them to see what",
        "# the data leave unknown about the mechanisms.",
        "",
        "[posterior]",
        'method = "history matching with Gaussian-process emulators, members confirmed by '
        'simulation (rejection ABC with a uniform kernel in standardised distance)"',
        f"members = {len(result.members)}",
        f"cutoff = {toml_value(float(s.cutoff))}",
        f"waves = {len(result.waves)}",
        f"evaluations = {result.evaluations}",
        f"seed = {s.seed}",
        f"fresh_seed = {s.out_of_sample_seed}",
        f"digest = {toml_value(members_digest(result))}",
        "",
        "[posterior.identity]",
    ]
    lines += [f"{json.dumps(k)} = {toml_value(_plain(v))}" for k, v in identity.items()]
    lines.append("")
    for p in result.parameters:
        lines += [
            "[[posterior.parameter]]",
            f"name = {toml_value(p.name)}",
            f"low = {toml_value(float(p.low))}",
            f"high = {toml_value(float(p.high))}",
            f"scale = {toml_value('log' if p.log else 'linear')}",
            f"source = {toml_value(p.source)}",
            "",
        ]
    for t in result.targets:
        lines += [
            "[[posterior.target]]",
            f"name = {toml_value(t.name)}",
            f"band = [{toml_value(float(t.low))}, {toml_value(float(t.high))}]",
            f"observation_sd = {toml_value(float(t.observation_sd))}",
            f"discrepancy_sd = {toml_value(float(t.discrepancy_sd))}",
            f"replicates = {t.replicates}",
            f"source = {toml_value(t.source)}",
            "",
        ]
    for row in result.members.values:
        lines.append("[[member]]")
        lines += [
            f"{json.dumps(p.name)} = "
            + toml_value(round(float(v)) if p.name in integers else float(v))
            for p, v in zip(result.parameters, row, strict=True)
        ]
        lines.append("")
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def members_digest(result: Posterior) -> str:
    """A hash of the members' parameter values (their exact bytes)."""
    return hashlib.sha256(np.ascontiguousarray(result.members.values).tobytes()).hexdigest()


@dataclass(frozen=True)
class PosteriorFile:
    """A posterior ensemble file as read back.

    Attributes:
        path: The file.
        info: Its ``[posterior]`` table (identity, parameters and targets with sources).
        members: Each member's parameter values by dotted path.
    """

    path: Path
    info: dict[str, Any]
    members: tuple[dict[str, float], ...]

    @property
    def size(self) -> int:
        """How many members."""
        return len(self.members)


def load_posterior(path: str | Path) -> PosteriorFile:
    """Read a posterior ensemble file written by :func:`posterior_toml`.

    Raises:
        ValueError: The file has no ``[posterior]`` table or no members (one line).
    """
    import tomllib

    p = Path(path)
    data = tomllib.loads(p.read_text(encoding="utf-8"))
    if "posterior" not in data:
        raise ValueError(f"{p}: not a posterior ensemble (no [posterior] table)")
    members = tuple(_flat(m) for m in data.get("member", []))
    if not members:
        raise ValueError(f"{p}: the posterior ensemble has no members")
    return PosteriorFile(p, data["posterior"], members)


def _flat(table: dict[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in table.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = float(v)
    return out
