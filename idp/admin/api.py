"""/admin/api/v1: the admin console's operations as JSON for automation. Every endpoint needs a
bearer access token from this server with the admin scope named on it (automation uses the
client_credentials grant); errors are RFC 9457 problem details. CSRF does not apply (no cookies)."""

from __future__ import annotations

from flask import g, jsonify, request, url_for

from .. import http, mails
from ..errors import Forbidden, NotFound, ValidationError
from ..extensions import csrf, db
from ..services import (
    audit,
    authorization,
    clients,
    clock,
    email_verification,
    invitations,
    json_input,
    logout,
    mail,
    mfa,
    rbac,
    registration,
    tokens,
    users,
)
from ..services.authorization import Target
from ..services.runtime import current
from . import api_bp, serialize
from .openapi import document
from .problems import actor, problem, record, requires

csrf.exempt(api_bp)
V1 = "/v1"
MAX_DB_INTEGER = 2**63 - 1  # the largest integer SQLite and PostgreSQL (bigint) compare against


@api_bp.errorhandler(ValidationError)
def _invalid(error: ValidationError):
    return problem(400, str(error), title="Invalid request")


@api_bp.errorhandler(NotFound)
def _not_found(error: NotFound):
    return problem(404, str(error))


@api_bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    """services.authorization refused: nothing was changed; the refusal is audited."""
    db.session.rollback()
    record(f"admin.{error.action}", outcome=audit.FAILURE, reason=str(error),
           subject_user_id=(request.view_args or {}).get("user_id"))
    return problem(403, str(error))


def authorize(action: str, target: Target | None = None) -> None:
    authorization.authorize(actor(), action, target)


def body() -> dict:
    """The JSON object sent (services.json_input refuses NUL characters and deep nesting)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("The request body must be a JSON object (no NUL characters, at most "
                              f"{json_input.MAX_DEPTH} levels deep).")
    return data


def optional_body() -> dict:
    """body(), or {} when nothing was sent."""
    return body() if request.get_data(cache=True) else {}


def _scopes(data: dict) -> tuple[str, ...]:
    scopes = data.get("scopes")
    return tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else ()


def paging() -> tuple[int, int]:
    try:
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", 20))
    except ValueError:
        raise ValidationError("offset and limit must be integers.") from None
    if offset < 0 or not 1 <= limit <= 100:
        raise ValidationError("offset must be ≥ 0 and limit between 1 and 100.")
    if offset > MAX_DB_INTEGER:
        raise ValidationError("offset is beyond the last item.")
    return offset, limit


def page_json(page, items: list) -> dict:
    return {"items": items, "total": page.total, "offset": page.offset, "limit": page.limit}


@api_bp.get("/openapi.json")
def openapi():
    return jsonify(document(current().settings.issuer))


# --- clients -------------------------------------------------------------------------------------


@api_bp.get(V1 + "/clients")
@requires("client.list")
def list_clients():
    return jsonify({"items": [serialize.client(c) for c in clients.list_registered()]})


@api_bp.post(V1 + "/clients")
@requires("client.create")
def create_client():
    data = body()
    unknown = set(data) - set(clients.FIELDS)
    if unknown:
        raise ValidationError(f"Unknown client fields: {', '.join(sorted(unknown))}.")
    if "name" not in data:
        raise ValidationError("name is required.")
    data.setdefault("redirect_uris", [])
    authorize("client.create", Target(scopes=_scopes(data)))
    # An API caller may grant a new client only the admin scopes it holds itself.
    new = clients.create(admin_scopes_allowed=g.caller.scopes, **data)
    record("admin.client.create", details={"client": new.client.client_id, "scopes": list(new.client.scopes)})
    response = jsonify(serialize.client(new.client) | {"client_secret": new.client_secret})
    response.status_code = 201
    response.headers["Location"] = url_for("admin_api.get_client", client_id=new.client.client_id)
    response.headers["Cache-Control"] = "no-store"
    return response


@api_bp.get(V1 + "/clients/<client_id>")
@requires("client.read")
def get_client(client_id: str):
    return jsonify(serialize.client(clients.find(client_id)))


@api_bp.patch(V1 + "/clients/<client_id>")
@requires("client.update")
def update_client(client_id: str):
    data = body()
    authorize("client.update", Target(client_id=client_id, scopes=_scopes(data) if "scopes" in data else None))
    updated = clients.update(client_id, data, admin_scopes_allowed=g.caller.scopes)
    record("admin.client.update", details={"client": client_id, "fields": sorted(data)})
    return jsonify(serialize.client(updated))


@api_bp.delete(V1 + "/clients/<client_id>")
@requires("client.delete")
def delete_client(client_id: str):
    authorize("client.delete", Target(client_id=client_id))
    clients.delete(client_id)
    record("admin.client.delete", details={"client": client_id})
    return "", 204


@api_bp.post(V1 + "/clients/<client_id>/disable")
@requires("client.disable")
def disable_client(client_id: str):
    authorize("client.disable", Target(client_id=client_id))
    updated = clients.set_enabled(client_id, False)
    record("admin.client.disable", details={"client": client_id})
    return jsonify(serialize.client(updated))


@api_bp.post(V1 + "/clients/<client_id>/enable")
@requires("client.enable")
def enable_client(client_id: str):
    authorize("client.enable", Target(client_id=client_id))
    updated = clients.set_enabled(client_id, True)
    record("admin.client.enable", details={"client": client_id})
    return jsonify(serialize.client(updated))


@api_bp.post(V1 + "/clients/<client_id>/secret")
@requires("client.rotate_secret")
def rotate_secret(client_id: str):
    authorize("client.rotate_secret", Target(client_id=client_id))
    grace = optional_body().get("grace_seconds", 0)
    new = clients.rotate_secret(client_id, grace)
    record("admin.client.rotate_secret", details={"client": client_id, "grace_seconds": grace})
    response = jsonify(serialize.client(new.client) | {"client_secret": new.client_secret})
    response.headers["Cache-Control"] = "no-store"
    return response


@api_bp.post(V1 + "/initial-access-tokens")
@requires("initial_access_token.create")
def initial_access_token():
    """An RFC 7591 initial access token: lets one client (or `uses` clients) register at /register
    until it expires (`expires_in` seconds, default initial_access_token_ttl)."""
    settings = current().settings
    data = optional_body()
    uses, ttl = data.get("uses", 1), data.get("expires_in", settings.initial_access_token_ttl)
    token, expires_at = registration.issue_initial_access_token(ttl, uses)
    record("admin.initial_access_token.create", details={"expires_at": expires_at, "uses": uses})
    response = jsonify({"initial_access_token": token, "expires_at": expires_at, "uses": uses,
                        "registration_endpoint": http.issuer_url("protocol.register"),
                        "enabled": bool(settings.dynamic_client_registration)})
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


# --- users ---------------------------------------------------------------------------------------


@api_bp.get(V1 + "/users")
@requires("user.list")
def list_users():
    offset, limit = paging()
    page = users.search(request.args.get("q", ""), offset, limit)
    return jsonify(page_json(page, [serialize.user(u) for u in page.items]))


def _user(user_id: int):
    user = users.get(user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


@api_bp.post(V1 + "/users")
@requires("user.create")
def create_user():
    data = body()
    unknown = set(data) - {"username", "password", "email", "email_verified", "claims"}
    if unknown:
        raise ValidationError(f"Unknown user fields: {', '.join(sorted(unknown))}.")
    if not all(isinstance(data.get(k, ""), str) for k in ("username", "password")) or \
            not isinstance(data.get("email") or "", str) or not isinstance(data.get("claims") or {}, dict):
        raise ValidationError("username, password and email are strings; claims an object.")
    user = users.create(current().passwords, username=data.get("username", ""), password=data.get("password", ""),
                        email=data.get("email"), email_verified=bool(data.get("email_verified")),
                        claims=data.get("claims"), before_commit=_verification())
    record("admin.user.create", subject_user_id=user.id)
    response = jsonify(serialize.user(user))
    response.status_code = 201
    response.headers["Location"] = url_for("admin_api.get_user", user_id=user.id)
    return response


def _verification():
    """A new, unverified address gets its verification link in the same transaction."""
    return email_verification.queue_for_new_address(current().settings, mails.operator_verify_mail)


@api_bp.get(V1 + "/users/<int:user_id>")
@requires("user.read")
def get_user(user_id: int):
    return jsonify(serialize.user(_user(user_id)))


@api_bp.patch(V1 + "/users/<int:user_id>")
@requires("user.update")
def update_user(user_id: int):
    data = body()
    _user(user_id)
    authorize("user.update", Target(user_id=user_id))
    unknown = set(data) - {"email", "email_verified", "claims"}
    if unknown:
        raise ValidationError(f"Unknown user fields: {', '.join(sorted(unknown))}.")
    if not isinstance(data.get("email") or "", str):
        raise ValidationError("email must be a string.")
    user = users.admin_update(user_id, email=data.get("email"), email_verified=data.get("email_verified"),
                              claims=data.get("claims"), before_commit=_verification())
    record("admin.user.update", subject_user_id=user_id,
           details={"fields": sorted(data), "email_verified": user.email_verified})
    return jsonify(serialize.user(user))


def disable_user_everywhere(user_id: int) -> dict:
    """Disable an account and take its sessions and tokens with it."""
    users.set_enabled(user_id, False)
    ended = logout.end_other_sessions(user_id, None, reason="admin_disabled")
    revoked = tokens.revoke_grants(user_id)
    return {"ended_sessions": ended, "revoked_tokens": revoked}


@api_bp.post(V1 + "/users/<int:user_id>/disable")
@requires("user.disable")
def disable_user(user_id: int):
    _user(user_id)
    authorize("user.disable", Target(user_id=user_id))
    effects = disable_user_everywhere(user_id)
    record("admin.user.disable", subject_user_id=user_id, details=effects)
    return jsonify(serialize.user(_user(user_id)))


@api_bp.post(V1 + "/users/<int:user_id>/enable")
@requires("user.enable")
def enable_user(user_id: int):
    _user(user_id)
    authorize("user.enable", Target(user_id=user_id))
    user = users.set_enabled(user_id, True)
    record("admin.user.enable", subject_user_id=user_id)
    return jsonify(serialize.user(user))


@api_bp.delete(V1 + "/users/<int:user_id>")
@requires("user.delete")
def delete_user(user_id: int):
    _user(user_id)
    authorize("user.delete", Target(user_id=user_id))
    logout.end_other_sessions(user_id, None, reason="admin_deleted")
    users.delete(user_id)
    record("admin.user.delete", subject_user_id=user_id)
    return "", 204


@api_bp.post(V1 + "/users/<int:user_id>/mfa/reset")
@requires("user.mfa_reset")
def reset_mfa(user_id: int):
    _user(user_id)
    authorize("user.mfa_reset", Target(user_id=user_id))
    removed = mfa.reset(user_id)
    record("admin.user.mfa_reset", subject_user_id=user_id, details=removed)
    return jsonify({"removed": removed})


@api_bp.post(V1 + "/users/<int:user_id>/password-link")
@requires("user.password_link")
def password_link(user_id: int):
    """A single-use set-password link, mailed to the user's address (the link is then not in the
    answer); shown only for an account without an address."""
    user = _user(user_id)
    authorize("user.password_link", Target(user_id=user_id))
    settings = current().settings
    if user.email:
        sent = invitations.resend(settings, user_id, notify=mails.invitation)
        record("admin.user.password_link", subject_user_id=user_id, details={"mailed_to": sent.to})
        return jsonify({"sent_to": sent.to, "expires_at": clock.now() + settings.password_link_ttl})
    link = users.issue_password_link(user_id, settings.password_link_ttl)
    record("admin.user.password_link", subject_user_id=user_id, details={"expires_at": link.expires_at})
    response = jsonify({"url": http.issuer_url("account.set_password", token=link.token),
                        "expires_at": link.expires_at})
    response.headers["Cache-Control"] = "no-store"
    return response


@api_bp.post(V1 + "/invitations")
@requires("user.invite")
def invite():
    """Invite a person by e-mail: the account (no password yet) and the mailed invitation, at once."""
    data = body()
    unknown = set(data) - {"username", "email", "claims", "locale"}
    if unknown:
        raise ValidationError(f"Unknown invitation fields: {', '.join(sorted(unknown))}.")
    if not all(isinstance(data.get(k), str) for k in ("username", "email")) or \
            not isinstance(data.get("claims") or {}, dict) or not isinstance(data.get("locale", ""), str):
        raise ValidationError("username, email and locale are strings; claims an object.")
    claims = dict(data.get("claims") or {})
    if data.get("locale"):  # the invited person's language (and so the invitation's): their `locale` claim
        claims["locale"] = data["locale"]
    authorize("user.invite")
    caller = g.caller
    user = invitations.invite(current().settings, username=data["username"], email=data["email"],
                              claims=claims, actor_user_id=caller.user_id, client_id=caller.client_id,
                              origin=http.origin(), notify=mails.invitation)
    response = jsonify(serialize.user(user))
    response.status_code = 201
    response.headers["Location"] = url_for("admin_api.get_user", user_id=user.id)
    return response


def _names(data: dict, key: str) -> list[str]:
    names = data.get(key)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValidationError(f"{key} must be a list of names.")
    return names


@api_bp.put(V1 + "/users/<int:user_id>/roles")
@requires("user.roles")
def set_roles(user_id: int):
    names = _names(body(), "roles")
    _user(user_id)
    authorize("user.roles", Target(user_id=user_id, roles=tuple(names)))
    assigned = rbac.assign(rbac.ROLE, user_id, names)
    record("admin.user.roles", subject_user_id=user_id, details={"roles": assigned})
    return jsonify(serialize.user(_user(user_id)))


@api_bp.put(V1 + "/users/<int:user_id>/groups")
@requires("user.groups")
def set_groups(user_id: int):
    names = _names(body(), "groups")
    _user(user_id)
    authorize("user.groups", Target(user_id=user_id))
    assigned = rbac.assign(rbac.GROUP, user_id, names)
    record("admin.user.groups", subject_user_id=user_id, details={"groups": assigned})
    return jsonify(serialize.user(_user(user_id)))


# --- roles and groups ----------------------------------------------------------------------------


def _kind(kinds: str) -> str:
    return rbac.ROLE if kinds == "roles" else rbac.GROUP


for _kinds in ("roles", "groups"):

    def _list(kinds=_kinds):
        return jsonify({"items": [serialize.role(r) for r in rbac.list_all(_kind(kinds))]})

    def _create(kinds=_kinds):
        data = body()
        if not isinstance(data.get("name"), str) or not isinstance(data.get("description") or "", str):
            raise ValidationError("name (and description) must be strings.")
        authorize(f"{_kind(kinds)}.create", Target(role=data["name"] if kinds == "roles" else None))
        created = rbac.create(_kind(kinds), data["name"], data.get("description"))
        record(f"admin.{_kind(kinds)}.create", details={"name": created.name})
        response = jsonify(serialize.role(created))
        response.status_code = 201
        return response

    def _get(name: str, kinds=_kinds):
        return jsonify(serialize.role(rbac.get(_kind(kinds), name)))

    def _update(name: str, kinds=_kinds):
        data = body()
        authorize(f"{_kind(kinds)}.update", Target(role=name if kinds == "roles" else None))
        if not isinstance(data.get("description") or "", str):
            raise ValidationError("description must be a string.")
        updated = rbac.update(_kind(kinds), name, data.get("description"))
        record(f"admin.{_kind(kinds)}.update", details={"name": name})
        return jsonify(serialize.role(updated))

    def _delete(name: str, kinds=_kinds):
        authorize(f"{_kind(kinds)}.delete", Target(role=name if kinds == "roles" else None))
        rbac.delete(_kind(kinds), name)
        record(f"admin.{_kind(kinds)}.delete", details={"name": name})
        return "", 204

    _k = _kind(_kinds)
    api_bp.add_url_rule(f"{V1}/{_kinds}", f"list_{_kinds}", requires(f"{_k}.list")(_list), methods=["GET"])
    api_bp.add_url_rule(f"{V1}/{_kinds}", f"create_{_kinds}", requires(f"{_k}.create")(_create), methods=["POST"])
    api_bp.add_url_rule(f"{V1}/{_kinds}/<name>", f"get_{_kinds}", requires(f"{_k}.read")(_get), methods=["GET"])
    api_bp.add_url_rule(f"{V1}/{_kinds}/<name>", f"update_{_kinds}", requires(f"{_k}.update")(_update),
                        methods=["PATCH"])
    api_bp.add_url_rule(f"{V1}/{_kinds}/<name>", f"delete_{_kinds}", requires(f"{_k}.delete")(_delete),
                        methods=["DELETE"])


# --- audit ---------------------------------------------------------------------------------------


def _int_arg(name: str) -> int | None:
    value = request.args.get(name)
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except ValueError:
        raise ValidationError(f"{name} must be an integer.") from None
    if abs(number) > MAX_DB_INTEGER:
        raise ValidationError(f"{name} is out of range.")
    return number


@api_bp.get(V1 + "/mail")
@requires("mail.read")
def mail_outbox():
    """The newest 100 messages of the mail outbox and their delivery status (never their bodies)."""
    return jsonify({"items": mail.deliveries(100)})


@api_bp.get(V1 + "/audit")
@requires("audit.read")
def audit_log():
    offset, limit = paging()
    outcome = request.args.get("outcome") or None
    if outcome not in (None, audit.SUCCESS, audit.FAILURE):
        raise ValidationError("outcome must be success or failure.")
    page = audit.search(event=request.args.get("event"), outcome=outcome, user_id=_int_arg("user_id"),
                        client_id=request.args.get("client_id"), since=_int_arg("since"), until=_int_arg("until"),
                        offset=offset, limit=limit)
    return jsonify(page_json(page, [serialize.event(e) for e in page.items]))
