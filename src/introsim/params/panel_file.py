"""Panel files: every municipality of a profile file under one or more policies.

A panel file (TOML) names a municipal profile file, the policies to run in every
municipality (scenario files; the first is the reference each gain is measured
against), how many replicates, the spread of programme practice between
municipalities, and the targets a municipality is measured against::

    [panel]
    name = "national"
    question = "Why do municipalities differ, and what could each gain?"
    profile = "norway_2023.csv"
    min_settled = 1
    replications = 30
    seed = 20261207

    [[policy]]
    name = "today"
    scenario = "../scenarios/baseline.toml"

    [[policy]]
    name = "ips_15"
    scenario = "../scenarios/ips_caseload_15.toml"

    [practice]
    "follow_up.caseload" = [15, 35]

:func:`load_panel` reads it with every policy's scenario and checks everything
before the first run: each field's bounds, the profile file (its own errors name
its line and column), that at least one municipality is left after the filter,
that every practice path is a practice field and its range inside the field's
bounds, and the study's size. :mod:`introsim.experiments.panel` runs it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from introsim.params.document import Name, StrictModel, TomlDocument
from introsim.params.errors import InputError, PanelError
from introsim.params.limits import RUN_ROW_BYTES, check_size
from introsim.params.loader import load_scenario, load_scenario_data
from introsim.params.municipal_context import cached_profiles, cohort_size, with_profile
from introsim.params.municipalities import MunicipalityProfile, ObservedOutcome, load_observed
from introsim.params.paths import get, split
from introsim.params.schema import MAX_SEED, PRACTICE_PATHS, Scenario

__all__ = [
    "MAX_POLICIES",
    "PanelMeta",
    "PanelSpec",
    "PolicyEntry",
    "Targets",
    "load_panel",
]

MAX_POLICIES = 20
"""Most policies a panel runs in every municipality."""
MAX_PANEL_REPLICATIONS = 1_000
"""Most replicates per municipality and policy."""

Code = Annotated[str, Field(pattern=r"^\d{4}$")]


class PanelMeta(StrictModel):
    """``[panel]``: the municipalities, replicates and seed."""

    name: Name = Field(description="Short name of the panel (its default folder)")
    question: str = Field(
        min_length=1, max_length=1_000, description="The question it answers, in one sentence"
    )
    profile: str = Field(min_length=1, description="Municipal profile file, relative to this file")
    min_settled: int = Field(
        default=1,
        ge=0,
        le=1_000_000,
        description="Run only municipalities that settled at least this many refugees",
    )
    codes: list[Code] | None = Field(
        default=None,
        min_length=1,
        max_length=1_000,
        description="Run only these municipality numbers (default: every one of the profile)",
    )
    observed: str | None = Field(
        default=None,
        min_length=1,
        description="Observed results by municipality (observed_2023.csv's columns), shown "
        "beside the model's for comparison only, never fitted; relative to this file",
    )
    replications: int = Field(
        ge=2, le=MAX_PANEL_REPLICATIONS, description="Replicates per municipality and policy"
    )
    seed: int = Field(ge=0, le=MAX_SEED, description="Root seed of the replicates and practice")


class PolicyEntry(StrictModel):
    """``[[policy]]``: a scenario run in every municipality."""

    name: Name = Field(description="Short name shown in tables and charts")
    scenario: str = Field(min_length=1, description="Scenario file, relative to this file")


class Targets(StrictModel):
    """``[targets]``: the shares a municipality is measured against."""

    at_exit: float = Field(
        default=0.55,
        gt=0,
        lt=1,
        description="Share in work or education straight after the programme (the "
        "Ministry's target for the introduction programme: 55 %)",
    )
    after_12m: float = Field(
        default=0.70,
        gt=0,
        lt=1,
        description="Share in work or education a year after (the Ministry's target: 70 %)",
    )


class _Range(StrictModel):
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if self.low > self.high:
            raise ValueError(
                f"expected [low, high] with low <= high, found [{self.low}, {self.high}]"
            )
        return self


@dataclass(frozen=True)
class PanelSpec:
    """A panel file, resolved: its tables, its policies and its municipalities.

    Attributes:
        path: The panel file.
        meta: ``[panel]``.
        policies: The ``[[policy]]`` entries, reference first.
        scenarios: Each policy's scenario as written (no municipality yet).
        policy_paths: Each policy's scenario file.
        own_practice: Per policy, the practice paths its scenario file sets itself
            (they win over a municipality's drawn practice).
        practice: Practice paths mapped to the (low, high) range municipalities spread over.
        targets: ``[targets]``.
        profile_path: The profile file.
        municipalities: The profile rows run, in file order.
        observed: Observed results of the municipalities run (comparison only), if given.
    """

    path: Path
    meta: PanelMeta
    policies: tuple[PolicyEntry, ...]
    scenarios: tuple[Scenario, ...]
    policy_paths: tuple[Path, ...]
    own_practice: tuple[frozenset[str], ...]
    practice: dict[str, tuple[float, float]]
    targets: Targets
    profile_path: Path
    municipalities: tuple[MunicipalityProfile, ...]
    observed: tuple[ObservedOutcome, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The policies' names, reference first."""
        return tuple(p.name for p in self.policies)

    def fingerprint(self) -> str:
        """A hash of what decides the runs (not the replicates: more extend the stored runs)."""
        data = {
            "policies": [
                [p.name, sc.digest()] for p, sc in zip(self.policies, self.scenarios, strict=True)
            ],
            "practice": {k: list(v) for k, v in sorted(self.practice.items())},
            "municipalities": [m.model_dump() for m in self.municipalities],
            "seed": self.meta.seed,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        """The panel as data for the manifest."""
        return {
            "file": str(self.path),
            **self.meta.model_dump(),
            "profile_path": str(self.profile_path),
            "policies": [
                {"name": p.name, "scenario": str(path), "digest": sc.digest()}
                for p, path, sc in zip(
                    self.policies, self.policy_paths, self.scenarios, strict=True
                )
            ],
            "practice": {k: list(v) for k, v in self.practice.items()},
            "targets": self.targets.model_dump(),
            "municipalities": len(self.municipalities),
        }

    def scenario_for(
        self, policy: int, row: MunicipalityProfile, practice: dict[str, Any]
    ) -> Scenario:
        """Policy ``policy`` in municipality ``row`` with that municipality's drawn practice.

        The policy's own settings of a practice path win over the municipality's practice.
        """
        sc = with_profile(self.scenarios[policy], row, self.meta.profile)
        own = self.own_practice[policy]
        kept = {k: v for k, v in practice.items() if k not in own}
        return sc.with_overrides(kept) if kept else sc


def _practice_bounds(path: str) -> tuple[float, float, bool]:
    """The schema's bounds of a numeric practice field and whether it is an integer."""
    from introsim.params.catalog import param_info

    info = param_info(path)
    assert info is not None  # PRACTICE_PATHS are schema fields
    return (
        info.low if info.low is not None else float("-inf"),
        info.high if info.high is not None else float("inf"),
        info.kind == "int",
    )


def load_panel(path: str | os.PathLike[str]) -> PanelSpec:
    """Read a panel file, its profile file and every policy's scenario; check before any run.

    Args:
        path: The panel TOML file.

    Returns:
        The resolved panel.

    Raises:
        InputError: One line naming the file, line and field of the first problem (a
            problem in a scenario or the profile file names that file, line and column).
    """
    doc = TomlDocument.read(path, error=PanelError, what="panel file")
    doc.check_sections(["panel", "policy"], ["practice", "targets"])
    meta = doc.validate(PanelMeta, ("panel",))
    targets = doc.validate(Targets, ("targets",))
    raw = doc.at(("policy",))
    if not isinstance(raw, list) or not raw or not all(isinstance(p, dict) for p in raw):
        doc.fail(("policy",), "expected one or more [[policy]] tables", show_field=False)
    if len(raw) > MAX_POLICIES:
        doc.fail(("policy",), f"at most {MAX_POLICIES} policies, found {len(raw)}")
    policies = [doc.validate(PolicyEntry, ("policy", k)) for k in range(len(raw))]
    seen: dict[str, int] = {}
    for k, p in enumerate(policies):
        if p.name in seen:
            doc.fail(
                ("policy", k, "name"), f"{p.name!r} is also the name of policy {seen[p.name] + 1}"
            )
        seen[p.name] = k
    paths = [doc.file(("policy", k, "scenario"), "scenario file") for k in range(len(policies))]
    scenarios: list[Scenario] = []
    own: list[frozenset[str]] = []
    for k, file in enumerate(paths):
        try:
            sc = load_scenario(file)
        except InputError as exc:
            raise doc.passed_on(("policy", k, "scenario"), exc) from None
        if sc.municipality.code is not None:
            doc.fail(
                ("policy", k, "scenario"),
                f"{file.name} names a [municipality]; a panel's policies are run in every "
                "municipality, so they name none",
            )
        data = load_scenario_data(file)
        own.append(frozenset(p for p in PRACTICE_PATHS if get(data, p, None) is not None))
        scenarios.append(sc)
    practice = _practice(doc)
    profile_path = doc.file(("panel", "profile"), "profile file")
    try:
        table = cached_profiles(profile_path)
    except InputError as exc:
        raise doc.passed_on(("panel", "profile"), exc) from None
    rows = list(table)
    if meta.codes is not None:
        known = table.by_number()
        for j, code in enumerate(meta.codes):
            if code not in known:
                doc.fail(("panel", "codes", j), f"{code!r} is not a municipality of {meta.profile}")
        wanted = set(meta.codes)
        rows = [r for r in rows if r.municipality_number in wanted]
    share = scenarios[0].municipality.participants_per_settled
    rows = [
        r
        for r in rows
        if cohort_size(r, share) > 0 and (r.settled_2023 or 0) >= max(meta.min_settled, 1)
    ]
    if not rows:
        doc.fail(
            ("panel", "min_settled"),
            f"no municipality of {meta.profile} settled at least {meta.min_settled} refugees "
            "in 2023 (among those chosen)",
        )
    observed: tuple[ObservedOutcome, ...] = ()
    if meta.observed is not None:
        observed_path = doc.file(("panel", "observed"), "observed-outcomes file")
        try:
            found = load_observed(observed_path)
        except InputError as exc:
            raise doc.passed_on(("panel", "observed"), exc) from None
        run = {r.municipality_number for r in rows}
        observed = tuple(r for r in found if r.municipality_number in run)
    spec = PanelSpec(
        doc.path,
        meta,
        tuple(policies),
        tuple(scenarios),
        tuple(paths),
        tuple(own),
        practice,
        targets,
        profile_path,
        tuple(rows),
        observed,
    )
    # Every policy in the largest municipality, at both ends of every practice range, is a
    # valid scenario: nothing fails after the first run.
    largest = max(rows, key=lambda r: r.settled_2023 or 0)
    for k in range(len(policies)):
        for end in (0, 1):
            values = {p: _cast(p, rng[end]) for p, rng in practice.items()}
            try:
                spec.scenario_for(k, largest, values)
            except (ValidationError, ValueError) as exc:
                doc.fail(("policy", k, "scenario"), f"in {largest.municipality_name}: {exc}")
    runs = len(rows) * len(policies) * meta.replications
    check_size(
        doc,
        ("panel", "replications"),
        points=len(rows) * len(policies),
        runs=runs,
        memory=runs * RUN_ROW_BYTES,
        why=f"{len(rows)} municipalities × {len(policies)} policies × "
        f"{meta.replications} replicates",
    )
    return spec


def _cast(path: str, value: float) -> float | int:
    """A practice value as its field's type (an integer field gets a whole number)."""
    return round(value) if _practice_bounds(path)[2] else value


def _practice(doc: TomlDocument) -> dict[str, tuple[float, float]]:
    """``[practice]``: practice paths and their ranges; by default none spread."""
    table = doc.at(("practice",), {})
    if not isinstance(table, dict):
        doc.fail(("practice",), "expected a table of practice paths and [low, high] ranges")
    out: dict[str, tuple[float, float]] = {}
    for key, value in _flat(table):
        loc = ("practice", *split(key))
        numeric = [p for p in PRACTICE_PATHS if _numeric(p)]
        if key not in numeric:
            doc.fail(
                loc,
                f"{key!r} is not a numeric practice path; valid: {', '.join(numeric)}",
                show_field=False,
            )
        if not (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            doc.fail(loc, "expected [low, high], two numbers")
        try:
            rng = _Range(low=float(value[0]), high=float(value[1]))
        except ValidationError as exc:
            doc.fail(loc, str(exc.errors()[0]["msg"]).removeprefix("Value error, "))
        low, high, _ = _practice_bounds(key)
        if rng.low < low or rng.high > high:
            doc.fail(loc, f"expected a range within the field's bounds {low:g} to {high:g}")
        out[key] = (rng.low, rng.high)
    return out


def _numeric(path: str) -> bool:
    from introsim.params.catalog import param_info

    info = param_info(path)
    return info is not None and info.kind in ("int", "float")


def _flat(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``{"follow_up": {"caseload": [..]}}`` or ``{"follow_up.caseload": [..]}`` as pairs."""
    out: list[tuple[str, Any]] = []
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(_flat(value, f"{dotted}."))
        else:
            out.append((dotted, value))
    return out
