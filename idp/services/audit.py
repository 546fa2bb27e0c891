"""Record security events: one append-only row per event, and the same record as a JSON log line
(logger `idp.audit`) for log shippers. Never pass secrets, passwords or tokens in `details`."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from ..extensions import db
from ..storage import audit as store
from ..types import AuditEntry, Page
from . import clock, metrics

log = logging.getLogger("idp.audit")
SUCCESS = "success"
FAILURE = "failure"
INT_MAX = 2**31 - 1  # the audit_events integer columns (PostgreSQL integer)


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as the web layer saw it."""

    ip_address: str | None = None
    user_agent: str | None = None


def record(event: str, *, outcome: str = SUCCESS, origin: Origin | None = None, actor_user_id: int | None = None,
           subject_user_id: int | None = None, client_id: str | None = None, reason: str | None = None,
           details: dict | None = None, commit: bool = True) -> None:
    """Append an event. With commit=False it joins the caller's transaction (and is rolled back with
    it); with commit=True it is written at once, e.g. for failures where nothing else is written."""
    origin = origin or Origin()
    row = store.AuditEvent(
        at=clock.now(), event=event, outcome=outcome, actor_user_id=actor_user_id,
        subject_user_id=subject_user_id if subject_user_id is not None else actor_user_id, client_id=client_id,
        ip_address=(origin.ip_address or "")[:64] or None, user_agent=(origin.user_agent or "")[:300] or None,
        reason=reason, details=details or {},
    )
    store.add(row)
    if commit:
        db.session.commit()
    metrics.audit_event(event, outcome)
    if not log.isEnabledFor(logging.INFO):
        return
    log.info(json.dumps({
        "at": row.at, "event": event, "outcome": outcome, "actor_user_id": actor_user_id,
        "subject_user_id": row.subject_user_id, "client_id": client_id, "ip": row.ip_address,
        "user_agent": row.user_agent, "reason": reason, "details": row.details,
    }, separators=(",", ":"), sort_keys=True))


def search(*, event: str | None = None, outcome: str | None = None, user_id: int | None = None,
           client_id: str | None = None, since: int | None = None, until: int | None = None,
           offset: int = 0, limit: int = 50) -> Page:
    """A page of the audit trail, newest first, filtered (see storage.audit.query). Times and ids are
    32-bit columns, which PostgreSQL will not compare with a larger number: a bound beyond them is
    moved to their edge, and an id beyond them matches nothing."""
    offset, limit = min(max(0, offset), INT_MAX), min(max(1, limit), 200)
    since, until = (None if t is None else min(max(t, -INT_MAX), INT_MAX) for t in (since, until))
    if user_id is not None and not 0 <= user_id <= INT_MAX:
        user_id = -1  # no row has it
    rows, total = store.query(event=(event or "")[:80] or None, outcome=outcome or None, user_id=user_id,
                              client_id=(client_id or "")[:64] or None, since=since, until=until,
                              offset=offset, limit=limit)
    return Page(items=tuple(_entry(r) for r in rows), total=total, offset=offset, limit=limit)


def _entry(r: store.AuditEvent) -> AuditEntry:
    return AuditEntry(id=r.id, at=r.at, event=r.event, outcome=r.outcome, actor_user_id=r.actor_user_id,
                      subject_user_id=r.subject_user_id, client_id=r.client_id, ip_address=r.ip_address,
                      user_agent=r.user_agent, reason=r.reason, details=dict(r.details or {}))


def get(event_id: int) -> AuditEntry | None:
    row = store.get(event_id)
    return _entry(row) if row is not None else None


def event_names() -> list[str]:
    """The event names recorded so far (for a filter's choices)."""
    return store.event_names()


def count(*, event: str, outcome: str, since: int) -> int:
    """How many events of this name (or dotted prefix) and outcome happened since a time."""
    return store.query(event=event, outcome=outcome, since=since, offset=0, limit=1)[1]
