// A "Print" button (data-print) opens the browser's print dialog; hidden without JavaScript, where the
// browser's own Print menu does the same. No inline script: the CSP forbids it.
document.querySelectorAll("button[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
