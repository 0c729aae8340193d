"""In-silico trials: trial files, the truth inside the model, estimators, executors, resume."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from introsim.experiments.engine import TaskResult
from introsim.experiments.statistics import icc_oneway, share_interval, wald_ratio, welch_test
from introsim.experiments.store import RunStore
from introsim.experiments.trial import (
    ESTIMATORS,
    build_population,
    n_for_power,
    needed_band,
    needed_band_text,
    needed_text,
    power_bands,
    power_table,
    run_trial,
    simulate_trials,
)
from introsim.params.ensemble_file import load_ensemble
from introsim.params.errors import InputError
from introsim.params.trial_file import TrialSpec, load_trial
from introsim.reporting.trial_report import recommendation

from clitools import SRC, call_cli, killed_at, stderr_lines, write

ROOT = SRC.parent
SHIPPED = ROOT / "experiments" / "raskt_i_jobb_trial.toml"
REDESIGN = ROOT / "experiments" / "raskt_i_jobb_redesign.toml"

IPS = (
    'extends = "base.toml"\n[scenario]\nname = "ips"\n[follow_up]\nmethod = "ips"\ncaseload = 20\n'
)
# The same scenario under another name: no true difference between the arms.
SAME = 'extends = "base.toml"\n[scenario]\nname = "same_again"\n'

TRIAL = """\
[trial]
name = "tiny_trial"
question = "Does IPS raise work at 12 months in a small cohort?"
control = "base.toml"
treatment = "{treatment}"
outcome = "employed_12m"
horizon_weeks = 60
sample_sizes = {sizes}
trials = {trials}
seed = 5
designs = {designs}

[recruitment]
sites = {sites}
per_site = {per_site}
weeks = 4

[take_up]
share = 0.6
language = 2.0
mental_health = -1.0
care = -0.5
"""


def _trial_file(
    folder: Path,
    small_files: dict[str, Path],
    *,
    treatment: str = "ips",
    sizes: str = "[40, 80]",
    trials: int = 200,
    designs: str = '["individual"]',
    sites: int = 6,
    per_site: int = 30,
) -> Path:
    write(folder, "base.toml", small_files["base"].read_text(encoding="utf-8"))
    write(folder, "ips.toml", IPS)
    write(folder, "same.toml", SAME)
    text = TRIAL.format(
        treatment=f"{treatment}.toml",
        sizes=sizes,
        trials=trials,
        designs=designs,
        sites=sites,
        per_site=per_site,
    )
    return write(folder, "trial.toml", text)


def _with(spec: TrialSpec, **meta) -> TrialSpec:
    return dataclasses.replace(spec, meta=spec.meta.model_copy(update=meta))


# --------------------------------------------------------------------------- statistics
def test_welch_test_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.3, 1, 25), rng.normal(0, 2, 40)
    diff, se, low, high, p = welch_test(
        a.mean(), a.var(ddof=1), a.size, b.mean(), b.var(ddof=1), b.size
    )
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert p == pytest.approx(ref.pvalue)
    assert diff / se == pytest.approx(ref.statistic)
    ci = ref.confidence_interval(0.95)
    assert (low, high) == pytest.approx((ci.low, ci.high))


def test_wald_ratio_without_denominator_noise_is_the_scaled_difference():
    est, se, low, high, _ = wald_ratio(0.1, 0.0004, 0.5, 0.0, 0.0)
    assert est == pytest.approx(0.2) and se == pytest.approx(0.02 / 0.5)
    assert high - low == pytest.approx(2 * stats.norm.ppf(0.975) * 0.04)
    assert np.isnan(wald_ratio(0.1, 0.0004, 0.0, 0.0, 0.0)[0])


def test_icc_is_one_for_pure_cluster_differences_and_near_zero_without():
    groups = np.repeat(np.arange(10), 20)
    assert icc_oneway(groups.astype(float), groups) == pytest.approx(1.0)
    noise = np.random.default_rng(1).normal(size=groups.size)
    assert abs(icc_oneway(noise, groups)) < 0.1


def test_share_interval_is_bounded_and_contains_the_share():
    share, low, high = share_interval(np.array([0, 7, 20]), np.array([20, 20, 20]))
    assert low[0] == 0.0 and high[2] == 1.0
    assert np.all((low <= share) & (share <= high))


def test_the_store_keeps_per_participant_arrays(tmp_path):
    store = RunStore(tmp_path)
    store.open({"experiment": "arrays"})
    values = {"y": np.array([1.0, np.nan, 0.0]), "n": 3.0}
    store.write([TaskResult("a", values), TaskResult("b", None, "Boom: x")])
    got = store.load(["a", "b"])
    assert np.array_equal(got["a"].value["y"], values["y"], equal_nan=True)
    assert got["a"].value["n"] == 3.0 and got["b"].error == "Boom: x"


# --------------------------------------------------------------------------- files
def test_shipped_trial_files_load():
    for path in (SHIPPED, REDESIGN):
        spec = load_trial(path)
        assert spec.meta.sample_sizes and spec.treatment.follow_up.take_up == 1.0
    spec = load_trial(SHIPPED)
    assert spec.meta.sample_sizes[0] == 66 and spec.meta.ratio == [1, 1]
    # take-up is applied once: the scenario's own settings are replaced, and inherited
    assert spec.replaced_take_up == {"take_up": 0.6, "take_up_language_slope": 2.0}
    assert spec.take_up.share == 0.6 and spec.take_up.language == 2.0


BAD = {
    "toml syntax": (lambda t: t + "x = = 1\n", "invalid TOML"),
    "unknown section": (lambda t: t + "[analysis]\nx = 1\n", "unknown section 'analysis'"),
    "missing recruitment": (lambda t: t.split("[recruitment]")[0], "missing [recruitment]"),
    "unknown outcome": (
        lambda t: t.replace('"employed_12m"', '"jobs"'),
        "unknown outcome 'jobs'",
    ),
    "unknown key": (lambda t: t.replace("seed = 5", "seed = 5\nsed = 1"), "unknown key 'sed'"),
    "ratio": (lambda t: t.replace("seed = 5", "seed = 5\nratio = [1, 0]"), "ratio"),
    "sizes not increasing": (lambda t: t.replace("[40, 80]", "[80, 40]"), "increasing"),
    "too few trials": (lambda t: t.replace("trials = 200", "trials = 5"), "trial.trials"),
    "missing scenario": (lambda t: t.replace('"ips.toml"', '"nope.toml"'), "not found"),
    "horizon too short": (lambda t: t.replace("= 60", "= 30"), "needs 52 weeks"),
    "share out of bounds": (lambda t: t.replace("share = 0.6", "share = 1.5"), "take_up.share"),
    "per_site above its bound": (
        lambda t: t.replace("per_site = 30", "per_site = 1000000"),
        "recruitment.per_site",
    ),
    "recruitment beyond the horizon (the scenario schema's check)": (
        lambda t: t.replace("weeks = 4", "weeks = 61"),
        "cohort.intake_weeks",
    ),
    "a sample size that is not an integer": (
        lambda t: t.replace("[40, 80]", "[4, 1e9]"),
        "trial.sample_sizes[1]: expected an integer, found float 1000000000",
    ),
    "a sample larger than the simulated population": (
        lambda t: t.replace("[40, 80]", "[40, 1000]"),
        "a trial of 1000 participants is drawn from the simulated population of 180",
    ),
    "an allocation that leaves one control": (
        lambda t: t.replace("seed = 5", "seed = 5\nratio = [50, 1]"),
        "allocation 50:1 leaves one participant in an arm of a trial of 40 (39 treated, 1 control)",
    ),
    "a cluster design that no size can run": (
        lambda t: t.replace('designs = ["individual"]', 'designs = ["individual", "cluster"]'),
        "the cluster design cannot run at any sample size",
    ),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_trial_files_exit_2_with_one_line(kind, tmp_path, small_files):
    path = _trial_file(tmp_path, small_files)
    edit, expected = BAD[kind]
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    out = tmp_path / "out"
    result = call_cli("trial", path, "--out", out)
    assert result.returncode == 2, result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {path}"), lines[0]
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_arms_with_different_cohorts_are_refused(tmp_path, small_files):
    path = _trial_file(tmp_path, small_files)
    write(tmp_path, "ips.toml", IPS + "[cohort]\nlanguage_mean = 1.5\n")
    with pytest.raises(InputError, match="different cohorts"):
        load_trial(path)


# --------------------------------------------------------------------------- estimators
def test_without_a_true_difference_itt_rejects_at_about_alpha(tmp_path, small_files):
    path = _trial_file(tmp_path, small_files, treatment="same", sites=30, per_site=60)
    spec = _with(load_trial(path), sample_sizes=[300], trials=4000, designs=["individual"])
    pop = build_population(spec)
    assert np.array_equal(pop.y0, pop.y1)  # common random numbers: identical potential outcomes
    assert 0.0 < pop.y0.mean() < 1.0
    trials, _ = simulate_trials(spec, pop)
    power = power_table(spec, trials, pop.truths())
    itt = power[power["estimator"] == "itt"].iloc[0]
    alpha = spec.meta.alpha
    sampling = 3 * math.sqrt(alpha * (1 - alpha) / itt["trials"])
    assert abs(itt["power"] - alpha) < sampling, itt["power"]
    assert itt["truth"] == 0.0 and abs(itt["coverage"] - (1 - alpha)) < sampling


def test_cace_is_unbiased_for_the_compliers_and_per_protocol_is_not(tmp_path, small_files):
    path = _trial_file(tmp_path, small_files, sites=30, per_site=60)
    spec = _with(load_trial(path), sample_sizes=[400], trials=4000, designs=["individual"])
    pop = build_population(spec)
    truths = pop.truths()
    assert truths["cace"] > truths["itt"] > 0  # IPS helps, and only takers get it
    trials, _ = simulate_trials(spec, pop)
    mcse = {e: trials[e].std(ddof=1) / math.sqrt(len(trials)) for e in ESTIMATORS}
    cace_bias = trials["cace"].mean() - truths["cace"]
    assert abs(cace_bias) < 4 * mcse["cace"], (cace_bias, mcse["cace"])
    itt_bias = trials["itt"].mean() - truths["itt"]
    assert abs(itt_bias) < 4 * mcse["itt"], (itt_bias, mcse["itt"])
    # Take-up rises with language, and so does the outcome: per protocol is biased upwards.
    assert truths["selection_bias"] > 0
    pp_bias = trials["per_protocol"].mean() - truths["cace"]
    assert pp_bias == pytest.approx(truths["selection_bias"], abs=4 * mcse["per_protocol"])
    assert pp_bias > 4 * mcse["per_protocol"]
    # the sample truths average to the population truths
    assert trials["sample_cace"].mean() == pytest.approx(truths["cace"], abs=4 * mcse["cace"])


def test_cluster_trials_randomise_whole_sites(tmp_path, small_files):
    path = _trial_file(
        tmp_path,
        small_files,
        sites=12,
        per_site=30,
        sizes="[60, 180, 240]",
        trials=300,
        designs='["individual", "cluster"]',
    )
    spec = load_trial(path)
    pop = build_population(spec)
    trials, notes = simulate_trials(spec, pop)
    cl = trials[trials["design"] == "cluster"]
    assert set(cl["n"]) == {180, 240}  # 60 participants are 2 sites: fewer than two per arm
    assert notes == ["cluster design at n = 60 skipped: 2 sites leave fewer than two in an arm"]
    assert set(cl["clusters"]) == {6, 8}
    assert (cl["n_treat"] + cl["n_control"] == cl["clusters"] * 30).all()
    assert all(math.isfinite(v) for v in pop.icc().values())


# --------------------------------------------------------------------------- the command
def _trial_cli(path: Path, out: Path, *extra: str):
    result = call_cli("trial", path, "--out", out, *extra)
    assert result.returncode == 0, result.stderr
    return result


def test_same_bytes_on_one_process_two_processes_and_dask(tmp_path, small_files):
    path = _trial_file(
        tmp_path, small_files, sizes="[40, 120]", designs='["individual", "cluster"]'
    )
    outs = {}
    for name, extra in {
        "one": (),
        "two": ("--jobs", "2"),
        "dask": ("--dask", "local", "--jobs", "2"),
    }.items():
        out = tmp_path / name
        _trial_cli(path, out, *extra)
        outs[name] = out
    for f in ("trials.parquet", "power.csv"):
        ref = (outs["one"] / f).read_bytes()
        assert (outs["two"] / f).read_bytes() == ref, f
        assert (outs["dask"] / f).read_bytes() == ref, f
    manifest = json.loads((outs["one"] / "manifest.json").read_text())
    assert manifest["site_runs"] == 12 and manifest["population"]["failed_sites"] == []
    assert set(manifest["n_for_80_percent_power"]) == {"individual", "cluster"}
    power = pd.read_csv(outs["one"] / "power.csv")
    assert set(power["estimator"]) == set(ESTIMATORS)
    html = (outs["one"] / "report.html").read_text()
    assert "chart-power" in html and "chart-estimates" in html and "<script src" not in html
    assert "Recommendation:" in html


def test_json_output_names_the_n_for_80_percent_power(tmp_path, small_files):
    path = _trial_file(tmp_path, small_files, sizes="[40, 400]", sites=20)
    result = _trial_cli(path, tmp_path / "out", "--json")
    data = json.loads(result.stdout)
    need = data["n_for_80_percent_power"]["individual"]
    rows = [r for r in data["power"] if r["estimator"] == "itt"]
    reached = [r["n"] for r in rows if r["power"] >= 0.8]
    assert need["smallest"] == (min(reached) if reached else None)


def _itt_power(ns: list[int], powers: list[float], design: str = "individual") -> pd.DataFrame:
    return pd.DataFrame(
        {"design": design, "n": n, "clusters": n // 30, "estimator": "itt", "power": p}
        for n, p in zip(ns, powers, strict=True)
    )


def test_the_n_for_80_percent_power_is_not_interpolated_outside_the_sizes_evaluated():
    ns = [150, 200, 400]
    # Reached between two sizes: the smallest reaching it, and a size interpolated below it.
    within = n_for_power(_itt_power(ns, [0.6, 0.7, 0.9]), "individual")
    assert (within["smallest"], within["interpolated"], within["at_first"]) == (400, 300, False)
    assert "at n = 400 (about 300 by interpolating" in needed_text(within)
    # Reached at the smallest size: nothing below it to interpolate from, the n is 150 or less.
    first = n_for_power(_itt_power(ns, [0.88, 0.95, 0.99]), "individual")
    assert (first["smallest"], first["interpolated"], first["at_first"]) == (150, None, True)
    text = needed_text(first)
    assert "already at n = 150, the smallest size evaluated" in text and "150 or fewer" in text
    assert "interpolat" not in text
    # Never reached: more than the largest size.
    never = n_for_power(_itt_power(ns, [0.2, 0.4, 0.6]), "individual")
    assert (never["smallest"], never["interpolated"], never["at_first"]) == (None, None, False)
    text = needed_text(never)
    assert "not reached up to n = 400, the largest size evaluated" in text
    assert "more than 400" in text and "interpolat" not in text


def test_the_recommendation_is_no_minimum_where_the_smallest_size_already_suffices(
    tmp_path, small_files
):
    path = _trial_file(tmp_path, small_files, sizes="[40, 80]", trials=100)
    result = run_trial(load_trial(path))
    ns = [40, 80]
    at_first = dataclasses.replace(
        result,
        power=pd.concat(
            [_itt_power(ns, [0.88, 0.95]), _itt_power(ns, [0.6, 0.9], design="cluster")]
        ),
        spec=_with(result.spec, designs=["individual", "cluster"]),
    )
    text = recommendation(at_first)
    assert "recruit 40 participants if individuals are randomised (the smallest size " in text
    assert "fewer may do" in text and "at least 40" not in text
    assert "at least 80 (2 sites) if whole municipalities are randomised" in text
    never = dataclasses.replace(result, power=_itt_power(ns, [0.2, 0.5]))
    assert "none of the sizes evaluated is large enough" in recommendation(never)


@pytest.fixture(scope="module")
def one_set(tmp_path_factory, small_files) -> tuple[str, Path]:
    """A trial without an ensemble, so large an effect that its smallest size has 80 % power.

    Returns:
        What the terminal showed, and the output folder.
    """
    folder = tmp_path_factory.mktemp("one_set")
    path = _trial_file(folder, small_files, sizes="[300, 350]", trials=100, sites=12)
    out = folder / "out"
    return _trial_cli(path, out).stdout, out


def test_a_trial_without_an_ensemble_says_its_power_is_at_one_parameter_set(one_set):
    shown, out = one_set
    flat = " ".join(shown.split())
    assert "Power at one set of parameters, the model's mechanisms as written" in flat
    assert "what we do not know about the mechanisms is not included" in flat
    assert "--ensemble calibration/posterior.toml" in flat
    assert "individual: at the parameters as written, 80 % ITT power" in flat
    html = " ".join((out / "report.html").read_text().split())
    assert "its power at one set of parameters" in html
    recommendation_text = html[html.index("Recommendation:") :]
    assert "computed at one set of parameters" in recommendation_text
    assert "what we do not know about the mechanisms is not included" in recommendation_text
    assert "--ensemble calibration/posterior.toml" in recommendation_text


def test_a_trial_whose_smallest_size_has_80_percent_power_gives_no_interpolated_n(one_set):
    shown, out = one_set
    flat = " ".join(shown.split())
    need = json.loads((out / "manifest.json").read_text())["n_for_80_percent_power"]
    assert need["individual"]["at_first"] and need["individual"]["interpolated"] is None
    assert "80 % ITT power is reached already at n = 300, the smallest size evaluated" in flat
    assert "300 or fewer" in flat and "by interpolat" not in flat
    html = " ".join((out / "report.html").read_text().split())
    assert "recruit at least 300" not in html and "recruit 300 participants" in html


def test_the_trial_table_shows_effects_in_percentage_points(one_set):
    shown, _ = one_set
    flat = " ".join(shown.split())
    assert re.search(r"truth: ITT \+\d+\.\d pp, compliers \+\d+\.\d pp", flat), flat
    assert not re.search(r"[+−-]0\.\d{3}", shown), shown  # no fractions like +0.163
    rows = [line for line in shown.splitlines() if "individual" in line and "│" in line]
    assert len(rows) == 2 and all(line.count(" pp") == 3 for line in rows), rows


def test_killed_trial_resumes_to_the_same_bytes_and_reruns_nothing(tmp_path, small_files):
    path = _trial_file(tmp_path, small_files, sites=40, per_site=30)
    whole = tmp_path / "whole"
    _trial_cli(path, whole)

    out = tmp_path / "killed"
    parts = out / "parts"
    assert killed_at("trial", path, "--out", out, parts=3) == -signal.SIGKILL
    before = {p.name: p.stat().st_mtime_ns for p in parts.glob("*.parquet")}
    done_before = sum(len(pd.read_parquet(p)) for p in parts.glob("*.parquet"))
    assert len(before) == 3 and 0 < done_before < 80 and not (out / "trials.parquet").exists()

    _trial_cli(path, out)
    after = {p.name: p.stat().st_mtime_ns for p in parts.glob("*.parquet")}
    assert all(after[name] == mtime for name, mtime in before.items())  # none rewritten
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["resumed_runs"] == done_before  # runs, not parts
    for f in ("trials.parquet", "power.csv"):
        assert (out / f).read_bytes() == (whole / f).read_bytes(), f


def test_a_changed_trial_is_refused_unless_fresh(tmp_path, small_files):
    path = _trial_file(tmp_path, small_files)
    out = tmp_path / "out"
    _trial_cli(path, out)
    path.write_text(path.read_text().replace("seed = 5", "seed = 6"), encoding="utf-8")
    refused = call_cli("trial", path, "--out", out)
    assert refused.returncode == 2 and "--fresh" in refused.stderr
    _trial_cli(path, out, "--fresh")


# --------------------------------------------------------------------------- over an ensemble
ENSEMBLE = """\
[[member]]
"mechanisms.specialist_support" = 0.3
[[member]]
"mechanisms.specialist_support" = 2.0
[[member]]
"mechanisms.specialist_support" = 1.0
"""


def _power_rows(member: int, ns: list[int], powers: list[float]) -> list[dict]:
    return [
        {"member": member, "design": "individual", "n": n, "clusters": 0, "estimator": "itt"}
        | {"power": p}
        for n, p in zip(ns, powers, strict=True)
    ]


def test_the_n_for_80_percent_power_across_members_is_each_members_own_n():
    ns = [100, 200, 400]
    power = pd.DataFrame(
        _power_rows(0, ns, [0.5, 0.8, 0.95])  # reaches 80 % at 200 exactly
        + _power_rows(1, ns, [0.9, 0.95, 0.99])  # at 100, the smallest size
        + _power_rows(2, ns, [0.2, 0.4, 0.6])  # never: needs more than 400
    )
    band = needed_band(power, "individual")
    assert band["members"] == 3 and band["reached"] == 2 and band["largest"] == 400
    assert (band["low"], band["median"], band["high"]) == (100, 200, None)
    assert band["share_by_n"] == {100: pytest.approx(1 / 3), 200: pytest.approx(2 / 3), 400: 2 / 3}
    assert band["covering"] is None  # no size gives 95 % of the members 80 % power
    assert "more than 400" in needed_band_text(band)
    # Member 1 has 80 % power at 100, the smallest size: the low end is 100 or fewer.
    assert (band["smallest"], band["at_first"]) == (100, 1)
    assert "needs n from at most 100 to more than 400" in needed_band_text(band)
    bands = power_bands(power)
    row = bands[bands["n"] == 200].iloc[0]
    assert row["members"] == 3 and row["power_mean"] == pytest.approx((0.8 + 0.95 + 0.4) / 3)
    assert row["power_low"] < 0.45 and row["power_high"] > 0.9
    assert row["share_reaching"] == pytest.approx(2 / 3)


def test_a_trial_over_an_ensemble_gives_each_members_own_power_curve(tmp_path, small_files):
    path = _trial_file(tmp_path, small_files, sizes="[40, 120]", sites=6)
    ens = write(tmp_path, "posterior.toml", ENSEMBLE)
    out = tmp_path / "out"
    result = _trial_cli(path, out, "--ensemble", ens, "--json")
    data = json.loads(result.stdout)
    members = pd.read_csv(out / "member_power.csv")
    assert sorted(members["member"].unique()) == [0, 1, 2]
    # Member k's curve is the trial run with member k's parameters in both arms.
    ensemble = load_ensemble(ens)
    for k in (0, 1):
        own = run_trial(load_trial(path, ensemble.members[k]))
        mine = members[members["member"] == k].drop(columns="member").reset_index(drop=True)
        pd.testing.assert_frame_equal(
            mine[["design", "n", "estimator", "power", "truth"]],
            own.power[["design", "n", "estimator", "power", "truth"]],
            check_dtype=False,
        )
    # The file's own parameters are still the main result, unchanged by the ensemble.
    _trial_cli(path, tmp_path / "alone")
    assert (out / "power.csv").read_bytes() == (tmp_path / "alone" / "power.csv").read_bytes()
    band = data["ensemble"]["n_for_80_percent_power"]["individual"]
    assert band["members"] == 3 and set(band["share_by_n"]) == {"40", "120"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["site_runs"] == 4 * 12 and manifest["ensemble"]["used"] == 3
    html = (out / "report.html").read_text()
    assert "chart-power-members" in html and "plausible parameter sets" in html

    # --members takes the first N; the terminal names the range across them.
    two = _trial_cli(path, tmp_path / "two", "--ensemble", ens, "--members", "2")
    assert "80 % ITT power" in two.stdout and "of the 2 plausible parameter sets" in two.stdout
    assert "Power at one set of parameters" not in " ".join(two.stdout.split())
    first_two = pd.read_csv(tmp_path / "two" / "member_power.csv")
    pd.testing.assert_frame_equal(first_two, members[members["member"] < 2].reset_index(drop=True))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--members", "2"), "--members: needs --ensemble"),
        (("--ensemble", "{ens}", "--members", "1"), "--members: expected at least 2"),
        (("--ensemble", "{bad}"), "member 1 in trial.toml: mechanisms.specialist_support: "),
    ],
)
def test_bad_ensemble_options_exit_2_with_one_line(tmp_path, small_files, extra, message):
    path = _trial_file(tmp_path, small_files)
    ens = write(tmp_path, "posterior.toml", ENSEMBLE)
    bad = write(
        tmp_path, "bad.toml", ENSEMBLE.replace("= 2.0", "= -5.0")
    )  # out of the schema's bounds
    args = [a.format(ens=ens, bad=bad) for a in extra]
    result = call_cli("trial", path, "--out", tmp_path / "out", *args)
    assert result.returncode == 2
    lines = stderr_lines(result)
    assert len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "out").exists()
