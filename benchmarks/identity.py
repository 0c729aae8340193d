"""Digests of runs, to show a speed-up leaves results identical.

Each case is a shipped scenario (every file in ``scenarios/``) or a variant of one,
run with several seeds. A case's digest is a SHA-256 of everything the run leaves:
the final state of every population and counter, the weekly series, the weekly
ledger and the run's outcomes (floats by their exact bits). One case also records
the history panel, which takes the weeks one at a time from Python.

``python -m benchmarks.identity --against REV`` computes the digests on the working
tree and on commit ``REV`` (its ``src/`` exported to a folder under the temporary
directory, in a child process, so its numba cache persists between calls) and lists
the cases that differ: the check an optimisation must pass before it lands.
``--write FILE`` and ``--check FILE`` store and compare digests of the working tree.
Exit status 1 when any case differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEEDS = (1, 2, 3)
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "ips_5000": ("ips.toml", {"cohort.size": 5000}),
    "se_inflow": ("se.toml", {"cohort.intake_weeks": 52, "wage_subsidy.rate": 0.5}),
    "baseline_subsidy_all": (
        "baseline.toml",
        {"wage_subsidy.rate": 0.6, "wage_subsidy.eligibility": "all"},
    ),
}
"""Variants of shipped scenarios that reach more of the model: name, file and overrides."""
HISTORY_CASE = ("ips.toml", 1)


def _hash_arrays(h: Any, prefix: str, group: Any) -> None:
    items = group._asdict().items() if hasattr(group, "_asdict") else [("", group)]
    for name, value in items:
        h.update(f"{prefix}.{name}".encode())
        if isinstance(value, np.ndarray):
            h.update(str(value.dtype).encode() + str(value.shape).encode())
            h.update(np.ascontiguousarray(value).tobytes())
        else:
            h.update(repr(value).encode())


def _hash_summary(h: Any, summary: dict[str, float]) -> None:
    for name in sorted(summary):
        h.update(name.encode() + float(summary[name]).hex().encode())


def case_digest(scenario: Any, seed: int) -> str:
    """SHA-256 of one run's final state, weekly series, ledger and outcomes.

    The outcomes are taken twice: from the arrays as the reports do, and as sweeps, studies
    and calibration get them (``simulate_outcomes_and_people``, a path of its own).
    """
    from introsim.model.ledger import ledger_outcomes
    from introsim.model.outcomes import participant_outcomes, summarise
    from introsim.model.world import advance, build_world
    from introsim.run import simulate_outcomes_and_people

    weeks = scenario.scenario.weeks
    world = advance(build_world(scenario, seed), 0, weeks)
    h = hashlib.sha256()
    for name in ("refugees", "specialists", "employers", "vacancies", "counters", "accounts"):
        _hash_arrays(h, name, getattr(world, name))
    _hash_arrays(h, "weekly", world.weekly)
    _hash_arrays(h, "ledger", world.ledger)
    summary = summarise(participant_outcomes(world.refugees, weeks))
    summary.update(ledger_outcomes(world.ledger, world.weekly, scenario))
    _hash_summary(h, summary)
    _hash_summary(h, simulate_outcomes_and_people(scenario, seed))
    return h.hexdigest()


def history_digest(scenario: Any, seed: int) -> str:
    """SHA-256 of the history panel and summary of ``simulate(..., history=True)``."""
    import pandas as pd

    from introsim.run import simulate

    result = simulate(scenario, seed, history=True)
    h = hashlib.sha256()
    assert result.history is not None
    h.update(pd.util.hash_pandas_object(result.history, index=False).to_numpy().tobytes())
    _hash_summary(h, result.summary)
    return h.hexdigest()


def digests() -> dict[str, str]:
    """Every case's digest, by case name (``file:seed`` or ``variant:seed``)."""
    from introsim.params.loader import load_scenario

    files = sorted((ROOT / "scenarios").glob("*.toml"))
    out = {}
    for path in files:
        sc = load_scenario(path)
        for seed in SEEDS:
            out[f"{path.name}:{seed}"] = case_digest(sc, seed)
    for name, (file, overrides) in VARIANTS.items():
        sc = load_scenario(ROOT / "scenarios" / file).with_overrides(overrides)
        for seed in SEEDS:
            out[f"{name}:{seed}"] = case_digest(sc, seed)
    file, seed = HISTORY_CASE
    out[f"history:{file}:{seed}"] = history_digest(load_scenario(ROOT / "scenarios" / file), seed)
    return out


def digests_at(rev: str) -> dict[str, str]:
    """The digests of commit ``rev``'s model (its ``src/``), computed in a child process."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", rev], capture_output=True, text=True, check=True
    ).stdout.strip()
    folder = Path(tempfile.gettempdir()) / f"introsim-identity-{sha[:12]}"
    if not (folder / "src").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", sha, "src"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    env = dict(os.environ, PYTHONPATH=str(folder / "src") + os.pathsep + str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.identity", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def compare(mine: dict[str, str], theirs: dict[str, str], label: str) -> int:
    """Print the cases that differ; return the exit status (1 if any differ)."""
    differ = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
    for k in differ:
        print(f"differs from {label}: {k}")
    print(f"{len(mine) - len(differ)} of {len(mine)} cases identical to {label}")
    return 1 if differ else 0


def main() -> None:
    """Command line: see the module's docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the digests as JSON")
    ap.add_argument("--write", type=Path, help="store the digests in this file")
    ap.add_argument("--check", type=Path, help="compare with digests stored in this file")
    ap.add_argument("--against", help="compare with the digests of this commit")
    args = ap.parse_args()
    mine = digests()
    if args.json:
        print(json.dumps(mine, indent=1, sort_keys=True))
    if args.write:
        args.write.write_text(json.dumps(mine, indent=1, sort_keys=True) + "\n")
    status = 0
    if args.check:
        status |= compare(mine, json.loads(args.check.read_text()), str(args.check))
    if args.against:
        status |= compare(mine, digests_at(args.against), args.against)
    raise SystemExit(status)


if __name__ == "__main__":
    main()
