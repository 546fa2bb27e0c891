"""The mail outbox: one row per message, written in the same transaction as the event that causes
it (a password reset asked for, an invitation sent), sent later by the background sender. The row
stays as the record of the delivery; its encrypted body is erased once the message is sent or given
up on, so the links inside live in the database no longer than needed."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
# Recorded but never sent: the request named no account with a verified address (so the answer and the
# work are the same as for a real one), or the address got more mail this hour than allowed.
SUPPRESSED = "suppressed"


class MailMessage(db.Model):
    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # RFC 5322 Message-ID local part, random; also the associated data of the encrypted body.
    message_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True,
                                                index=True)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    # AES-GCM (the key-encryption key) of the JSON {"text": ..., "html": ...}; None once settled.
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_attempt_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    sent_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


def add(row: MailMessage) -> MailMessage:
    db.session.add(row)
    return row


def due(now: int, limit: int) -> list[MailMessage]:
    query = (select(MailMessage).where(MailMessage.status == PENDING, MailMessage.next_attempt_at <= now)
             .order_by(MailMessage.next_attempt_at, MailMessage.id).limit(limit))
    return list(db.session.scalars(query))


def lease(row_id: int, expected_next: int, until: int) -> bool:
    """Move a due row's next attempt to `until` if nobody else did: the one sender that wins sends it."""
    return db.session.execute(update(MailMessage).where(
        MailMessage.id == row_id, MailMessage.status == PENDING, MailMessage.next_attempt_at == expected_next,
    ).values(next_attempt_at=until)).rowcount == 1


def settle(row_id: int, **values) -> None:
    db.session.execute(update(MailMessage).where(MailMessage.id == row_id).values(**values))


def next_due_at() -> int | None:
    query = select(MailMessage.next_attempt_at).where(MailMessage.status == PENDING)
    return db.session.scalar(query.order_by(MailMessage.next_attempt_at).limit(1))


def sent_to_since(recipient: str, since: int) -> int:
    """Messages queued for an address since `since` that are (or will be) really sent."""
    return db.session.scalar(select(func.count()).select_from(MailMessage).where(
        MailMessage.recipient == recipient, MailMessage.created_at >= since,
        MailMessage.status.in_((PENDING, SENT)))) or 0


def get(row_id: int) -> MailMessage | None:
    return db.session.get(MailMessage, row_id)


def recent(limit: int = 50) -> list[MailMessage]:
    return list(db.session.scalars(select(MailMessage).order_by(MailMessage.id.desc()).limit(limit)))
