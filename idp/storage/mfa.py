"""Second factors: TOTP secrets, recovery codes, WebAuthn credentials and their one-time challenges.
Every "use once" rule is a conditional UPDATE whose row count decides a race."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, delete, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class TotpCredential(db.Model):
    """One authenticator-app secret per user; `confirmed_at` is None while enrolment is pending."""

    __tablename__ = "totp_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False)
    # AES-256-GCM under the key-encryption key, bound to the user id (associated data).
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # The last accepted RFC 6238 time step: a code is accepted only for a later step (no replay).
    last_used_step: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    confirmed_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RecoveryCode(db.Model):
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)  # SHA-256 of an 80-bit random code
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    used_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


class WebAuthnCredential(db.Model):
    __tablename__ = "webauthn_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True, nullable=False)  # base64url
    user_handle: Mapped[str] = mapped_column(String(100), nullable=False)  # base64url, as the authenticator holds it
    public_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)  # COSE
    sign_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    transports: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    aaguid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    device_type: Mapped[str] = mapped_column(String(20), nullable=False)  # single_device | multi_device
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    nickname: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    last_used_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


class WebAuthnChallenge(db.Model):
    """A challenge handed to one browser for one ceremony: single use, short-lived."""

    __tablename__ = "webauthn_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    purpose: Mapped[str] = mapped_column(String(20), nullable=False)  # register | second_factor | passwordless
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    browser_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    used_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


# --- TOTP -------------------------------------------------------------------------------------------

def totp_of(user_id: int) -> TotpCredential | None:
    return db.session.scalars(select(TotpCredential).where(TotpCredential.user_id == user_id)).first()


def advance_totp_step(credential_id: int, step: int) -> bool:
    """Record `step` as used if it is later than the last used one; True for exactly one caller."""
    result = db.session.execute(
        update(TotpCredential)
        .where(TotpCredential.id == credential_id, TotpCredential.last_used_step < step)
        .values(last_used_step=step)
    )
    return result.rowcount == 1


def delete_totp(user_id: int) -> int:
    return db.session.execute(delete(TotpCredential).where(TotpCredential.user_id == user_id)).rowcount


# --- Recovery codes ---------------------------------------------------------------------------------

def replace_recovery_codes(user_id: int, hashes: list[str], now: int) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.add_all(RecoveryCode(user_id=user_id, code_hash=h, created_at=now) for h in hashes)


def delete_recovery_codes(user_id: int) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


def use_recovery_code(user_id: int, code_hash: str, now: int) -> bool:
    result = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.code_hash == code_hash, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
    )
    return result.rowcount == 1


def recovery_codes_left(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)))


# --- WebAuthn ---------------------------------------------------------------------------------------

def credentials_of(user_id: int) -> list[WebAuthnCredential]:
    return list(db.session.scalars(
        select(WebAuthnCredential).where(WebAuthnCredential.user_id == user_id).order_by(WebAuthnCredential.id)))


def credential_by_id(credential_id: str) -> WebAuthnCredential | None:
    return db.session.scalars(
        select(WebAuthnCredential).where(WebAuthnCredential.credential_id == credential_id)).first()


def credential_of(user_id: int, pk: int) -> WebAuthnCredential | None:
    return db.session.scalars(
        select(WebAuthnCredential).where(WebAuthnCredential.user_id == user_id, WebAuthnCredential.id == pk)).first()


def advance_sign_count(pk: int, seen: int, new: int, now: int) -> bool:
    """Store the new signature counter unless another request moved it meanwhile."""
    result = db.session.execute(
        update(WebAuthnCredential)
        .where(WebAuthnCredential.id == pk, WebAuthnCredential.sign_count == seen)
        .values(sign_count=new, last_used_at=now)
    )
    return result.rowcount == 1


def consume_challenge(challenge_hash: str, now: int) -> WebAuthnChallenge | None:
    """The live challenge with this hash, marked used; None if unknown, expired or already used."""
    result = db.session.execute(
        update(WebAuthnChallenge)
        .where(WebAuthnChallenge.challenge_hash == challenge_hash, WebAuthnChallenge.used_at.is_(None),
               WebAuthnChallenge.expires_at > now)
        .values(used_at=now)
    )
    if result.rowcount != 1:
        return None
    return db.session.scalars(
        select(WebAuthnChallenge).where(WebAuthnChallenge.challenge_hash == challenge_hash)).first()


def purge_challenges(before: int) -> None:
    db.session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at < before))


def delete_credentials_of(user_id: int) -> int:
    return db.session.execute(delete(WebAuthnCredential).where(WebAuthnCredential.user_id == user_id)).rowcount
