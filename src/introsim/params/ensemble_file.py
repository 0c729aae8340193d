"""Parameter ensembles: runs whose intervals include uncertainty about the parameters.

A calibration keeps every parameter set its targets do not rule out (the
*posterior ensemble*, ``posterior.toml``). ``compare``, ``sweep`` and ``trial``
with ``--ensemble FILE`` run every member with every replicate, each member
applied as overrides to every scenario or design point (a point's own factors
win over a member's value of the same parameter). Replicate r has the same seed
under every member and scenario, so differences stay paired, and the spread of
the members' averages (what we do not know about the mechanisms) is told apart
from chance in one cohort and from the simulation's precision
(:mod:`introsim.experiments.uncertainty`).

An ensemble file is either ``[[member]]`` tables of dotted paths (what
``introsim calibrate`` writes; a posterior ensemble adds a ``[posterior]`` table
saying what made it) or a single set of overrides written as scenario tables
(``best.toml``), which is an ensemble of one; never both.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from introsim.params.catalog import not_a_parameter, param_info
from introsim.params.document import TomlDocument
from introsim.params.errors import EnsembleError
from introsim.params.loader import load_scenario_with
from introsim.params.paths import Loc, flatten, label, split
from introsim.params.schema import Scenario
from introsim.params.wording import EXTENDS, dedupe, translate

__all__ = [
    "ENSEMBLE_RULE",
    "Ensemble",
    "intervals_text",
    "load_checked",
    "load_ensemble",
    "stale_posterior",
]

ENSEMBLE_RULE = (
    "every member ran every point and replicate (members × replicates); replicate r has the "
    "same seed under every member"
)
MAX_MEMBERS = 10_000
"""Most members an ensemble may have (a calibration keeps at most one per candidate)."""
_RESERVED = ("trial", "loss")  # bookkeeping keys a calibration writes beside the parameters
_ABOUT = ("posterior",)  # tables beside the members that say what made them, not parameters


class _Point(Protocol):
    """What :meth:`Ensemble.check` needs of a design point."""

    @property
    def label(self) -> str: ...
    @property
    def scenario(self) -> Scenario: ...
    @property
    def overrides(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Ensemble:
    """Parameter sets that every point and replicate runs under.

    Attributes:
        path: The ensemble file.
        members: Each member's overrides (dotted path mapped to value).
        labels: Each member's label (its calibration trial where known).
        about: The ``[posterior]`` table of a posterior ensemble: what made it.
    """

    path: Path
    members: tuple[dict[str, Any], ...]
    labels: tuple[str, ...]
    about: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """K, the number of members."""
        return len(self.members)

    def digest(self) -> str:
        """A hash of the members, for run identities and manifests."""
        text = json.dumps(list(self.members), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        """The ensemble as data for a manifest."""
        return {
            "file": str(self.path),
            "members": self.size,
            "labels": list(self.labels),
            "digest": self.digest(),
            "rule": ENSEMBLE_RULE,
            "parameters": sorted({k for m in self.members for k in m}),
        }

    def validate_on(self, path: Path, sets: dict[str, Any] | None = None) -> list[Scenario]:
        """Each member applied to a scenario file (with ``--set``), validated like a file.

        Raises:
            InputError: One line naming the ensemble file and the field.
        """
        return [
            load_scenario_with(path, {**(sets or {}), **m}, source=self.path, error=EnsembleError)
            for m in self.members
        ]

    def apply_member(
        self,
        scenario: Scenario,
        k: int,
        keep: Mapping[str, Any] | None = None,
        where: str = "",
    ) -> Scenario:
        """``scenario`` with member ``k`` applied, except paths in ``keep``.

        Raises:
            EnsembleError: The combination is not a valid scenario (one line).
        """
        overrides = {p: v for p, v in self.members[k].items() if p not in (keep or {})}
        try:
            return scenario.with_overrides(overrides)
        except ValidationError as exc:
            problem = dedupe(translate(exc, overrides, Scenario))[0]
            at = f" {where}" if where else ""
            raise EnsembleError(
                self.path,
                f"{self.labels[k]}{at}: {label(problem.loc)}: {problem.message}",
                show_field=False,
            ) from None

    def check(self, points: Iterable[_Point]) -> None:
        """Apply every member at every point, before any run, so none fails mid-study.

        Raises:
            EnsembleError: The first member that makes a point an invalid scenario.
        """
        for point in points:
            for k in range(self.size):
                self.apply_member(point.scenario, k, point.overrides, f"at point {point.label}")


def intervals_text(ensemble: dict[str, Any] | None) -> str:
    """What a run's intervals cover, for manifests: ``ensemble`` is :meth:`Ensemble.describe`."""
    if ensemble is None:
        return "simulation noise only, for the parameters as written"
    return (
        "three kinds, each 95 %: parameter_* (what we do not know about the mechanisms: the "
        "members' averages), cohort_* (chance in one real cohort: single runs around their "
        "member's average), ci_*/diff_low/diff_high (simulation precision, over the members' "
        f"averages); {ENSEMBLE_RULE}, K = {ensemble['members']} parameter sets from "
        f"{ensemble['file']}"
    )


def load_ensemble(path: str | os.PathLike[str]) -> Ensemble:
    """Read an ensemble file: ``[[member]]`` tables, or one set of scenario overrides.

    Args:
        path: The TOML file.

    Returns:
        The ensemble (at least one member, every key a parameter path).

    Raises:
        InputError: One line naming the file, line and problem.
    """
    doc = TomlDocument.read(path, error=EnsembleError, what="ensemble file")
    data = doc.data
    where: list[tuple[Loc, dict[str, Any]]] = []
    if "member" in data:
        raw = data["member"]
        beside = [k for k in data if k != "member" and k not in _ABOUT]
        if beside:
            doc.fail(
                (beside[0],),
                f"[{beside[0]}] beside [[member]] tables: an ensemble file is either [[member]] "
                "tables or one set of scenario overrides, not both (move it into each member)",
                show_field=False,
            )
        if not isinstance(raw, list) or not all(isinstance(m, dict) for m in raw):
            doc.fail(("member",), "expected [[member]] tables", show_field=False)
        if not raw:
            doc.fail((), "the ensemble has no members (no parameter set met every band)")
        if len(raw) > MAX_MEMBERS:
            doc.fail(("member",), f"at most {MAX_MEMBERS:,} members, found {len(raw):,}")
        members, labels = [], []
        for k, m in enumerate(raw):
            flat = flatten(m)
            trial = flat.pop("trial", None)
            for key in _RESERVED:
                flat.pop(key, None)
            members.append(flat)
            labels.append(f"trial {trial}" if trial is not None else f"member {k}")
            where.append((("member", k), flat))
    else:
        flat = flatten(data)
        flat.pop(EXTENDS, None)
        if not flat:
            doc.fail((), "expected [[member]] tables or parameter overrides")
        members, labels = [flat], ["best"]
        where.append(((), flat))
    for loc, m in where:
        for key in m:
            if param_info(key) is None:
                doc.fail((*loc, *split(key)), not_a_parameter(key), show_field=False)
            if key.startswith("scenario."):
                doc.fail(
                    (*loc, *split(key)),
                    f"{key!r} is not a parameter an ensemble may set ([scenario] is the "
                    "scenario's own: its name, horizon and seed)",
                    show_field=False,
                )
    about = data.get("posterior")
    return Ensemble(
        doc.path, tuple(members), tuple(labels), about if isinstance(about, dict) else {}
    )


def load_checked(
    path: str | os.PathLike[str] | None,
    scenario_paths: Iterable[Path],
    sets: dict[str, Any],
    points: Iterable[_Point] = (),
) -> Ensemble | None:
    """Read an ensemble (None without one) and check every member where it will be applied.

    Args:
        path: The ensemble file, or None.
        scenario_paths: Scenario files the members are applied to (with ``sets``).
        sets: Overrides from the command line (``--set``).
        points: Design points the members are applied to (a sweep's).

    Raises:
        InputError: The file, or a member on a scenario or at a point, is invalid (one line).
    """
    if path is None:
        return None
    ensemble = load_ensemble(path)
    for scenario_path in scenario_paths:
        ensemble.validate_on(scenario_path, sets)
    ensemble.check(points)
    return ensemble


def stale_posterior(ensemble: Ensemble | None, model_version: str) -> str | None:
    """A caution when an ensemble is a posterior made with another version of the model.

    Args:
        ensemble: The ensemble, or None.
        model_version: The model's version now (``engine.model_version()``).

    Returns:
        One line to print, or None (no ensemble, not a posterior, or the same model).
    """
    if ensemble is None:
        return None
    identity = ensemble.about.get("identity")
    made = identity.get("model_version") if isinstance(identity, dict) else None
    if not made or made == model_version:
        return None
    return (
        f"{ensemble.path} was calibrated with model {made}; this is {model_version}: the "
        "members may no longer fit the targets (run introsim calibrate again)"
    )
