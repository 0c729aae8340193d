"""Compiled passes that total a run's outcomes and ledger, with numpy's results bit for bit.

A run without tables (sweeps, calibration, trials) needs a few dozen numbers from its final
state; worked out with numpy that is some fifty calls on arrays of a few hundred values,
which cost more than the sums themselves. These passes give the same numbers in one call
each: every value is the IEEE operation numpy does on each element, and every float sum adds
in the order numpy's ``add.reduce`` adds (:func:`numpy_sum`), so the results are the same
bits. ``tests/test_tally.py`` checks that against numpy and the numpy paths
(:func:`introsim.model.outcomes.summarise`); the pass for a run's outcomes is called from
:func:`introsim.model.outcomes.run_summary`, the ledger's from
:func:`introsim.model.ledger.ledger_outcomes`.

This module imports numba; the modules that define outcomes and the ledger import it only
when a run is totalled, so reading a scenario or a report does not load the compiler.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from introsim.model.outcomes import MONTHS_PER_WEEK, RETENTION_WEEKS
from introsim.model.state import WEEKS_24M, Status

_SUBSIDISED = int(Status.SUBSIDISED)
_PAIRWISE_BLOCK = 128  # numpy's PW_BLOCKSIZE


@njit(cache=True)
def _block(a: np.ndarray, lo: int, n: int) -> float:
    """NumPy's pairwise sum of at most 128 values, ``a[lo:lo + n]``.

    Below 8 values a plain loop; otherwise eight running sums combined as a tree, then the
    values past the last multiple of 8.
    """
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - n % 8:
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def _pairwise(a: np.ndarray, lo: int, n: int) -> float:
    """NumPy's pairwise summation of ``a[lo:lo + n]`` (``DOUBLE_pairwise_sum``).

    More than 128 values are split in two halves, the first a multiple of 8 long, each
    summed so, then added. numpy recurses; here an explicit stack does (numba's cache does
    not load recursive functions safely): each frame is a range split in two and, once
    known, its first half's sum.
    """
    if n <= _PAIRWISE_BLOCK:
        return _block(a, lo, n)
    starts = np.empty(64, dtype=np.int64)  # a split halves the range: 64 levels hold any size
    sizes = np.empty(64, dtype=np.int64)
    lefts = np.empty(64)
    left_done = np.zeros(64, dtype=np.bool_)
    top = -1
    while True:
        while n > _PAIRWISE_BLOCK:  # split down to the first half's first half ...
            top += 1
            starts[top], sizes[top], left_done[top] = lo, n, False
            n = n // 2 - (n // 2) % 8
        value = _block(a, lo, n)
        while True:  # hand the sum up: a first half waits for its second
            if top < 0:
                return value
            if not left_done[top]:
                lefts[top], left_done[top] = value, True
                half = sizes[top] // 2 - (sizes[top] // 2) % 8
                lo, n = starts[top] + half, sizes[top] - half
                break
            value = lefts[top] + value
            top -= 1


@njit(cache=True)
def numpy_sum(a: np.ndarray) -> float:
    """``np.add.reduce(a)`` of a contiguous 1-D float64 array: its identity 0, then the sum."""
    return 0.0 + _pairwise(a, 0, a.shape[0])


@njit(cache=True)
def _count(counts: np.ndarray, j: int, share: float) -> None:
    """Count a participant's share ``j`` (1.0, 0.0, or NaN when not observed)."""
    if share == share:
        counts[9 + j] += 1
        if share == 1.0:
            counts[j] += 1


@njit(cache=True)
def _keep(values: np.ndarray, kept: np.ndarray, j: int, value: float) -> None:
    """Keep an observed (not NaN) value of mean ``j``, in participant order."""
    if value == value:
        values[j, kept[j]] = value
        kept[j] += 1


@njit(cache=True)
def _rank(tally: np.ndarray, lowest: int, k: int) -> int:
    """The value of rank ``k`` (from 0) among whole numbers counted by value from ``lowest``."""
    seen = 0
    for v in range(tally.shape[0]):
        seen += tally[v]
        if seen > k:
            return lowest + v
    return lowest + tally.shape[0] - 1


@njit(cache=True)
def participant_tally(
    first_job_week,
    arrival_week,
    first_job_active,
    first_job_weeks,
    status_12m,
    status_24m,
    status_60m,
    status_120m,
    exit_status,
    status_after_exit_12m,
    weeks_employed_24m,
    cost_specialist,
    cost_subsidy,
    cost_benefit,
    weeks,
    work,
    work_or_education,
):
    """The run-level outcomes' parts, each value worked out as ``participant_outcomes`` does.

    Takes the participants' arrays of the same names, the run's horizon ``weeks``, and
    ``outcomes._share_table`` of the statuses in work and of those in work or education.

    Returns:
        ``counts``: for each share of ``outcomes.SHARE_COLUMNS``, in its order, the
        participants with a 1, then for each those with a value; ``means``: the mean of the
        observed values of each of ``outcomes._MEANS`` (NaN if none), summed as numpy sums
        them; the median weeks to a first job (NaN if nobody found one, or if the weeks
        spread wider than a run's: then ``np.median`` of the last, those weeks, is the
        median).
    """
    n = first_job_week.shape[0]
    counts = np.zeros(18, dtype=np.int64)
    values = np.empty((5, n))
    kept = np.zeros(5, dtype=np.int64)
    found_weeks = np.empty(n, dtype=np.int64)
    found = 0
    lowest, highest = 0, 0
    for i in range(n):
        in_work_12m = work[status_12m[i]]
        _count(counts, 0, in_work_12m)
        _count(counts, 1, work[status_24m[i]])
        _count(counts, 2, work[status_60m[i]])
        _count(counts, 3, work[status_120m[i]])
        _count(counts, 4, work_or_education[exit_status[i]])
        _count(counts, 5, work_or_education[status_after_exit_12m[i]])
        first = first_job_week[i]
        _count(counts, 6, 1.0 if first < 0 else 0.0)  # never employed: observed for all
        if first >= 0:
            to_first = first - arrival_week[i]
            found_weeks[found] = to_first
            if found == 0 or to_first < lowest:
                lowest = to_first
            if found == 0 or to_first > highest:
                highest = to_first
            found += 1
            # A first job that started fewer than 26 weeks before the horizon and still
            # runs is censored.
            if first + RETENTION_WEEKS <= weeks or first_job_active[i] == 0:
                _count(counts, 7, 1.0 if first_job_weeks[i] >= RETENTION_WEEKS else 0.0)
        if in_work_12m == 1.0:  # subsidised, of those in work at 12 months
            _count(counts, 8, 1.0 if status_12m[i] == _SUBSIDISED else 0.0)
        if weeks - arrival_week[i] >= WEEKS_24M:
            _keep(values, kept, 0, weeks_employed_24m[i] * MONTHS_PER_WEEK)
        _keep(values, kept, 1, cost_specialist[i] + cost_subsidy[i] + cost_benefit[i])
        _keep(values, kept, 2, cost_specialist[i])
        _keep(values, kept, 3, cost_subsidy[i])
        _keep(values, kept, 4, cost_benefit[i])
    means = np.full(5, np.nan)
    for j in range(5):
        if kept[j] > 0:
            means[j] = numpy_sum(values[j, : kept[j]]) / kept[j]
    median = np.nan
    if found > 0 and highest - lowest <= 2 * n + 1024:
        # numpy's median of whole numbers: the middle value, or the mean of the middle two
        # (their sum is exact), found by counting each value (no sort to compile).
        tally = np.zeros(highest - lowest + 1, dtype=np.int64)
        for k in range(found):
            tally[found_weeks[k] - lowest] += 1
        middle = float(_rank(tally, lowest, found // 2))
        if found % 2:
            median = middle
        else:
            median = (float(_rank(tally, lowest, found // 2 - 1)) + middle) / 2.0
    return counts, means, median, found_weeks[:found]


@njit(cache=True)
def ledger_sums(
    ledger, per_person, payer, flow, sign, column, n_payers, n_flows, in_work, discount
):
    """Each payer's net cost per participant over the horizon, and the discounted weeks in work.

    As ``ledger._booked(...).sum(axis=(0, 2))`` and ``(in_work * factors).sum()``: week by
    week each (payer, flow) cell books its entries in order, each payer's flows are summed as
    numpy sums a row, and the weeks add one after another.

    Args:
        ledger: The run's ledger, (weeks, ``LEDGER_FLOWS``).
        per_person: (weeks,) each week's factor to NOK per participant, discounted.
        payer: Each of the scenario's entries' payer (``ledger.entries``, in order), an
            index into ``PAYERS``.
        flow: Each entry's flow, an index into ``FLOWS``.
        sign: Each entry's sign.
        column: Each entry's ledger column.
        n_payers: The size of ``PAYERS``.
        n_flows: The size of ``FLOWS``.
        in_work: (weeks, 2) the weekly counts of the two statuses in work.
        discount: (weeks,) each week's discount factor.

    Returns:
        The net cost of each payer, the public purse's (their sum), and the sum over weeks of
        those in work times the week's factor.
    """
    weeks = ledger.shape[0]
    net = np.zeros(n_payers)
    cell = np.zeros((n_payers, n_flows))
    for w in range(weeks):
        cell[:] = 0.0
        for e in range(payer.shape[0]):
            cell[payer[e], flow[e]] += sign[e] * (ledger[w, column[e]] * per_person[w])
        for p in range(n_payers):
            net[p] += _pairwise(cell[p], 0, n_flows)
    worked = np.empty(weeks)
    for w in range(weeks):
        worked[w] = float(in_work[w, 0] + in_work[w, 1]) * discount[w]
    return net, numpy_sum(net), numpy_sum(worked)
