"""Device authorization requests (RFC 8628): the device code (stored as SHA-256), the user code the
person types, and what the person decided."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

PENDING = "pending"
APPROVED = "approved"
DENIED = "denied"


class DeviceCode(db.Model):
    __tablename__ = "device_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # Normalised (upper case, no separator); unique among stored rows, purged after expiry.
    user_code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    resources: Mapped[list | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    sid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    auth_time: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acr: Mapped[str | None] = mapped_column(String(100), nullable=True)
    amr: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    interval: Mapped[int] = mapped_column(Integer, nullable=False)
    last_polled_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    issued_at: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    consumed_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


def add(row: DeviceCode) -> DeviceCode:
    db.session.add(row)
    db.session.flush()
    return row


def get(row_id: int) -> DeviceCode | None:
    return db.session.get(DeviceCode, row_id)


def find_by_hash(device_code_hash: str) -> DeviceCode | None:
    return db.session.scalars(select(DeviceCode).where(DeviceCode.device_code_hash == device_code_hash)).first()


def find_by_user_code(user_code: str) -> DeviceCode | None:
    return db.session.scalars(select(DeviceCode).where(DeviceCode.user_code == user_code)).first()


def user_code_taken(user_code: str) -> bool:
    return db.session.scalar(select(DeviceCode.id).where(DeviceCode.user_code == user_code)) is not None


def record_poll(row_id: int, now: int, interval: int) -> None:
    db.session.execute(update(DeviceCode).where(DeviceCode.id == row_id).values(last_polled_at=now,
                                                                               interval=interval))


def decide(row_id: int, now: int, values: dict) -> bool:
    """Record the person's decision once, while the request is pending and unexpired."""
    result = db.session.execute(
        update(DeviceCode)
        .where(DeviceCode.id == row_id, DeviceCode.status == PENDING, DeviceCode.expires_at > now)
        .values(**values)
    )
    return result.rowcount == 1


def claim(row_id: int, now: int) -> bool:
    """Consume an approved device code: one conditional UPDATE, so one concurrent poll wins."""
    result = db.session.execute(
        update(DeviceCode)
        .where(DeviceCode.id == row_id, DeviceCode.status == APPROVED, DeviceCode.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    return result.rowcount == 1



def expire_for_sid(sid: str, now: int) -> int:
    """Make the approved, unredeemed device codes of one SSO session unredeemable (the session ended)."""
    result = db.session.execute(
        update(DeviceCode)
        .where(DeviceCode.sid == sid, DeviceCode.consumed_at.is_(None), DeviceCode.expires_at > now)
        .values(expires_at=now)
    )
    return result.rowcount
