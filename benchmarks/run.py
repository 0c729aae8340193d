"""Run every benchmark and write ``benchmarks/RESULTS.md``.

``make bench`` runs ``python -m benchmarks.run``. Sections:

1. scale curve: 1k, 10k, 100k participants over 260 weeks, each size in a fresh
   process (wall time, ns per participant-week, peak RSS), with a per-kernel split;
2. side by side: the weekly matching step as a new Mesa user would write it
   (``benchmarks/mesa_baseline.py``) against ``kernels.match_week`` on the same
   inputs, timed alternately in one process, with a test that both hire at the
   same rate;
3. throughput: 500-participant baseline simulations per second, warm, on one
   core and with two worker processes;
4. start-up: ``introsim run scenarios/baseline.toml``, the whole process's wall and CPU
   time with a cold and a warm numba cache (Python's bytecode cached), and where it goes;
5. JIT's worth: the 1k case with ``NUMBA_DISABLE_JIT=1``;
6. profile: a py-spy sample of the 100k run (when py-spy is installed);
7. sensitivity: wall time of the shipped Sobol study (``benchmarks/sensitivity_bench.py``).

``python -m benchmarks.run --quick`` runs smaller versions (a smoke test; its
figures are not the ones to quote). Child processes re-enter this module with
``--child``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import multiprocessing as mp
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

from introsim.model.kernels import WEEKLY_KERNELS

from benchmarks import dashboard
from benchmarks.commits import WORKTREE, md_commits, section_commits, warm_start_env
from benchmarks.sensitivity_bench import md_sensitivity, section_sensitivity

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
OPTIMISATION_LOG = Path(__file__).resolve().parent / "optimisation_log.md"
WEEKS = 260
SCALE_SIZES = (1_000, 10_000, 100_000)
KERNELS = WEEKLY_KERNELS
SCALE_REPS = {1_000: 20, 10_000: 5, 100_000: 3}
SIDE_SIZES = (1_000, 10_000)
SIDE_REPS = {1_000: 300, 10_000: 100}
BASELINE_TOML = ROOT / "scenarios" / "baseline.toml"
FALLBACK_TOML = '[scenario]\nname = "baseline"\n'
TARGETS = {
    "scale_ns_per_pw": 50.0,
    "scale_rss_mb": 1536.0,
    "match_ratio_10k": 50.0,
    "runs_per_s_1core": 150.0,
    "runs_per_s_2proc": 280.0,
    "startup_warm_s": 1.2,
    "sobol_2core_s": 120.0,
}
"""The targets of the speed issue ("Three times faster"): CPU time per participant-week of the
full model at 100,000 × 260 weeks; `simulate_outcomes` runs per second of the 500-participant
baseline on one core (CPU time) and through the engine on 2 processes; `introsim run` warm,
whole process; a converged Sobol study of the IPS-minus-standard difference on 2 cores."""
COMMITS = ("60a768d", "21297ce", "54b57f1", "8357885")
"""Commits the before/after table compares with the working tree: the model of 2026-11-22;
main with the after-exit mechanisms (which change what a run does) just before the first
speed-ups landed, the fair "before" for the model as it is; main before the weekly kernels
lost numba's reference counting; main before matching scanned only the open slots and the
per-run Python was compiled (the last two with every result the same as the working
tree's)."""


# --------------------------------------------------------------------------- helpers
def log(msg: str) -> None:
    """Progress to stderr (stdout of children carries JSON)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def child_env(**extra: str) -> dict[str, str]:
    """Environment for child processes: ours, with ``src`` and the repo importable."""
    env = dict(os.environ)
    paths = [str(ROOT / "src"), str(ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update(extra)
    return env


def run_child(task: str, *args: Any, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``python -m benchmarks.run --child task args...`` and return its JSON answer."""
    cmd = [sys.executable, "-m", "benchmarks.run", "--child", task, *map(str, args)]
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env or child_env(), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {task} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def baseline_scenario_path(tmp: Path) -> Path:
    """``scenarios/baseline.toml``, or a minimal stand-in if it does not exist yet."""
    if BASELINE_TOML.exists():
        return BASELINE_TOML
    path = tmp / "baseline.toml"
    path.write_text(FALLBACK_TOML, encoding="utf-8")
    return path


def introsim_command() -> list[str]:
    """The ``introsim`` console script next to this Python, else ``python -m introsim``."""
    script = Path(sys.executable).parent / "introsim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "introsim"]


def timed_subprocess(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    """Wall time of one subprocess run (raises if it fails)."""
    return timed_subprocess_cpu(cmd, env, cwd)[0]


def timed_subprocess_cpu(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one subprocess run (raises if it fails)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def kernel_dispatchers() -> dict[str, Any]:
    """The compiled kernels by name."""
    from introsim.model import kernels

    return {name: getattr(kernels, name) for name in KERNELS}


def cache_stats() -> dict[str, int]:
    """Numba cache hits and misses (= compilations) summed over the kernels."""
    hits = misses = 0
    for d in kernel_dispatchers().values():
        hits += sum(d.stats.cache_hits.values())
        misses += sum(d.stats.cache_misses.values())
    return {"cache_hits": hits, "cache_misses": misses}


# --------------------------------------------------------------------------- children
def child_scale(n: int, reps: int, breakdown: int) -> dict[str, Any]:
    """One size of the scale curve, in a fresh process: wall times, peak RSS, kernel split."""
    t0 = time.perf_counter()
    from introsim.params.schema import Scenario
    from introsim.run import simulate

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    simulate(Scenario().with_overrides({"cohort.size": 200, "scenario.weeks": 60}), 0)
    warm_s = time.perf_counter() - t0
    rss_before = peak_rss_mb()
    scenario = Scenario().with_overrides({"cohort.size": n})
    walls, result = _timed_runs(scenario, reps)
    if len(result.weekly) != scenario.scenario.weeks or len(result.participants) != n:
        raise RuntimeError("simulate returned incomplete results")
    out = {
        "n": n,
        "weeks": scenario.scenario.weeks,
        "reps": reps,
        "walls": walls,
        "cpus": list(_CPU),
        "import_s": import_s,
        "warm_s": warm_s,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "employers": round(n * scenario.labour_market.employers_per_participant),
        **cache_stats(),
    }
    if breakdown:
        out["breakdown"] = kernel_breakdown(scenario)
    return out


def _timed_runs(scenario: Any, reps: int) -> tuple[list[float], Any]:
    """Wall time of ``reps`` simulations with seeds 1, 2, ... (the profile looks under here)."""
    from introsim.run import simulate

    walls = []
    for r in range(reps):
        t0 = time.perf_counter()
        c0 = time.process_time()
        result = simulate(scenario, r + 1)
        _CPU.append(time.process_time() - c0)
        walls.append(time.perf_counter() - t0)
    return walls, result


_CPU: list[float] = []  # CPU seconds of the runs _timed_runs made, in order


def kernel_breakdown(scenario: Any) -> dict[str, float]:
    """Seconds per kernel and per post-processing step in one run (kernels wrapped by timers)."""
    from introsim.model import kernels
    from introsim.model.model import IntroModel
    from introsim.model.outcomes import participant_table, summarise
    from introsim.run import weekly_table

    spent: Counter[str] = Counter()
    real = kernel_dispatchers()

    def timer(name: str, fn: Any) -> Any:
        def wrapped(*args: Any) -> Any:
            t = time.perf_counter()
            out = fn(*args)
            spent[name] += time.perf_counter() - t
            return out

        return wrapped

    for name, fn in real.items():
        setattr(kernels, name, timer(name, fn))
    week = kernels.run_week
    # The week in plain Python looks each kernel up in the module, so the timers run;
    # "Python between kernels" is then this profile's own overhead (simulate() loops
    # over the weeks in compiled code).
    kernels.run_week = week.py_func
    try:
        t = time.perf_counter()
        model = IntroModel(scenario, 1, agents=False)
        spent["model set-up (population draws)"] = time.perf_counter() - t
        t = time.perf_counter()
        while model.running:
            model.step()
        run_s = time.perf_counter() - t
    finally:
        kernels.run_week = week
        for name, fn in real.items():
            setattr(kernels, name, fn)
    spent["Python between kernels (step overhead)"] = run_s - sum(spent[k] for k in KERNELS)
    t = time.perf_counter()
    table = participant_table(model.refugees, model.weeks)
    spent["participant_table (pandas)"] = time.perf_counter() - t
    t = time.perf_counter()
    summarise(table)
    spent["summarise"] = time.perf_counter() - t
    t = time.perf_counter()
    weekly_table(model)
    spent["weekly_table"] = time.perf_counter() - t
    return dict(spent)


def child_side(n: int, reps: int) -> dict[str, Any]:
    """Mesa-style matching vs ``match_week`` on the same snapshot, timed alternately."""
    from introsim.model import kernels

    from benchmarks.mesa_baseline import (
        BENCH_OVERRIDES,
        BENCH_WEEK,
        MesaMatching,
        bench_scenario,
        capture_match_inputs,
        hire_counts,
        kernel_args,
        replicate_key,
        two_sample_z,
    )

    inputs = capture_match_inputs(bench_scenario(n), seed=1, week=BENCH_WEEK)
    kernels.match_week(*kernel_args(inputs.copied()))  # loaded before timing
    k_times, m_times, m_build = [], [], []
    k_hires, m_hires, k_pref, m_pref = [], [], [], []
    for r in range(reps):
        args = inputs.copied(replicate_key(inputs, r))
        positional = kernel_args(args)
        t0 = time.perf_counter()
        hires = kernels.match_week(*positional)
        k_times.append(time.perf_counter() - t0)
        counted, preferred = hire_counts(inputs.args, args)
        if counted != hires:
            raise RuntimeError("kernel hire count disagrees with its state")
        k_hires.append(hires)
        k_pref.append(preferred)

        t0 = time.perf_counter()
        model = MesaMatching(inputs, seed=r)
        m_build.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model.step()
        m_times.append(time.perf_counter() - t0)
        m_hires.append(model.hires)
        m_pref.append(model.preferred_hires)
    hires_test = two_sample_z(k_hires, m_hires)
    pref_test = two_sample_z(k_pref, m_pref)
    return {
        "n": n,
        "reps": reps,
        "week": BENCH_WEEK,
        "overrides": BENCH_OVERRIDES,
        "searchers": inputs.searchers(),
        "open_vacancies": inputs.open_vacancies(),
        "ties": inputs.ties(),
        "specialists": int(inputs.args["skill"].shape[0]),
        "employers": int(inputs.args["employer_sector"].shape[0]),
        "kernel_s": k_times,
        "mesa_s": m_times,
        "mesa_build_s": m_build,
        "hires": hires_test.__dict__,
        "preferred_hires": pref_test.__dict__,
    }


def child_throughput(seconds: float, pin: int) -> dict[str, Any]:
    """Baseline simulations per second in one warm process (optionally pinned to one CPU)."""
    if pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from introsim.params.loader import load_scenario
    from introsim.run import replicate_seed, simulate, simulate_outcomes

    with tempfile.TemporaryDirectory() as tmp:
        scenario = load_scenario(baseline_scenario_path(Path(tmp)))
    t0 = time.perf_counter()
    simulate(scenario, replicate_seed(0, 10_000))
    warm_s = time.perf_counter() - t0
    done = 0
    t0 = time.perf_counter()
    while True:
        simulate(scenario, replicate_seed(0, done))
        done += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds and done >= 20:
            break
    # What a sweep runs: outcomes straight from the arrays, no tables.
    fast = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    while True:
        simulate_outcomes(scenario, replicate_seed(0, fast))
        fast += 1
        fast_s = time.perf_counter() - t0
        if fast_s >= seconds and fast >= 20:
            break
    fast_cpu = time.process_time() - c0
    return {
        "sims": done,
        "seconds": elapsed,
        "outcomes_sims": fast,
        "outcomes_seconds": fast_s,
        "outcomes_cpu_s": fast_cpu,
        "warm_s": warm_s,
        "size": scenario.cohort.size,
        "weeks": scenario.scenario.weeks,
        "cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        **cache_stats(),
    }


def _throughput_worker(worker: int, n_workers: int, sims: int, start: Any, results: Any) -> None:
    """One of the sweep workers: warm up, wait for the start signal, run its share of seeds."""
    t0 = time.perf_counter()
    from introsim.params.loader import load_scenario
    from introsim.run import replicate_seed, simulate

    with tempfile.TemporaryDirectory() as tmp:
        scenario = load_scenario(baseline_scenario_path(Path(tmp)))
    simulate(scenario, replicate_seed(0, 10_000 + worker))
    warm_s = time.perf_counter() - t0
    results.put(("ready", worker, warm_s, cache_stats()))
    start.wait()
    t0 = time.perf_counter()
    count = 0
    for r in range(worker, sims, n_workers):
        simulate(scenario, replicate_seed(0, r))
        count += 1
    results.put(("done", worker, time.perf_counter() - t0, count))


def throughput_workers(n_workers: int, sims: int) -> dict[str, Any]:
    """Wall time of ``sims`` baseline simulations split over ``n_workers`` warm processes."""
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    results = ctx.Queue()
    old_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = child_env()["PYTHONPATH"]
    try:
        procs = [
            ctx.Process(target=_throughput_worker, args=(w, n_workers, sims, start, results))
            for w in range(n_workers)
        ]
        for p in procs:
            p.start()
    finally:
        if old_path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old_path
    ready = [results.get(timeout=600) for _ in procs]
    t0 = time.perf_counter()
    start.set()
    done = [results.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=60)
        if p.exitcode != 0:
            raise RuntimeError(f"throughput worker exited with {p.exitcode}")
    return {
        "workers": n_workers,
        "sims": sum(d[3] for d in done),
        "wall_s": wall,
        "warm_s": [r[2] for r in ready],
        "cache_misses": [r[3]["cache_misses"] for r in ready],
        "cache_hits": [r[3]["cache_hits"] for r in ready],
    }


def child_nojit(n: int, weeks: int) -> dict[str, Any]:
    """Wall time of one simulation (NUMBA_DISABLE_JIT decides whether kernels are compiled)."""
    import warnings

    warnings.simplefilter("ignore")  # integer-overflow warnings of the hash in plain Python
    from introsim.params.schema import Scenario
    from introsim.run import simulate

    scenario = Scenario().with_overrides({"cohort.size": n, "scenario.weeks": weeks})
    simulate(Scenario().with_overrides({"cohort.size": 50, "scenario.weeks": 5}), 0)
    walls = []
    reps = 1 if os.environ.get("NUMBA_DISABLE_JIT") == "1" else 10
    for _ in range(reps):
        t0 = time.perf_counter()
        result = simulate(scenario, 1)
        walls.append(time.perf_counter() - t0)
    weekly = result.weekly.to_numpy().tolist()
    return {"n": n, "weeks": weeks, "walls": walls, "summary": result.summary, "weekly": weekly}


CHILDREN = {
    "scale": lambda a: child_scale(int(a[0]), int(a[1]), int(a[2])),
    "side": lambda a: child_side(int(a[0]), int(a[1])),
    "throughput": lambda a: child_throughput(float(a[0]), int(a[1])),
    "nojit": lambda a: child_nojit(int(a[0]), int(a[1])),
    "dashboard": lambda a: dashboard.measure(int(a[0])),
}


# --------------------------------------------------------------------------- sections
def machine_info() -> dict[str, Any]:
    """Cores, CPU model, memory, OS, Python, package versions, git commit, load."""
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        import psutil

        physical = psutil.cpu_count(logical=False)
        mem_gb = psutil.virtual_memory().total / 2**30
    except ImportError:
        physical, mem_gb = None, float("nan")
    versions = {}
    for pkg in (
        "introsim",
        "numba",
        "llvmlite",
        "numpy",
        "pandas",
        "pyarrow",
        "Mesa",
        "scipy",
        "pydantic",
        "typer",
        "psutil",
        "py-spy",
    ):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    commit = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        if dirty:
            commit += " (with uncommitted changes in src/)"
    return {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "physical_cores": physical,
        "memory_gb": mem_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
        "commit": commit,
        "load_start": os.getloadavg(),
        "command": "make bench  (= python -m benchmarks.run)",
        "argv": " ".join(["python", "-m", "benchmarks.run", *sys.argv[1:]]),
    }


def prime_cache() -> dict[str, Any]:
    """Compile or load every kernel once so later processes start from a warm cache."""
    t0 = time.perf_counter()
    out = run_child("scale", 200, 1, 0)
    return {"seconds": time.perf_counter() - t0, "cache_misses": out["cache_misses"]}


def section_scale(quick: bool) -> list[dict[str, Any]]:
    """Scale curve, one fresh process per size."""
    rows = []
    for n in SCALE_SIZES:
        reps = 1 if quick else SCALE_REPS[n]
        if quick and n > 10_000:
            continue
        log(f"scale: {n} participants x {WEEKS} weeks, {reps} runs")
        rows.append(run_child("scale", n, reps, int(n == max(SCALE_SIZES) or quick)))
    return rows


def section_side(quick: bool) -> list[dict[str, Any]]:
    """Side-by-side matching at 1k and 10k."""
    rows = []
    for n in SIDE_SIZES:
        reps = 20 if quick else SIDE_REPS[n]
        log(f"side by side: {n} participants, {reps} alternating repetitions")
        rows.append(run_child("side", n, reps))
    return rows


def section_throughput(quick: bool) -> dict[str, Any]:
    """Sims per second of the baseline on one core and on two worker processes."""
    seconds = 2.0 if quick else 10.0
    log(f"throughput: one core, {seconds:.0f} s")
    one = run_child("throughput", seconds, 1)
    per_sim = one["seconds"] / one["sims"]
    sims = max(20, int(2 * seconds / per_sim))
    log(f"throughput: two worker processes, {sims} simulations")
    two = throughput_workers(2, sims)
    return {"one": one, "two": two}


def section_engine(quick: bool) -> dict[str, Any]:
    """Sweep throughput through the experiment engine on each executor."""
    from benchmarks.sweeps import engine_throughput

    runs = 200 if quick else 1500
    log(f"engine: {runs} runs on 1 process, 2 processes and a 2-worker Dask LocalCluster")
    return engine_throughput(runs)


def section_startup(quick: bool) -> dict[str, Any]:
    """``introsim run scenarios/baseline.toml``: the whole process, cold and warm numba cache.

    The target's figure is the median wall time of the warm runs: the console script, from
    spawn to exit, with a warm numba cache and warm bytecode (:func:`warm_start_env`, filled by
    one run first), with the CPU time (user + system) of each run and the load average while
    they ran. Cold runs have an empty numba cache and warm bytecode.
    """
    cold_runs, warm_runs = (1, 2) if quick else (3, 7)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        scenario = baseline_scenario_path(tmp)
        cmd = [*introsim_command(), "run", str(scenario), "--out", str(tmp / "out")]
        script = cmd[0].endswith("introsim")
        shown = "introsim" if script else "python -m introsim"
        shown += f" run {'scenarios/baseline.toml' if scenario == BASELINE_TOML else scenario.name}"
        shown += " --out TMP"
        out["command"] = shown
        out["scenario_file"] = (
            "scenarios/baseline.toml" if scenario == BASELINE_TOML else "fallback"
        )
        warm_cache = tmp / "warm"
        warm_cache.mkdir()
        env = warm_start_env(child_env(NUMBA_CACHE_DIR=str(warm_cache)), tmp / "pycache")
        log("start-up: one run to fill the numba cache and the bytecode cache")
        timed_subprocess(cmd, env, tmp)
        cold = []
        for r in range(cold_runs):
            cache = tmp / f"cold{r}"
            cache.mkdir()
            log(f"start-up: cold numba cache run {r + 1}/{cold_runs}")
            cold.append(timed_subprocess(cmd, {**env, "NUMBA_CACHE_DIR": str(cache)}, tmp))
        warm = []
        warm_cpu = []
        load = [os.getloadavg()[0]]
        for r in range(warm_runs):
            log(f"start-up: warm cache run {r + 1}/{warm_runs}")
            wall, cpu = timed_subprocess_cpu(cmd, env, tmp)
            warm.append(wall)
            warm_cpu.append(cpu)
            load.append(os.getloadavg()[0])
        out["cold"] = cold
        out["warm"] = warm
        out["warm_cpu"] = warm_cpu
        out["warm_load"] = [min(load), max(load)]
        # Where the time goes: each import alone in a fresh process (best of 3, after one run
        # that caches the bytecode of what the command itself does not import: pandas, mesa).
        parts = {
            "python -c pass": "pass",
            "import numpy": "import numpy",
            "import pandas": "import pandas",
            "import scipy.linalg (numba's BLAS check imports it)": "import scipy.linalg",
            "import numba": "import numba",
            "import mesa": "import mesa",
            "import pyarrow.parquet": "import pyarrow.parquet",
            "import introsim.cli": "import introsim.cli",
            "import introsim.run": "import introsim.run",
            "import introsim.cli, introsim.run, introsim.output": (
                "import introsim.cli, introsim.run, introsim.output"
            ),
            "import introsim.model.kernels": "import introsim.model.kernels",
        }
        timings = {}
        for label, stmt in parts.items():
            timed_subprocess([sys.executable, "-c", stmt], env, tmp)  # its bytecode cached
            timings[label] = min(
                timed_subprocess([sys.executable, "-c", stmt], env, tmp)
                for _ in range(1 if quick else 3)
            )
        out["imports"] = timings
        out["phases"] = startup_phases(scenario, tmp / "phases", env, tmp)
        out["importtime"] = importtime_top(cmd, env, tmp)
    return out


_PHASES_CHILD = r"""
import json, sys, time
stamps = {}
def stamp(name):
    stamps[name] = (time.perf_counter(), time.process_time())
stamp("first")
scenario, out = sys.argv[1:3]
import introsim.cli
stamp("cli")
from introsim import run as runner
simulate = runner._simulate_columns
def first_simulation(*args, **kwargs):
    stamp("sim_start")
    try:
        return simulate(*args, **kwargs)
    finally:
        stamp("sim_end")
        runner._simulate_columns = simulate
runner._simulate_columns = first_simulation
sys.argv = ["introsim", "run", scenario, "--out", out]
try:
    introsim.cli.main()
except SystemExit as e:
    assert not e.code, e.code
stamp("done")
from introsim.params.loader import load_scenario
sc = load_scenario(scenario)
stamp("again_start")
simulate(sc, sc.scenario.seed, history=False)
stamp("again_end")
stamp("last")
print(json.dumps(stamps), flush=True)
"""


def startup_phases(
    scenario: Path, out: Path, env: dict[str, str], cwd: Path
) -> dict[str, dict[str, float]]:
    """Split one warm ``introsim run`` process into phases: wall and CPU time of each.

    The command runs in a fresh ``python -c`` process (its ``main()``, as the console script
    calls it) with clock readings taken in the child and, around it, in this process
    (``perf_counter`` is the system's monotonic clock; the CPU time of the shutdown is the
    child's total from ``getrusage`` less what it had used at its last reading): the
    interpreter's start, the import of the command line, the command up to its simulation,
    the first simulation (which loads the kernels from numba's cache), writing and printing,
    and the shutdown. The simulation is then run again in the same process, kernels loaded,
    to show what loading them cost; that second run is left out of the whole.
    """
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _PHASES_CHILD, str(scenario), str(out)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    end = time.perf_counter()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"start-up phases failed:\n{proc.stderr[-3000:]}")
    t = json.loads(proc.stdout.strip().splitlines()[-1])
    cpu_total = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    t["spawn"], t["exit"] = (start, 0.0), (end, cpu_total)

    def span(a: str, b: str) -> dict[str, float]:
        return {"wall": t[b][0] - t[a][0], "cpu": t[b][1] - t[a][1]}

    again = span("again_start", "again_end")
    skipped = span("done", "last")
    whole = span("spawn", "exit")
    return {
        "interpreter start (spawn to the first line)": span("spawn", "first"),
        "import introsim.cli (typer, rich, pydantic and the scenario schema, numpy)": span(
            "first", "cli"
        ),
        "the command up to its simulation (import the runner and numba, read the scenario)": (
            span("cli", "sim_start")
        ),
        "the first simulation (kernels loaded from numba's cache: its registries, scipy.linalg)": (
            span("sim_start", "sim_end")
        ),
        "… of which the simulation itself (the same call again, kernels loaded)": again,
        "write the tables and summary.json, print the table": span("sim_end", "done"),
        "shutdown (the command's end to the process's end)": span("last", "exit"),
        "the whole process (the phases above, without the “of which”)": {
            k: whole[k] - skipped[k] for k in whole
        },
    }


def importtime_top(cmd: list[str], env: dict[str, str], cwd: Path, top: int = 12) -> list:
    """The slowest top-level imports of a warm run, from ``python -X importtime``."""
    args = cmd[1:] if cmd[0].endswith("introsim") else cmd[3:]
    full = [sys.executable, "-X", "importtime", "-m", "introsim", *args]
    proc = subprocess.run(full, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)", line)
        if m:
            depth = (len(m.group(3)) - 1) // 2
            rows.append((int(m.group(2)) / 1e6, int(m.group(1)) / 1e6, depth, m.group(4)))
    # Each module appears once, where first imported: keep packages and introsim's modules.
    keep = [r for r in rows if "." not in r[3] or r[3].startswith("introsim.")]
    return sorted(keep, reverse=True)[:top]


def section_nojit(quick: bool) -> dict[str, Any]:
    """The 1k case with and without JIT."""
    weeks = 52 if quick else WEEKS
    log(f"JIT's worth: 1000 participants x {weeks} weeks with NUMBA_DISABLE_JIT=1 (slow)")
    off = run_child("nojit", 1000, weeks, env=child_env(NUMBA_DISABLE_JIT="1"))
    on = run_child("nojit", 1000, weeks)
    same = json.dumps([off["summary"], off["weekly"]], sort_keys=True) == json.dumps(
        [on["summary"], on["weekly"]], sort_keys=True
    )
    return {"off": off, "on": on, "same_summary": same}


def section_profile(quick: bool) -> dict[str, Any]:
    """Sample the 100k run with py-spy; attribute samples to the model's steps."""
    spy = str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        spy = shutil.which("py-spy") or spy
    if not Path(spy).exists():
        return {"skipped": "py-spy not installed (pip install -e '.[bench]')"}
    n = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "profile.txt"
        cmd = [
            spy,
            "record",
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(raw),
            "--",
            sys.executable,
            "-m",
            "benchmarks.run",
            "--child",
            "scale",
            str(n),
            "2",
            "0",
        ]
        log(f"profile: py-spy on {n} participants")
        proc = subprocess.run(cmd, cwd=ROOT, env=child_env(), capture_output=True, text=True)
        if proc.returncode != 0 or not raw.exists():
            return {"skipped": f"py-spy failed: {proc.stderr.strip()[-300:]}"}
        return {"n": n, **summarise_profile(raw.read_text())}


def summarise_profile(text: str) -> dict[str, Any]:
    """Share of samples under ``simulate`` by the introsim function nearest the leaf."""
    total = 0
    in_sim = 0
    by_step: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        if not any(f.startswith("_timed_runs (") for f in frames):
            continue
        in_sim += n
        label = "other"
        for f in reversed(frames):
            m = re.match(r"(\S+) \((?:.*/)?(introsim/\w+\.py):\d+\)", f)
            if m:
                label = f"{m.group(2)}: {m.group(1)}"
                break
        by_step[label] += n
    return {
        "samples": total,
        "in_simulate": in_sim,
        "by_step": by_step.most_common(14),
    }


# --------------------------------------------------------------------------- report
def fmt_s(x: float) -> str:
    """Seconds with sensible precision."""
    if x >= 10:
        return f"{x:.1f} s"
    if x >= 1:
        return f"{x:.2f} s"
    if x >= 0.01:
        return f"{x * 1000:.0f} ms"
    if x >= 0.001:
        return f"{x * 1000:.2f} ms"
    return f"{x * 1e6:.0f} µs"


def growth_exponent(rows: list[dict[str, Any]]) -> float | None:
    """Slope of log(time) against log(size) between the smallest and largest size."""
    if len(rows) < 2:
        return None
    a, b = rows[0], rows[-1]
    return math.log(min(b["walls"]) / min(a["walls"])) / math.log(b["n"] / a["n"])


def _md_scale(add: Any, scale: Any) -> None:
    add(
        "`simulate(Scenario().with_overrides({'cohort.size': N}), seed)`: the weekly series"
        " and the per-participant outcome table, each size in a fresh process (after one small"
        " warm-up run loading the kernels from the numba cache). Employers scale with the cohort"
        " (0.6 per participant by default, two vacancy slots each)."
    )
    add("")
    add(
        "| participants | employers | runs | wall (best) | wall (median) | ns per participant-week"
        " (wall, best) | … (CPU, best) | peak RSS | RSS before the runs |"
    )
    add("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in scale:
        best, med = min(r["walls"]), statistics.median(r["walls"])
        ns = best / (r["n"] * r["weeks"]) * 1e9
        cpu = min(r.get("cpus") or [float("nan")]) / (r["n"] * r["weeks"]) * 1e9
        add(
            f"| {r['n']:,} | {r['employers']:,} | {r['reps']} | {fmt_s(best)} | {fmt_s(med)}"
            f" | {ns:.0f} | {cpu:.0f} | {r['peak_rss_mb']:.0f} MB | {r['rss_before_mb']:.0f} MB |"
        )
    g = growth_exponent(scale)
    if g is not None:
        add("")
        add(
            f"Growth: time ∝ N^{g:.2f} from {scale[0]['n']:,} to {scale[-1]['n']:,} participants"
            " (1.00 = linear). Peak RSS is the whole process; about"
            f" {scale[0]['rss_before_mb']:.0f} MB of it is Python, numpy, pandas, numba and"
            " mesa before any model exists."
        )
    bd = next((r["breakdown"] for r in reversed(scale) if "breakdown" in r), None)
    if bd:
        n_bd = next(r["n"] for r in reversed(scale) if "breakdown" in r)
        total = sum(bd.values())
        add("")
        add(f"Where one {n_bd:,}-participant run spends its time (kernels wrapped by timers):")
        add("")
        add("| part | time | share | per week |")
        add("|---|---:|---:|---:|")
        for name, sec in sorted(bd.items(), key=lambda kv: -kv[1]):
            per_week = fmt_s(sec / WEEKS) if name in KERNELS or "step" in name else ""
            add(f"| {name} | {fmt_s(sec)} | {100 * sec / total:.1f} % | {per_week} |")
    add("")


def _md_side(add: Any, side: Any) -> None:
    if side:
        s0 = side[0]
        add(
            "Inputs: an `IntroModel` run of the scenario `Scenario().with_overrides("
            f"{s0['overrides']} | cohort.size=N)` with seed 1, snapshotted at the matching step"
            f" of week {s0['week']} (the arguments `match_week` received). Each repetition starts"
            " both implementations from fresh copies of that snapshot, alternately: the kernel"
            " with a different run key, the Mesa model (`benchmarks/mesa_baseline.py`: `Agent`"
            " objects, Python `step` methods, `AgentSet.shuffle_do`, `model.random`) with a"
            " different seed. Times are of the matching step only (the Mesa model's"
            " construction from the snapshot is shown separately, the kernel's array copies are"
            " not timed)."
        )
        add("")
        add(
            "| participants | searchers | open vacancies | ties | reps | kernel (median)"
            " | Mesa step (median) | ratio of medians | Mesa µs per participant | Mesa model"
            " construction |"
        )
        add("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in side:
            k, me = statistics.median(r["kernel_s"]), statistics.median(r["mesa_s"])
            add(
                f"| {r['n']:,} | {r['searchers']:,} | {r['open_vacancies']:,} | {r['ties']:,}"
                f" | {r['reps']} | {fmt_s(k)} | {fmt_s(me)} | **{me / k:.0f}×**"
                f" | {me / r['n'] * 1e6:.1f} | {fmt_s(statistics.median(r['mesa_build_s']))} |"
            )
        add("")
        add(
            "Same rules, same hiring rate? Mean hires per week over the repetitions (95 % CI),"
            " two-sample z-test of equal means:"
        )
        add("")
        add("| participants | statistic | kernel | Mesa | z | p |")
        add("|---:|---|---|---|---:|---:|")
        for r in side:
            for key, label in (
                ("hires", "hires"),
                ("preferred_hires", "hires in preferred sector"),
            ):
                t = r[key]
                add(
                    f"| {r['n']:,} | {label} | {t['mean_a']:.2f}"
                    f" ({t['mean_a'] - 1.96 * t['se_a']:.2f}-{t['mean_a'] + 1.96 * t['se_a']:.2f})"
                    f" | {t['mean_b']:.2f}"
                    f" ({t['mean_b'] - 1.96 * t['se_b']:.2f}-{t['mean_b'] + 1.96 * t['se_b']:.2f})"
                    f" | {t['z']:.2f} | {t['p']:.2f} |"
                )
        add("")
        add(
            "The draws differ (Python's `random` against the kernel's counter-based hash), so"
            " agreement is statistical: p above 0.05 means no detectable difference. Four tests"
            " are made, so one p a little under 0.05 turns up now and then by chance; a rule"
            " that differs shows as a |z| far above 4 (tests/test_performance.py checks that"
            " leaving out the specialist's endorsement is detected)."
        )
    add("")


def _md_throughput(add: Any, tp: Any) -> None:
    one, two = tp["one"], tp["two"]
    add(
        f"The {one['size']}-participant baseline (`scenarios/baseline.toml`, {one['weeks']}"
        " weeks), `simulate()` with its outputs, in warm processes (kernels loaded once)."
    )
    add("")
    add("| processes | simulations | wall | simulations per second | warm-up per process |")
    add("|---:|---:|---:|---:|---:|")
    add(
        f"| 1 (pinned to CPU {one['cpus'][0] if one['cpus'] else '?'}) | {one['sims']}"
        f" | {fmt_s(one['seconds'])} | **{one['sims'] / one['seconds']:.1f}** |"
        f" {fmt_s(one['warm_s'])} |"
    )
    if "outcomes_sims" in one:
        add(
            f"| 1, `simulate_outcomes()` (what a sweep runs: no tables) | {one['outcomes_sims']}"
            f" | {fmt_s(one['outcomes_seconds'])}"
            f" | **{one['outcomes_sims'] / one['outcomes_seconds']:.1f}** | |"
        )
    add(
        f"| 2 worker processes | {two['sims']} | {fmt_s(two['wall_s'])}"
        f" | **{two['sims'] / two['wall_s']:.1f}** | {', '.join(fmt_s(x) for x in two['warm_s'])} |"
    )
    add("")
    add(
        f"Workers compiled nothing: numba cache misses per worker {two['cache_misses']}"
        f" (hits {two['cache_hits']}); each worker's warm-up is its imports plus loading the"
        " kernels from the cache, paid once per process, not per simulation."
    )
    add("")


def _md_engine(add: Any, res: Any) -> None:
    from benchmarks.sweeps import markdown

    markdown(add, res)


def _md_startup(add: Any, su: Any) -> None:
    load = su.get("warm_load")
    add(
        f"Command: `{su['command']}` (scenario file: {su['scenario_file']});"
        " wall time of the whole process, from spawn to exit. Warm: numba's cache and Python's"
        " bytecode cache filled by one run before (`PYTHONPYCACHEPREFIX` in a temporary folder,"
        " `PYTHONDONTWRITEBYTECODE` unset), as for an installed introsim from its second run on."
        + (
            f" Load average (1 min) during the warm runs: {load[0]:.2f} to {load[1]:.2f}."
            if load
            else ""
        )
    )
    add("")
    add("| numba cache | runs | best | median |")
    add("|---|---:|---:|---:|")
    add(
        f"| cold (NUMBA_CACHE_DIR = an empty temporary folder: every kernel compiles) |"
        f" {len(su['cold'])} | {fmt_s(min(su['cold']))} | {fmt_s(statistics.median(su['cold']))} |"
    )
    add(
        f"| warm (the same folder after one run), wall | {len(su['warm'])} |"
        f" {fmt_s(min(su['warm']))} | **{fmt_s(statistics.median(su['warm']))}** |"
    )
    if "warm_cpu" in su:
        add(
            f"| warm, CPU time (user + system) | {len(su['warm_cpu'])} |"
            f" {fmt_s(min(su['warm_cpu']))} | {fmt_s(statistics.median(su['warm_cpu']))} |"
        )
    add("")
    add(
        "Where a warm start-up goes, in one fresh process (`python -c`, clock readings in it and"
        " around it):"
    )
    add("")
    add("| phase | wall | CPU |")
    add("|---|---:|---:|")
    for k, v in su["phases"].items():
        add(f"| {k} | {fmt_s(v['wall'])} | {fmt_s(v['cpu'])} |")
    add("")
    add("Each statement alone in a fresh process (best of 3, process start and shutdown included):")
    add("")
    add("| statement | time |")
    add("|---|---:|")
    for k, v in su["imports"].items():
        add(f"| `{k}` | {fmt_s(v)} |")
    add("")
    add(
        "Slowest imports of a warm run (`python -X importtime`; packages and introsim modules,"
        " each where first imported; cumulative times include what they import):"
    )
    add("")
    add("| module | cumulative | self |")
    add("|---|---:|---:|")
    for cum, self_, _depth, name in su["importtime"]:
        add(f"| `{name}` | {fmt_s(cum)} | {fmt_s(self_)} |")
    add("")


def _md_nojit(add: Any, nj: Any) -> None:
    off, on = nj["off"], nj["on"]
    ratio = min(off["walls"]) / min(on["walls"])
    add(
        f"{off['n']:,} participants × {off['weeks']} weeks (the full horizon, not scaled),"
        " the same `simulate()` call:"
    )
    add("")
    add("| kernels | wall | ratio |")
    add("|---|---:|---:|")
    add(f"| `NUMBA_DISABLE_JIT=1` (plain Python) | {fmt_s(min(off['walls']))} | {ratio:.0f}× |")
    add(f"| compiled (warm cache, best of {len(on['walls'])}) | {fmt_s(min(on['walls']))} | 1× |")
    add("")
    add(
        "Same results either way: "
        + (
            "the run summary and the weekly table (seed 1) are identical."
            if nj["same_summary"]
            else "**the run summary or weekly table differ** (investigate)."
        )
    )
    add("")


def _md_profile(add: Any, pr: Any) -> None:
    if "skipped" in pr:
        add(f"Skipped: {pr['skipped']}.")
    else:
        add(
            f"py-spy (250 Hz) on two {pr['n']:,}-participant runs in one process"
            f" ({pr['samples']} samples, {pr['in_simulate']} inside `simulate`). Samples"
            " under `simulate`, by the introsim function nearest the leaf (a kernel's native code"
            " is counted under the model method that calls it):"
        )
        add("")
        add("| where | share of `simulate` |")
        add("|---|---:|")
        for label, count in pr["by_step"]:
            add(f"| `{label}` | {100 * count / max(1, pr['in_simulate']):.1f} % |")
    add("")


SECTIONS = (
    ("scale", f"## 1. Scale: full model, {WEEKS} weeks, data collection included", _md_scale),
    (
        "side",
        "## 2. Side by side: weekly matching, Mesa-style objects vs the `match_week` kernel",
        _md_side,
    ),
    ("throughput", "## 3. Throughput for sweeps", _md_throughput),
    ("engine", "## 3b. Sweeps through the experiment engine", _md_engine),
    ("startup", "## 4. Start-up: `introsim run` on the baseline", _md_startup),
    ("nojit", "## 5. What the JIT is worth", _md_nojit),
    ("profile", "## 6. Profile", _md_profile),
    ("dashboard", "## 7. Dashboard: first result and slider to charts", dashboard.render),
    ("sensitivity", "## 8. Sensitivity: the shipped Sobol study", md_sensitivity),
    ("commits", "## 9. Before and after: earlier commits, back to back", md_commits),
)


def render(res: dict[str, Any]) -> str:
    """RESULTS.md from the collected results (a failed section says why instead)."""
    lines: list[str] = []
    add = lines.append
    add("# introsim benchmarks")
    add("")
    m = res["machine"]
    add(f"Generated by `{m['command']}` on {m['date']}.")
    if res.get("quick"):
        add("")
        add("**Quick run (`--quick`): smaller cases, not the figures to quote.**")
    add("")
    add(f"- exact command: `{m['argv']}` (from the repository root)")
    add(
        f"- machine: {m['cpu']}, {m['logical_cpus']} logical CPUs"
        f" ({m['physical_cores']} physical cores as reported), {m['memory_gb']:.0f} GB RAM,"
        f" {m['os']}, Python {m['python']}"
    )
    add(
        f"- load average at start: {', '.join(f'{x:.2f}' for x in m['load_start'])};"
        f" at end: {', '.join(f'{x:.2f}' for x in res['load_end'])}"
        " (the machine is shared: other work was running, so medians matter more than maxima)"
    )
    add(f"- introsim commit: {m['commit']}")
    add("- versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()))
    add(
        f"- numba cache primed before timing: {fmt_s(res['prime']['seconds'])}"
        f" ({res['prime']['cache_misses']} kernels compiled)"
    )
    add(f"- whole benchmark: {fmt_s(res['total_s'])}")
    add("")

    add("## Targets")
    add("")
    add("| target | measured | met |")
    add("|---|---|---|")
    for row in target_rows(res):
        add(f"| {row[0]} | {row[1]} | {row[2]} |")
    add("")

    for key, title, write in SECTIONS:
        add(title)
        add("")
        value = res.get(key)
        if failed(value):
            add(f"**Failed**: {value['error']}")
            add("")
            continue
        write(add, value)
    if OPTIMISATION_LOG.exists():
        add(OPTIMISATION_LOG.read_text(encoding="utf-8").strip())
        add("")
    return "\n".join(lines)


def rerun_sections(keys: list[str], runs: dict[str, Any], args: Any) -> int:
    """Run some sections again and replace them in the existing report (the rest is kept)."""
    text = args.out.read_text(encoding="utf-8")
    m = machine_info()
    for key in keys:
        title, write = next((t, w) for k, t, w in SECTIONS if k == key)
        if title not in text:
            raise SystemExit(f"{args.out} has no section {title!r}: run the whole benchmark")
        try:
            value = runs[key](args.quick)
        except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as e:
            value = {"error": " ".join(str(e).split())[-600:]}
        lines: list[str] = []
        add = lines.append
        add(
            f"(This section alone was run again by `python -m benchmarks.run --section {key}` on "
            f"{m['date']} at commit {m['commit']}, load average "
            f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; the rest of this file is from "
            "the whole run above.)"
        )
        add("")
        if failed(value):
            add(f"**Failed**: {value['error']}")
            add("")
        else:
            write(add, value)
        start = text.index(title) + len(title)
        nxt = text.find("\n## ", start)
        end = nxt + 1 if nxt >= 0 else len(text)
        body = "\n".join(lines).rstrip("\n")
        text = text[:start] + "\n\n" + body + ("\n\n" if nxt >= 0 else "\n") + text[end:]
    args.out.write_text(text, encoding="utf-8")
    log(f"replaced {', '.join(keys)} in {args.out}")
    return 0


def failed(value: Any) -> bool:
    """Whether a section's result is a failure record."""
    return isinstance(value, dict) and "error" in value


def target_rows(res: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) rows: the speed issue's targets, each with its command."""
    rows = []
    scale = [] if failed(res["scale"]) else res["scale"]
    big = next((r for r in scale if r["n"] == 100_000), None)
    if big:
        cpu = min(big.get("cpus") or big["walls"])
        ns = cpu / (big["n"] * big["weeks"]) * 1e9
        target = TARGETS["scale_ns_per_pw"]
        rows.append(
            (
                f"full model, 100,000 participants × {big['weeks']} weeks, one core: "
                f"≤ {target:g} ns per participant-week (section 1: `simulate`, CPU time, best of "
                f"{big['reps']})",
                f"{ns:.0f} ns (wall {fmt_s(min(big['walls']))} best)",
                verdict(ns <= target, ns, target),
            )
        )
        rows.append(
            (
                "… and ≤ 1.5 GB peak RSS",
                f"{big['peak_rss_mb']:.0f} MB",
                verdict(big["peak_rss_mb"] <= TARGETS["scale_rss_mb"], big["peak_rss_mb"], 1536),
            )
        )
    side = next((r for r in ([] if failed(res["side"]) else res["side"]) if r["n"] == 10_000), None)
    if side:
        ratio = statistics.median(side["mesa_s"]) / statistics.median(side["kernel_s"])
        rows.append(
            (
                "matching ≥ 50× faster than the Mesa baseline at 10k (section 2)",
                f"{ratio:.0f}×",
                "yes"
                if ratio >= TARGETS["match_ratio_10k"]
                else f"**no**: {ratio / 50:.0%} of the target",
            )
        )
    if not failed(res["throughput"]):
        one = res["throughput"]["one"]
        target = TARGETS["runs_per_s_1core"]
        if "outcomes_cpu_s" in one:
            rate = one["outcomes_sims"] / one["outcomes_cpu_s"]
            wall_rate = one["outcomes_sims"] / one["outcomes_seconds"]
            rows.append(
                (
                    f"500-participant baseline, `simulate_outcomes`, one core, warm: ≥ {target:g} "
                    "runs/s (section 3, per second of CPU time)",
                    f"{rate:.1f} /s ({wall_rate:.1f} /s of wall time)",
                    "yes" if rate >= target else f"**no**: {rate / target:.0%} of the target",
                )
            )
    engine = res.get("engine")
    if engine and not failed(engine):
        two = next((r for r in engine["rows"] if r["executor"].startswith("2 processes")), None)
        if two:
            rate = two["runs"] / two["run_s"]
            target = TARGETS["runs_per_s_2proc"]
            rows.append(
                (
                    f"… the engine on 2 processes: ≥ {target:g} runs/s (section 3b, wall)",
                    f"{rate:.1f} /s",
                    "yes" if rate >= target else f"**no**: {rate / target:.0%} of the target",
                )
            )
    if not failed(res["startup"]):
        warm = statistics.median(res["startup"]["warm"])
        cpu = statistics.median(res["startup"].get("warm_cpu") or [float("nan")])
        target = TARGETS["startup_warm_s"]
        rows.append(
            (
                f"`introsim run scenarios/baseline.toml`, warm cache, whole process: < {target:g} "
                "s wall (section 4)",
                f"{fmt_s(warm)} median, {fmt_s(min(res['startup']['warm']))} best; CPU "
                f"{fmt_s(cpu)} median"
                + (
                    f" (load {res['startup']['warm_load'][0]:.1f}-"
                    f"{res['startup']['warm_load'][1]:.1f})"
                    if res["startup"].get("warm_load")
                    else ""
                ),
                verdict(warm < target, warm, target),
            )
        )
    if not failed(res.get("dashboard", {"error": ""})):
        rows += dashboard.target_rows(res["dashboard"], verdict)
    sens = res.get("sensitivity")
    if sens and "skipped" in sens:
        rows.append(
            (
                f"Sobol study of IPS minus standard on 2 cores: < {TARGETS['sobol_2core_s'] / 60:g}"
                " min (section 8)",
                f"not measured: {sens['skipped']}",
                "not measured",
            )
        )
    elif sens and not failed(sens) and not sens.get("quick"):
        target = TARGETS["sobol_2core_s"]
        converged = "converged" if all(sens["converged"]) else "not all outcomes converged"
        rows.append(
            (
                f"Sobol study of IPS minus standard on 2 cores: < {target / 60:g} min (section 8)",
                f"{fmt_s(sens['wall_s'])}: N = {sens['N']}, {sens['runs']} runs ({converged})",
                verdict(sens["wall_s"] < target, sens["wall_s"], target),
            )
        )
    return rows


def verdict(ok: bool, value: float, target: float) -> str:
    """'yes', or by how much a target was missed."""
    if ok:
        return "yes"
    return f"**no**: {value / target:.2f}× the target ({100 * (value / target - 1):.0f} % over)"


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks (or one child task) and write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small versions (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the report")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument(
        "--section",
        action="append",
        choices=[key for key, _, _ in SECTIONS],
        help="run only this section (repeatable) and replace it in the existing report",
    )
    args = parser.parse_args(argv)
    if args.child:
        task, *rest = args.child
        print(json.dumps(CHILDREN[task](rest)))
        return 0

    t_start = time.perf_counter()
    res: dict[str, Any] = {"quick": args.quick, "machine": machine_info()}
    log("priming the numba cache")
    res["prime"] = prime_cache()
    sections = {
        "scale": section_scale,
        "side": section_side,
        "throughput": section_throughput,
        "engine": section_engine,
        "startup": section_startup,
        "nojit": section_nojit,
        "profile": section_profile,
        "dashboard": lambda quick: run_child("dashboard", 3 if quick else dashboard.MOVES),
        "sensitivity": lambda quick: section_sensitivity(quick, introsim_command(), child_env()),
        "commits": lambda quick: section_commits(
            [*COMMITS, WORKTREE], 1 if quick else 3, 10_000 if quick else 100_000
        ),
    }
    if args.section:
        return rerun_sections(args.section, {k: sections[k] for k in args.section}, args)
    for key, run in sections.items():
        try:
            res[key] = run(args.quick)
        except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as e:
            log(f"{key} failed: {e}")
            res[key] = {"error": " ".join(str(e).split())[-600:]}
    res["load_end"] = os.getloadavg()
    res["total_s"] = time.perf_counter() - t_start
    text = render(res)
    args.out.write_text(text + "\n", encoding="utf-8")
    log(f"wrote {args.out} ({fmt_s(res['total_s'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
