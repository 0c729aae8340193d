"""The dashboard page (Solara): levers, what-if charts, one run week by week, export.

Started by ``introsim dashboard``; :mod:`introsim.app.server` says what it starts with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipyvuetify
import numpy as np
import plotly.graph_objects as go
import solara
import solara.lab
import traitlets
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from introsim.app import charts
from introsim.app.export import (
    WHATIF_SUFFIX,
    link_query,
    parse_link,
    reproduce_command,
    scenario_toml,
)
from introsim.app.i18n import LANGUAGES, number, percent, t, unit
from introsim.app.levers import (
    LEVER_PATHS,
    LEVERS,
    Lever,
    LeverError,
    changed,
    stored_value,
    value_of,
)
from introsim.app.server import config, preset
from introsim.app.update import CHARTS, Update, update
from introsim.app.whatif import RunCache
from introsim.model.model import IntroModel
from introsim.model.state import STATUS_NAMES
from introsim.params.schema import Scenario
from introsim.run import replicate_seed

CACHE = RunCache()
"""Runs shared by every browser session of this server."""

REPLICATION_RANGE = (2, 30)
WATCH_INTERVAL_MS = 150
"""Pause between weeks when a run plays, so a room can follow it."""

CSS = """
.introsim-headline { font-size: 1.25rem; line-height: 1.5; }
.introsim-large { font-size: 1.45rem; }
.introsim-large .v-label, .introsim-large .v-btn, .introsim-large .v-select__selection,
.introsim-large .v-tab, .introsim-large input { font-size: 1.3rem !important; }
.introsim-large .introsim-headline { font-size: 2rem; }
.introsim-lever-value { font-weight: 600; }
"""


def shown(lever: Lever, value: Any, lang: str) -> str:
    """A lever's value for people: shares as percentages, units after numbers."""
    if lever.kind == "choice":
        return t(f"choice_{value}", lang)
    if lever.is_share:
        return percent(float(value), lang)
    decimals = 0 if lever.kind == "int" else max(0, -int(f"{lever.step:e}".split("e")[1]))
    return f"{number(float(value), lang, decimals)} {unit(lever.unit, lang)}"


@solara.component
def LeverControl(lever: Lever, scenario: Scenario, settings: solara.Reactive[dict], lang: str):
    """One lever: a label with the schema's meaning as tooltip, a slider or a choice, a box."""
    css = "introsim-lever-" + lever.path.replace(".", "-")
    raw = settings.value.get(lever.path)
    value = raw if raw is not None else value_of(scenario, lever.path)

    def set_value(new: Any) -> None:
        if lever.kind == "float":  # no 0.30000000000000004 from the slider's steps
            new = round(float(new), 10)
        settings.set({**settings.value, lever.path: new})

    tip = f"{lever.meaning}. {t('unit', lang)}: {unit(lever.unit, lang)}."
    if lever.low is not None or lever.high is not None:
        low = "−∞" if lever.low is None else f"{lever.low:g}"
        high = "∞" if lever.high is None else f"{lever.high:g}"
        tip += f" {t('allowed', lang)}: {low} – {high}."
    if lever.source:
        tip += f" {t('source', lang)}: {lever.source}."
    with solara.Div(classes=[css]):
        with solara.Tooltip(tip):
            with solara.Row(justify="space-between"):
                solara.Text(lever.label(lang))
                solara.Text(shown(lever, value, lang), classes=["introsim-lever-value"])
        if lever.kind == "choice":
            solara.v.Select(
                v_model=value,
                items=[{"text": t(f"choice_{c}", lang), "value": c} for c in lever.choices],
                on_v_model=set_value,
                dense=True,
            )
            return
        # The lever's kind picks the widgets; both take the same arguments.
        slider: Any = solara.SliderInt if lever.kind == "int" else solara.SliderFloat
        number_box: Any = solara.InputInt if lever.kind == "int" else solara.InputFloat
        with solara.Row():
            with solara.Div(style="flex-grow: 1"):
                slider(
                    "",
                    value=value if isinstance(value, int | float) else lever.slider[0],
                    min=lever.slider[0],
                    max=lever.slider[1],
                    step=lever.step,
                    on_value=set_value,
                    thumb_label=False,
                )
            with solara.Div(style="width: 6.5em"):
                number_box(
                    "",
                    value=value if isinstance(value, int | float) else 0,
                    on_value=set_value,
                    continuous_update=False,
                )


@solara.component
def Levers(scenario: Scenario, settings: solara.Reactive[dict], lang: str):
    """Every lever, generated from the schema."""
    for lever in LEVERS:
        LeverControl(lever, scenario, settings, lang)


class Reflow(ipyvuetify.VuetifyTemplate):
    """Tells plotly when a chart's box changes size, so the chart fills it.

    Plotly sizes a chart to its container when drawing it, but the widget draws before
    it is on the page (it would keep plotly's 700 px), and a ``responsive`` chart only
    follows the window. A ResizeObserver on the chart's box, and plotly's own event after
    drawing a chart, turn any change of the box (first drawn, a tab opened, the window)
    into the window's resize event.
    """

    template = traitlets.Unicode(
        """<template><span style="display: none"></span></template>
<script>
module.exports = {
  mounted() {
    const reflow = () => window.dispatchEvent(new Event("resize"));
    if (!window.introsimReflow) {
      // A chart drawn before it was on the page has plotly's default width: fix it at once.
      window.introsimReflow = true;
      document.addEventListener("plotlywidget-after-render", (e) => {
        const gd = e.detail.element;
        if (Math.abs(gd.getBoundingClientRect().width - gd._fullLayout.width) > 1) reflow();
      });
    }
    const box = this.$el.closest(".introsim-chart") || this.$el.parentElement;
    this.observer = new ResizeObserver(reflow);
    this.observer.observe(box);
  },
  beforeDestroy() {
    if (this.observer) this.observer.disconnect();
  },
};
</script>"""
    ).tag(sync=True)


@solara.component
def Chart(fig: go.Figure, name: str):
    """One plotly figure, as wide as its container (it follows the window's width).

    The widget is made with the figure already in it, so the browser's first drawing
    shows the data: it does not wait for a later message (solara's ``FigurePlotly`` starts
    from an empty chart and fills it in afterwards). A new figure replaces the traces and
    the layout of the same widget, so a playing run does not flicker.
    """

    def make() -> go.FigureWidget:
        widget = go.FigureWidget(fig)
        widget._config = charts.PLOTLY_CONFIG  # a widget's plotly config has no public setter
        return widget

    widget = solara.use_memo(make, [])
    drawn = solara.use_ref(fig)

    def redraw() -> None:
        if drawn.current is fig:
            return
        drawn.current = fig
        widget.layout = fig.layout
        old = len(widget.data)
        widget.add_traces(fig.data)
        widget.data = widget.data[old:]

    solara.use_effect(redraw, [fig])
    solara.use_effect(lambda: widget.close, [])  # the widget goes with the component
    solara.Div(
        classes=["introsim-chart", f"introsim-chart-{name}"],
        children=[widget, Reflow.element()],
    )


@solara.component
def WhatIfView(result: Update, lang: str):
    """The headline and the four charts."""
    with solara.Card(classes=["introsim-headline-card"]):
        for k, sentence in enumerate(result.headline):
            solara.Div(children=[sentence], classes=["introsim-headline", f"introsim-headline-{k}"])
    for name in CHARTS:  # one below the other: readable on a projector and a laptop alike
        Chart(result.figures[name], name)
    w = result.whatif
    solara.Text(
        t("updated", lang, seconds=result.seconds, runs=w.runs),
        classes=["introsim-timing"],
        style={"color": "#777"},
    )


@solara.component
def WatchFigures(model: solara.Reactive[IntroModel | None], lang: str, large: bool):
    """The run's week, status counts and charts; redrawn each time the controller steps it.

    Mesa's controller steps the model in place (the reactive keeps the same object), then
    bumps its ``update_counter``: reading the counter here is what makes this redraw.
    """
    update_counter.get()
    m = model.value
    if m is None:
        return
    solara.Text(
        t("watch_week", lang, week=m.week, weeks=m.weeks),
        classes=["introsim-watch-week", "introsim-headline"],
    )
    counts = np.bincount(m.refugees.status, minlength=len(STATUS_NAMES))
    with solara.Row(classes=["introsim-watch-counts"], style={"flex-wrap": "wrap"}):
        for name, n in zip(STATUS_NAMES, counts, strict=True):
            solara.Text(
                f"{t(f'status_{name}', lang)}: {number(n, lang, 0)}",
                classes=["introsim-watch-count", f"introsim-watch-count-{name}"],
            )
    Chart(charts.cohort_figure(m, lang, large), "cohort")
    Chart(charts.counts_figure(m, lang, large), "counts")


@solara.component
def WatchView(scenario: Scenario, lang: str, large: bool):
    """One run of the current settings, week by week, with Mesa's play/step/reset controller."""
    seed = replicate_seed(scenario.scenario.seed, 0)
    model: solara.Reactive[IntroModel | None] = solara.use_reactive(None)
    # Mesa 3.3's controller reads ``.value`` of each of these (as its SolaraViz passes them):
    # plain numbers make Step and Play fail inside the click handler, and nothing redraws.
    play_interval = solara.use_reactive(WATCH_INTERVAL_MS)
    weeks_per_step = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    params = {"scenario": scenario, "seed": seed}

    def rebuild() -> None:
        model.set(IntroModel(scenario, seed))

    solara.use_effect(rebuild, [scenario.digest()])
    solara.Info(t("watch_intro", lang))
    if model.value is not None:
        with solara.Div(style="max-width: 24em", classes=["introsim-watch-controls"]):
            ModelController(
                model,
                model_parameters=params,
                play_interval=play_interval,
                render_interval=weeks_per_step,
                use_threads=use_threads,
            )
    WatchFigures(model, lang, large)


@solara.component
def ExportView(
    preset_name: str,
    preset_path: Path,
    base: Scenario,
    scenario: Scenario,
    lang: str,
    replications: int,
    large: bool,
):
    """The settings as a scenario file to download, and as a link."""
    cfg = config()
    # The levers of the scenario on show (an out-of-range value typed since is not in it).
    overrides = changed(base, {path: stored_value(scenario, path) for path in LEVER_PATHS})
    text = scenario_toml(preset_path, base, overrides, replications)
    filename = base.scenario.name + WHATIF_SUFFIX + ".toml"
    command = reproduce_command(preset_path, Path(filename), replications)
    solara.Text(t("export_intro", lang, command=command), classes=["introsim-export-intro"])
    solara.FileDownload(
        text, filename=filename, label=t("download", lang), mime_type="application/toml"
    )
    solara.Preformatted(text, classes=["introsim-toml"])
    url = cfg.link_address + "?" + link_query(preset_name, overrides, lang, replications, large)
    solara.Text(t("link", lang))
    solara.HTML(
        tag="a",
        unsafe_innerHTML=url.replace("&", "&amp;").replace("<", "&lt;"),
        attributes={"href": url},
        classes=["introsim-link"],
    )


@solara.component
def Page():
    """The dashboard."""
    cfg = config()
    router = solara.use_router()
    link = solara.use_memo(lambda: parse_link(router.search or "", cfg.lang), [])
    lang = solara.use_reactive(link.lang or cfg.lang)
    start = link.preset if link.preset in cfg.presets else cfg.start
    preset_name = solara.use_reactive(start)
    settings = solara.use_reactive(dict(link.settings))
    replications = solara.use_reactive(link.replications or cfg.replications)
    projector = solara.use_reactive(link.projector)
    last_good = solara.use_ref(None)

    problems = [t("bad_link", lang.value, problem=p) for p in link.problems]
    if link.preset is not None and link.preset not in cfg.presets:
        problems.append(t("bad_link", lang.value, problem=f"preset: {link.preset}"))
    path = cfg.presets[preset_name.value]
    base = preset(path)
    key = (preset_name.value, tuple(sorted(settings.value.items(), key=str)), replications.value)

    def compute() -> Update | LeverError:
        try:
            return update(
                base, settings.value, replications.value, lang.value, projector.value, CACHE
            )
        except LeverError as e:
            return e

    result = solara.use_memo(compute, [*key, lang.value, projector.value])
    if isinstance(result, LeverError):
        for p in result.problems:
            label = t(p.path, lang.value) if p.path in {lv.path for lv in LEVERS} else p.path
            problems.append(t("out_of_range", lang.value, label=label, problem=p.message))
        shown_result: Update | None = last_good.current
    else:
        last_good.current = shown_result = result

    def choose_preset(name: str) -> None:
        preset_name.set(name)
        settings.set({})

    solara.Style(CSS)
    solara.Title(t("title", lang.value))
    with solara.AppBar():
        solara.AppBarTitle(t("title", lang.value))
    root = ["introsim-root"] + (["introsim-large"] if projector.value else [])
    with solara.Sidebar():
        with solara.Column(classes=root):
            solara.ToggleButtonsSingle(lang, values=list(LANGUAGES), classes=["introsim-lang"])
            solara.Switch(
                label=t("projector", lang.value), value=projector, classes=["introsim-projector"]
            )
            solara.Select(
                t("preset", lang.value),
                values=list(cfg.presets),
                value=preset_name.value,
                on_value=choose_preset,
                classes=["introsim-preset"],
            )
            solara.Button(
                t("reset", lang.value),
                on_click=lambda: settings.set({}),
                outlined=True,
                classes=["introsim-reset"],
            )
            solara.Text(t("levers", lang.value), style={"font-weight": "bold"})
            # Untouched levers show the values in effect (e.g. the chosen method's own support).
            Levers(shown_result.scenario if shown_result else base, settings, lang.value)
            solara.SliderInt(
                t("replications", lang.value),
                value=replications,
                min=REPLICATION_RANGE[0],
                max=REPLICATION_RANGE[1],
            )
    with solara.Column(classes=root):
        for problem in problems:
            solara.Error(problem, classes=["introsim-problem"])
        if shown_result is None:
            return
        with solara.lab.Tabs(lazy=True):
            with solara.lab.Tab(t("tab_whatif", lang.value)):
                WhatIfView(shown_result, lang.value)
            with solara.lab.Tab(t("tab_watch", lang.value)):
                WatchView(shown_result.scenario, lang.value, projector.value)
            with solara.lab.Tab(t("tab_share", lang.value)):
                ExportView(
                    preset_name.value,
                    path,
                    base,
                    shown_result.scenario,
                    lang.value,
                    replications.value,
                    projector.value,
                )
