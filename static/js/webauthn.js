// WebAuthn glue for the sign-in, second-factor and account pages (no inline script: the CSP forbids it).
// A form with data-webauthn="get" or "create" fetches its options from data-options-url (POST with the
// page's CSRF token in X-CSRFToken), runs the browser ceremony, puts the JSON result into the form's
// hidden "credential" field and submits the form. data-conditional="true" also offers passkeys in the
// username field's autofill (conditional mediation).
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseRequestOptionsFromJSON) { return; }

  function csrfToken(form) { return form.querySelector('input[name="csrf_token"]').value; }

  function showError(form, message) {
    var box = form.querySelector("[data-webauthn-error]");
    if (box) { box.textContent = message; box.hidden = false; }
  }

  function options(form) {
    return fetch(form.dataset.optionsUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(form), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || "The server refused the request."); }
        return body;
      });
    });
  }

  function submitWith(form, credential) {
    form.querySelector('input[name="credential"]').value = JSON.stringify(credential.toJSON());
    form.submit();
  }

  function ceremony(form, mediation, signal) {
    return options(form).then(function (json) {
      if (form.dataset.webauthn === "create") {
        return navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(json) });
      }
      var request = { publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(json) };
      if (mediation) { request.mediation = mediation; request.signal = signal; }
      return navigator.credentials.get(request);
    }).then(function (credential) { if (credential) { submitWith(form, credential); } });
  }

  document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
    var conditional = null;
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (conditional) { conditional.abort(); conditional = null; }
      ceremony(form).catch(function (error) {
        showError(form, error.name === "NotAllowedError"
          ? "The request was cancelled or timed out. Try again." : (error.message || "That did not work."));
      });
    });
    if (form.dataset.conditional === "true" && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (!available) { return; }
        conditional = new AbortController();
        ceremony(form, "conditional", conditional.signal).catch(function () { /* dismissed or aborted */ });
      });
    }
  });
}());
