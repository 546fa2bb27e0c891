"""The UserInfo endpoint (OIDC Core §5.3) with bearer token usage per RFC 6750."""

from __future__ import annotations

from flask import Response, jsonify, request

from ..extensions import csrf
from ..services import claims as claim_rules
from ..services import rbac, tokens, users
from ..services.runtime import current
from . import bp


def _bearer_error(status: int, error: str | None = None, description: str | None = None) -> Response:
    """RFC 6750 §3: a WWW-Authenticate challenge; no error code when no token was sent at all."""
    challenge = 'Bearer realm="userinfo"'
    if error:
        challenge += f', error="{error}"'
        if description:
            challenge += f', error_description="{description}"'
    body = {"error": error, "error_description": description} if error else {}
    response = jsonify(body)
    response.status_code = status
    response.headers["WWW-Authenticate"] = challenge
    response.headers["Cache-Control"] = "no-store"
    return response


def _token_from_request() -> tuple[str | None, Response | None]:
    """RFC 6750 §2: header or form body, never both, never the URI query (§2.3 is insecure)."""
    header = request.headers.get("Authorization")
    form_token = request.form.get("access_token") if request.method == "POST" else None
    if request.method == "POST" and len(request.form.getlist("access_token")) > 1:
        return None, _bearer_error(400, "invalid_request", "The access token is repeated.")
    if header and form_token:
        return None, _bearer_error(400, "invalid_request", "Send the access token in one place only.")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None, _bearer_error(401)  # not a Bearer credential: challenge without an error
        return value.strip(), None
    if form_token:
        if request.mimetype != "application/x-www-form-urlencoded":
            return None, _bearer_error(400, "invalid_request", "The form body must be url-encoded.")
        return form_token, None
    return None, _bearer_error(401)


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo() -> Response:
    token, error = _token_from_request()
    if error is not None:
        return error
    rt = current()
    info = tokens.verify_access_token(rt.settings, rt.keyring, token or "")
    if info is None or info.user_id is None:
        return _bearer_error(401, "invalid_token", "The access token is invalid, expired or revoked.")
    if not {rt.settings.issuer, rt.settings.access_token_audience} & set(info.audience):
        # Issued for another API (RFC 8707 resource): that API must not replay it here (RFC 9700 §2.3).
        return _bearer_error(401, "invalid_token", "The access token was issued for another audience.")
    scopes = info.scope.split()
    if "openid" not in scopes:
        return _bearer_error(403, "insufficient_scope", "The access token lacks the openid scope.")
    user = users.get_enabled(info.user_id)
    if user is None:
        return _bearer_error(401, "invalid_token", "The user of this access token is no longer active.")
    requested = (info.claims_request or {}).get("userinfo") or {}
    response = jsonify(claim_rules.release(user, scopes, requested) | rbac.claims_for(user.id, scopes))
    response.headers["Cache-Control"] = "no-store"
    return response
