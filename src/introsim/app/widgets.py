"""The page's own browser widgets (ipyvue templates): charts, full screen, and a picture.

Charts are drawn by one copy of plotly.js per page, loaded from this server
(:func:`introsim.app.server.plotly_url`), instead of a plotly ``FigureWidget``
per chart: each of those sends and starts the whole plotly bundle again (about
5 MB), which made a new session wait many seconds for its first chart.

plotly.js is asked for when the first chart is on the page, and only after the
browser has painted what it holds then: running plotly.js keeps the browser busy
for about a second, and the result in words, which comes with the charts, is
shown first instead of waiting for it.
"""

from __future__ import annotations

import ipyvuetify
import traitlets

_LOAD_PLOTLY = """
function introsimPlotly(src) {
  // One copy per page, from this server; plotly.js sets window.Plotly when it has run.
  // Asked for after the next paint (a frame's callback runs before the frame is painted, a
  // task it queues after): what is on the page now, the result in words, is shown before
  // plotly.js takes the browser for about a second.
  if (!window.introsimPlotlyPromise) {
    const root = (window.solara && window.solara.rootPath) || "";
    window.introsimPlotlyPromise = window.Plotly ? Promise.resolve(window.Plotly)
      : new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = root + src;
        script.onload = () => resolve(window.Plotly);
        script.onerror = reject;
        requestAnimationFrame(() => setTimeout(() => document.head.appendChild(script), 0));
      });
  }
  return window.introsimPlotlyPromise;
}
"""


class Painted(ipyvuetify.VuetifyTemplate):
    """Says (``painted``) when the browser has painted the page this widget arrived with.

    The page sends its levers after that: a new session's browser then builds and paints
    the result in words first, without the hundred-odd widgets of the levers before it.
    """

    painted = traitlets.Bool(False).tag(sync=True)
    template = traitlets.Unicode(
        """<template><span style="display: none"></span></template>
<script>
module.exports = {
  mounted() {
    // After the next paint: a frame's callback runs before the frame is painted, a task it
    // queues after.
    requestAnimationFrame(() => setTimeout(() => { this.painted = true; }, 0));
  },
};
</script>"""
    ).tag(sync=True)


class PlotlyChart(ipyvuetify.VuetifyTemplate):
    """One plotly figure, drawn in the browser, as wide as its box and following it.

    A new ``figure`` redraws the same chart in place (``Plotly.react``), so a playing
    run does not flicker. A ResizeObserver on the box resizes the chart whenever the
    box's width is no longer the chart's (a tab opened, the window, the levers' drawer).

    ``figure`` is the figure as JSON text, not a dict: the server's renderer then compares
    and walks one string instead of the thousands of values of a figure (with plotly's
    template) on every render of the page, and the browser parses it once instead of
    making every value of it reactive.
    """

    figure = traitlets.Unicode("").tag(sync=True)
    config = traitlets.Dict().tag(sync=True)
    src = traitlets.Unicode().tag(sync=True)
    label = traitlets.Unicode().tag(sync=True)
    template = traitlets.Unicode(
        """<template>
  <div class="introsim-plot" role="img" :aria-label="label" ref="plot"></div>
</template>
<script>
module.exports = {
  mounted() {
    """
        + _LOAD_PLOTLY
        + """
    introsimPlotly(this.src).then((Plotly) => {
      this.Plotly = Plotly;
      this.draw();
      // Only a box that is now wider or narrower than the chart is redrawn: an observer
      // also reports the size it finds when it starts, which the chart was just drawn at
      // (redrawing all four then cost a new page hundreds of milliseconds).
      this.observer = new ResizeObserver(() => {
        const gd = this.$refs.plot;
        if (gd && gd._fullLayout && Math.abs(gd._fullLayout.width - gd.clientWidth) >= 1) {
          Plotly.Plots.resize(gd);
        }
      });
      this.observer.observe(this.$refs.plot);
    });
  },
  watch: {
    figure() { this.draw(); },
  },
  methods: {
    draw() {
      if (!this.Plotly || !this.$refs.plot || !this.figure) return;
      // Plain copies: plotly annotates the objects it is given, and Vue watches these
      // (a second draw on Vue's own objects never ends).
      const figure = JSON.parse(this.figure);
      const config = JSON.parse(JSON.stringify(this.config));
      this.Plotly.react(this.$refs.plot, figure.data, figure.layout, config);
    },
  },
  beforeDestroy() {
    if (this.observer) this.observer.disconnect();
    if (this.Plotly && this.$refs.plot) this.Plotly.purge(this.$refs.plot);
  },
};
</script>"""
    ).tag(sync=True)


class FullScreenButton(ipyvuetify.VuetifyTemplate):
    """A button that takes the page to full screen (``enter``) or out of it, and counts clicks.

    The page's Python side watches ``clicks`` to switch the view. Leaving full screen by
    the browser's own means (Esc) also counts as a click of the button that leaves it.
    """

    label = traitlets.Unicode().tag(sync=True)
    enter = traitlets.Bool(True).tag(sync=True)
    clicks = traitlets.Int(0).tag(sync=True)
    classes = traitlets.Unicode("").tag(sync=True)
    template = traitlets.Unicode(
        """<template>
  <v-btn :class="classes" color="primary" :outlined="!enter" @click="press">{{ label }}</v-btn>
</template>
<script>
module.exports = {
  mounted() {
    this.left = () => {
      if (!this.enter && !document.fullscreenElement && this.wasFull) this.clicks += 1;
      this.wasFull = !!document.fullscreenElement;
    };
    this.wasFull = !!document.fullscreenElement;
    document.addEventListener("fullscreenchange", this.left);
  },
  beforeDestroy() {
    document.removeEventListener("fullscreenchange", this.left);
  },
  methods: {
    press() {
      const doc = document.documentElement;
      try {
        if (this.enter && doc.requestFullscreen && !document.fullscreenElement) {
          doc.requestFullscreen().catch(() => {});
        } else if (!this.enter && document.fullscreenElement) {
          this.wasFull = false;
          document.exitFullscreen().catch(() => {});
        }
      } catch (e) { /* full screen is a nicety: the view switches anyway */ }
      this.clicks += 1;
    },
  },
};
</script>"""
    ).tag(sync=True)


class SnapshotButton(ipyvuetify.VuetifyTemplate):
    """A button that saves the current view as one PNG: its texts, then its charts.

    Made in the browser from what is on the screen (texts marked
    ``introsim-snapshot-text`` and the plotly charts inside ``introsim-snapshot-root``,
    in page order), with plotly's own ``toImage`` for each chart: no server work, and
    exactly the view the room saw.
    """

    label = traitlets.Unicode().tag(sync=True)
    filename = traitlets.Unicode("introsim.png").tag(sync=True)
    src = traitlets.Unicode().tag(sync=True)
    template = traitlets.Unicode(
        """<template>
  <v-btn class="introsim-snapshot" outlined @click="save">{{ label }}</v-btn>
</template>
<script>
module.exports = {
  methods: {
    async save() {
      """
        + _LOAD_PLOTLY
        + """
      const Plotly = await introsimPlotly(this.src);
      const root = document.querySelector(".introsim-snapshot-root");
      if (!root) return;
      const width = 1600, pad = 48, inner = width - 2 * pad;
      const canvas = document.createElement("canvas");
      const ctx = canvas.getContext("2d");
      const font = (b) => `${b.bold ? "600 " : ""}${b.size}px system-ui, sans-serif`;
      const wrap = (b) => {
        ctx.font = font(b);
        const lines = [];
        let line = "";
        for (const word of b.text.split(/\\s+/)) {
          const next = line ? line + " " + word : word;
          if (ctx.measureText(next).width > inner && line) { lines.push(line); line = word; }
          else line = next;
        }
        if (line) lines.push(line);
        return lines;
      };
      const blocks = [];
      const items = root.querySelectorAll(".introsim-snapshot-text, .js-plotly-plot");
      for (const el of items) {
        if (el.classList.contains("js-plotly-plot")) {
          if (!el._fullLayout) continue;
          const height = Math.round(inner * el.clientHeight / Math.max(1, el.clientWidth));
          const url = await Plotly.toImage(el, {format: "png", width: inner, height: height});
          const img = await new Promise((ok, fail) => {
            const i = new Image(); i.onload = () => ok(i); i.onerror = fail; i.src = url;
          });
          blocks.push({img: img, height: height + 16});
        } else {
          const title = el.classList.contains("introsim-snapshot-title");
          const b = {text: el.innerText.trim(), size: title ? 36 : 24, bold: title};
          if (!b.text) continue;
          b.lines = wrap(b);
          b.height = b.lines.length * Math.round(b.size * 1.4) + 12;
          blocks.push(b);
        }
      }
      canvas.width = width;
      canvas.height = pad * 2 + blocks.reduce((s, b) => s + b.height, 0);
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      let y = pad;
      for (const b of blocks) {
        if (b.img) { ctx.drawImage(b.img, pad, y); }
        else {
          ctx.font = font(b); ctx.fillStyle = "#222222"; ctx.textBaseline = "top";
          b.lines.forEach((l, k) => ctx.fillText(l, pad, y + k * Math.round(b.size * 1.4)));
        }
        y += b.height;
      }
      const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "");
      const name = this.filename.replace(/\\.png$/, "") + "-" + stamp + ".png";
      canvas.toBlob((blob) => {
        const a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = name;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(a.href), 60000);
      }, "image/png");
    },
  },
};
</script>"""
    ).tag(sync=True)


class Player(ipyvuetify.VuetifyTemplate):
    """Play and Pause for one run: the browser asks for each next week when it may show one.

    While playing, the browser waits until the week on the screen has been there for
    ``interval_ms`` (from the previous request), then raises ``request``; the server
    steps the run once and sends the new week. The pace is never faster than the page
    can show. Pause stops the asking at once and says which week was on the screen
    (``pause``, as ``"count:week"``): a week that a request already on its way ran is
    taken back by the server, so the run stops exactly where the room saw it stop.
    """

    playing = traitlets.Bool(False).tag(sync=True)
    can_play = traitlets.Bool(True).tag(sync=True)
    interval_ms = traitlets.Int(100).tag(sync=True)
    week = traitlets.Int(0).tag(sync=True)
    request = traitlets.Int(0).tag(sync=True)
    pause = traitlets.Unicode("").tag(sync=True)
    play_label = traitlets.Unicode("Play").tag(sync=True)
    pause_label = traitlets.Unicode("Pause").tag(sync=True)
    template = traitlets.Unicode(
        """<template>
  <v-btn :class="playing ? 'introsim-pause' : 'introsim-play'" color="primary"
         :disabled="!playing && !can_play" @click="toggle">
    {{ playing ? pause_label : play_label }}
  </v-btn>
</template>
<script>
module.exports = {
  data() { return { last: 0, pauses: 0 }; },
  watch: {
    week() { this.schedule(); },
    playing(now) { if (now) this.schedule(); else clearTimeout(this.timer); },
    can_play(now) { if (!now) { this.playing = false; clearTimeout(this.timer); } },
  },
  methods: {
    toggle() {
      clearTimeout(this.timer);
      if (this.playing) {
        this.pauses += 1;
        this.pause = this.pauses + ":" + this.week;
      }
      this.playing = !this.playing;
      if (this.playing) { this.last = 0; this.schedule(); }
    },
    schedule() {
      clearTimeout(this.timer);
      if (!this.playing) return;
      const wait = Math.max(0, this.interval_ms - (performance.now() - this.last));
      this.timer = setTimeout(() => {
        if (!this.playing) return;
        this.last = performance.now();
        this.request += 1;
      }, wait);
    },
  },
  beforeDestroy() { clearTimeout(this.timer); },
};
</script>"""
    ).tag(sync=True)
