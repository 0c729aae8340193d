"""How problems in input files are worded: pydantic's errors as one-line messages.

Every file kind (scenario, experiment, trial, calibration, targets, ensemble) is
validated by pydantic models; :func:`translate` turns pydantic's errors into
:class:`Problem` s worded the same way for all of them: the dotted field, what
was expected (with the violated bound) and what was found, shown as TOML writes
it::

    follow_up.caseload: expected an integer >= 1, found 0
    unknown key 'caseloda' in [follow_up]; did you mean 'caseload'?

A misspelt required key is one problem, not two (an unknown key, and the key it
should have been missing), worded at the misspelling and marked to be shown first::

    unknown key 'trails' in [trial], did you mean 'trials'? (trial.trials is required)
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from introsim.params.paths import Loc, get, join, label

__all__ = [
    "Problem",
    "annotation_at",
    "dedupe",
    "describe",
    "precheck",
    "section_label",
    "show",
    "translate",
]

_FIELD_FIRST = re.compile(r"^([a-z_]+(?:\.[a-z_]+)+): (.*)$", re.DOTALL)
_MAX_SHOWN = 60
EXTENDS = "extends"
"""The top-level key of a scenario file naming the file it builds on."""


@dataclass
class Problem:
    """One problem before it is placed in a file.

    Attributes:
        loc: Where in the data it is.
        message: What was expected and what was found.
        names_itself: The message already names the key (unknown keys), so it is
            not prefixed with the field.
        leads: Shown before the other problems of its file: a misspelt required key,
            which explains the key missing and is the one line worth reading first.
    """

    loc: Loc
    message: str
    names_itself: bool = False
    leads: bool = False


# --------------------------------------------------------------------------- checks pydantic lacks
def precheck(value: Any, annotation: Any, loc: Loc) -> list[Problem]:
    """Catch what pydantic's lax mode would let through in numeric fields.

    Booleans, strings, nan and inf are refused (``true`` would silently become 1,
    ``"10"`` would become 10, and nan slips past unbounded fields).
    """
    problems: list[Problem] = []
    model = model_class(annotation)
    if model is not None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in model.model_fields:
                    sub = model.model_fields[key].annotation
                    problems += precheck(item, sub, (*loc, key))
        return problems
    items = item_annotation(annotation, None)
    if items is not None and isinstance(value, list):
        for index, item in enumerate(value):
            problems += precheck(item, item_annotation(annotation, index), (*loc, index))
        return problems
    kind = numeric_kind(annotation)
    if kind is None:
        return problems
    if isinstance(value, bool | str):
        problems.append(Problem(loc, f"expected {kind}, found {describe(value)}"))
    elif isinstance(value, float) and not math.isfinite(value):
        problems.append(Problem(loc, f"expected a finite number, found {show(value)}"))
    return problems


# --------------------------------------------------------------------------- pydantic's errors
def translate(
    exc: ValidationError, data: Any, root: type[BaseModel], at: Loc = ()
) -> list[Problem]:
    """Turn pydantic's errors into one-line problems.

    Args:
        exc: The error of validating ``data`` with ``root``.
        data: What was validated.
        root: The model validated.
        at: Where ``data`` sits in its file (put before every problem's location).

    Returns:
        One problem per error, in pydantic's order.
    """
    problems = []
    errors = exc.errors(include_url=False)
    missing = {tuple(e["loc"]) for e in errors if e["type"] == "missing"}
    explained: set[Loc] = set()  # missing keys an unknown key's misspelling explains
    for err in errors:
        loc: Loc = tuple(err["loc"])
        kind = err["type"]
        found = err.get("input")
        ctx = err.get("ctx") or {}
        if kind == "extra_forbidden":
            problem, meant = _unknown_key(root, loc, found, at, missing)
            if meant is not None:
                explained.add((*at, *meant))
            problems.append(problem)
            continue
        if kind == "missing" and loc and isinstance(loc[-1], int):
            # A fixed-length array that is too short reports each absent item.
            loc = loc[:-1]
            size = len(typing.get_args(annotation_at(root, loc)))
            got = get(data, loc, None)
            count = len(got) if isinstance(got, list) else "?"
            problems.append(
                Problem((*at, *loc), f"expected an array of {size} items, found {count}")
            )
            continue
        annotation = annotation_at(root, loc)
        expected = _expected(annotation)
        bound = _bound(kind, ctx)
        if bound is not None:
            hint = _per_cent(found, {**_bounds(root, loc), **ctx})
            message = f"expected {expected} {bound}, found {show(found)}{hint}"
        elif kind == "literal_error":
            choices = [str(c) for c in typing.get_args(strip_optional(annotation))]
            message = f"expected one of {', '.join(choices)}, found {describe(found)}"
            if isinstance(found, str):
                close = difflib.get_close_matches(found, choices, n=1)
                if close:
                    message += f"; did you mean {close[0]!r}?"
        elif kind in ("value_error", "assertion_error"):
            text = str(ctx.get("error") or err["msg"])
            text = re.sub(r"^(Value|Assertion) error,?\s*", "", text)
            if not loc and (placed := _FIELD_FIRST.match(text)):
                # A rule across sections names the field at fault first: put it there.
                loc, text = tuple(placed[1].split(".")), placed[2]
                found = get(data, loc, None)
            message = f"expected {text}"
            if ", found" not in text and not isinstance(found, dict):
                message += f", found {show(found)}"
        elif kind in ("too_short", "too_long"):
            limit = ctx.get("min_length" if kind == "too_short" else "max_length")
            length = len(found) if isinstance(found, list | tuple) else ctx.get("actual_length")
            if isinstance(found, str):
                most = "at least" if kind == "too_short" else "at most"
                message = f"expected a string of {most} {limit} characters, found {length}"
            elif typing.get_origin(strip_optional(annotation)) is tuple:
                message = f"expected an array of {limit} items, found {length}"
            else:
                most = "at least" if kind == "too_short" else "at most"
                message = f"expected an array of {most} {limit} items, found {length}"
        elif kind == "int_parsing_size":
            most = _upper_bound(root, loc)
            within = f" <= {show(most)}" if most is not None else " of at most 64 bits"
            message = f"expected {expected}{within}, found {show(found)}"
        elif kind == "finite_number":
            message = f"expected a finite number, found {show(found)}"
        elif kind == "missing":
            message = "required but missing"
        elif kind == "string_pattern_mismatch":
            message = f"expected letters, digits, '_', '.' or '-', found {show(found)}"
        elif kind.endswith(("_type", "_parsing", "_from_float")) or kind.startswith("model_"):
            message = f"expected {expected}, found {describe(found)}"
        else:
            message = f"{err['msg']}, found {describe(found)}"
        problems.append(Problem((*at, *loc), message))
    return [p for p in problems if p.leads or p.loc not in explained]


def _unknown_key(
    root: type[BaseModel], loc: Loc, value: Any, at: Loc, missing: set[Loc]
) -> tuple[Problem, Loc | None]:
    """Describe an unknown key or section, with a close-match suggestion.

    Args:
        root: The model validated.
        loc: The unknown key's location below ``root``.
        value: Its value.
        at: Where ``root``'s data sits in its file.
        missing: The locations (below ``root``) of the required keys found missing.

    Returns:
        The problem, and the location of the missing required key it is a misspelling
        of (its close match), or None.
    """
    parent, key = loc[:-1], str(loc[-1])
    model = model_class(annotation_at(root, parent)) if parent else root
    is_table = isinstance(value, dict)
    valid = list(model.model_fields) if model is not None else []
    scenario_top = not at and not parent and "scenario" in root.model_fields
    if scenario_top and not is_table:
        valid.append(EXTENDS)
    close = difflib.get_close_matches(key, valid, n=1)
    where_loc = (*at, *parent)
    if is_table:
        message = f"unknown section [{join((*at, *loc))}]"
        hint = f"; did you mean [{join((*where_loc, close[0]))}]?" if close else ""
    else:
        where = f"in {section_label(where_loc)}" if where_loc else "at top level"
        message = f"unknown key {key!r} {where}"
        hint = f"; did you mean {close[0]!r}?" if close else ""
    meant = (*parent, close[0]) if close else None
    if meant in missing:
        # The key it should have been is required and missing: one line that says both.
        required = f"[{join((*at, *meant))}]" if is_table else label((*at, *meant))
        message += f", {hint[2:]} ({required} is required)"
        return Problem((*at, *loc), message, names_itself=True, leads=True), meant
    if key == EXTENDS and parent and "scenario" in root.model_fields:
        hint = "; extends must be at the top of the file, before any [section]"
    if not hint and not is_table:
        for name, info in root.model_fields.items():
            home = model_class(info.annotation)
            if home is not None and key in home.model_fields and (name,) != parent:
                hint = f"; {key!r} belongs in [{join((*at, name))}]"
                break
    if not hint and 0 < len(valid) <= 12:
        hint = f"; valid: {', '.join(valid)}"
    return Problem((*at, *loc), message + hint, names_itself=True), None


def dedupe(problems: list[Problem]) -> list[Problem]:
    """Drop problems at or inside a location already reported."""
    kept: list[Problem] = []
    for problem in problems:
        if not any(k.loc and problem.loc[: len(k.loc)] == k.loc for k in kept):
            kept.append(problem)
    return kept


# --------------------------------------------------------------------------- schema helpers
def model_class(annotation: Any) -> type[BaseModel] | None:
    """Return the model class an annotation names, or None."""
    annotation = strip_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def strip_optional(annotation: Any) -> Any:
    """Turn ``X | None`` into ``X`` (and ``Annotated[X, ...]`` into ``X``)."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def item_annotation(annotation: Any, index: int | None) -> Any:
    """Return the annotation of item ``index`` of an array annotation (None if not an array)."""
    annotation = strip_optional(annotation)
    if typing.get_origin(annotation) not in (tuple, list):
        return None
    args = typing.get_args(annotation)
    if not args:
        return Any
    if len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    if index is None or typing.get_origin(annotation) is list:
        return args[0]
    return args[index] if index < len(args) else None


def annotation_at(root: type[BaseModel], loc: Loc) -> Any:
    """Return the annotation at ``loc`` below ``root`` (None where there is no such field)."""
    annotation: Any = root
    for part in loc:
        model = model_class(annotation)
        if model is not None and isinstance(part, str):
            info = model.model_fields.get(part)
            annotation = info.annotation if info is not None else None
        elif isinstance(part, int):
            annotation = item_annotation(annotation, part)
        else:
            return None
        if annotation is None:
            return None
    return annotation


def _bounds(root: type[BaseModel], loc: Loc) -> dict[str, Any]:
    """The bounds (``ge``, ``gt``, ``le``, ``lt``) of the field at ``loc``."""
    parent = model_class(annotation_at(root, loc[:-1])) if loc else None
    info = parent.model_fields.get(str(loc[-1])) if parent is not None else None
    return {
        name: getattr(m, name)
        for m in (info.metadata if info is not None else [])
        for name in ("ge", "gt", "le", "lt")
        if getattr(m, name, None) is not None
    }


def _upper_bound(root: type[BaseModel], loc: Loc) -> Any:
    """Return the ``le`` bound of the field at ``loc``, or None."""
    return _bounds(root, loc).get("le")


def numeric_kind(annotation: Any) -> str | None:
    """Return "an integer" or "a number" for numeric annotations, else None."""
    annotation = strip_optional(annotation)
    if annotation is int:
        return "an integer"
    if annotation is float:
        return "a number"
    return None


def _expected(annotation: Any) -> str:
    """Say in words what a field of this annotation takes."""
    if model_class(annotation) is not None:
        return "a table"
    kind = numeric_kind(annotation)
    if kind is not None:
        return kind
    plain = strip_optional(annotation)
    if plain is str:
        return "a string"
    if plain is bool:
        return "a boolean"
    if typing.get_origin(plain) is typing.Literal:
        return "one of " + ", ".join(str(a) for a in typing.get_args(plain))
    item = item_annotation(plain, None)
    if item is not None:
        args = typing.get_args(plain)
        words = {int: "integers", float: "numbers", str: "strings"}
        noun = words.get(strip_optional(item), "tables" if model_class(item) else "items")
        if typing.get_origin(plain) is list or (len(args) == 2 and args[1] is Ellipsis):
            return f"an array of {noun}"
        return f"an array of {len(args)} {noun}"
    return "a value"


def _bound(kind: str, ctx: dict[str, Any]) -> str | None:
    """Phrase the violated bound of a range error, e.g. ``>= 1``."""
    symbols = {
        "greater_than_equal": ("ge", ">="),
        "greater_than": ("gt", ">"),
        "less_than_equal": ("le", "<="),
        "less_than": ("lt", "<"),
    }
    if kind not in symbols:
        return None
    name, symbol = symbols[kind]
    return f"{symbol} {show(ctx.get(name))}"


def _per_cent(found: Any, ctx: dict[str, Any]) -> str:
    """A hint where a share at most 1 looks written in per cent (3.5 for 0.035), else ''."""
    high = ctx.get("le", ctx.get("lt"))
    if isinstance(found, bool) or not isinstance(found, int | float) or high is None:
        return ""
    share = found / 100
    low = ctx.get("ge", ctx.get("gt", 0))
    # From 2 up: 1.5 for a share is as likely 150 % as 1.5 %.
    if not (0 < high <= 1 and 2 <= found <= 100 and low <= share <= high and low >= 0):
        return ""
    return f"; did you mean {share:g}? (a share is written from 0 to 1, not in per cent)"


# --------------------------------------------------------------------------- values in words
def section_label(loc: Loc) -> str:
    """Name a table as written in TOML: ``[follow_up]`` or ``[[labour_market.sectors]] #2``."""
    if loc and isinstance(loc[-1], int):
        names = ".".join(str(p) for p in loc[:-1] if not isinstance(p, int))
        return f"[[{names}]] #{loc[-1] + 1}"
    return f"[{'.'.join(str(p) for p in loc)}]"


def show(value: Any) -> str:
    """Show a value as TOML would write it, shortened."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        if math.isnan(value):
            text = "nan"
        elif math.isinf(value):
            text = "inf" if value > 0 else "-inf"
        else:
            text = repr(value).removesuffix(".0")
    elif isinstance(value, str):
        text = repr(value)
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {show(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(show(v) for v in value) + "]"
    elif isinstance(value, dt.date | dt.time):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def describe(value: Any) -> str:
    """Name a value's TOML type and show it: ``string 'ten'``, ``integer 5``."""
    if isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, int):
        kind = "integer"
    elif isinstance(value, float):
        kind = "float"
    elif isinstance(value, str):
        kind = "string"
    elif isinstance(value, dict):
        kind = "table"
    elif isinstance(value, list | tuple):
        kind = "array"
    elif isinstance(value, dt.datetime):
        kind = "date-time"
    elif isinstance(value, dt.date):
        kind = "date"
    elif isinstance(value, dt.time):
        kind = "time"
    else:
        kind = type(value).__name__
    return f"{kind} {show(value)}"
