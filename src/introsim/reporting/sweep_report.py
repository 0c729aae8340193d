"""The sweep report: one self-contained HTML file of a sweep's design points.

The charts follow the design: heat maps and response curves for a grid, a
tornado chart for one-at-a-time, scatter plots with a smoother for a Latin
hypercube, bars for a list of points. A plain-words headline opens it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from introsim.experiments.sweep import Sweep, unresolved_curves
from introsim.model.outcomes import OUTCOME_INFO
from introsim.output import write_text
from introsim.reporting.compare_report import STATUS_TEXT
from introsim.reporting.format import format_interval, format_value
from introsim.reporting.html import chart_html, provenance, render
from introsim.reporting.theme import colour, layout

__all__ = ["report_html", "write_report"]


def _scale(outcome: str) -> float:
    return 100.0 if OUTCOME_INFO[outcome].unit == "share" else 1.0


def _axis_title(outcome: str) -> str:
    info = OUTCOME_INFO[outcome]
    unit = "%" if info.unit == "share" else info.unit
    return f"{info.label} ({unit})"


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _means(s: Sweep, outcome: str) -> pd.DataFrame:
    pts = s.points[s.points["outcome"] == outcome]
    return pts[pts["point"] > 0] if len(s.design.points) > 1 else pts


# --------------------------------------------------------------------------- charts
def _heatmap(s: Sweep, outcome: str) -> go.Figure:
    f = s.factors
    df = _means(s, outcome)
    x, y = f[0], f[1]
    facet = f[2] if len(f) > 2 else None
    panels = list(dict.fromkeys(df[facet])) if facet else [None]
    fig = make_subplots(
        rows=1,
        cols=len(panels),
        subplot_titles=[f"{facet} = {v}" for v in panels] if facet else None,
        horizontal_spacing=0.06,
    )
    k = _scale(outcome)
    for col, level in enumerate(panels, start=1):
        part = df if facet is None else df[df[facet] == level]
        table = part.groupby([y, x], sort=False)["mean"].mean().unstack(x)
        # Each cell in the outcome's unit (767 702 NOK, 31.4 %), never a raw float.
        text = [[format_value(outcome, v) for v in row] for row in table.to_numpy()]
        fig.add_trace(
            go.Heatmap(
                z=table.to_numpy() * k,
                x=[str(v) for v in table.columns],
                y=[str(v) for v in table.index],
                text=text,
                coloraxis="coloraxis",
                texttemplate="%{text}",
                hovertemplate=f"{x}=%{{x}}<br>{y}=%{{y}}<br>%{{text}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text=x, type="category", row=1, col=col)
    fig.update_yaxes(title_text=y, type="category", row=1, col=1)
    fig.update_layout(coloraxis={"colorscale": "Viridis", "colorbar": {"title": ""}})
    fig.update_layout(coloraxis_colorbar={"title": {"text": _axis_title(outcome), "side": "right"}})
    return layout(fig, 420)


def _response(s: Sweep, outcome: str) -> go.Figure:
    f = s.factors
    df = _means(s, outcome)
    x = f[0]
    group = f[1] if len(f) > 1 else None
    facet = f[2] if len(f) > 2 else None
    panels = list(dict.fromkeys(df[facet])) if facet else [None]
    fig = make_subplots(
        rows=1,
        cols=len(panels),
        shared_yaxes=True,
        subplot_titles=[f"{facet} = {v}" for v in panels] if facet else None,
    )
    k = _scale(outcome)
    exact = len(f) <= 3  # beyond three factors the curves average over the rest
    levels = list(dict.fromkeys(df[group])) if group else [None]
    for col, panel in enumerate(panels, start=1):
        part = df if facet is None else df[df[facet] == panel]
        for i, level in enumerate(levels):
            line = part if group is None else part[part[group] == level]
            agg = line.groupby(x, sort=True)[["mean", "ci_low", "ci_high"]].mean()
            err = {}
            if exact:
                err = {
                    "error_y": {
                        "type": "data",
                        "symmetric": False,
                        "array": (agg["ci_high"] - agg["mean"]).to_numpy() * k,
                        "arrayminus": (agg["mean"] - agg["ci_low"]).to_numpy() * k,
                    }
                }
            fig.add_trace(
                go.Scatter(
                    x=agg.index.to_numpy(),
                    y=agg["mean"].to_numpy() * k,
                    mode="lines+markers",
                    name=f"{group} = {level}" if group else _axis_title(outcome),
                    legendgroup=str(level),
                    showlegend=col == 1,
                    line={"color": colour(i)},
                    marker={"symbol": i % 10},
                    **err,
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text=x, row=1, col=col)
    fig.update_yaxes(title_text=_axis_title(outcome), row=1, col=1)
    # Below the panels, so it never covers their titles.
    return layout(fig, 460, legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0})


def _tornado(s: Sweep, outcome: str) -> go.Figure:
    df = _means(s, outcome)
    k = _scale(outcome)
    rows = []
    for name in s.factors:
        part = df[df["label"].str.startswith(f"{name}=")]
        if part.empty:
            continue
        lo_i, hi_i = part["diff"].idxmin(), part["diff"].idxmax()
        rows.append(
            (
                name,
                part.loc[lo_i, "diff"] * k,
                part.loc[hi_i, "diff"] * k,
                str(part.loc[lo_i, name]),
                str(part.loc[hi_i, name]),
            )
        )
    rows.sort(key=lambda r: abs(r[2] - r[1]))
    fig = go.Figure()
    names = [r[0] for r in rows]
    fig.add_trace(
        go.Bar(
            y=names,
            x=[min(r[1], 0) for r in rows],
            orientation="h",
            name="lowest level's difference",
            marker_color=colour(1),
            text=[f"at {r[3]}" for r in rows],
            hovertemplate="%{y}: %{x:.2f} (%{text})<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=names,
            x=[max(r[2], 0) for r in rows],
            orientation="h",
            name="highest level's difference",
            marker_color=colour(0),
            text=[f"at {r[4]}" for r in rows],
            hovertemplate="%{y}: %{x:.2f} (%{text})<extra></extra>",
        )
    )
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text=f"Difference from the base: {_axis_title(outcome)}")
    return layout(fig, 140 + 40 * max(len(rows), 1))


def _scatter(s: Sweep, outcome: str) -> go.Figure:
    df = _means(s, outcome)
    f = s.factors
    cols = min(3, len(f))
    nrows = math.ceil(len(f) / cols)
    fig = make_subplots(rows=nrows, cols=cols, shared_yaxes=True, subplot_titles=f)
    k = _scale(outcome)
    for i, name in enumerate(f):
        r, c = i // cols + 1, i % cols + 1
        fig.add_trace(
            go.Scatter(
                x=df[name],
                y=df["mean"] * k,
                mode="markers",
                marker={"color": colour(0), "opacity": 0.55, "size": 6},
                name="design point",
                showlegend=i == 0,
                hovertemplate=f"{name}=%{{x}}<br>%{{y:.2f}}<extra></extra>",
            ),
            row=r,
            col=c,
        )
        smooth = _binned(df[name], df["mean"] * k)
        if smooth is not None:
            fig.add_trace(
                go.Scatter(
                    x=smooth[0],
                    y=smooth[1],
                    mode="lines",
                    line={"color": colour(1), "width": 3},
                    name="binned mean (smoother)",
                    showlegend=i == 0,
                ),
                row=r,
                col=c,
            )
    fig.update_yaxes(title_text=_axis_title(outcome), col=1)
    return layout(fig, 300 * nrows + 60)


def _binned(x: pd.Series, y: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Means of y within equal-count bins of x: a smoother with no tuning to explain."""
    if not _is_numeric(x) or x.nunique() < 4:
        return None
    bins = min(10, max(3, len(x) // 8))
    groups = pd.qcut(x, bins, duplicates="drop")
    agg = pd.DataFrame({"x": x, "y": y}).groupby(groups, observed=True).mean()
    return agg["x"].to_numpy(), agg["y"].to_numpy()


def _bars(s: Sweep, outcome: str) -> go.Figure:
    df = s.points[s.points["outcome"] == outcome]
    k = _scale(outcome)
    fig = go.Figure(
        go.Bar(
            y=df["label"],
            x=df["mean"] * k,
            orientation="h",
            marker_color=[colour(0) if p else "#888" for p in df["point"]],
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (df["ci_high"] - df["mean"]).to_numpy() * k,
                "arrayminus": (df["mean"] - df["ci_low"]).to_numpy() * k,
            },
        )
    )
    fig.update_xaxes(title_text=_axis_title(outcome))
    fig.update_yaxes(autorange="reversed")
    return layout(fig, 140 + 32 * len(df))


# --------------------------------------------------------------------------- words
def _point_text(s: Sweep, row: pd.Series, outcome: str) -> str:
    ci = format_interval(outcome, row["ci_low"], row["ci_high"])
    if s.ensemble is None:
        return f"{format_value(outcome, row['mean'])} {ci} at {row['label']}"
    return f"{format_value(outcome, row['mean'])} at {row['label']} ({_kinds_text(row, outcome)})"


def _kinds_text(row: pd.Series, outcome: str, prefix: str = "") -> str:
    """The three kinds of uncertainty next to a number, each named in plain words."""
    signed = bool(prefix)
    low, high = ("diff_low", "diff_high") if prefix else ("ci_low", "ci_high")
    parts = [
        f"{name} {span}"
        for key, name in (
            ("parameter", "what we do not know about the mechanisms"),
            ("cohort", "chance in one real cohort"),
        )
        if (
            span := format_interval(
                outcome, row[f"{prefix}{key}_low"], row[f"{prefix}{key}_high"], signed
            )
        )
    ]
    sim = format_interval(outcome, row[low], row[high], signed)
    return "; ".join([*parts, *([f"simulation precision {sim}"] if sim else [])])


def _headline(s: Sweep, outcome: str) -> str:
    pts = s.points[s.points["outcome"] == outcome]
    label = OUTCOME_INFO[outcome].label
    base = pts[pts["point"] == 0].iloc[0]
    others = pts[pts["point"] > 0].dropna(subset=["mean"])
    if others.empty:
        return f"{label}: {format_value(outcome, base['mean'])} at the base; no other point ran."
    lo, hi = others.loc[others["mean"].idxmin()], others.loc[others["mean"].idxmax()]
    by = "diff_parameter" if s.ensemble is not None else "diff"
    clear = int(((others[f"{by}_low"] > 0) | (others[f"{by}_high"] < 0)).sum())
    which = (
        "the range of the plausible parameter sets' paired differences excludes zero"
        if s.ensemble is not None
        else "the 95 % interval of the paired difference excludes zero"
    )
    text = (
        f"{label}: from {_point_text(s, lo, outcome)} to {_point_text(s, hi, outcome)}; "
        f"the base gives {format_value(outcome, base['mean'])}. {clear} of {len(others)} points "
        f"differ clearly from the base ({which})."
    )
    extra = s.points[(s.points["outcome"] == "extra_employed_12m") & (s.points["point"] > 0)]
    if outcome == "employed_12m" and not extra.empty and extra["diff"].notna().any():
        top = extra.loc[extra["diff"].idxmax()]
        per = s.points[
            (s.points["outcome"] == "cost_per_extra_job_nok") & (s.points["point"] == top["point"])
        ].iloc[0]
        cost = (
            f"{format_value('cost_per_extra_job_nok', per['diff'])} per extra person in work "
            f"{format_interval('cost_per_extra_job_nok', per['diff_low'], per['diff_high'])}"
            if per["status"] == "ratio"
            else STATUS_TEXT.get(per["status"], per["status"])
        )
        ci = format_interval("extra_employed_12m", top["diff_low"], top["diff_high"], signed=True)
        if s.ensemble is not None:
            ci = f"({_kinds_text(top, 'extra_employed_12m', 'diff_')})"
        text += (
            f" The most extra persons in work at 12 months per cohort: {top['diff']:+.1f} {ci} "
            f"at {top['label']} ({cost})."
        )
    if s.design.meta.design in ("lhs", "oat") and len(s.factors) > 1:
        strength = []
        for name in s.factors:
            x = others[name]
            if _is_numeric(x) and x.nunique() > 2:
                rho = stats.spearmanr(x, others["mean"]).statistic
                if np.isfinite(rho):
                    strength.append((abs(rho), rho, name))
        if strength:
            strength.sort(reverse=True)
            _, rho, name = strength[0]
            way = "rises" if rho > 0 else "falls"
            text += f" It {way} most consistently with {name} (Spearman's ρ {rho:+.2f})."
    return text


# --------------------------------------------------------------------------- the page
def report_html(sweep: Sweep, manifest: Mapping[str, Any] | None = None) -> str:
    """Render a sweep's report as one self-contained HTML document.

    Args:
        sweep: The finished sweep.
        manifest: Provenance written next to it (``manifest.json``).

    Returns:
        The HTML text, with plotly.js inline.
    """
    s = sweep
    d = s.design
    outcomes = list(d.meta.outcomes)
    sections: list[dict[str, Any]] = []
    kind = d.meta.design
    numeric_first = bool(s.factors) and _is_numeric(s.runs[s.factors[0]])
    for o in outcomes:
        label = OUTCOME_INFO[o].label
        if kind == "grid" and len(s.factors) >= 2:
            sections.append(
                {
                    "id": f"heatmap-{o}",
                    "title": f"{label}: the whole grid",
                    "lead": "Each cell is a design point's average over replicates"
                    + (f"; one panel per level of {s.factors[2]}" if len(s.factors) > 2 else "")
                    + ("; further factors are averaged over." if len(s.factors) > 3 else "."),
                    "chart": _heatmap(s, o),
                    "alt": f"Heat map of {label} over {s.factors[0]} and {s.factors[1]}.",
                }
            )
        if kind == "grid" and numeric_first:
            sections.append(
                {
                    "id": f"response-{o}",
                    "title": f"{label}: response to {s.factors[0]}",
                    "lead": "Averages over replicates with 95 % intervals"
                    + (
                        "; curves average over the factors not shown, so no interval is drawn."
                        if len(s.factors) > 3
                        else "."
                    ),
                    "chart": _response(s, o),
                    "alt": f"Line chart of {label} against {s.factors[0]}.",
                }
            )
        if kind == "oat":
            sections.append(
                {
                    "id": f"tornado-{o}",
                    "title": f"{label}: which factor moves it most",
                    "lead": "For each factor, the lowest and highest difference from the base "
                    "over its levels, the others held at the base; widest at the top.",
                    "chart": _tornado(s, o),
                    "alt": f"Tornado chart of the difference in {label} by factor.",
                }
            )
        if kind == "lhs":
            sections.append(
                {
                    "id": f"scatter-{o}",
                    "title": f"{label} against each factor",
                    "lead": "Each dot is a design point's average over replicates; the line is "
                    "the mean within equal-count bins of the factor.",
                    "chart": _scatter(s, o),
                    "alt": f"Scatter plots of {label} against each factor.",
                }
            )
        if kind == "list" or (kind == "grid" and not numeric_first and len(s.factors) < 2):
            sections.append(
                {
                    "id": f"bars-{o}",
                    "title": f"{label} at each point",
                    "lead": "Averages over replicates with 95 % intervals; the base is grey.",
                    "chart": _bars(s, o),
                    "alt": f"Bar chart of {label} at each design point.",
                }
            )
    for sec in sections:
        sec["html"] = chart_html(sec.pop("chart"), sec["id"], sec["alt"])
    return render(
        "sweep.html.j2",
        sweep=s,
        design=d,
        headlines=[_headline(s, o) for o in outcomes],
        unresolved=unresolved_curves(s),
        sections=sections,
        facts=provenance(manifest),
        base_name=d.points[0].scenario.scenario.name,
        base_description=d.points[0].scenario.scenario.description,
    )


def write_report(sweep: Sweep, path: str | Path, manifest: Mapping[str, Any] | None = None) -> Path:
    """Write the sweep report as one self-contained HTML file, atomically.

    Args:
        sweep: The finished sweep.
        path: Where to write.
        manifest: Provenance for the footer.

    Returns:
        The path written.
    """
    target = Path(path)
    write_text(report_html(sweep, manifest), target)
    return target
