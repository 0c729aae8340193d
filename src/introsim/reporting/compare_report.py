"""The comparison report: one self-contained HTML file with plotly charts.

:func:`write_report` turns a :class:`introsim.experiments.compare.Comparison` into a single
HTML file that opens offline: plotly.js is embedded once, inline, and nothing
is fetched from the network. The report has a plain-words summary, a short
guide to reading it, the table of outcomes with 95 % intervals, six charts
(each in a ``div`` with id ``chart-<section>`` and class ``chart``; see
:data:`SECTIONS`, each in a figure with a text alternative), links to the data files
and a provenance footer.

This module builds the charts and the numbers and words the template
``templates/compare.html.j2`` lays out on the shared page (``base.html.j2``), with
the reports' one theme (:mod:`~introsim.reporting.theme`) and number formats
(:mod:`~introsim.reporting.format`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from markupsafe import Markup
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
    Comparison,
)
from introsim.experiments.statistics import MIN_PEOPLE
from introsim.model.outcomes import COST_PARTS
from introsim.model.state import WEEKS_12M, WEEKS_24M, WEEKS_60M
from introsim.output import write_text
from introsim.params.text import visible
from introsim.reporting import ledger_report
from introsim.reporting.format import (
    MECHANISMS_RANGE,
    SIMULATION_ONLY,
    decisive_range,
    excludes_zero,
    format_diff,
    format_interval,
    format_number,
    format_value,
    is_number,
    plot_text,
    unit_of,
    words_interval,
    wrap,
)
from introsim.reporting.html import chart_html, provenance, render
from introsim.reporting.theme import COST_STYLE, STATUS_ORDER, STATUS_STYLE, colour, layout, rgba

if TYPE_CHECKING:
    from introsim.params.calibration_file import Caveat

__all__ = ["SECTIONS", "report_html", "verdict", "write_report"]

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
    if diff is None or not is_number(diff) or not excludes_zero(low, high) or name not in INFO:
        return "unclear"
    return "better" if (diff > 0) == INFO[name].higher_is_better else "worse"


# --------------------------------------------------------------------------- charts
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
        line_colour = colour(i)
        title = wrap(c.title(name))
        weeks = d["week"].to_numpy()
        band_x = np.concatenate([weeks, weeks[::-1]])
        band_y = 100 * np.concatenate([d["ci_high"].to_numpy(), d["ci_low"].to_numpy()[::-1]])
        fig.add_trace(
            go.Scatter(
                x=band_x,
                y=band_y,
                fill="toself",
                fillcolor=rgba(line_colour, 0.22),
                line={"width": 0},
                hoverinfo="skip",
                legendgroup=name,
                showlegend=False,
                name=f"{title} 95 % interval, {SIMULATION_ONLY}",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=weeks,
                y=100 * d["mean"].to_numpy(),
                mode="lines",
                line={"color": line_colour, "width": 2.5, "dash": ("solid", "dash", "dot")[i % 3]},
                name=title,
                legendgroup=name,
                customdata=100 * d[["ci_low", "ci_high"]].to_numpy(),
                hovertemplate="week %{x}: %{y:.1f} % in work "
                f"(95 %, {SIMULATION_ONLY}: " + "%{customdata[0]:.1f} to %{customdata[1]:.1f})",
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
    return layout(fig, 480, hovermode="x unified")


def _status_chart(c: Comparison) -> go.Figure:
    # One panel per row: side by side they are too narrow on a phone.
    n = len(c.names)
    fig = make_subplots(
        rows=n,
        cols=1,
        shared_xaxes=True,
        subplot_titles=[wrap(c.title(name), 48) for name in c.names],
        vertical_spacing=0.28 / n,
    )
    series = [s for s in STATUS_ORDER if s in set(c.weekly["series"])]
    for i, name in enumerate(c.names):
        d = c.weekly[c.weekly["scenario"] == name]
        for status in series:
            s = d[d["series"] == status]
            label, fill = STATUS_STYLE[status]
            fig.add_trace(
                go.Scatter(
                    x=s["week"],
                    y=100 * s["mean"].fillna(0.0),
                    name=label,
                    legendgroup=status,
                    showlegend=i == 0,
                    stackgroup=f"s{i}",
                    mode="lines",
                    line={"width": 0.5, "color": fill},
                    fillcolor=fill,
                    hovertemplate=f"{label}: %{{y:.1f}} %<extra>{plot_text(c.title(name))}, "
                    "week %{x}</extra>",
                ),
                row=i + 1,
                col=1,
            )
        fig.update_yaxes(range=[0, 100], title_text="%", row=i + 1, col=1)
    fig.update_xaxes(title_text="weeks since the cohort's start", row=n, col=1)
    fig.update_annotations(font_size=12)
    fig = layout(fig, 240 * n + 200)
    fig.update_layout(legend={"y": -80 / (240 * n), "yanchor": "top"}, margin={"b": 170})
    return fig


def _distribution_chart(c: Comparison) -> go.Figure:
    # One outcome per row, with short titles: labels side by side overlap on a phone.
    titles = [
        f"{SHORT_LABELS.get(o, INFO[o].label)} ({'%' if unit_of(o) == 'share' else unit_of(o)})"
        for o in DISTRIBUTION_OUTCOMES
    ]
    rows = len(DISTRIBUTION_OUTCOMES)
    fig = make_subplots(rows=rows, cols=1, subplot_titles=titles, vertical_spacing=0.09)
    rep = c.replicates
    for k, outcome in enumerate(DISTRIBUTION_OUTCOMES):
        scale = 100.0 if unit_of(outcome) == "share" else 1.0
        for i, name in enumerate(c.names):
            v = rep[(rep["scenario"] == name) & (rep["outcome"] == outcome)]
            title = wrap(c.title(name))
            fig.add_trace(
                go.Box(
                    x=scale * v["value"].to_numpy(dtype=float),
                    y=[title] * len(v),
                    orientation="h",
                    name=title,
                    legendgroup=name,
                    showlegend=k == 0,
                    marker={"color": colour(i), "size": 5, "opacity": 0.7},
                    line={"color": colour(i)},
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
    fig = layout(fig, 190 * rows + 120, boxmode="overlay")
    fig.update_layout(legend={"y": -0.06, "yanchor": "top"}, margin={"b": 90})
    return fig


def _costs_chart(c: Comparison) -> go.Figure:
    fig = go.Figure()
    titles = [wrap(c.title(name), 24) for name in c.names]
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
    fig = layout(fig, 480, barmode="stack")
    fig.update_layout(legend={"y": -0.28, "traceorder": "normal"}, margin={"b": 120})
    return fig


def _value_chart(c: Comparison) -> go.Figure:
    """Extra cost per extra person-year in work, or the words that replace it."""
    fig = go.Figure()
    for i, name in enumerate(c.names[1:], start=1):
        title = wrap(c.title(name), 24)
        row = c.row(name, COST) or {}
        est, lo, hi = row.get("diff"), row.get("diff_low"), row.get("diff_high")
        status = row.get("status") or "no clear gain"
        if status == "ratio" and is_number(est) and is_number(lo) and is_number(hi):
            fig.add_trace(
                go.Bar(
                    x=[title],
                    y=[est],
                    marker_color=colour(i),
                    showlegend=False,
                    error_y={
                        "type": "data",
                        "array": [hi - est],
                        "arrayminus": [est - lo],
                        "color": "#333",
                    },
                    hovertemplate=f"{format_number(COST, est)} NOK per extra person-year "
                    f"in work (95 %, {SIMULATION_ONLY}: {format_number(COST, lo)} to "
                    f"{format_number(COST, hi)})<extra></extra>",
                )
            )
        else:
            fig.add_trace(go.Bar(x=[title], y=[0], showlegend=False, hoverinfo="skip"))
            mark = {"dominant": "✓ ", "dominated": "✗ "}.get(status, "")
            fig.add_annotation(
                x=title,
                y=0,
                text=mark + wrap(STATUS_TEXT.get(status, status), 18),
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
    return layout(fig, 420, showlegend=False)


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
                    name=wrap(c.title(name)),
                    legendgroup=name,
                    marker_color=colour(i),
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
    fig = layout(
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


# --------------------------------------------------------------------------- words
def _clear_bounds(row: Mapping[str, Any]) -> tuple[Any, Any]:
    """The range that decides "clearly": the mechanisms' where the runs span a posterior."""
    return decisive_range(row)[:2]


def _labelled(name: str, low: Any, high: Any, kind: str) -> str:
    """A 95 % interval in words with its kind: ``95 %, simulation only: 8.9 to 10.4``."""
    return f"95 %, {kind}: {words_interval(name, low, high)}"


def _kinds_words(c: Comparison, row: Mapping[str, Any], size: int) -> str:
    """The three kinds of uncertainty about a difference, each named in plain words."""
    outcome = str(row["outcome"])
    if c.ensemble is not None:
        low, high = row["diff_parameter_low"], row["diff_parameter_high"]
        mechanisms = (
            f"{words_interval(outcome, low, high)} "
            f"(95 % of the {c.ensemble['members']} plausible parameter sets)"
        )
    else:
        mechanisms = (
            "not shown (one parameter set; run over a calibration's posterior ensemble to see it)"
        )
    cohort = words_interval(outcome, row["diff_cohort_low"], row["diff_cohort_high"])
    precision = words_interval(outcome, row["diff_low"], row["diff_high"])
    return (
        f"what we do not know about the mechanisms: {mechanisms}; chance in one real cohort of "
        f"{size}: {cohort}; simulation precision: {precision}"
    )


def _direction(name: str, diff: float) -> str:
    """A difference in words: ``9.7 percentage points higher``, ``8 465 NOK lower``."""
    if diff == 0:
        return "no different"
    unit = unit_of(name)
    amount = format_number(name, abs(diff))
    word = "higher" if diff > 0 else "lower"
    if unit == "share":
        return f"{amount} percentage points {word}"
    if unit == "NOK":
        return f"{amount} NOK {word}"
    return f"{amount} {unit} {word}".replace("  ", " ")


def _cost(c: Comparison, name: str) -> dict[str, Any]:
    """The cost sentence's parts: status ("dominant", "ratio", ...) and its numbers."""
    row = c.row(name, COST) or {}
    total = c.row(name, "cost_per_participant_nok") or {}
    td = total.get("diff")
    return {
        "status": str(row.get("status") or "no clear gain"),
        "differs": excludes_zero(*_clear_bounds(total)),
        "amount": format_number("cost_per_participant_nok", abs(td)) if is_number(td) else "–",
        "dearer": "more" if is_number(td) and td > 0 else "less",
        "ratio": format_number(COST, row.get("diff")),
        # Fieller's interval of a ratio of averages: the simulation's precision only.
        "interval": _labelled(COST, row.get("diff_low"), row.get("diff_high"), SIMULATION_ONLY),
    }


def _headline(c: Comparison, name: str) -> dict[str, Any] | None:
    """Extra persons in work at 12 months and extra person-years over the horizon."""
    extra = c.row(name, "extra_employed_12m") or {}
    size = c.cohort_sizes[c.names.index(name)]
    years = c.row(name, EXTRA_YEARS) or {}
    d = extra.get("diff")
    if not is_number(d):
        return None
    y = years.get("diff")
    y_low, y_high, y_kind = decisive_range(years)
    return {
        "is_clear": excludes_zero(*_clear_bounds(extra)),
        "persons": format_number("extra_employed_12m", abs(d)).removesuffix(".0"),
        "persons_round": round(abs(d)),
        "more": "more" if d > 0 else "fewer",
        "kinds": _kinds_words(c, extra, size),
        "years": {
            "amount": format_number(EXTRA_YEARS, abs(y)),
            "way": "more" if y > 0 else "fewer",
            "is_clear": excludes_zero(y_low, y_high),
            "interval": _labelled(EXTRA_YEARS, y_low, y_high, y_kind),
        }
        if is_number(y)
        else None,
    }


def _versus(c: Comparison) -> list[dict[str, Any]]:
    """One summary block per compared scenario: headline, cost and its largest differences."""
    blocks = []
    for name in c.names[1:]:
        ranked = []
        for outcome in HEADLINE_OUTCOMES:
            row = c.row(name, outcome)
            base = _value(c, c.reference, outcome, "mean")
            if row is None or not is_number(row["diff"]) or not is_number(base):
                continue
            rel = abs(row["diff"]) / abs(base) if base != 0 else math.inf
            ranked.append((excludes_zero(*_clear_bounds(row)), rel, outcome, row))
        ranked.sort(key=lambda x: (not x[0], -x[1]))
        bullets = []
        size = c.cohort_sizes[c.names.index(name)]
        for _, _, outcome, row in ranked[:3]:
            few = bool(row.get("few_people", False))
            v = verdict(outcome, row["diff"], *_clear_bounds(row), few)
            nok = unit_of(outcome) == "NOK"
            bullets.append(
                {
                    "cls": {"better": "good", "worse": "bad"}.get(v, "unclear"),
                    "label": INFO[outcome].label,
                    "value": format_value(outcome, row["mean"]),
                    "ref_value": format_value(outcome, _value(c, c.reference, outcome, "mean")),
                    "direction": _direction(outcome, float(row["diff"])),
                    "kinds": _kinds_words(c, row, size),
                    "verdict": v,
                    "few": few,
                    "tag_word": ("cheaper" if v == "better" else "more expensive") if nok else v,
                }
            )
        index = c.names.index(name)
        blocks.append(
            {
                "name": name,
                "title": c.title(name),
                "size": c.cohort_sizes[index],
                "weeks": c.weeks[index],
                "headline": _headline(c, name),
                "cost": _cost(c, name),
                "who_pays": ledger_report.who_pays(c, name),
                "lead": "The largest differences:"
                if any(r[0] for r in ranked)
                else "No clear difference in the main outcomes:",
                "bullets": bullets,
            }
        )
    return blocks


# --------------------------------------------------------------------------- the table
def _caveats(c: Comparison, caveats: Sequence[Caveat]) -> list[dict[str, Any]]:
    """The calibration caveats that concern the compared scenarios, numbered from 1."""
    notes: list[dict[str, Any]] = []
    for cav in caveats:
        affected = [n for n in c.names if n in cav.scenarios]
        if not affected:
            continue
        notes.append(
            {
                "number": len(notes) + 1,
                "target": cav.target,
                "names": affected,
                "titles": [c.title(n) for n in affected],
                "what": [
                    {"text": _label(c, st), "code": False}
                    if st in REPLICATE_OUTCOMES
                    else {"text": st, "code": True}
                    for st in cav.statistics
                ],
                "description": cav.description or cav.target,
                "source": cav.source,
                "scenarios": cav.scenarios,
                "statistics": cav.statistics,
            }
        )
    return notes


def _cell(
    name: str,
    value: float | None,
    low: float | None,
    high: float | None,
    kind: str,
    diff: bool,
    row: Mapping[str, Any],
) -> dict[str, Any]:
    """One number of the outcomes table, with its interval and how it is marked.

    ``low``/``high`` are the range that decides the mark and is shown (:func:`_ranged`), with
    ``kind`` its kind where it must be said. A share resting on too few participants is
    greyed and never a finding.
    """
    v = verdict(name, value, low, high) if diff else "unclear"
    strong = diff and name in COMPARISON_OUTCOMES and excludes_zero(low, high)
    people = row.get("people")
    return {
        "text": format_diff(name, value) if diff else format_value(name, value),
        "interval": " ".join(x for x in (format_interval(name, low, high, diff), kind) if x)
        if is_number(low) and is_number(high)
        else "",
        "people": f"{people:.0f}" if is_number(people) and not diff else "",
        "few": bool(row.get("few_people", False)),
        "verdict": v,
        "marked": v in MARKS and not strong,
        "cls": "strong" if strong else {"better": "good", "worse": "bad"}.get(v, ""),
    }


def _ranged(c: Comparison, row: Mapping[str, Any], difference: bool) -> tuple[Any, Any, str]:
    """A table cell's deciding range and the kind to print next to it.

    The kind is printed only where it is not the one the table's note names: an interval
    that is the simulation's only in a table of mechanisms' ranges.
    """
    low, high, kind = decisive_range(row, difference)
    return low, high, kind if c.ensemble is not None and kind == SIMULATION_ONLY else ""


def _rows(c: Comparison, notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the outcomes table: each scenario's mean, then each difference."""
    by_outcome: dict[str, list[int]] = {}
    for note in notes:
        for stat in note["statistics"]:
            by_outcome.setdefault(stat, []).append(note["number"])
    rows = []
    for outcome in c.table_outcomes()[0]:
        cells: list[dict[str, Any]] = []
        for name in c.names:
            r = c.row(name, outcome) or {}
            cells.append(_cell(outcome, r.get("mean"), *_ranged(c, r, False), False, r))
        for name in c.names[1:]:
            r = c.row(name, outcome) or {}
            cells.append(_cell(outcome, r.get("diff"), *_ranged(c, r, True), True, r))
        rows.append(
            {
                "outcome": outcome,
                "label": _label(c, outcome),
                "kind": "cost" if outcome in COST_PARTS else "",
                "caveats": by_outcome.get(outcome, []),
                "cells": cells,
            }
        )
    for outcome in COMPARISON_OUTCOMES:
        cells = [{"empty": True} for _ in c.names]
        for name in c.names[1:]:
            r = c.row(name, outcome) or {}
            status = str(r.get("status") or "")
            if outcome in RATIOS and status != "ratio":
                cells.append({"status": status or "no clear gain"})
            else:
                cells.append(_cell(outcome, r.get("diff"), *_ranged(c, r, True), True, r))
        rows.append(
            {
                "outcome": outcome,
                "label": INFO[outcome].label,
                "kind": "comparison",
                "caveats": by_outcome.get(outcome, []),
                "cells": cells,
            }
        )
    return rows


def _brackets_note(c: Comparison) -> str:
    """What the intervals in the outcomes and payers' tables are, by kind."""
    if c.ensemble is None:
        return (
            f"[ ]: 95 % interval, {SIMULATION_ONLY}: it covers the simulation's randomness "
            "(the Monte Carlo error of the average), not what we do not know about the "
            "mechanisms, which these runs over one parameter set do not show."
        )
    return (
        f"[ ]: 95 % {MECHANISMS_RANGE}: 95 % of the {c.ensemble['members']} plausible "
        "parameter sets give an average in this range; it decides ✓ and ✗. An interval "
        f"marked '{SIMULATION_ONLY}' (a ratio's Fieller interval) covers the simulation's "
        "randomness alone."
    )


def _table_notes(c: Comparison) -> list[str]:
    """The notes under the outcomes table: what n is, the greyed cells, unpaired differences."""
    notes = [_brackets_note(c)]
    notes.append(
        "n: the participants a share rests on in one run (those who reached its horizon); "
        "comparison.csv has the number over all replicates."
    )
    if c.table["few_people"].astype(bool).any():
        notes.append(
            f"‡ greyed: rests on fewer than {MIN_PEOPLE} participants per run, so it is not a "
            "finding whatever its interval (lengthen the horizon or the intake's reach)."
        )
    for i, name in enumerate(c.names[1:], start=1):
        if not c.is_paired(name):
            notes.append(
                f"{name} − {c.reference}: unpaired (they differ in {c.unpaired[i]}), "
                "Welch's interval."
            )
    return notes


def _pairing(c: Comparison) -> list[str]:
    """Why scenarios' runs cannot be paired with the reference's (empty when all are)."""
    from introsim.experiments.compare import unpaired_text

    return [
        unpaired_text(c.reference, name, c.unpaired[i])
        for i, name in enumerate(c.names)
        if i > 0 and not c.is_paired(name)
    ]


def _label(c: Comparison, outcome: str) -> str:
    row = c.row(c.reference, outcome)
    if row is not None:
        return str(row["label"])
    return INFO[outcome].label if outcome in INFO else outcome


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
        f"per scenario with its 95 % band ({SIMULATION_ONLY}). At week {at}: {shares}."
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


FILES: tuple[tuple[str, str], ...] = (
    (COMPARISON_FILE, "the table above, one row per scenario and outcome"),
    (CSV_FILES["replicates.parquet"], "every replicate's outcomes, one row per value"),
    (CSV_FILES["weekly.parquet"], "the weekly shares behind charts 1 and 2"),
    (CSV_FILES["subgroups.parquet"], "the subgroup results behind chart 6"),
)
"""The data files written next to the report, linked from it."""


def _sections(c: Comparison) -> list[dict[str, Any]]:
    """Each chart section: its number's title, the words above the chart and the chart."""
    ref = c.title(c.reference)
    horizon = " or ".join(str(w) for w in sorted(set(c.weeks)))
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
    value_lead = Markup(
        "The difference in cost per participant divided by the difference in years in work "
        "per participant, both over the same {horizon} weeks, against {ref}, with its 95 % "
        "interval (Fieller's method; simulation only). A scenario that is clearly cheaper and "
        "clearly gets more people into work is <b>dominant</b> (✓): no cost per person-year "
        "is needed to prefer it; one that is dearer and worse is <b>dominated</b> (✗); "
        "'clearly', as everywhere here, by the mechanisms' range where the runs span a "
        "posterior ensemble. The table "
        "also gives the cost per extra person in work at 12 months; it divides the whole "
        "horizon's cost by a 12-month effect, so it makes policies whose effect comes "
        "later look dearer."
    ).format(horizon=horizon, ref=visible(ref))
    text = {
        "employment": (
            "Share in work, week by week",
            "The share of participants in work (ordinary or subsidised), averaged over "
            "replicates; the shaded band around each line is the 95 % interval of that average, "
            f"{SIMULATION_ONLY}: how precisely the runs pin it down, not what we do not know "
            "about the mechanisms. "
            "The dotted lines mark 1, 2 and 5 years." + kink,
        ),
        "status": (
            "What participants are doing over time",
            "Each panel is one scenario: the average share of participants in each status, "
            "stacked to 100 %."
            + (
                " The programme's end shows as the drop in the grey 'in the programme' area."
                if end
                else ""
            ),
        ),
        "distribution": (
            "How much results vary from run to run",
            "Each dot is one replicate (one simulated cohort); boxes show the middle half and "
            "the median. Because replicate r has the same cohort and random draws in every "
            "scenario, differences within a replicate are smaller than the spread suggests.",
        ),
        "costs": (
            "Costs to the public purse",
            "Cost per participant over the whole horizon, split into specialists and advisors "
            "(patterned dark grey), wage subsidy paid (hatched) and introduction benefit paid "
            "(dotted light grey).",
        ),
        "value": ("Extra cost per extra person-year in work", value_lead),
        "payers": (ledger_report.SECTION_TITLE, ledger_report.SECTION_LEAD),
        "subgroups": (
            "For whom: results by subgroup",
            "Average share in work at 12 months within each subgroup, with 95 % intervals "
            f"({SIMULATION_ONLY}); "
            "use the menu above the chart to switch to work or education when leaving the "
            "programme. Small subgroups have wide intervals.",
        ),
    }
    charts = {
        "employment": _employment_chart,
        "status": _status_chart,
        "distribution": _distribution_chart,
        "costs": _costs_chart,
        "value": _value_chart,
        "subgroups": _subgroup_chart,
        "payers": ledger_report.flows_chart,
    }
    alts = _alt_texts(c)
    return [
        {
            "id": key,
            "title": text[key][0],
            "lead": text[key][1],
            "chart": chart_html(charts[key](c), key, alts[key]),
        }
        for key in SECTIONS
    ]


def _facts(c: Comparison, manifest: dict[str, Any]) -> list[str]:
    """The footer's provenance, with the replicates before the time it was generated."""
    facts = provenance(manifest)
    facts.insert(len(facts) - 1, f"{c.replications} replicates per scenario")
    return facts


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
            ``calibration/targets.toml`` (``calibration_file.default_caveats``).

    Returns:
        The HTML text, with plotly.js inline.
    """
    from introsim.params.calibration_file import default_caveats

    c = comparison
    notes = _caveats(c, default_caveats() if caveats is None else caveats)
    by_scenario: dict[str, list[int]] = {n: [] for n in c.names}
    for note in notes:
        for n in note["names"]:
            by_scenario[n].append(note["number"])
    others = [c.title(n) for n in c.names[1:]]
    compared = others[0] if len(others) == 1 else ", ".join(others[:-1]) + " and " + others[-1]
    m = dict(manifest or {})
    m.setdefault("root_seed", c.root_seed)
    paths = {s.get("name"): s.get("path") for s in m.get("scenarios", []) if isinstance(s, dict)}
    return render(
        "compare.html.j2",
        c=c,
        ref=c.title(c.reference),
        compared=compared,
        cohort=" or ".join(str(s) for s in sorted(set(c.cohort_sizes))),
        horizon=" or ".join(str(w) for w in sorted(set(c.weeks))),
        versus=_versus(c),
        columns=[
            {"title": c.title(n), "colour": colour(i), "caveats": by_scenario[n]}
            for i, n in enumerate(c.names)
        ],
        rows=_rows(c, notes),
        table_notes=_table_notes(c),
        pairing=_pairing(c),
        payers=ledger_report.payer_rows(c),
        caveats=notes,
        marks=MARKS,
        status_text=STATUS_TEXT,
        sections=_sections(c),
        files=FILES,
        facts=_facts(c, m),
        scenarios=[
            {"name": n, "title": c.description(n), "path": paths.get(n), "digest": d}
            for n, d in zip(c.names, c.digests, strict=True)
        ],
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
