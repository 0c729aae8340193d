"""The regression baseline: what the shipped scenarios and a small study of each kind give.

``tests/baseline.json`` holds, for fixed seeds, every outcome of every shipped
scenario (readable numbers, so a change of results shows in review) and, for a
small study of each kind run through the command line, a digest of each data
file it writes and of what it prints. ``tests/test_baseline.py`` compares
against it; ``make update-baseline`` rewrites it after an intended change.

Digests are taken of content, not of file bytes where the bytes name a library
version: a table is digested as its column types and its CSV text, without its
run ids (a hash of the model's source files, which changes with any edit of
them, a comment too, and keeps stored runs of another model from being reused).
Manifests are digested without what differs between two identical runs (the
time, the wall time, the command, the commit, versions).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from conftest import SMALL_BASE, VARIANTS

from clitools import ROOT, call_cli, write

BASELINE = Path(__file__).with_name("baseline.json")
SEEDS = (1, 2)
"""Seeds each shipped scenario runs with."""

VOLATILE = {
    "command",
    "created_utc",
    "executor",
    "git_commit",
    "introsim_version",
    "jobs",
    "model_version",
    "packages",
    "wall_time_s",
}
"""Manifest keys that differ between two runs of the same study."""

GRID = """\
[experiment]
name = "baseline_grid"
question = "Baseline: does the caseload matter in a small cohort?"
base = "base.toml"
replications = 2
seed = 11
design = "grid"

[factors]
"follow_up.caseload" = { levels = [10, 30] }
"wage_subsidy.rate" = { levels = [0.0, 0.4] }
"""

MORRIS = """\
[experiment]
name = "baseline_morris"
question = "Baseline: which mechanisms matter in a small cohort?"
base = "base.toml"
replications = 2
seed = 5
design = "morris"
trajectories = 3
outcomes = ["employed_12m", "cost_per_participant_nok"]

[factors]
"mechanisms.language_slope" = { min = 0.6, max = 1.8 }
"mechanisms.separation_hazard" = { min = 0.002, max = 0.012, scale = "log" }
"""

TRIAL = """\
[trial]
name = "baseline_trial"
question = "Baseline: does IPS raise work at 12 months in a small cohort?"
control = "base.toml"
treatment = "ips.toml"
outcome = "employed_12m"
horizon_weeks = 60
sample_sizes = [40, 80]
trials = 100
seed = 5
designs = ["individual"]  # 4 sites of 30 are too few for a cluster trial of 40 or 80

[recruitment]
sites = 4
per_site = 30
weeks = 4

[take_up]
share = 0.6
language = 2.0
mental_health = -1.0
care = -0.5
"""

TARGETS = """\
[[target]]
name = "exit"
statistic = "work_or_education_at_exit"
scenario = "base.toml"
band = [0.40, 0.60]
source = "a test band"

[[target]]
name = "ips_ahead"
statistic = "employed_12m"
terms = [{ scenario = "ips.toml" }, { scenario = "base.toml", coef = -1 }]
band = [0.0, inf]
scale = 0.05
test = "interval"
source = "a test band"
"""

CALIBRATION = """\
[calibration]
name = "baseline_calibration"
targets = "targets.toml"
replicates = 2
seed = 5
waves = 1
points = 10
members = 3
member_rounds = 2
candidates = 256
discrepancy_sd = 0.05
recovery_members = 2

[parameters]
"mechanisms.separation_hazard" = { min = 0.002, max = 0.012, scale = "log" }
"programme.inactive_share" = { min = 0.1, max = 0.4 }
"""


def scenario_outcomes() -> dict[str, dict[str, dict[str, float]]]:
    """Every outcome of every shipped scenario, per seed of :data:`SEEDS`."""
    from introsim.params.loader import load_scenario
    from introsim.run import simulate_outcomes

    found: dict[str, dict[str, dict[str, float]]] = {}
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        scenario = load_scenario(path)
        found[path.name] = {
            str(seed): {k: float(v) for k, v in simulate_outcomes(scenario, seed).items()}
            for seed in SEEDS
        }
    return found


def _digest(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:16]


def file_digest(path: Path) -> str:
    """A digest of a result file's content (see the module docstring)."""
    if path.suffix in (".parquet", ".csv"):
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        df = df.drop(columns=["run_id"], errors="ignore")
        return _digest(str(df.dtypes.to_dict()) + df.to_csv(index=False, lineterminator="\n"))
    if path.name == "manifest.json":
        return _digest(json.dumps(_steady(json.loads(path.read_text())), sort_keys=True))
    if path.suffix == ".toml":
        # A posterior file names the model version it was made with (a hash of the source).
        return _digest(re.sub(r'(?m)^"?model_version"? = .*$', "", path.read_text()))
    return _digest(path.read_bytes())


def _steady(data: Any) -> Any:
    """``data`` without the keys (at any depth) that differ between two runs of one study."""
    if isinstance(data, dict):
        return {k: _steady(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [_steady(v) for v in data]
    return data


def printed(text: str) -> str:
    """What a command printed, with its wall times taken out."""
    return re.sub(r"\d+(\.\d+)? s\)", "T s)", text)


def folder_digests(folder: Path) -> dict[str, str]:
    """Digests of a study folder's data files (the report and the stored parts aside)."""
    return {
        p.relative_to(folder).as_posix(): file_digest(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and p.suffix in (".parquet", ".csv", ".json", ".toml")
        and "parts" not in p.relative_to(folder).parts
        and not p.name.startswith(".")
        and p.name != "experiment.json"
    }


def study_outputs(folder: Path) -> dict[str, dict[str, Any]]:
    """Run a small study of each kind through the command line; digest what each wrote."""
    write(folder, "base.toml", SMALL_BASE)
    for name, text in VARIANTS.items():
        write(folder, f"{name}.toml", text)
    files = {
        "grid.toml": GRID,
        "morris.toml": MORRIS,
        "trial.toml": TRIAL,
        "targets.toml": TARGETS,
        "cal.toml": CALIBRATION,
    }
    for name, text in files.items():
        write(folder, name, text)
    out = folder / "out"
    commands = {
        "compare": ("compare", "base.toml", "ips.toml", "caseload_10.toml", "-r", "3"),
        "sweep": ("sweep", "grid.toml"),
        "sensitivity": ("sensitivity", "morris.toml"),
        "discover": ("discover", "out/sweep", "--outcome", "employed_12m", "--below", "0.12"),
        "trial": ("trial", "trial.toml"),
        "calibrate": ("calibrate", "cal.toml"),
    }
    found: dict[str, dict[str, Any]] = {}
    for kind, args in commands.items():
        result = call_cli(*args, "--out", f"out/{kind}", cwd=folder)
        if result.returncode != 0:
            raise RuntimeError(f"{kind}: exit {result.returncode}: {result.stderr}")
        found[kind] = {"stdout": _digest(printed(result.stdout)), **folder_digests(out / kind)}
    return found


def baseline(folder: Path) -> dict[str, Any]:
    """The whole baseline, with the studies run in ``folder``."""
    return {"scenarios": scenario_outcomes(), "studies": study_outputs(folder)}


def main() -> None:
    """``python tests/baseline.py``: rewrite :data:`BASELINE` from this checkout."""
    import tempfile

    os.environ["COLUMNS"] = "100"  # as the test sets it: tables are drawn this wide or wider
    with tempfile.TemporaryDirectory() as tmp:
        data = baseline(Path(tmp))
    text = io.StringIO()
    json.dump(data, text, indent=1, sort_keys=True)
    BASELINE.write_text(text.getvalue() + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {BASELINE.relative_to(ROOT)}\n")


if __name__ == "__main__":
    main()
