"""Who is signed in to the account pages, and how they sign in or step up.

The account pages are a relying party of this provider and nothing more: they sign in and step up only
through the provider's own authorization flow with the built-in "account console" client, so the
login, passkey, second-factor and enrolment pages, their throttling and the one policy apply
unchanged; `/account/callback` returns the browser here. Whether the session is good enough is the
policy's answer for that client (`policy.may_continue`): e.g. a person with a second factor (or an
administrator) needs a session at the MFA level, so a password alone cannot change the password,
end sessions or remove factors. `/account/login` is only an entry into that flow."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, redirect, render_template, request, url_for

from .. import console_sign_in, http
from ..i18n import gettext as _
from ..services import clients, policy
from ..services.runtime import current
from ..types import SessionView, UserView
from . import bp

STATE_KEY = "account_sign_in"


@dataclass(frozen=True)
class Person:
    user: UserView
    session: SessionView


def current_person() -> Person | None:
    """The signed-in person if the policy lets them use the account pages as they are, else None."""
    rt = current()
    s, user = policy.signed_in(rt.settings, http.read(http.SESSION_COOKIE))
    if s is None or user is None or not policy.may_continue(clients.ensure_account_console(rt.settings.issuer),
                                                             s, user):
        return None
    return Person(user=user, session=s)


def person_or_sign_in() -> Person | Response:
    """The signed-in person, or the redirect into the sign-in flow that comes back to this page."""
    person = current_person()
    if person is None:
        return sign_in_redirect(request.path if request.method == "GET" else url_for("account.index"))
    return person


def interaction_back() -> str | None:
    """Where "Back to sign-in" goes: the interaction (`uid` parameter) the person came from, if any —
    only ever a path of ours."""
    uid = request.values.get("uid", "")
    ok = 0 < len(uid) <= 64 and uid.isascii() and uid.replace("-", "").replace("_", "").isalnum()
    return url_for("interaction.show", uid=uid) if ok else None


def safe_next(value: str | None) -> str:
    """Only account pages of this server (console_sign_in.is_page_under)."""
    if console_sign_in.is_page_under(value, "/account"):
        return value
    return url_for("account.index")


def sign_in_redirect(next_url: str) -> Response:
    """Send the browser through the authorization flow of the account console client."""
    client = clients.ensure_account_console(current().settings.issuer)
    return console_sign_in.start(client, STATE_KEY, safe_next(next_url))


@bp.route("/login", methods=["GET"])
def login():
    """An entry into the account console's sign-in flow (kept for bookmarks and old links)."""
    return sign_in_redirect(request.values.get("next") or "")


@bp.route("/callback", methods=["GET"])
def callback():
    """The end of the account console's sign-in (see console_sign_in.finish)."""
    completed, next_url = console_sign_in.finish(STATE_KEY)
    if not completed:
        return render_template("errors/error.html", title=_("Sign-in not completed"),
                               message=_("You did not finish signing in, so your account page stays closed."),
                               next_step=_("Open your account page again when you are ready.")), 400
    if current_person() is None:
        return sign_in_redirect(next_url or "")
    return redirect(safe_next(next_url), code=303)
