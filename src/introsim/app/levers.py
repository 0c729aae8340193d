"""The levers a workshop turns, described by the scenario schema itself, and their validation.

Only the list of dotted paths is written here. Each lever's kind, choices,
unit, one-line meaning, source and bounds are read from the pydantic field in
:mod:`introsim.params.schema`, so a change there shows in the dashboard without
touching it.

Every value that reaches the dashboard, typed in a box, set by a slider or read
from a shared link, goes through :func:`read` (the lever's kind and limits) and
:func:`accept` (the whole scenario validated with it). A refused value is never
applied: the settings stay as they were, and the refusal says why in the
person's language and in the units on the screen (per cent for shares).
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import annotated_types
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from introsim.app.i18n import TEXT, number, plain, t, unit
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
    # slider shows a narrower range; a value typed or linked may still go to the limit.
    "follow_up.caseload": (1, 60),
    "follow_up.after_follow_up_weeks": (0, 156),
    "labour_market.unemployment_rate": (0.0, 0.15),
    "cohort.size": (50, 2000),
}

DASHBOARD_LIMITS: dict[str, tuple[float, float]] = {
    # The schema allows two million participants, but a what-if of 2 × 30 runs of such a
    # cohort would hold a shared server for many minutes: the dashboard answers in seconds
    # up to a few thousand participants. Larger cohorts: `introsim run` or `compare`.
    "cohort.size": (10, 5000),
}
"""Limits narrower than the schema's, for the dashboard only (typed and linked values alike)."""

REPLICATION_LIMITS = (2, 30)
"""Runs per scenario a session may ask for (the slider's range and the link's limit)."""

METHOD_OWN: dict[str, str] = {
    # Optional overrides: left out (None), the method's own profile value applies.
    "follow_up.after_follow_up_weeks": "follow_along_weeks",
    "follow_up.language_support_hours": "language_support_hours",
}

SLIDER_STEPS = 100
"""About this many steps from one end of a float slider to the other."""

MAX_TEXT = 32
"""Longest text a value may have (a number or a choice needs far fewer characters)."""


@dataclass(frozen=True)
class Lever:
    """One control, as the schema describes its field.

    Values are held in the schema's units (a share as 0-1); a share is shown, typed
    and slid in per cent (``scale`` 100).

    Attributes:
        path: Dotted path in the scenario, e.g. ``follow_up.caseload``.
        kind: ``"choice"``, ``"int"`` or ``"float"``.
        unit: The field's unit, as the schema writes it.
        meaning: The field's one-line meaning in the schema (English).
        source: Where the default comes from, or None.
        choices: Allowed values of a choice lever.
        low: Lowest allowed value (None if open), in the schema's units.
        high: Highest allowed value (None if open).
        slider: The slider's range (the limits, narrowed by :data:`SLIDER_RANGES`).
        step: The slider's step.
        scale: Shown value per stored value (100 for shares, else 1).
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
    scale: float = 1.0

    def label(self, lang: str) -> str:
        """The lever's name in ``lang``."""
        return t(self.path, lang)

    def meaning_in(self, lang: str) -> str:
        """The lever's meaning in ``lang`` (the schema's words where there is no translation)."""
        key = f"meaning_{self.path}"
        return t(key, lang) if key in TEXT else self.meaning

    @property
    def is_share(self) -> bool:
        """Whether the value is a share 0-1 (shown as a percentage)."""
        return self.unit.startswith("share")

    def unit_in(self, lang: str) -> str:
        """The unit as shown: ``%`` for shares, else the schema's unit in ``lang``."""
        return "%" if self.is_share else unit(self.unit, lang)

    def shown(self, value: float) -> float:
        """A stored value in the units on the screen."""
        return round(float(value) * self.scale, 10)

    def text(self, value: Any, lang: str) -> str:
        """A stored value as a box shows it (``40`` for a 0.4 share, ``12``)."""
        if self.kind == "choice":
            return str(value)
        return plain(self.shown(value), lang)

    def limit_text(self, value: float | None, lang: str) -> str:
        """One end of the allowed range, in the units on the screen."""
        if value is None:
            return "∞"
        return plain(self.shown(value), lang)


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
    if path in DASHBOARD_LIMITS:
        low, high = DASHBOARD_LIMITS[path]
    unit_name = str(extra.get("unit", ""))
    common: dict[str, Any] = {
        "path": path,
        "unit": unit_name,
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
    scale = 100.0 if unit_name.startswith("share") else 1.0
    return Lever(
        kind=kind,
        choices=(),
        low=low,
        high=high,
        slider=(lo, hi),
        step=step,
        scale=scale,
        **common,
    )


LEVERS: tuple[Lever, ...] = tuple(describe(p) for p in LEVER_PATHS)
BY_PATH: dict[str, Lever] = {lever.path: lever for lever in LEVERS}
REPLICATIONS = Lever(
    path="replications",
    kind="int",
    unit="runs",
    meaning="Runs of each scenario; more runs pin the averages down better and take longer",
    source=None,
    choices=(),
    low=REPLICATION_LIMITS[0],
    high=REPLICATION_LIMITS[1],
    slider=REPLICATION_LIMITS,
    step=1.0,
)
"""Runs per scenario: not a scenario field, but read and limited like a lever."""


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
    """A lever value that cannot be run: which lever, what was given, and what is wrong."""

    path: str
    message: str
    found: str = ""


@dataclass
class LeverError(ValueError):
    """Settings that cannot be run; ``problems`` says which and why."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{p.path}: {p.message}" for p in self.problems)


def excerpt(text: str, keep: int = 12) -> str:
    """A value as a message may quote it: at most ``keep`` characters, and how long it was."""
    text = str(text)
    if len(text) <= keep:
        return text
    return f"{text[:keep]}… ({len(text)})"


_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]")


def _number_text(text: str) -> str:
    """Typed number text as Python reads it: spaces out, a decimal comma as a point."""
    text = _SPACES.sub("", text).replace("−", "-")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    return text


def read(lever: Lever, value: Any, lang: str = "en", shown: bool = True) -> Any:
    """Turn a control's, a box's or a link's value into the lever's type, within its limits.

    Args:
        lever: The lever.
        value: A number, a choice, or text holding one (``"40"``, ``"0,4"``, ``"1 000"``).
        lang: Language of the refusal.
        shown: True if the value is in the units on the screen (per cent for a share),
            False if in the schema's (a share 0-1, as in a link or a scenario file).

    Returns:
        The value in the schema's units, as ``int``, ``float`` or ``str``.

    Raises:
        LeverError: If the value is too long, not of the lever's kind, or out of limits.
    """
    raw = value if isinstance(value, str) else repr(value) if isinstance(value, float) else value
    text = str(raw).strip()

    def bad(message: str) -> LeverError:
        return LeverError([Problem(lever.path, message, excerpt(text))])

    if len(text) > MAX_TEXT:
        raise bad(t("too_long", lang, n=number(len(text), lang, 0)))
    if lever.kind == "choice":
        if text not in lever.choices:
            choices = ", ".join(t(f"choice_{c}", lang) for c in lever.choices)
            raise bad(t("expected_choice", lang, choices=choices, found=excerpt(text)))
        return text
    try:
        given = float(_number_text(text))
    except ValueError:
        raise bad(t("expected_number", lang, found=excerpt(text))) from None
    if not math.isfinite(given):
        raise bad(t("expected_number", lang, found=excerpt(text)))
    stored = round(given / lever.scale, 12) if shown else given
    if lever.kind == "int" and not float(stored).is_integer():
        raise bad(t("expected_int", lang, found=excerpt(text)))
    too_low = lever.low is not None and stored < lever.low
    too_high = lever.high is not None and stored > lever.high
    if too_low or too_high:
        shown_unit = lever.unit_in(lang)
        raise bad(
            t(
                "expected_range",
                lang,
                low=lever.limit_text(lever.low, lang),
                high=f"{lever.limit_text(lever.high, lang)} {shown_unit}".rstrip(),
                found=f"{plain(lever.shown(stored), lang)} {shown_unit}".rstrip(),
            )
        )
    return int(stored) if lever.kind == "int" else float(stored)


def _conflict(e: ValidationError, path: str, lang: str) -> LeverError:
    """A combination the schema refuses, said as a refusal of the lever just set."""
    problems = []
    for err in e.errors():
        message = str(err["msg"]).removeprefix("Value error, ")
        section = ".".join(str(x) for x in err["loc"])
        # The other fields a message names (schema identifiers, e.g. step_down_week).
        names = [n for n in re.findall(r"[a-z]+(?:_[a-z]+)+", message) if n != path]
        others = ", ".join(f"{section}.{n}" if section else n for n in dict.fromkeys(names))
        problems.append(
            Problem(path, t("conflict", lang, others=others or section, problem=message))
        )
    return LeverError(problems)


def apply(base: Scenario, settings: Mapping[str, Any], lang: str = "en") -> Scenario:
    """The base scenario with stored-unit settings applied, fully validated.

    Args:
        base: The preset.
        settings: Lever paths mapped to values in the schema's units (as from :func:`read`
            with ``shown=False``, or from :func:`accept`).
        lang: Language of refusals.

    Returns:
        The validated scenario.

    Raises:
        LeverError: Every setting out of limits, or a combination the schema rejects
            (such as a wage subsidy step-down after its last week).
    """
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    for path, value in settings.items():
        if path not in BY_PATH:
            problems.append(Problem(path, t("unknown_key", lang, name=excerpt(path))))
            continue
        try:
            parsed[path] = read(BY_PATH[path], value, lang, shown=False)
        except LeverError as e:
            problems += e.problems
    if problems:
        raise LeverError(problems)
    try:
        return base.with_overrides(parsed)
    except ValidationError as e:
        raise _conflict(e, next(iter(parsed), ""), lang) from None


def accept(
    base: Scenario,
    settings: Mapping[str, Any],
    path: str,
    value: Any,
    lang: str = "en",
    shown: bool = True,
) -> dict[str, Any]:
    """The settings with one more value, if the lever and the whole scenario accept it.

    Args:
        base: The preset.
        settings: Accepted settings (stored units), which the base accepts together.
        path: The lever being set.
        value: The new value (text or number).
        lang: Language of a refusal.
        shown: Whether ``value`` is in the units on the screen (see :func:`read`).

    Returns:
        New settings: a value equal to the preset's own is left out, so that the settings
        say only what differs.

    Raises:
        LeverError: The value was refused; ``settings`` is untouched.
    """
    if path not in BY_PATH:
        raise LeverError([Problem(path, t("unknown_key", lang, name=excerpt(path)))])
    new_value = read(BY_PATH[path], value, lang, shown)
    new = {p: v for p, v in settings.items() if p != path}
    if new_value != stored_value(base, path):
        new[path] = new_value
    ordered = {p: new[p] for p in LEVER_PATHS if p in new}
    try:
        base.with_overrides(ordered)
    except ValidationError as e:
        raise _conflict(e, path, lang) from None
    return ordered


def neighbours(base: Scenario, settings: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
    """The settings with one lever a slider step lower and higher, where both are accepted.

    What an arrow key on that lever's slider would ask for next (the value the slider
    shows, plus or minus its step, read as a slider's value is read).

    Args:
        base: The preset.
        settings: Accepted settings (stored units).
        path: The lever.

    Returns:
        Up to two settings; none for a choice or an unknown lever.
    """
    lever = BY_PATH.get(path)
    if lever is None or lever.kind == "choice":
        return []
    shown = lever.shown(value_of(apply(base, settings), path))
    step = round(lever.step * lever.scale, 10)
    out = []
    for value in (round(shown - step, 10), round(shown + step, 10)):
        try:
            out.append(accept(base, settings, path, value))
        except LeverError:
            continue
    return out


def changed(base: Scenario, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that differ from what the base scenario holds, in lever order."""
    return {
        path: settings[path]
        for path in LEVER_PATHS
        if path in settings and settings[path] != stored_value(base, path)
    }


def shown_value(lever: Lever, value: Any, lang: str) -> str:
    """A lever's value for people: choices by name, shares in per cent, units after numbers."""
    if lever.kind == "choice":
        return t(f"choice_{value}", lang)
    if value is None:
        return t("method_own", lang)
    shown = lever.shown(value)
    decimals = (
        0 if lever.kind == "int" else max(0, -math.floor(math.log10(lever.step * lever.scale)))
    )
    while decimals < 3 and round(shown, decimals) != shown:  # a typed 33,3 % stays 33,3 %
        decimals += 1
    text = number(shown, lang, decimals)
    return f"{text}\u00a0{lever.unit_in(lang)}"
