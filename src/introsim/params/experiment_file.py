"""Experiment files: the study a sweep or a sensitivity analysis runs, as written.

An experiment file (TOML) names a base scenario, the factors to vary (dotted
scenario paths, see :mod:`introsim.params.factors`) and a design::

    [experiment]
    name = "caseload_subsidy_market"
    question = "How do caseload and wage subsidy interact in a slack market?"
    base = "../scenarios/ips.toml"
    replications = 20
    seed = 20261126
    design = "grid"

    [factors]
    "follow_up.caseload" = { levels = [10, 15, 20] }

:func:`read_experiment` reads and checks everything the file says before any
point is built: each table's fields and bounds, every factor against the schema,
which factors and settings the design needs, and the study's size (design
points, runs and memory). :mod:`introsim.experiments.design` then makes the
design points, each validated as a scenario.

A sensitivity study may name a ``[reference]`` policy: dotted overrides (and an
optional ``name``) applied on top of every point, whose twins run at the same
seeds so the indices describe the paired difference, treatment minus reference.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from introsim.model.ledger import LEDGER_OUTCOMES
from introsim.model.outcomes import OUTCOMES
from introsim.params.catalog import ParamInfo, not_a_parameter, param_info
from introsim.params.document import Name, StrictModel, TomlDocument
from introsim.params.errors import ExperimentError, InputError, first_of
from introsim.params.factors import Factor, parse_factors
from introsim.params.limits import POINT_BYTES, RUN_ROW_BYTES, check_size, count
from introsim.params.loader import load_scenario_with
from introsim.params.paths import Loc, flatten, split
from introsim.params.schema import MAX_SEED
from introsim.params.text import check_name

__all__ = [
    "DESIGNS",
    "DUMMY",
    "SENSITIVITY_DESIGNS",
    "ExperimentFile",
    "ExperimentMeta",
    "ListPoint",
    "ReferenceSpec",
    "read_experiment",
    "sample_rows",
]

SENSITIVITY_DESIGNS: tuple[str, ...] = ("morris", "sobol", "delta")
DESIGNS: tuple[str, ...] = ("grid", "oat", "lhs", "list", *SENSITIVITY_DESIGNS)
DUMMY = "dummy"
"""Name of the factor the model ignores (its index is the noise floor)."""
STUDY_OUTCOMES: tuple[str, ...] = (*OUTCOMES, *LEDGER_OUTCOMES)
"""Outcomes a study may name: every run outcome, the public-finance ledger's included."""
MAX_POINTS_LISTED = 10_000
"""Most ``[[points]]`` a list design may write out."""


class ExperimentMeta(StrictModel):
    """``[experiment]``: what is run and why."""

    name: Name = Field(description="Short name of the experiment")
    question: str = Field(
        min_length=1, max_length=1_000, description="The question it answers, in one sentence"
    )
    base: str = Field(min_length=1, description="Base scenario file, relative to this file")
    replications: int = Field(
        ge=2, le=10_000, description="Replicates per design point (common random numbers)"
    )
    seed: int = Field(ge=0, le=MAX_SEED, description="Root seed of the replicates")
    design: Literal["grid", "oat", "lhs", "list", "morris", "sobol", "delta"] = Field(
        description="How points are chosen"
    )
    samples: int | None = Field(
        default=None,
        ge=2,
        le=100_000,
        description="Points of a Latin hypercube (lhs, delta) or N of a Sobol sample",
    )
    trajectories: int | None = Field(
        default=None, ge=2, le=10_000, description="Morris trajectories (morris only)"
    )
    morris_levels: int = Field(
        default=4, ge=2, le=100, description="Grid levels of the Morris sample (even)"
    )
    second_order: bool = Field(
        default=False, description="Also estimate second-order Sobol indices (sobol only)"
    )
    dummy: bool = Field(
        default=True, description="Add a dummy factor whose index is the noise floor"
    )
    resamples: int = Field(
        default=200, ge=10, le=100_000, description="Bootstrap resamples of the intervals"
    )
    design_seed: int | None = Field(
        default=None, ge=0, le=MAX_SEED, description="Seed of the Latin hypercube (default: seed)"
    )
    outcomes: list[str] = Field(
        default=["employed_12m", "employed_60m", "cost_per_participant_nok"],
        min_length=1,
        max_length=len(STUDY_OUTCOMES),
        description="Outcomes the report shows first",
    )

    @model_validator(mode="after")
    def _check(self) -> ExperimentMeta:
        unknown = [o for o in self.outcomes if o not in STUDY_OUTCOMES]
        if unknown:
            valid = ", ".join(STUDY_OUTCOMES)
            raise ValueError(f"unknown outcome {unknown[0]!r}; valid: {valid}")
        if len(set(self.outcomes)) < len(self.outcomes):
            raise ValueError("outcomes: an outcome is named twice")
        d = self.design
        if d in ("lhs", "delta") and self.samples is None:
            raise ValueError(f"an {d} design needs samples (the number of points)")
        if d == "sobol" and self.samples is None:
            raise ValueError("a sobol design needs samples (N, a power of two)")
        if d == "sobol" and self.samples is not None and self.samples & (self.samples - 1):
            raise ValueError(f"a sobol design needs samples a power of two, found {self.samples}")
        if d not in ("lhs", "delta", "sobol") and self.samples is not None:
            raise ValueError(f"samples applies to lhs, sobol and delta designs, not {d}")
        if d == "morris" and self.trajectories is None:
            raise ValueError("a morris design needs trajectories")
        if d != "morris" and self.trajectories is not None:
            raise ValueError(f"trajectories applies to morris designs only, not {d}")
        if self.morris_levels % 2:
            raise ValueError(f"morris_levels must be even, found {self.morris_levels}")
        if self.second_order and d != "sobol":
            raise ValueError(f"second_order applies to sobol designs only, not {d}")
        if d in SENSITIVITY_DESIGNS and self.seed == 0:
            raise ValueError(
                "seed: at least 1 for a sensitivity design (SALib's analyses take 0 as no "
                "seed, so their intervals would differ from run to run), found 0"
            )
        return self

    @property
    def sample_seed(self) -> int:
        """The seed of the Latin hypercube or SALib sample."""
        return self.design_seed if self.design_seed is not None else self.seed


@dataclass(frozen=True)
class ListPoint:
    """One ``[[points]]`` table of a list design.

    Attributes:
        label: Its ``name``, or None to label it by its overrides.
        overrides: Dotted path mapped to value.
        infos: The schema's description of each parameter it sets.
        loc: Where the file writes it.
    """

    label: str | None
    overrides: dict[str, Any]
    infos: dict[str, ParamInfo]
    loc: Loc


@dataclass(frozen=True)
class ReferenceSpec:
    """The ``[reference]`` table of a contrast study.

    Attributes:
        name: What the reference is called in tables and reports.
        overrides: Dotted path mapped to value, applied on top of each point's own.
    """

    name: str
    overrides: dict[str, Any]


@dataclass(frozen=True)
class ExperimentFile:
    """An experiment file, read and checked; the points are not built yet.

    Attributes:
        doc: The file.
        meta: Its ``[experiment]`` table.
        base_path: The base scenario file.
        factors: The factors in file order.
        points: The ``[[points]]`` of a list design.
        sets: Overrides of the base scenario from the command line (``--set``).
        reference: The ``[reference]`` of a contrast study, or None.
    """

    doc: TomlDocument
    meta: ExperimentMeta
    base_path: Path
    factors: list[Factor]
    points: list[ListPoint] = field(default_factory=list)
    sets: dict[str, Any] = field(default_factory=dict)
    reference: ReferenceSpec | None = None

    @property
    def path(self) -> Path:
        """The experiment file."""
        return self.doc.path

    @property
    def ranged(self) -> list[Factor]:
        """The factors given as ranges, in file order."""
        return [f for f in self.factors if f.spec.levels is None]

    @property
    def categories(self) -> list[Factor]:
        """The factors given as levels, in file order."""
        return [f for f in self.factors if f.spec.levels is not None]

    @property
    def strata(self) -> int:
        """Combinations of category levels a sensitivity sample is run at."""
        return math.prod(len(f.spec.levels or ()) for f in self.categories)

    @property
    def groups(self) -> list[str]:
        """The variables a sensitivity method ranks: groups (or ranged factors), the dummy last."""
        names = [f.spec.group or f.name for f in self.ranged]
        return [*dict.fromkeys(names), *([DUMMY] if self.meta.dummy else [])]

    def size(self) -> tuple[int, str]:
        """Design points (the base included) and how that number comes about, in words."""
        meta, d = self.meta, self.meta.design
        if d == "grid":
            levels = [len(f.spec.levels or ()) for f in self.factors]
            how = " × ".join(map(str, levels)) + " levels" if levels else "no factors"
            return 1 + math.prod(levels), how
        if d == "oat":
            return 1 + sum(len(f.spec.levels or ()) for f in self.factors), "levels one at a time"
        if d == "lhs":
            return 1 + int(meta.samples or 0), f"{count(meta.samples or 0)} samples"
        if d == "list":
            return 1 + len(self.points), "listed points"
        n = meta.trajectories if d == "morris" else meta.samples
        rows = sample_rows(d, len(self.groups), int(n or 0), meta.second_order)
        strata = f" at {self.strata} combinations of levels" if self.strata > 1 else ""
        return 1 + rows * self.strata, f"{count(rows)} sample rows of {d}{strata}"


def sample_rows(method: str, variables: int, n: int, second_order: bool = False) -> int:
    """Rows of a SALib sample: ``n`` trajectories (Morris), base size ``n`` (Sobol) or ``n``.

    Args:
        method: ``morris``, ``sobol`` or ``delta``.
        variables: Variables the method ranks (groups where given, the dummy included).
        n: Trajectories (Morris), base sample size N (Sobol) or rows (delta).
        second_order: Sobol: with the rows second-order indices need.
    """
    if method == "sobol":
        return n * (2 * variables + 2 if second_order else variables + 2)
    if method == "morris":
        return n * (variables + 1)
    return n


def read_experiment(
    path: str | os.PathLike[str], overrides: dict[str, Any] | None = None
) -> ExperimentFile:
    """Read an experiment file and check everything it says before any point is built.

    Args:
        path: The experiment TOML file.
        overrides: Dotted-path overrides of the base scenario (``--set``).

    Returns:
        The file, read and checked.

    Raises:
        InputError: One line naming the file, line and dotted field of the first
            problem (an error in the base scenario names that file).
    """
    doc = TomlDocument.read(path, error=ExperimentError, what="experiment file")
    doc.check_sections(["experiment"], ["factors", "points", "reference"])
    try:
        meta = doc.validate(ExperimentMeta, ("experiment",))
    except InputError as exc:
        try:  # the factors' problems too, so that validate lists them at once
            parse_factors(doc, "factors")
        except InputError as more:
            raise first_of([exc, more]) from None
        raise
    base_path = doc.file(("experiment", "base"), "base scenario")
    sets = dict(overrides or {})
    if sets:
        load_scenario_with(base_path, sets, source="--set")
    factors = parse_factors(doc, "factors")
    reference = _reference(doc, meta, factors)
    points_ = _list_points(doc, meta)
    exp = ExperimentFile(doc, meta, base_path, factors, points_, sets, reference)
    _check_design(exp)
    points, how = exp.size()
    if reference is not None:  # every point also runs as its reference twin
        points, how = 2 * points, f"{how}, each with its reference twin"
    runs = points * meta.replications
    check_size(
        doc,
        ("experiment", "design"),
        points=points,
        runs=runs,
        memory=points * POINT_BYTES + runs * RUN_ROW_BYTES,
        why=how,
        repeats=f" × {count(meta.replications)} replications",
    )
    return exp


def _check_design(exp: ExperimentFile) -> None:
    """Refuse factors and settings the design cannot use, and designs SALib cannot analyse."""
    doc, d = exp.doc, exp.meta.design
    if d != "list" and not exp.factors:
        doc.fail(("factors",), f"a {d} design needs at least one factor")
    if d == "list" and "points" not in doc.data:
        doc.fail(("points",), "a list design needs [[points]] tables")
    if d != "list" and "points" in doc.data:
        doc.fail(("points",), f"[[points]] apply to list designs only, not {d}")
    if d in ("grid", "oat"):
        for f in exp.ranged:
            doc.fail(f.loc, f"a {d} design needs levels")
    if d not in SENSITIVITY_DESIGNS:
        return
    for f in exp.categories:
        if f.info.kind not in ("category", "bool"):
            doc.fail(
                f.loc,
                f"a {d} design samples {f.name} over a range: give min and max "
                "(levels are for categories, analysed one level at a time)",
            )
    if not exp.ranged:
        doc.fail(("factors",), f"a {d} design needs a factor with a range")
    if d == "delta" and any(f.spec.group for f in exp.ranged):
        doc.fail(("factors",), "the delta method has no groups; remove group = ...")
    if d == "sobol" and len(exp.groups) < 2:
        doc.fail(
            ("factors",),
            "a sobol design needs at least two variables to share the variance between: "
            "the factors are all in one group and there is no dummy (set dummy = true, or "
            "give the factors more than one group)",
        )


def _reference(
    doc: TomlDocument, meta: ExperimentMeta, factors: list[Factor]
) -> ReferenceSpec | None:
    """The ``[reference]`` table: a name and dotted overrides no factor also varies."""
    raw = doc.at(("reference",))
    if raw is None:
        return None
    if meta.design not in SENSITIVITY_DESIGNS:
        doc.fail(
            ("reference",),
            f"[reference] applies to {', '.join(SENSITIVITY_DESIGNS)} designs, not {meta.design}",
        )
    if not isinstance(raw, dict):
        doc.fail(("reference",), "expected a table of dotted overrides")
    item = dict(raw)
    name = item.pop("name", "reference")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        doc.fail(("reference", "name"), "expected a name of 1 to 100 characters")
    try:
        check_name(name)
    except ValueError as exc:
        doc.fail(("reference", "name"), f"expected {exc}")
    overrides = flatten(item)
    if not overrides:
        doc.fail(
            ("reference",),
            'expected at least one dotted override, e.g. "follow_up.method" = "standard"',
        )
    varied = {f.name for f in factors}
    for key in overrides:
        loc: Loc = ("reference", *split(key))
        if param_info(key) is None:
            doc.fail(loc, not_a_parameter(key))
        if key in varied:
            doc.fail(
                loc,
                f"{key} is also a factor; the reference may only set what the factors do not vary",
            )
    return ReferenceSpec(name, overrides)


def _list_points(doc: TomlDocument, meta: ExperimentMeta) -> list[ListPoint]:
    """The ``[[points]]`` of a list design, each a parameter path mapped to a value."""
    raw = doc.at(("points",))
    if raw is None or meta.design != "list":
        return []
    if not isinstance(raw, list) or not raw:
        doc.fail(("points",), "expected one or more [[points]] tables")
    if len(raw) > MAX_POINTS_LISTED:
        doc.fail(("points",), f"at most {count(MAX_POINTS_LISTED)} [[points]], found {len(raw)}")
    points = []
    for k, item in enumerate(raw):
        loc: Loc = ("points", k)
        if not isinstance(item, dict):
            doc.fail(loc, "expected a table")
        item = dict(item)
        name = item.pop("name", None)
        if name is not None:
            if not isinstance(name, str) or not name:
                doc.fail((*loc, "name"), "expected a non-empty string")
            try:
                check_name(name)
            except ValueError as exc:
                doc.fail((*loc, "name"), f"expected {exc}")
        overrides = flatten(item)
        infos = {}
        for dotted in overrides:
            info = param_info(dotted)
            if info is None:
                doc.fail(loc, not_a_parameter(dotted))
            infos[dotted] = info
        points.append(ListPoint(name, overrides, infos, loc))
    return points
