"""Sweeps: every design point of an experiment over common-random-number replicates.

A sweep runs each point of a :class:`~introsim.experiments.design.Design` for
the experiment's replications through :func:`~introsim.experiments.engine.run_tasks`.
Replicate ``r`` has the same seed at every point, so each point's difference
from the base (point 0) is paired by replicate.

Over a posterior ensemble (``--ensemble``) every member runs every point and
replicate (members × replicates, as a comparison does), and each mean and
difference carries the three kinds of uncertainty of
:mod:`~introsim.experiments.uncertainty`: what we do not know about the
mechanisms (``parameter_*``, the members' averages), chance in one real cohort
(``cohort_*``) and the simulation's precision (``ci_*``, ``diff_low``/``diff_high``,
over the members' averages).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from introsim.experiments.design import Design, Point
from introsim.experiments.engine import Cube, Task, model_version, provenance, run_cube
from introsim.experiments.statistics import CONFIDENCE, MIN_PEOPLE, interval
from introsim.experiments.store import RunStore
from introsim.experiments.study import Runner, Study, StudyError, register
from introsim.model.ledger import LEDGER_OUTCOMES
from introsim.model.outcomes import COST_PARTS, OUTCOMES
from introsim.output import write_csv, write_json, write_parquet
from introsim.params.ensemble_file import Ensemble, intervals_text
from introsim.params.paths import get
from introsim.run import simulate_outcomes_and_people
from introsim.terminal import Console, Table, format_value, shown, wide_console

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

SWEEP_OUTCOMES: tuple[str, ...] = (*OUTCOMES, *COST_PARTS, *LEDGER_OUTCOMES)
"""Outcomes recorded for every run: the fixed outcomes, the cost parts and each payer's net
cost in present value."""

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
        ensemble: The parameter ensemble every point and replicate ran under
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
    ensemble of K members every member runs every replicate of every point: task
    point ``i * K + k`` is point ``i`` with member ``k``'s parameters (a point's own
    factors win over a member's value of the same path), and replicate r has the
    same seed under every member. A contrast study's reference twins follow the
    design's points, with the same seeds (task point numbers continue after the
    design's).
    """
    tasks: list[Task] = []
    reps = design.meta.replications
    for _, points in arms(design):
        for p in points:
            seed = design.meta.seed if p.seed is None else p.seed
            variants = (
                [p.scenario]
                if ensemble is None
                else [
                    ensemble.apply_member(p.scenario, k, p.overrides, f"at point {p.label}")
                    for k in range(ensemble.size)
                ]
            )
            for scenario in variants:
                point = len(tasks) // reps
                tasks += [Task(point, r, scenario, seed) for r in range(reps)]
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
    return get(point.scenario, name)


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
        ensemble: Parameter sets: every member runs every point and replicate.

    Returns:
        The sweep's runs and per-point summaries.
    """
    tasks = sweep_tasks(design, ensemble)
    cube = run_cube(
        tasks,
        SWEEP_OUTCOMES,
        executor,
        evaluate=simulate_outcomes_and_people,
        store=store,
        progress=progress,
    )
    runs = _runs_table(design, cube, ensemble)
    described = ensemble.describe() if ensemble is not None else None
    members = ensemble.size if ensemble is not None else 1
    return Sweep(design, runs, _points_table(design, cube, members), cube.failed, described)


def _runs_table(design: Design, cube: Cube, ensemble: Ensemble | None) -> pd.DataFrame:
    """One row per point, (member,) and replicate (per arm): its factors, outcomes and error."""
    members = ensemble.size if ensemble is not None else 1
    reps = cube.values.shape[1] * members  # rows per design point
    points = [(arm, p) for arm, pts in arms(design) for p in pts]

    def each(values: list[Any]) -> np.ndarray:
        """One value per point, repeated for its (members' and) replicates, as Python objects."""
        return np.repeat(np.array(values, dtype=object), reps)

    columns: dict[str, Any] = {
        "point": np.repeat(np.array([p.index for _, p in points], dtype=np.int64), reps),
        "label": each([p.label for _, p in points]),
        "replicate": np.tile(
            np.arange(cube.values.shape[1], dtype=np.int64), len(points) * members
        ),
        "run_id": cube.run_ids.ravel(),
    }
    if design.reference is not None:
        columns["arm"] = each([arm for arm, _ in points])
    if ensemble is not None:
        columns["ensemble_member"] = np.tile(
            np.repeat(np.arange(members, dtype=np.int64), cube.values.shape[1]), len(points)
        )
    for name in design.infos:
        columns[name] = each([_factor_value(p, name) for _, p in points]).tolist()
    for j, outcome in enumerate(cube.outcomes):
        columns[outcome] = cube.values[:, :, j].ravel()
    columns["error"] = cube.errors.ravel()
    return pd.DataFrame(columns)


EXTRA = "extra_employed_12m"
"""Extra persons in work at 12 months per cohort, against the base (as in a comparison)."""
PER_EXTRA = "cost_per_extra_job_nok"
"""Extra cost over the horizon per extra person in work at 12 months (as in a comparison)."""


def _units(x: np.ndarray) -> np.ndarray:
    """What a simulation-precision interval is over, for (members, replicates) ``x``.

    With one member, its replicates; with several, the members' averages (as in a comparison).
    """
    if x.shape[0] == 1:
        return x[0]
    finite = np.isfinite(x)
    n = finite.sum(axis=1)
    return np.where(n > 0, np.where(finite, x, 0.0).sum(axis=1) / np.maximum(n, 1), np.nan)


def _extra_rows(
    point: Point, values: np.ndarray, base: np.ndarray, col: dict[str, int], members: int
) -> list:
    """A point's extra persons in work at 12 months and cost per extra one, against the base.

    The same statistics as a comparison's: the paired difference in the share in
    work times the point's cohort size, and Fieller's ratio of the cost difference
    to the share difference, given only where the gain is clear and the cost higher
    (``status`` says what holds otherwise). ``values`` and ``base`` are (members,
    replicates, outcomes); over an ensemble the extra persons also get the three
    kinds of uncertainty, and ``status`` rests on the mechanisms' range, as in a comparison.
    """
    from introsim.experiments.compare import _decisive, cost_status
    from introsim.experiments.statistics import fieller_ratio, t_interval
    from introsim.experiments.uncertainty import three_kinds

    size = point.scenario.cohort.size
    d_share = values[:, :, col["employed_12m"]] - base[:, :, col["employed_12m"]]
    d_cost = (
        values[:, :, col["cost_per_participant_nok"]] - base[:, :, col["cost_per_participant_nok"]]
    )
    n, d, lo, hi, p = t_interval(_units(d_share) * size)
    _, c, c_lo, c_hi, _ = t_interval(_units(d_cost))
    status = cost_status(_decisive((d, lo, hi), d_share * size), _decisive((c, c_lo, c_hi), d_cost))
    n_ratio, r, r_lo, r_hi = fieller_ratio(_units(d_cost), _units(d_share))
    if status != "ratio":
        r = r_lo = r_hi = np.nan
    kinds = three_kinds(d_share * size, size) if members > 1 else None
    return [
        (EXTRA, n, d, lo, hi, p, "", kinds),
        (PER_EXTRA, n_ratio, r, r_lo, r_hi, np.nan, status, None),
    ]


def _points_table(design: Design, cube: Cube, members: int = 1) -> pd.DataFrame:
    """Per point and outcome: mean, interval, and the paired difference from the base.

    ``people`` is the mean number of participants a share rests on per run
    (``few_people`` below :data:`~introsim.experiments.statistics.MIN_PEOPLE`: not
    a finding). The base's own difference is 0 with no interval and no p-value. Where the
    outcomes allow, every other point also has the rows ``extra_employed_12m``
    and ``cost_per_extra_job_nok`` (estimate in ``diff``, ``status`` as in a
    comparison).

    Over an ensemble of ``members`` (cube points ``i * members + k``), ``ci_*`` and
    ``diff_low``/``diff_high`` are over the members' averages (the simulation's
    precision), and the columns ``parameter_*``/``cohort_*`` and
    ``diff_parameter_*``/``diff_cohort_*`` hold what we do not know about the
    mechanisms and chance in one real cohort (see
    :func:`~introsim.experiments.uncertainty.three_kinds`).
    """
    from introsim.experiments.compare import INFO, _bounds_of, _kinds_columns
    from introsim.experiments.uncertainty import three_kinds

    n_points = len(design.points)  # a contrast study's reference arm follows
    reps = cube.values.shape[1]
    grid = cube.values[: n_points * members].reshape(n_points, members, reps, -1)
    base = grid[0]
    col = {o: j for j, o in enumerate(cube.outcomes)}
    extras = {"employed_12m", "cost_per_participant_nok"} <= set(col)
    over = members > 1

    def people(p: int, outcome: str) -> float:
        counts = [
            (cube.results[p * members + k, r] or {}).get(f"people_{outcome}", np.nan)
            for k in range(members)
            for r in range(reps)
        ]
        finite = [c for c in counts if c == c]
        return float(np.mean(finite)) if finite else np.nan

    def kinds_of(x: np.ndarray | None, size: int, outcome: str, prefix: str = "") -> dict[str, Any]:
        if not over:
            return {}
        if x is None:
            return _kinds_columns(None, prefix)
        bounds = _bounds_of(outcome, difference=bool(prefix)) if outcome in INFO else None
        return _kinds_columns(three_kinds(x, size, bounds=bounds), prefix)

    rows: list[dict[str, Any]] = []
    for p, point in enumerate(design.points):
        factors = {name: _factor_value(point, name) for name in design.infos}
        size = point.scenario.cohort.size
        for j, outcome in enumerate(cube.outcomes):
            x = grid[p, :, :, j]
            level = interval(outcome, _units(x))
            spreads = kinds_of(x, size, outcome)
            if p == 0:  # the base against itself: nothing to test
                diff, dlo, dhi, pval = (0.0 if level.n else np.nan), np.nan, np.nan, np.nan
                spreads |= kinds_of(None, size, outcome, "diff_")
            else:
                dx = x - base[:, :, j]
                paired = interval(outcome, _units(dx), paired=True)
                diff, dlo, dhi, pval = paired.estimate, paired.low, paired.high, paired.p_value
                spreads |= kinds_of(dx, size, outcome, "diff_")
            rows.append(
                {
                    "point": p,
                    "label": point.label,
                    **factors,
                    "outcome": outcome,
                    "n": level.n,
                    "mean": level.estimate,
                    "ci_low": level.low,
                    "ci_high": level.high,
                    "diff": diff,
                    "diff_low": dlo,
                    "diff_high": dhi,
                    "p_value": pval,
                    "status": "",
                    "people": (n_people := people(p, outcome)),
                    "few_people": bool(n_people < MIN_PEOPLE),
                    **spreads,
                }
            )
        if extras and p > 0:
            for name, n, d, lo, hi, pv, status, kinds in _extra_rows(
                point, grid[p], base, col, members
            ):
                rows.append(
                    {
                        "point": p,
                        "label": point.label,
                        **factors,
                        "outcome": name,
                        "n": n,
                        "mean": np.nan,
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "diff": d,
                        "diff_low": lo,
                        "diff_high": hi,
                        "p_value": pv,
                        "status": status,
                        "people": np.nan,
                        "few_people": False,
                        **(
                            {**_kinds_columns(None), **_kinds_columns(kinds, "diff_")}
                            if over
                            else {}
                        ),
                    }
                )
    df = pd.DataFrame(rows)
    df["point"] = df["point"].astype(np.int64)
    df["n"] = df["n"].astype(np.int64)
    for c in ("label", "outcome", "status"):
        df[c] = df[c].astype(object)
    return df


def unresolved_curves(sweep: Sweep) -> list[str]:
    """Where the replicates cannot resolve how an outcome moves along a factor.

    Along each numeric factor (the other factors at the base, or averaged over
    in a grid), the means of neighbouring levels are compared: where they go up
    and down (the curve bends back) by less than their 95 % intervals, the shape
    drawn is noise. Intervals shrink with the square root of the replicates, so
    four times as many halve them.

    Returns:
        One warning per outcome and factor.
    """
    d = sweep.design
    if d.meta.design not in ("grid", "oat") or len(d.points) < 3:
        return []
    pts = sweep.points
    out = []
    for outcome in d.meta.outcomes:
        rows = pts[pts["outcome"] == outcome]
        for factor in sweep.factors:
            if not pd.api.types.is_numeric_dtype(rows[factor]) or rows[factor].nunique() < 3:
                continue
            if d.meta.design == "oat":  # the points moving this factor, and the base
                others = [f for f in sweep.factors if f != factor]
                base = rows.iloc[0]
                line = rows[(rows[others] == base[others]).all(axis=1)] if others else rows
            else:
                line = rows
            curve = line.groupby(factor)[["mean", "ci_low", "ci_high"]].mean().sort_index()
            if len(curve) < 3:
                continue
            steps = np.diff(curve["mean"].to_numpy())
            half = ((curve["ci_high"] - curve["ci_low"]) / 2).to_numpy()
            noise = np.maximum(half[1:], half[:-1])
            bends = np.sign(steps[1:]) * np.sign(steps[:-1]) < 0
            small = (np.abs(steps[1:]) < noise[1:]) | (np.abs(steps[:-1]) < noise[:-1])
            if (bends & small).any():
                reps = d.meta.replications
                out.append(
                    f"{outcome} along {factor}: the means go up and down by less than their "
                    f"95 % intervals, so {reps} replicates cannot resolve the curve's shape; "
                    f"--replications {4 * reps} would halve the intervals"
                )
    return out


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


# --------------------------------------------------------------------------- the study
class DesignStudy(Study):
    """A study of an experiment file's design points: a sweep or a sensitivity study."""

    def __init__(self, design: Design, ensemble: Ensemble | None = None) -> None:
        self.design, self.ensemble = design, ensemble
        self.name = design.meta.name

    def identity(self) -> dict[str, Any]:
        return store_identity(self.design, self.ensemble)

    def scenarios(self) -> list[Any]:
        refs = self.design.reference.points if self.design.reference is not None else []
        return [p.scenario for p in (*self.design.points, *refs)]

    def size(self) -> tuple[str, int]:
        d = self.design
        arms = " × 2 arms" if d.reference is not None else ""
        k = self.ensemble.size if self.ensemble is not None else 1
        members = f" × {k} members" if k > 1 else ""
        label = f"{len(d.points)} points{members} × {d.meta.replications} replicates{arms}"
        return label, d.run_count * k


def with_replications(design: Design, replications: int | None) -> Design:
    """The design with ``--replications`` instead of its file's (None: the file's).

    Raises:
        StudyError: The number is outside the bounds of ``experiment.replications``.
    """
    if replications is None:
        return design
    from pydantic import ValidationError

    try:
        meta = type(design.meta).model_validate(
            {**design.meta.model_dump(), "replications": replications}
        )
    except ValidationError as exc:
        raise StudyError(
            f"--replications: {exc.errors()[0]['msg'].lower()}, found {replications}"
        ) from None
    return dataclasses.replace(design, meta=meta)


@register
class SweepStudy(DesignStudy):
    """``introsim sweep``: an experiment's design points over common-random-number replicates."""

    kind = "sweep"
    files = (RUNS_FILE, POINTS_FILE, POINTS_CSV, MANIFEST_FILE, REPORT_FILE)
    report_module = "introsim.reporting.sweep_report"
    build_manifest = staticmethod(build_manifest)
    write_outputs = staticmethod(write_outputs)

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        sets: dict[str, Any] | None = None,
        ensemble: str | Path | None = None,
        replications: int | None = None,
    ) -> SweepStudy:
        """Read an experiment file, with ``--set``, an ensemble and ``--replications``.

        A sensitivity design is refused with a pointer to ``introsim sensitivity``.
        """
        from introsim.experiments.design import SENSITIVITY_DESIGNS, load_experiment
        from introsim.params.ensemble_file import load_checked

        design = load_experiment(path, overrides=sets)
        if design.meta.design in SENSITIVITY_DESIGNS:
            raise StudyError(
                f"{path}: experiment.design = {design.meta.design!r} is a sensitivity design, "
                f"which `introsim sweep` would run but not analyse; run `introsim sensitivity "
                f"{path}` for its indices"
            )
        design = with_replications(design, replications)
        checked = load_checked(ensemble, [design.base_path], design.sets, design.points)
        return cls(design, checked)

    def run(self, runner: Runner) -> Sweep:
        return run_sweep(
            self.design,
            runner.executor,
            store=runner.store,
            progress=runner.progress,
            ensemble=self.ensemble,
        )

    def warnings(self, result: Sweep, out: Path) -> list[str]:
        return [*failed_runs(result.failed, len(result.runs), out), *unresolved_curves(result)]

    def summary(self, result: Sweep, out: Path, wall: float, manifest: dict[str, Any]) -> dict:
        return {
            "out": str(out),
            "runs": len(result.runs),
            "failed": result.failed,
            "points": result.points.to_dict("records"),
        }

    def show(self, result: Sweep, out: Path, wall: float) -> None:
        from introsim.experiments.compare import INFO
        from introsim.reporting.compare_report import MARKS, STATUS_TEXT, verdict
        from introsim.reporting.format import format_interval, format_number

        outcomes = list(result.design.meta.outcomes)
        over = result.ensemble is not None
        ens = result.ensemble
        members = f" × {ens['members']} posterior members" if ens is not None else ""
        ranges = ", three 95 % ranges under it" if over else " [95 % interval]"
        table = Table(
            title=f"{result.design.meta.name}: {len(result.design.points)} points{members} × "
            f"{result.design.meta.replications} replicates; mean{ranges}, and Δ the "
            f"difference from the base paired by replicate{ranges}",
        )
        table.add_column("point", overflow="fold")
        for o in outcomes:
            table.add_column(o, justify="right")
        cells = result.points.set_index(["point", "outcome"])
        extras = (1, EXTRA) in cells.index
        if extras:
            table.add_column("extra in work at 12 months, per cohort", justify="right")
            table.add_column("NOK per extra person in work", justify="right")

        def spans(o: str, r: pd.Series, low: str, high: str, prefix: str = "") -> str:
            """The interval under a number; over an ensemble the three kinds, each named."""
            signed = bool(prefix)
            sim = format_interval(o, r[low], r[high], signed=signed)
            if not over:
                return f"\n[dim]{sim}[/dim]" if sim else ""
            lines = [
                f"{name} {span}"
                for key, name in (("parameter", "mechanisms"), ("cohort", "one cohort"))
                if (
                    span := format_interval(
                        o, r[f"{prefix}{key}_low"], r[f"{prefix}{key}_high"], signed
                    )
                )
            ]
            lines += [f"simulation {sim}"] if sim else []
            return "".join(f"\n[dim]{line}[/dim]" for line in lines)

        def mean(o: str, r: pd.Series) -> str:
            text = format_value(o, r["mean"]) + ("‡" if r["few_people"] else "")
            n = f"\n[dim]n {r['people']:.0f}[/dim]" if r["people"] == r["people"] else ""
            return text + spans(o, r, "ci_low", "ci_high") + n

        def delta(o: str, r: pd.Series) -> str:
            text = format_number(o, r["diff"], signed=True)
            if text == "–":
                return ""
            pp = " pp" if o in INFO and INFO[o].unit == "share" else ""
            # Clearly better or worse: by the mechanisms' range over an ensemble (as a
            # comparison judges), else by the simulation's precision.
            low, high = "diff_low", "diff_high"
            if over and r["diff_parameter_low"] == r["diff_parameter_low"]:
                low, high = "diff_parameter_low", "diff_parameter_high"
            v = verdict(o, r["diff"], r[low], r[high], bool(r["few_people"]))
            mark = f"{MARKS[v][0]} " if v in MARKS else ""
            return f"\nΔ {mark}{text}{pp}" + spans(o, r, "diff_low", "diff_high", "diff_")

        for p in result.design.points:
            row = []
            for o in outcomes:
                r = cells.loc[(p.index, o)]
                row.append(mean(o, r) + (delta(o, r) if p.index > 0 else ""))
            if extras and p.index > 0:
                e, c = cells.loc[(p.index, EXTRA)], cells.loc[(p.index, PER_EXTRA)]
                extra = format_number(EXTRA, e["diff"], signed=True)
                row.append(extra + spans(EXTRA, e, "diff_low", "diff_high", "diff_"))
                if c["status"] == "ratio":
                    ci = format_interval(PER_EXTRA, c["diff_low"], c["diff_high"])
                    row.append(format_number(PER_EXTRA, c["diff"]) + f"\n[dim]{ci}[/dim]")
                else:
                    row.append(STATUS_TEXT.get(c["status"], c["status"]))
            elif extras:
                row += ["(base)", "(base)"]
            table.add_row(shown(p.label), *row)
        console = wide_console(200)
        console.print(table)
        for line in legend(result):
            console.print(line, soft_wrap=True, markup=False)
        if result.points["few_people"].astype(bool).any():
            console.print(
                f"n: participants a share rests on in one run; ‡ fewer than {MIN_PEOPLE}: not a "
                "finding, whatever its interval.",
                markup=False,
            )
        Console().print(
            f"wrote {out}/ {', '.join(self.files)} ({len(result.runs)} runs in {wall:.1f} s)",
            highlight=False,
            soft_wrap=True,
        )


def legend(sweep: Sweep) -> list[str]:
    """What the ranges under each number of a sweep's table cover, in plain words.

    One range without an ensemble (the simulation's randomness, and what it leaves out), three
    over an ensemble.
    """
    if sweep.ensemble is None:
        return [
            "[95 % interval]: the randomness of the simulation only (simulation precision, the "
            "Monte Carlo error of the average over replicates; it narrows with more replicates "
            "and says nothing about the world). Not covered: what we do not know about the "
            "mechanisms (run with --ensemble and a calibration's posterior.toml to see it)."
        ]
    sizes = sorted({p.scenario.cohort.size for p in sweep.design.points})
    size = " or ".join(str(n) for n in sizes)
    return [
        f"mechanisms: what we do not know about the mechanisms; 95 % of the "
        f"{sweep.ensemble['members']} plausible parameter sets of {sweep.ensemble['file']} give "
        "an average in this range (it does not shrink with more runs).",
        f"one cohort: chance in one real cohort of {size} participants; a single municipality's "
        "cohort lands in this range 95 % of the time.",
        "simulation: simulation precision, the Monte Carlo error of the average; it narrows with "
        "more runs and says nothing about the world.",
        "✓/✗: the 95 % range of the mechanisms excludes zero.",
    ]


def failed_runs(failed: int, runs: int, out_dir: Path, consequence: str = "") -> list[str]:
    """The warning for runs that raised (none when none did), pointing to their errors."""
    if not failed:
        return []
    also = f"; {consequence}" if consequence else ""
    return [
        f"{failed} of {runs} runs failed{also}; the errors are in {out_dir}/runs.csv (column error)"
    ]
