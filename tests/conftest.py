"""Shared fixtures: small scenario files and one small comparison, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from introsim.experiments.compare import Comparison, compare
from introsim.params.loader import load_scenario

SMALL_BASE = """\
[scenario]
name = "base"
description = "Small test cohort: standard follow-up"
weeks = 120
seed = 7

[cohort]
size = 200

[follow_up]
method = "standard"
"""

VARIANTS = {
    "ips": 'extends = "base.toml"\n[scenario]\nname = "ips"\n'
    'description = "IPS job specialists"\n[follow_up]\nmethod = "ips"\ncaseload = 20\n',
    "caseload_10": 'extends = "base.toml"\n[scenario]\nname = "caseload_10"\n'
    "[follow_up]\ncaseload = 10\n",
}


@pytest.fixture(scope="session")
def small_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Scenario files of a 200-participant, 120-week cohort: base, ips, caseload_10."""
    folder = tmp_path_factory.mktemp("scenarios")
    files = {"base": folder / "base.toml"}
    files["base"].write_text(SMALL_BASE, encoding="utf-8")
    for name, text in VARIANTS.items():
        files[name] = folder / f"{name}.toml"
        files[name].write_text(text, encoding="utf-8")
    return files


@pytest.fixture(scope="session")
def small_comparison(small_files: dict[str, Path]) -> Comparison:
    """base vs ips vs caseload_10, 4 replicates, in this process."""
    scenarios = [load_scenario(small_files[n]) for n in ("base", "ips", "caseload_10")]
    return compare(scenarios, replications=4)


@pytest.fixture(scope="session")
def dominant_comparison(small_files: dict[str, Path]) -> Comparison:
    """base vs ips at caseload 30 over five years, 6 replicates: ips is cheaper and better."""
    base = load_scenario(small_files["base"]).with_overrides({"scenario.weeks": 260})
    ips = load_scenario(small_files["ips"]).with_overrides(
        {"scenario.weeks": 260, "follow_up.caseload": 30}
    )
    return compare([base, ips], replications=6)
