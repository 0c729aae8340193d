"""Where a run's weekly loop spends its time, timed inside compiled code.

``python -m benchmarks.kernel_split N [RUNS]`` runs the weekly kernels of ``N``
participants over 260 weeks, seeds 1 to ``RUNS``, in the fixed weekly order (as
``kernels.run_week``, with ``match_week`` opened into its five steps) inside one
compiled loop, and reads libc's ``clock()`` (process CPU time, microseconds)
between the kernels. Section 1 of ``make bench`` times each kernel called from
Python instead, which adds a few microseconds of dispatch to every call: at
small sizes that is most of a small kernel's time. Pin it to one core
(``taskset -c 1``) and say the load average when quoting it.
"""

from __future__ import annotations

import ctypes
import os
import sys

import numpy as np
from numba import njit

from introsim.model import kernels as K
from introsim.params.schema import Scenario
from introsim.run import build_world

PARTS = (
    "assign_waiting",
    "programme_week",
    "specialist_week",
    "vacancy_week",
    "tie_routes",
    "advertised_by_sector",
    "applications",
    "accepted_offers",
    "hire",
    "jobs_week",
    "exit_week_kernel",
    "account_week",
    "ledger_week",
)

# The loop below copies kernels.run_week's order by hand (with match_week opened up): a
# weekly kernel added there must be added here too.
if set(K.WEEKLY_KERNELS) - {"match_week"} - set(PARTS):
    raise RuntimeError("benchmarks.kernel_split does not time every weekly kernel")

_libc = ctypes.CDLL(None)
_clock = _libc.clock
_clock.restype = ctypes.c_long
_clock.argtypes = ()

# Module-level names, so the compiled loop below calls the kernels directly.
_assign, _programme, _specialist = K.assign_waiting, K.programme_week, K.specialist_week
_vacancy, _routes, _advertised = K.vacancy_week, K.tie_routes, K.advertised_by_sector
_applications, _offers, _hire = K.applications, K.accepted_offers, K.hire
_jobs, _exit, _account, _ledger = K.jobs_week, K.exit_week_kernel, K.account_week, K.ledger_week


@njit
def _timed_weeks(stop, r, s, e, v, t, p, c, weekly, accounts, ledger, work, spent):
    for week in range(stop):
        row, flows = weekly[week], ledger[week]
        t0 = _clock()
        _assign(week, r, s, p, c, work)
        t1 = _clock()
        spent[0] += t1 - t0
        _programme(week, r, t, p)
        t0 = _clock()
        spent[1] += t0 - t1
        row[K.COL_CONTACTS] = _specialist(week, s, t, p)
        t1 = _clock()
        spent[2] += t1 - t0
        row[K.COL_OPENED], row[K.COL_OUTSIDE] = _vacancy(week, e, v, p, c, work)
        t0 = _clock()
        spent[3] += t0 - t1
        _routes(s, v, work)
        t1 = _clock()
        spent[4] += t1 - t0
        n_adv = _advertised(e, v, p.n_sectors, work)
        t0 = _clock()
        spent[5] += t0 - t1
        n_applied = _applications(week, r, s, e, v, t, p, work, n_adv)
        t1 = _clock()
        spent[6] += t1 - t0
        _offers(r, e, p, work, n_applied)
        t0 = _clock()
        spent[7] += t0 - t1
        row[K.COL_HIRES] = _hire(week, r, s, e, v, t, p, work, n_applied)
        t1 = _clock()
        spent[8] += t1 - t0
        row[K.COL_SEPARATIONS], row[K.COL_RELEASES] = _jobs(week, r, s, t, p)
        t0 = _clock()
        spent[9] += t0 - t1
        row[K.COL_EXITS] = _exit(week, r, s, t, p, work)
        t1 = _clock()
        spent[10] += t1 - t0
        _account(week, r, s, p, row[: K.N_STATUS])
        t0 = _clock()
        spent[11] += t0 - t1
        _ledger(week, r, s, t, p, accounts, flows)
        t1 = _clock()
        spent[12] += t1 - t0


def split(n: int, runs: int) -> dict[str, float]:
    """CPU nanoseconds per participant-week of each part of the weekly loop.

    Args:
        n: Participants (the default scenario otherwise).
        runs: Seeds 1 to ``runs``, after one warm-up run with seed 0.

    Returns:
        Each part of :data:`PARTS` mapped to its CPU time per participant-week, in ns.
    """
    scenario = Scenario().with_overrides({"cohort.size": n})
    weeks = scenario.scenario.weeks
    spent = np.zeros(len(PARTS), dtype=np.int64)
    for seed in range(runs + 1):
        if seed == 1:
            spent[:] = 0  # seed 0 warmed the caches and compiled the loop
        w = build_world(scenario, seed)
        _timed_weeks(weeks, *w[:7], w.weekly, w.accounts, w.ledger, w.work, spent)
    per = 1e3 / (runs * n * weeks)  # clock() counts microseconds
    return {name: float(us) * per for name, us in zip(PARTS, spent, strict=True)}


def main() -> None:
    """Print the split of ``N`` participants over ``RUNS`` runs (arguments)."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    parts = split(n, runs)
    print(f"{n} participants x 260 weeks, {runs} runs, load {os.getloadavg()[0]:.2f}: CPU ns per")
    print("participant-week")
    for name, ns in parts.items():
        print(f"  {name:22s} {ns:6.1f}")
    print(f"  {'total':22s} {sum(parts.values()):6.1f}")


if __name__ == "__main__":
    main()
