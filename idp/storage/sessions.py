"""SSO sessions. The browser holds a random id; the database keeps only its SHA-256."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class SsoSession(db.Model):
    __tablename__ = "sso_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # Public session id for the `sid` claim (OIDC Front-/Back-Channel Logout); not a secret.
    sid: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    auth_time: Mapped[int] = mapped_column(Integer, nullable=False)
    amr: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    acr: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    last_seen_at: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    ended_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)
    ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)


def find_by_hash(session_hash: str) -> SsoSession | None:
    return db.session.scalars(select(SsoSession).where(SsoSession.session_hash == session_hash)).first()


def add(row: SsoSession) -> SsoSession:
    db.session.add(row)
    db.session.flush()
    return row


def get(row_id: int) -> SsoSession | None:
    return db.session.get(SsoSession, row_id)


def find_by_sid(sid: str) -> SsoSession | None:
    return db.session.scalars(select(SsoSession).where(SsoSession.sid == sid)).first()


def live_for_user(user_id: int, now: int, idle_since: int) -> list[SsoSession]:
    """Sessions of a user that have not ended, expired or gone idle, most recently used first."""
    query = (select(SsoSession)
             .where(SsoSession.user_id == user_id, SsoSession.ended_at.is_(None), SsoSession.expires_at > now,
                    SsoSession.last_seen_at > idle_since)
             .order_by(SsoSession.last_seen_at.desc(), SsoSession.id.desc()))
    return list(db.session.scalars(query))


def mark_ended(row_id: int, now: int) -> bool:
    """End a session if it has not ended yet: True for the one caller that ended it."""
    result = db.session.execute(
        update(SsoSession).where(SsoSession.id == row_id, SsoSession.ended_at.is_(None)).values(ended_at=now)
    )
    return result.rowcount == 1
