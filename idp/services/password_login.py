"""The one throttled password check. Every page that takes a password — the sign-in page, the
consoles' sign-in (the same page), re-authentication before changing the password, removing a
factor or replacing recovery codes — calls `check` (or `reauthenticate`, which is `check` for the
signed-in person), so each guess is counted before it is verified (ASVS 2.2.1).

Which counters an attempt takes (README "How sign-in is decided"):
- a browser that signed in to this account before (a valid known-browser cookie, OWASP's device
  cookie) is judged by its own failures only;
- any other browser counts against its IP address and against the *submitted name*, normalized
  (lower case, trimmed) — whether or not such an account exists, so the answers for known and unknown
  names are the same at every attempt count."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import AuthenticationFailed, Throttled
from ..storage import users as user_store
from ..types import UserView
from . import audit, known_browsers, throttle, users


@dataclass(frozen=True)
class PasswordCheck:
    user: UserView
    known_browser: str = ""  # the known-browser cookie to set after this success


def _keys(settings, submitted: str, user_id: int | None, known_browser: str | None,
          ip_address: str | None) -> list[throttle.Key]:
    window, per_account = settings.login_failure_window, settings.login_max_failures_per_account
    own = known_browsers.browser_key(settings, known_browser, user_id)
    if own:
        return [throttle.Key("password.browser", own, per_account, window, personal=True)]
    return [throttle.Key("password.ip", ip_address or "", settings.login_max_failures_per_ip, window),
            throttle.Key("password.account", submitted, per_account, window, personal=True)]


def check(settings, passwords, *, login: str, password: str, origin: audit.Origin, known_browser: str | None,
          client_id: str | None = None, via: str | None = None) -> PasswordCheck:
    """The user and their renewed known-browser cookie, or AuthenticationFailed / Throttled (after
    recording the failure in the audit trail)."""
    login = (login or "")[:254]
    submitted = login.strip().lower()
    row = user_store.find_by_login(login) if login else None
    target = row.id if row is not None else None
    details = {"login": login, **({"via": via} if via else {})}
    try:
        reservation = throttle.reserve(_keys(settings, submitted, target, known_browser, origin.ip_address))
    except Throttled:
        audit.record("login.throttled", outcome=audit.FAILURE, origin=origin, subject_user_id=target,
                     client_id=client_id, reason="too many failed passwords", details=details)
        raise
    try:
        user = users.authenticate(passwords, login, password)
    except AuthenticationFailed:
        audit.record("login.password", outcome=audit.FAILURE, origin=origin, subject_user_id=target,
                     client_id=client_id, reason="bad credentials", details=details)
        raise
    reservation.succeeded()
    audit.record("login.password", origin=origin, actor_user_id=user.id, client_id=client_id,
                 details={"via": via} if via else {})
    return PasswordCheck(user, known_browsers.remember(settings, known_browser, user.id))


def reauthenticate(settings, passwords, user: UserView, *, password: str, origin: audit.Origin,
                   known_browser: str | None, action: str) -> None:
    """The signed-in person typed their password again before `action`: the same throttled check.
    Raises AuthenticationFailed (recorded) or Throttled."""
    try:
        checked = check(settings, passwords, login=user.username, password=password, origin=origin,
                        known_browser=known_browser, via="reauthenticate")
    except AuthenticationFailed:
        audit.record("account.reauthenticate", outcome=audit.FAILURE, origin=origin, actor_user_id=user.id,
                     reason=f"wrong password before {action}")
        raise
    if checked.user.id != user.id:  # pragma: no cover - a username names one account
        raise AuthenticationFailed("The password is incorrect.")
