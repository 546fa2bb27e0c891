"""Users: the people who sign in."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Integer, String, func, or_, select
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sub: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    username: Mapped[str] = mapped_column(String(150), unique=True, nullable=False)
    email: Mapped[str | None] = mapped_column(String(254), unique=True, nullable=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # Administrators must always use a second factor (the admin console builds on this flag).
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false(), nullable=False)
    # Self-registered: may not continue into any application until the address is confirmed.
    must_verify_email: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false(),
                                                    nullable=False)
    # The person asked to delete the account: disabled until then, deleted by the purge job at this time.
    deletion_due_at: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # Random WebAuthn user handle (base64url), created with the first passkey; never personal data.
    webauthn_handle: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    # Standard OIDC claims other than sub/email (name, given_name, address, phone_number, ...).
    claims: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[int] = mapped_column(Integer, nullable=False)


def get(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def find_by_login(login: str) -> User | None:
    """Look a user up by username or e-mail, case-insensitively (both are stored lower-cased)."""
    login = login.strip().lower()
    return db.session.scalars(select(User).where(or_(User.username == login, User.email == login))).first()


def exists(username: str, email: str | None) -> bool:
    """Whether a user has this username or e-mail, either as a username or as an e-mail address: sign-in
    takes either (find_by_login), so one login must name one account."""
    names = [username, email] if email else [username]
    conditions = [User.username.in_(names), User.email.in_(names)]
    return db.session.scalar(select(func.count()).select_from(User).where(or_(*conditions))) > 0


def add(user: User) -> User:
    db.session.add(user)
    db.session.flush()
    return user


SORTS = {"username": User.username, "email": User.email, "created": User.created_at}


def search(q: str, offset: int, limit: int, sort: str = "username", descending: bool = False) -> tuple[list[User], int]:
    """Users whose username or e-mail contains `q` (case-insensitive), in `sort` order (a key of SORTS,
    then by id); and the total."""
    query = select(User)
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.username.like(pattern, escape="\\"), User.email.like(pattern, escape="\\")))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    column = SORTS.get(sort, User.username)
    order = (column.desc(), User.id.desc()) if descending else (column.asc(), User.id.asc())
    rows = list(db.session.scalars(query.order_by(*order).offset(offset).limit(limit)))
    return rows, total


def usernames(ids) -> dict[int, str]:
    """Usernames by id, for the ids that exist."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {row.id: row.username for row in db.session.execute(select(User.id, User.username).where(User.id.in_(ids)))}


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def remove(user: User) -> None:
    db.session.delete(user)
