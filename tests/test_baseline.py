"""The regression baseline: results of the shipped scenarios and small studies are unchanged.

A failure here means results changed. If the change is intended, run
``make update-baseline``, review the difference of ``tests/baseline.json`` and say
in CHANGELOG.md what changed and why.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import baseline

EXPECTED = json.loads(baseline.BASELINE.read_text(encoding="utf-8"))
HINT = "results changed; if intended, run `make update-baseline` and note it in CHANGELOG.md"


def _missing(x: object) -> bool:
    """NaN: an outcome the horizon does not reach (equal to NaN here, unlike in floats)."""
    return isinstance(x, float) and math.isnan(x)


def _differences(found: dict, expected: dict, where: str = "") -> list[str]:
    """Every path where two nested dicts differ, e.g. ``baseline.toml/1/employed_12m``."""
    out = []
    for key in sorted(set(found) | set(expected)):
        a, b = found.get(key), expected.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{where}{key}/")
        elif a != b and not (_missing(a) and _missing(b)):
            out.append(f"{where}{key}: {b!r} -> {a!r}")
    return out


def test_shipped_scenarios_give_the_baseline_outcomes():
    diff = _differences(baseline.scenario_outcomes(), EXPECTED["scenarios"])
    assert not diff, HINT + "\n" + "\n".join(diff[:20])


def test_a_study_of_each_kind_gives_the_baseline_files(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    diff = _differences(baseline.study_outputs(tmp_path), EXPECTED["studies"])
    assert not diff, HINT + "\n" + "\n".join(diff)


def test_the_baseline_covers_every_study_kind():
    kinds = {"compare", "sweep", "sensitivity", "discover", "trial", "calibrate"}
    assert set(EXPECTED["studies"]) == kinds
    assert all("stdout" in files and len(files) >= 4 for files in EXPECTED["studies"].values())
