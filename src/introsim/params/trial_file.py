"""Trial files: an in-silico randomised trial of a follow-up method, as written.

A trial file (TOML) names a control and a treatment scenario, how participants
are recruited (sites, participants per site, recruitment weeks), a model of who
takes the treatment up, the primary outcome, the significance level and the
sample sizes to evaluate. :func:`load_trial` reads it with both scenarios and
checks everything a trial needs before its first run: each field's bounds, that
the arms describe one cohort over one horizon, that the horizon reaches the
outcome, that every sample size can be drawn from the simulated population and
leaves both arms at least two units, that each design can run at some size, and
the study's size. :mod:`introsim.experiments.trial` runs it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from introsim.model.state import WEEKS_12M, WEEKS_24M, WEEKS_60M, WEEKS_120M
from introsim.params.document import Name, StrictModel, TomlDocument
from introsim.params.errors import InputError, TrialError
from introsim.params.limits import RUN_ROW_BYTES, check_size
from introsim.params.loader import load_scenario_with
from introsim.params.municipal_context import cached_profiles, cohort_size, profile_values
from introsim.params.municipalities import MunicipalityProfile
from introsim.params.paths import Loc
from introsim.params.schema import MAX_SEED, Scenario

__all__ = [
    "DESIGNS",
    "TRIAL_OUTCOMES",
    "Recruitment",
    "TakeUp",
    "TrialMeta",
    "TrialSpec",
    "arm_units",
    "clusters_fit",
    "clusters_for",
    "load_trial",
    "size_problem",
]

TRIAL_OUTCOMES: dict[str, int | None] = {
    "employed_12m": WEEKS_12M,
    "employed_24m": WEEKS_24M,
    "employed_60m": WEEKS_60M,
    "employed_120m": WEEKS_120M,
    "months_employed_24m": WEEKS_24M,
    "work_or_education_at_exit": None,
    "work_or_education_12m_after_exit": None,
}
"""Per-participant outcomes a trial can take as primary, with the weeks after arrival each
needs to be observed (None: observed when the participant leaves the programme)."""

DESIGNS: tuple[str, ...] = ("individual", "cluster")
MAX_SAMPLE_SIZE = 100_000
"""Largest trial evaluated: larger than any trial of a labour-market programme, and each
simulated trial of that size holds a few MB while it is analysed."""
MAX_POPULATION = 1_000_000
"""Most participants simulated (sites × per site): their outcomes under both arms are kept
in memory (about 150 MB at this size)."""
MAX_TRIAL_ROWS = 10_000_000
"""Most simulated trials in all (designs × sample sizes × trials): each is one row of about
30 numbers in the results (about 2.4 GB at this size)."""
TRIAL_ROW_BYTES = 240
"""Memory of one simulated trial's row of results: about 30 numbers of 8 bytes."""

SampleSize = Annotated[int, Field(ge=4, le=MAX_SAMPLE_SIZE)]
RatioPart = Annotated[int, Field(ge=1, le=100)]


class TrialMeta(StrictModel):
    """``[trial]``: the arms, the outcome and the analysis."""

    name: Name = Field(description="Short name of the trial")
    question: str = Field(
        min_length=1, max_length=1_000, description="The question it answers, in one sentence"
    )
    control: str = Field(min_length=1, description="Control scenario file, relative to this file")
    treatment: str = Field(min_length=1, description="Treatment scenario file, relative to this")
    outcome: str = Field(description="Primary outcome, per participant (see TRIAL_OUTCOMES)")
    horizon_weeks: int | None = Field(
        default=None, ge=1, le=2_000, description="Weeks simulated (default: the scenarios' own)"
    )
    ratio: list[RatioPart] = Field(
        default=[1, 1], min_length=2, max_length=2, description="Allocation treatment:control"
    )
    alpha: float = Field(default=0.05, gt=0, lt=0.5, description="Significance level, two-sided")
    sample_sizes: list[SampleSize] = Field(
        min_length=1, max_length=100, description="Participants per trial to evaluate"
    )
    trials: int = Field(ge=100, le=200_000, description="Simulated trials per sample size")
    seed: int = Field(ge=0, le=MAX_SEED, description="Root seed of the sites and the trials")
    designs: list[Literal["individual", "cluster"]] = Field(
        default=["individual", "cluster"],
        min_length=1,
        max_length=2,
        description="Randomise individuals, whole sites (municipalities), or both",
    )

    @model_validator(mode="after")
    def _check(self) -> TrialMeta:
        if self.outcome not in TRIAL_OUTCOMES:
            raise ValueError(
                f"unknown outcome {self.outcome!r}; valid: {', '.join(TRIAL_OUTCOMES)}"
            )
        if sorted(set(self.sample_sizes)) != self.sample_sizes:
            raise ValueError("sample_sizes: expected increasing sizes without repeats")
        if len(set(self.designs)) < len(self.designs):
            raise ValueError("designs: a design is named twice")
        return self


class Recruitment(StrictModel):
    """``[recruitment]``: where and how participants come in."""

    sites: int = Field(
        ge=2, le=5_000, description="Sites (municipalities) simulated: population replicates"
    )
    per_site: int = Field(ge=2, le=5_000, description="Participants recruited per site")
    weeks: int = Field(default=1, ge=1, le=520, description="Recruitment weeks at each site")
    profile: str | None = Field(
        default=None,
        min_length=1,
        description="Municipal profile file the sites are drawn from, relative to this file "
        "(default: every site is a replicate of the scenarios' one municipality)",
    )


class TakeUp(StrictModel):
    """``[take_up]``: who takes the treatment up when offered (logistic model).

    The log-odds of taking it up are ``logit(share) + language × (starting
    language - the cohort's mean) + mental_health × burden + care × care``.
    """

    share: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Take-up at the cohort's mean starting language, without burden or care "
        "(default: the treatment scenario's follow_up.take_up)",
    )
    language: float | None = Field(
        default=None,
        ge=-10,
        le=10,
        description="Log-odds per point of starting language (default: the treatment "
        "scenario's follow_up.take_up_language_slope)",
    )
    mental_health: float = Field(
        default=0.0, ge=-10, le=10, description="Log-odds added for a mental-health burden"
    )
    care: float = Field(
        default=0.0, ge=-10, le=10, description="Log-odds added for care responsibilities"
    )


def arm_units(units: int, ratio: Sequence[int]) -> int:
    """Units allocated to treatment: the ratio's share of ``units``, rounded, at least one each."""
    n_t = round(units * ratio[0] / (ratio[0] + ratio[1]))
    return min(max(n_t, 1), units - 1)


def clusters_for(n: int, site_size: float) -> int:
    """Sites a cluster trial of about ``n`` participants recruits (rounded, at least 2)."""
    return max(2, round(n / site_size))


def clusters_fit(k: int, sites: int, ratio: Sequence[int]) -> bool:
    """Whether ``k`` of ``sites`` sites can be drawn and split with two or more in each arm."""
    treated = arm_units(k, ratio)
    return k <= sites and min(treated, k - treated) >= 2


@dataclass(frozen=True)
class TrialSpec:
    """A resolved trial file.

    Attributes:
        path: The trial file.
        meta: ``[trial]``.
        recruitment: ``[recruitment]``.
        take_up: ``[take_up]`` with its defaults filled from the treatment scenario.
        control: The control scenario as simulated (recruitment and horizon applied).
        treatment: The treatment scenario as simulated (everyone takes it up).
        control_path: The control scenario file.
        treatment_path: The treatment scenario file.
        replaced_take_up: The treatment scenario's own take-up settings, replaced
            by the trial's model (empty when it had none).
    """

    path: Path
    meta: TrialMeta
    recruitment: Recruitment
    take_up: TakeUp
    control: Scenario
    treatment: Scenario
    control_path: Path
    treatment_path: Path
    replaced_take_up: dict[str, float] = field(default_factory=dict)
    sites_from: tuple[MunicipalityProfile, ...] = ()

    def fingerprint(self) -> str:
        """A hash of what decides the population runs: both scenarios, the sites and the seed."""
        data: dict[str, Any] = {
            "control": self.control.digest(),
            "treatment": self.treatment.digest(),
            "sites": self.recruitment.sites,
            "seed": self.meta.seed,
        }
        if self.sites_from:
            data["municipalities"] = [m.model_dump() for m in self.sites_from]
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def site_scenario(self, arm: int, site: int) -> Scenario:
        """The scenario of ``arm`` (0 control, 1 treatment) at site ``site``.

        Without a profile every site is a replicate of the arm's scenario. With one, site
        ``s`` is a slice of municipality ``sites_from[s]`` of ``per_site`` participants: its
        context (employers per participant, outside competition, share of women) with the
        trial's recruitment (cohort size and weeks) and the arm's practice.
        """
        base = (self.control, self.treatment)[arm]
        if not self.sites_from:
            return base
        return site_in_municipality(base, self.sites_from[site], self.recruitment)

    def describe(self) -> dict[str, Any]:
        """The trial as data for the manifest."""
        return {
            "file": str(self.path),
            **self.meta.model_dump(),
            "control_path": str(self.control_path),
            "treatment_path": str(self.treatment_path),
            "recruitment": self.recruitment.model_dump(exclude_none=True),
            **(
                {"site_municipalities": [m.municipality_number for m in self.sites_from]}
                if self.sites_from
                else {}
            ),
            "take_up": self.take_up.model_dump(),
            "replaced_treatment_take_up": self.replaced_take_up,
        }


SITES_KEY = 7_305
"""First element of the spawn key of the draw of a trial's municipalities (apart from sites)."""


def site_in_municipality(
    scenario: Scenario, row: MunicipalityProfile, recruitment: Recruitment
) -> Scenario:
    """``scenario`` as a trial site of ``per_site`` participants in municipality ``row``.

    The municipality's employers are scaled to the slice (its employers per participant
    kept), so a site has the municipality's labour market as its recruits meet it.
    """
    values = profile_values(row, scenario.municipality.participants_per_settled)
    intake = values["cohort.size"]
    values["municipality.local_jobs"] = max(
        1, round(values["municipality.local_jobs"] * recruitment.per_site / intake)
    )
    values["cohort.size"] = recruitment.per_site
    values["cohort.intake_weeks"] = recruitment.weeks
    values["municipality.profile"] = recruitment.profile
    return scenario.with_overrides(values)


def draw_sites(
    rows: Sequence[MunicipalityProfile], sites: int, seed: int
) -> tuple[MunicipalityProfile, ...]:
    """``sites`` municipalities drawn without replacement, with chances proportional to intake.

    A municipality that settles more refugees is likelier to take part in a trial (it has
    participants to recruit); the draw is seeded by the trial's seed alone.
    """
    size = np.array([cohort_size(r) for r in rows], dtype=np.float64)
    ss = np.random.SeedSequence(seed, spawn_key=(SITES_KEY,))
    rng = np.random.Generator(np.random.PCG64(ss))
    chosen = rng.choice(len(rows), size=sites, replace=False, p=size / size.sum())
    return tuple(rows[int(i)] for i in chosen)


def load_trial(path: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> TrialSpec:
    """Read a trial file and both its scenarios, checking everything before any run.

    Args:
        path: The trial TOML file.
        overrides: Dotted-path overrides applied to both arms' scenarios (a
            calibration candidate); the trial's recruitment and horizon win.

    Returns:
        The resolved trial.

    Raises:
        InputError: One line naming the file, line and field of the first problem
            (a problem in a scenario file names that file).
    """
    doc = TomlDocument.read(path, error=TrialError, what="trial file")
    doc.check_sections(["trial", "recruitment"], ["take_up"])
    meta, rec, take = doc.validate_tables(
        (TrialMeta, ("trial",)), (Recruitment, ("recruitment",)), (TakeUp, ("take_up",))
    )
    paths = {arm: doc.file(("trial", arm), f"{arm} scenario") for arm in ("control", "treatment")}

    overrides_: dict[str, Any] = {
        **(overrides or {}),
        "cohort.size": rec.per_site,
        "cohort.intake_weeks": rec.weeks,
    }
    where = {
        "cohort.size": doc.line(("recruitment", "per_site")),
        "cohort.intake_weeks": doc.line(("recruitment", "weeks")),
    }
    if meta.horizon_weeks is not None:
        overrides_["scenario.weeks"] = meta.horizon_weeks
        where["scenario.weeks"] = doc.line(("trial", "horizon_weeks"))
    placed = {k: v for k, v in where.items() if v is not None}

    def arm(file: Path) -> Scenario:
        return load_scenario_with(file, overrides_, source=doc.path, lines=placed, error=TrialError)

    control, own = arm(paths["control"]), arm(paths["treatment"])
    # The trial's take-up model decides who is treated; the treatment runs give everyone the
    # method, so take-up is applied once.
    treatment = own.with_overrides(
        {"follow_up.take_up": 1.0, "follow_up.take_up_language_slope": 0.0}
    )
    fu = own.follow_up
    replaced = (
        {"take_up": fu.take_up, "take_up_language_slope": fu.take_up_language_slope}
        if (fu.take_up, fu.take_up_language_slope) != (1.0, 0.0)
        else {}
    )
    take = take.model_copy(
        update={
            "share": take.share if take.share is not None else fu.take_up,
            "language": take.language if take.language is not None else fu.take_up_language_slope,
        }
    )
    if control.cohort != treatment.cohort:
        doc.fail(
            ("trial", "treatment"),
            "the control and treatment scenarios describe different cohorts ([cohort] differs); "
            "a trial randomises one population",
        )
    need = TRIAL_OUTCOMES[meta.outcome]
    weeks = control.scenario.weeks
    if need is not None and weeks < rec.weeks + need:
        loc = ("trial", "horizon_weeks") if meta.horizon_weeks is not None else ("trial", "outcome")
        doc.fail(
            loc,
            f"{meta.outcome} needs {need} weeks after the last arrival: expected horizon_weeks "
            f">= {rec.weeks + need} (recruitment weeks + {need}), found {weeks}",
        )
    if treatment.scenario.weeks != weeks:
        doc.fail(("trial", "treatment"), "the two scenarios simulate different horizons")
    _check_sizes(doc, meta, rec)
    sites_from: tuple[MunicipalityProfile, ...] = ()
    if rec.profile is not None:
        profile = doc.file(("recruitment", "profile"), "profile file")
        try:
            rows = [r for r in cached_profiles(profile) if cohort_size(r) > 0]
        except InputError as exc:
            raise doc.passed_on(("recruitment", "profile"), exc) from None
        if rec.sites > len(rows):
            doc.fail(
                ("recruitment", "sites"),
                f"{rec.sites} sites drawn from {rec.profile}, which has {len(rows)} "
                "municipalities that settled refugees; draw at most that many",
            )
        sites_from = draw_sites(rows, rec.sites, meta.seed)
        try:
            for row in sites_from:  # every site a valid scenario before any run
                for base in (control, treatment):
                    site_in_municipality(base, row, rec)
        except (ValueError, ValidationError) as exc:
            doc.fail(("recruitment", "profile"), str(exc).splitlines()[0])
    return TrialSpec(
        doc.path,
        meta,
        rec,
        take,
        control,
        treatment,
        paths["control"],
        paths["treatment"],
        replaced,
        sites_from,
    )


def size_problem(meta: TrialMeta, rec: Recruitment) -> tuple[Loc, str] | None:
    """Why these sample sizes cannot be drawn or allocated from this recruitment, or None.

    Returns:
        The field at fault (in a trial file) and the message, or None when every size
        can be drawn from the simulated population, leaves each arm two or more
        participants, and the cluster design (if asked for) can run at some size.
    """
    population = rec.sites * rec.per_site
    if population > MAX_POPULATION:
        return ("recruitment",), (
            f"{rec.sites} sites × {rec.per_site} participants simulate {population:,} "
            f"participants; at most {MAX_POPULATION:,}"
        )
    ratio = f"{meta.ratio[0]}:{meta.ratio[1]}"
    for n in meta.sample_sizes:
        if n > population:
            return ("trial", "sample_sizes"), (
                f"a trial of {n} participants is drawn from the simulated population of "
                f"{population} ({rec.sites} sites × {rec.per_site}); simulate more sites or "
                "per_site, or evaluate smaller trials"
            )
        treated = arm_units(n, meta.ratio)
        if min(treated, n - treated) < 2:
            return ("trial", "ratio"), (
                f"allocation {ratio} leaves one participant in an arm of a trial of {n} "
                f"({treated} treated, {n - treated} control); each arm needs at least two"
            )
    if "cluster" in meta.designs:
        # Sites keep at most per_site participants (fewer where an outcome is not observed),
        # so these are the fewest sites each size needs; a size needing more is skipped.
        sizes = meta.sample_sizes
        if not any(
            clusters_fit(clusters_for(n, rec.per_site), rec.sites, meta.ratio) for n in sizes
        ):
            return ("trial", "designs"), (
                f"the cluster design cannot run at any sample size: with sites of about "
                f"{rec.per_site} participants, no size gives two or more sites in each arm of a "
                f"{ratio} allocation within the {rec.sites} sites simulated; evaluate larger "
                "trials, simulate more sites, or drop the cluster design"
            )
    return None


def _check_sizes(doc: TomlDocument, meta: TrialMeta, rec: Recruitment) -> None:
    """Refuse sample sizes the population or the allocation cannot give, and oversized studies."""
    problem = size_problem(meta, rec)
    if problem is not None:
        doc.fail(*problem)
    rows = len(meta.designs) * len(meta.sample_sizes) * meta.trials
    if rows > MAX_TRIAL_ROWS:
        doc.fail(
            ("trial", "trials"),
            f"{len(meta.designs)} designs × {len(meta.sample_sizes)} sample sizes × "
            f"{meta.trials} trials make {rows:,} simulated trials; at most {MAX_TRIAL_ROWS:,}",
        )
    runs = 2 * rec.sites
    population = rec.sites * rec.per_site
    check_size(
        doc,
        ("trial", "trials"),
        points=2,
        runs=runs,
        # Per participant and arm: six outcomes and three covariates of 8 bytes.
        memory=rows * TRIAL_ROW_BYTES + population * 2 * 9 * 8 + runs * RUN_ROW_BYTES,
        why=f"{len(meta.designs)} designs × {len(meta.sample_sizes)} sizes × {meta.trials} trials",
    )
