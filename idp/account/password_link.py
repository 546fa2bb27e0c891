"""/account/set-password/<token>: the page behind a single-use link to set a password — an
administrator's set-password link, a "Forgot password?" mail or an invitation. Using it sets the
password, ends every session of the person, revokes their refresh and access tokens unless they keep
them (a checkbox; never for an invitation, which has none), and retires the link. It does not sign
the person in: they sign in with the new password through the one sign-in, whose policy still asks
for their second factor."""

from __future__ import annotations

from flask import render_template, request

from .. import http, i18n
from ..errors import ValidationError
from ..i18n import _
from ..services import audit, email_links, logout, tokens, users
from ..services.runtime import current
from . import bp


def _dead_link():
    return render_template("errors/error.html", title=_("This link no longer works"),
                           message=_("The link has expired, has already been used, or your password has changed "
                                     "since it was sent."),
                           next_step=_("Ask for a new one with “Forgot password?” on the sign-in page, or ask your "
                                       "administrator.")), 404


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    user = users.password_link_user(token)
    if user is None:
        return _dead_link()
    if request.method == "GET":
        return render_template("account/set_password.html", user=user, token=token, error=None)
    new, again = request.form.get("new_password", ""), request.form.get("new_password_again", "")
    keep_tokens = request.form.get("keep_apps") == "1"
    try:
        if new != again:
            raise ValidationError(_("The two passwords are not the same."), field="new_password_again")
        user, purpose = users.set_password_with_link(current().passwords, token, new)
    except ValidationError as exc:
        if users.password_link_user(token) is None:
            return _dead_link()
        return render_template("account/set_password.html", user=user, token=token, error=i18n.describe(exc),
                               error_field=exc.field), 400
    ended = logout.end_other_sessions(user.id, None, reason=f"password_set_by_{purpose}", origin=http.origin())
    revoked = 0 if keep_tokens else tokens.revoke_grants(user.id)
    audit.record("password.set_by_link", origin=http.origin(), actor_user_id=user.id,
                 details={"purpose": purpose, "ended_sessions": ended, "revoked_tokens": revoked,
                          "kept_apps": keep_tokens})
    first = purpose == email_links.INVITATION
    return render_template("errors/error.html", title=_("Your password is set"),
                           message=_("Welcome! You can now sign in with your username %(name)s and your new "
                                     "password.", name=user.username) if first else
                           _("You can now sign in with your new password. You were signed out everywhere else."),
                           next_step=_("If your account has a second factor, you will be asked for it too.")), 200
