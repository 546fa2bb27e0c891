"""Who is signed in to the account pages, and how they sign in or step up.

Account pages need a live SSO session, and, for a person with a second factor (or an administrator),
a session at the MFA level: a password alone must not be enough to change the password, end
sessions or remove factors. Missing either, the browser goes through the provider's own
authorization flow with the built-in "account console" client, so the login, passkey and
second-factor pages and their throttling apply unchanged; `/account/callback` returns it here."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, redirect, render_template, url_for

from .. import console_sign_in, http
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
    client = clients.ensure_account_console(current().settings.issuer)
    return console_sign_in.start(client, STATE_KEY, safe_next(next_url))


@bp.route("/callback", methods=["GET"])
def callback():
    """The end of the account console's sign-in (see console_sign_in.finish)."""
    completed, next_url = console_sign_in.finish(STATE_KEY)
    if not completed:
        return render_template("errors/error.html", title="Sign-in not completed",
                               message="You did not finish signing in, so your account page stays closed.",
                               next_step="Open your account page again when you are ready."), 400
    if current_person() is None:
        return sign_in_redirect(next_url or "")
    return redirect(safe_next(next_url), code=303)
