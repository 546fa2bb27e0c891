"""Who is signed in to the account pages, and how they sign in or step up.

Account pages need a live SSO session, and, for a person with a second factor (or an administrator),
a session at the MFA level: a password alone must not be enough to change the password, end
sessions or remove factors. Missing either, the browser goes through the provider's own
authorization flow with the built-in "account console" client, so the login, passkey and
second-factor pages and their throttling apply unchanged; `/account/callback` returns it here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import Response, redirect, render_template, request, session, url_for

from .. import http
from ..services import clients, mfa, sessions, users
from ..services.runtime import current
from ..types import SessionView, UserView
from . import bp

STATE_KEY = "account_sign_in"


@dataclass(frozen=True)
class Person:
    user: UserView
    session: SessionView


def needs_step_up(user: UserView, s: SessionView) -> bool:
    return not mfa.satisfied(s) and (user.is_admin or mfa.status(user.id).enrolled)


def current_person() -> Person | None:
    """The signed-in person if their session is strong enough for the account pages, else None."""
    s = sessions.current(current().settings, http.read(http.SESSION_COOKIE))
    user = users.get_enabled(s.user_id) if s else None
    if s is None or user is None or needs_step_up(user, s):
        return None
    return Person(user=user, session=s)


def safe_next(value: str | None) -> str:
    """Only account pages of this server (never another host: no //, no backslash, no scheme)."""
    if value and value.startswith("/account") and "//" not in value and "\\" not in value:
        return value
    return url_for("account.index")


def sign_in_redirect(next_url: str) -> Response:
    """Send the browser through the authorization flow of the account console client."""
    issuer = current().settings.issuer
    client = clients.ensure_account_console(issuer)
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)  # PKCE is mandatory for public clients; the code is not redeemed
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    session[STATE_KEY] = {"state": state, "next": safe_next(next_url)}
    return redirect(url_for("protocol.authorize", response_type="code", client_id=client.client_id,
                            redirect_uri=client.redirect_uris[0], scope="openid", state=state,
                            code_challenge=challenge, code_challenge_method="S256"), code=303)


@bp.route("/callback", methods=["GET"])
def callback():
    """The end of the account console's sign-in. The code is not redeemed: the SSO session the flow
    created or raised is what counts, and `current_person()` checks it. A login page inside the flow
    starts a fresh cookie session (dropping the saved state), so a matching state only decides whether
    to return to the page the person asked for, or to the account overview."""
    pending = session.pop(STATE_KEY, None) or {}
    matched = bool(pending) and hmac.compare_digest(pending.get("state", ""), request.args.get("state", ""))
    if request.args.get("iss") != current().settings.issuer or request.args.get("error"):
        return render_template("errors/error.html", title="Sign-in not completed",
                               message="You did not finish signing in, so your account page stays closed.",
                               next_step="Open your account page again when you are ready."), 400
    if current_person() is None:
        return sign_in_redirect(pending.get("next", "") if matched else "")
    return redirect(safe_next(pending.get("next") if matched else None), code=303)
