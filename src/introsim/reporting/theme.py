"""One look for every report and the dashboard: colours, fonts, chart layout and page style.

The page style is ``static/report.css`` and the script that shows a table's
scroll cue ``static/scroll.js``; both are inlined into every report by the base
template, so a report opens offline.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import plotly.graph_objects as go

__all__ = [
    "COST_STYLE",
    "FONT",
    "PALETTE",
    "PLOT_CONFIG",
    "STATUS_ORDER",
    "STATUS_STYLE",
    "colour",
    "css",
    "layout",
    "rgba",
    "scroll_js",
]

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
"""Each status's words and colour, in the order charts stack them."""
STATUS_ORDER: tuple[str, ...] = tuple(STATUS_STYLE)
# Greys with patterns, so that no cost part shares a colour with a scenario.
COST_STYLE: dict[str, tuple[str, str, str]] = {
    "cost_specialist_nok": ("specialists and advisors", "#3d3d3d", ""),
    "cost_subsidy_nok": ("wage subsidy", "#8c8c8c", "/"),
    "cost_benefit_nok": ("introduction benefit", "#cfcfcf", "."),
}
"""Each cost part's words, grey and fill pattern."""
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


@functools.cache
def css() -> str:
    """The reports' style sheet."""
    text = resources.files("introsim.reporting").joinpath("static", "report.css").read_text()
    return text.replace("FONT_STACK", FONT)


@functools.cache
def scroll_js() -> str:
    """The script that marks each ``.scroll-box`` whose table overflows (its cue then shows)."""
    return resources.files("introsim.reporting").joinpath("static", "scroll.js").read_text()


def colour(i: int) -> str:
    """The i-th colour of the reports' colour-blind-safe palette."""
    return PALETTE[i % len(PALETTE)]


def rgba(hex_colour: str, alpha: float) -> str:
    """A ``#rrggbb`` colour with transparency, as plotly takes it."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[k : k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def layout(fig: go.Figure, height: int, **extra: Any) -> go.Figure:
    """Apply the reports' common look to a figure."""
    settings: dict[str, Any] = {
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 70, "r": 30, "t": 50, "b": 60},
        "font": {"family": FONT, "size": 13},
        # Below the plot: above it, a legend covers titles at phone widths.
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        "hoverlabel": {"namelength": -1},
    }
    settings.update(extra)
    fig.update_layout(**settings)
    return fig
