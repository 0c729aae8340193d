"""The dashboard's charts: plotly figures, and the JSON the page draws them from."""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64  # type: ignore[import-untyped]  # plotly's own
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


Figure = dict[str, Any]
"""A figure as plotly.js takes it: ``{"data": [traces], "layout": {...}}`` (numpy arrays too)."""


def figure_json(fig: go.Figure | Figure) -> dict[str, Any]:
    """A figure as plain JSON data for the browser (NaN as null, numpy arrays as lists)."""
    plain = fig.to_plotly_json() if isinstance(fig, go.Figure) else fig
    return json.loads(json.dumps(plain, cls=PlotlyJSONEncoder))


@cache
def _template() -> str:
    """Plotly's default template as JSON text (what a ``go.Figure`` carries), built once."""
    return json.dumps(go.Figure().layout.template.to_plotly_json(), cls=PlotlyJSONEncoder)


AXIS: dict[str, Any] = {"gridcolor": GRID_COLOUR, "zeroline": False}
"""Every chart axis: a light grid, no zero line unless a chart asks for one."""


def _layout_of(title: str, large: bool, lang: str, height: int = 380) -> dict[str, Any]:
    """The layout every chart shares: title, number format, font, size, margins, legend."""
    return {
        "title": {"text": title, "x": 0.01},
        "separators": plotly_separators(lang),
        # No width: plotly takes the container's (not its own 700 px) and follows it.
        "autosize": True,
        "font": {"family": FONT, "size": FONT_SIZE[large]},
        "height": int(height * (1.35 if large else 1.0)),
        "margin": {"l": 60, "r": 20, "t": 60 + 20 * large, "b": 50},
        "legend": {"orientation": "h", "y": -0.18},
        # A white background set directly: building a named template costs more than
        # the rest of a chart (it is copied and validated each time).
        "plot_bgcolor": "white",
    }


def _layout(fig: go.Figure, title: str, large: bool, lang: str, height: int = 380) -> go.Figure:
    fig.update_layout(**_layout_of(title, large, lang, height))
    fig.update_xaxes(**AXIS)
    fig.update_yaxes(**AXIS)
    return fig


def _figure(data: list[dict[str, Any]], layout: dict[str, Any], **axes: dict[str, Any]) -> Figure:
    """A what-if chart as plain data, as a ``go.Figure`` of the same traces would send it.

    The what-if charts are redrawn on every slider move: built as plain dicts they cost
    a few milliseconds, where plotly's figure objects (which check every property) cost
    tens. ``Update.figures`` still gives them as ``go.Figure`` (checked) on request.

    Args:
        data: The traces, each with its ``type``.
        layout: The layout (:func:`_layout_of` and the chart's own).
        **axes: Each axis (``xaxis``, ``yaxis2``, ...) with its own settings beside :data:`AXIS`.
    """
    layout = {**layout, **{name: {**AXIS, **own} for name, own in axes.items()}}
    layout["template"] = json.loads(_template())
    figure = {"data": data, "layout": layout}
    convert_to_base64(figure)  # numpy arrays as plotly.js typed arrays, as go.Figure sends them
    return figure


def _title(text: str) -> dict[str, str]:
    return {"text": text}


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def names(w: WhatIf, lang: str) -> tuple[str, str]:
    """Legend names of the two scenarios: the preset's name, and 'your settings'."""
    return preset_label(w.reference, lang), t("your_settings", lang)


def in_work_figure(w: WhatIf, lang: str, large: bool = False) -> Figure:
    """Share of arrived participants in work, week by week, with where one cohort lands."""
    data = []
    for band, name, colour in zip(
        w.in_work, names(w, lang), (REFERENCE_COLOUR, CHOSEN_COLOUR), strict=True
    ):
        weeks = np.arange(band.mean.size)
        data.append(
            {
                "type": "scatter",
                "x": np.concatenate([weeks, weeks[::-1]]),
                "y": 100 * np.concatenate([band.spread_high, band.spread_low[::-1]]),
                "fill": "toself",
                "fillcolor": _rgba(colour, 0.2),
                "line": {"width": 0},
                "hoverinfo": "skip",
                "name": f"{name}: {t('band', lang)}",
                "showlegend": False,
            }
        )
        data.append(
            {
                "type": "scatter",
                "x": weeks,
                "y": 100 * band.mean,
                "name": name,
                "line": {"color": colour, "width": 3},
            }
        )
    return _figure(
        data,
        _layout_of(t("chart_in_work", lang), large, lang),
        xaxis={"title": _title(t("week", lang))},
        yaxis={"title": _title("%"), "rangemode": "tozero"},
    )


def status_figure(w: WhatIf, lang: str, large: bool = False) -> Figure:
    """Where the arrived participants are each week: stacked shares, reference and chosen.

    Two panels side by side sharing the share axis (the layout of plotly's
    ``make_subplots(rows=1, cols=2, shared_yaxes=True)``), each titled with its scenario.
    """
    titles = names(w, lang)
    data = []
    for col, table in enumerate(w.status, start=1):
        for status in STATUS_STYLE:
            data.append(
                {
                    "type": "scatter",
                    "x": table.index.to_numpy(),
                    "y": 100 * table[status].to_numpy(),
                    "stackgroup": f"s{col}",
                    "name": t(f"status_{status}", lang),
                    "legendgroup": status,
                    "showlegend": col == 1,
                    "line": {"width": 0.5, "color": STATUS_STYLE[status][1]},
                    "xaxis": "x" if col == 1 else "x2",
                    "yaxis": "y" if col == 1 else "y2",
                }
            )
    layout = _layout_of(t("chart_status", lang), large, lang, height=420)
    layout["annotations"] = [
        {
            "font": {"size": 16},
            "showarrow": False,
            "text": title,
            "x": x,
            "xanchor": "center",
            "xref": "paper",
            "y": 1.0,
            "yanchor": "bottom",
            "yref": "paper",
        }
        for title, x in zip(titles, (0.225, 0.775), strict=True)
    ]
    week = _title(t("week", lang))
    return _figure(
        data,
        layout,
        xaxis={"anchor": "y", "domain": [0.0, 0.45], "title": week},
        yaxis={"anchor": "x", "domain": [0.0, 1.0], "title": _title("%"), "range": [0, 100]},
        xaxis2={"anchor": "y2", "domain": [0.55, 1.0], "title": week},
        yaxis2={"anchor": "x2", "domain": [0.0, 1.0], "matches": "y", "showticklabels": False},
    )


def payers_figure(w: WhatIf, lang: str, large: bool = False) -> Figure:
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
    data = []
    for flow in FLOWS:
        nok = [side.get((p, flow), 0.0) for p in payers for side in booked]
        if not any(abs(v) > 0.5 for v in nok):
            continue
        data.append(
            {
                "type": "bar",
                "y": bars,
                "x": nok,
                "orientation": "h",
                "name": t(f"flow_{flow}", lang),
                "marker": {"color": FLOW_COLOURS[flow]},
            }
        )
    net = [flows.get(net_cost_name(p), math.nan) for p in payers for flows in w.flows]
    data.append(
        {
            "type": "scatter",
            "y": bars,
            "x": net,
            "mode": "markers",
            "name": t("net_cost", lang),
            "marker": {"symbol": "diamond", "size": 12 if large else 10, "color": "#000"},
            "text": [format_value(COST, v, lang) for v in net],
            "hovertemplate": "%{text}<extra></extra>",
        }
    )
    layout = _layout_of(t("chart_payers", lang), large, lang, height=520)
    layout.update(barmode="relative", legend={"orientation": "h", "y": -0.2})
    return _figure(
        data,
        layout,
        # A line at zero between what a payer pays (right) and what it receives (left).
        xaxis={
            "title": _title(t("money_unit", lang)),
            "tickformat": ",.0f",
            "nticks": 5,
            "zeroline": True,
            "zerolinecolor": "#444",
        },
        yaxis={"autorange": "reversed", "automargin": True},  # the municipality first
    )


def subgroup_figure(w: WhatIf, lang: str, large: bool = False) -> Figure:
    """In work at 12 months by subgroup, reference and chosen, with 95 % intervals."""
    sg = w.subgroups
    x = [
        [t(f"sub_{g}", lang) for g in sg["subgroup"]],
        [t(f"level_{v}", lang) for v in sg["level"]],
    ]
    data = []
    for prefix, name, colour in zip(
        ("ref_", ""), names(w, lang), (REFERENCE_COLOUR, CHOSEN_COLOUR), strict=True
    ):
        mean = sg[f"{prefix}mean"].to_numpy()
        data.append(
            {
                "type": "bar",
                "x": x,
                "y": 100 * mean,
                "name": name,
                "marker": {"color": colour},
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": 100 * (sg[f"{prefix}high"].to_numpy() - mean),
                    "arrayminus": 100 * (mean - sg[f"{prefix}low"].to_numpy()),
                },
            }
        )
    layout = _layout_of(t("chart_subgroups", lang), large, lang, height=420)
    layout["barmode"] = "group"
    return _figure(data, layout, xaxis={}, yaxis={"title": _title("%"), "rangemode": "tozero"})


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
