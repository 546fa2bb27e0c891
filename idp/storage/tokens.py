"""Access and refresh tokens. JWT access tokens are tracked by `jti`; opaque secrets (refresh tokens,
opaque access tokens) by SHA-256."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

ACCESS = "access"
REFRESH = "refresh"


class Token(db.Model):
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    jti: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), nullable=False, index=True)
    # None for client_credentials tokens (the client acts for itself).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True,
                                                index=True)
    authorization_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorization_codes.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # All tokens descended from one grant share a family (revoked together on replay).
    family_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    # The `aud` of an access token; for a refresh token, the resources its grant may ask for (RFC 8707).
    audience: Mapped[list | None] = mapped_column(JSON, nullable=True)
    claims_request: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    sid: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    auth_time: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acr: Mapped[str | None] = mapped_column(String(100), nullable=True)
    amr: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    issued_at: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    # Refresh tokens: the grant's absolute end, carried over every rotation (the idle end is expires_at).
    grant_expires_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    revoked_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # RFC 9449 §6: the JWK thumbprint of the DPoP key the token is bound to (access tokens; refresh
    # tokens of public clients), None for bearer tokens.
    jkt: Mapped[str | None] = mapped_column(String(64), nullable=True)


def add(token: Token) -> Token:
    db.session.add(token)
    db.session.flush()
    return token


def find_by_jti(jti: str) -> Token | None:
    return db.session.scalars(select(Token).where(Token.jti == jti)).first()


def find_by_hash(token_hash: str) -> Token | None:
    return db.session.scalars(select(Token).where(Token.token_hash == token_hash)).first()


def revoke_family(family_id: str, now: int) -> int:
    result = db.session.execute(
        update(Token).where(Token.family_id == family_id, Token.revoked_at.is_(None)).values(revoked_at=now)
    )
    return result.rowcount


def revoke_by_code(code_id: int, now: int) -> int:
    families = select(Token.family_id).where(Token.authorization_code_id == code_id).scalar_subquery()
    result = db.session.execute(
        update(Token).where(Token.family_id.in_(families), Token.revoked_at.is_(None)).values(revoked_at=now)
    )
    return result.rowcount


def revoke_if_live(token_id: int, now: int) -> bool:
    result = db.session.execute(
        update(Token).where(Token.id == token_id, Token.revoked_at.is_(None)).values(revoked_at=now)
    )
    return result.rowcount == 1


def revoke_of_user(user_id: int, client_pk: int | None, now: int) -> int:
    """Revoke every live token of a user (for one client if given)."""
    condition = [Token.user_id == user_id, Token.revoked_at.is_(None)]
    if client_pk is not None:
        condition.append(Token.client_pk == client_pk)
    return db.session.execute(update(Token).where(*condition).values(revoked_at=now)).rowcount


def client_pks_for_sid(sid: str) -> set[int]:
    """Clients holding tokens issued within one SSO session."""
    return set(db.session.scalars(select(Token.client_pk).where(Token.sid == sid).distinct()))


def revoke_for_session(sid: str, now: int) -> int:
    """At logout: the session's access tokens and the refresh tokens issued without offline_access
    (Back-Channel Logout 1.0 §2.7); offline refresh tokens outlive the session on purpose."""
    live = db.session.execute(
        select(Token.id, Token.kind, Token.scope).where(Token.sid == sid, Token.revoked_at.is_(None))
    ).all()
    ids = [row.id for row in live if row.kind == ACCESS or "offline_access" not in row.scope.split()]
    if not ids:
        return 0
    return db.session.execute(update(Token).where(Token.id.in_(ids)).values(revoked_at=now)).rowcount
