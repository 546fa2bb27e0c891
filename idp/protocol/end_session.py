"""The end-session endpoint: OpenID Connect RP-Initiated Logout 1.0.

The endpoint checks the request (id_token_hint, client_id, post_logout_redirect_uri, state,
ui_locales), then either ends the session at once — when the id_token_hint was issued within this
very session, so the request clearly comes from the session's own app — or stores a logout request
and sends the person to the logout page to confirm. A post_logout_redirect_uri is used only when it
is exactly one the client registered; otherwise nobody is redirected. Authlib's EndSessionEndpoint is
not used: it does not check the hint's `sub` against the session (see LIBRARY-NOTES)."""

from __future__ import annotations

from flask import Response, redirect, request, url_for

from .. import http, i18n
from ..errors import LogoutRequestRejected
from ..extensions import csrf
from ..services import clients, logout, sessions, tokens, users
from ..services.runtime import current
from ..services.text import N_
from ..types import ClientView, SessionView, UserView
from . import bp

MAX_PARAM_LENGTH = 4096


def _params() -> dict[str, str]:
    source = request.form if request.method == "POST" else request.args
    values = {}
    for key in source:
        items = source.getlist(key)
        if len(items) > 1:
            raise LogoutRequestRejected(N_("The sign-out request repeats the '%(name)s' parameter."), name=key[:40])
        if len(items[0]) > MAX_PARAM_LENGTH:
            raise LogoutRequestRejected(N_("The '%(name)s' parameter of the sign-out request is too long."),
                                        name=key[:40])
        values[key] = items[0]
    return values


def _hint(raw: str | None) -> dict | None:
    """The id_token_hint's claims: signed by us (expired is fine, §2), for a registered client."""
    if not raw:
        return None
    rt = current()
    claims = tokens.decode_id_token_hint(rt.keyring, raw)
    if not claims or claims.get("iss") != rt.settings.issuer or not isinstance(claims.get("sub"), str):
        raise LogoutRequestRejected(N_("The id_token_hint is not an ID token issued by this server."))
    return claims


def _audiences(hint: dict) -> list[str]:
    aud = hint.get("aud")
    return [aud] if isinstance(aud, str) else [a for a in aud if isinstance(a, str)] if isinstance(aud, list) else []


def _client(params: dict[str, str], hint: dict | None) -> ClientView | None:
    client_id = params.get("client_id")
    if client_id:
        client = clients.get(client_id)
        if client is None:
            raise LogoutRequestRejected(N_("The application that sent you here is not registered with this server."))
        if hint is not None and client_id not in _audiences(hint):
            raise LogoutRequestRejected(N_("The id_token_hint was issued to another application than client_id."))
        return client
    if hint is None:
        return None
    audiences = _audiences(hint)
    client = clients.get(audiences[0]) if len(audiences) == 1 else clients.get(hint.get("azp") or "")
    if client is None:
        # An access token (aud = issuer) or a token of a removed client is not an ID token hint.
        raise LogoutRequestRejected(N_("The id_token_hint was not issued to an application registered here."))
    return client


def _redirect_to(params: dict[str, str], client: ClientView | None) -> str | None:
    """§3: only a post_logout_redirect_uri the client registered, compared as exact strings."""
    uri = params.get("post_logout_redirect_uri")
    if not uri or client is None or uri not in client.post_logout_redirect_uris:
        return None
    return logout.post_logout_redirect(uri, params.get("state"))


def _clearly_from_session(hint: dict | None, session: SessionView, user: UserView) -> bool:
    """The hint names the session's person and, when it carries one, the session's `sid`: the
    request comes from an app of this very session, so no confirmation is asked (§2)."""
    if hint is None or hint.get("sub") != user.sub:
        return False
    return hint.get("sid") is None or hint.get("sid") == session.sid


def _go(location: str) -> Response:
    response = redirect(location, code=303 if request.method == "POST" else 302)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/logout", methods=["GET", "POST"])
@csrf.exempt  # §2: RPs may POST from their own site; without a hint from this session we ask first
def end_session() -> Response:
    params = _params()
    # §2 ui_locales: this answer and the logout pages (which get the chosen catalogue, never the raw value).
    language = i18n.use_ui_locales(params.get("ui_locales"))
    hint = _hint(params.get("id_token_hint"))
    client = _client(params, hint)
    redirect_to = _redirect_to(params, client)
    session = sessions.current(current().settings, http.read(http.SESSION_COOKIE))
    user = users.get_enabled(session.user_id) if session else None
    secret, new_browser = http.browser_secret()
    client_pk = client.id if client else None
    ended = True
    if session is None or user is None:
        # Nobody is signed in here: nothing to end and nothing to confirm.
        response = _go(redirect_to or url_for("interaction.logout_page", uid=logout.begin(
            browser_secret=secret, client_pk=client_pk, redirect_to=None, frontchannel=(), language=language)))
    elif _clearly_from_session(hint, session, user):
        frontchannel = logout.end_session(session, reason="rp_initiated", origin=http.origin(),
                                          actor_user_id=user.id)
        if redirect_to and not frontchannel:
            response = _go(redirect_to)
        else:
            response = _go(url_for("interaction.logout_page", uid=logout.begin(
                browser_secret=secret, client_pk=client_pk, redirect_to=redirect_to, frontchannel=frontchannel,
                language=language)))
    else:
        ended = False
        response = _go(url_for("interaction.logout_page", uid=logout.begin(
            browser_secret=secret, client_pk=client_pk, redirect_to=redirect_to, language=language)))
    if ended and http.read(http.SESSION_COOKIE) is not None:
        http.clear(response, http.SESSION_COOKIE)
    if new_browser:
        http.set_cookie(response, http.BROWSER_COOKIE, secret)
    return response
