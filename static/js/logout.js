// After sign-out: once the front-channel logout iframes have loaded (the window's load event waits
// for them), or after a few seconds at most, return to the application. No inline script: the CSP
// forbids it. Without JavaScript the "Return to …" link does the same.
(function () {
  var link = document.getElementById("logout-continue");
  if (!link) { return; }
  var done = false;
  function go() {
    if (!done) { done = true; window.location.assign(link.href); }
  }
  window.addEventListener("load", go);
  window.setTimeout(go, 5000);
})();
