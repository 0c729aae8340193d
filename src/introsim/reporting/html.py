"""Shared pieces of every HTML report: the page template, charts and provenance.

Reports are rendered with Jinja2 templates (``templates/``, each extending
``base.html.j2``) in the one theme of :mod:`~introsim.reporting.theme`. Any user
text (scenario names, descriptions, labels) is escaped unless a template marks it
safe, and its hidden characters (a right-to-left override, a zero-width space) are
shown as escapes. plotly.js is embedded once, inline: a report opens offline.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from introsim.params.text import visible
from introsim.reporting.theme import PLOT_CONFIG, css, scroll_js

__all__ = ["chart_html", "provenance", "render"]


def _shown(value: Any) -> Any:
    """Every value a template prints: text with its hidden characters escaped, markup as is."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return visible(value)


class _Environment(Environment):
    """Jinja, with ``x.key`` on a mapping finding the key before a method of the same name.

    Plain Jinja looks ``x.clear`` up as an attribute first: on a dict that is its ``clear``
    method (always true, printed as ``<built-in method clear ...>``), not the key ``"clear"``.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping):
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return super().getattr(obj, attribute)


@functools.cache
def _environment() -> Environment:
    env = _Environment(
        loader=PackageLoader("introsim.reporting", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_shown,
    )
    env.globals["css"] = Markup(css())
    env.globals["scroll_js"] = Markup(scroll_js())
    return env


def render(template: str, **context: Any) -> str:
    """Render a report template with plotly.js inline.

    Args:
        template: File name in ``introsim/reporting/templates``.
        **context: The template's variables.

    Returns:
        The HTML text.
    """
    return _environment().get_template(template).render(plotlyjs=Markup(get_plotlyjs()), **context)


def chart_html(fig: go.Figure, section: str, alt: str) -> Markup:
    """A figure as a ``div`` (id ``chart-SECTION``) with a text alternative for screen readers."""
    height = fig.layout.height or 450
    inner = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"chart-{section}",
        config=PLOT_CONFIG,
        default_height=f"{height}px",
    )
    return Markup(
        f'<figure class="chart-wrap" data-section="{html.escape(section)}" role="group" '
        f'aria-label="{html.escape(visible(alt))}">{inner}'
        f'<figcaption class="sr-only">{html.escape(visible(alt))}</figcaption></figure>'
    )


def provenance(manifest: Mapping[str, Any] | None) -> list[str]:
    """The facts of a manifest for a report's footer, each a short plain string."""
    m = dict(manifest or {})
    packages = m.get("packages") or {}
    facts = [f"introsim {packages.get('introsim') or m.get('introsim_version') or 'unknown'}"]
    if m.get("model_version"):
        facts.append(f"model {m['model_version']}")
    facts.append(f"commit {m.get('git_commit') or 'unknown'}")
    if m.get("root_seed") is not None:
        facts.append(
            f"root seed {m['root_seed']}; replicate r used "
            f"numpy.random.SeedSequence({m['root_seed']}, spawn_key=(r,)) at every point"
        )
    if m.get("executor"):
        facts.append(f"ran on {m['executor']}")
    if m.get("wall_time_s") is not None:
        facts.append(f"{float(m['wall_time_s']):.1f} s")
    if m.get("command"):
        facts.append(f"command: {m['command']}")
    pkgs = ", ".join(f"{k} {v}" for k, v in packages.items() if k != "introsim")
    if pkgs:
        facts.append(f"packages: {pkgs}")
    facts.append(
        f"generated {m.get('created_utc') or dt.datetime.now(dt.UTC).strftime('%Y-%m-%dT%H:%MZ')}"
    )
    return facts
