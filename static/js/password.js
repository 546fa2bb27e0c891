// "Show password" (progressive enhancement; no inline script: the CSP forbids it). A checkbox with
// data-show-password="id1 id2" switches those fields between hidden and visible text.
(function () {
  "use strict";
  document.querySelectorAll("input[data-show-password]").forEach(function (box) {
    var fields = box.dataset.showPassword.split(" ").map(function (id) { return document.getElementById(id); })
      .filter(Boolean);
    box.closest("label").hidden = false;
    box.addEventListener("change", function () {
      fields.forEach(function (field) { field.type = box.checked ? "text" : "password"; });
    });
  });
}());
