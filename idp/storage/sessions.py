"""SSO sessions. The browser holds a random id; the database keeps only its SHA-256."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, String, select
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
