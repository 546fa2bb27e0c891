"""The logout pages (RP-Initiated Logout 1.0 §2–3, Front-Channel Logout 1.0 §3): the confirmation
asked when a sign-out request is not clearly from the session's own app, and the signed-out page
that loads the clients' front-channel logout iframes before returning to the app."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, redirect, render_template, request, url_for

from .. import http, i18n
from ..i18n import gettext as _
from ..i18n import lazy_gettext
from ..services import logout, sessions, users
from ..services.runtime import current
from ..types import LogoutRequestView
from . import bp

EXPIRED = lazy_gettext("This sign-out request has expired. Go back to the application and sign out again.")


def _request(uid: str) -> LogoutRequestView | None:
    """The stored sign-out request; its pages speak the language its ui_locales chose."""
    req = logout.get(uid, http.read(http.BROWSER_COOKIE))
    if req is not None and req.language:
        i18n.use_ui_locales(req.language)
    return req


def _expired():
    return render_template("errors/error.html", title=_("Sign-out request expired"), message=EXPIRED), 400


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _signed_out(req: LogoutRequestView) -> Response:
    response = Response(render_template("interaction/logged_out.html", req=req))
    if req.frontchannel:
        # The CSP lets this page, and only this one, frame the clients' front-channel logout URIs.
        response.frame_src = " ".join(dict.fromkeys(_origin(f.uri) for f in req.frontchannel))
    return response


@bp.route("/logout/<uid>", methods=["GET"])
def logout_page(uid: str):
    req = _request(uid)
    if req is None:
        return _expired()
    if req.cancelled:
        return render_template("interaction/logout_cancelled.html", req=req)
    if req.logged_out:
        return _signed_out(req)
    session = sessions.current(current().settings, http.read(http.SESSION_COOKIE))
    user = users.get_enabled(session.user_id) if session else None
    return render_template("interaction/logout_confirm.html", req=req, username=user.username if user else None)


@bp.route("/logout/<uid>", methods=["POST"])
def logout_confirm(uid: str):
    secret = http.read(http.BROWSER_COOKIE)
    req = _request(uid)
    if req is None:
        return _expired()
    if request.form.get("decision") != "logout":
        logout.cancel(uid, secret)
        return redirect(url_for("interaction.logout_page", uid=uid), code=303)
    session = sessions.current(current().settings, http.read(http.SESSION_COOKIE))
    frontchannel = ()
    if session is not None and not req.logged_out:
        frontchannel = logout.end_session(session, reason="confirmed", origin=http.origin(),
                                          actor_user_id=session.user_id)
    logout.record_logged_out(uid, secret, frontchannel)
    response = redirect(url_for("interaction.logout_page", uid=uid), code=303)
    http.clear(response, http.SESSION_COOKIE)
    return response
