"""The second-factor step of the sign-in interaction, and passwordless sign-in with a passkey.

The policy asks for the `mfa` prompt; this page offers each method the person has enrolled
(authenticator app, security key / passkey) and the recovery path, verifies the answer, raises the
SSO session to the MFA level and sends the browser back to the protocol's resume point."""

from __future__ import annotations

from flask import Response, jsonify, render_template, request, session

from .. import http, i18n
from ..errors import CounterRegression, SecondFactorFailed, Throttled
from ..i18n import gettext as _
from ..services import audit, interactions, mfa, policy, sessions, users
from ..services.mfa import recovery, throttle, totp, webauthn
from ..services.runtime import current
from ..services.sessions import MFA_ACR
from ..types import InteractionView, UserView
from . import bp
from .views import _client_name, _current_user, _expired, _interaction, _render_login, _resume

WRONG = {
    "totp": "That code is not right, or it was already used. Wait for a new code in your app and try again.",
    "recovery": "That recovery code is not right, or it was already used. Check it and try again.",
    "webauthn": "Your security key or passkey could not be checked. Try again, or use another method.",
}
METHOD_EVENTS = {"totp": "mfa.totp.verify", "recovery": "mfa.recovery.verify", "webauthn": "mfa.webauthn.verify"}


def _methods(user_id: int) -> list[str]:
    status = mfa.status(user_id)
    passkeys = bool(status.passkeys) and webauthn.usable(current().settings)
    return [m for m, ok in (("webauthn", passkeys), ("totp", status.totp),
                            ("recovery", status.recovery_codes_left > 0)) if ok]


def render(interaction: InteractionView, user: UserView, method: str | None = None, error: str | None = None,
           status: int = 200):
    """The MFA page: the chosen (or first) enrolled method, with links to the others."""
    methods = _methods(user.id)
    if not methods:  # the factors went away meanwhile: let the policy decide again
        return _resume(interaction.uid)
    method = method if method in methods else methods[0]
    return render_template("interaction/mfa.html", uid=interaction.uid, client_name=_client_name(interaction),
                           username=user.username, method=method, others=[m for m in methods if m != method],
                           codes_left=mfa.status(user.id).recovery_codes_left, error=error), status


def _signed_in(uid: str) -> tuple[InteractionView, UserView] | None:
    interaction = _interaction(uid)
    user = _current_user()
    if interaction is None or user is None:
        return None
    return interaction, user


def _passed(uid: str, interaction: InteractionView, user: UserView, method: str, methods: list[str]) -> Response:
    result = mfa.complete(current().settings, http.read(http.SESSION_COOKIE), methods)
    if result is None:
        return _expired()
    audit.record(METHOD_EVENTS[method], origin=http.origin(), actor_user_id=user.id,
                 client_id=interaction.client_id, details={"amr": list(result[1].amr)})
    response = _resume(uid)
    http.set_cookie(response, http.SESSION_COOKIE, result[0])
    return response


def _failed(interaction: InteractionView, user: UserView, method: str, exc: SecondFactorFailed):
    audit.record(METHOD_EVENTS[method], outcome=audit.FAILURE, origin=http.origin(), actor_user_id=user.id,
                 client_id=interaction.client_id, reason=str(exc))
    if isinstance(exc, CounterRegression):
        audit.record("mfa.webauthn.counter_regression", outcome=audit.FAILURE, origin=http.origin(),
                     subject_user_id=exc.user_id, client_id=interaction.client_id, reason=str(exc))
    return render(interaction, user, method, WRONG[method], 401)


def _verify(uid: str, method: str, check) -> Response:
    found = _signed_in(uid)
    if found is None:
        return _expired()
    interaction, user = found
    if interaction.prompt != policy.MFA:
        return _expired()  # this page is only the answer to the policy's second-factor prompt
    try:
        methods = throttle.verify(current().settings, user_id=user.id, ip_address=http.client_ip(),
                                  check=lambda: check(user))
    except Throttled as exc:
        return render(interaction, user, method, i18n.throttled(exc.retry_after, "mfa"), 429)
    except SecondFactorFailed as exc:
        return _failed(interaction, user, method, exc)
    return _passed(uid, interaction, user, method, methods)


@bp.route("/<uid>/mfa/totp", methods=["POST"])
def mfa_totp(uid: str):
    def check(user: UserView) -> list[str]:
        totp.verify(current().settings, user.id, request.form.get("code", ""))
        return [mfa.AMR_OTP]
    return _verify(uid, "totp", check)


@bp.route("/<uid>/mfa/recovery", methods=["POST"])
def mfa_recovery(uid: str):
    def check(user: UserView) -> list[str]:
        recovery.use(user.id, request.form.get("code", ""))
        return [mfa.AMR_OTP]
    return _verify(uid, "recovery", check)


@bp.route("/<uid>/mfa/webauthn", methods=["POST"])
def mfa_webauthn(uid: str):
    def check(user: UserView) -> list[str]:
        assertion = webauthn.authenticate(current().settings, request.form.get("credential", ""),
                                          http.read(http.BROWSER_COOKIE), user.id)
        return list(assertion.methods)
    return _verify(uid, "webauthn", check)


def _options(body: str) -> Response:
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<uid>/mfa/webauthn/options", methods=["POST"])
def mfa_webauthn_options(uid: str):
    found = _signed_in(uid)
    secret = http.read(http.BROWSER_COOKIE)
    if found is None or not secret:
        return jsonify(error=_("This sign-in request has expired. Start again.")), 400
    return _options(webauthn.authentication_options(current().settings, found[1].id, secret))


# --- Passwordless sign-in with a passkey ------------------------------------------------------------

@bp.route("/<uid>/passkey/options", methods=["POST"])
def passkey_options(uid: str):
    secret = http.read(http.BROWSER_COOKIE)
    if _interaction(uid) is None or not secret:
        return jsonify(error=_("This sign-in request has expired. Start again.")), 400
    return _options(webauthn.authentication_options(current().settings, None, secret))


@bp.route("/<uid>/passkey", methods=["POST"])
def passkey_login(uid: str):
    interaction = _interaction(uid)
    if interaction is None:
        return _expired()
    rt = current()

    def check():
        assertion = webauthn.authenticate(rt.settings, request.form.get("credential", ""),
                                          http.read(http.BROWSER_COOKIE), None)
        user = users.get_enabled(assertion.user_id)
        if user is None:
            raise SecondFactorFailed("the passkey's account is disabled")
        return assertion, user

    try:
        assertion, user = throttle.verify(rt.settings, user_id=None, ip_address=http.client_ip(), check=check)
    except Throttled as exc:
        return _render_login(interaction, i18n.throttled(exc.retry_after, "mfa"), status=429)
    except SecondFactorFailed as exc:
        regression = isinstance(exc, CounterRegression)
        audit.record("login.passkey", outcome=audit.FAILURE, origin=http.origin(), client_id=interaction.client_id,
                     subject_user_id=exc.user_id if regression else None, reason=str(exc))
        if regression:
            audit.record("mfa.webauthn.counter_regression", outcome=audit.FAILURE, origin=http.origin(),
                         subject_user_id=exc.user_id, client_id=interaction.client_id, reason=str(exc))
        return _render_login(interaction, _("Signing in with a passkey did not work. Try again, or use your "
                                                "password."), status=401)
    # User verification is required here, so the passkey alone is two factors (possession + PIN/biometric).
    cookie, view = sessions.start(rt.settings, user_id=user.id, amr=[*assertion.methods, mfa.AMR_MFA], acr=MFA_ACR,
                                  user_agent=http.user_agent(), ip_address=http.client_ip(),
                                  replaces=http.read(http.SESSION_COOKIE))
    interactions.record_login(uid, http.read(http.BROWSER_COOKIE), user.id)
    audit.record("login.passkey", origin=http.origin(), actor_user_id=user.id, client_id=interaction.client_id,
                 details={"amr": list(view.amr)})
    session.clear()
    response = _resume(uid)
    http.set_cookie(response, http.SESSION_COOKIE, cookie)
    return response

