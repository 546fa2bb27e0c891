"""/account/forgot-password: ask for a mailed link to set a new password. Open to anyone; the answer
never says whether the name typed has an account (services.password_reset)."""

from __future__ import annotations

from flask import render_template, request

from .. import http, i18n, mails
from ..errors import Throttled, ValidationError
from ..i18n import _
from ..services import password_reset
from ..services.runtime import current
from . import bp
from .auth import interaction_back


def _notify(reset: password_reset.ResetMail) -> None:
    settings = current().settings
    mails.compose("password_reset", reset.to, by_recipient=True, user_id=reset.user_id, send=reset.send,
                  username=reset.username,
                  url=http.issuer_url("account.set_password", token=reset.token),
                  minutes=settings.password_reset_ttl // 60)


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    back = interaction_back()
    if request.method == "GET":
        return render_template("account/forgot_password.html", error=None, login="", back=back)
    login = request.form.get("login", "")
    try:
        password_reset.request(current().settings, login=login, origin=http.origin(), notify=_notify)
    except ValidationError as exc:
        return render_template("account/forgot_password.html", error=i18n.describe(exc), login=login[:254],
                               back=back), 400
    except Throttled:
        return render_template("account/forgot_password.html", login=login[:254], back=back, error=_(
            "Too many requests for this name or from your network. Wait an hour and try again.")), 429
    return render_template("account/forgot_password_sent.html", back=back,
                           minutes=current().settings.password_reset_ttl // 60)
