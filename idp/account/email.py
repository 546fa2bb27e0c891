"""/account/email: confirm or change the e-mail address; /account/verify-email/<token>: the page
behind the mailed link (a button, so a mail scanner that opens links confirms nothing)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from .. import http, i18n, mails
from ..errors import AuthenticationFailed, Throttled, ValidationError
from ..i18n import _
from ..services import email_verification, password_login
from ..services.runtime import current
from . import bp
from .auth import interaction_back
from .views import signed_in


def _page(error=None, status=200, new_email=""):
    return render_template("account/email.html", user=g.user, error=error, new_email=new_email), status


@bp.route("/email", methods=["GET", "POST"])
@signed_in
def email():
    if request.method == "GET":
        return _page()
    rt = current()
    new_email = request.form.get("new_email")
    try:
        if new_email is not None:  # a change: the person types their password again first
            password_login.reauthenticate(rt.settings, rt.passwords, g.user,
                                          password=request.form.get("current_password", ""),
                                          origin=http.origin(), known_browser=http.read(http.KNOWN_BROWSER_COOKIE),
                                          action="changing the e-mail address")
        address = email_verification.start(rt.settings, g.user.id, new_email, origin=http.origin(),
                                           notify=mails.verify_mail)
    except Throttled as exc:
        return _page(i18n.throttled(exc.retry_after), 429, (new_email or "")[:254])
    except AuthenticationFailed:
        return _page(_("The current password is incorrect."), 401, (new_email or "")[:254])
    except ValidationError as exc:
        return _page(i18n.describe(exc), 400, (new_email or "")[:254])
    flash(_("We sent a link to %(address)s. Open it to confirm the address.", address=address))
    return redirect(url_for("account.email"), code=303)


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    found = email_verification.pending(token)
    if found is None:
        return render_template("errors/error.html", title=_("This link no longer works"),
                               message=_("The link has expired, has already been used, or the address of the "
                                         "account has changed since it was sent."),
                               next_step=_("Ask for a new one on your account page.")), 404
    user, address = found
    if request.method == "GET":
        return render_template("account/verify_email.html", user=user, address=address, token=token,
                               uid=request.args.get("uid", "")[:64])
    try:
        email_verification.confirm(token, origin=http.origin())
    except ValidationError as exc:
        return render_template("errors/error.html", title=_("The address was not confirmed"),
                               message=i18n.describe(exc)), 409
    return render_template("account/email_confirmed.html", address=address, user=user, back=interaction_back())
