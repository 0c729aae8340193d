"""One dashboard update: from the settings to the charts, timed.

The page calls :func:`update` whenever a lever moves; ``benchmarks/dashboard.py``
calls the same function to report the slider-to-chart time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from introsim.app import charts
from introsim.app.levers import apply
from introsim.app.whatif import RunCache, WhatIf, run_whatif
from introsim.params.schema import Scenario

CHARTS = {
    "in_work": charts.in_work_figure,
    "status": charts.status_figure,
    "cost": charts.cost_figure,
    "subgroups": charts.subgroup_figure,
}
"""The what-if charts, by name, in the order shown."""


@dataclass(frozen=True)
class Update:
    """What the page shows after a change.

    Attributes:
        scenario: The preset with the settings applied.
        whatif: The comparison with the preset.
        figures: Each name of :data:`CHARTS` mapped to its figure.
        headline: The result in plain words, one sentence per item.
        seconds: Wall time from the settings to the finished figures.
    """

    scenario: Scenario
    whatif: WhatIf
    figures: dict[str, go.Figure]
    headline: list[str]
    seconds: float


def update(
    preset: Scenario,
    settings: Mapping[str, Any],
    replications: int,
    lang: str,
    large: bool = False,
    cache: RunCache | None = None,
) -> Update:
    """Apply the settings, run the what-if and build the charts.

    Args:
        preset: The reference scenario.
        settings: Lever paths mapped to values.
        replications: Replicates per scenario.
        lang: Language of labels.
        large: Projector mode (large type).
        cache: Runs kept between updates.

    Returns:
        The update.

    Raises:
        introsim.app.levers.LeverError: If a setting cannot be run.
    """
    t0 = time.perf_counter()
    chosen = apply(preset, settings, lang)
    whatif = run_whatif(preset, chosen, replications, cache=cache)
    figures = {name: make(whatif, lang, large) for name, make in CHARTS.items()}
    text = charts.headline(whatif, lang)
    return Update(chosen, whatif, figures, text, time.perf_counter() - t0)
