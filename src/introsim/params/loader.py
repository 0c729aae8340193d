"""Read TOML scenario files into :class:`introsim.params.schema.Scenario`.

A scenario file holds only overrides of the schema defaults; it may build on
another with ``extends`` (see :mod:`introsim.params.resolve`). Every problem with
a file, from a missing file to a rate above 1, is raised as one
:class:`ScenarioError` whose message is a single line naming the file, the line
where known, the dotted field, what was expected and what was found (worded by
:mod:`introsim.params.wording`)::

    scenarios/bad.toml:12: follow_up.caseload: expected an integer >= 1, found 0
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from introsim.params.document import TomlDocument, parse_toml
from introsim.params.errors import InputError, ScenarioError, first_of
from introsim.params.paths import Loc, label, nest, split
from introsim.params.resolve import Resolved, merge, resolve
from introsim.params.schema import Scenario
from introsim.params.wording import dedupe, describe, precheck, translate

__all__ = [
    "OverrideError",
    "ScenarioError",
    "load_scenario",
    "load_scenario_data",
    "load_scenario_with",
    "override_error",
    "parse_sets",
    "validate_files",
]

SET_OPTION = "--set"
"""Where command-line overrides are said to come from in messages."""


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read a scenario file, resolve its ``extends`` chain and validate it.

    Args:
        path: The TOML scenario file.

    Returns:
        The validated scenario. When ``path`` itself does not set
        ``[scenario] name``, the name is the file's stem.

    Raises:
        ScenarioError: For any problem with the file or its contents; the message
            is the first problem, ``errors`` holds them all.
    """
    return _validated(resolve(Path(path)))


def load_scenario_with(
    path: str | os.PathLike[str],
    overrides: Mapping[str, Any],
    *,
    source: str | os.PathLike[str],
    lines: Mapping[str, int] | None = None,
    error: type[InputError] = ScenarioError,
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
        error: The error raised for a problem placed in ``source`` (its file kind).

    Returns:
        The validated scenario.

    Raises:
        InputError: For any problem with the file (ScenarioError) or the overrides.
    """
    resolved = resolve(Path(path))
    try:
        nested = nest(overrides)
    except ValueError as exc:
        raise error(source, str(exc)) from None
    placed: dict[Loc, int] = {split(k): v for k, v in (lines or {}).items()}
    doc = TomlDocument(Path(source), nested, placed, error)
    resolved.data = merge(resolved.data, nested, resolved.origins, doc, ())
    resolved.chain.insert(0, doc)
    return _validated(resolved)


def parse_sets(items: Iterable[str] | None) -> dict[str, Any]:
    """Turn ``--set dotted.path=value`` options into overrides (values read as TOML).

    ``follow_up.caseload=10`` gives an integer, ``follow_up.method=ips`` a string (a
    value that is not TOML is taken as text). A value is read as a value in a file
    is, so one nested too deeply is refused in one line.

    Raises:
        ScenarioError: An option is not ``path=value``, or its value is refused.
    """
    out: dict[str, Any] = {}
    for item in items or ():
        path, eq, text = item.partition("=")
        path = path.strip()
        if not eq or not path or not text.strip():
            raise ScenarioError(SET_OPTION, f"expected dotted.path=value, found {item!r}")
        try:
            value = parse_toml(SET_OPTION, f"v = {text.strip()}", error=ScenarioError)["v"]
        except ScenarioError as exc:
            if not exc.message.startswith("invalid TOML: ") or "nested" in exc.message:
                raise ScenarioError(SET_OPTION, f"{path}: {exc.message}") from None
            value = text.strip()
        out[path] = value
    return out


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
    return resolve(Path(path)).data


def validate_files(paths: Iterable[str | os.PathLike[str]]) -> list[InputError]:
    """Load each scenario file in turn and collect the errors.

    Args:
        paths: Scenario files.

    Returns:
        One error per bad file, in the order given; empty when every file is valid.
    """
    found: list[InputError] = []
    for path in paths:
        try:
            load_scenario(path)
        except InputError as exc:
            found.append(exc)
    return found


class OverrideError(ScenarioError, ValidationError):
    """Overrides a program applied (``Scenario.with_overrides``) do not make a valid scenario.

    A :class:`ScenarioError` whose text is worded as the command line words the same
    mistake in a file or ``--set``; it is also pydantic's ``ValidationError`` (with its
    ``errors()``), so code that catches either keeps working.
    """

    def __init__(self, *args: Any) -> None:  # built by from_exception_data; see override_error
        self.lines: list[str] = []

    @property
    def errors(self) -> _Lines:  # type: ignore[override]
        """Every problem as a line (a list), and, called, pydantic's ``errors()``."""
        return _Lines(self.lines, lambda **kw: ValidationError.errors(self, **kw))

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


def override_error(
    exc: ValidationError, data: Mapping[str, Any], source: str = "overrides"
) -> OverrideError:
    """The :class:`OverrideError` of a validation of overridden scenario data.

    Args:
        exc: What pydantic found.
        data: The data validated.
        source: Where the values came from, in place of a file name.
    """
    problems = dedupe(translate(exc, dict(data), Scenario))
    errors = [
        ScenarioError(source, p.message, field=label(p.loc) or None, show_field=not p.names_itself)
        for p in problems
    ]
    first = first_of(errors)
    err = OverrideError.from_exception_data(exc.title, exc.errors())  # type: ignore[arg-type]
    err.__dict__.update({k: v for k, v in vars(first).items() if k != "errors"})
    err.lines, err.args = first.errors, first.args
    return err


class _Lines(list[str]):
    """An error's lines that, called, give pydantic's ``errors()`` (both names are public)."""

    def __init__(self, lines: list[str], details: Any) -> None:
        super().__init__(lines)
        self._details = details

    def __call__(self, **kwargs: Any) -> Any:
        return self._details(**kwargs)


def _with_municipality(resolved: Resolved) -> None:
    """Fill a ``[municipality]`` table's context from its profile row, in place.

    The profile is named relative to the file that names it; the values it decides
    (:data:`~introsim.params.municipal_context.CONTEXT_PATHS`) replace what the chain says,
    and a problem with them is placed at the ``code`` that chose the row.

    Raises:
        ScenarioError: The profile or code is missing or wrong, or the profile file is bad
            (file, line and column of its first problem).
    """
    table = resolved.data.get("municipality")
    if not isinstance(table, dict) or not ({"profile", "code"} & table.keys()):
        return
    # Imported only here: its profile models take ~13 ms to build, which a scenario without
    # a municipality (every `introsim run` of the shipped scenarios) need not pay.
    from introsim.params.municipal_context import cached_profiles, profile_values

    for key, other in (("profile", "code"), ("code", "profile")):
        value = table.get(key)
        if key not in table:
            loc: Loc = ("municipality", other)
            resolved.place(loc).fail(loc, f"[municipality] needs a {key} beside its {other}")
        if not isinstance(value, str):
            loc = ("municipality", key)
            resolved.place(loc).fail(loc, f"expected a string, found {describe(value)}")
    where = resolved.place(("municipality", "profile"))
    try:
        rows = cached_profiles(where.path.parent / table["profile"]).by_number()
    except ValueError:  # a name the file system cannot take (a NUL character, say)
        where.fail(("municipality", "profile"), f"{table['profile']!r} is not a file name")
    code_at = resolved.place(("municipality", "code"))
    row = rows.get(table["code"])
    if row is None:
        code_at.fail(
            ("municipality", "code"),
            f"{table['code']!r} is not a municipality of {table['profile']}",
        )
    share = table.get("participants_per_settled")
    try:
        values = profile_values(row, share if isinstance(share, int | float) else None)
    except ValueError as exc:
        code_at.fail(("municipality", "code"), str(exc))
    for dotted, value in values.items():
        if dotted == "municipality.code":
            continue
        section, key = split(dotted)
        node = resolved.data.setdefault(section, {})
        if isinstance(node, dict):
            if value is None:
                node.pop(key, None)
            else:
                node[key] = value
            resolved.origins[(section, key)] = code_at


def _validated(resolved: Resolved) -> Scenario:
    """Validate merged data; raise the first problem, with all of them, as its file's kind."""
    _with_municipality(resolved)
    problems = precheck(resolved.data, Scenario, ())
    try:
        scenario = Scenario.model_validate(resolved.data)
    except ValidationError as exc:
        problems += translate(exc, resolved.data, Scenario)
    else:
        if not problems:
            return scenario
    errors = [
        resolved.place(p.loc).error_at(
            p.loc, p.message, show_field=not p.names_itself, leads=p.leads
        )
        for p in dedupe(problems)
    ]
    # First problem first: the named file before the files it extends, then by line (and
    # first_of puts a misspelt required key before them all).
    order = {doc.path: index for index, doc in enumerate(resolved.chain)}
    errors.sort(key=lambda e: (order.get(e.path, 0), e.line or 1 << 30))
    raise first_of(errors)
