"""The model: determinism, invariants every week, Mesa views, and mechanisms' directions."""

from __future__ import annotations

import random

import mesa
import numpy as np
import pandas as pd
import pytest

from introsim.model.agents import Employer, Refugee, Specialist
from introsim.model.model import IntroModel
from introsim.model.state import Status
from introsim.params.schema import Scenario
from introsim.run import replicate_seed, simulate

SMALL = {"cohort.size": 150, "scenario.weeks": 130}

INVARIANT_CASES = {
    "standard": {},
    "ips": {"follow_up.method": "ips", "follow_up.caseload": 12},
    "se_subsidy": {
        "follow_up.method": "se",
        "wage_subsidy.rate": 0.4,
        "wage_subsidy.weeks": 52,
        "wage_subsidy.step_down_week": 26,
        "wage_subsidy.rate_after_step_down": 0.3,
    },
    "inflow_short_staffed": {
        "follow_up.method": "ips",
        "follow_up.specialists": 3,
        "follow_up.caseload": 10,
        "cohort.intake_weeks": 40,
    },
    "raskt_i_jobb_take_up": {
        "follow_up.method": "ips",
        "follow_up.take_up": 0.6,
        "follow_up.take_up_language_slope": 2.0,
    },
}


@pytest.mark.parametrize("case", list(INVARIANT_CASES))
def test_invariants_hold_every_week(case):
    sc = Scenario().with_overrides({**SMALL, **INVARIANT_CASES[case]})
    model = IntroModel(sc, 5, agents=False)
    n = sc.cohort.size
    while model.running:
        model.step()
        model.check_invariants()
        counts = model.weekly[model.week - 1, : len(Status)]
        assert counts.sum() == n  # exactly one status each; nobody created or lost
    assert model.week == sc.scenario.weeks
    if case == "inflow_short_staffed":
        assert model.weekly[:, Status.WAITING].max() > 0, "the cap never bit"


def test_invariant_check_catches_a_broken_state():
    model = IntroModel(Scenario().with_overrides(SMALL), 1, agents=False)
    for _ in range(60):
        model.step()
    employed = np.flatnonzero(model.refugees.status == Status.EMPLOYED)
    assert employed.size >= 2
    model.refugees.job_vacancy[employed[1]] = model.refugees.job_vacancy[employed[0]]
    with pytest.raises(RuntimeError, match="same vacancy"):
        model.check_invariants()


def test_same_seed_same_results_different_seed_differs():
    sc = Scenario().with_overrides(SMALL)
    a, b, c = simulate(sc, 42), simulate(sc, 42), simulate(sc, 43)
    assert a.weekly.equals(b.weekly) and a.participants.equals(b.participants)
    assert pd.Series(a.summary).equals(pd.Series(b.summary))  # NaN-aware
    assert not a.participants.equals(c.participants)


def test_no_global_random_state_is_used_or_changed():
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 (checking it is untouched)
    py_state = random.getstate()
    simulate(Scenario().with_overrides(SMALL), 3)
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    assert random.getstate() == py_state


def test_cohort_is_the_same_whatever_the_method_or_caseload():
    """Common random numbers: replicate r draws the same people in every scenario."""
    seed = replicate_seed(9, 2)
    a = IntroModel(Scenario().with_overrides(SMALL), seed, agents=False).refugees
    other = {**SMALL, "follow_up.method": "ips", "follow_up.caseload": 7}
    b = IntroModel(Scenario().with_overrides(other), seed, agents=False).refugees
    for field in ("age", "sex", "education", "language0", "mental_health", "care"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field


def test_agents_are_views_usable_by_mesa_tools():
    sc = Scenario().with_overrides({"cohort.size": 60, "scenario.weeks": 70})
    model = IntroModel(sc, 2)
    refugees = model.agents_by_type[Refugee]
    assert len(refugees) == 60
    assert len(model.agents_by_type[Specialist]) == model.specialists.size
    assert len(model.agents_by_type[Employer]) == model.employers.size
    collector = mesa.DataCollector(
        model_reporters={
            "in_work": lambda m: int(
                m.agents_by_type[Refugee].select(lambda a: a.employed).__len__()
            )
        },
        agent_reporters={"language": "language", "status": "status"},
    )
    for _ in range(60):
        model.step()
        collector.collect(model)
    agent_df = collector.get_agent_vars_dataframe()
    last = agent_df.xs(60, level="Step")
    assert len(last) == 60 + model.specialists.size + model.employers.size
    langs = last["language"].dropna().to_numpy()
    assert np.allclose(np.sort(langs), np.sort(model.refugees.language))
    in_work = int(np.isin(model.refugees.status, (Status.EMPLOYED, Status.SUBSIDISED)).sum())
    assert collector.get_model_vars_dataframe()["in_work"].iloc[-1] == in_work
    # A view reads through to the arrays: a change there shows at once.
    r0 = model.refugee_agents[0]
    model.refugees.language[0] = 4.25
    assert r0.language == 4.25


def _paired_gain(a: Scenario, b: Scenario, measure, n: int = 8) -> tuple[float, float]:
    """Mean and standard error of measure(b) - measure(a) over n paired seeds."""
    d = np.array(
        [
            measure(simulate(b, replicate_seed(7, r))) - measure(simulate(a, replicate_seed(7, r)))
            for r in range(n)
        ]
    )
    return d.mean(), d.std(ddof=1) / np.sqrt(n)


MECH = Scenario().with_overrides({"cohort.size": 400, "scenario.weeks": 104})


def _hires(res) -> float:
    return float(res.weekly["hires"].sum())


def _employed_12m(res) -> float:
    return res.summary["employed_12m"]


def test_higher_subsidy_rate_raises_hires():
    a = MECH.with_overrides({"wage_subsidy.rate": 0.2, "wage_subsidy.weeks": 52})
    b = MECH.with_overrides({"wage_subsidy.rate": 0.6, "wage_subsidy.weeks": 52})
    gain, se = _paired_gain(a, b, _hires)
    assert gain > 3 * se > 0


def test_lower_caseload_raises_employment_at_12_months():
    ips = MECH.with_overrides({"follow_up.method": "ips"})
    gain, se = _paired_gain(
        ips.with_overrides({"follow_up.caseload": 40}),
        ips.with_overrides({"follow_up.caseload": 10}),
        _employed_12m,
    )
    assert gain > 3 * se > 0


def test_better_starting_language_raises_employment_at_12_months():
    gain, se = _paired_gain(MECH, MECH.with_overrides({"cohort.language_mean": 1.5}), _employed_12m)
    assert gain > 3 * se > 0


def test_ips_beats_standard_on_employment_at_12_months():
    gain, se = _paired_gain(
        MECH,
        MECH.with_overrides({"follow_up.method": "ips", "follow_up.caseload": 20}),
        _employed_12m,
    )
    assert gain > 3 * se > 0


def test_partial_method_table_keeps_the_methods_own_values():
    sc = Scenario.model_validate({"methods": {"ips": {"training_hours": 15.0}}})
    default = Scenario().methods.ips
    assert sc.methods.ips.training_hours == 15.0
    assert sc.methods.ips.employer_time_share == default.employer_time_share
    assert sc.methods.ips.follow_along_weeks == default.follow_along_weeks


def test_programme_lasts_max_weeks_with_benefit_for_each_week():
    weeks = 10
    sc = Scenario().with_overrides(
        {
            "cohort.size": 50,
            "scenario.weeks": 20,
            "cohort.men_by_age": (0, 0, 1, 0, 0),  # all 36-45
            "cohort.women_by_age": (0, 0, 1, 0, 0),
            "programme.max_weeks": weeks,
            "programme.education_hazard": 0.0,
            "labour_market.outside_bar": 10.0,  # the bound: nobody is hired, all stay
        }
    )
    model = IntroModel(sc, 4, agents=False).run()
    # Counts are end-of-week snapshots: in the tenth week (index 9) they leave.
    in_programme = model.weekly[:, Status.PROGRAMME]
    assert in_programme[: weeks - 1].tolist() == [50] * (weeks - 1)
    assert in_programme[weeks - 1 :].sum() == 0
    assert (model.refugees.exit_week == weeks - 1).all()
    assert np.allclose(model.refugees.cost_benefit, weeks * model.benefit_week)
