"""/account/security: set up and manage second factors — authenticator app (TOTP), recovery codes,
security keys and passkeys. Each change is written to the audit trail; removing a factor or
replacing the recovery codes asks for the password again.

Who is signed in comes from the SSO session cookie. A person who has a second factor must have used
it in this session (acr `urn:idp:acr:mfa`) to change anything here, so a stolen password alone can
neither see nor remove the factors."""

from __future__ import annotations

from flask import Response, flash, jsonify, redirect, render_template, request, url_for

from .. import http, i18n
from ..errors import AuthenticationFailed, SecondFactorFailed, Throttled, ValidationError
from ..i18n import gettext as _
from ..services import audit, mfa, password_login
from ..services.mfa import recovery, totp, webauthn
from ..services.mfa import throttle as mfa_throttle
from ..services.runtime import current
from ..services.text import N_
from . import bp
from .auth import Person, person_or_sign_in

REAUTH_FAILED = N_("The password is not right, so nothing was changed. Try again.")



def signed_in() -> Person | Response:
    """The signed-in person, or the sign-in flow (with their second factor, if they have one)."""
    return person_or_sign_in()


def _elevate(response: Response, methods: list[str]) -> Response:
    """The person just proved a new factor: their session reaches the MFA level."""
    result = mfa.complete(current().settings, http.read(http.SESSION_COOKIE), methods)
    if result is not None:
        http.set_cookie(response, http.SESSION_COOKIE, result[0])
    return response


def _reauthentication_refused(person: Person, action: str):
    """None when the password typed again is right (the one throttled check); else the page to show."""
    rt = current()
    try:
        password_login.reauthenticate(rt.settings, rt.passwords, person.user, password=request.form.get("password", ""),
                                      origin=http.origin(), known_browser=http.read(http.KNOWN_BROWSER_COOKIE),
                                      action=action)
    except Throttled as exc:
        return _render_index(person, i18n.throttled(exc.retry_after), 429)
    except AuthenticationFailed:
        return _render_index(person, _(REAUTH_FAILED), 401)
    return None


def _back() -> Response:
    return redirect(url_for("account.security"), code=303)


def _render_index(person: Person, error: str | None = None, status: int = 200):
    return render_template("account/security/index.html", username=person.user.username,
                           status=mfa.status(person.user.id), error=error), status


def _show_codes(person: Person, codes: list[str], first_time: bool) -> Response:
    response = Response(render_template("account/security/recovery_codes.html", codes=codes,
                                        username=person.user.username, first_time=first_time))
    response.headers["Cache-Control"] = "no-store"
    return response


def _after_first_factor(person: Person, event: str) -> list[str] | None:
    """New recovery codes when the person has none yet (their first factor)."""
    if recovery.remaining(person.user.id):
        return None
    codes = recovery.generate(person.user.id)
    audit.record("mfa.recovery.generate", origin=http.origin(), actor_user_id=person.user.id,
                 details={"count": len(codes), "after": event})
    return codes


@bp.route("/security", methods=["GET"])
def security():
    person = signed_in()
    if not isinstance(person, Person):
        return person
    return _render_index(person)


# --- Authenticator app ----------------------------------------------------------------------------

@bp.route("/security/totp", methods=["GET"])
def totp_setup():
    person = signed_in()
    if not isinstance(person, Person):
        return person
    try:
        enrolment = totp.begin(current().settings, person.user, _(totp.QR_TITLE))
    except ValidationError as exc:
        return _render_index(person, i18n.describe(exc), 409)
    return render_template("account/security/totp.html", enrolment=enrolment, username=person.user.username)


@bp.route("/security/totp", methods=["POST"])
def totp_confirm():
    person = signed_in()
    if not isinstance(person, Person):
        return person
    settings = current().settings

    def setup_page(error: str, status: int):
        return render_template("account/security/totp.html",
                               enrolment=totp.begin(settings, person.user, _(totp.QR_TITLE)),
                               username=person.user.username, error=error), status

    try:  # the one second-factor check, so the first code is counted like any other
        mfa_throttle.verify(settings, user_id=person.user.id, ip_address=http.client_ip(),
                            check=lambda: totp.confirm(settings, person.user.id, request.form.get("code", "")))
    except ValidationError as exc:
        return _render_index(person, i18n.describe(exc), 409)
    except Throttled as exc:
        return setup_page(i18n.throttled(exc.retry_after, "mfa"), 429)
    except SecondFactorFailed as exc:
        audit.record("mfa.totp.enrol", outcome=audit.FAILURE, origin=http.origin(), actor_user_id=person.user.id,
                     reason=str(exc))
        return setup_page("That code is not right. Enter the code your app shows now.", 400)
    audit.record("mfa.totp.enrol", origin=http.origin(), actor_user_id=person.user.id)
    codes = _after_first_factor(person, "mfa.totp.enrol")
    if codes:
        response = _show_codes(person, codes, first_time=True)
    else:
        flash(_("Your authenticator app is set up."))
        response = _back()
    return _elevate(response, [mfa.AMR_OTP])


@bp.route("/security/totp/disable", methods=["POST"])
def totp_disable():
    person = signed_in()
    if not isinstance(person, Person):
        return person
    refused = _reauthentication_refused(person, "removing the authenticator app")
    if refused:
        return refused
    if totp.disable(person.user.id):
        audit.record("mfa.totp.disable", origin=http.origin(), actor_user_id=person.user.id)
    if mfa.drop_recovery_codes_if_unused(person.user.id):
        audit.record("mfa.recovery.remove", origin=http.origin(), actor_user_id=person.user.id,
                     reason="no second factor left")
    flash(_("The authenticator app was removed."))
    return _back()


# --- Recovery codes -------------------------------------------------------------------------------

@bp.route("/security/recovery-codes", methods=["POST"])
def recovery_codes():
    person = signed_in()
    if not isinstance(person, Person):
        return person
    if not mfa.status(person.user.id).enrolled:
        return _render_index(person, _("Set up an authenticator app or a passkey first."), 409)
    refused = _reauthentication_refused(person, "replacing the recovery codes")
    if refused:
        return refused
    codes = recovery.generate(person.user.id)
    audit.record("mfa.recovery.generate", origin=http.origin(), actor_user_id=person.user.id,
                 details={"count": len(codes), "after": "request"})
    return _show_codes(person, codes, first_time=False)


# --- Security keys and passkeys -------------------------------------------------------------------

@bp.route("/security/passkeys/options", methods=["POST"])
def passkey_options():
    person = signed_in()
    if not isinstance(person, Person):
        return jsonify(error=_("Sign in again to add a passkey.")), 401
    # The challenge is bound to this browser; whichever way the person signed in, the binding exists
    # from here on (set on this response when the browser had none).
    response = Response(mimetype="application/json")
    secret = http.ensure_browser_secret(response)
    response.set_data(webauthn.registration_options(current().settings, person.user, secret))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/security/passkeys", methods=["POST"])
def passkey_register():
    person = signed_in()
    if not isinstance(person, Person):
        return person
    try:
        passkey = webauthn.register(current().settings, person.user, request.form.get("credential", ""),
                                    request.form.get("nickname"), http.read(http.BROWSER_COOKIE))
    except SecondFactorFailed as exc:
        audit.record("mfa.webauthn.register", outcome=audit.FAILURE, origin=http.origin(),
                     actor_user_id=person.user.id, reason=str(exc))
        return _render_index(person, _("The security key or passkey could not be added. Try again."), 400)
    audit.record("mfa.webauthn.register", origin=http.origin(), actor_user_id=person.user.id,
                 details={"passkey_id": passkey.id, "device_type": passkey.device_type})
    codes = _after_first_factor(person, "mfa.webauthn.register")
    if codes:
        response = _show_codes(person, codes, first_time=True)
    else:
        flash(_("“%(name)s” was added.", name=passkey.nickname))
        response = _back()
    return _elevate(response, [mfa.AMR_HARDWARE_KEY if passkey.device_type == "single_device"
                               else mfa.AMR_SOFTWARE_KEY])


@bp.route("/security/passkeys/<int:pk>/rename", methods=["POST"])
def passkey_rename(pk: int):
    person = signed_in()
    if not isinstance(person, Person):
        return person
    try:
        passkey = webauthn.rename(person.user.id, pk, request.form.get("nickname", ""))
    except ValidationError as exc:
        return _render_index(person, i18n.describe(exc), 404)
    audit.record("mfa.webauthn.rename", origin=http.origin(), actor_user_id=person.user.id,
                 details={"passkey_id": pk})
    flash(_("Renamed to “%(name)s”.", name=passkey.nickname))
    return _back()


@bp.route("/security/passkeys/<int:pk>/delete", methods=["POST"])
def passkey_delete(pk: int):
    person = signed_in()
    if not isinstance(person, Person):
        return person
    refused = _reauthentication_refused(person, "removing a passkey")
    if refused:
        return refused
    try:
        passkey = webauthn.delete(person.user.id, pk)
    except ValidationError as exc:
        return _render_index(person, i18n.describe(exc), 404)
    audit.record("mfa.webauthn.delete", origin=http.origin(), actor_user_id=person.user.id,
                 details={"passkey_id": pk})
    if mfa.drop_recovery_codes_if_unused(person.user.id):
        audit.record("mfa.recovery.remove", origin=http.origin(), actor_user_id=person.user.id,
                     reason="no second factor left")
    flash(_("“%(name)s” was removed.", name=passkey.nickname))
    return _back()
