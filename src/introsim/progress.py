"""Progress of long work on stderr: a bar on a terminal, plain lines when piped.

Every command that runs many simulations reports through :func:`progress_reporter`,
so the bar, the plain lines and the early time estimate look the same everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = [
    "ESTIMATE_AFTER_S",
    "LONG_RUN_S",
    "PLAIN_EVERY_S",
    "format_duration",
    "progress_reporter",
]

LONG_RUN_S = 60.0
"""Work expected to take longer than this is announced with an estimate of its length."""
ESTIMATE_AFTER_S = 3.0
"""Seconds of work the estimate waits for (or a twentieth of the runs, if sooner)."""
PLAIN_EVERY_S = 10.0
"""Seconds between plain progress lines when stderr is not a terminal."""


def format_duration(seconds: float) -> str:
    """Say a duration the way a person would: ``45 s``, ``12 min``, ``2.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class _Rate(ProgressColumn):
    """Steps per second, e.g. ``41.2 runs/s``."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.speed
        return Text(f"{speed:.1f} {self.unit}/s" if speed else "", style="progress.data.speed")


@contextmanager
def progress_reporter(
    label: str,
    total: int,
    *,
    unit: str = "runs",
    console: Console | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Callable[[int, int], None]]:
    """Report progress of ``total`` steps on stderr; yield the ``tick(done, total)`` to call.

    On a terminal a bar with the time left is drawn (and removed at the end).
    Otherwise (piped, redirected, in a log) a plain line is printed every
    :data:`PLAIN_EVERY_S` seconds and one at the end. Either way, once the first
    steps are done, work estimated to last longer than :data:`LONG_RUN_S` is
    announced with a one-line note saying how long.

    Args:
        label: What is being done, e.g. ``"2 scenarios × 30 replicates"``.
        total: Number of steps.
        unit: Name of a step, plural.
        console: Where to write (default: stderr).
        clock: Seconds, monotonic (for tests).

    Yields:
        ``tick(done, total)``, to call as steps finish.
    """
    console = console if console is not None else Console(stderr=True, highlight=False)
    terminal = console.is_terminal
    start = clock()
    state: dict[str, Any] = {"last_line": start, "estimated": False, "first": None}

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    def estimate(done: int, total: int, now: float) -> None:
        if state["estimated"] or done <= 0 or done >= total:
            return
        # The rate is measured from the first finished step on: start-up (compiling the
        # kernels, starting workers) is paid once and would inflate a per-step average.
        if state["first"] is None:
            state["first"] = (done, now)
            return
        first_done, first_at = state["first"]
        if done <= first_done:
            return
        if now - first_at < ESTIMATE_AFTER_S and (done - first_done) * 20 < total:
            return
        state["estimated"] = True
        rate = (now - first_at) / (done - first_done)
        expected = (first_at - start) + rate * (total - first_done)
        if expected > LONG_RUN_S:
            say(
                f"note: {label}: about {format_duration(expected)} for {total} {unit} "
                f"(estimated from {unit} {first_done + 1} to {done})"
            )

    if terminal:
        bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            _Rate(unit),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        with bar:
            task = bar.add_task(label, total=total)

            def tick(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)
                estimate(done, total, clock())

            yield tick
        return

    def plain(done: int, total: int) -> None:
        now = clock()
        estimate(done, total, now)
        if done < total and now - state["last_line"] < PLAIN_EVERY_S:
            return
        state["last_line"] = now
        elapsed = now - start
        left = ""
        # Time left from the rate since the first steps finished (start-up is paid once and
        # would make the first lines promise far too long); none until there is such a rate.
        first = state["first"]
        if first is not None and first[0] < done < total:
            rate = (now - first[1]) / (done - first[0])
            left = f", about {format_duration(rate * (total - done))} left"
        share = 100 * done / total if total else 100.0
        say(f"{label}: {done}/{total} {unit} ({share:.0f} %), {format_duration(elapsed)}{left}")

    yield plain
