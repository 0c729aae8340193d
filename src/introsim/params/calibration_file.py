"""Targets files: what the model should reproduce, with the sources.

A **targets file** (``calibration/targets.toml``): each ``[[target]]`` is a
statistic of one or more scenarios, a band it should fall in (or a value with
its standard error), a weight and its source. A statistic is a linear
combination of run-level statistics of scenarios, paired by replicate: one term
is an outcome of one scenario; ``ips - baseline`` is two terms with coefficients
1 and -1. A target may instead be a statistic of simulated randomised trials
(``trial = FILE``). ``[[not_computed]]`` lists targets the model cannot give,
with the reason.

:func:`load_targets` reads one and checks everything its targets need before a
run (every scenario with its overrides, every trial file at the target's size);
:mod:`introsim.experiments.calibration` computes the statistics, and a
calibration file (:mod:`introsim.experiments.posterior_calibration`) fits free
parameters to the targets.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AllowInfNan, Field, model_validator

from introsim.model.outcomes import COST_PARTS, OUTCOMES
from introsim.params.document import Name, StrictModel, TomlDocument
from introsim.params.errors import CalibrationError, InputError
from introsim.params.loader import load_scenario, load_scenario_with
from introsim.params.paths import Loc
from introsim.params.trial_file import load_trial, size_problem

__all__ = [
    "DEFAULT_TARGETS",
    "DERIVED_STATISTICS",
    "STATISTICS",
    "TRIAL_STATISTICS",
    "Caveat",
    "ScenarioRef",
    "Target",
    "TargetSpec",
    "Targets",
    "default_caveats",
    "load_targets",
    "unmet_caveats",
]

DERIVED_STATISTICS: dict[str, str] = {
    "employed_48m": "In work 48 months after the cohort's start (weekly status of the arrived; "
    "the same as 48 months after each participant's start when the cohort arrives in one week)",
    "education_60m": "In education 60 months after the cohort's start (weekly status of the "
    "arrived)",
    "language_b1_at_end": "At B1 or higher in Norwegian at the end of the run (every "
    "participant; set scenario.weeks for the time after the start)",
    "education_at_exit": "In education when leaving the programme (of those who left)",
}
"""Statistics computed from a run's tables beside its outcomes: name → meaning (computed by
:mod:`introsim.experiments.calibration`). An outcome of the same name takes precedence."""

TRIAL_STATISTICS: dict[str, str] = {
    "itt_power": "Intention-to-treat power: the share of simulated trials whose "
    "intention-to-treat difference is significant at the trial file's alpha",
    "per_protocol_minus_itt": "Per-protocol estimate (takers against all controls) minus the "
    "intention-to-treat estimate, per simulated trial",
}
"""Statistics of simulated randomised trials (``introsim trial``): name → meaning, each one
value per simulated trial (computed by :mod:`introsim.experiments.calibration`)."""

STATISTICS: tuple[str, ...] = (
    *OUTCOMES,
    *COST_PARTS,
    *(k for k in DERIVED_STATISTICS if k not in OUTCOMES),
)
"""Every statistic a scenario target may name."""

Z95 = 1.959963984540054
"""Half-width of a 95 % normal interval in standard errors: a value ± Z95·se band."""
MAX_SIZE = 1e12
"""Largest size of a target's value, band end, standard error or scale: statistics are shares,
counts or NOK per participant, all far below it."""
MAX_WEIGHT = 1e6
"""Largest weight or coefficient: a loss term weighted a million times over another already
makes the other irrelevant."""
MAX_TARGETS = 1_000
"""Most targets (or terms of one target) a file may list."""

Size = Annotated[float, Field(ge=-MAX_SIZE, le=MAX_SIZE)]
BandEnd = Annotated[float, AllowInfNan(True), Field(ge=-math.inf, le=math.inf)]


class TermSpec(StrictModel):
    """One term of a target's statistic: ``coef`` times a statistic of one scenario."""

    scenario: str = Field(min_length=1, description="Scenario file, relative to the targets file")
    coef: float = Field(default=1.0, ge=-MAX_WEIGHT, le=MAX_WEIGHT)
    statistic: str | None = Field(default=None, description="Default: the target's statistic")
    set: dict[str, Any] = Field(default_factory=dict, description="Dotted-path overrides")


class TargetSpec(StrictModel):
    """``[[target]]``: a statistic, its band or value, how it is checked, and its source.

    A target is either a linear combination of run statistics of scenarios
    (``scenario`` or ``terms``), or a statistic of simulated randomised trials
    (``trial``: a trial file, see ``introsim trial``), evaluated with the
    individual design at ``sample_size`` over ``sites`` simulated sites and
    ``trials`` simulated trials (defaults: the trial file's first sample size,
    its sites and its trials).
    """

    name: Name = Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=80)
    description: str = Field(default="", max_length=2_000, description="What it says, in words")
    statistic: str | None = None
    scenario: str | None = Field(default=None, description="Shorthand for one term, coef 1")
    terms: list[TermSpec] | None = Field(default=None, min_length=1, max_length=MAX_TARGETS)
    trial: str | None = Field(
        default=None, min_length=1, description="Trial file, relative to the targets file"
    )
    sample_size: int | None = Field(default=None, ge=4, le=100_000)
    sites: int | None = Field(default=None, ge=2, le=5_000)
    trials: int | None = Field(default=None, ge=100, le=200_000)
    band: list[BandEnd] | None = Field(default=None, min_length=2, max_length=2)
    value: Size | None = None
    se: float | None = Field(default=None, gt=0, le=MAX_SIZE)
    test: Literal["mean", "interval"] = "mean"
    scale: float | None = Field(default=None, gt=0, le=MAX_SIZE)
    weight: float = Field(default=1.0, ge=0, le=MAX_WEIGHT)
    source: str = Field(min_length=1, description="The study or statistic the target comes from")
    met_by_defaults: bool = Field(
        default=True,
        description="Whether the schema's defaults meet the band (false: reports warn where a "
        "scenario leans on it; the validation test checks this record either way)",
    )

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
            if max(abs(x) for x in self.band if math.isfinite(x)) > MAX_SIZE:
                raise ValueError(f"band ends of size at most {MAX_SIZE:g} or inf")
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


class NotComputedSpec(StrictModel):
    """``[[not_computed]]``: a target listed for completeness that run outcomes cannot give."""

    name: Name
    description: str = Field(min_length=1, max_length=2_000)
    band: str = Field(min_length=1, max_length=200, description="The band in words")
    source: str = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=2_000, description="Why it is not computed here")


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

    @property
    def sites(self) -> int:
        """Sites a trial target simulates (0 for a scenario target)."""
        if self.trial is None:
            return 0
        return self.spec.sites or load_trial(self.trial).recruitment.sites

    @property
    def trial_key(self) -> tuple[Any, ...]:
        """What decides a trial target's simulated trials (targets sharing it share them)."""
        t = self.spec
        return (self.trial, t.sites, t.sample_size, t.trials)


@dataclass(frozen=True)
class Targets:
    """A targets file: targets, the scenarios they need, and those not computed here."""

    path: Path
    targets: tuple[Target, ...]
    scenarios: tuple[ScenarioRef, ...]
    not_computed: tuple[NotComputedSpec, ...]

    def runs(self, replications: int) -> int:
        """Model runs one evaluation makes: every scenario's replicates and trial sites."""
        sites = {t.trial_key: t.sites for t in self.targets if t.trial is not None}
        return len(self.scenarios) * replications + 2 * sum(sites.values())

    def digest(self) -> str:
        """A hash of everything that decides the targets' values."""
        data = {
            # Whether the defaults meet a target is a record about them, not part of the target.
            "targets": [
                t.spec.model_dump(mode="json", exclude={"met_by_defaults"}) for t in self.targets
            ],
            "scenarios": [
                [str(s.path), list(s.sets), load_scenario(s.path).digest()] for s in self.scenarios
            ],
            "trials": [
                [str(t.trial), _trial_digest(t.trial)] for t in self.targets if t.trial is not None
            ],
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _trial_digest(path: Path) -> str:
    """A hash of a trial file and of both scenarios it resolves to."""
    text = hashlib.sha256(path.read_bytes()).hexdigest()
    return f"{text}:{load_trial(path).fingerprint()}"


def load_targets(path: str | os.PathLike[str]) -> Targets:
    """Read and check a targets file; every scenario and trial file it names is loaded.

    Args:
        path: The targets TOML file.

    Returns:
        The resolved targets.

    Raises:
        InputError: One line naming the file, line and field of the first problem.
    """
    doc = TomlDocument.read(path, error=CalibrationError, what="targets file")
    doc.check_sections([], ["target", "not_computed"])
    raw = doc.at(("target",))
    if not isinstance(raw, list) or not raw:
        doc.fail(("target",), "expected one or more [[target]] tables")
    if len(raw) > MAX_TARGETS:
        doc.fail(("target",), f"at most {MAX_TARGETS} targets, found {len(raw)}")
    refs: dict[tuple[str, str], int] = {}
    scenarios: list[ScenarioRef] = []
    targets: list[Target] = []
    names: set[str] = set()
    for k in range(len(raw)):
        loc: Loc = ("target", k)
        spec = doc.validate(TargetSpec, loc)
        if spec.name in names:
            doc.fail((*loc, "name"), f"two targets are named {spec.name!r}")
        names.add(spec.name)
        if spec.trial is not None:
            targets.append(Target(spec, (), _resolve_trial(doc, loc, spec)))
            continue
        terms = []
        for j, term in enumerate(spec.all_terms):
            where: Loc = (*loc, "terms", j) if spec.terms is not None else (*loc, "scenario")
            file = Path(os.path.normpath(doc.path.parent / term.scenario))
            if not file.is_file():
                doc.fail(where, f"scenario file {term.scenario!r} not found")
            sets = tuple(sorted(term.set.items()))
            key = (str(file), json.dumps(sets, default=str))
            if key not in refs:
                try:
                    load_scenario_with(file, dict(sets), source=doc.path, lines={})
                except InputError as exc:
                    doc.fail(where, f"{term.scenario}: {exc.message}")
                refs[key] = len(scenarios)
                scenarios.append(ScenarioRef(file, sets, doc.line(where)))
            terms.append(Term(refs[key], term.statistic or spec.statistic or "", term.coef))
        targets.append(Target(spec, tuple(terms)))
    skipped = doc.at(("not_computed",), [])
    if not isinstance(skipped, list):
        doc.fail(("not_computed",), "expected [[not_computed]] tables")
    not_computed = [doc.validate(NotComputedSpec, ("not_computed", k)) for k in range(len(skipped))]
    return Targets(doc.path, tuple(targets), tuple(scenarios), tuple(not_computed))


def _resolve_trial(doc: TomlDocument, loc: Loc, spec: TargetSpec) -> Path:
    """The trial file a target names, loaded with both its scenarios and checked at its size."""
    file = doc.file((*loc, "trial"), "trial file")
    name = spec.trial
    try:
        trial = load_trial(file)
    except InputError as exc:
        doc.fail((*loc, "trial"), f"{name}: {exc.message}")
    meta = trial.meta.model_copy(
        update={
            "sample_sizes": [spec.sample_size or trial.meta.sample_sizes[0]],
            "designs": ["individual"],
        }
    )
    recruitment = trial.recruitment.model_copy(
        update={"sites": spec.sites or trial.recruitment.sites}
    )
    problem = size_problem(meta, recruitment)
    if problem is not None:
        field_ = {"sample_sizes": "sample_size", "ratio": "trial"}.get(str(problem[0][-1]), "sites")
        doc.fail((*loc, field_), f"{name}: {problem[1]}")
    return file


# --------------------------------------------------------------------------- caveats
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
