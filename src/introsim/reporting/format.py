"""Numbers and text as people read them, the same on the terminal and in every report.

A number is formatted by its outcome's unit: shares as percentages with one
decimal (``42.1 %``, differences in percentage points, ``+8.9 pp``), NOK as whole
kroner with spaces between thousands (``472 829 NOK``), everything else with one
decimal and its unit (``4.4 months``). Minus signs are true minus signs, no
number shows as ``-0.0``, and a missing value (None or NaN) is ``–``. With
``lang="nb"`` the same numbers are written the bokmål way (the dashboard's
Norwegian page): a decimal comma, a narrow no-break space between thousands,
``kr`` and ``prosentpoeng`` (``42,1 %``, ``472 829 kr``); :func:`localise` does it.

Text a user wrote is shown as written, with hidden characters escaped
(:func:`introsim.params.text.visible`); text for a chart is also escaped for
plotly, which reads names and titles as markup.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Mapping
from typing import Any, TypeGuard

from introsim.model.outcomes import OUTCOME_INFO
from introsim.params.text import visible

__all__ = [
    "GLUE",
    "MECHANISMS_RANGE",
    "MISSING",
    "SIMULATION_ONLY",
    "THOUSANDS_NB",
    "decisive_range",
    "excludes_zero",
    "format_diff",
    "format_interval",
    "format_number",
    "format_share",
    "format_value",
    "is_number",
    "localise",
    "plot_text",
    "unit_of",
    "words_interval",
    "wrap",
]

MISSING = "–"
"""What a missing number shows as."""
THOUSANDS_NB = "\u202f"
"""Bokmål's thousands separator: a narrow no-break space (a number never breaks)."""
GLUE = "\u00a0"
"""No-break space between a number and its unit in bokmål (``42,1 %``, ``312 400 kr``)."""


def unit_of(name: str) -> str:
    """The unit of an outcome (of a run or of a comparison), by its name."""
    if name in OUTCOME_INFO:
        return OUTCOME_INFO[name].unit
    # Imported here: the terminal formats a run's outcomes without loading the comparison.
    from introsim.experiments.compare import COMPARISON_INFO

    if name in COMPARISON_INFO:
        return COMPARISON_INFO[name].unit
    return "NOK" if name.endswith("_nok") else ""


def is_number(value: object) -> TypeGuard[float]:
    """Whether ``value`` is a finite number (not None, NaN or infinite)."""
    return isinstance(value, int | float) and math.isfinite(value)


def _minus(text: str, signed: bool) -> str:
    if text.lstrip("-").strip("0. ") == "":
        text = text.lstrip("-")  # no "-0.0"
    if signed and not text.startswith("-"):
        text = "+" + text
    return text.replace("-", "−")


def localise(text: str, lang: str = "en") -> str:
    """A number written the English way here (``12 345.6``) in ``lang``'s way.

    Bokmål (``"nb"``) has a decimal comma and a narrow no-break space between
    thousands (``12 345,6``); English text is returned as it is.
    """
    if lang != "nb":
        return text
    return text.replace(" ", THOUSANDS_NB).replace(".", ",")


def format_number(name: str, value: float | None, signed: bool = False, lang: str = "en") -> str:
    """Format a number in the outcome's unit, without the unit sign.

    Args:
        name: Outcome name (decides the unit).
        value: The number.
        signed: Prefix a "+" to positive numbers (for differences).
        lang: ``"en"``, or ``"nb"`` for bokmål (see :func:`localise`).

    Returns:
        ``42.1`` for a share of 0.421, ``472 829`` for NOK, ``4.4`` otherwise; ``–`` if missing.
    """
    if value is None or not is_number(value):
        return MISSING
    unit = unit_of(name)
    if unit == "share":
        text = f"{100 * value:.1f}"
    elif unit == "NOK":
        text = f"{value:,.0f}".replace(",", " ")
    else:
        text = f"{value:.1f}"
    return localise(_minus(text, signed), lang)


def _suffix(name: str, diff: bool, lang: str = "en") -> str:
    unit = unit_of(name)
    if lang == "nb":
        words = {"share": " prosentpoeng" if diff else f"{GLUE}%", "NOK": f"{GLUE}kr"}
        return words.get(unit, f" {unit}" if unit else "")
    return {"share": " pp" if diff else " %", "NOK": " NOK"}.get(unit, f" {unit}" if unit else "")


def format_value(name: str, value: float | None, lang: str = "en") -> str:
    """Format a level: ``42.1 %``, ``472 829 NOK``, ``4.4 months``; ``–`` if missing."""
    if value is None or not is_number(value):
        return MISSING
    return format_number(name, value, lang=lang) + _suffix(name, diff=False, lang=lang)


def format_diff(name: str, value: float | None, lang: str = "en") -> str:
    """Format a difference: ``+8.9 pp`` (percentage points), ``−25 583 NOK``, ``+2.0 months``."""
    if value is None or not is_number(value):
        return MISSING
    return format_number(name, value, signed=True, lang=lang) + _suffix(name, True, lang)


def format_interval(name: str, low: float | None, high: float | None, signed: bool = False) -> str:
    """Format an interval as ``[low, high]`` in the outcome's unit, without the unit sign.

    Returns ``""`` when an end is missing.
    """
    if low is None or high is None or not (is_number(low) and is_number(high)):
        return ""
    return f"[{format_number(name, low, signed)}, {format_number(name, high, signed)}]"


def words_interval(name: str, low: float | None, high: float | None) -> str:
    """An interval in words: ``8.9 to 10.4`` (no brackets, no plus signs)."""
    if low is None or high is None or not (is_number(low) and is_number(high)):
        return "not available"
    return f"{format_number(name, low)} to {format_number(name, high)}"


def format_share(value: float | None, digits: int = 1) -> str:
    """A share (power, coverage, take-up) as a percentage: ``80 %`` with ``digits=0``."""
    if value is None or not is_number(value):
        return MISSING
    return _minus(f"{100 * value:.{digits}f}", signed=False) + " %"


def excludes_zero(low: float | None, high: float | None) -> bool:
    """Whether an interval lies wholly on one side of zero."""
    if low is None or high is None or not (is_number(low) and is_number(high)):
        return False
    return low > 0 or high < 0


MECHANISMS_RANGE = "mechanisms' range"
"""The kind of an interval that holds 95 % of a posterior ensemble's averages, in words."""
SIMULATION_ONLY = "simulation only"
"""The kind of an interval that covers only the simulation's randomness, in words."""


def decisive_range(
    row: Mapping[str, Any], difference: bool = True
) -> tuple[float | None, float | None, str]:
    """The 95 % range that decides whether a number is clear, and its kind in words.

    Over a posterior ensemble: the mechanisms' range (``parameter_*`` columns), as the
    simulation's interval only says how well the runs pin down their own average. Without
    one (or for a number without that range, such as a ratio), the simulation's interval.

    Args:
        row: A row of the comparison table.
        difference: The difference from the reference (``diff_*``) rather than the level.

    Returns:
        ``(low, high, kind)``, kind :data:`MECHANISMS_RANGE` or :data:`SIMULATION_ONLY`.
    """
    prefix = "diff_" if difference else ""
    low, high = row.get(f"{prefix}parameter_low"), row.get(f"{prefix}parameter_high")
    if is_number(low) and is_number(high):
        return low, high, MECHANISMS_RANGE
    if difference:
        return row.get("diff_low"), row.get("diff_high"), SIMULATION_ONLY
    return row.get("ci_low"), row.get("ci_high"), SIMULATION_ONLY


def plot_text(text: object) -> str:
    """A user's text for a chart: plotly reads names, titles and hover text as markup.

    Hidden characters are escaped (a right-to-left override would reverse the label),
    HTML is escaped (so a tag shows as written instead of becoming a link), and ``{``
    too, so ``%{...}`` in a name is not taken for a hover-template field.
    """
    return html.escape(visible(text)).replace("{", "&#123;")


def wrap(text: object, width: int = 42) -> str:
    """A user's text for a chart, broken into lines (plotly does not wrap text)."""
    return "<br>".join(plot_text(line) for line in textwrap.wrap(str(text), width) or [""])
