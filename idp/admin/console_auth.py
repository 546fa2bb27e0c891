"""Who is signed in to the admin console. Like the account pages (see account/auth.py), the console
is a relying party of this provider: the browser signs in only through the provider's own
authorization flow with a built-in client, the "admin console", so the login, passkey, second-factor
and enrolment pages apply unchanged. Whether the session is good enough is the one policy's answer
for that client: it asks everyone holding an administrative role for a second factor (and has one
without any set it up inside the sign-in). A console page then also needs a role granting its
permission (least privilege)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import g, redirect, render_template, request, url_for

from .. import console_sign_in, http
from ..errors import Forbidden
from ..i18n import gettext as _
from ..services import authorization, clients, policy, rbac
from ..services.runtime import current
from ..services.text import N_
from ..types import SessionView, UserView
from . import bp

STATE_KEY = "admin_sign_in"


@dataclass(frozen=True)
class Admin:
    user: UserView
    session: SessionView
    permissions: frozenset[str]
    second_factor: bool  # the policy lets this session use the console (it reached the MFA level)


def safe_next(value: str | None) -> str:
    """Only console pages of this server (console_sign_in.is_page_under), never the API."""
    if console_sign_in.is_page_under(value, "/admin") and not value.startswith("/admin/api"):
        return value
    return url_for("admin.index")


def sign_in_redirect(next_url: str):
    client = clients.ensure_admin_console(current().settings.issuer)
    return console_sign_in.start(client, STATE_KEY, safe_next(next_url))


def current_admin() -> Admin | None:
    """The signed-in person (None without a live session), their admin permissions and whether the
    session reached the MFA level."""
    rt = current()
    s, user = policy.signed_in(rt.settings, http.read(http.SESSION_COOKIE))
    if s is None or user is None:
        return None
    allowed = policy.may_continue(clients.ensure_admin_console(rt.settings.issuer), s, user)
    return Admin(user=user, session=s, permissions=rbac.permissions_of(user.id), second_factor=allowed)


# The console's sections: (endpoint, label, the action that opens it, endpoint prefix marking it current).
SECTIONS = (("admin.index", N_("Overview"), None, "admin.index"),
            ("admin.clients_list", N_("Applications"), "client.list", "admin.client"),
            ("admin.users_list", N_("Users"), "user.list", "admin.user"),
            ("admin.roles_page", N_("Roles & groups"), "role.list", "admin.r"),
            ("admin.audit_page", N_("Audit log"), "audit.read", "admin.audit"),
            ("admin.mail_page", N_("Mail"), "mail.read", "admin.mail"))


@bp.context_processor
def _navigation() -> dict:
    """The sections this administrator may open (services.authorization decides), the current one
    marked: the console layout only shows what it is given."""
    admin = g.get("admin")
    if admin is None:
        return {}
    here = request.endpoint or ""
    return {"console_nav": [
        {"url": url_for(endpoint), "label": _(label), "current": here.startswith(prefix)}
        for endpoint, label, action, prefix in SECTIONS
        if action is None or authorization.allowed(actor(), action)
    ], "admin": admin}


def _refused(message: str | None = None):
    return render_template("errors/error.html", title=_("Not allowed"),
                           message=message or _("Your roles do not allow this part of the admin console."),
                           next_step=_("Ask an administrator for the role you need."),
                           links=([(_("Back to the admin console"), url_for("admin.index"))] if g.get("admin") else [])
                           + [(_("Go to your account"), url_for("account.index"))]), 403


def actor() -> authorization.Actor:
    """The signed-in administrator as services.authorization sees them."""
    return authorization.Actor(permissions=g.admin.permissions, user_id=g.admin.user.id)


def authorize(action: str, target: authorization.Target | None = None) -> None:
    """Ask the one authorization function whether the signed-in administrator may do this (raises
    Forbidden, answered with a 403 page by the blueprint's error handler)."""
    authorization.authorize(actor(), action, target)


def requires(action: str | None):
    """Run the page for a signed-in administrator who may do `action` (None: any admin role);
    otherwise send them to sign in (or step up), or refuse with 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            admin = current_admin()
            back = request.path if request.method == "GET" else url_for("admin.index")
            if admin is None:
                return sign_in_redirect(back)
            if not admin.permissions:
                return _refused()
            if not admin.second_factor:
                return sign_in_redirect(back)  # the policy wants more of this session (a second factor)
            g.admin = admin
            if action is not None:
                try:
                    authorize(action)
                except Forbidden:
                    return _refused()
            return view(*args, **kwargs)

        return wrapper

    return decorator


@bp.route("/callback", methods=["GET"])
def callback():
    """The end of the console's sign-in (see console_sign_in.finish)."""
    completed, next_url = console_sign_in.finish(STATE_KEY)
    if not completed:
        return render_template("errors/error.html", title=_("Sign-in not completed"),
                               message=_("You did not finish signing in, so the admin console stays closed."),
                               next_step=_("Open the admin console again to sign in."),
                               links=[(_("Open the admin console"), url_for("admin.index"))]), 400
    admin = current_admin()
    if admin is None or not admin.permissions:
        return _refused()
    return redirect(safe_next(next_url), code=303)
