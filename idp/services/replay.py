"""Single use of one-time JWT identifiers: a client assertion's `jti` (RFC 7523 §3 item 7) and a DPoP
proof's `jti` (RFC 9449 §11.1). Each is remembered until the JWT could no longer be accepted anyway."""

from __future__ import annotations

import hashlib

from ..storage import replay as store

CLIENT_ASSERTION = "client_assertion"
DPOP_PROOF = "dpop"


def first_use(kind: str, issuer: str, jti: str, expires_at: int) -> bool:
    """True the first time (kind, issuer, jti) is presented; False on every later (or racing) use.
    Commits its own transaction."""
    digest = hashlib.sha256("\x00".join((kind, issuer, jti)).encode("utf-8", "surrogatepass")).hexdigest()
    return store.first_use(digest, expires_at)
