"""Scenario files that build on others: ``extends = "other.toml"`` resolved into one table.

A top-level key ``extends`` (relative to the file that writes it) inherits a
whole other file first: tables merge key by key, arrays and arrays of tables
replace wholesale, and chains (c extends b extends a) work. The merged data
remembers which file of the chain wrote each value, so a problem is reported in
the file and at the line that wrote it.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from introsim.params.document import TomlDocument
from introsim.params.errors import ScenarioError
from introsim.params.paths import Loc
from introsim.params.wording import EXTENDS

__all__ = ["Resolved", "merge", "resolve"]

WHAT = "scenario file"


@dataclass
class Resolved:
    """The merged data of a chain and which file wrote each value.

    Attributes:
        chain: The files, the one named first, then the one it extends, and so on.
        data: The merged data (``extends`` removed).
        origins: The file that wrote each location of ``data``.
    """

    chain: list[TomlDocument]
    data: dict[str, Any]
    origins: dict[Loc, TomlDocument] = field(default_factory=dict)

    def place(self, loc: Loc) -> TomlDocument:
        """The file of the chain that wrote ``loc`` (or the table holding it)."""
        for size in range(len(loc), 0, -1):
            if loc[:size] in self.origins:
                return self.origins[loc[:size]]
        return self.chain[0]


def resolve(path: Path) -> Resolved:
    """Load ``path`` and its ``extends`` chain, merge them and default the name.

    When ``path`` itself does not set ``[scenario] name``, the name is the file's
    stem (a name written in a file it extends is not inherited, so two scenarios
    never share a name by accident).

    Raises:
        ScenarioError: A file in the chain cannot be read or parsed, is empty, or
            the chain is broken (missing target, cycle, non-string ``extends``).
    """
    chain: list[TomlDocument] = []
    seen: list[Path] = []
    current, referrer = path, None
    while True:
        key = _identity(current)
        if key in seen:
            names = [f.path for f in chain] + [current]
            labels = [p.name for p in names]
            if len(set(labels)) < len({_identity(p) for p in names}):
                labels = [str(p) for p in names]
            assert referrer is not None  # the first file cannot close a cycle
            referrer.fail((EXTENDS,), "cycle " + " -> ".join(labels))
        seen.append(key)
        doc = TomlDocument.read(current, error=ScenarioError, what=WHAT)
        if not doc.data:
            doc.fail((), "file is empty; a scenario needs at least [scenario] name")
        target = doc.file((EXTENDS,), WHAT) if EXTENDS in doc.data else None
        data = {k: v for k, v in doc.data.items() if k != EXTENDS}
        chain.append(dataclasses.replace(doc, data=data))
        if target is None:
            break
        current, referrer = target, doc

    root = chain[-1]
    resolved = Resolved(chain, copy.deepcopy(root.data))
    _mark(resolved.origins, resolved.data, root, ())
    for doc in reversed(chain[:-1]):
        resolved.data = merge(resolved.data, doc.data, resolved.origins, doc, ())

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


def merge(
    base: dict[str, Any],
    over: dict[str, Any],
    origins: dict[Loc, TomlDocument],
    doc: TomlDocument,
    prefix: Loc,
) -> dict[str, Any]:
    """Deep-merge ``over`` into ``base`` (tables merge, the rest replaces), noting origins."""
    out = dict(base)
    for key, value in over.items():
        loc = (*prefix, key)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            origins[loc] = doc
            out[key] = merge(out[key], value, origins, doc, loc)
        else:
            for old in [o for o in origins if o[: len(loc)] == loc]:
                del origins[old]
            out[key] = copy.deepcopy(value)
            _mark(origins, value, doc, loc)
    return out


def _mark(origins: dict[Loc, TomlDocument], value: Any, doc: TomlDocument, loc: Loc) -> None:
    """Record ``doc`` as the origin of ``loc`` and everything below it."""
    if loc:
        origins[loc] = doc
    if isinstance(value, dict):
        for key, item in value.items():
            _mark(origins, item, doc, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _mark(origins, item, doc, (*loc, index))
