"""The calibration report: targets against their bands, convergence, and the free parameters."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from introsim.experiments.calibration import CalibrationResult, TargetResult
from introsim.output import write_text
from introsim.reporting.html import chart_html, provenance, render
from introsim.reporting.theme import colour, layout
from introsim.terminal import count

__all__ = ["report_html", "write_report"]


def _value(r: TargetResult | None) -> str:
    if r is None or not math.isfinite(r.mean):
        return "–"
    if math.isfinite(r.low) and math.isfinite(r.high):
        return f"{r.mean:.3f} [{r.low:.3f}, {r.high:.3f}]"
    return f"{r.mean:.3f}"


def _show(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _convergence(result: CalibrationResult) -> go.Figure:
    losses = np.array([t.loss for t in result.trials], dtype=float)
    x = np.arange(len(losses))
    best = np.fmin.accumulate(np.where(np.isfinite(losses), losses, np.inf))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=losses,
            mode="markers",
            name="loss of the trial",
            marker={"color": colour(0), "size": 7, "opacity": 0.7},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=np.where(np.isfinite(best), best, np.nan),
            mode="lines",
            name="best so far",
            line={"color": colour(1), "width": 3, "shape": "hv"},
        )
    )
    met = [t.index for t in result.trials if t.all_met]
    if met:
        fig.add_trace(
            go.Scatter(
                x=met,
                y=losses[met],
                mode="markers",
                name="met every band (ensemble)",
                marker={"color": colour(2), "size": 12, "symbol": "star"},
            )
        )
    # Trials are whole numbers: ticks at integer steps only.
    fig.update_xaxes(title_text="trial", tick0=0, dtick=max(1, math.ceil(len(losses) / 10)))
    fig.update_yaxes(
        title_text="loss (0: every value and interval inside its band)", rangemode="tozero"
    )
    return layout(fig, 420)


def _parameters(result: CalibrationResult) -> go.Figure:
    names = list(result.calibration.parameters)
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig = make_subplots(rows=rows, cols=cols, shared_yaxes=True, subplot_titles=names)
    ok = [t for t in result.trials if math.isfinite(t.loss)]
    for i, name in enumerate(names):
        r, c = i // cols + 1, i % cols + 1
        fig.add_trace(
            go.Scatter(
                x=[t.params.get(name) for t in ok],
                y=[t.loss for t in ok],
                mode="markers",
                marker={
                    "color": [colour(2) if t.all_met else colour(0) for t in ok],
                    "size": 7,
                    "opacity": 0.7,
                },
                name="trial",
                showlegend=False,
                hovertemplate=f"{name}=%{{x}}<br>loss %{{y:.3g}}<extra></extra>",
            ),
            row=r,
            col=c,
        )
        if result.calibration.parameters[name].scale == "log":
            fig.update_xaxes(type="log", row=r, col=c)
    fig.update_yaxes(title_text="loss", col=1)
    return layout(fig, 280 * rows + 60)


def report_html(result: CalibrationResult, manifest: Mapping[str, Any] | None = None) -> str:
    """Render a calibration's report as one self-contained HTML document.

    Args:
        result: The finished calibration.
        manifest: Provenance written next to it (``manifest.json``).

    Returns:
        The HTML text, with plotly.js inline.
    """
    cal = result.calibration
    best = result.best
    defaults = result.defaults
    by_best = {r.name: r for r in best.results} if best else {}
    by_default = {r.name: r for r in defaults.results} if defaults else {}
    rows = []
    for t in cal.targets.targets:
        b, d = by_best.get(t.name), by_default.get(t.name)
        rows.append(
            {
                "name": t.name,
                "description": t.spec.description,
                "band": t.spec.band_text(),
                "test": t.spec.test,
                "value": _value(b),
                "met": bool(b and b.met),
                "default": _value(d),
                "default_met": bool(d and d.met),
                "source": t.spec.source,
            }
        )
    params = []
    for name, spec in cal.parameters.items():
        info = cal.infos[name]
        rng = (
            ", ".join(map(str, spec.levels))
            if spec.levels is not None
            else f"{spec.min:g} to {spec.max:g}" + (" (log scale)" if spec.scale == "log" else "")
        )
        params.append(
            {
                "name": name,
                "range": rng,
                "default": _show(info.default),
                "best": _show(best.params.get(name)) if best else "–",
                "meaning": info.meaning,
                "unit": info.unit,
            }
        )
    n_targets = len(cal.targets.targets)
    headlines = []
    if defaults is not None:
        headlines.append(
            f"The schema's defaults (trial 0) meet {sum(r.met for r in defaults.results)} of "
            f"{n_targets} targets (loss {defaults.loss:.3g})."
        )
    if best is not None:
        headlines.append(
            f"The best candidate (trial {best.index}) meets {sum(r.met for r in best.results)} "
            f"of {n_targets} targets (loss {best.loss:.3g})."
        )
    headlines.append(
        f"{len(result.ensemble)} of {count(len(result.trials), 'evaluated parameter set')} met "
        "every band "
        "(the plausible ensemble)."
    )
    failed = sum(1 for t in result.trials if t.error)
    if failed:
        headlines.append(
            f"{count(failed, 'candidate')} could not be evaluated (see trials.csv, error)."
        )
    if cal.targets.not_computed:
        headlines.append(
            f"{count(len(cal.targets.not_computed), 'target')} of the targets file not computed "
            "here "
            "(listed below with the reason)."
        )
    sections = [
        {
            "id": "convergence",
            "title": "Convergence over trials",
            "lead": "Each dot is one candidate's loss; the line is the best loss so far; stars "
            "met every band. The loss also counts the part of each value's 95 % interval that "
            "lies outside its band, so a trial can meet every band with a loss above 0.",
            "html": chart_html(
                _convergence(result), "convergence", "Loss of each trial and best so far."
            ),
        },
        {
            "id": "parameter-loss",
            "title": "Loss against each free parameter",
            "lead": "Where the low losses gather shows which values the targets favour; "
            "green dots met every band.",
            "html": chart_html(
                _parameters(result), "parameter-loss", "Loss of each trial against each parameter."
            ),
        },
    ]
    return render(
        "calibration.html.j2",
        result=result,
        cal=cal,
        best=best,
        defaults=defaults,
        rows=rows,
        params=params,
        headlines=headlines,
        sections=sections,
        facts=provenance(manifest),
    )


def write_report(
    result: CalibrationResult, path: str | Path, manifest: Mapping[str, Any] | None = None
) -> Path:
    """Write the calibration report as one self-contained HTML file, atomically.

    Args:
        result: The finished calibration.
        path: Where to write.
        manifest: Provenance for the footer.

    Returns:
        The path written.
    """
    target = Path(path)
    write_text(report_html(result, manifest), target)
    return target
