"""In-silico trials: what a randomised trial of a follow-up method would find, at each size.

A trial file (read and checked by :mod:`introsim.params.trial_file`) names a
control and a treatment scenario, how participants are recruited (sites,
participants per site, recruitment weeks), a model of who takes the treatment
up, the primary outcome, the significance level and the sample sizes to evaluate.

How it works:

* **Population.** Each site is one population replicate: the same cohort is
  simulated under the control and the treatment scenario with the same random
  numbers (common random numbers), so every participant has two potential
  outcomes and their individual effect is known inside the model. These runs go
  through the experiment engine (:func:`~introsim.experiments.engine.run_tasks`)
  and are stored as they finish, so a killed trial resumes.
* **Take-up, applied once.** The treatment scenario is run with everyone taking
  the method up (its ``follow_up.take_up`` set to 1 and its language slope to 0),
  so its outcomes are the outcomes *if treated*. Who takes it up in a trial is
  decided by the trial file's take-up model, logistic in starting language,
  mental-health burden and care responsibilities. Those allocated to treatment
  who do not take it up receive usual follow-up: they get their control outcome
  (the offer alone has no effect, the exclusion restriction of the IV estimate).
  Participants do not affect each other's outcomes across arms (no interference).
* **Simulated trials.** For each sample size, many trials: a fresh draw of
  participants (individual randomisation) or of whole sites (cluster
  randomisation), a random allocation with the file's ratio and fresh take-up
  draws, analysed as a real trial: the intention-to-treat difference with
  Welch's test, per-protocol (takers against all controls) and the complier
  average causal effect (Wald IV estimate, allocation as instrument, delta-method
  interval). Power, bias and coverage are measured against the truth computed
  from the potential outcomes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from introsim.experiments.engine import Task, TaskResult, model_version, provenance, run_tasks
from introsim.experiments.statistics import (
    CONFIDENCE,
    icc_oneway,
    share_interval,
    t_interval,
    wald_ratio,
    welch_test,
)
from introsim.experiments.study import Runner, Study, StudyError, register
from introsim.output import write_csv, write_json, write_parquet
from introsim.params.schema import Scenario
from introsim.params.trial_file import (
    DESIGNS,
    TRIAL_OUTCOMES,
    TrialSpec,
    arm_units,
    clusters_fit,
    clusters_for,
    load_trial,
)
from introsim.run import simulate
from introsim.terminal import Console, Table, wide_console

if TYPE_CHECKING:
    from introsim.experiments.store import RunStore
    from introsim.params.ensemble_file import Ensemble

__all__ = [
    "ESTIMATORS",
    "MemberTrials",
    "Population",
    "TrialResult",
    "build_population",
    "n_for_power",
    "needed_band",
    "needed_band_text",
    "needed_text",
    "population_from",
    "power_bands",
    "power_table",
    "run_trial",
    "simulate_trials",
    "trial_values",
]

COVARIATES: tuple[str, ...] = ("language_start", "mental_health", "care")
ESTIMATORS: tuple[str, ...] = ("itt", "per_protocol", "cace")
ESTIMATOR_LABELS = {
    "itt": "Intention to treat",
    "per_protocol": "Per protocol (takers vs all controls)",
    "cace": "Complier average causal effect (IV)",
}
TARGET_POWER = 0.8
"""The power a trial is usually designed for."""
ONE_SET = (
    "Power at one set of parameters, the model's mechanisms as written: what we do not know "
    "about the mechanisms is not included (--ensemble calibration/posterior.toml gives power "
    "across the calibration's plausible parameter sets)"
)
"""What a trial run without an ensemble must say about its power (terminal and report)."""
_TRIALS_KEY = 7_919  # spawn-key prefix of the simulated trials, apart from replicate seeds
_CELLS_PER_CHUNK = 2_000_000  # trials × participants analysed at once (bounds memory)

TRIALS_FILE = "trials.parquet"
POWER_FILE = "power.csv"
MEMBER_POWER_FILE = "member_power.csv"
MANIFEST_FILE = "manifest.json"
REPORT_FILE = "report.html"


# --------------------------------------------------------------------------- population
def trial_values(scenario: Scenario, seed: int | np.random.SeedSequence) -> dict[str, np.ndarray]:
    """Run one site under one arm and return per-participant outcomes and covariates.

    The engine's ``evaluate`` for trials (module-level, so workers import it by name).

    Args:
        scenario: The arm's scenario.
        seed: The site's seed (the same in both arms).

    Returns:
        Each name of :data:`TRIAL_OUTCOMES` and :data:`COVARIATES` mapped to one
        value per participant (NaN where an outcome was not reached).
    """
    p = simulate(scenario, seed).participants
    out = {o: p[o].to_numpy(dtype=np.float64) for o in TRIAL_OUTCOMES}
    out["language_start"] = p["language_start"].to_numpy(dtype=np.float64)
    out["mental_health"] = p["mental_health"].cat.codes.to_numpy().astype(np.float64)
    out["care"] = p["care"].cat.codes.to_numpy().astype(np.float64)
    return out


@dataclass(frozen=True)
class Population:
    """The simulated population: participants with both potential outcomes, by site.

    Only participants whose outcome was observed in both arms are kept.

    Attributes:
        site: Site (population replicate) of each participant.
        y0: Outcome under control.
        y1: Outcome if treated.
        take_up: Probability of taking the treatment up when offered.
        recruited: Participants simulated before dropping unobserved outcomes.
        failed: Site runs that raised (their sites are left out), as messages.
    """

    site: np.ndarray
    y0: np.ndarray
    y1: np.ndarray
    take_up: np.ndarray
    recruited: int
    failed: list[str]

    @property
    def effect(self) -> np.ndarray:
        """Each participant's true effect, ``y1 - y0``."""
        return self.y1 - self.y0

    def truths(self) -> dict[str, float]:
        """The population's true effects, from the potential outcomes.

        Returns:
            ``ate`` (average effect if everyone were treated), ``itt`` (of the
            offer, given take-up), ``cace`` (among those who take it up),
            ``per_protocol_target`` (what per-protocol estimates: takers' treated
            outcome minus all controls'), ``selection_bias`` (its difference from
            ``cace``), ``take_up``, ``control_mean``, ``treated_mean``.
        """
        p, y0, y1, tau = self.take_up, self.y0, self.y1, self.effect
        cace = float((p * tau).sum() / p.sum())
        pp = float((p * y1).sum() / p.sum() - y0.mean())
        return {
            "ate": float(tau.mean()),
            "itt": float((p * tau).mean()),
            "cace": cace,
            "per_protocol_target": pp,
            "selection_bias": pp - cace,
            "take_up": float(p.mean()),
            "control_mean": float(y0.mean()),
            "treated_mean": float(y1.mean()),
        }

    def icc(self) -> dict[str, float]:
        """Intra-cluster correlation of the outcome between sites, under each arm."""
        return {
            "control": icc_oneway(self.y0, self.site),
            "treated": icc_oneway(self.y1, self.site),
        }

    def site_sizes(self) -> np.ndarray:
        """Participants kept at each site."""
        return np.bincount(self.site)


def take_up_probability(
    spec: TrialSpec, language: np.ndarray, burden: np.ndarray, care: np.ndarray
) -> np.ndarray:
    """The trial's take-up model: logistic in language, mental-health burden and care."""
    t = spec.take_up
    share = float(np.clip(t.share or 1.0, 1e-9, 1 - 1e-9))
    mean = spec.control.cohort.language_mean
    return expit(
        logit(share)
        + (t.language or 0.0) * (language - mean)
        + t.mental_health * burden
        + t.care * care
    )


def population_tasks(spec: TrialSpec, first_point: int = 0) -> list[Task]:
    """One task per site and arm: point ``first_point`` is control, the next treatment.

    Site ``s`` has the same seed in both arms (and under every ensemble member, whose
    populations take the next points).
    """
    return [
        Task(first_point + arm, site, spec.site_scenario(arm, site), spec.meta.seed)
        for arm in (0, 1)
        for site in range(spec.recruitment.sites)
    ]


def build_population(
    spec: TrialSpec,
    executor: Executor | None = None,
    *,
    store: RunStore | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Population:
    """Simulate every site under both arms (through the engine) and pair the outcomes.

    Args:
        spec: The trial.
        executor: Any ``concurrent.futures.Executor``; None runs here.
        store: Where site runs are kept as they finish (resumable).
        progress: Called with (done, total).

    Returns:
        The population.

    Raises:
        RuntimeError: Every site failed, or the arms' cohorts differ.
    """
    tasks = population_tasks(spec)
    results = run_tasks(tasks, executor, evaluate=trial_values, store=store, progress=progress)
    return population_from(spec, results)


def population_from(spec: TrialSpec, results: Sequence[TaskResult]) -> Population:
    """Pair the site runs of :func:`population_tasks` (control sites, then treated) by site.

    Raises:
        RuntimeError: Every site failed, or the arms' cohorts differ.
    """
    sites = spec.recruitment.sites
    control, treated = results[:sites], results[sites:]
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("site", "y0", "y1", "lang", "mh", "care")}
    failed: list[str] = []
    recruited = 0
    outcome = spec.meta.outcome
    for s, (c, t) in enumerate(zip(control, treated, strict=True)):
        if c.error or t.error:
            failed.append(f"site {s}: {c.error or t.error}")
            continue
        for k in COVARIATES:
            if not np.array_equal(c.value[k], t.value[k]):
                raise RuntimeError(f"site {s}: the arms simulated different cohorts ({k} differs)")
        y0, y1 = c.value[outcome], t.value[outcome]
        recruited += y0.size
        seen = np.isfinite(y0) & np.isfinite(y1)
        cols["site"].append(np.full(int(seen.sum()), s, dtype=np.int64))
        cols["y0"].append(y0[seen])
        cols["y1"].append(y1[seen])
        cols["lang"].append(c.value["language_start"][seen])
        cols["mh"].append(c.value["mental_health"][seen])
        cols["care"].append(c.value["care"][seen])
    if not cols["site"] or sum(a.size for a in cols["site"]) < 4:
        raise RuntimeError(
            "no site gave observed outcomes: " + (failed[0] if failed else "none observed")
        )
    joined = {k: np.concatenate(v) for k, v in cols.items()}
    # Sites renumbered 0..k-1 over those kept, so cluster draws index them directly.
    _, site = np.unique(joined["site"], return_inverse=True)
    prob = take_up_probability(spec, joined["lang"], joined["mh"], joined["care"])
    return Population(site, joined["y0"], joined["y1"], prob, recruited, failed)


# --------------------------------------------------------------------------- simulated trials
def _moments(x: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise count, mean and variance (ddof 1) of ``x`` where ``mask`` and finite."""
    m = mask & np.isfinite(x)
    n = m.sum(axis=1).astype(np.float64)
    xs = np.where(m, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = xs.sum(axis=1) / n
        var = (np.where(m, x - mean[:, None], 0.0) ** 2).sum(axis=1) / (n - 1)
    return n, mean, var


def _analyse(
    y: np.ndarray,
    d: np.ndarray,
    y_takers: np.ndarray,
    treat: np.ndarray,
    confidence: float,
    df: float | None = None,
) -> dict[str, np.ndarray]:
    """Analyse trials as a real trial would be, one row per trial, one column per unit.

    Args:
        y: Observed outcome of each unit (a participant, or a cluster's mean).
        d: Whether (or which share of) the unit took the treatment up; 0 in control.
        y_takers: Outcome of the unit's takers (NaN where none, or in control).
        treat: Which columns were allocated to treatment.
        confidence: Interval level.
        df: Degrees of freedom of the CACE's t reference (clusters), None for the normal.

    Returns:
        Per trial: estimate, standard error, interval and p-value of each estimator.
    """
    t_mask = np.broadcast_to(treat, y.shape)
    c_mask = ~t_mask
    n_t, m_t, v_t = _moments(y, t_mask)
    n_c, m_c, v_c = _moments(y, c_mask)
    out: dict[str, np.ndarray] = {}
    itt = welch_test(m_t, v_t, n_t, m_c, v_c, n_c, confidence)
    np_t, mp_t, vp_t = _moments(y_takers, t_mask)
    pp = welch_test(mp_t, vp_t, np_t, m_c, v_c, n_c, confidence)
    _, md, vd = _moments(d, t_mask)
    with np.errstate(invalid="ignore", divide="ignore"):
        dev_y = np.where(t_mask, y - m_t[:, None], 0.0)
        dev_d = np.where(t_mask, d - md[:, None], 0.0)
        cov = (dev_y * dev_d).sum(axis=1) / (n_t - 1) / n_t
    cace = wald_ratio(itt[0], itt[1] ** 2, md, vd / n_t, cov, confidence, df)
    for name, res in (("itt", itt), ("per_protocol", pp), ("cace", cace)):
        for part, values in zip(("", "_se", "_low", "_high", "_p"), res, strict=True):
            out[f"{name}{part}"] = values
    out["take_up"] = md
    return out


def _trial_rng(spec: TrialSpec, design: str, n: int) -> np.random.Generator:
    """The generator of one design and sample size, whatever else the file evaluates."""
    ss = np.random.SeedSequence(spec.meta.seed, spawn_key=(_TRIALS_KEY, DESIGNS.index(design), n))
    return np.random.Generator(np.random.PCG64(ss))


def cluster_count(spec: TrialSpec, pop: Population, n: int) -> int:
    """Sites a cluster trial of about ``n`` participants recruits (rounded, at least 2)."""
    return clusters_for(n, float(pop.site_sizes().mean()))


def _individual(spec: TrialSpec, pop: Population, n: int) -> dict[str, np.ndarray]:
    rng = _trial_rng(spec, "individual", n)
    total = spec.meta.trials
    chunk = max(1, _CELLS_PER_CHUNK // n)
    n_t = arm_units(n, spec.meta.ratio)
    # Participants are drawn independently, so the first n_t positions are a random allocation.
    treat = np.arange(n) < n_t
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, total, chunk):
        t = min(chunk, total - start)
        idx = rng.integers(0, pop.site.size, size=(t, n))
        takes = rng.random((t, n)) < pop.take_up[idx]
        y0, y1 = pop.y0[idx], pop.y1[idx]
        offered = takes & treat
        y = np.where(offered, y1, y0)
        res = _analyse(
            y, offered.astype(np.float64), np.where(offered, y1, np.nan), treat, CONFIDENCE
        )
        tau = y1 - y0
        with np.errstate(invalid="ignore", divide="ignore"):
            res["sample_ate"] = tau.mean(axis=1)
            res["sample_cace"] = (tau * takes).sum(axis=1) / takes.sum(axis=1)
        res["clusters"] = np.zeros(t)
        res["n_treat"] = np.full(t, float(n_t))
        res["n_control"] = np.full(t, float(n - n_t))
        parts.append(res)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _cluster(spec: TrialSpec, pop: Population, n: int) -> dict[str, np.ndarray] | None:
    k = cluster_count(spec, pop, n)
    sizes = pop.site_sizes()
    n_sites = sizes.size
    if not clusters_fit(k, n_sites, spec.meta.ratio):
        return None
    k_t = arm_units(k, spec.meta.ratio)
    rng = _trial_rng(spec, "cluster", n)
    width = int(sizes.max())
    order = np.argsort(pop.site, kind="stable")
    slot = np.arange(pop.site.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    pad = np.full((n_sites, width), -1, dtype=np.int64)
    pad[pop.site[order], slot] = order
    member = pad >= 0
    safe = np.where(member, pad, 0)
    y0s, y1s, ps = pop.y0[safe], pop.y1[safe], np.where(member, pop.take_up[safe], 0.0)
    total = spec.meta.trials
    chunk = max(1, _CELLS_PER_CHUNK // (k * width))
    treat = np.arange(k) < k_t  # sites come in random order, so the first k_t are random
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, total, chunk):
        t = min(chunk, total - start)
        chosen = np.argsort(rng.random((t, n_sites)), axis=1)[:, :k]
        inside = member[chosen]
        takes = (rng.random((t, k, width)) < ps[chosen]) & inside
        y0, y1 = y0s[chosen], y1s[chosen]
        offered = takes & treat[None, :, None]
        y = np.where(offered, y1, y0)
        count = inside.sum(axis=2)
        taken = offered.sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            y_bar = np.where(inside, y, 0.0).sum(axis=2) / count
            d_bar = taken / count
            takers = np.where(offered, y1, 0.0).sum(axis=2) / taken
        # Few clusters: the ratio's interval uses t with (clusters - 2) degrees of freedom.
        res = _analyse(
            y_bar, d_bar, np.where(taken > 0, takers, np.nan), treat, CONFIDENCE, float(k - 2)
        )
        tau = np.where(inside, y1 - y0, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            res["sample_ate"] = tau.sum(axis=(1, 2)) / count.sum(axis=1)
            res["sample_cace"] = (tau * takes).sum(axis=(1, 2)) / takes.sum(axis=(1, 2))
        res["clusters"] = np.full(t, float(k))
        res["n_treat"] = count[:, treat].sum(axis=1).astype(np.float64)
        res["n_control"] = count[:, ~treat].sum(axis=1).astype(np.float64)
        parts.append(res)
    return {k_: np.concatenate([p[k_] for p in parts]) for k_ in parts[0]}


def simulate_trials(spec: TrialSpec, pop: Population) -> tuple[pd.DataFrame, list[str]]:
    """Run the file's simulated trials on the population, every design and sample size.

    Args:
        spec: The trial.
        pop: The simulated population.

    Returns:
        One row per simulated trial, and notes on sizes a design could not run.

    Raises:
        RuntimeError: No design could run at any size (the sites kept too few
            participants with an observed outcome); the notes say why.
    """
    frames: list[pd.DataFrame] = []
    notes: list[str] = []
    for design in spec.meta.designs:
        for n in spec.meta.sample_sizes:
            if design == "individual":
                if n > pop.site.size:
                    notes.append(
                        f"individual design at n = {n} draws from the {pop.site.size} "
                        "participants whose outcome was observed, so some appear twice"
                    )
                res: dict[str, np.ndarray] | None = _individual(spec, pop, n)
            else:
                res = _cluster(spec, pop, n)
                if res is None:
                    k = cluster_count(spec, pop, n)
                    why = (
                        f"it needs {k} sites and {pop.site_sizes().size} were simulated"
                        if k > pop.site_sizes().size
                        else f"{k} sites leave fewer than two in an arm"
                    )
                    notes.append(f"cluster design at n = {n} skipped: {why}")
                    continue
            df = pd.DataFrame(res)
            df.insert(0, "trial", np.arange(len(df), dtype=np.int64))
            df.insert(0, "n", np.int64(n))
            df.insert(0, "design", design)
            frames.append(df)
    if not frames:
        raise RuntimeError("no simulated trial could run: " + "; ".join(notes))
    trials = pd.concat(frames, ignore_index=True)
    trials["design"] = trials["design"].astype(object)
    for c in ("clusters", "n_treat", "n_control"):
        trials[c] = trials[c].astype(np.int64)
    return trials, notes


def power_table(spec: TrialSpec, trials: pd.DataFrame, truths: dict[str, float]) -> pd.DataFrame:
    """Power, bias and coverage of each estimator, per design and sample size.

    ITT is measured against the true ITT effect; per-protocol and CACE against
    the compliers' true effect (what per-protocol is usually read as).

    Args:
        spec: The trial.
        trials: From :func:`simulate_trials`.
        truths: From :meth:`Population.truths`.

    Returns:
        One row per design, sample size and estimator.
    """
    alpha = spec.meta.alpha
    rows: list[dict[str, Any]] = []
    for (design, n), g in trials.groupby(["design", "n"], sort=False):
        for est in ESTIMATORS:
            truth = truths["itt"] if est == "itt" else truths["cace"]
            value = g[est].to_numpy()
            ok = np.isfinite(value) & np.isfinite(g[f"{est}_p"].to_numpy())
            k = int(ok.sum())
            rejected = int((g[f"{est}_p"].to_numpy()[ok] < alpha).sum())
            power, p_lo, p_hi = share_interval(np.array(rejected), np.array(k))
            lo, hi = g[f"{est}_low"].to_numpy()[ok], g[f"{est}_high"].to_numpy()[ok]
            covered = int(((lo <= truth) & (truth <= hi)).sum())
            cov, c_lo, c_hi = share_interval(np.array(covered), np.array(k))
            _, bias, b_lo, b_hi, _ = t_interval(value[ok] - truth)
            rows.append(
                {
                    "design": design,
                    "n": int(n),
                    "clusters": int(g["clusters"].iloc[0]),
                    "estimator": est,
                    "trials": k,
                    "power": float(power),
                    "power_low": float(p_lo),
                    "power_high": float(p_hi),
                    "mean_estimate": float(np.mean(value[ok])) if k else np.nan,
                    "truth": truth,
                    "bias": bias,
                    "bias_low": b_lo,
                    "bias_high": b_hi,
                    "coverage": float(cov),
                    "coverage_low": float(c_lo),
                    "coverage_high": float(c_hi),
                    "mean_se": float(np.mean(g[f"{est}_se"].to_numpy()[ok])) if k else np.nan,
                    "mean_take_up": float(g["take_up"].mean()),
                }
            )
    df = pd.DataFrame(rows)
    df["design"] = df["design"].astype(object)
    df["estimator"] = df["estimator"].astype(object)
    return df


def n_for_power(power: pd.DataFrame, design: str, estimator: str = "itt") -> dict[str, Any]:
    """The sample size reaching 80 % power, read off the evaluated sizes.

    Returns:
        ``smallest`` (the smallest evaluated n with power >= 80 %, or None),
        ``interpolated`` (linear between the evaluated sizes around 80 %; None when
        none reaches it, and when the smallest size evaluated already does: there
        is no size below it to interpolate from), ``at_first`` (whether the smallest
        size evaluated already reaches 80 %, so the n needed is that or less),
        ``clusters`` (sites at ``smallest`` for a cluster design), and ``largest``
        (the largest evaluated n, for "more than" when none reaches it).
    """
    rows = power[(power["design"] == design) & (power["estimator"] == estimator)]
    rows = rows.sort_values("n")
    out: dict[str, Any] = {
        "smallest": None,
        "interpolated": None,
        "at_first": False,
        "clusters": None,
    }
    out["largest"] = int(rows["n"].max()) if len(rows) else None
    above = rows[rows["power"] >= TARGET_POWER]
    if above.empty:
        return out
    first = above.iloc[0]
    out["smallest"] = int(first["n"])
    out["clusters"] = int(first["clusters"]) if design == "cluster" else None
    below = rows[rows["n"] < first["n"]]
    if below.empty:
        out["at_first"] = True
    else:
        b = below.iloc[-1]
        frac = (TARGET_POWER - b["power"]) / (first["power"] - b["power"])
        out["interpolated"] = round(float(b["n"] + frac * (first["n"] - b["n"])))
    return out


# --------------------------------------------------------------------------- the whole trial
@dataclass(frozen=True)
class TrialResult:
    """A finished in-silico trial.

    Attributes:
        spec: The trial file, resolved.
        population: The simulated population.
        trials: One row per simulated trial.
        power: Power, bias and coverage per design, size and estimator.
        truths: The population's true effects.
        icc: Intra-cluster correlation of the outcome between sites, by arm.
        notes: Sizes a design could not run, and why.
    """

    spec: TrialSpec
    population: Population
    trials: pd.DataFrame
    power: pd.DataFrame
    truths: dict[str, float]
    icc: dict[str, float]
    notes: list[str]
    members: MemberTrials | None = None

    def needed(self) -> dict[str, dict[str, Any]]:
        """The n for 80 % power of the intention-to-treat test, per design run."""
        return {d: n_for_power(self.power, d) for d in self.spec.meta.designs}

    def needed_across(self) -> dict[str, dict[str, Any]] | None:
        """Over an ensemble: the n for 80 % power as a range across members, per design."""
        if self.members is None:
            return None
        return {d: self.members.needed(d) for d in self.spec.meta.designs}


# --------------------------------------------------------------------------- over an ensemble
@dataclass(frozen=True)
class MemberTrials:
    """The trial under each member of a posterior ensemble: power as a band.

    Each member is one parameter set the calibration found plausible; the same
    sites (same seeds) are simulated under it in both arms and the same simulated
    trials are drawn, so members differ only in the mechanisms.

    Attributes:
        ensemble: The ensemble (:meth:`~introsim.params.ensemble_file.Ensemble.describe`)
            and ``used``, the members run (the first ``used``).
        power: Every member's :func:`power_table`, with a ``member`` column first.
        truths: One row per member: its true effects (:meth:`Population.truths`).
    """

    ensemble: dict[str, Any]
    power: pd.DataFrame
    truths: pd.DataFrame

    @property
    def size(self) -> int:
        """Members run."""
        return len(self.truths)

    def needed(self, design: str, estimator: str = "itt") -> dict[str, Any]:
        """The n for 80 % power across members (see :func:`needed_band`)."""
        return needed_band(self.power, design, estimator)

    def bands(self) -> pd.DataFrame:
        """Each design, size and estimator's power across members (see :func:`power_bands`)."""
        return power_bands(self.power)


def needed_band(power: pd.DataFrame, design: str, estimator: str = "itt") -> dict[str, Any]:
    """The sample size for 80 % power as a range across ensemble members.

    Each member's n is read off its own power curve as :func:`n_for_power` does
    (interpolated between the evaluated sizes); a member that does not reach
    80 % at the largest size evaluated needs more than it. The range is the
    central 95 % of the members' n (observed members' values, no interpolation
    between members, so "more than the largest" can be an end). A member that
    already has 80 % power at the smallest size evaluated counts at that size, which
    stands for that size or fewer: an end at ``smallest`` is "at most" it.

    Args:
        power: Power tables of every member, with a ``member`` column.
        design: ``individual`` or ``cluster``.
        estimator: The test (intention to treat by default).

    Returns:
        ``members``, ``reached`` (members reaching 80 % within the sizes evaluated),
        ``low``, ``median``, ``high`` (an n, or None for more than ``largest``),
        ``smallest`` and ``largest`` (the sizes evaluated), ``at_first`` (members with
        80 % power already at ``smallest``), ``covering`` (the smallest evaluated n at
        which at least 95 % of members reach 80 % power, or None) and ``share_by_n``
        (each evaluated n mapped to the share of members with 80 % power there).
    """
    rows = power[(power["design"] == design) & (power["estimator"] == estimator)]
    out: dict[str, Any] = {
        "members": int(power["member"].nunique()),
        "reached": 0,
        "low": None,
        "median": None,
        "high": None,
        "smallest": int(rows["n"].min()) if len(rows) else None,
        "largest": int(rows["n"].max()) if len(rows) else None,
        "at_first": 0,
        "covering": None,
        "share_by_n": {},
    }
    if rows.empty:
        return out
    ns = []
    for _, g in rows.groupby("member", sort=True):
        need = n_for_power(g, design, estimator)
        # A member already at 80 % at the smallest size evaluated needs that size or less.
        n = need["smallest"] if need["at_first"] else need["interpolated"]
        ns.append(math.inf if n is None else float(n))
        out["at_first"] += int(need["at_first"])
    x = np.asarray(ns)
    tail = (1 - CONFIDENCE) / 2
    ends = np.quantile(x, [tail, 0.5, 1 - tail], method="inverted_cdf")
    out["reached"] = int(np.isfinite(x).sum())
    out["low"], out["median"], out["high"] = (int(v) if math.isfinite(v) else None for v in ends)
    shares = rows.groupby("n", sort=True)["power"].apply(
        lambda p: float(np.mean(p.to_numpy() >= TARGET_POWER))
    )
    out["share_by_n"] = {int(n): float(v) for n, v in shares.items()}
    covering = [n for n, v in out["share_by_n"].items() if v >= CONFIDENCE]
    out["covering"] = covering[0] if covering else None
    return out


def power_bands(power: pd.DataFrame) -> pd.DataFrame:
    """Power across members at each design, size and estimator.

    Returns:
        One row per design, n and estimator: ``members``, ``power_mean`` (the
        average over members: the chance a trial of this size finds a significant
        difference, given what we do not know about the mechanisms),
        ``power_low``/``power_high`` (the central 95 % of the members' power,
        :func:`~introsim.experiments.uncertainty.parameter_spread`) and
        ``share_reaching`` (members with at least 80 % power).
    """
    from introsim.experiments.uncertainty import parameter_spread

    rows = []
    for (design, n, est), g in power.groupby(["design", "n", "estimator"], sort=False):
        values = g["power"].to_numpy(dtype=np.float64)
        spread = parameter_spread(values[:, np.newaxis], bounds=(0.0, 1.0))
        rows.append(
            {
                "design": design,
                "n": int(n),
                "estimator": est,
                "members": len(values),
                "power_mean": float(values.mean()),
                "power_low": spread.low,
                "power_high": spread.high,
                "share_reaching": float(np.mean(values >= TARGET_POWER)),
            }
        )
    df = pd.DataFrame(rows)
    for c in ("design", "estimator"):
        df[c] = df[c].astype(object)
    return df


def member_specs(spec: TrialSpec, ensemble: Ensemble, used: int | None) -> list[TrialSpec]:
    """The trial with each of the first ``used`` members applied to both arms.

    Raises:
        EnsembleError: A member makes an arm an invalid scenario (one line naming
            the ensemble file and the member).
    """
    from introsim.params.errors import EnsembleError, InputError

    specs = []
    for k in range(ensemble.size if used is None else min(used, ensemble.size)):
        try:
            specs.append(load_trial(spec.path, ensemble.members[k]))
        except InputError as exc:
            where = f"{exc.field}: " if exc.field else ""
            raise EnsembleError(
                ensemble.path,
                f"{ensemble.labels[k]} in {spec.path.name}: {where}{exc.message}",
                show_field=False,
            ) from None
    return specs


def _member_trials(
    specs: Sequence[TrialSpec], results: Sequence[TaskResult], described: dict[str, Any]
) -> MemberTrials:
    """Each member's population, simulated trials and power table (its trials not kept)."""
    powers, truths = [], []
    per = 2 * specs[0].recruitment.sites if specs else 0
    for k, spec in enumerate(specs):
        pop = population_from(spec, results[k * per : (k + 1) * per])
        if pop.failed:
            raise RuntimeError(f"member {k}, {pop.failed[0]}")
        truth = pop.truths()
        trials, _ = simulate_trials(spec, pop)
        table = power_table(spec, trials, truth)
        table.insert(0, "member", np.int64(k))
        powers.append(table)
        truths.append({"member": k, **truth})
    return MemberTrials(
        {**described, "used": len(specs)},
        pd.concat(powers, ignore_index=True),
        pd.DataFrame(truths),
    )


def run_trial(
    spec: TrialSpec,
    executor: Executor | None = None,
    *,
    store: RunStore | None = None,
    progress: Callable[[int, int], None] | None = None,
    ensemble: Ensemble | None = None,
    used: int | None = None,
) -> TrialResult:
    """Simulate the population and the trials, and measure every estimator.

    Args:
        spec: The trial.
        executor: Any ``concurrent.futures.Executor`` for the site runs; None runs here.
        store: Where site runs are kept as they finish (resumable).
        progress: Called with (done, total) as site runs finish.
        ensemble: A posterior ensemble: the trial is also simulated under each
            member (both arms, the same sites and simulated trials), giving each
            member's power curve (:attr:`TrialResult.members`).
        used: Run only the first ``used`` members (None: all).

    Returns:
        The result.
    """
    if ensemble is None:
        pop = build_population(spec, executor, store=store, progress=progress)
        members = None
    else:
        specs = member_specs(spec, ensemble, used)
        tasks = population_tasks(spec) + [
            t for k, s in enumerate(specs) for t in population_tasks(s, 2 + 2 * k)
        ]
        results = run_tasks(tasks, executor, evaluate=trial_values, store=store, progress=progress)
        sites = 2 * spec.recruitment.sites
        pop = population_from(spec, results[:sites])
        members = _member_trials(specs, results[sites:], ensemble.describe())
    truths = pop.truths()
    trials, notes = simulate_trials(spec, pop)
    power = power_table(spec, trials, truths)
    return TrialResult(spec, pop, trials, power, truths, pop.icc(), notes, members)


def store_identity(
    spec: TrialSpec, ensemble: Ensemble | None = None, used: int | None = None
) -> dict[str, Any]:
    """What a folder's stored site runs belong to (refused if another trial's)."""
    identity: dict[str, Any] = {
        "experiment": spec.meta.name,
        "kind": "trial",
        "fingerprint": spec.fingerprint(),
        "model_version": model_version(),
    }
    if ensemble is not None:
        identity["ensemble"] = ensemble.digest()
        identity["members"] = ensemble.size if used is None else min(used, ensemble.size)
    return identity


def build_manifest(
    result: TrialResult,
    *,
    executor: str,
    wall_time_s: float | None,
    command: Sequence[str] | None,
    resumed: int = 0,
) -> dict[str, Any]:
    """What is needed to reproduce a trial and read its headline, for ``manifest.json``."""
    spec, pop = result.spec, result.population
    sizes = pop.site_sizes()
    return {
        **provenance(command),
        "trial": spec.describe(),
        "scenarios": {
            "control": {"name": spec.control.scenario.name, "digest": spec.control.digest()},
            "treatment": {"name": spec.treatment.scenario.name, "digest": spec.treatment.digest()},
        },
        "assumptions": [
            "the treatment scenario is run with everyone taking the method up; the trial's "
            "take-up model alone decides who is treated",
            "those offered the treatment who do not take it up get their control outcome "
            "(usual follow-up; the offer alone has no effect)",
            "no interference: a participant's outcomes do not depend on others' allocation",
        ],
        "fingerprint": spec.fingerprint(),
        "root_seed": spec.meta.seed,
        "replicate_seed": "site s of both arms: numpy.random.SeedSequence(root_seed, "
        "spawn_key=(s,)) (common random numbers)",
        "trial_seed": f"numpy.random.SeedSequence(root_seed, spawn_key=({_TRIALS_KEY}, "
        "design index, n)) per design and sample size",
        "confidence": CONFIDENCE,
        "population": {
            "sites": int(sizes.size),
            "participants": int(pop.site.size),
            "recruited": pop.recruited,
            "mean_site_size": float(sizes.mean()),
            "failed_sites": pop.failed,
        },
        "truths": result.truths,
        "icc": result.icc,
        "n_for_80_percent_power": result.needed(),
        **({"ensemble": _ensemble_record(result)} if result.members is not None else {}),
        "notes": result.notes,
        "site_runs": 2 * spec.recruitment.sites * (1 + (m.size if (m := result.members) else 0)),
        "resumed_runs": resumed,
        "simulated_trials": len(result.trials),
        "executor": executor,
        "wall_time_s": wall_time_s,
        "files": _files(result),
    }


def _files(result: TrialResult) -> list[str]:
    """The files a trial writes (over an ensemble, the members' power too)."""
    extra = [MEMBER_POWER_FILE] if result.members is not None else []
    return [TRIALS_FILE, POWER_FILE, *extra, MANIFEST_FILE, REPORT_FILE]


def _ensemble_record(result: TrialResult) -> dict[str, Any] | None:
    """The ensemble, each member's truths and the n for 80 % power across members."""
    m = result.members
    if m is None:
        return None
    return {
        **m.ensemble,
        "n_for_80_percent_power": result.needed_across(),
        "power": m.bands().to_dict("records"),
        "truths": m.truths.to_dict("records"),
        "rule": "every member ran every site in both arms (the same seeds), and the same "
        "simulated trials were drawn from each member's population",
    }


def write_outputs(result: TrialResult, folder: Path, manifest: dict[str, Any]) -> None:
    """Write the trials (Parquet), the power tables (CSV) and the manifest, each atomically."""
    write_parquet(result.trials, folder / TRIALS_FILE)
    write_csv(result.power, folder / POWER_FILE)
    if result.members is not None:
        write_csv(result.members.power, folder / MEMBER_POWER_FILE)
    write_json(manifest, folder / MANIFEST_FILE)


# --------------------------------------------------------------------------- the study
def _share_interval(row: dict[str, Any], name: str) -> str:
    """``37 % [36, 39]``: a share of simulated trials with its interval, in per cent."""
    value, low, high = (row[name], row[f"{name}_low"], row[f"{name}_high"])
    if value != value:
        return "–"
    return f"{100 * value:.0f} % [{100 * low:.0f}, {100 * high:.0f}]"


@register
class TrialStudy(Study):
    """``introsim trial``: a randomised trial simulated many times at each sample size."""

    kind = "trial"
    work = "site runs"
    files = (TRIALS_FILE, POWER_FILE, MANIFEST_FILE, REPORT_FILE)
    report_module = "introsim.reporting.trial_report"
    build_manifest = staticmethod(build_manifest)
    write_outputs = staticmethod(write_outputs)

    def __init__(
        self,
        spec: TrialSpec,
        ensemble: Ensemble | None = None,
        used: int | None = None,
        specs: Sequence[TrialSpec] = (),
    ) -> None:
        self.spec, self.name = spec, spec.meta.name
        self.ensemble, self.used, self.specs = ensemble, used, list(specs)

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        ensemble: str | Path | None = None,
        members: int | None = None,
    ) -> TrialStudy:
        """Read a trial file, and an ensemble whose members each run the trial.

        Args:
            path: The trial file.
            ensemble: A posterior ensemble file (``introsim calibrate``'s posterior.toml).
            members: Run only the first ``members`` members (at least 2).

        Raises:
            InputError: The file, the ensemble or a member applied to an arm is invalid.
            StudyError: ``members`` without an ensemble, or below 2.
        """
        from introsim.params.ensemble_file import load_ensemble

        spec = load_trial(path)
        if ensemble is None:
            if members is not None:
                raise StudyError("--members: needs --ensemble (the members to take them from)")
            return cls(spec)
        if members is not None and members < 2:
            raise StudyError(
                f"--members: expected at least 2 (a band needs two parameter sets), found {members}"
            )
        loaded = load_ensemble(ensemble)
        return cls(spec, loaded, members, member_specs(spec, loaded, members))

    def identity(self) -> dict[str, Any]:
        return store_identity(self.spec, self.ensemble, self.used)

    def scenarios(self) -> list[Scenario]:
        return [self.spec.control, self.spec.treatment]

    def cautions(self) -> list[str]:
        """A caution when the ensemble was calibrated with another version of the model."""
        from introsim.params.ensemble_file import stale_posterior

        line = stale_posterior(self.ensemble, model_version())
        return [line] if line else []

    def size(self) -> tuple[str, int]:
        sites = self.spec.recruitment.sites
        if not self.specs:
            return f"{sites} sites × 2 arms", 2 * sites
        k = len(self.specs)
        return f"{sites} sites × 2 arms × (the file's parameters + {k} members)", 2 * sites * (
            1 + k
        )

    def run(self, runner: Runner) -> TrialResult:
        try:
            return run_trial(
                self.spec,
                runner.executor,
                store=runner.store,
                progress=runner.progress,
                ensemble=self.ensemble,
                used=self.used,
            )
        except RuntimeError as exc:
            raise StudyError(f"{self.spec.path}: {exc}") from None

    def warnings(self, result: TrialResult, out: Path) -> list[str]:
        failed = result.population.failed
        if not failed:
            return []
        return [f"{len(failed)} site runs failed and were left out; see {out}/manifest.json"]

    def notes(self, result: TrialResult) -> list[str]:
        return list(result.notes)

    def summary(
        self, result: TrialResult, out: Path, wall: float, manifest: dict[str, Any]
    ) -> dict:
        return {
            "out": str(out),
            "truths": result.truths,
            "icc": result.icc,
            "n_for_80_percent_power": result.needed(),
            "power": result.power.to_dict("records"),
            "ensemble": _ensemble_record(result),
        }

    def show(self, result: TrialResult, out: Path, wall: float) -> None:
        from introsim.reporting.format import format_diff

        pw, t, meta = result.power, result.truths, result.spec.meta
        o = meta.outcome
        caption = (
            "[95 % intervals]: the Monte Carlo error of power and coverage over the "
            "simulated trials (Wilson's interval)"
        )
        if result.members is None:
            caption += f". {ONE_SET}"
        table = Table(
            title=f"{meta.name}: {o}, power at alpha {meta.alpha:g} over "
            f"{meta.trials} simulated trials; truth: ITT {format_diff(o, t['itt'])}, compliers "
            f"{format_diff(o, t['cace'])}, everyone {format_diff(o, t['ate'])}",
            caption=caption,
        )
        for col in (
            "design",
            "n",
            "ITT power [95 %]",
            "ITT mean",
            "PP mean",
            "CACE mean",
            "CACE coverage [95 %]",
        ):
            table.add_column(col, justify="right")
        for (design, n), g in pw.groupby(["design", "n"], sort=False):
            r = {row["estimator"]: row for row in g.to_dict("records")}
            clusters = f" ({r['itt']['clusters']} sites)" if design == "cluster" else ""
            table.add_row(
                str(design),
                f"{n}{clusters}",
                _share_interval(r["itt"], "power"),
                *(format_diff(o, r[e]["mean_estimate"]) for e in ESTIMATORS),
                _share_interval(r["cace"], "coverage"),
            )
        console = wide_console(160)
        console.print(table)
        for design, need in result.needed().items():
            console.print(
                f"{design}: at the parameters as written, {needed_text(need)}", markup=False
            )
        if result.members is not None:
            self._show_members(result, console)
        runs = 2 * self.spec.recruitment.sites * (1 + (len(self.specs) if self.specs else 0))
        where = " at the file's parameters" if self.specs else ""
        Console().print(
            f"wrote {out}/ {', '.join(_files(result))} ({runs} site runs, "
            f"{len(result.trials)} simulated trials{where} in {wall:.1f} s)",
            highlight=False,
            soft_wrap=True,
        )

    @staticmethod
    def _show_members(result: TrialResult, console: Console) -> None:
        """The ITT power band across members, and the n for 80 % power as a range."""
        from rich.markup import escape

        m = result.members
        assert m is not None
        bands = m.bands()
        itt = bands[bands["estimator"] == "itt"]
        table = Table(
            title=f"ITT power across the {m.size} plausible parameter sets of "
            f"{m.ensemble['file']}: what we do not know about the mechanisms",
            caption=escape(
                "average over members [central 95 % of the members' power]; the last "
                "column is the share of members whose trial of this size has 80 % power"
            ),
        )
        for col in ("design", "n", "ITT power across members", "members at 80 %"):
            table.add_column(col, justify="right")
        for r in itt.to_dict("records"):
            table.add_row(
                str(r["design"]),
                str(r["n"]),
                f"{100 * r['power_mean']:.0f} % [{100 * r['power_low']:.0f}, "
                f"{100 * r['power_high']:.0f}]",
                f"{100 * r['share_reaching']:.0f} %",
            )
        console.print(table)
        for design, band in (result.needed_across() or {}).items():
            console.print(f"{design}: {needed_band_text(band)}", markup=False)


def _n_text(n: int | None, band: dict[str, Any]) -> str:
    """An end of the band: beyond the sizes evaluated it is "more than" or "at most" one."""
    if n is None:
        return f"more than {band['largest']}"
    if n == band["smallest"] and band["at_first"]:
        return f"at most {n}"
    return str(n)


def needed_band_text(band: dict[str, Any]) -> str:
    """The n for 80 % power across members in plain words (terminal and report)."""
    k, largest = band["members"], band["largest"]
    if band["median"] is None and band["low"] is None:
        return (
            f"80 % ITT power is not reached up to n = {largest} by most of the {k} plausible "
            f"parameter sets ({band['reached']} reach it)"
        )
    text = (
        f"80 % ITT power needs n from {_n_text(band['low'], band)} to "
        f"{_n_text(band['high'], band)} across the central 95 % of the {k} plausible "
        f"parameter sets (median {_n_text(band['median'], band)}; what we do not know about "
        "the mechanisms)"
    )
    if band["covering"] is not None:
        return text + f"; at n = {band['covering']} at least 95 % of them reach it"
    return text + f"; no size evaluated up to {largest} gives 95 % of them 80 % power"


def needed_text(need: dict[str, Any], power: str = "ITT power") -> str:
    """The n for 80 % power of one design (:func:`n_for_power`) in plain words.

    The terminal and the report both say it this way. Where the smallest size
    evaluated already reaches 80 %, or the largest does not, the n needed lies
    outside the sizes evaluated: the words say so instead of giving a size.

    Args:
        need: One design's entry of :meth:`TrialResult.needed`.
        power: What reaches 80 % (``"ITT power"``, or spelt out in the report).
    """
    smallest, largest = need["smallest"], need["largest"]
    if smallest is None:
        return (
            f"80 % {power} is not reached up to n = {largest}, the largest size evaluated: the "
            f"n needed is more than {largest} (evaluate larger sizes to find it)"
        )
    sites = f" ({need['clusters']} sites)" if need["clusters"] else ""
    if need["at_first"]:
        return (
            f"80 % {power} is reached already at n = {smallest}{sites}, the smallest size "
            f"evaluated: the n needed is {smallest} or fewer (evaluate smaller sizes to find it)"
        )
    return (
        f"80 % {power} at n = {smallest}{sites} (about {need['interpolated']} by interpolating "
        "between the sizes evaluated)"
    )
