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
    in_nok,
    index_text,
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
    # A legend's swatch takes the colour of the trace's first bar: the grey dummy goes last
    # in the data, while the axis keeps the sorted order.
    data_order = [f for f in order if f != DUMMY] + [f for f in order if f == DUMMY]
    outcome = str(part["outcome"].iloc[0]) if "outcome" in part and len(part) else ""
    value = _hover_format(method, outcome)
    fig = go.Figure()
    for i, kind in enumerate(kinds):
        rows = full[full["index"] == kind].set_index("factor").reindex(data_order)
        err_hi = (rows["high"] - rows["value"]).fillna(0).clip(lower=0)
        err_lo = (rows["value"] - rows["low"]).fillna(0).clip(lower=0)
        fig.add_trace(
            go.Bar(
                y=data_order,
                x=rows["value"],
                orientation="h",
                name=NAMES[kind],
                marker_color=[GREY if f == DUMMY else colour(i) for f in data_order],
                error_x={"type": "data", "array": err_hi, "arrayminus": err_lo, "symmetric": False},
                hovertemplate="%{y}: %{x:" + value + "}<extra>" + NAMES[kind] + "</extra>",
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
                name=f"noise floor (dummy's {NAMES[primary]} {index_text(level, method, outcome)})",
            )
        )
    # No x-axis title: the legend below names each index, and a title collides with it.
    fig.update_layout(
        barmode="group",
        yaxis_title="",
        yaxis={"categoryorder": "array", "categoryarray": order},
        separators=SEPARATORS,
    )
    return layout(fig, max(260, 60 + 28 * len(order) * len(kinds)))


# Hovers write numbers as the tables do: a NOK amount whole, thousands apart (64 665).
SEPARATORS = ". "


def _hover_format(method: str, outcome: str, other: str = ".3f") -> str:
    """The plotly number format of a study's index in hovers: NOK whole, else ``other``."""
    return ",.0f" if in_nok(method, outcome) else other


def _morris(part: pd.DataFrame) -> go.Figure:
    """mu* against sigma, each factor a labelled dot; the dummy marks the floor."""
    n = part["n"].max()
    full = part[part["n"] == n]
    mus = full[full["index"] == "mu_star"].set_index("factor")
    sig = full[full["index"] == "sigma"].set_index("factor")["value"]
    level = floor(part, "mu_star")
    outcome = str(part["outcome"].iloc[0]) if "outcome" in part and len(part) else ""
    value = _hover_format("morris", outcome, ".3g")
    # Label the factors above the floor (and the dummy); the rest crowd the origin.
    shown = [
        f.split(".")[-1] if f == DUMMY or level is None or v > level else ""
        for f, v in mus["value"].items()
    ]
    x, y = mus["value"].to_numpy(), sig.reindex(mus.index).to_numpy()
    positions = label_positions(x, y, shown)  # drops the labels that find no free place
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="markers+text",
            text=shown,
            textposition=positions,
            marker={"color": [GREY if f == DUMMY else colour(0) for f in mus.index]},
            hovertext=list(mus.index),
            hovertemplate=(
                f"%{{hovertext}}<br>mu* %{{x:{value}}}<br>sigma %{{y:{value}}}<extra></extra>"
            ),
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
    fig.update_layout(
        xaxis_title="mu* (mean abs. effect)", yaxis_title="sigma", separators=SEPARATORS
    )
    return layout(fig, 420)


POSITIONS = (
    "top center",
    "bottom center",
    "middle right",
    "middle left",
    "top right",
    "top left",
    "bottom right",
    "bottom left",
)
"""Where a label may sit around its dot, in the order tried."""
CHAR_WIDTH, LINE_HEIGHT, DOT = 0.0115, 0.045, 0.012
"""A label's character width and line height, and a dot's half size, as shares of the plot
area (13-pixel type on a plot about 650 by 320 pixels; a narrower one only shrinks the gaps)."""


def label_box(x: float, y: float, text: str, position: str) -> tuple[float, float, float, float]:
    """The box ``(left, bottom, right, top)`` a label takes at ``position`` around a dot.

    Coordinates are shares of the plot area, the dot at ``(x, y)``.
    """
    width, height = len(text) * CHAR_WIDTH, LINE_HEIGHT
    vertical, horizontal = position.split()
    left = {
        "center": x - width / 2,
        "right": x + DOT,
        "left": x - DOT - width,
    }[horizontal]
    bottom = {
        "top": y + DOT,
        "bottom": y - DOT - height,
        "middle": y - height / 2,
    }[vertical]
    return left, bottom, left + width, bottom + height


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def label_positions(x: np.ndarray, y: np.ndarray, labels: list[str]) -> list[str]:
    """A position for each label so that no two labels, nor a label and a dot, overlap.

    Greedy, the largest values first (the labels read most): each label takes the
    first of :data:`POSITIONS` that collides with nothing placed; a label with no
    free place is left out of the plot (its dot keeps the name on hover).
    Empty labels keep ``"top center"``.

    Args:
        x: The dots' x values.
        y: The dots' y values.
        labels: One label per dot (``""`` for none); changed in place where left out.

    Returns:
        One plotly ``textposition`` per dot.
    """
    span_x = float(np.nanmax(np.abs(x))) or 1.0
    span_y = float(np.nanmax(np.abs(y))) or 1.0
    px, py = np.nan_to_num(x / span_x), np.nan_to_num(y / span_y)
    dots = [(a - DOT, b - DOT, a + DOT, b + DOT) for a, b in zip(px, py, strict=True)]
    placed: list[tuple[float, ...]] = []
    positions = ["top center"] * len(labels)
    for i in sorted(range(len(labels)), key=lambda j: -(px[j] + py[j])):
        if not labels[i]:
            continue
        for position in POSITIONS:
            box = label_box(px[i], py[i], labels[i], position)
            clash = any(_overlap(box, other) for other in placed)
            clash = clash or any(_overlap(box, d) for j, d in enumerate(dots) if j != i)
            if not clash:
                positions[i] = position
                placed.append(box)
                break
        else:
            labels[i] = ""
    return positions


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
