"""Pushed authorization requests (RFC 9126): a client POSTs its authorization request to the PAR
endpoint and gets a `request_uri` that stands for it at /authorize — once, for that client, within
`pushed_authorization_request_ttl` seconds."""

from __future__ import annotations

from ..extensions import db
from ..storage import pushed_requests as store
from . import clock, crypto

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"  # RFC 9126 §2.2


def push(settings, client_pk: int, params: dict[str, str]) -> tuple[str, int]:
    """Store validated parameters; returns the request_uri and its lifetime in seconds."""
    secret = crypto.random_token(32)
    now = clock.now()
    ttl = settings.pushed_authorization_request_ttl
    store.add(store.PushedRequest(request_uri_hash=crypto.lookup_hash(secret), client_pk=client_pk, params=params,
                                  created_at=now, expires_at=now + ttl))
    db.session.commit()
    return REQUEST_URI_PREFIX + secret, ttl


def is_pushed_request_uri(request_uri: str) -> bool:
    """Whether `request_uri` has the form of ours (RFC 9126 §2.2); any other is never fetched."""
    return request_uri.startswith(REQUEST_URI_PREFIX)


def redeem(request_uri: str, client_pk: int) -> dict[str, str] | None:
    """The parameters pushed as `request_uri` by this client, consumed exactly once (RFC 9126 §4:
    one-time use); None when unknown, another client's, expired or already used."""
    if not is_pushed_request_uri(request_uri) or len(request_uri) > 200:
        return None
    row = store.find(crypto.lookup_hash(request_uri[len(REQUEST_URI_PREFIX):]))
    if row is None or row.client_pk != client_pk:
        return None
    params = dict(row.params)
    claimed = store.claim(row.id, clock.now())
    db.session.commit()
    return params if claimed else None
