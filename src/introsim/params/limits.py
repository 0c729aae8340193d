"""How large a study may be: its run count and memory, estimated before any work starts.

Every study file kind says how many model runs it asks for and how much memory
it keeps while they go on; :func:`check_size` refuses one beyond these limits
with one line naming the file, the field that decides the size and the size in
numbers, before a point is built or a run started.
"""

from __future__ import annotations

from introsim.params.document import TomlDocument
from introsim.params.paths import Loc

__all__ = [
    "MAX_POINTS",
    "MAX_RUNS",
    "POINT_BYTES",
    "RUN_ROW_BYTES",
    "available_memory",
    "check_size",
    "count",
]

MAX_POINTS = 50_000
"""Most design points a study may have: each holds a validated scenario (about 15 KB, so
50,000 take about 750 MB) and takes about 7 ms to check, six minutes in all."""
MAX_RUNS = 1_000_000
"""Most model runs a study may ask for: at the default cohort a run takes about a second on
one core, so a million runs take a week on eight; anything larger is a mistake in the file."""
POINT_BYTES = 16_000
"""Memory of one design point (its validated scenario), measured with tracemalloc on
experiments/ips_sobol.toml: 15,600 bytes a point."""
RUN_ROW_BYTES = 1_000
"""Memory a study keeps per finished run: one row of about 40 outcomes (8 bytes each) in
the results and its copies while they are tabulated, on the high side."""


def available_memory() -> int | None:
    """Bytes the system can give without swapping (``MemAvailable``), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def count(value: float) -> str:
    """A count as people read it: ``2.6 × 10^10``, or ``12,800`` when small."""
    if value < 1e7:
        return f"{int(value):,}"
    exponent = len(str(int(value))) - 1
    return f"{value / 10**exponent:.1f} × 10^{exponent}"


def check_size(
    doc: TomlDocument,
    loc: Loc,
    *,
    points: int,
    runs: int,
    memory: int,
    why: str,
    repeats: str = "",
) -> None:
    """Refuse a study whose size or memory is beyond the limits, before any work.

    Args:
        doc: The study file.
        loc: The field that decides the size (where the message points).
        points: Design points (or scenarios, or candidates) the study builds.
        runs: Model runs it asks for.
        memory: Bytes it keeps while running (results, points), estimated.
        why: How the points come about, in words ("20 × 20 levels").
        repeats: How each point becomes runs, where it does (" × 10 replications").

    Raises:
        InputError: One line with the size, the limit and how it came about.
    """
    if points > MAX_POINTS:
        doc.fail(
            loc,
            f"the study has {count(points)} design points ({why}); at most "
            f"{count(MAX_POINTS)} are allowed",
        )
    if runs > MAX_RUNS:
        doc.fail(
            loc,
            f"the study asks for {count(runs)} model runs ({why}{repeats}); at most "
            f"{count(MAX_RUNS)} are allowed",
        )
    free = available_memory()
    if free is not None and memory > free:
        gib = 1 << 30
        doc.fail(
            loc,
            f"the study would keep about {memory / gib:.1f} GiB in memory ({why}{repeats}); "
            f"{free / gib:.1f} GiB is available",
        )
