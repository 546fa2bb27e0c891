"""Magic-link sign-in pages (setting `magic_link`): ask for a link on the sign-in page, open it in the
same browser, press "Sign in" (a button: a mail scanner opening the link signs nobody in). The session
is one factor (amr "email"); the policy decides what else is needed, as after a password."""

from __future__ import annotations

from flask import Response, render_template, request, session

from .. import http, i18n, mails
from ..errors import Throttled, ValidationError
from ..i18n import _
from ..services import email_links, interactions, magic_links, password_reset, sessions
from ..services.runtime import current
from ..services.sessions import PASSWORD_ACR
from . import bp
from .views import _client_name, _expired, _interaction, _render_login, _resume


def _closed():
    return render_template("errors/error.html", title=_("Sign-in links are not available"),
                           message=_("This service does not send sign-in links by e-mail.")), 404


def _notify(uid: str):
    def notify(mail: password_reset.ResetMail) -> None:
        mails.compose("magic_link", mail.to, by_recipient=True, user_id=mail.user_id, send=mail.send,
                      username=mail.username,
                      url=http.issuer_url("interaction.magic_link", uid=uid, token=mail.token),
                      minutes=current().settings.magic_link_ttl // 60)
    return notify


@bp.route("/<uid>/magic", methods=["POST"])
def magic_request(uid: str):
    interaction = _interaction(uid)
    if interaction is None:
        return _expired()
    rt = current()
    if not rt.settings.magic_link:
        return _closed()
    login = request.form.get("login", "")
    try:
        password_reset.request(rt.settings, login=login, origin=http.origin(), notify=_notify(uid),
                               purpose=email_links.MAGIC, browser_secret=http.read(http.BROWSER_COOKIE))
    except ValidationError as exc:
        return _render_login(interaction, i18n.describe(exc), username=login[:254], status=400)
    except Throttled as exc:
        return _render_login(interaction, i18n.throttled(exc.retry_after, "requests"),
                             username=login[:254], status=429)
    return render_template("interaction/magic_sent.html", uid=uid, client_name=_client_name(interaction),
                           minutes=rt.settings.magic_link_ttl // 60)


@bp.route("/<uid>/magic/<token>", methods=["GET", "POST"])
def magic_link(uid: str, token: str):
    if not current().settings.magic_link:
        return _closed()
    browser = http.read(http.BROWSER_COOKIE)
    try:
        user = magic_links.check(token, browser)
    except magic_links.OtherBrowser:
        return render_template("interaction/magic_other_browser.html", uid=uid, token=token), 403
    except ValidationError:
        return render_template("errors/error.html", title=_("This link no longer works"),
                               message=_("Sign-in links work once, for a few minutes."),
                               next_step=_("Go back to the application and ask for a new one.")), 404
    interaction = _interaction(uid)  # None in a browser the link was moved to: it signs in without one
    client_name = _client_name(interaction) if interaction else None
    if request.method == "GET":
        return render_template("interaction/magic_confirm.html", uid=uid, token=token, username=user.username,
                               client_name=client_name)
    try:
        user = magic_links.use(token, browser, origin=http.origin(),
                               client_id=interaction.client_id if interaction else None)
    except ValidationError:
        return render_template("errors/error.html", title=_("This link no longer works"),
                               message=_("Sign-in links work once, for a few minutes.")), 404
    rt = current()
    cookie, _view = sessions.start(rt.settings, user_id=user.id, amr=[magic_links.AMR], acr=PASSWORD_ACR,
                                   user_agent=http.user_agent(), ip_address=http.client_ip(),
                                   replaces=http.read(http.SESSION_COOKIE))
    session.clear()
    if interaction is None:
        response = Response(render_template(
            "errors/error.html", title=_("You are signed in"),
            message=_("You are signed in on this browser as %(name)s.", name=user.username),
            next_step=_("Go back to the application and sign in again: it will not ask for your password.")))
    else:
        interactions.record_login(uid, browser, user.id)
        response = _resume(uid)
    http.set_cookie(response, http.SESSION_COOKIE, cookie)
    return response


@bp.route("/<uid>/magic/<token>/elsewhere", methods=["POST"])
def magic_elsewhere(uid: str, token: str):
    """Another browser asks to use the link; the browser that asked for it must allow it."""
    if not current().settings.magic_link:
        return _closed()
    secret, new_browser = http.browser_secret()
    try:
        magic_links.ask_from_other_browser(token, secret)
    except ValidationError:
        return render_template("errors/error.html", title=_("This link no longer works"),
                               message=_("Sign-in links work once, for a few minutes.")), 404
    response = Response(render_template("interaction/magic_asked.html", uid=uid, token=token))
    if new_browser:
        http.set_cookie(response, http.BROWSER_COOKIE, secret)
    return response


@bp.route("/<uid>/magic-requests", methods=["GET", "POST"])
def magic_requests(uid: str):
    """In the browser that asked for a link: allow or refuse another browser's request to use it."""
    interaction = _interaction(uid)
    if interaction is None:
        return _expired()
    browser = http.read(http.BROWSER_COOKIE)
    if request.method == "POST":
        # An id the database's integer column can hold, else no request (an overflowing one failed the query).
        link_id = http.whole_number(request.form.get("link")) or 0
        allow = request.form.get("decision") == "allow"
        done = magic_links.decide(link_id, browser, allow=allow, origin=http.origin())
        notice = (_("The other browser may now sign in with the link.") if allow else
                  _("The request was refused.")) if done else _("There was no such request any more.")
    else:
        notice = None
    return render_template("interaction/magic_requests.html", uid=uid, requests=magic_links.waiting(browser),
                           notice=notice, client_name=_client_name(interaction))
