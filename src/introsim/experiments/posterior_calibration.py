"""A calibration file run as a posterior: free parameters, targets, uncertainty, and the outputs.

A calibration file names a targets file (``calibration/targets.toml``: each
target a statistic of scenarios with a band or a value and its standard error,
and its source), the free parameters with their ranges, and how sure we are of
each target beyond its band::

    [calibration]
    name = "default"
    targets = "targets.toml"
    seed = 20261122
    waves = 4              # most waves of history matching
    points = 120           # design points per wave
    members = 100          # members of the posterior ensemble
    replicates = 10        # replicates per point, unless a target asks for more
    discrepancy_sd = 0.02  # model discrepancy of a target (its own unit), unless set below
    exclude = ["..."]      # targets of the file not fitted here (with the reason in a comment)

    [parameters]
    "mechanisms.score_noise" = "plausible"      # the range the schema declares
    "programme.reactivation_rate" = { min = 0.002, max = 0.05, scale = "log" }

    [target.baseline_language_b1_at_24m]
    discrepancy_sd = 0.04
    replicates = 20

A target's band (or its value with ``se``, the observation error) is where the
real quantity lies; ``discrepancy_sd`` is how far the model may stand from it at
its best (what the model leaves out); ``replicates`` the runs its Monte Carlo
noise needs. :func:`run_posterior_calibration` history-matches the free
parameters (:mod:`introsim.experiments.posterior`) on the experiment engine
(:class:`~introsim.experiments.model_simulator.ModelSimulator`) and
:func:`write_posterior_outputs` writes the ensemble and its checks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from introsim.experiments.engine import model_version, provenance
from introsim.experiments.model_simulator import ModelSimulator
from introsim.experiments.posterior import (
    CUTOFF,
    Parameter,
    Posterior,
    Recovery,
    Settings,
    Target,
    history_match,
    most_points,
    posterior_toml,
    recover,
)
from introsim.experiments.store import RunStore
from introsim.experiments.study import Runner, Study, register
from introsim.params.calibration_file import MAX_SIZE, Targets, load_targets
from introsim.params.catalog import ParamInfo, param_info
from introsim.params.document import Name, StrictModel, TomlDocument
from introsim.params.errors import CalibrationError, InputError
from introsim.params.loader import load_scenario_with
from introsim.params.paths import Loc, flatten, split
from introsim.params.schema import MAX_SEED
from introsim.terminal import count

__all__ = [
    "POSTERIOR_FILE",
    "CalibrateStudy",
    "CalibrationError",
    "CalibrationPosterior",
    "PosteriorCalibration",
    "build_manifest",
    "load_posterior_calibration",
    "run_posterior_calibration",
    "write_posterior_outputs",
]

POSTERIOR_FILE = "posterior.toml"
MEMBERS_FILE = "members.csv"
TARGETS_FILE = "targets.csv"
PARAMETERS_FILE = "parameters.csv"
WAVES_FILE = "waves.csv"
MANIFEST_FILE = "manifest.json"
REPORT_FILE = "report.html"
FILES = (
    POSTERIOR_FILE,
    MEMBERS_FILE,
    TARGETS_FILE,
    PARAMETERS_FILE,
    WAVES_FILE,
    MANIFEST_FILE,
    REPORT_FILE,
)
"""What a calibration's folder holds, in order."""
PLAUSIBLE = "plausible"
"""A free parameter's range written as this word is the schema's declared plausible range."""


class MetaSpec(StrictModel):
    """``[calibration]``: targets, seeds, the history match's size and default uncertainty."""

    name: Name = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    question: str = Field(default="", max_length=1_000)
    targets: str = Field(min_length=1, description="Targets file, relative to this file")
    seed: int = Field(ge=0, le=MAX_SEED)
    waves: int = Field(default=4, ge=1, le=20)
    points: int = Field(default=100, ge=8, le=10_000)
    members: int = Field(default=100, ge=1, le=10_000)
    member_rounds: int = Field(default=8, ge=1, le=100)
    cutoff: float = Field(default=CUTOFF, gt=0, le=100)
    candidates: int = Field(default=8192, ge=64, le=1_000_000)
    replicates: int = Field(default=10, ge=2, le=10_000)
    discrepancy_sd: float = Field(default=0.0, ge=0, le=MAX_SIZE)
    exclude: list[str] = Field(default_factory=list, max_length=1_000)
    recovery_members: int = Field(
        default=30,
        ge=0,
        le=10_000,
        description="Members of the synthetic-recovery check (0: no check)",
    )


class RangeSpec(StrictModel):
    """A free parameter's range, where not the schema's plausible one (both ends checked)."""

    min: float
    max: float
    scale: Literal["linear", "log"] = "linear"
    source: str = ""


class TargetSettings(StrictModel):
    """``[target.NAME]``: a target's model discrepancy and replicates."""

    discrepancy_sd: float | None = Field(default=None, ge=0, le=MAX_SIZE)
    replicates: int | None = Field(default=None, ge=2, le=10_000)


@dataclass(frozen=True)
class PosteriorCalibration:
    """A resolved calibration file.

    Attributes:
        path: The file.
        meta: Its ``[calibration]`` table.
        targets: The targets file, resolved, less the excluded targets.
        excluded: The targets of the file not fitted (``exclude``).
        parameters: The free parameters with their ranges and sources.
        fitted: Each fitted target with its observation, discrepancy and replicates.
        infos: The schema's description of each free parameter.
    """

    path: Path
    meta: MetaSpec
    targets: Targets
    excluded: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    fitted: tuple[Target, ...]
    infos: dict[str, ParamInfo] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        """The history match's settings."""
        m = self.meta
        return Settings(
            seed=m.seed,
            waves=m.waves,
            points=m.points,
            cutoff=m.cutoff,
            candidates=m.candidates,
            members=m.members,
            member_rounds=m.member_rounds,
        )

    def fingerprint(self) -> str:
        """A hash of everything that decides the posterior (and the model's version)."""
        data = {
            "targets": self.targets.digest(),
            "parameters": [p.__dict__ for p in self.parameters],
            "fitted": [t.__dict__ for t in self.fitted],
            "meta": self.meta.model_dump(),
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()

    def identity(self) -> dict[str, Any]:
        """The calibration's name, file, fingerprint and model version."""
        """What stored runs must belong to, and what the ensemble file names as its maker."""
        return {
            "calibration": self.meta.name,
            "file": _relative(self.path),
            "fingerprint": self.fingerprint(),
            "model_version": model_version(),
        }


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def load_posterior_calibration(path: str | os.PathLike[str]) -> PosteriorCalibration:
    """Read a calibration file and its targets file; check every range against the schema.

    Args:
        path: The calibration TOML file.

    Returns:
        The resolved calibration.

    Raises:
        CalibrationError: One line naming the file, line and field of the first problem.
    """
    doc = TomlDocument.read(path, error=CalibrationError, what="calibration file")
    doc.check_sections(["calibration"], ["parameters", "target"])
    meta = doc.validate(MetaSpec, ("calibration",))
    every = load_targets(doc.file(("calibration", "targets"), "targets file"))
    names = [t.name for t in every.targets]
    for k, name in enumerate(meta.exclude):
        if name not in names:
            doc.fail(("calibration", "exclude", k), f"no target named {name!r} in {meta.targets}")
    kept = tuple(t for t in every.targets if t.name not in meta.exclude)
    for t in kept:
        if t.trial is not None:
            doc.fail(
                ("calibration", "exclude"),
                f"{t.name} is a statistic of simulated trials, which the history match does not "
                "run: add it to exclude",
            )
    if not kept:
        doc.fail(("calibration", "exclude"), "every target is excluded")
    # Scenarios only the excluded targets use are not run: keep the rest, renumbered.
    used = sorted({term.scenario for t in kept for term in t.terms})
    renumber = {old: new for new, old in enumerate(used)}
    kept = tuple(
        dataclasses.replace(
            t,
            terms=tuple(dataclasses.replace(x, scenario=renumber[x.scenario]) for x in t.terms),
        )
        for t in kept
    )
    targets = Targets(every.path, kept, tuple(every.scenarios[i] for i in used), every.not_computed)
    settings: dict[str, TargetSettings] = {}
    raw_settings = doc.at(("target",), {})
    if not isinstance(raw_settings, dict):
        doc.fail(("target",), "expected [target.NAME] tables")
    for name in raw_settings:
        if name not in [t.name for t in kept]:
            doc.fail(("target", name), f"no fitted target named {name!r}")
        settings[name] = doc.validate(TargetSettings, ("target", name))
    fitted = tuple(_fitted(t, settings.get(t.name), meta) for t in kept)
    parameters, infos = _parameters(doc, targets)
    need = min_points(len(parameters))
    if meta.points < need:
        doc.fail(
            ("calibration", "points"),
            f"expected at least {need} design points per wave for {len(parameters)} free "
            f"parameters (each emulator is fitted on four fifths of them and needs the "
            f"parameters + 2), found {meta.points}",
        )
    return PosteriorCalibration(
        doc.path, meta, targets, tuple(meta.exclude), parameters, fitted, infos
    )


def min_points(d: int) -> int:
    """The fewest design points per wave whose emulators of ``d`` parameters can be fitted.

    Each emulator is fitted on the design less its validation fifth (at least two points)
    and needs ``d + 2`` points (its hyperparameters); with fewer every emulator fails and
    wave 1 cuts nothing.
    """
    n = d + 4
    while n - max(2, n // 5) < d + 2:
        n += 1
    return n


def _fitted(t: Any, own: TargetSettings | None, meta: MetaSpec) -> Target:
    """A target of the targets file with its uncertainties, as the history match takes it."""
    spec = t.spec
    if spec.band is not None:
        low, high, obs = float(spec.band[0]), float(spec.band[1]), 0.0
    else:
        low = high = float(spec.value)
        obs = float(spec.se)
    disc = own.discrepancy_sd if own and own.discrepancy_sd is not None else meta.discrepancy_sd
    reps = own.replicates if own and own.replicates is not None else meta.replicates
    return Target(t.name, low, high, obs, float(disc), int(reps), spec.source)


def _parameters(
    doc: TomlDocument, targets: Targets
) -> tuple[tuple[Parameter, ...], dict[str, ParamInfo]]:
    raw = doc.at(("parameters",), {})
    if not isinstance(raw, dict):
        doc.fail(("parameters",), "expected a table of free parameters")
    flat = flatten(raw, leaf=lambda table: "min" in table or "max" in table)
    if not flat:
        doc.fail(("parameters",), "expected at least one free parameter in [parameters]")
    out: list[Parameter] = []
    infos: dict[str, ParamInfo] = {}
    for name, value in flat.items():
        loc: Loc = ("parameters", *split(name))
        info = param_info(name)
        if info is None or info.kind not in ("int", "float"):
            what = "not a parameter" if info is None else f"a {info.kind}, not a number"
            doc.fail(loc, f"{name!r} is {what}; see `introsim params` for the paths")
        if value == PLAUSIBLE:
            if info.plausible is None:
                doc.fail(
                    loc,
                    f"{name} has no plausible range in the schema; give {{ min = .., max = .. }}",
                )
            low, high = info.plausible
            param = Parameter(name, float(low), float(high), False, info.source or "")
        elif isinstance(value, dict):
            spec = doc.validate(RangeSpec, loc, value)
            if not spec.min < spec.max or (spec.scale == "log" and spec.min <= 0):
                doc.fail(loc, "expected min < max, and 0 < min on a log scale")
            param = Parameter(name, spec.min, spec.max, spec.scale == "log", spec.source)
        else:
            doc.fail(loc, f'expected "{PLAUSIBLE}" or {{ min = .., max = .. }}, found {value!r}')
        if info.kind == "int" and math.ceil(param.low) > param.high:
            doc.fail(
                loc,
                f"{name} takes whole numbers and no whole number lies between "
                f"{param.low:g} and {param.high:g}",
            )
        for end in (param.low, param.high):
            v = round(end) if info.kind == "int" else end
            for ref in targets.scenarios:
                try:
                    load_scenario_with(
                        ref.path, {**{name: v}, **dict(ref.sets)}, source=doc.path, lines={}
                    )
                except InputError as exc:  # the scenario's own words, at this line
                    raise CalibrationError(
                        doc.path, exc.message, line=doc.line(loc), field=name
                    ) from None
        out.append(param)
        infos[name] = info
    return tuple(out), infos


# --------------------------------------------------------------------------- running it
@dataclass(frozen=True)
class CalibrationPosterior:
    """A calibration file's posterior: the history match and what it ran.

    Attributes:
        calibration: The calibration.
        posterior: The waves, members and out-of-sample checks.
        runs: Model runs the calibration needed (stored ones included).
        recovery: The synthetic-recovery check (None when not asked for or no member).
    """

    calibration: PosteriorCalibration
    posterior: Posterior
    runs: int
    recovery: Recovery | None = None


def run_posterior_calibration(
    cal: PosteriorCalibration,
    executor: Executor | None = None,
    *,
    store: RunStore | None = None,
    progress: Callable[[int, int], None] | None = None,
    log: Callable[[str], None] | None = None,
    expected: int | None = None,
) -> CalibrationPosterior:
    """History-match a calibration's free parameters on the experiment engine.

    Args:
        cal: The calibration.
        executor: Where runs go (None: this process).
        store: Keeps runs as they finish; a rerun takes them from it.
        progress: Called with (runs done so far, ``expected`` or the runs known so far).
        log: Called with a line per wave and round of members.
        expected: The runs the progress bar counts to (an estimate, see :func:`_typical_runs`).

    Returns:
        The posterior and the number of model runs.
    """
    sim = ModelSimulator(
        cal.targets,
        [p.name for p in cal.parameters],
        executor,
        store=store,
        progress=progress,
        expected=expected,
    )
    post = history_match(cal.parameters, cal.fitted, sim, cal.settings, log=log)
    recovery = None
    if cal.meta.recovery_members and len(post.members):
        if log is not None:
            log("synthetic recovery: member 0's own targets, searched for again")
        recovery = recover(post, sim, member=0, members=cal.meta.recovery_members, log=log)
    return CalibrationPosterior(cal, post, sim.runs, recovery)


# --------------------------------------------------------------------------- outputs
def build_manifest(
    result: CalibrationPosterior,
    *,
    executor: str,
    wall_time_s: float | None,
    command: Sequence[str] | None,
) -> dict[str, Any]:
    """What is needed to reproduce a posterior calibration, for ``manifest.json``."""
    cal, post = result.calibration, result.posterior
    return {
        **provenance(command),
        "calibration": {**cal.identity(), **cal.meta.model_dump()},
        "method": "history matching with Gaussian-process emulators (scikit-learn), members "
        "confirmed by simulation",
        "root_seed": cal.meta.seed,
        "fresh_seed": post.settings.out_of_sample_seed,
        "replicate_seed": "numpy.random.SeedSequence(root_seed, spawn_key=(replicate,)), the "
        "same at every point and in every scenario (common random numbers)",
        "parameters": [p.__dict__ for p in cal.parameters],
        "targets": [t.__dict__ for t in cal.fitted],
        "excluded_targets": list(cal.excluded),
        "waves": len(post.waves),
        "stopped": post.stopped,
        "members": len(post.members),
        "members_wanted": cal.meta.members,
        "candidates_simulated": post.proposed,
        "point_replicates": post.evaluations,
        "model_runs": result.runs,
        "recovery": _recovery_record(result),
        "executor": executor,
        "wall_time_s": wall_time_s,
        "files": list(FILES),
    }


def _recovery_record(result: CalibrationPosterior) -> dict[str, Any] | None:
    rec = result.recovery
    if rec is None:
        return None
    names = [p.name for p in result.calibration.parameters]
    return {
        "passed": rec.passed,
        "members": rec.members,
        "point_replicates": rec.evaluations,
        "parameters": [
            {
                "parameter": n,
                "truth": float(t),
                "low": float(lo),
                "high": float(hi),
                "inside": bool(ok),
                "share_of_range": float(sh),
            }
            for n, t, lo, hi, ok, sh in zip(
                names, rec.truth, rec.low, rec.high, rec.inside, rec.share_of_range, strict=True
            )
        ],
    }


def write_posterior_outputs(
    result: CalibrationPosterior, folder: Path, manifest: dict[str, Any]
) -> None:
    """Write the ensemble file, its tables and the manifest, each atomically."""
    from introsim.output import write_csv, write_json, write_text

    post = result.posterior
    # The file holds what made it, not when: the same calibration gives the same bytes.
    cal = result.calibration
    integers = {name for name, info in cal.infos.items() if info.kind == "int"}
    write_text(posterior_toml(post, cal.identity(), integers), folder / POSTERIOR_FILE)
    write_csv(post.member_table(), folder / MEMBERS_FILE)
    write_csv(post.target_table(), folder / TARGETS_FILE)
    write_csv(post.parameter_table(), folder / PARAMETERS_FILE)
    write_csv(post.wave_table(), folder / WAVES_FILE)
    write_json(manifest, folder / MANIFEST_FILE)


# --------------------------------------------------------------------------- the study
@register
class CalibrateStudy(Study):
    """``introsim calibrate``: a posterior ensemble by history matching."""

    kind = "calibrate"
    work = "runs"
    files = FILES
    report_module = "introsim.reporting.posterior_report"
    manifest_options = ("executor", "wall_time_s", "command")
    build_manifest = staticmethod(build_manifest)
    write_outputs = staticmethod(write_posterior_outputs)

    def __init__(self, cal: PosteriorCalibration) -> None:
        self.cal, self.name = cal, cal.meta.name

    @classmethod
    def load(cls, path: str | Path) -> CalibrateStudy:
        """Read a calibration file."""
        return cls(load_posterior_calibration(path))

    def identity(self) -> dict[str, Any]:
        """The calibration's name, file, fingerprint and model version."""
        return self.cal.identity()

    def scenarios(self) -> list[Any]:
        """The scenarios the fitted targets run (for the memory check)."""
        return [
            load_scenario_with(ref.path, dict(ref.sets), source=self.cal.path)
            for ref in self.cal.targets.scenarios
        ]

    def size(self) -> tuple[str, int]:
        """The most runs it can ask for: waves may stop early, rounds of members be fewer."""
        return _size(self.cal)

    def typical_runs(self) -> int | None:
        """The runs a typical calibration of this size asks for (see :func:`_typical_runs`).

        None where that is the bound itself (few member rounds): then the bound is the figure.
        """
        typical = _typical_runs(self.cal)
        return typical if typical < _size(self.cal)[1] else None

    def run(self, runner: Runner) -> CalibrationPosterior:
        """History-match on the runner, a line per wave on standard error."""
        from introsim.terminal import Console

        console = Console(stderr=True, highlight=False)
        return run_posterior_calibration(
            self.cal,
            runner.executor,
            store=runner.store,
            progress=runner.progress,
            log=lambda line: console.print(line, markup=False),
            expected=self.typical_runs(),
        )

    def notes(self, result: CalibrationPosterior) -> list[str]:
        """A note when fewer members than wanted were found."""
        post = result.posterior
        if post.complete:
            return []
        return [
            f"only {len(post.members)} of {count(self.cal.meta.members, 'member')} were found: the "
            "targets leave too little room (raise discrepancy_sd where the model is known "
            "to fall short, or member_rounds)"
        ]

    def summary(
        self, result: CalibrationPosterior, out: Path, wall: float, manifest: dict[str, Any]
    ) -> dict:
        """The result as data for ``--json``."""
        post = result.posterior
        return {
            "out": str(out),
            "members": len(post.members),
            "waves": len(post.waves),
            "model_runs": result.runs,
            "recovery": _recovery_record(result),
            "wall_time_s": round(wall, 3),
            "targets": post.target_table().to_dict("records"),
            "parameters": post.parameter_table().to_dict("records"),
        }

    def show(self, result: CalibrationPosterior, out: Path, wall: float) -> None:
        """Each target's posterior interval, fresh-seed check and prediction from the others."""
        from introsim.terminal import Table, wide_console

        post = result.posterior
        table = Table(
            title=f"calibration {self.cal.meta.name}: {count(len(post.members), 'member')} from "
            f"{count(len(post.waves), 'wave')}, {result.runs} runs; each target's posterior "
            "predictive interval (95 % of members' averages) against its band"
        )
        for col in ("target", "band", "posterior", "fresh seeds", "from the others"):
            table.add_column(col, justify="left" if col in ("target", "band") else "right")
        for row in post.target_table().itertuples():
            table.add_row(
                row.target,
                _band(row.band_low, row.band_high, row.observation_sd),
                f"{row.posterior_median:.3f} [{row.posterior_low:.3f}, {row.posterior_high:.3f}]",
                f"{100 * row.fresh_within_cutoff:.0f} % within cut-off",
                f"– ({post.loo_note(row.target)})"
                if not math.isfinite(row.loo_low)
                else f"[{row.loo_low:.3f}, {row.loo_high:.3f}]"
                + (" meets band" if row.loo_overlaps else " misses band"),
            )
        console = wide_console(160)
        console.print(table)
        console.print(f"wrote {out}/ {', '.join(self.files)} ({wall:.1f} s)", soft_wrap=True)


def _size(cal: PosteriorCalibration) -> tuple[str, int]:
    """The most runs a calibration can ask for, as the dry run's label and count.

    The history match's most parameter points (:func:`~posterior.most_points`), and as many
    again for the synthetic recovery with its own members (its first wave is the main run's:
    served from the store, but asked for and counted), each point running every scenario
    its targets need.
    """
    m, per_point = cal.meta, _per_point(cal)
    points = most_points(cal.settings)
    if m.recovery_members:
        points += most_points(dataclasses.replace(cal.settings, members=m.recovery_members))
    return f"at most {points} parameter points × {per_point} runs", points * per_point


TYPICAL_MEMBER_POINTS = 4
"""Parameter points a member costs in a typical run, for the progress bar only: candidates
until enough are within the cut-off, and the member again on fresh seeds (the shipped default
calibration: 288 candidates and 100 re-runs for 100 members)."""


def _typical_runs(cal: PosteriorCalibration) -> int:
    """The runs a calibration typically asks for, which the progress bar counts to.

    The bound of :func:`_size` is far above a usual run, so a bar counting to it would
    promise hours for minutes; the bar's count grows if a run asks for more than this.
    """
    m = cal.meta
    waves = m.waves * m.points * (2 if m.recovery_members else 1)
    points = waves + TYPICAL_MEMBER_POINTS * (m.members + m.recovery_members)
    return min(points * _per_point(cal), _size(cal)[1])


def _per_point(cal: PosteriorCalibration) -> int:
    """Model runs of one parameter point: every scenario its fitted targets need."""
    return sum(ModelSimulator.needs(cal.targets, tuple(t.replicates for t in cal.fitted)))


def _band(low: float, high: float, sd: float) -> str:
    if low == high:
        return f"{low:g} ± {sd:g}"
    if low == float("-inf"):
        return f"≤ {high:g}"
    if high == float("inf"):
        return f"≥ {low:g}"
    return f"{low:g} to {high:g}"
