"""Dashboard benchmark: time from a slider change to updated charts, warm.

Times ``introsim.app.update.update`` (the function the page calls when a lever
moves: validation, the what-if runs, statistics and every plotly figure) on the
500-participant baseline with 10 replicates, as the app's own timing reports
it. Each move sets a caseload not seen before, so the chosen scenario's
replicates are run afresh; the reference's come from the cache, as in the app.
Browser drawing time is not included.

``python -m benchmarks.dashboard`` runs it alone; ``make bench`` runs it as one
section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PRESET = ROOT / "scenarios" / "baseline.toml"
REPLICATIONS = 10
MOVES = 10
TARGET_S = 1.0
"""A slider change to updated charts in under one second, warm."""


def measure(moves: int = MOVES, replications: int = REPLICATIONS) -> dict[str, Any]:
    """Time ``moves`` slider changes after one warm-up update; return the figures."""
    from introsim.app.levers import BY_PATH
    from introsim.app.update import update
    from introsim.app.whatif import RunCache
    from introsim.params.loader import load_scenario

    preset = load_scenario(PRESET)
    cache = RunCache()
    t0 = time.perf_counter()
    update(preset, {}, replications, "en", cache=cache)  # compiles and runs the reference
    first = time.perf_counter() - t0
    lever = BY_PATH["follow_up.caseload"]
    start = preset.follow_up.caseload
    values = [int(max(lever.slider[0], start - 1 - k)) for k in range(moves)]
    walls, cpu, runs = [], [], []
    for value in values:
        c0 = time.process_time()
        up = update(preset, {lever.path: value}, replications, "en", cache=cache)
        cpu.append(time.process_time() - c0)  # the work itself, whatever else the machine runs
        walls.append(up.seconds)
        runs.append(up.whatif.runs)
    return {
        "preset": str(PRESET.relative_to(ROOT)),
        "participants": preset.cohort.size,
        "weeks": preset.scenario.weeks,
        "replications": replications,
        "lever": lever.path,
        "values": values,
        "first_s": first,
        "walls": walls,
        "cpu": cpu,
        "runs": runs,
    }


def render(add: Any, res: dict[str, Any] | None) -> None:
    """The section of RESULTS.md."""
    if res is None:
        add("Not run.")
        add("")
        return
    walls = res["walls"]
    add(
        f"`introsim.app.update.update` after moving `{res['lever']}` on `{res['preset']}` "
        f"({res['participants']} participants, {res['weeks']} weeks), {res['replications']} "
        "replicates: runs the changed scenario's replicates (the reference's are cached), "
        "the statistics and every chart; the page's own timing, browser drawing excluded."
    )
    add("")
    add(
        "| first page (cold cache) | median update | best | worst | median CPU time "
        "| runs per update |"
    )
    add("|---|---|---|---|---|---|")
    add(
        f"| {res['first_s']:.2f} s | {statistics.median(walls):.2f} s | {min(walls):.2f} s "
        f"| {max(walls):.2f} s | {statistics.median(res['cpu']):.2f} s "
        f"| {statistics.median(res['runs']):.0f} |"
    )
    add("")


def target_row(res: dict[str, Any]) -> tuple[str, str, bool]:
    """(target, measured, met) for the targets table."""
    median = statistics.median(res["walls"])
    return (
        f"dashboard: slider change to updated charts, {res['replications']} replicates of "
        f"{res['participants']} participants, warm: < {TARGET_S:g} s",
        f"{median:.2f} s median, {min(res['walls']):.2f} s best",
        median < TARGET_S,
    )


if __name__ == "__main__":
    result = measure()
    lines: list[str] = []
    render(lines.append, result)
    print("\n".join(lines))
    print(json.dumps(result), file=sys.stderr)
