// introsim dashboard: Solara puts /static/assets/custom.js in every page, before its own
// scripts. Two things here make a new session's first result come sooner:
//
// * Nothing heavy starts with the page. plotly.js (about 5 MB) keeps the browser busy for
//   about a second while it runs: the charts ask for it only once the result in words is on
//   the screen (introsim.app.widgets), so that second no longer comes before the result.
// * The widget libraries (jupyter-vue, then jupyter-vuetify, which needs it) are fetched
//   together as soon as the page knows their addresses, instead of one after the other as
//   require.js finds it needs the second. A preload that the page did not use costs one
//   request; nothing breaks.
(function () {
  function preloadWidgetLibraries() {
    var hashes = window.nbextensionHashes, solara = window.solara;
    if (!hashes || !solara || typeof solara.jupyterRootPath !== "string") return;
    Object.keys(hashes).forEach(function (name) {
      var link = document.createElement("link");
      link.rel = "preload";
      link.as = "script";
      link.href = solara.jupyterRootPath + "/nbextensions/" + name.split("/")[0]
        + "/nodeps.js?" + hashes[name];
      document.head.appendChild(link);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", preloadWidgetLibraries);
  } else {
    preloadWidgetLibraries();
  }
})();
