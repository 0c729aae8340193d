"""Printing for people on a terminal: safe text, numbers by unit, tables that are not squeezed."""

from __future__ import annotations

import sys
import unicodedata
from typing import Any

from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from introsim.model.outcomes import OUTCOME_INFO

__all__ = [
    "Console",
    "Table",
    "Terminated",
    "UsageError",
    "count",
    "format_value",
    "on_sigterm",
    "parse_sets",
    "print_json",
    "printable",
    "shown",
    "wide_console",
]


def printable(text: object) -> str:
    """Text safe to print on a terminal: control characters (escape, NUL, newline) escaped."""
    return "".join(
        c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) == "Cc" else c
        for c in str(text)
    )


def shown(name: str) -> str:
    """A user's text for a rich table: printable, and ``[...]`` not taken for markup."""
    return rich_escape(printable(name))


def count(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and a noun that agrees with it: ``1 member``, ``2 members``, ``0 members``."""
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def format_value(name: str, value: float | None) -> str:
    """Format an outcome for a table: shares as %, NOK with thousands, others to 1 decimal."""
    if value is None or value != value:
        return "–"
    unit = OUTCOME_INFO[name].unit if name in OUTCOME_INFO else ""
    if unit == "share":
        return f"{100 * value:.1f} %"
    if unit == "NOK":
        return f"{value:,.0f}".replace(",", " ")
    return f"{value:.1f}"


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


class UsageError(ValueError):
    """Text typed on the command line that cannot be used (one line for the user)."""


def parse_sets(items: list[str] | None) -> dict[str, object]:
    """Turn ``--set dotted.path=value`` options into overrides (values read as TOML).

    ``--set follow_up.caseload=10`` gives an integer, ``--set follow_up.method=ips``
    a string (a value that is not TOML is taken as text).
    """
    import tomllib

    out: dict[str, object] = {}
    for item in items or []:
        path, eq, text = item.partition("=")
        path = path.strip()
        if not eq or not path or not text.strip():
            raise UsageError(f"--set: expected dotted.path=value, found {item!r}")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        out[path] = value
    return out


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be so that both stop work the same clean way."""


def on_sigterm(signum: int, frame: object) -> None:
    """Raise :class:`Terminated` where SIGTERM arrives."""
    raise Terminated
