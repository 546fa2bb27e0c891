""""Forgot password?" and magic sign-in links: a mailed, single-use link asked for by name
(README "Self-service by e-mail").

The answer is the same for every name typed, known or not, in content and in the work done: the
request is counted in the one throttle (per submitted name and per client IP address, whether or not
such an account exists), the mail is rendered and written to the outbox either way — for a name with
no account, or an account without a verified address, the outbox row is recorded as suppressed and
nothing is sent — and one audit event is written. Only an enabled account's verified address ever
gets the link, at most `mail_max_per_address_per_hour` times an hour."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import ValidationError
from ..extensions import db
from ..storage import users as user_store
from . import audit, crypto, email_links, throttle
from .text import N_

MAX_LOGIN = 254
WINDOW = 3600
NOBODY = "nobody@invalid.invalid"  # the recipient recorded for a request that sends nothing


@dataclass(frozen=True)
class ResetMail:
    """What the caller renders and queues (`send` False: the same work, but nothing is sent)."""

    to: str
    username: str
    token: str = field(repr=False)
    send: bool
    user_id: int | None


def request(settings, *, login: str, origin: audit.Origin, notify: Callable[[ResetMail], None],
            purpose: str = email_links.RESET, browser_secret: str | None = None) -> None:
    """Handle one request: throttle, issue a link (`purpose`: a password reset, or a magic sign-in link
    bound to `browser_secret`) for an enabled account with a verified address, let `notify` queue the
    mail, audit, and commit all of it in one transaction. Raises ValidationError for input no account
    could have, Throttled when the name or the address asked too often."""
    if len(login or "") > MAX_LOGIN or any(ord(ch) < 32 for ch in login or ""):
        raise ValidationError(N_("Type your username or e-mail address (at most %(num)d characters)."), num=MAX_LOGIN)
    submitted = (login or "").strip().lower()
    if not submitted:
        raise ValidationError(N_("Type your username or e-mail address."))
    magic = purpose == email_links.MAGIC
    throttle.reserve([  # magic links and resets share the counters: both mail a link to a name
        throttle.Key("reset.ip", origin.ip_address or "", settings.forgot_password_max_per_ip, WINDOW),
        throttle.Key("reset.account", submitted, settings.mail_max_per_address_per_hour, WINDOW),
    ])
    row = user_store.find_by_login(submitted)
    if row is not None and row.enabled and row.email and row.email_verified:
        token = email_links.issue(row.id, purpose, settings.magic_link_ttl if magic else settings.password_reset_ttl,
                                  browser_secret=browser_secret if magic else None)
        mail = ResetMail(row.email, row.username, token, True, row.id)
    else:
        mail = ResetMail(NOBODY, submitted, crypto.random_token(32), False, None)
    notify(mail)
    audit.record("login.magic_link_requested" if magic else "password.reset_requested", origin=origin,
                 subject_user_id=mail.user_id, details={"login": submitted, "mailed": mail.send}, commit=False)
    db.session.commit()
