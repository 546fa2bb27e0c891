"""RFC 9457 problem details for the admin API, and its bearer-token authorization (RFC 6750)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import g, jsonify, request
from werkzeug.http import HTTP_STATUS_CODES

from ..errors import Forbidden
from ..services import audit, authorization, clients, rbac, tokens, users
from ..services.runtime import current

PROBLEM_JSON = "application/problem+json"
REALM = 'Bearer realm="admin"'


def problem(status: int, detail: str, *, title: str | None = None, headers: dict | None = None, **extra):
    """An application/problem+json response (RFC 9457 §3)."""
    body = {"type": "about:blank", "title": title or HTTP_STATUS_CODES.get(status, "Error"), "status": status,
            "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class Caller:
    """Who is calling the admin API: the client the token was issued to, the user it acts for (None
    for client_credentials) and the admin scopes it may use (a user's token: only those its roles grant)."""

    client_id: str
    user_id: int | None
    scopes: frozenset[str]


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def actor() -> authorization.Actor:
    """The API caller as services.authorization sees it."""
    return authorization.Actor(permissions=g.caller.scopes, user_id=g.caller.user_id)


def requires(action: str):
    """Run the view only for a live access token from this server, issued for the admin API, carrying
    the scope `action` needs (services.authorization): 401 without a (valid) token, 403 with one that
    lacks the scope (RFC 6750 §3.1)."""
    scope = authorization.permission_for(action)

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            token = _bearer()
            if token is None:
                return problem(401, "An access token with an admin scope is required.",
                               headers={"WWW-Authenticate": REALM})
            rt = current()
            info = tokens.verify_access_token(rt.settings, rt.keyring, token)
            if info is None or clients.get(info.client_id) is None:
                return problem(401, "The access token is invalid, expired or revoked.",
                               headers={"WWW-Authenticate": REALM + ', error="invalid_token"'})
            if info.audience != (rt.settings.issuer,):
                # Issued (also) for another API (RFC 8707 resource): that API could replay it here. The admin
                # API's audience is this provider's issuer, alone (RFC 9068 §4, RFC 9700 §2.3).
                return problem(401, "The access token was not issued for this provider's admin API.",
                               headers={"WWW-Authenticate": REALM + ', error="invalid_token"'})
            granted = frozenset(info.scope.split()) & frozenset(rbac.ADMIN_SCOPES)
            if info.user_id is not None:
                user = users.get_enabled(info.user_id)
                granted &= rbac.permissions_of(info.user_id) if user is not None else frozenset()
            g.caller = Caller(client_id=info.client_id, user_id=info.user_id, scopes=granted)
            try:
                authorization.authorize(actor(), action)
            except Forbidden:
                return problem(403, f"The access token lacks the {scope} scope.",
                               headers={"WWW-Authenticate": REALM + f', error="insufficient_scope", scope="{scope}"'})
            return view(*args, **kwargs)

        return wrapper

    return decorator


def origin() -> audit.Origin:
    return audit.Origin(ip_address=request.remote_addr, user_agent=request.headers.get("User-Agent"))


def record(event: str, *, subject_user_id: int | None = None, outcome: str = audit.SUCCESS,
           reason: str | None = None, details: dict | None = None) -> None:
    """An admin change in the audit trail: who (user and/or client), what, from where, and how it went."""
    caller: Caller = g.caller
    audit.record(event, outcome=outcome, origin=origin(), actor_user_id=caller.user_id,
                 subject_user_id=subject_user_id, client_id=caller.client_id, reason=reason,
                 details={"via": "api", **(details or {})})
