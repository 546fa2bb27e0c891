"""The token endpoint (RFC 6749 §3.2). Authlib dispatches the grant and shapes errors; malformed
requests are answered with `invalid_request` before they reach it. The same checks and error
shaping serve the other client-authenticated endpoints (introspection, revocation, device)."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from flask import Response, current_app, json, request

from ..extensions import csrf
from . import bp, dpop
from .responses import safe_description

MAX_PARAM_LENGTH = 4096
# Signed JWTs may be longer than other parameters: a request object (RFC 9101) pushed to /par, a
# client assertion (RFC 7523) signed with a large RSA key.
MAX_JWT_PARAM_LENGTH = {"request": 16384, "client_assertion": 8192}
REPEATABLE = ("resource",)  # RFC 8707 §2: a request may name several resources
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Descriptions for errors Authlib answers without one (RFC 6749 §5.2 error_description).
DEFAULT_DESCRIPTIONS = {
    "unsupported_grant_type": "This grant_type is not supported; see grant_types_supported in the metadata.",
    "invalid_client": "Client authentication failed.",
    "invalid_grant": "The grant is invalid, expired, revoked or was issued to another client.",
    "unauthorized_client": "This client may not use this grant_type.",
    "invalid_scope": "The requested scope is invalid.",
    "invalid_request": "The request is malformed.",
    "invalid_target": "The requested resource is not allowed for this client.",
    "authorization_pending": "The user has not yet approved this device; keep polling.",
    "slow_down": "Polling too fast: add 5 seconds to the polling interval.",
    "expired_token": "The device code has expired; start again.",
    "access_denied": "The user denied the request.",
    "unsupported_token_type": "This token type is not supported here.",
}
DEFAULT_DESCRIPTION = "The token request was refused."


def malformed(required: str | None) -> str | None:
    """Why a client-authenticated POST is malformed, or None (RFC 6749 §3.2, §5.2)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return "The request must be sent as application/x-www-form-urlencoded."
    if request.args:
        return "Parameters must be sent in the request body, not the URL."
    for key in request.form:
        values = request.form.getlist(key)
        if len(values) > 1 and key not in REPEATABLE:
            return f"The '{key[:40]}' parameter is repeated."
        limit = MAX_JWT_PARAM_LENGTH.get(key, MAX_PARAM_LENGTH)
        if any(len(v) > limit for v in values) or len(key) > MAX_PARAM_LENGTH:
            return f"The '{key[:40]}' parameter is too long."
    if required and not request.form.get(required):
        return f"The '{required}' parameter is required."  # e.g. RFC 6749 §4.1.3, RFC 7662 §2.1
    credentials = [bool(request.headers.get("Authorization")),
                   "client_secret" in request.form, "client_assertion" in request.form]
    if sum(credentials) > 1:
        return "Use one client authentication method per request."  # RFC 6749 §2.3
    basic_id = _basic_client_id()
    if basic_id is not None and request.form.get("client_id", basic_id) != basic_id:
        return "The client_id does not match the client authenticating."  # one request, one client
    return None


def _basic_credentials() -> str | None:
    """The decoded `id:secret` of an `Authorization: Basic` header, "" if it is not valid base64 UTF-8
    (RFC 7617 §2), None if there is no Basic header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""


def _basic_client_id() -> str | None:
    """The client id of a well-formed Basic header, decoded as Authlib decodes it to authenticate."""
    decoded = _basic_credentials()
    return extract_basic_authorization(request.headers)[0] if decoded and ":" in decoded else None


def malformed_basic() -> bool:
    """An `Authorization: Basic` header that is not base64 of UTF-8 `id:secret` (RFC 7617 §2) or holds a
    NUL, or an Authorization header with no credentials after its scheme (which Authlib's parser cannot
    split)."""
    header = request.headers.get("Authorization")
    if header is not None and len(header.split(None, 1)) < 2:
        return True
    decoded = _basic_credentials()
    if decoded is None:
        return False
    # Percent-decoding (RFC 6749 §2.3.1) may reveal a NUL, which no client id holds (PostgreSQL
    # cannot even look it up).
    return ":" not in decoded or "\x00" in unquote(decoded)


def error_response(error: OAuth2Error) -> Response:
    status, body, headers = error()
    return finish(Response(json.dumps(body), status=status, headers=dict(headers) | NO_STORE))


def precheck(required: str | None) -> Response | None:
    """The error response for a malformed request, or None when it may go to Authlib."""
    problem = malformed(required)
    if problem:
        return error_response(InvalidRequestError(safe_description(problem)))
    if malformed_basic():
        # RFC 6749 §5.2: the client tried the Authorization header, so 401 with a Basic challenge.
        return error_response(InvalidClientError("The Authorization header is not valid HTTP Basic credentials.",
                                                 status_code=401))
    return None


@bp.route("/token", methods=["POST"])
@csrf.exempt
def token() -> Response:
    refused = precheck("grant_type")
    if refused is not None:
        return refused
    refused = dpop.check_token_request()
    if refused is not None:
        return finish(refused)
    response = finish(current_app.extensions["idp.authorization_server"].create_token_response())
    return dpop.with_nonce(response) if dpop.proof_of_request() is not None else response


def finish(response: Response) -> Response:
    """no-store on every answer; an error_description on every error."""
    response.headers.update(NO_STORE)
    if response.status_code >= 400 and response.is_json:
        body = response.get_json(silent=True)
        if isinstance(body, dict) and body.get("error") and not body.get("error_description"):
            body["error_description"] = DEFAULT_DESCRIPTIONS.get(body["error"], DEFAULT_DESCRIPTION)
            response.set_data(json.dumps(body))
    return response
