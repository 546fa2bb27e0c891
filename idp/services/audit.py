"""Record security events: one append-only row per event, and the same record as a JSON log line
(logger `idp.audit`) for log shippers. Never pass secrets, passwords or tokens in `details`."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from ..extensions import db
from ..storage import audit as store
from . import clock

log = logging.getLogger("idp.audit")
SUCCESS = "success"
FAILURE = "failure"


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
    log.info(json.dumps({
        "at": row.at, "event": event, "outcome": outcome, "actor_user_id": actor_user_id,
        "subject_user_id": row.subject_user_id, "client_id": client_id, "ip": row.ip_address,
        "user_agent": row.user_agent, "reason": reason, "details": row.details,
    }, separators=(",", ":"), sort_keys=True))
