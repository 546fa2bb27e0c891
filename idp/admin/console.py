"""The admin console's pages: thin views over the client, user, RBAC and audit services. Every form
carries a CSRF token; every change is recorded in the audit trail ("via": "console")."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from .. import http, mails
from ..errors import Forbidden, NotFound, ValidationError
from ..extensions import db
from ..i18n import describe, ngettext
from ..i18n import gettext as _
from ..services import (
    audit,
    clients,
    email_verification,
    invitations,
    logout,
    mail,
    mfa,
    rbac,
    registration,
    tokens,
    users,
)
from ..services.authorization import Target
from ..services.claims import CLAIM_LABELS
from ..services.runtime import current
from ..services.text import N_
from . import bp, listing
from . import client_form as spec
from .client_form import CHECKBOXES, LISTS, OPTIONAL_TEXTS, TTLS
from .console_auth import _refused, authorize, requires


def record(event: str, *, subject_user_id: int | None = None, details: dict | None = None,
           outcome: str = audit.SUCCESS, reason: str | None = None) -> None:
    audit.record(event, origin=http.origin(), actor_user_id=g.admin.user.id, subject_user_id=subject_user_id,
                 outcome=outcome, reason=reason, details={"via": "console", **(details or {})})


@bp.errorhandler(NotFound)
def _not_found(error: NotFound):
    return render_template("errors/error.html", title=_("Not found"), message=describe(error),
                           links=[(_("Back to the admin console"), url_for("admin.index"))]), 404


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    """services.authorization refused: nothing was changed; the refusal is audited."""
    db.session.rollback()
    record(f"admin.{error.action}", outcome=audit.FAILURE, reason=str(error),
           subject_user_id=(request.view_args or {}).get("user_id"))
    return _refused(describe(error))


def confirmed(title: str, message: str, button: str, back: str | None = None):
    """A destructive action's confirmation step, without JavaScript: unless the form says
    `confirm=yes`, answer with a page that repeats the form's fields and asks again. None once
    confirmed."""
    if request.form.get("confirm") == "yes":
        return None
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirm")]
    return render_template("admin/confirm.html", title=title, message=message, button=button, fields=fields,
                           action=request.path, back=back or url_for("admin.index"))


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
        values[name] = http.whole_number(raw) if raw else None
        if raw and values[name] is None:
            raise ValidationError(N_("%(label)s must be a whole number of seconds."), field=name,
                                  label=spec.label(name))
    for name in OPTIONAL_TEXTS:
        values[name] = form.get(name, "").strip() or None
    values["jwks"] = form.get("jwks", "").strip() or None  # JSON text, parsed by validate_metadata
    return values


def _form_page(client=None, values=None, error: ValidationError | None = None, status=200):
    """The client form; an error names its field (marked, with the message beside it) where it can."""
    field = getattr(error, "field", None)
    message = spec.in_words(describe(error)) if error else None
    return render_template("admin/client_form.html", client=client, values=values or {}, error=message,
                           error_field=field if field in spec.FIELDS else None, sections=spec.SECTIONS,
                           auth_methods=spec.AUTH_METHOD_LABELS, grant_types=spec.GRANT_TYPE_LABELS,
                           formats=spec.FORMAT_LABELS), status


CLIENT_SORTS = {"name": lambda c: c.name.lower(), "type": lambda c: c.token_endpoint_auth_method,
                "created": lambda c: c.created_at or 0, "state": lambda c: not c.enabled}


@bp.get("/clients")
@requires("client.list")
def clients_list():
    view = listing.read(tuple(CLIENT_SORTS), "name")
    page = listing.in_memory(clients.list_registered(), view, lambda c: f"{c.name} {c.client_id}", CLIENT_SORTS)
    return render_template("admin/clients.html", page=page, listing=view, auth_methods=spec.AUTH_METHOD_LABELS)


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
        return _form_page(values=request.form.to_dict(flat=False) | {"_raw": True}, error=exc, status=400)
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
        return _form_page(client=client, values=request.form.to_dict(flat=False) | {"_raw": True}, error=exc,
                          status=400)
    record("admin.client.update", details={"client": client_id})
    flash(_("%(name)s was saved.", name=updated.name))
    return redirect(url_for("admin.clients_list"), code=303)


@bp.post("/clients/<client_id>/enabled")
@requires("client.update")
def client_enabled(client_id: str):
    enable = request.form.get("enabled") == "1"
    authorize("client.enable" if enable else "client.disable", Target(client_id=client_id))
    if not enable and (page := confirmed(_("Disable %(name)s?", name=clients.find(client_id).name),
                                         _("Its users cannot sign in to it and its tokens stop working until it is "
                                           "enabled again."), _("Disable the client"),
                                         back=url_for("admin.client_edit", client_id=client_id))):
        return page
    updated = clients.set_enabled(client_id, enable)
    record("admin.client.enable" if enable else "admin.client.disable", details={"client": client_id})
    flash(_("%(name)s is now enabled.", name=updated.name) if enable
          else _("%(name)s is now disabled.", name=updated.name))
    return redirect(url_for("admin.clients_list"), code=303)


@bp.post("/clients/<client_id>/delete")
@requires("client.delete")
def client_delete(client_id: str):
    client = clients.find(client_id)
    authorize("client.delete", Target(client_id=client_id))
    if page := confirmed(_("Delete %(name)s?", name=client.name), _("The client, its tokens, consents and pending "
                         "logouts are deleted. This cannot be undone."), _("Delete the client"),
                         back=url_for("admin.client_edit", client_id=client_id)):
        return page
    clients.delete(client_id)
    record("admin.client.delete", details={"client": client_id})
    flash(_("%(name)s was deleted.", name=client.name))
    return redirect(url_for("admin.clients_list"), code=303)


@bp.post("/clients/<client_id>/secret")
@requires("client.rotate_secret")
def client_secret(client_id: str):
    authorize("client.rotate_secret", Target(client_id=client_id))
    if page := confirmed(_("Rotate the client secret?"), _("A new secret is shown once; the old one stops working "
                         "after the grace period."), _("Rotate the secret"),
                         back=url_for("admin.client_edit", client_id=client_id)):
        return page
    grace = http.whole_number(request.form.get("grace_seconds") or "0")
    try:
        if grace is None:
            raise ValidationError(N_("The grace period is a whole number of seconds."), field="grace_seconds")
        new = clients.rotate_secret(client_id, grace)
    except ValidationError as exc:
        flash(describe(exc))
        return redirect(url_for("admin.client_edit", client_id=client_id), code=303)
    record("admin.client.rotate_secret", details={"client": client_id, "grace_seconds": grace})
    return render_template("admin/client_secret.html", client=new.client, secret=new.client_secret, created=False)


@bp.post("/clients/initial-access-token")
@requires("initial_access_token.create")
def initial_access_token():
    settings = current().settings
    uses = http.whole_number(request.form.get("uses", "").strip() or "1")
    ttl = http.whole_number(request.form.get("expires_in", "").strip() or str(settings.initial_access_token_ttl))
    try:
        if uses is None or ttl is None:
            raise ValidationError(N_("The number of uses and the lifetime are whole numbers."))
        token, expires_at = registration.issue_initial_access_token(ttl, uses)
    except ValidationError as exc:
        flash(describe(exc))
        return redirect(url_for("admin.clients_list"), code=303)
    record("admin.initial_access_token.create", details={"expires_at": expires_at, "uses": uses})
    return render_template("admin/initial_access_token.html", token=token, expires_at=expires_at, uses=uses,
                           enabled=bool(settings.dynamic_client_registration),
                           endpoint=http.issuer_url("protocol.register"))


# --- users ---------------------------------------------------------------------------------------


def _invitation_days() -> int:
    return max(1, current().settings.invitation_ttl // 86400)


@bp.get("/users")
@requires("user.list")
def users_list():
    view = listing.read(users.SORTS, "username")
    page = users.search(view.q, view.offset, view.limit, view.sort, view.descending)
    return render_template("admin/users.html", page=page, listing=view,
                           invitation_days=_invitation_days())


@bp.post("/users")
@requires("user.create")
def user_create():
    try:
        user = users.create(current().passwords, username=request.form.get("username", ""),
                            password=request.form.get("password", ""), email=request.form.get("email") or None,
                            before_commit=_verification())
    except ValidationError as exc:
        view = listing.read(users.SORTS, "username")
        page = users.search(view.q, view.offset, view.limit, view.sort, view.descending)
        values = {"username": request.form.get("username", ""), "email": request.form.get("email", "")}
        return render_template("admin/users.html", page=page, listing=view, error=describe(exc), values=values,
                               invitation_days=_invitation_days(),
                               error_field=exc.field), 400
    record("admin.user.create", subject_user_id=user.id)
    return redirect(url_for("admin.user_page", user_id=user.id), code=303)


def _verification():
    """A new, unverified address gets its verification link in the same transaction."""
    return email_verification.queue_for_new_address(current().settings, mails.operator_verify_mail)


def _user(user_id: int):
    user = users.get(user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    return user


@bp.get("/users/<int:user_id>")
@requires("user.read")
def user_page(user_id: int):
    user = _user(user_id)
    return render_template("admin/user.html", user=user, roles=rbac.list_all(rbac.ROLE),
                           groups=rbac.list_all(rbac.GROUP), held=rbac.names_of(rbac.ROLE, user_id),
                           member_of=rbac.names_of(rbac.GROUP, user_id), mfa=mfa.status(user_id),
                           editable=users.EDITABLE_CLAIMS, link=None,
                           claim_labels={name: _(label) for name, (label, _token) in CLAIM_LABELS.items()})


@bp.post("/users/<int:user_id>/profile")
@requires("user.update")
def user_profile(user_id: int):
    _user(user_id)
    authorize("user.update", Target(user_id=user_id))
    claims = {name: request.form.get(name, "") for name in users.EDITABLE_CLAIMS
              if name in request.form and name not in ("address", "phone_number_verified")}
    try:
        before = users.get(user_id)
        after = users.admin_update(user_id, email=request.form.get("email", ""),
                                   email_verified="email_verified" in request.form, claims=claims,
                                   before_commit=_verification())
    except ValidationError as exc:
        flash(describe(exc))
    else:
        changed = [f for f in ("email", "email_verified") if before and getattr(before, f) != getattr(after, f)]
        record("admin.user.update", subject_user_id=user_id,
               details={"fields": sorted(claims) + changed, "email_verified": after.email_verified})
        flash(_("The profile was saved."))
    return redirect(url_for("admin.user_page", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/enabled")
@requires("user.update")
def user_enabled(user_id: int):
    user = _user(user_id)
    enable = request.form.get("enabled") == "1"
    authorize("user.enable" if enable else "user.disable", Target(user_id=user_id))
    if not enable and (page := confirmed(_("Disable %(name)s?", name=user.username),
                                         _("Every session of this account ends and every token is revoked."),
                                         _("Disable the account"),
                                         back=url_for("admin.user_page", user_id=user_id))):
        return page
    if enable:
        users.set_enabled(user_id, True)
        record("admin.user.enable", subject_user_id=user_id)
        flash(_("The account is enabled."))
    else:
        users.set_enabled(user_id, False)
        ended = logout.end_other_sessions(user_id, None, reason="admin_disabled", origin=http.origin())
        revoked = tokens.revoke_grants(user_id)
        record("admin.user.disable", subject_user_id=user_id,
               details={"ended_sessions": ended, "revoked_tokens": revoked})
        flash(_("The account is disabled: %(sessions)s, %(tokens)s.",
                sessions=ngettext("%(num)d session ended", "%(num)d sessions ended", ended),
                tokens=ngettext("%(num)d token revoked", "%(num)d tokens revoked", revoked)))
    return redirect(url_for("admin.user_page", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/mfa/reset")
@requires("user.mfa_reset")
def user_mfa_reset(user_id: int):
    user = _user(user_id)
    authorize("user.mfa_reset", Target(user_id=user_id))
    if page := confirmed(_("Reset the second factors of %(name)s?", name=user.username),
                         _("The authenticator app, passkeys and recovery codes of this account are removed."),
                         _("Reset second factors"),
                         back=url_for("admin.user_page", user_id=user_id)):
        return page
    removed = mfa.reset(user_id)
    record("admin.user.mfa_reset", subject_user_id=user_id, details=removed)
    flash(_("Every second factor of this account was removed."))
    return redirect(url_for("admin.user_page", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/password-link")
@requires("user.password_link")
def user_password_link(user_id: int):
    """Mail a single-use set-password link to the user's address; shown here only for an account
    without an address."""
    user = _user(user_id)
    authorize("user.password_link", Target(user_id=user_id))
    if user.email:
        sent = invitations.resend(current().settings, user_id, notify=mails.invitation)
        record("admin.user.password_link", subject_user_id=user_id, details={"mailed_to": sent.to})
        flash(_("A link to set a password was sent to %(address)s.", address=sent.to))
        return redirect(url_for("admin.user_page", user_id=user_id), code=303)
    link = users.issue_password_link(user_id, current().settings.password_link_ttl)
    record("admin.user.password_link", subject_user_id=user_id, details={"expires_at": link.expires_at})
    return render_template("admin/password_link.html", user=user,
                           url=http.issuer_url("account.set_password", token=link.token),
                           expires_at=link.expires_at)


@bp.post("/users/invite")
@requires("user.invite")
def user_invite():
    authorize("user.invite")
    try:
        locale = request.form.get("locale", "")  # the invited person's language, so their mail's too
        user = invitations.invite(current().settings, username=request.form.get("username", ""),
                                  email=request.form.get("email", ""), claims={"locale": locale} if locale else None,
                                  actor_user_id=g.admin.user.id, origin=http.origin(), notify=mails.invitation)
    except ValidationError as exc:
        flash(describe(exc))
        return redirect(url_for("admin.users_list"), code=303)
    flash(_("An invitation was sent to %(address)s.", address=user.email))
    return redirect(url_for("admin.user_page", user_id=user.id), code=303)


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
        flash(describe(exc))
    else:
        record("admin.user.roles", subject_user_id=user_id, details={"roles": sorted(roles), "groups": sorted(groups)})
        flash(_("Roles and groups were saved."))
    return redirect(url_for("admin.user_page", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/delete")
@requires("user.delete")
def user_delete(user_id: int):
    user = _user(user_id)
    authorize("user.delete", Target(user_id=user_id))
    if page := confirmed(_("Delete %(name)s?", name=user.username), _("The account, its sessions, tokens, factors "
                         "and consents are deleted. This cannot be undone."), _("Delete the user"),
                         back=url_for("admin.user_page", user_id=user_id)):
        return page
    logout.end_other_sessions(user_id, None, reason="admin_deleted", origin=http.origin())
    users.delete(user_id)
    record("admin.user.delete", subject_user_id=user_id, details={"username": user.username})
    flash(_("%(name)s was deleted.", name=user.username))
    return redirect(url_for("admin.users_list"), code=303)


# --- roles and groups ----------------------------------------------------------------------------


ROLE_SORTS = {"name": lambda r: r.name, "members": lambda r: r.members}


@bp.app_template_filter("role_description")
def role_description(role) -> str:
    """A role's description as stored; a built-in role's own, unchanged one in the page's language."""
    if rbac.BUILTIN_DESCRIPTIONS.get(role.name) == role.description:
        return _(role.description)
    return role.description or ""


@bp.get("/roles")
@requires("role.list")
def roles_page():
    view = listing.read(tuple(ROLE_SORTS), "name")
    pages = {kind: listing.in_memory(rbac.list_all(kind), view, lambda r: f"{r.name} {r.description}", ROLE_SORTS)
             for kind in (rbac.ROLE, rbac.GROUP)}
    return render_template("admin/roles.html", roles=pages[rbac.ROLE], groups=pages[rbac.GROUP], listing=view)


@bp.post("/<any(role, group):kind>s")
@requires("role.create")
def rbac_create(kind: str):
    authorize(f"{kind}.create", Target(role=request.form.get("name", "") if kind == rbac.ROLE else None))
    try:
        created = rbac.create(kind, request.form.get("name", ""), request.form.get("description", ""))
    except ValidationError as exc:
        flash(describe(exc))
    else:
        record(f"admin.{kind}.create", details={"name": created.name})
        flash(_("The role %(name)s was created.", name=created.name) if kind == "role"
              else _("The group %(name)s was created.", name=created.name))
    return redirect(url_for("admin.roles_page"), code=303)


@bp.post("/<any(role, group):kind>s/<name>/delete")
@requires("role.delete")
def rbac_delete(kind: str, name: str):
    authorize(f"{kind}.delete", Target(role=name if kind == rbac.ROLE else None))
    role = kind == rbac.ROLE
    if page := confirmed(_("Delete the role %(name)s?", name=name) if role else
                         _("Delete the group %(name)s?", name=name),
                         _("Everyone holding it loses it. This cannot be undone.") if role else
                         _("Everyone in it leaves it. This cannot be undone."),
                         _("Delete the role") if role else _("Delete the group"),
                         back=url_for("admin.roles_page")):
        return page
    try:
        rbac.delete(kind, name)
    except ValidationError as exc:
        flash(describe(exc))
    else:
        record(f"admin.{kind}.delete", details={"name": name})
        flash(_("The role %(name)s was deleted.", name=name) if kind == "role"
              else _("The group %(name)s was deleted.", name=name))
    return redirect(url_for("admin.roles_page"), code=303)


@bp.get("/mail")
@requires("mail.read")
def mail_page():
    """The mail outbox: what was sent, is pending, failed or was suppressed (never the bodies)."""
    return render_template("admin/mail.html", rows=mail.deliveries(100))
