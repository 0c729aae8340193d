"""Dotted paths such as ``follow_up.caseload``: the one way scenario fields are named.

Scenario files, ``--set``, experiment factors, calibration parameters and
ensemble members all name a field by its dotted path. These functions read,
write, flatten and nest values by such paths, on plain nested dictionaries (TOML
data) and on models alike, and print a location (path parts with array indices)
the way error messages show it: ``labour_market.sectors[1].share``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["Loc", "flatten", "get", "join", "label", "nest", "set_in", "split"]

Loc = tuple[str | int, ...]
"""A location in nested data: keys and array indices, e.g. ``("labour_market", "sectors", 1)``."""


def split(dotted: str) -> tuple[str, ...]:
    """``"follow_up.caseload"`` as ``("follow_up", "caseload")``."""
    return tuple(dotted.split("."))


def join(parts: Iterable[str | int]) -> str:
    """``("follow_up", "caseload")`` as ``"follow_up.caseload"``."""
    return ".".join(str(p) for p in parts)


def label(loc: Loc) -> str:
    """A location as messages show it: ``labour_market.sectors[1].share``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def get(node: Any, dotted: str | Loc, default: Any = KeyError) -> Any:
    """The value at a dotted path in nested dicts, lists or models (attributes).

    Args:
        node: A dict (TOML data), a pydantic model or any object with attributes.
        dotted: The path, dotted or as parts (integers index lists).
        default: Returned where the path does not exist; by default ``KeyError`` is raised.

    Returns:
        The value.

    Raises:
        KeyError: The path does not exist and no default was given.
    """
    parts = split(dotted) if isinstance(dotted, str) else dotted
    for part in parts:
        try:
            if isinstance(node, Mapping):
                node = node[part]
            elif isinstance(node, list | tuple) and isinstance(part, int):
                node = node[part]
            else:
                node = getattr(node, str(part))
        except (KeyError, IndexError, AttributeError, TypeError):
            if default is KeyError:
                raise KeyError(join(parts)) from None
            return default
    return node


def set_in(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``value`` at a dotted path in nested dicts, making the tables on the way.

    Raises:
        ValueError: A part of the path already holds a value, not a table.
    """
    *parents, leaf = split(dotted)
    node = data
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ValueError(f"{dotted!r} is set twice, as a value and a table")
    if isinstance(node.get(leaf), dict) and not isinstance(value, dict):
        raise ValueError(f"{dotted!r} is set twice, as a value and a table")
    node[leaf] = value


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted paths mapped to values, as nested tables: ``{"a.b": 1}`` gives ``{"a": {"b": 1}}``.

    Raises:
        ValueError: One path is a prefix of another (a value and a table at once).
    """
    nested: dict[str, Any] = {}
    for dotted, value in flat.items():
        set_in(nested, dotted, value)
    return nested


def flatten(
    nested: Mapping[str, Any],
    *,
    leaf: Callable[[Mapping[str, Any]], bool] | None = None,
    prefix: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Nested tables as dotted paths mapped to values; quoted dotted keys are split.

    ``{"a": {"b": 1}}`` and ``{"a.b": 1}`` both give ``{"a.b": 1}``.

    Args:
        nested: The tables.
        leaf: Says whether a table is itself a value (a factor's ``{min, max}``), not
            a level of the path; by default every table is a level.
        prefix: Parts put before every path.

    Returns:
        Dotted path mapped to value, in the order written.
    """
    out: dict[str, Any] = {}
    for key, value in nested.items():
        parts = (*prefix, *split(str(key)))
        if isinstance(value, Mapping) and not (leaf is not None and leaf(value)):
            out.update(flatten(value, leaf=leaf, prefix=parts))
        else:
            out[join(parts)] = value
    return out
