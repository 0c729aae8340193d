"""The trial report: one self-contained HTML file of an in-silico trial.

It opens with a plain-words recommendation (how many participants a trial
needs, which analysis to trust), then power curves with intervals for each
estimator and design, estimates against the truth known inside the model
(showing per-protocol's selection bias), and a table of every number.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from introsim.experiments.trial import (
    ESTIMATOR_LABELS,
    ESTIMATORS,
    TARGET_POWER,
    TrialResult,
    needed_band_text,
    needed_text,
)
from introsim.model.outcomes import OUTCOME_INFO
from introsim.output import write_text
from introsim.reporting.format import format_diff, format_interval, format_share, format_value
from introsim.reporting.html import chart_html, provenance, render
from introsim.reporting.theme import colour, layout

__all__ = ["report_html", "write_report"]

DESIGN_LABELS = {
    "individual": "Individual randomisation",
    "cluster": "Cluster randomisation (whole sites)",
}


def _pct(x: float) -> str:
    return format_share(x, digits=0)


def _pct_interval(low: float, high: float) -> str:
    return (
        f"[{format_share(low, 0).removesuffix(' %')}, {format_share(high, 0).removesuffix(' %')}]"
    )


def _panels(result: TrialResult, rows: Any) -> tuple[go.Figure, list[str]]:
    """One panel per design the rows hold, in the trial file's order."""
    designs: list[str] = [d for d in result.spec.meta.designs if d in set(rows["design"])]
    fig = make_subplots(
        rows=1,
        cols=len(designs),
        subplot_titles=[DESIGN_LABELS[d] for d in designs],
        shared_yaxes=True,
        horizontal_spacing=0.06,
    )
    return fig, designs


def _curves(
    result: TrialResult, column: str, low: str, high: str, scale: float, suffix: str = ""
) -> tuple[go.Figure, list[str]]:
    """One panel per design, one line per estimator: ``column`` by n with error bars."""
    pw = result.power
    fig, designs = _panels(result, pw)
    for col, design in enumerate(designs, 1):
        for i, est in enumerate(ESTIMATORS):
            g = pw[(pw["design"] == design) & (pw["estimator"] == est)].sort_values("n")
            # For estimates the bars are the bias's interval, which is the mean's, shifted.
            centre = g["power"] if column == "power" else g["bias"]
            fig.add_trace(
                go.Scatter(
                    x=g["n"],
                    y=scale * g[column],
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": scale * (g[high] - centre),
                        "arrayminus": scale * (centre - g[low]),
                    },
                    mode="lines+markers",
                    name=ESTIMATOR_LABELS[est] + suffix,
                    legendgroup=est,
                    showlegend=col == 1,
                    line={"color": colour(i), "dash": "dot" if est == "per_protocol" else None},
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="participants per trial (n)", row=1, col=col)
    return fig, designs


def _power_chart(result: TrialResult) -> go.Figure:
    fig, designs = _curves(result, "power", "power_low", "power_high", 100.0)
    for col in range(1, len(designs) + 1):
        fig.add_hline(y=100 * TARGET_POWER, line={"color": "#777", "dash": "dash"}, row=1, col=col)
    fig.update_yaxes(title_text="power (%)", range=[0, 102], row=1, col=1)
    return layout(fig, 440, legend={"orientation": "h", "y": -0.25, "x": 0})


def _member_chart(result: TrialResult) -> go.Figure:
    """ITT power across ensemble members: the band of the central 95 %, the average, the file's."""
    m = result.members
    assert m is not None
    bands = m.bands()
    bands = bands[bands["estimator"] == "itt"]
    fig, designs = _panels(result, bands)
    own = result.power[result.power["estimator"] == "itt"]
    for col, design in enumerate(designs, 1):
        g = bands[bands["design"] == design].sort_values("n")
        fig.add_trace(
            go.Scatter(
                x=[*g["n"], *g["n"][::-1]],
                y=[*(100 * g["power_high"]), *(100 * g["power_low"])[::-1]],
                fill="toself",
                fillcolor="rgba(31, 119, 180, 0.18)",
                line={"width": 0},
                hoverinfo="skip",
                name=f"central 95 % of the {m.size} plausible parameter sets",
                legendgroup="band",
                showlegend=col == 1,
            ),
            row=1,
            col=col,
        )
        o = own[own["design"] == design].sort_values("n")
        for x, y, name, line in (
            (g["n"], g["power_mean"], "average over them", {"color": colour(0)}),
            (o["n"], o["power"], "the parameters as written", {"color": "#555", "dash": "dot"}),
        ):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=100 * y,
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    line=line,
                ),
                row=1,
                col=col,
            )
        fig.add_hline(y=100 * TARGET_POWER, line={"color": "#777", "dash": "dash"}, row=1, col=col)
        fig.update_xaxes(title_text="participants per trial (n)", row=1, col=col)
    fig.update_yaxes(title_text="ITT power (%)", range=[0, 102], row=1, col=1)
    return layout(fig, 440, legend={"orientation": "h", "y": -0.25, "x": 0})


def _estimate_chart(result: TrialResult) -> go.Figure:
    t = result.truths
    outcome = OUTCOME_INFO[result.spec.meta.outcome]
    scale = 100.0 if outcome.unit == "share" else 1.0
    fig, designs = _curves(
        result, "mean_estimate", "bias_low", "bias_high", scale, ": mean estimate"
    )
    for col in range(1, len(designs) + 1):
        for name, value, dash in (
            ("true ITT effect", t["itt"], "dash"),
            ("compliers' true effect", t["cace"], "solid"),
        ):
            fig.add_hline(
                y=scale * value,
                line={"color": "#555", "dash": dash, "width": 1},
                annotation_text=name,
                annotation_position="top left",
                row=1,
                col=col,
            )
    unit = "percentage points" if scale == 100.0 else outcome.unit
    fig.update_yaxes(title_text=f"estimated effect ({unit})", row=1, col=1)
    return layout(fig, 440, legend={"orientation": "h", "y": -0.25, "x": 0})


def _needed_text(design: str, need: dict[str, Any]) -> str:
    label = "individuals" if design == "individual" else "whole sites (municipalities)"
    return f"Randomising {label}: {needed_text(need, 'intention-to-treat power')}."


def headlines(result: TrialResult) -> list[str]:
    """The report's summary in plain words: the first size's finding, the n needed, the advice."""
    spec, pw, t = result.spec, result.power, result.truths
    o = spec.meta.outcome
    label = OUTCOME_INFO[o].label.lower()
    first_design: str = spec.meta.designs[0]
    rows = pw[pw["design"] == first_design]
    if rows.empty:
        rows = pw
        first_design = str(pw["design"].iloc[0])
    n0 = int(rows["n"].min())
    r = {row["estimator"]: row for row in rows[rows["n"] == n0].to_dict("records")}
    itt, pp, cace = r["itt"], r["per_protocol"], r["cace"]
    spread = " at one set of parameters (the model's mechanisms as written)"
    if result.members is not None:
        b = result.members.bands()
        b = b[(b["design"] == first_design) & (b["n"] == n0) & (b["estimator"] == "itt")]
        if len(b):
            spread = (
                f" at the parameters as written; across the {result.members.size} plausible "
                f"parameter sets it is {_pct(b['power_low'].iloc[0])} to "
                f"{_pct(b['power_high'].iloc[0])} (what we do not know about the mechanisms)"
            )
    out = [
        f"A trial of {n0} participants ({DESIGN_LABELS[first_design].lower()}) finds a "
        f"significant intention-to-treat difference ({label}) in {_pct(itt['power'])} of "
        f"simulated trials {_pct_interval(itt['power_low'], itt['power_high'])}"
        f": its power{spread}; 80 % is the usual target.",
        f"Per protocol (those who took it up against all controls) estimates "
        f"{format_diff(o, pp['mean_estimate'])} on average, intention to treat "
        f"{format_diff(o, itt['mean_estimate'])}: the offer reaches only "
        f"{_pct(t['take_up'])} of those offered. The compliers' true effect is "
        f"{format_diff(o, t['cace'])}; per protocol overstates it by "
        f"{format_diff(o, t['selection_bias'])} on average, because those who take it up "
        f"(better Norwegian, fewer burdens) would do better anyway. The IV estimate (CACE) "
        f"averages {format_diff(o, cace['mean_estimate'])} with {_pct(cace['coverage'])} "
        f"coverage.",
    ]
    needed = result.needed()
    across = result.needed_across()
    if across is not None:
        out += [_across_text(d, band) for d, band in across.items()]
        out += [
            f"At the parameters as written: {_needed_text(d, n)[0].lower()}{_needed_text(d, n)[1:]}"
            for d, n in needed.items()
        ]
    else:
        out += [_needed_text(d, n) for d, n in needed.items()]
    out.append(recommendation(result))
    return out


def _across_text(design: str, band: dict[str, Any]) -> str:
    label = "individuals" if design == "individual" else "whole sites (municipalities)"
    return f"Randomising {label}: {needed_band_text(band)}."


def recommendation(result: TrialResult) -> str:
    """One plain-words recommendation from the power curves and the truths."""
    needed = result.needed()
    across = result.needed_across()
    if across is not None:
        # Over an ensemble the advice is the size at which nearly every plausible parameter
        # set gives 80 % power, not the size that suits one of them.
        needed = {
            d: {
                **needed[d],
                "smallest": band["covering"],
                "at_first": band["covering"] is not None and band["covering"] == band["smallest"],
                "clusters": _clusters_at(result, d, band),
            }
            for d, band in across.items()
        }
    parts = [
        _size_advice(need, who)
        for design, who in (
            ("individual", "participants if individuals are randomised"),
            ("cluster", "if whole municipalities are randomised"),
        )
        if (need := needed.get(design)) and need["smallest"] is not None
    ]
    why = (
        " (the smallest size evaluated at which at least 95 % of the plausible parameter sets "
        "give 80 % power)"
        if across is not None
        else ""
    )
    size = (
        "Recommendation: recruit " + ", or ".join(parts) + why + "."
        if parts
        else "Recommendation: none of the sizes evaluated is large enough; evaluate larger trials."
    )
    if across is None:
        size += (
            " These sizes are computed at one set of parameters, the model's mechanisms as "
            "written: what we do not know about the mechanisms is not included. Run the trial "
            "with --ensemble calibration/posterior.toml for the size at which nearly every "
            "plausible parameter set gives 80 % power."
        )
    return (
        f"{size} Analyse by intention to treat, report the IV estimate (CACE) for those who "
        "take it up, and do not read per-protocol differences as the effect. Raising take-up "
        "(language support to receive the offer) shrinks the trial needed: the detectable "
        "intention-to-treat effect grows with the share taking it up."
    )


def _size_advice(need: dict[str, Any], who: str) -> str:
    """``at least 150 participants if ...``; the smallest size evaluated is no minimum."""
    sites = f" ({need['clusters']} sites)" if need.get("clusters") else ""
    n = f"{need['smallest']}{sites}"
    if need["at_first"]:
        return (
            f"{n} {who} (the smallest size evaluated, which already gives 80 % power: fewer "
            "may do; evaluate smaller sizes to find the least)"
        )
    return f"at least {n} {who}"


def _clusters_at(result: TrialResult, design: str, band: dict[str, Any]) -> int | None:
    """Sites a cluster trial recruits at the band's covering size."""
    n = band["covering"]
    if design != "cluster" or n is None:
        return None
    pw = result.power
    rows = pw[(pw["design"] == design) & (pw["n"] == n)]
    return int(rows["clusters"].iloc[0]) if len(rows) else None


def _table(result: TrialResult) -> list[dict[str, Any]]:
    o = result.spec.meta.outcome
    rows = []
    for r in result.power.to_dict("records"):
        rows.append(
            {
                "design": r["design"],
                "n": r["n"],
                "clusters": r["clusters"] if r["design"] == "cluster" else "",
                "estimator": ESTIMATOR_LABELS[r["estimator"]],
                "power": f"{_pct(r['power'])} " + _pct_interval(r["power_low"], r["power_high"]),
                "estimate": format_diff(o, r["mean_estimate"]),
                "truth": format_diff(o, r["truth"]),
                "bias": format_diff(o, r["bias"])
                + " "
                + format_interval(o, r["bias_low"], r["bias_high"], signed=True),
                "coverage": f"{_pct(r['coverage'])} "
                + _pct_interval(r["coverage_low"], r["coverage_high"]),
            }
        )
    return rows


def report_html(result: TrialResult, manifest: Mapping[str, Any] | None = None) -> str:
    """Render a trial's report as one self-contained HTML document.

    Args:
        result: The finished trial.
        manifest: Provenance written next to it (``manifest.json``).

    Returns:
        The HTML text, with plotly.js inline.
    """
    spec = result.spec
    o = spec.meta.outcome
    pop = result.population
    sizes = pop.site_sizes()
    m = float(sizes.mean())
    icc = result.icc
    sections = [
        {
            "id": "power",
            "title": "Power at each sample size",
            "lead": "Share of simulated trials whose test rejects no effect at the "
            f"{spec.meta.alpha:g} level, with 95 % intervals; the dashed line is 80 %. "
            "Per-protocol power is shown for completeness: its test answers a biased question.",
            "html": chart_html(
                _power_chart(result), "power", "Power against sample size for each estimator."
            ),
        },
        *_member_sections(result),
        {
            "id": "estimates",
            "title": "Estimates against the truth",
            "lead": "Mean estimate over simulated trials (bars: 95 % interval of the mean) and "
            "the true effects known inside the model. Per protocol sits above the compliers' "
            "true effect: its selection bias.",
            "html": chart_html(
                _estimate_chart(result), "estimates", "Mean estimates against true effects."
            ),
        },
    ]
    facts = [
        ("Sites simulated (population replicates)", f"{sizes.size}"),
        ("Participants with an observed outcome", f"{pop.site.size} of {pop.recruited}"),
        ("Mean participants per site", f"{m:.1f}"),
        ("Control mean (everyone under control)", format_value(o, result.truths["control_mean"])),
        ("Treated mean (everyone treated)", format_value(o, result.truths["treated_mean"])),
        ("Average effect if everyone took it up (ATE)", format_diff(o, result.truths["ate"])),
        ("Share taking it up when offered", _pct(result.truths["take_up"])),
        ("True effect of the offer (ITT)", format_diff(o, result.truths["itt"])),
        (
            "True effect among those who take it up (compliers)",
            format_diff(o, result.truths["cace"]),
        ),
        ("What per protocol estimates", format_diff(o, result.truths["per_protocol_target"])),
        ("Per protocol's selection bias", format_diff(o, result.truths["selection_bias"])),
        ("Intra-cluster correlation between sites, control", f"{icc['control']:.4f}"),
        ("Intra-cluster correlation between sites, treated", f"{icc['treated']:.4f}"),
        (
            "Design effect at the mean site size (control ICC)",
            f"{1 + (m - 1) * icc['control']:.2f}",
        ),
    ]
    return render(
        "trial.html.j2",
        spec=spec,
        result=result,
        outcome_label=OUTCOME_INFO[o].label,
        headlines=headlines(result),
        sections=sections,
        population=facts,
        table=_table(result),
        facts=provenance(manifest),
    )


def _member_sections(result: TrialResult) -> list[dict[str, Any]]:
    """Over an ensemble: the power band across plausible parameter sets."""
    m = result.members
    if m is None:
        return []
    return [
        {
            "id": "power-members",
            "title": "Power across plausible parameter sets",
            "lead": f"Intention-to-treat power under each of the {m.size} members of "
            f"{m.ensemble['file']} (parameter sets the calibration could not rule out): the "
            "shaded band holds the central 95 % of them, the line their average (the chance a "
            "trial of this size finds a significant difference, given what we do not know "
            "about the mechanisms), the dotted line the parameters as written. The band is "
            "what we do not know about the mechanisms; it does not shrink with more simulated "
            "trials. member_power.csv holds every member's power curve.",
            "html": chart_html(
                _member_chart(result),
                "power-members",
                "Intention-to-treat power across plausible parameter sets.",
            ),
        }
    ]


def write_report(
    result: TrialResult, path: str | Path, manifest: Mapping[str, Any] | None = None
) -> Path:
    """Write the trial report as one self-contained HTML file, atomically.

    Args:
        result: The finished trial.
        path: Where to write.
        manifest: Provenance for the footer.

    Returns:
        The path written.
    """
    target = Path(path)
    write_text(report_html(result, manifest), target)
    return target
