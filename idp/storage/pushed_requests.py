"""Pushed authorization requests (RFC 9126): the validated parameters a client pushed, redeemable
once at /authorize through their `request_uri` before they expire."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class PushedRequest(db.Model):
    __tablename__ = "pushed_authorization_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SHA-256 of the random part of the request_uri.
    request_uri_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), nullable=False, index=True)
    params: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    consumed_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


def add(row: PushedRequest) -> PushedRequest:
    db.session.add(row)
    db.session.flush()
    return row


def find(request_uri_hash: str) -> PushedRequest | None:
    return db.session.scalars(select(PushedRequest).where(PushedRequest.request_uri_hash == request_uri_hash)).first()


def claim(row_id: int, now: int) -> bool:
    """Mark a pushed request used: exactly one of several concurrent redemptions gets True."""
    result = db.session.execute(
        update(PushedRequest)
        .where(PushedRequest.id == row_id, PushedRequest.consumed_at.is_(None), PushedRequest.expires_at > now)
        .values(consumed_at=now)
    )
    return result.rowcount == 1
