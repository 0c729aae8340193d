"""One dashboard update: from the settings to the result in words and the charts, timed.

The page calls :func:`update` (in a thread of its own) whenever accepted settings
change; ``benchmarks/dashboard.py`` calls the same function to time it without
a browser.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from introsim.app import charts
from introsim.app.levers import apply
from introsim.app.summary import Line, summary
from introsim.app.whatif import POLL_S, RunCache, WhatIf, keys_of, run_whatif, whatif_tasks
from introsim.params.schema import Scenario

if TYPE_CHECKING:
    from introsim.params.ensemble_file import Ensemble

CHARTS = {
    "in_work": charts.in_work_figure,
    "status": charts.status_figure,
    "payers": charts.payers_figure,
    "subgroups": charts.subgroup_figure,
}
"""The what-if charts, by name, in the order shown."""

KEPT_UPDATES = 64
"""Finished updates kept per server, so a session opening a known view needs no work."""


@dataclass(frozen=True)
class Update:
    """What the page shows after a change, and what it was computed for.

    Attributes:
        scenario: The preset with the settings applied.
        settings: The accepted settings it was computed for (lever paths, stored units).
        whatif: The comparison with the preset.
        data: Each name of :data:`CHARTS` mapped to the figure as JSON for the browser.
        lines: The result in plain words, most important first.
        seconds: Wall time from the settings to the finished figures.
        runs: Simulations run for this update (the rest came from the cache).
    """

    scenario: Scenario
    settings: dict[str, Any]
    whatif: WhatIf
    data: dict[str, dict[str, Any]]
    lines: list[Line]
    seconds: float
    runs: int

    @property
    def figures(self) -> dict[str, go.Figure]:
        """Each name of :data:`CHARTS` mapped to its figure as a plotly object.

        Built on request only (plotly checks every property, which costs more than making
        the chart's data); the page draws :attr:`data`.
        """
        return {name: go.Figure(figure) for name, figure in self.data.items()}

    @property
    def headline(self) -> list[str]:
        """The sentences, most important first."""
        return [line.text for line in self.lines]


class Updates:
    """Finished updates by (preset digest, settings, replications, language, size), newest kept."""

    def __init__(self, size: int = KEPT_UPDATES) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[Any, ...], Update] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Update | None:
        """The update kept under ``key``, if any."""
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: Update) -> None:
        """Keep an update, dropping the least recently used beyond ``size``."""
        with self._lock:
            self._kept[key] = value
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)


def update_key(
    preset: Scenario,
    settings: Mapping[str, Any],
    replications: int,
    lang: str,
    large: bool,
    ensemble: Ensemble | None = None,
) -> tuple[Any, ...]:
    """What an update is kept under: the same request gives the same key."""
    members = ensemble.digest() if ensemble is not None else None
    return (preset.digest(), tuple(settings.items()), replications, lang, large, members)


def update(
    preset: Scenario,
    settings: Mapping[str, Any],
    replications: int,
    lang: str,
    large: bool = False,
    cache: RunCache | None = None,
    executor: Executor | None = None,
    cancelled: Callable[[], bool] | None = None,
    kept: Updates | None = None,
    ensemble: Ensemble | None = None,
) -> Update:
    """Apply the settings, run the what-if and build the words and the charts.

    Args:
        preset: The reference scenario.
        settings: Lever paths mapped to values in the schema's units.
        replications: Runs per scenario.
        lang: Language of labels.
        large: Projector mode (large type).
        cache: Runs kept between updates.
        executor: A warm worker pool for runs not in the cache; None runs them here.
        cancelled: Asked while runs are under way; True stops the update.
        kept: Finished updates; one for the same request is returned as it is.
        ensemble: A calibration's posterior ensemble the runs are spread over, or None
            for the scenario's own parameters.

    Returns:
        The update.

    Raises:
        introsim.app.levers.LeverError: If a setting cannot be run.
        introsim.app.whatif.Cancelled: If ``cancelled`` said so.
    """
    t0 = time.perf_counter()
    key = update_key(preset, settings, replications, lang, large, ensemble)
    if kept is not None and (found := kept.get(key)) is not None:
        return dataclasses.replace(found, seconds=time.perf_counter() - t0, runs=0)
    chosen = apply(preset, settings, lang)
    whatif = run_whatif(
        preset,
        chosen,
        replications,
        cache=cache,
        executor=executor,
        cancelled=cancelled,
        ensemble=ensemble,
    )
    data = {name: charts.figure_json(make(whatif, lang, large)) for name, make in CHARTS.items()}
    result = Update(
        scenario=chosen,
        settings=dict(settings),
        whatif=whatif,
        data=data,
        lines=summary(whatif, lang),
        seconds=time.perf_counter() - t0,
        runs=whatif.runs,
    )
    if kept is not None:
        kept.put(key, result)
    return result


def work_ahead(
    preset: Scenario,
    next_settings: Sequence[Mapping[str, Any]],
    replications: int,
    lang: str,
    large: bool,
    cache: RunCache,
    executor: Executor,
    kept: Updates,
    ensemble: Ensemble | None = None,
    wanted: Callable[[], bool] | None = None,
    patience_s: float = 30.0,
) -> int:
    """Work out ahead the what-ifs the page may ask for next, and keep them finished.

    First their runs go to the pool (see :meth:`RunCache.prefetch`: a run per worker at
    a time, and any computation someone waits for goes first); as each what-if's runs
    are all in, its words and charts are made with :func:`update` and kept, so asking
    for it shows it at once. The runs are the very runs :func:`update` would run (same
    scenarios, seeds and members): a result worked out ahead is the one it would have
    computed afresh.

    Args:
        preset: The reference scenario.
        next_settings: Settings that may come next (lever paths, schema units).
        replications: Runs per scenario.
        lang: Language of the words and charts.
        large: Projector mode.
        cache: Where the runs are kept.
        executor: The warm worker pool.
        kept: Where the finished what-ifs are kept.
        ensemble: As :func:`update`.
        wanted: Asked while waiting for runs: False stops (newer settings, the page gone).
        patience_s: Longest wait for one what-if's runs (the guess is dropped after it).

    Returns:
        What-ifs finished and kept.
    """
    still = wanted or (lambda: True)
    tasks = {}
    for settings in next_settings:
        chosen = apply(preset, settings)
        tasks[tuple(settings.items())] = whatif_tasks(
            preset, chosen, replications, ensemble=ensemble
        )[0]
    cache.prefetch([task for runs in tasks.values() for task in runs], executor)
    finished = 0
    for settings in next_settings:
        deadline = time.monotonic() + patience_s
        runs = keys_of(tasks[tuple(settings.items())])
        while not cache.holds(runs):
            if not still() or time.monotonic() > deadline:
                return finished
            time.sleep(POLL_S)
        if not still():
            break
        update(preset, settings, replications, lang, large, cache, kept=kept, ensemble=ensemble)
        finished += 1
    return finished
