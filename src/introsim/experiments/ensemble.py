"""Parameter ensembles: runs whose intervals include uncertainty about the parameters.

A calibration keeps every parameter set that met all its targets' bands (the
*plausible ensemble*, ``ensemble.toml``). ``compare --ensemble FILE`` and
``sweep --ensemble FILE`` run replicate ``r`` with member ``r mod K`` applied as
overrides to every scenario or design point (a point's own factors win over a
member's value of the same parameter). Replicate r has the same seed and the same
member everywhere, so differences stay paired, while the spread over replicates
now holds both simulation noise and the spread between plausible parameter sets.

An ensemble file is either ``[[member]]`` tables of dotted paths (what
``introsim calibrate`` writes) or a single set of overrides written as scenario
tables (``best.toml``), which is an ensemble of one.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from introsim.params.catalog import param_info
from introsim.params.loader import ScenarioError, load_scenario_with, read_toml
from introsim.params.schema import Scenario

__all__ = ["ENSEMBLE_RULE", "Ensemble", "intervals_text", "load_ensemble", "stale_posterior"]

ENSEMBLE_RULE = "replicate r used ensemble member r mod K"
_RESERVED = ("trial", "loss")  # bookkeeping keys a calibration writes beside the parameters


@dataclass(frozen=True)
class Ensemble:
    """Parameter sets to cycle through over replicates.

    Attributes:
        path: The ensemble file.
        members: Each member's overrides (dotted path mapped to value).
        labels: Each member's label (its calibration trial where known).
    """

    path: Path
    members: tuple[dict[str, Any], ...]
    labels: tuple[str, ...]

    @property
    def size(self) -> int:
        """K, the number of members."""
        return len(self.members)

    def member(self, replicate: int) -> dict[str, Any]:
        """The overrides of replicate ``replicate``: member ``replicate mod K``."""
        return self.members[replicate % self.size]

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
            ScenarioError: One line naming the ensemble file and the field.
        """
        return [
            load_scenario_with(path, {**(sets or {}), **m}, source=self.path) for m in self.members
        ]

    def apply(self, scenario: Scenario, replicate: int, keep: dict[str, Any] | None = None) -> Any:
        """``scenario`` with replicate ``replicate``'s member applied, except paths in ``keep``.

        Raises:
            ScenarioError: The combination is not a valid scenario (one line).
        """
        return self.apply_member(scenario, replicate % self.size, keep)

    def apply_member(self, scenario: Scenario, k: int, keep: dict[str, Any] | None = None) -> Any:
        """``scenario`` with member ``k`` applied, except paths in ``keep``.

        Raises:
            ScenarioError: The combination is not a valid scenario (one line).
        """
        overrides = {p: v for p, v in self.members[k].items() if p not in (keep or {})}
        try:
            return scenario.with_overrides(overrides)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(x) for x in err["loc"])
            raise ScenarioError(
                self.path, f"member {k}: {where}: {err['msg']}", show_field=False
            ) from None


def intervals_text(ensemble: dict[str, Any] | None) -> str:
    """What a run's intervals cover, for manifests: ``ensemble`` is :meth:`Ensemble.describe`."""
    if ensemble is None:
        return "simulation noise only, for the parameters as written"
    return (
        f"simulation noise and parameter uncertainty: {ENSEMBLE_RULE}, "
        f"K = {ensemble['members']} parameter sets from {ensemble['file']}"
    )


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{path}."))
        else:
            out[path] = value
    return out


def load_ensemble(path: str | os.PathLike[str]) -> Ensemble:
    """Read an ensemble file: ``[[member]]`` tables, or one set of scenario overrides.

    Args:
        path: The TOML file.

    Returns:
        The ensemble (at least one member, every key a parameter path).

    Raises:
        ScenarioError: One line naming the file, line and problem.
    """
    p = Path(path)
    data, lines = read_toml(p)
    if "member" in data:
        raw = data["member"]
        if not isinstance(raw, list) or not all(isinstance(m, dict) for m in raw):
            raise ScenarioError(p, "expected [[member]] tables", line=lines.get(("member",)))
        if not raw:
            raise ScenarioError(
                p, "the ensemble has no members (no parameter set met every band)", show_field=False
            )
        members, labels = [], []
        for k, m in enumerate(raw):
            flat = _flatten(m)
            trial = flat.pop("trial", None)
            for key in _RESERVED:
                flat.pop(key, None)
            members.append(flat)
            labels.append(f"trial {trial}" if trial is not None else f"member {k}")
        where = [(("member", k), m) for k, m in enumerate(members)]
    else:
        flat = _flatten(data)
        flat.pop("extends", None)
        if not flat:
            raise ScenarioError(p, "expected [[member]] tables or parameter overrides")
        members, labels, where = [flat], ["best"], [((), flat)]
    for loc, m in where:
        for key in m:
            if key.startswith("scenario.") or param_info(key) is None:
                raise ScenarioError(
                    p,
                    f"{key!r} is not a parameter an ensemble may set; see `introsim params`",
                    line=lines.get(loc) or lines.get(tuple(key.split("."))),
                    show_field=False,
                )
    return Ensemble(p, tuple(members), tuple(labels))


def load_checked(
    path: str | os.PathLike[str] | None, scenario_paths: list[Path], sets: dict[str, Any]
) -> Ensemble | None:
    """Read an ensemble (None without one) and check every member on every scenario file.

    Raises:
        ScenarioError: The file, or a member on one of the scenarios, is invalid (one line).
    """
    if path is None:
        return None
    ensemble = load_ensemble(path)
    for scenario_path in scenario_paths:
        ensemble.validate_on(scenario_path, sets)
    return ensemble


def stale_posterior(ensemble: Ensemble | None) -> str | None:
    """A caution when an ensemble is a posterior made with another version of the model.

    Returns:
        One line to print, or None (no ensemble, not a posterior, or the same model).
    """
    import tomllib

    from introsim.experiments.engine import model_version

    if ensemble is None:
        return None
    try:
        data = tomllib.loads(ensemble.path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    made = data.get("posterior", {}).get("identity", {}).get("model_version")
    if not made or made == model_version():
        return None
    return (
        f"{ensemble.path} was calibrated with model {made}; this is {model_version()}: the "
        "members may no longer fit the targets (run introsim calibrate again)"
    )
