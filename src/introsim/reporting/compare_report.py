"""The comparison report: one self-contained HTML file with plotly charts.

:func:`write_report` turns a :class:`introsim.experiments.compare.Comparison` into a single
HTML file that opens offline: plotly.js is embedded once, inline, and nothing
is fetched from the network. The report has a plain-words summary, a short
guide to reading it, the table of outcomes with 95 % intervals, six charts
(each in a ``div`` with id ``chart-<section>`` and class ``chart``; see
:data:`SECTIONS`, each in a figure with a text alternative), links to the data files
and a provenance footer.

This module also holds the number formatting shared by the report and the
command line's comparison table.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from introsim.experiments.compare import (
    COMPARISON_FILE,
    COMPARISON_OUTCOMES,
    CSV_FILES,
    IN_WORK,
    INFO,
    PERSON_YEARS,
    RATIOS,
    REPLICATE_OUTCOMES,
    TABLE_OUTCOMES,
    Comparison,
)
from introsim.experiments.statistics import MIN_PEOPLE
from introsim.model.outcomes import COST_PARTS
from introsim.model.state import WEEKS_12M, WEEKS_24M, WEEKS_60M
from introsim.output import write_text
from introsim.reporting import ledger_report

if TYPE_CHECKING:
    from introsim.experiments.calibration import Caveat

__all__ = [
    "SECTIONS",
    "format_diff",
    "format_interval",
    "format_number",
    "format_value",
    "report_html",
    "scroll_table",
    "write_report",
]

SECTIONS: tuple[str, ...] = (
    "employment",
    "status",
    "distribution",
    "costs",
    "value",
    "subgroups",
    "payers",
)
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
    PERSON_YEARS,
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
# Greys with patterns, so that no cost part shares a colour with a scenario.
COST_STYLE: dict[str, tuple[str, str, str]] = {
    "cost_specialist_nok": ("specialists and advisors", "#3d3d3d", ""),
    "cost_subsidy_nok": ("wage subsidy", "#8c8c8c", "/"),
    "cost_benefit_nok": ("introduction benefit", "#cfcfcf", "."),
}
SHORT_LABELS: dict[str, str] = {
    "employed_12m": "In work at 12 months",
    "employed_24m": "In work at 24 months",
    "work_or_education_at_exit": "Work or education at exit",
    "months_employed_24m": "Months in work, first 24",
}
"""Chart titles short enough for a phone; the table gives the full labels."""
SUBGROUP_LABELS: dict[str, str] = {
    "sex": "sex",
    "education": "education",
    "language_band": "Norwegian at start",
    "mental_health": "mental health",
    "care": "care for children",
}
COST = "cost_per_extra_person_year_nok"
"""The headline cost-effectiveness ratio: cost and effect over the same horizon."""
EXTRA_YEARS = "extra_person_years_in_work"
MARKS: dict[str, tuple[str, str]] = {
    "better": ("✓", "clearly better"),
    "worse": ("✗", "clearly worse"),
}
"""The symbol shown with the colour of a clear difference, and its words for screen readers."""
STATUS_TEXT: dict[str, str] = {
    "dominant": "dominant: cheaper and more in work",
    "dominated": "dominated: dearer and fewer in work",
    "no clear extra cost": "more in work at no clear extra cost",
    "fewer in work": "fewer in work",
    "no clear gain": "no clear gain in work",
}
"""What a ratio row shows in place of a number, by its status."""
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


# --------------------------------------------------------------------------- formatting
def _unit(name: str) -> str:
    if name in INFO:
        return INFO[name].unit
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


DESCRIPTIVE = frozenset({"subsidy_eligible_share", "subsidy_received_share"})
"""Outcomes that describe a scenario rather than judge it: never better or worse."""


def verdict(
    name: str,
    diff: float | None,
    low: float | None,
    high: float | None,
    few: bool = False,
) -> str:
    """Classify a difference: "better", "worse" (interval excludes zero) or "unclear".

    A difference of shares resting on too few participants (``few``) is never a finding.
    """
    if few or name in DESCRIPTIVE:
        return "unclear"
    if not excludes_zero(low, high) or not _ok(diff) or name not in INFO:
        return "unclear"
    return "better" if (diff > 0) == INFO[name].higher_is_better else "worse"


# --------------------------------------------------------------------------- charts
def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[k : k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _plot_text(text: str) -> str:
    """A user's text for a chart: plotly reads names, titles and hover text as markup.

    HTML is escaped (so a tag shows as written instead of becoming a link), and
    ``{`` too, so ``%{...}`` in a name is not taken for a hover-template field.
    """
    return html.escape(text).replace("{", "&#123;")


def _wrap(text: str, width: int = 42) -> str:
    """A user's text for a chart, broken into lines (plotly does not wrap text)."""
    return "<br>".join(_plot_text(line) for line in textwrap.wrap(text, width) or [""])


def _layout(fig: go.Figure, height: int, **extra: Any) -> go.Figure:
    # Legends go below the plot: at phone widths a legend above it covers titles and labels.
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 40, "b": 60},
        font={"family": FONT, "size": 13},
        legend={"orientation": "h", "yanchor": "top", "y": -0.16, "x": 0},
        hoverlabel={"namelength": -1},
        **extra,
    )
    return fig


def _programme_end(c: Comparison) -> tuple[int, int] | None:
    """Weeks since the cohort's start in which the programme's longest stay ends (all arrivals)."""
    if not c.programme_weeks:
        return None
    intake = c.intake_weeks or (1,) * len(c.names)
    first = min(c.programme_weeks)
    last = max(p + i - 1 for p, i in zip(c.programme_weeks, intake, strict=True))
    return (first, last) if first <= max(c.weeks) else None


def _employment_chart(c: Comparison) -> go.Figure:
    fig = go.Figure()
    w = c.weekly[c.weekly["series"] == IN_WORK]
    for i, name in enumerate(c.names):
        d = w[w["scenario"] == name]
        colour = _colour(i)
        title = _wrap(c.title(name))
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
                name=f"{title} 95 % interval",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=weeks,
                y=100 * d["mean"].to_numpy(),
                mode="lines",
                line={"color": colour, "width": 2.5, "dash": ("solid", "dash", "dot")[i % 3]},
                name=title,
                legendgroup=name,
                customdata=100 * d[["ci_low", "ci_high"]].to_numpy(),
                hovertemplate="week %{x}: %{y:.1f} % in work "
                "(95 % interval %{customdata[0]:.1f} to %{customdata[1]:.1f})",
            )
        )
    end = _programme_end(c)
    if end is not None:
        first, last = end
        fig.add_vrect(
            x0=first - 0.5,
            x1=last + 0.5,
            fillcolor="#555",
            opacity=0.12,
            line_width=0,
            annotation_text="programme ends",
            annotation_position="bottom left",
            annotation_font_size=10,
        )
    for week, label in ((WEEKS_12M, "1 yr"), (WEEKS_24M, "2 yrs"), (WEEKS_60M, "5 yrs")):
        if week <= max(c.weeks):
            fig.add_vline(
                x=week,
                line={"dash": "dot", "color": "#888", "width": 1},
                annotation_text=label,
                annotation_position="top right",
                annotation_font_size=10,
            )
    fig.update_xaxes(title_text="weeks since the cohort's start")
    fig.update_yaxes(title_text="% in work", rangemode="tozero")
    return _layout(fig, 480, hovermode="x unified")


def _status_chart(c: Comparison) -> go.Figure:
    # One panel per row: side by side they are too narrow on a phone.
    n = len(c.names)
    fig = make_subplots(
        rows=n,
        cols=1,
        shared_xaxes=True,
        subplot_titles=[_wrap(c.title(name), 48) for name in c.names],
        vertical_spacing=0.28 / n,
    )
    series = [s for s in STATUS_ORDER if s in set(c.weekly["series"])]
    for i, name in enumerate(c.names):
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
                    hovertemplate=f"{label}: %{{y:.1f}} %<extra>{_plot_text(c.title(name))}, "
                    "week %{x}</extra>",
                ),
                row=i + 1,
                col=1,
            )
        fig.update_yaxes(range=[0, 100], title_text="%", row=i + 1, col=1)
    fig.update_xaxes(title_text="weeks since the cohort's start", row=n, col=1)
    fig.update_annotations(font_size=12)
    fig = _layout(fig, 240 * n + 200)
    fig.update_layout(legend={"y": -60 / (240 * n), "yanchor": "top"}, margin={"b": 150})
    return fig


def _distribution_chart(c: Comparison) -> go.Figure:
    # One outcome per row, with short titles: labels side by side overlap on a phone.
    titles = [
        f"{SHORT_LABELS.get(o, INFO[o].label)} ({'%' if _unit(o) == 'share' else _unit(o)})"
        for o in DISTRIBUTION_OUTCOMES
    ]
    rows = len(DISTRIBUTION_OUTCOMES)
    fig = make_subplots(rows=rows, cols=1, subplot_titles=titles, vertical_spacing=0.09)
    rep = c.replicates
    for k, outcome in enumerate(DISTRIBUTION_OUTCOMES):
        scale = 100.0 if _unit(outcome) == "share" else 1.0
        for i, name in enumerate(c.names):
            v = rep[(rep["scenario"] == name) & (rep["outcome"] == outcome)]
            title = _wrap(c.title(name))
            fig.add_trace(
                go.Box(
                    x=scale * v["value"].to_numpy(dtype=float),
                    y=[title] * len(v),
                    orientation="h",
                    name=title,
                    legendgroup=name,
                    showlegend=k == 0,
                    marker={"color": _colour(i), "size": 5, "opacity": 0.7},
                    line={"color": _colour(i)},
                    boxpoints="all",
                    jitter=0.45,
                    pointpos=0,
                    customdata=v["replicate"].to_numpy(),
                    hovertemplate="replicate %{customdata}: %{x:.1f}<extra></extra>",
                ),
                row=k + 1,
                col=1,
            )
        fig.update_yaxes(showticklabels=False, autorange="reversed", row=k + 1, col=1)
    fig.update_annotations(font_size=12)
    fig = _layout(fig, 190 * rows + 120, boxmode="overlay")
    fig.update_layout(legend={"y": -0.06, "yanchor": "top"}, margin={"b": 90})
    return fig


def _costs_chart(c: Comparison) -> go.Figure:
    fig = go.Figure()
    titles = [_wrap(c.title(name), 24) for name in c.names]
    for part in COST_PARTS:
        label, colour, pattern = COST_STYLE.get(part, (part, "#999", ""))
        means = [_value(c, name, part, "mean") for name in c.names]
        fig.add_trace(
            go.Bar(
                x=titles,
                y=means,
                name=label,
                marker={"color": colour, "pattern": {"shape": pattern, "fgcolor": "#000"}},
                hovertemplate=f"{label}: %{{y:,.0f}} NOK<extra></extra>",
            )
        )
    for name, title in zip(c.names, titles, strict=True):
        total = _value(c, name, "cost_per_participant_nok", "mean")
        fig.add_annotation(
            x=title,
            y=total,
            text=f"<b>{format_number('cost_per_participant_nok', total)}</b>",
            showarrow=False,
            yshift=12,
        )
    fig.update_yaxes(title_text="NOK per participant")
    fig = _layout(fig, 480, barmode="stack")
    fig.update_layout(legend={"y": -0.28, "traceorder": "normal"}, margin={"b": 120})
    return fig


def _value_chart(c: Comparison) -> go.Figure:
    """Extra cost per extra person-year in work, or the words that replace it."""
    fig = go.Figure()
    for i, name in enumerate(c.names[1:], start=1):
        title = _wrap(c.title(name), 24)
        row = c.row(name, COST) or {}
        est, lo, hi = row.get("diff"), row.get("diff_low"), row.get("diff_high")
        status = row.get("status") or "no clear gain"
        if status == "ratio" and _ok(est):
            fig.add_trace(
                go.Bar(
                    x=[title],
                    y=[est],
                    marker_color=_colour(i),
                    showlegend=False,
                    error_y={
                        "type": "data",
                        "array": [hi - est],
                        "arrayminus": [est - lo],
                        "color": "#333",
                    },
                    hovertemplate=f"{format_number(COST, est)} NOK per extra person-year "
                    f"in work (95 % interval {format_number(COST, lo)} to "
                    f"{format_number(COST, hi)})<extra></extra>",
                )
            )
        else:
            fig.add_trace(go.Bar(x=[title], y=[0], showlegend=False, hoverinfo="skip"))
            mark = {"dominant": "✓ ", "dominated": "✗ "}.get(status, "")
            fig.add_annotation(
                x=title,
                y=0,
                text=mark + _wrap(STATUS_TEXT.get(status, status), 18),
                showarrow=False,
                yshift=34,
                font={
                    "size": 12,
                    "color": {"dominant": "#116329", "dominated": "#a40e26"}.get(status, "#555"),
                },
            )
    fig.add_hline(y=0, line={"color": "#444", "width": 1})
    ratios = any((c.row(n, COST) or {}).get("status") == "ratio" for n in c.names[1:])
    # Without a ratio to show, a value axis would only suggest a number that is not there.
    fig.update_yaxes(
        title_text="NOK per extra person-year" if ratios else "",
        showticklabels=ratios,
        showgrid=ratios,
        rangemode="tozero",
    )
    return _layout(fig, 420, showlegend=False)


def _subgroup_chart(c: Comparison) -> go.Figure:
    # Horizontal bars: subgroup labels stay readable at phone widths.
    sg = c.subgroups
    outcomes = list(dict.fromkeys(sg["outcome"]))
    fig = go.Figure()
    levels = 0
    for k, outcome in enumerate(outcomes):
        for i, name in enumerate(c.names):
            d = sg[(sg["outcome"] == outcome) & (sg["scenario"] == name)]
            levels = max(levels, len(d))
            groups = [SUBGROUP_LABELS.get(g, g) for g in d["subgroup"]]
            mean = 100 * d["mean"].to_numpy(dtype=float)
            fig.add_trace(
                go.Bar(
                    y=[groups, list(d["level"])],
                    x=mean,
                    orientation="h",
                    name=_wrap(c.title(name)),
                    legendgroup=name,
                    marker_color=_colour(i),
                    visible=k == 0,
                    error_x={
                        "type": "data",
                        "array": 100 * d["ci_high"].to_numpy(dtype=float) - mean,
                        "arrayminus": mean - 100 * d["ci_low"].to_numpy(dtype=float),
                        "thickness": 1,
                        "width": 3,
                        "color": "#333",
                    },
                    customdata=d["n"].to_numpy(dtype=float),
                    hovertemplate="%{y}: %{x:.1f} % (about %{customdata:.0f} participants per "
                    "cohort)<extra></extra>",
                )
            )
    n = len(c.names)
    buttons = [
        {
            "label": SHORT_LABELS.get(o, INFO[o].label if o in INFO else o),
            "method": "update",
            "args": [
                {"visible": [j == k for j in range(len(outcomes)) for _ in range(n)]},
                {},
            ],
        }
        for k, o in enumerate(outcomes)
    ]
    fig.update_xaxes(title_text="% of the subgroup", rangemode="tozero")
    fig.update_yaxes(autorange="reversed")
    height = 160 + 14 * levels * n
    fig = _layout(
        fig,
        height,
        barmode="group",
        updatemenus=[
            {
                "buttons": buttons,
                "direction": "down",
                "x": 1.0,
                "xanchor": "right",
                "y": 1.0,
                "yanchor": "bottom",
                "pad": {"b": 4},
                "font": {"size": 12},
                "showactive": True,
            }
        ],
    )
    fig.update_layout(legend={"y": -90 / height}, margin={"t": 50, "b": 130, "l": 130})
    return fig


def _value(c: Comparison, scenario: str, outcome: str, column: str) -> float:
    row = c.row(scenario, outcome)
    return float("nan") if row is None else float(row[column])


# --------------------------------------------------------------------------- text
def _words_interval(name: str, low: float | None, high: float | None) -> str:
    """An interval in words: ``8.9 to 10.4`` (no brackets, no plus signs)."""
    if not (_ok(low) and _ok(high)):
        return "not available"
    return f"{format_number(name, low)} to {format_number(name, high)}"


def _clear_bounds(row: Mapping[str, Any]) -> tuple[Any, Any]:
    """The range that decides "clearly": the mechanisms' where the runs span a posterior."""
    low, high = row.get("diff_parameter_low"), row.get("diff_parameter_high")
    if _ok(low) and _ok(high):
        return low, high
    return row.get("diff_low"), row.get("diff_high")


def _kinds_words(c: Comparison, name: str, row: Mapping[str, Any], size: int) -> str:
    """The three kinds of uncertainty about a difference, each named in plain words."""
    outcome = str(row["outcome"])
    parts = []
    if c.ensemble is not None:
        parts.append(
            "what we do not know about the mechanisms: "
            f"{_words_interval(outcome, row['diff_parameter_low'], row['diff_parameter_high'])} "
            f"(95 % of the {c.ensemble['members']} plausible parameter sets)"
        )
    else:
        parts.append(
            "what we do not know about the mechanisms: not shown (one parameter set; run over a "
            "calibration's posterior ensemble to see it)"
        )
    parts.append(
        f"chance in one real cohort of {size}: "
        f"{_words_interval(outcome, row['diff_cohort_low'], row['diff_cohort_high'])}"
    )
    parts.append(
        f"simulation precision: {_words_interval(outcome, row['diff_low'], row['diff_high'])}"
    )
    return "; ".join(parts)


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


def _mark(v: str) -> str:
    """The symbol of a clear difference, hidden from screen readers (the words follow)."""
    symbol = MARKS[v][0] if v in MARKS else ""
    return f'<span class="mark" aria-hidden="true">{symbol}</span> ' if symbol else ""


def _tag(name: str, diff: float, low: float, high: float, few: bool = False) -> str:
    v = verdict(name, diff, low, high, few)
    if few:
        return '<span class="tag unclear">too few participants to tell</span>'
    if v == "unclear":
        return '<span class="tag unclear">no clear difference</span>'
    word = "better" if v == "better" else "worse"
    if _unit(name) == "NOK":
        word = "cheaper" if v == "better" else "more expensive"
    return f'<span class="tag {"good" if v == "better" else "bad"}">{_mark(v)}clearly {word}</span>'


def _cost_line(c: Comparison, name: str) -> str:
    """The cost sentence of a scenario: "dominant", "dominated" or a cost per person-year."""
    row = c.row(name, COST) or {}
    total = c.row(name, "cost_per_participant_nok") or {}
    status = str(row.get("status") or "no clear gain")
    weeks = c.weeks[c.names.index(name)]
    td, clear = total.get("diff"), excludes_zero(total.get("diff_low"), total.get("diff_high"))
    amount = format_number("cost_per_participant_nok", abs(td)) if _ok(td) else "–"
    dearer = "more" if _ok(td) and td > 0 else "less"
    cost = (
        f"It costs the public purse <b>{amount} NOK {dearer} per participant</b> over the "
        f"{weeks} weeks"
    )
    if status == "dominant":
        text = (
            f"{cost} and gets more people into work over the same weeks: it is "
            '<b class="good"><span aria-hidden="true">✓</span> dominant</b> (cheaper and better).'
        )
    elif status == "dominated":
        text = (
            f"{cost} and gets fewer people into work over the same weeks: it is "
            '<b class="bad"><span aria-hidden="true">✗</span> dominated</b> (dearer and worse).'
        )
    elif status == "ratio":
        text = (
            f"{cost}: about <b>{format_number(COST, row['diff'])} NOK per extra person-year in "
            f"work</b> over the same weeks (95 % interval "
            f"{_words_interval(COST, row['diff_low'], row['diff_high'])})."
        )
    elif status == "no clear extra cost":
        text = "It gets more people into work at no clear difference in cost per participant."
    elif clear:
        text = f"{cost}."
    else:
        text = "Its cost per participant is not clearly different."
    return f'<span class="cost-line" data-status="{html.escape(status)}">{text}</span>'


def _headline(c: Comparison, name: str) -> str:
    """Extra persons in work at 12 months, extra person-years over the horizon, and cost."""
    esc, ref = html.escape(c.title(name)), html.escape(c.title(c.reference))
    extra = c.row(name, "extra_employed_12m") or {}
    years = c.row(name, EXTRA_YEARS) or {}
    size = c.cohort_sizes[c.names.index(name)]
    weeks = c.weeks[c.names.index(name)]
    d = extra.get("diff")
    if not _ok(d):
        return ""
    persons = format_number("extra_employed_12m", abs(d)).removesuffix(".0")
    kinds = _kinds_words(c, name, extra, size)
    if excludes_zero(*_clear_bounds(extra)):
        more = "more" if d > 0 else "fewer"
        text = (
            f"With <b>{esc}</b>, about <b>{round(abs(d))} {more} of every {size} participants are "
            f"in work 12 months after they start</b> than with {ref} (95 % ranges: {kinds})."
        )
    else:
        text = (
            f"With <b>{esc}</b>, the number in work 12 months after the start is not clearly "
            f"different from {ref} (a difference of {persons} of every {size} participants; "
            f"95 % ranges: {kinds})."
        )
    y = years.get("diff")
    if _ok(y):
        amount = format_number(EXTRA_YEARS, abs(y))
        way = "more" if y > 0 else "fewer"
        clear = excludes_zero(years.get("diff_low"), years.get("diff_high"))
        text += (
            f" Over the whole {weeks} weeks the cohort spends {amount} {way} person-years in work"
            f"{'' if clear else ', not a clear difference'} (95 % interval "
            f"{_words_interval(EXTRA_YEARS, years['diff_low'], years['diff_high'])})."
        )
    return f"<p>{text} {_cost_line(c, name)}</p>"


def _summary_items(c: Comparison) -> list[str]:
    """One block per compared scenario, in plain words (HTML)."""
    ref = html.escape(c.title(c.reference))
    items = []
    for name in c.names[1:]:
        esc = html.escape(c.title(name))
        ranked = []
        for outcome in HEADLINE_OUTCOMES:
            row = c.row(name, outcome)
            base = _value(c, c.reference, outcome, "mean")
            if row is None or not _ok(row["diff"]) or not _ok(base):
                continue
            rel = abs(row["diff"]) / abs(base) if base != 0 else math.inf
            ranked.append((excludes_zero(*_clear_bounds(row)), rel, outcome, row))
        ranked.sort(key=lambda x: (not x[0], -x[1]))
        bullets = []
        for _, _, outcome, row in ranked[:3]:
            label = INFO[outcome].label
            few = bool(row.get("few_people", False))
            low, high = _clear_bounds(row)
            v = verdict(outcome, row["diff"], low, high, few)
            cls = {"better": "good", "worse": "bad"}.get(v, "unclear")
            unit = {"share": " percentage points", "NOK": " NOK"}.get(_unit(outcome), "")
            size = c.cohort_sizes[c.names.index(name)]
            bullets.append(
                f'<li class="{cls}"><b>{html.escape(label)}</b>: '
                f"{format_value(outcome, row['mean'])} with {esc}, "
                f"{format_value(outcome, _value(c, c.reference, outcome, 'mean'))} with {ref}: "
                f"{_direction(outcome, float(row['diff']))}{unit} (95 % ranges: "
                f"{_kinds_words(c, name, row, size)}) "
                f"{_tag(outcome, row['diff'], low, high, few)}</li>"
            )
        clear = any(r[0] for r in ranked)
        lead = "The largest differences:" if clear else "No clear difference in the main outcomes:"
        items.append(
            f'<div class="versus" data-scenario="{html.escape(name)}">'
            f"<h3>{esc} compared with {ref}</h3>{_headline(c, name)}"
            f"{ledger_report.who_pays(c, name)}"
            f"<p>{lead}</p><ul>{''.join(bullets)}</ul></div>"
        )
    return items


def scroll_table(table: str, label: str) -> str:
    """Wrap a table so that it scrolls sideways with a visible cue when it is too wide.

    The cue (a shadow at the right edge and a "scroll →" hint) shows only while
    the table overflows; :data:`SCROLL_JS` keeps it up to date.
    """
    return (
        '<div class="scroll-box"><p class="scroll-hint" aria-hidden="true">scroll →</p>'
        f'<div class="table-wrap" role="region" tabindex="0" aria-label="{html.escape(label)}">'
        f"{table}</div></div>"
    )


def _caveat_mark(numbers: Sequence[int]) -> str:
    """Links from a table cell to the calibration caveats below the table."""
    return "".join(
        f' <a class="caveat-mark" href="#caveat-{k}" aria-label="calibration caveat {k}">†{k}</a>'
        for k in numbers
    )


def _caveats(
    c: Comparison, caveats: Sequence[Caveat]
) -> tuple[dict[str, list[int]], dict[str, list[int]], str]:
    """The calibration caveats that concern the compared scenarios.

    Returns:
        Note numbers by scenario, note numbers by outcome, and the notes as HTML (empty
        when none applies).
    """
    by_scenario: dict[str, list[int]] = {n: [] for n in c.names}
    by_outcome: dict[str, list[int]] = {}
    items = []
    for cav in caveats:
        affected = [n for n in c.names if n in cav.scenarios]
        if not affected:
            continue
        k = len(items) + 1
        for n in affected:
            by_scenario[n].append(k)
        for stat in cav.statistics:
            by_outcome.setdefault(stat, []).append(k)
        who = ", ".join(html.escape(c.title(n)) for n in affected)
        what = ", ".join(
            html.escape(_label(c, st)) if st in REPLICATE_OUTCOMES else f"<code>{st}</code>"
            for st in cav.statistics
        )
        items.append(
            f'<li id="caveat-{k}" data-target="{html.escape(cav.target)}" '
            f'data-scenarios="{html.escape(" ".join(affected))}"><b>†{k} {who}</b> ({what}): '
            "the calibration does not support this mechanism: with the model's default "
            f"parameters the target “{html.escape(cav.description or cav.target)}” "
            f"(<code>{html.escape(cav.target)}</code>) is not met. Source: "
            f"{html.escape(cav.source)}. Give results that rest on it less weight.</li>"
        )
    notes = (
        '<div class="caveats"><h3>Calibration caveats</h3><ul>' + "".join(items) + "</ul></div>"
        if items
        else ""
    )
    return by_scenario, by_outcome, notes


def _outcome_table(
    c: Comparison,
    by_scenario: Mapping[str, Sequence[int]] | None = None,
    by_outcome: Mapping[str, Sequence[int]] | None = None,
) -> str:
    """The table of outcomes: each scenario's mean with interval, and differences.

    ``by_scenario`` and ``by_outcome`` give the calibration caveats (note numbers) to mark
    next to a scenario's columns and an outcome's row.
    """
    by_scenario = by_scenario or {}
    by_outcome = by_outcome or {}
    ref = html.escape(c.title(c.reference))
    head = ["<th>outcome</th>"]
    for i, name in enumerate(c.names):
        head.append(
            f'<th><span class="dot" style="background:{_colour(i)}"></span>'
            f"{html.escape(c.title(name))}{_caveat_mark(by_scenario.get(name, ()))}</th>"
        )
    for name in c.names[1:]:
        head.append(
            f"<th>{html.escape(c.title(name))}{_caveat_mark(by_scenario.get(name, ()))}"
            f'<br><span class="minus">minus {ref}</span></th>'
        )
    rows = []

    def cell(
        name: str, value: float, low: float, high: float, diff: bool, row: Mapping[str, Any]
    ) -> str:
        text = format_diff(name, value) if diff else format_value(name, value)
        interval = format_interval(name, low, high, signed=diff)
        ci = f'<br><span class="ci">{interval}</span>' if interval else ""
        people = row.get("people")
        if _ok(people) and not diff:
            ci += f'<br><span class="ci">n {people:.0f} per run</span>'
        few = bool(row.get("few_people", False))
        if few:  # greyed, with the note below the table, and never a finding
            return (
                f'<td class="num few">{text}<sup>‡</sup>{ci}'
                f'<span class="sr-only"> (too few participants: not a finding)</span></td>'
            )
        cls, mark = "", ""
        if diff:
            v = verdict(name, value, low, high)
            cls = {"better": "good", "worse": "bad"}.get(v, "")
            if v in MARKS:
                mark = _mark(v) + f'<span class="sr-only">{MARKS[v][1]}: </span>'
            if name in COMPARISON_OUTCOMES and excludes_zero(low, high):
                cls, mark = "strong", ""
        return f'<td class="num {cls}">{mark}{text}{ci}</td>'

    def status_cell(status: str) -> str:
        cls = {"dominant": "good", "dominated": "bad"}.get(status, "muted")
        mark = {"dominant": "✓ ", "dominated": "✗ "}.get(status, "")
        words = html.escape(STATUS_TEXT.get(status, status))
        return (
            f'<td class="num status {cls}" data-status="{html.escape(status)}">'
            f'<span aria-hidden="true">{mark}</span>{words}</td>'
        )

    def label_cell(outcome: str, label: str) -> str:
        mark = _caveat_mark(by_outcome.get(outcome, ()))
        return f'<td class="label">{html.escape(label)}{mark}<br><code>{outcome}</code></td>'

    for outcome in TABLE_OUTCOMES:
        cells = [label_cell(outcome, _label(c, outcome))]
        for name in c.names:
            r = c.row(name, outcome) or {}
            cells.append(cell(outcome, r.get("mean"), r.get("ci_low"), r.get("ci_high"), False, r))
        for name in c.names[1:]:
            r = c.row(name, outcome) or {}
            cells.append(
                cell(outcome, r.get("diff"), r.get("diff_low"), r.get("diff_high"), True, r)
            )
        cls = ' class="cost"' if outcome in COST_PARTS else ""
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    for outcome in COMPARISON_OUTCOMES:
        cells = [label_cell(outcome, INFO[outcome].label)]
        cells += ['<td class="num muted">–</td>'] * len(c.names)
        for name in c.names[1:]:
            r = c.row(name, outcome) or {}
            status = str(r.get("status") or "")
            if outcome in RATIOS and status != "ratio":
                cells.append(status_cell(status or "no clear gain"))
            else:
                cells.append(
                    cell(outcome, r.get("diff"), r.get("diff_low"), r.get("diff_high"), True, r)
                )
        rows.append(f'<tr class="comparison" data-outcome="{outcome}">{"".join(cells)}</tr>')
    table = (
        '<table class="outcomes"><thead><tr>'
        + "".join(head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    notes = [
        "n: the participants a share rests on in one run (those who reached its horizon); "
        "comparison.csv has the number over all replicates."
    ]
    if c.table["few_people"].astype(bool).any():
        notes.append(
            f"‡ greyed: rests on fewer than {MIN_PEOPLE} participants per run, so it is not a "
            "finding whatever its interval (lengthen the horizon or the intake's reach)."
        )
    for name in c.names[1:]:
        i = c.names.index(name)
        if not c.is_paired(name):
            notes.append(
                f"{html.escape(name)} − {html.escape(c.reference)}: unpaired (they differ in "
                f"{html.escape(c.unpaired[i])}), Welch's interval."
            )
    note = "".join(f'<p class="table-note">{n}</p>' for n in notes)
    return scroll_table(table, "Table of outcomes") + note


def _pairing_text(c: Comparison) -> str:
    """A warning paragraph for scenarios whose runs cannot be paired with the reference's."""
    from introsim.experiments.compare import unpaired_text

    lines = [
        unpaired_text(c.reference, name, c.unpaired[i])
        for i, name in enumerate(c.names)
        if i > 0 and not c.is_paired(name)
    ]
    if not lines:
        return ""
    body = "; ".join(html.escape(x) for x in lines)
    return f'<p class="warning"><b>Not paired.</b> {body}.</p>'


def _label(c: Comparison, outcome: str) -> str:
    row = c.row(c.reference, outcome)
    if row is not None:
        return str(row["label"])
    return INFO[outcome].label if outcome in INFO else outcome


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
            f"<li><code>{html.escape(name)}</code> ({html.escape(c.description(name))}){where}: "
            f'<code title="{digest}">sha256 {digest[:16]}…</code></li>'
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
.sr-only { position:absolute; width:1px; height:1px; padding:0; margin:-1px; overflow:hidden;
  clip:rect(0,0,0,0); white-space:nowrap; border:0; }
.scroll-box { position:relative; }
.table-wrap { overflow-x:auto; position:relative; }
.scroll-hint { display:none; margin:0 0 4px; text-align:right; font-size:.85rem;
  color:var(--muted); }
.scroll-box.overflows .scroll-hint { display:block; }
.scroll-box.overflows::after { content:""; position:absolute; top:0; right:0; bottom:0; width:28px;
  pointer-events:none; background:linear-gradient(to right, rgba(0,0,0,0), rgba(0,0,0,.22)); }
.scroll-box.overflows.at-end::after { display:none; }
table.outcomes th .minus { font-weight:400; color:var(--muted); font-size:.82rem; }
.mark { font-weight:700; }
b.good { color:#116329; } b.bad { color:#a40e26; }
.files li { margin:4px 0; }
table.outcomes { border-collapse:collapse; width:100%; font-size:.92rem; }
table.outcomes th { text-align:right; padding:8px 10px; border-bottom:2px solid var(--ink);
  min-width:9em; max-width:16em; vertical-align:bottom; }
table.outcomes th:first-child { text-align:left; }
table.outcomes td { padding:6px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
table.outcomes td.label code { color:var(--muted); font-size:.8rem; }
td.num { text-align:right; white-space:nowrap; font-variant-numeric:tabular-nums; }
td.num .ci { color:var(--muted); font-size:.82rem; }
td.good { color:#1a7f37; font-weight:600; } td.bad { color:#cf222e; font-weight:600; }
td.strong { font-weight:600; } td.muted { color:#aaa; } td.few { color:#999; }
.table-note { color:#57606a; font-size:.9em; margin:.3em 0; }
.caveat-mark { font-size:0.8em; vertical-align:super; }
.caveats { border-left:4px solid #b35900; padding:0.2em 1em; margin:1em 0; }
tr.cost td { background:#fbfbfc; } tr.cost td.label { padding-left:26px; }
tr.comparison td { background:#f1f7fc; }
.dot { display:inline-block; width:10px; height:10px; border-radius:50%; margin-right:6px; }
.chart-wrap { border:1px solid var(--line); border-radius:8px; padding:6px; margin:10px 0; }
footer { margin-top:40px; color:var(--muted); font-size:.88rem; overflow-wrap:anywhere; }
footer code, .versus code { font-size:.85em; }
@media (max-width: 600px) {
  main { padding:0 12px 30px; } header.top .inner { padding:0 12px; }
  header.top h1 { font-size:1.3rem; } .howto { columns:1; }
}
""".replace("FONT_STACK", FONT)

SCROLL_JS = """
(function () {
  function mark() {
    document.querySelectorAll('.scroll-box').forEach(function (box) {
      var wrap = box.querySelector('.table-wrap');
      if (!wrap) { return; }
      var over = wrap.scrollWidth > wrap.clientWidth + 1;
      box.classList.toggle('overflows', over);
      box.classList.toggle('at-end', over &&
        wrap.scrollLeft + wrap.clientWidth >= wrap.scrollWidth - 1);
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    mark();
    document.querySelectorAll('.table-wrap').forEach(function (w) {
      w.addEventListener('scroll', mark, { passive: true });
    });
  });
  window.addEventListener('load', mark);
  window.addEventListener('resize', mark);
})();
"""
"""Marks each ``.scroll-box`` whose table overflows, so that its scroll cue shows."""


def _alt_texts(c: Comparison) -> dict[str, str]:
    """A text alternative for each chart, with the numbers a reader most needs."""
    titles = [c.title(n) for n in c.names]
    w = c.weekly[c.weekly["series"] == IN_WORK]

    def in_work_at(name: str, week: int) -> str:
        hit = w[(w["scenario"] == name) & (w["week"] == week)]["mean"]
        return format_value("employed_12m", float(hit.iloc[0]) if len(hit) else None)

    at = min(WEEKS_12M, max(c.weeks) - 1)
    end = _programme_end(c)
    shares = "; ".join(f"{t}: {in_work_at(n, at)}" for n, t in zip(c.names, titles, strict=True))
    total = "cost_per_participant_nok"
    costs = "; ".join(
        f"{t}: {format_value(total, _value(c, n, total, 'mean'))}"
        for n, t in zip(c.names, titles, strict=True)
    )
    value = []
    for name in c.names[1:]:
        row = c.row(name, COST) or {}
        status = str(row.get("status") or "no clear gain")
        value.append(
            f"{c.title(name)}: "
            + (
                f"{format_value(COST, row.get('diff'))} per extra person-year"
                if status == "ratio"
                else STATUS_TEXT.get(status, status)
            )
        )
    return {
        "employment": "Line chart of the share of participants in work, week by week, one line "
        f"per scenario with its 95 % band. At week {at}: {shares}."
        + (
            f" A shaded band at weeks {end[0]} to {end[1]} marks where the programme reaches its "
            "maximum length."
            if end
            else ""
        ),
        "status": "Stacked area charts, one per scenario, of the share of participants in "
        "each status week by week: " + ", ".join(label for label, _ in STATUS_STYLE.values()) + ".",
        "distribution": "Box plots of each replicate's result, one box per scenario, for: "
        + ", ".join(INFO[o].label for o in DISTRIBUTION_OUTCOMES)
        + ".",
        "costs": "Stacked bar chart of public cost per participant over the horizon, split into "
        f"specialists and advisors, wage subsidy and introduction benefit. Totals: {costs}.",
        "value": "Bar chart of extra public cost per extra person-year in work against "
        f"{c.title(c.reference)}: " + "; ".join(value) + ".",
        "subgroups": "Grouped bar chart of the share in work at 12 months within each subgroup "
        "(" + ", ".join(SUBGROUP_LABELS.values()) + "), one bar per scenario, with 95 % "
        "intervals; a menu switches to work or education when leaving the programme.",
        "payers": ledger_report.flows_alt_text(c),
    }


def _files_section() -> str:
    """Links to the data files written next to the report."""
    files = [
        (COMPARISON_FILE, "the table above, one row per scenario and outcome"),
        (CSV_FILES["replicates.parquet"], "every replicate's outcomes, one row per value"),
        (CSV_FILES["weekly.parquet"], "the weekly shares behind charts 1 and 2"),
        (CSV_FILES["subgroups.parquet"], "the subgroup results behind chart 6"),
    ]
    items = "".join(
        f'<li><a href="{name}">{name}</a>: {html.escape(what)}</li>' for name, what in files
    )
    return (
        '<section id="files"><h2>Data files</h2><p class="lead">Every number in this report, '
        "for a spreadsheet. The same tables are also written as Parquet files, and "
        "<code>manifest.json</code> records how they were made.</p>"
        f'<ul class="files">{items}</ul></section>'
    )


def report_html(
    comparison: Comparison,
    manifest: Mapping[str, Any] | None = None,
    caveats: Sequence[Caveat] | None = None,
) -> str:
    """Render the report as one self-contained HTML document.

    Scenarios are called by their description (``[scenario] description``, or
    their name where they have none); their machine names appear only in the
    provenance and the data files.

    Args:
        comparison: The result of :func:`introsim.experiments.compare.compare`.
        manifest: Provenance written next to the report (``manifest.json``), used
            for the footer: version, commit, scenario files, jobs, wall time, command.
        caveats: Calibration targets the defaults do not meet; each one whose scenarios
            are compared here is noted next to them. None reads the repository's
            ``calibration/targets.toml`` (``calibration.default_caveats``).

    Returns:
        The HTML text, with plotly.js inline.
    """
    from introsim.experiments.calibration import default_caveats
    from introsim.reporting.html import chart_html

    c = comparison
    by_scenario, by_outcome, caveat_notes = _caveats(
        c, default_caveats() if caveats is None else caveats
    )
    sizes = sorted(set(c.cohort_sizes))
    weeks = sorted(set(c.weeks))
    cohort = " or ".join(str(s) for s in sizes)
    horizon = " or ".join(str(w) for w in weeks)
    ref = html.escape(c.title(c.reference))
    others = [html.escape(c.title(n)) for n in c.names[1:]]
    compared = others[0] if len(others) == 1 else ", ".join(others[:-1]) + " and " + others[-1]
    charts = {
        "employment": _employment_chart(c),
        "status": _status_chart(c),
        "distribution": _distribution_chart(c),
        "costs": _costs_chart(c),
        "value": _value_chart(c),
        "subgroups": _subgroup_chart(c),
        "payers": ledger_report.flows_chart(c),
    }
    end = _programme_end(c)
    kink = (
        f" The grey band (weeks {end[0]} to {end[1]}) is where participants reach the "
        "programme's maximum length: everyone still in it leaves at once, the programme's "
        "follow-up and the introduction benefit stop, and those without work move to "
        "unemployment or other support. The curves bend there because of that rule, not "
        "because of chance."
        if end
        else ""
    )
    section_text = {
        "employment": (
            "1. Share in work, week by week",
            "The share of participants in work (ordinary or subsidised), averaged over "
            "replicates; the shaded band around each line is the 95 % interval of that average. "
            "The dotted lines mark 1, 2 and 5 years." + kink,
        ),
        "status": (
            "2. What participants are doing over time",
            "Each panel is one scenario: the average share of participants in each status, "
            "stacked to 100 %."
            + (
                " The programme's end shows as the drop in the grey 'in the programme' area."
                if end
                else ""
            ),
        ),
        "distribution": (
            "3. How much results vary from run to run",
            "Each dot is one replicate (one simulated cohort); boxes show the middle half and "
            "the median. Because replicate r has the same cohort and random draws in every "
            "scenario, differences within a replicate are smaller than the spread suggests.",
        ),
        "costs": (
            "4. Costs to the public purse",
            "Cost per participant over the whole horizon, split into specialists and advisors "
            "(patterned dark grey), wage subsidy paid (hatched) and introduction benefit paid "
            "(dotted light grey).",
        ),
        "value": (
            "5. Extra cost per extra person-year in work",
            f"The difference in cost per participant divided by the difference in years in work "
            f"per participant, both over the same {horizon} weeks, against {ref}, with its 95 % "
            "interval (Fieller's method). A scenario that is clearly cheaper and clearly gets "
            "more people into work is <b>dominant</b> (✓): no cost per person-year is needed "
            "to prefer it; one that is dearer and worse is <b>dominated</b> (✗). The table "
            "also gives the cost per extra person in work at 12 months; it divides the whole "
            "horizon's cost by a 12-month effect, so it makes policies whose effect comes "
            "later look dearer.",
        ),
        "subgroups": (
            "6. For whom: results by subgroup",
            "Average share in work at 12 months within each subgroup, with 95 % intervals; "
            "use the menu above the chart to switch to work or education when leaving the "
            "programme. Small subgroups have wide intervals.",
        ),
        "payers": (ledger_report.SECTION_TITLE, ledger_report.SECTION_LEAD),
    }
    alts = _alt_texts(c)
    sections = []
    for key in SECTIONS:
        title, text = section_text[key]
        table = ledger_report.section_html(c) if key == "payers" else ""
        sections.append(
            f'<section id="{key}"><h2>{title}</h2><p class="lead">{text}</p>'
            f"{chart_html(charts[key], key, alts[key])}{table}</section>"
        )
    summary = "".join(_summary_items(c))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>introsim comparison: {compared} against {ref}</title>
<style>{CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
<script>{SCROLL_JS}</script>
</head>
<body>
<header class="top"><div class="inner">
<h1>{compared} compared with {ref}</h1>
<p>Simulated introduction programme: {c.replications} replicates of each scenario, a cohort of
{cohort} participants followed for {horizon} weeks. Differences are against <b>{ref}</b>.</p>
</div></header>
<main>
<section id="summary"><h2>Summary</h2>
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
{_pairing_text(c)}
<p>Numbers are averages over replicates. The 95 % interval in brackets shows how precisely the
replicates pin down that average. A difference whose interval lies wholly above or below zero is a
clear difference; one whose interval includes zero may be chance. A clear difference for the
better is marked ✓ and green, one for the worse ✗ and red. Each scenario keeps one colour in
every chart.</p>
{_uncertainty_text(c)} "pp" means percentage points. Shares count only
participants who reached that point within the horizon. Costs and years in work both cover the
whole horizon; the 12-month figures are labelled as such.</p>
</div></section>
<section id="outcomes"><h2>Outcomes</h2>
<p class="lead">Each scenario's average with its 95 % interval, and the difference from {ref} with
the 95 % interval of the paired difference. The last four rows are per cohort.</p>
{_outcome_table(c, by_scenario, by_outcome)}
{caveat_notes}
</section>
{"".join(sections)}
{_files_section()}
{_footer(c, manifest)}
</main>
</body>
</html>
"""


def _uncertainty_text(c: Comparison) -> str:
    """The three kinds of uncertainty the report names next to each number."""
    sizes = " or ".join(str(n) for n in sorted(set(c.cohort_sizes)))
    if c.ensemble is None:
        mechanisms = (
            "<li><b>What we do not know about the mechanisms</b>: not shown. These runs use one "
            "parameter set, so nothing here says how much the answer depends on assumptions no "
            "study pins down (for example how employers judge applicants), which usually "
            "matters most. Run the comparison with <code>--ensemble</code> and a calibration's "
            "<code>posterior.toml</code> to see it.</li>"
        )
    else:
        e = c.ensemble
        mechanisms = (
            "<li><b>What we do not know about the mechanisms</b>: every scenario ran with each "
            f"of the {e['members']} parameter sets of {html.escape(str(e['file']))} (the "
            "calibration's posterior ensemble: every set the targets do not rule out); the "
            "range holds 95 % of their averages. It does not shrink with more runs.</li>"
        )
    return (
        "<p>Each number comes with three 95 % ranges, which mean different things:</p><ul>"
        f"{mechanisms}"
        f"<li><b>Chance in one real cohort</b> of {sizes} participants: where a single "
        "municipality's cohort would land, from the spread of single runs around their average."
        "</li><li><b>Simulation precision</b>: how closely the runs pin down their own "
        "average (the Monte Carlo error); it narrows with more runs and says nothing about the "
        "world.</li></ul><p>A difference is called clear when its range for the mechanisms "
        "excludes zero (without a posterior, when the simulation's interval does).</p>"
    )


def write_report(
    comparison: Comparison,
    path: str | Path,
    manifest: Mapping[str, Any] | None = None,
    caveats: Sequence[Caveat] | None = None,
) -> Path:
    """Write the comparison report as one self-contained HTML file, atomically.

    Args:
        comparison: The result of :func:`introsim.experiments.compare.compare`.
        path: Where to write (e.g. ``out/compare/report.html``).
        manifest: Provenance for the footer (see :func:`report_html`).
        caveats: Calibration caveats (see :func:`report_html`).

    Returns:
        The path written.
    """
    target = Path(path)
    write_text(report_html(comparison, manifest, caveats), target)
    return target
