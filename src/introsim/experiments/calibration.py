"""Calibration targets' statistics: what a run gives for each target, and how far it misses.

A targets file (``calibration/targets.toml``, read by
:mod:`introsim.params.calibration_file`) names statistics of scenarios or of
simulated trials with the bands they should fall in. Here are the statistics of
a run (the outcomes and :data:`DERIVED_STATISTICS`) and of simulated trials
(:data:`TRIAL_STATISTICS`), and :func:`evaluate_targets`, which scores one
parameter set (the defaults, in the validation test) against every band. A
calibration file fits free parameters to the targets as a posterior ensemble:
see :mod:`introsim.experiments.posterior_calibration`.

Loss of a parameter set: for each target, ``weight * (miss + precision_weight * spill)``,
where ``miss`` is the distance of the checked value (the mean, or the ends of its
95 % interval for ``test = "interval"``) outside the band and ``spill`` the part of
the 95 % interval outside the band, both divided by the target's ``scale``; 0
inside.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from introsim.experiments.engine import Task, run_tasks
from introsim.experiments.statistics import interval
from introsim.experiments.store import RunStore
from introsim.experiments.trial import build_population, simulate_trials
from introsim.model.outcomes import OUTCOME_INFO
from introsim.model.state import IN_WORK_NAMES, STATUS_NAMES, WEEKS_PER_YEAR, Status
from introsim.params import calibration_file
from introsim.params.calibration_file import STATISTICS, Target, Targets, TargetSpec
from introsim.params.errors import InputError
from introsim.params.loader import load_scenario_with
from introsim.params.schema import CEFR_B1, Scenario
from introsim.params.trial_file import load_trial
from introsim.run import SimResult, simulate

__all__ = [
    "DERIVED_STATISTICS",
    "TRIAL_STATISTICS",
    "TargetResult",
    "calibration_statistics",
    "evaluate_targets",
    "target_loss",
]

MISSING_PENALTY = 100.0
"""Loss (times the weight) of a target whose statistic could not be computed (NaN)."""


# --------------------------------------------------------------------------- statistics of a run
def _weekly_share(res: SimResult, statuses: tuple[str, ...], week: int) -> float:
    """Share of arrived participants in ``statuses`` at the end of week index ``week``."""
    w = res.weekly
    if week >= len(w):
        return math.nan
    row = w.iloc[week]
    arrived = float(sum(row[s] for s in STATUS_NAMES if s != "not_arrived"))
    return float(sum(row[s] for s in statuses) / arrived) if arrived else math.nan


def _language_b1(res: SimResult) -> float:
    language = res.participants["language_end"]
    return float((language >= CEFR_B1).mean()) if len(language) else math.nan


def _education_at_exit(res: SimResult) -> float:
    exits = res.participants["exit_status"].dropna()
    return float((exits == "education").mean()) if len(exits) else math.nan


_EDUCATION_NAME = Status.EDUCATION.name.lower()

DERIVED_STATISTICS: dict[str, tuple[str, Callable[[SimResult], float]]] = {
    name: (calibration_file.DERIVED_STATISTICS[name], fn)
    for name, fn in {
        "employed_48m": lambda r: _weekly_share(r, IN_WORK_NAMES, 4 * WEEKS_PER_YEAR - 1),
        "education_60m": lambda r: _weekly_share(r, (_EDUCATION_NAME,), 5 * WEEKS_PER_YEAR - 1),
        "language_b1_at_end": _language_b1,
        "education_at_exit": _education_at_exit,
    }.items()
}
"""Statistics computed from a run's tables beside its outcomes: name → (meaning, function).
The names and meanings are declared with the targets file's format
(:data:`introsim.params.calibration_file.DERIVED_STATISTICS`)."""


def _itt_significant(trials: pd.DataFrame, alpha: float) -> np.ndarray:
    p = trials["itt_p"].to_numpy(dtype=np.float64)
    return np.where(np.isfinite(p), (p < alpha).astype(np.float64), np.nan)


def _per_protocol_minus_itt(trials: pd.DataFrame, alpha: float) -> np.ndarray:
    return (trials["per_protocol"] - trials["itt"]).to_numpy(dtype=np.float64)


TRIAL_STATISTICS: dict[str, tuple[str, Callable[[pd.DataFrame, float], np.ndarray]]] = {
    name: (calibration_file.TRIAL_STATISTICS[name], fn)
    for name, fn in {
        "itt_power": _itt_significant,
        "per_protocol_minus_itt": _per_protocol_minus_itt,
    }.items()
}
"""Statistics of simulated randomised trials: name → (meaning, function of the simulated
trials and the significance level giving one value per simulated trial)."""


def calibration_statistics(
    scenario: Scenario, seed: int | np.random.SeedSequence
) -> dict[str, float]:
    """Run one scenario and return every statistic of :data:`STATISTICS` (the engine's evaluate).

    Args:
        scenario: A validated scenario.
        seed: Integer seed or ``SeedSequence``.

    Returns:
        Each statistic name mapped to its value (NaN where not reached).
    """
    res = simulate(scenario, seed)
    out = {k: float(v) for k, v in res.summary.items()}
    for name, (_, fn) in DERIVED_STATISTICS.items():
        if name not in out:
            out[name] = float(fn(res))
    return out


# --------------------------------------------------------------------------- evaluating targets
@dataclass(frozen=True)
class TargetResult:
    """A target's value over replicates and whether it met its band.

    Attributes:
        name: The target.
        n: Replicates with a finite value.
        mean: Mean over replicates.
        low: Lower end of its 95 % interval.
        high: Upper end.
        met: Whether the checked value (mean or interval) is inside the band.
        loss: The target's part of the loss.
    """

    name: str
    n: int
    mean: float
    low: float
    high: float
    met: bool
    loss: float


def _outside(x: float, lo: float, hi: float) -> float:
    return max(lo - x, 0.0, x - hi)


def target_loss(
    spec: TargetSpec, mean: float, low: float, high: float, precision_weight: float
) -> tuple[bool, float]:
    """Whether a target is met, and its weighted loss (0 inside the band).

    Args:
        spec: The target.
        mean: Its value (the mean over replicates).
        low: Lower end of the value's 95 % interval.
        high: Upper end.
        precision_weight: Weight of the interval's part outside the band.

    Returns:
        ``(met, loss)``: ``loss = weight * (miss + precision_weight * spill) / scale``.
    """
    lo, hi = spec.bounds
    if not math.isfinite(mean):
        return False, spec.weight * MISSING_PENALTY
    finite = math.isfinite(low) and math.isfinite(high)
    if spec.test == "interval":
        checked = [low, high] if finite else [mean]
        met = finite and lo <= low and high <= hi
    else:
        checked = [mean]
        met = lo <= mean <= hi
    miss = max(_outside(x, lo, hi) for x in checked)
    spill = (max(lo - low, 0.0) + max(high - hi, 0.0)) if finite else 0.0
    return bool(met), spec.weight * (miss + precision_weight * spill) / spec.unit


def score(
    targets: Targets,
    values: Sequence[Sequence[Mapping[str, float]]],
    precision_weight: float,
    trial_values: dict[str, np.ndarray] | None = None,
) -> tuple[list[TargetResult], float]:
    """Each target's result from per-scenario statistics, and the total loss.

    Args:
        targets: The targets.
        values: ``values[s][r]`` is the dict of statistics of scenario ``s``, replicate ``r``.
        precision_weight: See :func:`target_loss`.
        trial_values: For each trial target, by name, its value in each simulated trial.

    Returns:
        The targets' results and the sum of their losses.
    """
    out = []
    for t in targets.targets:
        if t.trial is not None:
            per_rep = (trial_values or {})[t.name]
        else:
            # A sum of arrays (sum's start, 0, adds nothing).
            per_rep = cast(
                np.ndarray,
                sum(
                    term.coef
                    * np.array([v[term.statistic] for v in values[term.scenario]], dtype=float)
                    for term in t.terms
                ),
            )
        bounds = _bounds(t)  # a target's own range: its terms' shares and weights
        unit = "share" if bounds is not None else ""
        found = interval(t.name, np.asarray(per_rep, dtype=float), unit=unit, bounds=bounds)
        met, loss = target_loss(t.spec, found.estimate, found.low, found.high, precision_weight)
        out.append(TargetResult(t.name, found.n, found.estimate, found.low, found.high, met, loss))
    return out, float(sum(r.loss for r in out))


SHARE_STATISTICS: frozenset[str] = frozenset(
    {
        *(o for o in STATISTICS if o in OUTCOME_INFO and OUTCOME_INFO[o].unit == "share"),
        *DERIVED_STATISTICS,
        "itt_power",
    }
)
"""The statistics that are shares (every derived statistic is one; so is a trial's power)."""


def _bounds(target: Target) -> tuple[float, float] | None:
    """The range a target's value can take, where its terms are all shares (else None).

    A weighted sum of shares lies between the sum of its negative weights and the
    sum of its positive ones (a difference of two shares in [-1, 1]); a trial's
    per-protocol minus intention-to-treat estimate is a difference of shares.
    """
    if target.trial is not None:
        stat = target.spec.statistic
        return (0.0, 1.0) if stat == "itt_power" else (-1.0, 1.0)
    if not all(term.statistic in SHARE_STATISTICS for term in target.terms):
        return None
    coefs = [term.coef for term in target.terms]
    return float(sum(min(c, 0.0) for c in coefs)), float(sum(max(c, 0.0) for c in coefs))


def evaluate_targets(
    targets: Targets,
    overrides: dict[str, Any],
    replications: int,
    seed: int,
    executor: Executor | None = None,
    *,
    store: RunStore | None = None,
    progress: Callable[[int, int], None] | None = None,
    precision_weight: float = 0.1,
) -> tuple[list[TargetResult], float]:
    """Run every scenario the targets need with ``overrides`` and score the targets.

    Replicate ``r`` has the same seed in every scenario and for every candidate
    (common random numbers), so targets that are differences are paired.

    Args:
        targets: A targets file, resolved.
        overrides: Dotted-path overrides (a parameter set; empty for the defaults).
        replications: Replicates per scenario.
        seed: Root seed.
        executor: Where to run (None: this process).
        store: Keeps runs as they finish; stored runs are not run again.
        progress: Called with (done, total) runs.
        precision_weight: See :func:`target_loss`.

    Returns:
        The targets' results and the total loss.

    Raises:
        RuntimeError: A run raised an error.
        InputError: The overrides make a scenario invalid.
    """
    scenarios = [
        load_scenario_with(s.path, {**overrides, **dict(s.sets)}, source="overrides")
        for s in targets.scenarios
    ]
    tasks = [Task(i, r, sc, seed) for i, sc in enumerate(scenarios) for r in range(replications)]
    total = targets.runs(replications)

    def offset(base: int) -> Callable[[int, int], None]:
        return lambda done, _n: progress(base + done, total) if progress is not None else None

    results = run_tasks(
        tasks, executor, evaluate=calibration_statistics, store=store, progress=offset(0)
    )
    values: list[list[dict[str, float]]] = [[] for _ in scenarios]
    for task, res in zip(tasks, results, strict=True):
        if res.error:
            ref = targets.scenarios[task.point]
            raise RuntimeError(f"{ref.label}, replicate {task.replicate}: {res.error}")
        values[task.point].append(res.value)
    trial_values: dict[str, np.ndarray] = {}
    simulated: dict[tuple[Any, ...], tuple[pd.DataFrame, float]] = {}
    done = len(tasks)
    for t in targets.targets:
        if t.trial is None:
            continue
        key = t.trial_key
        if key not in simulated:
            # Targets of the same trial, sites and size share one population and its trials.
            simulated[key] = _simulate_trial(t, overrides, executor, offset(done))
            done += 2 * t.sites
        trials, alpha = simulated[key]
        trial_values[t.name] = TRIAL_STATISTICS[t.spec.statistic or ""][1](trials, alpha)
    return score(targets, values, precision_weight, trial_values)


def trial_target_values(
    target: Target,
    overrides: dict[str, Any],
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Simulate a trial target's trials with a candidate's overrides; one value per trial.

    Both arms' scenarios get the overrides; the trial is analysed with the
    individual design at the target's sample size, as ``introsim trial`` would.

    Args:
        target: A target with ``trial`` set.
        overrides: Dotted-path overrides (a candidate; empty for the defaults).
        executor: Where the site runs go (None: this process).
        progress: Called with (done, total) site runs.

    Returns:
        The target's statistic in each simulated trial.

    Raises:
        RuntimeError: A site run raised an error.
        InputError: The overrides make an arm's scenario invalid.
    """
    trials, alpha = _simulate_trial(target, overrides, executor, progress)
    return TRIAL_STATISTICS[target.spec.statistic or ""][1](trials, alpha)


def _simulate_trial(
    target: Target,
    overrides: dict[str, Any],
    executor: Executor | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[pd.DataFrame, float]:
    """A trial target's simulated trials (one row each) and the trial's significance level."""
    if target.trial is None:
        raise ValueError(f"{target.name} is not a trial target")
    spec = load_trial(target.trial, overrides)
    t = target.spec
    meta = spec.meta.model_copy(
        update={
            "sample_sizes": [t.sample_size or spec.meta.sample_sizes[0]],
            "designs": ["individual"],
            "trials": t.trials or spec.meta.trials,
        }
    )
    recruitment = spec.recruitment.model_copy(update={"sites": target.sites})
    spec = dataclasses.replace(spec, meta=meta, recruitment=recruitment)
    pop = build_population(spec, executor, progress=progress)
    if pop.failed:
        raise RuntimeError(f"{target.trial.name}, {pop.failed[0]}")
    trials, _ = simulate_trials(spec, pop)
    return trials, spec.meta.alpha


# --------------------------------------------------------------------------- fitted parameters
FITTED = re.compile(r"fitted by (?P<file>[\w./-]+\.toml)")
"""How the schema records a fitted parameter: its source says ``fitted by FILE`` (a
calibration file, relative to the repository root)."""


def fitted_by(source: str | None) -> str | None:
    """The calibration file a parameter's source names as having fitted it, else None."""
    match = FITTED.search(source or "")
    return match["file"] if match else None


def fitted_problems(root: Path, sources: dict[str, str | None] | None = None) -> list[str]:
    """Check every parameter recorded as fitted against the calibration file it names.

    Args:
        root: The repository root (files are named relative to it).
        sources: Parameter path mapped to its source text (default: the schema's).

    Returns:
        One line per problem: the file is missing or not a calibration, or it does
        not list the parameter among its free parameters.
    """
    from introsim.params.catalog import iter_params

    if sources is None:
        sources = {p.path: p.source for p in iter_params()}
    problems = []
    from introsim.experiments.posterior_calibration import (
        PosteriorCalibration,
        load_posterior_calibration,
    )

    loaded: dict[str, PosteriorCalibration | str] = {}
    for path, source in sources.items():
        file = fitted_by(source)
        if file is None:
            continue
        if file not in loaded:
            try:
                loaded[file] = load_posterior_calibration(root / file)
            except InputError as exc:
                loaded[file] = str(exc)
        cal = loaded[file]
        if isinstance(cal, str):
            problems.append(f"{path}: fitted by {file}, which is not a calibration file: {cal}")
        elif path not in [q.name for q in cal.parameters]:
            problems.append(f"{path}: fitted by {file}, which does not list it in [parameters]")
    return problems
