// Progressive enhancement only: every page works without this file.
// Counts down the validity of console codes and reloads the page when a code expires.
(function () {
  var items = document.querySelectorAll('[data-valid-until]');
  if (!items.length) { return; }
  function tick() {
    var now = Date.now() / 1000, reload = false;
    items.forEach(function (el) {
      var left = Math.max(0, Math.round(Number(el.getAttribute('data-valid-until')) - now));
      var out = el.querySelector('.countdown');
      if (out) { out.textContent = left + ' s'; }
      if (left === 0) { reload = true; }
    });
    if (reload) { window.location.reload(); } else { window.setTimeout(tick, 1000); }
  }
  tick();
})();
