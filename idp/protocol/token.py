"""The token endpoint (RFC 6749 §3.2). Authlib dispatches the grant and shapes errors; malformed
requests are answered with `invalid_request` before they reach it."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import Response, current_app, json, request

from ..extensions import csrf
from . import bp

MAX_PARAM_LENGTH = 4096
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _malformed() -> str | None:
    if request.mimetype != "application/x-www-form-urlencoded":
        return "The token request must be sent as application/x-www-form-urlencoded."
    if request.args:
        return "Token request parameters must be sent in the request body, not the URL."
    for key in request.form:
        values = request.form.getlist(key)
        if len(values) > 1:
            return f"The '{key}' parameter is repeated."
        if len(values[0]) > MAX_PARAM_LENGTH:
            return f"The '{key}' parameter is too long."
    return None


@bp.route("/token", methods=["POST"])
@csrf.exempt
def token() -> Response:
    problem = _malformed()
    if problem:
        status, body, headers = InvalidRequestError(problem)()
        return Response(json.dumps(body), status=status, headers=dict(headers) | NO_STORE)
    response = current_app.extensions["idp.authorization_server"].create_token_response()
    response.headers.update(NO_STORE)
    return response
