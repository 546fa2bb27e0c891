"""Dynamic client registration (RFC 7591) at /register and its management (RFC 7592) at
/register/<client_id>. Our own thin endpoint rather than Authlib's ClientRegistrationEndpoint, so that
metadata goes through exactly the validation of the admin console (services.registration). Returns
404 while the `dynamic_client_registration` setting is 0."""

from __future__ import annotations

from flask import Response, abort, jsonify, request

from .. import http
from ..errors import NotFound, ValidationError
from ..extensions import csrf
from ..services import audit, registration
from ..services.runtime import current
from . import bp
from .responses import safe_description


def _enabled() -> None:
    if not current().settings.dynamic_client_registration:
        abort(404)


def _bearer() -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _error(status: int, error: str, description: str, bearer: bool = False) -> Response:
    """An RFC 7591 §3.2.2 error. The description is the service's message in English (str() of the
    error: never the page language) and ASCII only, as RFC 6749 §5.2 restricts error_description."""
    response = jsonify({"error": error, "error_description": safe_description(description)})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if bearer:
        response.headers["WWW-Authenticate"] = f'Bearer error="{error}"'
    return response


def _information(client, secret=None, reg_token=None, status=200) -> Response:
    body = registration.metadata_of(client)
    body["registration_client_uri"] = http.issuer_url("protocol.manage_client", client_id=client.client_id)
    if secret:
        body |= {"client_secret": secret, "client_secret_expires_at": 0}
    if reg_token:
        body["registration_access_token"] = reg_token
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _origin() -> audit.Origin:
    return audit.Origin(ip_address=request.remote_addr, user_agent=request.headers.get("User-Agent"))


@bp.route("/register", methods=["POST"])
@csrf.exempt
def register() -> Response:
    """RFC 7591 §3.1."""
    _enabled()
    token = _bearer()
    if not token:
        return _error(401, "invalid_token", "An initial access token is required.", bearer=True)
    try:
        result = registration.register(current().settings, token, request.get_json(silent=True))
    except registration.InvalidRedirectUri as exc:
        return _error(400, "invalid_redirect_uri", str(exc))
    except ValidationError as exc:
        return _error(400, "invalid_client_metadata", str(exc))
    except PermissionError as exc:
        audit.record("client.register", outcome=audit.FAILURE, origin=_origin(), reason=str(exc))
        return _error(401, "invalid_token", str(exc), bearer=True)
    audit.record("client.register", origin=_origin(), client_id=result.client.client_id,
                 details={"redirect_uris": list(result.client.redirect_uris)})
    return _information(result.client, result.client_secret, result.registration_access_token, status=201)


@bp.route("/register/<client_id>", methods=["GET", "PUT", "DELETE"])
@csrf.exempt
def manage_client(client_id: str) -> Response:
    """RFC 7592 §2: read, update or delete with the registration access token."""
    _enabled()
    token = _bearer()
    try:
        if request.method == "GET":
            return _information(registration.read(client_id, token))
        if request.method == "DELETE":
            registration.delete(client_id, token)
            audit.record("client.register.delete", origin=_origin(), client_id=client_id)
            return Response(status=204)
        updated = registration.update(current().settings, client_id, token, request.get_json(silent=True))
    except NotFound:
        return _error(401, "invalid_token", "Unknown client or wrong registration access token.", bearer=True)
    except registration.InvalidRedirectUri as exc:
        return _error(400, "invalid_redirect_uri", str(exc))
    except ValidationError as exc:
        return _error(400, "invalid_client_metadata", str(exc))
    audit.record("client.register.update", origin=_origin(), client_id=client_id)
    return _information(updated)
