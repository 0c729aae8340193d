"""The dashboard's parts without a browser: levers, links, what-if runs, words, charts, export."""

from __future__ import annotations

import json
import re
import threading
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard_browser import TEST_POSTERIOR
from english import english_words
from introsim.app import charts, summary
from introsim.app.export import (
    MAX_LINK_FIELDS,
    MEMBERS_FILE,
    WHATIF_SUFFIX,
    export_files,
    link_query,
    parse_link,
    reproduce_command,
)
from introsim.app.i18n import LANGUAGES, TEXT, number, percent, t
from introsim.app.levers import (
    BY_PATH,
    DASHBOARD_LIMITS,
    LEVER_PATHS,
    LEVERS,
    MAX_TEXT,
    REPLICATION_LIMITS,
    REPLICATIONS,
    LeverError,
    accept,
    apply,
    changed,
    neighbours,
    read,
    schema_field,
    shown_value,
    stored_value,
    value_of,
)
from introsim.app.update import CHARTS, Updates, update, work_ahead
from introsim.app.whatif import (
    TARGET_AT_EXIT,
    TARGET_OUTCOME,
    Cancelled,
    Estimate,
    RunCache,
    run_whatif,
    whatif_tasks,
)
from introsim.experiments.compare import IN_WORK, compare
from introsim.params.loader import load_scenario
from introsim.params.schema import ELIGIBILITY, METHODS

REPS = 3
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


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
        for lang in LANGUAGES:  # a label and a meaning in each language
            assert TEXT[lever.path][lang]
            assert TEXT[f"meaning_{lever.path}"][lang]
        if lever.kind != "choice":
            lo, hi = lever.slider
            assert lo < hi
            assert lever.low is None or lo >= lever.low
            assert lever.high is None or hi <= lever.high
        assert lever.scale == (100.0 if lever.unit.startswith("share") else 1.0)
    assert BY_PATH["follow_up.method"].choices == METHODS
    assert BY_PATH["wage_subsidy.eligibility"].choices == ELIGIBILITY
    for lever in LEVERS:
        for choice in lever.choices:
            assert f"choice_{choice}" in TEXT
    # A dashboard limit narrower than the schema's (a shared server answers in seconds).
    assert (BY_PATH["cohort.size"].low, BY_PATH["cohort.size"].high) == DASHBOARD_LIMITS[
        "cohort.size"
    ]


def test_a_share_is_typed_in_per_cent_and_held_as_a_share():
    rate = BY_PATH["wage_subsidy.rate"]
    assert read(rate, "40") == 0.4
    with pytest.raises(LeverError):  # the same text in a link (stored units) means 40: refused
        read(rate, "40", shown=False)
    with pytest.raises(LeverError) as err:
        read(rate, "4000")
    message = err.value.problems[0].message
    assert "100 %" in message and "4000 %" in message  # said in the units on the screen
    assert read(rate, "33,5", "nb") == 0.335  # a decimal comma
    assert read(BY_PATH["cohort.size"], "1 000") == 1000  # a space between thousands
    assert read(rate, 0.4, shown=False) == 0.4
    assert rate.text(0.4, "en") == "40" and rate.text(0.335, "nb") == "33,5"
    assert shown_value(rate, 0.4, "nb") == "40\u00a0%"


def test_values_outside_the_limits_are_refused_with_the_limit():
    for lever in LEVERS:
        if lever.high is None:
            continue
        top = lever.high * lever.scale
        assert read(lever, f"{top:g}") == pytest.approx(lever.high)
        with pytest.raises(LeverError) as err:
            read(lever, f"{top + 1:g}")
        assert f"{top:g}" in err.value.problems[0].message
        assert err.value.problems[0].path == lever.path
    with pytest.raises(LeverError, match="whole number"):
        read(BY_PATH["follow_up.caseload"], "2.5")
    with pytest.raises(LeverError, match="skriv et tall"):
        read(BY_PATH["wage_subsidy.rate"], "abc", "nb")
    with pytest.raises(LeverError, match="IPS"):
        read(BY_PATH["follow_up.method"], "magic")
    for bad in ("nan", "inf", "-inf", "1e999"):
        with pytest.raises(LeverError):
            read(BY_PATH["follow_up.caseload"], bad)


def test_a_very_long_value_is_refused_in_one_short_line():
    huge = "9" * 5000
    with pytest.raises(LeverError) as err:
        read(BY_PATH["follow_up.caseload"], huge)
    message = err.value.problems[0].message
    assert len(message) < 80 and "5" in message and huge[:MAX_TEXT] not in message


def test_accept_keeps_the_settings_on_refusal_and_says_what_conflicts(base):
    settings = accept(base, {}, "wage_subsidy.rate", "40")
    assert settings == {"wage_subsidy.rate": 0.4}
    before = dict(settings)
    with pytest.raises(LeverError):
        accept(base, settings, "follow_up.caseload", "500")
    assert settings == before  # nothing applied, nothing clamped
    # A combination the schema refuses: the subsidy's step-down after its last week.
    short = base.wage_subsidy.step_down_week - 1
    with pytest.raises(LeverError) as err:
        accept(base, settings, "wage_subsidy.weeks", str(short))
    assert "step_down_week" in str(err.value)
    assert settings == before
    # Setting a lever back to the preset's own value leaves it out of the settings.
    assert accept(base, settings, "wage_subsidy.rate", "0") == {}


def test_apply_validates_the_whole_scenario(base):
    caseload = BY_PATH["follow_up.caseload"]
    sc = apply(base, {"follow_up.caseload": "12", "follow_up.method": "ips"})
    assert sc.follow_up.caseload == 12 and sc.follow_up.method == "ips"
    with pytest.raises(LeverError) as err:
        apply(base, {"follow_up.caseload": caseload.high + 1, "wage_subsidy.rate": -1})
    assert {p.path for p in err.value.problems} == {"follow_up.caseload", "wage_subsidy.rate"}


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


# --------------------------------------------------------------------------- links
def _link(query: str, small_files, lang: str = "en"):
    presets = {name: small_files[name] for name in ("base", "ips")}
    return parse_link(query, presets, lambda name: load_scenario(presets[name]), "base", lang)


def test_a_link_reopens_the_same_settings(small_files):
    settings = {"follow_up.method": "ips", "follow_up.caseload": 12, "wage_subsidy.rate": 0.4}
    query = link_query("ips", settings, "nb", 7, True)
    back = _link(query, small_files)
    assert (back.preset, back.lang, back.replications, back.projector) == ("ips", "nb", 7, True)
    assert back.settings == {"follow_up.caseload": 12, "wage_subsidy.rate": 0.4}  # ips is ips's
    assert not back.problems


def test_every_value_of_a_link_goes_through_the_levers_limits(small_files):
    huge = "1" * 5000
    back = _link(
        f"?replications=1000000&follow_up.caseload={huge}&wage_subsidy.rate=40"
        "&cohort.size=2000000&lang=xx&preset=../../etc&nonsense=3",
        small_files,
    )
    assert back.settings == {} and back.replications is None and back.preset is None
    text = "\n".join(back.problems)
    assert len(back.problems) == 7, text
    assert f"{REPLICATION_LIMITS[1]}" in text  # the slider's own limit
    assert f"{DASHBOARD_LIMITS['cohort.size'][1]:g}" in text.replace("\u202f", "")
    assert huge[:40] not in text and max(len(p) for p in back.problems) < 200
    assert "Traceback" not in text and "/" not in text.replace("../../etc", "")


def test_a_link_checks_its_values_together(small_files):
    base = load_scenario(small_files["base"])
    short = base.wage_subsidy.step_down_week - 1
    back = _link(f"wage_subsidy.weeks={short}&wage_subsidy.rate=0.4", small_files)
    assert back.settings == {"wage_subsidy.rate": 0.4}
    assert len(back.problems) == 1 and "step_down_week" in back.problems[0]


def test_a_link_with_too_many_fields_is_cut_short(small_files):
    back = _link("&".join(f"x{k}=1" for k in range(MAX_LINK_FIELDS + 5)), small_files, "nb")
    assert any("mer enn" in p for p in back.problems)
    assert len(back.problems) <= MAX_LINK_FIELDS + 1


def test_the_runs_per_scenario_have_one_limit_everywhere():
    assert read(REPLICATIONS, str(REPLICATION_LIMITS[1])) == REPLICATION_LIMITS[1]
    with pytest.raises(LeverError):
        read(REPLICATIONS, str(REPLICATION_LIMITS[1] + 1))
    with pytest.raises(LeverError):
        read(REPLICATIONS, str(REPLICATION_LIMITS[0] - 1))


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
        assert (new.mean, new.low, new.high) == pytest.approx(
            (row["mean"], row["ci_low"], row["ci_high"])
        )
        assert (diff.mean, diff.low, diff.high) == pytest.approx(
            (row["diff"], row["diff_low"], row["diff_high"])
        )
        assert ref.mean == pytest.approx(c.row(base.scenario.name, outcome)["mean"])
        assert (new.spread_low, new.spread_high) == pytest.approx(
            (row["cohort_low"], row["cohort_high"]), nan_ok=True
        )
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


def test_runs_on_a_pool_give_the_same_numbers_and_stop_when_cancelled(base):
    chosen = apply(base, {"follow_up.caseload": 9})
    here = run_whatif(base, chosen, REPS)
    with ThreadPoolExecutor(2) as pool:
        there = run_whatif(base, chosen, REPS, executor=pool)
        for outcome in (TARGET_OUTCOME, "cost_per_participant_nok"):
            assert there.outcomes[outcome][2].mean == here.outcomes[outcome][2].mean
        # A computation no longer wanted stops: nothing more is asked of the pool.
        cache, asked = RunCache(), threading.Event()

        def cancelled() -> bool:
            asked.set()
            return True

        other = apply(base, {"follow_up.caseload": 11})
        with pytest.raises(Cancelled):
            run_whatif(base, other, 8, cache=cache, executor=pool, cancelled=cancelled)
        assert asked.is_set() and len(cache) < 16


def test_the_next_steps_of_a_lever_are_its_sliders_neighbours(base):
    caseload = stored_value(base, "follow_up.caseload")
    assert neighbours(base, {}, "follow_up.caseload") == [
        {"follow_up.caseload": caseload - 1},
        {"follow_up.caseload": caseload + 1},
    ]
    rate = BY_PATH["wage_subsidy.rate"]
    at = {"wage_subsidy.rate": 0.4}
    assert neighbours(base, at, rate.path) == [
        accept(base, at, rate.path, 40 - rate.step * 100),
        accept(base, at, rate.path, 40 + rate.step * 100),
    ]
    low = {"follow_up.caseload": BY_PATH["follow_up.caseload"].low}
    assert neighbours(base, low, "follow_up.caseload") == [
        {"follow_up.caseload": low["follow_up.caseload"] + 1}
    ]
    assert neighbours(base, {}, "follow_up.method") == []  # a choice has no next step


class _Counted:
    """Counts each run the cache asks for (in this process: a thread pool); a closed gate
    holds every run until it opens."""

    def __init__(self, monkeypatch):
        import introsim.app.whatif as whatif

        self.keys: list[tuple[str, int, int]] = []
        self.gate = threading.Event()
        self.gate.set()
        real = whatif.run_replicate

        def run(scenario, root, replicate):
            self.keys.append((scenario.digest(), root, replicate))
            assert self.gate.wait(120)
            return real(scenario, root, replicate)

        monkeypatch.setattr(whatif, "run_replicate", run)


def _settled(cache: RunCache, n: int) -> None:
    import time

    deadline = time.monotonic() + 120
    while len(cache) < n and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_whatif_worked_out_ahead_is_the_one_computed_afresh(base, monkeypatch):
    counted = _Counted(monkeypatch)
    chosen = {"follow_up.caseload": 9}
    afresh = update(base, chosen, REPS, "en")
    with ThreadPoolExecutor(2) as pool:
        cache, kept = RunCache(), Updates()
        update(base, {}, REPS, "en", cache=cache, executor=pool)  # the reference, as at start
        counted.keys.clear()
        assert work_ahead(base, [chosen], REPS, "en", False, cache, pool, kept) == 1
        assert len(counted.keys) == REPS  # the chosen side only: the reference is kept
        counted.keys.clear()
        ahead = update(base, chosen, REPS, "en", cache=cache, executor=pool, kept=kept)
    assert counted.keys == [] and ahead.runs == 0  # nothing run again, nothing made again
    assert ahead.lines == afresh.lines and ahead.data == afresh.data
    for outcome in (TARGET_OUTCOME, "cost_per_participant_nok"):
        for a, b in zip(
            ahead.whatif.outcomes[outcome], afresh.whatif.outcomes[outcome], strict=True
        ):
            assert (a.mean, a.low, a.high) == (b.mean, b.low, b.high)


def test_a_run_under_way_is_waited_for_and_guesses_make_way(base, monkeypatch):
    counted = _Counted(monkeypatch)
    guessed = [{"follow_up.caseload": c} for c in (5, 6, 7, 8)]
    asked = apply(base, {"follow_up.caseload": 5})
    with ThreadPoolExecutor(2) as pool:
        cache = RunCache(ahead=2)
        run_whatif(base, base, REPS, cache=cache, executor=pool)
        counted.keys.clear()
        counted.gate.clear()  # the guesses under way wait until the page asks
        tasks = [t for g in guessed for t in whatif_tasks(base, apply(base, g), REPS)[0]]
        cache.prefetch(tasks, pool)
        assert cache.queued() == 4 * REPS - 2  # the chosen sides only; one per worker sent

        def asking() -> bool:  # asked once its runs are sent: the guesses may go on now
            counted.gate.set()
            return False

        # Asked for now: the guesses it needs are waited for, the others are dropped.
        w = run_whatif(base, asked, REPS, cache=cache, executor=pool, cancelled=asking)
    tasks, _, _ = whatif_tasks(base, asked, REPS)
    wanted = [(sc.digest(), root, r) for sc, root, r in tasks[REPS:]]
    assert sorted(counted.keys[:2]) == sorted(wanted[:2])  # the guesses under way: its own
    assert sorted(counted.keys) == sorted(wanted)  # each once; no other guess was run
    assert w.runs == REPS


def test_a_guess_no_longer_wanted_sends_no_more_runs(base, monkeypatch):
    counted = _Counted(monkeypatch)
    with ThreadPoolExecutor(2) as pool:
        cache = RunCache(ahead=2)
        run_whatif(base, base, REPS, cache=cache, executor=pool)
        counted.keys.clear()
        counted.gate.clear()
        asked = iter([True] + [False] * 99)  # wanted at first, then the page is gone
        guessed = [{"follow_up.caseload": c} for c in (5, 6)]
        done = work_ahead(
            base, guessed, REPS, "en", False, cache, pool, Updates(), wanted=lambda: next(asked)
        )
        assert done == 0 and cache.queued() == 0
        counted.gate.set()
    assert len(counted.keys) == 2  # the runs under way (one per worker) finished; no more


def test_the_cohort_spread_is_wider_than_the_precision_of_the_average(base):
    w = run_whatif(base, apply(base, {"follow_up.method": "ips"}), 6)
    _, new, _ = w.outcomes[TARGET_OUTCOME]
    assert new.spread_low <= new.mean <= new.spread_high
    assert 0 <= new.spread_low and new.spread_high <= 1
    assert np.isnan(new.kinds.parameter.low)  # one parameter set: not known
    band = w.in_work[1]
    finite = np.isfinite(band.mean)
    assert np.all(band.spread_low[finite] <= band.mean[finite] + 1e-12)
    assert np.all(band.mean[finite] <= band.spread_high[finite] + 1e-12)


def test_column_quantiles_are_numpys_to_the_last_bit():
    import warnings

    from introsim.experiments.statistics import nan_quantiles

    rng = np.random.default_rng(5)
    for _ in range(60):
        x = rng.normal(size=(int(rng.integers(1, 30)), int(rng.integers(1, 200))))
        x[rng.random(x.shape) < rng.choice([0.0, 0.1, 0.6])] = np.nan
        x[:, : x.shape[1] // 4] = np.nan if rng.random() < 0.5 else x[:, : x.shape[1] // 4]
        with warnings.catch_warnings():  # all-NaN columns warn in numpy
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = [np.nanquantile(x, q, axis=0) for q in (0.025, 0.975)]
        for got, want in zip(nan_quantiles(x, (0.025, 0.975)), expected, strict=True):
            assert np.array_equal(got, want, equal_nan=True)


# --------------------------------------------------------------------------- words
def test_update_builds_every_chart_and_says_what_it_was_computed_for(base):
    cache, kept = RunCache(), Updates()
    for lang in LANGUAGES:
        up = update(base, {"follow_up.method": "ips"}, REPS, lang, True, cache, kept=kept)
        assert set(up.figures) == set(CHARTS) == set(up.data)
        for name, fig in up.figures.items():
            assert fig.data and fig.layout.font.size == charts.FONT_SIZE[True]
            json.dumps(up.data[name], allow_nan=False)  # plain JSON for the browser
        kinds = [line.kind for line in up.lines]
        assert kinds[0] == "headline" and kinds[-2:] == ["target", "work_cost"]
        assert {"spread", "precision", "mechanisms", "few_runs"} <= set(kinds)
        _, new, _ = up.whatif.outcomes[TARGET_OUTCOME]
        assert percent(new.mean, lang) in up.lines[0].text
        assert percent(TARGET_AT_EXIT, lang, 0) in up.headline[kinds.index("target")]
        assert up.settings == {"follow_up.method": "ips"}
    again = update(base, {"follow_up.method": "ips"}, REPS, "nb", True, cache, kept=kept)
    assert again.runs == 0 and again.lines == up.lines  # kept: no work at all
    assert "Sjansen for å nå kommunenes mål" in up.headline[kinds.index("target")]
    with pytest.raises(LeverError):
        update(base, {"cohort.size": 0}, REPS, "en", cache=cache)


def test_a_chart_reaches_the_browser_as_the_json_text_of_its_data(base):
    """One string per chart (the renderer compares one value, not a figure's thousands)."""
    import solara

    from introsim.app.app import Chart
    from introsim.app.widgets import PlotlyChart

    up = update(base, {"follow_up.caseload": 20}, REPS, "nb", cache=RunCache())
    for name, data in up.data.items():
        _box, rc = solara.render(Chart(data, name), handle_error=False)
        (figure,) = [w.figure for w in rc.find(PlotlyChart).widgets]
        assert isinstance(figure, str) and json.loads(figure) == data
        rc.close()


def test_moving_one_lever_renders_that_lever_again_and_no_other(small_files, monkeypatch):
    """A slider step re-renders only its own lever's controls: each lever's callback stays
    the same object for the page's life, so the other levers' arguments are equal."""
    import ipyvuetify as v
    import solara

    from introsim.app import server
    from introsim.app.app import Dashboard, LeverControl
    from introsim.app.widgets import Painted

    monkeypatch.setattr(
        server,
        "_CONFIG",
        [
            server.DashboardConfig(
                presets={"base": small_files["base"]},
                start="base",
                lang="en",
                replications=REPS,
                host=server.LOCAL_HOST,
                port=server.DEFAULT_PORT,
                jobs=1,
            )
        ],
    )
    _box, rc = solara.render(Dashboard(), handle_error=False)
    try:
        rc.find(Painted).widget.painted = True  # as the browser says after its first paint
        label = BY_PATH["follow_up.caseload"].label("en")

        def caseload() -> v.Slider:
            (slider,) = [
                w
                for w in rc.find(v.Slider, class_="introsim-slider").widgets
                if w.attributes["aria-label"] == label
            ]
            return slider

        shown = caseload().v_model
        before = LeverControl.render_count
        caseload().fire_event("change", shown - 1)
        assert LeverControl.render_count - before == 1
        assert caseload().v_model == shown - 1
    finally:
        rc.close()


def test_one_more_kind_of_uncertainty_is_one_more_entry(base, monkeypatch):
    w = run_whatif(base, apply(base, {"follow_up.caseload": 12}), REPS)
    extra = ("posterior", lambda what, lang: f"members: {what.replications}")
    monkeypatch.setattr(summary, "UNCERTAINTY", (*summary.UNCERTAINTY, extra))
    lines = summary.summary(w, "en")
    assert [line.kind for line in lines][-3:] == ["posterior", "target", "work_cost"]
    assert lines[-3].text == f"members: {REPS}"


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    from introsim.params.ensemble_file import load_ensemble

    path = tmp_path_factory.mktemp("posterior") / "posterior.toml"
    path.write_text(TEST_POSTERIOR, encoding="utf-8")
    return load_ensemble(path)


def test_members_are_spread_through_the_ensemble_two_runs_each():
    from introsim.app.whatif import ensemble_design

    assert ensemble_design(120, 10) == (0, 24, 48, 72, 96)
    assert ensemble_design(3, 10) == (0, 1, 2)  # never more members than there are
    assert ensemble_design(120, 2) == (0, 60)  # two at least: a spread needs two
    assert ensemble_design(120, 11) == ensemble_design(120, 10)


def test_a_whatif_over_a_posterior_is_introsim_compare_over_its_exported_members(
    base, ensemble, tmp_path
):
    """The dashboard's numbers over an ensemble are those of the exported files, exactly."""
    from introsim.params.ensemble_file import load_ensemble

    settings = {"follow_up.method": "ips"}
    chosen = apply(base, settings)
    up = update(base, settings, 4, "en", ensemble=ensemble)
    w = up.whatif
    assert w.members == (0, 1) and w.replicates == 2 and w.runs_per_scenario == 4
    files = export_files(base, chosen, settings, w.replicates, ensemble, w.members)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    exported = load_ensemble(tmp_path / MEMBERS_FILE)
    assert list(exported.members) == [ensemble.members[k] for k in w.members]
    scenarios = [load_scenario(tmp_path / name) for name in list(files)[:2]]
    c = compare(scenarios, w.replicates, ensemble=exported)
    whatif_name = scenarios[1].scenario.name
    for outcome in (TARGET_OUTCOME, "employed_12m", "cost_per_participant_nok"):
        _, new, diff = w.outcomes[outcome]
        row = c.row(whatif_name, outcome)
        assert (new.mean, new.low, new.high) == pytest.approx(
            (row["mean"], row["ci_low"], row["ci_high"])
        )
        assert (new.kinds.parameter.low, new.kinds.parameter.high) == pytest.approx(
            (row["parameter_low"], row["parameter_high"])
        )
        assert (diff.mean, diff.kinds.parameter.low) == pytest.approx(
            (row["diff"], row["diff_parameter_low"])
        )
    reference_file, whatif_file, _ = files
    command = reproduce_command(reference_file, whatif_file, w.replicates, MEMBERS_FILE)
    assert all(command in text for text in files.values())
    assert f"--ensemble {MEMBERS_FILE}" in command and "--replications 2" in command
    # The words name the members, and the mechanisms' range is there.
    kinds = {line.kind: line.text for line in up.lines}
    assert "across 2 of the 3 plausible sets" in kinds["mechanisms"]
    assert "over 2 plausible sets of assumptions" in kinds["target"]


def test_the_target_sentence_is_a_chance_counted_in_simulated_cohorts(base, ensemble):
    """How likely, not whether: the share of simulated cohorts, and of plausible sets."""
    for settings in ({}, {"follow_up.method": "ips"}, {"cohort.language_mean": 0.2}):
        w = run_whatif(base, apply(base, settings), 6)
        _, new, _ = w.outcomes[TARGET_OUTCOME]
        hits = int((new.values >= TARGET_AT_EXIT).sum())
        text = summary.target_line(w, "en")
        assert text.startswith("Chance of reaching the municipal target of 55 %: ")
        assert f"({hits} of 6 simulated cohorts reach it" in text
        assert summary.chance_text(hits, 6, "en") in text
        assert "if the model's assumptions are right" in text
        assert "is reached" not in text and "not reached" not in text
    over = run_whatif(base, apply(base, {"follow_up.method": "ips"}), 6, ensemble=ensemble)
    _, new, _ = over.outcomes[TARGET_OUTCOME]
    sets = int((new.values.mean(axis=1) >= TARGET_AT_EXIT).sum())
    text = summary.target_line(over, "nb")
    assert text.startswith("Sjansen for å nå kommunenes mål om 55\u00a0%: ")
    assert f"({sets} av 3;" in text


def test_a_chance_from_few_cases_never_reads_as_certain():
    assert summary.chance_text(7, 10, "en") == "about 70 %"
    assert summary.chance_text(0, 10, "en") == "under 10 %"
    assert summary.chance_text(10, 10, "en") == "over 90 %"
    assert summary.chance_text(3, 4, "nb") == "omtrent 75\u00a0%"


def test_the_payers_chart_is_the_ledgers_flows_and_net_cost(base):
    from introsim.model.ledger import LEDGER_FLOW_VALUES, flow_rows, net_cost_name
    from introsim.params.schema import PAYERS

    w = run_whatif(base, apply(base, {"follow_up.method": "ips"}), REPS)
    fig = go.Figure(charts.payers_figure(w, "en"))  # plain data, and valid plotly
    bars = [tr for tr in fig.data if tr.type == "bar"]
    (net,) = [tr for tr in fig.data if tr.type == "scatter"]
    payers = [p for p in PAYERS if any(w.flows[0][f"pv_{p}_{f}_nok"] for f in _flows())]
    assert list(net.x) == pytest.approx(
        [w.flows[s][net_cost_name(p)] for p in payers for s in (0, 1)]
    )
    # Each bar's flows add up to its net cost (costs one way, income the other).
    for k in range(len(net.x)):
        assert sum(tr.x[k] for tr in bars) == pytest.approx(net.x[k], rel=1e-9, abs=1e-6)
    rows = flow_rows(w.flows[1])
    assert {tr.name for tr in bars} == {t(f"flow_{f}", "en") for f in set(rows["flow"])}
    assert set(LEDGER_FLOW_VALUES) <= set(w.flows[1])
    # The flows are the runs' averages, as introsim compare has them.
    named = apply(base, {"follow_up.method": "ips"}).with_overrides({"scenario.name": "ips"})
    c = compare([base, named], REPS)
    for name in (net_cost_name("municipality"), "pv_state_income_tax_nok"):
        assert w.flows[1][name] == pytest.approx(c.row("ips", name)["mean"])


def _flows():
    from introsim.model.ledger import FLOWS

    return FLOWS


def test_an_ensemble_of_assumptions_is_said_when_the_runs_come_from_one():
    rng = np.random.default_rng(3)
    members = 0.5 + 0.05 * np.arange(4)[:, None] + rng.normal(0, 0.01, (4, 5))
    est = Estimate.of(members, (0.0, 1.0), 500)
    assert est.kinds.parameter.members == 4 and est.kinds.parameter.low < est.kinds.parameter.high
    chance = est.chance_met(TARGET_AT_EXIT)
    assert chance.members == 4 and 0 < chance.by_mechanisms < 1


def test_every_levers_source_has_its_bokmaal_words():
    """A source changed in the schema shows in English on the bokmål page until translated."""
    from introsim.app.i18n import SOURCES

    for lever in LEVERS:
        if lever.source:  # a name may read the same ("IMDi/Norstat 2017"), but it is written
            assert SOURCES.get(lever.source, {}).get("nb"), lever.path
    used = {lever.source for lever in LEVERS}
    assert set(SOURCES) <= used  # no translation of a source no lever has any more


def test_numbers_are_written_the_languages_way():
    from introsim.reporting.format import format_diff, format_value

    assert number(12345.67, "nb", 1) == "12\u202f345,7"
    assert number(12345.67, "en", 1) == "12 345.7"  # as the reports write it
    assert number(-0.04, "nb", 1) == "0,0"  # no minus zero
    assert number(-3.2, "nb", 1) == "−3,2"
    assert percent(0.528, "nb") == "52,8\u00a0%"
    # The sentences' outcomes: the reports' formats, in bokmål.
    assert format_value(TARGET_OUTCOME, 0.528, "nb") == "52,8\u00a0%"
    assert format_value("cost_per_participant_nok", 312400, "nb") == "312\u202f400\u00a0kr"
    assert format_value("cost_per_participant_nok", 312400) == "312 400 NOK"  # unchanged
    assert format_diff("employed_12m", 0.031, "nb") == "+3,1 prosentpoeng"


def test_every_text_has_bokmaal_without_english_words():
    words = english_words()
    assert {"the", "reset", "step", "levers", "replicates", "baseline", "loading"} <= words
    assert not {"per", "ips", "english"} & words
    for key, entry in TEXT.items():
        assert entry.get("nb"), key
        text = re.sub(r"\{[^}]*\}", "", entry["nb"])  # placeholders are not words
        found = {w for w in re.findall(r"[A-Za-zÆØÅæøå]+", text) if w.lower() in words}
        assert not found, (key, found)


def test_the_run_charts_follow_the_model(base):
    from introsim.model.model import IntroModel

    model = IntroModel(base, 1)
    for _ in range(10):
        model.step()
    counts = charts.counts_figure(model, "en")
    assert len(counts.data[0].x) == model.week
    grid = charts.cohort_figure(model, "nb")
    cells = [z for row in grid.data[0].z for z in row if z is not None]
    assert len(cells) == base.cohort.size
    json.dumps(charts.figure_json(grid), allow_nan=False)  # the browser gets JSON: no NaN
    assert isinstance(grid, go.Figure)


def test_the_watch_view_steps_the_run_and_redraws(base):
    """The run in the page: Next week advances the model and the view follows it."""
    import ipyvuetify as v
    import solara

    from introsim.app.app import WatchView
    from introsim.model.model import IntroModel
    from introsim.model.state import STATUS_NAMES
    from introsim.run import replicate_seed

    def html(widget) -> list:
        """Every Html widget in the tree below ``widget`` (depth first)."""
        found = [widget] if isinstance(widget, v.Html) else []
        for child in getattr(widget, "children", None) or []:
            if not isinstance(child, str):
                found += html(child)
        return found

    def texts(cls: str) -> list[str]:
        return [w.children[0] for w in html(box) if cls in (w.class_ or "").split()]

    def shown() -> tuple[str, dict[str, int]]:
        counts = {}
        for name in STATUS_NAMES:
            (text,) = texts(f"introsim-watch-count-{name}")
            counts[name] = int(re.sub(r"\D", "", text.rsplit(":", 1)[1]))
        (week,) = texts("introsim-watch-week")
        return week, counts

    twin = IntroModel(base, replicate_seed(base.scenario.seed, 0), agents=False)

    def twin_counts() -> dict[str, int]:
        counts = np.bincount(twin.refugees.status, minlength=len(STATUS_NAMES))
        return dict(zip(STATUS_NAMES, counts.tolist(), strict=True))

    box, rc = solara.render(WatchView(base, "nb", False), handle_error=False)
    weeks = base.scenario.weeks
    assert shown() == (t("watch_week", "nb", week=0, weeks=weeks), twin_counts())
    seen = {tuple(twin_counts().values())}
    step = rc.find(v.Btn, children=[t("step", "nb")])
    while len(seen) < 3 and twin.running:  # until the composition has changed twice
        step.widget.click()
        twin.step()
        assert shown() == (t("watch_week", "nb", week=twin.week, weeks=weeks), twin_counts())
        seen.add(tuple(twin_counts().values()))
    assert len(seen) == 3
    rc.close()


# --------------------------------------------------------------------------- export
@pytest.mark.parametrize("name", ["baseline", "ips", "wage_subsidy_60", "low_language_cohort"])
def test_exported_files_hold_every_value_and_load_anywhere(name, tmp_path):
    preset = load_scenario(SCENARIOS / f"{name}.toml")
    settings = {"follow_up.caseload": 17, "wage_subsidy.rate": 0.35, "cohort.size": 150}
    chosen = apply(preset, settings)
    files = export_files(preset, chosen, settings, REPS)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for filename, text in files.items():
        assert "extends" not in tomllib.loads(text)
        (elsewhere / filename).write_text(text, encoding="utf-8")
    whatif = load_scenario(elsewhere / f"{name}{WHATIF_SUFFIX}.toml")
    reference = load_scenario(elsewhere / f"{name}.toml")
    assert whatif.model_dump(exclude={"scenario"}) == chosen.model_dump(exclude={"scenario"})
    assert reference.model_dump(exclude={"scenario"}) == preset.model_dump(exclude={"scenario"})
    assert whatif.scenario.seed == preset.scenario.seed
    text = files[f"{name}{WHATIF_SUFFIX}.toml"]
    assert f"introsim compare {name}.toml {name}{WHATIF_SUFFIX}.toml --replications {REPS}" in text


def test_an_exported_scenario_runs_with_introsim_run_on_a_fresh_checkout_elsewhere(tmp_path):
    """The exported what-if, alone in a folder outside the repository, runs with ``introsim run``
    on a copy of the tracked source only (no scenarios/, calibration/ or anything untracked),
    and gives the same summary as the repository's own ``introsim run`` of the file."""
    import os
    import shutil
    import subprocess
    import sys

    from clitools import run_cli

    root = SCENARIOS.parent
    listed = subprocess.run(
        ["git", "ls-files", "-z", "src"], cwd=root, capture_output=True, check=False
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: no tracked files to copy")
    checkout = tmp_path / "checkout"
    for rel in filter(None, listed.stdout.decode().split("\0")):
        (checkout / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, checkout / rel)
    preset = load_scenario(SCENARIOS / "baseline.toml")
    settings = {"follow_up.method": "ips", "wage_subsidy.rate": 0.4, "cohort.size": 120}
    files = export_files(preset, apply(preset, settings), settings, REPS)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    name = f"baseline{WHATIF_SUFFIX}.toml"
    (elsewhere / name).write_text(files[name], encoding="utf-8")

    env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
    where = subprocess.run(
        [sys.executable, "-c", "import introsim; print(introsim.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip() == str(checkout / "src" / "introsim" / "__init__.py")
    res = subprocess.run(
        [sys.executable, "-m", "introsim", "run", name, "--out", "out"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    here = run_cli("run", elsewhere / name, "--out", tmp_path / "here", timeout=900)
    assert here.returncode == 0, here.stderr
    there = json.loads((elsewhere / "out" / "summary.json").read_text(encoding="utf-8"))
    ours = json.loads((tmp_path / "here" / "summary.json").read_text(encoding="utf-8"))
    same = ("scenario_hash", "seed", "participants", "weeks", "outcomes", "costs")
    assert {k: there[k] for k in (*same, "public_finances")} == {
        k: ours[k] for k in (*same, "public_finances")
    }
