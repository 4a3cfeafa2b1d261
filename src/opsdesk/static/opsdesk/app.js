// OpsDesk agent UI: small behaviours htmx does not cover.
(function () {
  "use strict";
  // Keep at most a handful of notices on screen; the oldest go first.
  document.body.addEventListener("htmx:oobAfterSwap", function () {
    var box = document.getElementById("notices");
    if (!box) return;
    while (box.children.length > 5) box.removeChild(box.firstElementChild);
  });
  // Show that a request is on its way on the button that sent it.
  document.body.addEventListener("htmx:beforeRequest", function (e) {
    var b = e.detail.elt && e.detail.elt.querySelector && e.detail.elt.querySelector("button[type=submit]");
    if (b) b.setAttribute("aria-busy", "true");
  });
  document.body.addEventListener("htmx:afterRequest", function (e) {
    var b = e.detail.elt && e.detail.elt.querySelector && e.detail.elt.querySelector("button[type=submit]");
    if (b) b.removeAttribute("aria-busy");
  });
})();
