"""Signing keys. The private part is stored encrypted under the key-encryption key."""

from __future__ import annotations

from sqlalchemy import JSON, Integer, LargeBinary, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

NEXT = "next"
CURRENT = "current"
RETIRED = "retired"


class SigningKeyRow(db.Model):
    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    alg: Mapped[str] = mapped_column(String(10), nullable=False)
    public_jwk: Mapped[dict] = mapped_column(JSON, nullable=False)
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    activated_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    retired_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A retired key leaves the JWKS after this time (retirement + longest token lifetime).
    unpublish_after: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Incremented on every state change, so that a racing rotation is detected and loses.
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)


def published(now: int) -> list[SigningKeyRow]:
    rows = db.session.scalars(select(SigningKeyRow).order_by(SigningKeyRow.id)).all()
    return [r for r in rows if r.state != RETIRED or (r.unpublish_after or 0) > now]


def in_state(state: str) -> list[SigningKeyRow]:
    query = select(SigningKeyRow).where(SigningKeyRow.state == state).order_by(SigningKeyRow.id)
    return list(db.session.scalars(query))


def all_keys() -> list[SigningKeyRow]:
    return list(db.session.scalars(select(SigningKeyRow).order_by(SigningKeyRow.id)))


def add(row: SigningKeyRow) -> SigningKeyRow:
    db.session.add(row)
    db.session.flush()
    return row


def transition(row_id: int, version: int, **values) -> bool:
    """Compare-and-set a key's state: True when this caller made the change."""
    result = db.session.execute(
        update(SigningKeyRow)
        .where(SigningKeyRow.id == row_id, SigningKeyRow.version == version)
        .values(version=version + 1, **values)
    )
    return result.rowcount == 1
