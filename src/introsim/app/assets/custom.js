// introsim dashboard: start loading plotly.js with the page itself, so that it is ready when
// the first chart arrives (it is about 5 MB; the widgets would otherwise ask for it only
// once the page has been built). Solara includes /static/assets/custom.js in every page.
(function () {
  if (window.introsimPlotlyPromise) return;
  var root = (window.solara && window.solara.rootPath) || "";
  window.introsimPlotlyPromise = window.Plotly ? Promise.resolve(window.Plotly)
    : new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = root + "/static/assets/plotly.min.js";
      script.async = true;
      script.onload = function () { resolve(window.Plotly); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
})();
