"""Back-channel logout deliveries: one row per (ended session, client with a back-channel logout
URI), kept after delivery or final failure as the record of what was sent and what failed."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


class BackchannelDelivery(db.Model):
    __tablename__ = "backchannel_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    sub: Mapped[str] = mapped_column(String(64), nullable=False)
    sid: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    # The logout token's jti: the same on every attempt, so the client can recognise a repeat.
    jti: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    uri: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_attempt_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    delivered_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


def add(row: BackchannelDelivery) -> BackchannelDelivery:
    db.session.add(row)
    return row


def due(now: int, limit: int) -> list[BackchannelDelivery]:
    query = (select(BackchannelDelivery)
             .where(BackchannelDelivery.status == PENDING, BackchannelDelivery.next_attempt_at <= now)
             .order_by(BackchannelDelivery.next_attempt_at, BackchannelDelivery.id).limit(limit))
    return list(db.session.scalars(query))


def next_due_at() -> int | None:
    query = select(BackchannelDelivery.next_attempt_at).where(BackchannelDelivery.status == PENDING)
    return db.session.scalar(query.order_by(BackchannelDelivery.next_attempt_at).limit(1))


def lease(row_id: int, seen_next_attempt_at: int, until: int) -> bool:
    """Take a delivery for one attempt (compare-and-set on next_attempt_at, so that two server
    processes never send the same attempt)."""
    result = db.session.execute(
        update(BackchannelDelivery)
        .where(BackchannelDelivery.id == row_id, BackchannelDelivery.status == PENDING,
               BackchannelDelivery.next_attempt_at == seen_next_attempt_at)
        .values(next_attempt_at=until)
    )
    return result.rowcount == 1


def settle(row_id: int, **values) -> None:
    """Record an attempt's outcome. A row deleted meanwhile is simply not updated."""
    db.session.execute(update(BackchannelDelivery).where(BackchannelDelivery.id == row_id).values(**values))


def for_sid(sid: str) -> list[BackchannelDelivery]:
    query = select(BackchannelDelivery).where(BackchannelDelivery.sid == sid).order_by(BackchannelDelivery.id)
    return list(db.session.scalars(query))
