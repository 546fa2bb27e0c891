"""Who may do what in administration: ONE decision that the admin console and the admin API both
ask before every action, so the rule cannot differ between surfaces.

Two checks, in this order:

1. **The action's permission.** Each action needs one admin permission (an `admin:…` scope, granted
   to people by the built-in roles and to automation clients by their registered scopes): see
   `ACTIONS`.
2. **No acting above yourself.** An actor may act on a client, a user or a role only if it already
   holds every admin permission that target holds now *or would hold after the action* (a client's
   admin scopes, a user's roles, a role's grants). Otherwise a client-manager could rotate the secret
   of a client holding `admin:users` and use it, or a user-manager could reset an administrator's
   second factor and take the account over. Changing who holds a built-in (administrator) role also
   needs `admin:roles`, and nobody deletes their own account here.

Role names are compared normalized (`rbac.normalize`), exactly as they are stored."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import Forbidden
from . import clients, rbac
from .rbac import ADMIN_AUDIT, ADMIN_CLIENTS, ADMIN_ROLES, ADMIN_USERS
from .text import N_, Nn_

# Every administrative action and the permission it needs (the README's authorization matrix).
ACTIONS: dict[str, str] = {
    "client.list": ADMIN_CLIENTS, "client.read": ADMIN_CLIENTS, "client.create": ADMIN_CLIENTS,
    "client.update": ADMIN_CLIENTS, "client.enable": ADMIN_CLIENTS, "client.disable": ADMIN_CLIENTS,
    "client.delete": ADMIN_CLIENTS, "client.rotate_secret": ADMIN_CLIENTS,
    "initial_access_token.create": ADMIN_CLIENTS,
    "user.list": ADMIN_USERS, "user.read": ADMIN_USERS, "user.create": ADMIN_USERS, "user.update": ADMIN_USERS,
    "user.enable": ADMIN_USERS, "user.disable": ADMIN_USERS, "user.delete": ADMIN_USERS,
    "user.mfa_reset": ADMIN_USERS, "user.password_link": ADMIN_USERS, "user.roles": ADMIN_USERS,
    "user.invite": ADMIN_USERS,
    "user.groups": ADMIN_USERS,
    "role.list": ADMIN_ROLES, "role.read": ADMIN_ROLES, "role.create": ADMIN_ROLES, "role.update": ADMIN_ROLES,
    "role.delete": ADMIN_ROLES,
    "group.list": ADMIN_ROLES, "group.read": ADMIN_ROLES, "group.create": ADMIN_ROLES, "group.update": ADMIN_ROLES,
    "group.delete": ADMIN_ROLES,
    "audit.read": ADMIN_AUDIT, "mail.read": ADMIN_AUDIT,
}


@dataclass(frozen=True)
class Actor:
    """Who acts: the admin permissions they may use (a person's from their roles; a token's from its
    scopes, limited by its person's roles) and, for a person, their user id."""

    permissions: frozenset[str]
    user_id: int | None = None


@dataclass(frozen=True)
class Target:
    """What is acted on. `client_id`, `user_id` or `role` name an existing thing (what it holds now
    counts); `scopes` and `roles` are what the action would give it (None: unchanged)."""

    client_id: str | None = None
    user_id: int | None = None
    role: str | None = None
    scopes: tuple[str, ...] | None = field(default=None)
    roles: tuple[str, ...] | None = field(default=None)


def admin_scopes(scopes: Iterable[str]) -> frozenset[str]:
    return frozenset(s for s in scopes if s in rbac.ADMIN_SCOPES)


def held_by(target: Target) -> frozenset[str]:
    """Every admin permission the target holds now or would hold after the action."""
    held: set[str] = set()
    if target.client_id is not None:
        held |= admin_scopes(clients.find(target.client_id).scopes)  # NotFound for an unknown client
    if target.user_id is not None:
        held |= rbac.permissions_of(target.user_id)
    if target.role is not None:
        held |= rbac.grants_of([target.role])
    if target.scopes is not None:
        held |= admin_scopes(target.scopes)
    if target.roles is not None:
        held |= rbac.grants_of(target.roles)
    return frozenset(held)


def permission_for(action: str) -> str:
    return ACTIONS[action]


def allowed(actor: Actor, action: str, target: Target | None = None) -> bool:
    """authorize's answer as a yes or no (e.g. which console sections to link to)."""
    try:
        authorize(actor, action, target)
    except Forbidden:
        return False
    return True


def authorize(actor: Actor, action: str, target: Target | None = None) -> None:
    """Raise Forbidden (with a reason a person can act on) unless `actor` may do `action` to
    `target`. Without a target only the action's permission is checked (e.g. to open a section)."""
    needed = ACTIONS[action]
    if needed not in actor.permissions:
        raise Forbidden(action, N_("This needs the %(permission)s permission."), permission=needed)
    if target is None:
        return
    missing = held_by(target) - actor.permissions
    if missing:
        raise Forbidden(action, Nn_("You cannot act on something that holds (or would hold) a permission you do "
                                    "not have yourself: %(permissions)s.",
                                    "You cannot act on something that holds (or would hold) permissions you do not "
                                    "have yourself: %(permissions)s."),
                        num=len(missing), permissions=", ".join(sorted(missing)))
    if action == "user.roles" and target.user_id is not None and target.roles is not None:
        before = {n for n in rbac.names_of(rbac.ROLE, target.user_id) if n in rbac.BUILTIN_ROLES}
        after = {n for n in map(rbac.normalize, target.roles) if n in rbac.BUILTIN_ROLES}
        if before != after and ADMIN_ROLES not in actor.permissions:
            raise Forbidden(action, N_("Granting or removing administrator roles needs the admin:roles permission."))
    if action == "user.delete" and target.user_id is not None and target.user_id == actor.user_id:
        raise Forbidden(action, N_("You cannot delete your own account here."))
