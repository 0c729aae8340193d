"""Sensitivity analysis: known answers through the whole pipeline, study files, CLI, discovery."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from introsim.experiments import test_functions as tf
from introsim.experiments.design import (
    DUMMY,
    dummy_seed,
    load_experiment,
    salib_sample,
)
from introsim.experiments.engine import Task, run_tasks
from introsim.experiments.sensitivity import (
    analyse_outcome,
    convergence,
    noise_share,
    summary_text,
)
from introsim.params.catalog import iter_params, param_info
from introsim.params.errors import InputError
from introsim.reporting.format import format_number

from clitools import SRC, call_cli, stderr_lines, write

ROOT = SRC.parent
STUDIES = [
    ROOT / "experiments" / n
    for n in ("mechanisms_morris.toml", "ips_sobol.toml", "methods_morris.toml")
]
HIRING = (
    "mechanisms.score_noise",
    "mechanisms.productivity_base",
    "mechanisms.productivity_weight",
    "mechanisms.productivity_per_education",
    "mechanisms.language_slope",
    "mechanisms.unmet_requirement_penalty",
    "mechanisms.health_productivity",
    "labour_market.outside_bar",
)
"""The hiring model's weights, factors of the methods' Morris study."""


@functools.cache
def _shipped(path: Path):
    """A shipped study, loaded once (the large ones take half a minute to build their points)."""
    return load_experiment(path)


# Known-answer tolerances (absolute, in index units). Saltelli's estimator at N = 1024 has a
# standard error near 0.02 for Ishigami's indices, so 0.05 is about 2.5 standard errors.
SOBOL_TOL = 0.05
NOISE_TOL = 0.02


def _pipeline(
    name: str, method: str, n: int, reps: int = 1, noise_sd: float = 0.0, second_order: bool = False
) -> pd.DataFrame:
    """Sampler, engine and analysis, as a study runs them, on a test function."""
    problem = tf.problem(name)
    x = salib_sample(method, problem, n, seed=5, second_order=second_order)
    tasks = [
        Task(i, r, tf.FunctionPoint(name, tuple(row[:-1]), noise_sd), dummy_seed(1, row[-1]))
        for i, row in enumerate(x)
        for r in range(reps)
    ]
    results = run_tasks(tasks, evaluate=tf.evaluate)
    values = np.array([res.value["y"] for res in results]).reshape(len(x), reps)
    return analyse_outcome(
        method, problem, x, values, seed=3, resamples=100, second_order=second_order
    )


def _at_full_n(df: pd.DataFrame, index: str) -> pd.Series:
    full = df[(df["n"] == df["n"].max()) & (df["index"] == index)]
    return full.set_index("factor")["value"]


def test_ishigami_sobol_recovers_analytic_indices():
    df = _pipeline("ishigami", "sobol", 1024)
    truth = tf.ishigami_indices()
    for index in ("S1", "ST"):
        got = _at_full_n(df, index)
        for factor, expected in truth[index].items():
            assert got[factor] == pytest.approx(expected, abs=SOBOL_TOL), (index, factor)
        # A deterministic function: the dummy changes nothing, so its index is zero.
        assert abs(got[DUMMY]) <= 0.01
    assert convergence(df, "sobol")["enough"] is True


def test_ishigami_second_order_indices():
    df = _pipeline("ishigami", "sobol", 1024, second_order=True)
    s2 = _at_full_n(df, "S2")
    for (a, b), expected in tf.ishigami_indices()["S2"].items():
        assert s2[f"{a} × {b}"] == pytest.approx(expected, abs=SOBOL_TOL), (a, b)
    assert s2[[f for f in s2.index if DUMMY in f]].abs().max() <= SOBOL_TOL


def test_noisy_ishigami_noise_share_and_dummy_floor():
    truth = tf.ishigami_indices()
    sd, reps = 1.0, 4
    df = _pipeline("ishigami", "sobol", 512, reps=reps, noise_sd=sd)
    noise = df[df["factor"] == ""].set_index("index")["value"]
    single = sd**2 / (sd**2 + truth["variance"])
    of_mean = sd**2 / reps / (sd**2 / reps + truth["variance"])
    assert noise["noise_share"] == pytest.approx(single, abs=NOISE_TOL)
    assert noise["noise_share_of_mean"] == pytest.approx(of_mean, abs=NOISE_TOL)
    # The dummy only changes the random streams: its total index is the noise of the means.
    st = _at_full_n(df, "ST")
    assert 0 < st[DUMMY] == pytest.approx(of_mean, abs=NOISE_TOL)
    for factor, expected in truth["ST"].items():
        assert st[factor] == pytest.approx(expected, abs=SOBOL_TOL + of_mean)


def test_morris_ranks_inactive_factors_last():
    df = _pipeline("screening", "morris", 20)
    mu = _at_full_n(df, "mu_star").sort_values(ascending=False)
    inactive = {*tf.SCREENING_INACTIVE, DUMMY}
    assert set(mu.index[-len(inactive) :]) == inactive
    assert (mu[list(inactive)] == 0).all()
    assert (mu.drop(list(inactive)) > 0.5).all()
    assert mu.index[0] == "x1"


def test_morris_sigma_has_a_bootstrap_interval_that_is_zero_for_linear_and_inactive_factors():
    df = _pipeline("screening", "morris", 20)
    sigma = df[(df["index"] == "sigma") & (df["n"] == df["n"].max())].set_index("factor")
    # x1 enters linearly and x5, x6 not at all: every elementary effect is the same, so sigma
    # and every resample of it are 0. x2 (squared) and x3, x4 (their product) vary.
    for name in ("x1", *tf.SCREENING_INACTIVE):
        assert sigma.loc[name, ["value", "low", "high"]].abs().max() < 1e-9, name
    for name in ("x2", "x3", "x4"):
        low, value, high = sigma.loc[name, ["low", "value", "high"]]
        assert 0 <= low < value < high, name


def test_noise_share_edge_cases():
    assert np.isnan(noise_share(np.ones((5, 1)))["noise_share"][0])  # one replicate
    assert np.isnan(noise_share(np.ones((5, 3)))["noise_share"][0])  # no variance at all
    rows = np.repeat(np.arange(6.0)[:, None], 3, axis=1)  # no noise, all between rows
    assert noise_share(rows)["noise_share"][0] == 0


# --------------------------------------------------------------------------- study files
def test_morris_amounts_of_nok_are_written_as_every_table_writes_nok():
    rows = [
        {"factor": f, "index": i, "value": v, "low": v * 0.9, "high": v * 1.1, "n": 4}
        for f, v in (("a", 64670.4), ("b", 1234.0), (DUMMY, 2100.0))
        for i in ("mu_star", "sigma")
    ]
    cost = "cost_per_participant_nok"
    text = summary_text(pd.DataFrame(rows), "morris", f"{cost} (ips − standard)", cost)
    assert "a (mu* 64 670)" in text and "(the dummy's mu*, 2 100)" in text, text
    assert "e+0" not in text
    shares = summary_text(
        pd.DataFrame(rows).assign(value=lambda d: d["value"] / 1e6), "morris", "employed_12m"
    )
    assert "a (mu* 0.0647)" in shares, shares  # a share keeps its significant digits
    from introsim.reporting.sensitivity_report import _bars

    frame = pd.DataFrame(rows).assign(outcome=cost)
    names = {trace.name for trace in _bars(frame, "morris").data}
    assert "noise floor (dummy's mu* 2 100)" in names, names
    # The charts' hovers write NOK whole and grouped too (64 670, not 6.47e+04 or 64670.400).
    from introsim.reporting.sensitivity_report import _morris

    for fig in (_bars(frame, "morris"), _morris(frame)):
        assert fig.layout.separators == ". "
        hovers = [t.hovertemplate for t in fig.data if t.hovertemplate]
        assert hovers and all(":,.0f}" in h for h in hovers), hovers
    share = frame.assign(outcome="employed_12m")
    assert all(":,.0f}" not in (t.hovertemplate or "") for t in _bars(share, "morris").data)


MORRIS = """\
[experiment]
name = "tiny_morris"
question = "Which mechanisms matter in a small cohort?"
base = "base.toml"
replications = 2
seed = 5
design = "morris"
trajectories = 4
outcomes = ["employed_12m", "cost_per_participant_nok"]

[factors]
"mechanisms.language_slope" = { min = 0.6, max = 1.8 }
"mechanisms.separation_hazard" = { min = 0.002, max = 0.012, scale = "log" }
"mechanisms.ties_per_specialist" = { min = 12, max = 36 }
"""


@pytest.fixture
def tiny(tmp_path: Path, small_files: dict[str, Path]) -> Path:
    """A 4-trajectory Morris study over the 200-participant test cohort."""
    write(tmp_path, "base.toml", small_files["base"].read_text(encoding="utf-8"))
    return write(tmp_path, "morris.toml", MORRIS)


def test_shipped_studies_load():
    for path in STUDIES:
        d = _shipped(path)
        assert d.meta.design in ("morris", "sobol") and d.meta.dummy
        assert d.problem is not None and d.problem["names"][-1] == DUMMY
        assert 6 <= len(d.factors) and all(param_info(f) for f in d.factors)
    sobol = _shipped(STUDIES[1])
    assert 6 <= len(sobol.factors) <= 10
    assert sobol.points[0].scenario.follow_up.method == "ips"
    # The shipped Sobol study is of IPS minus standard follow-up, over declared ranges.
    assert sobol.reference is not None
    assert sobol.reference.overrides == {"follow_up.method": "standard"}
    for name, spec in sobol.factors.items():
        plausible = param_info(name).plausible
        assert plausible is not None and (spec.min, spec.max) == plausible, name


def test_the_methods_morris_study_screens_every_declared_method_range_on_the_difference():
    # IPS minus standard follow-up at 12 and 60 months, over every parameter of both method
    # profiles that has a declared plausible range and the hiring model's weights, each over
    # exactly that range: a range added to or changed in the schema must reach the study.
    study = _shipped(STUDIES[2])
    assert study.meta.design == "morris" and study.meta.outcomes == ["employed_12m", "employed_60m"]
    assert study.points[0].scenario.follow_up.method == "ips"
    assert study.reference is not None
    assert study.reference.overrides == {"follow_up.method": "standard"}
    declared = {
        p.path
        for p in iter_params()
        if p.path.startswith(("methods.standard.", "methods.ips.")) and p.plausible is not None
    }
    assert set(study.factors) == declared | set(HIRING)
    for name, spec in study.factors.items():
        assert (spec.min, spec.max) == param_info(name).plausible, name


def test_categories_are_strata_and_the_dummy_never_reaches_the_scenario(tiny: Path):
    text = MORRIS + '"follow_up.method" = { levels = ["ips", "se"] }\n'
    d = load_experiment(write(tiny.parent, "strata.toml", text))
    rows = len(d.sample)
    assert len(d.points) == 1 + 2 * rows
    assert [p.scenario.follow_up.method for p in d.points[1 : 1 + rows]] == ["ips"] * rows
    assert {p.scenario.follow_up.method for p in d.points[1 + rows :]} == {"se"}
    assert all(DUMMY not in p.overrides for p in d.points)
    # A step in the dummy alone gives the same scenario with other random streams.
    same = [
        (a, b)
        for a, b in zip(d.points[1:], d.points[2:], strict=False)
        if a.stratum == b.stratum and a.scenario.digest() == b.scenario.digest()
    ]
    assert same and all(a.seed != b.seed for a, b in same)
    values = [p.overrides["mechanisms.separation_hazard"] for p in d.points[1:]]
    assert 0.002 - 1e-12 <= min(values) and max(values) <= 0.012 + 1e-12


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("trajectories = 4", "trajectories = 1"), "experiment.trajectories"),
        (('design = "morris"\ntrajectories = 4', 'design = "sobol"\nsamples = 12'), "power of two"),
        (("max = 1.8", "max = 25.0"), "mechanisms.language_slope"),
        (
            ("{ min = 0.6, max = 1.8 }", "{ levels = [0.6, 1.8] }"),
            "give min and max",
        ),
        (
            ('design = "morris"\ntrajectories = 4', 'design = "delta"\nsamples = 16'),
            "no groups",
        ),
    ],
    ids=["too few trajectories", "N not a power of two", "outside schema", "levels", "groups"],
)
def test_bad_study_files_name_the_field(tiny: Path, edit, message):
    text = MORRIS.replace(*edit)
    if "delta" in edit[1]:
        text = text.replace("max = 1.8 }", 'max = 1.8, group = "language" }')
    with pytest.raises(InputError, match=message):
        load_experiment(write(tiny.parent, "bad.toml", text))


def test_the_command_refuses_bad_studies_and_sweep_designs(tiny: Path):
    bad = write(tiny.parent, "bad.toml", MORRIS.replace("max = 1.8", "max = 25.0"))
    lhs = MORRIS.replace('design = "morris"\ntrajectories = 4', 'design = "lhs"\nsamples = 4')
    for path, message in (
        (bad, "mechanisms.language_slope"),
        (write(tiny.parent, "lhs.toml", lhs), "not a sensitivity design"),
    ):
        res = call_cli("sensitivity", path, "--out", tiny.parent / "out")
        assert res.returncode == 2 and len(stderr_lines(res)) == 1, res.stderr
        assert "Traceback" not in res.stderr and message in res.stderr
        assert not (tiny.parent / "out").exists()


# --------------------------------------------------------------------------- paired contrasts
CONTRAST = """\
[experiment]
name = "tiny_contrast"
question = "What decides how much IPS beats standard follow-up in a small cohort?"
base = "ips.toml"
replications = 2
seed = 5
design = "morris"
trajectories = 3
outcomes = ["employed_12m", "cost_per_participant_nok"]

[factors]
"follow_up.caseload" = { min = 10, max = 30 }
"mechanisms.separation_hazard" = { min = 0.002, max = 0.012, scale = "log" }

[reference]
name = "standard"
"follow_up.method" = "standard"
"""


@pytest.fixture
def contrast(tiny: Path, small_files: dict[str, Path]) -> Path:
    """A Morris study of IPS minus standard follow-up over the 200-participant test cohort."""
    write(tiny.parent, "ips.toml", small_files["ips"].read_text(encoding="utf-8"))
    return write(tiny.parent, "contrast.toml", CONTRAST)


def test_a_contrast_twin_is_its_point_under_the_reference_at_the_same_seeds(contrast: Path):
    from introsim.experiments.sweep import sweep_tasks

    design = load_experiment(contrast)
    ref = design.reference
    assert ref is not None and ref.name == "standard" and len(ref.points) == len(design.points)
    reps = design.meta.replications
    tasks = sweep_tasks(design)
    assert len(tasks) == design.run_count == 2 * len(design.points) * reps
    half = len(tasks) // 2
    for treated, twin in zip(tasks[:half], tasks[half:], strict=True):
        assert twin.root_seed == treated.root_seed and twin.replicate == treated.replicate
        assert twin.scenario.follow_up.method == "standard"
        assert treated.scenario.follow_up.method == "ips"
        # Everything but the reference's override is the point's own (its sampled factors too).
        again = treated.scenario.with_overrides({"follow_up.method": "standard"})
        assert twin.scenario.digest() == again.digest()


def test_contrast_indices_are_those_of_the_paired_difference(contrast: Path):
    res = call_cli("sensitivity", contrast, "--out", contrast.parent / "out", "--json")
    assert res.returncode == 0, res.stderr
    design = load_experiment(contrast)
    runs = pd.read_parquet(contrast.parent / "out" / "runs.parquet")
    assert list(runs["arm"].unique()) == ["treatment", "reference"]
    treated = runs[runs["arm"] == "treatment"].reset_index(drop=True)
    twins = runs[runs["arm"] == "reference"].reset_index(drop=True)
    assert treated[["point", "replicate", DUMMY]].equals(twins[["point", "replicate", DUMMY]])
    indices = pd.read_parquet(contrast.parent / "out" / "indices.parquet")
    reps = design.meta.replications
    for outcome in design.meta.outcomes:
        diff = (treated[outcome] - twins[outcome]).to_numpy().reshape(-1, reps)[1:]
        assert np.ptp(diff) > 0  # the arms differ, and not by a constant
        expected = analyse_outcome(
            "morris",
            design.problem,
            design.sample,
            diff,
            resamples=design.meta.resamples,
            seed=design.meta.seed,
        )
        found = indices[indices["outcome"] == outcome].reset_index(drop=True)
        assert np.allclose(found["value"], expected["value"], equal_nan=True), outcome
    manifest = json.loads((contrast.parent / "out" / "manifest.json").read_text())
    assert "ips − standard" in manifest["sensitivity"]["contrast"]
    assert manifest["experiment"]["reference"] == {
        "name": "standard",
        "follow_up.method": "standard",
    }
    assert "employed_12m (ips − standard)" in json.loads(res.stdout)["verdicts"][0]["summary"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('"follow_up.method" = "standard"', '"follow_up.caseload" = 12'), "also a factor"),
        (('"follow_up.method" = "standard"', '"follow_up.methd" = "x"'), "not a parameter"),
        (('"follow_up.method" = "standard"', '"follow_up.method" = "nope"'), "follow_up.method"),
        (('"follow_up.method" = "standard"', ""), "at least one dotted override"),
        (('design = "morris"\ntrajectories = 3', 'design = "lhs"\nsamples = 4'), "not lhs"),
    ],
    ids=["factor", "unknown path", "bad value", "empty", "not sensitivity"],
)
def test_bad_references_are_one_line_naming_the_field(contrast: Path, edit, message):
    bad = write(contrast.parent, "bad.toml", CONTRAST.replace(*edit))
    res = call_cli("sensitivity", bad, "--out", contrast.parent / "bad-out")
    assert res.returncode == 2 and len(stderr_lines(res)) == 1, res.stderr
    assert message in res.stderr and "bad.toml" in res.stderr
    assert not (contrast.parent / "bad-out").exists()


# --------------------------------------------------------------------------- the command
def test_cli_outputs_resume_and_same_bytes_on_two_processes(tiny: Path):
    one, two = tiny.parent / "one", tiny.parent / "two"
    res = call_cli("sensitivity", tiny, "--out", one, "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    d = load_experiment(tiny)
    assert data["runs"] == len(d.points) * d.meta.replications and data["failed"] == 0
    for name in ("indices.parquet", "indices.csv", "runs.parquet", "manifest.json", "report.html"):
        assert (one / name).is_file(), name
    idx = pd.read_parquet(one / "indices.parquet")
    assert list(idx.columns) == [
        "stratum",
        "outcome",
        "factor",
        "index",
        "value",
        "low",
        "high",
        "n",
    ]
    assert set(idx["outcome"]) == set(d.meta.outcomes)
    assert {"mu_star", "sigma", "noise_share"} <= set(idx["index"])
    assert (idx["factor"] == DUMMY).any()
    runs = pd.read_parquet(one / "runs.parquet")
    assert {"point", "label", "replicate", "run_id", DUMMY, "error"} <= set(runs.columns)
    manifest = json.loads((one / "manifest.json").read_text())
    assert manifest["sensitivity"]["N"] == d.meta.trajectories
    assert all(v["convergence"] for v in manifest["sensitivity"]["verdicts"])
    html = (one / "report.html").read_text()
    assert "noise floor" in html and "chart-morris-" in html and "Convergence" in html

    res2 = call_cli("sensitivity", tiny, "--out", two, "--jobs", "2")
    assert res2.returncode == 0, res2.stderr
    # The table writes NOK as every table does (its largest mu* in whole kroner, grouped).
    cost = idx[(idx["outcome"] == "cost_per_participant_nok") & (idx["index"] == "mu_star")]
    top = cost.loc[cost["n"] == cost["n"].max(), "value"].max()
    assert "cost_per_participant_nok (all): mu_star in NOK" in res2.stdout, res2.stdout
    assert format_number("cost_per_participant_nok", top) in res2.stdout, res2.stdout
    assert "e+0" not in res2.stdout
    assert (one / "indices.parquet").read_bytes() == (two / "indices.parquet").read_bytes()
    assert (one / "runs.parquet").read_bytes() == (two / "runs.parquet").read_bytes()

    # Lose half the stored runs (as a kill would) and run again: only those run, same indices.
    parts = sorted((two / "parts").glob("*.parquet"))
    for p in parts[: len(parts) // 2]:
        p.unlink()
    res3 = call_cli("sensitivity", tiny, "--out", two, "--json")
    assert res3.returncode == 0, res3.stderr
    assert json.loads((two / "manifest.json").read_text())["resumed_runs"] > 0
    assert (one / "indices.parquet").read_bytes() == (two / "indices.parquet").read_bytes()


def test_discover_finds_the_box(tiny: Path, tmp_path: Path):
    out = tmp_path / "study"
    assert call_cli("sensitivity", tiny, "--out", out).returncode == 0
    runs = pd.read_parquet(out / "runs.parquet")
    cut = float(runs.groupby("point")["employed_12m"].mean().median())
    res = call_cli(
        "discover", out, "--outcome", "employed_12m", "--below", f"{cut}", "--out",
        tmp_path / "disc", "--json",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    if data["chosen_box"] is None:  # no box of this tiny study is dense enough: as suggested
        suggested = data["suggestion"].split(" or ")[0].split()
        res = call_cli(
            "discover", out, "--outcome", "employed_12m", "--below", f"{cut}", "--out",
            tmp_path / "disc", "--json", *suggested,
        )  # fmt: skip
        data = json.loads(res.stdout)
    assert data["cases"] > 0 and 0 < data["coverage"] <= 1 and data["density"] > 0
    traj = pd.read_csv(tmp_path / "disc" / "trajectory.csv")
    assert {"coverage", "density", "chosen"} <= set(traj.columns) and traj["chosen"].sum() == 1
    assert traj["coverage"].iloc[0] == 1.0  # the first box holds every case
    assert "Peeling trajectory" in (tmp_path / "disc" / "report.html").read_text()
    bad = call_cli("discover", out, "--outcome", "employed_12m", "--below", "-1")
    assert bad.returncode == 2 and "no design point" in bad.stderr


def test_discover_names_the_extra_when_missing(monkeypatch, tmp_path: Path):
    from introsim.experiments.discovery import DiscoveryError, discover_boxes

    runs = pd.DataFrame(
        {
            "point": [0, 1, 2, 3],
            "run_id": list("abcd"),
            "wage_subsidy.rate": [0.0, 0.2, 0.4, 0.6],
            "employed_60m": [0.3, 0.4, 0.5, 0.6],
            "error": [""] * 4,
        }
    )
    runs.to_parquet(tmp_path / "runs.parquet")
    monkeypatch.setitem(sys.modules, "ema_workbench", None)
    monkeypatch.setitem(sys.modules, "ema_workbench.analysis", None)
    with pytest.raises(DiscoveryError, match=r"introsim\[discover\]"):
        discover_boxes(tmp_path, "employed_60m", below=0.45)


# --------------------------------------------------------------------------- posterior ranges
POSTERIOR = """\
[[member]]
"mechanisms.score_noise" = 0.25
"labour_market.outside_bar" = 1.5
[[member]]
"mechanisms.score_noise" = 0.41
"labour_market.outside_bar" = 1.5
[[member]]
"mechanisms.score_noise" = 0.30
"labour_market.outside_bar" = 1.5
"""

SOBOL_OVER = """\
[experiment]
name = "over_posterior"
question = "q"
base = "{base}"
replications = 2
seed = 1
design = "sobol"
samples = 8
outcomes = ["employed_12m"]

[factors]
"mechanisms.score_noise" = {{ posterior = "posterior.toml"{extra} }}
"mechanisms.productivity_base" = {{ min = 0.3, max = 0.8 }}
"""


def _over_posterior(tmp_path: Path, small_files, extra: str = "") -> Path:
    write(tmp_path, "posterior.toml", POSTERIOR)
    text = SOBOL_OVER.format(base=small_files["base"], extra=extra)
    return write(tmp_path, "sobol.toml", text)


def test_a_factor_range_can_be_the_range_a_posterior_spans(tmp_path, small_files):
    design = load_experiment(_over_posterior(tmp_path, small_files))
    spec = design.factors["mechanisms.score_noise"]
    assert (spec.min, spec.max) == (0.25, 0.41)  # the members' smallest and largest values
    values = [p.overrides["mechanisms.score_noise"] for p in design.points[1:]]
    assert min(values) >= 0.25 and max(values) <= 0.41
    described = design.describe()["factors"]["mechanisms.score_noise"]
    assert (described["min"], described["max"]) == (0.25, 0.41)


@pytest.mark.parametrize(
    ("extra", "factor", "message"),
    [
        (", min = 0.1", None, "give either posterior or min, not both"),
        ("", "labour_market.outside_bar", "every member of posterior.toml has"),
        ("", "labour_market.hidden_share", "not set by every member of posterior.toml (0 of 3)"),
    ],
)
def test_a_posterior_range_that_cannot_be_read_is_one_line(
    tmp_path, small_files, extra, factor, message
):
    path = _over_posterior(tmp_path, small_files, extra)
    if factor is not None:
        path.write_text(path.read_text().replace("mechanisms.score_noise", factor))
    result = call_cli("validate", path)
    assert result.returncode == 2
    lines = stderr_lines(result)
    assert len(lines) == 1 and message in lines[0] and "sobol.toml:12" in lines[0], lines
