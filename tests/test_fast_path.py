"""The fast path of sweeps gives exactly what the full path gives.

``simulate_outcomes`` (compiled week loop, outcomes straight from the arrays, no
pandas, no Mesa agents) must equal ``simulate(...).summary`` to the last bit,
and the compiled loop must equal a Mesa model stepped week by week.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from introsim.model.ledger import LEDGER_OUTCOMES
from introsim.model.model import IntroModel
from introsim.model.outcomes import COST_PARTS, OUTCOMES
from introsim.params.schema import Scenario
from introsim.run import replicate_seed, simulate, simulate_outcomes

CASES = {
    "standard": {},
    "ips_subsidy": {
        "follow_up.method": "ips",
        "follow_up.caseload": 12,
        "wage_subsidy.rate": 0.4,
        "wage_subsidy.eligibility": "low_language",
    },
    "se_inflow_short_horizon": {
        "follow_up.method": "se",
        "cohort.intake_weeks": 30,
        "scenario.weeks": 70,
    },
}


def _bits(x: float) -> bytes:
    return np.float64(x).tobytes()


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("replicate", [0, 3])
def test_simulate_outcomes_equals_the_summary_of_simulate(case, replicate):
    sc = Scenario().with_overrides({"cohort.size": 150, "scenario.weeks": 160, **CASES[case]})
    seed = replicate_seed(11, replicate)
    fast = simulate_outcomes(sc, seed)
    full = simulate(sc, seed).summary
    assert list(fast) == list(full) == [*OUTCOMES, *COST_PARTS, *LEDGER_OUTCOMES]
    for name in full:
        assert _bits(fast[name]) == _bits(full[name]), (name, fast[name], full[name])
    # The comparison is not vacuous: most outcomes are observed numbers.
    assert sum(not math.isnan(v) for v in fast.values()) >= len(OUTCOMES) - 1


def test_simulate_equals_a_mesa_model_stepped_week_by_week():
    sc = Scenario().with_overrides(
        {"cohort.size": 100, "scenario.weeks": 80, **CASES["ips_subsidy"]}
    )
    model = IntroModel(sc, replicate_seed(4, 1))
    while model.running:
        model.step()
    res = simulate(sc, replicate_seed(4, 1))
    assert np.array_equal(res.weekly.drop(columns="week").to_numpy(), model.weekly)
    assert np.array_equal(res.participants["language_end"].to_numpy(), model.refugees.language)
