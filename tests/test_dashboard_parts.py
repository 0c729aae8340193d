"""The dashboard's parts without a browser: levers, what-if runs, charts, export and links."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from introsim.app import charts
from introsim.app.export import WHATIF_SUFFIX, link_query, parse_link, scenario_toml
from introsim.app.i18n import LANGUAGES, TEXT, percent
from introsim.app.levers import (
    BY_PATH,
    LEVER_PATHS,
    LEVERS,
    LeverError,
    apply,
    changed,
    parse,
    schema_field,
    stored_value,
    value_of,
)
from introsim.app.update import CHARTS, update
from introsim.app.whatif import TARGET_AT_EXIT, TARGET_OUTCOME, RunCache, run_whatif
from introsim.experiments.compare import IN_WORK, compare
from introsim.params.loader import load_scenario
from introsim.params.schema import ELIGIBILITY, METHODS

REPS = 3


@pytest.fixture(scope="module")
def base(small_files):
    return load_scenario(small_files["base"])


# --------------------------------------------------------------------------- levers
def test_every_lever_comes_from_its_schema_field():
    assert [lever.path for lever in LEVERS] == list(LEVER_PATHS)
    for lever in LEVERS:
        info = schema_field(lever.path)
        assert lever.meaning == info.description and lever.meaning
        assert lever.unit == info.json_schema_extra["unit"]
        for lang in LANGUAGES:  # a label in each language
            assert TEXT[lever.path][lang]
        if lever.kind != "choice":
            lo, hi = lever.slider
            assert lo < hi
            assert lever.low is None or lo >= lever.low
            assert lever.high is None or hi <= lever.high
    assert BY_PATH["follow_up.method"].choices == METHODS
    assert BY_PATH["wage_subsidy.eligibility"].choices == ELIGIBILITY
    for lever in LEVERS:
        for choice in lever.choices:
            assert f"choice_{choice}" in TEXT


def test_values_outside_the_schema_bounds_are_refused_with_the_bound():
    for lever in LEVERS:
        if lever.high is None:
            continue
        assert parse(lever, lever.high) == lever.high
        with pytest.raises(LeverError) as err:
            parse(lever, lever.high + 1)
        assert f"{lever.high:g}" in str(err.value)
        assert err.value.problems[0].path == lever.path
    with pytest.raises(LeverError, match="whole number"):
        parse(BY_PATH["follow_up.caseload"], "2.5")
    with pytest.raises(LeverError, match="forventet et tall"):
        parse(BY_PATH["wage_subsidy.rate"], "abc", "nb")
    with pytest.raises(LeverError, match="ips"):
        parse(BY_PATH["follow_up.method"], "magic")


def test_apply_validates_the_whole_scenario(base):
    caseload = BY_PATH["follow_up.caseload"]
    sc = apply(base, {"follow_up.caseload": "12", "follow_up.method": "ips"})
    assert sc.follow_up.caseload == 12 and sc.follow_up.method == "ips"
    with pytest.raises(LeverError) as err:
        apply(base, {"follow_up.caseload": caseload.high + 1, "wage_subsidy.rate": -1})
    assert {p.path for p in err.value.problems} == {"follow_up.caseload", "wage_subsidy.rate"}
    # A combination the schema refuses: the subsidy's step-down after its last week.
    short = base.wage_subsidy.step_down_week - 1
    with pytest.raises(LeverError, match="step_down_week"):
        apply(base, {"wage_subsidy.weeks": short})


def test_an_unset_override_shows_the_methods_own_value(base):
    ips = apply(base, {"follow_up.method": "ips"})
    assert stored_value(ips, "follow_up.after_follow_up_weeks") is None
    assert value_of(ips, "follow_up.after_follow_up_weeks") == ips.methods.ips.follow_along_weeks
    assert value_of(ips, "follow_up.language_support_hours") == (
        ips.methods.ips.language_support_hours
    )
    assert changed(base, {"follow_up.method": base.follow_up.method, "cohort.size": 99}) == {
        "cohort.size": 99
    }


# --------------------------------------------------------------------------- what if
def test_whatif_gives_exactly_the_numbers_of_introsim_compare(base):
    chosen = apply(base, {"follow_up.method": "ips", "follow_up.caseload": 15})
    w = run_whatif(base, chosen, REPS)
    named = chosen.with_overrides({"scenario.name": "chosen"})
    c = compare([base, named], REPS)
    assert w.root_seed == c.root_seed == base.scenario.seed
    for outcome in (TARGET_OUTCOME, "employed_12m", "cost_per_participant_nok"):
        ref, new, diff = w.outcomes[outcome]
        row = c.row("chosen", outcome)
        assert (new.mean, new.low, new.high) == (row["mean"], row["ci_low"], row["ci_high"])
        assert (diff.mean, diff.low, diff.high) == (
            row["diff"],
            row["diff_low"],
            row["diff_high"],
        )
        assert ref.mean == c.row(base.scenario.name, outcome)["mean"]
    weekly = c.weekly[(c.weekly["scenario"] == "chosen") & (c.weekly["series"] == IN_WORK)]
    assert w.in_work[1].mean.tolist() == pytest.approx(weekly["mean"].tolist(), nan_ok=True)
    sub = c.subgroups[
        (c.subgroups["scenario"] == "chosen") & (c.subgroups["outcome"] == "employed_12m")
    ]
    assert w.subgroups["diff"].tolist() == pytest.approx(sub["diff"].tolist(), nan_ok=True)


def test_runs_are_cached_and_paired(base):
    cache = RunCache()
    same = run_whatif(base, base, REPS, cache=cache)
    assert same.runs == REPS  # the reference and the unchanged settings are the same runs
    _, _, diff = same.outcomes[TARGET_OUTCOME]
    assert (diff.mean, diff.low, diff.high) == (0.0, 0.0, 0.0)
    chosen = apply(base, {"wage_subsidy.rate": 0.4})
    assert run_whatif(base, chosen, REPS, cache=cache).runs == REPS
    assert run_whatif(base, chosen, REPS, cache=cache).runs == 0
    with pytest.raises(ValueError, match="replications"):
        run_whatif(base, chosen, 1)


# --------------------------------------------------------------------------- charts and update
def test_update_builds_every_chart_and_a_headline_with_the_target(base):
    cache = RunCache()
    for lang in LANGUAGES:
        up = update(base, {"follow_up.method": "ips"}, REPS, lang, large=True, cache=cache)
        assert set(up.figures) == set(CHARTS)
        for fig in up.figures.values():
            assert fig.data and fig.layout.font.size == charts.FONT_SIZE[True]
        target = percent(TARGET_AT_EXIT, lang).replace(",0", "").replace(".0", "")
        assert target in up.headline[1]
        _, new, _ = up.whatif.outcomes[TARGET_OUTCOME]
        assert percent(new.mean, lang) in up.headline[0]
        assert up.seconds > 0
    assert "Kommunenes mål" in up.headline[1]
    with pytest.raises(LeverError):
        update(base, {"cohort.size": 0}, REPS, "en", cache=cache)


def test_one_run_charts_follow_the_model(base):
    from introsim.model.model import IntroModel

    model = IntroModel(base, 1)
    for _ in range(10):
        model.step()
    counts = charts.counts_figure(model, "en")
    assert len(counts.data[0].x) == model.week
    grid = charts.cohort_figure(model, "nb")
    cells = [z for row in grid.data[0].z for z in row if z is not None]
    assert len(cells) == base.cohort.size
    # The grid reaches the browser as JSON, which has no NaN.
    json.dumps(go.FigureWidget(grid).get_state()["_widget_data"], allow_nan=False)


def test_the_watch_view_steps_the_run_and_redraws(base, monkeypatch):
    """Mesa's controller in the page: Step advances the model and the view follows it."""
    import ipyvuetify as v
    import solara

    from introsim.app.app import WatchView
    from introsim.model.model import IntroModel
    from introsim.model.state import STATUS_NAMES
    from introsim.run import replicate_seed

    def texts(cls: str) -> list[str]:
        found = rc.find(v.Html).widgets
        return [w.children[0] for w in found if cls in (w.class_ or "").split()]

    def shown() -> tuple[str, dict[str, int]]:
        counts = {}
        for name in STATUS_NAMES:
            (text,) = texts(f"introsim-watch-count-{name}")
            counts[name] = int(text.rsplit(":", 1)[1].replace(" ", ""))
        (week,) = texts("introsim-watch-week")
        return week, counts

    twin = IntroModel(base, replicate_seed(base.scenario.seed, 0), agents=False)

    def twin_counts() -> dict[str, int]:
        counts = np.bincount(twin.refugees.status, minlength=len(STATUS_NAMES))
        return dict(zip(STATUS_NAMES, counts.tolist(), strict=True))

    _, rc = solara.render(WatchView(base, "en", False), handle_error=False)
    weeks = base.scenario.weeks
    assert shown() == (f"Week 0 of {weeks}", twin_counts())
    seen = {tuple(twin_counts().values())}
    step = rc.find(v.Btn, children=["Step"])
    while len(seen) < 3 and twin.running:  # until the composition has changed twice
        step.widget.click()
        twin.step()
        assert shown() == (f"Week {twin.week} of {weeks}", twin_counts())
        seen.add(tuple(twin_counts().values()))
    assert len(seen) == 3
    counts = rc.find(go.FigureWidget).widgets[-1]
    assert len(counts.data[0].x) == twin.week
    rc.close()


# --------------------------------------------------------------------------- export and links
def test_exported_toml_loads_as_the_same_scenario(base, small_files, tmp_path):
    settings = {"follow_up.method": "se", "wage_subsidy.rate": 0.35, "cohort.size": 150}
    text = scenario_toml(small_files["base"], base, settings, REPS)
    path = tmp_path / "elsewhere" / "exported.toml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    loaded = load_scenario(path)
    expected = apply(base, settings)
    assert loaded.scenario.name == base.scenario.name + WHATIF_SUFFIX
    assert loaded.model_dump(exclude={"scenario"}) == expected.model_dump(exclude={"scenario"})
    assert loaded.scenario.seed == base.scenario.seed
    assert f"--replications {REPS}" in text


def test_a_link_reopens_the_same_settings():
    settings = {"follow_up.caseload": 12, "wage_subsidy.rate": 0.4, "follow_up.method": "ips"}
    query = link_query("ips", settings, "nb", 7, True)
    back = parse_link(query)
    assert (back.preset, back.lang, back.replications, back.projector) == ("ips", "nb", 7, True)
    assert back.settings == settings and not back.problems


def test_a_bad_link_is_reported_not_raised():
    high = BY_PATH["follow_up.caseload"].high
    back = parse_link(f"?follow_up.caseload={high + 1:g}&lang=xx&replications=1&nonsense=3")
    assert back.settings == {}
    assert len(back.problems) == 4
    assert any(f"{high:g}" in p for p in back.problems)
