"""Before and after: the same measurements on several commits, back to back, pinned to one core.

``python -m benchmarks.commits 60a768d aa0f195 HEAD`` exports each commit's ``src/`` and
``scenarios/`` to a folder under the temporary directory (kept, so its numba cache is
compiled once; the working tree is measured as ``WORKTREE``), then in rounds, each commit in
turn in a fresh child process pinned to CPU 1 (``taskset``, where available), measures:

* the full model, 100,000 participants × 260 weeks (default scenario): CPU time of
  ``simulate``, ns per participant-week;
* the 500-participant baseline and IPS (the commit's ``scenarios/*.toml``): runs per second
  of CPU time, warm, of the cheapest call a sweep can make (``simulate_outcomes`` where the
  commit has it, else ``simulate``);
* ``introsim run scenarios/baseline.toml`` with a warm numba cache and warm bytecode
  (:func:`warm_start_env`): the whole process's wall and CPU time (user + system).

Medians over the rounds are reported, and CPU time beside wall time: the machine is shared,
and CPU time is what another session's load changes least. ``benchmarks.run`` (``make
bench``) calls :func:`section_commits` for its before/after table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKTREE = "WORKTREE"
BIG = 100_000
SMALL_REPS = 40

_CHILD = r"""
import json, statistics, sys, time
from pathlib import Path
root, big, reps = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
try:  # the layout since the model moved into packages
    from introsim.params.loader import load_scenario
    from introsim.params.schema import Scenario
    from introsim import run as runner
except ImportError:  # the layout of November 2026
    from introsim.scenario import load_scenario
    from introsim.schema import Scenario
    from introsim import runner
one_run = getattr(runner, "simulate_outcomes", None)
call = "simulate_outcomes" if one_run else "simulate"
one_run = one_run or runner.simulate
out = {"call": call}
for name in ("baseline", "ips"):
    sc = load_scenario(root / "scenarios" / f"{name}.toml")
    one_run(sc, 0)
    cpu = []
    for r in range(reps):
        t = time.process_time(); one_run(sc, r + 1); cpu.append(time.process_time() - t)
    out[name] = statistics.median(cpu)
if big:
    # A small run first: simulate's tables import pandas, which is not the model's time.
    runner.simulate(Scenario().with_overrides({"cohort.size": 200, "scenario.weeks": 60}), 0)
    sc = Scenario().with_overrides({"cohort.size": big})
    t = time.process_time(); runner.simulate(sc, 1); cpu = time.process_time() - t
    out["big_cpu"] = cpu
print(json.dumps(out))
"""


def export(rev: str) -> Path:
    """The folder holding commit ``rev``'s ``src/`` (exported once), or this tree's ``src``."""
    if rev == WORKTREE:
        return ROOT
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", rev], capture_output=True, text=True, check=True
    ).stdout.strip()
    folder = Path(tempfile.gettempdir()) / f"introsim-identity-{sha[:12]}"
    for part in ("src", "scenarios"):  # the commit's own scenario files, which its model reads
        if not (folder / part).is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", sha, part], capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def _pinned(cmd: list[str]) -> list[str]:
    return ["taskset", "-c", "1", *cmd] if shutil.which("taskset") else cmd


def warm_start_env(env: dict[str, str], pycache: Path) -> dict[str, str]:
    """``env`` for timing a warm start: Python's bytecode kept under ``pycache``.

    A warm start reads every module's bytecode from its cache, as an installed introsim
    does from its second run on. With ``PYTHONDONTWRITEBYTECODE`` set (as in some shells
    and CI images) nothing is ever cached and every run compiles introsim's own modules
    again, about 0.1 s; so it is dropped, and the bytecode goes to ``pycache``
    (``PYTHONPYCACHEPREFIX``) rather than into the source tree. The first run fills it.
    """
    out = dict(env, PYTHONPYCACHEPREFIX=str(pycache))
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    return out


def _env(folder: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(folder / "src"))
    return warm_start_env(env, Path(tempfile.gettempdir()) / "introsim-bench-pycache")


def measure(folder: Path, big: int, reps: int) -> dict[str, Any]:
    """One child process's model timings, and one warm ``introsim run``'s, for one commit."""
    cmd = _pinned([sys.executable, "-c", _CHILD, str(folder), str(big), str(reps)])
    proc = subprocess.run(cmd, env=_env(folder), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"model timings at {folder} failed:\n{proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    with tempfile.TemporaryDirectory() as tmp:
        run = [sys.executable, "-m", "introsim", "run", str(folder / "scenarios" / "baseline.toml")]
        run += ["--out", f"{tmp}/out"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(_pinned(run), env=_env(folder), capture_output=True, check=False)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"introsim run at {folder} failed:\n{proc.stderr[-2000:]!r}")
    out["run_wall"] = wall
    out["run_cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out


def section_commits(revs: list[str], rounds: int, big: int = BIG) -> dict[str, Any]:
    """Measure every commit in each of ``rounds`` rounds (after one warm-up each)."""
    folders = {rev: export(rev) for rev in revs}
    for folder in folders.values():  # compile or load each commit's kernels once
        measure(folder, 0, 1)
    per: dict[str, list[dict[str, Any]]] = {rev: [] for rev in revs}
    load = [os.getloadavg()[0]]
    for _ in range(rounds):
        for rev, folder in folders.items():
            per[rev].append(measure(folder, big, SMALL_REPS))
        load.append(os.getloadavg()[0])
    shas = {
        rev: subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD" if rev == WORKTREE else rev],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for rev in revs
    }
    return {"revs": revs, "shas": shas, "rounds": rounds, "big": big, "per": per, "load": load}


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def md_commits(add: Any, res: dict[str, Any] | None) -> None:
    """The before/after table's lines for RESULTS.md."""
    if res is None:
        add("Not run.")
        add("")
        return
    big = res["big"]
    add(
        f"Each commit's `src/` in a fresh process pinned to CPU 1, the commits in turn, "
        f"{res['rounds']} rounds; medians over the rounds. Load average (1 min) during the "
        f"rounds: {min(res['load']):.1f} to {max(res['load']):.1f} on 2 cores (the machine is "
        "shared: CPU time is the figure to compare, wall time is shown for start-up). "
        "Command: `python -m benchmarks.commits " + " ".join(res["revs"]) + "`."
    )
    add("")
    add(
        f"| commit | {big:,} × 260, ns per participant-week (CPU) | baseline 500, runs/s "
        "(CPU, one core) | IPS 500, runs/s | call | `introsim run` warm: wall | … CPU |"
    )
    add("|---|---:|---:|---:|---|---:|---:|")
    for rev in res["revs"]:
        rows = res["per"][rev]
        label = f"{res['shas'][rev]}" + (" (this tree)" if rev == WORKTREE else "")
        ns = _median(rows, "big_cpu") / (big * 260) * 1e9
        add(
            f"| {label} | {ns:.0f} | {1 / _median(rows, 'baseline'):.1f} | "
            f"{1 / _median(rows, 'ips'):.1f} | `{rows[0]['call']}` | "
            f"{_median(rows, 'run_wall'):.2f} s | {_median(rows, 'run_cpu'):.2f} s |"
        )
    add("")


def main() -> None:
    """Command line: see the module's docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("revs", nargs="+", help=f"commits ({WORKTREE} for the working tree)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--big", type=int, default=BIG, help="participants of the large run")
    ap.add_argument("--json", type=Path, help="also store the measurements here")
    args = ap.parse_args()
    res = section_commits(args.revs, args.rounds, args.big)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    lines: list[str] = []
    md_commits(lines.append, res)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
