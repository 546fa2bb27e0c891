"""The UserInfo endpoint (OIDC Core §5.3) with bearer token usage per RFC 6750 and DPoP-bound tokens
per RFC 9449 §7: `Authorization: DPoP <token>` plus a proof of the key the token is bound to."""

from __future__ import annotations

from flask import Response, jsonify, request

from .. import http
from ..extensions import csrf
from ..services import claims as claim_rules
from ..services import dpop, rbac, tokens, users
from ..services.runtime import current
from . import bp
from .dpop import proof_of_request, with_nonce

BEARER = "bearer"
DPOP = "dpop"


def _bearer_error(status: int, error: str | None = None, description: str | None = None,
                  scheme: str = BEARER) -> Response:
    """RFC 6750 §3 / RFC 9449 §7.1: a WWW-Authenticate challenge; no error code when no token was sent."""
    if scheme == DPOP:
        challenge = f'DPoP algs="{" ".join(dpop.ALGS)}"'
    else:
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
    return with_nonce(response) if scheme == DPOP else response


def _token_from_request() -> tuple[str | None, str, Response | None]:
    """RFC 6750 §2: header or form body, never both, never the URI query (§2.3 is insecure);
    RFC 9449 §7.1: or the DPoP scheme. Returns the token, its scheme and an error response."""
    header = request.headers.get("Authorization")
    form_token = request.form.get("access_token") if request.method == "POST" else None
    if request.method == "POST" and len(request.form.getlist("access_token")) > 1:
        return None, BEARER, _bearer_error(400, "invalid_request", "The access token is repeated.")
    if header and form_token:
        return None, BEARER, _bearer_error(400, "invalid_request", "Send the access token in one place only.")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() not in (BEARER, DPOP) or not value.strip():
            return None, BEARER, _bearer_error(401)  # not a Bearer credential: challenge without an error
        return value.strip(), scheme.lower(), None
    if form_token:
        if request.mimetype != "application/x-www-form-urlencoded":
            return None, BEARER, _bearer_error(400, "invalid_request", "The form body must be url-encoded.")
        return form_token, BEARER, None
    return None, BEARER, _bearer_error(401)


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo() -> Response:
    token, scheme, error = _token_from_request()
    if error is not None:
        return error
    rt = current()
    jkt = None
    if scheme == DPOP:
        try:
            jkt = dpop.verify(rt.settings, proof_of_request(), request.method, http.issuer_url("protocol.userinfo"),
                              access_token=token or "")
        except dpop.DPoPError as exc:
            return _bearer_error(401, exc.error, exc.description, scheme=DPOP)
    info = tokens.verify_access_token(rt.settings, rt.keyring, token or "", dpop_jkt=jkt)
    if info is None or info.user_id is None:
        if scheme == BEARER and tokens.is_dpop_bound(rt.settings, rt.keyring, token or ""):
            # RFC 9449 §7.2: a DPoP-bound token is not a bearer token.
            return _bearer_error(401, "invalid_token", "This access token is DPoP-bound: send it with the DPoP "
                                 "scheme and a proof.", scheme=DPOP)
        return _bearer_error(401, "invalid_token", "The access token is invalid, expired or revoked.", scheme=scheme)
    if not {rt.settings.issuer, rt.settings.access_token_audience} & set(info.audience):
        # Issued for another API (RFC 8707 resource): that API must not replay it here (RFC 9700 §2.3).
        return _bearer_error(401, "invalid_token", "The access token was issued for another audience.", scheme=scheme)
    scopes = info.scope.split()
    if "openid" not in scopes:
        return _bearer_error(403, "insufficient_scope", "The access token lacks the openid scope.", scheme=scheme)
    user = users.get_enabled(info.user_id)
    if user is None:
        return _bearer_error(401, "invalid_token", "The user of this access token is no longer active.",
                             scheme=scheme)
    requested = (info.claims_request or {}).get("userinfo") or {}
    response = jsonify(claim_rules.release(user, scopes, requested) | rbac.claims_for(user.id, scopes))
    response.headers["Cache-Control"] = "no-store"
    return with_nonce(response) if scheme == DPOP else response
