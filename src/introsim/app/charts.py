"""The dashboard's charts: plotly figures, and the JSON the page draws them from."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from plotly.utils import PlotlyJSONEncoder

from introsim.app.i18n import plotly_separators, preset_label, t
from introsim.app.whatif import WhatIf
from introsim.model.ledger import FLOWS, flow_rows, net_cost_name
from introsim.model.model import IntroModel
from introsim.model.state import STATUS_NAMES
from introsim.params.schema import PAYERS
from introsim.reporting.format import format_value
from introsim.reporting.ledger_report import FLOW_COLOURS
from introsim.reporting.theme import FONT, PALETTE, STATUS_STYLE

REFERENCE_COLOUR, CHOSEN_COLOUR = PALETTE[6], PALETTE[0]
GRID_COLOUR = "#e5e5e5"
FONT_SIZE = {False: 14, True: 22}
"""Chart font size in points: normal, and projector mode."""
COST = "cost_per_participant_nok"
"""An amount of NOK per participant, for the number format."""
PLOTLY_CONFIG = {"responsive": True, "displayModeBar": False, "displaylogo": False}
"""Plotly's options for the page: charts follow their container's width, and no toolbar
floats over a chart's title (the page's own button saves a picture of the whole view)."""


def figure_json(fig: go.Figure) -> dict[str, Any]:
    """A figure as plain JSON data for the browser (NaN as null, numpy arrays as lists)."""
    return json.loads(json.dumps(fig.to_plotly_json(), cls=PlotlyJSONEncoder))


def _layout(fig: go.Figure, title: str, large: bool, lang: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        separators=plotly_separators(lang),
        # No width: plotly takes the container's (not its own 700 px) and follows it.
        autosize=True,
        font={"family": FONT, "size": FONT_SIZE[large]},
        height=int(height * (1.35 if large else 1.0)),
        margin={"l": 60, "r": 20, "t": 60 + 20 * large, "b": 50},
        legend={"orientation": "h", "y": -0.18},
        # A white background set directly: building a named template costs more than
        # the rest of a chart (it is copied and validated each time).
        plot_bgcolor="white",
    )
    fig.update_xaxes(gridcolor=GRID_COLOUR, zeroline=False)
    fig.update_yaxes(gridcolor=GRID_COLOUR, zeroline=False)
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def names(w: WhatIf, lang: str) -> tuple[str, str]:
    """Legend names of the two scenarios: the preset's name, and 'your settings'."""
    return preset_label(w.reference, lang), t("your_settings", lang)


def in_work_figure(w: WhatIf, lang: str, large: bool = False) -> go.Figure:
    """Share of arrived participants in work, week by week, with where one cohort lands."""
    fig = go.Figure()
    for band, name, colour in zip(
        w.in_work, names(w, lang), (REFERENCE_COLOUR, CHOSEN_COLOUR), strict=True
    ):
        weeks = np.arange(band.mean.size)
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([weeks, weeks[::-1]]),
                y=100 * np.concatenate([band.spread_high, band.spread_low[::-1]]),
                fill="toself",
                fillcolor=_rgba(colour, 0.2),
                line={"width": 0},
                hoverinfo="skip",
                name=f"{name}: {t('band', lang)}",
                showlegend=False,
            )
        )
        fig.add_trace(
            go.Scatter(x=weeks, y=100 * band.mean, name=name, line={"color": colour, "width": 3})
        )
    fig.update_xaxes(title=t("week", lang))
    fig.update_yaxes(title="%", rangemode="tozero")
    return _layout(fig, t("chart_in_work", lang), large, lang)


def status_figure(w: WhatIf, lang: str, large: bool = False) -> go.Figure:
    """Where the arrived participants are each week: stacked shares, reference and chosen."""
    titles = names(w, lang)
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=titles)
    for col, table in enumerate(w.status, start=1):
        for status in STATUS_STYLE:
            fig.add_trace(
                go.Scatter(
                    x=table.index,
                    y=100 * table[status].to_numpy(),
                    stackgroup=f"s{col}",
                    name=t(f"status_{status}", lang),
                    legendgroup=status,
                    showlegend=col == 1,
                    line={"width": 0.5, "color": STATUS_STYLE[status][1]},
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title=t("week", lang))
    fig.update_yaxes(title="%", range=[0, 100], col=1)
    return _layout(fig, t("chart_status", lang), large, lang, height=420)


def payers_figure(w: WhatIf, lang: str, large: bool = False) -> go.Figure:
    """Who pays and who gains: each payer's flows per participant, stacked, in present value.

    One pair of bars per payer (the municipality, the state, NAV): the starting point and
    your settings. Costs stack right of zero and income (the grant received, taxes) left,
    from :func:`introsim.model.ledger.flow_rows` on the runs' averages; a diamond marks each
    bar's net cost. The bars lie across the page, named on the left, so the names stay
    readable on a phone (six upright bars side by side leave a word no room). One axis with
    two levels of categories (payer, scenario): no more to build than a plain bar chart.
    """
    scenarios = (t("reference", lang), t("your_settings", lang))
    booked = [
        {(p, f): v for p, f, v in zip(rows["payer"], rows["flow"], rows["nok"], strict=True)}
        for rows in (flow_rows(flows) for flows in w.flows)
    ]
    payers = [p for p in PAYERS if any(p == q for side in booked for q, _ in side)]
    bars = [
        [t(f"payer_{p}", lang) for p in payers for _ in scenarios],
        [name for _ in payers for name in scenarios],
    ]
    fig = go.Figure()
    for flow in FLOWS:
        nok = [side.get((p, flow), 0.0) for p in payers for side in booked]
        if not any(abs(v) > 0.5 for v in nok):
            continue
        fig.add_trace(
            go.Bar(
                y=bars,
                x=nok,
                orientation="h",
                name=t(f"flow_{flow}", lang),
                marker_color=FLOW_COLOURS[flow],
            )
        )
    net = [flows.get(net_cost_name(p), math.nan) for p in payers for flows in w.flows]
    fig.add_trace(
        go.Scatter(
            y=bars,
            x=net,
            mode="markers",
            name=t("net_cost", lang),
            marker={"symbol": "diamond", "size": 12 if large else 10, "color": "#000"},
            text=[format_value(COST, v, lang) for v in net],
            hovertemplate="%{text}<extra></extra>",
        )
    )
    fig.update_layout(barmode="relative")
    fig.update_xaxes(
        title=t("money_unit", lang),
        tickformat=",.0f",
        nticks=5,
        zeroline=True,
        zerolinecolor="#444",
    )
    fig.update_yaxes(autorange="reversed", automargin=True)  # the municipality first
    _layout(fig, t("chart_payers", lang), large, lang, height=520)
    return fig.update_layout(legend={"orientation": "h", "y": -0.2})


def subgroup_figure(w: WhatIf, lang: str, large: bool = False) -> go.Figure:
    """In work at 12 months by subgroup, reference and chosen, with 95 % intervals."""
    sg = w.subgroups
    x = [
        [t(f"sub_{g}", lang) for g in sg["subgroup"]],
        [t(f"level_{v}", lang) for v in sg["level"]],
    ]
    fig = go.Figure()
    for prefix, name, colour in zip(
        ("ref_", ""), names(w, lang), (REFERENCE_COLOUR, CHOSEN_COLOUR), strict=True
    ):
        mean = sg[f"{prefix}mean"].to_numpy()
        fig.add_trace(
            go.Bar(
                x=x,
                y=100 * mean,
                name=name,
                marker_color=colour,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": 100 * (sg[f"{prefix}high"].to_numpy() - mean),
                    "arrayminus": 100 * (mean - sg[f"{prefix}low"].to_numpy()),
                },
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="%", rangemode="tozero")
    return _layout(fig, t("chart_subgroups", lang), large, lang, height=420)


# --------------------------------------------------------------------------- one run
def cohort_figure(model: IntroModel, lang: str, large: bool = False) -> go.Figure:
    """Each participant as one square, coloured by this week's status."""
    status = model.refugees.status
    n = status.size
    cols = max(1, math.ceil(math.sqrt(n * 2)))  # twice as wide as tall
    rows = math.ceil(n / cols)
    grid = np.full(rows * cols, np.nan)
    grid[:n] = status
    codes = list(range(len(STATUS_NAMES)))
    colours = [
        STATUS_STYLE.get(name, ("", "#ffffff"))[1] for name in STATUS_NAMES
    ]  # not_arrived is white
    # A discrete colour scale: each status code owns one equal slice of 0-1.
    top = len(codes) - 1
    scale = []
    for code, colour in zip(codes, colours, strict=True):
        scale += [[code / (top + 1), colour], [(code + 1) / (top + 1), colour]]
    # Empty cells as None: a 2-D grid goes to the browser as JSON lists, where NaN is not
    # allowed (the whole chart would fail to arrive).
    z = [[None if math.isnan(v) else v for v in row] for row in grid.reshape(rows, cols)[::-1]]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            zmin=-0.5,
            zmax=top + 0.5,
            colorscale=scale,
            showscale=False,
            xgap=1,
            ygap=1,
            hoverinfo="skip",
        )
    )
    for name, colour in zip(STATUS_NAMES, colours, strict=True):
        if name in STATUS_STYLE:  # a legend: one invisible marker per status
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    marker={"color": colour, "size": 12, "symbol": "square"},
                    name=t(f"status_{name}", lang),
                )
            )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    return _layout(fig, t("chart_cohort", lang), large, lang, height=420)


def counts_figure(model: IntroModel, lang: str, large: bool = False) -> go.Figure:
    """The cohort's statuses so far: participants in each, stacked, week by week."""
    fig = go.Figure()
    weeks = np.arange(model.week)
    for name in STATUS_STYLE:
        fig.add_trace(
            go.Scatter(
                x=weeks,
                y=model.weekly[: model.week, STATUS_NAMES.index(name)],
                stackgroup="s",
                name=t(f"status_{name}", lang),
                line={"width": 0.5, "color": STATUS_STYLE[name][1]},
            )
        )
    fig.update_xaxes(title=t("week", lang), range=[0, model.weeks])
    fig.update_yaxes(title=t("participants", lang), range=[0, model.refugees.size])
    return _layout(fig, t("chart_counts", lang), large, lang)
