"""Factors: scenario parameters a study varies, as experiment and calibration files write them.

A factor is a dotted scenario path with either ``levels`` (values to run, or
categories) or a range ``{min, max}`` (sampled, optionally on a log scale)::

    [factors]
    "follow_up.caseload" = { levels = [10, 15, 20] }
    "wage_subsidy.rate" = { min = 0.2, max = 0.6 }

    [factors.follow_up]          # the same, written as nested tables
    method = { levels = ["standard", "ips"] }

A range may instead be a calibration's posterior: ``{ posterior = "FILE" }``
takes the range the ensemble's members span for that parameter (each member a
parameter set the calibration's targets do not rule out), so a sensitivity study
asks what matters over what the evidence leaves open rather than over the
declared range::

    "mechanisms.score_noise" = { posterior = "../calibration/posterior.toml" }

:func:`parse_factors` reads them for every file kind that has them (experiment
``[factors]``, calibration ``[parameters]``) and checks each against the schema.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from introsim.params.catalog import ParamInfo, not_a_parameter, param_info
from introsim.params.document import Name, StrictModel, TomlDocument
from introsim.params.paths import Loc, flatten, split

__all__ = ["MAX_LEVELS", "Factor", "FactorSpec", "parse_factors"]

MAX_LEVELS = 1_000
"""Most levels a factor may list: more would be a range, sampled."""

_SPEC_KEYS = frozenset({"levels", "min", "max", "scale", "group", "posterior"})


class FactorSpec(StrictModel):
    """One factor: levels (grid, oat, categories) or a range (lhs, sensitivity, calibration)."""

    levels: list[Any] | None = Field(default=None, min_length=1, max_length=MAX_LEVELS)
    min: float | None = None
    max: float | None = None
    scale: Literal["linear", "log"] = "linear"
    group: Name | None = None

    @model_validator(mode="after")
    def _check(self) -> FactorSpec:
        has_range = self.min is not None or self.max is not None
        if self.levels is not None and has_range:
            raise ValueError("give either levels or min and max, not both")
        if self.levels is None and not has_range:
            raise ValueError("expected levels = [...] or min and max")
        if self.group is not None and self.levels is not None:
            raise ValueError("a group applies to ranges, not to levels")
        if self.min is None or self.max is None:
            if has_range:
                raise ValueError("a range needs both min and max")
        elif not self.min < self.max:
            raise ValueError(f"expected min < max, found min {self.min:g} and max {self.max:g}")
        if self.scale == "log" and (self.levels is not None or (self.min or 0) <= 0):
            raise ValueError("scale = 'log' needs a range with min > 0")
        if self.levels is not None and len(set(map(_identity, self.levels))) < len(self.levels):
            raise ValueError("levels repeat a value")
        return self

    @property
    def ends(self) -> tuple[float, float]:
        """The range's ends (a range factor only)."""
        if self.min is None or self.max is None:
            raise ValueError("a factor with levels has no range")
        return self.min, self.max


def _identity(value: Any) -> Any:
    """What makes two levels the same value: 10 and 10.0 are, 0.1 and 0.1000000001 are not."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float) and math.isfinite(value):
        return ("number", float(value)) if float(value) == value else ("number", value)
    return (type(value).__name__, repr(value))


@dataclass(frozen=True)
class Factor:
    """A factor as read from a file.

    Attributes:
        name: Its dotted scenario path.
        spec: Its levels or range.
        info: The schema's description of the parameter.
        loc: Where the file writes it.
    """

    name: str
    spec: FactorSpec
    info: ParamInfo
    loc: Loc

    def cast(self, value: float) -> Any:
        """A sampled value as the parameter takes it (integers rounded)."""
        return round(value) if self.info.kind == "int" else float(value)


def _is_spec(table: Mapping[str, Any]) -> bool:
    """Whether a table is a factor's spec rather than a level of its dotted path."""
    return bool(_SPEC_KEYS & set(table))


def _posterior_range(
    doc: TomlDocument, loc: Loc, name: str, value: dict[str, Any]
) -> dict[str, Any]:
    """A ``{ posterior = FILE }`` factor as ``{min, max}``: the range its members span.

    Raises:
        InputError: The file is not an ensemble, a member lacks the parameter, the
            members agree on one value, or ``min``/``max``/``levels`` are given too.
    """
    from introsim.params.ensemble_file import load_ensemble

    given = sorted({"min", "max", "levels"} & set(value))
    if given:
        doc.fail(loc, f"give either posterior or {' and '.join(given)}, not both")
    written = value["posterior"]
    if not isinstance(written, str) or not written.strip():
        doc.fail(loc, "posterior: expected a string naming a posterior ensemble file")
    path = Path(os.path.normpath(doc.path.parent / written))
    if not path.is_file():
        doc.fail(loc, f"posterior ensemble {written!r} not found (looked for {path})")
    ensemble = load_ensemble(path)
    values = [m[name] for m in ensemble.members if name in m]
    if len(values) < ensemble.size:
        doc.fail(
            loc,
            f"{name} is not set by every member of {ensemble.path.name} "
            f"({len(values)} of {ensemble.size}): the calibration did not treat it as uncertain",
        )
    low, high = float(min(values)), float(max(values))
    if not low < high:
        doc.fail(loc, f"every member of {ensemble.path.name} has {name} = {low:g}: no range")
    return {**{k: v for k, v in value.items() if k != "posterior"}, "min": low, "max": high}


def parse_factors(doc: TomlDocument, section: str, *, categories: bool = True) -> list[Factor]:
    """Read the factors of a table such as ``[factors]``, checked against the schema.

    Args:
        doc: The file.
        section: The top-level table holding the factors.
        categories: Whether yes/no parameters may be factors (as categories with levels).

    Returns:
        The factors in the order written.

    Raises:
        InputError: A factor is not a parameter, not a number or category, or its
            spec is invalid; one line with file, line and dotted field.
    """
    raw = doc.at((section,), {})
    if not isinstance(raw, dict):
        doc.fail((section,), "expected a table of factors")
    found = []
    for name, value in flatten(raw, leaf=_is_spec).items():
        loc: Loc = (section, *split(name))
        info = param_info(name)
        kinds = ("int", "float", "category", *(("bool",) if categories else ()))
        if info is None or info.kind not in kinds:
            if info is None:
                doc.fail(loc, not_a_parameter(name))
            doc.fail(loc, f"{name!r} is a {info.kind}, not a number or category")
        if isinstance(value, dict) and "posterior" in value:
            value = _posterior_range(doc, loc, name, value)
        spec = doc.validate(FactorSpec, loc, value)
        if spec.levels is None and info.kind not in ("int", "float"):
            doc.fail(loc, f"{name} is a {info.kind}: give levels, not a range")
        if spec.levels is None and info.kind == "int" and math.ceil(spec.ends[0]) > spec.ends[1]:
            doc.fail(
                loc,
                f"{name} takes whole numbers and no whole number lies between min "
                f"{spec.ends[0]:g} and max {spec.ends[1]:g}",
            )
        found.append(Factor(name, spec, info, loc))
    return found
