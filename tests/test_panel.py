"""Municipalities: a profile drives a run's context, and the national panel of municipalities.

Covers the ``[municipality]`` table of a scenario (cohort, employers and competition from
the profile, practice untouched), the panel file's loader and its one-line errors, the
panel's determinism and resume after SIGKILL, the funnel plot's control limits against
known answers, and the variance decomposition's parts adding up.
"""

from __future__ import annotations

import math
import signal
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from introsim.experiments.panel import (
    GROUPS,
    chance_interval,
    decompose,
    funnel_limits,
    practice_for,
    run_panel,
)
from introsim.model.population import employer_count
from introsim.model.world import local_unemployment
from introsim.params.errors import InputError
from introsim.params.loader import load_scenario
from introsim.params.municipal_context import cached_profiles, with_profile
from introsim.params.panel_file import load_panel

from clitools import ROOT, call_cli, killed_at, write

PROFILES = ROOT / "municipalities" / "norway_2023.csv"
SCENARIOS = ROOT / "scenarios"

PANEL = f"""
[panel]
name = "tiny"
question = "A few municipalities"
profile = "{PROFILES.as_posix()}"
codes = ["1101", "1106", "3201", "5636"]
replications = 3
seed = 5

[[policy]]
name = "today"
scenario = "{(SCENARIOS / "baseline.toml").as_posix()}"

[[policy]]
name = "ips_15"
scenario = "{(SCENARIOS / "ips_caseload_15.toml").as_posix()}"

[practice]
"follow_up.caseload" = [15, 35]
"follow_up.skill_mean" = [0.8, 1.2]
"""


@pytest.fixture(scope="module")
def rows():
    return cached_profiles(PROFILES).by_number()


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(SCENARIOS / "baseline.toml")


# --------------------------------------------------------------------------- context
def test_a_profile_sets_cohort_employers_and_competition_not_practice(rows, baseline):
    row = rows["1101"]  # Eigersund: 188 settled in 2023, no withheld cell, 6 762 local jobs
    sc = with_profile(baseline, row, "norway_2023.csv")
    assert sc.cohort.size == round(188 * 0.53)
    assert sc.cohort.intake_weeks == 52
    assert sc.cohort.share_female == pytest.approx(97 / 188, abs=1e-6)
    assert sc.municipality.local_jobs == 6762
    assert employer_count(sc) == round(6762 * sc.labour_market.employers_per_thousand_jobs / 1000)
    # Eigersund's employment rate (7 468 / 11 037) is below the nation's: more competition.
    rate = 7468 / 11037
    gap = sc.labour_market.reference_employment_rate - rate
    assert local_unemployment(sc) == pytest.approx(0.04 + 0.3 * gap, abs=1e-6)
    assert sc.follow_up == baseline.follow_up
    assert sc.wage_subsidy == baseline.wage_subsidy


def test_without_a_municipality_employers_follow_the_cohort(baseline):
    assert employer_count(baseline) == round(500 * 0.6)
    assert local_unemployment(baseline) == baseline.labour_market.unemployment_rate


def test_withheld_cells_count_at_their_midpoint(rows, baseline):
    row = rows["0301"]  # Oslo: 2 018 settled with 2 withheld cells
    assert with_profile(baseline, row, "p").municipality.settled == 2018 + 5


def test_a_scenario_file_names_its_municipality(tmp_path, rows):
    path = write(
        tmp_path,
        "s.toml",
        f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
        f'[municipality]\nprofile = "{PROFILES.as_posix()}"\ncode = "1106"\n',
    )
    sc = load_scenario(path)
    assert sc.municipality.name == "Haugesund"
    assert sc.cohort.size == round((362 + 2.5) * 0.53)
    assert sc.municipality.local_jobs == rows["1106"].employed_workplace_2022


@pytest.mark.parametrize(
    ("table", "field", "says"),
    [
        ('code = "9999"', "municipality.code", "'9999' is not a municipality of"),
        ('code = "1856"', "municipality.code", "settled no refugees in 2023"),
        ('code = "301"', "municipality.code", ""),
    ],
)
def test_a_bad_municipality_is_one_line_at_its_line(tmp_path, table, field, says):
    path = write(
        tmp_path,
        "s.toml",
        f'[scenario]\nname = "x"\n\n[municipality]\nprofile = "{PROFILES.as_posix()}"\n{table}\n',
    )
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"{path}:6: {field}: ")
    assert says in str(err.value)
    assert "\n" not in str(err.value)


def test_a_bad_profile_names_its_line_and_column(tmp_path):
    text = PROFILES.read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace(",15221,", ",many,")  # Eigersund's population
    write(tmp_path, "kommuner_2024.csv", (PROFILES.parent / "kommuner_2024.csv").read_bytes())
    bad = write(tmp_path, "p.csv", "\n".join(text) + "\n")
    path = write(tmp_path, "s.toml", '[municipality]\nprofile = "p.csv"\ncode = "0301"\n')
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"{bad}:3: population: expected a whole number")
    res = call_cli("validate", bad)
    assert res.returncode == 2 and f"{bad}:3: population:" in res.stderr


# --------------------------------------------------------------------------- panel file
def test_the_shipped_panel_and_data_validate():
    res = call_cli(
        "validate",
        ROOT / "municipalities" / "national_panel.toml",
        ROOT / "municipalities" / "norway_2023.csv",
        ROOT / "municipalities" / "oslo.toml",
    )
    assert res.returncode == 0, res.stderr
    assert "panel: 350 municipalities × 3 policies × 30 replicates" in res.stdout


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("replications = 3", "replications = 1", ":7: panel.replications: expected"),
        ('codes = ["1101"', 'codes = ["9999"', ":6: panel.codes[0]: '9999' is not a municipality"),
        (
            '"follow_up.caseload" = [15, 35]',
            '"follow_up.weeks" = [1, 2]',
            ": 'follow_up.weeks' is not a numeric practice path",
        ),
        ('"follow_up.caseload" = [15, 35]', '"follow_up.caseload" = [35, 15]', "low <= high"),
        ('"follow_up.caseload" = [15, 35]', '"follow_up.caseload" = [0, 15]', "within the field"),
        ('name = "ips_15"', 'name = "today"', ": policy[1].name: 'today' is also the name"),
        ("ips_caseload_15.toml", "missing.toml", ": policy[1].scenario: scenario file"),
    ],
)
def test_panel_file_errors_are_one_line_at_their_line(tmp_path, old, new, where):
    assert old in PANEL
    path = write(tmp_path, "panel.toml", PANEL.replace(old, new))
    with pytest.raises(InputError) as err:
        load_panel(path)
    assert str(err.value).startswith(str(path)), err.value
    assert where in str(err.value), err.value
    res = call_cli("municipalities", path, "--out", tmp_path / "out")
    assert (
        res.returncode == 2 and res.stderr.startswith("error: ") and "Traceback" not in res.stderr
    )
    assert not (tmp_path / "out").exists()


def test_practice_is_drawn_per_municipality_whatever_else_is_run(tmp_path):
    spec = load_panel(write(tmp_path, "a.toml", PANEL))
    fewer = load_panel(write(tmp_path, "b.toml", PANEL.replace('"1101", ', "")))
    a, b = practice_for(spec, "1106"), practice_for(fewer, "1106")
    assert a == b
    assert 15 <= a["follow_up.caseload"] <= 35 and isinstance(a["follow_up.caseload"], int)
    # IPS at caseload 15 sets its caseload itself: the municipality's practice does not replace it.
    row = spec.municipalities[0]
    assert spec.scenario_for(1, row, a).follow_up.caseload == 15
    assert spec.scenario_for(0, row, a).follow_up.caseload == a["follow_up.caseload"]
    assert spec.scenario_for(1, row, a).follow_up.skill_mean == a["follow_up.skill_mean"]


# --------------------------------------------------------------------------- statistics
def test_funnel_limits_known_answers():
    # One finisher at p0 = 0.5: the upper 97.5 % limit interpolates to 0.95, the lower to 0.
    low, high = funnel_limits(0.5, 1, 0.95)
    assert low[0] == pytest.approx(0.0) and high[0] == pytest.approx(0.95)
    # 100 finishers at 0.5, by hand: P(R <= 39) = 0.01760, P(R <= 40) = 0.02844, so the lower
    # limit is (40 - (0.02844 - 0.025) / (0.02844 - 0.01760)) / 100, the upper likewise from
    # P(R <= 59) and P(R <= 60): 0.3969 and 0.5931 (not symmetric: the interpolation runs
    # between whole counts, Spiegelhalter 2005, A.1.1).
    cdf = [sum(math.comb(100, k) for k in range(r + 1)) / 2**100 for r in (39, 40, 59, 60)]
    low, high = funnel_limits(0.5, np.array([100, 10_000]), 0.95)
    assert low[0] == pytest.approx((40 - (cdf[1] - 0.025) / (cdf[1] - cdf[0])) / 100)
    assert high[0] == pytest.approx((60 - (cdf[3] - 0.975) / (cdf[3] - cdf[2])) / 100)
    assert low[0] == pytest.approx(0.3969, abs=1e-4) and high[0] == pytest.approx(0.5931, abs=1e-4)
    # Close to the normal approximation for many finishers.
    normal = 1.959964 * np.sqrt(0.25 / 10_000)
    assert high[1] - 0.5 == pytest.approx(normal, rel=0.03)
    assert 0.5 - low[1] == pytest.approx(normal, rel=0.03)
    # Wider at 99.8 % than at 95 %; narrower with more finishers.
    wide_low, wide_high = funnel_limits(0.5, np.array([100, 10_000]), 0.998)
    assert np.all(wide_low < low) and np.all(wide_high > high)
    assert high[1] < high[0]


def test_funnel_limit_holds_its_share_of_a_binomial():
    # The upper 95 % limit lies between the counts r - 1 and r, where r is the binomial's
    # 97.5 % quantile: a municipality at the national level exceeds r at most 2.5 % of years.
    for n, p0 in ((40, 0.55), (7, 0.3), (250, 0.62)):
        low, high = funnel_limits(p0, n, 0.95)
        r = math.ceil(high[0] * n)
        assert stats.binom.cdf(r, n, p0) >= 0.975 > stats.binom.cdf(r - 1, n, p0)
        lr = math.ceil(low[0] * n)
        assert stats.binom.cdf(lr, n, p0) >= 0.025 > stats.binom.cdf(lr - 1, n, p0)


def test_chance_interval_is_the_binomial_one():
    low, high = chance_interval(0.5, 15)
    assert (low, high) == (
        stats.binom.ppf(0.025, 15, 0.5) / 15,
        stats.binom.ppf(0.975, 15, 0.5) / 15,
    )


def test_decomposition_adds_up_and_finds_its_cause():
    rng = np.random.default_rng(3)
    m, r = 120, 40
    labour = rng.normal(size=m)
    means = 0.5 + 0.08 * labour
    y = means[:, None] + rng.normal(scale=0.05, size=(m, r))
    cov = {
        "composition": rng.normal(size=(m, 1)),
        "labour market": labour[:, None],
        "practice": rng.normal(size=(m, 1)),
    }
    d = decompose(y, cov)
    parts = [*GROUPS, "other", "chance"]
    assert sum(d[p] for p in parts) == pytest.approx(d["total"])
    assert all(d[p] >= 0 for p in parts)
    assert d["chance"] == pytest.approx(np.mean(np.var(y, axis=1, ddof=1)))
    assert d["labour market"] == pytest.approx(0.08**2, rel=0.25)
    assert d["composition"] < 0.1 * d["labour market"]
    assert d["practice"] < 0.1 * d["labour market"]


def test_a_share_no_municipality_observed_twice_decomposes_to_nan_without_warnings():
    y = np.full((5, 3), np.nan)
    y[0, 0] = 0.4  # one run with the share is not enough to say anything of its municipality
    cov = {g: np.zeros((5, 1)) for g in GROUPS}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = decompose(y, cov)
    assert set(d) == {*GROUPS, "other", "chance", "total"}
    assert all(math.isnan(v) for v in d.values())


# --------------------------------------------------------------------------- the runs
def test_panel_runs_are_the_same_in_process_and_on_two_processes(tmp_path):
    path = write(tmp_path, "panel.toml", PANEL)
    res = call_cli("municipalities", path, "--out", tmp_path / "one")
    assert res.returncode == 0, res.stderr
    res = call_cli("municipalities", path, "--out", tmp_path / "two", "--jobs", "2")
    assert res.returncode == 0, res.stderr
    for name in ("municipalities.csv", "decomposition.csv", "runs.parquet"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    html = (tmp_path / "one" / "report.html").read_text(encoding="utf-8")
    for chart in ("chart-funnel", "chart-decomposition", "chart-gains"):
        assert chart in html


def test_killed_panel_resumes_to_the_same_bytes(tmp_path):
    path = write(tmp_path, "panel.toml", PANEL)
    res = call_cli("municipalities", path, "--out", tmp_path / "whole")
    assert res.returncode == 0, res.stderr
    out = tmp_path / "killed"
    assert killed_at("municipalities", path, "--out", out, parts=2) == -signal.SIGKILL
    assert len(list((out / "parts").glob("*.parquet"))) == 2
    assert not (out / "municipalities.csv").exists()
    res = call_cli("municipalities", path, "--out", out)
    assert res.returncode == 0, res.stderr
    for name in ("municipalities.csv", "decomposition.csv", "runs.parquet"):
        assert (tmp_path / "whole" / name).read_bytes() == (out / name).read_bytes()


def test_ips_gains_and_every_municipality_is_in_the_table(tmp_path):
    spec = load_panel(write(tmp_path, "panel.toml", PANEL))
    result = run_panel(spec)
    t = result.table
    assert sorted(set(t["municipality_number"])) == ["1101", "1106", "3201"]  # 5636 settled none
    gains = t[t["policy"] == "ips_15"]["gain_work_or_education_at_exit"]
    assert (gains > 0).all()
    d = result.decomposition
    for o in set(d["outcome"]):
        part = d[d["outcome"] == o].set_index("part")["variance"]
        total = sum(part[p] for p in (*GROUPS, "other", "chance"))
        assert total == pytest.approx(part["total"])


def test_dry_run_counts_the_runs(tmp_path):
    path = write(tmp_path, "panel.toml", PANEL)
    res = call_cli("municipalities", path, "--dry-run", "--replications", "5")
    assert res.returncode == 0, res.stderr
    assert "3 municipalities × 2 policies × 5 replicates = 30 runs" in res.stdout


def test_replications_option_is_checked(tmp_path):
    path = write(tmp_path, "panel.toml", PANEL)
    res = call_cli("municipalities", path, "--replications", "1")
    assert res.returncode == 2 and "--replications: expected an integer from 2" in res.stderr


def test_panel_file_paths_are_relative_to_it(tmp_path):
    shipped = load_panel(Path(ROOT / "municipalities" / "national_panel.toml"))
    assert shipped.profile_path.resolve() == PROFILES.resolve()
    assert shipped.names == ("today", "ips_15", "subsidy_40")


# --------------------------------------------------------------------------- trials at real sites
TRIAL = f"""
[trial]
name = "sites"
question = "Does a trial see real differences between municipalities?"
control = "{(SCENARIOS / "baseline.toml").as_posix()}"
treatment = "{(SCENARIOS / "ips.toml").as_posix()}"
outcome = "employed_12m"
horizon_weeks = 70
sample_sizes = [200]
trials = 200
seed = 3
designs = ["individual", "cluster"]

[recruitment]
sites = 40
per_site = 25
weeks = 13
"""


def test_trial_sites_drawn_from_a_profile_are_real_municipalities(tmp_path):
    from introsim.experiments.trial import run_trial
    from introsim.params.trial_file import load_trial

    profile = f'profile = "{PROFILES.as_posix()}"\n'
    real = load_trial(write(tmp_path, "real.toml", TRIAL + profile))
    again = load_trial(write(tmp_path, "again.toml", TRIAL + profile))
    replicas = load_trial(write(tmp_path, "replicas.toml", TRIAL))
    codes = [m.municipality_number for m in real.sites_from]
    assert len(set(codes)) == 40 and codes == [m.municipality_number for m in again.sites_from]
    site = real.site_scenario(1, 0)
    assert site.cohort.size == 25 and site.cohort.intake_weeks == 13
    assert site.follow_up.method == "ips"  # the arm's practice, the municipality's context
    row = real.sites_from[0]
    per_participant = employer_count(site) / 25
    intake = with_profile(real.control, row, "p")
    assert per_participant == pytest.approx(employer_count(intake) / intake.cohort.size, rel=0.3)
    assert real.fingerprint() != replicas.fingerprint()
    # Real municipalities differ: their outcomes correlate within sites more than replicates'.
    icc_real = run_trial(real).icc["control"]
    icc_replicas = run_trial(replicas).icc["control"]
    assert icc_real > icc_replicas


def test_more_trial_sites_than_municipalities_is_refused(tmp_path):
    text = TRIAL.replace("sites = 40", "sites = 400") + f'profile = "{PROFILES.as_posix()}"\n'
    path = write(tmp_path, "t.toml", text)
    res = call_cli("validate", path)
    assert res.returncode == 2
    assert f"{path}:15: recruitment.sites: 400 sites drawn from" in res.stderr


# --------------------------------------------------------------------------- ensemble, observed
ENSEMBLE = """
[[member]]
"labour_market.vacancy_rate" = 0.018

[[member]]
"labour_market.vacancy_rate" = 0.035
"""


def test_an_ensemble_adds_the_mechanisms_intervals(tmp_path):
    path = write(tmp_path, "panel.toml", PANEL.replace("replications = 3", "replications = 2"))
    ensemble = write(tmp_path, "ensemble.toml", ENSEMBLE)
    res = call_cli("municipalities", path, "--ensemble", ensemble, "--out", tmp_path / "out")
    assert res.returncode == 0, res.stderr
    import pandas as pd

    t = pd.read_csv(tmp_path / "out" / "municipalities.csv")
    low = t["work_or_education_at_exit_mechanisms_low"]
    high = t["work_or_education_at_exit_mechanisms_high"]
    assert low.notna().all() and (high > low).all()
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert sorted(set(runs["member"])) == [0, 1] and len(runs) == 3 * 2 * 2 * 2
    # More vacancies, more in work: the member with the higher rate does better on average.
    by_member = runs.groupby("member")["work_or_education_at_exit"].mean()
    assert by_member[1] > by_member[0]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "[mechanisms]" in html


def test_observed_results_are_overlaid_for_comparison_only(tmp_path):
    header = (ROOT / "municipalities" / "observed_2023.csv").read_text(encoding="utf-8")
    rows = (
        "1101,Eigersund,11,Rogaland,2023,40,22,0.55,,made up for a test\n"
        "1106,Haugesund,11,Rogaland,2023,70,30,0.428571,,made up for a test\n"
    )
    observed = write(tmp_path, "observed_2023.csv", header + rows)
    write(
        tmp_path, "kommuner_2024.csv", (ROOT / "municipalities" / "kommuner_2024.csv").read_bytes()
    )
    text = PANEL.replace(
        "replications = 3", f'observed = "{observed.as_posix()}"\nreplications = 2'
    )
    spec = load_panel(write(tmp_path, "panel.toml", text))
    assert [r.municipality_number for r in spec.observed] == ["1101", "1106"]
    from introsim.reporting.panel_report import report_html

    html = report_html(run_panel(spec))
    assert "observed (comparison only)" in html
    bad = write(tmp_path, "observed_2023.csv", header + rows.replace("0.55", "1.5"))
    with pytest.raises(InputError) as err:
        load_panel(write(tmp_path, "panel2.toml", text))
    assert str(err.value).startswith(f"{bad}:4: share_work_or_education_at_exit:")


@pytest.mark.browser
def test_panel_report_is_accessible_at_desktop_and_phone_widths(tmp_path):
    from browser_checks import WIDTHS, check_report
    from test_browser import ARTIFACTS, chromium

    chromium()
    path = write(tmp_path, "panel.toml", PANEL)
    out = tmp_path / "out"
    res = call_cli("municipalities", path, "--out", out)
    assert res.returncode == 0, res.stderr
    problems = check_report(out / "report.html", WIDTHS, screenshots=ARTIFACTS / "panel-a11y")
    assert not problems, "\n".join(problems)


def test_a_horizon_too_short_is_noted_and_unobserved_runs_left_out(tmp_path):
    short = write(
        tmp_path,
        "short.toml",
        f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n[scenario]\nweeks = 60\n',
    )
    text = PANEL.replace((SCENARIOS / "ips_caseload_15.toml").as_posix(), short.as_posix())
    res = call_cli("municipalities", write(tmp_path, "p.toml", text), "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    assert "note: policy ips_15: its horizon (60 weeks) ends before" in res.stderr
    assert "Warning" not in res.stderr
    d = (tmp_path / "o" / "decomposition.csv").read_text(encoding="utf-8")
    assert "nan" not in d.lower()


def test_chance_of_reaching_a_target_and_its_count():
    from introsim.experiments.panel import _count_interval, _reaching_chance

    x = np.array(
        [
            [0.6, 0.6, 0.6],  # always above: certain
            [0.5, 0.5, 0.5],  # always below: never
            [0.5, 0.6, 0.55],  # its average is the target: even odds
            [0.7, np.nan, np.nan],  # one run: nothing to say
        ]
    )
    p = _reaching_chance(x, 0.55)
    assert p == pytest.approx([1.0, 0.0, 0.5, 0.0])
    assert _count_interval(np.array([1.0, 1.0, 0.0])) == (2.0, 2.0)
    low, high = _count_interval(np.full(100, 0.5))
    assert (low, high) == pytest.approx((50 - 1.959964 * 5, 50 + 1.959964 * 5), rel=1e-5)


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('code = "0301"', "municipality.code: [municipality] needs a profile beside its code"),
        ('profile = "p.csv"', "municipality.profile: [municipality] needs a code beside"),
        ('profile = 3\ncode = "0301"', "municipality.profile: expected a string, found"),
        ('profile = "x\\u0000y"\ncode = "0301"', "municipality.profile: 'x\\x00y' is not a file"),
    ],
)
def test_an_incomplete_municipality_table_is_one_line(tmp_path, table, says):
    path = write(tmp_path, "s.toml", f"[municipality]\n{table}\n")
    res = call_cli("validate", path)
    assert res.returncode == 2 and says in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
