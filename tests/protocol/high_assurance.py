"""Client-side helpers for the high-assurance tests: client key pairs (generated once per test
session), private_key_jwt assertions (RFC 7523), DPoP proofs (RFC 9449) and request objects
(RFC 9101), built the way a client library would."""

from __future__ import annotations

import base64
import hashlib
import secrets
from functools import cache

from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from idp.services import clock

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
KEY_ALGS = {"RS256": "rsa", "PS256": "rsa", "ES256": "ec", "EdDSA": "okp", "Ed25519": "okp"}


@cache
def client_key(kind: str = "rsa", name: str = "k1"):
    """A private key with a kid (one per kind and name per session: RSA generation is slow)."""
    key = {"rsa": lambda: RSAKey.generate_key(2048), "ec": lambda: ECKey.generate_key("P-256"),
           "okp": lambda: OKPKey.generate_key("Ed25519")}[kind]()
    return key.__class__.import_key(dict(key.as_dict(private=True), kid=f"{kind}-{name}"))


def public_jwks(*keys) -> dict:
    return {"keys": [k.as_dict(private=False) for k in keys]}


def assertion(client_id: str, aud: str, key=None, alg: str = "RS256", lifetime: int = 60, **overrides) -> str:
    """A private_key_jwt client assertion (RFC 7523 §3), signed with `key`."""
    key = key or client_key(KEY_ALGS[alg])
    now = clock.now()
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "jti": secrets.token_urlsafe(16), "iat": now,
              "exp": now + lifetime}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    header = {"alg": alg, "kid": key.kid, "typ": "JWT"}
    return jwt.encode(header, claims, key, algorithms=[alg])


def auth_form(client_id: str, aud: str, **kwargs) -> dict:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion(client_id, aud, **kwargs)}


def ath(access_token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest()).rstrip(b"=").decode()


def dpop_proof(htm: str, htu: str, key=None, alg: str = "ES256", access_token: str | None = None,
               nonce: str | None = None, **overrides) -> str:
    """A DPoP proof JWT (RFC 9449 §4.2) for one request."""
    key = key or client_key("ec", "dpop")
    claims = {"jti": secrets.token_urlsafe(16), "htm": htm, "htu": htu, "iat": clock.now()}
    if access_token:
        claims["ath"] = ath(access_token)
    if nonce:
        claims["nonce"] = nonce
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    public = {k: v for k, v in key.as_dict(private=False).items() if k != "kid"}
    return jwt.encode({"typ": "dpop+jwt", "alg": alg, "jwk": public}, claims, key, algorithms=[alg])


def request_object(client_id: str, aud: str, params: dict, key=None, alg: str = "PS256", lifetime: int = 300,
                   **overrides) -> str:
    """A signed request object (RFC 9101 §4) carrying `params`."""
    now = clock.now()
    claims = {"iss": client_id, "aud": aud, "client_id": client_id, "iat": now, "nbf": now, "exp": now + lifetime,
              "jti": secrets.token_urlsafe(12), **params}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    if alg == "none":
        import json

        def b64(data: dict) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

        return f"{b64({'alg': 'none'})}.{b64(claims)}."
    key = key or client_key(KEY_ALGS[alg])
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "oauth-authz-req+jwt"}, claims, key, algorithms=[alg])
