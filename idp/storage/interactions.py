"""Interactions: a stored, expiring authorization request the login and consent pages refer to by
uid, and the result those pages record for the protocol to resume with."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Interaction(db.Model):
    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # SHA-256 of a random value in the browser's cookie: only that browser may act on or resume it.
    browser_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    params: Mapped[dict] = mapped_column(JSON, nullable=False)
    prompt: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The scopes the consent page asks for: requested scopes plus those implied by `claims`.
    consent_scopes: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    # Set only by the /device page: this interaction approves that device authorization request.
    device_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("device_codes.id", ondelete="CASCADE"), nullable=True
    )
    login_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    login_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    consent_given: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    account_selected: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    denied: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    completed_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


def find(uid: str) -> Interaction | None:
    return db.session.scalars(select(Interaction).where(Interaction.uid == uid)).first()


def add(row: Interaction) -> Interaction:
    db.session.add(row)
    db.session.flush()
    return row


def complete(uid: str, browser_hash: str, now: int) -> bool:
    """Close a live interaction once: one conditional UPDATE whose row count decides a race between
    concurrent resumes (the second writer re-reads the row and matches nothing)."""
    result = db.session.execute(
        update(Interaction)
        .where(Interaction.uid == uid, Interaction.browser_hash == browser_hash,
               Interaction.completed_at.is_(None), Interaction.expires_at > now)
        .values(completed_at=now)
    )
    return result.rowcount == 1
