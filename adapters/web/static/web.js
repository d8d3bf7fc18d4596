/* Light progressive enhancement; every page works without it. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-print]");
    if (button) { window.print(); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    var submit = form.querySelector("button[type=submit]");
    if (submit && form.action.indexOf("/web/receipt/") < 0) { window.setTimeout(function () { submit.disabled = true; }, 0); }  // no double submission
  });
})();
