"""Experiment files and their designs: which scenarios a sweep runs.

An experiment file (TOML) names a base scenario, the factors to vary (dotted
scenario paths, the same as ``Scenario.with_overrides`` and ``--set``) and a
design. The design turns the factors into design points; each point is the
base scenario with a few overrides, validated by the scenario schema exactly as
a scenario file is, so a level outside the schema's bounds is refused before
any run with one line naming the experiment file, the line and the field.

Designs:

* ``grid``: every combination of the factors' levels.
* ``oat``: one factor at a time, each level in turn, the others at the base.
* ``lhs``: a Latin hypercube of ``samples`` points over ``{min, max}`` ranges
  (``scale = "log"`` samples the logarithm); integer parameters are rounded and
  factors given as ``levels`` (categories such as ``follow_up.method``) are
  sampled over their levels with equal shares.
* ``list``: explicit points, each a ``[[points]]`` table.
* ``morris``, ``sobol``, ``delta``: global sensitivity studies. Their points
  are rows of a SALib sample over the factors' ranges: Morris trajectories
  (``trajectories``, ``morris_levels``), a Saltelli/Sobol sample (``samples`` =
  N, a power of two; ``second_order``) or a Latin hypercube for the
  moment-independent delta index (``samples`` rows). A ``dummy`` factor is in
  the sample by default; the model never sees it, it only picks the random
  streams of its row (see :func:`dummy_seed`), so its index is the noise floor.
  Factors given as ``levels`` (categories such as ``follow_up.method``) are not
  sampled: the whole sample is run at each level (each combination of levels),
  and analysed separately within each.

Point 0 is always the base scenario itself, so every point has a paired
difference from the base.

A sensitivity study may name a ``[reference]`` policy: dotted overrides (and an
optional ``name``) applied on top of every point. Each point then also runs as
its reference twin with the same random streams, and the indices describe the
paired difference, treatment minus reference (e.g. IPS minus standard
follow-up in ``employed_12m``) at each sample point.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy.stats import qmc

from introsim.model.ledger import LEDGER_OUTCOMES
from introsim.model.outcomes import OUTCOMES
from introsim.params.catalog import ParamInfo, param_info
from introsim.params.loader import ScenarioError, load_scenario_with, read_toml
from introsim.params.schema import Scenario

__all__ = [
    "DESIGNS",
    "DUMMY",
    "SENSITIVITY_DESIGNS",
    "Design",
    "ExperimentError",
    "ExperimentSpec",
    "Point",
    "Reference",
    "dummy_seed",
    "load_experiment",
    "salib_sample",
]

SENSITIVITY_DESIGNS: tuple[str, ...] = ("morris", "sobol", "delta")
DESIGNS: tuple[str, ...] = ("grid", "oat", "lhs", "list", *SENSITIVITY_DESIGNS)
BASE_POINT = "base"
DUMMY = "dummy"
"""Name of the factor the model ignores (its index is the noise floor)."""


class ExperimentError(ScenarioError):
    """An experiment file could not be read or validated (one line: file, line, field)."""


# --------------------------------------------------------------------------- the file's schema
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class ExperimentMeta(_Strict):
    """``[experiment]``: what is run and why."""

    name: str = Field(min_length=1, max_length=100, description="Short name of the experiment")
    question: str = Field(min_length=1, description="The question it answers, in one sentence")
    base: str = Field(min_length=1, description="Base scenario file, relative to this file")
    replications: int = Field(
        ge=2, le=10_000, description="Replicates per design point (common random numbers)"
    )
    seed: int = Field(ge=0, description="Root seed of the replicates")
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
        default=None, ge=0, description="Seed of the Latin hypercube (default: seed)"
    )
    outcomes: list[str] = Field(
        default=["employed_12m", "employed_60m", "cost_per_participant_nok"],
        min_length=1,
        description="Outcomes the report shows first",
    )

    @model_validator(mode="after")
    def _check(self) -> ExperimentMeta:
        valid = (*OUTCOMES, *LEDGER_OUTCOMES)
        unknown = [o for o in self.outcomes if o not in valid]
        if unknown:
            raise ValueError(f"unknown outcome {unknown[0]!r}; valid: {', '.join(valid)}")
        d = self.design
        if d in ("lhs", "delta") and self.samples is None:
            raise ValueError(f"an {d} design needs samples (the number of points)")
        if d == "sobol" and self.samples is None:
            raise ValueError("a sobol design needs samples (N, a power of two)")
        if d == "sobol" and self.samples & (self.samples - 1):  # type: ignore[operator]
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
        return self


class FactorSpec(_Strict):
    """One factor: levels (grid, oat, categories in lhs) or a range (lhs)."""

    levels: list[Any] | None = Field(default=None, min_length=1)
    min: float | None = None
    max: float | None = None
    scale: Literal["linear", "log"] = "linear"
    group: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _ints_as_floats(cls, data: Any) -> Any:
        # TOML writes 10 and 10.0 differently; a range accepts both.
        if isinstance(data, dict):
            data = dict(data)
            for key in ("min", "max"):
                if isinstance(data.get(key), int) and not isinstance(data.get(key), bool):
                    data[key] = float(data[key])
        return data

    @model_validator(mode="after")
    def _check(self) -> FactorSpec:
        has_range = self.min is not None or self.max is not None
        if self.levels is not None and has_range:
            raise ValueError("give either levels or min and max, not both")
        if self.levels is None and not has_range:
            raise ValueError("expected levels = [...] or min and max")
        if self.group is not None and self.levels is not None:
            raise ValueError("a group applies to ranges, not to levels")
        if has_range and (self.min is None or self.max is None):
            raise ValueError("a range needs both min and max")
        if has_range and not self.min < self.max:  # type: ignore[operator]
            raise ValueError(f"expected min < max, found min {self.min:g} and max {self.max:g}")
        if self.scale == "log" and (self.levels is not None or (self.min or 0) <= 0):
            raise ValueError("scale = 'log' needs a range with min > 0")
        if self.levels is not None and len(set(map(repr, self.levels))) < len(self.levels):
            raise ValueError("levels repeat a value")
        return self


# --------------------------------------------------------------------------- resolved design
@dataclass(frozen=True)
class Reference:
    """The policy a contrast study's points are compared with (see the module docstring).

    Attributes:
        name: What the reference is called in tables and reports.
        overrides: Dotted path mapped to value, applied on top of each point's own.
        points: Each design point's reference twin, in the same order and with the
            same seed, row and stratum.
    """

    name: str
    overrides: dict[str, Any]
    points: list[Point] = field(default_factory=list)


@dataclass(frozen=True)
class Point:
    """One design point: the base with these overrides.

    Attributes:
        index: Position in the design (0 is the base).
        label: Short text, e.g. ``follow_up.caseload=10, wage_subsidy.rate=0.4``.
        overrides: Dotted path mapped to value.
        scenario: The validated scenario.
        seed: Root seed of this point's replicates (None: the experiment's seed);
            a sensitivity sample's rows take theirs from the dummy factor.
        row: Row of the sensitivity sample it runs (None for other points).
        stratum: Index of its combination of category levels (sensitivity designs).
    """

    index: int
    label: str
    overrides: dict[str, Any]
    scenario: Scenario
    seed: int | None = None
    row: int | None = None
    stratum: int | None = None


@dataclass(frozen=True)
class Design:
    """A resolved experiment: its file, settings, factors and points.

    Attributes:
        path: The experiment file.
        meta: The ``[experiment]`` table.
        base_path: The base scenario file.
        factors: Factor paths in file order, with their specs.
        infos: The schema's description of each factor.
        points: Design points, the base first.
    """

    path: Path
    meta: ExperimentMeta
    base_path: Path
    factors: dict[str, FactorSpec]
    infos: dict[str, ParamInfo]
    sets: dict[str, Any] = field(default_factory=dict)
    points: list[Point] = field(default_factory=list)
    problem: dict[str, Any] | None = None
    sample: np.ndarray | None = None
    strata: list[dict[str, Any]] = field(default_factory=list)
    reference: Reference | None = None

    def fingerprint(self) -> str:
        """A hash of everything that decides each run: points and seed.

        Not the replications: replicate r is the same run whatever their number,
        so a study with more replicates extends its stored runs.
        """
        data: dict[str, Any] = {
            "seed": self.meta.seed,
            "points": [[p.label, p.scenario.digest()] for p in self.points],
        }
        if self.problem is not None:
            data["point_seeds"] = [p.seed for p in self.points]
        if self.reference is not None:
            data["reference"] = [p.scenario.digest() for p in self.reference.points]
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        """The design as data for the manifest."""
        return {
            "file": str(self.path),
            "name": self.meta.name,
            "question": self.meta.question,
            "base": str(self.base_path),
            "design": self.meta.design,
            "replications": self.meta.replications,
            "seed": self.meta.seed,
            "samples": self.meta.samples,
            "design_seed": self.design_seed,
            **(
                {
                    "trajectories": self.meta.trajectories,
                    "morris_levels": self.meta.morris_levels,
                    "second_order": self.meta.second_order,
                    "dummy": self.meta.dummy,
                    "resamples": self.meta.resamples,
                    "sample_rows": len(self.sample) if self.sample is not None else 0,
                    "strata": self.strata,
                }
                if self.problem is not None
                else {}
            ),
            "factors": {k: v.model_dump(exclude_none=True) for k, v in self.factors.items()},
            **(
                {"reference": {"name": self.reference.name, **self.reference.overrides}}
                if self.reference is not None
                else {}
            ),
            "set": self.sets,
            "points": len(self.points),
        }

    @property
    def run_count(self) -> int:
        """Runs the design needs: every point's replicates, twice in a contrast study."""
        arms = 1 if self.reference is None else 2
        return arms * len(self.points) * self.meta.replications

    @property
    def design_seed(self) -> int | None:
        """The seed of the Latin hypercube or SALib sample (None for other designs)."""
        if self.meta.design not in ("lhs", *SENSITIVITY_DESIGNS):
            return None
        return self.meta.design_seed if self.meta.design_seed is not None else self.meta.seed


ExperimentSpec = Design


# --------------------------------------------------------------------------- loading
def _fail(path: Path, lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...], msg: str) -> None:
    line = None
    for size in range(len(loc), 0, -1):
        if loc[:size] in lines:
            line = lines[loc[:size]]
            break
    dotted = ".".join(str(x) for x in loc) or None
    raise ExperimentError(path, msg, line=line, field=dotted)


def _validate(
    model: type[_Strict], data: Any, path: Path, lines: dict, loc: tuple[Any, ...]
) -> Any:
    if not isinstance(data, dict):
        _fail(path, lines, loc, f"expected a table, found {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = tuple(x for x in (*loc, *err["loc"]))
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            valid = ", ".join(model.model_fields)
            msg = f"unknown key {str(err['loc'][-1])!r}; valid: {valid}"
        elif err["type"] != "value_error" and "input" in err:
            msg = f"{msg}, found {err['input']!r}"
        _fail(path, lines, where, msg)
        raise  # unreachable: _fail raises


def _flatten_factors(
    raw: Any, path: Path, lines: dict, prefix: tuple[str, ...] = ()
) -> dict[str, tuple[Any, tuple[Any, ...]]]:
    """Accept both ``"a.b" = {...}`` and nested ``[factors.a] b = {...}``."""
    out: dict[str, tuple[Any, tuple[Any, ...]]] = {}
    if not isinstance(raw, dict):
        _fail(path, lines, ("factors", *prefix), "expected a table of factors")
    for key, value in raw.items():
        loc = (*prefix, key)
        if isinstance(value, dict) and not ({"levels", "min", "max", "scale"} & set(value)):
            out.update(_flatten_factors(value, path, lines, loc))
        else:
            out[".".join(loc)] = (value, ("factors", *loc))
    return out


def _line_of(lines: dict, loc: tuple[Any, ...]) -> int | None:
    for size in range(len(loc), 0, -1):
        if loc[:size] in lines:
            return lines[loc[:size]]
    if len(loc) == 2 and "." in str(loc[1]):  # "a.b" quoted key, scanned as parts
        return _line_of(lines, (loc[0], *str(loc[1]).split(".")))
    return None


def _label(overrides: dict[str, Any]) -> str:
    if not overrides:
        return BASE_POINT
    return ", ".join(f"{k}={_show(v)}" for k, v in overrides.items())


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _make_point(
    index: int,
    overrides: dict[str, Any],
    design: Design,
    lines: dict[str, int | None],
    label: str | None = None,
) -> Point:
    try:
        sc = load_scenario_with(
            design.base_path,
            {**design.sets, **overrides},
            source=design.path,
            lines={k: v for k, v in lines.items() if v is not None},
        )
    except ScenarioError as exc:
        raise ExperimentError(
            exc.path, exc.message, line=exc.line, field=exc.field, show_field=exc.field is not None
        ) from None
    return Point(index, label or _label(overrides), dict(overrides), sc)


def _cast(info: ParamInfo, value: float) -> Any:
    if info.kind == "int":
        return round(value)
    return float(value)


def _lhs_points(design: Design, lines: dict[str, int | None]) -> list[dict[str, Any]]:
    names = list(design.factors)
    n = int(design.meta.samples or 0)
    sampler = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(design.design_seed))
    unit = sampler.random(n)
    rows: list[dict[str, Any]] = [{} for _ in range(n)]
    for j, name in enumerate(names):
        spec, info = design.factors[name], design.infos[name]
        u = unit[:, j]
        if spec.levels is not None:
            idx = np.minimum((u * len(spec.levels)).astype(np.int64), len(spec.levels) - 1)
            values = [spec.levels[i] for i in idx]
        elif spec.scale == "log":
            lo, hi = math.log(spec.min), math.log(spec.max)  # type: ignore[arg-type]
            values = [_cast(info, math.exp(lo + x * (hi - lo))) for x in u]
        else:
            lo, hi = float(spec.min), float(spec.max)  # type: ignore[arg-type]
            values = [_cast(info, lo + x * (hi - lo)) for x in u]
        for row, v in zip(rows, values, strict=True):
            row[name] = v
    return rows


def dummy_seed(root: int, value: float) -> int:
    """Root seed of a sensitivity sample row's replicates, from its dummy factor's value.

    Rows with the same dummy value share random streams, so the rows a factor's
    effect is estimated from (which differ in that factor only) are paired by
    common random numbers; a step in the dummy changes nothing but the streams,
    so the dummy's index is what seed noise alone produces: the noise floor.

    Args:
        root: The study's root seed.
        value: The row's dummy value.

    Returns:
        A non-negative 63-bit seed.
    """
    text = f"{int(root)}:{float(value).hex()}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def salib_sample(
    method: str,
    problem: dict[str, Any],
    n: int,
    *,
    seed: int,
    morris_levels: int = 4,
    second_order: bool = False,
) -> np.ndarray:
    """The SALib sample of a sensitivity method (rows in SALib's order).

    Args:
        method: ``morris`` (n trajectories), ``sobol`` (Saltelli/Sobol sample of
            base size n, a power of two) or ``delta`` (Latin hypercube of n rows).
        problem: SALib problem: ``num_vars``, ``names``, ``bounds``, optional ``groups``.
        n: Trajectories or base sample size.
        seed: Seed of the sampler.
        morris_levels: Grid levels of a Morris sample.
        second_order: Sobol: add the rows second-order indices need.

    Returns:
        One row per model evaluation, one column per variable.
    """
    from SALib.sample import latin, morris
    from SALib.sample import sobol as sobol_sample

    problem = copy.deepcopy(problem)  # SALib's samplers add keys to it
    if method == "morris":
        return morris.sample(problem, n, num_levels=morris_levels, seed=seed)
    if method == "sobol":
        return sobol_sample.sample(
            problem, n, calc_second_order=second_order, scramble=True, seed=seed
        )
    if method == "delta":
        return latin.sample(problem, n, seed=seed)
    raise ValueError(f"unknown sensitivity method {method!r}; valid: {SENSITIVITY_DESIGNS}")


def _sensitivity_problem(
    factors: dict[str, FactorSpec], dummy: bool
) -> tuple[dict[str, Any], list[str]]:
    """The SALib problem over the ranged factors (log ranges as logarithms), dummy last."""
    names = [n for n, spec in factors.items() if spec.levels is None]
    bounds = []
    for n in names:
        spec = factors[n]
        lo, hi = float(spec.min), float(spec.max)  # type: ignore[arg-type]
        bounds.append([math.log(lo), math.log(hi)] if spec.scale == "log" else [lo, hi])
    problem: dict[str, Any] = {"names": [*names, *([DUMMY] if dummy else [])]}
    problem["bounds"] = [*bounds, *([[0.0, 1.0]] if dummy else [])]
    problem["num_vars"] = len(problem["names"])
    if any(factors[n].group for n in names):
        groups = [factors[n].group or n for n in names]
        problem["groups"] = [*groups, *([DUMMY] if dummy else [])]
    return problem, names


def _sensitivity_points(
    design: Design, names: list[str], lines: dict[str, int | None]
) -> list[Point]:
    """The sample's rows at each combination of category levels, as points after the base."""
    assert design.sample is not None
    points: list[Point] = []
    for s, stratum in enumerate(design.strata):
        for i, x in enumerate(design.sample):
            overrides = dict(stratum)
            for j, name in enumerate(names):
                spec = design.factors[name]
                value = math.exp(x[j]) if spec.scale == "log" else float(x[j])
                overrides[name] = _cast(design.infos[name], value)
            seed = dummy_seed(design.meta.seed, x[-1]) if design.meta.dummy else None
            pt = _make_point(1 + len(points), overrides, design, lines)
            points.append(dataclasses.replace(pt, seed=seed, row=i, stratum=s))
    return points


def load_experiment(
    path: str | os.PathLike[str], overrides: dict[str, Any] | None = None
) -> Design:
    """Read an experiment file, check every factor against the schema and make its points.

    Args:
        path: The experiment TOML file.
        overrides: Dotted-path overrides of the base scenario (``--set``), under
            every point's own overrides.

    Returns:
        The resolved design, every point validated.

    Raises:
        ExperimentError: One line naming the file, line and dotted field of the
            first problem (an error in the base scenario names that file).
    """
    p = Path(path)
    data, lines = read_toml(p)
    known = {"experiment", "factors", "points", "reference"}
    for key in data:
        if key not in known:
            _fail(p, lines, (key,), f"unknown section or key {key!r}; valid: {', '.join(known)}")
    if "experiment" not in data:
        _fail(p, lines, (), "missing [experiment] table")
    meta: ExperimentMeta = _validate(ExperimentMeta, data["experiment"], p, lines, ("experiment",))
    base_path = Path(os.path.normpath(p.parent / meta.base))
    if not base_path.is_file():
        _fail(p, lines, ("experiment", "base"), f"base scenario {meta.base!r} not found")
    sets = dict(overrides or {})
    if sets:
        load_scenario_with(base_path, sets, source="--set")

    raw = _flatten_factors(data.get("factors", {}), p, lines)
    factors: dict[str, FactorSpec] = {}
    infos: dict[str, ParamInfo] = {}
    factor_lines: dict[str, int | None] = {}
    for name, (value, loc) in raw.items():
        info = param_info(name)
        if info is None or info.kind in ("text", "other"):
            what = "not a parameter" if info is None else "not a number or category"
            _fail(p, lines, loc, f"{name!r} is {what}; see `introsim params` for the paths")
        spec: FactorSpec = _validate(FactorSpec, value, p, lines, loc)
        if spec.levels is None and info.kind not in ("int", "float"):  # type: ignore[union-attr]
            _fail(p, lines, loc, f"{name} is a {info.kind}: give levels, not a range")  # type: ignore[union-attr]
        factors[name], infos[name] = spec, info  # type: ignore[assignment]
        factor_lines[name] = _line_of(lines, loc)

    problem, sample, strata, ranged = None, None, [], []
    if meta.design in SENSITIVITY_DESIGNS:
        for name, spec in factors.items():
            if spec.levels is not None and infos[name].kind not in ("category", "bool"):
                _fail(
                    p,
                    lines,
                    ("factors", name),
                    f"a {meta.design} design samples {name} over a range: give min and max "
                    "(levels are for categories, analysed one level at a time)",
                )
        problem, ranged = _sensitivity_problem(factors, meta.dummy)
        if not ranged:
            _fail(p, lines, ("factors",), f"a {meta.design} design needs a factor with a range")
        if meta.design == "delta" and "groups" in problem:
            _fail(p, lines, ("factors",), "the delta method has no groups; remove group = ...")
        size = meta.trajectories if meta.design == "morris" else meta.samples
        seed = meta.design_seed if meta.design_seed is not None else meta.seed
        sample = salib_sample(
            meta.design,
            problem,
            int(size or 0),
            seed=seed,
            morris_levels=meta.morris_levels,
            second_order=meta.second_order,
        )
        cats = [n for n, spec in factors.items() if spec.levels is not None]
        strata = [
            dict(zip(cats, combo, strict=True))
            for combo in itertools.product(*(factors[n].levels for n in cats))  # type: ignore[misc]
        ]
    reference = _reference(data.get("reference"), meta, factors, p, lines)
    design = Design(
        p, meta, base_path, factors, infos, sets, [], problem, sample, strata, reference
    )
    if meta.design != "list" and not factors:
        _fail(p, lines, ("factors",), f"a {meta.design} design needs at least one factor")
    if meta.design == "list" and "points" not in data:
        _fail(p, lines, ("points",), "a list design needs [[points]] tables")
    if meta.design != "list" and "points" in data:
        _fail(p, lines, ("points",), f"[[points]] apply to list designs only, not {meta.design}")
    if meta.design in ("grid", "oat"):
        for name, spec in factors.items():
            if spec.levels is None:
                _fail(p, lines, ("factors", name), f"a {meta.design} design needs levels")

    points = [_make_point(0, {}, design, {})]
    if meta.design == "grid":
        names = list(factors)
        for combo in itertools.product(*(factors[n].levels for n in names)):  # type: ignore[misc]
            points.append(
                _make_point(len(points), dict(zip(names, combo, strict=True)), design, factor_lines)
            )
    elif meta.design == "oat":
        base = points[0].scenario
        for name, spec in factors.items():
            current = _lookup(base, name)
            for level in spec.levels or ():
                if level == current:  # the base point already stands for it
                    continue
                points.append(_make_point(len(points), {name: level}, design, factor_lines))
    elif meta.design in ("lhs", *SENSITIVITY_DESIGNS):
        for name, spec in factors.items():  # both ends of each range, before sampling
            if spec.levels is None:
                for end in (spec.min, spec.max):
                    _make_point(0, {name: _cast(infos[name], end)}, design, factor_lines)  # type: ignore[arg-type]
        if meta.design != "lhs":
            points += _sensitivity_points(design, ranged, factor_lines)
        for row in _lhs_points(design, factor_lines) if meta.design == "lhs" else ():
            points.append(_make_point(len(points), row, design, factor_lines))
    else:
        raw_points = data["points"]
        if not isinstance(raw_points, list) or not raw_points:
            _fail(p, lines, ("points",), "expected one or more [[points]] tables")
        for k, item in enumerate(raw_points):
            if not isinstance(item, dict):
                _fail(p, lines, ("points", k), "expected a table")
            item = dict(item)
            label = item.pop("name", None)
            overrides = {".".join(loc): v for loc, v in _flatten_values(item)}
            for name in overrides:
                info = param_info(name)
                if info is None:
                    _fail(p, lines, ("points", k), f"{name!r} is not a parameter")
                infos.setdefault(name, info)  # type: ignore[arg-type]
            point_lines = {name: _line_of(lines, ("points", k)) for name in overrides}
            points.append(
                _make_point(len(points), overrides, design, point_lines, str(label or "") or None)
            )
    design.points.extend(points)
    if reference is not None:
        ref_lines = {name: _line_of(lines, ("reference",)) for name in reference.overrides}
        for pt in points:
            twin = _make_point(pt.index, {**pt.overrides, **reference.overrides}, design, ref_lines)
            reference.points.append(
                dataclasses.replace(twin, seed=pt.seed, row=pt.row, stratum=pt.stratum)
            )
    labels = [pt.label for pt in points]
    # Rounding may repeat a sampled point, which is harmless; elsewhere it is a mistake.
    if meta.design in ("grid", "oat", "list") and len(set(labels)) < len(labels):
        dup = next(lab for lab in labels if labels.count(lab) > 1)
        _fail(p, lines, ("factors",), f"two design points are the same: {dup}")
    return design


def _reference(
    raw: Any, meta: ExperimentMeta, factors: dict[str, FactorSpec], path: Path, lines: dict
) -> Reference | None:
    """The ``[reference]`` table: a name and dotted overrides no factor also varies."""
    if raw is None:
        return None
    if meta.design not in SENSITIVITY_DESIGNS:
        _fail(
            path,
            lines,
            ("reference",),
            f"[reference] applies to {', '.join(SENSITIVITY_DESIGNS)} designs, not {meta.design}",
        )
    if not isinstance(raw, dict):
        _fail(path, lines, ("reference",), "expected a table of dotted overrides")
    item = dict(raw)
    name = item.pop("name", "reference")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        _fail(path, lines, ("reference", "name"), "expected a name of 1 to 100 characters")
    overrides = {".".join(loc): v for loc, v in _flatten_values(item)}
    if not overrides:
        _fail(
            path,
            lines,
            ("reference",),
            'expected at least one dotted override, e.g. "follow_up.method" = "standard"',
        )
    for key in overrides:
        if param_info(key) is None:
            _fail(
                path,
                lines,
                ("reference", *key.split(".")),
                f"{key!r} is not a parameter; see `introsim params` for the paths",
            )
        if key in factors:
            _fail(
                path,
                lines,
                ("reference", *key.split(".")),
                f"{key} is also a factor; the reference may only set what the factors do not vary",
            )
    return Reference(name, overrides)


def _flatten_values(item: dict[str, Any], prefix: tuple[str, ...] = ()) -> list:
    out = []
    for key, value in item.items():
        loc = (*prefix, *str(key).split("."))
        if isinstance(value, dict):
            out += _flatten_values(value, loc)
        else:
            out.append((loc, value))
    return out


def _lookup(scenario: Scenario, dotted: str) -> Any:
    node: Any = scenario
    for key in dotted.split("."):
        node = getattr(node, key)
    return node
