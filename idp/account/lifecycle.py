"""/account/data (download my data, JSON) and /account/delete (delete my account, after typing the
password again)."""

from __future__ import annotations

import json

from flask import Response, g, render_template, request

from .. import http, i18n, mails
from ..errors import AuthenticationFailed, Throttled
from ..i18n import _
from ..services import account_lifecycle, password_login
from ..services.runtime import current
from . import bp
from .views import signed_in


@bp.route("/data", methods=["GET"])
@signed_in
def download_data():
    data = account_lifecycle.export(current().settings, g.user.id)
    response = Response(json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{g.user.username}-data.json"'.encode(
        "ascii", "replace").decode()
    response.headers["Cache-Control"] = "no-store"
    return response


def _notify(user, due):
    mails.compose("account_deleted", user.email, by_recipient=True, user_id=user.id, username=user.username,
                  days=current().settings.account_deletion_grace_days if due else 0)


@bp.route("/delete", methods=["GET", "POST"])
@signed_in
def delete_account():
    rt = current()
    days = rt.settings.account_deletion_grace_days
    if request.method == "GET":
        return render_template("account/delete.html", error=None, days=days)
    if request.form.get("confirm") != "yes":
        return render_template("account/delete.html", days=days,
                               error=_("Tick the box to confirm that you want your account deleted.")), 400
    try:
        password_login.reauthenticate(rt.settings, rt.passwords, g.user, password=request.form.get("password", ""),
                                      origin=http.origin(), known_browser=http.read(http.KNOWN_BROWSER_COOKIE),
                                      action="deleting the account")
    except Throttled as exc:
        return render_template("account/delete.html", days=days, error=i18n.throttled(exc.retry_after)), 429
    except AuthenticationFailed:
        return render_template("account/delete.html", days=days, error=_("The password is incorrect.")), 401
    due = account_lifecycle.delete_account(rt.settings, g.user.id, origin=http.origin(), notify=_notify)
    response = Response(render_template(
        "errors/error.html", title=_("Your account is being deleted") if due else _("Your account was deleted"),
        message=_("You were signed out everywhere and every app lost access. The account and its data will be "
                  "deleted on %(when)s; until then an administrator can cancel this.", when=i18n.when(due)) if due else
        _("You were signed out everywhere, every app lost access, and the account and its data are gone.")))
    http.clear(response, http.SESSION_COOKIE)
    return response

