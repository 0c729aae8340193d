"""The errors of everything a user writes: scenario files, study files and ``--set`` options.

Every problem with input is one :class:`InputError` (or a subclass naming the kind
of file), whose text is a single line naming the file, the line where known, the
dotted field, what was expected and what was found::

    scenarios/bad.toml:12: follow_up.caseload: expected an integer >= 1, found 0

The command line answers any :class:`InputError` with that line and exit status 2.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "CalibrationError",
    "EnsembleError",
    "ExperimentError",
    "InputError",
    "PanelError",
    "ScenarioError",
    "StudyError",
    "TrialError",
    "first_of",
]


class InputError(Exception):
    """A file or option a user wrote could not be read, resolved or validated.

    ``str(err)`` is one line: ``FILE[:LINE]: [FIELD: ]MESSAGE``.

    Attributes:
        path: The file at fault (for an ``extends`` chain, the file in the chain
            that wrote the offending key; ``--set`` for a command-line override).
        line: 1-based line of the offending key or section, or None if unknown.
        field: Dotted field such as ``follow_up.caseload``, or None when the
            problem concerns the whole file.
        message: The message without the location prefix.
        errors: Every problem found, each formatted as one line like ``str(err)``;
            the first is this error itself.
        leads: Shown before the other problems found with it (see :func:`first_of`):
            a misspelt required key, which also explains the key missing.
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
        leads: bool = False,
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
            leads: Whether it is shown before the problems found with it.
        """
        self.path = Path(path)
        self.leads = leads
        self.line = line
        self.field = field
        self.show_field = show_field
        self.message = " ".join(str(message).split())
        location = f"{self.path}:{line}" if line is not None else str(self.path)
        prefix = f"{field}: " if field and show_field else ""
        text = f"{location}: {prefix}{self.message}"
        super().__init__(text)
        self.errors: list[str] = list(errors) if errors else [text]
        if self.errors[0] != text:
            self.errors.insert(0, text)


class ScenarioError(InputError):
    """A scenario file (or a ``--set`` override of one) is not a valid scenario."""


class ExperimentError(InputError):
    """An experiment file (a sweep or a sensitivity study) is not valid."""


class TrialError(InputError):
    """A trial file is not valid."""


class PanelError(InputError):
    """A panel file (municipalities under policies) is not valid."""


class CalibrationError(InputError):
    """A calibration or targets file is not valid."""


class EnsembleError(InputError):
    """An ensemble file is not valid, or a member is not valid where it is applied."""


def first_of(errors: Sequence[InputError]) -> InputError:
    """The first of several problems found at once, carrying them all (and theirs) in ``errors``.

    The first is the first that leads (a misspelt required key), else the first given.
    """
    first = next((e for e in errors if e.leads), errors[0])
    ordered = [first, *(e for e in errors if e is not first)]
    return type(first)(
        first.path,
        first.message,
        line=first.line,
        field=first.field,
        show_field=first.show_field,
        errors=[line for e in ordered for line in e.errors],
        leads=first.leads,
    )


class StudyError(Exception):
    """A study cannot be run or written: one line for the user (exit status 2).

    Defined here, with the input errors, so the command line can catch it without
    importing the study driver (and the model) for commands that need neither.
    """
