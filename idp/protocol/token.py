"""The token endpoint (RFC 6749 §3.2). Authlib dispatches the grant and shapes errors; malformed
requests are answered with `invalid_request` before they reach it."""

from __future__ import annotations

import base64
import binascii

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError
from flask import Response, current_app, json, request

from ..extensions import csrf
from . import bp
from .responses import safe_description

MAX_PARAM_LENGTH = 4096
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Descriptions for errors Authlib answers without one (RFC 6749 §5.2 error_description).
DEFAULT_DESCRIPTIONS = {
    "unsupported_grant_type": "This grant_type is not supported; use authorization_code or refresh_token.",
    "invalid_client": "Client authentication failed.",
    "invalid_grant": "The grant is invalid, expired, revoked or was issued to another client.",
    "unauthorized_client": "This client may not use this grant_type.",
    "invalid_scope": "The requested scope is invalid.",
    "invalid_request": "The token request is malformed.",
}
DEFAULT_DESCRIPTION = "The token request was refused."


def _malformed() -> str | None:
    if request.mimetype != "application/x-www-form-urlencoded":
        return "The token request must be sent as application/x-www-form-urlencoded."
    if request.args:
        return "Token request parameters must be sent in the request body, not the URL."
    for key in request.form:
        values = request.form.getlist(key)
        if len(values) > 1:
            return f"The '{key[:40]}' parameter is repeated."
        if len(values[0]) > MAX_PARAM_LENGTH or len(key) > MAX_PARAM_LENGTH:
            return f"The '{key[:40]}' parameter is too long."
    if not request.form.get("grant_type"):
        return "The 'grant_type' parameter is required."  # RFC 6749 §4.1.3
    if request.headers.get("Authorization") and "client_secret" in request.form:
        return "Use one client authentication method per request, not both Basic and client_secret."  # §2.3
    return None


def _malformed_basic() -> bool:
    """An `Authorization: Basic` header that is not base64 of UTF-8 `id:secret` (RFC 7617 §2)."""
    header = request.headers.get("Authorization")
    if header is None:
        return False
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return True
    return ":" not in decoded


def _error(error: OAuth2Error) -> Response:
    status, body, headers = error()
    return Response(json.dumps(body), status=status, headers=dict(headers) | NO_STORE)


@bp.route("/token", methods=["POST"])
@csrf.exempt
def token() -> Response:
    problem = _malformed()
    if problem:
        return _error(InvalidRequestError(safe_description(problem)))
    if _malformed_basic():
        # RFC 6749 §5.2: the client tried the Authorization header, so 401 with a Basic challenge.
        return _error(InvalidClientError("The Authorization header is not valid HTTP Basic credentials.",
                                         status_code=401))
    response = current_app.extensions["idp.authorization_server"].create_token_response()
    response.headers.update(NO_STORE)
    if response.status_code >= 400 and response.is_json:
        body = response.get_json(silent=True)
        if isinstance(body, dict) and body.get("error") and not body.get("error_description"):
            body["error_description"] = DEFAULT_DESCRIPTIONS.get(body["error"], DEFAULT_DESCRIPTION)
            response.set_data(json.dumps(body))
    return response
