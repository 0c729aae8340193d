"""The cohort is drawn jointly: its frequencies match the schema's tables, and the
characteristics are related where the sources say (women care more for young children and
have less prior work), within the bounds of the age bands and of adult years.

Tolerances are binomial: Z standard errors of a share p estimated from n draws.
"""

from __future__ import annotations

import numpy as np
import pytest

from introsim.model.model import IntroModel
from introsim.model.population import draw_cohort, sex_age_table
from introsim.params.schema import AGE_BANDS, EDUCATION_LEVELS, Scenario

N = 40_000
Z = 4.0
"""Standard errors allowed per cell: with a few dozen cells checked, a false alarm is rare."""


def _tolerance(p: np.ndarray | float, n: int) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return Z * np.sqrt(p * (1.0 - p) / n)


def _cohort(overrides: dict | None = None, seed: int = 7):
    sc = Scenario().with_overrides({"cohort.size": N, **(overrides or {})})
    gen = np.random.default_rng(seed)
    return sc, draw_cohort(sc, gen, np.random.default_rng(seed + 1))


def _bands(age: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.asarray(AGE_BANDS), age, side="right") - 1


@pytest.fixture(scope="module")
def default():
    return _cohort()


def test_sex_by_age_frequencies_match_the_ssb_table(default):
    sc, r = default
    table = sex_age_table(sc.cohort)
    c = sc.cohort
    counts = np.array([c.men_by_age, c.women_by_age])
    assert np.allclose(table, counts / counts.sum())  # the table is the schema's counts
    observed = np.zeros_like(table)
    np.add.at(observed, (r.sex, _bands(r.age)), 1.0)
    observed /= r.size
    assert (np.abs(observed - table) <= _tolerance(table, r.size)).all(), (observed, table)


def test_age_stays_within_the_bands(default):
    _, r = default
    assert r.age.min() >= AGE_BANDS[0]
    assert r.age.max() < AGE_BANDS[-1]


def test_education_shares_by_sex(default):
    sc, r = default
    for sex, shares in (
        (0, sc.cohort.education_shares_male),
        (1, sc.cohort.education_shares_female),
    ):
        mine = r.sex == sex
        seen = np.bincount(r.education[mine], minlength=len(EDUCATION_LEVELS)) / mine.sum()
        assert (np.abs(seen - shares) <= _tolerance(shares, int(mine.sum()))).all(), (sex, seen)


def test_prior_work_never_exceeds_adult_years(default):
    _, r = default
    assert (r.prior_work_years >= 0).all()
    assert (r.prior_work_years <= r.age - AGE_BANDS[0]).all()
    assert (r.prior_work_years > 0).any()


def _share_gap(flag: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Difference of two shares and its standard error."""
    pa, pb = flag[a].mean(), flag[b].mean()
    se = np.sqrt(pa * (1 - pa) / a.sum() + pb * (1 - pb) / b.sum())
    return float(pa - pb), float(se)


def test_women_care_more_and_worked_less(default):
    sc, r = default
    women, men = r.sex == 1, r.sex == 0
    gap, se = _share_gap(r.care.astype(bool), women, men)
    assert gap > Z * se
    gap, se = _share_gap(r.prior_work_years > 0, men, women)
    assert gap > Z * se
    # Mental-health burden follows the schema's direction by sex.
    gap, se = _share_gap(r.mental_health.astype(bool), women, men)
    c = sc.cohort
    assert np.sign(gap) == np.sign(c.mental_health_share_female - c.mental_health_share_male)
    assert abs(gap) > Z * se


def test_care_follows_the_age_profile(default):
    sc, r = default
    band = _bands(r.age)
    for sex, shares in ((0, sc.cohort.care_male_by_age), (1, sc.cohort.care_female_by_age)):
        for b, p in enumerate(shares):
            mine = (r.sex == sex) & (band == b)
            assert abs(r.care[mine].mean() - p) <= _tolerance(p, int(mine.sum())), (sex, b)
    # Women 26-45 (young children most likely) care more than women 46 and older.
    women = r.sex == 1
    gap, se = _share_gap(
        r.care.astype(bool), women & (band >= 1) & (band <= 2), women & (band >= 3)
    )
    assert gap > Z * se


def test_prior_work_rises_with_education_and_age(default):
    _, r = default
    low, high = r.education == 1, r.education == 3
    gap, se = _share_gap(r.prior_work_years > 0, high, low)
    assert gap > Z * se
    older, young = _bands(r.age) == 2, _bands(r.age) == 0
    assert r.prior_work_years[older].mean() > r.prior_work_years[young].mean()


@pytest.mark.parametrize("share", [0.0, 0.3, 0.7])
def test_share_female_rescales_the_sex_margin_only(share):
    sc, r = _cohort({"cohort.share_female": share})
    assert abs((r.sex == 1).mean() - share) <= _tolerance(share, r.size) + 1.0 / r.size
    # Each sex keeps its own age profile from the table.
    c = sc.cohort
    for sex, row in ((0, c.men_by_age), (1, c.women_by_age)):
        mine = r.sex == sex
        if not mine.any():
            continue
        want = np.asarray(row) / sum(row)
        seen = np.bincount(_bands(r.age[mine]), minlength=len(want)) / mine.sum()
        assert (np.abs(seen - want) <= _tolerance(want, int(mine.sum()))).all()


def test_an_empty_table_is_refused():
    empty = (0, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="women_by_age"):
        Scenario().with_overrides({"cohort.women_by_age": empty, "cohort.men_by_age": empty})


def test_a_table_without_women_refuses_a_female_share():
    with pytest.raises(ValueError, match="share_female"):
        Scenario().with_overrides(
            {"cohort.women_by_age": (0, 0, 0, 0, 0), "cohort.share_female": 0.5}
        )


def test_the_cohort_is_the_same_whatever_the_follow_up():
    base = Scenario().with_overrides({"cohort.size": 300})
    other = base.with_overrides(
        {"follow_up.method": "ips", "follow_up.caseload": 10, "wage_subsidy.rate": 0.4}
    )
    a = IntroModel(base, 11, agents=False).refugees
    b = IntroModel(other, 11, agents=False).refugees
    for field in ("sex", "age", "education", "prior_work_years", "language0", "care"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert np.array_equal(a.mental_health, b.mental_health)
    assert not np.array_equal(a.method, b.method)  # the comparison did change something
