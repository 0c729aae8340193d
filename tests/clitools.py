"""Running the ``introsim`` command line from tests, as a user would."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC.parent


def run_cli(
    *args: str | Path, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m introsim ARGS`` with the source tree importable; never raises on failure."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-m", "introsim", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def call_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``introsim ARGS`` in this process, as :func:`run_cli` would report it, but fast.

    No interpreter start and the kernels already loaded: for tests of answers and
    files, not of processes and signals (those need :func:`run_cli`).
    """
    from introsim import cli

    out, err = io.StringIO(), io.StringIO()
    argv, on_sigterm = sys.argv, signal.getsignal(signal.SIGTERM)
    sys.argv = ["introsim", *map(str, args)]
    code = 0
    try:
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext(),
        ):
            try:
                cli.main()
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 0
    finally:
        sys.argv = argv
        signal.signal(signal.SIGTERM, on_sigterm)  # main() installs its own
    return subprocess.CompletedProcess(sys.argv, code, out.getvalue(), err.getvalue())


def stderr_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The non-empty lines a command wrote to stderr."""
    return [line for line in result.stderr.splitlines() if line.strip()]


def write(directory: Path, name: str, text: str | bytes) -> Path:
    """Write a test file (text as UTF-8, or raw bytes) under ``directory``, making folders."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def killed_at(*args: str | Path, parts: int | None = None, point: str | None = None) -> int:
    """Run ``python -m introsim ARGS`` and let it kill itself at a chosen point; its exit status.

    ``parts``: after storing that many parts of runs (``INTROSIM_STOP_AFTER_PARTS``);
    ``point``: at a named point of publishing (``INTROSIM_STOP_AT``: ``staged``,
    ``swapped``). The same point every time, so a failure can be reproduced.
    """
    env = dict(os.environ, PYTHONPATH=str(SRC))
    env.pop("INTROSIM_STOP_AFTER_PARTS", None)
    env.pop("INTROSIM_STOP_AT", None)
    if parts is not None:
        env["INTROSIM_STOP_AFTER_PARTS"] = str(parts)
    if point is not None:
        env["INTROSIM_STOP_AT"] = point
    proc = subprocess.run(
        [sys.executable, "-m", "introsim", *map(str, args)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )
    return proc.returncode


def killed_in_fork(*args: str | Path, parts: int | None = None, point: str | None = None) -> int:
    """Like :func:`killed_at`, in a fork of this process: no interpreter to start, kernels loaded.

    The child runs ``introsim ARGS`` in process (:func:`call_cli`) with the kill point set
    and kills itself there with SIGKILL, so nothing of Python's clean-up runs, as with a
    real kill; the parent gets its exit status (``-SIGKILL``, or 0 if it finished).
    """
    import faulthandler

    pid = os.fork()
    if pid == 0:  # the child: never returns into the test
        code = 1
        try:
            faulthandler.disable()
            os.environ.pop("INTROSIM_STOP_AFTER_PARTS", None)
            os.environ.pop("INTROSIM_STOP_AT", None)
            if parts is not None:
                os.environ["INTROSIM_STOP_AFTER_PARTS"] = str(parts)
            if point is not None:
                os.environ["INTROSIM_STOP_AT"] = point
            code = call_cli(*args).returncode
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
