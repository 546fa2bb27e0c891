"""Authorization codes. Consumed rows are kept (until purged) so a replay can revoke what the first
redemption issued (RFC 6749 §4.1.2)."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class AuthorizationCode(db.Model):
    __tablename__ = "authorization_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    sid: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    redirect_uri: Mapped[str] = mapped_column(Text, nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    nonce: Mapped[str | None] = mapped_column(Text, nullable=True)
    code_challenge: Mapped[str | None] = mapped_column(String(128), nullable=True)
    code_challenge_method: Mapped[str | None] = mapped_column(String(10), nullable=True)
    # The OIDC `claims` request parameter (§5.5), already parsed.
    claims_request: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    auth_time: Mapped[int] = mapped_column(Integer, nullable=False)
    acr: Mapped[str | None] = mapped_column(String(100), nullable=True)
    amr: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    # RFC 8707 resource indicators granted at /authorize (empty: none requested).
    resources: Mapped[list | None] = mapped_column(JSON, nullable=True)
    issued_at: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    consumed_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


def add(code: AuthorizationCode) -> AuthorizationCode:
    db.session.add(code)
    db.session.flush()
    return code


def find(code_hash: str) -> AuthorizationCode | None:
    return db.session.scalars(select(AuthorizationCode).where(AuthorizationCode.code_hash == code_hash)).first()


def claim(code_id: int, now: int) -> bool:
    """Mark the code consumed if, and only if, nobody did before: one conditional UPDATE whose row
    count decides the race (the second writer re-reads the row and matches nothing)."""
    result = db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == code_id, AuthorizationCode.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    return result.rowcount == 1


def client_pks_for_sid(sid: str) -> set[int]:
    """Clients that were issued a code within one SSO session."""
    return set(db.session.scalars(select(AuthorizationCode.client_pk).where(AuthorizationCode.sid == sid).distinct()))


def expire_for_sid(sid: str, now: int) -> int:
    """Make the unredeemed codes of one SSO session unredeemable (the session ended)."""
    result = db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.sid == sid, AuthorizationCode.consumed_at.is_(None),
               AuthorizationCode.expires_at > now)
        .values(expires_at=now)
    )
    return result.rowcount
