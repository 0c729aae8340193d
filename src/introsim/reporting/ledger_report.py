"""Who pays and who gains: the public-finance part of the comparison report and table.

The comparison (:mod:`introsim.experiments.compare`) holds, for each payer (the municipality,
the state, NAV and the public purse as a whole), its net cost per participant in present
value with intervals, the flows behind it, its cost per extra person-year in work and the
year a policy pays back for it. This module puts them in words and numbers and a stacked bar
(:func:`flows_chart`): the rows of the report's section 7 and of the terminal's table
(:func:`payer_rows`) and the summary's sentence (:func:`who_pays`), which the report's
template (``templates/compare.html.j2``) lays out.
"""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING, Any, TypeGuard

import plotly.graph_objects as go
from markupsafe import Markup

from introsim.experiments.compare import payback_name, payer_ratio_name
from introsim.model.ledger import (
    FLOW_LABELS,
    FLOWS,
    LEDGER_PAYERS,
    PAYER_LABELS,
    PUBLIC,
    flow_name,
    net_cost_name,
)
from introsim.model.state import WEEKS_PER_YEAR
from introsim.params.schema import PAYERS
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
    wrap,
)
from introsim.reporting.theme import layout

if TYPE_CHECKING:
    from introsim.experiments.compare import Comparison

__all__ = [
    "FLOW_COLOURS",
    "SECTION_LEAD",
    "SECTION_TITLE",
    "flows_alt_text",
    "flows_chart",
    "payback_text",
    "payer_rows",
    "ratio_text",
    "who_pays",
]

FLOW_COLOURS: dict[str, str] = {
    "introduction_benefit": "#E69F00",
    "social_assistance": "#F0E442",
    "specialists": "#0072B2",
    "teaching": "#56B4E9",
    "wage_subsidy": "#009E73",
    "nav_follow_up": "#CC79A7",
    "integration_grant": "#999999",
    "income_tax": "#D55E00",
    "employer_contributions": "#7a4a00",
}
"""One colour per flow (Okabe-Ito and greys); the x axis, not the colour, tells scenarios apart."""
SHORT_PAYERS: dict[str, str] = {
    "municipality": "municipality",
    "state": "state",
    "nav": "NAV",
    PUBLIC: "public purse",
}
NOK = "cost_per_participant_nok"  # formats as NOK


def _ok(x: Any) -> TypeGuard[float]:
    return is_number(x)


def _years(c: Comparison, name: str) -> int:
    """Full years in a scenario's horizon."""
    return c.weeks[c.names.index(name)] // WEEKS_PER_YEAR


def _year(x: float | None, years: int) -> str:
    if not _ok(x):
        return f"after year {years}"
    return "the start" if x == 0 else f"year {int(x)}"


def payback_text(row: dict[str, Any] | None, years: int, mechanisms: bool = False) -> str:
    """The payback row of a comparison in words: ``year 3 (95 %, simulation only: ...)``.

    Args:
        row: The comparison table's ``payback_year_<payer>`` row of one scenario.
        years: Full years in the horizon.
        mechanisms: The comparison ran over a posterior ensemble: the years at the ends of
            the mechanisms' range (``diff_parameter_*``) are given, not the simulation's.

    Returns:
        "year K" (the first year from whose end the policy has cost the payer no more than the
        reference), "never dearer", "not within N years" or "no difference", with the years
        of the interval's ends where they differ.
    """
    if row is None:
        return "–"
    status = str(row.get("status") or "")
    if status == "no difference":
        return "no difference"
    if years < 1:
        return "horizon under a year"
    main = {
        "never dearer": "never dearer",
        "not within the horizon": f"not within {years} years",
    }.get(status, f"year {int(row['diff'])}" if _ok(row.get("diff")) else "–")
    prefix, kind = (
        ("diff_parameter_", MECHANISMS_RANGE) if mechanisms else ("diff_", SIMULATION_ONLY)
    )
    early, late = row.get(f"{prefix}low"), row.get(f"{prefix}high")
    if _ok(early) and _ok(late) and early == late == row.get("diff"):
        return main
    if not _ok(early) and not _ok(late):
        return main
    return f"{main} (95 %, {kind}: {_year(early, years)} to {_year(late, years)})"


def ratio_text(row: dict[str, Any] | None) -> str:
    """A payer's cost per extra person-year in work, or the words that replace it."""
    from introsim.reporting.compare_report import STATUS_TEXT  # the report imports this module

    if row is None:
        return "–"
    status = str(row.get("status") or "no clear gain")
    if status != "ratio":
        return STATUS_TEXT.get(status, status)
    lo, hi = format_number(NOK, row["diff_low"]), format_number(NOK, row["diff_high"])
    # Fieller's interval of a ratio of averages: the simulation's precision only.
    return f"{format_number(NOK, row['diff'])} NOK (95 %, {SIMULATION_ONLY}: {lo} to {hi})"


def payer_rows(c: Comparison) -> list[dict[str, Any]]:
    """Each payer's figures in a comparison, as text: the terminal's and the report's table.

    Each interval is the one that decides (:func:`~introsim.reporting.format.decisive_range`:
    the mechanisms' range over a posterior ensemble, else the simulation's), with its kind.

    Returns:
        One dict per payer of :data:`LEDGER_PAYERS`: ``payer`` (words), ``levels`` (each
        scenario's net cost, its interval and the interval's kind), ``diffs`` (each compared
        scenario's difference, its interval, whether it is clear, and the interval's kind),
        ``ratios`` and ``paybacks`` (text).
    """
    out = []
    for payer in LEDGER_PAYERS:
        name = net_cost_name(payer)
        levels, diffs, ratios, paybacks = [], [], [], []
        for scenario in c.names:
            r = c.row(scenario, name) or {}
            low, high, kind = decisive_range(r, difference=False)
            levels.append(
                (format_value(name, r.get("mean")), format_interval(name, low, high), kind)
            )
        for scenario in c.names[1:]:
            r = c.row(scenario, name) or {}
            low, high, kind = decisive_range(r)
            diffs.append(
                (
                    format_diff(name, r.get("diff")),
                    format_interval(name, low, high, signed=True),
                    excludes_zero(low, high),
                    kind,
                )
            )
            ratios.append(ratio_text(c.row(scenario, payer_ratio_name(payer))))
            paybacks.append(
                payback_text(
                    c.row(scenario, payback_name(payer)),
                    _years(c, scenario),
                    mechanisms=c.ensemble is not None,
                )
            )
        out.append(
            {
                "payer": PAYER_LABELS[payer],
                "key": payer,
                "levels": levels,
                "diffs": diffs,
                "ratios": ratios,
                "paybacks": paybacks,
            }
        )
    return out


def who_pays(c: Comparison, scenario: str) -> dict[str, Any]:
    """Who pays for a policy, who gains, and when it pays back, for one plain-words sentence.

    Args:
        c: The comparison.
        scenario: A compared scenario (not the reference).

    Returns:
        ``weeks``, ``differing`` (each payer whose net cost clearly differs, with the amount),
        ``unclear`` (the payers whose difference is not clear, joined in words) and
        ``payback`` (when it pays back for the public purse, in words).
    """
    clear, unclear = [], []
    for payer in LEDGER_PAYERS:
        r = c.row(scenario, net_cost_name(payer)) or {}
        d = r.get("diff")
        if not _ok(d):
            continue
        if excludes_zero(*decisive_range(r)[:2]):
            way = "more" if d > 0 else "less"
            clear.append(f"{PAYER_LABELS[payer]} {format_number(NOK, abs(d))} NOK {way}")
        else:
            unclear.append(PAYER_LABELS[payer])
    return {
        "weeks": c.weeks[c.names.index(scenario)],
        "differing": _join(clear) if clear else "",
        "unclear": _join(unclear) if unclear else "",
        "payback": payback_text(
            c.row(scenario, payback_name(PUBLIC)),
            _years(c, scenario),
            mechanisms=c.ensemble is not None,
        ),
    }


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def flows_chart(c: Comparison) -> go.Figure:
    """Stacked bars of each payer's flows per participant in present value.

    One column per payer (the municipality, the state, NAV). The top row has one bar per
    scenario; the bottom row, one bar per compared scenario: its difference from the reference,
    flow by flow. Costs stack up from zero, gains (the grant received, tax) down; a black
    diamond marks each bar's net cost.
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=2,
        cols=len(PAYERS),
        shared_yaxes="rows",
        vertical_spacing=0.22,
        horizontal_spacing=0.03,
        # Short titles: three columns side by side leave a phone's screen about 100 px each;
        # the y axes say what each row is (the difference is from the first scenario).
        subplot_titles=[*(SHORT_PAYERS[p] for p in PAYERS), *("difference" for _ in PAYERS)],
    )
    rows = ((1, list(c.names), False), (2, list(c.names[1:]), True))
    shown_flows: set[str] = set()
    for row, names, diff in rows:
        x = [wrap(textwrap.shorten(c.title(n), 54, placeholder=" …"), 18) for n in names]
        for col, payer in enumerate(PAYERS, start=1):
            for flow in FLOWS:
                y = [_value(c, n, flow_name(payer, flow), diff) for n in names]
                if not any(_ok(v) and abs(v) > 0.5 for v in y):
                    continue
                fig.add_trace(
                    go.Bar(
                        x=x,
                        y=y,
                        name=FLOW_LABELS[flow],
                        legendgroup=flow,
                        showlegend=flow not in shown_flows,
                        marker_color=FLOW_COLOURS[flow],
                        hovertemplate=f"{FLOW_LABELS[flow]}: %{{y:,.0f}} NOK<extra></extra>",
                    ),
                    row=row,
                    col=col,
                )
                shown_flows.add(flow)
            net = [_value(c, n, net_cost_name(payer), diff) for n in names]
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=net,
                    mode="markers",
                    name="net cost" if not diff else "net difference",
                    legendgroup="net",
                    showlegend=row == 1 and col == 1,
                    marker={"symbol": "diamond", "size": 11, "color": "#000"},
                    text=[format_number(NOK, v) for v in net],
                    hovertemplate="net: %{text} NOK<extra></extra>",
                ),
                row=row,
                col=col,
            )
            fig.add_hline(y=0, line={"color": "#444", "width": 1}, row=row, col=col)
    fig.update_yaxes(title_text="net cost, NOK per participant", row=1, col=1)
    fig.update_yaxes(title_text="minus the first scenario, NOK", row=2, col=1)
    fig.update_annotations(font_size=13)
    fig = layout(fig, 900, barmode="relative")
    fig.update_layout(legend={"y": -0.12, "traceorder": "normal"}, margin={"b": 130})
    return fig


def _value(c: Comparison, scenario: str, outcome: str, diff: bool) -> float:
    """A scenario's mean of an outcome, or its difference from the reference."""
    row = c.row(scenario, outcome)
    return math.nan if row is None else float(row["diff" if diff else "mean"])


def flows_alt_text(c: Comparison) -> str:
    """The chart's text alternative: each payer's net cost in each scenario."""
    nets = "; ".join(
        f"{PAYER_LABELS[p]}, {c.title(n)}: "
        + format_value(net_cost_name(p), _value(c, n, net_cost_name(p), False))
        for p in PAYERS
        for n in c.names
    )
    return (
        "Stacked bar charts of the public flows per participant in present value, one column "
        "per payer (the municipality, the state, NAV): above, one bar per scenario; below, "
        "each compared scenario's difference from the reference, flow by flow. Costs above "
        "zero, gains below. Net costs: " + nets + "."
    )


SECTION_TITLE = "Who pays and who gains"
SECTION_LEAD = Markup(
    "Each payer's net cost per participant over the horizon in present value: what it pays "
    "(benefits, social assistance, advisors and job specialists, teachers, wage subsidy, "
    "NAV's follow-up) less what it gains (the integration grant, income tax, the employer's "
    "contribution), every week discounted to the start at the Ministry of Finance's real rate "
    "for public projects (circular R-109). Above, each payer's flows in each scenario; below, "
    "each compared scenario's difference from the reference, flow by flow: costs above zero, "
    "gains below, the diamond the net. Grants between public bodies cancel in the public "
    "purse. The municipality's level leaves out much of what the integration grant is meant "
    "to cover (housing, health, child welfare and other services are not in the model): read "
    "its differences, not its level. "
    "The table gives each payer's net cost with its 95 % interval (its kind under it: the "
    "mechanisms' range over a posterior ensemble, else the simulation's randomness only), "
    "the difference from the "
    "reference, the extra net cost per extra person-year in work (both discounted; "
    "<b>dominant</b>: cheaper for that payer and more in work), and the year the policy pays "
    "back for that payer: the first year from whose end it has cost no more than the "
    "reference, with the years at the two ends of the interval ('the start': never dearer). "
    "<b>Dominant</b>, like every 'clear', rests on the mechanisms' range where there is one."
)
"""Section 7's heading and reading guide."""
