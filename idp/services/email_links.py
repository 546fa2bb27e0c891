"""Single-use, expiring links (storage.password_links): set a password (an administrator's link, a
forgotten password, an invitation), verify an e-mail address, sign in by e-mail. Only the SHA-256 of
the token is stored. Each link is bound to the state it was issued for — the account's password hash
for the password purposes, the address for a verification — so a password change voids every
outstanding reset link and a changed address voids its verification link. `claim` uses a link
exactly once, however many requests race for it (a conditional UPDATE)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..storage import password_links as store
from ..storage import users as user_store
from . import clock, crypto

SET_PASSWORD = "set_password"
RESET = "reset"
INVITATION = "invitation"
VERIFY_EMAIL = "verify_email"
MAGIC = "magic"
PASSWORD_PURPOSES = (SET_PASSWORD, RESET, INVITATION)
MAX_TOKEN = 128


@dataclass(frozen=True)
class Link:
    id: int
    user_id: int
    purpose: str
    email: str | None
    expires_at: int
    browser_hash: str | None = field(default=None, repr=False)


def _state(purpose: str, user: user_store.User, email: str | None) -> str:
    if purpose == VERIFY_EMAIL:  # void once the account's address changes otherwise
        return crypto.lookup_hash(f"email\x00{user.email or ''}\x00{email or ''}")
    return crypto.lookup_hash(f"password\x00{user.password_hash or ''}")


def issue(user_id: int, purpose: str, ttl: int, *, email: str | None = None,
          browser_secret: str | None = None) -> str:
    """A new link's token (not committed: it commits with the caller's event and its mail)."""
    user = user_store.get(user_id)
    assert user is not None
    token = crypto.random_token(32)
    now = clock.now()
    store.add(store.PasswordLink(
        user_id=user_id, token_hash=crypto.lookup_hash(token), created_at=now, expires_at=now + ttl,
        purpose=purpose, state=_state(purpose, user, email), email=email,
        browser_hash=crypto.lookup_hash(browser_secret) if browser_secret else None,
    ))
    return token


def find(token: str | None, purposes: tuple[str, ...]) -> Link | None:
    """The live link behind `token` for one of `purposes`: unused, unexpired, its account enabled and
    still in the state the link was issued for. None for anything else (unknown, tampered, used)."""
    if not token or len(token) > MAX_TOKEN:
        return None
    row = store.find(crypto.lookup_hash(token))
    if row is None or row.purpose not in purposes or row.used_at is not None or row.expires_at <= clock.now():
        return None
    user = user_store.get(row.user_id)
    if user is None or not user.enabled or not row.state:
        return None
    if not crypto.constant_time_equal(row.state, _state(row.purpose, user, row.email)):
        return None
    return Link(row.id, row.user_id, row.purpose, row.email, row.expires_at, row.browser_hash)


def claim(link: Link) -> bool:
    """Use the link (not committed). Exactly one of any number of concurrent claims wins."""
    return store.claim(link.id, clock.now())
