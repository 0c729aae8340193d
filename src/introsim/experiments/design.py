"""The designs of experiment files: which scenarios a sweep or sensitivity study runs.

An experiment file (read and checked by :mod:`introsim.params.experiment_file`)
names a base scenario, the factors to vary and a design. The design turns the
factors into design points; each point is the base scenario with a few
overrides, validated by the scenario schema exactly as a scenario file is, so a
level outside the schema's bounds is refused before any run with one line naming
the experiment file, the line and the field.

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
from typing import Any

import numpy as np
from scipy.stats import qmc

from introsim.params.catalog import ParamInfo
from introsim.params.errors import ExperimentError
from introsim.params.experiment_file import (
    DESIGNS,
    DUMMY,
    SENSITIVITY_DESIGNS,
    ExperimentFile,
    ExperimentMeta,
    read_experiment,
)
from introsim.params.factors import Factor, FactorSpec
from introsim.params.loader import load_scenario_with
from introsim.params.paths import get
from introsim.params.schema import Scenario

__all__ = [
    "DESIGNS",
    "DUMMY",
    "SENSITIVITY_DESIGNS",
    "Design",
    "Point",
    "Reference",
    "dummy_seed",
    "load_experiment",
    "salib_sample",
]

BASE_POINT = "base"


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
        sets: Overrides of the base from the command line (``--set``).
        points: Design points, the base first.
        problem: The SALib problem of a sensitivity design (None otherwise).
        sample: The SALib sample of a sensitivity design (None otherwise).
        strata: The combinations of category levels a sensitivity sample runs at.
        file: The experiment file as read.
        reference: The policy of a contrast study and its twin points, or None.
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
    file: ExperimentFile | None = None
    reference: Reference | None = None

    @property
    def lines(self) -> dict[str, int | None]:
        """The line of each factor in the experiment file."""
        if self.file is None:
            return {}
        return {f.name: self.file.doc.line(f.loc) for f in self.file.factors}

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
        return self.meta.sample_seed


# --------------------------------------------------------------------------- points
def _level_text(values: list[Any]) -> dict[Any, str]:
    """Each value as a label shows it: 6 significant digits, more where two values need them.

    Levels 0.1 and 0.1000000001 are two points, so they get two labels.
    """
    numbers = [v for v in values if isinstance(v, float)]
    for digits in (6, 10, 15, 17):
        shown = {v: f"{v:.{digits}g}" for v in numbers}
        if len(set(shown.values())) == len(set(numbers)):
            break
    return {v: shown[v] if isinstance(v, float) else str(v) for v in values}


class _Labels:
    """Labels of design points from their overrides, each value shown as :func:`_level_text`."""

    def __init__(self, values: dict[str, list[Any]]) -> None:
        self.text = {name: _level_text(list(vs)) for name, vs in values.items()}

    def __call__(self, overrides: dict[str, Any]) -> str:
        if not overrides:
            return BASE_POINT
        return ", ".join(
            f"{k}={self.text.get(k, {}).get(v) or _level_text([v])[v]}"
            for k, v in overrides.items()
        )


def _make_point(
    index: int,
    overrides: dict[str, Any],
    design: Design,
    lines: dict[str, int | None],
    label: str,
) -> Point:
    scenario = load_scenario_with(
        design.base_path,
        {**design.sets, **overrides},
        source=design.path,
        lines={k: v for k, v in lines.items() if v is not None},
        error=ExperimentError,
    )
    return Point(index, label, dict(overrides), scenario)


def _lhs_points(design: Design, factors: list[Factor]) -> list[dict[str, Any]]:
    n = int(design.meta.samples or 0)
    sampler = qmc.LatinHypercube(d=len(factors), seed=np.random.default_rng(design.design_seed))
    unit = sampler.random(n)
    rows: list[dict[str, Any]] = [{} for _ in range(n)]
    for j, factor in enumerate(factors):
        spec, u = factor.spec, unit[:, j]
        if spec.levels is not None:
            idx = np.minimum((u * len(spec.levels)).astype(np.int64), len(spec.levels) - 1)
            values = [spec.levels[i] for i in idx]
        elif spec.scale == "log":
            lo, hi = (math.log(end) for end in spec.ends)
            values = [factor.cast(math.exp(lo + x * (hi - lo))) for x in u]
        else:
            lo, hi = spec.ends
            values = [factor.cast(lo + x * (hi - lo)) for x in u]
        for row, v in zip(rows, values, strict=True):
            row[factor.name] = v
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


def _sensitivity_problem(ranged: list[Factor], dummy: bool) -> dict[str, Any]:
    """The SALib problem over the ranged factors (log ranges as logarithms), dummy last."""
    bounds = []
    for f in ranged:
        lo, hi = f.spec.ends
        bounds.append([math.log(lo), math.log(hi)] if f.spec.scale == "log" else [lo, hi])
    problem: dict[str, Any] = {"names": [*(f.name for f in ranged), *([DUMMY] if dummy else [])]}
    problem["bounds"] = [*bounds, *([[0.0, 1.0]] if dummy else [])]
    problem["num_vars"] = len(problem["names"])
    if any(f.spec.group for f in ranged):
        groups = [f.spec.group or f.name for f in ranged]
        problem["groups"] = [*groups, *([DUMMY] if dummy else [])]
    return problem


def _sensitivity_points(design: Design, ranged: list[Factor], labels: _Labels) -> list[Point]:
    """The sample's rows at each combination of category levels, as points after the base."""
    assert design.sample is not None
    lines = design.lines
    points: list[Point] = []
    for s, stratum in enumerate(design.strata):
        for i, x in enumerate(design.sample):
            overrides = dict(stratum)
            for j, factor in enumerate(ranged):
                value = math.exp(x[j]) if factor.spec.scale == "log" else float(x[j])
                overrides[factor.name] = factor.cast(value)
            seed = dummy_seed(design.meta.seed, x[-1]) if design.meta.dummy else None
            pt = _make_point(1 + len(points), overrides, design, lines, labels(overrides))
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
        InputError: One line naming the file, line and dotted field of the first
            problem (an error in the base scenario names that file).
    """
    return build_design(read_experiment(path, overrides))


def build_design(exp: ExperimentFile) -> Design:
    """Make the design points of a checked experiment file, each validated as a scenario.

    Raises:
        InputError: A point is not a valid scenario (one line at the factor's line), or
            two points are the same.
    """
    meta, doc = exp.meta, exp.doc
    factors = {f.name: f.spec for f in exp.factors}
    infos = {f.name: f.info for f in exp.factors}
    problem, sample, strata = None, None, []
    if meta.design in SENSITIVITY_DESIGNS:
        problem = _sensitivity_problem(exp.ranged, meta.dummy)
        size = meta.trajectories if meta.design == "morris" else meta.samples
        sample = salib_sample(
            meta.design,
            problem,
            int(size or 0),
            seed=meta.sample_seed,
            morris_levels=meta.morris_levels,
            second_order=meta.second_order,
        )
        names = [f.name for f in exp.categories]
        strata = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(f.spec.levels or () for f in exp.categories))
        ]
    reference = (
        Reference(exp.reference.name, exp.reference.overrides)
        if exp.reference is not None
        else None
    )
    design = Design(
        exp.path,
        meta,
        exp.base_path,
        factors,
        infos,
        exp.sets,
        [],
        problem,
        sample,
        strata,
        exp,
        reference,
    )
    lines = design.lines
    values = {f.name: list(f.spec.levels or ()) for f in exp.factors}
    for listed in exp.points:
        for name, value in listed.overrides.items():
            values.setdefault(name, []).append(value)
    labels = _Labels(values)

    points = [_make_point(0, {}, design, {}, BASE_POINT)]
    if meta.design == "grid":
        names = list(factors)
        for combo in itertools.product(*(factors[n].levels or () for n in names)):
            overrides = dict(zip(names, combo, strict=True))
            points.append(_make_point(len(points), overrides, design, lines, labels(overrides)))
    elif meta.design == "oat":
        base = points[0].scenario
        for f in exp.factors:
            current = get(base, f.name)
            for level in f.spec.levels or ():
                if level == current:  # the base point already stands for it
                    continue
                overrides = {f.name: level}
                points.append(_make_point(len(points), overrides, design, lines, labels(overrides)))
    elif meta.design in ("lhs", *SENSITIVITY_DESIGNS):
        for f in exp.ranged:  # both ends of each range, before sampling
            for end in f.spec.ends:
                _make_point(0, {f.name: f.cast(end)}, design, lines, BASE_POINT)
        if meta.design != "lhs":
            points += _sensitivity_points(design, exp.ranged, labels)
        for row in _lhs_points(design, exp.factors) if meta.design == "lhs" else ():
            points.append(_make_point(len(points), row, design, lines, labels(row)))
    else:
        for k, listed in enumerate(exp.points):
            infos.update({k: v for k, v in listed.infos.items() if k not in infos})
            point_lines = {name: doc.line(("points", k)) for name in listed.overrides}
            label = listed.label or labels(listed.overrides)
            points.append(_make_point(len(points), listed.overrides, design, point_lines, label))
    design.points.extend(points)
    if reference is not None:
        ref_lines = {name: doc.line(("reference",)) for name in reference.overrides}
        for pt in points:
            twin = _make_point(
                pt.index, {**pt.overrides, **reference.overrides}, design, ref_lines, pt.label
            )
            reference.points.append(
                dataclasses.replace(twin, seed=pt.seed, row=pt.row, stratum=pt.stratum)
            )
    # Rounding may repeat a sampled point, which is harmless; elsewhere it is a mistake.
    if meta.design in ("grid", "oat", "list"):
        values_seen: set[str] = set()
        labels_seen: set[str] = set()
        for pt in points:
            where = ("points", pt.index - 1) if meta.design == "list" else ("factors",)
            key = json.dumps(pt.overrides, sort_keys=True, default=str)
            if key in values_seen:
                doc.fail(where, f"two design points are the same: {pt.label}")
            if pt.label in labels_seen:
                doc.fail((*where, "name"), f"two design points have the same name: {pt.label}")
            values_seen.add(key)
            labels_seen.add(pt.label)
    return design
