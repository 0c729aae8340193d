"""Printing for people on a terminal: safe text, numbers by unit, tables that are not squeezed."""

from __future__ import annotations

import unicodedata

from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from introsim.model.outcomes import OUTCOME_INFO

__all__ = ["Console", "Table", "format_value", "printable", "shown", "wide_console"]


def printable(text: object) -> str:
    """Text safe to print on a terminal: control characters (escape, NUL, newline) escaped."""
    return "".join(
        c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) == "Cc" else c
        for c in str(text)
    )


def shown(name: str) -> str:
    """A user's text for a rich table: printable, and ``[...]`` not taken for markup."""
    return rich_escape(printable(name))


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
    """The console for a table: the terminal, or at least ``width`` columns when piped."""
    console = Console(highlight=False)
    if not console.is_terminal:  # piped or redirected: do not squeeze the table
        console = Console(highlight=False, width=max(console.width, width))
    return console
