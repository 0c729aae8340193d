// Marks each .scroll-box whose table overflows, so that its scroll cue shows.
(function () {
  function mark() {
    document.querySelectorAll('.scroll-box').forEach(function (box) {
      var wrap = box.querySelector('.table-wrap');
      if (!wrap) { return; }
      var over = wrap.scrollWidth > wrap.clientWidth + 1;
      box.classList.toggle('overflows', over);
      box.classList.toggle('at-end', over &&
        wrap.scrollLeft + wrap.clientWidth >= wrap.scrollWidth - 1);
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    mark();
    document.querySelectorAll('.table-wrap').forEach(function (w) {
      w.addEventListener('scroll', mark, { passive: true });
    });
  });
  window.addEventListener('load', mark);
  window.addEventListener('resize', mark);
})();
