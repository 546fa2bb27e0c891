"""One-time identifiers seen recently: `jti`s of client assertions (RFC 7523 §3) and of DPoP proofs
(RFC 9449 §11.1). A unique key makes "first use" exactly-once even when requests race."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class SeenJti(db.Model):
    __tablename__ = "seen_jtis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SHA-256 of kind, issuer (client id or key thumbprint) and jti: fixed size whatever was sent.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)


def first_use(key_hash: str, expires_at: int) -> bool:
    """Record the identifier and commit; False when it was recorded before (by this or a racing
    request). Runs in its own transaction: nothing else may be pending in the session."""
    db.session.add(SeenJti(key_hash=key_hash, expires_at=expires_at))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True
