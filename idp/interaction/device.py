"""The /device pages (RFC 8628 §3.3): the person types the user code shown on a TV or CLI (or opens
verification_uri_complete with it filled in), then signs in and confirms on the usual login and
consent pages; `done` tells them to go back to the device."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from .. import http
from ..errors import Throttled
from ..i18n import gettext as _
from ..services import clients, device, interactions, throttle
from ..services.runtime import current
from ..services.text import N_

device_bp = Blueprint("device", __name__, url_prefix="/device")

WRONG_CODE = N_("That code is not valid or has expired. Check the code on your device and try again.")
TOO_MANY = N_("Too many wrong codes. Wait a few minutes, then try again.")


def _render(user_code: str | None = None, error: str | None = None, status: int = 200):
    return render_template("interaction/device.html", user_code=user_code, error=error), status


def _attempt_keys(settings, browser_secret: str) -> list[throttle.Key]:
    """RFC 8628 §5.1: user codes are guessable, so entry is rate-limited per IP address and per browser
    on the shared database throttle (every attempt counted before the code is looked up)."""
    window, limit = settings.device_user_code_window, settings.device_user_code_attempts
    return [throttle.Key("device_code.ip", http.client_ip() or "-", limit, window),
            throttle.Key("device_code.browser", browser_secret, limit, window)]


@device_bp.route("", methods=["GET"])
def enter():
    return _render(user_code=(request.args.get("user_code") or "")[:20] or None)


@device_bp.route("", methods=["POST"])
def submit():
    rt = current()
    secret, new_browser = http.browser_secret()
    typed = (request.form.get("user_code") or "")[:40]
    try:
        reservation = throttle.reserve(_attempt_keys(rt.settings, secret))
    except Throttled:
        return _render(typed, _(TOO_MANY), 429)
    pending = device.find_pending(typed)
    client = clients.get_by_pk(pending.client_pk) if pending else None
    if pending is None or client is None or not client.enabled:
        return _render(typed, _(WRONG_CODE), 400)
    reservation.succeeded()
    uid = interactions.start(
        rt.settings, client_id=client.client_id, prompt="login", consent_scopes=pending.scope.split(),
        params={"client_id": client.client_id, "scope": pending.scope}, browser_secret=secret,
        device_code_id=pending.id,
    )
    response = redirect(url_for("protocol.resume", uid=uid), code=303)
    if new_browser:
        http.set_cookie(response, http.BROWSER_COOKIE, secret)
    return response


@device_bp.route("/done", methods=["GET"])
def done():
    approved = request.args.get("result") == "approved"
    return render_template("interaction/device_done.html", approved=approved)
