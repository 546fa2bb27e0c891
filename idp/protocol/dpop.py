"""DPoP (RFC 9449) on the wire: the proof of a token request is checked before Authlib dispatches
the grant, and each grant asks `token_binding` which key (if any) its tokens are bound to. Errors:
`invalid_dpop_proof` or `use_dpop_nonce` with a fresh `DPoP-Nonce` header (§5, §8)."""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from flask import Response, g, json, request

from .. import http
from ..services import client_keys, dpop
from ..services.runtime import current
from ..types import ClientView

NONCE_HEADER = "DPoP-Nonce"


class InvalidDPoPProofError(OAuth2Error):
    error = dpop.INVALID_PROOF


def proof_of_request() -> str | None:
    """The DPoP header (RFC 9449 §4.1: exactly one)."""
    proofs = request.headers.getlist("DPoP")
    if len(proofs) > 1:
        return ""
    return proofs[0] if proofs else None


def check_token_request() -> Response | None:
    """Verify the proof sent to the token endpoint (if any) and remember its key for the grant;
    an error response if it is not acceptable."""
    g.dpop_jkt = g.dpop_alg = None
    proof = proof_of_request()
    if proof is None:
        return None
    try:
        g.dpop_jkt = dpop.verify(current().settings, proof, "POST", http.issuer_url(request.endpoint))
        g.dpop_alg = dpop.alg_of(proof)
    except dpop.DPoPError as exc:
        response = Response(json.dumps({"error": exc.error, "error_description": exc.description}), status=400,
                            mimetype="application/json")
        return with_nonce(response)
    return None


def token_binding(client: ClientView, bound_to: str | None = None) -> str | None:
    """The DPoP key thumbprint this token request's tokens are bound to. A client registered for
    DPoP-bound tokens must send a proof (RFC 9449 §5.2); a refresh token bound to a key needs a proof
    by the same key (§5.0)."""
    jkt = g.get("dpop_jkt")
    if jkt is None and client.dpop_bound_access_tokens:
        raise InvalidDPoPProofError("This client must send a DPoP proof: its access tokens are DPoP-bound.")
    if bound_to is not None and jkt != bound_to:
        raise InvalidDPoPProofError("The refresh token is bound to another DPoP key.")
    if jkt is not None and client.fapi2 and g.get("dpop_alg") not in client_keys.FAPI2_SIGNING_ALGS:
        raise InvalidDPoPProofError("FAPI 2.0 clients must sign DPoP proofs with PS256, ES256 or EdDSA.")
    return jkt


def with_nonce(response: Response) -> Response:
    """Send the current nonce whenever the client uses DPoP, so it can switch before the old one ends."""
    if current().settings.dpop_require_nonce:
        response.headers[NONCE_HEADER] = dpop.current_nonce(current().settings)
    return response
