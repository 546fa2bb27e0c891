"""The pushed authorization request endpoint (RFC 9126 §2): an authenticated client POSTs the
parameters of an authorization request (or a signed request object carrying them), which are
validated as /authorize would and stored; the answer is a one-time `request_uri` to send the
browser to /authorize with."""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oidc.core.errors import InvalidRequestObjectError
from flask import Response, current_app, jsonify, request

from ..errors import UnsafeRedirect
from ..extensions import csrf
from ..services import pushed_requests, request_objects
from ..services.runtime import current
from . import bp, dpop
from .authorize import _client_and_redirect_uri, _single_values, _validate
from .responses import safe_description
from .server import ALL_AUTH_METHODS
from .token import error_response, finish, precheck

CLIENT_AUTH_PARAMS = ("client_secret", "client_assertion", "client_assertion_type")


def _parameters(client) -> dict[str, str]:
    params = _single_values(request.form)
    for name in CLIENT_AUTH_PARAMS:
        params.pop(name, None)
    if params.get("client_id", client.client_id) != client.client_id:
        raise InvalidRequestError("client_id does not match the authenticated client.")
    if "request_uri" in params:
        raise InvalidRequestError("request_uri cannot be pushed (RFC 9126 section 2.1).")
    if "request" in params:
        try:
            return request_objects.parameters(current().settings, client, params["request"])
        except request_objects.InvalidRequestObject as exc:
            raise InvalidRequestObjectError(safe_description(str(exc))) from None
    return params | {"client_id": client.client_id}


@bp.route("/par", methods=["POST"])
@csrf.exempt
def pushed_authorization_request() -> Response:
    refused = precheck(None)
    if refused is not None:
        return refused
    # RFC 9449 §10.1: a DPoP proof sent here is checked like at the token endpoint (the code is not
    # bound to it: the token request's proof binds the tokens).
    refused = dpop.check_token_request()
    if refused is not None:
        return finish(refused)
    server = current_app.extensions["idp.authorization_server"]
    try:
        client = server.authenticate_client(server.create_oauth2_request(None), ALL_AUTH_METHODS,
                                            "pushed_authorization_request").view
        params = _parameters(client)
        try:
            _, redirect_uri = _client_and_redirect_uri(params)
        except UnsafeRedirect as exc:
            raise InvalidRequestError(safe_description(str(exc))) from None
        _validate(params, client, redirect_uri)
    except OAuth2Error as error:
        return error_response(error)
    request_uri, expires_in = pushed_requests.push(current().settings, client.id, params)
    response = jsonify({"request_uri": request_uri, "expires_in": expires_in})
    response.status_code = 201  # RFC 9126 §2.2
    response = finish(response)
    return dpop.with_nonce(response) if dpop.proof_of_request() is not None else response
