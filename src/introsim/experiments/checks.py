"""Check any input file as the command that uses it would, before any run.

``introsim validate FILE...`` answers each file with ``ok`` or one line naming
the file, line and field at fault; a file passes only if the command that runs
it would start: an experiment's every design point is built and validated (and a
sensitivity design's analysis tried on a made-up outcome), a trial's and a
calibration's scenarios are loaded with their overrides, an ensemble's members
are checked as parameters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from introsim.params.document import TomlDocument
from introsim.params.errors import InputError
from introsim.params.kinds import file_kind

__all__ = ["MAX_SHOWN", "Checked", "check_file", "problems"]

MAX_SHOWN = 20
"""Most problems of one file ``validate`` lists; beyond it, how many more there are."""


@dataclass(frozen=True)
class Checked:
    """A file that passed: what it holds in a few words, and what to beware of.

    Attributes:
        what: ``experiment: 61 design points × 10 replicates``, say.
        warnings: Lines to show beside ``ok`` (a scenario whose horizon leaves an outcome
            on few participants).
    """

    what: str
    warnings: list[str] = field(default_factory=list)


def check_file(path: str | os.PathLike[str]) -> Checked:
    """Load a file of any kind fully and say what it is.

    Args:
        path: A scenario, experiment, trial, panel, calibration, targets or ensemble file, or
            a municipal profile or observed-outcomes CSV file.

    Returns:
        What the file holds, and any warnings.

    Raises:
        InputError: One line naming the file (and line and field) of the first problem.
    """
    return Checked(*_check(path))


def problems(error: InputError, most: int = MAX_SHOWN) -> list[str]:
    """Every problem an error found (each one line), at most ``most`` and a line of the rest."""
    found = error.errors or [str(error)]
    if len(found) <= most:
        return list(found)
    rest = len(found) - most
    more = f"{error.path}: and {rest} more problem{'s' if rest > 1 else ''} (fix these first)"
    return [*found[:most], more]


def _runs_within_limit(kind: str, loaded: object, path: str | os.PathLike[str]) -> None:
    """Refuse, as the study's command would, a study asking for more runs than allowed."""
    from introsim.experiments.study import StudyError, check_runs, study_kind

    try:
        check_runs(study_kind(kind)(loaded))  # type: ignore[call-arg]
    except StudyError as exc:
        raise InputError(path, str(exc).partition(": ")[2]) from None


def _check(path: str | os.PathLike[str]) -> tuple[str, list[str]]:
    """The file's description and warnings (see :func:`check_file`)."""
    if Path(path).suffix.lower() == ".csv":
        from introsim.params.municipalities import load_any

        kind, rows = load_any(path)
        return {
            "observed": f"observed outcomes: {rows} rows (comparison only)",
            "reference": f"list of municipalities: {rows}",
            "profiles": f"municipal profiles: {rows} municipalities",
        }[kind], []
    kind = file_kind(TomlDocument.read(path, what="TOML file").data)
    if kind == "experiment":
        from introsim.experiments.design import SENSITIVITY_DESIGNS, load_experiment
        from introsim.experiments.sensitivity import check_analysis

        design = load_experiment(path)
        if design.meta.design in SENSITIVITY_DESIGNS:
            check_analysis(design)
        points = f"{len(design.points)} design points × {design.meta.replications} replicates"
        return f"experiment: {points}", []
    if kind == "trial":
        from introsim.params.trial_file import load_trial

        spec = load_trial(path)
        return (
            f"trial: {spec.recruitment.sites} sites, {len(spec.meta.sample_sizes)} sample sizes",
            [],
        )
    if kind == "panel":
        from introsim.params.panel_file import load_panel

        panel = load_panel(path)
        runs = len(panel.municipalities) * len(panel.policies) * panel.meta.replications
        return (
            f"panel: {len(panel.municipalities)} municipalities × {len(panel.policies)} policies "
            f"× {panel.meta.replications} replicates = {runs} runs",
            [],
        )
    if kind == "calibration":
        from introsim.experiments.posterior_calibration import load_posterior_calibration

        cal = load_posterior_calibration(path)
        _runs_within_limit("calibrate", cal, path)
        return f"calibration: {len(cal.parameters)} free parameters, {len(cal.fitted)} targets", []
    if kind == "targets":
        from introsim.params.calibration_file import load_targets

        return f"targets: {len(load_targets(path).targets)} targets", []
    if kind == "ensemble":
        from introsim.params.ensemble_file import load_ensemble
        from introsim.params.schema import Scenario

        ensemble = load_ensemble(path)
        for k in range(ensemble.size):  # each member's values within the schema's bounds
            ensemble.apply_member(Scenario(), k, where="on the schema's defaults")
        return f"ensemble: {ensemble.size} members", []
    from introsim.experiments.compare import few_observed
    from introsim.params.loader import load_scenario

    scenario = load_scenario(Path(path))
    return f"scenario {scenario.scenario.name}", few_observed(scenario)
