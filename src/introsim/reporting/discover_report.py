"""The scenario-discovery report: PRIM's peeling trajectory and the chosen box."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

from introsim.experiments.discovery import Discovery, _qp_text
from introsim.reporting.html import chart_html, provenance, render
from introsim.reporting.theme import colour, layout

__all__ = ["report_html"]


def _trajectory(result: Discovery) -> go.Figure:
    t = result.trajectory
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=t["coverage"],
            y=t["density"],
            mode="lines+markers",
            name="peeling trajectory",
            marker={
                "color": t["res_dim"],
                "colorscale": "Viridis",
                "showscale": True,
                "colorbar": {"title": "restricted factors"},
            },
            line={"color": colour(0)},
            text=t["id"],
            hovertemplate="box %{text}<br>coverage %{x:.2f}<br>density %{y:.2f}<extra></extra>",
        )
    )
    if result.chosen is not None:
        c = t.loc[result.chosen]
        fig.add_trace(
            go.Scatter(
                x=[c["coverage"]],
                y=[c["density"]],
                mode="markers",
                name=f"chosen box {result.chosen}",
                marker={
                    "size": 16,
                    "symbol": "circle-open",
                    "color": colour(3),
                    "line": {"width": 3},
                },
            )
        )
    fig.add_hline(
        y=result.threshold,
        line={"dash": "dot", "color": colour(1)},
        annotation_text=f"threshold {result.threshold:.0%}",
    )
    fig.update_layout(xaxis_title="coverage", yaxis_title="density")
    return layout(fig, 420)


def report_html(result: Discovery, manifest: Mapping[str, Any] | None = None) -> str:
    """The report as one self-contained HTML string."""
    chart = chart_html(
        _trajectory(result),
        "trajectory",
        "Coverage against density along PRIM's peeling trajectory, the chosen box marked, "
        "the density threshold dotted.",
    )
    return render(
        "discover.html.j2",
        result=result,
        chart=chart,
        facts=provenance(manifest),
        qp=_qp_text,
    )
