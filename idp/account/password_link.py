"""/account/set-password/<token>: the page behind a one-time set-password link an administrator
created. Using it sets the password, ends the person's other sessions and retires the link."""

from __future__ import annotations

from flask import render_template, request

from .. import http
from ..errors import ValidationError
from ..services import audit, logout, users
from ..services.runtime import current
from . import bp


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    user = users.password_link_user(token)
    if user is None:
        return render_template("errors/error.html", title="This link no longer works",
                               message="The set-password link has expired or has already been used.",
                               next_step="Ask your administrator for a new one."), 404
    if request.method == "GET":
        return render_template("account/set_password.html", user=user, token=token, error=None)
    new, again = request.form.get("new_password", ""), request.form.get("new_password_again", "")
    try:
        if new != again:
            raise ValidationError("The two passwords are not the same.", field="new_password_again")
        users.set_password_with_link(current().passwords, token, new)
    except ValidationError as exc:
        return render_template("account/set_password.html", user=user, token=token, error=str(exc),
                               error_field=exc.field), 400
    ended = logout.end_other_sessions(user.id, None, reason="password_set_by_link", origin=http.origin())
    audit.record("password.set_by_link", origin=http.origin(), actor_user_id=user.id,
                 details={"ended_sessions": ended})
    return render_template("errors/error.html", title="Your password is set",
                           message="You can now sign in with your new password."), 200
