"""One TOML file a user wrote, read with care, that knows how to fail with file, line and field.

Every file kind of the project (scenario, experiment, trial, calibration,
targets, ensemble) is read into a :class:`TomlDocument`: its path, its data and
the line of each key. Loaders validate its tables with :class:`StrictModel`
models and report any problem through the document, so every message is one
line naming the file, the line and the dotted field::

    experiments/grid.toml:7: experiment.replications: expected an integer >= 2, found 1

Files are data: they are parsed with :mod:`tomllib`, never evaluated, and only
regular files up to :data:`MAX_FILE_BYTES` are read.
"""

from __future__ import annotations

import difflib
import errno
import os
import re
import stat
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from introsim.params.errors import InputError, first_of
from introsim.params.paths import Loc, label
from introsim.params.positions import scan_lines
from introsim.params.text import check_name
from introsim.params.wording import dedupe, describe, precheck, translate

__all__ = [
    "MAX_FILE_BYTES",
    "Name",
    "StrictModel",
    "TomlDocument",
    "parse_toml",
    "read_text",
]

MAX_FILE_BYTES = 1 << 20
"""Largest input file read: scenario and study files hold a few KiB."""

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")

Model = TypeVar("Model", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of every study file's tables: unknown keys are errors, values are immutable.

    Types are strict (``true`` is not 1, ``"10"`` is not 10; an integer is accepted
    where a number is expected) and nan and inf are refused unless a field allows
    inf itself (an open band).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_name)]
"""A name a study file gives (a study, a target, a group): shown in tables, folders and charts,
so it holds no control, format or invisible characters (see :func:`text.check_name`)."""


# --------------------------------------------------------------------------- reading
def read_text(path: Path, *, what: str = "TOML file", error: type[InputError] = InputError) -> str:
    """Return the text of ``path`` or raise a one-line error.

    Only regular files up to :data:`MAX_FILE_BYTES` are read: a device such as
    ``/dev/zero`` would be read until memory runs out, and a FIFO would block forever.

    Args:
        path: The file.
        what: What the file should be, for messages ("scenario file").
        error: The error class raised.

    Raises:
        InputError: The file cannot be read, is not a regular file, is too large or
            is not UTF-8.
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the fstat below refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(path, "file does not exist") from None
    except IsADirectoryError:
        raise error(path, f"is a directory, not a {what}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error(path, "symbolic link loop: the link points back at itself") from None
        if path.is_dir():
            raise error(path, f"is a directory, not a {what}") from None
        raise error(path, f"cannot read file: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise error(path, f"is a directory, not a {what}")
        if not stat.S_ISREG(mode):
            raise error(path, f"is not a regular file ({_file_kind(mode)}); name a TOML file")
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise error(path, f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:
        raise error(
            path, f"file is larger than {MAX_FILE_BYTES // 1024} KiB; a {what} holds a few KiB"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise error(
            path,
            f"file is not UTF-8 text: invalid byte 0x{raw[exc.start]:02x} "
            f"at byte offset {exc.start}; save it as UTF-8",
            line=line,
        ) from None


def _file_kind(mode: int) -> str:
    """Name the kind of a non-regular file from its ``st_mode``."""
    kinds = (
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a file")


def parse_toml(
    source: str | os.PathLike[str], text: str, *, error: type[InputError] = InputError
) -> dict[str, Any]:
    """Parse TOML text, turning every failure into one line with the line number.

    Args:
        source: Where the text comes from (a file, or ``--set``), for messages.
        text: The TOML text.
        error: The error class raised.

    Raises:
        InputError: The text is not TOML, or nests arrays or tables too deeply.
    """
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise error(source, "invalid TOML: arrays or tables nested too deeply") from None
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
        raise error(source, f"invalid TOML: {message}{where}", line=line) from None
    if _depth(data) > MAX_DEPTH:
        raise error(
            source, f"arrays or tables nested more than {MAX_DEPTH} deep; no input file needs that"
        )
    return data


MAX_DEPTH = 16
"""Deepest nesting of tables and arrays accepted: the deepest field of any file kind is a
handful of levels down, and deeper data would only exhaust recursion further on."""


def _depth(value: Any, limit: int = MAX_DEPTH + 1) -> int:
    """How deeply tables and arrays nest in ``value`` (counted up to ``limit``), iteratively."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth + 1)
            if deepest >= limit:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


# --------------------------------------------------------------------------- the document
_OWN: Any = object()
"""Default of :meth:`TomlDocument.validate`'s value: the file's own table."""


@dataclass(frozen=True)
class TomlDocument:
    """A TOML file's path, data and the line of each key; it fails with file, line and field.

    Attributes:
        path: The file.
        data: Its parsed contents.
        lines: The line of each section and key, by location (see
            :func:`positions.scan_lines`).
        error: The error class its failures raise (the file's kind).
    """

    path: Path
    data: dict[str, Any]
    lines: dict[Loc, int] = field(default_factory=dict)
    error: type[InputError] = InputError

    @classmethod
    def read(
        cls,
        path: str | os.PathLike[str],
        *,
        error: type[InputError] = InputError,
        what: str = "TOML file",
    ) -> TomlDocument:
        """Read and parse a file.

        Args:
            path: The file.
            error: The error class of the file's kind.
            what: What the file should be, for messages ("trial file").

        Raises:
            InputError: One line naming the file (and line) when it cannot be read or parsed.
        """
        p = Path(path)
        text = read_text(p, what=what, error=error)
        return cls(p, parse_toml(p, text, error=error), scan_lines(text), error)

    # ----------------------------------------------------------------------- failing
    def line(self, loc: Loc) -> int | None:
        """The line of ``loc``, or of the nearest table holding it; None if unknown."""
        for size in range(len(loc), 0, -1):
            if loc[:size] in self.lines:
                return self.lines[loc[:size]]
        return None

    def error_at(
        self, loc: Loc, message: str, *, show_field: bool = True, leads: bool = False
    ) -> InputError:
        """The error of a problem at ``loc`` (``()``: the whole file)."""
        return self.error(
            self.path,
            message,
            line=self.line(loc),
            field=label(loc) or None,
            show_field=show_field,
            leads=leads,
        )

    def fail(self, loc: Loc, message: str, *, show_field: bool = True) -> NoReturn:
        """Raise the error of a problem at ``loc``."""
        raise self.error_at(loc, message, show_field=show_field)

    def passed_on(self, loc: Loc, exc: InputError) -> InputError:
        """An error found in another file this one names at ``loc`` (a scenario, a trial file).

        An error located in the other file keeps its own place; one located only in
        this file (an override it wrote) is placed at ``loc`` when it has no line.
        """
        if exc.path != self.path or exc.line is not None:
            return exc
        return self.error(
            self.path,
            exc.message,
            line=self.line(loc),
            field=exc.field,
            show_field=exc.show_field,
            errors=exc.errors[1:],
        )

    # ----------------------------------------------------------------------- reading tables
    def at(self, loc: Loc, default: Any = None) -> Any:
        """The raw value at ``loc`` (``default`` where absent)."""
        node: Any = self.data
        for part in loc:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return default
        return node

    def check_sections(self, required: Iterable[str], optional: Iterable[str] = ()) -> None:
        """Refuse unknown top-level keys and missing required tables.

        Raises:
            InputError: At the first unknown key (with the valid ones) or missing table.
        """
        need, known = list(required), [*required, *optional]
        for key in self.data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean [{close[0]}]?" if close else f"valid: {', '.join(known)}"
                kind = "section" if isinstance(self.data[key], dict | list) else "key"
                # A misspelt required table: say it is required, in the same line.
                meant = close and close[0] in need and close[0] not in self.data
                said = f", {hint} ([{close[0]}] is required)" if meant else f"; {hint}"
                self.fail((key,), f"unknown {kind} {key!r}{said}", show_field=False)
        for key in need:
            if key not in self.data:
                self.fail((), f"missing [{key}] table")

    def validate(self, model: type[Model], loc: Loc = (), value: Any = _OWN) -> Model:
        """Validate the table at ``loc`` (or ``value``, written at ``loc``) with ``model``.

        Args:
            model: The table's model.
            loc: Where the table is in the file.
            value: The data to validate, if not the file's own at ``loc``.

        Returns:
            The validated table.

        Raises:
            InputError: The first problem, with line and dotted field; ``errors`` holds
                every problem found.
        """
        data = self.at(loc, {}) if value is _OWN else value
        if not isinstance(data, dict):
            self.fail(loc, f"expected a table, found {describe(data)}")
        # Strict models refuse booleans, text and nan in numbers themselves (and allow inf
        # where a field says so); lax ones (the scenario schema) need the precheck.
        problems = [] if model.model_config.get("strict") else precheck(data, model, loc)
        try:
            result = model.model_validate(data)
        except ValidationError as exc:
            problems += translate(exc, data, model, loc)
        else:
            if not problems:
                return result
        errors = [
            self.error_at(p.loc, p.message, show_field=not p.names_itself, leads=p.leads)
            for p in dedupe(problems)
        ]
        errors.sort(key=lambda e: e.line or 1 << 30)  # first_of puts a leading one first
        raise first_of(errors)

    def validate_tables(self, *tables: tuple[type[BaseModel], Loc]) -> list[Any]:
        """Validate several tables, each with its model; refuse with the problems of all.

        Raises:
            InputError: The first problem; ``errors`` holds every problem of every table.
        """
        done, failed = [], []
        for model, loc in tables:
            try:
                done.append(self.validate(model, loc))
            except InputError as exc:
                failed.append(exc)
        if failed:
            raise first_of(failed)
        return done

    def file(self, loc: Loc, what: str) -> Path:
        """The file named by the string at ``loc``, relative to this document's folder.

        Raises:
            InputError: At ``loc`` when no such regular file exists.
        """
        written = self.at(loc)
        if not isinstance(written, str) or not written.strip():
            self.fail(loc, f"expected a string naming a {what}, found {describe(written)}")
        path = Path(os.path.normpath(self.path.parent / written))
        if path.is_dir():
            self.fail(loc, f"{written!r} is a directory, not a {what}")
        if not os.path.lexists(path):
            looked = f" (looked for {path})" if Path(written) != path else ""
            self.fail(loc, f"{what} {written!r} not found{looked}")
        return path
