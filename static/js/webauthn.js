// WebAuthn glue for the sign-in, second-factor and account pages (no inline script: the CSP forbids it).
// A form with data-webauthn="get" or "create" fetches its options from data-options-url (POST with the
// page's CSRF token in X-CSRFToken), runs the browser ceremony, puts the JSON result into the form's
// hidden "credential" field and submits the form. data-conditional="true" also offers passkeys in the
// username field's autofill (conditional mediation).
(function () {
  "use strict";
  // Translations: the page carries this script's messages in its language as a JSON data block
  // (<script type="application/json" id="idp-messages">, which the CSP does not run); English otherwise.
  var TRANSLATED = (function () {
    var block = document.getElementById("idp-messages");
    try { return block ? JSON.parse(block.textContent) : {}; } catch (e) { return {}; }
  }());
  function _(text) { return TRANSLATED[text] || text; }
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
        if (!response.ok) {
          var refused = new Error(body.error || _("The server refused the request. Reload the page and try again."));
          refused.name = "ServerError";
          throw refused;
        }
        return body;
      });
    });
  }

  // The browser's own messages are technical and sometimes misleading; say what happened in plain words.
  var MESSAGES = {
    NotAllowedError: _("The request was cancelled or timed out. Try again, or use another way to sign in."),
    AbortError: _("The request was cancelled. Try again."),
    InvalidStateError: _("This security key or passkey is already registered to your account."),
    SecurityError: _("Passkeys cannot be used on this address. Use another way to sign in."),
    NotSupportedError: _("This browser or device does not support this kind of security key or passkey."),
    ConstraintError: _("This security key cannot do what is needed (such as a PIN or fingerprint).")
  };

  function plainMessage(error) {
    if (error.name === "ServerError") { return error.message; }
    return MESSAGES[error.name] || _("That did not work. Try again, or use another way to sign in.");
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
        showError(form, plainMessage(error));
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
