"""Clients' public keys (RFC 7591 §2 `jwks` / `jwks_uri`): checked at registration, resolved by `kid`
when a client assertion (RFC 7523) or a request object (RFC 9101) is verified.

A `jwks_uri` is fetched with a timeout and a size limit, without following redirects, over https
(http only for loopback hosts; a self-registered client's only from public addresses, services.outbound);
the key set is kept in memory for `jwks_uri_cache_ttl` seconds and fetched again at once when a `kid` is
not in it (at most every REFETCH_AFTER seconds, so unknown
kids cannot make us hammer the client's server)."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
import warnings
from functools import lru_cache
from urllib.parse import urlsplit

from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

from ..errors import ValidationError
from ..types import ClientView
from . import clock, outbound
from .text import N_

# Client signatures we verify (RFC 7518, RFC 8037 / RFC 9864). EdDSA stays accepted for the clients
# that still send it; joserfc warns it is deprecated in favour of Ed25519, which names the same thing.
CLIENT_SIGNING_ALGS = ("RS256", "PS256", "ES256", "EdDSA", "Ed25519")
FAPI2_SIGNING_ALGS = ("PS256", "ES256", "EdDSA", "Ed25519")  # FAPI 2.0 Security Profile §5.4.1
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)
MAX_JWKS_BYTES = 65536
MAX_KEYS = 20
REFETCH_AFTER = 10
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k", "oth")
LOOPBACK = ("localhost", "127.0.0.1", "::1")
log = logging.getLogger(__name__)


class KeysUnavailable(Exception):
    """The client's key set could not be obtained (fetch failed, bad document)."""


def validate_jwks(value) -> dict | None:
    """A JWK set of public signing keys (RSA of 2048 bits or more, EC P-256, OKP Ed25519)."""
    if value in (None, "", {}):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError(N_("jwks must be a JSON Web Key Set.")) from None
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list) or not value["keys"]:
        raise ValidationError(N_("jwks must be a JSON Web Key Set: {\"keys\": [...]}."))
    if len(value["keys"]) > MAX_KEYS or len(json.dumps(value)) > MAX_JWKS_BYTES:
        raise ValidationError(N_("jwks may hold at most %(num)d keys and 64 KiB."), num=MAX_KEYS)
    for jwk in value["keys"]:
        if not isinstance(jwk, dict) or any(m in jwk for m in PRIVATE_MEMBERS):
            raise ValidationError(N_("jwks must hold public keys only (no private key members)."))
    try:
        keys = _import(json.dumps(value, sort_keys=True)).keys
    except (JoseError, ValueError, TypeError, KeyError):
        raise ValidationError(N_("jwks holds a key that cannot be read.")) from None
    for key in keys:
        if isinstance(key, RSAKey) and key.raw_value.key_size < 2048 or \
                isinstance(key, ECKey) and key.curve_name != "P-256" or \
                isinstance(key, OKPKey) and key.curve_name != "Ed25519" or \
                not isinstance(key, RSAKey | ECKey | OKPKey):
            raise ValidationError(N_("jwks keys must be RSA (2048 bits or more), EC P-256 or Ed25519."))
    return value


def validate_jwks_uri(uri: str | None) -> str | None:
    uri = (uri or "").strip()
    if not uri:
        return None
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment or parts.username \
            or len(uri) > 2000 or any(c.isspace() for c in uri):
        raise ValidationError(N_("jwks_uri must be an https URL without a fragment."))
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise ValidationError(N_("jwks_uri must use https (http only for loopback)."))
    return uri


def validate_signing_alg(alg: str | None, label: str, allow_none: bool = False) -> str | None:
    if alg in (None, ""):
        return None
    if alg == "none" and allow_none:
        return alg
    if alg not in CLIENT_SIGNING_ALGS:
        raise ValidationError(N_("%(label)s must be one of: %(options)s."), label=label,
                              options=", ".join(CLIENT_SIGNING_ALGS))
    return alg


def allowed_algs(client: ClientView, registered: str | None) -> tuple[str, ...]:
    """The algorithms a client's signatures may use: the registered one, else any we verify (FAPI 2.0
    clients: not RS256)."""
    if registered:
        return (registered,)
    return FAPI2_SIGNING_ALGS if client.fapi2 else CLIENT_SIGNING_ALGS


@lru_cache(maxsize=256)
def _import(document: str) -> KeySet:
    return KeySet.import_key_set(json.loads(document))


_cache: dict[str, tuple[int, KeySet]] = {}
_locks: dict[str, threading.Lock] = {}


def _fetch(uri: str, timeout: int, self_registered: bool) -> KeySet:
    validate_jwks_uri(uri)
    request = urllib.request.Request(uri, headers={"Accept": "application/json, application/jwk-set+json"})
    try:
        # A self-registered client's address is checked after DNS resolution (services.outbound, SSRF).
        with outbound.opener_for(uri, self_registered).open(request, timeout=timeout) as response:
            if response.status != 200:
                raise KeysUnavailable(f"jwks_uri answered {response.status}")
            body = response.read(MAX_JWKS_BYTES + 1)
    except outbound.RefusedAddress:
        raise KeysUnavailable("jwks_uri does not resolve to a public address") from None
    except urllib.error.HTTPError as exc:
        raise KeysUnavailable(f"jwks_uri answered {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise KeysUnavailable(f"jwks_uri could not be fetched: {exc.__class__.__name__}") from None
    if len(body) > MAX_JWKS_BYTES:
        raise KeysUnavailable("jwks_uri document is larger than 64 KiB")
    try:
        document = validate_jwks(json.loads(body))
    except (ValueError, ValidationError) as exc:
        raise KeysUnavailable(f"jwks_uri document is not a usable key set: {exc}") from None
    if document is None:
        raise KeysUnavailable("jwks_uri document holds no keys")
    return _import(json.dumps(document, sort_keys=True))


def _has_kid(keys: KeySet, kid: str | None) -> bool:
    return kid is None or any(k.kid == kid for k in keys.keys)


def keyset(settings, client: ClientView, kid: str | None = None) -> KeySet:
    """The client's public keys, with `kid` among them if it can be found (then fetched again at
    most every REFETCH_AFTER seconds). Raises KeysUnavailable."""
    if client.jwks:
        return _import(json.dumps(client.jwks, sort_keys=True))
    if not client.jwks_uri:
        raise KeysUnavailable("the client has registered no keys")
    now = clock.now()
    cached = _cache.get(client.jwks_uri)
    fresh = cached is not None and 0 <= now - cached[0] < settings.jwks_uri_cache_ttl
    if fresh and _has_kid(cached[1], kid):
        return cached[1]
    if cached is not None and 0 <= now - cached[0] < REFETCH_AFTER:
        return cached[1]  # fetched moments ago: an unknown kid does not trigger another fetch
    with _locks.setdefault(client.jwks_uri, threading.Lock()):  # one fetch per URI at a time
        again = _cache.get(client.jwks_uri)
        if again is not None and again is not cached and _has_kid(again[1], kid):
            return again[1]
        try:
            keys = _fetch(client.jwks_uri, settings.jwks_uri_timeout, client.self_registered)
        except KeysUnavailable as exc:
            if cached is None:
                raise
            # The client's server is down or broken: keep using the keys it published last.
            log.warning("jwks_uri of client %s: %s; using the cached key set", client.client_id, exc)
            return cached[1]
        _cache[client.jwks_uri] = (now, keys)
    log.info("fetched the jwks_uri of client %s", client.client_id)
    return keys


KTY_OF_ALG = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC", "EdDSA": "OKP", "Ed25519": "OKP"}


def key_for(settings, client: ClientView, alg: str, kid: str | None):
    """The client's key that verifies a signature with `alg`: the one named by `kid`, or without a
    kid the only key of the right type. Raises KeysUnavailable."""
    keys = keyset(settings, client, kid)
    candidates = [k for k in keys.keys if k.key_type == KTY_OF_ALG.get(alg) and (kid is None or k.kid == kid)]
    if len(candidates) != 1:
        raise KeysUnavailable("no key with this kid" if kid else "several keys fit: send a kid")
    return candidates[0]


def forget(uri: str) -> None:
    """Drop a cached key set (tests, or after the client re-registers its keys)."""
    _cache.pop(uri, None)
