"""Properties that follow from the model's structure, tested as mechanisms, not fitted as targets.

Three former calibration targets could not fail given how the model is built, so they
constrained nothing: a wage subsidy never makes an applicant worth less to an employer,
specialist time per participant only grows as the caseload falls, and per-protocol
estimates lie above intention to treat whenever take-up is selective and the effect
positive. They are checked here as directions of mechanisms over paired replicates (the
third in ``test_trial.py``: per protocol is biased upwards by selective take-up).
"""

from __future__ import annotations

from introsim.params.schema import Scenario
from test_model import _paired_gain

IPS = Scenario().with_overrides(
    {"cohort.size": 300, "scenario.weeks": 104, "follow_up.method": "ips"}
)


def _employed_12m(res) -> float:
    return res.summary["employed_12m"]


def test_a_wage_subsidy_never_lowers_employment_at_12_months():
    without = IPS.with_overrides({"follow_up.caseload": 23})
    with_subsidy = without.with_overrides(
        {"wage_subsidy.rate": 0.4, "wage_subsidy.eligibility": "all"}
    )
    gain, se = _paired_gain(without, with_subsidy, _employed_12m)
    assert gain > 3 * se > 0


def test_a_lower_caseload_raises_employment_at_12_months():
    gain, se = _paired_gain(
        IPS.with_overrides({"follow_up.caseload": 30}),
        IPS.with_overrides({"follow_up.caseload": 10}),
        _employed_12m,
    )
    assert gain > 3 * se > 0
