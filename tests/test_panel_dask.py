"""A panel on a real Dask cluster: a scheduler and two workers started as separate processes.

``dask scheduler`` and two ``dask worker`` processes on localhost (random free ports), as
a user would start them on a cluster; one worker is killed with SIGKILL while the panel
runs, and the panel still finishes with the same bytes as on one process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import ROOT, SRC, call_cli, write

pytest.importorskip("distributed")

DASK = Path(sys.executable).parent / "dask"
PROFILES = ROOT / "municipalities" / "norway_2023.csv"
SCENARIOS = ROOT / "scenarios"
FILES = ("municipalities.csv", "decomposition.csv", "runs.parquet")

# The four largest intakes: runs long enough (about 0.05-0.1 s each) to kill a worker mid-run.
PANEL = f"""
[panel]
name = "dask"
question = "The same answer on a cluster that loses a worker"
profile = "{PROFILES.as_posix()}"
codes = ["0301", "4601", "5001", "1103"]
replications = 8
seed = 11

[[policy]]
name = "today"
scenario = "{(SCENARIOS / "baseline.toml").as_posix()}"

[[policy]]
name = "ips_15"
scenario = "{(SCENARIOS / "ips_caseload_15.toml").as_posix()}"
"""


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    env["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"
    return env


@contextlib.contextmanager
def started(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own group, killed with its children on leaving."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def wait_for_workers(address: str, n: int, timeout: float = 60) -> None:
    from distributed import Client

    with Client(address, timeout="20s") as client:
        client.wait_for_workers(n, timeout=timeout)


@pytest.mark.skipif(not DASK.exists(), reason="the dask command is not installed")
def test_panel_on_a_cluster_that_loses_a_worker_gives_the_same_bytes(tmp_path):
    panel = write(tmp_path, "panel.toml", PANEL)
    res = call_cli("municipalities", panel, "--out", tmp_path / "one")
    assert res.returncode == 0, res.stderr

    env = environment(tmp_path)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port)]
    scheduler += ["--no-dashboard"]

    def worker(name: str) -> list[str]:
        return [
            str(DASK),
            "worker",
            address,
            "--name",
            name,
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
            "--local-directory",
            str(tmp_path / name),
        ]

    with (
        started(scheduler, env, tmp_path / "scheduler.log"),
        started(worker("w1"), env, tmp_path / "w1.log") as w1,
        started(worker("w2"), env, tmp_path / "w2.log"),
    ):
        wait_for_workers(address, 2)
        out = tmp_path / "dask"
        command = [sys.executable, "-m", "introsim", "municipalities", panel]
        run = subprocess.Popen(
            [*command, "--dask", address, "--out", str(out)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        # Kill one worker as soon as the first runs are stored: the rest is still to do.
        deadline = time.monotonic() + 120
        while not list((out / "parts").glob("*.parquet")) and time.monotonic() < deadline:
            assert run.poll() is None, run.communicate()[1].decode()[-2000:]
            time.sleep(0.05)
        stored_at_kill = len(list((out / "parts").glob("*.parquet")))
        os.killpg(w1.pid, signal.SIGKILL)
        _, err = run.communicate(timeout=240)
        assert run.returncode == 0, err.decode()[-2000:]
    assert 1 <= stored_at_kill < 16  # 64 runs in batches of 4: the kill came mid-run
    for name in FILES:
        assert (tmp_path / "one" / name).read_bytes() == (out / name).read_bytes(), name
