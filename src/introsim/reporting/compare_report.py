"""The comparison report: one self-contained HTML file with plotly charts.

:func:`write_report` turns a :class:`introsim.experiments.compare.Comparison` into a single
HTML file that opens offline: plotly.js is embedded once, inline, and nothing
is fetched from the network. The report has a plain-words summary, a short
guide to reading it, the table of outcomes with 95 % intervals, five charts
(each in a ``div`` with id ``chart-<section>`` and class ``chart``; see
:data:`SECTIONS`) and a provenance footer.

This module also holds the number formatting shared by the report and the
command line's comparison table.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from introsim.experiments.compare import IN_WORK, Comparison
from introsim.model.outcomes import COMPARISON_OUTCOMES, COST_PARTS, OUTCOME_INFO, OUTCOMES
from introsim.model.state import WEEKS_12M, WEEKS_24M, WEEKS_60M
from introsim.output import write_text

__all__ = [
    "SECTIONS",
    "format_diff",
    "format_interval",
    "format_number",
    "format_value",
    "report_html",
    "write_report",
]

SECTIONS: tuple[str, ...] = ("employment", "status", "distribution", "costs", "subgroups")
"""Chart sections, in order; each chart's div has id ``chart-<section>``."""

DISTRIBUTION_OUTCOMES: tuple[str, ...] = (
    "employed_12m",
    "employed_24m",
    "work_or_education_at_exit",
    "months_employed_24m",
)
HEADLINE_OUTCOMES: tuple[str, ...] = (
    "employed_12m",
    "employed_24m",
    "employed_60m",
    "work_or_education_at_exit",
    "work_or_education_12m_after_exit",
    "months_employed_24m",
    "cost_per_participant_nok",
)
"""Outcomes the summary picks its largest differences from."""

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#999999",
    "#000000",
)
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "employed": ("in ordinary work", "#1b7837"),
    "subsidised": ("in subsidised work", "#7fbf7b"),
    "education": ("in education", "#2166ac"),
    "programme": ("in the programme", "#c7c7c7"),
    "waiting": ("waiting for a specialist", "#f1e3a0"),
    "unemployed": ("unemployed after the programme", "#f4a582"),
    "inactive": ("inactive", "#b2182b"),
}
STATUS_ORDER: tuple[str, ...] = tuple(STATUS_STYLE)
COST_STYLE: dict[str, tuple[str, str]] = {
    "cost_specialist_nok": ("specialists and advisors", "#4d4d4d"),
    "cost_subsidy_nok": ("wage subsidy", "#E69F00"),
    "cost_benefit_nok": ("introduction benefit", "#92c5de"),
}
SUBGROUP_LABELS: dict[str, str] = {
    "sex": "sex",
    "education": "education",
    "language_band": "Norwegian at start",
    "mental_health": "mental health",
    "care": "care for children",
}
COST = "cost_per_extra_job_nok"
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


# --------------------------------------------------------------------------- formatting
def _unit(name: str) -> str:
    if name in OUTCOME_INFO:
        return OUTCOME_INFO[name].unit
    return "NOK" if name.endswith("_nok") else ""


def _ok(value: float | None) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


def format_number(name: str, value: float | None, signed: bool = False) -> str:
    """Format a number in the outcome's unit, without the unit sign.

    Shares become percentages with one decimal, NOK whole kroner with spaces
    between thousands, everything else one decimal. NaN and None become "–".

    Args:
        name: Outcome name (decides the unit).
        value: The number.
        signed: Prefix a "+" to positive numbers (for differences).

    Returns:
        The formatted number.
    """
    if not _ok(value):
        return "–"
    unit = _unit(name)
    if unit == "share":
        text = f"{100 * value:.1f}"
    elif unit == "NOK":
        text = f"{value:,.0f}".replace(",", " ")
    else:
        text = f"{value:.1f}"
    if text.lstrip("-").strip("0. ") == "":
        text = text.lstrip("-")  # no "-0.0"
    if signed and not text.startswith("-"):
        text = "+" + text
    return text.replace("-", "−")


def format_value(name: str, value: float | None) -> str:
    """Format a level: ``42.1 %``, ``472 829 NOK``, ``4.4 months``."""
    if not _ok(value):
        return "–"
    unit = _unit(name)
    suffix = {"share": " %", "NOK": " NOK"}.get(unit, f" {unit}" if unit else "")
    return format_number(name, value) + suffix


def format_diff(name: str, value: float | None) -> str:
    """Format a difference: ``+8.9 pp`` (percentage points), ``−25 583 NOK``, ``+2.0 months``."""
    if not _ok(value):
        return "–"
    unit = _unit(name)
    suffix = {"share": " pp", "NOK": " NOK"}.get(unit, f" {unit}" if unit else "")
    return format_number(name, value, signed=True) + suffix


def format_interval(name: str, low: float | None, high: float | None, signed: bool = False) -> str:
    """Format an interval as ``[low, high]`` in the outcome's unit, without the unit sign."""
    if not (_ok(low) and _ok(high)):
        return ""
    return f"[{format_number(name, low, signed)}, {format_number(name, high, signed)}]"


def excludes_zero(low: float | None, high: float | None) -> bool:
    """Whether an interval lies wholly on one side of zero."""
    return _ok(low) and _ok(high) and (low > 0 or high < 0)


def verdict(name: str, diff: float | None, low: float | None, high: float | None) -> str:
    """Classify a difference: "better", "worse" (interval excludes zero) or "unclear"."""
    if not excludes_zero(low, high) or not _ok(diff) or name not in OUTCOME_INFO:
        return "unclear"
    return "better" if (diff > 0) == OUTCOME_INFO[name].higher_is_better else "worse"


# --------------------------------------------------------------------------- charts
def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[k : k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _layout(fig: go.Figure, height: int, **extra: Any) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 70, "r": 30, "t": 50, "b": 60},
        font={"family": FONT, "size": 13},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hoverlabel={"namelength": -1},
        **extra,
    )
    return fig


def _plot_text(text: str) -> str:
    """A user's text for a chart: plotly reads names, titles and hover text as markup.

    HTML is escaped (so a tag shows as written instead of becoming a link), and
    ``{`` too, so ``%{...}`` in a name is not taken for a hover-template field.
    """
    return html.escape(text).replace("{", "&#123;")


def _employment_chart(c: Comparison) -> go.Figure:
    fig = go.Figure()
    w = c.weekly[c.weekly["series"] == IN_WORK]
    for i, name in enumerate(c.names):
        d = w[w["scenario"] == name]
        colour = _colour(i)
        weeks = d["week"].to_numpy()
        band_x = np.concatenate([weeks, weeks[::-1]])
        band_y = 100 * np.concatenate([d["ci_high"].to_numpy(), d["ci_low"].to_numpy()[::-1]])
        fig.add_trace(
            go.Scatter(
                x=band_x,
                y=band_y,
                fill="toself",
                fillcolor=_rgba(colour, 0.22),
                line={"width": 0},
                hoverinfo="skip",
                legendgroup=name,
                showlegend=False,
                name=f"{_plot_text(name)} 95 % interval",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=weeks,
                y=100 * d["mean"].to_numpy(),
                mode="lines",
                line={"color": colour, "width": 2.5},
                name=_plot_text(name),
                legendgroup=name,
                customdata=100 * d[["ci_low", "ci_high"]].to_numpy(),
                hovertemplate="week %{x}: %{y:.1f} % in work "
                "(95 % interval %{customdata[0]:.1f} to %{customdata[1]:.1f})",
            )
        )
    for week, label in (
        (WEEKS_12M, "12 months"),
        (WEEKS_24M, "24 months"),
        (WEEKS_60M, "60 months"),
    ):
        if week <= max(c.weeks):
            fig.add_vline(
                x=week,
                line={"dash": "dot", "color": "#888", "width": 1},
                annotation_text=label,
                annotation_position="top left",
                annotation_font_size=11,
            )
    fig.update_xaxes(title_text="weeks since the cohort's start")
    fig.update_yaxes(title_text="% of arrived participants in work", rangemode="tozero")
    return _layout(fig, 460, hovermode="x unified")


def _status_chart(c: Comparison) -> go.Figure:
    n = len(c.names)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        shared_yaxes=True,
        subplot_titles=[_plot_text(n) for n in c.names],
        horizontal_spacing=0.04,
        vertical_spacing=0.12 if rows > 1 else 0.0,
    )
    series = [s for s in STATUS_ORDER if s in set(c.weekly["series"])]
    for i, name in enumerate(c.names):
        row, col = i // cols + 1, i % cols + 1
        d = c.weekly[c.weekly["scenario"] == name]
        for status in series:
            s = d[d["series"] == status]
            label, colour = STATUS_STYLE[status]
            fig.add_trace(
                go.Scatter(
                    x=s["week"],
                    y=100 * s["mean"].fillna(0.0),
                    name=label,
                    legendgroup=status,
                    showlegend=i == 0,
                    stackgroup=f"s{i}",
                    mode="lines",
                    line={"width": 0.5, "color": colour},
                    fillcolor=colour,
                    hovertemplate=f"{label}: %{{y:.1f}} %<extra>{_plot_text(name)}, "
                    "week %{x}</extra>",
                ),
                row=row,
                col=col,
            )
        fig.update_xaxes(title_text="weeks", row=row, col=col)
    fig.update_yaxes(range=[0, 100], title_text="% of arrived participants", col=1)
    fig = _layout(fig, 380 * rows + 40)
    fig.update_layout(legend={"y": -0.18 if rows == 1 else -0.08, "yanchor": "top"})
    fig.update_layout(margin={"b": 110})
    return fig


def _distribution_chart(c: Comparison) -> go.Figure:
    titles = [OUTCOME_INFO[o].label for o in DISTRIBUTION_OUTCOMES]
    fig = make_subplots(rows=2, cols=2, subplot_titles=titles, vertical_spacing=0.16)
    rep = c.replicates
    for k, outcome in enumerate(DISTRIBUTION_OUTCOMES):
        row, col = k // 2 + 1, k % 2 + 1
        scale = 100.0 if _unit(outcome) == "share" else 1.0
        for i, name in enumerate(c.names):
            v = rep[(rep["scenario"] == name) & (rep["outcome"] == outcome)]
            fig.add_trace(
                go.Box(
                    y=scale * v["value"].to_numpy(dtype=float),
                    x=[_plot_text(name)] * len(v),
                    name=_plot_text(name),
                    legendgroup=name,
                    showlegend=k == 0,
                    marker={"color": _colour(i), "size": 5, "opacity": 0.7},
                    line={"color": _colour(i)},
                    boxpoints="all",
                    jitter=0.45,
                    pointpos=0,
                    customdata=v["replicate"].to_numpy(),
                    hovertemplate="replicate %{customdata}: %{y:.1f}<extra>"
                    + _plot_text(name)
                    + "</extra>",
                ),
                row=row,
                col=col,
            )
        unit = "%" if scale == 100.0 else _unit(outcome)
        fig.update_yaxes(title_text=unit, row=row, col=col)
    return _layout(fig, 680, boxmode="overlay", showlegend=False)


def _costs_chart(c: Comparison) -> go.Figure:
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.58, 0.42],
        horizontal_spacing=0.14,
        subplot_titles=[
            "Public cost per participant over the horizon",
            f"Extra cost per extra person in work at 12 months<br>vs {_plot_text(c.reference)}",
        ],
    )
    t = c.table
    for part in COST_PARTS:
        label, colour = COST_STYLE.get(part, (part, "#999"))
        means = [_value(c, name, part, "mean") for name in c.names]
        fig.add_trace(
            go.Bar(
                x=[_plot_text(n) for n in c.names],
                y=means,
                name=label,
                marker_color=colour,
                hovertemplate=f"{label}: %{{y:,.0f}} NOK<extra>%{{x}}</extra>",
            ),
            row=1,
            col=1,
        )
    totals = t[t["outcome"] == "cost_per_participant_nok"].set_index("scenario")
    for name in c.names:
        total = totals.loc[name, "mean"]
        fig.add_annotation(
            x=_plot_text(name),
            y=total,
            text=f"<b>{format_number('cost_per_participant_nok', total)}</b>",
            showarrow=False,
            yshift=12,
            row=1,
            col=1,
        )
    others = list(c.names[1:])
    for i, name in enumerate(others, start=1):
        row = c.row(name, "cost_per_extra_job_nok") or {}
        est, lo, hi = row.get("diff"), row.get("diff_low"), row.get("diff_high")
        if _ok(est):
            fig.add_trace(
                go.Bar(
                    x=[_plot_text(name)],
                    y=[est],
                    marker_color=_colour(i),
                    showlegend=False,
                    error_y={
                        "type": "data",
                        "array": [hi - est],
                        "arrayminus": [est - lo],
                        "color": "#333",
                    },
                    hovertemplate=f"{format_number(COST, est)} NOK per extra "
                    f"person in work (95 % interval {format_number(COST, lo)} to "
                    f"{format_number(COST, hi)})<extra>{_plot_text(name)}</extra>",
                ),
                row=1,
                col=2,
            )
        else:
            shown = _plot_text(name)
            blank = go.Bar(x=[shown], y=[0], showlegend=False, hoverinfo="skip")
            fig.add_trace(blank, row=1, col=2)
            fig.add_annotation(
                x=shown,
                y=0,
                text="not shown:<br>no clear extra jobs",
                showarrow=False,
                yshift=28,
                font={"size": 11, "color": "#555"},
                row=1,
                col=2,
            )
    fig.add_hline(y=0, line={"color": "#444", "width": 1}, row=1, col=2)
    fig.update_yaxes(title_text="NOK per participant", row=1, col=1)
    fig.update_yaxes(title_text="NOK per extra person in work", row=1, col=2)
    fig = _layout(fig, 500, barmode="stack")
    fig.update_layout(
        legend={"y": -0.12, "yanchor": "top", "traceorder": "normal"}, margin={"t": 70, "b": 90}
    )
    return fig


def _subgroup_chart(c: Comparison) -> go.Figure:
    sg = c.subgroups
    outcomes = list(dict.fromkeys(sg["outcome"]))
    fig = go.Figure()
    for k, outcome in enumerate(outcomes):
        for i, name in enumerate(c.names):
            d = sg[(sg["outcome"] == outcome) & (sg["scenario"] == name)]
            groups = [SUBGROUP_LABELS.get(g, g) for g in d["subgroup"]]
            mean = 100 * d["mean"].to_numpy(dtype=float)
            fig.add_trace(
                go.Bar(
                    x=[groups, list(d["level"])],
                    y=mean,
                    name=_plot_text(name),
                    legendgroup=name,
                    marker_color=_colour(i),
                    visible=k == 0,
                    error_y={
                        "type": "data",
                        "array": 100 * d["ci_high"].to_numpy(dtype=float) - mean,
                        "arrayminus": mean - 100 * d["ci_low"].to_numpy(dtype=float),
                        "thickness": 1,
                        "width": 3,
                        "color": "#333",
                    },
                    customdata=d["n"].to_numpy(dtype=float),
                    hovertemplate="%{x}: %{y:.1f} % (about %{customdata:.0f} participants per "
                    "cohort)<extra>" + _plot_text(name) + "</extra>",
                )
            )
    n = len(c.names)
    buttons = [
        {
            "label": OUTCOME_INFO[o].label if o in OUTCOME_INFO else o,
            "method": "update",
            "args": [
                {"visible": [j == k for j in range(len(outcomes)) for _ in range(n)]},
                {"yaxis.title.text": "% " + (OUTCOME_INFO[o].label if o in OUTCOME_INFO else o)},
            ],
        }
        for k, o in enumerate(outcomes)
    ]
    first = OUTCOME_INFO[outcomes[0]].label if outcomes[0] in OUTCOME_INFO else outcomes[0]
    fig.update_yaxes(title_text=f"% {first}", rangemode="tozero")
    fig = _layout(
        fig,
        520,
        barmode="group",
        updatemenus=[
            {
                "buttons": buttons,
                "direction": "down",
                "x": 1.0,
                "xanchor": "right",
                "y": 1.16,
                "yanchor": "top",
                "showactive": True,
            }
        ],
    )
    fig.update_layout(margin={"t": 80, "b": 80})
    return fig


def _value(c: Comparison, scenario: str, outcome: str, column: str) -> float:
    row = c.row(scenario, outcome)
    return float("nan") if row is None else float(row[column])


def _chart_html(fig: go.Figure, section: str) -> str:
    height = fig.layout.height or 450
    inner = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"chart-{section}",
        config=PLOT_CONFIG,
        default_height=f"{height}px",
    )
    return f'<div class="chart-wrap" data-section="{section}">{inner}</div>'


# --------------------------------------------------------------------------- text
def _words_interval(name: str, low: float | None, high: float | None) -> str:
    """An interval in words: ``8.9 to 10.4`` (no brackets, no plus signs)."""
    if not (_ok(low) and _ok(high)):
        return "not available"
    return f"{format_number(name, low)} to {format_number(name, high)}"


def _direction(name: str, diff: float) -> str:
    """A difference in words: ``9.7 percentage points higher``, ``8 465 NOK lower``."""
    if diff == 0:
        return "no different"
    unit = _unit(name)
    amount = format_number(name, abs(diff))
    word = "higher" if diff > 0 else "lower"
    if unit == "share":
        return f"{amount} percentage points {word}"
    if unit == "NOK":
        return f"{amount} NOK {word}"
    return f"{amount} {unit} {word}".replace("  ", " ")


def _tag(name: str, diff: float, low: float, high: float) -> str:
    v = verdict(name, diff, low, high)
    if v == "unclear":
        return '<span class="tag unclear">no clear difference</span>'
    word = "better" if v == "better" else "worse"
    if _unit(name) == "NOK":
        word = "cheaper" if v == "better" else "more expensive"
    return f'<span class="tag {"good" if v == "better" else "bad"}">clearly {word}</span>'


def _headline(c: Comparison, name: str) -> str:
    """One sentence: extra persons in work at 12 months and cost, in plain words."""
    esc, ref = html.escape(name), html.escape(c.reference)
    extra = c.row(name, "extra_employed_12m") or {}
    cost = c.row(name, "cost_per_extra_job_nok") or {}
    total = c.row(name, "cost_per_participant_nok") or {}
    size = c.cohort_sizes[c.names.index(name)]
    d = extra.get("diff")
    if not _ok(d):
        return ""
    persons = format_number("extra_employed_12m", abs(d)).removesuffix(".0")
    if excludes_zero(extra.get("diff_low"), extra.get("diff_high")):
        more = "more" if d > 0 else "fewer"
        text = (
            f"With <b>{esc}</b>, about <b>{round(abs(d))} {more} of every {size} participants are "
            f"in work 12 months after they start</b> than with {ref} (95 % interval "
            f"{_words_interval('extra_employed_12m', extra['diff_low'], extra['diff_high'])})."
        )
    else:
        text = (
            f"With <b>{esc}</b>, the number in work 12 months after the start is not clearly "
            f"different from {ref} (a difference of {persons} of every {size} participants, "
            f"95 % interval "
            f"{_words_interval('extra_employed_12m', extra['diff_low'], extra['diff_high'])})."
        )
    td = total.get("diff")
    if _ok(td) and excludes_zero(total.get("diff_low"), total.get("diff_high")):
        dearer = "more" if td > 0 else "less"
        text += (
            f" It costs the public purse <b>{format_number(COST, abs(td))} NOK {dearer} per "
            f"participant</b> over the {c.weeks[c.names.index(name)]} weeks"
        )
        est = cost.get("diff")
        if _ok(est) and est > 0:
            text += (
                f", which is about <b>{format_number(COST, est)} NOK per extra person in work</b> "
                f"(95 % interval {_words_interval(COST, cost['diff_low'], cost['diff_high'])})."
            )
        elif _ok(est):
            text += ": it gets more people into work <b>and</b> saves money."
        else:
            text += "."
    elif _ok(td):
        text += " Its cost per participant is not clearly different."
    return f"<p>{text}</p>"


def _summary_items(c: Comparison) -> list[str]:
    """One block per compared scenario, in plain words (HTML)."""
    ref = html.escape(c.reference)
    items = []
    for name in c.names[1:]:
        esc = html.escape(name)
        ranked = []
        for outcome in HEADLINE_OUTCOMES:
            row = c.row(name, outcome)
            base = _value(c, c.reference, outcome, "mean")
            if row is None or not _ok(row["diff"]) or not _ok(base):
                continue
            rel = abs(row["diff"]) / abs(base) if base != 0 else math.inf
            ranked.append((excludes_zero(row["diff_low"], row["diff_high"]), rel, outcome, row))
        ranked.sort(key=lambda x: (not x[0], -x[1]))
        bullets = []
        for _, _, outcome, row in ranked[:3]:
            label = OUTCOME_INFO[outcome].label
            v = verdict(outcome, row["diff"], row["diff_low"], row["diff_high"])
            cls = {"better": "good", "worse": "bad"}.get(v, "unclear")
            unit = {"share": " percentage points", "NOK": " NOK"}.get(_unit(outcome), "")
            bullets.append(
                f'<li class="{cls}"><b>{html.escape(label)}</b>: '
                f"{format_value(outcome, row['mean'])} with {esc}, "
                f"{format_value(outcome, _value(c, c.reference, outcome, 'mean'))} with {ref}: "
                f"{_direction(outcome, float(row['diff']))} (95 % interval "
                f"{_words_interval(outcome, row['diff_low'], row['diff_high'])}{unit}) "
                f"{_tag(outcome, row['diff'], row['diff_low'], row['diff_high'])}</li>"
            )
        clear = any(r[0] for r in ranked)
        lead = "The largest differences:" if clear else "No clear difference in the main outcomes:"
        items.append(
            f'<div class="versus"><h3>{esc} compared with {ref}</h3>{_headline(c, name)}'
            f"<p>{lead}</p><ul>{''.join(bullets)}</ul></div>"
        )
    return items


def _outcome_table(c: Comparison) -> str:
    """The table of outcomes: each scenario's mean with interval, and differences."""
    head = ["<th>outcome</th>"]
    for i, name in enumerate(c.names):
        head.append(f'<th><span class="dot" style="background:{_colour(i)}"></span>')
        head[-1] += f"{html.escape(name)}</th>"
    for name in c.names[1:]:
        head.append(f"<th>{html.escape(name)} − {html.escape(c.reference)}</th>")
    rows = []

    def cell(name: str, value: float, low: float, high: float, diff: bool) -> str:
        text = format_diff(name, value) if diff else format_value(name, value)
        interval = format_interval(name, low, high, signed=diff)
        ci = f'<br><span class="ci">{interval}</span>' if interval else ""
        cls = ""
        if diff:
            cls = {"better": "good", "worse": "bad"}.get(verdict(name, value, low, high), "")
            if name in COMPARISON_OUTCOMES and excludes_zero(low, high):
                cls = "strong"
        return f'<td class="num {cls}">{text}{ci}</td>'

    def label_cell(outcome: str, label: str) -> str:
        return f'<td class="label">{html.escape(label)}<br><code>{outcome}</code></td>'

    for outcome in (*OUTCOMES, *COST_PARTS):
        cells = [label_cell(outcome, _label(c, outcome))]
        for name in c.names:
            r = c.row(name, outcome) or {}
            cells.append(cell(outcome, r.get("mean"), r.get("ci_low"), r.get("ci_high"), False))
        for name in c.names[1:]:
            r = c.row(name, outcome) or {}
            cells.append(cell(outcome, r.get("diff"), r.get("diff_low"), r.get("diff_high"), True))
        cls = ' class="cost"' if outcome in COST_PARTS else ""
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    for outcome in COMPARISON_OUTCOMES:
        cells = [label_cell(outcome, OUTCOME_INFO[outcome].label)]
        cells += ['<td class="num muted">–</td>'] * len(c.names)
        for name in c.names[1:]:
            r = c.row(name, outcome) or {}
            cells.append(cell(outcome, r.get("diff"), r.get("diff_low"), r.get("diff_high"), True))
        rows.append(f'<tr class="comparison">{"".join(cells)}</tr>')
    return (
        '<div class="table-wrap"><table class="outcomes"><thead><tr>'
        + "".join(head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def _label(c: Comparison, outcome: str) -> str:
    row = c.row(c.reference, outcome)
    if row is not None:
        return str(row["label"])
    return OUTCOME_INFO[outcome].label if outcome in OUTCOME_INFO else outcome


def _footer(c: Comparison, manifest: Mapping[str, Any] | None) -> str:
    m = dict(manifest or {})
    packages = m.get("packages") or {}
    version = packages.get("introsim") or m.get("introsim_version") or "unknown"
    paths = {s.get("name"): s.get("path") for s in m.get("scenarios", []) if isinstance(s, dict)}
    rows = []
    for name, digest in zip(c.names, c.digests, strict=True):
        path = paths.get(name)
        where = f" (<code>{html.escape(str(path))}</code>)" if path else ""
        rows.append(
            f'<li>{html.escape(name)}{where}: <code title="{digest}">sha256 {digest[:16]}…</code>'
            "</li>"
        )
    facts = [
        f"introsim {html.escape(str(version))}",
        f"commit <code>{html.escape(str(m.get('git_commit') or 'unknown'))}</code>",
        f"root seed {c.root_seed}; replicate r used "
        f"<code>numpy.random.SeedSequence({c.root_seed}, spawn_key=(r,))</code> in every scenario",
        f"{c.replications} replicates per scenario",
    ]
    if "jobs" in m:
        facts.append(f"{m['jobs']} worker process(es)")
    if "wall_time_s" in m:
        facts.append(f"{float(m['wall_time_s']):.1f} s")
    if m.get("command"):
        facts.append(f"command <code>{html.escape(str(m['command']))}</code>")
    pkgs = ", ".join(
        f"{html.escape(k)} {html.escape(str(v))}" for k, v in packages.items() if k != "introsim"
    )
    created = m.get("created_utc") or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<footer><h2>Provenance</h2><p>"
        + "; ".join(facts)
        + ".</p><p>Scenarios (hash of the fully resolved scenario):</p><ul>"
        + "".join(rows)
        + "</ul>"
        + (f"<p>Packages: {pkgs}.</p>" if pkgs else "")
        + f"<p>Generated {html.escape(str(created))}. Re-running the same command with the same "
        "version, seed and scenario files gives the same replicate results, "
        "whatever the number of worker processes.</p></footer>"
    )


CSS = """
:root { --ink:#1f2328; --muted:#5b636b; --line:#d8dee4; --bg:#f6f8fa; --accent:#0072B2; }
* { box-sizing: border-box; }
body { margin:0; font-family:FONT_STACK; color:var(--ink); background:#fff; line-height:1.5; }
main { max-width:1240px; margin:0 auto; padding:0 28px 40px; }
header.top { background:linear-gradient(90deg,#0b3d5c,#0072B2); color:#fff; padding:28px 0 22px; }
header.top .inner { max-width:1240px; margin:0 auto; padding:0 28px; }
header.top h1 { margin:0 0 6px; font-size:1.7rem; font-weight:650; }
header.top p { margin:0; opacity:.9; }
h2 { font-size:1.3rem; margin:38px 0 8px; padding-bottom:6px; border-bottom:2px solid var(--line); }
h3 { font-size:1.05rem; margin:18px 0 6px; }
p.lead { color:var(--muted); margin:4px 0 12px; max-width:900px; }
.summary { display:grid; gap:14px; }
.versus { background:var(--bg); border:1px solid var(--line); border-radius:8px; padding:4px 18px; }
.versus ul { padding-left:20px; }
.versus li { margin:6px 0; }
li.good::marker { color:#1a7f37; } li.bad::marker { color:#cf222e; }
.tag { display:inline-block; font-size:.78rem; font-weight:600; padding:0 7px; border-radius:9px;
  margin-left:4px; white-space:nowrap; }
.tag.good { background:#dafbe1; color:#116329; } .tag.bad { background:#ffebe9; color:#a40e26; }
.tag.unclear { background:#eaeef2; color:#57606a; }
.howto { columns:2 360px; column-gap:36px; color:#333; }
.howto p { margin:0 0 10px; break-inside:avoid; }
.table-wrap { overflow-x:auto; }
table.outcomes { border-collapse:collapse; width:100%; font-size:.92rem; }
table.outcomes th { text-align:right; padding:8px 10px; border-bottom:2px solid var(--ink);
  white-space:nowrap; vertical-align:bottom; }
table.outcomes th:first-child { text-align:left; }
table.outcomes td { padding:6px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
table.outcomes td.label code { color:var(--muted); font-size:.8rem; }
td.num { text-align:right; white-space:nowrap; font-variant-numeric:tabular-nums; }
td.num .ci { color:var(--muted); font-size:.82rem; }
td.good { color:#1a7f37; font-weight:600; } td.bad { color:#cf222e; font-weight:600; }
td.strong { font-weight:600; } td.muted { color:#aaa; }
tr.cost td { background:#fbfbfc; } tr.cost td.label { padding-left:26px; }
tr.comparison td { background:#f1f7fc; }
.dot { display:inline-block; width:10px; height:10px; border-radius:50%; margin-right:6px; }
.chart-wrap { border:1px solid var(--line); border-radius:8px; padding:6px; margin:10px 0; }
footer { margin-top:40px; color:var(--muted); font-size:.88rem; }
footer code, .versus code { font-size:.85em; }
""".replace("FONT_STACK", FONT)


def report_html(comparison: Comparison, manifest: Mapping[str, Any] | None = None) -> str:
    """Render the report as one self-contained HTML document.

    Args:
        comparison: The result of :func:`introsim.experiments.compare.compare`.
        manifest: Provenance written next to the report (``manifest.json``), used
            for the footer: version, commit, scenario files, jobs, wall time, command.

    Returns:
        The HTML text, with plotly.js inline.
    """
    c = comparison
    names = ", ".join(html.escape(n) for n in c.names)
    sizes = sorted(set(c.cohort_sizes))
    weeks = sorted(set(c.weeks))
    cohort = " or ".join(str(s) for s in sizes)
    horizon = " or ".join(str(w) for w in weeks)
    descriptions = "".join(
        f"<li><b>{html.escape(n)}</b>: {html.escape(d)}</li>"
        for n, d in zip(c.names, c.descriptions, strict=False)
        if d
    )
    ref = html.escape(c.reference)
    charts = {
        "employment": _employment_chart(c),
        "status": _status_chart(c),
        "distribution": _distribution_chart(c),
        "costs": _costs_chart(c),
        "subgroups": _subgroup_chart(c),
    }
    section_text = {
        "employment": (
            "1. Share in work, week by week",
            "The share of participants in work (ordinary or subsidised), averaged over "
            "replicates; the shaded band is the 95 % interval of that average. The dotted "
            "lines mark 12, 24 and 60 months.",
        ),
        "status": (
            "2. What participants are doing over time",
            "Each panel is one scenario: the average share of participants in each status, "
            "stacked to 100 %.",
        ),
        "distribution": (
            "3. How much results vary from run to run",
            "Each dot is one replicate (one simulated cohort); boxes show the middle half and "
            "the median. Because replicate r has the same cohort and random draws in every "
            "scenario, differences within a replicate are smaller than the spread suggests.",
        ),
        "costs": (
            "4. Costs to the public purse",
            "Left: cost per participant over the whole horizon, split into specialists and "
            "advisors, wage subsidy paid, and introduction benefit paid. Right: the difference "
            f"in cost divided by the difference in persons in work at 12 months, against {ref}, "
            "with its 95 % interval (Fieller's method). A negative value is a saving per extra "
            "person in work. It is not shown where there is no clear gain in persons in work.",
        ),
        "subgroups": (
            "5. For whom: results by subgroup",
            "Average share in work at 12 months within each subgroup, with 95 % intervals; "
            "use the menu at the top right to switch to work or education when leaving the "
            "programme. Small subgroups have wide intervals.",
        ),
    }
    sections = []
    for key in SECTIONS:
        title, text = section_text[key]
        sections.append(
            f'<section id="{key}"><h2>{title}</h2><p class="lead">{text}</p>'
            f"{_chart_html(charts[key], key)}</section>"
        )
    summary = "".join(_summary_items(c))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>introsim comparison: {names}</title>
<style>{CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<header class="top"><div class="inner">
<h1>Comparing {names}</h1>
<p>Simulated introduction programme: {c.replications} replicates of each scenario, a cohort of
{cohort} participants followed for {horizon} weeks. Differences are against <b>{ref}</b>.</p>
</div></header>
<main>
<section id="summary"><h2>Summary</h2>
{f"<ul>{descriptions}</ul>" if descriptions else ""}
<div class="summary">{summary}</div>
</section>
<section id="how-to-read"><h2>How to read this report</h2><div class="howto">
<p>Each scenario is one way of running the introduction programme in one municipality. The model
follows every participant week by week: language training, follow-up by a programme advisor or
job specialist, job search, hiring by local employers, leaving the programme.</p>
<p>Chance plays a part (who applies where, which employer hires), so each scenario was simulated
{c.replications} times (<i>replicates</i>). Replicate r used the same cohort of people and the
same random numbers in every scenario, so differences between scenarios come from the policies,
not from different people or luck.</p>
<p>Numbers are averages over replicates. The 95 % interval in brackets shows how precisely the
replicates pin down that average. A difference whose interval lies wholly above or below zero is a
clear difference; one whose interval includes zero may be chance. Green marks a clear difference
for the better, red for the worse.</p>
{_uncertainty_text(c)} "pp" means percentage points. Shares count only
participants who reached that point within the horizon.</p>
</div></section>
<section id="outcomes"><h2>Outcomes</h2>
<p class="lead">Each scenario's average with its 95 % interval, and the difference from {ref} with
the 95 % interval of the paired difference. The last two rows are per cohort.</p>
{_outcome_table(c)}
</section>
{"".join(sections)}
{_footer(c, manifest)}
</main>
</body>
</html>
"""


def _uncertainty_text(c: Comparison) -> str:
    """What the intervals cover: simulation noise, and parameter uncertainty with an ensemble."""
    if c.ensemble is None:
        return (
            "<p>The intervals cover the randomness of the simulation only. They do not cover "
            "uncertainty about the model's assumptions (for example how employers judge "
            "applicants), which matters more: read the results as what follows from those "
            "assumptions."
        )
    e = c.ensemble
    return (
        f"<p>The intervals include <b>parameter uncertainty</b>: replicate r ran with parameter "
        f"set r mod {e['members']} of the ensemble {html.escape(str(e['file']))} (every "
        "calibrated parameter set that met all the calibration bands), the same set in every "
        "scenario, so they cover both the randomness of the simulation and the spread between "
        "plausible values of the calibrated parameters "
        f"({html.escape(', '.join(e['parameters']))}). They do not cover assumptions outside "
        "the ensemble."
    )


def write_report(
    comparison: Comparison, path: str | Path, manifest: Mapping[str, Any] | None = None
) -> Path:
    """Write the comparison report as one self-contained HTML file, atomically.

    Args:
        comparison: The result of :func:`introsim.experiments.compare.compare`.
        path: Where to write (e.g. ``out/compare/report.html``).
        manifest: Provenance for the footer (see :func:`report_html`).

    Returns:
        The path written.
    """
    target = Path(path)
    write_text(report_html(comparison, manifest), target)
    return target
