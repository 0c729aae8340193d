"""Behaviour behind the benchmarks (no timings here: those are ``make bench``).

- The Mesa-style matching in ``benchmarks/mesa_baseline.py`` follows the kernel's rules:
  from the same snapshot both hire at the same rate within sampling error, and the
  comparison is sharp enough to notice one rule left out.
- The benchmark report states every target and says by how much one was missed.
- The start-up figure is the issue's: a warm start keeps Python's bytecode, and the split of
  one ``introsim run`` process adds up to the whole of it.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from introsim.model.state import Status
from introsim.params.schema import Scenario

import benchmarks.run as bench
from benchmarks import mesa_baseline
from benchmarks.commits import warm_start_env

REPS = 300
Z_LIMIT = 4.0  # two-sided p ~ 6e-5: fixed keys and seeds make the test deterministic anyway


@pytest.fixture(scope="module")
def snapshot():
    """Matching inputs of week 52 of a 300-participant run with plenty of vacancies."""
    sc = Scenario().with_overrides(
        {
            **mesa_baseline.BENCH_OVERRIDES,
            "cohort.size": 300,
            "labour_market.vacancy_rate": 0.1,
        }
    )
    inputs = mesa_baseline.capture_match_inputs(sc, seed=2, week=52)
    assert inputs.searchers() > 50 and inputs.open_vacancies() > 10 and inputs.ties() > 0
    return inputs


@pytest.fixture(scope="module")
def kernel_hires(snapshot):
    """(hires, preferred-sector hires) of the kernel over REPS run keys."""
    return np.array(
        [
            mesa_baseline.run_kernel(snapshot, mesa_baseline.replicate_key(snapshot, r))
            for r in range(REPS)
        ]
    )


def test_baseline_implements_the_kernels_arguments():
    # A new or removed match_week argument means new rules: the baseline must follow.
    mesa_baseline.check_signature()


def test_capture_leaves_the_run_and_kernel_untouched(snapshot):
    from introsim.model import kernels

    assert kernels.match_week is not None and hasattr(kernels.match_week, "py_func")
    a, b = snapshot.copied(), snapshot.copied()
    assert a["status"] is not b["status"] and np.array_equal(a["status"], b["status"])
    # The same key gives the same hires: the snapshot is not changed by running on it.
    assert mesa_baseline.run_kernel(snapshot) == mesa_baseline.run_kernel(snapshot)


def test_mesa_baseline_hires_at_the_kernels_rate(snapshot, kernel_hires):
    mesa = np.array([mesa_baseline.run_mesa(snapshot, seed) for seed in range(REPS)])
    hires = mesa_baseline.two_sample_z(kernel_hires[:, 0], mesa[:, 0])
    preferred = mesa_baseline.two_sample_z(kernel_hires[:, 1], mesa[:, 1])
    assert hires.mean_a > 1.0, "too few hires for the comparison to mean anything"
    assert abs(hires.z) < Z_LIMIT, hires
    assert abs(preferred.z) < Z_LIMIT, preferred


def test_comparison_notices_a_rule_left_out(snapshot, kernel_hires):
    # The Mesa model without the specialist's endorsement must be told apart.
    args = dict(snapshot.args)
    args["endorsement"] = np.zeros_like(args["endorsement"])
    without = mesa_baseline.MatchInputs(args)
    mesa = np.array([mesa_baseline.run_mesa(without, seed) for seed in range(REPS)])
    assert abs(mesa_baseline.two_sample_z(kernel_hires[:, 0], mesa[:, 0]).z) > Z_LIMIT


def test_mesa_hire_updates_state_like_the_kernel(snapshot):
    # After a step, each hire holds its own vacancy, now closed, and starts in work this week
    # or, with a lag between accepting and starting, is waiting to start (as in the kernel).
    # Hires in one step are few, so take the first seed whose step hires someone.
    for seed in range(5, 45):
        model = mesa_baseline.MesaMatching(snapshot, seed=seed)
        model.step()
        if model.hires:
            break
    week = snapshot.args["week"]
    lag = model.job_start_lag_weeks
    hired = [
        p
        for p in model.agents_by_type[mesa_baseline.Participant]
        if (lag > 0 and p.pending_start == week + lag)
        or (lag == 0 and p.status in (Status.EMPLOYED, Status.SUBSIDISED) and p.job_start == week)
    ]
    assert len(hired) == model.hires > 0
    assert len({p.job_vacancy for p in hired}) == len(hired)
    for p in hired:
        (vacancy,) = [v for v in p.job_employer.vacancies if v.serial == p.job_vacancy]
        assert vacancy.filled and not vacancy.is_open


def test_two_sample_z():
    same = mesa_baseline.two_sample_z([1, 2, 3, 4], [1, 2, 3, 4])
    assert same.z == 0.0 and same.p == pytest.approx(1.0)
    apart = mesa_baseline.two_sample_z([10, 11, 10, 11], [1, 2, 1, 2])
    assert apart.z > 10 and apart.p < 1e-6


def _fake_results(warm_startup: float) -> dict:
    walls = [2.5, 2.6, 2.7]
    return {
        "quick": False,
        "machine": {
            "command": "make bench",
            "argv": "python -m benchmarks.run",
            "date": "today",
            "cpu": "CPU",
            "logical_cpus": 2,
            "physical_cores": 2,
            "memory_gb": 24.0,
            "os": "Linux",
            "python": "3.11",
            "load_start": (0.1, 0.1, 0.1),
            "commit": "abc",
            "versions": {"numba": "x"},
        },
        "load_end": (0.1, 0.1, 0.1),
        "total_s": 100.0,
        "prime": {"seconds": 1.0, "cache_misses": 0},
        "scale": [
            {
                "n": n,
                "weeks": 260,
                "reps": 3,
                "walls": [w * n / 100_000 for w in walls],
                "cpus": [0.4 * w * n / 100_000 for w in walls],
                "employers": n * 6 // 10,
                "peak_rss_mb": 300.0,
                "rss_before_mb": 250.0,
                **({"breakdown": {"match_week": 1.5, "summarise": 0.1}} if n == 100_000 else {}),
            }
            for n in (1_000, 10_000, 100_000)
        ],
        "side": [
            {
                "n": n,
                "reps": 3,
                "week": 52,
                "overrides": {},
                "searchers": 10,
                "open_vacancies": 5,
                "ties": 3,
                "kernel_s": [0.001] * 3,
                "mesa_s": [0.1] * 3,
                "mesa_build_s": [0.2] * 3,
                "hires": {"mean_a": 5, "mean_b": 5, "se_a": 1, "se_b": 1, "z": 0, "p": 1},
                "preferred_hires": {"mean_a": 1, "mean_b": 1, "se_a": 1, "se_b": 1, "z": 0, "p": 1},
            }
            for n in (1_000, 10_000)
        ],
        "throughput": {
            "one": {
                "sims": 300,
                "seconds": 10.0,
                "warm_s": 0.5,
                "size": 500,
                "weeks": 260,
                "cpus": [0],
            },
            "two": {
                "sims": 600,
                "wall_s": 10.0,
                "warm_s": [1, 1],
                "cache_misses": [0, 0],
                "cache_hits": [8, 8],
            },
        },
        "startup": {
            "command": "introsim run scenarios/baseline.toml --out TMP",
            "scenario_file": "scenarios/baseline.toml",
            "cold": [12.0],
            "warm": [warm_startup] * 5,
            "phases": {"imports": {"wall": 1.0, "cpu": 0.9}},
            "imports": {"import numba": 0.3},
            "importtime": [(0.5, 0.01, 0, "pandas")],
        },
        "nojit": {
            "off": {"n": 1000, "weeks": 260, "walls": [25.0]},
            "on": {"n": 1000, "weeks": 260, "walls": [0.03]},
            "same_summary": True,
        },
        "profile": {"skipped": "not in tests"},
    }


def test_report_states_targets_and_misses():
    met = bench.render(_fake_results(warm_startup=1.0))
    assert (
        "| `introsim run scenarios/baseline.toml`, warm cache, whole process: < 1.2 s wall "
        "(section 4) |" in met
    )
    assert "| 38 ns (wall 2.50 s best) | yes |" in met  # CPU time per participant-week
    assert "**no**" not in met
    assert "100×" in met  # side-by-side ratio of medians
    assert "N^1.00" in met  # linear growth of the fake scale curve
    missed = bench.render(_fake_results(warm_startup=1.5))
    assert "**no**: 1.25× the target (25 % over)" in missed


def test_report_survives_a_failed_section():
    res = _fake_results(warm_startup=1.5)
    res["startup"] = {"error": "introsim run failed: boom"}
    text = bench.render(res)
    assert "**Failed**: introsim run failed: boom" in text
    assert "warm cache, whole process" not in text
    assert "## 5. What the JIT is worth" in text


def test_a_section_run_again_replaces_only_that_section(tmp_path):
    report = tmp_path / "RESULTS.md"
    report.write_text(bench.render(_fake_results(warm_startup=1.0)) + "\n", encoding="utf-8")
    before = report.read_text(encoding="utf-8")
    args = type("Args", (), {"out": report, "quick": True})()
    failing = {"startup": lambda quick: (_ for _ in ()).throw(RuntimeError("boom"))}
    assert bench.rerun_sections(["startup"], failing, args) == 0
    after = report.read_text(encoding="utf-8")
    title = "## 4. Start-up: `introsim run` on the baseline"
    head, _, rest = after.partition(title)
    assert head == before.partition(title)[0]  # everything before the section is kept
    section, _, tail = rest.partition("\n## 5.")
    assert "--section startup" in section and "**Failed**: boom" in section
    assert section.endswith("\n")  # a blank line before the next heading
    assert "## 5." + tail == "## 5." + before.partition("\n## 5.")[2]


def test_a_warm_start_keeps_its_bytecode(tmp_path):
    env = warm_start_env({"PYTHONDONTWRITEBYTECODE": "1", "KEEP": "x"}, tmp_path / "pyc")
    assert "PYTHONDONTWRITEBYTECODE" not in env and env["KEEP"] == "x"
    assert env["PYTHONPYCACHEPREFIX"] == str(tmp_path / "pyc")


def test_the_start_up_phases_are_in_order_and_within_the_process(tmp_path):
    # One real `introsim run` process (the tests' numba cache), split by clock readings taken
    # in the child and around it: every phase's readings come in order, and the whole lies
    # within the time this test saw the call take (the phases add up to the whole by
    # construction, so that alone would check nothing).
    env = warm_start_env(bench.child_env(), tmp_path / "pyc")
    t0 = time.perf_counter()
    phases = bench.startup_phases(bench.BASELINE_TOML, tmp_path / "out", env, tmp_path)
    elapsed = time.perf_counter() - t0
    assert (tmp_path / "out" / "participants.csv").stat().st_size > 0
    *counted, whole = (p for label, p in phases.items() if not label.startswith("…"))
    assert len(counted) == 6 and all(p["wall"] > 0 and p["cpu"] >= 0 for p in phases.values())
    assert 0 < whole["wall"] <= elapsed and 0 < whole["cpu"]
