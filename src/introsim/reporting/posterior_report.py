"""The calibration report: each target's posterior interval against its band, and its checks.

Also the out-of-sample checks, what the data constrain, the waves and the synthetic recovery.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from introsim.experiments.posterior_calibration import CalibrationPosterior, _band
from introsim.output import write_text
from introsim.reporting.html import chart_html, provenance, render
from introsim.reporting.theme import colour, layout
from introsim.terminal import count

__all__ = ["report_html", "write_report"]


def _targets_chart(result: CalibrationPosterior) -> go.Figure:
    """Per target: its band, the members' averages and the prediction from the others."""
    post = result.posterior
    table = post.target_table()
    fig = go.Figure()
    names = list(table.target)
    for i, row in enumerate(table.itertuples()):
        y = len(names) - 1 - i
        lo = row.band_low if math.isfinite(row.band_low) else row.posterior_low
        hi = row.band_high if math.isfinite(row.band_high) else row.posterior_high
        sd = math.hypot(row.observation_sd, row.discrepancy_sd)
        fig.add_trace(
            go.Scatter(
                x=[lo - 3 * sd, hi + 3 * sd],
                y=[y, y],
                mode="lines",
                line={"color": "#dddddd", "width": 18},
                name="band ± 3 × (observation and discrepancy sd)",
                showlegend=i == 0,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[lo, hi],
                y=[y, y],
                mode="lines",
                line={"color": "#999999", "width": 18},
                name="band",
                showlegend=i == 0,
                hoverinfo="skip",
            )
        )
        means = post.members.means[:, i]
        jitter = (np.arange(means.size) % 7 - 3) * 0.03
        fig.add_trace(
            go.Scatter(
                x=means,
                y=y + jitter,
                mode="markers",
                marker={"color": colour(0), "size": 5, "opacity": 0.6},
                name="a member's average",
                showlegend=i == 0,
                hovertemplate="%{x:.3f}<extra></extra>",
            )
        )
        if math.isfinite(row.loo_low):
            fig.add_trace(
                go.Scatter(
                    x=[row.loo_low, row.loo_high],
                    y=[y - 0.3, y - 0.3],
                    mode="lines+markers",
                    line={"color": colour(1), "width": 3},
                    name="predicted from the other targets (95 %)",
                    showlegend=i == 0,
                )
            )
    fig.update_yaxes(tickvals=list(range(len(names))), ticktext=names[::-1])
    fig.update_xaxes(title_text="value of the target's statistic")
    return layout(fig, 90 * len(names) + 160)


def _parameters_chart(result: CalibrationPosterior) -> go.Figure:
    """Each member's position in each parameter's declared range (0 = low end, 1 = high)."""
    post = result.posterior
    names = [p.name for p in post.parameters]
    fig = go.Figure()
    for j, name in enumerate(names):
        u = post.members.unit[:, j]
        y = len(names) - 1 - j
        fig.add_trace(
            go.Scatter(
                x=u,
                y=y + (np.arange(u.size) % 7 - 3) * 0.04,
                mode="markers",
                marker={"color": colour(0), "size": 5, "opacity": 0.6},
                name="member",
                showlegend=j == 0,
                hovertemplate=f"{name}<br>position %{{x:.2f}}<extra></extra>",
            )
        )
    fig.update_yaxes(tickvals=list(range(len(names))), ticktext=names[::-1])
    fig.update_xaxes(title_text="position in the declared range", range=[-0.02, 1.02])
    return layout(fig, 28 * len(names) + 180)


def report_html(result: CalibrationPosterior, manifest: Mapping[str, Any] | None = None) -> str:
    """Render a posterior calibration's report as one self-contained HTML document."""
    cal, post = result.calibration, result.posterior
    targets = post.target_table()
    rows = []
    for r in targets.itertuples():
        rows.append(
            {
                "name": r.target,
                "band": _band(r.band_low, r.band_high, r.observation_sd),
                "discrepancy": f"{r.discrepancy_sd:g}",
                "replicates": r.replicates,
                "posterior": f"{r.posterior_median:.3f} [{r.posterior_low:.3f}, "
                f"{r.posterior_high:.3f}]",
                "inside": bool(r.posterior_low <= r.band_high and r.posterior_high >= r.band_low),
                "fresh": f"{r.fresh_median:.3f} [{r.fresh_low:.3f}, {r.fresh_high:.3f}]; "
                f"{100 * r.fresh_within_cutoff:.0f} % of members within the cut-off",
                "loo": f"– ({post.loo_note(r.target)})"
                if not math.isfinite(r.loo_low)
                else f"[{r.loo_low:.3f}, {r.loo_high:.3f}]"
                + (": meets the band" if r.loo_overlaps else ": misses the band"),
                "source": r.source,
            }
        )
    params = []
    for r in post.parameter_table().itertuples():
        share = r.share_of_range
        verdict = (
            "constrained"
            if share < 0.5
            else ("partly constrained" if share < 0.85 else "not constrained by these targets")
        )
        params.append(
            {
                "name": r.parameter,
                "range": f"{r.range_low:g} to {r.range_high:g}"
                + (" (log scale)" if r.scale == "log" else ""),
                "posterior": f"{r.posterior_median:.4g} [{r.posterior_low:.4g}, "
                f"{r.posterior_high:.4g}]",
                "share": f"{100 * share:.0f} %",
                "verdict": verdict,
                "source": r.source,
            }
        )
    waves = post.wave_table().to_dict("records")
    rec = result.recovery
    recovery = None
    if rec is not None:
        recovery = {
            "passed": rec.passed,
            "members": rec.members,
            "rows": [
                {
                    "name": p.name,
                    "truth": f"{t:.4g}",
                    "interval": f"[{lo:.4g}, {hi:.4g}]",
                    "share": f"{100 * sh:.0f} %",
                    "inside": bool(ok),
                }
                for p, t, lo, hi, ok, sh in zip(
                    post.parameters,
                    rec.truth,
                    rec.low,
                    rec.high,
                    rec.inside,
                    rec.share_of_range,
                    strict=True,
                )
            ],
        }
    n_inside = sum(r["inside"] for r in rows)
    fresh_ok = (
        float(np.mean(post.fresh.combined <= post.settings.cutoff))
        if len(post.members)
        else math.nan
    )
    headlines = [
        f"{count(len(post.members), 'member')} (of {cal.meta.members} wanted) from "
        f"{count(len(post.waves), 'wave')} "
        f"of history matching ({post.stopped}); {result.runs} model runs in all.",
        f"{n_inside} of {len(rows)} targets have a posterior predictive interval that meets "
        "their band.",
        f"On fresh seeds, {100 * fresh_ok:.0f} % of the members stay within the cut-off for "
        "every target at once.",
        f"{sum(1 for x in post.leave_one_out if x.overlaps)} of {len(post.leave_one_out)} targets "
        "are predicted within their band from the other targets alone.",
    ]
    if rec is not None:
        headlines.append(
            "Synthetic recovery: known parameter values "
            + ("were recovered" if rec.passed else "were NOT all recovered")
            + f" from the model's own targets ({count(rec.members, 'member')})."
        )
    if cal.excluded:
        headlines.append(f"Not fitted: {', '.join(cal.excluded)} (see the calibration file).")
    sections = [
        {
            "id": "targets-chart",
            "title": "Targets against their bands",
            "lead": "Dark grey: the band; light grey: the band widened by three standard "
            "deviations of the observation error and model discrepancy (the cut-off); dots: the "
            "members' averages; orange: the target predicted from the other targets alone.",
            "html": chart_html(
                _targets_chart(result), "targets-chart", "Each target's band and members."
            ),
        },
        {
            "id": "parameters-chart",
            "title": "Where the members lie in each declared range",
            "lead": "A parameter whose members fill its range is not constrained by the targets: "
            "its uncertainty passes whole into every analysis run over the posterior.",
            "html": chart_html(
                _parameters_chart(result), "parameters-chart", "Members in each parameter's range."
            ),
        },
    ]
    return render(
        "posterior.html.j2",
        cal=cal,
        post=post,
        rows=rows,
        params=params,
        waves=waves,
        recovery=recovery,
        headlines=headlines,
        sections=sections,
        facts=provenance(manifest),
    )


def write_report(
    result: CalibrationPosterior, path: str | Path, manifest: Mapping[str, Any] | None = None
) -> Path:
    """Write the calibration report as one self-contained HTML file, atomically."""
    target = Path(path)
    write_text(report_html(result, manifest), target)
    return target
