"""Where an authorization request's parameters come from, decided once at the entry of /authorize:
a pushed request's `request_uri` (RFC 9126 §4), a signed `request` object (RFC 9101 §5), or the
query itself — the last refused for clients that must push their requests (RFC 9126 §6).
`request_uri`s other than our own PAR URNs are never fetched (RFC 9101 §5.2 allows refusing them): they
are OIDC Core §3.1.2.6 `request_uri_not_supported`, as discovery says (request_uri_parameter_supported false)."""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oidc.core.errors import (
    InvalidRequestObjectError,
    InvalidRequestURIError,
    RequestNotSupportedError,
    RequestURINotSupportedError,
)
from flask import Response

from ..errors import UnsafeRedirect
from ..services import clients, pushed_requests, request_objects
from ..services.runtime import current
from ..services.text import N_
from .responses import RESPONSE_MODES, error_response, safe_description


def must_push(client) -> bool:
    return client.require_pushed_authorization_requests or bool(
        current().settings.require_pushed_authorization_requests)


def _refuse(params: dict[str, str], client, error: OAuth2Error) -> Response:
    """Redirect the error to the redirect_uri sent alongside, if it is registered for the client;
    otherwise show it (an unverified redirect_uri is never followed)."""
    redirect_uri = params.get("redirect_uri")
    if client is None or redirect_uri not in client.redirect_uris:
        raise UnsafeRedirect(N_("The application sent an invalid sign-in request: %(reason)s"),
                             reason=error.get_error_description())
    mode = params.get("response_mode") if params.get("response_mode") in RESPONSE_MODES else "query"
    return error_response(redirect_uri, mode, error, params.get("state"))


def resolve(params: dict[str, str]) -> dict[str, str] | Response:
    """The parameters /authorize works with, or the error response."""
    client = clients.get(params.get("client_id", ""))
    if client is None:
        return params  # /authorize shows the unknown-client page
    if "request_uri" in params:
        if "request" in params:
            return _refuse(params, client, InvalidRequestError("Send request or request_uri, not both."))
        if not pushed_requests.is_pushed_request_uri(params["request_uri"]):
            return _refuse(params, client, RequestURINotSupportedError(
                "Only request_uri values from the pushed authorization request endpoint are accepted."))
        pushed = pushed_requests.redeem(params["request_uri"], client.id)
        if pushed is None:
            return _refuse(params, client, InvalidRequestURIError(
                "The request_uri is unknown, expired, already used or was pushed by another client."))
        return pushed
    if must_push(client):
        return _refuse(params, client, InvalidRequestError(
            "This application must push its authorization requests (PAR, RFC 9126) first."))
    if "request" in params:
        try:
            return request_objects.parameters(current().settings, client, params["request"])
        except request_objects.UnsignedNotAccepted as exc:
            return _refuse(params, client, RequestNotSupportedError(safe_description(str(exc))))
        except request_objects.InvalidRequestObject as exc:
            return _refuse(params, client, InvalidRequestObjectError(safe_description(str(exc))))
    return params
