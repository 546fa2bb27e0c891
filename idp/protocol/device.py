"""The device authorization endpoint (RFC 8628 §3.1–3.2) and the resume point of a device sign-in.

The /device page (interaction blueprint) takes the user code and starts an interaction; the login
and consent pages then send the browser back to `/authorize/<uid>`, which hands device interactions
to `resume` here, which runs the one resume function (resume.py) — the same policy as /authorize,
second factor and its enrolment included — and, once nothing is left to ask, records the person's
decision on the device code. Tokens are minted only when the device polls /token."""

from __future__ import annotations

from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidScopeError, UnauthorizedClientError
from flask import Response, current_app, jsonify, redirect, request, url_for

from .. import http
from ..errors import UnsafeRedirect
from ..extensions import csrf
from ..services import clients, device, tokens
from ..services.runtime import current
from ..services.text import N_
from ..types import AuthorizationRequest, InteractionView, SessionView, UserView
from . import bp
from .resume import Pending
from .resume import resume as resume_flow
from .server import ALL_AUTH_METHODS, InvalidTargetError
from .token import error_response, finish, precheck

EXPIRED = N_("This device sign-in has expired or was already completed. Start again on your device.")


def _absolute(endpoint: str, **values) -> str:
    return http.issuer_url(endpoint, **values)


def _scope(raw: str | None, client) -> str:
    allowed = set(client.scopes)
    if "refresh_token" not in client.grant_types:
        allowed.discard("offline_access")
    scopes = [s for s in dict.fromkeys((raw or "").split()) if s in allowed]
    if not scopes:
        raise InvalidScopeError("None of the requested scopes is allowed for this client.")
    return " ".join(scopes)


@bp.route("/device_authorization", methods=["POST"])
@csrf.exempt
def device_authorization() -> Response:
    """RFC 8628 §3.1: the device asks for a device code and a user code."""
    refused = precheck(None)
    if refused is not None:
        return refused
    server = current_app.extensions["idp.authorization_server"]
    try:
        client = server.authenticate_client(server.create_oauth2_request(None), ALL_AUTH_METHODS,
                                            "device_authorization").view
        if clients.DEVICE_CODE_GRANT not in client.grant_types:
            raise UnauthorizedClientError("This client may not use the device authorization grant.")
        scope = _scope(request.form.get("scope"), client)
        try:
            resources = tokens.check_resources(client, request.form.getlist("resource"))
        except tokens.InvalidTarget as exc:
            raise InvalidTargetError(str(exc)) from None
    except OAuth2Error as error:
        return error_response(error)
    started = device.start(current().settings, client, scope, resources)
    verification_uri = _absolute("device.enter")
    return finish(jsonify({
        "device_code": started.device_code, "user_code": started.user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": f"{verification_uri}?{urlencode({'user_code': started.user_code})}",
        "expires_in": started.expires_in, "interval": started.interval,
    }))


def is_device_interaction(interaction: InteractionView) -> bool:
    """Only the /device page creates these (a column no request parameter can set)."""
    return interaction.device_code_id is not None


class _ApproveDevice:
    """The device flow's last step: record the person's decision on the device code (RFC 8628 §3.3)."""

    def __init__(self, request_id: int):
        self.request_id = request_id

    def approve(self, session: SessionView, user: UserView, acr: str) -> Response:
        if not device.approve(self.request_id, session, acr):
            raise UnsafeRedirect(EXPIRED)
        return redirect(url_for("device.done", result="approved"), code=303)

    def deny(self) -> Response:
        device.deny(self.request_id)
        return redirect(url_for("device.done", result="denied"), code=303)


def resume(interaction: InteractionView) -> Response:
    """Continue a device sign-in after a page finished its step, through the one resume function."""
    pending = device.get_pending(interaction.device_code_id)
    client = clients.get(interaction.client_id)
    if pending is None or client is None or client.id != pending.client_pk:
        raise UnsafeRedirect(EXPIRED)
    # The person confirms the device on the consent page (RFC 8628 §5.4), unless the app is first-party.
    req = AuthorizationRequest(client_id=client.client_id, redirect_uri="", response_mode="query",
                               scopes=tuple(pending.scope.split()), resources=pending.resources,
                               prompt=() if client.skip_consent else ("consent",))
    try:
        return resume_flow(Pending(request=req, client=client, interaction=interaction,
                                   params=dict(interaction.params)), _ApproveDevice(pending.id))
    except OAuth2Error as error:  # e.g. an essential acr the session does not reach
        raise UnsafeRedirect(error.description or EXPIRED) from None
