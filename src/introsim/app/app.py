"""The dashboard page (Solara): levers, the what-if result, one run week by week, export.

Started by ``introsim dashboard``; :mod:`introsim.app.server` says what it starts with.

The page holds only accepted settings: a value typed, slid or linked goes through
:func:`introsim.app.levers.accept` first, and a refused one changes nothing (the
box keeps the refused text with the reason; every other control, and the result,
keep the last accepted values). Results are computed in a thread of the session,
on the server's warm worker pool; newer settings, or the session closing, cancel
a computation that is still waiting for runs.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import solara
import solara.lab
from solara.components.input import use_change

from introsim.app import charts
from introsim.app.export import export_files, link_query, parse_link, reproduce_command
from introsim.app.i18n import LANGUAGES, number, preset_label, quoted, seconds, source, t
from introsim.app.levers import (
    LEVERS,
    REPLICATIONS,
    Lever,
    LeverError,
    accept,
    apply,
    neighbours,
    read,
    shown_value,
    value_of,
)
from introsim.app.server import RUNTIME, config, plotly_url, preset
from introsim.app.update import CHARTS, Update, update, update_key, work_ahead
from introsim.app.whatif import Cancelled
from introsim.app.widgets import (
    FullScreenButton,
    Painted,
    Player,
    PlotlyChart,
    SnapshotButton,
)
from introsim.model.model import IntroModel
from introsim.model.state import STATUS_NAMES
from introsim.params.schema import Scenario
from introsim.run import replicate_seed

log = logging.getLogger(__name__)

WATCH_SPEEDS: tuple[int, ...] = (2, 5, 10, 20, 52)
"""Weeks a second a run can play at (52: a year a second)."""
DEFAULT_SPEED = 10
SUFFIX_CHARS = 10
"""A unit this short is written inside the box (``%``, ``uker``); a longer one only above it."""
DRAWER_BELOW_PX = 700
"""Below this window width the levers are a drawer that starts closed."""

CSS = f"""
.introsim-page {{ font-size: 1rem; }}
.introsim-page .v-btn, .introsim-page .v-tab {{ text-transform: none; letter-spacing: normal; }}
.introsim-bar {{ display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px;
  padding: 8px 16px; border-bottom: 1px solid #ddd; background: #fafafa; }}
.introsim-title {{ font-size: 1.25rem; font-weight: 600; flex: 1 1 14em; }}
.introsim-bar-buttons {{ display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }}
.introsim-body {{ display: flex; align-items: flex-start; }}
.introsim-levers {{ flex: 0 0 340px; width: 340px; box-sizing: border-box; padding: 12px 16px;
  border-right: 1px solid #ddd; position: sticky; top: 0; max-height: 100vh; overflow-y: auto;
  background: white; }}
.introsim-levers-head {{ display: flex; justify-content: space-between; align-items: center;
  margin-bottom: 14px; }}
.introsim-main {{ flex: 1 1 auto; min-width: 0; padding: 12px 16px; }}
.introsim-open-levers, .introsim-close-levers, .introsim-scrim {{ display: none !important; }}
.introsim-lever {{ margin: 10px 0 14px 0; }}
.introsim-lever-label {{ font-weight: 500; }}
.introsim-lever-head {{ flex-wrap: wrap; column-gap: 8px; }}
.introsim-lever-value {{ font-weight: 600; overflow-wrap: anywhere; }}
.introsim-lever-row {{ display: flex; align-items: center; gap: 10px; }}
.introsim-lever-row .v-input__slider {{ flex: 1 1 auto; }}
.introsim-lever-box {{ flex: 0 0 7.5em; max-width: 7.5em; }}
.introsim-line, .introsim-computed-for {{ margin: 0 0 0.6em 0; line-height: 1.5;
  font-size: 1rem; }}
.introsim-line-headline {{ font-size: 1.3rem; font-weight: 600; }}
.introsim-line-spread, .introsim-line-precision, .introsim-line-mechanisms,
.introsim-line-few_runs {{ color: #333; }}
.introsim-computed-for {{ color: #444; margin-bottom: 0.6em; }}
.introsim-stale .introsim-results {{ opacity: 0.35; }}
.introsim-status {{ min-height: 1.6em; color: #444; }}
.introsim-caption {{ color: #555; font-size: 0.9rem; margin: -4px 0 18px 0; }}
.introsim-chart {{ width: 100%; }}
.introsim-code {{ font-family: ui-monospace, monospace; font-size: 0.9rem; white-space: pre-wrap;
  overflow-wrap: anywhere; }}
.introsim-watch-controls {{ display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }}
.introsim-watch-counts {{ display: flex; flex-wrap: wrap; gap: 4px 16px; }}
.introsim-large {{ font-size: 1.4rem; }}
.introsim-large .introsim-title {{ font-size: 1.8rem; }}
.introsim-large .introsim-line, .introsim-large .introsim-computed-for,
.introsim-large .introsim-caption {{ font-size: 1.45rem; }}
.introsim-large .introsim-line-headline {{ font-size: 2rem; }}
.introsim-large .v-label, .introsim-large .v-btn, .introsim-large .v-select__selection,
.introsim-large .v-tab, .introsim-large input {{ font-size: 1.25rem !important; }}
.introsim-large .introsim-levers {{ flex-basis: 420px; width: 420px; }}
.introsim-present {{ padding: 24px 40px; font-size: 1.9rem; line-height: 1.45; }}
.introsim-present .introsim-line {{ font-size: 1.9rem; }}
.introsim-present .introsim-line-headline {{ font-size: 2.6rem; line-height: 1.3; }}
.introsim-present .introsim-computed-for {{ font-size: 1.4rem; }}
.introsim-present-bar {{ display: flex; justify-content: flex-end; gap: 12px; }}
@media (max-width: {DRAWER_BELOW_PX - 0.02}px) {{
  .introsim-open-levers, .introsim-close-levers {{ display: inline-flex !important; }}
  .introsim-levers {{ position: fixed; top: 0; left: 0; bottom: 0; z-index: 20;
    width: min(360px, calc(100vw - 40px)); max-height: none; transform: translateX(-105%);
    transition: transform .2s; box-shadow: 2px 0 12px rgba(0,0,0,.25); visibility: hidden; }}
  .introsim-levers.open {{ transform: none; visibility: visible; }}
  .introsim-scrim.open {{ display: block !important; position: fixed; inset: 0; z-index: 19;
    background: rgba(0,0,0,.35); }}
  .introsim-main {{ padding: 8px 10px; }}
  .introsim-present {{ padding: 12px; font-size: 1.3rem; }}
  .introsim-present .introsim-line-headline {{ font-size: 1.7rem; }}
}}
@media print {{
  .introsim-bar, .introsim-levers, .introsim-scrim, .v-tabs, .introsim-snapshot {{
    display: none !important; }}
}}
"""


# --------------------------------------------------------------------------- small parts
def session_alive() -> Callable[[], bool]:
    """Whether this browser session still has a page open (False once it is closed or gone).

    A computation asks it while it waits for runs, so work for a closed session stops.
    """
    try:
        from solara.server.kernel_context import PageStatus, get_current_context

        context = get_current_context()
    except (ImportError, RuntimeError):  # rendered outside a server (tests)
        return lambda: True

    def alive() -> bool:
        if context.closed_event.is_set():
            return False
        states = list(context.page_status.values())
        return not states or PageStatus.CONNECTED in states

    return alive


@solara.component
def Chart(data: dict[str, Any], name: str, caption: str = ""):
    """One chart, as wide as its column, drawn by the page's plotly.js; a caption below it."""
    title = str(data.get("layout", {}).get("title", {}).get("text", ""))
    with solara.Div(classes=["introsim-chart", f"introsim-chart-{name}"]):
        PlotlyChart.element(
            figure=json.dumps(data, allow_nan=False),
            config=charts.PLOTLY_CONFIG,
            src=plotly_url(),
            label=title,
        )
    if caption:
        solara.Div(children=[caption], classes=["introsim-caption", "introsim-snapshot-text"])


@solara.component
def Clickable(classes: list[str], on_click: Callable[[], None]):
    """An empty box that does something when clicked (the drawer's backdrop)."""
    box = solara.v.Html(tag="div", class_=" ".join(classes), children=[])
    solara.v.use_event(box, "click", lambda *_: on_click())


@solara.component
def NumberBox(
    text: str, label: str, suffix: str, error: str | None, on_value: Callable[[str], None]
):
    """A box to type a value in, sent on Enter or when the box loses focus."""
    field = solara.v.TextField(
        v_model=text,
        dense=True,
        suffix=suffix,
        error=bool(error),
        error_messages=[error] if error else [],
        hide_details="auto",
        class_="introsim-lever-box",
        attributes={"aria-label": label, "inputmode": "decimal"},
    )
    use_change(field, on_value)


@solara.component
def Slider(value: float, lever: Lever, label: str, on_value: Callable[[Any], None]):
    """A slider in the units on the screen; only a finished move (release, a key) is sent."""
    lo, hi = (lever.shown(v) for v in lever.slider)
    lo, hi = min(lo, value), max(hi, value)  # never clamp a typed value to the slider's range
    slider = solara.v.Slider(
        v_model=value,
        min=lo,
        max=hi,
        step=round(lever.step * lever.scale, 10),
        hide_details=True,
        thumb_label=False,
        class_="introsim-slider",
        attributes={"aria-label": label},
    )
    solara.v.use_event(slider, "change", lambda widget, event, data: on_value(data))


@solara.component
def Choice(
    value: Any,
    items: list[dict[str, Any]],
    on_value: Callable[[Any], None],
    label: str = "",
    aria: str = "",
    classes: str = "",
):
    """A drop-down list; a choice made is sent (the list itself is not changed by it)."""
    select = solara.v.Select(
        v_model=value,
        items=items,
        label=label,
        dense=True,
        hide_details=True,
        class_=classes,
        attributes={"aria-label": aria or label},
    )
    solara.v.use_event(select, "change", lambda widget, event, data: on_value(data))


@solara.component
def LeverControl(
    lever: Lever,
    value: Any,
    refused: tuple[str, str] | None,
    on_value: Callable[[Any], None],
    lang: str,
    revision: int,
):
    """One lever: its name and value, a slider or a choice, and a box in the units shown.

    The name's tooltip gives the lever's meaning, unit, limits and source.

    Args:
        lever: The lever.
        value: The accepted value in effect (stored units).
        refused: The text last refused in its box and why, or None.
        on_value: Called with a new value, in the units shown.
        lang: Language.
        revision: Changes each time a value is refused, so the controls redraw with the
            accepted value (a slider never stays where a refused value left it).
    """
    label = lever.label(lang)
    tip = f"{lever.meaning_in(lang)}."
    if lever.kind != "choice":
        tip += f" {t('unit', lang)}: {lever.unit_in(lang)}."
    if lever.low is not None or lever.high is not None:
        high = f"{lever.limit_text(lever.high, lang)} {lever.unit_in(lang)}".rstrip()
        tip += f" {t('allowed', lang)}: {lever.limit_text(lever.low, lang)} – {high}."
    if lever.source:
        tip += f" {t('source', lang)}: {source(lever.source, lang)}."
    css = "introsim-lever-" + lever.path.replace(".", "-")
    with solara.Div(classes=["introsim-lever", css]):
        with solara.Tooltip(tip):
            with solara.Row(justify="space-between", classes=["introsim-lever-head"]):
                solara.Text(label, classes=["introsim-lever-label"])
                solara.Text(shown_value(lever, value, lang), classes=["introsim-lever-value"])
        if lever.kind == "choice":
            items = [{"text": t(f"choice_{c}", lang), "value": c} for c in lever.choices]
            Choice(value, items, on_value, aria=label).key(f"choice-{revision}")
            return
        with solara.Div(classes=["introsim-lever-row"]):
            Slider(lever.shown(value), lever, label, on_value).key(f"slider-{revision}")
            NumberBox(
                refused[0] if refused else lever.text(value, lang),
                label,
                unit_text if len(unit_text := lever.unit_in(lang)) <= SUFFIX_CHARS else "",
                refused[1] if refused else None,
                on_value,
            ).key(f"box-{revision}-{value}")


def describe_settings(update_: Update, lang: str) -> str:
    """Which settings a result was computed for, in words."""
    w = update_.whatif
    by_path = {lever.path: lever for lever in LEVERS}
    changes = ", ".join(
        f"{by_path[p].label(lang)} {shown_value(by_path[p], v, lang)}"
        for p, v in update_.settings.items()
    )
    values = {
        "preset": quoted(preset_label(w.reference, lang), lang),
        "changes": changes or t("no_changes", lang),
        "runs": w.runs_per_scenario,
    }
    if not w.members:
        return t("computed_for", lang, **values)
    return t(
        "computed_for_members",
        lang,
        members=len(w.members),
        total=w.ensemble_size,
        replicates=w.replicates,
        **values,
    )


@solara.component
def Summary(update_: Update, lang: str):
    """The result in words: the settings it is for, then one line per statement."""
    solara.Div(
        children=[describe_settings(update_, lang)],
        classes=["introsim-computed-for", "introsim-snapshot-text"],
    )
    for k, line in enumerate(update_.lines):
        solara.Div(
            children=[line.text],
            classes=[
                "introsim-line",
                f"introsim-line-{line.kind}",
                f"introsim-headline-{k}",
                "introsim-snapshot-text",
            ],
        )


@solara.component
def WhatIfView(update_: Update, lang: str, filename: str):
    """The result in words and the four charts, with a button to save it as a picture."""
    with solara.Div(classes=["introsim-snapshot-root"]):
        solara.Div(
            children=[t("title", lang)],
            classes=["introsim-snapshot-text", "introsim-snapshot-title"],
            style={"display": "none"},
        )
        with solara.Card(classes=["introsim-headline-card"]):
            Summary(update_, lang)
        for name in CHARTS:  # one below the other: readable on a projector and a phone alike
            Chart(update_.data[name], name, t(f"caption_{name}", lang))
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        SnapshotButton.element(label=t("snapshot", lang), filename=filename, src=plotly_url())
        solara.Text(t("snapshot_note", lang), style={"color": "#555"})
    solara.Text(
        t("updated", lang, seconds=seconds(update_.seconds, lang), runs=update_.runs),
        classes=["introsim-timing"],
        style={"color": "#777"},
    )


@solara.component
def PresentView(update_: Update, lang: str, on_exit: Callable[[], None]):
    """The current what-if in large type, full screen: the words and the main chart."""
    with solara.Div(classes=["introsim-present", "introsim-large"]):
        with solara.Div(classes=["introsim-present-bar"]):
            FullScreenButton.element(
                label=t("present_exit", lang),
                enter=False,
                classes="introsim-present-exit",
                on_clicks=lambda _: on_exit(),
            )
        Summary(update_, lang)
        Chart(update_.data["in_work"], "in_work", t("caption_in_work", lang))


# --------------------------------------------------------------------------- one run
@solara.component
def WatchView(scenario: Scenario, lang: str, large: bool):
    """One run of the current settings, week by week: play at a chosen speed, pause, step.

    The run is built at once (a few milliseconds), so the tab is ready when opened.
    """
    seed = replicate_seed(scenario.scenario.seed, 0)
    digest = scenario.digest()
    holder: dict[str, Any] = solara.use_memo(
        lambda: {"model": IntroModel(scenario, seed, agents=False), "before": None}, [digest]
    )
    lock = solara.use_memo(threading.Lock, [])
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(DEFAULT_SPEED)

    def step() -> None:
        with lock:  # one week at a time, whoever asks
            model = holder["model"]
            if model.running:
                holder["before"] = copy.deepcopy(model)  # about a millisecond
                model.step()
            if not model.running:
                playing.set(False)
        tick.set(tick.value + 1)

    def pause(mark: str) -> None:
        """Stop at the week the browser showed when Pause was pressed."""
        shown = int(mark.rsplit(":", 1)[1]) if ":" in mark else -1
        with lock:
            before = holder.get("before")
            if holder["model"].week == shown + 1 and before is not None and before.week == shown:
                holder["model"] = before  # a week run after the press is taken back
            holder["before"] = None
        playing.set(False)
        tick.set(tick.value + 1)

    def restart() -> None:
        playing.set(False)
        holder["model"] = IntroModel(scenario, seed, agents=False)
        holder["before"] = None
        tick.set(tick.value + 1)

    solara.Info(t("watch_intro", lang))
    model = holder["model"]
    with solara.Div(classes=["introsim-watch-controls"]):
        Player.element(
            playing=playing.value,
            on_playing=playing.set,
            can_play=bool(model.running),
            interval_ms=round(1000 / speed.value),
            week=model.week,
            on_request=lambda _: step(),
            on_pause=pause,
            play_label=t("play", lang),
            pause_label=t("pause", lang),
        )
        solara.Button(
            t("step", lang),
            on_click=step,
            disabled=playing.value or not model.running,
            outlined=True,
            classes=["introsim-step"],
        )
        solara.Button(
            t("restart", lang), on_click=restart, outlined=True, classes=["introsim-restart"]
        )
        speeds = [{"text": t("weeks_per_second", lang, n=s), "value": s} for s in WATCH_SPEEDS]
        Choice(
            speed.value,
            speeds,
            lambda v: speed.set(int(v)),
            label=t("speed", lang),
            classes="introsim-speed",
        )
    WatchFigures(model, tick.value, lang, large)


@solara.component
def WatchFigures(model: IntroModel, tick: int, lang: str, large: bool):
    """The run's week, status counts and charts, as they are now (``tick`` redraws them)."""
    solara.Text(
        t("watch_week", lang, week=model.week, weeks=model.weeks),
        classes=["introsim-watch-week", "introsim-line-headline"],
    )
    counts = np.bincount(model.refugees.status, minlength=len(STATUS_NAMES))
    with solara.Div(classes=["introsim-watch-counts"]):
        for name, n in zip(STATUS_NAMES, counts, strict=True):
            solara.Text(
                f"{t(f'status_{name}', lang)}: {number(n, lang, 0)}",
                classes=["introsim-watch-count", f"introsim-watch-count-{name}"],
            )
    Chart(charts.figure_json(charts.cohort_figure(model, lang, large)), "cohort")
    Chart(charts.figure_json(charts.counts_figure(model, lang, large)), "counts")


# --------------------------------------------------------------------------- export
@solara.component
def ExportView(preset_name: str, base: Scenario, update_: Update, lang: str, large: bool):
    """The starting point and the settings as complete scenario files, and a link."""
    cfg = config()
    w = update_.whatif
    files = export_files(
        base, update_.scenario, update_.settings, w.replicates, cfg.ensemble, w.members
    )
    reference_file, whatif_file, *members_file = files
    solara.Text(t("export_intro", lang), classes=["introsim-export-intro"])
    solara.Div(
        children=[
            reproduce_command(
                reference_file, whatif_file, w.replicates, next(iter(members_file), None)
            )
        ],
        classes=["introsim-code", "introsim-command"],
    )
    with solara.Row(style={"flex-wrap": "wrap"}):
        solara.FileDownload(
            files[whatif_file],
            filename=whatif_file,
            label=t("download", lang),
            mime_type="application/toml",
        )
        solara.FileDownload(
            files[reference_file],
            filename=reference_file,
            label=t("download_reference", lang),
            mime_type="application/toml",
        )
        for name in members_file:
            solara.FileDownload(
                files[name],
                filename=name,
                label=t("download_members", lang),
                mime_type="application/toml",
            )
    solara.Preformatted(files[whatif_file], class_="introsim-toml introsim-code")
    query = link_query(preset_name, update_.settings, lang, w.replications, large)
    url = cfg.link_address + "?" + query
    solara.Text(t("link", lang))
    solara.HTML(
        tag="a",
        unsafe_innerHTML=url.replace("&", "&amp;").replace("<", "&lt;"),
        attributes={"href": url},
        classes=["introsim-link", "introsim-code"],
    )


# --------------------------------------------------------------------------- the page
@solara.component
def Dashboard():
    """The dashboard: a bar, the levers (a drawer on a phone), and the results."""
    cfg = config()
    router = solara.use_router()
    link = solara.use_memo(
        lambda: parse_link(
            router.search or "",
            cfg.presets,
            lambda name: preset(cfg.presets[name]),
            cfg.start,
            cfg.lang,
        ),
        [],
    )
    lang = solara.use_reactive(link.lang or cfg.lang)
    preset_name = solara.use_reactive(link.preset or cfg.start)
    accepted = solara.use_reactive(dict(link.settings))
    replications = solara.use_reactive(link.replications or cfg.replications)
    projector = solara.use_reactive(link.projector)
    refused: solara.Reactive[dict[str, tuple[str, str]]] = solara.use_reactive({})
    revision = solara.use_reactive(0)
    notes = solara.use_reactive([t("bad_link", lang.value, problem=p) for p in link.problems])
    drawer = solara.use_reactive(False)
    # The levers (most of the page's widgets) come once the browser has painted the rest: a
    # new session shows its result in words sooner.
    levers_shown = solara.use_reactive(False)
    presenting = solara.use_reactive(False)
    attempt = solara.use_reactive(0)
    shown_ref = solara.use_ref(None)
    moved: Any = solara.use_ref(None)  # the lever last set, and whether it went up
    latest: Any = solara.use_ref(None)  # this render's submit (see on_lever)
    alive = solara.use_memo(session_alive, [])

    base = preset(cfg.presets[preset_name.value])
    current = apply(base, accepted.value, lang.value)

    def submit(path: str, value: Any) -> None:
        """A value from a control, in the units shown: accepted, or refused with the reason."""
        try:
            if path == REPLICATIONS.path:
                replications.set(read(REPLICATIONS, value, lang.value))
            else:
                settings = accept(base, accepted.value, path, value, lang.value)
                before = value_of(current, path)
                after = value_of(apply(base, settings, lang.value), path)
                # Which way it moved: the next step that way is worked out ahead first.
                up = isinstance(after, int | float) and isinstance(before, int | float)
                moved.current = path, up and after > before
                accepted.set(settings)
        except LeverError as e:
            refused.set({path: (str(value), "; ".join(p.message for p in e.problems))})
            revision.set(revision.value + 1)
            return
        refused.set({})
        notes.set([])

    latest.current = submit
    # One callback per lever for the page's life, calling the newest render's submit: a
    # lever whose value did not change is then given equal arguments and is not rendered
    # again when another lever moves (reacton renders a component again when any argument
    # differs, and a closure over this render's settings always would).
    on_lever = solara.use_memo(
        lambda: {
            lever.path: lambda v, path=lever.path: latest.current(path, v)
            for lever in (*LEVERS, REPLICATIONS)
        },
        [],
    )

    def choose_preset(name: str) -> None:
        preset_name.set(name)
        accepted.set({})
        refused.set({})
        notes.set([])

    def reset() -> None:
        accepted.set({})
        refused.set({})
        notes.set([])
        revision.set(revision.value + 1)

    key = (
        preset_name.value,
        tuple(accepted.value.items()),
        replications.value,
        lang.value,
        projector.value,
        attempt.value,
    )

    def compute(cancel: threading.Event) -> Update | Exception | None:
        try:
            done = update(
                base,
                accepted.value,
                replications.value,
                lang.value,
                projector.value,
                cache=RUNTIME.cache,
                executor=RUNTIME.pool,
                cancelled=lambda: cancel.is_set() or not alive(),
                kept=RUNTIME.updates,
                ensemble=cfg.ensemble,
            )
        except Cancelled:
            return None
        except Exception as e:  # said on the page in one line; the traceback goes to the log
            log.exception("dashboard computation failed")
            return e
        look_ahead(done.settings)
        return done

    def look_ahead(settings: dict[str, Any]) -> None:
        """While the room reads the result, work out the lever's next steps either side."""
        pool = RUNTIME.pool
        if pool is None or moved.current is None or not alive():
            return
        path, up = moved.current
        nexts = neighbours(base, settings, path)[:: -1 if up else 1]
        asked = dict(accepted.value), replications.value, lang.value, projector.value

        def wanted() -> bool:  # until the settings change or the page closes
            now = accepted.value, replications.value, lang.value, projector.value
            return alive() and now == asked

        def work() -> None:
            try:
                work_ahead(
                    base,
                    nexts,
                    replications.value,
                    lang.value,
                    projector.value,
                    RUNTIME.cache,
                    pool,
                    RUNTIME.updates,
                    cfg.ensemble,
                    wanted,
                )
            except Exception:  # a guess that fails costs nothing: the page asks when needed
                log.exception("working out the next steps ahead failed")

        threading.Thread(target=work, name="introsim-ahead", daemon=True).start()

    result = solara.use_thread(compute, list(key), intrusive_cancel=False)
    running = result.state in (
        solara.ResultState.INITIAL,
        solara.ResultState.STARTING,
        solara.ResultState.WAITING,
        solara.ResultState.RUNNING,
    )
    value = result.value
    if isinstance(value, Update) and not running:
        shown_ref.current = value
    # A result the server already holds (the starting point, a view seen before) is shown
    # at once, without waiting for the thread's answer.
    ready = RUNTIME.updates.get(
        update_key(
            base,
            accepted.value,
            replications.value,
            lang.value,
            projector.value,
            cfg.ensemble,
        )
    )
    if ready is not None:
        shown_ref.current, running = ready, False
    shown: Update | None = shown_ref.current
    done = ready is None and not running
    failed = value if isinstance(value, Exception) and done else None
    interrupted = done and value is None and result.state == solara.ResultState.FINISHED
    stale = running or bool(refused.value) or failed is not None or interrupted
    L = lang.value

    root = ["introsim-page"] + (["introsim-large"] if projector.value else [])
    solara.Style(CSS)
    solara.Title(t("title", L))
    if presenting.value and shown is not None:
        with solara.Div(classes=root):
            PresentView(shown, L, lambda: presenting.set(False))
        return

    with solara.Div(classes=root):
        with solara.Div(classes=["introsim-bar"]):
            solara.Button(
                "☰ " + t("open_levers", L),
                on_click=lambda: drawer.set(True),
                outlined=True,
                classes=["introsim-open-levers"],
            )
            solara.Text(t("title", L), classes=["introsim-title"])
            with solara.Div(classes=["introsim-bar-buttons"]):
                for code in LANGUAGES:
                    solara.Button(
                        t("language_name", code),
                        on_click=lambda code=code: lang.set(code),
                        outlined=code != L,
                        color="primary" if code == L else None,
                        classes=["introsim-lang", f"introsim-lang-{code}"],
                    )
                FullScreenButton.element(
                    label=t("present", L),
                    enter=True,
                    classes="introsim-present-button",
                    on_clicks=lambda _: presenting.set(True),
                )
        with solara.Div(classes=["introsim-body"]):
            Clickable(
                ["introsim-scrim"] + (["open"] if drawer.value else []),
                lambda: drawer.set(False),
            )
            with solara.Div(classes=["introsim-levers"] + (["open"] if drawer.value else [])):
                with solara.Div(classes=["introsim-levers-head"]):
                    solara.Text(
                        t("levers", L), style={"font-weight": "bold", "font-size": "1.15em"}
                    )
                    solara.Button(
                        t("close", L) + " ✕",
                        on_click=lambda: drawer.set(False),
                        outlined=True,
                        classes=["introsim-close-levers"],
                    )
                PresetSelect(cfg.presets, preset_name.value, choose_preset, L)
                solara.Switch(
                    label=t("projector", L), value=projector, classes=["introsim-projector"]
                )
                solara.Button(
                    t("reset", L), on_click=reset, outlined=True, classes=["introsim-reset"]
                )
                for lever in (*LEVERS, REPLICATIONS) if levers_shown.value else ():
                    LeverControl(
                        lever,
                        replications.value
                        if lever is REPLICATIONS
                        else value_of(current, lever.path),
                        refused.value.get(lever.path),
                        on_lever[lever.path],
                        L,
                        revision.value,
                    )
                if not levers_shown.value:
                    Painted.element(on_painted=lambda done: levers_shown.set(bool(done)))
            with solara.Div(classes=["introsim-main"] + (["introsim-stale"] if stale else [])):
                for note in notes.value:
                    solara.Warning(note, classes=["introsim-problem", "introsim-link-problem"])
                by_path = {lever.path: lever for lever in (*LEVERS, REPLICATIONS)}
                for path, (_text, message) in refused.value.items():
                    lever = by_path[path]
                    kept = (
                        shown_value(lever, replications.value, L)
                        if lever is REPLICATIONS
                        else shown_value(lever, value_of(current, path), L)
                    )
                    solara.Error(
                        t("refused", L, label=lever.label(L), problem=message, kept=kept),
                        classes=["introsim-problem", "introsim-refused"],
                    )
                if failed is not None:
                    solara.Error(
                        t("failed", L, kind=type(failed).__name__),
                        classes=["introsim-problem", "introsim-failed"],
                    )
                with solara.Div(classes=["introsim-status"]):
                    if running:
                        solara.Text(t("computing", L), classes=["introsim-computing"])
                    elif interrupted:
                        solara.Text(t("interrupted", L))
                        solara.Button(
                            t("compute_again", L),
                            on_click=lambda: attempt.set(attempt.value + 1),
                            text=True,
                        )
                    elif stale and shown is not None:
                        solara.Text(t("stale", L), classes=["introsim-stale-note"])
                if shown is None:
                    return
                with solara.Div(classes=["introsim-results"]):
                    with solara.lab.Tabs(lazy=True):
                        with solara.lab.Tab(t("tab_whatif", L)):
                            WhatIfView(shown, L, filename=f"introsim-{preset_name.value}")
                        with solara.lab.Tab(t("tab_watch", L)):
                            WatchView(shown.scenario, L, projector.value)
                        with solara.lab.Tab(t("tab_share", L)):
                            ExportView(preset_name.value, base, shown, L, projector.value)


@solara.component
def PresetSelect(presets: dict[str, Any], value: str, on_value: Callable[[str], None], lang: str):
    """The starting points, by their names for people."""
    items = [{"text": preset_label(name, lang), "value": name} for name in presets]
    Choice(value, items, on_value, label=t("preset", lang), classes="introsim-preset")


@solara.component
def Page():
    """The dashboard, with any failure said in one line (the details go to the server's log)."""
    error, _clear = solara.use_exception()
    if error is not None:
        log.error("dashboard page failed", exc_info=error)
        lang = config().lang
        kind = re.sub(r"[^A-Za-z]", "", type(error).__name__)
        solara.Error(t("page_failed", lang, kind=kind), classes=["introsim-problem"])
        return
    Dashboard()
