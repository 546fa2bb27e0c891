"""Users: creation, lookup and password authentication."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import AuthenticationFailed, NotFound, ValidationError
from ..extensions import db
from ..storage import users as store
from ..types import Page, PasswordLinkView, UserView
from . import clock, crypto, email_links, languages
from .claims import ADDRESS_FIELDS, CLAIM_LABELS, SCOPE_CLAIMS
from .passwords import Passwords, check_strength
from .text import N_

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
        is_admin=row.is_admin, must_verify_email=row.must_verify_email and not row.email_verified,
        created_at=row.created_at, updated_at=row.updated_at,
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
        elif name == "locale":
            _check_locale(value)
        out[name] = value
    return out


def _check_locale(value: str) -> None:
    """The `locale` claim (OIDC Core §5.1, a BCP 47 tag) names a language this server speaks: mails and
    pages follow it, so a tag nothing can honour is refused rather than stored."""
    if not languages.valid_locale(value):
        raise ValidationError(N_("That language is not available here: choose one from the list."), field="locale")


def _new_row(username: str, email: str | None, claims: dict | None, password_hash: str | None,
             email_verified: bool = False, is_admin: bool = False) -> store.User:
    """A validated, added (not committed) user row; refuses duplicates and malformed claims."""
    username = (username or "").strip().lower()
    email = (email or "").strip().lower() or None
    if not USERNAME_RE.match(username):
        raise ValidationError(N_("A username is 1–150 characters: letters, digits and . _ @ + -"), field="username")
    if email and not EMAIL_RE.match(email):
        raise ValidationError(N_("That e-mail address does not look valid."), field="email")
    cleaned = _clean_claims(claims or {})
    if store.exists(username, email):
        raise ValidationError(N_("A user with that username or e-mail already exists."))
    now = clock.now()
    return store.add(store.User(
        sub=crypto.random_token(16), username=username, email=email, email_verified=email_verified,
        password_hash=password_hash, enabled=True, claims=cleaned, created_at=now, updated_at=now, is_admin=is_admin,
    ))


def create(passwords: Passwords, *, username: str, password: str, email: str | None = None,
           email_verified: bool = False, claims: dict | None = None, is_admin: bool = False,
           before_commit: Callable[[UserView], None] | None = None) -> UserView:
    """Create a user in one transaction; refuses duplicates, weak passwords and malformed claims.
    `before_commit` joins that transaction (e.g. to queue the address's verification mail)."""
    reason = check_strength(password, avoid=(username, email))
    if reason:
        raise ValidationError(reason, field="password")
    row = _new_row(username, email, claims, None, email_verified, is_admin)
    row.password_hash = passwords.hash(password)
    if before_commit is not None:
        before_commit(view(row))
    db.session.commit()
    if is_admin:
        from . import rbac

        rbac.assign(rbac.ROLE, row.id, [rbac.ADMIN_ROLE])
    return view(row)


def add_without_password(*, username: str, email: str, claims: dict | None = None) -> UserView:
    """A new account with no password yet (an invitation or a registration sets it), not committed."""
    return view(_new_row(username, email, claims, None))


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


def has_password(user_id: int) -> bool:
    row = store.get(user_id)
    return row is not None and row.password_hash is not None


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
    reason = check_strength(new_password, avoid=(row.username, row.email))
    if reason:
        raise ValidationError(reason, field="new_password")
    if new_password == current_password:
        raise ValidationError(N_("The new password must differ from the current one."), field="new_password")
    row.password_hash = passwords.hash(new_password)
    row.updated_at = clock.now()
    db.session.commit()


MAX_CLAIM_LENGTH = 200


def update_profile(user_id: int, values: dict[str, str], editable: tuple[str, ...]) -> list[str]:
    """Set the person's own profile claims among `editable` (an empty value removes the claim).
    Returns the names that changed."""
    row = store.get(user_id)
    if row is None:
        raise ValidationError(N_("This account no longer exists."))
    claims = dict(row.claims or {})
    changed = []
    for name in editable:
        if name not in values:
            continue
        value = (values[name] or "").strip()
        label = CLAIM_LABELS.get(name, (name,))[0]
        if len(value) > MAX_CLAIM_LENGTH:
            raise ValidationError(N_("%(label)s can be at most %(num)d characters long."), field=name, label=label,
                                  num=MAX_CLAIM_LENGTH)
        if any(ord(ch) < 32 for ch in value):
            raise ValidationError(N_("%(label)s must be a single line of text."), field=name, label=label)
        if value != (claims.get(name) or ""):
            if name == "locale" and value:
                _check_locale(value)
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


SORTS = tuple(store.SORTS)


def search(q: str = "", offset: int = 0, limit: int = 20, sort: str = "username", descending: bool = False) -> Page:
    """Users whose username or e-mail contains `q`, a page at a time, by username (or another of SORTS)."""
    q = (q or "").strip()[:254]
    offset, limit = max(0, offset), min(max(1, limit), MAX_PAGE)
    rows, total = store.search(q, offset, limit, sort if sort in SORTS else "username", descending)
    return Page(items=tuple(view(r) for r in rows), total=total, offset=offset, limit=limit)


def find(login: str) -> UserView | None:
    """The user with this username or e-mail address, if any."""
    row = store.find_by_login((login or "")[:254])
    return view(row) if row is not None else None


def usernames(ids) -> dict[int, str]:
    """Usernames by id (for showing names instead of ids); ids of deleted users are missing."""
    return store.usernames(ids)


def count() -> int:
    return store.count()


def _require(user_id: int) -> store.User:
    row = store.get(user_id)
    if row is None:
        raise NotFound(N_("No such user."))
    return row


def admin_update(user_id: int, *, email: str | None = None, email_verified: bool | None = None,
                 claims: dict | None = None, before_commit: Callable[[UserView], None] | None = None) -> UserView:
    """An administrator's edit: the e-mail address, its verified flag and the profile claims (each
    given claim replaces the stored one; an empty value removes it). `before_commit` joins the
    transaction when the address changed (e.g. to queue the new address's verification mail)."""
    row = _require(user_id)
    old_email = row.email
    if email is not None:
        email = email.strip().lower() or None
        if email and not EMAIL_RE.match(email):
            raise ValidationError(N_("That e-mail address does not look valid."))
        if email and email != row.email and store.find_by_login(email) is not None:
            raise ValidationError(N_("Another user has that e-mail address."))
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
    if before_commit is not None and row.email != old_email:
        db.session.flush()
        before_commit(view(row))
    db.session.commit()
    return view(row)


def set_enabled(user_id: int, enabled: bool) -> UserView:
    """Enable or disable an account. Disabling does not end sessions by itself: callers use
    logout.end_all_sessions and tokens.revoke_grants (see admin)."""
    row = _require(user_id)
    row.enabled = enabled
    if enabled:
        row.deletion_due_at = None  # enabling again cancels a deletion the person asked for
    row.updated_at = clock.now()
    db.session.commit()
    return view(row)


def delete(user_id: int) -> None:
    """Delete a user and (by cascade) everything that belongs to them."""
    store.remove(_require(user_id))
    db.session.commit()


def issue_password_link(user_id: int, ttl: int) -> PasswordLinkView:
    """An administrator's one-time token that lets the user set a new password until it expires (or
    until the password changes otherwise)."""
    _require(user_id)
    token = email_links.issue(user_id, email_links.SET_PASSWORD, ttl)
    db.session.commit()
    return PasswordLinkView(user_id=user_id, token=token, expires_at=clock.now() + ttl)


def password_link_user(token: str) -> UserView | None:
    """The enabled user a live set-password, reset or invitation link belongs to, or None."""
    link = email_links.find(token, email_links.PASSWORD_PURPOSES)
    return get_enabled(link.user_id) if link is not None else None


def set_password_with_link(passwords: Passwords, token: str, new_password: str) -> tuple[UserView, str]:
    """Use a set-password link once: check the new password, then claim the link atomically and set
    the password in the same transaction. An invitation's link also confirms the address it was mailed
    to (so does a reset link: only verified addresses get one). Returns the user and the link's purpose."""
    link = email_links.find(token, email_links.PASSWORD_PURPOSES)
    if link is None:
        raise ValidationError(N_("This link has expired or has already been used."))
    user_row = _require(link.user_id)
    reason = check_strength(new_password, avoid=(user_row.username, user_row.email))
    if reason:
        raise ValidationError(reason, field="new_password")
    if not email_links.claim(link):
        db.session.rollback()
        raise ValidationError(N_("This link has expired or has already been used."))
    user_row.password_hash = passwords.hash(new_password)
    if link.purpose == email_links.INVITATION and user_row.email:
        user_row.email_verified = True
    user_row.updated_at = clock.now()
    db.session.commit()
    return view(user_row), link.purpose
