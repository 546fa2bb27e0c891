// "Show password" (progressive enhancement; no inline script: the CSP forbids it). A toggle button
// with data-show-password="id1 id2" switches those fields between hidden and visible text.
(function () {
  "use strict";
  document.querySelectorAll("button[data-show-password]").forEach(function (button) {
    var fields = button.dataset.showPassword.split(" ").map(function (id) { return document.getElementById(id); })
      .filter(Boolean);
    button.hidden = false;
    button.addEventListener("click", function () {
      var show = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", show ? "true" : "false");
      fields.forEach(function (field) { field.type = show ? "text" : "password"; });
    });
  });
}());
