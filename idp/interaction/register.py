"""Sign-up inside a sign-in (registration "open"): /interaction/<uid>/register, reached from the
sign-in page's "Create an account" or by prompt=create (Prompt Create 1.0). After signing up the
person confirms the address by mail, then signs in and continues to the application that sent them:
the same interaction, the same policy (whose email_verification step stops an unconfirmed account)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from .. import http, i18n, mails
from ..errors import Throttled, ValidationError
from ..i18n import _
from ..services import email_verification, interactions, policy, self_registration
from ..services.runtime import current
from ..types import InteractionView
from . import bp
from .views import _client_name, _current_user, _expired, _interaction, _resume


def registration_open() -> bool:
    return current().settings.registration == "open"


def render(interaction: InteractionView, error: str | None = None, form: dict | None = None, status: int = 200):
    if not registration_open():
        return render_template("errors/error.html", title=_("Sign-up is not open"),
                               message=_("Accounts are created by the administrators of this service."),
                               next_step=_("Ask them for an invitation.")), 404
    return render_template("interaction/register.html", uid=interaction.uid, client_name=_client_name(interaction),
                           error=error, form=form or {}), status


def _notify(uid: str):
    def notify(sign_up: self_registration.SignUpMail) -> None:
        if sign_up.token is None:  # the address has an account already: tell its owner, nobody else
            mails.compose("account_exists", sign_up.to, by_recipient=True, user_id=sign_up.user_id,
                          username=sign_up.username,
                          url=http.issuer_url("account.forgot_password"))
            return
        mails.verification(sign_up.to, sign_up.username, sign_up.token, by_recipient=True, user_id=sign_up.user_id,
                           uid=uid)
    return notify


@bp.route("/<uid>/register", methods=["GET", "POST"])
def register(uid: str):
    interaction = _interaction(uid)
    if interaction is None:
        return _expired()
    if request.method == "GET":
        return render(interaction)
    if not registration_open():
        return render(interaction)
    rt = current()
    form = {name: request.form.get(name, "")[:1024] for name in ("username", "email", "website")}
    password, again = request.form.get("password", ""), request.form.get("password_again", "")
    shown = {k: v[:254] for k, v in form.items() if k != "website"}
    try:
        if password != again:
            raise ValidationError(_("The two passwords are not the same."))
        self_registration.register(
            rt.settings, rt.passwords,
            self_registration.SignUp(form["username"], form["email"], password, honeypot=form["website"],
                                     locale=i18n.language()),
            origin=http.origin(), notify=_notify(uid))
    except Throttled as exc:
        return render(interaction, i18n.throttled(exc.retry_after, "sign-ups"),
                      shown, 429)
    except ValidationError as exc:
        return render(interaction, i18n.describe(exc), shown, 400)
    interactions.set_prompt(uid, http.read(http.BROWSER_COOKIE), policy.LOGIN)
    return render_template("interaction/register_sent.html", uid=uid, client_name=_client_name(interaction),
                           hours=rt.settings.email_verification_ttl // 3600)


def render_verify(interaction: InteractionView, user, notice: str | None = None):
    return render_template("interaction/verify_email.html", uid=interaction.uid, user=user, notice=notice,
                           client_name=_client_name(interaction))


@bp.route("/<uid>/verify-email", methods=["POST"])
def verify_email(uid: str):
    """The policy's email_verification step: send the link again, or continue once it was used."""
    interaction = _interaction(uid)
    user = _current_user()
    if interaction is None or user is None:
        return _expired()
    if request.form.get("action") != "resend":
        return _resume(uid)
    try:
        email_verification.start(current().settings, user.id, None, origin=http.origin(), notify=_resend(uid))
    except ValidationError as exc:
        return render_verify(interaction, user, i18n.describe(exc)), 400
    return redirect(url_for("interaction.show", uid=uid, sent=1), code=303)


def _resend(uid: str):
    def notify(verify: email_verification.VerifyMail) -> None:
        mails.verification(verify.to, verify.username, verify.token, by_recipient=True, user_id=verify.user_id,
                           uid=uid)
    return notify
