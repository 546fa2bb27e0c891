// Submits the OAuth 2.0 form_post authorization response (no inline script: the CSP forbids it).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("form-post-response");
  if (form) { form.submit(); }
});
