"""The person's own account lifecycle (README "Self-service by e-mail"): download my data, and delete
my account. Deletion ends every session (back-channel logout to the apps), revokes every token and
either deletes the account at once (`account_deletion_grace_days` = 0) or disables it and leaves the
deletion to the purge job when the grace period ends; an administrator re-enabling the account during
the grace period cancels it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ..extensions import db
from ..storage import users as user_store
from ..types import UserView
from . import audit, clock, consents, logout, sessions, tokens, users

MAX_AUDIT_EVENTS = 1000


def export(settings, user_id: int) -> dict:
    """What the provider holds about the person: profile, live sessions, connected apps and the audit
    events about them (newest first, at most 1000). Never secrets: no password hash, factors' keys,
    tokens or cookies."""
    user = users.get(user_id)
    assert user is not None
    events = audit.search(user_id=user_id, limit=200)
    items, offset = list(events.items), 200
    while offset < min(events.total, MAX_AUDIT_EVENTS):
        items += audit.search(user_id=user_id, offset=offset, limit=200).items
        offset += 200
    return {
        "exported_at": clock.now(),
        "issuer": settings.issuer,
        "profile": {"sub": user.sub, "username": user.username, "email": user.email,
                    "email_verified": user.email_verified, **user.claims},
        "sessions": [dataclasses.asdict(s) for s in sessions.list_live(settings, user_id)],
        "connected_apps": [{"client_id": a.client_id, "name": a.name, "scopes": list(a.scopes),
                            "granted_at": a.granted_at} for a in consents.connected_apps(user_id)],
        "audit_events": [dataclasses.asdict(e) for e in items],
    }


def delete_account(settings, user_id: int, *, origin: audit.Origin | None,
                   notify: Callable[[UserView, int | None], None]) -> int | None:
    """Sign the person out everywhere, revoke every token, then delete the account now or schedule it;
    `notify` queues the notice to a confirmed address in the same transaction. Returns when it will be
    deleted (None: deleted now)."""
    user = users.get(user_id)
    assert user is not None
    ended = logout.end_other_sessions(user_id, None, reason="account_deleted", origin=origin)
    revoked = tokens.revoke_grants(user_id)
    days = settings.account_deletion_grace_days
    due = clock.now() + days * 86400 if days else None
    audit.record("account.delete", origin=origin, actor_user_id=user_id, subject_user_id=user_id,
                 details={"ended_sessions": ended, "revoked_tokens": revoked, "deletion_due_at": due}, commit=False)
    if user.email and user.email_verified:
        notify(user, due)
    if due is None:
        db.session.commit()
        users.delete(user_id)
        return None
    row = user_store.get(user_id)
    row.enabled, row.deletion_due_at, row.updated_at = False, due, clock.now()
    db.session.commit()
    return due
