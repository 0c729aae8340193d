"""Calibration targets: what the default scenarios should reproduce, and their statistics.

A **targets file** (``calibration/targets.toml``): each ``[[target]]`` is a
statistic of one or more scenarios, a band it should fall in (or a value with
its standard error), a weight and its source. A statistic is a linear
combination of run-level statistics of scenarios, paired by replicate: one term
is an outcome of one scenario; ``ips - baseline`` is two terms with coefficients
1 and -1. A target may instead be a statistic of simulated randomised trials
(``trial = FILE``: the power of a small trial), run as ``introsim trial`` runs
it. ``[[not_computed]]`` lists targets the model cannot give, with the reason.

A **calibration file** (``calibration/default.toml``) fits free parameters to
these targets as a posterior ensemble: see
:mod:`introsim.experiments.posterior_calibration`. Here are the statistics of a
run, the targets' files, and :func:`evaluate_targets`, which scores one
parameter set (the defaults, in the validation test) against every band.

Loss of a parameter set: for each target, ``weight * (miss + precision_weight * spill)``,
where ``miss`` is the distance of the checked value (the mean, or the ends of its
95 % interval for ``test = "interval"``) outside the band and ``spill`` the part of
the 95 % interval outside the band, both divided by the target's ``scale``; 0
inside.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from introsim.experiments.design import (
    ExperimentError,
    _fail,
    _line_of,
    _validate,
)
from introsim.experiments.engine import Task, run_tasks
from introsim.experiments.statistics import interval
from introsim.experiments.store import RunStore
from introsim.experiments.trial import TrialError, build_population, load_trial, simulate_trials
from introsim.model.outcomes import COST_PARTS, OUTCOME_INFO, OUTCOMES
from introsim.model.state import IN_WORK_NAMES, STATUS_NAMES, WEEKS_PER_YEAR, Status
from introsim.params.loader import ScenarioError, load_scenario_with, read_toml
from introsim.params.schema import CEFR_B1, Scenario
from introsim.run import SimResult, simulate

__all__ = [
    "DERIVED_STATISTICS",
    "STATISTICS",
    "CalibrationError",
    "TargetResult",
    "TargetSpec",
    "Targets",
    "calibration_statistics",
    "evaluate_targets",
    "load_targets",
    "target_loss",
]

CalibrationError = ExperimentError
"""A calibration or targets file could not be read or validated (one line: file, line, field)."""

MISSING_PENALTY = 100.0
"""Loss (times the weight) of a target whose statistic could not be computed (NaN)."""

Z95 = 1.959963984540054
"""Half-width of a 95 % normal interval in standard errors: a value ± Z95·se band."""


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
    "employed_48m": (
        "In work 48 months after the cohort's start (weekly status of the arrived; the same as "
        "48 months after each participant's start when the cohort arrives in one week)",
        lambda r: _weekly_share(r, IN_WORK_NAMES, 4 * WEEKS_PER_YEAR - 1),
    ),
    "education_60m": (
        "In education 60 months after the cohort's start (weekly status of the arrived)",
        lambda r: _weekly_share(r, (_EDUCATION_NAME,), 5 * WEEKS_PER_YEAR - 1),
    ),
    "language_b1_at_end": (
        "At B1 or higher in Norwegian at the end of the run (every participant; set "
        "scenario.weeks for the time after the start)",
        _language_b1,
    ),
    "education_at_exit": (
        "In education when leaving the programme (of those who left)",
        _education_at_exit,
    ),
}
"""Statistics computed from a run's tables beside its outcomes: name → (meaning, function).
An outcome of the same name, where the model has one, takes precedence."""


def _itt_significant(trials: pd.DataFrame, alpha: float) -> np.ndarray:
    p = trials["itt_p"].to_numpy(dtype=np.float64)
    return np.where(np.isfinite(p), (p < alpha).astype(np.float64), np.nan)


def _per_protocol_minus_itt(trials: pd.DataFrame, alpha: float) -> np.ndarray:
    return (trials["per_protocol"] - trials["itt"]).to_numpy(dtype=np.float64)


TRIAL_STATISTICS: dict[str, tuple[str, Callable[[pd.DataFrame, float], np.ndarray]]] = {
    "itt_power": (
        "Intention-to-treat power: the share of simulated trials whose intention-to-treat "
        "difference is significant at the trial file's alpha",
        _itt_significant,
    ),
    "per_protocol_minus_itt": (
        "Per-protocol estimate (takers against all controls) minus the intention-to-treat "
        "estimate, per simulated trial",
        _per_protocol_minus_itt,
    ),
}
"""Statistics of simulated randomised trials (``introsim trial``): name → (meaning, function
of the simulated trials and the significance level giving one value per simulated trial)."""

STATISTICS: tuple[str, ...] = (
    *OUTCOMES,
    *COST_PARTS,
    *(k for k in DERIVED_STATISTICS if k not in OUTCOMES),
)
"""Every statistic a target may name."""


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


# --------------------------------------------------------------------------- the files' schema
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _number(data: Any, keys: tuple[str, ...]) -> Any:
    """TOML writes 1 and 1.0 differently; numbers accept both."""
    if isinstance(data, dict):
        data = dict(data)
        for key in keys:
            v = data.get(key)
            if isinstance(v, int) and not isinstance(v, bool):
                data[key] = float(v)
            if key == "band" and isinstance(v, list):
                data[key] = [
                    float(x) if isinstance(x, int) and not isinstance(x, bool) else x for x in v
                ]
    return data


class TermSpec(_Strict):
    """One term of a target's statistic: ``coef`` times a statistic of one scenario."""

    scenario: str = Field(min_length=1, description="Scenario file, relative to the targets file")
    coef: float = Field(default=1.0, allow_inf_nan=False)
    statistic: str | None = Field(default=None, description="Default: the target's statistic")
    set: dict[str, Any] = Field(default_factory=dict, description="Dotted-path overrides")

    @model_validator(mode="before")
    @classmethod
    def _ints(cls, data: Any) -> Any:
        return _number(data, ("coef",))


class TargetSpec(_Strict):
    """``[[target]]``: a statistic, its band or value, how it is checked, and its source.

    A target is either a linear combination of run statistics of scenarios
    (``scenario`` or ``terms``), or a statistic of simulated randomised trials
    (``trial``: a trial file, see ``introsim trial``), evaluated with the
    individual design at ``sample_size`` over ``sites`` simulated sites and
    ``trials`` simulated trials (defaults: the trial file's first sample size,
    its sites and its trials).
    """

    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = Field(default="", description="What the target says, in words")
    statistic: str | None = None
    scenario: str | None = Field(default=None, description="Shorthand for one term, coef 1")
    terms: list[TermSpec] | None = Field(default=None, min_length=1)
    trial: str | None = Field(
        default=None, min_length=1, description="Trial file, relative to the targets file"
    )
    sample_size: int | None = Field(default=None, ge=4, le=100_000)
    sites: int | None = Field(default=None, ge=2, le=5_000)
    trials: int | None = Field(default=None, ge=100, le=200_000)
    band: list[float] | None = Field(default=None, min_length=2, max_length=2)
    value: float | None = Field(default=None, allow_inf_nan=False)
    se: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    test: Literal["mean", "interval"] = "mean"
    scale: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    weight: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    source: str = Field(min_length=1, description="The study or statistic the target comes from")
    met_by_defaults: bool = Field(
        default=True,
        description="Whether the schema's defaults meet the band (false: reports warn where a "
        "scenario leans on it; the validation test checks this record either way)",
    )

    @model_validator(mode="before")
    @classmethod
    def _ints(cls, data: Any) -> Any:
        return _number(data, ("value", "se", "scale", "weight", "band"))

    @model_validator(mode="after")
    def _check(self) -> TargetSpec:
        if self.trial is not None:
            self._check_trial()
        else:
            self._check_terms()
        if (self.band is None) == (self.value is None):
            raise ValueError("give either band = [low, high] or value with se, not both")
        if self.value is not None and self.se is None:
            raise ValueError("a value needs its standard error se")
        if self.band is not None:
            lo, hi = self.band
            if math.isnan(lo) or math.isnan(hi) or not lo < hi:
                raise ValueError(f"expected band = [low, high] with low < high, found {self.band}")
            if self.scale is None and not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError("an open band (inf) needs scale, the size of a clear miss")
        return self

    def _check_trial(self) -> None:
        if self.scenario is not None or self.terms is not None:
            raise ValueError("a trial target takes no scenario or terms")
        if self.statistic not in TRIAL_STATISTICS:
            raise ValueError(
                f"a trial target needs statistic = one of {', '.join(TRIAL_STATISTICS)}, "
                f"found {self.statistic!r}"
            )

    def _check_terms(self) -> None:
        if self.sample_size is not None or self.sites is not None or self.trials is not None:
            raise ValueError("sample_size, sites and trials belong to a trial target (trial = ...)")
        if (self.scenario is None) == (self.terms is None):
            raise ValueError("give either scenario (one term) or terms, not both or neither")
        stats = [t.statistic or self.statistic for t in self.all_terms]
        if any(s is None for s in stats):
            raise ValueError("a term has no statistic: give statistic for the target or the term")
        unknown = [s for s in stats if s not in STATISTICS]
        if unknown:
            raise ValueError(f"unknown statistic {unknown[0]!r}; valid: {', '.join(STATISTICS)}")

    @property
    def all_terms(self) -> list[TermSpec]:
        """The terms, with the ``scenario`` shorthand expanded (none for a trial target)."""
        if self.terms is not None:
            return list(self.terms)
        if self.scenario is None:
            return []
        return [TermSpec(scenario=self.scenario, coef=1.0)]

    @property
    def bounds(self) -> tuple[float, float]:
        """The band; a value ± Z95 standard errors when given as a value."""
        if self.band is not None:
            return float(self.band[0]), float(self.band[1])
        v, se = float(self.value or 0.0), float(self.se or 0.0)
        return v - Z95 * se, v + Z95 * se

    @property
    def unit(self) -> float:
        """What a miss is divided by: scale, else se, else the band's width."""
        if self.scale is not None:
            return float(self.scale)
        if self.se is not None:
            return float(self.se)
        lo, hi = self.bounds
        return hi - lo

    def band_text(self) -> str:
        """The band in words, e.g. ``0.40 to 0.60`` or ``> 0``."""
        lo, hi = self.bounds
        if self.value is not None:
            return f"{self.value:g} ± {Z95:.2f} × {self.se:g}"
        if math.isinf(lo):
            return f"≤ {hi:g}"
        if math.isinf(hi):
            return f"≥ {lo:g}"
        return f"{lo:g} to {hi:g}"


class NotComputedSpec(_Strict):
    """``[[not_computed]]``: a target listed for completeness that run outcomes cannot give."""

    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    band: str = Field(min_length=1, description="The band in words")
    source: str = Field(min_length=1)
    reason: str = Field(min_length=1, description="Why it is not computed here")


# --------------------------------------------------------------------------- resolved files
@dataclass(frozen=True)
class ScenarioRef:
    """A scenario a target needs: a file and overrides of it."""

    path: Path
    sets: tuple[tuple[str, Any], ...]
    line: int | None

    @property
    def label(self) -> str:
        """The file's stem and its overrides, e.g. ``ips_caseload_10 + wage_subsidy.rate=0.4``."""
        extra = ", ".join(f"{k}={v}" for k, v in self.sets)
        return self.path.stem + (f" + {extra}" if extra else "")


@dataclass(frozen=True)
class Term:
    """``coef`` times ``statistic`` of scenario ``scenario`` (an index into the scenarios)."""

    scenario: int
    statistic: str
    coef: float


@dataclass(frozen=True)
class Target:
    """A resolved target: its spec and its terms, or the trial file it simulates."""

    spec: TargetSpec
    terms: tuple[Term, ...]
    trial: Path | None = None

    @property
    def name(self) -> str:
        """The target's name."""
        return self.spec.name


@dataclass(frozen=True)
class Targets:
    """A targets file: targets, the scenarios they need, and those not computed here."""

    path: Path
    targets: tuple[Target, ...]
    scenarios: tuple[ScenarioRef, ...]
    not_computed: tuple[NotComputedSpec, ...]

    def runs(self, replications: int) -> int:
        """Model runs one evaluation makes: every scenario's replicates and trial sites."""
        sites = {_trial_key(t): _trial_sites(t) for t in self.targets if t.trial is not None}
        return len(self.scenarios) * replications + 2 * sum(sites.values())

    def digest(self) -> str:
        """A hash of everything that decides the targets' values."""
        data = {
            # Whether the defaults meet a target is a record about them, not part of the target.
            "targets": [
                t.spec.model_dump(mode="json", exclude={"met_by_defaults"}) for t in self.targets
            ],
            "scenarios": [
                [str(s.path), list(s.sets), _file_digest(s.path)] for s in self.scenarios
            ],
            "trials": [
                [str(t.trial), _trial_digest(t.trial)] for t in self.targets if t.trial is not None
            ],
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


DEFAULT_TARGETS = Path(__file__).resolve().parents[3] / "calibration" / "targets.toml"
"""The repository's targets file (absent from an installed wheel: then no caveats)."""


@dataclass(frozen=True)
class Caveat:
    """A target the current defaults do not meet, and the scenarios it is about.

    Attributes:
        target: The target's name.
        description: What the target says, in words.
        source: The study or statistic it comes from.
        scenarios: Names (``[scenario] name``) of the scenarios its terms use.
        statistics: The statistics its terms use.
    """

    target: str
    description: str
    source: str
    scenarios: tuple[str, ...]
    statistics: tuple[str, ...]


def unmet_caveats(targets: Targets) -> list[Caveat]:
    """The targets recorded as not met by the defaults (``met_by_defaults = false``)."""
    from introsim.params.loader import load_scenario

    names = [load_scenario(ref.path).scenario.name for ref in targets.scenarios]
    out = []
    for t in targets.targets:
        if t.spec.met_by_defaults:
            continue
        scen = tuple(dict.fromkeys(names[term.scenario] for term in t.terms))
        stats = tuple(dict.fromkeys(term.statistic for term in t.terms))
        out.append(Caveat(t.name, t.spec.description, t.spec.source, scen, stats))
    return out


def default_caveats() -> list[Caveat]:
    """:func:`unmet_caveats` of the repository's targets file; none where it is absent."""
    return unmet_caveats(load_targets(DEFAULT_TARGETS)) if DEFAULT_TARGETS.is_file() else []


def _file_digest(path: Path) -> str:
    from introsim.params.loader import load_scenario

    return load_scenario(path).digest()


def _trial_digest(path: Path) -> str:
    """A hash of a trial file and of both scenarios it resolves to."""
    text = hashlib.sha256(path.read_bytes()).hexdigest()
    return f"{text}:{load_trial(path).fingerprint()}"


def load_targets(path: str | os.PathLike[str]) -> Targets:
    """Read and check a targets file; every scenario it names is loaded and validated.

    Args:
        path: The targets TOML file.

    Returns:
        The resolved targets.

    Raises:
        CalibrationError: One line naming the file, line and field of the first problem.
    """
    p = Path(path)
    data, lines = read_toml(p)
    for key in data:
        if key not in ("target", "not_computed"):
            _fail(p, lines, (key,), f"unknown section {key!r}; valid: [[target]], [[not_computed]]")
    raw = data.get("target")
    if not isinstance(raw, list) or not raw:
        _fail(p, lines, ("target",), "expected one or more [[target]] tables")
    refs: dict[tuple[str, str], int] = {}
    scenarios: list[ScenarioRef] = []
    targets: list[Target] = []
    names: set[str] = set()
    for k, item in enumerate(raw):
        loc = ("target", k)
        spec: TargetSpec = _validate(TargetSpec, item, p, lines, loc)
        if spec.name in names:
            _fail(p, lines, (*loc, "name"), f"two targets are named {spec.name!r}")
        names.add(spec.name)
        if spec.trial is not None:
            targets.append(Target(spec, (), _resolve_trial(p, lines, loc, spec.trial)))
            continue
        terms = []
        for j, term in enumerate(spec.all_terms):
            where = (*loc, "terms", j) if spec.terms is not None else (*loc, "scenario")
            file = Path(os.path.normpath(p.parent / term.scenario))
            if not file.is_file():
                _fail(p, lines, where, f"scenario file {term.scenario!r} not found")
            sets = tuple(sorted(term.set.items()))
            key = (str(file), json.dumps(sets, default=str))
            if key not in refs:
                try:
                    load_scenario_with(file, dict(sets), source=p, lines={})
                except ScenarioError as exc:
                    _fail(p, lines, where, f"{term.scenario}: {exc.message}")
                refs[key] = len(scenarios)
                scenarios.append(ScenarioRef(file, sets, _line_of(lines, where)))
            terms.append(Term(refs[key], term.statistic or spec.statistic or "", term.coef))
        targets.append(Target(spec, tuple(terms)))
    skipped = [
        _validate(NotComputedSpec, item, p, lines, ("not_computed", k))
        for k, item in enumerate(data.get("not_computed") or [])
    ]
    return Targets(p, tuple(targets), tuple(scenarios), tuple(skipped))


def _resolve_trial(p: Path, lines: dict, loc: tuple[Any, ...], name: str) -> Path:
    """The trial file a target names, checked by loading it and both its scenarios."""
    file = Path(os.path.normpath(p.parent / name))
    if not file.is_file():
        _fail(p, lines, (*loc, "trial"), f"trial file {name!r} not found")
    try:
        load_trial(file)
    except TrialError as exc:
        _fail(p, lines, (*loc, "trial"), f"{name}: {exc.message}")
    return file


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
        ScenarioError: The overrides make a scenario invalid.
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
        key = _trial_key(t)
        if key not in simulated:
            # Targets of the same trial, sites and size share one population and its trials.
            simulated[key] = _simulate_trial(t, overrides, executor, offset(done))
            done += 2 * _trial_sites(t)
        trials, alpha = simulated[key]
        trial_values[t.name] = TRIAL_STATISTICS[t.spec.statistic or ""][1](trials, alpha)
    return score(targets, values, precision_weight, trial_values)  # type: ignore[arg-type]


def _trial_sites(target: Target) -> int:
    if target.trial is None:
        return 0
    return target.spec.sites or load_trial(target.trial).recruitment.sites


def _trial_key(target: Target) -> tuple[Any, ...]:
    t = target.spec
    return (target.trial, t.sites, t.sample_size, t.trials)


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
        ScenarioError: The overrides make an arm's scenario invalid.
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
    recruitment = spec.recruitment.model_copy(update={"sites": _trial_sites(target)})
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
            except ScenarioError as exc:
                loaded[file] = str(exc)
        cal = loaded[file]
        if isinstance(cal, str):
            problems.append(f"{path}: fitted by {file}, which is not a calibration file: {cal}")
        elif path not in [q.name for q in cal.parameters]:
            problems.append(f"{path}: fitted by {file}, which does not list it in [parameters]")
    return problems
