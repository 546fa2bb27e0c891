"""The admin console's pages: thin views over the client, user, RBAC and audit services. Every form
carries a CSRF token; every change is recorded in the audit trail ("via": "console")."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from .. import http
from ..errors import NotFound, ValidationError
from ..services import audit, clients, logout, mfa, rbac, registration, tokens, users
from ..services.rbac import ADMIN_AUDIT, ADMIN_CLIENTS, ADMIN_ROLES, ADMIN_USERS
from ..services.runtime import current
from . import bp
from .console_auth import requires

CHECKBOXES = ("require_pkce", "skip_consent", "require_mfa", "backchannel_logout_session_required",
              "frontchannel_logout_session_required", "require_pushed_authorization_requests",
              "dpop_bound_access_tokens", "fapi2")
# High-assurance text fields (empty: not set): keys by reference and the signing algorithms.
OPTIONAL_TEXTS = ("backchannel_logout_uri", "frontchannel_logout_uri", "logo_uri", "client_uri", "jwks_uri",
                  "token_endpoint_auth_signing_alg", "request_object_signing_alg", "id_token_signed_response_alg",
                  "access_token_signed_response_alg")
LISTS = ("redirect_uris", "post_logout_redirect_uris", "resources", "served_resources", "allowed_cors_origins")
TTLS = ("access_token_ttl", "id_token_ttl", "refresh_token_ttl", "refresh_token_idle_ttl")


def record(event: str, *, subject_user_id: int | None = None, details: dict | None = None) -> None:
    audit.record(event, origin=http.origin(), actor_user_id=g.admin.user.id, subject_user_id=subject_user_id,
                 details={"via": "console", **(details or {})})


@bp.errorhandler(NotFound)
def _not_found(error: NotFound):
    return render_template("errors/error.html", title="Not found", message=str(error)), 404


@bp.get("")
@requires(None)
def index():
    return render_template("admin/index.html", admin=g.admin)


# --- clients -------------------------------------------------------------------------------------


def client_form() -> dict:
    """The client form's fields, as clients.validate_metadata takes them."""
    form = request.form
    values: dict = {"name": form.get("name", ""), "token_endpoint_auth_method": form.get("auth_method", ""),
                    "grant_types": form.getlist("grant_types"), "scopes": form.get("scopes", "").split(),
                    "access_token_format": form.get("access_token_format", "jwt")}
    for name in LISTS:
        values[name] = form.get(name, "").split()
    for name in CHECKBOXES:
        values[name] = name in form
    for name in TTLS:
        raw = form.get(name, "").strip()
        if raw:
            if not raw.isdigit() or len(raw) > 9:
                raise ValidationError(f"{name} must be a whole number of seconds.")
            values[name] = int(raw)
        else:
            values[name] = None
    for name in OPTIONAL_TEXTS:
        values[name] = form.get(name, "").strip() or None
    values["jwks"] = form.get("jwks", "").strip() or None  # JSON text, parsed by validate_metadata
    return values


def _form_page(client=None, values=None, error=None, status=200):
    return render_template("admin/client_form.html", client=client, values=values or {}, error=error,
                           grant_types=clients.GRANT_TYPES, auth_methods=clients.AUTH_METHODS,
                           formats=clients.ACCESS_TOKEN_FORMATS, checkboxes=CHECKBOXES, ttls=TTLS), status


@bp.get("/clients")
@requires(ADMIN_CLIENTS)
def clients_list():
    return render_template("admin/clients.html", clients=clients.list_registered())


@bp.route("/clients/new", methods=["GET", "POST"])
@requires(ADMIN_CLIENTS)
def client_new():
    if request.method == "GET":
        return _form_page(values={"token_endpoint_auth_method": "client_secret_basic",
                                  "grant_types": ["authorization_code"], "scopes": ["openid", "profile", "email"],
                                  "access_token_format": "jwt"})
    try:
        values = client_form()
        new = clients.create(admin_scopes_allowed=g.admin.permissions, **values)
    except ValidationError as exc:
        return _form_page(values=request.form.to_dict(flat=False) | {"_raw": True}, error=str(exc), status=400)
    record("admin.client.create", details={"client": new.client.client_id, "scopes": list(new.client.scopes)})
    return render_template("admin/client_secret.html", client=new.client, secret=new.client_secret, created=True)


@bp.route("/clients/<client_id>", methods=["GET", "POST"])
@requires(ADMIN_CLIENTS)
def client_edit(client_id: str):
    client = clients.find(client_id)
    if request.method == "GET":
        return _form_page(client=client, values=client.__dict__)
    try:
        values = client_form()
        updated = clients.update(client_id, values, admin_scopes_allowed=g.admin.permissions)
    except ValidationError as exc:
        return _form_page(client=client, values=request.form.to_dict(flat=False) | {"_raw": True}, error=str(exc),
                          status=400)
    record("admin.client.update", details={"client": client_id})
    flash(f"{updated.name} was saved.")
    return redirect(url_for("admin.clients_list"), code=303)


@bp.post("/clients/<client_id>/enabled")
@requires(ADMIN_CLIENTS)
def client_enabled(client_id: str):
    enable = request.form.get("enabled") == "1"
    updated = clients.set_enabled(client_id, enable)
    record("admin.client.enable" if enable else "admin.client.disable", details={"client": client_id})
    flash(f"{updated.name} is now {'enabled' if enable else 'disabled'}.")
    return redirect(url_for("admin.clients_list"), code=303)


@bp.post("/clients/<client_id>/delete")
@requires(ADMIN_CLIENTS)
def client_delete(client_id: str):
    client = clients.find(client_id)
    clients.delete(client_id)
    record("admin.client.delete", details={"client": client_id})
    flash(f"{client.name} was deleted.")
    return redirect(url_for("admin.clients_list"), code=303)


@bp.post("/clients/<client_id>/secret")
@requires(ADMIN_CLIENTS)
def client_secret(client_id: str):
    raw = request.form.get("grace_seconds", "0").strip() or "0"
    try:
        if not raw.isdigit() or len(raw) > 9:
            raise ValidationError("The grace period is a whole number of seconds.")
        new = clients.rotate_secret(client_id, int(raw))
    except ValidationError as exc:
        flash(str(exc))
        return redirect(url_for("admin.client_edit", client_id=client_id), code=303)
    record("admin.client.rotate_secret", details={"client": client_id, "grace_seconds": int(raw)})
    return render_template("admin/client_secret.html", client=new.client, secret=new.client_secret, created=False)


@bp.post("/clients/initial-access-token")
@requires(ADMIN_CLIENTS)
def initial_access_token():
    settings = current().settings
    token, expires_at = registration.issue_initial_access_token(settings.initial_access_token_ttl)
    record("admin.initial_access_token.create", details={"expires_at": expires_at})
    return render_template("admin/initial_access_token.html", token=token, expires_at=expires_at,
                           enabled=bool(settings.dynamic_client_registration),
                           endpoint=url_for("protocol.register", _external=True))


# --- users ---------------------------------------------------------------------------------------


@bp.get("/users")
@requires(ADMIN_USERS)
def users_list():
    try:
        offset = max(0, int(request.args.get("offset", 0)))
    except ValueError:
        offset = 0
    q = request.args.get("q", "")
    return render_template("admin/users.html", page=users.search(q, offset, 20), q=q)


@bp.post("/users")
@requires(ADMIN_USERS)
def user_create():
    try:
        user = users.create(current().passwords, username=request.form.get("username", ""),
                            password=request.form.get("password", ""), email=request.form.get("email") or None)
    except ValidationError as exc:
        flash(str(exc))
        return redirect(url_for("admin.users_list"), code=303)
    record("admin.user.create", subject_user_id=user.id)
    return redirect(url_for("admin.user_page", user_id=user.id), code=303)


def _user(user_id: int):
    user = users.get(user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


@bp.get("/users/<int:user_id>")
@requires(ADMIN_USERS)
def user_page(user_id: int):
    user = _user(user_id)
    return render_template("admin/user.html", user=user, roles=rbac.list_all(rbac.ROLE),
                           groups=rbac.list_all(rbac.GROUP), held=rbac.names_of(rbac.ROLE, user_id),
                           member_of=rbac.names_of(rbac.GROUP, user_id), mfa=mfa.status(user_id),
                           editable=users.EDITABLE_CLAIMS, link=None)


@bp.post("/users/<int:user_id>/profile")
@requires(ADMIN_USERS)
def user_profile(user_id: int):
    _user(user_id)
    claims = {name: request.form.get(name, "") for name in users.EDITABLE_CLAIMS
              if name in request.form and name not in ("address", "phone_number_verified")}
    try:
        users.admin_update(user_id, email=request.form.get("email", ""),
                           email_verified="email_verified" in request.form, claims=claims)
    except ValidationError as exc:
        flash(str(exc))
    else:
        record("admin.user.update", subject_user_id=user_id, details={"fields": sorted(claims)})
        flash("The profile was saved.")
    return redirect(url_for("admin.user_page", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/enabled")
@requires(ADMIN_USERS)
def user_enabled(user_id: int):
    _user(user_id)
    if request.form.get("enabled") == "1":
        users.set_enabled(user_id, True)
        record("admin.user.enable", subject_user_id=user_id)
        flash("The account is enabled.")
    else:
        users.set_enabled(user_id, False)
        ended = logout.end_other_sessions(user_id, None, reason="admin_disabled", origin=http.origin())
        revoked = tokens.revoke_grants(user_id)
        record("admin.user.disable", subject_user_id=user_id,
               details={"ended_sessions": ended, "revoked_tokens": revoked})
        flash(f"The account is disabled: {ended} sessions ended, {revoked} tokens revoked.")
    return redirect(url_for("admin.user_page", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/mfa/reset")
@requires(ADMIN_USERS)
def user_mfa_reset(user_id: int):
    _user(user_id)
    removed = mfa.reset(user_id)
    record("admin.user.mfa_reset", subject_user_id=user_id, details=removed)
    flash("Every second factor of this account was removed.")
    return redirect(url_for("admin.user_page", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/password-link")
@requires(ADMIN_USERS)
def user_password_link(user_id: int):
    user = _user(user_id)
    link = users.issue_password_link(user_id, current().settings.password_link_ttl)
    record("admin.user.password_link", subject_user_id=user_id, details={"expires_at": link.expires_at})
    return render_template("admin/password_link.html", user=user,
                           url=url_for("account.set_password", token=link.token, _external=True),
                           expires_at=link.expires_at)


@bp.post("/users/<int:user_id>/roles")
@requires(ADMIN_USERS)
def user_roles(user_id: int):
    _user(user_id)
    roles = request.form.getlist("roles")
    groups = request.form.getlist("groups")
    before = {n for n in rbac.names_of(rbac.ROLE, user_id) if n in rbac.BUILTIN_ROLES}
    if before != {n for n in roles if n in rbac.BUILTIN_ROLES} and ADMIN_ROLES not in g.admin.permissions:
        flash("Granting or removing administrator roles needs the admin role.")
        return redirect(url_for("admin.user_page", user_id=user_id), code=303)
    try:
        rbac.assign(rbac.ROLE, user_id, roles)
        rbac.assign(rbac.GROUP, user_id, groups)
    except ValidationError as exc:
        flash(str(exc))
    else:
        record("admin.user.roles", subject_user_id=user_id, details={"roles": sorted(roles), "groups": sorted(groups)})
        flash("Roles and groups were saved.")
    return redirect(url_for("admin.user_page", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/delete")
@requires(ADMIN_USERS)
def user_delete(user_id: int):
    user = _user(user_id)
    if user.id == g.admin.user.id:
        flash("You cannot delete your own account here.")
        return redirect(url_for("admin.user_page", user_id=user_id), code=303)
    if user.is_admin and ADMIN_ROLES not in g.admin.permissions:
        flash("Deleting an administrator needs the admin role.")
        return redirect(url_for("admin.user_page", user_id=user_id), code=303)
    logout.end_other_sessions(user_id, None, reason="admin_deleted", origin=http.origin())
    users.delete(user_id)
    record("admin.user.delete", subject_user_id=user_id, details={"username": user.username})
    flash(f"{user.username} was deleted.")
    return redirect(url_for("admin.users_list"), code=303)


# --- roles and groups ----------------------------------------------------------------------------


@bp.get("/roles")
@requires(ADMIN_ROLES)
def roles_page():
    return render_template("admin/roles.html", roles=rbac.list_all(rbac.ROLE), groups=rbac.list_all(rbac.GROUP))


@bp.post("/<any(role, group):kind>s")
@requires(ADMIN_ROLES)
def rbac_create(kind: str):
    try:
        created = rbac.create(kind, request.form.get("name", ""), request.form.get("description", ""))
    except ValidationError as exc:
        flash(str(exc))
    else:
        record(f"admin.{kind}.create", details={"name": created.name})
        flash(f"The {kind} {created.name} was created.")
    return redirect(url_for("admin.roles_page"), code=303)


@bp.post("/<any(role, group):kind>s/<name>/delete")
@requires(ADMIN_ROLES)
def rbac_delete(kind: str, name: str):
    try:
        rbac.delete(kind, name)
    except ValidationError as exc:
        flash(str(exc))
    else:
        record(f"admin.{kind}.delete", details={"name": name})
        flash(f"The {kind} {name} was deleted.")
    return redirect(url_for("admin.roles_page"), code=303)


# --- audit ---------------------------------------------------------------------------------------


@bp.get("/audit")
@requires(ADMIN_AUDIT)
def audit_page():
    args = request.args

    def number(name):
        value = args.get(name, "").strip()
        return int(value) if value.isdigit() and len(value) < 12 else None

    outcome = args.get("outcome") if args.get("outcome") in (audit.SUCCESS, audit.FAILURE) else None
    page = audit.search(event=args.get("event", "").strip(), outcome=outcome, user_id=number("user_id"),
                        client_id=args.get("client_id", "").strip(), offset=number("offset") or 0, limit=50)
    filters = {k: args.get(k, "") for k in ("event", "outcome", "user_id", "client_id")}
    return render_template("admin/audit.html", page=page, filters=filters)
