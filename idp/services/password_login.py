"""Sign-in with a password, as every page that takes one does it: throttled per account and per IP
(ASVS 2.2.1), audited on success and failure, one answer for unknown user and wrong password."""

from __future__ import annotations

from ..errors import AuthenticationFailed, Throttled
from ..storage import users as user_store
from ..types import UserView
from . import audit, throttle, users


def check(settings, passwords, *, login: str, password: str, origin: audit.Origin, client_id: str | None = None,
          via: str | None = None) -> UserView:
    """The user, or AuthenticationFailed / Throttled (after recording the failure)."""
    login = (login or "")[:254]
    row = user_store.find_by_login(login) if login else None
    target = row.id if row is not None else None
    wait = throttle.password_retry_after(settings, user_id=target, ip_address=origin.ip_address)
    details = {"login": login, **({"via": via} if via else {})}
    if wait:
        audit.record("login.throttled", outcome=audit.FAILURE, origin=origin, subject_user_id=target,
                     client_id=client_id, reason="too many failed passwords", details=details)
        raise Throttled(wait)
    try:
        user = users.authenticate(passwords, login, password)
    except AuthenticationFailed:
        audit.record("login.password", outcome=audit.FAILURE, origin=origin, subject_user_id=target,
                     client_id=client_id, reason="bad credentials", details=details)
        raise
    audit.record("login.password", origin=origin, actor_user_id=user.id, client_id=client_id,
                 details={"via": via} if via else {})
    return user
