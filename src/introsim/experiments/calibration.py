"""Calibration: fit uncertain parameters so the default scenarios land in their target bands.

A calibration file names a targets file and the free parameters with their ranges
(read and checked by :mod:`introsim.params.calibration_file`). Each target is a
statistic of one or more scenarios, or of simulated randomised trials, with a band.

The search is Optuna's TPE sampler, one candidate at a time; each candidate runs
every scenario the targets need over the same common-random-number replicates
through :func:`~introsim.experiments.engine.run_tasks`, so it runs on the warm
process pool or on Dask. The study is an SQLite database in the output folder
and runs are kept as they finish, so a killed calibration resumes where it
stopped. Trial ``k``'s sampler is seeded with ``sampler_seed + k`` and sees only
finished trials, so a resumed calibration proposes what an uninterrupted one
would have. The first trial is the schema's defaults, so the report shows how
far the defaults are from the bands.

Loss of a candidate: for each target, ``weight * (miss + precision_weight * spill)``,
where ``miss`` is the distance of the checked value (the mean, or the ends of its
95 % interval for ``test = "interval"``) outside the band and ``spill`` the part of
the 95 % interval outside the band, both divided by the target's ``scale``; 0
inside. The sum over targets is minimised.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from introsim.experiments.engine import Task, model_version, provenance, run_tasks
from introsim.experiments.statistics import CONFIDENCE, interval
from introsim.experiments.store import RunStore
from introsim.experiments.study import Runner, Study, StudyError, register
from introsim.experiments.trial import build_population, simulate_trials
from introsim.model.outcomes import OUTCOME_INFO
from introsim.model.state import IN_WORK_NAMES, STATUS_NAMES, WEEKS_PER_YEAR, Status
from introsim.output import toml_value
from introsim.params import calibration_file
from introsim.params.calibration_file import (
    STATISTICS,
    Calibration,
    Target,
    Targets,
    TargetSpec,
    load_calibration,
)
from introsim.params.errors import InputError
from introsim.params.loader import load_scenario_with
from introsim.params.schema import CEFR_B1, Scenario
from introsim.params.trial_file import load_trial
from introsim.run import SimResult, simulate
from introsim.terminal import Table, count, wide_console

__all__ = [
    "DERIVED_STATISTICS",
    "TRIAL_STATISTICS",
    "CalibrationResult",
    "TargetResult",
    "calibration_statistics",
    "evaluate_targets",
    "run_calibration",
    "target_loss",
]

MISSING_PENALTY = 100.0
"""Loss (times the weight) of a target whose statistic could not be computed (NaN)."""

BEST_FILE = "best.toml"
TRIALS_FILE = "trials.csv"
ENSEMBLE_FILE = "ensemble.toml"
MANIFEST_FILE = "manifest.json"
REPORT_FILE = "report.html"


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
    values: np.ndarray,
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
            per_rep = sum(
                term.coef
                * np.array([v[term.statistic] for v in values[term.scenario]], dtype=float)
                for term in t.terms
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
    cal: Calibration | Targets,
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
        cal: A calibration (its targets and free parameters) or a targets file alone.
        overrides: Dotted-path overrides (a candidate; empty for the defaults).
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
    if isinstance(cal, Targets):
        targets = cal
        scenarios = [
            load_scenario_with(s.path, {**overrides, **dict(s.sets)}, source="overrides")
            for s in targets.scenarios
        ]
    else:
        targets = cal.targets
        scenarios = cal.scenarios_for(overrides)
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
    return score(targets, values, precision_weight, trial_values)  # type: ignore[arg-type]


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


# --------------------------------------------------------------------------- the search
@dataclass(frozen=True)
class Trial:
    """One evaluated candidate.

    Attributes:
        index: Its place among finished trials (0 is the schema's defaults when in range).
        params: Free parameter values.
        loss: The loss (NaN for a candidate that was not a valid scenario).
        results: Each target's result (empty for an invalid candidate).
        error: Why the candidate could not be evaluated, else ``""``.
    """

    index: int
    params: dict[str, Any]
    loss: float
    results: tuple[TargetResult, ...]
    error: str = ""

    @property
    def all_met(self) -> bool:
        """Whether every target met its band."""
        return bool(self.results) and all(r.met for r in self.results)


@dataclass(frozen=True)
class CalibrationResult:
    """A finished (or resumed and finished) calibration.

    Attributes:
        calibration: The calibration.
        trials: Finished trials in order.
        interrupted: Trials an earlier, killed invocation left unfinished (then rerun).
        resumed: Trials found finished in the study when this invocation started.
    """

    calibration: Calibration
    trials: tuple[Trial, ...]
    interrupted: int
    resumed: int

    @property
    def best(self) -> Trial | None:
        """The trial with the lowest loss (the earliest among equals)."""
        ok = [t for t in self.trials if not t.error and math.isfinite(t.loss)]
        return min(ok, key=lambda t: (t.loss, t.index)) if ok else None

    @property
    def defaults(self) -> Trial | None:
        """Trial 0 when it is the schema's defaults."""
        first = self.trials[0] if self.trials else None
        if first is not None and first.params == self.calibration.defaults():
            return first
        return None

    @property
    def ensemble(self) -> list[Trial]:
        """Every trial whose parameter set met all the bands."""
        return [t for t in self.trials if t.all_met]

    def trials_table(self) -> pd.DataFrame:
        """One row per trial: loss, all_met, parameters, each target's value and band test."""
        rows = []
        for t in self.trials:
            row: dict[str, Any] = {"trial": t.index, "loss": t.loss, "all_met": t.all_met}
            row.update({k: t.params.get(k) for k in self.calibration.parameters})
            by_name = {r.name: r for r in t.results}
            for target in self.calibration.targets.targets:
                r = by_name.get(target.name)
                row[target.name] = r.mean if r else math.nan
                row[f"{target.name}_low"] = r.low if r else math.nan
                row[f"{target.name}_high"] = r.high if r else math.nan
                row[f"{target.name}_met"] = r.met if r else False
            row["error"] = t.error
            rows.append(row)
        return pd.DataFrame(rows)


def study_identity(cal: Calibration) -> dict[str, Any]:
    """What a folder's stored runs and study must belong to for a calibration to resume."""
    return {
        "calibration": cal.meta.name,
        "fingerprint": cal.fingerprint(),
        "model_version": model_version(),
    }


def _distributions(cal: Calibration) -> dict[str, Any]:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, Any] = {}
    for name, spec in cal.parameters.items():
        if spec.levels is not None:
            out[name] = CategoricalDistribution(list(spec.levels))
        elif cal.infos[name].kind == "int":
            lo, hi = math.ceil(spec.min or 0), math.floor(spec.max or 0)  # type: ignore[arg-type]
            out[name] = IntDistribution(lo, hi, log=spec.scale == "log")
        else:
            out[name] = FloatDistribution(spec.min, spec.max, log=spec.scale == "log")  # type: ignore[arg-type]
    return out


def _in_range(value: Any, dist: Any) -> bool:
    from optuna.distributions import CategoricalDistribution

    if isinstance(dist, CategoricalDistribution):
        return value in dist.choices
    return value is not None and dist.low <= value <= dist.high


def _trial_from(frozen: Any, index: int) -> Trial:
    attrs = frozen.user_attrs
    results = tuple(TargetResult(**r) for r in attrs.get("results", []))
    loss = frozen.value if frozen.value is not None else math.nan
    return Trial(index, dict(frozen.params), float(loss), results, attrs.get("error", ""))


def run_calibration(
    cal: Calibration,
    out: Path,
    executor: Executor | None = None,
    *,
    trials: int | None = None,
    store: RunStore | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CalibrationResult:
    """Search the free parameters with TPE until ``trials`` candidates are finished.

    The study lives in ``out/<storage>`` (SQLite): finished trials are kept, a
    trial left running by a killed invocation is marked failed and proposed
    again (its finished runs come back from ``store``).

    Args:
        cal: The calibration.
        out: The output folder holding the study database.
        executor: Where runs go (None: this process).
        trials: Candidates wanted in total (default: the file's ``trials``).
        store: Keeps runs as they finish.
        progress: Called with (runs done, runs in all trials).

    Returns:
        Every finished trial in order.
    """
    import optuna
    from optuna.samplers import TPESampler
    from optuna.storages import RDBStorage
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    wanted = trials if trials is not None else cal.meta.trials
    storage = RDBStorage(f"sqlite:///{(out / cal.meta.storage).resolve()}")
    study = optuna.create_study(
        storage=storage, study_name=cal.meta.name, direction="minimize", load_if_exists=True
    )
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        # Left running by a killed invocation: failed, and proposed again below.
        storage.set_trial_user_attr(t._trial_id, "interrupted", True)
        study.tell(t.number, state=TrialState.FAIL)
    finished_states = (TrialState.COMPLETE, TrialState.FAIL)

    def finished() -> list[Any]:
        return [
            t
            for t in study.get_trials(deepcopy=False, states=finished_states)
            if not t.user_attrs.get("interrupted")
        ]

    interrupted = sum(
        1
        for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
        if t.user_attrs.get("interrupted")
    )
    dists = _distributions(cal)
    done = finished()
    resumed = len(done)
    runs_per_trial = cal.targets.runs(cal.meta.replications)
    defaults = cal.defaults()
    start_with_defaults = all(_in_range(defaults[k], dists[k]) for k in dists)
    while len(done) < wanted:
        k = len(done)
        # Seeded by the trial's place among finished ones: a resumed study proposes the same.
        study.sampler = TPESampler(
            seed=cal.meta.sampler_seed + k, n_startup_trials=cal.meta.startup_trials
        )
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        if k == 0 and start_with_defaults and not waiting:
            study.enqueue_trial(defaults)
        trial = study.ask(dists)
        params = dict(trial.params)

        def tick(d: int, _total: int, base: int = k * runs_per_trial) -> None:
            if progress is not None:
                progress(base + d, wanted * runs_per_trial)

        try:
            results, loss = evaluate_targets(
                cal,
                params,
                cal.meta.replications,
                cal.meta.seed,
                executor,
                store=store,
                progress=tick,
                precision_weight=cal.meta.precision_weight,
            )
        except (InputError, RuntimeError) as exc:
            trial.set_user_attr("error", str(exc))
            study.tell(trial, state=TrialState.FAIL)
        else:
            trial.set_user_attr("results", [r.__dict__ for r in results])
            study.tell(trial, loss)
        done = finished()
    ordered = sorted(done, key=lambda t: t.number)[:wanted]
    return CalibrationResult(
        cal, tuple(_trial_from(t, i) for i, t in enumerate(ordered)), interrupted, resumed
    )


# --------------------------------------------------------------------------- fitted parameters
FITTED = re.compile(r"fitted by (?P<file>[\w./-]+\.toml)")
"""How the schema records a fitted parameter: its source says ``fitted by FILE`` (a
calibration file, relative to the repository root)."""


def fitted_source(cal: Calibration) -> str:
    """The source text to record in the schema for a parameter fitted by ``cal``.

    The file is named relative to the working folder (the repository root) when inside it.
    """
    path = cal.path.resolve()
    try:
        path = path.relative_to(Path.cwd().resolve())
    except ValueError:
        pass
    return f"fitted by {path.as_posix()} (introsim calibrate)"


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
    loaded: dict[str, Calibration | str] = {}
    for path, source in sources.items():
        file = fitted_by(source)
        if file is None:
            continue
        if file not in loaded:
            try:
                loaded[file] = load_calibration(root / file)
            except InputError as exc:
                loaded[file] = str(exc)
        cal = loaded[file]
        if isinstance(cal, str):
            problems.append(f"{path}: fitted by {file}, which is not a calibration file: {cal}")
        elif path not in cal.parameters:
            problems.append(f"{path}: fitted by {file}, which does not list it in [parameters]")
    return problems


# --------------------------------------------------------------------------- files
def _nested(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    tables: dict[str, dict[str, Any]] = {}
    for path, value in params.items():
        table, _, leaf = path.rpartition(".")
        tables.setdefault(table, {})[leaf] = value
    return tables


def _cast(cal: Calibration, params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        kind = cal.infos[k].kind
        out[k] = int(v) if kind == "int" else (float(v) if kind == "float" else v)
    return out


def best_toml(result: CalibrationResult) -> str:
    """The best parameter set as scenario tables, with how to apply it in its header."""
    best = result.best
    cal = result.calibration
    if best is None:
        return f"# Calibration {cal.meta.name!r}: no candidate could be evaluated.\n"
    params = _cast(cal, best.params)
    sets = " ".join(f"--set {k}={toml_value(v)}" for k, v in params.items())
    met = sum(r.met for r in best.results)
    lines = [
        f"# Best parameter set of calibration {cal.meta.name!r} ({cal.path.name}): trial "
        f"{best.index}, loss {best.loss:.4g}, {met} of {len(best.results)} targets met.",
        "# These are scenario tables: apply them by copying them into a scenario file (or a",
        "# file that extends one), by passing each as --set to `introsim run`/`compare`:",
        f"#   {sets}",
        "# or to every scenario of a comparison or sweep at once with --ensemble best.toml.",
        "# To make them the defaults, set each in src/introsim/params/schema.py with the source",
        f"#   {fitted_source(cal)!r}",
        "# (tests check that a parameter so recorded is a free parameter of that file).",
        "",
    ]
    for table, values in _nested(params).items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)


def ensemble_toml(result: CalibrationResult) -> str:
    """The plausible ensemble: every trial that met all the bands, as ``[[member]]`` tables."""
    cal = result.calibration
    members = result.ensemble
    head = [
        f"# Plausible ensemble of calibration {cal.meta.name!r}: the evaluated parameter sets",
        f"# that met every band, {len(members)} of {len(result.trials)}. Use it with",
        "# `introsim compare ... --ensemble ensemble.toml` or `introsim sweep ... --ensemble`:",
        "# replicate r then runs with member r mod K.",
        "",
    ]
    if not members:
        return "\n".join([*head, "member = []", ""])
    body = []
    for t in members:
        body.append("[[member]]")
        body.append(f"trial = {t.index}")
        body.append(f"loss = {toml_value(float(t.loss))}")
        body += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in _cast(cal, t.params).items()]
        body.append("")
    return "\n".join([*head, *body])


def build_manifest(
    result: CalibrationResult,
    *,
    executor: str,
    wall_time_s: float | None,
    command: Sequence[str] | None,
) -> dict[str, Any]:
    """What is needed to reproduce a calibration, for ``manifest.json``."""
    cal = result.calibration
    best = result.best
    return {
        **provenance(command),
        "calibration": cal.describe(),
        "fingerprint": cal.fingerprint(),
        "root_seed": cal.meta.seed,
        "replicate_seed": "numpy.random.SeedSequence(root_seed, spawn_key=(replicate,)), "
        "the same in every scenario and for every candidate (common random numbers)",
        "sampler": f"optuna TPESampler(seed=sampler_seed + k) for the k-th trial, "
        f"{cal.meta.startup_trials} random startup trials; trial 0 is the schema's defaults "
        "when they are inside the ranges",
        "confidence": CONFIDENCE,
        "trials": len(result.trials),
        "resumed_trials": result.resumed,
        "interrupted_trials": result.interrupted,
        "best_trial": best.index if best else None,
        "best_loss": best.loss if best else None,
        "best_params": _cast(cal, best.params) if best else None,
        "ensemble_members": len(result.ensemble),
        "not_computed": [t.name for t in cal.targets.not_computed],
        "executor": executor,
        "wall_time_s": wall_time_s,
        "files": [
            BEST_FILE,
            TRIALS_FILE,
            ENSEMBLE_FILE,
            MANIFEST_FILE,
            REPORT_FILE,
            cal.meta.storage,
        ],
    }


def write_outputs(result: CalibrationResult, folder: Path, manifest: dict[str, Any]) -> None:
    """Write best.toml, trials.csv, ensemble.toml and manifest.json, each atomically."""
    from introsim.output import write_csv, write_json, write_text

    write_text(best_toml(result), folder / BEST_FILE)
    write_csv(result.trials_table(), folder / TRIALS_FILE)
    write_text(ensemble_toml(result), folder / ENSEMBLE_FILE)
    write_json(manifest, folder / MANIFEST_FILE)


# --------------------------------------------------------------------------- the study
@register
class CalibrateStudy(Study):
    """``introsim calibrate``: free parameters fitted to the targets with Optuna's TPE."""

    kind = "calibrate"
    work = "trials and runs"
    files = (BEST_FILE, TRIALS_FILE, ENSEMBLE_FILE, MANIFEST_FILE, REPORT_FILE)
    report_module = "introsim.reporting.calibration_report"
    manifest_options = ("executor", "wall_time_s", "command")
    build_manifest = staticmethod(build_manifest)
    write_outputs = staticmethod(write_outputs)

    def __init__(self, cal: Calibration, trials: int | None = None) -> None:
        self.cal, self.name = cal, cal.meta.name
        self.trials = trials if trials is not None else cal.meta.trials

    @classmethod
    def load(cls, path: str | Path, *, trials: int | None = None) -> CalibrateStudy:
        """Read a calibration file; ``trials`` candidates in all (default: the file's)."""
        if trials is not None and trials < 1:
            raise StudyError(f"--trials: expected an integer >= 1, found {trials}")
        return cls(load_calibration(path), trials)

    def identity(self) -> dict[str, Any]:
        return study_identity(self.cal)

    def scenarios(self) -> list[Scenario]:
        try:
            return self.cal.scenarios_for(self.cal.defaults())
        except InputError:  # the defaults are outside a range: each candidate is checked
            return []

    def size(self) -> tuple[str, int]:
        per_trial = self.cal.targets.runs(self.cal.meta.replications)
        return f"{self.trials} trials × {per_trial} runs", self.trials * per_trial

    def run(self, runner: Runner) -> CalibrationResult:
        from sqlalchemy.exc import SQLAlchemyError

        assert runner.store is not None, "a calibration keeps its study beside its runs"
        folder = runner.store.folder
        if runner.fresh:
            (folder / self.cal.meta.storage).unlink(missing_ok=True)
        try:
            return run_calibration(
                self.cal,
                folder,
                runner.executor,
                trials=self.trials,
                store=runner.store,
                progress=runner.progress,
            )
        except SQLAlchemyError as exc:  # a full disk, say: the database's own words, one line
            reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:200]
            raise StudyError(
                f"{folder / self.cal.meta.storage}: could not write the study: {reason}"
            ) from None

    def summary(
        self, result: CalibrationResult, out: Path, wall: float, manifest: dict[str, Any]
    ) -> dict:
        best = result.best
        return {
            "out": str(out),
            "trials": len(result.trials),
            "resumed_trials": result.resumed,
            "best_trial": best.index if best else None,
            "best_loss": best.loss if best else None,
            "best_params": manifest["best_params"],
            "targets": [r.__dict__ for r in best.results] if best else [],
            "ensemble_members": len(result.ensemble),
        }

    def show(self, result: CalibrationResult, out: Path, wall: float) -> None:
        cal, best = self.cal, result.best
        per_trial = cal.targets.runs(cal.meta.replications)
        loss = best.loss if best else float("nan")
        table = Table(
            title=f"calibration {cal.meta.name}: {len(result.trials)} trials × {per_trial} runs; "
            f"best trial {best.index if best else '–'}, loss {loss:.4g}"
        )
        for col in ("target", "band", "defaults", "best", "met"):
            table.add_column(col, justify="left" if col in ("target", "band") else "right")
        defaults = {r.name: r for r in result.defaults.results} if result.defaults else {}
        for target, r in zip(cal.targets.targets, best.results if best else [], strict=False):
            d = defaults.get(target.name)
            table.add_row(
                target.name,
                target.spec.band_text(),
                f"{d.mean:.3f}" + (" ✓" if d.met else "") if d else "–",
                f"{r.mean:.3f} [{r.low:.3f}, {r.high:.3f}]",
                "yes" if r.met else "no",
            )
        console = wide_console(160)
        console.print(table)
        console.print(
            f"wrote {out}/ best.toml, trials.csv, ensemble.toml "
            f"({count(len(result.ensemble), 'member')}), "
            f"manifest.json, report.html ({wall:.1f} s)",
            soft_wrap=True,
        )
