"""Set up a second factor inside the sign-in (a required action, like Keycloak's): the policy asks
for `mfa_enrol` when a second factor is required (an administrator, or the app's setting) but the
person has none yet. After their password they set up an authenticator app or a passkey here, get
recovery codes, and continue to where they were going with the session at the MFA level.

Only while the interaction asks for it and the person has no factor: once one exists, proving it is
the `mfa` step's job, so a password alone can never add a factor to an account that has one."""

from __future__ import annotations

from flask import Response, jsonify, render_template, request, url_for

from .. import http, i18n
from ..errors import SecondFactorFailed, Throttled, ValidationError
from ..i18n import gettext as _
from ..services import audit, mfa, policy
from ..services.mfa import recovery, throttle, totp, webauthn
from ..services.runtime import current
from ..services.text import N_
from ..types import InteractionView, UserView
from . import bp
from .mfa import _options
from .views import _client_name, _current_user, _expired, _interaction

WRONG_CODE = N_("That code is not right. Enter the code your app shows now.")


def render(interaction: InteractionView, user: UserView, error: str | None = None, status: int = 200):
    """The choice: an authenticator app, or a security key / passkey."""
    return render_template("interaction/enrol.html", uid=interaction.uid, client_name=_client_name(interaction),
                           username=user.username, error=error), status


def _enrolling(uid: str) -> tuple[InteractionView, UserView] | None:
    interaction = _interaction(uid)
    user = _current_user()
    if interaction is None or user is None or interaction.prompt != policy.MFA_ENROL:
        return None
    if mfa.status(user.id).enrolled:
        return None
    return interaction, user


def _render_totp(interaction: InteractionView, user: UserView, error: str | None = None, status: int = 200):
    try:
        enrolment = totp.begin(current().settings, user, _(totp.QR_TITLE))
    except ValidationError:
        return _expired()
    return render_template("interaction/enrol_totp.html", uid=interaction.uid, enrolment=enrolment,
                           username=user.username, client_name=_client_name(interaction), error=error), status


def _finish(interaction: InteractionView, user: UserView, event: str, methods: list[str]) -> Response:
    """The first factor is set up: recovery codes (shown once) and the session at the MFA level."""
    audit.record(event, origin=http.origin(), actor_user_id=user.id, client_id=interaction.client_id,
                 details={"during": "sign-in"})
    codes = recovery.generate(user.id)
    audit.record("mfa.recovery.generate", origin=http.origin(), actor_user_id=user.id,
                 details={"count": len(codes), "after": event})
    response = Response(render_template("interaction/enrol_codes.html", codes=codes, username=user.username,
                                        client_name=_client_name(interaction),
                                        next_url=url_for("protocol.resume", uid=interaction.uid)))
    response.headers["Cache-Control"] = "no-store"
    result = mfa.complete(current().settings, http.read(http.SESSION_COOKIE), methods)
    if result is None:
        return _expired()
    http.set_cookie(response, http.SESSION_COOKIE, result[0])
    return response


@bp.route("/<uid>/enrol/totp", methods=["GET"])
def enrol_totp(uid: str):
    found = _enrolling(uid)
    if found is None:
        return _expired()
    return _render_totp(*found)


@bp.route("/<uid>/enrol/totp", methods=["POST"])
def enrol_totp_confirm(uid: str):
    found = _enrolling(uid)
    if found is None:
        return _expired()
    interaction, user = found
    settings = current().settings
    try:
        throttle.verify(settings, user_id=user.id, ip_address=http.client_ip(),
                        check=lambda: totp.confirm(settings, user.id, request.form.get("code", "")))
    except Throttled as exc:
        return _render_totp(interaction, user, i18n.throttled(exc.retry_after, "mfa"), 429)
    except SecondFactorFailed as exc:
        audit.record("mfa.totp.enrol", outcome=audit.FAILURE, origin=http.origin(), actor_user_id=user.id,
                     client_id=interaction.client_id, reason=str(exc))
        return _render_totp(interaction, user, _(WRONG_CODE), 400)
    except ValidationError:
        return _expired()
    return _finish(interaction, user, "mfa.totp.enrol", [mfa.AMR_OTP])


@bp.route("/<uid>/enrol/passkey/options", methods=["POST"])
def enrol_passkey_options(uid: str):
    found = _enrolling(uid)
    secret = http.read(http.BROWSER_COOKIE)
    if found is None or not secret:
        return jsonify(error=_("This sign-in request has expired. Start again.")), 400
    return _options(webauthn.registration_options(current().settings, found[1], secret))


@bp.route("/<uid>/enrol/passkey", methods=["POST"])
def enrol_passkey(uid: str):
    found = _enrolling(uid)
    if found is None:
        return _expired()
    interaction, user = found
    try:
        passkey = webauthn.register(current().settings, user, request.form.get("credential", ""),
                                    request.form.get("nickname"), http.read(http.BROWSER_COOKIE))
    except SecondFactorFailed as exc:
        audit.record("mfa.webauthn.register", outcome=audit.FAILURE, origin=http.origin(), actor_user_id=user.id,
                     client_id=interaction.client_id, reason=str(exc))
        return render(interaction, user, _("The security key or passkey could not be added. Try again."), 400)
    kind = mfa.AMR_HARDWARE_KEY if passkey.device_type == "single_device" else mfa.AMR_SOFTWARE_KEY
    return _finish(interaction, user, "mfa.webauthn.register", [kind])
