"""Benchmark: wall time of the shipped Sobol study (``experiments/ips_sobol.toml``).

Runs ``introsim sensitivity experiments/ips_sobol.toml --jobs 2`` in a fresh
output folder, as a researcher would, and reports its wall time, runs, N and
replications. ``--quick`` shrinks the cohort and horizon with ``--set`` (a smoke
test; not the figure to quote).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "experiments" / "ips_sobol.toml"
QUICK_SETS = ("cohort.size=60", "scenario.weeks=60")
QUIET_LOAD = 3.0
"""The study takes minutes on both cores: it runs only when the 1-minute load average is below
this (other sessions' work would make its time theirs); ``INTROSIM_BENCH_SOBOL=1`` runs it
anyway."""


def section_sensitivity(quick: bool, command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run the Sobol study on two worker processes and time it end to end."""
    load = os.getloadavg()[0]
    if not quick and load >= QUIET_LOAD and os.environ.get("INTROSIM_BENCH_SOBOL") != "1":
        return {"skipped": f"the 1-minute load average was {load:.1f} (runs below {QUIET_LOAD:g})"}
    sets = [arg for s in QUICK_SETS for arg in ("--set", s)] if quick else []
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [*command, "sensitivity", str(STUDY), "--jobs", "2", "--out", f"{tmp}/out"]
        t0 = time.perf_counter()
        proc = subprocess.run(
            [*cmd, *sets, "--json"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
        data = json.loads(proc.stdout)
        manifest = json.loads((Path(tmp) / "out" / "manifest.json").read_text(encoding="utf-8"))
    sens = manifest["sensitivity"]
    return {
        "study": STUDY.relative_to(ROOT).as_posix(),
        "quick": quick,
        "wall_s": wall,
        "analysis_wall_s": data["wall_time_s"],
        "runs": data["runs"],
        "N": sens["N"],
        "replications": sens["replications"],
        "sample_rows": sens["sample_rows"],
        "converged": [v["converged"] for v in sens["verdicts"]],
        "load": [load, os.getloadavg()[0]],
    }


def md_sensitivity(add: Any, res: dict[str, Any] | None) -> None:
    """The section's lines in RESULTS.md."""
    if res is None:
        add("Not run.")
        add("")
        return
    if "skipped" in res:
        add(f"Not run: {res['skipped']}.")
        add("")
        return
    load = (
        f"; 1-minute load average {res['load'][0]:.1f} at the start, {res['load'][1]:.1f} at "
        "the end (2 cores)"
        if "load" in res
        else ""
    )
    add(
        f"`introsim sensitivity {res['study']} --jobs 2`"
        + (" (quick: a 60-participant, 60-week cohort)" if res["quick"] else "")
        + f": N = {res['N']}, {res['sample_rows']} sample rows × {res['replications']} "
        f"replicates = {res['runs']} runs (with the base point){load}."
    )
    add("")
    add("| wall time, whole command | runs and analysis | runs per second |")
    add("|---:|---:|---:|")
    add(
        f"| {res['wall_s']:.1f} s | {res['analysis_wall_s']:.1f} s | "
        f"{res['runs'] / res['analysis_wall_s']:.1f} |"
    )
    add("")
