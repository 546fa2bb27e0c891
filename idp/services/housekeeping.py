"""Housekeeping: delete what has expired (codes, tokens, device codes, interactions, sessions, e-mailed
links, initial access tokens) in small batches, by hand (`idp tokens purge`) or as the once-per-cluster
job of `idp serve` (services.jobs)."""

from __future__ import annotations

import logging

from ..extensions import db
from ..storage import housekeeping as store
from . import clock

log = logging.getLogger(__name__)

TARGETS = {
    "authorization_codes": store.expired_codes,
    "tokens": store.expired_tokens,
    "device_codes": store.expired_device_codes,
    "interactions": store.expired_interactions,
    "sso_sessions": store.ended_sessions,
    "logout_requests": store.expired_logout_requests,
    "webauthn_challenges": store.expired_webauthn_challenges,
    "backchannel_deliveries": store.finished_deliveries,
    "mail_outbox": store.finished_mail,
    "users_deleted_on_request": store.due_account_deletions,
    "throttle_counters": store.ended_throttle_windows,
    "pushed_authorization_requests": store.expired_pushed_requests,
    "seen_jtis": store.expired_jtis,
    "password_links": store.expired_password_links,
    "initial_access_tokens": store.expired_initial_access_tokens,
}


def purge(batch_size: int) -> dict[str, int]:
    """Delete expired rows, at most `batch_size` per transaction; returns the count per table."""
    counts: dict[str, int] = {}
    now = clock.now()
    for name, delete_batch in TARGETS.items():
        total = 0
        while True:
            deleted = delete_batch(now, batch_size)
            db.session.commit()
            total += deleted
            if deleted < batch_size:
                break
        counts[name] = total
    return counts
