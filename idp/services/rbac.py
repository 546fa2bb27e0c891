"""Roles and groups (RBAC). Administrative permissions are roles too: each built-in admin role
grants a set of admin scopes (least privilege), and a user holding any of them is an administrator
(who must always use a second factor). Roles and groups are released as the `roles` and `groups`
claims when a client asks for (and may have) the scope of the same name."""

from __future__ import annotations

import re

from ..errors import NotFound, ValidationError
from ..extensions import db
from ..storage import rbac as store
from ..storage import users as user_store
from ..types import RoleView
from . import clock
from .text import N_

# "No role named …" / "No group named …": whole sentences, so each language can say them its own way.
_NO_SUCH = {"role": N_("No role named '%(name)s'."), "group": N_("No group named '%(name)s'.")}
_EXISTS = {"role": N_("A role named '%(name)s' already exists."),
           "group": N_("A group named '%(name)s' already exists.")}

ADMIN_CLIENTS = "admin:clients"
ADMIN_USERS = "admin:users"
ADMIN_ROLES = "admin:roles"
ADMIN_AUDIT = "admin:audit"
ADMIN_SCOPES = (ADMIN_CLIENTS, ADMIN_USERS, ADMIN_ROLES, ADMIN_AUDIT)
# Built-in roles and the admin permissions (scopes) they grant. `admin` is what `idp users create
# --admin` and the pre-RBAC `is_admin` flag mean.
ADMIN_ROLE = "admin"
BUILTIN_ROLES: dict[str, tuple[str, ...]] = {
    ADMIN_ROLE: ADMIN_SCOPES,
    "client-manager": (ADMIN_CLIENTS,),
    "user-manager": (ADMIN_USERS,),
    "auditor": (ADMIN_AUDIT,),
}
# Stored as each built-in role's description (English, like every stored value); pages show them in
# their language while they are unchanged (console `role_description` filter).
BUILTIN_DESCRIPTIONS = {
    ADMIN_ROLE: N_("Built-in: every administrative permission"),
    "client-manager": N_("Built-in: register and manage client applications"),
    "user-manager": N_("Built-in: manage users (not roles or administrators)"),
    "auditor": N_("Built-in: read the audit log"),
}
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,99}$")
ROLE, GROUP = "role", "group"


def _check_kind(kind: str) -> None:
    if kind not in store.KINDS:
        raise ValueError(kind)


def _view(kind: str, row) -> RoleView:
    return RoleView(name=row.name, description=row.description, members=len(store.member_ids(kind, row.id)),
                    builtin=kind == ROLE and row.name in BUILTIN_ROLES)


def list_all(kind: str) -> list[RoleView]:
    """Every role (the built-in admin roles included, created on first use) or every group."""
    _check_kind(kind)
    if kind == ROLE:
        ensure_builtin_roles()
    return [_view(kind, r) for r in store.all_of(kind)]


def ensure_builtin_roles() -> None:
    missing = [n for n in BUILTIN_ROLES if store.by_name(ROLE, n) is None]
    for name in missing:
        store.add(store.Role(name=name, description=BUILTIN_DESCRIPTIONS[name], created_at=clock.now()))
    if missing:
        db.session.commit()


def get(kind: str, name: str) -> RoleView:
    _check_kind(kind)
    name = normalize(name)
    if kind == ROLE and name in BUILTIN_ROLES:
        ensure_builtin_roles()
    row = store.by_name(kind, name or "")
    if row is None:
        raise NotFound(_NO_SUCH[kind], name=name)
    return _view(kind, row)


def normalize(name: str | None) -> str:
    """A role or group name as stored and compared: trimmed, lower-case."""
    return (name or "").strip().lower() if isinstance(name, str) else ""


def grants_of(names) -> frozenset[str]:
    """The admin permissions the roles named would grant (names normalized)."""
    return frozenset(s for n in names for s in BUILTIN_ROLES.get(normalize(n), ()))


def _clean(name: str, description: str | None) -> tuple[str, str]:
    name = normalize(name)
    if not NAME_RE.match(name):
        raise ValidationError(N_("A name is 1-100 characters: lower-case letters, digits and . _ : -"), field="name")
    description = (description or "").strip()
    if len(description) > 500:
        raise ValidationError(N_("A description is at most %(num)d characters."), field="description", num=500)
    return name, description


def create(kind: str, name: str, description: str | None = None) -> RoleView:
    _check_kind(kind)
    name, description = _clean(name, description)
    if kind == ROLE:
        ensure_builtin_roles()
    if store.by_name(kind, name) is not None:
        raise ValidationError(_EXISTS[kind], field="name", name=name)
    model = store.KINDS[kind][0]
    row = store.add(model(name=name, description=description, created_at=clock.now()))
    db.session.commit()
    return _view(kind, row)


def update(kind: str, name: str, description: str | None) -> RoleView:
    _check_kind(kind)
    name = normalize(name)
    row = store.by_name(kind, name or "")
    if row is None:
        raise NotFound(_NO_SUCH[kind], name=name)
    row.description = _clean(row.name, description)[1]
    db.session.commit()
    return _view(kind, row)


def delete(kind: str, name: str) -> None:
    _check_kind(kind)
    name = normalize(name)
    if kind == ROLE and name in BUILTIN_ROLES:
        raise ValidationError(N_("Built-in administrator roles cannot be deleted."))
    row = store.by_name(kind, name or "")
    if row is None:
        raise NotFound(_NO_SUCH[kind], name=name)
    store.remove(row)
    db.session.commit()


def names_of(kind: str, user_id: int) -> list[str]:
    _check_kind(kind)
    return store.names_of_user(kind, user_id)


def assign(kind: str, user_id: int, names: list[str]) -> list[str]:
    """Replace a user's roles (or groups) with `names`, each of which must exist. Keeps the user's
    administrator flag in step: anyone holding an admin role must use a second factor."""
    _check_kind(kind)
    user = user_store.get(user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    if kind == ROLE:
        ensure_builtin_roles()
    names = list(dict.fromkeys(normalize(n) for n in names if normalize(n)))
    rows = []
    for name in names:
        row = store.by_name(kind, name)
        if row is None:
            raise ValidationError(_NO_SUCH[kind], name=name)
        rows.append(row)
    store.set_for_user(kind, user_id, [r.id for r in rows])
    if kind == ROLE:
        user.is_admin = any(n in BUILTIN_ROLES for n in names)
    db.session.commit()
    return sorted(names)


def permissions_of(user_id: int) -> frozenset[str]:
    """The admin scopes a user's roles grant."""
    return frozenset(s for name in store.names_of_user(ROLE, user_id) for s in BUILTIN_ROLES.get(name, ()))


def claims_for(user_id: int, scopes) -> dict:
    """The `roles` / `groups` claims (JSON arrays of names) for the granted scopes of the same name.
    Every role and group is released; a relying party maps the names it knows to its own permissions."""
    out = {}
    if "roles" in scopes:
        out["roles"] = store.names_of_user(ROLE, user_id)
    if "groups" in scopes:
        out["groups"] = store.names_of_user(GROUP, user_id)
    return out
