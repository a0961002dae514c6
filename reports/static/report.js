// Filters of a unit's findings by check and status. Loaded as the report's own file: the page's
// Content-Security-Policy allows no inline script, so nothing copied from crawled pages can run.
"use strict";
(function () {
  function apply() {
    var check = document.getElementById("filter-check");
    var status = document.getElementById("filter-status");
    var count = document.getElementById("filter-count");
    var wantCheck = check ? check.value : "";
    var wantStatus = status ? status.value : "";
    var shown = 0;
    document.querySelectorAll("article.finding").forEach(function (el) {
      var ok = (!wantCheck || el.dataset.check === wantCheck) &&
               (!wantStatus || el.dataset.status === wantStatus);
      el.hidden = !ok;
      if (ok) { shown += 1; }
    });
    if (count) { count.textContent = shown + " 项"; }
  }
  function init() {
    ["filter-check", "filter-status"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.addEventListener("change", apply); }
    });
    var form = document.getElementById("filters");
    if (form) { form.addEventListener("submit", function (e) { e.preventDefault(); }); }
    apply();
    document.documentElement.dataset.reportJs = "ready";
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
