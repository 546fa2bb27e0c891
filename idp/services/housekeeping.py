"""Housekeeping: delete what has expired (codes, tokens, device codes, interactions, sessions) in
small batches, by hand (`idp tokens purge`) or from a background thread of `idp serve`."""

from __future__ import annotations

import logging
import threading

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
    "pushed_authorization_requests": store.expired_pushed_requests,
    "seen_jtis": store.expired_jtis,
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


class Purger(threading.Thread):
    """Runs `purge` every `interval` seconds in a daemon thread with its own app context and database
    session, off the request path. `stop()` ends it; `runs` counts finished purges."""

    def __init__(self, app, interval: int, batch_size: int):
        super().__init__(name="idp-purger", daemon=True)
        self.app, self.interval, self.batch_size = app, interval, batch_size
        self.stopping = threading.Event()
        self.ran = threading.Event()
        self.runs = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            with self.app.app_context():
                try:
                    counts = purge(self.batch_size)
                    if any(counts.values()):
                        log.info("purged expired rows: %s", counts)
                except Exception:  # a failed purge must not kill the thread; the next run retries
                    db.session.rollback()
                    log.exception("purging expired rows failed")
                finally:
                    db.session.remove()
            self.runs += 1
            self.ran.set()
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
