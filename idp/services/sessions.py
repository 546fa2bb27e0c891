"""SSO sessions: server-side records behind an opaque browser cookie, with idle and absolute
timeouts. A new id is issued at every sign-in (no session fixation)."""

from __future__ import annotations

from ..extensions import db
from ..storage import sessions as store
from ..types import SessionInfo, SessionView
from . import clock, crypto, devices

# Writing last_seen on every request would make each page view a write; this much staleness is fine.
TOUCH_INTERVAL = 60
# Authentication context classes (OIDC Core §2 `acr`), lowest first. Documented in the README.
PASSWORD_ACR = "urn:idp:acr:pwd"  # one factor: a password
MFA_ACR = "urn:idp:acr:mfa"  # two factors: password + second factor, or a user-verifying passkey
ACR_LEVELS = {PASSWORD_ACR: 1, MFA_ACR: 2}


def _view(row: store.SsoSession) -> SessionView:
    return SessionView(id=row.id, sid=row.sid, user_id=row.user_id, auth_time=row.auth_time,
                       amr=tuple(row.amr), acr=row.acr)


def start(settings, *, user_id: int, amr: list[str], acr: str, user_agent: str | None,
          ip_address: str | None, replaces: str | None = None) -> tuple[str, SessionView]:
    """Begin a session for a user who just authenticated. Returns (cookie value, session). The cookie
    value always changes at sign-in (no session fixation). When the browser's live session (`replaces`,
    its cookie) is the same person's, this is a re-authentication (`prompt=login`, `max_age`): that
    session continues under its `sid` with the new authentication's time, methods and level, so the
    person's other applications stay signed in. Another person's session is ended the way logout ends
    one: it takes its unredeemed codes and its tokens without offline_access with it, and its clients
    get their back-channel logout tokens."""
    if replaces:
        renewed = _reauthenticate(settings, replaces, user_id, amr, acr, user_agent, ip_address)
        if renewed is not None:
            return renewed
        _end_replaced(replaces, user_id, ip_address, user_agent)
    now = clock.now()
    cookie = crypto.random_token(32)
    row = store.SsoSession(
        session_hash=crypto.lookup_hash(cookie), sid=crypto.random_token(16), user_id=user_id, auth_time=now,
        amr=list(amr), acr=acr, created_at=now, last_seen_at=now,
        expires_at=now + settings.session_absolute_timeout, user_agent=(user_agent or "")[:300] or None,
        ip_address=(ip_address or "")[:64] or None,
    )
    store.add(row)
    db.session.commit()
    return cookie, _view(row)


def _reauthenticate(settings, cookie: str, user_id: int, amr: list[str], acr: str, user_agent: str | None,
                    ip_address: str | None) -> tuple[str, SessionView] | None:
    """The same person authenticated again in this browser: their live session gets a new cookie value
    and the new authentication (auth_time now, its amr and acr, a fresh absolute lifetime). None when
    the cookie names no live session of this person."""
    live = current(settings, cookie)
    if live is None or live.user_id != user_id:
        return None
    row = store.find_by_hash(crypto.lookup_hash(cookie))
    assert row is not None
    now = clock.now()
    new_cookie = crypto.random_token(32)
    row.session_hash = crypto.lookup_hash(new_cookie)
    row.amr, row.acr, row.auth_time, row.last_seen_at = list(amr), acr, now, now
    row.expires_at = now + settings.session_absolute_timeout
    row.user_agent, row.ip_address = (user_agent or "")[:300] or None, (ip_address or "")[:64] or None
    db.session.commit()
    return new_cookie, _view(row)


def _end_replaced(cookie: str, user_id: int, ip_address: str | None, user_agent: str | None) -> None:
    """Another person signing in (or a session that is no longer live) ends the browser's previous
    session through logout.end_session, the one end-of-session path, not merely by marking it ended."""
    from . import audit, logout  # logout builds on this module

    row = store.find_by_hash(crypto.lookup_hash(cookie)) if len(cookie) <= 128 else None
    if row is not None and row.ended_at is None:
        logout.end_session(_view(row), reason="replaced by a new sign-in in the same browser", actor_user_id=user_id,
                           origin=audit.Origin(ip_address=ip_address, user_agent=user_agent))


def current(settings, cookie: str | None) -> SessionView | None:
    """The live session behind a cookie value, or None if absent, ended, idle or past its end."""
    if not cookie or len(cookie) > 128:
        return None
    row = store.find_by_hash(crypto.lookup_hash(cookie))
    now = clock.now()
    if row is None or row.ended_at is not None or now >= row.expires_at:
        return None
    if now - row.last_seen_at >= settings.session_idle_timeout:
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        db.session.commit()
    return _view(row)


def elevate(settings, cookie: str | None, methods: list[str], acr: str) -> tuple[str, SessionView] | None:
    """Record further authentication methods on the live session behind `cookie` (e.g. a second
    factor): amr gains the methods, acr becomes `acr`, auth_time becomes now. The session keeps its
    `sid` but gets a new cookie value, as at sign-in. None if there is no live session."""
    if current(settings, cookie) is None:
        return None
    row = store.find_by_hash(crypto.lookup_hash(cookie or ""))
    assert row is not None
    now = clock.now()
    new_cookie = crypto.random_token(32)
    row.amr = list(dict.fromkeys([*row.amr, *methods]))
    row.acr, row.auth_time, row.last_seen_at = acr, now, now
    row.session_hash = crypto.lookup_hash(new_cookie)
    db.session.commit()
    return new_cookie, _view(row)


def find_by_sid(sid: str) -> SessionView | None:
    row = store.find_by_sid(sid) if sid and len(sid) <= 64 else None
    return _view(row) if row is not None else None


def list_live(settings, user_id: int, current_id: int | None = None) -> list[SessionInfo]:
    """A person's live sessions, most recently used first, with a readable device description."""
    now = clock.now()
    rows = store.live_for_user(user_id, now, now - settings.session_idle_timeout)
    return [SessionInfo(id=r.id, created_at=r.created_at, last_seen_at=r.last_seen_at, ip_address=r.ip_address,
                        device=devices.describe(r.user_agent), current=r.id == current_id) for r in rows]


def get_live_of_user(settings, user_id: int, session_id: int) -> SessionView | None:
    """One of the person's own live sessions by id (None for anyone else's)."""
    return next((s for s in _live_views(settings, user_id) if s.id == session_id), None)


def _live_views(settings, user_id: int) -> list[SessionView]:
    now = clock.now()
    return [_view(r) for r in store.live_for_user(user_id, now, now - settings.session_idle_timeout)]


def others_of_user(settings, user_id: int, keep_id: int | None) -> list[SessionView]:
    return [s for s in _live_views(settings, user_id) if s.id != keep_id]


def mark_ended(session_id: int) -> bool:
    """End a session inside the caller's transaction; True if this call ended it."""
    return store.mark_ended(session_id, clock.now())
