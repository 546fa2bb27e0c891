"""Thin views over the user, session, logout and consent services. Every page needs a signed-in
person: without one (or with a session the policy finds too weak) the browser goes through the
provider's sign-in flow first (see auth.py)."""

from __future__ import annotations

import dataclasses
from functools import wraps

from flask import flash, g, redirect, render_template, request, url_for

from .. import http, i18n
from ..errors import AuthenticationFailed, Throttled, ValidationError
from ..i18n import gettext as _
from ..i18n import ngettext
from ..services import audit, consents, logout, password_login, sessions, users
from ..services.claims import CLAIM_LABELS
from ..services.runtime import current
from ..services.text import N_
from . import bp
from .auth import Person, person_or_sign_in


def signed_in(view):
    """Run the view with g.session and g.user, or send the person through the sign-in flow."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        person = person_or_sign_in()
        if not isinstance(person, Person):
            return person
        g.session, g.user = person.session, person.user
        return view(*args, **kwargs)

    return wrapper


@bp.route("/logout", methods=["POST"])
@signed_in
def sign_out():
    frontchannel = logout.end_session(g.session, reason="account_page", origin=http.origin(),
                                      actor_user_id=g.user.id)
    secret, new_browser = http.browser_secret()
    uid = logout.begin(browser_secret=secret, client_pk=None, redirect_to=None, frontchannel=frontchannel)
    response = redirect(url_for("interaction.logout_page", uid=uid), code=303)
    http.clear(response, http.SESSION_COOKIE)
    if new_browser:
        http.set_cookie(response, http.BROWSER_COOKIE, secret)
    return response


@bp.route("", methods=["GET"])
@signed_in
def index():
    return render_template(
        "account/index.html", user=g.user,
        sessions=sessions.list_live(current().settings, g.user.id, current_id=g.session.id),
        apps=[dataclasses.replace(a, permissions=tuple(consents.describe(list(a.scopes), i18n.gettext)))
              for a in consents.connected_apps(g.user.id)],
        profile=[(_label(c), _shown(c, g.user.claims[c])) for c in current().settings.editable_claims
                 if g.user.claims.get(c)],
    )


def _label(claim: str) -> str:
    # The language is chosen from a list here, so its label needs no example tag.
    return _("Language") if claim == "locale" else _(CLAIM_LABELS[claim][0])


def _shown(claim: str, value):
    return i18n.LANGUAGES.get(value, value) if claim == "locale" else value


@bp.route("/profile", methods=["GET", "POST"])
@signed_in
def profile():
    editable = current().settings.editable_claims
    fields = [(name, _label(name), CLAIM_LABELS[name][1]) for name in editable]
    error, error_field, values = None, None, {name: g.user.claims.get(name) or "" for name in editable}
    if request.method == "POST":
        values = {name: request.form[name] for name in editable if name in request.form}
        try:
            changed = users.update_profile(g.user.id, values, editable)
        except ValidationError as exc:
            error, error_field = i18n.describe(exc), exc.field
        else:
            if changed:
                audit.record("profile.update", origin=http.origin(), actor_user_id=g.user.id,
                             details={"claims": changed})
            flash(_("Your profile was saved.") if changed else _("Nothing was changed."))
            return redirect(url_for("account.index"), code=303)
    values = {name: values.get(name, "") for name in editable}
    return render_template("account/profile.html", fields=fields, values=values, error=error,
                           error_field=error_field), 400 if error else 200


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def password():
    if request.method == "GET":
        return render_template("account/password.html", error=None)
    rt = current()
    new, again = request.form.get("new_password", ""), request.form.get("new_password_again", "")
    current_password = request.form.get("current_password", "")
    try:
        if new != again:
            raise ValidationError(N_("The two new passwords are not the same."), field="new_password_again")
        password_login.reauthenticate(rt.settings, rt.passwords, g.user, password=current_password,
                                      origin=http.origin(), known_browser=http.read(http.KNOWN_BROWSER_COOKIE),
                                      action="changing the password")
        users.change_password(rt.passwords, g.user.id, current_password, new)
    except Throttled as exc:
        return render_template("account/password.html", error=i18n.throttled(exc.retry_after)), 429
    except AuthenticationFailed:
        audit.record("password.change", outcome=audit.FAILURE, origin=http.origin(), actor_user_id=g.user.id,
                     reason="wrong current password")
        return render_template("account/password.html", error=_("The current password is incorrect."),
                               error_field="current_password"), 401
    except ValidationError as exc:
        return render_template("account/password.html", error=i18n.describe(exc), error_field=exc.field), 400
    ended = logout.end_other_sessions(g.user.id, g.session.id, reason="password_changed", origin=http.origin())
    audit.record("password.change", origin=http.origin(), actor_user_id=g.user.id, details={"ended_sessions": ended})
    flash(ngettext("Your password was changed. Signed out of %(num)d other session.",
                   "Your password was changed. Signed out of %(num)d other sessions.", ended))
    return redirect(url_for("account.index"), code=303)


@bp.route("/sessions/<int:session_id>/end", methods=["POST"])
@signed_in
def end_session(session_id: int):
    if session_id == g.session.id:
        return sign_out.__wrapped__()
    other = sessions.get_live_of_user(current().settings, g.user.id, session_id)
    if other is None:
        flash(_("That session had already ended."))
    else:
        logout.end_session(other, reason="ended_from_account", origin=http.origin(), actor_user_id=g.user.id)
        flash(_("The session was signed out."))
    return redirect(url_for("account.index", _anchor="sessions"), code=303)


@bp.route("/apps/<client_id>/revoke", methods=["POST"])
@signed_in
def revoke_app(client_id: str):
    app = next((a for a in consents.connected_apps(g.user.id) if a.client_id == client_id), None)
    revoked = consents.revoke(g.user.id, app.client_pk) if app else None
    if app is None or revoked is None:
        flash(_("That application had no access any more."))
    else:
        audit.record("consent.revoke", origin=http.origin(), actor_user_id=g.user.id, client_id=client_id,
                     details={"scopes": list(app.scopes), "revoked_tokens": revoked})
        flash(_("%(name)s no longer has access to your account.", name=app.name))
    return redirect(url_for("account.index", _anchor="apps"), code=303)
