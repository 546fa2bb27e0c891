"""Ending SSO sessions and telling the clients: the session record, the tokens it takes with it,
back-channel deliveries (Back-Channel Logout 1.0), front-channel iframes (Front-Channel Logout 1.0),
and the stored logout request the logout pages refer to by uid (RP-Initiated Logout 1.0)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..extensions import db
from ..storage import codes as code_store
from ..storage import device as device_store
from ..storage import logout_requests as store
from ..storage import tokens as token_store
from ..types import FrontChannelLogout, LogoutRequestView, SessionView
from . import audit, backchannel, clients, clock, crypto, sessions, tokens, users
from .runtime import current


def add_query(uri: str, params: list[tuple[str, str]]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + params
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def post_logout_redirect(uri: str, state: str | None) -> str:
    """RP-Initiated Logout 1.0 §3: the registered URI with `state` added when the client sent one."""
    return add_query(uri, [("state", state)] if state is not None else [])


def clients_of_session(sid: str) -> set[int]:
    """The clients that took part in a session: issued a code or a token carrying its `sid`."""
    return code_store.client_pks_for_sid(sid) | token_store.client_pks_for_sid(sid)


def end_session(session: SessionView, *, reason: str, origin: audit.Origin | None = None,
                actor_user_id: int | None = None) -> tuple[FrontChannelLogout, ...]:
    """End one SSO session: mark it ended, revoke the tokens that live only as long as it, make its
    unredeemed authorization and device codes unredeemable, queue a
    logout token for every client of the session with a back-channel logout URI, and return the
    front-channel logout iframes the logout page must render. A session already ended is left alone."""
    settings = current().settings
    if not sessions.mark_ended(session.id):
        db.session.rollback()
        return ()
    user = users.get(session.user_id)
    revoked = tokens.revoke_for_session(session.sid)
    # What the session started but nobody redeemed yet ends with it: codes and approved device codes.
    now = clock.now()
    code_store.expire_for_sid(session.sid, now)
    device_store.expire_for_sid(session.sid, now)
    frontchannel, notified = [], []
    for client in clients.get_many(clients_of_session(session.sid)):
        if not client.enabled or user is None:
            continue
        if client.backchannel_logout_uri:
            backchannel.enqueue(client=client, user_id=user.id, sub=user.sub, sid=session.sid)
            notified.append(client.client_id)
        if client.frontchannel_logout_uri:
            # Front-Channel Logout 1.0 §2: iss and sid when the client registered that it needs them.
            params = [("iss", settings.issuer), ("sid", session.sid)] \
                if client.frontchannel_logout_session_required else []
            frontchannel.append(FrontChannelLogout(client.name, add_query(client.frontchannel_logout_uri, params)))
    audit.record("logout", origin=origin, actor_user_id=actor_user_id, subject_user_id=session.user_id,
                 reason=reason, details={"sid": session.sid, "revoked_tokens": revoked, "backchannel": notified,
                                         "frontchannel": [f.client_name for f in frontchannel]}, commit=False)
    db.session.commit()
    if notified and current().backchannel is not None:
        current().backchannel.notify()
    return tuple(frontchannel)


def end_other_sessions(user_id: int, keep_session_id: int | None, *, reason: str,
                       origin: audit.Origin | None = None) -> int:
    """End every live session of a person but one (e.g. after a password change). Returns how many."""
    ended = 0
    for other in sessions.others_of_user(current().settings, user_id, keep_session_id):
        end_session(other, reason=reason, origin=origin, actor_user_id=user_id)
        ended += 1
    return ended


# --- the stored logout request ----------------------------------------------------------------------


def _view(row: store.LogoutRequest) -> LogoutRequestView:
    client = clients.get_by_pk(row.client_pk) if row.client_pk is not None else None
    return LogoutRequestView(
        uid=row.uid, client_name=client.name if client else None, client_uri=client.client_uri if client else None,
        redirect_to=row.redirect_to,
        logged_out=row.logged_out_at is not None, cancelled=row.cancelled,
        frontchannel=tuple(FrontChannelLogout(name, uri) for name, uri in row.frontchannel),
        language=row.ui_locales,
    )


def begin(*, browser_secret: str, client_pk: int | None, redirect_to: str | None,
          frontchannel: tuple[FrontChannelLogout, ...] | None = None, language: str | None = None) -> str:
    """Store a logout request for the logout page. `frontchannel` given means the session has
    already ended (no confirmation needed); None means the page must ask first. `language` is the
    catalogue the request's ui_locales chose, for the logout pages."""
    now = clock.now()
    uid = crypto.random_token(24)
    store.add(store.LogoutRequest(
        uid=uid, browser_hash=crypto.lookup_hash(browser_secret), client_pk=client_pk, redirect_to=redirect_to,
        logged_out_at=now if frontchannel is not None else None,
        frontchannel=[[f.client_name, f.uri] for f in frontchannel or ()], cancelled=False, ui_locales=language,
        created_at=now, expires_at=now + current().settings.interaction_ttl,
    ))
    db.session.commit()
    return uid


def _live(uid: str, browser_secret: str | None) -> store.LogoutRequest | None:
    if not uid or len(uid) > 64 or not browser_secret:
        return None
    row = store.find(uid)
    if row is None or clock.now() >= row.expires_at:
        return None
    if not crypto.constant_time_equal(row.browser_hash, crypto.lookup_hash(browser_secret)):
        return None
    return row


def get(uid: str, browser_secret: str | None) -> LogoutRequestView | None:
    row = _live(uid, browser_secret)
    return _view(row) if row else None


def record_logged_out(uid: str, browser_secret: str | None, frontchannel: tuple[FrontChannelLogout, ...]) -> None:
    row = _live(uid, browser_secret)
    if row and row.logged_out_at is None and not row.cancelled:
        row.logged_out_at = clock.now()
        row.frontchannel = [[f.client_name, f.uri] for f in frontchannel]
        db.session.commit()


def cancel(uid: str, browser_secret: str | None) -> None:
    row = _live(uid, browser_secret)
    if row and row.logged_out_at is None:
        row.cancelled = True
        db.session.commit()
