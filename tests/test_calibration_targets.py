"""Validation: the default scenarios against every band of calibration/targets.toml.

Runs every scenario the targets need with the schema's defaults over enough
common-random-number replicates to check each band, and fails when a default
drifts out of one. Targets the current defaults do not meet are marked
``xfail(strict=True)``: once a recalibration meets them the mark fails and must go.
"""

from __future__ import annotations

import tomllib

import pytest

from introsim.experiments.calibration import evaluate_targets, load_targets

from clitools import ROOT

TARGETS = ROOT / "calibration" / "targets.toml"
CALIBRATION = ROOT / "calibration" / "default.toml"
REPLICATIONS = 20
"""Replicates per scenario: more than a calibration candidate gets, to check the bands."""

NOT_MET: set[str] = set()
"""Targets the current defaults miss (remove a name when the defaults meet its band)."""

NOT_MET_REASON = "not met by the current defaults"


@pytest.fixture(scope="module")
def results():
    """Every target's value under the defaults, over REPLICATIONS replicates."""
    targets = load_targets(TARGETS)
    seed = tomllib.loads(CALIBRATION.read_text(encoding="utf-8"))["calibration"]["seed"]
    # In this process: a fork server started here would import the installed package
    # (Python 3.11's fork server ignores the caller's sys.path), not this source tree.
    found, _ = evaluate_targets(targets, {}, REPLICATIONS, seed)
    return {r.name: r for r in found}


def _cases():
    for t in load_targets(TARGETS).targets:
        marks = [pytest.mark.xfail(strict=True, reason=NOT_MET_REASON)] if t.name in NOT_MET else []
        yield pytest.param(t.name, marks=marks, id=t.name)


def test_not_met_names_are_targets():
    names = {t.name for t in load_targets(TARGETS).targets}
    assert NOT_MET <= names, NOT_MET - names


@pytest.mark.slow
@pytest.mark.parametrize("name", list(_cases()))
def test_defaults_meet_the_band(name, results):
    spec = next(t.spec for t in load_targets(TARGETS).targets if t.name == name)
    r = results[name]
    assert r.n == REPLICATIONS
    what = "interval" if spec.test == "interval" else "mean"
    assert r.met, (
        f"{name}: mean {r.mean:.4f}, 95 % interval [{r.low:.4f}, {r.high:.4f}]; its {what} "
        f"is outside the band {spec.band_text()} ({spec.source})"
    )
