// Admin console progressive enhancement (no inline script: the CSP forbids it). Copy buttons: a
// button with data-copy="<id>" copies that element's text; without JavaScript the button stays
// hidden and the value can be selected by hand.
(function () {
  "use strict";
  if (!navigator.clipboard) { return; }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.dataset.copy);
    if (!source) { return; }
    var status = document.createElement("span");
    status.className = "copy-status";
    status.setAttribute("role", "status");
    button.after(status);
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        status.textContent = "Copied";
      }, function () {
        status.textContent = "Copying failed: select the text and copy it by hand.";
      });
      window.setTimeout(function () { status.textContent = ""; }, 4000);
    });
  });
}());
