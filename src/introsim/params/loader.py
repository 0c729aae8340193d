"""Read TOML scenario files into :class:`introsim.params.schema.Scenario`.

A scenario file holds only overrides of the schema defaults. A top-level key
``extends = "other.toml"`` (relative to the file that writes it) inherits a
whole other file first: tables merge key by key, arrays and arrays of tables
replace wholesale, and chains (c extends b extends a) work.

Files are data: they are parsed with :mod:`tomllib`, never evaluated. Every
problem with a file, from a missing file to a rate above 1, is raised as one
:class:`ScenarioError` whose message is a single line naming the file, the
line where known, the dotted field, what was expected and what was found::

    scenarios/bad.toml:12: follow_up.caseload: expected an integer >= 1, found 0
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import errno
import math
import os
import re
import stat
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from introsim.params.schema import Scenario

__all__ = ["ScenarioError", "load_scenario", "load_scenario_data", "validate_files"]

Loc = tuple[str | int, ...]

_EXTENDS = "extends"
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_FIELD_FIRST = re.compile(r"^([a-z_]+(?:\.[a-z_]+)+): (.*)$", re.DOTALL)
_MAX_SHOWN = 60

MAX_FILE_BYTES = 1 << 20
"""Largest scenario file read: scenario files hold overrides, a few KiB."""


class ScenarioError(Exception):
    """A scenario file could not be read, resolved or validated.

    ``str(err)`` is one line: ``FILE[:LINE]: [FIELD: ]MESSAGE``.

    Attributes:
        path: The file at fault (for an ``extends`` chain, the file in the chain
            that wrote the offending key).
        line: 1-based line of the offending key or section, or None if unknown.
        field: Dotted field such as ``follow_up.caseload``, or None when the
            problem concerns the whole file.
        message: The message without the location prefix.
        errors: Every problem found, each formatted as one line like ``str(err)``;
            the first is this error itself.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
        show_field: bool = True,
        errors: list[str] | None = None,
    ) -> None:
        """Build the error.

        Args:
            path: The file at fault.
            message: What was expected and what was found (newlines are flattened).
            line: 1-based line number, if known.
            field: Dotted field name, if the problem concerns one field.
            show_field: Whether to prefix the message with ``field:``; off when the
                message already names the key (unknown keys).
            errors: All problems found, formatted; defaults to this one alone.
        """
        self.path = Path(path)
        self.line = line
        self.field = field
        self.message = " ".join(str(message).split())
        location = f"{self.path}:{line}" if line is not None else str(self.path)
        prefix = f"{field}: " if field and show_field else ""
        text = f"{location}: {prefix}{self.message}"
        super().__init__(text)
        self.errors: list[str] = list(errors) if errors else [text]
        if self.errors[0] != text:
            self.errors.insert(0, text)


# --------------------------------------------------------------------------- public API
def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read a scenario file, resolve its ``extends`` chain and validate it.

    Args:
        path: The TOML scenario file.

    Returns:
        The validated scenario. When ``path`` itself does not set
        ``[scenario] name``, the name is the file's stem (a name written in a file
        it extends is not inherited, so two scenarios never share a name by accident).

    Raises:
        ScenarioError: For any problem with the file or its contents; the message
            is the first problem, ``errors`` holds them all.
    """
    return _validated(_resolve(Path(path)))


def load_scenario_with(
    path: str | os.PathLike[str],
    overrides: Mapping[str, Any],
    *,
    source: str | os.PathLike[str],
    lines: Mapping[str, int] | None = None,
) -> Scenario:
    """Read a scenario file and apply dotted-path overrides, validating both together.

    The overrides behave as one more file on top of the ``extends`` chain, so a
    bad value is reported like a bad value in a file: naming ``source``, the line
    where the override was written and its dotted field.

    Args:
        path: The TOML scenario file.
        overrides: Dotted paths mapped to values, e.g. ``{"follow_up.caseload": 10}``.
        source: Where the overrides were written (an experiment file, or ``--set``).
        lines: The line in ``source`` of each dotted path, where known.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: For any problem with the file or the overrides.
    """
    resolved = _resolve(Path(path))
    nested: dict[str, Any] = {}
    for dotted, value in overrides.items():
        node = nested
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ScenarioError(source, f"{dotted!r} is set twice, as a value and a table")
        node[leaf] = value
    placed = {tuple(k.split(".")): v for k, v in (lines or {}).items()}
    file = _File(Path(source), nested, placed)
    resolved.data = _merge(resolved.data, nested, resolved.origins, file, ())
    resolved.chain.insert(0, file)
    return _validated(resolved)


def read_toml(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[Loc, int]]:
    """Read any TOML file of the project (scenario, experiment, study) with the same care.

    Args:
        path: The file.

    Returns:
        The parsed data and the line of each key and section, by path tuple.

    Raises:
        ScenarioError: One line naming the file (and line) when it cannot be read or parsed.
    """
    p = Path(path)
    text = _read_text(p)
    return _parse(p, text), _scan_lines(text)


def _validated(resolved: _Resolved) -> Scenario:
    """Validate merged data; raise the first problem as a ScenarioError, with all of them."""
    problems = _precheck(resolved.data, Scenario, ())
    try:
        scenario = Scenario.model_validate(resolved.data)
    except ValidationError as exc:
        problems += _translate(exc, resolved.data)
    else:
        if not problems:
            return scenario
    placed = [(_to_error(p, resolved), p) for p in _dedupe(problems)]
    # First problem first: the named file before the files it extends, then by line.
    order = {file.path: index for index, file in enumerate(resolved.chain)}
    placed.sort(key=lambda ep: (order.get(ep[0].path, 0), ep[0].line or 1 << 30))
    first, problem = placed[0]
    raise ScenarioError(
        first.path,
        first.message,
        line=first.line,
        field=first.field,
        show_field=not problem.names_itself,
        errors=[str(e) for e, _ in placed],
    )


def load_scenario_data(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a scenario file and resolve its ``extends`` chain, without validating.

    Args:
        path: The TOML scenario file.

    Returns:
        The merged raw data (``extends`` removed, ``[scenario] name`` defaulted to
        the file stem when the file does not set it), as validation would see it.

    Raises:
        ScenarioError: If a file in the chain cannot be read or parsed, is empty,
            or the chain is broken (missing target, cycle, non-string ``extends``).
    """
    return _resolve(Path(path)).data


def validate_files(paths: Iterable[str | os.PathLike[str]]) -> list[ScenarioError]:
    """Load each file in turn and collect the errors.

    Args:
        paths: Scenario files.

    Returns:
        One :class:`ScenarioError` per bad file, in the order given; empty when
        every file is valid.
    """
    found: list[ScenarioError] = []
    for path in paths:
        try:
            load_scenario(path)
        except ScenarioError as exc:
            found.append(exc)
    return found


# --------------------------------------------------------------------------- reading files
@dataclass
class _File:
    """One file of an ``extends`` chain."""

    path: Path
    data: dict[str, Any]
    lines: dict[Loc, int]
    extends: str = ""


@dataclass
class _Resolved:
    """The merged data of a chain and which file wrote each value."""

    chain: list[_File]
    data: dict[str, Any]
    origins: dict[Loc, _File] = field(default_factory=dict)


def _read_text(path: Path, *, referrer: _File | None = None) -> str:
    """Return the text of ``path`` or raise a one-line ScenarioError.

    Only regular files up to :data:`MAX_FILE_BYTES` are read: a device such as
    ``/dev/zero`` would be read until memory runs out, and a FIFO would block forever.
    """
    if referrer is not None and not _exists(path):
        written = referrer.extends
        looked = f" (looked for {path})" if Path(written) != path else ""
        raise ScenarioError(
            referrer.path,
            f"file {written!r} not found{looked}",
            line=referrer.lines.get((_EXTENDS,)),
            field=_EXTENDS,
        )
    if referrer is not None and path.is_dir():
        raise ScenarioError(
            referrer.path,
            f"{referrer.extends!r} is a directory, not a scenario file",
            line=referrer.lines.get((_EXTENDS,)),
            field=_EXTENDS,
        )
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the fstat below refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ScenarioError(path, "file does not exist") from None
    except IsADirectoryError:
        raise ScenarioError(path, "is a directory, not a scenario file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ScenarioError(
                path, "symbolic link loop: the link points back at itself"
            ) from None
        if path.is_dir():
            raise ScenarioError(path, "is a directory, not a scenario file") from None
        raise ScenarioError(path, f"cannot read file: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ScenarioError(path, "is a directory, not a scenario file")
        if not stat.S_ISREG(mode):
            raise ScenarioError(
                path, f"is not a regular file ({_file_kind(mode)}); name a TOML file"
            )
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(path, f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            path,
            f"file is larger than {MAX_FILE_BYTES // 1024} KiB; a scenario file holds overrides",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(
            path,
            f"file is not UTF-8 text: invalid byte 0x{raw[exc.start]:02x} "
            f"at byte offset {exc.start}; save it as UTF-8",
            line=line,
        ) from None


def _exists(path: Path) -> bool:
    """Whether ``path`` names something; a symbolic link loop counts (it is reported on reading)."""
    return os.path.lexists(path)


def _file_kind(mode: int) -> str:
    """Name the kind of a non-regular file from its ``st_mode``."""
    kinds = (
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a file")


def _parse(path: Path, text: str) -> dict[str, Any]:
    """Parse TOML text, turning syntax errors into a ScenarioError with the line."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ScenarioError(path, "invalid TOML: arrays or tables nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        message = getattr(exc, "msg", None) or str(exc)
        line = getattr(exc, "lineno", None)
        column = getattr(exc, "colno", None)
        if match := _TOML_POSITION.search(message):
            line, column = int(match[1]), int(match[2])
            message = message[: match.start()]
        elif match := _TOML_AT_END.search(message):
            message = message[: match.start()] + " at end of file"
            line = text.count("\n") + (0 if text.endswith("\n") else 1) or None
        where = f" (column {column})" if column else ""
        raise ScenarioError(path, f"invalid TOML: {message}{where}", line=line) from None


def _load_file(path: Path, *, referrer: _File | None = None) -> tuple[_File, Any]:
    """Read and parse one file; return it (without ``extends``) and its ``extends``."""
    text = _read_text(path, referrer=referrer)
    data = _parse(path, text)
    if not data:
        raise ScenarioError(path, "file is empty; a scenario needs at least [scenario] name")
    lines = _scan_lines(text)
    extends = data.pop(_EXTENDS, None)
    return _File(path, data, lines), extends


def _resolve(path: Path) -> _Resolved:
    """Load ``path`` and its ``extends`` chain, merge them and default the name."""
    chain: list[_File] = []
    seen: list[Path] = []
    current, referrer = path, None
    while True:
        key = _identity(current)
        if key in seen:
            names = [f.path for f in chain] + [current]
            labels = [p.name for p in names]
            if len(set(labels)) < len({_identity(p) for p in names}):
                labels = [str(p) for p in names]
            raise ScenarioError(
                referrer.path if referrer is not None else current,
                "cycle " + " -> ".join(labels),
                line=referrer.lines.get((_EXTENDS,)) if referrer is not None else None,
                field=_EXTENDS,
            )
        seen.append(key)
        file, extends = _load_file(current, referrer=referrer)
        chain.append(file)
        if extends is None:
            break
        if not isinstance(extends, str) or not extends.strip():
            raise ScenarioError(
                file.path,
                f"expected a string naming a TOML file, found {_describe(extends)}",
                line=file.lines.get((_EXTENDS,)),
                field=_EXTENDS,
            )
        file.extends = extends
        current = Path(os.path.normpath(file.path.parent / extends))
        referrer = file

    root = chain[-1]
    resolved = _Resolved(chain, copy.deepcopy(root.data))
    _mark(resolved.origins, resolved.data, root, ())
    for file in reversed(chain[:-1]):
        resolved.data = _merge(resolved.data, file.data, resolved.origins, file, ())

    top = chain[0]
    meta = top.data.get("scenario")
    if not (isinstance(meta, dict) and "name" in meta):
        section = resolved.data.setdefault("scenario", {})
        if isinstance(section, dict):
            section["name"] = path.stem
            resolved.origins[("scenario", "name")] = top
    return resolved


def _identity(path: Path) -> Path:
    """Return a key identifying a file regardless of how its path was spelt."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop (Python < 3.13)
        return Path(os.path.abspath(path))


def _merge(
    base: dict[str, Any],
    over: dict[str, Any],
    origins: dict[Loc, _File],
    file: _File,
    prefix: Loc,
) -> dict[str, Any]:
    """Deep-merge ``over`` into ``base`` (tables merge, the rest replaces), noting origins."""
    out = dict(base)
    for key, value in over.items():
        loc = (*prefix, key)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            origins[loc] = file
            out[key] = _merge(out[key], value, origins, file, loc)
        else:
            for old in [o for o in origins if o[: len(loc)] == loc]:
                del origins[old]
            out[key] = copy.deepcopy(value)
            _mark(origins, value, file, loc)
    return out


def _mark(origins: dict[Loc, _File], value: Any, file: _File, loc: Loc) -> None:
    """Record ``file`` as the origin of ``loc`` and everything below it."""
    if loc:
        origins[loc] = file
    if isinstance(value, dict):
        for key, item in value.items():
            _mark(origins, item, file, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _mark(origins, item, file, (*loc, index))


# --------------------------------------------------------------------------- line scan
def _scan_lines(text: str) -> dict[Loc, int]:
    """Map the dotted path of each ``[section]``, ``[[array]]`` and ``key =`` to its line.

    A light scan, not a parser: it runs only on text tomllib has accepted, skips
    the insides of multi-line strings and arrays, and records first occurrences.
    Keys inside inline tables map to the line of the key holding the table.
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


# --------------------------------------------------------------------------- validation
@dataclass
class _Problem:
    """One problem before it is placed in a file."""

    loc: Loc
    message: str
    names_itself: bool = False


def _precheck(value: Any, annotation: Any, loc: Loc) -> list[_Problem]:
    """Catch what pydantic's lax mode would let through in numeric fields.

    Booleans, strings, nan and inf are refused (``true`` would silently become 1,
    ``"10"`` would become 10, and nan slips past unbounded fields).
    """
    problems: list[_Problem] = []
    model = _model_class(annotation)
    if model is not None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in model.model_fields:
                    sub = model.model_fields[key].annotation
                    problems += _precheck(item, sub, (*loc, key))
        return problems
    items = _item_annotation(annotation, None)
    if items is not None and isinstance(value, list):
        for index, item in enumerate(value):
            problems += _precheck(item, _item_annotation(annotation, index), (*loc, index))
        return problems
    kind = _numeric_kind(annotation)
    if kind is None:
        return problems
    if isinstance(value, bool | str):
        problems.append(_Problem(loc, f"expected {kind}, found {_describe(value)}"))
    elif isinstance(value, float) and not math.isfinite(value):
        problems.append(_Problem(loc, f"expected a finite number, found {_show(value)}"))
    return problems


def _translate(exc: ValidationError, data: dict[str, Any]) -> list[_Problem]:
    """Turn pydantic's errors into one-line problems."""
    problems = []
    for err in exc.errors(include_url=False):
        loc: Loc = tuple(err["loc"])
        kind = err["type"]
        found = err.get("input")
        ctx = err.get("ctx") or {}
        if kind == "extra_forbidden":
            problems.append(_unknown_key(loc, found))
            continue
        if kind == "missing" and loc and isinstance(loc[-1], int):
            # A fixed-length array that is too short reports each absent item.
            loc = loc[:-1]
            size = len(typing.get_args(_annotation_at(loc)))
            got = _lookup(data, loc)
            count = len(got) if isinstance(got, list) else "?"
            problems.append(_Problem(loc, f"expected an array of {size} items, found {count}"))
            continue
        annotation = _annotation_at(loc)
        expected = _expected(annotation)
        bound = _bound(kind, ctx)
        if bound is not None:
            message = f"expected {expected} {bound}, found {_show(found)}"
        elif kind == "literal_error":
            choices = [str(c) for c in typing.get_args(_strip_optional(annotation))]
            message = f"expected one of {', '.join(choices)}, found {_describe(found)}"
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
                found = _lookup(data, loc)
            message = f"expected {text}"
            if ", found" not in text and not isinstance(found, dict):
                message += f", found {_show(found)}"
        elif kind in ("too_short", "too_long"):
            size = ctx.get("min_length" if kind == "too_short" else "max_length")
            count = len(found) if isinstance(found, list | tuple) else ctx.get("actual_length")
            message = f"expected an array of {size} items, found {count}"
        elif kind == "int_parsing_size":
            most = _upper_bound(loc)
            within = f" <= {_show(most)}" if most is not None else " of at most 64 bits"
            message = f"expected {expected}{within}, found {_show(found)}"
        elif kind == "finite_number":
            message = f"expected a finite number, found {_show(found)}"
        elif kind == "missing":
            message = "required but missing"
        elif kind.endswith(("_type", "_parsing", "_from_float")) or kind.startswith("model_"):
            message = f"expected {expected}, found {_describe(found)}"
        else:
            message = f"{err['msg']}, found {_describe(found)}"
        problems.append(_Problem(loc, message))
    return problems


def _unknown_key(loc: Loc, value: Any) -> _Problem:
    """Describe an unknown key or section, with a close-match suggestion."""
    parent, key = loc[:-1], str(loc[-1])
    model = _model_class(_annotation_at(parent)) if parent else Scenario
    is_table = isinstance(value, dict)
    valid = list(model.model_fields) if model is not None else []
    if not parent and not is_table:
        valid.append(_EXTENDS)
    close = difflib.get_close_matches(key, valid, n=1)
    if is_table:
        message = f"unknown section [{_dotted(loc)}]"
        hint = f"; did you mean [{_dotted((*parent, close[0]))}]?" if close else ""
    else:
        where = f"in {_section_label(parent)}" if parent else "at top level"
        message = f"unknown key {key!r} {where}"
        hint = f"; did you mean {close[0]!r}?" if close else ""
    if key == _EXTENDS and parent:
        hint = "; extends must be at the top of the file, before any [section]"
    if not hint and not is_table:
        for name, info in Scenario.model_fields.items():
            home = _model_class(info.annotation)
            if home is not None and key in home.model_fields and (name,) != parent:
                hint = f"; {key!r} belongs in [{name}]"
                break
    if not hint and 0 < len(valid) <= 10:
        hint = f"; valid: {', '.join(valid)}"
    return _Problem(loc, message + hint, names_itself=True)


def _dedupe(problems: list[_Problem]) -> list[_Problem]:
    """Drop problems at or inside a location already reported."""
    kept: list[_Problem] = []
    for problem in problems:
        if not any(k.loc and problem.loc[: len(k.loc)] == k.loc for k in kept):
            kept.append(problem)
    return kept


def _to_error(problem: _Problem, resolved: _Resolved) -> ScenarioError:
    """Place a problem in the file of the chain that wrote it, at its line."""
    file = resolved.chain[0]
    for size in range(len(problem.loc), 0, -1):
        if problem.loc[:size] in resolved.origins:
            file = resolved.origins[problem.loc[:size]]
            break
    line = None
    for size in range(len(problem.loc), 0, -1):
        if problem.loc[:size] in file.lines:
            line = file.lines[problem.loc[:size]]
            break
    return ScenarioError(
        file.path,
        problem.message,
        line=line,
        field=_dotted(problem.loc) or None,
        show_field=not problem.names_itself,
    )


# --------------------------------------------------------------------------- schema helpers
def _model_class(annotation: Any) -> type[BaseModel] | None:
    """Return the model class an annotation names, or None."""
    annotation = _strip_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _strip_optional(annotation: Any) -> Any:
    """Turn ``X | None`` into ``X``."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _item_annotation(annotation: Any, index: int | None) -> Any:
    """Return the annotation of item ``index`` of a tuple annotation (None if not a tuple)."""
    annotation = _strip_optional(annotation)
    if typing.get_origin(annotation) not in (tuple, list):
        return None
    args = typing.get_args(annotation)
    if not args:
        return Any
    if len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    if index is None:
        return args[0]
    return args[index] if index < len(args) else None


def _annotation_at(loc: Loc) -> Any:
    """Return the schema annotation at ``loc`` (None where the schema has no such field)."""
    annotation: Any = Scenario
    for part in loc:
        model = _model_class(annotation)
        if model is not None and isinstance(part, str):
            info = model.model_fields.get(part)
            annotation = info.annotation if info is not None else None
        elif isinstance(part, int):
            annotation = _item_annotation(annotation, part)
        else:
            return None
        if annotation is None:
            return None
    return annotation


def _upper_bound(loc: Loc) -> Any:
    """Return the ``le`` bound of the field at ``loc``, or None."""
    parent = _model_class(_annotation_at(loc[:-1])) if loc else None
    info = parent.model_fields.get(str(loc[-1])) if parent is not None else None
    bounds = [getattr(m, "le", None) for m in (info.metadata if info is not None else [])]
    return next((b for b in bounds if b is not None), None)


def _numeric_kind(annotation: Any) -> str | None:
    """Return "an integer" or "a number" for numeric annotations, else None."""
    annotation = _strip_optional(annotation)
    if annotation is int:
        return "an integer"
    if annotation is float:
        return "a number"
    return None


def _expected(annotation: Any) -> str:
    """Say in words what a field of this annotation takes."""
    if _model_class(annotation) is not None:
        return "a table"
    kind = _numeric_kind(annotation)
    if kind is not None:
        return kind
    plain = _strip_optional(annotation)
    if plain is str:
        return "a string"
    if plain is bool:
        return "a boolean"
    if typing.get_origin(plain) is typing.Literal:
        return "one of " + ", ".join(str(a) for a in typing.get_args(plain))
    item = _item_annotation(plain, None)
    if item is not None:
        args = typing.get_args(plain)
        words = {int: "integers", float: "numbers", str: "strings"}
        noun = words.get(item, "tables" if _model_class(item) else "items")
        if len(args) == 2 and args[1] is Ellipsis:
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
    return f"{symbol} {_show(ctx.get(name))}"


def _lookup(data: Any, loc: Loc) -> Any:
    """Return the value at ``loc`` in nested data, or None."""
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


# --------------------------------------------------------------------------- wording
def _dotted(loc: Loc) -> str:
    """Format a location as ``labour_market.sectors[1].share``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _section_label(loc: Loc) -> str:
    """Name a table as written in TOML: ``[follow_up]`` or ``[[labour_market.sectors]] #2``."""
    if loc and isinstance(loc[-1], int):
        names = ".".join(str(p) for p in loc[:-1] if not isinstance(p, int))
        return f"[[{names}]] #{loc[-1] + 1}"
    return f"[{'.'.join(str(p) for p in loc)}]"


def _show(value: Any) -> str:
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
        text = "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
    elif isinstance(value, dt.date | dt.time):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _describe(value: Any) -> str:
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
    return f"{kind} {_show(value)}"
