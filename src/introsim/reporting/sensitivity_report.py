"""The sensitivity report: one self-contained HTML file of a study's indices.

Per outcome (and per category, when a category was analysed level by level):
a plain-words paragraph, sorted bars of the indices with their bootstrap
intervals and the dummy's noise floor, Morris's mu*-sigma plot, and the
convergence panel comparing the indices at N/2 and N.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from introsim.experiments.design import DUMMY
from introsim.experiments.sensitivity import (
    FIRST,
    NOISE,
    NOISE_OF_MEAN,
    PRIMARY,
    Sensitivity,
    floor,
    verdicts,
)
from introsim.model.outcomes import OUTCOME_INFO
from introsim.output import write_text
from introsim.reporting.html import chart_html, provenance, render
from introsim.reporting.theme import colour, layout

__all__ = ["report_html", "write_report"]

GREY = "#888888"
NAMES = {"S1": "first-order S1", "ST": "total ST", "mu_star": "mu*", "delta": "delta"}


def _bars(part: pd.DataFrame, method: str) -> go.Figure:
    """Sorted horizontal bars of the primary (and first-order) index, dummy's floor dashed."""
    n = part["n"].max()
    full = part[part["n"] == n]
    primary = PRIMARY[method]
    kinds = [k for k in (primary, FIRST[method]) if k]
    order = full[full["index"] == primary].sort_values("value")["factor"].tolist()
    fig = go.Figure()
    for i, kind in enumerate(kinds):
        rows = full[full["index"] == kind].set_index("factor").reindex(order)
        err_hi = (rows["high"] - rows["value"]).fillna(0).clip(lower=0)
        err_lo = (rows["value"] - rows["low"]).fillna(0).clip(lower=0)
        fig.add_trace(
            go.Bar(
                y=order,
                x=rows["value"],
                orientation="h",
                name=NAMES[kind],
                marker_color=[GREY if f == DUMMY else colour(i) for f in order],
                error_x={"type": "data", "array": err_hi, "arrayminus": err_lo, "symmetric": False},
                hovertemplate="%{y}: %{x:.3f}<extra>" + NAMES[kind] + "</extra>",
            )
        )
    level = floor(part, primary)
    if level is not None:
        fig.add_vline(x=level, line_dash="dash", line_color="#555")
        # Named in the legend below the plot: a label on the line is cut off at phone widths.
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                line={"dash": "dash", "color": "#555"},
                name=f"noise floor (dummy's {NAMES[primary]} {level:.3g})",
            )
        )
    # No x-axis title: the legend below names each index, and a title collides with it.
    fig.update_layout(barmode="group", yaxis_title="")
    return layout(fig, max(260, 60 + 28 * len(order) * len(kinds)))


def _morris(part: pd.DataFrame) -> go.Figure:
    """mu* against sigma, each factor a labelled dot; the dummy marks the floor."""
    n = part["n"].max()
    full = part[part["n"] == n]
    mus = full[full["index"] == "mu_star"].set_index("factor")
    sig = full[full["index"] == "sigma"].set_index("factor")["value"]
    level = floor(part, "mu_star")
    # Label the factors above the floor (and the dummy); the rest crowd the origin.
    shown = [
        f.split(".")[-1] if f == DUMMY or level is None or v > level else ""
        for f, v in mus["value"].items()
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=mus["value"],
            y=sig.reindex(mus.index),
            mode="markers+text",
            text=shown,
            textposition="top center",
            marker={"color": [GREY if f == DUMMY else colour(0) for f in mus.index]},
            hovertext=list(mus.index),
            hovertemplate="%{hovertext}<br>mu* %{x:.3g}<br>sigma %{y:.3g}<extra></extra>",
            showlegend=False,
        )
    )
    top = float(np.nanmax([mus["value"].max(), sig.max(), 0])) or 1.0
    fig.add_trace(
        go.Scatter(
            x=[0, top],
            y=[0, top],
            mode="lines",
            line={"dash": "dot", "color": "#999"},
            name="sigma = mu*",
        )
    )
    fig.update_layout(xaxis_title="mu* (mean abs. effect)", yaxis_title="sigma")
    return layout(fig, 420)


def _convergence(part: pd.DataFrame, method: str) -> go.Figure:
    """Each index at N/2 against N; dots on the diagonal have converged."""
    n = part["n"].max()
    kinds = [k for k in (PRIMARY[method], FIRST[method]) if k]
    rows = part[part["index"].isin(kinds)]
    merged = rows[rows["n"] == n].merge(
        rows[rows["n"] < n], on=["factor", "index"], suffixes=("", "_half")
    )
    fig = go.Figure()
    for i, kind in enumerate(kinds):
        m = merged[merged["index"] == kind]
        fig.add_trace(
            go.Scatter(
                x=m["value_half"],
                y=m["value"],
                mode="markers",
                name=NAMES[kind],
                marker={"color": colour(i), "size": 9},
                text=m["factor"],
                hovertemplate="%{text}<br>N/2: %{x:.3f}<br>N: %{y:.3f}<extra></extra>",
            )
        )
    if len(merged):
        lo = float(min(merged["value"].min(), merged["value_half"].min(), 0))
        hi = float(max(merged["value"].max(), merged["value_half"].max()))
        fig.add_trace(
            go.Scatter(
                x=[lo, hi],
                y=[lo, hi],
                mode="lines",
                line={"dash": "dot", "color": "#999"},
                name="same at N/2 and N",
            )
        )
    fig.update_layout(xaxis_title=f"index at N/2 = {n // 2}", yaxis_title=f"index at N = {n}")
    return layout(fig, 380)


def report_html(result: Sensitivity, manifest: Mapping[str, Any] | None = None) -> str:
    """The report as one HTML string (plotly.js inline).

    Args:
        result: The finished study.
        manifest: Provenance for the footer.

    Returns:
        The HTML text.
    """
    d = result.design
    method = result.method
    idx = result.indices
    sections: list[dict[str, Any]] = []
    for v in verdicts(result):
        part = idx[(idx["stratum"] == v["stratum"]) & (idx["outcome"] == v["outcome"])]
        label = OUTCOME_INFO[v["outcome"]].label
        if result.contrast is not None:  # the indices are of a paired difference
            label = f"{label}: {result.contrast}"
        where = "" if v["stratum"] == "all" else f" ({v['stratum']})"
        sid = f"{v['outcome']}-{len(sections)}"
        noise = part[part["factor"] == ""].set_index("index")
        charts = [
            chart_html(
                _bars(part, method),
                f"bars-{sid}",
                f"Bar chart of the sensitivity indices of {label}{where}, sorted.",
            )
        ]
        if method == "morris":
            charts.append(
                chart_html(_morris(part), f"morris-{sid}", f"mu* against sigma for {label}.")
            )
        conv = None
        if (part["n"] < part["n"].max()).any():
            conv = chart_html(
                _convergence(part, method),
                f"convergence-{sid}",
                f"Indices at N/2 against N for {label}.",
            )
        sections.append(
            {
                "id": sid,
                "title": f"{label}{where}",
                "summary": v["summary"],
                "convergence": v["convergence"],
                "converged": v["converged"],
                "noise": {
                    k: tuple(float(noise.loc[k, c]) for c in ("value", "low", "high"))
                    for k in (NOISE, NOISE_OF_MEAN)
                    if k in noise.index
                },
                "charts": charts,
                "convergence_chart": conv,
            }
        )
    n = (manifest or {}).get("sensitivity", {}).get("N")
    return render(
        "sensitivity.html.j2",
        result=result,
        design=d,
        method=method,
        primary=NAMES[PRIMARY[method]],
        n=n,
        sections=sections,
        facts=provenance(manifest),
        base_name=d.points[0].scenario.scenario.name,
    )


def write_report(
    result: Sensitivity, path: str | Path, manifest: Mapping[str, Any] | None = None
) -> Path:
    """Write the sensitivity report as one self-contained HTML file, atomically.

    Args:
        result: The finished study.
        path: Where to write.
        manifest: Provenance for the footer.

    Returns:
        The path written.
    """
    target = Path(path)
    write_text(report_html(result, manifest), target)
    return target
