"""Where each key of a TOML file is written: the line of every section and key, by path.

:mod:`tomllib` gives data without positions; error messages need the line of the
offending key. :func:`scan_lines` is a light scan, not a parser: it runs only on
text tomllib has accepted, skips the insides of multi-line strings and arrays, and
records first occurrences.
"""

from __future__ import annotations

import re

from introsim.params.paths import Loc

__all__ = ["scan_lines"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def scan_lines(text: str) -> dict[Loc, int]:
    """Map the path of each ``[section]``, ``[[array]]`` and ``key =`` to its line.

    Keys inside inline tables map to the line of the key holding the table. A quoted
    key holding dots (``"follow_up.caseload" = 10``, as experiment factors are written)
    is found both as written and by its parts.
    """
    lines: dict[Loc, int] = {}
    table: Loc = ()
    arrays: dict[Loc, int] = {}
    mode: str | None = None
    depth = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if mode is not None or depth > 0:
            mode, depth = _advance(raw, mode, depth)
            continue
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            is_array = stripped.startswith("[[")
            end = stripped.find("]]" if is_array else "]")
            key = _parse_key(stripped[2 if is_array else 1 : end]) if end > 0 else None
            if key is None:
                continue
            loc: Loc = ()
            for part in key:
                loc = (*loc, part)
                if loc in arrays and (loc != key or not is_array):
                    loc = (*loc, arrays[loc])
            if is_array:
                index = arrays.get(loc, -1) + 1
                arrays[loc] = index
                lines.setdefault(loc, number)
                loc = (*loc, index)
            for size in range(1, len(loc) + 1):
                lines.setdefault(loc[:size], number)
            table = loc
            continue
        split = _key_end(stripped)
        if split is None:
            continue
        key = _parse_key(stripped[:split])
        if key is None:
            continue
        for size in range(1, len(key) + 1):
            lines.setdefault((*table, *key[:size]), number)
        mode, depth = _advance(stripped[split + 1 :], None, 0)
    for loc, number in list(lines.items()):
        if any(isinstance(part, str) and "." in part for part in loc):
            parts = tuple(
                p for part in loc for p in (part.split(".") if isinstance(part, str) else (part,))
            )
            lines.setdefault(parts, number)
    return lines


def _key_end(line: str) -> int | None:
    """Return the index of the ``=`` ending a key, ignoring ``=`` inside quoted keys."""
    quote: str | None = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "=":
            return index
        elif char == "#":
            return None
    return None


def _parse_key(text: str) -> tuple[str, ...] | None:
    """Split a TOML key (bare, quoted or dotted) into its parts; None if unreadable."""
    parts: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return None
        if text[i] in "\"'":
            quote = text[i]
            j = i + 1
            while j < n and text[j] != quote:
                j += 2 if quote == '"' and text[j] == "\\" else 1
            if j >= n:
                return None
            parts.append(text[i + 1 : j])
            i = j + 1
        else:
            match = _BARE_KEY.match(text, i)
            if not match:
                return None
            parts.append(match.group())
            i = match.end()
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return tuple(parts)
        if text[i] != ".":
            return None
        i += 1


def _advance(text: str, mode: str | None, depth: int) -> tuple[str | None, int]:
    """Track multi-line strings and bracket depth across one line of a value."""
    i, n = 0, len(text)
    while i < n:
        if mode is not None:
            end = text.find(mode, i)
            if end < 0:
                return mode, depth
            i, mode = end + 3, None
            continue
        char = text[i]
        if text.startswith('"""', i) or text.startswith("'''", i):
            mode = text[i : i + 3]
            i += 3
        elif char == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif char == "'":
            end = text.find("'", i + 1)
            i = n if end < 0 else end + 1
        elif char == "#":
            break
        else:
            if char in "[{":
                depth += 1
            elif char in "]}":
                depth = max(depth - 1, 0)
            i += 1
    return mode, depth
