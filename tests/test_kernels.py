"""Each kernel gives the same result compiled and as pure Python (``.py_func``).

The inputs are the model's own, taken at several weeks of small runs with
random seeds, so every branch (search, ties, subsidies, exits) is exercised.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numba
import numpy as np
import pytest

from introsim.model import kernels, world
from introsim.model.model import EVENT_COLUMN, IntroModel
from introsim.params.catalog import iter_params
from introsim.params.schema import Scenario

KERNELS = kernels.WEEKLY_KERNELS
CHECK_WEEKS = {0, 3, 20, 45, 60, 90}


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, tuple):  # the kernels' named groups, and tuples of results
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


class _Checker:
    """Stands in for a kernel: at chosen weeks runs compiled and py_func on copies and compares."""

    def __init__(self, name: str, real, model_ref: list):
        self.name, self.real, self.model_ref = name, real, model_ref
        self.checked = 0

    def __call__(self, *args):
        model = self.model_ref[0]
        if model.week in CHECK_WEEKS:
            a, b = copy.deepcopy(args), copy.deepcopy(args)
            out_c = self.real(*a)
            out_p = self.real.py_func(*b)
            assert _same(out_c, out_p), f"{self.name}: return {out_c!r} != {out_p!r}"
            for j, (x, y) in enumerate(zip(a, b, strict=True)):
                assert _same(x, y), f"{self.name}: argument {j} differs after the call"
            self.checked += 1
        return self.real(*args)


SCENARIOS = {
    "standard": {},
    "ips_subsidy": {
        "follow_up.method": "ips",
        "follow_up.caseload": 8,
        "wage_subsidy.rate": 0.6,
        "wage_subsidy.weeks": 30,
        "wage_subsidy.step_down_week": 10,
        "wage_subsidy.rate_after_step_down": 0.5,
        "wage_subsidy.eligibility": "low_language",
    },
    "se_inflow_waiting": {
        "follow_up.method": "se",
        "follow_up.specialists": 2,
        "follow_up.caseload": 10,
        "cohort.intake_weeks": 30,
        "programme.max_weeks": 40,
        "programme.education_hazard": 0.05,
        "cohort.language_mean": 2.5,
    },
}


@pytest.mark.parametrize("name", list(SCENARIOS))
@pytest.mark.parametrize("seed", [3, 11])
def test_kernels_match_pure_python(monkeypatch, name, seed):
    sc = Scenario().with_overrides({"cohort.size": 70, "scenario.weeks": 100, **SCENARIOS[name]})
    model_ref: list = []
    checkers = {}
    for k in KERNELS:
        checkers[k] = _Checker(k, getattr(kernels, k), model_ref)
        monkeypatch.setattr(kernels, k, checkers[k])
    # The week as plain Python looks each kernel up in the module, so the checkers run.
    monkeypatch.setattr(kernels, "run_week", kernels.run_week.py_func)
    model = IntroModel(sc, seed, agents=False)
    model_ref.append(model)
    while model.running:
        model.step()
    for k, c in checkers.items():
        assert c.checked == len(CHECK_WEEKS), f"{k} checked {c.checked} times"
    # The runs must have exercised the interesting branches.
    assert model.weekly[:, EVENT_COLUMN["hires"]].sum() > 0, "no hires: matching was not exercised"


def test_uniform_draws_are_keyed_and_uniform():
    u = np.array([kernels.uniform(12345, 7, i, kernels.S_APPS) for i in range(20000)])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01
    assert abs(u.var() - 1 / 12) < 0.005
    # Same key, week, index and stream: the same draw; any one changed: another.
    a = kernels.uniform(1, 2, 3, 4)
    assert a == kernels.uniform(1, 2, 3, 4)
    assert (
        len(
            {
                a,
                kernels.uniform(2, 2, 3, 4),
                kernels.uniform(1, 3, 3, 4),
                kernels.uniform(1, 2, 4, 4),
                kernels.uniform(1, 2, 3, 5),
            }
        )
        == 5
    )


def test_gumbel_bins_bound_every_draw_in_them():
    """Matching skips or settles a comparison on these bounds: each must hold, edges included."""
    bins, step = kernels.GUMBEL_BINS, 2.0**-53
    margin = kernels.SKIP_MARGIN
    for k in range(bins):
        # The smallest and largest u in bin k, and one inside it.
        lo = k / bins
        hi = min((k + 1) / bins - step, 1.0 - step)
        for u in (lo, (lo + hi) / 2, hi):
            g = kernels.gumbel_of(u)
            assert kernels.GUMBEL_FLOOR[k] - margin <= g <= kernels.GUMBEL_CEILING[k] + margin
            assert int(u * bins) == k
    # The bounds are tight enough to settle most comparisons: the middle bins are narrow.
    width = kernels.GUMBEL_CEILING[1:-1] - kernels.GUMBEL_FLOOR[1:-1]
    assert np.median(width) < 0.02


def test_normal_draws_have_unit_spread():
    z = np.array([kernels.normal(99, 1, i, kernels.S_NOISE) for i in range(20000)])
    assert abs(z.mean()) < 0.03
    assert abs(z.std() - 1.0) < 0.03


def test_gumbel_max_gives_the_conditional_logit_choice():
    # Three options (say two applicants and the outside candidates) with values v and a
    # Gumbel term of scale s each: the argmax falls on option j with chance softmax(v / s).
    values, scale, n = np.array([0.0, 0.3, -0.2]), 0.27, 40000
    wk = kernels.week_key(2024, 3)
    picks = np.zeros(3)
    for trial in range(n):
        u = [values[j] + scale * kernels.gumbel(wk, trial, kernels.S_NOISE + j) for j in range(3)]
        picks[int(np.argmax(u))] += 1
    expected = np.exp(values / scale) / np.exp(values / scale).sum()
    se = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(picks / n - expected) < 4 * se), (picks / n, expected)


def test_logistic_draws_have_the_logistic_spread():
    wk = kernels.week_key(5, 1)
    x = np.array([kernels.logistic(wk, i, kernels.S_KEEP) for i in range(40000)])
    assert np.isfinite(x).all()
    assert abs(x.mean()) < 0.03
    assert abs(x.var() - np.pi**2 / 3) < 0.1
    # The binary logit: P(x < t) = 1 / (1 + exp(-t)).
    assert abs((x < 1.0).mean() - 1 / (1 + np.exp(-1.0))) < 0.01


def test_strengthen_takes_free_then_weakest_slot():
    emp = np.full((1, 3), -1, dtype=np.int32)
    st = np.zeros((1, 3))
    for e, g in [(5, 0.5), (6, 0.2), (7, 0.9)]:
        kernels._strengthen(emp, st, 0, e, g)
    assert emp.tolist() == [[5, 6, 7]]
    kernels._strengthen(emp, st, 0, 5, 0.5)  # known employer: grows towards 1
    assert st[0, 0] == pytest.approx(0.75)
    kernels._strengthen(emp, st, 0, 8, 0.3)  # full: replaces the weakest (employer 6)
    assert emp.tolist() == [[5, 8, 7]]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_compiled_week_loop_equals_stepping_week_by_week(name):
    sc = Scenario().with_overrides({"cohort.size": 120, "scenario.weeks": 90, **SCENARIOS[name]})
    looped = IntroModel(sc, 5, agents=False).run()
    stepped = IntroModel(sc, 5, agents=False)
    while stepped.running:
        stepped.step()
    assert looped.week == stepped.week == sc.scenario.weeks
    assert np.array_equal(looped.weekly, stepped.weekly)
    assert looped.weekly[:, EVENT_COLUMN["hires"]].sum() > 0
    for group in ("refugees", "specialists", "employers", "vacancies", "counters"):
        assert _same(getattr(looped, group), getattr(stepped, group)), group


def test_run_continues_from_where_stepping_stopped():
    sc = Scenario().with_overrides({"cohort.size": 80, "scenario.weeks": 60})
    whole = IntroModel(sc, 8, agents=False).run()
    part = IntroModel(sc, 8, agents=False)
    for _ in range(25):
        part.step()
    part.run()
    assert part.steps == whole.steps == sc.scenario.weeks
    assert np.array_equal(whole.weekly, part.weekly)
    assert _same(whole.refugees, part.refugees)


def test_kernel_groups_cannot_be_swapped():
    """Kernels take named groups: passing one group in another's place fails to compile."""
    model = IntroModel(Scenario().with_overrides({"cohort.size": 30, "scenario.weeks": 5}), 1)
    w = model.world
    with pytest.raises(numba.core.errors.TypingError):
        kernels.jobs_week(0, w.specialists, w.refugees, w.tables, w.params)


def _kernel_params_read() -> set[str]:
    """Every ``params.NAME`` the kernels read, from their source."""
    source = Path(kernels.__file__).read_text(encoding="utf-8")
    return set(re.findall(r"(?<![.\w])params\.(\w+)", source))


def test_every_kernel_parameter_maps_to_a_schema_field():
    fields = set(world.Params._fields)
    read = _kernel_params_read()
    assert read, "found no params.NAME in the kernels"
    assert read <= fields, f"kernels read constants Params lacks: {sorted(read - fields)}"
    schema_paths = {info.path for info in iter_params()}
    from_schema = {f.name: f.path for f in world.KERNEL_FIELDS}
    run = {name for name, _ in world.RUN_FIELDS}
    for name in fields:
        if name in run:
            continue
        if name in world.DERIVED:
            inputs = world.DERIVED[name].inputs
            assert inputs and set(inputs) <= schema_paths, f"{name}: inputs {inputs}"
        else:
            assert from_schema[name] in schema_paths, name
    # No declared kernel field is left unread: a mark without a use would hide a dead parameter.
    unread = (set(from_schema) | set(world.DERIVED)) - read
    assert not unread, f"declared for the kernels but never read: {sorted(unread)}"


def test_params_carry_the_scenario_values_under_their_kernel_names():
    sc = Scenario().with_overrides(
        {"mechanisms.tie_decay": 0.031, "wage_subsidy.rate": 0.4, "programme.max_weeks": 60}
    )
    p = IntroModel(sc, 1, agents=False).params
    assert p.tie_decay == 0.031 and p.subsidy_rate == 0.4 and p.max_weeks == 60
    assert isinstance(p.max_weeks, int) and isinstance(p.tie_decay, float)
    assert p.education_gain.dtype == np.float64
    assert p.education_gain.tolist() == list(sc.programme.education_gain)


def test_plausible_ranges_lie_inside_the_bounds_around_the_default():
    declared = [p for p in iter_params() if p.plausible is not None]
    assert len(declared) > 20
    for p in declared:
        low, high = p.plausible
        assert low < high, p.path
        assert p.low is None or low >= p.low, p.path
        assert p.high is None or high <= p.high, p.path
        values = p.default if isinstance(p.default, tuple) else (p.default,)
        for v in values:
            assert low <= v <= high, f"{p.path}: default {p.default} outside {p.plausible}"


def test_every_method_profile_value_has_a_source_or_a_plausible_range():
    for p in iter_params():
        if p.path.startswith("methods."):
            assert p.source, f"{p.path} has no source"
            if p.source.startswith("assumption"):
                assert p.plausible is not None, f"{p.path}: an assumption without a range"
