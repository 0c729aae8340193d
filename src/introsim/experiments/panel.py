"""``introsim municipalities``: every municipality of a profile file under one or more policies.

A panel runs each municipality (its context from the profile: intake, local jobs, outside
competition) under each policy over replicates, and over a calibration's posterior ensemble
when given. Each municipality's programme practice is drawn once, within the panel's declared
ranges, from a seed of its own (so filtering municipalities changes nobody's practice); a
policy's own settings of a practice path win over it.

From the runs it works out, per municipality and policy, the expected share in work or
education at exit and 12 months after with the three kinds of uncertainty (the mechanisms'
spread over members, the chance a single year's cohort of its size has, binomial; the
simulation's precision), each policy's gain over the reference and its cost; the funnel plot's
control limits (:func:`funnel_limits`, Spiegelhalter 2005); how many municipalities reach the
targets; and a variance decomposition of the spread between municipalities
(:func:`decompose`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from introsim.experiments.engine import Task, model_version, provenance
from introsim.experiments.study import Runner, Study, StudyError, register
from introsim.output import write_csv, write_json, write_parquet
from introsim.params.ensemble_file import Ensemble
from introsim.params.panel_file import PanelSpec, load_panel
from introsim.params.schema import PRACTICE_PATHS, Scenario
from introsim.run import simulate_outcomes_and_people

__all__ = [
    "AFTER_12M",
    "AT_EXIT",
    "PanelResult",
    "decompose",
    "funnel_limits",
    "panel_values",
    "practice_for",
    "run_panel",
]

AT_EXIT = "work_or_education_at_exit"
AFTER_12M = "work_or_education_12m_after_exit"
COST = "cost_per_participant_nok"
SHARES: tuple[str, ...] = (AT_EXIT, AFTER_12M)
KEPT: tuple[str, ...] = (*SHARES, COST, *(f"people_{o}" for o in SHARES))
"""What each run keeps (the store holds only these)."""
PRACTICE_KEY = 7_303
"""First element of the spawn key of a municipality's practice draw: apart from replicates."""
BOOTSTRAP_KEY = 7_304
"""First element of the spawn key of the bootstrap over replicates."""
BOOTSTRAPS = 200
"""Resamples of the replicates for the simulation's intervals of panel-wide figures."""
CONFIDENCE = 0.95
FUNNEL_LEVELS: tuple[float, ...] = (0.95, 0.998)
"""Funnel control limits: about 2 and 3 standard deviations (Spiegelhalter 2005)."""
GROUPS: tuple[str, ...] = ("composition", "labour market", "practice")
"""The parts of the spread between municipalities the decomposition explains, besides chance."""
PARTS: tuple[str, ...] = (*GROUPS, "other", "chance", "total", "context")
"""The decomposition's rows: the groups, the rest between municipalities, chance, their sum, and
context (composition and labour market together, which the question asks about)."""

WHEN = {AT_EXIT: "at exit", AFTER_12M: "12 months after"}
"""Each share's time, in words."""

MANIFEST_FILE, REPORT_FILE = "manifest.json", "report.html"
TABLE_FILE, RUNS_FILE, DECOMPOSITION_FILE = (
    "municipalities.csv",
    "runs.parquet",
    "decomposition.csv",
)


# --------------------------------------------------------------------------- one run
def panel_values(scenario: Scenario, seed: int | np.random.SeedSequence) -> dict[str, float]:
    """One run's shares, cost and the participants each share rests on (see :data:`KEPT`)."""
    out = simulate_outcomes_and_people(scenario, seed)
    return {k: float(out[k]) for k in KEPT}


def practice_for(spec: PanelSpec, code: str) -> dict[str, float | int]:
    """A municipality's drawn practice: one uniform per practice path, inside the panel's ranges.

    The draw is seeded by the panel's seed and the municipality's number, and takes one
    uniform for every path of ``schema.PRACTICE_PATHS`` whether spread or not, so a
    municipality's practice is the same whichever municipalities or ranges are chosen.
    """
    from introsim.params.panel_file import _cast

    ss = np.random.SeedSequence(spec.meta.seed, spawn_key=(PRACTICE_KEY, int(code)))
    u = np.random.Generator(np.random.PCG64(ss)).random(len(PRACTICE_PATHS))
    out: dict[str, float | int] = {}
    for j, path in enumerate(PRACTICE_PATHS):
        if path in spec.practice:
            low, high = spec.practice[path]
            out[path] = _cast(path, low + float(u[j]) * (high - low))
    return out


# --------------------------------------------------------------------------- the runs
@dataclass(frozen=True)
class PanelResult:
    """A panel's runs and what was worked out from them.

    Attributes:
        spec: The panel.
        replications: Replicates per municipality, policy and member.
        members: Ensemble members (1 without an ensemble).
        ensemble: The ensemble's description, or None.
        values: Each kept value's array, municipalities × policies × members × replicates.
        practice: Each municipality's drawn practice (path -> value).
        scenarios: The reference policy's scenario in each municipality.
        failed: Runs that raised, as ``"municipality, policy, replicate: error"``.
        table: One row per municipality and policy (see :func:`municipality_table`).
        reached: Municipalities reaching each target under each policy, with intervals.
        decomposition: The variance decomposition of each share under the reference.
        funnel: National level and control limits of each share (reference policy).
    """

    spec: PanelSpec
    replications: int
    members: int
    ensemble: dict[str, Any] | None
    values: dict[str, np.ndarray]
    practice: tuple[dict[str, float | int], ...]
    scenarios: tuple[Scenario, ...]
    failed: list[str] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    reached: pd.DataFrame = field(default_factory=pd.DataFrame)
    decomposition: pd.DataFrame = field(default_factory=pd.DataFrame)
    funnel: dict[str, dict[str, Any]] = field(default_factory=dict)

    def runs_table(self) -> pd.DataFrame:
        """Every run: municipality, policy, member, replicate and its kept values."""
        m, p, k, r = self.values[AT_EXIT].shape
        idx = np.indices((m, p, k, r)).reshape(4, -1)
        codes = np.array([row.municipality_number for row in self.spec.municipalities])
        data: dict[str, Any] = {
            "municipality_number": codes[idx[0]],
            "policy": np.array(self.spec.names)[idx[1]],
            "member": idx[2],
            "replicate": idx[3],
        }
        data.update({name: v.reshape(-1) for name, v in self.values.items()})
        return pd.DataFrame(data)


def panel_tasks(
    spec: PanelSpec, replications: int, ensemble: Ensemble | None
) -> tuple[list[Task], list[dict[str, float | int]], list[Scenario]]:
    """The panel's runs: point ``(i * P + p) * K + k`` is municipality i, policy p, member k.

    Replicate r has the same seed in every municipality, policy and member (common random
    numbers), so a policy's gain is paired run by run.

    Returns:
        The tasks (replicate-major, so an interrupted panel has every municipality started),
        each municipality's practice, and the reference policy's scenario in each.
    """
    members = ensemble.size if ensemble is not None else 1
    policies = len(spec.policies)
    practice, reference, scenarios = [], [], []
    for row in spec.municipalities:
        drawn = practice_for(spec, row.municipality_number)
        practice.append(drawn)
        own = [spec.scenario_for(p, row, drawn) for p in range(policies)]
        reference.append(own[0])
        for sc in own:
            scenarios.extend(
                [sc] if ensemble is None else [ensemble.apply_member(sc, k) for k in range(members)]
            )
    tasks = [
        Task(point, r, sc, spec.meta.seed)
        for r in range(replications)
        for point, sc in enumerate(scenarios)
    ]
    return tasks, practice, reference


def run_panel(
    spec: PanelSpec,
    runner: Runner | None = None,
    *,
    replications: int | None = None,
    ensemble: Ensemble | None = None,
) -> PanelResult:
    """Run every municipality under every policy and analyse the runs.

    Args:
        spec: The panel.
        runner: Where to run (its executor and store); None runs here, storing nothing.
        replications: Replicates instead of the file's.
        ensemble: A posterior ensemble: every member runs every replicate.

    Returns:
        The result, analysed.
    """
    reps = replications if replications is not None else spec.meta.replications
    members = ensemble.size if ensemble is not None else 1
    tasks, practice, reference = panel_tasks(spec, reps, ensemble)
    run = runner.run_tasks if runner is not None else None
    if run is not None:
        results = run(tasks, evaluate=panel_values)
    else:
        from introsim.experiments.engine import run_tasks

        results = run_tasks(tasks, evaluate=panel_values)
    shape = (len(spec.municipalities), len(spec.policies), members, reps)
    values = {name: np.full(shape, np.nan) for name in KEPT}
    failed = []
    for task, res in zip(tasks, results, strict=True):
        i, rest = divmod(task.point, len(spec.policies) * members)
        p, k = divmod(rest, members)
        if res.error:
            row = spec.municipalities[i]
            failed.append(
                f"{row.municipality_name}, {spec.names[p]}, replicate {task.replicate}: {res.error}"
            )
            continue
        for name in KEPT:
            values[name][i, p, k, task.replicate] = res.value[name]
    result = PanelResult(
        spec,
        reps,
        members,
        {**ensemble.describe()} if ensemble is not None else None,
        values,
        tuple(practice),
        tuple(reference),
        failed,
    )
    return analyse(result)


# --------------------------------------------------------------------------- statistics
def funnel_limits(p0: float, n: np.ndarray | float, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial control limits of a proportion around ``p0`` (Spiegelhalter 2005).

    For ``n`` finishers the limit at probability ``a`` is ``(r - f) / n``, where ``r`` is the
    smallest count whose binomial distribution function reaches ``a`` and ``f`` interpolates
    between ``r - 1`` and ``r``: ``f = (F(r) - a) / (F(r) - F(r - 1))`` (Spiegelhalter,
    "Funnel plots for comparing institutional performance", Statistics in Medicine 24, 2005,
    appendix A.1.1), so the limits are smooth in ``n``.

    Args:
        p0: The national level (a share).
        n: Numbers of finishers (positive).
        level: Share of municipalities with the national level expected inside (0.95, 0.998).

    Returns:
        Lower and upper limits, shares, one per ``n``.
    """
    n_arr = np.atleast_1d(np.asarray(n, dtype=np.float64))
    out = []
    for a in ((1 - level) / 2, 1 - (1 - level) / 2):
        r = stats.binom.ppf(a, n_arr, p0)
        f_r = stats.binom.cdf(r, n_arr, p0)
        f_below = stats.binom.cdf(r - 1, n_arr, p0)
        gap = f_r - f_below
        frac = np.divide(f_r - a, gap, out=np.zeros_like(gap), where=gap > 0)
        out.append(np.clip((r - frac) / n_arr, 0.0, 1.0))
    return out[0], out[1]


def chance_interval(p: float, n: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Where a cohort of ``n`` finishers' share lands by chance alone at true share ``p``.

    The central ``confidence`` of Binomial(n, p) / n; NaN where ``n`` or ``p`` is unknown.
    """
    if not (n >= 1 and 0 <= p <= 1):
        return math.nan, math.nan
    k = max(1, round(n))
    tail = (1 - confidence) / 2
    return float(stats.binom.ppf(tail, k, p) / k), float(stats.binom.ppf(1 - tail, k, p) / k)


def _t_interval(x: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """A t interval of the mean of the finite values; NaN with fewer than two."""
    v = x[np.isfinite(x)]
    if v.size < 2:
        return math.nan, math.nan
    se = float(v.std(ddof=1)) / math.sqrt(v.size)
    t = float(stats.t.ppf(0.5 + confidence / 2, v.size - 1))
    return float(v.mean()) - t * se, float(v.mean()) + t * se


def _member_interval(x: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The central ``confidence`` of the members' averages (NaN with one member)."""
    means = np.nanmean(x, axis=-1)
    if means.size < 2:
        return math.nan, math.nan
    tail = (1 - confidence) / 2
    lo, hi = np.nanquantile(means, [tail, 1 - tail])
    return float(lo), float(hi)


def _fitted_variance(y: np.ndarray, x: np.ndarray) -> float:
    """Variance (over municipalities) of the least-squares fit of ``y`` on ``x`` and a constant."""
    if x.shape[1] == 0:
        return 0.0
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(np.var(design @ coef))


def decompose(y: np.ndarray, covariates: dict[str, np.ndarray]) -> dict[str, float]:
    """Split the spread of a share across municipalities into its parts.

    ``y`` holds each municipality's runs (municipalities × runs). The spread of one year's
    results across municipalities is the spread of their expected shares (*between*) plus
    the chance around each (*chance*: the average variance of a municipality's runs around
    its own mean). Between is measured as the variance of the municipalities' means less
    the simulation noise in them (the average of each municipality's variance / runs), and
    split by a Shapley decomposition of the variance a regression of the means on the three
    groups of covariates explains (the "LMG" measure: Lindeman, Merenda and Gold 1980;
    Grömping 2006): each group gets its average gain over the orders in which the groups
    could be added. What the regression does not explain (interactions, non-linearity,
    what the covariates miss) is *other between municipalities*.

    Args:
        y: Municipalities × runs (NaN for a run without the share).
        covariates: Each group of :data:`GROUPS` mapped to its municipalities × columns array.

    Returns:
        Variances (share² units) of each group, ``other``, ``chance`` and ``total`` (their sum);
        each part is at least 0, so the parts always add up to the total.
    """
    runs = np.isfinite(y).sum(axis=1)
    keep = runs >= 2  # a municipality needs two runs with the share to say anything of it
    if not keep.any():
        # No municipality observed the share twice (a horizon too short for it): nothing to
        # split, said as NaN rather than with numpy's warnings about empty means.
        return {g: math.nan for g in (*GROUPS, "other", "chance", "total")}
    y, runs = y[keep], runs[keep]
    covariates = {g: np.asarray(c)[keep] for g, c in covariates.items()}
    means = np.nanmean(y, axis=1)
    within = np.nanvar(y, axis=1, ddof=1)
    chance = float(np.nanmean(within))
    noise = float(np.nanmean(within / runs))
    between = max(0.0, float(np.var(means)) - noise)
    columns = {g: _standardised(covariates.get(g)) for g in GROUPS}

    def explained(groups: Sequence[str]) -> float:
        parts = [columns[g] for g in groups if columns[g].shape[1]]
        x = np.column_stack(parts) if parts else np.empty((len(means), 0))
        return _fitted_variance(means, x)

    cache = {
        s: explained(s) for n in range(len(GROUPS) + 1) for s in itertools.combinations(GROUPS, n)
    }
    full = cache[GROUPS]
    # The regression cannot explain more than the true between-municipality spread; its
    # share of what it fits is kept when the fit holds some simulation noise.
    scale = min(1.0, between / full) if full > 0 else 0.0
    out: dict[str, float] = {}
    g_count = len(GROUPS)
    for g in GROUPS:
        others = [h for h in GROUPS if h != g]
        value = 0.0
        for n in range(g_count):
            weight = math.factorial(n) * math.factorial(g_count - n - 1) / math.factorial(g_count)
            for s in itertools.combinations(others, n):
                with_g = tuple(h for h in GROUPS if h in s or h == g)
                value += weight * (cache[with_g] - cache[tuple(h for h in GROUPS if h in s)])
        out[g] = max(0.0, value * scale)
    out["other"] = max(0.0, between - sum(out[g] for g in GROUPS))
    out["chance"] = chance
    out["total"] = sum(out[g] for g in (*GROUPS, "other", "chance"))
    return out


def _standardised(x: np.ndarray | None) -> np.ndarray:
    """Columns centred and scaled; constant columns dropped (they explain nothing)."""
    if x is None:
        return np.empty((0, 0))
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    sd = x.std(axis=0)
    keep = sd > 1e-12
    return (x[:, keep] - x[:, keep].mean(axis=0)) / sd[keep]


def covariates(result: PanelResult) -> dict[str, np.ndarray]:
    """Each municipality's covariates by group, from its reference scenario and practice.

    Composition: the cohort's share of women (what the profile gives of it). Labour market:
    the log of employers reachable per participant, its square, and the local unemployment
    the employment rate gives. Practice: the drawn value of each spread practice path.
    """
    from introsim.model.population import employer_count
    from introsim.model.world import local_unemployment

    scs = result.scenarios
    female = np.array(
        [sc.cohort.share_female if sc.cohort.share_female is not None else np.nan for sc in scs]
    )
    female = np.where(
        np.isfinite(female), female, np.nanmean(female) if np.isfinite(female).any() else 0.0
    )
    ratio = np.log([employer_count(sc) / sc.cohort.size for sc in scs])
    unemployment = np.array([local_unemployment(sc) for sc in scs])
    paths = sorted(result.spec.practice)
    practice = np.array([[float(d[p]) for p in paths] for d in result.practice]).reshape(
        len(scs), len(paths)
    )
    return {
        "composition": female[:, None],
        "labour market": np.column_stack([ratio, ratio**2, unemployment]),
        "practice": practice,
    }


def _runs(x: np.ndarray) -> np.ndarray:
    """Municipalities × (members · replicates): every run of one policy."""
    return x.reshape(x.shape[0], -1)


def _bootstrap_indices(result: PanelResult) -> list[np.ndarray]:
    """Resamples of the replicates (the same for every municipality: they share seeds)."""
    ss = np.random.SeedSequence(result.spec.meta.seed, spawn_key=(BOOTSTRAP_KEY,))
    rng = np.random.Generator(np.random.PCG64(ss))
    r = result.replications
    return [rng.integers(0, r, r) for _ in range(BOOTSTRAPS)]


def _quantile_pair(x: Sequence[float]) -> tuple[float, float]:
    v = np.asarray(x, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return math.nan, math.nan
    tail = (1 - CONFIDENCE) / 2
    lo, hi = np.quantile(v, [tail, 1 - tail])
    return float(lo), float(hi)


# --------------------------------------------------------------------------- analysis
def analyse(result: PanelResult) -> PanelResult:
    """Work out the table, the targets reached, the funnel and the decomposition."""
    with warnings.catch_warnings():
        # A municipality with no finisher in some runs has NaN there: averages leave it out.
        warnings.simplefilter("ignore", RuntimeWarning)
        return _analyse(result)


def _analyse(result: PanelResult) -> PanelResult:
    table = municipality_table(result)
    reached = targets_reached(result)
    decomposition = decomposition_table(result)
    funnel = {}
    for o in SHARES:
        ref = table[table["policy"] == result.spec.names[0]]
        n, share = ref[f"finishers_{o}"].to_numpy(), ref[o].to_numpy()
        ok = np.isfinite(n) & np.isfinite(share) & (n > 0)
        p0 = float(np.sum(n[ok] * share[ok]) / np.sum(n[ok])) if ok.any() else math.nan
        funnel[o] = {"national": p0}
    return PanelResult(
        result.spec,
        result.replications,
        result.members,
        result.ensemble,
        result.values,
        result.practice,
        result.scenarios,
        result.failed,
        table,
        reached,
        decomposition,
        funnel,
    )


def municipality_table(result: PanelResult) -> pd.DataFrame:
    """One row per municipality and policy: context, practice, shares with intervals, gains.

    For each share: the expected share (the average of every run), the mechanisms'
    interval (over members; empty without an ensemble), the chance interval for its number
    of finishers (binomial), the simulation's interval (t interval of the average), and
    under a policy other than the reference its gain (paired run by run) with the
    simulation's interval; and the cost per participant and its difference.
    """
    spec = result.spec
    rows = []
    for i, row in enumerate(spec.municipalities):
        sc = result.scenarios[i]
        base = {
            "municipality_number": row.municipality_number,
            "municipality_name": row.municipality_name,
            "county_name": row.county_name,
            "settled_2023": sc.municipality.settled,
            "participants": sc.cohort.size,
            "local_jobs": sc.municipality.local_jobs,
            "employment_rate": sc.municipality.employment_rate,
            "centrality_index": sc.municipality.centrality_index,
            **{f"practice {k}": v for k, v in result.practice[i].items()},
        }
        for p, name in enumerate(spec.names):
            out = {**base, "policy": name}
            for o in SHARES:
                x = result.values[o][i, p]
                people = result.values[f"people_{o}"][i, p]
                mean = float(np.nanmean(x)) if np.isfinite(x).any() else math.nan
                n = float(np.nanmean(people)) if np.isfinite(people).any() else math.nan
                out[o] = mean
                out[f"finishers_{o}"] = n
                out[f"{o}_mechanisms_low"], out[f"{o}_mechanisms_high"] = _member_interval(x)
                out[f"{o}_chance_low"], out[f"{o}_chance_high"] = chance_interval(mean, n)
                out[f"{o}_simulation_low"], out[f"{o}_simulation_high"] = _t_interval(x.ravel())
                if p > 0:
                    d = (x - result.values[o][i, 0]).ravel()
                    out[f"gain_{o}"] = float(np.nanmean(d)) if np.isfinite(d).any() else math.nan
                    out[f"gain_{o}_low"], out[f"gain_{o}_high"] = _t_interval(d)
            cost = result.values[COST][i, p]
            out[COST] = float(np.nanmean(cost))
            if p > 0:
                out["extra_cost_per_participant_nok"] = float(
                    np.nanmean(cost - result.values[COST][i, 0])
                )
            rows.append(out)
    return pd.DataFrame(rows)


def _reaching_chance(x: np.ndarray, target: float) -> np.ndarray:
    """Each municipality's chance, given its runs, that its expected share reaches ``target``.

    From the t distribution of its runs' average (runs are municipalities × runs); 1 or 0
    where the runs do not vary, 0 where it has fewer than two runs with the share.
    """
    runs = np.isfinite(x).sum(axis=1)
    with warnings.catch_warnings():  # a municipality with fewer than two runs: NaN, left out
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(x, axis=1)
        se = np.nanstd(x, axis=1, ddof=1) / np.sqrt(np.maximum(runs, 1))
    exact = np.where(mean >= target, 1.0, 0.0)
    t = np.divide(mean - target, se, out=np.zeros_like(mean), where=se > 0)
    p = np.where(se > 0, stats.t.cdf(t, np.maximum(runs - 1, 1)), exact)
    return np.where(runs >= 2, p, 0.0)


def _count_interval(p: np.ndarray) -> tuple[float, float]:
    """The 95 % interval of a count of independent events with chances ``p`` (normal)."""
    expected = float(p.sum())
    sd = float(np.sqrt(np.sum(p * (1 - p))))
    z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
    return max(0.0, expected - z * sd), min(float(p.size), expected + z * sd)


def targets_reached(result: PanelResult) -> pd.DataFrame:
    """Municipalities whose expected share reaches each target, under each policy.

    Three intervals. The simulation's: each municipality's chance that its expected share
    reaches the target, given the spread of its runs (t distribution of its average), and
    the count's interval from the normal approximation of the sum of those chances. The
    mechanisms': the count in each member, over members. Chance's: how many would reach it
    in one year's results, given each municipality's binomial chance with its number of
    finishers (the same approximation). A municipality's average is estimated
    independently of the others' for these intervals (their runs share seeds, so this is
    an approximation).
    """
    spec = result.spec
    targets = {AT_EXIT: spec.targets.at_exit, AFTER_12M: spec.targets.after_12m}
    rows = []
    for p, name in enumerate(spec.names):
        for o, target in targets.items():
            x = result.values[o][:, p]  # municipalities × members × replicates
            runs, ref_runs = _runs(x), _runs(result.values[o][:, 0])
            means = np.nanmean(runs, axis=1)
            below = np.nanmean(ref_runs, axis=1) < target
            reach = _reaching_chance(runs, target)
            sim_lo, sim_hi = _count_interval(reach)
            new_lo, new_hi = _count_interval(reach * (1 - _reaching_chance(ref_runs, target)))
            n = np.nanmean(result.values[f"people_{o}"][:, p].reshape(len(x), -1), axis=1)
            count = int(np.sum(means >= target))
            member_counts = [
                int(np.sum(np.nanmean(x[:, k], axis=1) >= target)) for k in range(x.shape[1])
            ]
            k_need = np.ceil(target * np.maximum(n, 1) - 1e-9)
            chance_p = np.where(
                np.isfinite(means) & (n >= 1),
                stats.binom.sf(k_need - 1, np.maximum(np.round(n), 1), np.clip(means, 0, 1)),
                0.0,
            )
            expected = float(chance_p.sum())
            one_lo, one_hi = _count_interval(chance_p)
            mech = _quantile_pair(member_counts) if len(member_counts) > 1 else (math.nan, math.nan)
            rows.append(
                {
                    "policy": name,
                    "outcome": o,
                    "target": target,
                    "municipalities": len(x),
                    "reaching": count,
                    "share_reaching": count / len(x),
                    "simulation_low": sim_lo,
                    "simulation_high": sim_hi,
                    "mechanisms_low": mech[0],
                    "mechanisms_high": mech[1],
                    "one_year_expected": expected,
                    "one_year_low": one_lo,
                    "one_year_high": one_hi,
                    "newly_reaching": int(np.sum((means >= target) & below)),
                    "newly_low": new_lo if p > 0 else 0.0,
                    "newly_high": new_hi if p > 0 else 0.0,
                }
            )
    return pd.DataFrame(rows)


def decomposition_table(result: PanelResult) -> pd.DataFrame:
    """The decomposition of each share under the reference policy, with intervals.

    The simulation's interval comes from resampling the replicates; with an ensemble, the
    mechanisms' from decomposing each member's runs alone.
    """
    cov = covariates(result)
    boots = _bootstrap_indices(result)
    rows = []
    for o in SHARES:
        x = result.values[o][:, 0]  # municipalities × members × replicates
        point = decompose(_runs(x), cov)
        sims = [decompose(_runs(x[:, :, b]), cov) for b in boots]
        members = [decompose(x[:, k], cov) for k in range(x.shape[1])] if x.shape[1] > 1 else []
        for d in (point, *sims, *members):
            d["context"] = d["composition"] + d["labour market"]
        for part in PARTS:
            share = [s[part] / s["total"] if s["total"] > 0 else math.nan for s in sims]
            mshare = [s[part] / s["total"] if s["total"] > 0 else math.nan for s in members]
            lo, hi = _quantile_pair(share)
            mlo, mhi = _quantile_pair(mshare) if members else (math.nan, math.nan)
            rows.append(
                {
                    "outcome": o,
                    "part": part,
                    "variance": point[part],
                    "sd_points": 100 * math.sqrt(point[part]),
                    "share": point[part] / point["total"] if point["total"] > 0 else math.nan,
                    "simulation_low": lo,
                    "simulation_high": hi,
                    "mechanisms_low": mlo,
                    "mechanisms_high": mhi,
                }
            )
    return pd.DataFrame(rows)


def headline(result: PanelResult) -> dict[str, Any]:
    """The panel's answers: context's and chance's share of the spread, and who reaches 55 %."""
    d = result.decomposition
    out: dict[str, Any] = {}
    for o in SHARES:
        part = d[d["outcome"] == o].set_index("part")
        out[o] = {"total_sd_points": float(part.loc["total", "sd_points"])}
        for name in ("context", "chance", "practice", "other"):
            out[o][f"{name}_share"] = float(part.loc[name, "share"])
            out[o][f"{name}_simulation"] = [
                float(part.loc[name, "simulation_low"]),
                float(part.loc[name, "simulation_high"]),
            ]
            out[o][f"{name}_mechanisms"] = [
                float(part.loc[name, "mechanisms_low"]),
                float(part.loc[name, "mechanisms_high"]),
            ]
    reached = result.reached
    out["reaching"] = reached.to_dict("records")
    return out


# --------------------------------------------------------------------------- files
def build_manifest(
    result: PanelResult,
    *,
    executor: str,
    wall_time_s: float | None,
    command: Sequence[str] | None,
    resumed: int = 0,
) -> dict[str, Any]:
    """What is needed to reproduce a panel and read its headline, for ``manifest.json``."""
    spec = result.spec
    return {
        **provenance(command),
        "panel": spec.describe(),
        "fingerprint": spec.fingerprint(),
        "root_seed": spec.meta.seed,
        "replications": result.replications,
        "members": result.members,
        "ensemble": result.ensemble,
        "practice_seed": f"numpy.random.SeedSequence(root_seed, spawn_key=({PRACTICE_KEY}, "
        "municipality number)): one uniform per practice path",
        "decomposition_method": "Shapley (LMG) decomposition of the variance of municipality "
        "means explained by a regression on composition, labour-market and practice covariates; "
        "chance is the average within-municipality variance of single runs",
        "headline": headline(result),
        "failed_runs": result.failed,
        "runs": int(np.isfinite(result.values[AT_EXIT]).sum()),
        "resumed_runs": resumed,
        "executor": executor,
        "wall_time_s": wall_time_s,
        "files": [TABLE_FILE, DECOMPOSITION_FILE, RUNS_FILE, MANIFEST_FILE, REPORT_FILE],
    }


def write_outputs(result: PanelResult, folder: Path, manifest: dict[str, Any]) -> None:
    """Write the municipality table, the decomposition, every run and the manifest."""
    write_csv(result.table, folder / TABLE_FILE)
    write_csv(result.decomposition, folder / DECOMPOSITION_FILE)
    write_parquet(result.runs_table(), folder / RUNS_FILE)
    write_json(manifest, folder / MANIFEST_FILE)


# --------------------------------------------------------------------------- the study
@register
class PanelStudy(Study):
    """``introsim municipalities``: every municipality of a profile under one or more policies."""

    kind = "municipalities"
    work = "runs"
    files = (TABLE_FILE, DECOMPOSITION_FILE, RUNS_FILE, MANIFEST_FILE, REPORT_FILE)
    report_module = "introsim.reporting.panel_report"
    build_manifest = staticmethod(build_manifest)
    write_outputs = staticmethod(write_outputs)

    def __init__(
        self, spec: PanelSpec, replications: int | None, ensemble: Ensemble | None
    ) -> None:
        self.spec, self.name = spec, spec.meta.name
        self.replications = replications if replications is not None else spec.meta.replications
        self.ensemble = ensemble

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        replications: int | None = None,
        ensemble: str | Path | None = None,
    ) -> PanelStudy:
        """Read a panel file (and an ensemble, checked on every policy)."""
        from introsim.params.ensemble_file import load_checked
        from introsim.params.panel_file import MAX_PANEL_REPLICATIONS

        spec = load_panel(path)
        if replications is not None and not 2 <= replications <= MAX_PANEL_REPLICATIONS:
            raise StudyError(
                f"--replications: expected an integer from 2 to {MAX_PANEL_REPLICATIONS}, "
                f"found {replications}"
            )
        return cls(spec, replications, load_checked(ensemble, spec.policy_paths, {}))

    @property
    def members(self) -> int:
        """Parameter sets each replicate runs with (1 without an ensemble)."""
        return self.ensemble.size if self.ensemble is not None else 1

    def identity(self) -> dict[str, Any]:
        data = {
            "panel": self.spec.fingerprint(),
            "ensemble": self.ensemble.digest() if self.ensemble is not None else None,
        }
        return {
            "experiment": self.spec.meta.name,
            "kind": self.kind,
            "fingerprint": hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest(),
            "model_version": model_version(),
        }

    def scenarios(self) -> list[Scenario]:
        largest = max(self.spec.municipalities, key=lambda r: r.settled_2023 or 0)
        drawn = practice_for(self.spec, largest.municipality_number)
        return [self.spec.scenario_for(p, largest, drawn) for p in range(len(self.spec.policies))]

    def cautions(self) -> list[str]:
        from introsim.params.ensemble_file import stale_posterior
        from introsim.params.schema import MUNICIPAL_INTAKE_WEEKS

        out = [line for line in (stale_posterior(self.ensemble, model_version()),) if line]
        for name, sc in zip(self.spec.names, self.spec.scenarios, strict=True):
            need = MUNICIPAL_INTAKE_WEEKS + sc.programme.max_weeks + 52
            if sc.scenario.weeks < need:
                out.append(
                    f"policy {name}: its horizon ({sc.scenario.weeks} weeks) ends before the "
                    f"last arrivals' 12 months after the programme ({need} weeks: a year's "
                    f"intake, {sc.programme.max_weeks} weeks of programme and 52), so its "
                    "shares rest on those who left early"
                )
        return out

    def size(self) -> tuple[str, int]:
        m, p = len(self.spec.municipalities), len(self.spec.policies)
        members = f" × {self.members} members" if self.ensemble is not None else ""
        label = f"{m} municipalities × {p} policies{members} × {self.replications} replicates"
        return label, m * p * self.members * self.replications

    def run(self, runner: Runner) -> PanelResult:
        return run_panel(self.spec, runner, replications=self.replications, ensemble=self.ensemble)

    def warnings(self, result: PanelResult, out: Path) -> list[str]:
        if not result.failed:
            return []
        return [f"{len(result.failed)} runs failed and were left out; see {out}/manifest.json"]

    def summary(
        self, result: PanelResult, out: Path, wall: float, manifest: dict[str, Any]
    ) -> dict:
        return {"out": str(out), **headline(result)}

    def show(self, result: PanelResult, out: Path, wall: float) -> None:
        from rich.console import Console
        from rich.table import Table

        from introsim.terminal import printable, wide_console

        spec = result.spec
        table = Table(
            title=f"{spec.meta.name}: municipalities reaching the targets (of "
            f"{len(spec.municipalities)}), 95 % intervals",
            caption="simulation: Monte Carlo error of the count; one year: how many would "
            "reach it in one year's results, chance included",
        )
        for col in (
            "policy",
            "target",
            "expected to reach it",
            "simulation 95 %",
            "one year, 95 %",
        ):
            table.add_column(col, justify="right")
        for r in result.reached.to_dict("records"):
            table.add_row(
                printable(r["policy"]),
                f"{100 * r['target']:.0f} % {WHEN[r['outcome']]}",
                f"{r['reaching']}",
                f"[{r['simulation_low']:.0f}, {r['simulation_high']:.0f}]",
                f"{r['one_year_expected']:.0f} [{r['one_year_low']:.0f}, {r['one_year_high']:.0f}]",
            )
        console = wide_console(140)
        console.print(table)
        for o, h in headline(result).items():
            if o not in SHARES:
                continue
            console.print(
                f"{'at exit' if o == AT_EXIT else '12 months after exit'}: spread between "
                f"municipalities {h['total_sd_points']:.1f} points (sd); context explains "
                f"{100 * h['context_share']:.0f} %, practice {100 * h['practice_share']:.0f} %, "
                f"chance {100 * h['chance_share']:.0f} %, other {100 * h['other_share']:.0f} %",
                highlight=False,
            )
        Console().print(
            f"wrote {printable(out)}/ {', '.join(self.files)} "
            f"({int(np.isfinite(result.values[AT_EXIT]).sum())} runs in {wall:.1f} s)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
