"""One-time, expiring links sent to a person (or shown to an administrator): set a password (an
administrator's link, a forgotten password, an invitation) or verify an e-mail address. Only the
SHA-256 of the token is stored; a link is bound to what it was issued for (`state`), so a password
change voids a reset link and a changed address voids its verification link."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class PasswordLink(db.Model):
    __tablename__ = "password_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    # SHA-256 of the random token in the link; the token itself is shown once.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    used_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # What the link does: set_password (an administrator's link), reset (forgot password), invitation,
    # verify_email (the address in `email`, a new or changed one), magic (sign in by e-mail).
    purpose: Mapped[str] = mapped_column(String(16), nullable=False, default="set_password",
                                         server_default="set_password")
    # Hash of the state the link was issued for (the password hash, or the address to verify): a link
    # whose state no longer matches the account is void.
    state: Mapped[str | None] = mapped_column(String(64), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # Magic links: the hash of the browser secret that asked for the link (bound to that browser).
    browser_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Magic links opened in another browser: that browser's hash, waiting for the asking browser to allow it.
    confirm_browser_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


def add(row: PasswordLink) -> PasswordLink:
    db.session.add(row)
    db.session.flush()
    return row


def find(token_hash: str) -> PasswordLink | None:
    return db.session.scalars(select(PasswordLink).where(PasswordLink.token_hash == token_hash)).first()


def claim(row_id: int, now: int) -> bool:
    """Mark a live link used; exactly one concurrent use wins."""
    result = db.session.execute(update(PasswordLink).where(
        PasswordLink.id == row_id, PasswordLink.used_at.is_(None), PasswordLink.expires_at > now,
    ).values(used_at=now))
    return result.rowcount == 1


def ask_transfer(row_id: int, browser_hash: str) -> None:
    db.session.execute(update(PasswordLink).where(PasswordLink.id == row_id, PasswordLink.used_at.is_(None))
                       .values(confirm_browser_hash=browser_hash))


def waiting_transfers(browser_hash: str, now: int) -> list[PasswordLink]:
    """Live magic links of this browser that another browser asked to use."""
    return list(db.session.scalars(select(PasswordLink).where(
        PasswordLink.browser_hash == browser_hash, PasswordLink.confirm_browser_hash.is_not(None),
        PasswordLink.used_at.is_(None), PasswordLink.expires_at > now)))


def decide_transfer(row_id: int, browser_hash: str, allow: bool) -> bool:
    """The asking browser allows (the link moves to the other browser) or refuses; only it can."""
    values = {"confirm_browser_hash": None}
    if allow:
        values["browser_hash"] = PasswordLink.confirm_browser_hash
    return db.session.execute(update(PasswordLink).where(
        PasswordLink.id == row_id, PasswordLink.browser_hash == browser_hash,
        PasswordLink.confirm_browser_hash.is_not(None), PasswordLink.used_at.is_(None),
    ).values(**values)).rowcount == 1


class InitialAccessToken(db.Model):
    """RFC 7591 §3: a bearer token an administrator issues that allows registering `max_uses` clients
    (one unless the operator asked for more) until it expires."""

    __tablename__ = "initial_access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[int] = mapped_column(Integer, nullable=False)
    used_at: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the latest use
    max_uses: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    uses: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")


def add_initial(row: InitialAccessToken) -> InitialAccessToken:
    db.session.add(row)
    db.session.flush()
    return row


def claim_initial(token_hash: str, now: int) -> bool:
    """Count one use of a live token that has uses left. One conditional UPDATE, so concurrent
    registrations with an N-use token get exactly N uses (SQLite: one writer; PostgreSQL re-checks the
    WHERE on the locked row)."""
    result = db.session.execute(update(InitialAccessToken).where(
        InitialAccessToken.token_hash == token_hash, InitialAccessToken.uses < InitialAccessToken.max_uses,
        InitialAccessToken.expires_at > now,
    ).values(uses=InitialAccessToken.uses + 1, used_at=now))
    return result.rowcount == 1
