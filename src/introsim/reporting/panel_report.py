"""The panel report: why municipalities differ, and what each could gain.

One self-contained HTML file: the answers in plain words, a funnel plot of each
municipality's expected share against its number of finishers with binomial
control limits around the national level (observed results overlaid when the
panel names them), the municipalities reaching the targets, the variance
decomposition of the spread between municipalities, a ranked plot of each
municipality's gain under each policy, and the table of every municipality.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from introsim.experiments.panel import (
    AFTER_12M,
    AT_EXIT,
    FUNNEL_LEVELS,
    GROUPS,
    SHARES,
    WHEN,
    PanelResult,
    funnel_limits,
    headline,
)
from introsim.output import write_text
from introsim.reporting.format import format_share
from introsim.reporting.html import chart_html, provenance, render
from introsim.reporting.theme import colour, layout, rgba

__all__ = ["SECTIONS", "report_html", "write_report"]

SECTIONS: tuple[str, ...] = ("funnel", "decomposition", "gains")
"""The report's chart sections, in order (each chart's id is ``chart-SECTION``)."""
OUTCOME_WORDS = {
    AT_EXIT: "in work or education at exit",
    AFTER_12M: "in work or education 12 months after exit",
}
PART_WORDS = {
    "composition": "composition of the intake",
    "labour market": "local labour market",
    "practice": "programme practice",
    "other": "other differences between municipalities",
    "chance": "chance (cohort size)",
    "total": "all: one year's spread",
    "context": "context: composition and labour market",
}


def _pct(x: float, digits: int = 0) -> str:
    return format_share(x, digits) if x == x else "–"


def _interval(low: float, high: float, digits: int = 0) -> str:
    if not (low == low and high == high):
        return ""
    return f"[{100 * low:.{digits}f}, {100 * high:.{digits}f}]"


def _points(x: float) -> str:
    return f"{100 * x:+.1f} pp" if x == x else "–"


def _funnel_chart(result: PanelResult) -> go.Figure:
    """Share at exit against finishers, with the 95 % and 99.8 % limits around the nation."""
    ref = result.table[result.table["policy"] == result.spec.names[0]]
    o = AT_EXIT
    n = ref[f"finishers_{o}"].to_numpy(dtype=float)
    y = ref[o].to_numpy(dtype=float)
    p0 = result.funnel[o]["national"]
    fig = go.Figure()
    grid = np.unique(np.geomspace(max(1.0, np.nanmin(n)), max(2.0, np.nanmax(n)), 200).round())
    for level, dash in zip(FUNNEL_LEVELS, ("dash", "dot"), strict=True):
        low, high = funnel_limits(p0, grid, level)
        for k, (limit, show) in enumerate(((low, True), (high, False))):
            fig.add_trace(
                go.Scatter(
                    x=grid,
                    y=100 * limit,
                    mode="lines",
                    line={"color": "#555", "dash": dash, "width": 1},
                    name=f"{100 * level:g} % limits",
                    legendgroup=f"l{level}",
                    showlegend=show and k == 0,
                    hoverinfo="skip",
                )
            )
    fig.add_hline(y=100 * p0, line={"color": "#555", "width": 1})
    fig.add_trace(
        go.Scatter(
            x=n,
            y=100 * y,
            mode="markers",
            marker={"color": rgba(colour(0), 0.7), "size": 7},
            name="expected share (model)",
            text=ref["municipality_name"],
            hovertemplate="%{text}: %{y:.0f} % of %{x:.0f} finishers<extra></extra>",
        )
    )
    # One simulated year (the first replicate): what a year's published results would look like.
    year = result.values[o][:, 0, 0, 0]
    year_n = result.values[f"people_{o}"][:, 0, 0, 0]
    fig.add_trace(
        go.Scatter(
            x=year_n,
            y=100 * year,
            mode="markers",
            marker={"color": rgba(colour(2), 0.6), "size": 6, "symbol": "circle-open"},
            name="one simulated year",
            visible="legendonly",
            text=ref["municipality_name"],
            hovertemplate="%{text}: %{y:.0f} % of %{x:.0f} (one simulated year)<extra></extra>",
        )
    )
    obs = [
        r
        for r in result.spec.observed
        if r.finishers is not None and r.share_work_or_education_at_exit is not None
    ]
    if obs:
        fig.add_trace(
            go.Scatter(
                x=[r.finishers for r in obs],
                y=[100 * (r.share_work_or_education_at_exit or 0.0) for r in obs],
                mode="markers",
                marker={"color": colour(1), "size": 8, "symbol": "diamond"},
                name="observed (comparison only)",
                text=[r.municipality_name for r in obs],
                hovertemplate="%{text}: observed %{y:.0f} % of %{x:.0f}<extra></extra>",
            )
        )
    fig.update_xaxes(type="log", title_text="finishers in the year (log scale)")
    fig.update_yaxes(title_text="share in work or education at exit (%)", range=[0, 100])
    return layout(fig, 480)


def _decomposition_chart(result: PanelResult) -> go.Figure:
    """One stacked bar per share: each part's share of the spread between municipalities."""
    d = result.decomposition
    fig = go.Figure()
    parts = [*GROUPS, "other", "chance"]
    labels = ["at exit", "12 months after"]
    for j, part in enumerate(parts):
        rows = [d[(d["outcome"] == o) & (d["part"] == part)].iloc[0] for o in SHARES]
        fig.add_trace(
            go.Bar(
                y=labels,
                x=[100 * r["share"] for r in rows],
                orientation="h",
                name=PART_WORDS[part],
                marker={"color": colour(j) if part != "other" else "#bbbbbb"},
                hovertemplate=f"{PART_WORDS[part]}: %{{x:.0f}} %<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text="share of the spread (%)", range=[0, 100])
    return layout(fig, 380, legend={"orientation": "h", "y": -0.35, "x": 0})


def _gains_chart(result: PanelResult) -> go.Figure:
    """Each policy's gain at exit, municipalities ranked by it, with the simulation's interval."""
    t = result.table
    fig = go.Figure()
    o = AT_EXIT
    for j, name in enumerate(result.spec.names[1:], start=1):
        g = t[t["policy"] == name].sort_values(f"gain_{o}").reset_index(drop=True)
        gain = g[f"gain_{o}"].to_numpy(dtype=float)
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(g) + 1),
                y=100 * gain,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": 100 * (g[f"gain_{o}_high"].to_numpy(dtype=float) - gain),
                    "arrayminus": 100 * (gain - g[f"gain_{o}_low"].to_numpy(dtype=float)),
                    "thickness": 1,
                    "width": 0,
                },
                mode="markers",
                marker={"color": colour(j), "size": 5},
                name=f"{name} minus {result.spec.names[0]}",
                text=g["municipality_name"],
                hovertemplate="%{text}: %{y:+.1f} pp<extra></extra>",
            )
        )
    fig.add_hline(y=0, line={"color": "#555", "width": 1})
    fig.update_xaxes(title_text="municipalities, ranked by their gain")
    fig.update_yaxes(title_text="gain at exit (percentage points)")
    return layout(fig, 460)


def headlines(result: PanelResult) -> list[str]:
    """The answers in plain words, each with its interval."""
    spec = result.spec
    h = headline(result)
    out = []
    for o in SHARES:
        x = h[o]
        out.append(
            f"Share {OUTCOME_WORDS[o]}: one year's results spread between municipalities by "
            f"{x['total_sd_points']:.1f} percentage points (standard deviation). Context (intake "
            f"and local labour market) explains {_pct(x['context_share'])} of that spread "
            f"{_pair(x['context_simulation'])}, chance {_pct(x['chance_share'])} "
            f"{_pair(x['chance_simulation'])}, programme practice "
            f"{_pct(x['practice_share'])} {_pair(x['practice_simulation'])} within the ranges "
            "assumed for it (95 % intervals: the simulation's precision)."
        )
    r = result.reached
    for name in spec.names:
        row = r[(r["policy"] == name) & (r["outcome"] == AT_EXIT)].iloc[0]
        extra = (
            f"; {row['newly_reaching']} {_counts(row, 'newly')} of them do not under "
            f"{spec.names[0]}"
            if name != spec.names[0]
            else ""
        )
        out.append(
            f"Under {name}, {row['reaching']} {_counts(row, 'simulation')} of "
            f"{row['municipalities']} municipalities are expected to reach "
            f"{100 * row['target']:.0f} % at exit{_mech(row)}{extra}. In one year's results, "
            f"chance included, about {_one_year(row)} would (95 % intervals: the simulation's "
            "precision, and chance for one year)."
        )
    return out


def _pair(pair: list[float]) -> str:
    return _interval(pair[0], pair[1])


def _one_year(row: Mapping[str, Any]) -> str:
    low, high = row["one_year_low"], row["one_year_high"]
    return f"{row['one_year_expected']:.0f} [{low:.0f}, {high:.0f}]"


def _counts(row: Mapping[str, Any], kind: str) -> str:
    low, high = row[f"{kind}_low"], row[f"{kind}_high"]
    return f"[{low:.0f}, {high:.0f}]" if low == low and high == high else ""


def _mech(row: Mapping[str, Any]) -> str:
    found = _counts(row, "mechanisms")
    return f", {found} over the plausible mechanisms" if found else ""


def _reached_rows(result: PanelResult) -> list[dict[str, str]]:
    rows = []
    for r in result.reached.to_dict("records"):
        rows.append(
            {
                "policy": r["policy"],
                "target": f"{100 * r['target']:.0f} % {WHEN[r['outcome']]}",
                "reaching": f"{r['reaching']} of {r['municipalities']}",
                "simulation": _counts(r, "simulation"),
                "mechanisms": _counts(r, "mechanisms"),
                "one_year": _one_year(r),
            }
        )
    return rows


def _decomposition_rows(result: PanelResult) -> list[dict[str, str]]:
    rows = []
    for r in result.decomposition.to_dict("records"):
        rows.append(
            {
                "outcome": WHEN[r["outcome"]],
                "part": PART_WORDS[r["part"]],
                "sd": f"{r['sd_points']:.1f}",
                "share": _pct(r["share"]),
                "simulation": _interval(r["simulation_low"], r["simulation_high"]),
                "mechanisms": _interval(r["mechanisms_low"], r["mechanisms_high"]),
            }
        )
    return rows


def _municipality_rows(result: PanelResult) -> list[dict[str, str]]:
    t = result.table
    names = result.spec.names
    ref = t[t["policy"] == names[0]].reset_index(drop=True)
    others = {n: t[t["policy"] == n].reset_index(drop=True) for n in names[1:]}
    rows = []
    for i, r in ref.iterrows():
        row = {
            "name": str(r["municipality_name"]),
            "county": str(r["county_name"]),
            "finishers": f"{r[f'finishers_{AT_EXIT}']:.0f}",
        }
        for o, key in ((AT_EXIT, "exit"), (AFTER_12M, "after")):
            row[key] = _pct(r[o])
            row[f"{key}_chance"] = _interval(r[f"{o}_chance_low"], r[f"{o}_chance_high"])
            row[f"{key}_sim"] = _interval(r[f"{o}_simulation_low"], r[f"{o}_simulation_high"], 1)
            row[f"{key}_mech"] = _interval(r[f"{o}_mechanisms_low"], r[f"{o}_mechanisms_high"])
        row["gains"] = " · ".join(
            f"{n}: {_points(g.loc[i, f'gain_{AT_EXIT}'])}, "
            f"{g.loc[i, 'extra_cost_per_participant_nok'] / 1000:+,.0f}k NOK"
            for n, g in others.items()
        )
        rows.append(row)
    return rows


def report_html(result: PanelResult, manifest: Mapping[str, Any] | None = None) -> str:
    """Render a panel's report as one self-contained HTML document."""
    spec = result.spec
    sections = [
        {
            "id": "funnel",
            "title": "Funnel plot: expected shares against the number of finishers",
            "lead": f"Each dot is a municipality's expected share under {spec.names[0]}; the "
            "lines are binomial control limits around the national level (95 % and 99.8 %): "
            "a municipality with the national level's true share lands outside the 95 % "
            "limits by chance alone one year in twenty. Small municipalities spread widely "
            "by chance alone: click 'one simulated year' in the legend to see one year's "
            "results as they would be published.",
            "html": chart_html(
                _funnel_chart(result),
                "funnel",
                "Funnel plot of each municipality's expected share at exit against its finishers.",
            ),
        },
        {
            "id": "decomposition",
            "title": "Why results differ: a variance decomposition",
            "lead": "The spread of one year's results between municipalities, split into what "
            "their context, their practice and chance explain (method below).",
            "html": chart_html(
                _decomposition_chart(result),
                "decomposition",
                "Stacked bars of each part's share of the spread between municipalities.",
            ),
        },
        {
            "id": "gains",
            "title": "What each municipality could gain",
            "lead": "Each policy's gain at exit over "
            f"{spec.names[0]} in every municipality, ranked; bars are the simulation's 95 % "
            "intervals (paired runs with the same random numbers).",
            "html": chart_html(
                _gains_chart(result),
                "gains",
                "Ranked dot plot of each municipality's gain at exit under each policy.",
            ),
        },
    ]
    return render(
        "panel.html.j2",
        spec=spec,
        result=result,
        headlines=headlines(result),
        sections=sections,
        reached=_reached_rows(result),
        decomposition=_decomposition_rows(result),
        municipalities=_municipality_rows(result),
        national={o: _pct(result.funnel[o]["national"]) for o in SHARES},
        facts=provenance(manifest),
        ensemble=result.ensemble,
    )


def write_report(
    result: PanelResult, path: str | Path, manifest: Mapping[str, Any] | None = None
) -> Path:
    """Write the panel report as one self-contained HTML file, atomically."""
    target = Path(path)
    write_text(report_html(result, manifest), target)
    return target
