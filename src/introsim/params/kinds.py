"""Which kind of input file a TOML file is, from its top-level tables.

``introsim validate`` takes any file of the project; each kind is recognised by
the table only it has: ``[experiment]``, ``[trial]``, ``[panel]``, ``[calibration]``,
``[[target]]`` (a targets file), ``[[member]]`` (an ensemble, a posterior one
too); anything else is a scenario file (which is also how ``best.toml``, an
ensemble of one, reads).
"""

from __future__ import annotations

from typing import Any

__all__ = ["KINDS", "file_kind"]

KINDS: dict[str, tuple[str, ...]] = {
    "experiment": ("experiment",),
    "trial": ("trial", "recruitment"),
    "panel": ("panel", "policy"),
    "calibration": ("calibration",),
    "targets": ("target", "not_computed"),
    "ensemble": ("member",),
}
"""Each study file kind and the top-level tables that mark it."""


def file_kind(data: dict[str, Any]) -> str:
    """The kind of a file from its parsed data: a key of :data:`KINDS`, or ``scenario``."""
    for kind, marks in KINDS.items():
        if any(mark in data for mark in marks):
            return kind
    return "scenario"
