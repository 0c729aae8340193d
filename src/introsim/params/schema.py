"""The scenario schema: the one place where every parameter is declared.

Each field carries its default, its unit, a one-line meaning and, where a study
gave the figure, its source (summarised in ``docs/evidence.md``). Scenario files hold
only overrides; :mod:`introsim.params.loader` reads them into these models.

Figures marked ``assumption`` have no direct source: they are judgement, given with
the reasoning. Figures "fitted by calibration/default.toml" were fitted by ``introsim
calibrate`` so the default scenarios land in the bands of ``calibration/targets.toml``.

Two more kinds of metadata ride on a field (see :func:`param`): ``kernel``, which makes
the compiled kernels read the value (the kernels' constants, ``world.Params``, are built
from these marks, so a mechanism parameter is declared only here), and ``plausible``, the
range a value without a direct source may take, which calibration and sensitivity studies
read.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import typing
from typing import Annotated, Any, Literal, NamedTuple, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    create_model,
    field_validator,
    model_validator,
)

from introsim.params.text import check_name

METHODS: tuple[str, ...] = ("standard", "ips", "se")
ELIGIBILITY: tuple[str, ...] = ("none", "all", "low_language", "reduced_capacity")
EDUCATION_LEVELS: tuple[str, ...] = ("none", "primary", "secondary", "tertiary")

Method = Literal["standard", "ips", "se"]
Eligibility = Literal["none", "all", "low_language", "reduced_capacity"]

# Upper bounds shared by several fields. Each is what a real scenario could need
# and no more: beyond them runs overflow, allocate without limit, or mean nothing.
MAX_COHORT = 2_000_000
"""Largest cohort; the memory it needs is in the README's limits table."""
MAX_WEEKS = 520
"""Longest horizon, and so the longest span any weeks field can usefully take (10 years)."""
MAX_SUBSIDY_WEEKS = 208
"""Longest wage subsidy: NAV allows up to 4 years with reduced work capacity."""
MAX_SEED = 2**63 - 1
"""Largest seed: TOML integers are 64-bit."""
MAX_NAME_LENGTH = 200
"""Longest scenario or sector name, in characters."""
MAX_DESCRIPTION_LENGTH = 10_000
"""Longest scenario description, in characters."""
MAX_SECTORS = 100
"""Most sectors a labour market can list."""
MAX_SCORE = 10.0
"""Largest size of a score-scale parameter; applicant scores are of order 1."""
MAX_LOG_ODDS = 20.0
"""Largest size of a log-odds parameter (a probability within 2e-9 of 0 or 1)."""
MAX_APPLICATIONS = 50.0
"""Most applications a week."""
MAX_HOURS = 40.0
"""Most hours (or hour equivalents) a week for one activity."""
FULL_TIME_HOURS = 37.5
"""A full-time week: the introduction programme is full-time at 37.5 hours (guideline to the
Integration Act), as is an ordinary job under most collective agreements. A part-time job
alongside the programme fills the week's hours the programme's training leaves."""

Weeks = Annotated[int, Field(ge=0, le=MAX_WEEKS)]
Multiplier = Annotated[float, Field(ge=0, le=MAX_SCORE)]
Share = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[float, Field(ge=0, le=1e9)]
"""A count in a composition table: only the proportions matter."""

CEFR_B1 = 3.0
"""B1 (independent user) on the model's 0-6 language scale: 1 = A1, 2 = A2, 3 = B1, 4 = B2."""
LANGUAGE_MAX = 6.0
"""Top of the model's language scale (about C2): proficiency approaches it and never passes it."""
FULL_BENEFIT_AGE = 25.0
"""Age from which the introduction benefit is paid at the full rate (Integration Act 2021; the
rate for younger participants is ``costs.benefit_under_25_share`` of it)."""
EDUCATION_ENTRY_REFERENCE_LEVEL = 1
"""Education level (index of ``EDUCATION_LEVELS``: primary) at which
``programme.education_entry_base`` applies; each level above adds
``programme.education_entry_per_level``. A reference point of the logit, not a mechanism."""
EDUCATION_ENTRY_REFERENCE_LANGUAGE = 2.0
"""Language level (A2) at which ``programme.education_entry_base`` applies; each point above
adds ``programme.education_entry_per_language``. A reference point of the logit."""

AGE_BANDS: tuple[float, ...] = (18.0, 26.0, 36.0, 46.0, 56.0, 61.0)
"""Edges of the cohort's age bands in years: 18-25, 26-35, 36-45, 46-55 and 56+ as in SSB's
'introinnv' tables; the last band's upper end (60) is an assumption (the Introduction Act's
target group is 18-55; older participants are about 1 %)."""
AgeBandCounts = tuple[Count, Count, Count, Count, Count]
"""One count per age band of ``AGE_BANDS``."""
AgeBandShares = tuple[Share, Share, Share, Share, Share]
"""One share per age band of ``AGE_BANDS``."""
EducationShares = tuple[Share, Share, Share, Share]
"""One share per level of ``EDUCATION_LEVELS``, summing to 1."""


def _printable(text: str) -> str:
    """Refuse control, format and invisible characters in a name (see ``text.check_name``)."""
    return check_name(text)


def param(
    default: Any,
    unit: str,
    meaning: str,
    source: str | None = None,
    *,
    kernel: bool | str = False,
    plausible: tuple[float, float] | None = None,
    **constraints: Any,
) -> Any:
    """Declare one scenario parameter.

    Args:
        default: Value used when a scenario file does not set the field.
        unit: Unit of the value ("weeks", "share 0-1", "NOK", ...).
        meaning: One line saying what the parameter is.
        source: Where the figure comes from, "assumption" with the reasoning, or the
            calibration file that fitted it.
        kernel: The compiled kernels read this value: ``True`` under the field's own
            name, a string under that name (``world.Params`` is built from these marks).
        plausible: ``(low, high)``: the range a value without a direct source may
            plausibly take (the source says why); calibration and sensitivity studies
            read it. Inside the bounds.
        **constraints: Pydantic bounds such as ``ge``, ``le``, ``gt``.

    Returns:
        A pydantic ``FieldInfo`` carrying unit, source, kernel name and plausible range as
        schema extras.
    """
    extra: dict[str, Any] = {"unit": unit}
    if source is not None:
        extra["source"] = source
    if kernel:
        extra["kernel"] = kernel
    if plausible is not None:
        extra["plausible"] = plausible
    return Field(default, description=meaning, json_schema_extra=extra, **constraints)


class Section(BaseModel):
    """Base for every section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


# --------------------------------------------------------------------------- scenario
class ScenarioMeta(Section):
    """``[scenario]``: name, horizon and root seed."""

    name: str = param(
        "unnamed",
        "text",
        "Short name shown in tables and reports",
        min_length=1,
        max_length=MAX_NAME_LENGTH,
    )
    description: str = param(
        "", "text", "What question this scenario answers", max_length=MAX_DESCRIPTION_LENGTH
    )
    weeks: int = param(
        260,
        "weeks",
        "Simulated horizon; 520 allows a 10-year follow-up",
        "assumption (a 10-year follow-up is planned for refugees in IPS)",
        ge=1,
        le=MAX_WEEKS,
    )
    seed: int = param(
        20261122, "integer", "Root seed used when the command line gives none", ge=0, le=MAX_SEED
    )

    _name_printable = field_validator("name")(lambda cls, v: _printable(v))


# --------------------------------------------------------------------------- cohort
class Cohort(Section):
    """``[cohort]``: who arrives, and when."""

    size: int = param(
        500, "participants", "Number of participants in the cohort", ge=1, le=MAX_COHORT
    )
    intake_weeks: int = param(
        1,
        "weeks",
        "Arrivals spread evenly over this many weeks (1 = one cohort at week 0); "
        "at most the horizon",
        ge=1,
        le=MAX_WEEKS,
    )
    share_female: float | None = param(
        None,
        "share 0-1",
        "Share of women; leave out = the margin of the sex-by-age table (SSB 2018: 41 %); "
        "set = the table's two sex rows rescaled to this share, ages within each sex kept",
        "SSB introinnv 2018 (table margin); override for scenarios",
        ge=0,
        le=1,
    )
    men_by_age: AgeBandCounts = param(
        (4664.0, 6557.0, 3278.0, 1280.0, 176.0),
        "participants",
        "Men in the introduction programme by age band (18-25, 26-35, 36-45, 46-55, 56+); "
        "only the proportions matter",
        "Statistics Norway (SSB), statistics 'introinnv': participants in the introduction "
        "programme by age and sex, 2018 (27,067 participants, 15,955 men)",
    )
    women_by_age: AgeBandCounts = param(
        (2506.0, 4990.0, 2666.0, 863.0, 86.0),
        "participants",
        "Women in the introduction programme by age band (18-25, 26-35, 36-45, 46-55, 56+)",
        "Statistics Norway (SSB), statistics 'introinnv': participants in the introduction "
        "programme by age and sex, 2018 (11,112 women)",
    )
    education_shares_male: EducationShares = param(
        (0.03, 0.54, 0.21, 0.22),
        "shares summing to 1",
        "Men's highest completed education: none, primary, secondary, tertiary",
        "Statistics Norway (SSB), the population's level of education 2015, immigrants by "
        "reason for immigration: men who came as refugees, no completed education 2.6 %, "
        "primary 53.7 %, upper secondary and vocational college 21.3 %, higher education 22.3 %",
    )
    education_shares_female: EducationShares = param(
        (0.08, 0.56, 0.18, 0.18),
        "shares summing to 1",
        "Women's highest completed education: none, primary, secondary, tertiary",
        "assumption, shifted down from the men's shares: SSB (Samfunnsspeilet 2012/5) found "
        "about 5,600 of the 8,600 immigrants without any completed education were women",
    )
    prior_work_share_male: float = param(
        0.80,
        "share 0-1",
        "Share of men with paid work before arrival, at primary education",
        "assumption (direction: Nordic Council of Ministers, 'Veje til beskæftigelse "
        "for flygtninge- og indvandrerkvinder': refugee women have less work experience)",
        ge=0,
        le=1,
    )
    prior_work_share_female: float = param(
        0.35,
        "share 0-1",
        "Share of women with paid work before arrival, at primary education",
        "assumption (direction: Nordic Council of Ministers, as for men)",
        ge=0,
        le=1,
    )
    prior_work_per_education: float = param(
        0.4,
        "log-odds per education level",
        "How the chance of prior work rises per education level above primary",
        "assumption",
        ge=-MAX_LOG_ODDS,
        le=MAX_LOG_ODDS,
    )
    prior_work_fraction: float = param(
        0.6,
        "share 0-1",
        "Mean share of the adult years outside school spent working, for those who worked "
        "(drawn from a beta distribution); prior work never exceeds the years since 18",
        "assumption",
        gt=0,
        lt=1,
    )
    prior_work_concentration: float = param(
        4.0,
        "beta shape sum",
        "Sum of the beta distribution's two shape parameters for the share of adult years "
        "worked (smaller = wider spread)",
        "assumption: wide, a share anywhere from a few years to nearly all",
        plausible=(2.0, 10.0),
        gt=0,
        le=1000,
    )
    study_years_after_18: tuple[Weeks, Weeks, Weeks, Weeks] = param(
        (0, 0, 0, 4),
        "years by education level",
        "Years after 18 spent in school, not work, by education (none, primary, secondary, "
        "tertiary)",
        "assumption (a first degree takes about four years after upper secondary)",
    )
    language_mean: float = param(
        0.4,
        "scale 0-6 (1 = A1, 3 = B1)",
        "Mean Norwegian proficiency at arrival",
        "assumption (newly settled refugees start with little or no Norwegian)",
        ge=0,
        le=6,
    )
    language_sd: float = param(
        0.3, "scale 0-6", "Spread of starting proficiency", "assumption", ge=0, le=6
    )
    mental_health_share_male: float = param(
        0.27,
        "share 0-1",
        "Share of men with a mental-health burden (PTSD, anxiety or depression)",
        "Blackmore et al. 2020, PLoS Med (PTSD ~30 %, depression ~30 %); split by sex an "
        "assumption keeping the overall share near 30 %",
        ge=0,
        le=1,
    )
    mental_health_share_female: float = param(
        0.35,
        "share 0-1",
        "Share of women with a mental-health burden (PTSD, anxiety or depression)",
        "Nissen et al. 2021, Eur J Psychotraumatol 12(1):1994218 (Syrian refugees resettled in "
        "Norway 2015-2017: female gender a risk factor for anxiety and depression); size "
        "assumption",
        ge=0,
        le=1,
    )
    care_female_by_age: AgeBandShares = param(
        (0.45, 0.65, 0.50, 0.15, 0.05),
        "share 0-1 by age band",
        "Share of women caring for young children, by age band (18-25 ... 56+)",
        "assumption (direction: SSB, Samfunnsspeilet 4/2016, 'Kvinner og menn - Please, mind "
        "the gap!': care for small children behind women's lower transition to work)",
    )
    care_male_by_age: AgeBandShares = param(
        (0.05, 0.15, 0.15, 0.05, 0.02),
        "share 0-1 by age band",
        "Share of men with care responsibilities that limit participation, by age band",
        "assumption",
    )

    @field_validator("education_shares_male", "education_shares_female")
    @classmethod
    def _shares_sum_to_one(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if abs(sum(v) - 1.0) > 1e-6:
            raise ValueError(f"four non-negative shares summing to 1, found {list(v)}")
        return v


# --------------------------------------------------------------------------- labour market
class Sector(Section):
    """One ``[[labour_market.sectors]]`` row."""

    name: str = param("sector", "text", "Sector name", min_length=1, max_length=MAX_NAME_LENGTH)
    share: float = param(
        0.125,
        "share",
        "Share of local employers in this sector (renormalised; counts work too)",
        ge=0,
        le=1_000_000,
    )
    language_requirement: float = param(
        2.0,
        "scale 0-6",
        "Mean Norwegian level the sector's jobs ask for",
        "assumption",
        ge=0,
        le=6,
    )
    weekly_wage_nok: float = param(
        9000.0, "NOK/week", "Mean wage cost of a full-time job", "assumption", ge=100, le=100_000
    )

    _name_printable = field_validator("name")(lambda cls, v: _printable(v))


DEFAULT_SECTORS: tuple[Sector, ...] = (
    # Language requirements and wages are assumptions: entry-level jobs refugees
    # most often get (cleaning, hospitality, care) ask for less Norwegian.
    Sector(name="cleaning", share=0.12, language_requirement=1.0, weekly_wage_nok=8200),
    Sector(name="hospitality", share=0.14, language_requirement=1.5, weekly_wage_nok=8000),
    Sector(name="retail", share=0.16, language_requirement=2.5, weekly_wage_nok=8500),
    Sector(name="construction", share=0.12, language_requirement=1.8, weekly_wage_nok=10000),
    Sector(name="health_and_care", share=0.16, language_requirement=3.0, weekly_wage_nok=9400),
    Sector(name="manufacturing", share=0.10, language_requirement=1.8, weekly_wage_nok=9600),
    Sector(name="transport", share=0.08, language_requirement=2.2, weekly_wage_nok=9200),
    Sector(name="office", share=0.12, language_requirement=4.0, weekly_wage_nok=11000),
)


class LabourMarket(Section):
    """``[labour_market]``: local employers, vacancies and outside competition."""

    unemployment_rate: float = param(
        0.04,
        "share 0-1",
        "Local unemployment rate (raises outside competition)",
        "SSB labour force survey, about 4 % in 2024",
        ge=0,
        le=0.5,
    )
    reference_unemployment_rate: float = param(
        0.04,
        "share 0-1",
        "Unemployment at which outside competition is at its reference strength",
        "assumption",
        ge=0.005,
        le=0.5,
    )
    employers_per_participant: float = param(
        0.6,
        "employers per participant",
        "Local employers reachable by this cohort (without a [municipality]: with one, "
        "employers come from its local jobs, employers_per_thousand_jobs)",
        "assumption",
        gt=0,
        le=50,
    )
    employers_per_thousand_jobs: float = param(
        3.83,
        "employers per 1000 local jobs",
        "Employers reachable by the programme per 1000 jobs located in the municipality; "
        "used when [municipality] gives local_jobs",
        "assumption: makes the national ratio equal employers_per_participant's default "
        "(0.6 × 17 699 participants who started the programme in 2023, IMDi 'Nøkkeltall for "
        "introduksjonsprogrammet 2023', / 2 771 249 jobs by workplace in municipalities/"
        "norway_2023.csv, SSB table 11616, Q4 2022)",
        plausible=(2.0, 6.0),
        gt=0,
        le=1000,
    )
    reference_employment_rate: float = param(
        0.687,
        "share 0-1",
        "Employment rate (employed residents 15-74 / residents 15-74) at which a "
        "municipality's outside competition is the national one",
        "SSB table 11616, Q4 2022: 68.7 % over the 354 municipalities of "
        "municipalities/norway_2023.csv with the figure",
        ge=0.3,
        le=0.95,
    )
    unemployment_per_employment_gap: float = param(
        0.3,
        "unemployment points per employment point",
        "Rise in the local unemployment rate per point the municipality's employment rate "
        "lies below reference_employment_rate (and fall per point above); used when "
        "[municipality] gives employment_rate",
        "assumption: registered unemployment by municipality for 2023 was not found (NAV); "
        "most of the spread in employment rates between municipalities is age, study and "
        "disability, so a small part of a point of employment is a point of unemployment",
        plausible=(0.1, 0.5),
        ge=0,
        le=1,
    )
    vacancy_rate: float = param(
        0.025,
        "vacancies per employer-week",
        "Rate at which an employer opens an entry-level vacancy",
        "assumption: hand-set in an earlier version and never fitted by a recorded calibration; "
        "about one entry-level opening per employer and 9 months",
        plausible=(0.01, 0.05),
        ge=0,
        le=1,
    )
    vacancy_weeks: int = param(
        4,
        "weeks",
        "How long a vacancy stays open",
        "assumption",
        ge=1,
        le=52,
        kernel=True,
    )
    hidden_share: float = param(
        0.267,
        "share 0-1",
        "Share of vacancies never advertised, found only through employer contact",
        "fitted by the optimisation calibration of 2026-11-26 (calibration/default.toml at "
        "commit 5100774: 40 trials, the best taken) under the earlier threshold hiring model; "
        "not refitted since (a free parameter of today's calibration/default.toml)",
        ge=0,
        le=1,
        kernel=True,
    )
    outside_fill_rate: float = param(
        0.20,
        "probability/week",
        "Chance an open vacancy is filled by an outside job seeker each week "
        "at reference unemployment",
        "assumption: hand-set in an earlier version and never fitted by a recorded calibration; "
        "most openings are filled within a few weeks",
        plausible=(0.1, 0.4),
        ge=0,
        le=1,
    )
    outside_bar: float = param(
        1.8,
        "score",
        "Value of the outside candidates for an opening at reference unemployment: the "
        "option an employer weighs every refugee applicant against",
        "set by hand so the defaults meet calibration/targets.toml once hiring became a "
        "conditional logit; calibration/default.toml calibrates it with the other "
        "mechanisms (its posterior, calibration/posterior.toml, is what --ensemble uses)",
        plausible=(1.2, 2.4),
        ge=-MAX_SCORE,
        le=MAX_SCORE,
    )
    outside_bar_per_point: float = param(
        0.06,
        "score per percentage point",
        "Rise in that bar per point of unemployment above reference",
        "assumption: a percentage point more unemployment brings a noticeably stronger outside "
        "candidate (about a quarter of the valuation's scale, mechanisms.score_noise)",
        ge=0,
        le=MAX_SCORE,
        plausible=(0.02, 0.12),
    )
    open_share: float = param(
        0.46,
        "share 0-1",
        "Employers open to hiring refugees at all (11 % had, 35 % might)",
        "IMDi/Norstat 2017",
        ge=0,
        le=1,
    )
    requires_follow_up_share: float = param(
        0.64,
        "share 0-1",
        "Employers who would hire only with public follow-up",
        "IMDi/Norstat 2017",
        ge=0,
        le=1,
    )
    requires_subsidy_share: float = param(
        0.58,
        "share 0-1",
        "Employers who would hire only with a wage subsidy",
        "IMDi/Norstat 2017",
        ge=0,
        le=1,
    )
    discrimination_penalty: float = param(
        0.25,
        "share 0-1",
        "Cut in an unknown refugee applicant's chance of being considered",
        "Midtbøen & Rogstad 2012 (about 25 % fewer callbacks); screening before the valuation, "
        "as the field experiment measured callbacks",
        ge=0,
        le=1,
        kernel=True,
    )
    vacancy_requirement_sd: float = param(
        0.6,
        "scale points",
        "Spread of one opening's language requirement around its sector's mean",
        "assumption: openings in one sector range from tasks needing little Norwegian to "
        "customer-facing ones; about ±1 point (A1 to B1 within a sector) for two thirds of them",
        kernel=True,
        plausible=(0.3, 1.0),
        ge=0,
        le=LANGUAGE_MAX,
    )
    vacancy_bar_sd: float = param(
        0.1,
        "score",
        "Spread between openings of the outside candidates' value (the bar an applicant "
        "must beat), drawn once per opening",
        "assumption: some openings draw stronger outside candidates than others; small next "
        "to the spread of employers' judgement (mechanisms.score_noise)",
        kernel=True,
        plausible=(0.0, 0.3),
        ge=0,
        le=MAX_SCORE,
    )
    wage_sd: float = param(
        0.1,
        "log-scale sd",
        "Spread of employers' wage level around their sector's mean wage (log-normal, mean 1)",
        "assumption: entry-level wages within a sector differ by about ±10 % under the "
        "collective agreements' minimum rates",
        plausible=(0.05, 0.2),
        ge=0,
        le=2,
    )
    sectors: tuple[Sector, ...] = param(
        DEFAULT_SECTORS, "table", "Sectors of local employers", max_length=MAX_SECTORS
    )

    @field_validator("sectors")
    @classmethod
    def _some_sector(cls, v: tuple[Sector, ...]) -> tuple[Sector, ...]:
        if not v:
            raise ValueError("at least one sector")
        if sum(s.share for s in v) <= 0:
            raise ValueError("sector shares summing to more than 0")
        return v


# --------------------------------------------------------------------------- methods
class MethodProfile(Section):
    """``[methods.NAME]``: how one follow-up method spends time and when it searches.

    Declares each field's unit, meaning and bounds; each method's values, with their sources,
    are in its own profile below (``StandardProfile``, ``IpsProfile``, ``SeProfile``).
    """

    employer_time_share: float = param(
        0.1,
        "share 0-1",
        "Share of the specialist's working week spent with employers",
        ge=0,
        le=1,
    )
    language_first_weeks: int = param(
        0,
        "weeks",
        "Language-only weeks before any work-directed phase starts",
        ge=0,
        le=MAX_WEEKS,
    )
    training_hours: float = param(
        15.0,
        "hours/week",
        "Language and civics training hours while in programme",
        ge=0,
        le=FULL_TIME_HOURS,
    )
    search_intensity: float = param(
        1.0,
        "applications/week",
        "Applications a participant sends when searching, before modifiers",
        ge=0,
        le=MAX_APPLICATIONS,
    )
    endorsement: float = param(
        0.3,
        "score",
        "Boost an employer who trusts the specialist gives an endorsed applicant",
        ge=0,
        le=MAX_SCORE,
    )
    preference_weight: float = param(
        0.5,
        "share 0-1",
        "Share of applications aimed at the participant's preferred sector",
        ge=0,
        le=1,
    )
    follow_along_weeks: int = param(
        0,
        "weeks",
        "Support in the job after hiring (after-follow-up), occupying a caseload slot",
        ge=0,
        le=MAX_WEEKS,
    )
    language_support_hours: float = param(
        0.0,
        "hours/week",
        "Language support integrated in follow-up, also once in work",
        ge=0,
        le=FULL_TIME_HOURS,
    )
    practice_weeks: int = param(
        0,
        "weeks",
        "Unpaid work practice (språkpraksis) before job search (train-then-place)",
        ge=0,
        le=MAX_WEEKS,
    )
    practice_intensity: float = param(
        0.4,
        "share 0-1",
        "Search intensity during work practice, as a share of full search",
        ge=0,
        le=1,
    )
    job_carving: float = param(
        0.0,
        "scale points",
        "How far the specialist negotiates a tied employer's language requirement down "
        "towards the participant's current level (job carving, adapted tasks)",
        ge=0,
        le=6,
    )
    step_weeks: tuple[Weeks, Weeks, Weeks] = param(
        (0, 0, 0),
        "weeks",
        "SE steps 1 (contact, agreement) and 2 (vocational profiling) before "
        "step 3 (job finding), and step 4 (cooperation with the employer) at the start of a job",
    )


class Cited(NamedTuple):
    """One method's value of a :class:`MethodProfile` field, with where it comes from."""

    value: Any
    source: str
    plausible: tuple[float, float] | None = None  # for a tuple field: each element's range


IPS_25 = "IPS-25 Supported Employment Fidelity Scale (Becker, Swanson, Reese, Bond, McLeman)"
SE_FOR_IMMIGRANTS = (
    "Supported Employment for immigrants (AFI/OsloMet for IMDi 2016-2019: the five steps, "
    "language support in every step, after-follow-up)"
)


def _profile(name: str, doc: str, values: dict[str, Cited]) -> type[MethodProfile]:
    """A :class:`MethodProfile` with one method's defaults, each with its own source.

    Unit, meaning and bounds stay those of ``MethodProfile``; each value brings its source
    and, where it has none, a plausible range, so the parameter reference, calibration and
    sensitivity studies see every method's value with its evidence.
    """
    if set(values) != set(MethodProfile.model_fields):
        raise TypeError(f"{name}: a value for every MethodProfile field, no more")
    fields: dict[str, Any] = {}
    for field_name, cited in values.items():
        base = MethodProfile.model_fields[field_name]
        extra = base.json_schema_extra if isinstance(base.json_schema_extra, dict) else {}
        annotation: Any = base.annotation
        if base.metadata:  # keep the bounds
            annotation = Annotated.__class_getitem__((annotation, *base.metadata))  # type: ignore[attr-defined]
        fields[field_name] = (
            annotation,
            param(
                cited.value,
                str(extra.get("unit", "")),
                base.description or "",
                cited.source,
                plausible=cited.plausible,
            ),
        )
    return create_model(name, __base__=MethodProfile, __doc__=doc, **fields)


StandardProfile = _profile(
    "StandardProfile",
    "Standard follow-up by a programme advisor: train, then place.",
    {
        "employer_time_share": Cited(
            0.10,
            "assumption: programme advisors follow large caseloads and spend most of their "
            "time with participants and the programme's courses, little with employers",
            (0.0, 0.25),
        ),
        "language_first_weeks": Cited(
            28,
            "assumption: train-then-place, about the first half-year of Norwegian before "
            "work-directed measures",
            (12, 52),
        ),
        "training_hours": Cited(
            15.0,
            "assumption: Norwegian and civics are the core of the full-time programme "
            "(Integration Act 2021); about 15 of its 37.5 hours",
            (10.0, 25.0),
        ),
        "search_intensity": Cited(
            0.9, "assumption: about one application a week in job search", (0.5, 2.0)
        ),
        "endorsement": Cited(
            0.25,
            "assumption: an advisor's word counts for less with employers it rarely meets",
            (0.1, 0.5),
        ),
        "preference_weight": Cited(
            0.3,
            "assumption: applications follow the openings more than the participant's wishes",
            (0.1, 0.5),
        ),
        "follow_along_weeks": Cited(
            0,
            "Integration Act 2021: the programme's follow-up ends when the participant leaves "
            "it; NAV's ordinary services follow (after_programme)",
        ),
        "language_support_hours": Cited(
            0.0, "by definition: standard follow-up has no language support beyond the courses"
        ),
        "practice_weeks": Cited(
            16,
            "Statistics Norway (SSB), introinnv: language practice (språkpraksis) is the most "
            "used work-directed measure of the programme (2009: 3,072 of 9,207 participants); "
            "length assumption",
            (0, 26),
        ),
        "practice_intensity": Cited(
            0.4,
            "assumption: work practice leaves little time for applications",
            (0.2, 0.8),
        ),
        "job_carving": Cited(
            0.0,
            "by definition: advisors do not negotiate the job's tasks with employers",
        ),
        "step_weeks": Cited((0, 0, 0), "by definition: not Supported Employment"),
    },
)

IpsProfile = _profile(
    "IpsProfile",
    "Individual Placement and Support by a job specialist: place, then train.",
    {
        "employer_time_share": Cited(
            0.60,
            f"{IPS_25}: about six face-to-face employer contacts a week (18 of 37.5 hours at "
            "follow_up.hours_per_employer_contact) and 65 % or more of the time in the "
            "community; the range covers both",
            (0.4, 0.7),
        ),
        "language_first_weeks": Cited(
            4, f"{IPS_25}: rapid job search, first employer contact within about 30 days"
        ),
        "training_hours": Cited(
            12.0,
            "Raskt i jobb trial (NORCE, Bergen 2017-2020): IPS on top of the introduction "
            "programme, whose language training goes on; hours assumption (job search takes "
            "some)",
            (8.0, 15.0),
        ),
        "search_intensity": Cited(
            1.4,
            f"assumption, direction {IPS_25} (rapid, continuous job search): more than "
            "standard follow-up",
            (0.8, 2.5),
        ),
        "endorsement": Cited(
            0.35,
            f"assumption, direction {IPS_25} (job development, quality of employer contact)",
            (0.15, 0.6),
        ),
        "preference_weight": Cited(
            0.8,
            f"assumption, direction {IPS_25} (individualised job search, following the "
            "participant's preferences): most applications in the preferred sector",
            (0.6, 0.95),
        ),
        "follow_along_weeks": Cited(
            52,
            f"{IPS_25}: time-unlimited follow-along support, at least monthly for a year or more "
            "on average; modelled as a year in the job, after which support usually tapers off",
            (26, 104),
        ),
        "language_support_hours": Cited(
            2.0,
            "assumption: Raskt i jobb's premise that language is learned alongside the job "
            "(NORCE, Bergen 2017-2020); many could not receive IPS because of language problems",
            (0.0, 4.0),
        ),
        "practice_weeks": Cited(0, f"{IPS_25}: competitive jobs, no prevocational work practice"),
        "practice_intensity": Cited(0.4, "not used: IPS has no work-practice weeks"),
        "job_carving": Cited(
            0.5,
            f"{IPS_25} (job development: specialists negotiate jobs fitted to the person); size "
            "assumption",
            (0.0, 1.0),
        ),
        "step_weeks": Cited((0, 0, 0), "by definition: not Supported Employment"),
    },
)

SeProfile = _profile(
    "SeProfile",
    "Supported Employment in five steps with language support in each.",
    {
        "employer_time_share": Cited(
            0.45,
            "assumption: steps 3 and 4 (job finding, cooperation with the employer) are "
            "employer work, steps 1, 2 and 5 participant work; between standard and IPS",
            (0.25, 0.6),
        ),
        "language_first_weeks": Cited(0, f"{SE_FOR_IMMIGRANTS}: step 1 starts at once"),
        "training_hours": Cited(
            13.0,
            "assumption: between standard follow-up and IPS (language support is added on top)",
            (10.0, 18.0),
        ),
        "search_intensity": Cited(
            1.2, "assumption: between standard follow-up and IPS", (0.7, 2.0)
        ),
        "endorsement": Cited(
            0.40,
            f"assumption, direction {SE_FOR_IMMIGRANTS} (step 4, cooperation with the employer)",
            (0.15, 0.6),
        ),
        "preference_weight": Cited(
            0.7,
            f"assumption, direction {SE_FOR_IMMIGRANTS} (step 2, vocational profiling and "
            "career planning)",
            (0.5, 0.9),
        ),
        "follow_along_weeks": Cited(
            26,
            f"{SE_FOR_IMMIGRANTS}: after-follow-up is very important for lasting work; length "
            "assumption",
            (12, 52),
        ),
        "language_support_hours": Cited(
            3.0,
            f"{SE_FOR_IMMIGRANTS}: language support in every step; size assumption",
            (1.0, 5.0),
        ),
        "practice_weeks": Cited(
            0,
            f"{SE_FOR_IMMIGRANTS}: training in ordinary work (though Proba 2019 for NAV found "
            "several SE measures using work practice)",
        ),
        "practice_intensity": Cited(0.4, "not used: SE has no work-practice weeks here"),
        "job_carving": Cited(
            0.4,
            f"{SE_FOR_IMMIGRANTS} (step 4: job analysis and adaptation with the employer); size "
            "assumption",
            (0.0, 1.0),
        ),
        "step_weeks": Cited(
            (4, 8, 4),
            f"{SE_FOR_IMMIGRANTS}: steps 1 and 2 before job finding, step 4 at the start of a "
            "job; lengths assumption",
            (2, 16),
        ),
    },
)


class Methods(Section):
    """``[methods]``: the three follow-up designs compared.

    Each method has its own profile class, so a partial ``[methods.ips]`` table changes only
    what it names and the rest keeps IPS's own values, each with its source.
    """

    standard: StandardProfile = Field(  # type: ignore[valid-type]
        default_factory=StandardProfile,
        description="Standard follow-up by a programme advisor (train-then-place)",
        json_schema_extra={"unit": "table"},
    )
    ips: IpsProfile = Field(  # type: ignore[valid-type]
        default_factory=IpsProfile,
        description="Individual Placement and Support (IPS-25 fidelity scale; the Raskt i jobb "
        "trial, Bergen 2017-2020)",
        json_schema_extra={"unit": "table"},
    )
    se: SeProfile = Field(  # type: ignore[valid-type]
        default_factory=SeProfile,
        description="Supported Employment, five steps (AFI/OsloMet for IMDi, 2016-2019)",
        json_schema_extra={"unit": "table"},
    )

    def profile(self, method: str) -> MethodProfile:
        """Return the profile of ``method`` ("standard", "ips" or "se")."""
        return getattr(self, method)


# --------------------------------------------------------------------------- follow-up
class FollowUp(Section):
    """``[follow_up]``: which method, at what caseload, for whom."""

    method: Method = param(
        "standard", "standard | ips | se", "Follow-up method offered to the cohort"
    )
    caseload: int = param(
        25,
        "participants per specialist",
        "Caseload cap of the method's specialists (20 or fewer for "
        "top IPS fidelity; about 15 on average in Proba's study)",
        "IPS-25 fidelity scale; Proba 2019. Plausible range across municipalities: "
        "assumption, from Proba's average of 15 to 35 (a programme advisor with a large "
        "caseload)",
        plausible=(15, 35),
        ge=1,
        le=200,
    )
    specialists: int | None = param(
        None,
        "FTE",
        "Specialists employed; leave out = enough for the cohort at the cap; "
        "at most one per participant",
        ge=1,
        le=MAX_COHORT,
    )
    advisor_caseload: int = param(
        25,
        "participants per advisor",
        "Caseload of standard advisors who follow those not taking up the method",
        "assumption",
        ge=1,
        le=200,
    )
    take_up: float = param(
        1.0,
        "share 0-1",
        "Share taking up the method at average starting language",
        ge=0,
        le=1,
    )
    take_up_language_slope: float = param(
        0.0,
        "log-odds per language point",
        "How take-up rises with starting language (Raskt i jobb: "
        "many did not receive IPS because of language problems)",
        "Raskt i jobb trial (NORCE, Bergen 2017-2020): many did not receive IPS because of "
        "language problems",
        ge=0,
        le=MAX_LOG_ODDS,
    )
    after_follow_up_weeks: int | None = param(
        None,
        "weeks",
        "Override of the method's follow-along weeks; leave out = the method's own",
        ge=0,
        le=MAX_WEEKS,
    )
    language_support_hours: float | None = param(
        None,
        "hours/week",
        "Override of the method's integrated language support; leave out = the method's own",
        ge=0,
        le=FULL_TIME_HOURS,
    )
    hours_per_week: float = param(
        FULL_TIME_HOURS,
        "hours/week",
        "Specialist's working week",
        "Integration Act guideline",
        ge=1,
        le=80,
        kernel=True,
    )
    hours_per_employer_contact: float = param(
        3.0,
        "hours",
        "Time one face-to-face employer contact takes, travel included",
        "assumption: ~7.5 contacts/week at IPS's time share (IPS-25: about six face to face)",
        ge=0.25,
        le=40,
        kernel=True,
    )
    skill_sd: float = param(
        0.35,
        "log-scale sd",
        "Spread of specialists' relationship-building and selling skill",
        "Proba 2019 for NAV (results vary with the person more than the method)",
        ge=0,
        le=2,
    )
    skill_mean: float = param(
        1.0,
        "multiplier",
        "Average skill of a municipality's specialists and advisors against the national "
        "average (1); part of programme practice",
        "assumption: no study measures it by municipality; the plausible range (±20 %) is "
        "about half the spread between single specialists (skill_sd)",
        plausible=(0.8, 1.2),
        gt=0,
        le=5,
    )


# --------------------------------------------------------------------------- wage subsidy
class WageSubsidy(Section):
    """``[wage_subsidy]``: NAV's temporary lønnstilskudd."""

    # Defaults are NAV's temporary wage subsidy, switched off (rate 0): a scenario
    # that sets rate = 0.4 gets NAV's rule (40 % for 6 months, then 30 %, at most a year).
    rate: float = param(
        0.0,
        "share of wage 0-1",
        "Share of wage costs paid to the employer in the first period; 0 = no subsidy",
        "NAV rules for lønnstilskudd (40 %; 60 % with reduced work capacity)",
        ge=0,
        le=1,
        kernel="subsidy_rate",
    )
    weeks: int = param(
        52,
        "weeks",
        "Longest subsidy period",
        "NAV rules (1 year; 2 with reduced work capacity)",
        ge=0,
        le=MAX_SUBSIDY_WEEKS,
        kernel="subsidy_weeks",
    )
    step_down_week: int | None = param(
        26,
        "weeks",
        "Week of the job after which the lower rate applies; equal to weeks = no step-down",
        "NAV rules (after 6 months; after 1 year with reduced work capacity)",
        ge=0,
        le=MAX_SUBSIDY_WEEKS,
    )
    rate_after_step_down: float = param(
        0.30,
        "share of wage 0-1",
        "Rate after the step-down",
        "NAV rules (30 %; 50 % with reduced work capacity)",
        ge=0,
        le=1,
        kernel="subsidy_rate_after",
    )
    eligibility: Eligibility = param(
        "all",
        "none | all | low_language | reduced_capacity",
        "Who may bring a subsidy: everyone, below B1, or those with a health burden",
    )
    low_language_below: float = param(
        3.0,
        "scale 0-6",
        "Language level below which low_language applies",
        ge=0,
        le=6,
        kernel=True,
    )
    hiring_weight: float = param(
        0.5,
        "score per unit rate",
        "Rise in an employer's valuation per unit of subsidy rate",
        "assumption: hand-set in an earlier version and never fitted by a recorded calibration; "
        "NAV's 40 % subsidy adds about as much as one education level (Proba 2019: the "
        "wage-subsidy trial had the best results, direction only)",
        plausible=(0.2, 1.0),
        ge=0,
        le=MAX_SCORE,
        kernel=True,
    )

    @model_validator(mode="after")
    def _step_down_inside(self) -> WageSubsidy:
        if self.step_down_week is not None and self.step_down_week > self.weeks:
            raise ValueError(f"step_down_week ({self.step_down_week}) at most weeks ({self.weeks})")
        return self


# --------------------------------------------------------------------------- programme
class Programme(Section):
    """``[programme]``: length, language learning, exits."""

    max_weeks: int = param(
        104,
        "weeks",
        "Programme length (3 months to 3 years under the Integration Act 2021; 2 years typical)",
        "Integration Act 2021; SSB",
        ge=1,
        le=156,
        kernel=True,
    )
    language_gain_per_hour: float = param(
        0.00254,
        "scale points per training hour",
        "Language gain per hour of training at level 0",
        "set by hand (and calibrated with the other mechanisms by calibration/default.toml, "
        "whose posterior --ensemble uses) to the target baseline_language_b1_at_24m: "
        "Statistics Norway (SSB), "
        "Norwegian for adult immigrants, 34 % of the oral Norwegian tests of 2018 at B1 or "
        "higher (41 % in 2020, 45 % in 2021; test-takers, best result); the default gives "
        "about 34 % of the baseline cohort at B1 or higher after 24 months",
        plausible=(0.0018, 0.0032),
        ge=0,
        le=0.1,
        kernel=True,
    )
    in_work_hours: float = param(
        6.0,
        "training-hour equivalents/week",
        "Language learned on the job (place-then-train premise)",
        "assumption",
        ge=0,
        le=MAX_HOURS,
        kernel=True,
    )
    after_exit_hours: float = param(
        4.0,
        "training-hour equivalents/week",
        "Language learned while job-seeking after the programme (adult education, NAV courses)",
        "assumption",
        ge=0,
        le=MAX_HOURS,
        kernel=True,
    )
    education_gain: tuple[Multiplier, Multiplier, Multiplier, Multiplier] = param(
        (0.7, 0.9, 1.1, 1.3),
        "multiplier",
        "Learning speed by education (none, primary, secondary, tertiary)",
        "assumption",
        kernel=True,
    )
    age_gain_per_year: float = param(
        0.012,
        "share per year over 25",
        "Slower learning per year of age above 25",
        "assumption",
        ge=0,
        le=0.1,
        kernel=True,
    )
    learning_age_from: float = param(
        25.0,
        "years",
        "Age above which learning slows by programme.age_gain_per_year per year",
        "assumption (second-language learning slows with age at arrival)",
        plausible=(18.0, 35.0),
        ge=0,
        le=70,
        kernel=True,
    )
    learning_speed_floor: float = param(
        0.3,
        "multiplier",
        "Slowest learning speed at any age, as a share of a young learner's",
        "assumption: older learners keep learning, more slowly",
        plausible=(0.1, 0.6),
        ge=0,
        le=1,
        kernel=True,
    )
    education_entry_base: float = param(
        -1.3,
        "log-odds",
        "Chance of entering education at exit, at age 30, primary school, level 2",
        "set by hand to meet the targets of calibration/targets.toml and the education "
        "gradient of tests/test_face_validity.py (assumption): IMDi, "
        "results of the introduction programme, 22 % of leavers went directly into education "
        "in 2016, 29 % in 2019, 33 % in 2020, 31 % in 2021, 28 % of leavers other than from "
        "Ukraine in 2023 (target baseline_education_at_exit)",
        ge=-MAX_LOG_ODDS,
        le=MAX_LOG_ODDS,
        kernel=True,
    )
    education_entry_young: float = param(
        1.2,
        "log-odds",
        "Added if under 30",
        "assumption",
        ge=-MAX_LOG_ODDS,
        le=MAX_LOG_ODDS,
        kernel=True,
    )
    education_entry_per_level: float = param(
        -0.3,
        "log-odds per education level",
        "Added per level",
        "assumption, negative: adults without primary or upper-secondary schooling have a "
        "statutory right to it (Education Act, chapter 4A) and the Integration Act 2021 leads "
        "participants without upper-secondary education into formal education, so leavers with "
        "little schooling go on to education more often, not less; -0.3 puts the education "
        "gradient of work or education at exit inside the band from Statistics Norway's "
        "figures (tests/test_face_validity.py)",
        plausible=(-1.0, 0.5),
        ge=-MAX_LOG_ODDS,
        le=MAX_LOG_ODDS,
        kernel=True,
    )
    education_entry_per_language: float = param(
        0.5,
        "log-odds per language point",
        "Added per point",
        "assumption",
        ge=-MAX_LOG_ODDS,
        le=MAX_LOG_ODDS,
        kernel=True,
    )
    education_young_age: float = param(
        30.0,
        "years",
        "Age under which programme.education_entry_young is added, and under which a "
        "participant may leave the programme early for education",
        "assumption (adults under about 30 more often take upper-secondary education)",
        kernel=True,
        plausible=(25.0, 35.0),
        ge=18,
        le=70,
    )
    education_language: float = param(
        CEFR_B1,
        "scale 0-6",
        "Language level needed to leave the programme early for education",
        "assumption: upper-secondary and vocational courses for adults are taught in "
        "Norwegian and usually ask for about B1",
        kernel=True,
        plausible=(2.0, 4.0),
        ge=0,
        le=LANGUAGE_MAX,
    )
    education_hazard: float = param(
        0.002,
        "probability/week",
        "Chance a young participant at B1 leaves early for education",
        "assumption",
        ge=0,
        le=1,
        kernel=True,
    )
    inactive_share: float = param(
        0.219,
        "share 0-1",
        "Chance a participant leaving without work or education becomes inactive "
        "rather than job-seeking, doubled with care or health burden",
        "fitted by the optimisation calibration of 2026-11-26 (calibration/default.toml at "
        "commit 5100774: 40 trials, the best taken) under the earlier threshold hiring model; "
        "not refitted since (a free parameter of today's calibration/default.toml)",
        ge=0,
        le=1,
        kernel=True,
    )
    inactive_burden_multiplier: float = param(
        2.0,
        "multiplier",
        "Factor on programme.inactive_share for a participant with a care or mental-health "
        "burden (capped at certainty)",
        "assumption (direction: Statistics Norway, introinnv, one year after the programme "
        "'other or unknown status' is 39 % for women against 19 % for men, 2017 finishers; "
        "care for young children and health are the main reasons given)",
        kernel=True,
        plausible=(1.0, 3.0),
        ge=0,
        le=MAX_SCORE,
    )
    reactivation_rate: float = param(
        0.0435,
        "probability/week",
        "Chance an inactive person starts job search",
        "fitted by the optimisation calibration of 2026-11-26 (calibration/default.toml at "
        "commit 5100774: 40 trials, the best taken) under the earlier threshold hiring model; "
        "not refitted since (a free parameter of today's calibration/default.toml)",
        ge=0,
        le=1,
        kernel=True,
    )
    part_time_share: float = param(
        0.5,
        "share 0-1",
        "Share of jobs found during the programme that are part-time and combined with it "
        "(the programme goes on); the rest are full-time and end it",
        "Integration Act 2021 § 14 (ordinary paid work can be part of the programme); "
        "IMDi, 'Arbeid på deltid' (2024); share assumption",
        ge=0,
        le=1,
        kernel=True,
    )
    job_start_lag_weeks: int = param(
        4,
        "weeks",
        "Weeks from an accepted job offer to the first working day; an offer accepted in "
        "the programme's last weeks starts after it ends (the participant leaves it without "
        "work and starts the job later)",
        "assumption: contracts, a start at the turn of a month, onboarding and certificates "
        "(a police certificate in care work, courses in construction) put a few weeks "
        "between the offer and the start; participants have no notice period to serve. The "
        "range spans an immediate start to two months",
        kernel=True,
        plausible=(0, 8),
        ge=0,
        le=26,
    )
    education_weeks: int = param(
        104,
        "weeks",
        "Typical length of the education entered at or before exit (drawn 0.5-1.5 times this)",
        "assumption (upper-secondary or vocational courses for adults: one to three years)",
        ge=1,
        le=520,
        kernel=True,
    )
    education_weeks_spread: float = param(
        0.5,
        "share 0-1",
        "Half-width of the spread of education lengths: drawn uniformly between (1 - spread) "
        "and (1 + spread) times programme.education_weeks",
        "assumption (adult courses last from one to three years)",
        kernel=True,
        plausible=(0.0, 0.9),
        ge=0,
        lt=1,
    )
    education_completion: float = param(
        0.6,
        "share 0-1",
        "Share who complete the education; the rest drop out part-way",
        "assumption",
        ge=0,
        le=1,
        kernel=True,
    )
    education_qualification: float = param(
        0.25,
        "score",
        "Productivity gained by completing the education (a new qualification)",
        "assumption",
        ge=0,
        le=MAX_SCORE,
        kernel=True,
    )
    unemployed_search_intensity: float = param(
        3.0,
        "applications/week",
        "Applications after exit, with ordinary NAV follow-up",
        "set by hand to meet the targets of calibration/targets.toml (assumption): with NAV's "
        "transition after the programme (after_programme.transition_weeks) the earlier fitted "
        "6.41 put employment at 60 months above its band; a free parameter of "
        "calibration/default.toml",
        ge=0,
        le=MAX_APPLICATIONS,
        kernel=True,
    )


# --------------------------------------------------------------------------- after the programme
class AfterProgramme(Section):
    """``[after_programme]``: NAV's follow-up of the unemployed and job search through networks."""

    nav_follow_up_hours: float = param(
        0.25,
        "hours/week per job seeker",
        "NAV's ordinary follow-up of an unemployed former participant (raises search "
        "intensity like a specialist's time, on the same saturating curve)",
        "assumption (NAV's standard follow-up: about an hour a month)",
        ge=0,
        le=FULL_TIME_HOURS,
        kernel=True,
    )
    nav_subsidy_share: float = param(
        0.1,
        "share 0-1",
        "Share of unemployed former participants for whom NAV offers a temporary wage "
        "subsidy with their applications",
        "NAV rules for lønnstilskudd (for job seekers who need it); share assumption",
        ge=0,
        le=1,
        kernel=True,
    )
    nav_subsidy_rate: float = param(
        0.40,
        "share of wage 0-1",
        "Rate of NAV's temporary wage subsidy in its first period (then the "
        "[wage_subsidy] step-down rule)",
        "NAV rules for lønnstilskudd (40 % for up to 6 months, then 30 %, at most a year)",
        ge=0,
        le=1,
        kernel=True,
    )
    nav_subsidy_weeks: int = param(
        52,
        "weeks",
        "Longest period of NAV's temporary wage subsidy",
        "NAV rules for lønnstilskudd (at most a year)",
        ge=0,
        le=208,
        kernel=True,
    )
    network_applications: float = param(
        0.15,
        "applications/week",
        "Applications through friends, family and unsolicited approaches, reaching any "
        "employer with an opening, advertised or not",
        "assumption (networks and direct approaches are a main route to jobs)",
        ge=0,
        le=MAX_APPLICATIONS,
        kernel=True,
    )
    network_trust: float = param(
        0.15,
        "trust 0-1",
        "Trust a referral through a network gives the applicant, like a weak specialist tie",
        "assumption",
        ge=0,
        le=1,
        kernel=True,
    )
    transition_weeks: int = param(
        39,
        "weeks",
        "Weeks after leaving the programme during which NAV follows an unemployed former "
        "participant more closely (after_programme.transition_hours instead of "
        "after_programme.nav_follow_up_hours)",
        "Integration Act 2021 (the municipality and NAV plan the transition from the "
        "programme together; a participant without work or education is registered with NAV "
        "at the end); length assumption, set by hand to meet the targets of "
        "calibration/targets.toml: NAV's assessment of needs, the activity plan and most "
        "measures come in the first months of a registration",
        kernel=True,
        plausible=(0, 52),
        ge=0,
        le=MAX_WEEKS,
    )
    transition_hours: float = param(
        1.0,
        "hours/week per job seeker",
        "NAV's follow-up of an unemployed former participant in the first "
        "after_programme.transition_weeks after leaving (raises search intensity and meets "
        "employers' demand for public follow-up on the same saturating curve as a "
        "specialist's time)",
        "assumption: about an hour a week of NAV's guidance and measures while the "
        "transition is planned, against about an hour a month afterwards",
        kernel=True,
        plausible=(0.25, 3.0),
        ge=0,
        le=FULL_TIME_HOURS,
    )
    transition_subsidy_share: float = param(
        0.5,
        "share 0-1",
        "Share of unemployed former participants for whom NAV offers a temporary wage "
        "subsidy with their applications in the first after_programme.transition_weeks "
        "after leaving (after_programme.nav_subsidy_share afterwards; those offered one later "
        "are offered one in the transition too)",
        "NAV rules for lønnstilskudd (for job seekers who need it to get work); share "
        "assumption, set by hand to meet the targets of calibration/targets.toml (the rise in "
        "work or education in the year after the programme): NAV's measures are used most "
        "while the transition from the programme is planned",
        kernel=True,
        plausible=(0.1, 0.8),
        ge=0,
        le=1,
    )
    education_hazard: float = param(
        0.005,
        "probability/week",
        "Chance a young unemployed former participant at the education language level "
        "(programme.education_language, under programme.education_young_age) starts "
        "education in a week",
        "assumption, size set by hand to meet the targets of calibration/targets.toml: "
        "Statistics Norway (SSB Reports 2015/36, Blom and Enes) found 22 % in education one "
        "year after the programme and 20 % two years after (with and without work), about "
        "as many as entered it at exit (IMDi, 22 % in 2016), so entries after exit about "
        "balance drop-outs and completions",
        kernel="education_after_exit_hazard",
        plausible=(0.0, 0.02),
        ge=0,
        le=1,
    )
    disability_rate: float = param(
        0.012,
        "probability/year",
        "Yearly chance a former participant without a mental-health burden leaves the labour "
        "force for good on health grounds (work assessment allowance, then disability "
        "benefit), from the programme's end",
        "Fevang and Røed 2006 (Frisch Centre report 10/2006): 14 % of the non-disabled aged "
        "30-55 in 1992 received a disability benefit within 11 years (about 1.3 % a year); "
        "Claussen et al. 2010 (J Immigrant Minority Health 12:449-456): new disability "
        "pensions twice as common among non-Western men, 1.3 times among women, explained by "
        "age at receipt; the rate for this younger cohort is an assumption within that range",
        kernel=True,
        plausible=(0.004, 0.03),
        ge=0,
        le=1,
    )
    disability_health_factor: float = param(
        2.5,
        "multiplier",
        "Factor on after_programme.disability_rate with a mental-health burden",
        "assumption (direction: Bratsberg, Raaum and Røed 2016, Frisch Centre: many "
        "non-European refugees come to rely on health-related benefits; PTSD and depression "
        "are the main diagnoses among refugees)",
        kernel=True,
        plausible=(1.5, 4.0),
        ge=0,
        le=MAX_SCORE,
    )
    migration_rate: float = param(
        0.08,
        "probability/year",
        "Yearly chance a participant moves out of the municipality, from the programme's "
        "full length after arrival (programme.max_weeks), whatever they do then; after moving "
        "they are no longer observed: outcomes measured later are missing for them and the "
        "municipality's flows stop (the integration grant follows them)",
        "Statistics Norway (SSB), monitor of secondary migration: 74-76 % of the refugees "
        "settled in 2005 and 2006 still lived in the first municipality five years later, "
        "and moving rises as the programme ends; Fafo report 2025:14 (Flytting etter "
        "bosetting): two of three still live there after seven years. About 8 % a year from "
        "the end of a two-year programme gives those shares (6-7 % a year on average with "
        "after_programme.migration_care_factor)",
        kernel=True,
        plausible=(0.03, 0.12),
        ge=0,
        le=1,
    )
    migration_care_factor: float = param(
        0.6,
        "multiplier",
        "Factor on after_programme.migration_rate for a participant with care responsibilities",
        "Fafo report 2025:14: people with children move less than those living alone "
        "(often young men); size assumption",
        kernel=True,
        plausible=(0.3, 1.0),
        ge=0,
        le=MAX_SCORE,
    )


# --------------------------------------------------------------------------- mechanisms
class Mechanisms(Section):
    """``[mechanisms]``: uncertain behavioural mechanisms, the targets of calibration."""

    productivity_base: float = param(
        0.55,
        "score",
        "Applicant productivity with no education or work",
        "assumption: hand-set in an earlier version and never fitted by a recorded calibration; "
        "together with labour_market.outside_bar it sets how often an employer prefers a "
        "participant to the outside candidates",
        plausible=(0.3, 0.8),
        ge=-MAX_SCORE,
        le=MAX_SCORE,
    )
    productivity_per_education: float = param(
        0.06,
        "score per level",
        "Added per education level",
        "assumption: sets the education gradient of hiring; checked against Statistics "
        "Norway's work or education after the programme by education "
        "(tests/test_face_validity.py). Measured with the other defaults over 10 replicates, "
        "the gap in work or education at exit between tertiary and primary or less is +0.22 "
        "at 0.02, +0.30 at 0.06 and +0.37 at 0.11, against the band +0.05 to +0.35: the "
        "plausible range stops before the gap leaves it",
        plausible=(0.0, 0.10),
        ge=-MAX_SCORE,
        le=MAX_SCORE,
    )
    productivity_per_work_year: float = param(
        0.02,
        "score per year",
        "Added per year of prior work (up to mechanisms.prior_work_cap_years)",
        "assumption: ten years of work abroad count about as much as two education levels",
        plausible=(0.005, 0.04),
        ge=-1,
        le=1,
    )
    productivity_age_penalty: float = param(
        0.006,
        "score per year",
        "Lost per year of age over mechanisms.productivity_age_from",
        "assumption (direction: Statistics Norway, the share in work or education after the "
        "programme falls with age; SSB Reports 2015/36, Blom and Enes)",
        plausible=(0.0, 0.015),
        ge=0,
        le=1,
    )
    language_slope: float = param(
        1.2,
        "per scale point",
        "Steepness of the language-fit curve around a job's requirement",
        "assumption: a point of Norwegian (A1 to A2) below a job's need halves the expected "
        "productivity, a point above adds most of the rest",
        plausible=(0.6, 2.0),
        ge=0.01,
        le=20,
        kernel=True,
    )
    health_productivity: float = param(
        0.15,
        "score",
        "Productivity lost with a mental-health burden",
        "assumption (direction: Bratsberg, Raaum and Røed 2016, Frisch Centre: many "
        "non-European refugees come to rely on health-related benefits)",
        plausible=(0.05, 0.3),
        ge=0,
        le=MAX_SCORE,
    )
    productivity_weight: float = param(
        2.0,
        "score per unit of productivity × language fit",
        "Weight of an applicant's expected productivity (productivity times the fit of "
        "their language to the job) in an employer's valuation, and in the decision to keep "
        "a worker when a subsidy ends",
        "assumption: sets the scale of the valuation against the outside candidates' bar "
        "(labour_market.outside_bar); only its ratio to mechanisms.score_noise and the bar "
        "matters",
        kernel=True,
        plausible=(1.0, 3.0),
        ge=0,
        le=MAX_SCORE,
    )
    productivity_age_from: float = param(
        40.0,
        "years",
        "Age from which mechanisms.productivity_age_penalty applies",
        "assumption (employers' preference for younger workers rises in the forties)",
        plausible=(35.0, 50.0),
        ge=18,
        le=70,
    )
    prior_work_cap_years: float = param(
        10.0,
        "years",
        "Years of prior work beyond which productivity stops rising",
        "assumption (experience from abroad is valued for its first years, then levels off)",
        plausible=(5.0, 20.0),
        ge=0,
        le=50,
    )
    health_search: float = param(
        0.35,
        "share 0-1",
        "Search intensity lost with a health burden",
        "assumption",
        ge=0,
        le=1,
        kernel=True,
    )
    care_search: float = param(
        0.40,
        "share 0-1",
        "Search intensity lost with care responsibilities",
        "assumption",
        ge=0,
        le=1,
        kernel=True,
    )
    unmet_requirement_penalty: float = param(
        0.5,
        "score",
        "Score lost when an employer's condition (follow-up, subsidy) is not met",
        "assumption: IMDi/Norstat 2017 found 64 % would require public follow-up and 58 % a "
        "subsidy; a penalty rather than a refusal because conditions are stated, not absolute",
        plausible=(0.2, 1.0),
        ge=0,
        le=MAX_SCORE,
        kernel=True,
    )
    practice_trust: float = param(
        0.3,
        "trust 0-1",
        "Trust a work-practice host gives its participant, like a specialist tie",
        "assumption",
        ge=0,
        le=1,
        kernel=True,
    )
    score_noise: float = param(
        0.27,
        "score (Gumbel scale)",
        "Scale of the idiosyncratic term of an employer's valuation of each option (each "
        "applicant, the outside candidates): with a Gumbel term the choice is a conditional "
        "logit, the chance of an option rising as exp(value / scale); larger = less predictable "
        "hiring, flatter gradients by education, language, age and health",
        "assumption: the employer's judgement of an applicant is noisy (interviews, references "
        "from abroad are hard to read); the range spans near-deterministic to very noisy choice "
        "against the spread of values (the productivity gap of two education levels is about 0.25)",
        kernel=True,
        plausible=(0.12, 0.6),
        ge=0,
        le=MAX_SCORE,
    )
    specialist_support: float = param(
        0.525,
        "share",
        "Most a specialist's time can raise a participant's search intensity",
        "fitted by the optimisation calibration of 2026-11-26 (calibration/default.toml at "
        "commit 5100774: 40 trials, the best taken) under the earlier threshold hiring model; "
        "not refitted since (a free parameter of today's calibration/default.toml)",
        ge=0,
        le=10,
        kernel=True,
    )
    support_saturation_hours: float = param(
        0.25,
        "hours/week per participant",
        "Specialist time per participant giving 63 % of that rise (diminishing returns "
        "to lower caseloads)",
        "set by hand (and calibrated with the other mechanisms by calibration/default.toml, "
        "whose posterior --ensemble uses) so the defaults meet the caseload targets from "
        "Proba 2019 and the IPS-25 fidelity scale (lower caseload "
        "helps, with diminishing returns) once hiring became a conditional logit",
        kernel=True,
        plausible=(0.1, 4.0),
        ge=0.01,
        le=MAX_HOURS,
    )
    tie_growth: float = param(
        0.25,
        "share 0-1",
        "Tie strength gained per employer contact",
        "assumption",
        ge=0,
        le=1,
        kernel=True,
    )
    tie_placement: float = param(
        0.30,
        "share 0-1",
        "Tie strength gained per placement",
        "assumption",
        ge=0,
        le=1,
        kernel=True,
    )
    tie_decay: float = param(
        0.02,
        "share/week",
        "Tie strength lost each week without contact (half-life ~ 8 months)",
        "assumption",
        ge=0,
        le=1,
        kernel=True,
    )
    tie_forget_below: float = param(
        0.01,
        "trust 0-1",
        "Tie strength below which a specialist forgets the tie and frees its slot",
        "assumption: a tie this weak no longer gives a route to the employer; small enough "
        "that a tie lasts about 15 years of decay from full trust",
        kernel=True,
        plausible=(0.005, 0.05),
        ge=0,
        le=1,
    )
    tie_route_saturation: float = param(
        1.0,
        "trust",
        "Summed trust of a specialist's routes (ties to employers with an opening) at which "
        "half of the specialist-supported applications go through ties",
        "assumption: a specialist with one fully trusting employer with an opening sends half "
        "the applications there, the rest to advertised vacancies",
        kernel=True,
        plausible=(0.5, 3.0),
        gt=0,
        le=MAX_SCORE,
    )
    ties_per_specialist: int = param(
        40,
        "employers",
        "Employer ties a specialist can keep up",
        "assumption: hand-set in an earlier version and never fitted by a recorded calibration; "
        "a few new employers a month kept over about a year",
        plausible=(15, 80),
        ge=1,
        le=256,
    )
    new_contact_share: float = param(
        0.4,
        "share 0-1",
        "Share of employer contacts spent on new employers",
        "assumption",
        ge=0,
        le=1,
        kernel=True,
    )
    on_job_growth: float = param(
        0.25,
        "score",
        "Productivity gained over the first year in a job",
        "assumption",
        ge=0,
        le=MAX_SCORE,
        kernel=True,
    )
    keep_bar: float = param(
        0.95,
        "score",
        "Worth an employer needs to keep a worker at full wage when a subsidy ends",
        "assumption: hand-set in an earlier version and never fitted by a recorded calibration; "
        "below the outside candidates' bar, as an insider who has learned the job is kept over "
        "a stranger",
        plausible=(0.5, 1.8),
        ge=-MAX_SCORE,
        le=MAX_SCORE,
        kernel=True,
    )
    preferred_offer_value: float = param(
        10.0,
        "score",
        "How much more a participant values an offer in their preferred sector than another, "
        "on the scale of the employer's valuation (offers are otherwise ranked by it)",
        "assumption: IPS honours participants' preferences (IPS-25 fidelity scale, "
        "individualised job search); 10 is above any difference of valuations, so an offer in "
        "the preferred sector is always taken first",
        kernel=True,
        plausible=(0.0, 10.0),
        ge=0,
        le=MAX_SCORE,
    )
    separation_hazard: float = param(
        0.00822,
        "probability/week",
        "Weekly chance a job ends, before modifiers",
        "fitted by the optimisation calibration of 2026-11-26 (calibration/default.toml at "
        "commit 5100774: 40 trials, the best taken) under the earlier threshold hiring model; "
        "not refitted since (a free parameter of today's calibration/default.toml)",
        ge=0,
        le=1,
        kernel=True,
    )
    separation_fit: float = param(
        0.35,
        "share 0-1",
        "Hazard cut for a job in the preferred sector",
        "assumption",
        ge=0,
        le=1,
        kernel=True,
    )
    separation_support: float = param(
        0.45,
        "share 0-1",
        "Hazard cut while in follow-along support",
        "Supported Employment for immigrants (AFI/OsloMet for IMDi 2016-2019): "
        "after-follow-up matters",
        ge=0,
        le=1,
        kernel=True,
    )
    separation_health: float = param(
        0.6,
        "share",
        "Hazard rise with a mental-health burden",
        "assumption",
        ge=0,
        le=10,
        kernel=True,
    )


# --------------------------------------------------------------------------- costs
class Costs(Section):
    """``[costs]``: prices for the public-purse accounting."""

    specialist_nok_per_year: float = param(
        950_000.0,
        "NOK/FTE-year",
        "Full cost of one specialist or advisor, salary, social costs and overhead",
        "assumption",
        ge=0,
        le=10_000_000,
    )
    g_nok: float = param(
        124_028.0,
        "NOK",
        "The National Insurance basic amount G",
        "NAV, from May 2024",
        ge=1_000,
        le=1_000_000,
    )
    benefit_g_per_year: float = param(
        2.0,
        "G/year",
        "Introduction benefit for participants 25 and over",
        "Integration Act 2021",
        ge=0,
        le=10,
    )
    benefit_under_25_share: float = param(
        2 / 3,
        "share 0-1",
        "Benefit for under-25s as a share of the full rate",
        "Integration Act 2021",
        ge=0,
        le=1,
    )


# --------------------------------------------------------------------------- public finances
PAYERS: tuple[str, ...] = ("municipality", "state", "nav")
"""The public bodies the ledger keeps accounts for: the municipality that runs the programme,
the state (with the county and the other municipalities: the rest of the public sector) and
NAV, the Labour and Welfare Administration (its benefits and measures)."""
Payer = Literal["municipality", "state", "nav"]
Nok = Annotated[float, Field(ge=0, le=10_000_000)]
TAX_BRACKETS = 5
"""Steps of the bracket tax (trinnskatt) on personal income."""


def _payer(default: str, meaning: str, source: str) -> Any:
    return param(default, "municipality | state | nav", meaning, source)


class IntroductionBenefitFlow(Section):
    """``[public_finances.introduction_benefit]``: the benefit paid for the programme's weeks.

    Rate: ``costs.benefit_g_per_year`` G a year from 25, ``costs.benefit_under_25_share`` of it
    under 25, for every programme week (the week of leaving included).
    """

    payer: Payer = _payer(
        "municipality",
        "Who pays the introduction benefit",
        "Integration Act 2021: participation gives the right to the benefit, which the "
        "municipality that runs the programme pays",
    )
    work_hours_reduction: float = param(
        1.0,
        "share 0-1",
        "How far the benefit is cut for the hours of a paid job alongside the programme: 1 = "
        "paid only for the week's hours not in paid work, 0 = paid in full alongside the job",
        "Integration Act 2021 and Prop. 89 L (2019-2020) ch. 9: the benefit is paid for "
        "participation in a full-time programme and is set per hour (1/1,850 of the yearly "
        "amount) so that it follows the hours taken part; ordinary paid work can be part of "
        "the programme (§ 14; IMDi, 'Arbeid på deltid', 2024). That the hours in paid work are "
        "paid by the employer and not by the benefit is an assumption of how municipalities "
        "apply the hourly rule",
        kernel="benefit_work_reduction",
        plausible=(0.0, 1.0),
        ge=0,
        le=1,
    )


class IntegrationGrantFlow(Section):
    """``[public_finances.integration_grant]``: the state's grant for each settled person."""

    payer: Payer = _payer(
        "state",
        "Who pays the integration grant",
        "IMDi, integreringstilskudd: the state pays it to the municipality for each person "
        "it settles, in the year of settlement and the four years after",
    )
    receiver: Payer = _payer(
        "municipality", "Who receives the integration grant", "IMDi, integreringstilskudd"
    )
    nok_by_year: tuple[Nok, Nok, Nok, Nok, Nok] = param(
        (194_400.0, 240_000.0, 175_000.0, 88_000.0, 73_000.0),
        "NOK a year, years 1 to 5 after settlement",
        "The grant for one adult settled (here: on arrival), by year since settlement; year 1 "
        "is paid in full in the week of settlement, later years spread over the year",
        "year 1: IMDi's 2024 rate for an adult settled with family, 194,400 NOK (241,100 for "
        "an adult settled alone), paid in full on settlement, later years in instalments "
        "through the year; years 2 to 5: assumption, as this project's searches did not find "
        "IMDi's table for them: about the size of recent years' rates, falling from about "
        "240,000 to about 70,000 NOK (the five years for an adult came to 669,600 NOK in "
        "2014, Prop. 1 S Tillegg 1 (2013-2014), and the rates have risen since). The grant "
        "does not depend on what happens to the participant, so it cancels in every "
        "comparison; it sets the levels of the municipality's and the state's accounts",
        kernel="grant_by_year",
        plausible=(50_000.0, 300_000.0),
    )


class SocialAssistanceFlow(Section):
    """``[public_finances.social_assistance]``: economic assistance for those with no income.

    Paid as an expected amount (``take_up`` times the rates, no draw) for every week a
    participant has neither work, nor the introduction benefit, nor education: waiting for a
    place in the programme, or unemployed or inactive after it.
    """

    payer: Payer = _payer(
        "municipality",
        "Who pays economic social assistance",
        "Social Services Act § 18: the municipality pays economic assistance (the NAV office "
        "administers it)",
    )
    living_nok_per_month: float = param(
        7_850.0,
        "NOK/month",
        "Assistance for living costs for a single person (the state's guideline rate)",
        "Arbeids- og inkluderingsdepartementet, circular A-3/2023, statlige veiledende "
        "retningslinjer for økonomisk stønad for 2024: 7,850 NOK a month for a single person "
        "from 1 January 2024",
        ge=0,
        le=100_000,
    )
    housing_nok_per_month: float = param(
        6_000.0,
        "NOK/month",
        "Assistance for housing, electricity and heating on top of the guideline rate",
        "assumption: the guideline rates leave housing out, to be assessed case by case "
        "(circular A-3/2023); a modest rented flat for one, net of the state's housing "
        "allowance",
        plausible=(3_000.0, 10_000.0),
        ge=0,
        le=100_000,
    )
    take_up: float = param(
        0.6,
        "share 0-1",
        "Share of those without work, benefit or education who receive assistance",
        "assumption: some live with a partner who earns or have other support (health-related "
        "benefits from NAV, not in the model); the Ministry notes that many participants need "
        "supplementary assistance already alongside the introduction benefit (Prop. 101 L "
        "(2023-2024) ch. 5)",
        plausible=(0.3, 0.9),
        ge=0,
        le=1,
    )


class WageSubsidyFlow(Section):
    """``[public_finances.wage_subsidy]``: the wage subsidy paid to employers.

    Rates and rules are ``[wage_subsidy]`` (the scenario's own) and ``[after_programme]``
    (NAV's ordinary subsidy after the programme), on the wage cost of the hours worked.
    """

    payer: Payer = _payer(
        "nav",
        "Who pays the wage subsidy",
        "NAV's rules for lønnstilskudd: NAV pays the subsidy to the employer",
    )


class NavFollowUpFlow(Section):
    """``[public_finances.nav_follow_up]``: NAV's follow-up and measures after the programme.

    For every week unemployed after the programme without a specialist: the time
    ``after_programme.nav_follow_up_hours`` at an advisor's cost (``costs.specialist_nok_per_year``
    over a full-time year), and a labour-market measure for ``measure_share`` of them.
    """

    payer: Payer = _payer(
        "nav",
        "Who pays NAV's follow-up and measures",
        "NAV Act: NAV follows up job seekers and runs the labour-market measures from the "
        "state budget",
    )
    measure_share: float = param(
        0.3,
        "share 0-1",
        "Share of unemployed former participants in a NAV labour-market measure in a week",
        "assumption: Statistics Norway (introinnv) counts 'registered unemployed or on a "
        "measure' together, about one in eight former participants a year after the "
        "programme; about a third of them on a measure",
        plausible=(0.1, 0.6),
        ge=0,
        le=1,
    )
    measure_nok_per_week: float = param(
        2_500.0,
        "NOK/week",
        "Cost of one participant-week in a labour-market measure (course, work training)",
        "assumption: NAV's measures for job seekers cost of the order of 100,000 to 150,000 "
        "NOK a place-year",
        plausible=(1_000.0, 5_000.0),
        ge=0,
        le=100_000,
    )


class SpecialistsFlow(Section):
    """``[public_finances.specialists]``: programme advisors and job specialists.

    Each participant is charged the cost of the caseload slot they occupy
    (``costs.specialist_nok_per_year`` over the caseload cap), in the programme and in
    after-follow-up.
    """

    payer: Payer = _payer(
        "municipality",
        "Who pays the advisors and job specialists",
        "Integration Act 2021 § 12 and IMDi's guide to it (ch. 6): the municipality is "
        "responsible for the programme even where others (NAV, a project) do the work; set "
        "'nav' or 'state' where they pay the specialists",
    )


class TeachingFlow(Section):
    """``[public_finances.teaching]``: training in Norwegian and social studies.

    Each participant-hour of the method's ``training_hours`` (in the programme, also
    alongside a part-time job) costs a teacher's hour shared by the class.
    """

    payer: Payer = _payer(
        "municipality",
        "Who pays the teachers",
        "Integration Act 2021: the municipality provides training in Norwegian and social studies",
    )
    teacher_nok_per_year: float = param(
        900_000.0,
        "NOK/FTE-year",
        "Full cost of one teacher: salary, social costs, overhead and rooms",
        "assumption, like costs.specialist_nok_per_year",
        plausible=(700_000.0, 1_200_000.0),
        ge=0,
        le=10_000_000,
    )
    class_hours_per_week: float = param(
        25.0,
        "hours/week",
        "Hours a teacher teaches a class in a week",
        "assumption: most of a teacher's working week is teaching, the rest preparation",
        plausible=(15.0, 30.0),
        gt=0,
        le=FULL_TIME_HOURS,
    )
    class_size: float = param(
        12.0,
        "participants",
        "Participants in a class",
        "assumption: adult classes of about a dozen; with the defaults one participant-hour "
        "costs about 58 NOK (KS notes that the state's grant for the training covers a little "
        "under 70 % of municipalities' costs, KS on the 2023 budget)",
        plausible=(6.0, 20.0),
        ge=1,
        le=1_000,
    )


class IncomeTax(Section):
    """``[public_finances.income_tax]``: tax on participants' earnings and benefit, by the rules.

    Personal income in a run year (weeks 52k to 52k+51) is the gross pay of the year plus the
    introduction benefit; the year's tax is settled in its last week (and the horizon's last
    week for a part year): national insurance contribution, tax on ordinary income (after the
    standard deduction and the personal allowance) and the bracket tax. The municipality
    receives its share of the tax on ordinary income, of which it keeps ``municipal_kept`` after
    income equalisation; the rest goes to ``receiver``.
    """

    receiver: Payer = _payer(
        "state",
        "Who receives the income tax other than the municipality's kept share",
        "Tax Act: the national insurance contribution and the bracket tax go to the state, the "
        "tax on ordinary income is shared by state (fellesskatt), county and municipality; "
        "county and other municipalities are counted with the state",
    )
    ordinary_rate: float = param(
        0.22,
        "share 0-1",
        "Tax rate on ordinary income",
        "Finansdepartementet, Skattesatser 2024",
        kernel="tax_ordinary_rate",
        ge=0,
        le=1,
    )
    municipal_rate: float = param(
        0.1155,
        "share 0-1",
        "The municipal part of that rate (the municipal skattøre)",
        "statsbudsjettet.no, 'Kommunale skattører' 2019: 11.55 % of ordinary income to the "
        "municipality, 2.60 % to the county, the rest to the state (the latest year this "
        "project found a source for; it is set each year)",
        kernel="tax_municipal_rate",
        ge=0,
        le=1,
    )
    municipal_kept: float = param(
        0.4,
        "share 0-1",
        "Share of its tax income a municipality keeps after income equalisation",
        "the income equalisation of the municipalities' revenue system evens out 60 % of a "
        "municipality's difference from the national average tax income per inhabitant "
        "(35 % more below 90 % of it): an extra krone of tax leaves the municipality about 40 "
        "øre, the rest goes to other municipalities (Kommunal- og distriktsdepartementet, "
        "Grønt hefte)",
        kernel="tax_municipal_kept",
        plausible=(0.05, 1.0),
        ge=0,
        le=1,
    )
    standard_deduction_rate: float = param(
        0.46,
        "share 0-1",
        "Standard deduction (minstefradrag) as a share of personal income",
        "Finansdepartementet, Skattesatser 2024",
        kernel="tax_deduction_rate",
        ge=0,
        le=1,
    )
    standard_deduction_max: float = param(
        92_000.0,
        "NOK/year",
        "Largest standard deduction",
        "Finansdepartementet, Skattesatser 2024",
        kernel="tax_deduction_max",
        ge=0,
        le=10_000_000,
    )
    personal_allowance: float = param(
        88_250.0,
        "NOK/year",
        "Personal allowance (personfradrag) in ordinary income",
        "Finansdepartementet, Skattesatser 2024 (88,250 NOK)",
        kernel="tax_personal_allowance",
        ge=0,
        le=10_000_000,
    )
    social_security_rate: float = param(
        0.078,
        "share 0-1",
        "National insurance contribution (trygdeavgift) on wage income",
        "Finansdepartementet, Skattesatser 2024 (7.8 %); the introduction benefit is taxed "
        "with it (Prop. 3 L (2016-2017) ch. 2: tax and the contribution are withheld from it)",
        kernel="tax_social_rate",
        ge=0,
        le=1,
    )
    social_security_floor: float = param(
        69_650.0,
        "NOK/year",
        "Personal income below which no national insurance contribution is paid",
        "Finansdepartementet, Skattesatser 2024",
        kernel="tax_social_floor",
        ge=0,
        le=10_000_000,
    )
    social_security_taper: float = param(
        0.25,
        "share 0-1",
        "The contribution is at most this share of the income above the floor",
        "Finansdepartementet, Skattesatser 2024 (opptrappingssats 25 %)",
        kernel="tax_social_taper",
        ge=0,
        le=1,
    )
    bracket_thresholds: tuple[Nok, Nok, Nok, Nok, Nok] = param(
        (208_050.0, 292_850.0, 670_000.0, 937_900.0, 1_350_000.0),
        "NOK/year",
        "Personal income at which each step of the bracket tax (trinnskatt) starts",
        "Finansdepartementet, Skattesatser 2024",
        kernel="tax_bracket_from",
    )
    bracket_rates: tuple[Share, Share, Share, Share, Share] = param(
        (0.017, 0.04, 0.136, 0.166, 0.176),
        "share 0-1",
        "Rate of each step of the bracket tax",
        "Finansdepartementet, Skattesatser 2024",
        kernel="tax_bracket_rate",
    )

    @field_validator("bracket_thresholds")
    @classmethod
    def _rising(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(b < a for a, b in itertools.pairwise(v)):
            raise ValueError(f"thresholds that do not fall, found {list(v)}")
        return v

    @model_validator(mode="after")
    def _municipal_part_of_the_rate(self) -> IncomeTax:
        if self.municipal_rate > self.ordinary_rate:
            raise ValueError(
                f"municipal_rate: at most ordinary_rate ({self.ordinary_rate}), "
                f"found {self.municipal_rate}"
            )
        return self


class EmployerContributions(Section):
    """``[public_finances.employer_contributions]``: the employer's social security contribution.

    A job's wage (``labour_market.sectors.weekly_wage_nok``, spread by employer) is its wage
    cost: gross pay is the wage cost over (1 + ``rate``), and the contribution is ``rate`` times
    gross pay, for the hours worked.
    """

    receiver: Payer = _payer(
        "state",
        "Who receives the employer's contribution",
        "National Insurance Act: the employer's contribution (arbeidsgiveravgift) goes to the "
        "state",
    )
    rate: float = param(
        0.141,
        "share of gross pay 0-1",
        "Employer's contribution rate",
        "Finansdepartementet, Skattesatser 2024: 14.1 % in zone I (lower in the rural zones "
        "II-V, down to 0 %)",
        kernel="employer_contribution_rate",
        ge=0,
        le=1,
    )


class PublicFinances(Section):
    """``[public_finances]``: the ledger of public flows by payer, and how it is discounted.

    Each flow is a block with its payer (and receiver, for a transfer between public bodies),
    its rule and its rates; the present value per participant discounts every week's flows to
    the start of the run.
    """

    discount_rate: float = param(
        0.04,
        "per year, real",
        "Discount rate for present values",
        "Ministry of Finance, circular R-109/2021 (principles and requirements for "
        "socio-economic analyses): a real, risk-adjusted rate of 4 % a year for the first 40 "
        "years; the 4 % rate has stood since the 2005 guide (Finansdepartementet, press release "
        "59/2005)",
        ge=0,
        le=0.2,
    )
    introduction_benefit: IntroductionBenefitFlow = Field(
        default_factory=IntroductionBenefitFlow,
        description="The introduction benefit",
        json_schema_extra={"unit": "table"},
    )
    integration_grant: IntegrationGrantFlow = Field(
        default_factory=IntegrationGrantFlow,
        description="The state's integration grant to the municipality",
        json_schema_extra={"unit": "table"},
    )
    social_assistance: SocialAssistanceFlow = Field(
        default_factory=SocialAssistanceFlow,
        description="Economic social assistance for those without work, benefit or education",
        json_schema_extra={"unit": "table"},
    )
    wage_subsidy: WageSubsidyFlow = Field(
        default_factory=WageSubsidyFlow,
        description="The wage subsidy paid to employers",
        json_schema_extra={"unit": "table"},
    )
    nav_follow_up: NavFollowUpFlow = Field(
        default_factory=NavFollowUpFlow,
        description="NAV's follow-up and measures after the programme",
        json_schema_extra={"unit": "table"},
    )
    specialists: SpecialistsFlow = Field(
        default_factory=SpecialistsFlow,
        description="Programme advisors and job specialists",
        json_schema_extra={"unit": "table"},
    )
    teaching: TeachingFlow = Field(
        default_factory=TeachingFlow,
        description="Training in Norwegian and social studies",
        json_schema_extra={"unit": "table"},
    )
    income_tax: IncomeTax = Field(
        default_factory=IncomeTax,
        description="Income tax on earnings and the introduction benefit",
        json_schema_extra={"unit": "table"},
    )
    employer_contributions: EmployerContributions = Field(
        default_factory=EmployerContributions,
        description="The employer's social security contribution on earnings",
        json_schema_extra={"unit": "table"},
    )


# --------------------------------------------------------------------------- municipality
MAX_MUNICIPAL_POPULATION = 2_000_000
"""Largest count of residents or jobs of one municipality (Oslo has about 720 000 residents)."""

SUPPRESSED_CELL_PERSONS = 2.5
"""Persons counted for each settlement cell IMDi withholds (cells of 1-4 persons): the
midpoint, an assumption; the profile's settled figures are lower bounds without it."""
MUNICIPAL_INTAKE_WEEKS = 52
"""Weeks over which a municipality's yearly settlement arrives: IMDi's figures are per calendar
year, so its cohort arrives evenly over one year (an assumption about the timing within it)."""
JOBS_PER_RESIDENT = 0.5056
"""Jobs per resident where a profile lacks a municipality's jobs (Ålesund and Haram in
norway_2023.csv): 2 771 249 jobs by workplace / 5 481 383 residents over the 354 municipalities
with both figures (SSB table 11616 Q4 2022; SSB table 07459, 1 January 2024)."""

PRACTICE_PATHS: tuple[str, ...] = (
    "follow_up.method",
    "follow_up.caseload",
    "follow_up.skill_mean",
    "wage_subsidy.rate",
)
"""Programme practice: what a municipality decides itself (method, caseload, specialist skill,
subsidy use), as opposed to its context (intake and labour market, ``[municipality]``). Each is
an ordinary field with its default; a panel may spread them across municipalities within the
ranges it declares (by default the fields' plausible ranges)."""


class Municipality(Section):
    """``[municipality]``: the municipality whose context a run takes, from a profile file.

    Name a profile file and a municipality number; the loader reads the row and fills in
    the rest of this table, the cohort's size, intake weeks and sex, and the run then takes
    its employers from ``local_jobs`` and its outside competition from ``employment_rate``
    (see :mod:`introsim.params.municipal_context`). Programme practice is not here.
    """

    profile: str | None = param(
        None,
        "file",
        "Municipal profile file such as ../municipalities/norway_2023.csv, relative to the "
        "scenario file that names it",
        max_length=1000,
    )
    code: str | None = param(
        None,
        "municipality number",
        "Four-digit municipality number of the profile's row, such as '0301' (Oslo)",
        pattern=r"^\d{4}$",
    )
    name: str = param(
        "",
        "text",
        "The municipality's name (filled from the profile)",
        max_length=MAX_NAME_LENGTH,
    )
    settled: int | None = param(
        None,
        "persons",
        "Refugees settled in the profile's year, suppressed cells counted at their midpoint "
        "(filled from the profile; IMDi)",
        ge=0,
        le=MAX_COHORT,
    )
    participants_per_settled: float = param(
        0.53,
        "participants per settled refugee",
        "Programme participants who start per refugee settled (the rest are children, older "
        "people or exempt); the cohort's size is settled × this",
        "17 699 started the programme in 2023 (IMDi, 'Nøkkeltall for introduksjonsprogrammet "
        "2023') / 33 420 settled in 2023 (municipalities/norway_2023.csv)",
        gt=0,
        le=1,
    )
    local_jobs: int | None = param(
        None,
        "jobs",
        "Employed persons whose workplace is in the municipality (filled from the profile: "
        "SSB table 11616, Q4 2022); set = employers come from it, not from the cohort's size",
        ge=1,
        le=MAX_MUNICIPAL_POPULATION,
    )
    employment_rate: float | None = param(
        None,
        "share 0-1",
        "Employed residents 15-74 / residents 15-74 (filled from the profile: SSB table 11616, "
        "Q4 2022); set = outside competition from it",
        ge=0,
        le=1,
    )
    centrality_index: int | None = param(
        None,
        "index points 0-1000",
        "SSB's centrality index (filled from the profile); shown, not used by the model",
        ge=0,
        le=1000,
    )

    _name_printable = field_validator("name")(lambda cls, v: _printable(v) if v else v)


# --------------------------------------------------------------------------- the whole
class Scenario(Section):
    """A whole scenario: one municipality's programme and labour market."""

    scenario: ScenarioMeta = Field(default_factory=ScenarioMeta)
    cohort: Cohort = Field(default_factory=Cohort)
    labour_market: LabourMarket = Field(default_factory=LabourMarket)
    follow_up: FollowUp = Field(default_factory=FollowUp)
    methods: Methods = Field(default_factory=Methods)
    wage_subsidy: WageSubsidy = Field(default_factory=WageSubsidy)
    programme: Programme = Field(default_factory=Programme)
    after_programme: AfterProgramme = Field(default_factory=AfterProgramme)
    mechanisms: Mechanisms = Field(default_factory=Mechanisms)
    costs: Costs = Field(default_factory=Costs)
    public_finances: PublicFinances = Field(default_factory=PublicFinances)
    municipality: Municipality = Field(default_factory=Municipality)

    @model_validator(mode="after")
    def _fits_the_cohort(self) -> Scenario:
        # The message starts with the field at fault, so the loader can place it.
        if self.cohort.intake_weeks > self.scenario.weeks:
            raise ValueError(
                f"cohort.intake_weeks: at most scenario.weeks ({self.scenario.weeks}; arrivals "
                f"after the horizon are never observed), found {self.cohort.intake_weeks}"
            )
        c = self.cohort
        men, women = sum(c.men_by_age), sum(c.women_by_age)
        if men + women <= 0:
            raise ValueError("cohort.women_by_age: some participant in the table, found all zero")
        need_men = c.share_female is None or c.share_female < 1
        need_women = c.share_female is None or c.share_female > 0
        if c.share_female is not None and ((need_men and men <= 0) or (need_women and women <= 0)):
            raise ValueError(
                f"cohort.share_female: a share the table can give (men_by_age or women_by_age "
                f"is all zero), found {c.share_female}"
            )
        staff = self.follow_up.specialists
        if staff is not None and staff > self.cohort.size:
            raise ValueError(
                f"follow_up.specialists: at most cohort.size ({self.cohort.size}), found {staff}"
            )
        return self

    def digest(self) -> str:
        """Return a SHA-256 hex digest of the resolved scenario (stable across runs)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """Return a validated copy with dotted-path overrides, e.g. ``{"follow_up.caseload": 10}``.

        Args:
            overrides: Mapping of dotted field paths to new values.

        Returns:
            A new, validated scenario.

        Raises:
            ScenarioError: The values do not make a valid scenario; worded as the
                command line words the same values in a file (it is also pydantic's
                ``ValidationError``, see :class:`~introsim.params.loader.OverrideError`).
        """
        from pydantic import ValidationError

        from introsim.params.loader import override_error

        data = self.model_dump(mode="python")
        for path, value in overrides.items():
            node = data
            *parents, leaf = path.split(".")
            for depth, key in enumerate(parents):
                node = node.setdefault(key, {})  # an unknown section is refused below
                if not isinstance(node, dict):
                    from introsim.params.errors import ScenarioError

                    raise ScenarioError(
                        "overrides",
                        f"{path}: {'.'.join(parents[: depth + 1])} is a value, not a section",
                    )
            node[leaf] = value
        try:
            return Scenario.model_validate(data)
        except ValidationError as exc:
            raise override_error(exc, data) from None


class KernelField(NamedTuple):
    """A scenario field the compiled kernels read: where it is and the name they read it by."""

    path: str  # dotted path in the scenario, e.g. "mechanisms.tie_decay"
    name: str  # field name in the kernels' constants (``world.Params``)
    kind: type  # int, float or tuple (a tuple of numbers becomes a float array)


def kernel_fields() -> tuple[KernelField, ...]:
    """Every scenario field marked ``kernel`` (see :func:`param`), in declaration order.

    Returns:
        One entry per marked field of the scenario's sections and their nested blocks.

    Raises:
        TypeError: A marked field is not an int, a float or a tuple of numbers, or two marked
            fields share a kernel name.
    """
    out: list[KernelField] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            path = f"{prefix}{name}"
            cls = field.annotation
            if isinstance(cls, type) and issubclass(cls, BaseModel):
                walk(cls, f"{path}.")  # a nested block, e.g. [public_finances.income_tax]
                continue
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            mark = extra.get("kernel")
            if not mark:
                continue
            kind = cast(type, typing.get_origin(cls) or cls)
            if kind not in (int, float, tuple):
                raise TypeError(f"{path}: a kernel field must be int, float or a tuple")
            out.append(KernelField(path, name if mark is True else str(mark), kind))

    walk(Scenario, "")
    names = [f.name for f in out]
    if len(set(names)) != len(names):
        raise TypeError(f"two kernel fields share a name: {sorted(names)}")
    return tuple(out)
