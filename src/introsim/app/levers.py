"""The levers a workshop turns, described by the scenario schema itself.

Only the list of dotted paths is written here. Each lever's kind, choices,
unit, one-line meaning, source and bounds are read from the pydantic field in
:mod:`introsim.params.schema`, so a change there shows in the dashboard without
touching it.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from introsim.app.i18n import t
from introsim.params.paths import get
from introsim.params.schema import Scenario

LEVER_PATHS: tuple[str, ...] = (
    "follow_up.method",
    "follow_up.caseload",
    "wage_subsidy.rate",
    "wage_subsidy.weeks",
    "wage_subsidy.eligibility",
    "programme.max_weeks",
    "follow_up.language_support_hours",
    "follow_up.after_follow_up_weeks",
    "labour_market.unemployment_rate",
    "labour_market.open_share",
    "cohort.size",
    "cohort.language_mean",
)
"""Dotted schema paths shown as controls, in the order shown."""

SLIDER_RANGES: dict[str, tuple[float, float]] = {
    # Where the schema's bound is open or far beyond what a workshop explores, the
    # slider shows a narrower range; a value typed or linked may still go to the bound.
    "follow_up.caseload": (1, 60),
    "follow_up.after_follow_up_weeks": (0, 156),
    "labour_market.unemployment_rate": (0.0, 0.15),
    "cohort.size": (50, 2000),
}

METHOD_OWN: dict[str, str] = {
    # Optional overrides: left out (None), the method's own profile value applies.
    "follow_up.after_follow_up_weeks": "follow_along_weeks",
    "follow_up.language_support_hours": "language_support_hours",
}

SLIDER_STEPS = 100
"""About this many steps from one end of a float slider to the other."""


@dataclass(frozen=True)
class Lever:
    """One control, as the schema describes its field.

    Attributes:
        path: Dotted path in the scenario, e.g. ``follow_up.caseload``.
        kind: ``"choice"``, ``"int"`` or ``"float"``.
        unit: The field's unit.
        meaning: The field's one-line meaning (shown as a tooltip).
        source: Where the default comes from, or None.
        choices: Allowed values of a choice lever.
        low: Lowest allowed value (None if open).
        high: Highest allowed value (None if open).
        slider: The slider's range (the bounds, narrowed by :data:`SLIDER_RANGES`).
        step: The slider's step.
    """

    path: str
    kind: Literal["choice", "int", "float"]
    unit: str
    meaning: str
    source: str | None
    choices: tuple[str, ...]
    low: float | None
    high: float | None
    slider: tuple[float, float]
    step: float

    def label(self, lang: str) -> str:
        """The lever's name in ``lang``."""
        return t(self.path, lang)

    @property
    def is_share(self) -> bool:
        """Whether the value is a share 0-1 (shown as a percentage)."""
        return self.unit.startswith("share")


def schema_field(path: str) -> FieldInfo:
    """The pydantic field of a dotted scenario path."""
    model: Any = Scenario
    *parents, leaf = path.split(".")
    for name in parents:
        model = model.model_fields[name].annotation
    return model.model_fields[leaf]


def _nice_step(span: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about SLIDER_STEPS steps."""
    raw = span / SLIDER_STEPS
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def describe(path: str) -> Lever:
    """Build the lever of a dotted path from its schema field.

    Args:
        path: Dotted path of a scalar field (a number, or a ``Literal`` of choices).

    Returns:
        The lever.

    Raises:
        TypeError: If the field is not a number or a choice.
    """
    info = schema_field(path)
    annotation = info.annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    low = high = None
    for bound in info.metadata:
        if isinstance(bound, annotated_types.Ge | annotated_types.Gt):
            low = float(getattr(bound, "ge", getattr(bound, "gt", 0.0)))
        elif isinstance(bound, annotated_types.Le | annotated_types.Lt):
            high = float(getattr(bound, "le", getattr(bound, "lt", 0.0)))
    common: dict[str, Any] = {
        "path": path,
        "unit": str(extra.get("unit", "")),
        "meaning": info.description or "",
        "source": extra.get("source"),
    }
    if typing.get_origin(annotation) is Literal:
        choices = tuple(str(c) for c in typing.get_args(annotation))
        return Lever(
            kind="choice", choices=choices, low=None, high=None, slider=(0, 0), step=0, **common
        )
    if annotation not in (int, float):
        raise TypeError(f"{path}: a lever must be a number or a choice, found {annotation}")
    lo, hi = SLIDER_RANGES.get(path, (low, high))
    if lo is None or hi is None:
        raise TypeError(f"{path}: an open bound needs a slider range in SLIDER_RANGES")
    kind: Literal["int", "float"] = "int" if annotation is int else "float"
    step = 1.0 if kind == "int" else _nice_step(hi - lo)
    return Lever(kind=kind, choices=(), low=low, high=high, slider=(lo, hi), step=step, **common)


LEVERS: tuple[Lever, ...] = tuple(describe(p) for p in LEVER_PATHS)
BY_PATH: dict[str, Lever] = {lever.path: lever for lever in LEVERS}


def stored_value(scenario: Scenario, path: str) -> Any:
    """The value a scenario holds at a dotted path (None for an unset optional override)."""
    return get(scenario, path)


def value_of(scenario: Scenario, path: str) -> Any:
    """The value in effect at a dotted path: an unset override shows the method's own value."""
    value = stored_value(scenario, path)
    if value is None and path in METHOD_OWN:
        profile = scenario.methods.profile(scenario.follow_up.method)
        value = getattr(profile, METHOD_OWN[path])
    return value


@dataclass(frozen=True)
class Problem:
    """A lever value that cannot be run: which lever, and what is wrong, in words."""

    path: str
    message: str


class LeverError(ValueError):
    """Settings that cannot be run; ``problems`` says which and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))


def parse(lever: Lever, value: Any, lang: str = "en") -> Any:
    """Turn a value (a control's or a link's text) into the lever's type, checking its bounds.

    Args:
        lever: The lever.
        value: A number, a choice, or text holding one.
        lang: Language of the error message.

    Returns:
        The value as ``int``, ``float`` or ``str``.

    Raises:
        LeverError: If the value is not of the lever's kind or is out of bounds.
    """

    def bad(message: str) -> LeverError:
        return LeverError([Problem(lever.path, message)])

    if lever.kind == "choice":
        if str(value) not in lever.choices:
            raise bad(t("expected_choice", lang, choices=", ".join(lever.choices), found=value))
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise bad(t("expected_number", lang, found=value)) from None
    if not math.isfinite(number) or (lever.kind == "int" and not number.is_integer()):
        raise bad(t(f"expected_{lever.kind}", lang, found=value))
    too_low = lever.low is not None and number < lever.low
    too_high = lever.high is not None and number > lever.high
    if too_low or too_high:
        low = "−∞" if lever.low is None else f"{lever.low:g}"
        high = "∞" if lever.high is None else f"{lever.high:g}"
        raise bad(t("expected_range", lang, low=low, high=high, found=value, unit=lever.unit))
    return int(number) if lever.kind == "int" else number


def apply(base: Scenario, settings: Mapping[str, Any], lang: str = "en") -> Scenario:
    """The base scenario with the settings applied, fully validated.

    Args:
        base: The preset.
        settings: Lever paths mapped to values (as from controls or a link).
        lang: Language of error messages.

    Returns:
        The validated scenario.

    Raises:
        LeverError: Every setting out of bounds, or a combination the schema rejects
            (such as a wage subsidy step-down after its last week).
    """
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    for path, value in settings.items():
        try:
            parsed[path] = parse(BY_PATH[path], value, lang)
        except LeverError as e:
            problems += e.problems
    if problems:
        raise LeverError(problems)
    try:
        return base.with_overrides(parsed)
    except ValidationError as e:
        raise LeverError(
            [
                Problem(
                    ".".join(str(x) for x in err["loc"]), err["msg"].removeprefix("Value error, ")
                )
                for err in e.errors()
            ]
        ) from None


def changed(base: Scenario, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that differ from what the base scenario holds, in lever order."""
    return {
        path: settings[path]
        for path in LEVER_PATHS
        if path in settings and settings[path] != stored_value(base, path)
    }
