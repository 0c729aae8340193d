"""The what-if result in plain words: one line each, every number with how sure it is.

The lines are, in order: the headline (the target outcome and its difference
from the starting point), then each line of :data:`UNCERTAINTY`, then the
municipal target and the other outcomes. Every kind of uncertainty the
dashboard can state is one entry of :data:`UNCERTAINTY`: a function of the
what-if result that returns one sentence (or None when it has nothing to say).
A further kind, such as the spread across a calibration's posterior ensemble,
is one more function in that tuple; the page shows whatever the tuple holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from introsim.app.i18n import number, percent, preset_label, quoted, t
from introsim.app.whatif import SUBGROUP_OUTCOME, TARGET_AT_EXIT, TARGET_OUTCOME, WhatIf
from introsim.experiments.statistics import MIN_REPLICATES
from introsim.reporting.format import MISSING, format_diff, format_number, format_value

COST = "cost_per_participant_nok"


@dataclass(frozen=True)
class Line:
    """One sentence of the result, and what kind of statement it is (for the page's styles)."""

    kind: str
    text: str


def reference_name(w: WhatIf, lang: str) -> str:
    """The starting point as the sentences name it, quoted (e.g. «Dagens praksis …»)."""
    return quoted(preset_label(w.reference, lang), lang)


def headline(w: WhatIf, lang: str) -> str:
    """The target outcome with your settings, and its difference from the starting point."""
    _, new, diff = w.outcomes[TARGET_OUTCOME]
    ref = reference_name(w, lang)
    rounded = round(100 * diff.mean, 1)
    if rounded == 0:
        comparison = t("compared_same", lang, reference=ref)
    else:
        key = "compared_more" if rounded > 0 else "compared_less"
        diff_text = format_number(TARGET_OUTCOME, abs(diff.mean), lang=lang)
        comparison = t(key, lang, diff=diff_text, reference=ref)
    value = format_value(TARGET_OUTCOME, new.mean, lang)
    return t("headline", lang, value=value, comparison=comparison)


# --------------------------------------------------------------------------- uncertainty
def spread_line(w: WhatIf, lang: str) -> str | None:
    """Chance in one cohort: where one cohort of this size usually lands, and its difference."""
    _, new, diff = w.outcomes[TARGET_OUTCOME]
    if math.isnan(new.spread_low):
        return None
    values = {
        "n": number(w.cohort_size, lang, 0),
        "low": format_value(TARGET_OUTCOME, new.spread_low, lang),
        "high": format_value(TARGET_OUTCOME, new.spread_high, lang),
    }
    if diff.spread_low == diff.spread_high == 0:  # your settings are the starting point's
        return t("spread_alone", lang, **values)
    return t(
        "spread",
        lang,
        reference=reference_name(w, lang),
        dlow=format_number(TARGET_OUTCOME, diff.spread_low, signed=True, lang=lang),
        dhigh=format_number(TARGET_OUTCOME, diff.spread_high, signed=True, lang=lang),
        **values,
    )


def precision_line(w: WhatIf, lang: str) -> str | None:
    """Simulation precision: how well the runs pin the average down (Monte Carlo error)."""
    _, new, _ = w.outcomes[TARGET_OUTCOME]
    if math.isnan(new.low):
        return None
    half = max(new.mean - new.low, new.high - new.mean)
    half_text = format_number(TARGET_OUTCOME, half, lang=lang)
    return t("precision", lang, half=half_text, runs=w.runs_per_scenario)


def few_runs_line(w: WhatIf, lang: str) -> str | None:
    """A warning when the runs are too few for any range to mean much."""
    if w.runs_per_scenario >= MIN_REPLICATES:
        return None
    return t("few_runs", lang, n=MIN_REPLICATES)


def mechanisms_line(w: WhatIf, lang: str) -> str | None:
    """What we do not know about the mechanisms: the spread across plausible parameter sets.

    Runs of one parameter set (the dashboard's own) cannot show it, and the line says
    that it is left out. Runs over a calibration's posterior ensemble (members ×
    replicates in each :class:`~introsim.app.whatif.Estimate`) give it as a range.
    """
    _, new, _ = w.outcomes[TARGET_OUTCOME]
    spread = new.kinds.parameter
    if math.isnan(spread.low):
        return t("unknown_mechanisms", lang)
    return t(
        "mechanisms",
        lang,
        members=spread.members,
        total=w.ensemble_size,
        low=format_value(TARGET_OUTCOME, spread.low, lang),
        high=format_value(TARGET_OUTCOME, spread.high, lang),
    )


UNCERTAINTY: tuple[tuple[str, Callable[[WhatIf, str], str | None]], ...] = (
    ("spread", spread_line),
    ("precision", precision_line),
    ("few_runs", few_runs_line),
    ("mechanisms", mechanisms_line),
)
"""Each kind of uncertainty the page states, in order: (kind, sentence maker)."""


# --------------------------------------------------------------------------- the rest
def chance_text(hits: int, out_of: int, lang: str) -> str:
    """A chance counted in simulated cases, as words: ``about 70 %``, ``under 10 %``.

    None or all of the cases say only that the chance is below one case's share, or
    above all but one's: ten runs cannot tell 0 % from 5 %.
    """
    if out_of <= 0:
        return t("chance_about", lang, p=MISSING)
    if hits <= 0:
        return t("chance_under", lang, p=percent(1 / out_of, lang, decimals=0))
    if hits >= out_of:
        return t("chance_over", lang, p=percent(1 - 1 / out_of, lang, decimals=0))
    return t("chance_about", lang, p=percent(hits / out_of, lang, decimals=0))


def target_line(w: WhatIf, lang: str) -> str:
    """How likely the municipal target is reached: by one cohort, and across the assumptions.

    With the scenario's own parameters, the chance is the share of simulated cohorts that
    reach it, for those parameters. Over a posterior ensemble it is that share over every
    member's runs (what we do not know about the mechanisms included), and the share of
    the plausible sets of assumptions under which the programme reaches it on average.
    """
    _, new, _ = w.outcomes[TARGET_OUTCOME]
    chance = new.chance_met(TARGET_AT_EXIT)
    hits = round(chance.one_cohort * chance.runs) if chance.runs else 0
    values = {
        "target": percent(TARGET_AT_EXIT, lang, decimals=0),
        "value": format_value(TARGET_OUTCOME, new.mean, lang),
        "n": number(w.cohort_size, lang, 0),
        "chance": chance_text(hits, chance.runs, lang),
        "hits": hits,
        "runs": chance.runs,
    }
    if chance.members < 2:
        return t("target_chance", lang, **values)
    set_hits = round(chance.by_mechanisms * chance.members)
    return t(
        "target_chance_members",
        lang,
        members=chance.members,
        by_sets=chance_text(set_hits, chance.members, lang),
        set_hits=set_hits,
        **values,
    )


def work_and_cost_line(w: WhatIf, lang: str) -> str:
    """Work at 12 months and the public cost per participant, each with one cohort's range."""
    _, work, work_diff = w.outcomes[SUBGROUP_OUTCOME]
    _, cost, cost_diff = w.outcomes[COST]
    return t(
        "work_and_cost",
        lang,
        work=format_value(SUBGROUP_OUTCOME, work.mean, lang),
        work_diff=format_number(SUBGROUP_OUTCOME, work_diff.mean, signed=True, lang=lang),
        reference=reference_name(w, lang),
        work_low=format_value(SUBGROUP_OUTCOME, work.spread_low, lang),
        work_high=format_value(SUBGROUP_OUTCOME, work.spread_high, lang),
        cost=format_value(COST, cost.mean, lang),
        cost_diff=format_diff(COST, cost_diff.mean, lang),
        cost_low=format_value(COST, cost.spread_low, lang),
        cost_high=format_value(COST, cost.spread_high, lang),
    )


def summary(w: WhatIf, lang: str) -> list[Line]:
    """The result in plain words, most important first.

    Returns:
        The headline, the uncertainty lines of :data:`UNCERTAINTY`, the target, and the
        other outcomes.
    """
    lines = [Line("headline", headline(w, lang))]
    for kind, sentence in UNCERTAINTY:
        text = sentence(w, lang)
        if text:
            lines.append(Line(kind, text))
    lines.append(Line("target", target_line(w, lang)))
    lines.append(Line("work_cost", work_and_cost_line(w, lang)))
    return lines
