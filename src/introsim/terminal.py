"""Printing for people on a terminal: safe text, numbers by unit, tables that are not squeezed.

Numbers are formatted as in every report (:func:`introsim.reporting.format.format_value`,
re-exported here for the terminal's tables); user text shows its hidden characters escaped
(:func:`introsim.params.text.visible`).
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from introsim.params.text import visible
from introsim.reporting.format import format_value

__all__ = [
    "Console",
    "Table",
    "Terminated",
    "count",
    "format_value",
    "on_sigterm",
    "print_json",
    "printable",
    "shown",
    "wide_console",
]


def printable(text: object) -> str:
    """Text safe to print on a terminal: control, format and invisible characters escaped."""
    return visible(text)


def shown(name: str) -> str:
    """A user's text for a rich table: printable, and ``[...]`` not taken for markup."""
    return rich_escape(printable(name))


def count(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and a noun that agrees with it: ``1 member``, ``2 members``, ``0 members``."""
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def wide_console(width: int) -> Console:
    """The console for a table: the terminal's width, ``COLUMNS`` if set, else ``width`` or more.

    On a terminal (or with ``COLUMNS``) tables wrap to fit and never overflow;
    piped without ``COLUMNS``, they are not squeezed.
    """
    import os

    console = Console(highlight=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(highlight=False, width=max(console.width, width))
    return console


def print_json(data: dict[str, Any]) -> None:
    """Print a command's ``--json`` answer on stdout."""
    from introsim.output import json_text

    sys.stdout.write(json_text(data) + "\n")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be so that both stop work the same clean way."""


def on_sigterm(signum: int, frame: object) -> None:
    """Raise :class:`Terminated` where SIGTERM arrives."""
    raise Terminated
