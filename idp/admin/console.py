"""The admin console's pages: thin views over the client, user, RBAC and audit services. Every form
carries a CSRF token; every change is recorded in the audit trail ("via": "console")."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from .. import http
from ..errors import Forbidden, NotFound, ValidationError
from ..extensions import db
from ..services import audit, clients, logout, mfa, rbac, registration, tokens, users
from ..services.authorization import Target
from ..services.runtime import current
from . import bp
from .console_auth import _refused, authorize, requires

CHECKBOXES = ("require_pkce", "skip_consent", "require_mfa", "backchannel_logout_session_required",
              "frontchannel_logout_session_required", "require_pushed_authorization_requests",
              "dpop_bound_access_tokens", "fapi2")
# High-assurance text fields (empty: not set): keys by reference and the signing algorithms.
OPTIONAL_TEXTS = ("backchannel_logout_uri", "frontchannel_logout_uri", "logo_uri", "client_uri", "jwks_uri",
                  "token_endpoint_auth_signing_alg", "request_object_signing_alg", "id_token_signed_response_alg",
                  "access_token_signed_response_alg")
LISTS = ("redirect_uris", "post_logout_redirect_uris", "resources", "served_resources", "allowed_cors_origins")
TTLS = ("access_token_ttl", "id_token_ttl", "refresh_token_ttl", "refresh_token_idle_ttl")


def record(event: str, *, subject_user_id: int | None = None, details: dict | None = None,
           outcome: str = audit.SUCCESS, reason: str | None = None) -> None:
    audit.record(event, origin=http.origin(), actor_user_id=g.admin.user.id, subject_user_id=subject_user_id,
                 outcome=outcome, reason=reason, details={"via": "console", **(details or {})})


@bp.errorhandler(NotFound)
def _not_found(error: NotFound):
    return render_template("errors/error.html", title="Not found", message=str(error)), 404


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    """services.authorization refused: nothing was changed; the refusal is audited."""
    db.session.rollback()
    record(f"admin.{error.action}", outcome=audit.FAILURE, reason=str(error),
           subject_user_id=(request.view_args or {}).get("user_id"))
    return _refused(str(error))


def confirmed(title: str, message: str, button: str, back: str | None = None):
    """A destructive action's confirmation step, without JavaScript: unless the form says
    `confirm=yes`, answer with a page that repeats the form's fields and asks again. None once
    confirmed."""
    if request.form.get("confirm") == "yes":
        return None
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirm")]
    return render_template("admin/confirm.html", title=title, message=message, button=button, fields=fields,
                           action=request.path, back=back or url_for("admin.index"))


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
@requires("client.list")
def clients_list():
    return render_template("admin/clients.html", clients=clients.list_registered())


@bp.route("/clients/new", methods=["GET", "POST"])
@requires("client.create")
def client_new():
    if request.method == "GET":
        return _form_page(values={"token_endpoint_auth_method": "client_secret_basic",
                                  "grant_types": ["authorization_code"], "scopes": ["openid", "profile", "email"],
                                  "access_token_format": "jwt"})
    try:
        values = client_form()
        authorize("client.create", Target(scopes=tuple(values["scopes"])))
        new = clients.create(admin_scopes_allowed=g.admin.permissions, **values)
    except ValidationError as exc:
        return _form_page(values=request.form.to_dict(flat=False) | {"_raw": True}, error=str(exc), status=400)
    record("admin.client.create", details={"client": new.client.client_id, "scopes": list(new.client.scopes)})
    return render_template("admin/client_secret.html", client=new.client, secret=new.client_secret, created=True)


@bp.route("/clients/<client_id>", methods=["GET", "POST"])
@requires("client.read")
def client_edit(client_id: str):
    client = clients.find(client_id)
    if request.method == "GET":
        return _form_page(client=client, values=client.__dict__)
    try:
        values = client_form()
        authorize("client.update", Target(client_id=client_id, scopes=tuple(values["scopes"])))
        updated = clients.update(client_id, values, admin_scopes_allowed=g.admin.permissions)
    except ValidationError as exc:
        return _form_page(client=client, values=request.form.to_dict(flat=False) | {"_raw": True}, error=str(exc),
                          status=400)
    record("admin.client.update", details={"client": client_id})
    flash(f"{updated.name} was saved.")
    return redirect(url_for("admin.clients_list"), code=303)


@bp.post("/clients/<client_id>/enabled")
@requires("client.update")
def client_enabled(client_id: str):
    enable = request.form.get("enabled") == "1"
    authorize("client.enable" if enable else "client.disable", Target(client_id=client_id))
    if not enable and (page := confirmed("Disable this client?", "Its users cannot sign in to it and its tokens "
                                         "stop working until it is enabled again.", "Disable the client",
                                         back=url_for("admin.client_edit", client_id=client_id))):
        return page
    updated = clients.set_enabled(client_id, enable)
    record("admin.client.enable" if enable else "admin.client.disable", details={"client": client_id})
    flash(f"{updated.name} is now {'enabled' if enable else 'disabled'}.")
    return redirect(url_for("admin.clients_list"), code=303)


@bp.post("/clients/<client_id>/delete")
@requires("client.delete")
def client_delete(client_id: str):
    client = clients.find(client_id)
    authorize("client.delete", Target(client_id=client_id))
    if page := confirmed(f"Delete {client.name}?", "The client, its tokens, consents and pending logouts are "
                         "deleted. This cannot be undone.", "Delete the client",
                         back=url_for("admin.client_edit", client_id=client_id)):
        return page
    clients.delete(client_id)
    record("admin.client.delete", details={"client": client_id})
    flash(f"{client.name} was deleted.")
    return redirect(url_for("admin.clients_list"), code=303)


@bp.post("/clients/<client_id>/secret")
@requires("client.rotate_secret")
def client_secret(client_id: str):
    authorize("client.rotate_secret", Target(client_id=client_id))
    if page := confirmed("Rotate the client secret?", "A new secret is shown once; the old one stops working "
                         "after the grace period.", "Rotate the secret",
                         back=url_for("admin.client_edit", client_id=client_id)):
        return page
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
@requires("initial_access_token.create")
def initial_access_token():
    settings = current().settings
    token, expires_at = registration.issue_initial_access_token(settings.initial_access_token_ttl)
    record("admin.initial_access_token.create", details={"expires_at": expires_at})
    return render_template("admin/initial_access_token.html", token=token, expires_at=expires_at,
                           enabled=bool(settings.dynamic_client_registration),
                           endpoint=http.issuer_url("protocol.register"))


# --- users ---------------------------------------------------------------------------------------


@bp.get("/users")
@requires("user.list")
def users_list():
    try:
        offset = max(0, int(request.args.get("offset", 0)))
    except ValueError:
        offset = 0
    q = request.args.get("q", "")
    return render_template("admin/users.html", page=users.search(q, offset, 20), q=q)


@bp.post("/users")
@requires("user.create")
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
@requires("user.read")
def user_page(user_id: int):
    user = _user(user_id)
    return render_template("admin/user.html", user=user, roles=rbac.list_all(rbac.ROLE),
                           groups=rbac.list_all(rbac.GROUP), held=rbac.names_of(rbac.ROLE, user_id),
                           member_of=rbac.names_of(rbac.GROUP, user_id), mfa=mfa.status(user_id),
                           editable=users.EDITABLE_CLAIMS, link=None)


@bp.post("/users/<int:user_id>/profile")
@requires("user.update")
def user_profile(user_id: int):
    _user(user_id)
    authorize("user.update", Target(user_id=user_id))
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
@requires("user.update")
def user_enabled(user_id: int):
    user = _user(user_id)
    enable = request.form.get("enabled") == "1"
    authorize("user.enable" if enable else "user.disable", Target(user_id=user_id))
    if not enable and (page := confirmed(f"Disable {user.username}?", "Every session of this account ends and "
                                         "every token is revoked.", "Disable the account",
                                         back=url_for("admin.user_page", user_id=user_id))):
        return page
    if enable:
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
@requires("user.mfa_reset")
def user_mfa_reset(user_id: int):
    user = _user(user_id)
    authorize("user.mfa_reset", Target(user_id=user_id))
    if page := confirmed(f"Reset {user.username}'s second factors?", "The authenticator app, passkeys and "
                         "recovery codes of this account are removed.", "Reset second factors",
                         back=url_for("admin.user_page", user_id=user_id)):
        return page
    removed = mfa.reset(user_id)
    record("admin.user.mfa_reset", subject_user_id=user_id, details=removed)
    flash("Every second factor of this account was removed.")
    return redirect(url_for("admin.user_page", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/password-link")
@requires("user.password_link")
def user_password_link(user_id: int):
    user = _user(user_id)
    authorize("user.password_link", Target(user_id=user_id))
    link = users.issue_password_link(user_id, current().settings.password_link_ttl)
    record("admin.user.password_link", subject_user_id=user_id, details={"expires_at": link.expires_at})
    return render_template("admin/password_link.html", user=user,
                           url=http.issuer_url("account.set_password", token=link.token),
                           expires_at=link.expires_at)


@bp.post("/users/<int:user_id>/roles")
@requires("user.roles")
def user_roles(user_id: int):
    _user(user_id)
    roles = request.form.getlist("roles")
    groups = request.form.getlist("groups")
    authorize("user.roles", Target(user_id=user_id, roles=tuple(roles)))
    authorize("user.groups", Target(user_id=user_id))
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
@requires("user.delete")
def user_delete(user_id: int):
    user = _user(user_id)
    authorize("user.delete", Target(user_id=user_id))
    if page := confirmed(f"Delete {user.username}?", "The account, its sessions, tokens, factors and consents are "
                         "deleted. This cannot be undone.", "Delete the user",
                         back=url_for("admin.user_page", user_id=user_id)):
        return page
    logout.end_other_sessions(user_id, None, reason="admin_deleted", origin=http.origin())
    users.delete(user_id)
    record("admin.user.delete", subject_user_id=user_id, details={"username": user.username})
    flash(f"{user.username} was deleted.")
    return redirect(url_for("admin.users_list"), code=303)


# --- roles and groups ----------------------------------------------------------------------------


@bp.get("/roles")
@requires("role.list")
def roles_page():
    return render_template("admin/roles.html", roles=rbac.list_all(rbac.ROLE), groups=rbac.list_all(rbac.GROUP))


@bp.post("/<any(role, group):kind>s")
@requires("role.create")
def rbac_create(kind: str):
    authorize(f"{kind}.create", Target(role=request.form.get("name", "") if kind == rbac.ROLE else None))
    try:
        created = rbac.create(kind, request.form.get("name", ""), request.form.get("description", ""))
    except ValidationError as exc:
        flash(str(exc))
    else:
        record(f"admin.{kind}.create", details={"name": created.name})
        flash(f"The {kind} {created.name} was created.")
    return redirect(url_for("admin.roles_page"), code=303)


@bp.post("/<any(role, group):kind>s/<name>/delete")
@requires("role.delete")
def rbac_delete(kind: str, name: str):
    authorize(f"{kind}.delete", Target(role=name if kind == rbac.ROLE else None))
    if page := confirmed(f"Delete the {kind} {name}?", "Everyone holding it loses it. This cannot be undone.",
                         f"Delete the {kind}",
                         back=url_for("admin.roles_page")):
        return page
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
@requires("audit.read")
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
