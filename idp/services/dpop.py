"""DPoP proofs (RFC 9449 §4): a client proves possession of a key with a fresh JWT per request;
tokens issued with a proof are bound to that key's RFC 7638 thumbprint (`cnf.jkt`, §6).

Checked here (§4.3): `typ` dpop+jwt, an asymmetric `alg`, a public `jwk` in the header and the
signature by it; `htm` and `htu` (without query and fragment) match the request; `iat` is recent;
`ath` is the hash of the access token presented with it; `jti` is single-use within the proof
window (§11.1); and, when the `dpop_require_nonce` setting is on, `nonce` is a current server nonce
(§8-9). Nonces are HMACs of a time step under the server's secret, so every server process agrees
on them without storing anything; the previous step's nonce stays valid for a smooth switch-over."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import import_key

from . import client_keys, clock, crypto, replay

ALGS = ("ES256", "PS256", "RS256", "EdDSA", "Ed25519")  # dpop_signing_alg_values_supported
MAX_PROOF_LENGTH = 8192
FUTURE_SKEW = 60
INVALID_PROOF = "invalid_dpop_proof"
USE_NONCE = "use_dpop_nonce"


class DPoPError(Exception):
    """A refused proof: `error` is invalid_dpop_proof or use_dpop_nonce (RFC 9449 §5, §7.1, §8)."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


def _nonce_at(settings, step: int) -> str:
    mac = hmac.new(settings.secret_key.encode(), f"dpop-nonce:{step}".encode(), hashlib.sha256).digest()
    return crypto.b64url(mac[:24])


def current_nonce(settings) -> str:
    """The nonce to send in DPoP-Nonce now (it changes every `dpop_nonce_lifetime` seconds)."""
    return _nonce_at(settings, clock.now() // settings.dpop_nonce_lifetime)


def _nonce_ok(settings, value) -> bool:
    if not isinstance(value, str):
        return False
    step = clock.now() // settings.dpop_nonce_lifetime
    return any(hmac.compare_digest(value, _nonce_at(settings, s)) for s in (step, step - 1))


def _without_query(uri: str) -> tuple[str, str, str]:
    parts = urlsplit(uri)
    return parts.scheme.lower(), parts.netloc.lower(), parts.path or "/"


def ath_of(access_token: str) -> str:
    return crypto.b64url(hashlib.sha256(access_token.encode("ascii", "replace")).digest())


def _header(proof: str) -> dict:
    try:
        header = json.loads(crypto.b64url_decode(proof.split(".", 1)[0]))
    except (ValueError, TypeError):
        header = None
    if not isinstance(header, dict):
        raise DPoPError(INVALID_PROOF, "The DPoP proof is not a JWT.")
    return header


def alg_of(proof: str) -> str | None:
    """The alg of a proof that verify() accepted."""
    return _header(proof).get("alg")


def verify(settings, proof: str | None, method: str, uri: str, access_token: str | None = None) -> str:
    """Check one request's proof; returns the JWK thumbprint of its key. Raises DPoPError."""
    if not proof or len(proof) > MAX_PROOF_LENGTH or proof.count(".") != 2:
        raise DPoPError(INVALID_PROOF, "A DPoP proof JWT is required in the DPoP header.")
    header = _header(proof)
    alg, jwk = header.get("alg"), header.get("jwk")
    if header.get("typ") != "dpop+jwt" or alg not in ALGS:
        raise DPoPError(INVALID_PROOF, "The DPoP proof needs typ dpop+jwt and an asymmetric alg.")
    if not isinstance(jwk, dict) or any(m in jwk for m in client_keys.PRIVATE_MEMBERS):
        raise DPoPError(INVALID_PROOF, "The DPoP proof needs the public key as jwk in its header.")
    try:
        key = import_key(jwk)
        claims = jwt.decode(proof, key, algorithms=[alg]).claims
        jkt = key.thumbprint()
    except (JoseError, ValueError, TypeError, KeyError):
        raise DPoPError(INVALID_PROOF, "The DPoP proof's signature is not valid.") from None
    jti, iat = claims.get("jti"), claims.get("iat")
    if not isinstance(jti, str) or not jti or len(jti) > 256:
        raise DPoPError(INVALID_PROOF, "The DPoP proof needs a jti.")
    if claims.get("htm") != method:
        raise DPoPError(INVALID_PROOF, "The DPoP proof's htm does not match the request method.")
    htu = claims.get("htu")
    if not isinstance(htu, str) or _without_query(htu) != _without_query(uri):
        raise DPoPError(INVALID_PROOF, "The DPoP proof's htu does not match the request URI.")
    now = clock.now()
    if not isinstance(iat, int | float) or isinstance(iat, bool) or \
            not now - settings.dpop_proof_max_age <= iat <= now + FUTURE_SKEW:
        raise DPoPError(INVALID_PROOF, "The DPoP proof's iat is missing, too old or in the future.")
    if access_token is not None and not (
            isinstance(claims.get("ath"), str)
            and hmac.compare_digest(claims["ath"], ath_of(access_token))):
        raise DPoPError(INVALID_PROOF, "The DPoP proof's ath does not match the access token.")
    if settings.dpop_require_nonce and not _nonce_ok(settings, claims.get("nonce")):
        raise DPoPError(USE_NONCE, "Authorization server requires nonce in DPoP proof.")
    if not replay.first_use(replay.DPOP_PROOF, jkt, jti, int(iat) + settings.dpop_proof_max_age + FUTURE_SKEW):
        raise DPoPError(INVALID_PROOF, "The DPoP proof was already used.")
    return jkt
