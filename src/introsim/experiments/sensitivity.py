"""Global sensitivity analysis of a stochastic model: Morris, Sobol and delta indices.

A sensitivity study is an experiment file with a ``morris``, ``sobol`` or
``delta`` design (see :mod:`introsim.experiments.design`): SALib samples the
factors' ranges, the engine runs every sample row for R replicates (a sweep, so
runs are stored and resume like any sweep's), and SALib's analysis runs on the
replicate means. Following ten Broeke, Voorn & Ligtenberg (2016, JASSS 19(1)5)
for stochastic models:

* indices are computed on the mean of R common-random-number replicates per
  row, so they describe the expected outcome, not one lucky run;
* the **noise share** of every outcome is reported: the variance across
  replicates at fixed parameters over the total variance of single runs (and
  the same for the replicate means the indices are computed on);
* a **dummy** factor the model ignores (it only chooses its row's random
  streams) gives the noise floor: an index no larger than the dummy's cannot be
  told apart from seed noise;
* a **convergence check** recomputes every index on the first half of the
  sample (N/2, a valid sample of the same design) and says in plain words
  whether N was enough.

Intervals are SALib's bootstrap intervals (``resamples`` resamples, seeded);
Morris's sigma, for which SALib gives none, gets the same kind from resampled
whole trajectories; the noise share's interval resamples the sample rows.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from introsim.experiments.design import DUMMY, Design
from introsim.experiments.statistics import CONFIDENCE
from introsim.experiments.store import RunStore
from introsim.experiments.study import Runner, register
from introsim.experiments.sweep import DesignStudy, Sweep, failed_runs, run_sweep
from introsim.output import write_csv, write_json, write_parquet
from introsim.params.errors import ExperimentError
from introsim.params.experiment_file import sample_rows
from introsim.reporting.format import format_number, unit_of
from introsim.terminal import Console, Table

__all__ = [
    "CONVERGED",
    "INDEX_COLUMNS",
    "PRIMARY",
    "Sensitivity",
    "analyse_outcome",
    "build_manifest",
    "check_analysis",
    "convergence",
    "floor",
    "in_nok",
    "index_text",
    "noise_share",
    "run_sensitivity",
    "sample_size",
    "summary_text",
    "verdicts",
    "write_outputs",
]

PRIMARY = {"morris": "mu_star", "sobol": "ST", "delta": "delta"}
"""The index each method ranks factors by."""
FIRST = {"morris": None, "sobol": "S1", "delta": "S1"}
"""The first-order index shown beside the primary one."""
CONVERGED = {"morris": 0.1, "sobol": 0.05, "delta": 0.05}
"""Largest change between N/2 and N that counts as converged: for Sobol and delta
indices in index units; for Morris's mu* as a share of the largest mu*."""
MIN_N = {"morris": 10, "sobol": 64, "delta": 200}
"""Least N before the convergence check may call N enough (below it, never).

Morris: 10 trajectories, the low end of the 10 to 20 that Campolongo, Cariboni
and Saltelli (2007) found enough for screening. Sobol (base samples) and delta
(rows): an assumption: below these, the bootstrap intervals of the indices are
typically wider than the convergence limit of 0.05, so N and N/2 agreeing says
little (both are noisy); the shipped Sobol study uses N = 64.
"""
NONNEGATIVE = {"ST", "mu_star", "sigma", "delta"}
"""Indices that cannot be negative: their intervals are clipped at zero."""
IMPOSSIBLE = 0.05
"""How far an estimate may be past what the index can be (S1 above ST, below zero)
before it is called not converged: the convergence limit of Sobol indices."""
INDEX_COLUMNS = ["stratum", "outcome", "factor", "index", "value", "low", "high", "n"]
NOISE = "noise_share"
NOISE_OF_MEAN = "noise_share_of_mean"
ALL = "all"


def _names(problem: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(problem.get("groups") or problem["names"]))


def _block(method: str, problem: dict[str, Any], second_order: bool) -> int:
    """Rows per base sample (Sobol), per trajectory (Morris), or 1 (delta)."""
    return sample_rows(method, len(_names(problem)), 1, second_order)


def sample_size(method: str, problem: dict[str, Any], rows: int, second_order: bool) -> int:
    """N of a sample: base size (Sobol), trajectories (Morris) or rows (delta)."""
    return rows // _block(method, problem, second_order)


def _indices(
    method: str,
    problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    *,
    morris_levels: int,
    second_order: bool,
    resamples: int,
    seed: int,
) -> list[dict[str, Any]]:
    """SALib's indices of one outcome as rows (factor, index, value, low, high)."""
    from SALib.analyze import delta, morris, sobol

    problem = copy.deepcopy(problem)  # SALib's functions add keys to it
    names = _names(problem)
    out: list[dict[str, Any]] = []

    def row(factor: str, index: str, v: float, c: float) -> None:
        low = max(v - c, 0.0) if index in NONNEGATIVE else v - c
        out.append({"factor": factor, "index": index, "value": v, "low": low, "high": v + c})

    def add(index: str, values: Any, conf: Any = None) -> None:
        for k, name in enumerate(names):
            c = float(np.asarray(conf)[k]) if conf is not None else np.nan
            row(name, index, float(np.asarray(values)[k]), c)

    if method == "sobol":
        r = sobol.analyze(
            problem,
            y,
            calc_second_order=second_order,
            num_resamples=resamples,
            conf_level=CONFIDENCE,
            seed=seed,
        )
        add("S1", r["S1"], r["S1_conf"])
        add("ST", r["ST"], r["ST_conf"])
        if second_order:
            s2, c2 = np.asarray(r["S2"]), np.asarray(r["S2_conf"])
            for i, a in enumerate(names):
                for j in range(i + 1, len(names)):
                    row(f"{a} × {names[j]}", "S2", float(s2[i, j]), float(c2[i, j]))
    elif method == "morris":
        r = morris.analyze(
            problem,
            x,
            y,
            num_resamples=resamples,
            conf_level=CONFIDENCE,
            num_levels=morris_levels,
            seed=seed,
        )
        add("mu_star", r["mu_star"], r["mu_star_conf"])
        add("sigma", r["sigma"], _morris_sigma_conf(problem, x, y, morris_levels, resamples, seed))
        add("mu", r["mu"])
    elif method == "delta":
        # SALib's delta warns per variable (bins merged, too few rows) and resets the warnings
        # module's format for the whole process; its refusals show as NaN, checked before runs.
        shown = warnings.formatwarning
        with warnings.catch_warnings(record=True):  # recorded, not shown, whatever SALib filters
            try:
                r = delta.analyze(
                    problem, x, y, num_resamples=resamples, conf_level=CONFIDENCE, seed=seed
                )
            finally:
                warnings.formatwarning = shown
        # SALib 1.6 computes the index three ways; "raw" bootstraps the rows as they are, as
        # the single index of earlier versions did.
        key = "delta" if "delta" in r else "delta_raw"
        add("delta", r[key], r[f"{key}_conf"])
        add("S1", r["S1"], r["S1_conf"])
    else:
        raise ValueError(f"unknown sensitivity method {method!r}")
    return out


def _morris_sigma_conf(
    problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    morris_levels: int,
    resamples: int,
    seed: int,
) -> np.ndarray:
    """Half-width of a bootstrap interval for Morris's sigma, resampling whole trajectories.

    SALib bootstraps mu* only. sigma gets the same kind of interval as SALib's ``mu_star_conf``
    (the normal quantile times the spread of ``resamples`` bootstrap estimates), from
    trajectories drawn with replacement, each trajectory kept whole so its elementary effects
    stay paired with their steps.
    """
    from SALib.analyze import morris
    from scipy import stats

    rows = _block("morris", problem, False)
    trajectories = len(y) // rows
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    draws = np.empty((resamples, len(_names(problem))))
    for b in range(resamples):
        picked = (rng.integers(0, trajectories, trajectories)[:, None] * rows + steps).ravel()
        # mu*'s own bootstrap inside is not used here: two resamples keep it cheap.
        r = morris.analyze(
            copy.deepcopy(problem), x[picked], y[picked], num_resamples=2,
            num_levels=morris_levels, seed=seed,
        )  # fmt: skip
        draws[b] = r["sigma"]
    return float(stats.norm.ppf(0.5 + CONFIDENCE / 2)) * draws.std(axis=0, ddof=1)


def noise_share(
    values: np.ndarray, *, resamples: int = 200, seed: int = 0
) -> dict[str, tuple[float, float, float]]:
    """How much of an outcome's variance is seed noise, with bootstrap intervals over rows.

    Args:
        values: One row per sample row, one column per replicate.
        resamples: Bootstrap resamples of the rows.
        seed: Seed of the bootstrap.

    Returns:
        ``{"noise_share": (value, low, high), "noise_share_of_mean": (...)}``:
        the mean variance across replicates at fixed parameters over the total
        variance of single runs, and the same for the replicate means (the
        within-row variance divided by R over the variance of the row means).
        NaN when there are fewer than two replicates or no variance.
    """
    v = np.asarray(values, dtype=np.float64)
    rows, reps = v.shape
    nan3 = (np.nan, np.nan, np.nan)
    if reps < 2 or rows < 2 or not np.isfinite(v).all() or v.var() == 0:
        return {NOISE: nan3, NOISE_OF_MEAN: nan3}

    def shares(m: np.ndarray) -> tuple[float, float]:
        within = m.var(axis=1, ddof=1).mean()
        total = m.var(ddof=1)
        means = m.mean(axis=1).var(ddof=1)
        # Both estimates can pass 1 by chance when the factors do little; a share cannot.
        a = min(1.0, within / total) if total > 0 else np.nan
        b = min(1.0, within / reps / means) if means > 0 else np.nan
        return float(a), float(b)

    point = shares(v)
    rng = np.random.default_rng(seed)
    boot = np.array([shares(v[rng.integers(0, rows, rows)]) for _ in range(resamples)])
    tail = (1 - CONFIDENCE) / 2 * 100
    lo = np.nanpercentile(boot, tail, axis=0)
    hi = np.nanpercentile(boot, 100 - tail, axis=0)
    return {
        NOISE: (point[0], float(lo[0]), float(hi[0])),
        NOISE_OF_MEAN: (point[1], float(lo[1]), float(hi[1])),
    }


def analyse_outcome(
    method: str,
    problem: dict[str, Any],
    x: np.ndarray,
    values: np.ndarray,
    *,
    morris_levels: int = 4,
    second_order: bool = False,
    resamples: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Indices of one outcome at N and at N/2, and its noise share.

    Args:
        method: ``morris``, ``sobol`` or ``delta``.
        problem: The SALib problem the sample was drawn from.
        x: The sample (SALib's rows, in SALib's order).
        values: The outcome, one row per sample row, one column per replicate;
            indices use the replicate means.
        morris_levels: Grid levels of a Morris sample.
        second_order: Sobol: the sample has the rows for second-order indices.
        resamples: Bootstrap resamples of the intervals.
        seed: Seed of the bootstraps.

    Returns:
        Columns factor, index, value, low, high, n (N of the sample used; the
        noise share rows have factor ``""`` and the full N).
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    y = v.mean(axis=1)
    rows = len(y)
    block = _block(method, problem, second_order)
    n = rows // block
    kw: dict[str, Any] = {
        "morris_levels": morris_levels,
        "second_order": second_order,
        "resamples": resamples,
        "seed": seed,
    }
    out = [dict(r, n=n) for r in _indices(method, problem, x, y, **kw)]
    half = (n // 2) * block
    if n >= 4:
        part = _indices(method, problem, x[:half], y[:half], **kw)
        out += [dict(r, n=n // 2) for r in part]
    for index, (value, low, high) in noise_share(v, resamples=resamples, seed=seed).items():
        out.append({"factor": "", "index": index, "value": value, "low": low, "high": high, "n": n})
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- reading indices
def floor(indices: pd.DataFrame, index: str) -> float | None:
    """The dummy's value of an index at full N (None without a dummy)."""
    n = indices["n"].max()
    d = indices[(indices["factor"] == DUMMY) & (indices["index"] == index) & (indices["n"] == n)]
    return float(d["value"].iloc[0]) if len(d) else None


def convergence(indices: pd.DataFrame, method: str) -> dict[str, Any]:
    """Whether N was enough for one outcome: indices at N and N/2 compared.

    Args:
        indices: One outcome's (and stratum's) rows from :func:`analyse_outcome`.
        method: The study's method.

    Returns:
        ``{"enough": bool | None, "change": largest change, "factor": where,
        "index": which, "same_top": the top factor is the same at N and N/2,
        "text": a plain-words verdict}``.
    """
    n = int(indices["n"].max())
    primary = PRIMARY[method]
    kinds = [k for k in (FIRST[method], primary) if k]
    full = indices[(indices["n"] == n) & indices["index"].isin(kinds)]
    half = indices[(indices["n"] < n) & indices["index"].isin(kinds)]
    if half.empty:
        return {
            "enough": None if not impossible_estimates(indices, method) else False,
            "impossible": impossible_estimates(indices, method),
            "change": np.nan,
            "factor": "",
            "index": primary,
            "same_top": None,
            "text": f"N = {n} is too small to compare with N/2; no convergence check.",
        }
    impossible = impossible_estimates(indices, method)
    merged = full.merge(half, on=["factor", "index"], suffixes=("", "_half"))
    change = (merged["value"] - merged["value_half"]).abs()
    if method == "morris":
        top = full.loc[full["index"] == primary, "value"].abs().max()
        change = change / top if top > 0 else change * np.nan
    k = int(np.nanargmax(change.to_numpy())) if change.notna().any() else 0
    worst = float(change.iloc[k]) if len(change) else np.nan
    p_full = full[full["index"] == primary].sort_values("value", ascending=False)
    p_half = half[half["index"] == primary].sort_values("value", ascending=False)
    same_top = p_full["factor"].iloc[0] == p_half["factor"].iloc[0]
    limit = CONVERGED[method]
    least = MIN_N[method]
    stable = bool(worst <= limit and same_top)
    enough = stable and n >= least and not impossible
    unit = "of the largest mu*" if method == "morris" else ""
    what = f"{merged['index'].iloc[k]} of {merged['factor'].iloc[k]}"
    moved = f"{worst:.0%} {unit}".strip() if method == "morris" else f"{worst:.3f}"
    size = "trajectories" if method == "morris" else "base samples" if method == "sobol" else "rows"
    if impossible:
        text = (
            f"Not converged: {_join(impossible[:3])}, which the index cannot be; "
            f"N = {n} is too small for these estimates, run with a larger N."
        )
    elif stable and n < least:
        text = (
            f"N = {n} is too small to call enough: the indices moved by at most {moved} "
            f"between N/2 = {n // 2} and N, but below N = {least} {size} both are too noisy "
            "for that to mean much; run with a larger N before quoting them."
        )
    elif enough:
        text = (
            f"N = {n} was enough: no index moved by more than {moved} between N/2 = {n // 2} "
            f"and N (largest: {what}; the limit is {limit:g}), and the ranking's top is the same."
        )
    else:
        why = (
            f"{what} moved by {moved} between N/2 = {n // 2} and N (the limit is {limit:g})"
            if worst > limit
            else "the most influential factor differs between N/2 and N"
        )
        if same_top:
            text = (
                f"N = {n} was not enough for the values: {why}; the most influential factor "
                f"({p_full['factor'].iloc[0]}) is the same at N/2 and N, but run with a larger "
                "N before quoting the indices."
            )
        else:
            text = f"N = {n} was not enough: {why}; run with a larger N before relying on it."
    return {
        "enough": enough,
        "impossible": impossible,
        "change": worst,
        "factor": str(merged["factor"].iloc[k]),
        "index": str(merged["index"].iloc[k]),
        "same_top": bool(same_top),
        "text": text,
    }


def impossible_estimates(indices: pd.DataFrame, method: str) -> list[str]:
    """Estimates at full N that the index cannot take, beyond their intervals: not converged.

    A first-order index above the total one (by more than :data:`IMPOSSIBLE`), or
    an index whose whole interval lies below zero, can only come from too small
    a sample.

    Args:
        indices: One outcome's (and stratum's) rows from :func:`analyse_outcome`.
        method: The study's method.

    Returns:
        Each impossible estimate in words, e.g. ``"S1 of a (0.86) above its ST (0.48)"``.
    """
    n = indices["n"].max()
    full = indices[(indices["n"] == n) & (indices["factor"] != "")]
    found = []
    for r in full[full["index"].isin(["S1", "ST", "delta", "mu_star"])].itertuples():
        if r.high < 0 or (r.value < -IMPOSSIBLE and not np.isfinite(r.high)):
            found.append(f"{r.index} of {r.factor} ({r.value:.2f}) below zero")
    if method == "sobol":
        s1 = full[full["index"] == "S1"].set_index("factor")["value"]
        st = full[full["index"] == "ST"].set_index("factor")["value"]
        for factor, value in s1.items():
            total = st.get(factor, np.nan)
            if value > total + IMPOSSIBLE:
                found.append(f"S1 of {factor} ({value:.2f}) above its ST ({total:.2f})")
    return found


def _join(words: list[str]) -> str:
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def index_text(value: float, method: str, outcome: str, digits: int = 3) -> str:
    """An index's value as people read it.

    Morris's mu* and sigma are in the outcome's unit: an amount of NOK is whole kroner with
    its thousands grouped (``64 670``, as every table of the project writes NOK, not
    ``6.467e+04``). Other values (shares, months, Sobol's and delta's unitless indices) keep
    ``digits`` significant digits.

    Args:
        value: The index's value.
        method: The study's method.
        outcome: The outcome's name (decides the unit).
        digits: Significant digits of a value that is not NOK.
    """
    if in_nok(method, outcome):
        return format_number(outcome, value)
    return f"{value:.{digits}g}"


def in_nok(method: str, outcome: str) -> bool:
    """Whether a study's primary index of ``outcome`` is an amount of NOK (Morris's mu*)."""
    return method == "morris" and unit_of(outcome) == "NOK"


def summary_text(
    indices: pd.DataFrame, method: str, outcome: str, measure: str | None = None
) -> str:
    """A plain-words paragraph: what drives an outcome, what interacts, what is noise.

    Args:
        indices: One outcome's (and stratum's) rows from :func:`analyse_outcome`.
        method: The study's method.
        outcome: The outcome as it should be written.
        measure: The outcome's name, whose unit Morris's mu* is in (``outcome`` if None).

    Returns:
        A few sentences.
    """
    measure = measure or outcome
    n = indices["n"].max()
    full = indices[indices["n"] == n]
    primary = PRIMARY[method]
    p = full[(full["index"] == primary) & (full["factor"] != DUMMY)]
    p = p.sort_values("value", ascending=False)
    limit = dummy = floor(indices, primary)
    above = p if limit is None else p[p["value"] > limit]
    below = [] if limit is None else list(p[p["value"] <= limit]["factor"])
    label = {"mu_star": "mu*", "ST": "total index", "delta": "delta"}[primary]
    parts = []
    if above.empty:
        parts.append(f"No factor moves {outcome} more than the dummy does.")
    else:
        total = above["value"].sum()
        lead, acc = [], 0.0
        for _, r in above.iterrows():
            lead.append(f"{r['factor']} ({label} {index_text(r['value'], method, measure)})")
            acc += r["value"]
            if len(lead) >= 3 or (total > 0 and acc / total >= 0.7):
                break
        parts.append(f"{outcome} depends mostly on {_join(lead)}.")
    impossible = impossible_estimates(indices, method)
    if impossible:
        parts.append(
            f"These indices have not converged ({_join(impossible[:3])}, which cannot be): "
            "read none of them as a finding until a larger N agrees."
        )
    elif method == "sobol":
        s1 = full[full["index"] == "S1"].set_index("factor")["value"]
        st = full[full["index"] == "ST"].set_index("factor")["value"]
        gap = (st - s1).drop(DUMMY, errors="ignore").sort_values(ascending=False)
        inter = [f"{f} (ST − S1 = {g:.2f})" for f, g in gap.items() if g > 0.05]
        if inter:
            parts.append(f"Interactions matter for {_join(inter[:3])}.")
        else:
            parts.append("Interactions are small: the factors act mostly on their own.")
    elif method == "morris":
        sig = full[full["index"] == "sigma"].set_index("factor")["value"]
        mus = full[full["index"] == "mu_star"].set_index("factor")["value"]
        nonlinear = [f for f in above["factor"] if mus[f] > 0 and sig[f] / mus[f] > 1]
        if nonlinear:
            verb = "acts" if len(nonlinear[:3]) == 1 else "act"
            parts.append(
                f"{_join(nonlinear[:3])} {verb} non-linearly or through interactions (sigma > mu*)."
            )
    if below and dummy is not None:  # below is empty without a dummy
        parts.append(
            f"{_join(below)} {'is' if len(below) == 1 else 'are'} below the noise floor "
            f"(the dummy's {label}, {index_text(dummy, method, measure)})."
        )
    noise = full[full["index"] == NOISE]["value"]
    if len(noise) and np.isfinite(noise.iloc[0]):
        parts.append(
            f"Seed noise makes up {noise.iloc[0]:.0%} of a single run's variance of {outcome}."
        )
    return " ".join(parts)


# --------------------------------------------------------------------------- studies
@dataclass(frozen=True)
class Sensitivity:
    """A finished sensitivity study.

    Attributes:
        design: The study's design (its SALib problem and sample).
        sweep: Its runs, in the sweep format (the dummy's value added).
        indices: Columns stratum, outcome, factor, index, value, low, high, n.
        failed: How many runs raised an error.
    """

    design: Design
    sweep: Sweep
    indices: pd.DataFrame
    failed: int

    @property
    def method(self) -> str:
        """``morris``, ``sobol`` or ``delta``."""
        return self.design.meta.design

    @property
    def contrast(self) -> str | None:
        """``"treatment − reference"`` by name in a contrast study, else None."""
        ref = self.design.reference
        if ref is None:
            return None
        return f"{self.design.points[0].scenario.scenario.name} − {ref.name}"

    def outcome_text(self, outcome: str) -> str:
        """An outcome as the indices describe it: itself, or a contrast's paired difference."""
        return outcome if self.contrast is None else f"{outcome} ({self.contrast})"

    @property
    def strata(self) -> list[str]:
        """Labels of the category combinations analysed separately (``all`` if none)."""
        return [_stratum_label(s) for s in self.design.strata]


def _stratum_label(stratum: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in stratum.items()) or ALL


def check_analysis(design: Design) -> None:
    """Analyse a made-up outcome of the design's sample before any run.

    A sample SALib cannot analyse (a grouping it refuses, a sample too small for
    its estimator) is refused now, in one line, not after all the runs.

    Raises:
        ExperimentError: At the design, saying what the analysis answered.
    """
    if design.problem is None or design.sample is None:
        raise ValueError(f"{design.meta.design} is not a sensitivity design")
    meta, x = design.meta, design.sample
    bounds = np.asarray(design.problem["bounds"], dtype=np.float64)
    unit = (x - bounds[:, 0]) / (bounds[:, 1] - bounds[:, 0])
    # Every variable matters a little and differently, and replicates differ slightly.
    y = unit @ np.linspace(1.0, 2.0, unit.shape[1]) + 0.5 * unit[:, 0] ** 2
    values = y[:, None] + np.linspace(0.0, 1e-3, meta.replications)[None, :]
    try:
        indices = analyse_outcome(
            meta.design,
            design.problem,
            x,
            values,
            morris_levels=meta.morris_levels,
            second_order=meta.second_order,
            resamples=min(meta.resamples, 20),
            seed=meta.seed,
        )
    except Exception as exc:  # SALib's refusals come as any kind of exception
        problem = str(exc)
    else:
        primary = indices[indices["index"] == PRIMARY[meta.design]]
        missing = primary[~np.isfinite(primary["value"].to_numpy(dtype=np.float64))]
        if missing.empty:
            return
        n = int(missing["n"].iloc[0])
        problem = (
            f"at N = {n} SALib gives no {PRIMARY[meta.design]} index for "
            f"{missing['factor'].iloc[0]} (too few rows for its estimator); use a larger sample"
        )
    raise ExperimentError(
        design.path,
        f"the {meta.design} analysis cannot run on this sample: {problem}",
        field="experiment.samples" if meta.design != "morris" else "experiment.trajectories",
    )


def run_sensitivity(
    design: Design,
    executor: Executor | None = None,
    *,
    store: RunStore | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Sensitivity:
    """Run a sensitivity study's sample over its replicates and analyse every outcome.

    Args:
        design: A loaded experiment with a ``morris``, ``sobol`` or ``delta`` design.
        executor: Where to run (None: in this process).
        store: Keeps results as they finish, and skips runs already kept.
        progress: Called with (done, total).

    Returns:
        The runs and the indices of every outcome in each category stratum; in a
        contrast study (a design with a reference), the indices of the paired
        difference treatment minus reference, replicate by replicate.

    Raises:
        ValueError: The design is not a sensitivity design.
        ExperimentError: The analysis cannot run on the design's sample (before any run).
    """
    check_analysis(design)
    assert design.problem is not None and design.sample is not None  # checked by check_analysis
    sweep = run_sweep(design, executor, store=store, progress=progress)
    runs = sweep.runs
    if design.meta.dummy:
        dummy = [np.nan] + [float(design.sample[p.row, -1]) for p in design.points[1:]]
        arms = 1 if design.reference is None else 2
        runs.insert(
            runs.columns.get_loc("error"),
            DUMMY,
            np.tile(np.repeat(dummy, design.meta.replications), arms),
        )
    reps = design.meta.replications
    rows = len(design.sample)
    meta = design.meta
    frames = []
    for s, stratum in enumerate(design.strata):
        first = 1 + s * rows
        for outcome in meta.outcomes:
            values = runs[outcome].to_numpy(np.float64).reshape(-1, reps)
            if design.reference is not None:  # treatment − reference, replicate by replicate
                values = values[: len(design.points)] - values[len(design.points) :]
            values = values[first : first + rows]
            if not np.isfinite(values).all():
                continue  # failed runs: the analysis needs every row
            df = analyse_outcome(
                meta.design,
                design.problem,
                design.sample,
                values,
                morris_levels=meta.morris_levels,
                second_order=meta.second_order,
                resamples=meta.resamples,
                seed=meta.seed,
            )
            df.insert(0, "outcome", outcome)
            df.insert(0, "stratum", _stratum_label(stratum))
            frames.append(df)
    indices = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=INDEX_COLUMNS)
    )
    indices = indices[INDEX_COLUMNS]
    indices["n"] = indices["n"].astype(np.int64)
    for c in ("stratum", "outcome", "factor", "index"):
        indices[c] = indices[c].astype(object)
    for c in ("value", "low", "high"):
        indices[c] = indices[c].astype(np.float64)
    return Sensitivity(design, sweep, indices, sweep.failed)


INDICES_FILE = "indices.parquet"
INDICES_CSV = "indices.csv"


def verdicts(result: Sensitivity) -> list[dict[str, Any]]:
    """Per stratum and outcome: the convergence verdict and the plain-words summary."""
    out = []
    for stratum in result.strata:
        for outcome in result.design.meta.outcomes:
            part = result.indices[
                (result.indices["stratum"] == stratum) & (result.indices["outcome"] == outcome)
            ]
            if part.empty:
                continue
            conv = convergence(part, result.method)
            out.append(
                {
                    "stratum": stratum,
                    "outcome": outcome,
                    "converged": conv["enough"],
                    "convergence": conv["text"],
                    "summary": summary_text(
                        part, result.method, result.outcome_text(outcome), outcome
                    ),
                }
            )
    return out


def build_manifest(
    result: Sensitivity,
    *,
    executor: str,
    wall_time_s: float | None,
    command: list[str] | None,
    resumed: int = 0,
) -> dict[str, Any]:
    """The sweep's manifest plus the method, its sample and the verdicts."""
    from introsim.experiments.sweep import MANIFEST_FILE, REPORT_FILE, RUNS_CSV, RUNS_FILE
    from introsim.experiments.sweep import build_manifest as sweep_manifest

    m = sweep_manifest(
        result.sweep, executor=executor, wall_time_s=wall_time_s, command=command, resumed=resumed
    )
    d = result.design
    m["sensitivity"] = {
        "method": result.method,
        "N": sample_size(
            result.method,
            d.problem or {},
            (0 if d.sample is None else len(d.sample)),
            d.meta.second_order,
        ),
        "sample_rows": (0 if d.sample is None else len(d.sample)),
        "strata": result.strata,
        "replications": d.meta.replications,
        "problem": d.problem,
        "dummy_seed": "a row's replicates use root seed dummy_seed(root_seed, dummy value)"
        if d.meta.dummy
        else None,
        "verdicts": verdicts(result),
    }
    if d.reference is not None:
        m["sensitivity"]["contrast"] = (
            f"indices of {result.contrast}: each "
            "sample row also ran with the reference's overrides at the same seeds, and the "
            "analysis is of the paired difference, replicate by replicate"
        )
    m["files"] = [INDICES_FILE, INDICES_CSV, RUNS_FILE, RUNS_CSV, MANIFEST_FILE, REPORT_FILE]
    return m


def write_outputs(result: Sensitivity, folder: Path, manifest: dict[str, Any]) -> None:
    """Write indices (Parquet and CSV), runs (Parquet and CSV) and the manifest, atomically."""
    from introsim.experiments.sweep import MANIFEST_FILE, RUNS_CSV, RUNS_FILE

    write_parquet(result.indices, folder / INDICES_FILE)
    write_csv(result.indices, folder / INDICES_CSV)
    write_parquet(result.sweep.runs, folder / RUNS_FILE)
    write_csv(result.sweep.runs, folder / RUNS_CSV)
    write_json(manifest, folder / MANIFEST_FILE)


# --------------------------------------------------------------------------- the study
@register
class SensitivityStudy(DesignStudy):
    """``introsim sensitivity``: Morris, Sobol or delta indices over replicated runs."""

    kind = "sensitivity"
    files = (INDICES_FILE, INDICES_CSV, "runs.parquet", "manifest.json", "report.html")
    report_module = "introsim.reporting.sensitivity_report"
    build_manifest = staticmethod(build_manifest)
    write_outputs = staticmethod(write_outputs)

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        sets: dict[str, Any] | None = None,
        replications: int | None = None,
    ) -> SensitivityStudy:
        """Read a study file with a ``morris``, ``sobol`` or ``delta`` design."""
        from introsim.experiments.design import SENSITIVITY_DESIGNS, load_experiment
        from introsim.experiments.sweep import with_replications

        design = load_experiment(path, overrides=sets)
        if design.meta.design not in SENSITIVITY_DESIGNS:
            raise ExperimentError(
                Path(path),
                f"experiment.design: {design.meta.design!r} is not a sensitivity design; "
                f"use one of {', '.join(SENSITIVITY_DESIGNS)} (or `introsim sweep`)",
            )
        design = with_replications(design, replications)
        check_analysis(design)
        return cls(design)

    def run(self, runner: Runner) -> Sensitivity:
        return run_sensitivity(
            self.design, runner.executor, store=runner.store, progress=runner.progress
        )

    def warnings(self, result: Sensitivity, out: Path) -> list[str]:
        consequence = "outcomes with a failed run are not analysed"
        return failed_runs(result.failed, len(result.sweep.runs), out, consequence)

    def summary(
        self, result: Sensitivity, out: Path, wall: float, manifest: dict[str, Any]
    ) -> dict:
        return {
            "out": str(out),
            "method": result.method,
            "runs": len(result.sweep.runs),
            "failed": result.failed,
            "wall_time_s": round(wall, 3),
            "verdicts": verdicts(result),
            "indices": result.indices.to_dict("records"),
        }

    def show(self, result: Sensitivity, out: Path, wall: float) -> None:
        console = Console(highlight=False, soft_wrap=True)
        primary = PRIMARY[result.method]
        idx = result.indices
        for v in verdicts(result):
            part = idx[
                (idx["stratum"] == v["stratum"])
                & (idx["outcome"] == v["outcome"])
                & (idx["index"] == primary)
                & (idx["n"] == idx["n"].max())
            ].sort_values("value", ascending=False)
            in_unit = " in NOK" if in_nok(result.method, v["outcome"]) else ""
            table = Table(
                title=f"{result.outcome_text(v['outcome'])} ({v['stratum']}): "
                f"{primary}{in_unit} [95 % interval]"
            )
            table.add_column("factor", no_wrap=True)
            table.add_column(primary, justify="right")
            for _, r in part.iterrows():
                low, value, high = (
                    index_text(r[k], result.method, v["outcome"], digits=4)
                    for k in ("low", "value", "high")
                )
                table.add_row(r["factor"], f"{value} [{low}, {high}]")
            console.print(table)
            console.print(v["summary"], markup=False)
            console.print(v["convergence"], markup=False)
        console.print(
            f"wrote {out}/ {', '.join(self.files)} ({len(result.sweep.runs)} runs in {wall:.1f} s)",
            markup=False,
        )
