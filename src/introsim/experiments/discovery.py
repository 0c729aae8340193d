"""Scenario discovery: where in factor space does an outcome fall short?

PRIM (Friedman & Fisher 1999), as the EMA Workbench implements it
(``ema_workbench.analysis.prim``, the optional extra ``discover``), peels a box
around the design points whose replicate-mean outcome is below (or above) a
value, trading coverage (the share of all such points inside the box) for
density (the share of points in the box that are such points). It reads the
``runs.parquet`` of any sweep or sensitivity study; the factors are its columns
between the run id and the outcomes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from introsim.experiments.design import DUMMY
from introsim.experiments.engine import provenance
from introsim.experiments.sweep import RUNS_FILE, SWEEP_OUTCOMES

__all__ = ["Discovery", "DiscoveryError", "discover_boxes", "write_outputs"]

EXTRA = "pip install 'introsim[discover]'"
_NOT_FACTORS = {"point", "label", "replicate", "run_id", "error", DUMMY, *SWEEP_OUTCOMES}


class DiscoveryError(Exception):
    """Bad input to scenario discovery (one line)."""


@dataclass(frozen=True)
class Discovery:
    """A PRIM result.

    Attributes:
        source: The runs file read.
        outcome: The outcome explained.
        rule: ``"below 0.45"`` or ``"above ..."``.
        points: Design points used (replicate means).
        cases: How many of them are cases of interest.
        trajectory: The peeling trajectory: box id, coverage, density, mass, restricted dims.
        chosen: Id of the chosen box (the last one with density at least the threshold).
        box: The chosen box's limits on the restricted factors (factor, low, high).
        threshold: The least density asked for.
    """

    source: Path
    outcome: str
    rule: str
    points: int
    cases: int
    trajectory: pd.DataFrame
    chosen: int
    box: pd.DataFrame
    threshold: float

    @property
    def summary(self) -> str:
        """One plain-words paragraph about the chosen box."""
        row = self.trajectory.iloc[self.chosen]
        where = "; ".join(f"{r.factor} in {r.low} to {r.high}" for r in self.box.itertuples())
        return (
            f"{self.cases} of {self.points} design points have {self.outcome} {self.rule}. "
            f"PRIM's chosen box ({where or 'no restriction'}) holds {row['coverage']:.0%} of "
            f"them (coverage) and {row['density']:.0%} of the points inside it are such points "
            f"(density), against {self.cases / self.points:.0%} overall."
        )


def _runs_path(path: Path) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / RUNS_FILE
    if not p.is_file():
        raise DiscoveryError(f"{p}: not found; give a runs.parquet or the folder holding one")
    from introsim.output import stale_problem

    problem = stale_problem(p.parent, p.name)
    if problem is not None:  # never analyse runs that are not the folder's whole, current result
        raise DiscoveryError(problem)
    return p


def discover_boxes(
    path: str | Path,
    outcome: str,
    *,
    below: float | None = None,
    above: float | None = None,
    threshold: float = 0.8,
) -> Discovery:
    """Run PRIM on the replicate means of a study's design points.

    Args:
        path: ``runs.parquet`` of a sweep or sensitivity study, or its folder.
        outcome: The outcome; cases of interest are points whose replicate mean
            is below ``below`` (or above ``above``).
        below: Threshold for a shortfall.
        above: Threshold for an excess (give one of the two).
        threshold: Least density of the chosen box.

    Returns:
        The peeling trajectory and the chosen box.

    Raises:
        DiscoveryError: Missing file, column, extra, or no (or only) cases of interest.
    """
    if (below is None) == (above is None):
        raise DiscoveryError("give exactly one of below or above")
    src = _runs_path(Path(path))
    try:
        runs = pd.read_parquet(src)
    except Exception as exc:  # any unreadable file is the user's input
        raise DiscoveryError(f"{src}: not a readable Parquet file ({type(exc).__name__})") from None
    if outcome not in runs.columns or "point" not in runs.columns:
        raise DiscoveryError(f"{src}: no column {outcome!r} or 'point'; is it a runs.parquet?")
    factors = [c for c in runs.columns if c not in _NOT_FACTORS]
    if not factors:
        raise DiscoveryError(f"{src}: no factor columns to explain {outcome} with")
    ok = runs[runs["error"].fillna("") == ""] if "error" in runs.columns else runs
    means = ok.groupby("point", sort=True)[outcome].mean()
    x = ok.groupby("point", sort=True)[factors].first().loc[means.index]
    x = x.loc[:, x.nunique() > 1]  # a factor that never changes cannot bound a box
    if x.empty:
        raise DiscoveryError(f"{src}: no factor varies between the design points")
    for c in x.columns:
        if not pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c]):
            x[c] = x[c].astype(str).astype("category")
        else:  # PRIM writes fractional limits into the columns' dtype
            x[c] = x[c].astype(np.float64)
    y = (means < below).to_numpy() if below is not None else (means > above).to_numpy()
    rule = f"below {below:g}" if below is not None else f"above {above:g}"
    if not y.any() or y.all():
        raise DiscoveryError(
            f"{'no' if not y.any() else 'every'} design point has {outcome} {rule} "
            f"(its replicate means range {means.min():.4g} to {means.max():.4g})"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
    except ImportError:
        raise DiscoveryError(f"scenario discovery needs the EMA Workbench: {EXTRA}") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = prim.Prim(x.reset_index(drop=True), y, threshold=threshold).find_box()
    traj = box.peeling_trajectory[["id", "coverage", "density", "mass", "res_dim", "n"]].copy()
    chosen = int(box._cur_box)
    lims = box.box_lims[chosen]
    first = box.box_lims[0]
    rows = []
    for c in x.columns:
        lo, hi = lims[c].iloc[0], lims[c].iloc[1]
        if isinstance(lims[c].iloc[0], set):  # a category: the levels kept
            kept, allv = lims[c].iloc[0], first[c].iloc[0]
            if kept != allv:
                rows.append({"factor": c, "low": ", ".join(sorted(map(str, kept))), "high": ""})
        elif lo != first[c].iloc[0] or hi != first[c].iloc[1]:
            rows.append({"factor": c, "low": f"{lo:.6g}", "high": f"{hi:.6g}"})
    box_df = pd.DataFrame(rows, columns=["factor", "low", "high"])
    return Discovery(src, outcome, rule, len(means), int(y.sum()), traj, chosen, box_df, threshold)


def write_outputs(result: Discovery, folder: Path, *, command: list[str]) -> dict[str, Any]:
    """Write trajectory.csv, box.csv, manifest.json and report.html; return the manifest."""
    from introsim.output import write_csv, write_json, write_text
    from introsim.reporting.discover_report import report_html

    traj = result.trajectory.copy()
    traj["chosen"] = traj["id"] == result.chosen
    manifest = {
        **provenance(command),
        "method": "PRIM (ema_workbench.analysis.prim) on replicate means per design point",
        "result": {
            "source": str(result.source),
            "outcome": result.outcome,
            "rule": result.rule,
            "points": result.points,
            "cases": result.cases,
            "threshold": result.threshold,
            "chosen_box": result.chosen,
            "coverage": float(traj.loc[result.chosen, "coverage"]),
            "density": float(traj.loc[result.chosen, "density"]),
            "box": result.box.to_dict("records"),
            "summary": result.summary,
        },
        "files": ["trajectory.csv", "box.csv", "manifest.json", "report.html"],
    }
    write_csv(traj, folder / "trajectory.csv")
    write_csv(result.box, folder / "box.csv")
    write_json(manifest, folder / "manifest.json")
    write_text(report_html(result, manifest), folder / "report.html")
    return manifest


def show(result: Discovery, out: Path) -> None:
    """Print the discovery for a person: the summary, the chosen box and the files written."""
    from introsim.terminal import Console, Table

    console = Console(highlight=False, soft_wrap=True)
    console.print(result.summary, markup=False)
    table = Table(title="The chosen box: factor limits")
    for col in ("factor", "low", "high"):
        table.add_column(col, justify="right" if col != "factor" else "left")
    for _, r in result.box.iterrows():
        table.add_row(str(r["factor"]), str(r["low"]), str(r["high"]))
    console.print(table)
    console.print(f"wrote {out}/ trajectory.csv, box.csv, manifest.json, report.html", markup=False)
