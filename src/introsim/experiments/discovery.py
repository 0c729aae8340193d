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

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from introsim.experiments.design import DUMMY
from introsim.experiments.engine import provenance
from introsim.experiments.sweep import RUNS_FILE, SWEEP_OUTCOMES
from introsim.model.outcomes import OUTCOMES

__all__ = ["Discovery", "DiscoveryError", "discover_boxes", "write_outputs"]

EXTRA = "make install in a checkout, or pip install 'introsim[discover]'"
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
        trajectory: The whole peeling trajectory, one row per box: id, coverage,
            density, mass, n (points in the box), k (cases in it), res_dim, the
            restrictions in words and the largest quasi-p value among them.
        chosen: Id of the chosen box, or None when no box reaches the threshold.
        box: The chosen box's limits on the restricted factors (factor, low, high,
            qp: the restriction's quasi-p value); empty when none was chosen.
        threshold: The least density asked for.
        picked: The box was chosen by the user (``--box``), not by the threshold.
        missing: Design points left out because the outcome is missing in every replicate.
    """

    source: Path
    outcome: str
    rule: str
    points: int
    cases: int
    trajectory: pd.DataFrame
    chosen: int | None
    box: pd.DataFrame
    threshold: float
    picked: bool = False
    missing: int = 0

    @property
    def densest(self) -> int:
        """Id of the densest box (the most coverage among equally dense ones)."""
        t = self.trajectory
        return int(t.loc[t["density"] == t["density"].max(), "id"].iloc[0])

    @property
    def suggestion(self) -> str:
        """What to try when no box reaches the threshold."""
        row = self.trajectory.loc[self.densest]
        lower = math.floor(row["density"] * 20) / 20  # down to a round 5 %
        options = [f"--box {self.densest}"]
        if lower > 0:
            options.insert(0, f"--threshold {lower:g}")
        return " or ".join(options)

    @property
    def summary(self) -> str:
        """One plain-words paragraph about the chosen box (or why there is none)."""
        left_out = (
            f" ({self.missing} design points without a value of {self.outcome} left out)"
            if self.missing
            else ""
        )
        head = f"{self.cases} of {self.points} design points have {self.outcome} {self.rule}"
        head += f"{left_out}, {self.cases / self.points:.0%}."
        if self.chosen is None:
            row = self.trajectory.loc[self.densest]
            return (
                f"{head} No box on PRIM's peeling trajectory reaches a density of "
                f"{self.threshold:.0%}: the densest, box {self.densest} ({row['restrictions']}), "
                f"has {row['density']:.0%} with coverage {row['coverage']:.0%}. Try "
                f"{self.suggestion}; the whole trajectory is in trajectory.csv."
            )
        row = self.trajectory.loc[self.chosen]
        how = (
            "the box you chose"
            if self.picked
            else f"the box with the most coverage among those with density of at least "
            f"{self.threshold:.0%}"
        )
        return (
            f"{head} Box {self.chosen}, {how} ({row['restrictions']}), holds "
            f"{row['coverage']:.0%} of them (coverage) and {row['density']:.0%} of the points "
            f"inside it are such points (density); the largest quasi-p value of its "
            f"restrictions is {_qp_text(row['qp_max'])}."
        )


def _qp_text(qp: float) -> str:
    """A quasi-p value in words: small means the restriction is unlikely to be chance."""
    if qp != qp:
        return "– (no restriction)"
    return "< 0.001" if qp < 0.001 else f"{qp:.3f}"


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
    box: int | None = None,
) -> Discovery:
    """Run PRIM on the replicate means of a study's design points.

    Args:
        path: ``runs.parquet`` of a sweep or sensitivity study, or its folder.
        outcome: The outcome; cases of interest are points whose replicate mean
            is below ``below`` (or above ``above``).
        below: Threshold for a shortfall.
        above: Threshold for an excess (give one of the two).
        threshold: Least density of the chosen box: of the boxes that reach it,
            the one with the most coverage is chosen (none if no box reaches it).
        box: Choose this box of the trajectory instead (its id).

    Returns:
        The whole peeling trajectory and the chosen box.

    Raises:
        DiscoveryError: Missing file, column, outcome values or extra, no (or only)
            cases of interest, or a box id not on the trajectory.
    """
    if (below is None) == (above is None):
        raise DiscoveryError("give exactly one of --below VALUE or --above VALUE")
    if outcome not in OUTCOMES:
        raise DiscoveryError(
            f"--outcome: unknown outcome {outcome!r}; valid: {', '.join(OUTCOMES)}"
        )
    if not 0 < threshold <= 1:
        raise DiscoveryError(f"--threshold: expected a share in (0, 1], found {threshold:g}")
    src = _runs_path(Path(path))
    try:
        runs = pd.read_parquet(src)
    except Exception as exc:  # any unreadable file is the user's input
        raise DiscoveryError(f"{src}: not a readable Parquet file ({type(exc).__name__})") from None
    if "point" not in runs.columns:
        raise DiscoveryError(f"{src}: no column 'point'; is it a runs.parquet?")
    if outcome not in runs.columns:
        raise DiscoveryError(f"{src}: no outcome {outcome!r} in the runs")
    factors = [c for c in runs.columns if c not in _NOT_FACTORS]
    if not factors:
        raise DiscoveryError(f"{src}: no factor columns to explain {outcome} with")
    ok = runs[runs["error"].fillna("") == ""] if "error" in runs.columns else runs
    all_means = ok.groupby("point", sort=True)[outcome].mean()
    means = all_means.dropna()
    if means.empty:
        raise DiscoveryError(
            f"{src}: {outcome} is missing in every run: no participant reached it by the "
            "study's horizon (a later outcome needs more weeks), or every run failed"
        )
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
    prim_box = _peel(x.reset_index(drop=True), y)
    traj = _trajectory(prim_box, list(x.columns))
    last = int(traj["id"].iloc[-1])
    if box is not None:
        if not 0 <= box <= last:
            raise DiscoveryError(f"--box: expected a box id from 0 to {last}, found {box}")
        chosen: int | None = box
    else:
        dense = traj[traj["density"] >= threshold - 1e-12]
        chosen = int(dense["id"].iloc[0]) if not dense.empty else None
    limits = _limits(prim_box, chosen, list(x.columns)) if chosen is not None else []
    return Discovery(
        src,
        outcome,
        rule,
        len(means),
        int(y.sum()),
        traj,
        chosen,
        pd.DataFrame(limits, columns=["factor", "low", "high", "qp"]),
        threshold,
        picked=box is not None,
        missing=int(all_means.isna().sum()),
    )


def _peel(x: pd.DataFrame, y: np.ndarray) -> Any:
    """PRIM's peeling and pasting, the whole trajectory kept whatever its densest box.

    ``Prim.find_box`` replaces a final box below its threshold by the unrestricted
    one and drops the trajectory; the same steps without that check keep it. The
    threshold of 0.5 makes the cases of interest the points with y true.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
    except ImportError:
        raise DiscoveryError(f"scenario discovery needs the EMA Workbench: {EXTRA}") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alg = prim.Prim(x, y.astype(np.float64), threshold=0.5)
        alg._update_yi_remaining(alg)
        box = prim.PrimBox(alg, alg.box_init, alg.yi_remaining[:])
        return alg._paste(alg._peel(box))


def _limits(prim_box: Any, i: int, factors: list[str]) -> list[dict[str, Any]]:
    """Box ``i``'s restrictions: factor, low, high (or the levels kept) and quasi-p value."""
    lims, first, qps = prim_box.box_lims[i], prim_box.box_lims[0], prim_box.qp[i]
    rows = []
    for c in factors:
        lo, hi = lims[c].iloc[0], lims[c].iloc[1]
        qp = [q for q in qps.get(c, []) if q is not None and q >= 0]
        qp_max = float(max(qp)) if qp else math.nan
        if isinstance(lo, set):  # a category: the levels kept
            if lo != first[c].iloc[0]:
                rows.append(
                    {"factor": c, "low": ", ".join(sorted(map(str, lo))), "high": "", "qp": qp_max}
                )
        elif lo != first[c].iloc[0] or hi != first[c].iloc[1]:
            rows.append({"factor": c, "low": f"{lo:.6g}", "high": f"{hi:.6g}", "qp": qp_max})
    return rows


def _trajectory(prim_box: Any, factors: list[str]) -> pd.DataFrame:
    """The peeling trajectory with each box's restrictions in words and its largest quasi-p."""
    cols = ["id", "coverage", "density", "mass", "n", "k", "res_dim"]
    traj = prim_box.peeling_trajectory[cols].copy().reset_index(drop=True)
    for c in ("id", "n", "k", "res_dim"):
        traj[c] = traj[c].astype(np.int64)
    words, worst = [], []
    for i in traj["id"]:
        limits = _limits(prim_box, int(i), factors)
        words.append(
            "; ".join(
                f"{r['factor']} in {r['low']}"
                if r["high"] == ""
                else f"{r['factor']} {r['low']} to {r['high']}"
                for r in limits
            )
            or "no restriction"
        )
        qps = [r["qp"] for r in limits if r["qp"] == r["qp"]]
        worst.append(max(qps) if qps else math.nan)
    traj["restrictions"], traj["qp_max"] = words, worst
    return traj


def write_outputs(result: Discovery, folder: Path, *, command: list[str]) -> dict[str, Any]:
    """Write trajectory.csv, box.csv, manifest.json and report.html; return the manifest."""
    from introsim.output import write_csv, write_json, write_text
    from introsim.reporting.discover_report import report_html

    traj = result.trajectory.copy()
    traj["chosen"] = traj["id"] == result.chosen
    row: Any = traj.loc[result.chosen] if result.chosen is not None else None
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
            "chosen_by": "--box" if result.picked else "threshold",
            "coverage": None if result.chosen is None else float(row["coverage"]),
            "density": None if result.chosen is None else float(row["density"]),
            "quasi_p_max": None if result.chosen is None else _finite(row["qp_max"]),
            "suggestion": result.suggestion if result.chosen is None else None,
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


def _finite(value: float) -> float | None:
    return None if value != value else float(value)


def show(result: Discovery, out: Path) -> None:
    """Print the discovery for a person: the summary, the trajectory, the chosen box, the files."""
    from introsim.terminal import Console, Table

    console = Console(highlight=False, soft_wrap=True)
    console.print(result.summary, markup=False)
    table = Table(title="PRIM's peeling trajectory (choose a box with --box ID)")
    for col in ("box", "coverage", "density", "points", "cases", "restrictions", "quasi-p"):
        table.add_column(col, justify="left" if col == "restrictions" else "right")
    for r in result.trajectory.itertuples():
        mark = " ◀" if r.id == result.chosen else ""
        table.add_row(
            f"{r.id}{mark}",
            f"{r.coverage:.0%}",
            f"{r.density:.0%}",
            str(r.n),
            str(r.k),
            r.restrictions,
            _qp_text(r.qp_max).replace(" (no restriction)", ""),
        )
    console.print(table)
    if result.chosen is not None:
        box = Table(title=f"Box {result.chosen}: factor limits")
        for col in ("factor", "low", "high", "quasi-p"):
            box.add_column(col, justify="right" if col != "factor" else "left")
        for r in result.box.itertuples():
            box.add_row(str(r.factor), str(r.low), str(r.high), _qp_text(r.qp))
        console.print(box)
    console.print(f"wrote {out}/ trajectory.csv, box.csv, manifest.json, report.html", markup=False)
