"""The audit trail: append-only records of security-relevant events."""

from __future__ import annotations

from sqlalchemy import JSON, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    # Dotted name, e.g. "login.success", "token.reuse_detected", "admin.client.create".
    event: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)  # success | failure
    # Who acted (a user id; None for clients acting alone or anonymous attempts) and about whom.
    actor_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    subject_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)


def add(row: AuditEvent) -> AuditEvent:
    db.session.add(row)
    return row


def query(*, event: str | None = None, outcome: str | None = None, user_id: int | None = None,
          client_id: str | None = None, since: int | None = None, until: int | None = None,
          offset: int = 0, limit: int = 50) -> tuple[list[AuditEvent], int]:
    """Events matching every given filter, newest first; and how many match. `event` matches a
    dotted prefix ("login" matches "login.password"); `user_id` the actor or the subject."""
    q = select(AuditEvent)
    if event:
        q = q.where((AuditEvent.event == event) | AuditEvent.event.startswith(event + ".", autoescape=True))
    if outcome:
        q = q.where(AuditEvent.outcome == outcome)
    if user_id is not None:
        q = q.where((AuditEvent.actor_user_id == user_id) | (AuditEvent.subject_user_id == user_id))
    if client_id:
        q = q.where(AuditEvent.client_id == client_id)
    if since is not None:
        q = q.where(AuditEvent.at >= since)
    if until is not None:
        q = q.where(AuditEvent.at < until)
    total = db.session.scalar(select(func.count()).select_from(q.subquery()))
    rows = list(db.session.scalars(q.order_by(AuditEvent.id.desc()).offset(offset).limit(limit)))
    return rows, total
