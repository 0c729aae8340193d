"""Sweep throughput through the experiment engine: one process, a process pool, Dask.

The runs are what a sweep does: ``run_tasks`` over replicates of the
500-participant baseline, outcomes only (``simulate_outcomes``).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any


def engine_throughput(runs: int) -> dict[str, Any]:
    """Wall time of ``runs`` baseline runs on each executor (start-up of workers included)."""
    from introsim.experiments.engine import Task, executor_for, run_tasks
    from introsim.params.loader import load_scenario
    from introsim.run import simulate_outcomes

    from benchmarks.run import baseline_scenario_path

    with tempfile.TemporaryDirectory() as tmp:
        scenario = load_scenario(baseline_scenario_path(Path(tmp)))
    simulate_outcomes(scenario, 0)  # compile or load the kernels here first
    tasks = [Task(0, r, scenario, 1) for r in range(runs)]
    rows = []
    for label, jobs, dask in (
        ("1 process", 1, None),
        ("2 processes (warm pool)", 2, None),
        ("Dask LocalCluster, 2 workers", 2, "local"),
    ):
        t0 = time.perf_counter()
        with executor_for(jobs, dask) as ex:
            started = time.perf_counter()
            results = run_tasks(tasks, ex)
            ran = time.perf_counter() - started
        wall = time.perf_counter() - t0
        rows.append(
            {
                "executor": label,
                "runs": runs,
                "wall_s": wall,
                "run_s": ran,
                "failed": sum(bool(r.error) for r in results),
            }
        )
    return {"size": scenario.cohort.size, "weeks": scenario.scenario.weeks, "rows": rows}


def markdown(add: Any, res: dict[str, Any] | None) -> None:
    """The section's table."""
    if res is None:
        add("Not run.")
        add("")
        return
    add(
        f"`run_tasks` over replicates of the {res['size']}-participant baseline ({res['weeks']}"
        " weeks), outcomes only, as `introsim sweep` runs them. *wall* includes starting and"
        " stopping the workers; *runs/s* counts from the first task submitted."
    )
    add("")
    add("| executor | runs | wall | runs per second | failed |")
    add("|---|---:|---:|---:|---:|")
    for r in res["rows"]:
        add(
            f"| {r['executor']} | {r['runs']} | {r['wall_s']:.1f} s | "
            f"**{r['runs'] / r['run_s']:.1f}** | {r['failed']} |"
        )
    add("")
