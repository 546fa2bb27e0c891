"""Thin views over the interaction, user, session and consent services. Each page finishes its
step of the interaction and sends the browser back to the protocol's resume point."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, g, redirect, render_template, request, session, url_for

from .. import http, i18n
from ..errors import AuthenticationFailed, Throttled
from ..i18n import gettext as _
from ..i18n import lazy_gettext
from ..services import audit, clients, consents, device, interactions, password_login, policy, sessions
from ..services.runtime import current
from ..services.sessions import PASSWORD_ACR
from ..types import InteractionView
from . import bp

EXPIRED = lazy_gettext("This sign-in request has expired or was already completed. "
                       "Go back to the application and start signing in again.")


def _interaction(uid: str) -> InteractionView | None:
    interaction = interactions.get(uid, http.read(http.BROWSER_COOKIE))
    g.interaction = interaction
    return interaction


def _expired(uid: str | None = None):
    """A sign-in request that is over. When this browser finished it (Back after signing in), go on to
    the application's registered home page if it has one; otherwise say so and offer ways on."""
    ended = interactions.ended(uid, http.read(http.BROWSER_COOKIE)) if uid else None
    client = clients.get(ended.client_id) if ended else None
    if ended and ended.completed and client is not None and client.enabled:
        if client.client_uri:
            return redirect(client.client_uri, code=303)
        return render_template("errors/error.html", title=_("You are signed in to %(name)s", name=client.name),
                               message=_("This sign-in is finished. Switch back to the application's window, "
                               "or manage your account here."), links=_ways_on(client)), 200
    return render_template("errors/error.html", title=_("Sign-in request expired"), message=EXPIRED,
                           links=_ways_on(client)), 400


def _ways_on(client) -> list[tuple[str, str]]:
    """Links out of a dead end: the application's home page when it registered one, and the account page."""
    links = ([(_("Go to %(name)s", name=client.name), client.client_uri)]
             if client is not None and client.client_uri else [])
    return links + [(_("Go to your account"), url_for("account.index"))]


def client_branding(interaction: InteractionView):
    """The application as the sign-in and consent pages show it (name, logo, links); the page's CSP
    then allows images from the logo's own https origin only (see _allow_redirect_to_client)."""
    client = clients.get(interaction.client_id)
    if client is not None and client.logo_uri:
        parts = urlsplit(client.logo_uri)
        if parts.scheme == "https":
            g.logo_origin = f"https://{parts.netloc}"
    return client


def _resume(uid: str) -> Response:
    return redirect(url_for("protocol.resume", uid=uid), code=303)


def _client_name(interaction: InteractionView) -> str:
    client = clients.get(interaction.client_id)
    return client.name if client else "the application"


def _current_user():
    return policy.signed_in(current().settings, http.read(http.SESSION_COOKIE))[1]


def _render_login(interaction: InteractionView, error: str | None = None, username: str | None = None,
                  status: int = 200):
    hint = interaction.params.get("login_hint")
    # Someone is signed in already (prompt=login, max_age, another account asked for): offer to continue
    # as them, or to use another account (?other=1 empties the form).
    user = _current_user() if not hint and request.args.get("other") != "1" else None
    signed_in_as = user.username if user else None
    client = client_branding(interaction)
    return render_template("interaction/login.html", uid=interaction.uid, client_name=_client_name(interaction),
                           client=client, error=error, signed_in_as=signed_in_as,
                           registration_open=current().settings.registration == "open",
                           magic_link=bool(current().settings.magic_link),
                           username=username if username is not None else hint or signed_in_as), status


@bp.after_request
def _allow_redirect_to_client(response: Response) -> Response:
    """Every form on these pages (password, second factor, consent, account choice, and the pages
    re-shown after a mistake) can end in a redirect to the client (POST → /authorize/<uid> →
    redirect_uri), and browsers apply CSP form-action to every hop of that chain: allow the client's
    redirect origin too. The redirect URI was matched against the client's registration when the
    interaction began."""
    interaction = g.get("interaction")
    if interaction is not None and response.mimetype == "text/html":
        parts = urlsplit(interaction.params.get("redirect_uri", ""))
        if parts.scheme in ("http", "https") and parts.netloc:
            response.form_action = f"'self' {parts.scheme}://{parts.netloc}"
    if g.get("logo_origin") and response.mimetype == "text/html":
        response.img_src = g.logo_origin
    return response


@bp.route("/<uid>", methods=["GET"])
def show(uid: str):
    interaction = _interaction(uid)
    if interaction is None:
        return _expired(uid)
    return _show(interaction)


def _show(interaction: InteractionView):
    uid = interaction.uid
    user = _current_user()
    if interaction.prompt == "select_account" and user is not None:
        return render_template("interaction/select_account.html", uid=uid,
                               client_name=_client_name(interaction), username=user.username)
    if interaction.prompt == policy.MFA and user is not None:
        from .mfa import render as render_mfa  # the MFA module builds on this one's helpers

        return render_mfa(interaction, user, method=request.args.get("method"))
    if interaction.prompt == policy.MFA_ENROL and user is not None:
        from .enrol import render as render_enrol

        return render_enrol(interaction, user)
    if interaction.prompt == policy.VERIFY_EMAIL and user is not None:
        from .register import render_verify

        return render_verify(interaction, user)
    if interaction.prompt == policy.CREATE and request.args.get("other") != "1":
        from .register import render as render_register

        return render_register(interaction)
    if interaction.prompt == "consent" and user is not None:
        pending = device.get_pending(interaction.device_code_id) if interaction.device_code_id else None
        return render_template("interaction/consent.html", uid=uid, client_name=_client_name(interaction),
                               client=client_branding(interaction), username=user.username,
                               user_code=pending.user_code if pending else None,
                               permissions=consents.describe(list(interaction.consent_scopes), i18n.gettext))
    return _render_login(interaction)


@bp.route("/<uid>/login", methods=["POST"])
def login(uid: str):
    interaction = _interaction(uid)
    if interaction is None:
        return _expired(uid)
    rt = current()
    username = request.form.get("username", "")
    try:
        checked = password_login.check(rt.settings, rt.passwords, login=username,
                                       password=request.form.get("password", ""), origin=http.origin(),
                                       known_browser=http.read(http.KNOWN_BROWSER_COOKIE),
                                       client_id=interaction.client_id)
    except Throttled as exc:
        return _render_login(interaction, i18n.throttled(exc.retry_after), username=username[:254], status=429)
    except AuthenticationFailed:
        return _render_login(interaction, i18n.gettext("The username or password is incorrect. Check them and "
                                                       "try again."),
                             username=username[:254], status=401)
    user = checked.user
    cookie, _ = sessions.start(rt.settings, user_id=user.id, amr=["pwd"], acr=PASSWORD_ACR,
                               user_agent=http.user_agent(), ip_address=http.client_ip(),
                               replaces=http.read(http.SESSION_COOKIE))
    interactions.record_login(uid, http.read(http.BROWSER_COOKIE), user.id)
    session.clear()  # new CSRF token and nothing carried over from before sign-in
    response = _resume(uid)
    http.set_cookie(response, http.SESSION_COOKIE, cookie)
    http.remember_browser(response, checked.known_browser)
    return response


@bp.route("/<uid>/select", methods=["POST"])
def select_account(uid: str):
    interaction = _interaction(uid)
    if interaction is None:
        return _expired(uid)
    if request.form.get("choice") == "continue" and _current_user() is not None:
        interactions.record_account_selected(uid, http.read(http.BROWSER_COOKIE))
        return _resume(uid)
    interactions.set_prompt(uid, http.read(http.BROWSER_COOKIE), "login")
    return redirect(url_for("interaction.show", uid=uid), code=303)


@bp.route("/<uid>/consent", methods=["POST"])
def consent(uid: str):
    interaction = _interaction(uid)
    user = _current_user()
    if interaction is None or user is None:
        return _expired()
    secret = http.read(http.BROWSER_COOKIE)
    if request.form.get("decision") == "allow":
        client = clients.get(interaction.client_id)
        if client is None:
            return _expired()
        consents.grant(user.id, client.id, list(interaction.consent_scopes))
        interactions.record_consent(uid, secret, True)
        audit.record("consent.grant", origin=http.origin(), actor_user_id=user.id, client_id=client.client_id,
                     details={"scopes": list(interaction.consent_scopes)})
    else:
        interactions.record_consent(uid, secret, False)
        audit.record("consent.deny", outcome=audit.FAILURE, origin=http.origin(), actor_user_id=user.id,
                     client_id=interaction.client_id, reason="declined by the user")
    return _resume(uid)


@bp.route("/<uid>/abort", methods=["POST"])
def abort(uid: str):
    if _interaction(uid) is None:
        return _expired()
    interactions.record_consent(uid, http.read(http.BROWSER_COOKIE), False)
    return _resume(uid)
