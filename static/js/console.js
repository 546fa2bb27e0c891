// Admin console progressive enhancement (no inline script: the CSP forbids it). Copy buttons: a
// button with data-copy="<id>" copies that element's text; without JavaScript the button stays
// hidden and the value can be selected by hand.
(function () {
  "use strict";
  // Translations: the page carries this script's messages in its language as a JSON data block
  // (<script type="application/json" id="idp-messages">, which the CSP does not run); English otherwise.
  var TRANSLATED = (function () {
    var block = document.getElementById("idp-messages");
    try { return block ? JSON.parse(block.textContent) : {}; } catch (e) { return {}; }
  }());
  function _(text) { return TRANSLATED[text] || text; }
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
        status.textContent = _("Copied");
      }, function () {
        status.textContent = _("Copying failed: select the text and copy it by hand.");
      });
      window.setTimeout(function () { status.textContent = ""; }, 4000);
    });
  });
}());
