"""Sweeps: every design point of an experiment over common-random-number replicates.

A sweep runs each point of a :class:`~introsim.experiments.design.Design` for
the experiment's replications through :func:`~introsim.experiments.engine.run_tasks`.
Replicate ``r`` has the same seed at every point, so each point's difference
from the base (point 0) is paired by replicate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from introsim.experiments.design import Design, Point
from introsim.experiments.engine import Task, model_version, provenance, run_tasks
from introsim.experiments.statistics import CONFIDENCE, t_interval
from introsim.experiments.store import RunStore
from introsim.model.outcomes import COST_PARTS, OUTCOMES
from introsim.output import write_csv, write_json, write_parquet
from introsim.params.ensemble_file import Ensemble, intervals_text

__all__ = [
    "POINTS_FILE",
    "RUNS_FILE",
    "SWEEP_OUTCOMES",
    "Sweep",
    "build_manifest",
    "run_sweep",
    "store_identity",
    "sweep_tasks",
    "write_outputs",
]

SWEEP_OUTCOMES: tuple[str, ...] = (*OUTCOMES, *COST_PARTS)
"""Outcomes recorded for every run."""

TREATMENT, REFERENCE = "treatment", "reference"
"""The arms of a contrast study (the ``arm`` column of its runs)."""

RUNS_FILE = "runs.parquet"
POINTS_FILE = "points.parquet"
POINTS_CSV = "points.csv"
RUNS_CSV = "runs.csv"
MANIFEST_FILE = "manifest.json"
REPORT_FILE = "report.html"


@dataclass(frozen=True)
class Sweep:
    """A finished sweep.

    Attributes:
        design: The experiment's design.
        runs: One row per point and replicate: point, label, replicate, run id,
            the factors' values, every outcome, and the error of a failed run.
        points: One row per point and outcome: the mean and its interval over
            replicates, and the paired difference from the base with its interval.
        failed: How many runs raised an error.
        ensemble: The parameter ensemble replicates cycled through
            (:meth:`~introsim.params.ensemble_file.Ensemble.describe`), or None.
    """

    design: Design
    runs: pd.DataFrame
    points: pd.DataFrame
    failed: int
    ensemble: dict[str, Any] | None = None

    @property
    def factors(self) -> list[str]:
        """The factor paths, in the experiment file's order."""
        return list(self.design.infos)


def arms(design: Design) -> list[tuple[str, list[Point]]]:
    """The points each arm runs: the design's, and its reference twins in a contrast study."""
    if design.reference is None:
        return [(TREATMENT, design.points)]
    return [(TREATMENT, design.points), (REFERENCE, design.reference.points)]


def sweep_tasks(design: Design, ensemble: Ensemble | None = None) -> list[Task]:
    """Every (point, replicate) of a design as a task; replicate r has one seed everywhere.

    A point with its own root seed (a sensitivity sample's row, see
    :func:`~introsim.experiments.design.dummy_seed`) uses it instead. With an
    ensemble, replicate r of every point also has member ``r mod K``'s
    parameters (a point's own factors win over a member's value of the same path).
    A contrast study's reference twins follow the design's points, with the
    same seeds (task point numbers continue after the design's).
    """
    tasks = []
    for _, points in arms(design):
        for p in points:
            for r in range(design.meta.replications):
                scenario = (
                    p.scenario
                    if ensemble is None
                    else ensemble.apply(p.scenario, r, keep=p.overrides)
                )
                seed = design.meta.seed if p.seed is None else p.seed
                tasks.append(Task(len(tasks) // design.meta.replications, r, scenario, seed))
    return tasks


def store_identity(design: Design, ensemble: Ensemble | None = None) -> dict[str, Any]:
    """What a folder's stored runs must belong to for a sweep to resume there."""
    identity = {
        "experiment": design.meta.name,
        "fingerprint": design.fingerprint(),
        "model_version": model_version(),
    }
    if ensemble is not None:
        identity["ensemble"] = ensemble.digest()
    return identity


def _factor_value(point: Point, name: str) -> Any:
    if name in point.overrides:
        return point.overrides[name]
    node: Any = point.scenario
    for key in name.split("."):
        node = getattr(node, key)
    return node


def run_sweep(
    design: Design,
    executor: Executor | None = None,
    *,
    store: RunStore | None = None,
    progress: Callable[[int, int], None] | None = None,
    ensemble: Ensemble | None = None,
) -> Sweep:
    """Run every point of a design over its replicates and summarise them.

    Args:
        design: A loaded experiment.
        executor: Where to run (None: in this process).
        store: Keeps results as they finish, and skips runs already kept.
        progress: Called with (done, total).
        ensemble: Parameter sets: replicate ``r`` runs with member ``r mod K``.

    Returns:
        The sweep's runs and per-point summaries.
    """
    tasks = sweep_tasks(design, ensemble)
    results = run_tasks(tasks, executor, store=store, progress=progress)
    factors = list(design.infos)
    points = [(arm, p) for arm, pts in arms(design) for p in pts]
    rows: list[dict[str, Any]] = []
    for task, res in zip(tasks, results, strict=True):
        arm, point = points[task.point]
        row: dict[str, Any] = {
            "point": point.index,
            "label": point.label,
            "replicate": task.replicate,
            "run_id": res.run_id,
        }
        if design.reference is not None:
            row["arm"] = arm
        if ensemble is not None:
            row["ensemble_member"] = task.replicate % ensemble.size
        for name in factors:
            row[name] = _factor_value(point, name)
        values = res.value or {}
        for o in SWEEP_OUTCOMES:
            row[o] = float(values.get(o, np.nan))
        row["error"] = res.error
        rows.append(row)
    runs = pd.DataFrame(rows)
    runs["point"] = runs["point"].astype(np.int64)
    runs["replicate"] = runs["replicate"].astype(np.int64)
    for c in ("label", "run_id", "error", *(["arm"] if design.reference is not None else [])):
        runs[c] = runs[c].astype(object)
    failed = int((runs["error"] != "").sum())
    described = ensemble.describe() if ensemble is not None else None
    return Sweep(design, runs, _points_table(design, runs), failed, described)


def _points_table(design: Design, runs: pd.DataFrame) -> pd.DataFrame:
    """Per point and outcome: mean, interval, and the paired difference from the base."""
    reps = design.meta.replications
    n_points = len(design.points)
    factors = list(design.infos)
    runs = runs.iloc[: n_points * reps]  # a contrast study's reference arm follows
    values = runs[list(SWEEP_OUTCOMES)].to_numpy(np.float64).reshape(n_points, reps, -1)
    base = values[0]
    rows: list[dict[str, Any]] = []
    for p in range(n_points):
        first = runs.iloc[p * reps]
        for j, outcome in enumerate(SWEEP_OUTCOMES):
            n, mean, lo, hi, _ = t_interval(values[p, :, j])
            if p == 0:
                diff = dlo = dhi = pval = 0.0 if n else np.nan
            else:
                _, diff, dlo, dhi, pval = t_interval(values[p, :, j] - base[:, j])
            row = {"point": p, "label": first["label"]}
            row.update({name: first[name] for name in factors})
            row.update(
                {
                    "outcome": outcome,
                    "n": n,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "diff": diff,
                    "diff_low": dlo,
                    "diff_high": dhi,
                    "p_value": pval,
                }
            )
            rows.append(row)
    df = pd.DataFrame(rows)
    df["point"] = df["point"].astype(np.int64)
    df["n"] = df["n"].astype(np.int64)
    for c in ("label", "outcome"):
        df[c] = df[c].astype(object)
    return df


def build_manifest(
    sweep: Sweep,
    *,
    executor: str,
    wall_time_s: float | None,
    command: Sequence[str] | None,
    resumed: int = 0,
) -> dict[str, Any]:
    """What is needed to reproduce a sweep, for ``manifest.json``.

    Args:
        sweep: The sweep.
        executor: Which executor ran it (text).
        wall_time_s: Wall time of this invocation.
        command: The command line as words.
        resumed: Runs found already done in the folder.

    Returns:
        Versions, commit, design (with its seed), base scenario, seeds, counts,
        executor, wall time and the files written.
    """
    d = sweep.design
    return {
        **provenance(command),
        "experiment": d.describe(),
        "base_scenario": {
            "path": str(d.base_path),
            "name": d.points[0].scenario.scenario.name,
            "digest": d.points[0].scenario.digest(),
        },
        "fingerprint": d.fingerprint(),
        "root_seed": d.meta.seed,
        "replicate_seed": "numpy.random.SeedSequence(root_seed, spawn_key=(replicate,)), "
        "the same at every design point (common random numbers)",
        "ensemble": sweep.ensemble,
        "intervals": intervals_text(sweep.ensemble),
        "confidence": CONFIDENCE,
        "runs": len(sweep.runs),
        "failed_runs": sweep.failed,
        "resumed_runs": resumed,
        "executor": executor,
        "wall_time_s": wall_time_s,
        "files": [RUNS_FILE, RUNS_CSV, POINTS_FILE, POINTS_CSV, MANIFEST_FILE, REPORT_FILE],
    }


def write_outputs(sweep: Sweep, folder: Path, manifest: dict[str, Any]) -> None:
    """Write runs, points (Parquet and CSV) and the manifest, each atomically."""
    write_parquet(sweep.runs, folder / RUNS_FILE)
    write_csv(sweep.runs, folder / RUNS_CSV)
    write_parquet(sweep.points, folder / POINTS_FILE)
    write_csv(sweep.points, folder / POINTS_CSV)
    write_json(manifest, folder / MANIFEST_FILE)
