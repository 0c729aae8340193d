"""``introsim compare``: common random numbers, intervals, files."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from introsim.experiments.compare import (
    COMPARISON_OUTCOMES,
    COST_STATUSES,
    CSV_FILES,
    LEDGER_COMPARISONS,
    PAYBACK,
    PAYER_RATIOS,
    PERSON_YEARS,
    RATIOS,
    REPLICATE_OUTCOMES,
    TABLE_OUTCOMES,
    WEEKLY_SERIES,
    compare,
    cost_status,
    person_years,
    seed_text,
)
from introsim.experiments.statistics import fieller_ratio, t_interval
from introsim.model.outcomes import OUTCOMES
from introsim.model.state import STATUS_NAMES, WEEKS_PER_YEAR
from introsim.params.loader import load_scenario

from clitools import call_cli, stderr_lines

FILES = (
    "replicates.parquet",
    "comparison.csv",
    "weekly.parquet",
    "subgroups.parquet",
    *CSV_FILES.values(),
    "manifest.json",
    "report.html",
)


# --------------------------------------------------------------------------- the command line
@pytest.fixture(scope="module")
def cli_runs(small_files, tmp_path_factory):
    """The same comparison through the CLI with --jobs 1 (and --json) and with --jobs 2."""
    out = tmp_path_factory.mktemp("compare")
    args = [small_files["base"], small_files["caseload_10"], "--replications", "4"]
    one = call_cli("compare", *args, "--jobs", "1", "--json", "--out", out / "j1")
    two = call_cli("compare", *args, "--jobs", "2", "--out", out / "j2")
    return {"one": one, "two": two, "out": out}


def test_jobs_1_and_2_write_identical_replicates(cli_runs):
    out = cli_runs["out"]
    for res in (cli_runs["one"], cli_runs["two"]):
        assert res.returncode == 0, res.stderr
    for name in FILES:
        assert (out / "j1" / name).stat().st_size > 0
        assert (out / "j2" / name).stat().st_size > 0
    for name in ("replicates.parquet", "comparison.csv", "weekly.parquet", "subgroups.parquet"):
        assert (out / "j1" / name).read_bytes() == (out / "j2" / name).read_bytes(), name
    for name in CSV_FILES.values():
        assert (out / "j1" / name).read_bytes() == (out / "j2" / name).read_bytes(), name


def test_every_parquet_table_has_a_csv_with_the_same_data(cli_runs):
    out = cli_runs["out"] / "j1"
    for parquet, csv in CSV_FILES.items():
        a = pd.read_parquet(out / parquet)
        b = pd.read_csv(out / csv)
        assert list(a.columns) == list(b.columns), csv
        assert len(a) == len(b), csv
        num = a.select_dtypes("number").columns
        assert np.allclose(a[num].to_numpy(float), b[num].to_numpy(float), equal_nan=True), csv


def test_replicates_parquet_is_long_and_sorted(cli_runs):
    df = pd.read_parquet(cli_runs["out"] / "j1" / "replicates.parquet")
    assert list(df.columns) == ["scenario", "replicate", "seed", "outcome", "value", "people"]
    assert len(df) == 2 * 4 * len(REPLICATE_OUTCOMES)
    assert list(dict.fromkeys(df["scenario"])) == ["base", "caseload_10"]
    assert set(OUTCOMES) <= set(df["outcome"])
    # The same replicate has the same seed in both scenarios (common random numbers).
    seeds = df.groupby(["replicate", "scenario"])["seed"].first().unstack()
    assert (seeds["base"] == seeds["caseload_10"]).all()
    assert seeds["base"].tolist() == [seed_text(7, r) for r in range(4)]


def test_table_on_stdout_and_json_with_every_outcome(cli_runs):
    data = json.loads(cli_runs["one"].stdout)
    assert set(OUTCOMES) <= set(data["outcomes"])
    assert set(COMPARISON_OUTCOMES) <= set(data["comparison"])
    assert data["reference"] == "base" and data["root_seed"] == 7 and data["replications"] == 4
    for outcome in OUTCOMES:
        assert set(data["outcomes"][outcome]) == {"base", "caseload_10"}
    for outcome in COMPARISON_OUTCOMES:
        assert set(data["comparison"][outcome]) == {"caseload_10"}
    for ratio in RATIOS:
        assert data["comparison"][ratio]["caseload_10"]["status"] in COST_STATUSES
    assert data["scenarios"][0]["description"] == "Small test cohort: standard follow-up"
    table = cli_runs["two"].stdout
    assert "employed_12m" in table and "extra_employed_12m" in table and "caseload_10" in table


def test_an_outcome_past_every_horizon_is_left_out_of_the_table_and_named(
    cli_runs, small_comparison
):
    # The small scenarios run for less than ten years: employed_120m has no value anywhere.
    shown, unseen = small_comparison.table_outcomes()
    assert "employed_120m" in unseen and "employed_12m" in shown
    assert set(shown) | set(unseen) == set(TABLE_OUTCOMES)
    table = cli_runs["two"].stdout
    assert "│ employed_120m" not in table
    note = next(line for line in table.splitlines() if line.startswith("Not shown: "))
    assert note.endswith(", past the horizon of every scenario.") and "employed_120m" in note
    assert all(f"│ {o} " not in table for o in unseen)


def test_manifest_records_provenance(cli_runs, small_files):
    manifest = json.loads((cli_runs["out"] / "j2" / "manifest.json").read_text())
    assert manifest["root_seed"] == 7 and manifest["replications"] == 4 and manifest["jobs"] == 2
    assert [s["name"] for s in manifest["scenarios"]] == ["base", "caseload_10"]
    digest = load_scenario(small_files["caseload_10"]).digest()
    assert manifest["scenarios"][1]["digest"] == digest
    assert manifest["scenarios"][1]["path"] == str(small_files["caseload_10"])
    assert "numpy" in manifest["packages"] and "introsim" in manifest["packages"]
    assert manifest["command"].startswith("introsim compare ")
    assert manifest["wall_time_s"] > 0


def test_bad_file_exits_2_with_one_line_and_writes_nothing(small_files, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[follow_up]\ncaseload = 0\n", encoding="utf-8")
    out = tmp_path / "out"
    res = call_cli("compare", small_files["base"], bad, "--replications", "2", "--out", out)
    assert res.returncode == 2
    lines = stderr_lines(res)
    assert len(lines) == 1 and str(bad) in lines[0] and "caseload" in lines[0], res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("case", "expect"),
    [("duplicate", "distinct name"), ("single", "at least 2"), ("replications", "replications")],
)
def test_other_bad_input_exits_2(small_files, tmp_path, case, expect):
    out = tmp_path / "out"
    base = small_files["base"]
    args = {
        "duplicate": [base, base],
        "single": [base],
        "replications": [base, small_files["ips"], "--replications", "1"],
    }[case]
    res = call_cli("compare", *args, "--out", out)
    assert res.returncode == 2
    lines = stderr_lines(res)
    assert len(lines) == 1 and expect in lines[0], res.stderr
    assert not out.exists()


# --------------------------------------------------------------------------- common random numbers
def test_common_random_numbers_make_paired_differences_less_spread(small_files):
    base = load_scenario(small_files["base"])
    lower = load_scenario(small_files["caseload_10"])  # differs from base in one lever
    result = compare([base, lower], replications=16)
    rep = result.replicates
    for outcome in ("employed_12m", "months_employed_24m"):
        wide = rep[rep["outcome"] == outcome].pivot(
            index="replicate", columns="scenario", values="value"
        )
        a = wide["base"].to_numpy()
        b = wide["caseload_10"].to_numpy()
        paired = b - a
        unpaired = np.roll(b, 1) - a  # replicate r of B against r - 1 of A: different seeds
        assert np.std(paired, ddof=1) < np.std(unpaired, ddof=1), outcome
    # The cohort of a replicate is the same in both scenarios: the same subgroup sizes.
    sg = result.subgroups[result.subgroups["outcome"] == "employed_12m"]
    sizes = sg.pivot(index=["subgroup", "level"], columns="scenario", values="n")
    assert (sizes["base"] == sizes["caseload_10"]).all()


# --------------------------------------------------------------------------- the API
def test_comparison_table_is_consistent(small_comparison):
    c = small_comparison
    t = c.table
    plain = t[t["kind"] != "comparison"]
    assert len(plain) == len(c.names) * len(REPLICATE_OUTCOMES)
    comp = t[t["kind"] == "comparison"]
    assert set(comp["scenario"]) == set(c.names[1:])
    assert sorted(set(comp["outcome"])) == sorted((*COMPARISON_OUTCOMES, *LEDGER_COMPARISONS))
    ref_rows = plain[plain["scenario"] == c.reference]
    assert ref_rows["diff"].isna().all()
    for name, size in zip(c.names[1:], c.cohort_sizes[1:], strict=True):
        d = c.row(name, "employed_12m")
        extra = c.row(name, "extra_employed_12m")
        assert extra["diff"] == pytest.approx(d["diff"] * size)
        assert extra["diff_low"] == pytest.approx(d["diff_low"] * size)
        assert extra["p_value"] == pytest.approx(d["p_value"])
        total = c.row(name, "cost_per_participant_nok")
        for ratio, (extra_name, per_participant) in RATIOS.items():
            effect = c.row(name, per_participant)
            assert c.row(name, extra_name)["diff"] == pytest.approx(effect["diff"] * size)
            row = c.row(name, ratio)
            expect = cost_status(
                (effect["diff"], effect["diff_low"], effect["diff_high"]),
                (total["diff"], total["diff_low"], total["diff_high"]),
            )
            assert row["status"] == expect
            if expect == "ratio":
                assert row["diff"] == pytest.approx(total["diff"] / effect["diff"])
                assert 0 < row["diff"] and row["diff_low"] <= row["diff"] <= row["diff_high"]
            else:  # never a negative or meaningless cost per extra job
                assert math.isnan(row["diff"]) and math.isnan(row["diff_low"])
    with_status = [*RATIOS, *PAYER_RATIOS, *PAYBACK]
    assert set(t.loc[~t["outcome"].isin(with_status), "status"]) == {""}
    # Means agree with the replicates they summarise.
    rep = c.replicates
    for name in c.names:
        v = rep[(rep["scenario"] == name) & (rep["outcome"] == "employed_12m")]["value"]
        assert c.row(name, "employed_12m")["mean"] == pytest.approx(v.mean())
    # A horizon of 120 weeks never reaches 60 months: missing, not zero.
    assert math.isnan(c.row(c.reference, "employed_60m")["mean"])


def test_person_years_come_from_the_weekly_status_counts(small_comparison):
    c = small_comparison
    w = c.weekly
    for name in c.names:
        # The weekly in-work share is of arrived participants; with one intake week every
        # participant has arrived from week 0, so its sum over weeks is the person-years.
        share = w[(w["scenario"] == name) & (w["series"] == "in_work")]["mean"].sum()
        assert c.row(name, PERSON_YEARS)["mean"] == pytest.approx(share / WEEKS_PER_YEAR)
    status = np.zeros((3, len(STATUS_NAMES)), dtype=np.int64)
    status[:, STATUS_NAMES.index("employed")] = [1, 2, 3]
    status[:, STATUS_NAMES.index("subsidised")] = [0, 1, 0]
    status[:, STATUS_NAMES.index("programme")] = [9, 7, 7]
    assert person_years(status, 10) == pytest.approx(7 / WEEKS_PER_YEAR / 10)


@pytest.mark.parametrize(
    ("effect", "cost", "expect"),
    [
        ((1.0, 0.5, 1.5), (-5.0, -8.0, -2.0), "dominant"),
        ((-1.0, -1.5, -0.5), (5.0, 2.0, 8.0), "dominated"),
        ((1.0, 0.5, 1.5), (5.0, 2.0, 8.0), "ratio"),
        ((1.0, 0.5, 1.5), (5.0, -2.0, 8.0), "ratio"),
        ((1.0, 0.5, 1.5), (-1.0, -3.0, 1.0), "no clear extra cost"),
        ((-1.0, -1.5, -0.5), (-5.0, -8.0, -2.0), "fewer in work"),
        ((0.1, -0.5, 0.7), (-5.0, -8.0, -2.0), "no clear gain"),
        ((math.nan,) * 3, (math.nan,) * 3, "no clear gain"),
    ],
)
def test_cost_status(effect, cost, expect):
    assert cost_status(effect, cost) == expect


def test_a_cheaper_and_better_scenario_is_dominant(dominant_comparison):
    # IPS at caseload 30 against standard follow-up gets clearly more people into work and
    # shortens the time on introduction benefit by more than the specialists cost.
    c = dominant_comparison
    assert c.row("ips", "cost_per_participant_nok")["diff_high"] < 0
    assert c.row("ips", PERSON_YEARS)["diff_low"] > 0
    assert c.row("ips", "cost_per_extra_person_year_nok")["status"] == "dominant"


def test_weekly_bands_and_subgroups(small_comparison):
    c = small_comparison
    w = c.weekly
    assert set(w["series"]) == set(WEEKLY_SERIES)
    assert len(w) == len(c.names) * len(WEEKLY_SERIES) * c.weeks[0]
    ok = w.dropna(subset=["ci_low"])
    assert (ok["ci_low"] <= ok["mean"] + 1e-12).all() and (
        ok["mean"] <= ok["ci_high"] + 1e-12
    ).all()
    statuses = w[w["series"] != "in_work"].groupby(["scenario", "week"])["mean"].sum()
    assert np.allclose(statuses.to_numpy(), 1.0)
    sg = c.subgroups
    assert {"sex", "education", "language_band", "mental_health", "care"} == set(sg["subgroup"])
    assert {"employed_12m", "work_or_education_at_exit"} == set(sg["outcome"])


def test_progress_is_reported_and_bad_arguments_raise(small_files):
    base = load_scenario(small_files["base"])
    ips = load_scenario(small_files["ips"])
    calls = []
    compare([base, ips], replications=2, root_seed=3, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 4) and calls[-1] == (4, 4)
    with pytest.raises(ValueError, match="at least 2 scenarios"):
        compare([base], replications=2)
    with pytest.raises(ValueError, match="names must differ"):
        compare([base, base], replications=2)
    with pytest.raises(ValueError, match="replications"):
        compare([base, ips], replications=1)


def test_t_interval_matches_scipy():
    rng = np.random.default_rng(1)
    x = rng.normal(0.3, 1.0, 12)
    n, mean, lo, hi, p = t_interval(np.append(x, np.nan))
    ref = stats.ttest_1samp(x, 0.0)
    ci = ref.confidence_interval(0.95)
    assert n == 12 and mean == pytest.approx(x.mean())
    assert (lo, hi) == pytest.approx((ci.low, ci.high))
    assert p == pytest.approx(ref.pvalue)
    assert t_interval(np.zeros(5))[1:] == (0.0, 0.0, 0.0, 1.0)
    assert math.isnan(t_interval(np.array([1.0]))[2])


def test_fieller_ratio():
    rng = np.random.default_rng(2)
    b = rng.normal(0.1, 0.01, 40)  # clearly positive denominator
    a = 50_000 * b + rng.normal(0, 100, 40)
    n, ratio, lo, hi = fieller_ratio(a, b)
    assert n == 40 and ratio == pytest.approx(a.mean() / b.mean())
    assert lo < ratio < hi
    # Close to the delta method when the denominator is precise.
    cov = np.cov(a, b) / 40
    se = abs(ratio) * math.sqrt(
        cov[0, 0] / a.mean() ** 2
        + cov[1, 1] / b.mean() ** 2
        - 2 * cov[0, 1] / (a.mean() * b.mean())
    )
    assert hi - lo == pytest.approx(2 * stats.t.ppf(0.975, 39) * se, rel=0.05)
    # A denominator whose interval includes zero gives no ratio.
    noisy = rng.normal(0.0, 0.1, 40)
    assert all(math.isnan(v) for v in fieller_ratio(a, noisy)[1:])
    assert all(math.isnan(v) for v in fieller_ratio(a, -b)[1:])
