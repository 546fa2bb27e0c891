"""Logout requests: an RP-initiated (or account-page) sign-out the logout pages refer to by uid,
bound to the browser that started it, expiring, holding only what the protocol already checked."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class LogoutRequest(db.Model):
    __tablename__ = "logout_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # SHA-256 of the browser-binding cookie: only the browser that started it may see or confirm it.
    browser_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # The application that asked (None when unknown or when the person signs out on the IdP itself).
    client_pk: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), nullable=True)
    # The post-logout redirect, already checked against the client's registered list, with `state`.
    redirect_to: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Set once the session has ended; then `frontchannel` lists [client name, iframe URL] pairs.
    logged_out_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    frontchannel: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # The language of the logout pages: the first tag of the request's ui_locales with a catalogue
    # (RP-Initiated Logout 1.0 §2), as that catalogue's code — never the raw parameter.
    ui_locales: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)


def find(uid: str) -> LogoutRequest | None:
    return db.session.scalars(select(LogoutRequest).where(LogoutRequest.uid == uid)).first()


def add(row: LogoutRequest) -> LogoutRequest:
    db.session.add(row)
    db.session.flush()
    return row
