"""Users: creation, lookup and password authentication."""

from __future__ import annotations

import re

from ..errors import AuthenticationFailed, NotFound, ValidationError
from ..extensions import db
from ..storage import password_links as link_store
from ..storage import users as store
from ..types import Page, PasswordLinkView, UserView
from . import clock, crypto
from .claims import ADDRESS_FIELDS, SCOPE_CLAIMS
from .passwords import Passwords, check_strength

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,149}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EDITABLE_CLAIMS = tuple(
    c for c in (*SCOPE_CLAIMS["profile"], "phone_number", "phone_number_verified", "address")
    if c not in ("updated_at", "preferred_username")
)


def view(row: store.User) -> UserView:
    return UserView(
        id=row.id, sub=row.sub, username=row.username, email=row.email,
        email_verified=row.email_verified, enabled=row.enabled, claims=dict(row.claims or {}),
        is_admin=row.is_admin,
    )


def _clean_claims(claims: dict) -> dict:
    out = {}
    for name, value in claims.items():
        if name not in EDITABLE_CLAIMS:
            raise ValidationError(f"'{name}' is not a profile claim that can be set.")
        if value in (None, ""):
            continue
        if name == "address":
            if not isinstance(value, dict) or set(value) - set(ADDRESS_FIELDS):
                raise ValidationError(f"address must be an object with only: {', '.join(ADDRESS_FIELDS)}.")
        elif name == "phone_number_verified":
            value = bool(value)
        elif not isinstance(value, str):
            raise ValidationError(f"'{name}' must be a string.")
        out[name] = value
    return out


def create(passwords: Passwords, *, username: str, password: str, email: str | None = None,
           email_verified: bool = False, claims: dict | None = None, is_admin: bool = False) -> UserView:
    """Create a user in one transaction; refuses duplicates, weak passwords and malformed claims."""
    username = (username or "").strip().lower()
    email = (email or "").strip().lower() or None
    if not USERNAME_RE.match(username):
        raise ValidationError("A username is 1–150 characters: letters, digits and . _ @ + -")
    if email and not EMAIL_RE.match(email):
        raise ValidationError("That e-mail address does not look valid.")
    reason = check_strength(password)
    if reason:
        raise ValidationError(reason)
    cleaned = _clean_claims(claims or {})
    if store.exists(username, email):
        raise ValidationError("A user with that username or e-mail already exists.")
    now = clock.now()
    row = store.User(
        sub=crypto.random_token(16), username=username, email=email, email_verified=email_verified,
        password_hash=passwords.hash(password), enabled=True, claims=cleaned, created_at=now, updated_at=now,
        is_admin=is_admin,
    )
    store.add(row)
    db.session.commit()
    if is_admin:
        from . import rbac

        rbac.assign(rbac.ROLE, row.id, [rbac.ADMIN_ROLE])
    return view(row)


def authenticate(passwords: Passwords, login: str, password: str) -> UserView:
    """Check a username-or-e-mail and password. One error for every failure, so the response does
    not reveal whether the account exists; a hash with outdated parameters is upgraded."""
    row = store.find_by_login(login or "") if len(login or "") <= 254 else None
    stored = row.password_hash if row is not None else None
    if not passwords.verify(stored, password or "") or row is None or not row.enabled:
        raise AuthenticationFailed("The username or password is incorrect.")
    if passwords.needs_rehash(row.password_hash):
        row.password_hash = passwords.hash(password)
        db.session.commit()
    return view(row)


def set_admin(user_id: int, is_admin: bool) -> None:
    """Grant or take away the built-in `admin` role (other roles are kept)."""
    from . import rbac

    row = store.get(user_id)
    if row is not None:
        names = [n for n in rbac.names_of(rbac.ROLE, user_id) if n != rbac.ADMIN_ROLE]
        rbac.assign(rbac.ROLE, user_id, names + ([rbac.ADMIN_ROLE] if is_admin else []))


def get(user_id: int) -> UserView | None:
    row = store.get(user_id)
    return view(row) if row is not None else None


def get_enabled(user_id: int) -> UserView | None:
    user = get(user_id)
    return user if user is not None and user.enabled else None


def updated_at(user_id: int) -> int | None:
    row = store.get(user_id)
    return row.updated_at if row else None


def any_exist() -> bool:
    from sqlalchemy import select

    return db.session.scalar(select(store.User.id).limit(1)) is not None


def change_password(passwords: Passwords, user_id: int, current_password: str, new_password: str) -> None:
    """Change a password. The caller re-authenticated the person with `current_password` first
    (password_login.reauthenticate: the one throttled check). Raises ValidationError for a weak or
    unchanged new one."""
    row = store.get(user_id)
    if row is None or not row.enabled:
        raise AuthenticationFailed("The current password is incorrect.")
    reason = check_strength(new_password)
    if reason:
        raise ValidationError(reason)
    if new_password == current_password:
        raise ValidationError("The new password must differ from the current one.")
    row.password_hash = passwords.hash(new_password)
    row.updated_at = clock.now()
    db.session.commit()


MAX_CLAIM_LENGTH = 200


def update_profile(user_id: int, values: dict[str, str], editable: tuple[str, ...]) -> list[str]:
    """Set the person's own profile claims among `editable` (an empty value removes the claim).
    Returns the names that changed."""
    row = store.get(user_id)
    if row is None:
        raise ValidationError("This account no longer exists.")
    claims = dict(row.claims or {})
    changed = []
    for name in editable:
        if name not in values:
            continue
        value = (values[name] or "").strip()
        if len(value) > MAX_CLAIM_LENGTH:
            raise ValidationError(f"'{name}' is longer than {MAX_CLAIM_LENGTH} characters.")
        if any(ord(ch) < 32 for ch in value):
            raise ValidationError(f"'{name}' must be a single line of text.")
        if value != (claims.get(name) or ""):
            changed.append(name)
            if value:
                claims[name] = value
            else:
                claims.pop(name, None)
    if changed:
        row.claims = claims
        row.updated_at = clock.now()
        db.session.commit()
    return changed


MAX_PAGE = 100


def search(q: str = "", offset: int = 0, limit: int = 20) -> Page:
    """Users whose username or e-mail contains `q`, a page at a time, by username."""
    q = (q or "").strip()[:254]
    offset, limit = max(0, offset), min(max(1, limit), MAX_PAGE)
    rows, total = store.search(q, offset, limit)
    return Page(items=tuple(view(r) for r in rows), total=total, offset=offset, limit=limit)


def _require(user_id: int) -> store.User:
    row = store.get(user_id)
    if row is None:
        raise NotFound("No such user.")
    return row


def admin_update(user_id: int, *, email: str | None = None, email_verified: bool | None = None,
                 claims: dict | None = None) -> UserView:
    """An administrator's edit: the e-mail address, its verified flag and the profile claims (each
    given claim replaces the stored one; an empty value removes it)."""
    row = _require(user_id)
    if email is not None:
        email = email.strip().lower() or None
        if email and not EMAIL_RE.match(email):
            raise ValidationError("That e-mail address does not look valid.")
        if email and email != row.email and store.find_by_login(email) is not None:
            raise ValidationError("Another user has that e-mail address.")
        if email != row.email:
            row.email, row.email_verified = email, False
    if email_verified is not None:
        row.email_verified = bool(email_verified) and row.email is not None
    if claims is not None:
        if not isinstance(claims, dict):
            raise ValidationError("claims must be an object.")
        merged = dict(row.claims or {})
        removed = [k for k, v in claims.items() if v in (None, "")]
        cleaned = _clean_claims(claims)
        for name in removed:
            merged.pop(name, None)
        merged.update(cleaned)
        row.claims = merged
    row.updated_at = clock.now()
    db.session.commit()
    return view(row)


def set_enabled(user_id: int, enabled: bool) -> UserView:
    """Enable or disable an account. Disabling does not end sessions by itself: callers use
    logout.end_all_sessions and tokens.revoke_grants (see admin)."""
    row = _require(user_id)
    row.enabled = enabled
    row.updated_at = clock.now()
    db.session.commit()
    return view(row)


def delete(user_id: int) -> None:
    """Delete a user and (by cascade) everything that belongs to them."""
    store.remove(_require(user_id))
    db.session.commit()


def issue_password_link(user_id: int, ttl: int) -> PasswordLinkView:
    """A one-time token that lets the user set a new password until it expires."""
    _require(user_id)
    token = crypto.random_token(32)
    now = clock.now()
    link_store.add(link_store.PasswordLink(user_id=user_id, token_hash=crypto.lookup_hash(token), created_at=now,
                                           expires_at=now + ttl))
    db.session.commit()
    return PasswordLinkView(user_id=user_id, token=token, expires_at=now + ttl)


def password_link_user(token: str) -> UserView | None:
    """The enabled user a live, unused set-password link belongs to, or None."""
    if not token or len(token) > 128:
        return None
    row = link_store.find(crypto.lookup_hash(token))
    if row is None or row.used_at is not None or row.expires_at <= clock.now():
        return None
    return get_enabled(row.user_id)


def set_password_with_link(passwords: Passwords, token: str, new_password: str) -> UserView:
    """Use a set-password link once: check the new password, then claim the link atomically."""
    user = password_link_user(token)
    if user is None:
        raise ValidationError("This link has expired or has already been used.")
    reason = check_strength(new_password)
    if reason:
        raise ValidationError(reason)
    row = link_store.find(crypto.lookup_hash(token))
    if row is None or not link_store.claim(row.id, clock.now()):
        db.session.rollback()
        raise ValidationError("This link has expired or has already been used.")
    user_row = _require(user.id)
    user_row.password_hash = passwords.hash(new_password)
    user_row.updated_at = clock.now()
    db.session.commit()
    return user
