"""Signing keys: generation, encryption at rest, the in-memory key ring, and rotation.

Rotation (documented in config/defaults.toml and the README) runs in three steps:
publish *next* → promote it to *current* (signing) → *retire* the old current, which stays in the
JWKS until the longest lifetime of anything it signed has passed. Each algorithm of the
`signing_algorithms` setting (RS256 always; PS256, ES256) has its own current and next key, and
all of them rotate together.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..errors import ConfigurationError
from ..extensions import db
from ..storage import clients as client_store
from ..storage import keys as store
from ..types import SigningKey
from . import clock, crypto

ALG = "RS256"  # the default, always present (OIDC Core §15.1)
# Margin added to lifetimes to absorb clock skew between servers and relying parties.
SKEW = 60
RETRY_AFTER_OUTAGE = 5  # seconds before a process retries reading keys while the database is away
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    alg: str
    state: str
    created_at: int
    activated_at: int | None
    retired_at: int | None
    unpublish_after: int | None


def _generate(settings, alg: str):
    """RSA keys for RS256 and PS256 (each alg its own key), a P-256 key for ES256."""
    return ECKey.generate_key("P-256") if alg == "ES256" else RSAKey.generate_key(settings.signing_key_size)


def _import(alg: str, pem: bytes):
    return ECKey.import_key(pem) if alg == "ES256" else RSAKey.import_key(pem)


def _new_row(settings, state: str, now: int, alg: str = ALG) -> store.SigningKeyRow:
    key = _generate(settings, alg)
    kid = key.thumbprint()  # RFC 7638
    public = dict(key.as_dict(private=False), kid=kid, use="sig", alg=alg)
    pem = key.as_pem(private=True)
    return store.SigningKeyRow(
        kid=kid, state=state, alg=alg, public_jwk=public,
        private_key_encrypted=crypto.encrypt(settings.kek_bytes, pem, kid.encode()),
        created_at=now, activated_at=now if state == store.CURRENT else None,
    )


def longest_signed_lifetime(settings) -> int:
    """The longest time a token signed now may need verifying (global or per-client lifetimes)."""
    per_client = db.session.scalar(
        select(func.max(func.coalesce(client_store.Client.access_token_ttl, 0)))
    ) or 0
    per_client_id = db.session.scalar(select(func.max(func.coalesce(client_store.Client.id_token_ttl, 0)))) or 0
    return max(settings.longest_token_ttl, per_client, per_client_id) + SKEW


def _of(rows, alg: str) -> list:
    return [r for r in rows if r.alg == alg]


def ensure_keys(settings) -> None:
    """On first start (or after manual deletion, or when an algorithm is added to the settings) make
    sure a current and a next key exist for every signing algorithm."""
    now = clock.now()
    currents, nexts = store.in_state(store.CURRENT), store.in_state(store.NEXT)
    for alg in settings.signing_algs:
        if not _of(currents, alg):
            store.add(_new_row(settings, store.CURRENT, now, alg))
            log.info("generated the first %s signing key", alg)
        if not _of(nexts, alg):
            store.add(_new_row(settings, store.NEXT, now, alg))
    db.session.commit()


def rotate(settings) -> str | None:
    """For every signing algorithm: promote next → current, retire current, pre-publish a new next.
    Returns the new RS256 signing kid, or None when a concurrent rotation won (nothing is changed then)."""
    now = clock.now()
    nexts = store.in_state(store.NEXT)
    if any(not _of(nexts, alg) for alg in settings.signing_algs):
        ensure_keys(settings)
        nexts = store.in_state(store.NEXT)
    currents = store.in_state(store.CURRENT)
    # Other processes keep signing with the retired key until their next key-ring refresh.
    unpublish = now + settings.key_ring_refresh_seconds + longest_signed_lifetime(settings)
    ok, promoted_kid = True, None
    for alg in settings.signing_algs:
        promoted = _of(nexts, alg)[0]
        promoted_kid = promoted_kid or promoted.kid  # RS256 comes first
        ok = ok and store.transition(promoted.id, promoted.version, state=store.CURRENT, activated_at=now)
        for row in _of(currents, alg):
            ok = ok and store.transition(
                row.id, row.version, state=store.RETIRED, retired_at=now, unpublish_after=unpublish
            )
    if not ok:
        db.session.rollback()
        return None
    for alg in settings.signing_algs:
        store.add(_new_row(settings, store.NEXT, now, alg))
    db.session.commit()
    log.info("rotated signing keys: %s now signs RS256", promoted_kid)
    return promoted_kid


def rotate_if_due(settings) -> str | None:
    """The scheduled rotation (a once-per-cluster background job, never a request hook)."""
    return rotate(settings) if rotation_due(settings, clock.now()) else None


def rotation_due(settings, now: int) -> bool:
    if settings.signing_key_rotation_days <= 0:
        return False
    currents = _of(store.in_state(store.CURRENT), ALG)
    if not currents:
        return True
    activated = max(r.activated_at or r.created_at for r in currents)
    return now >= activated + settings.signing_key_rotation_days * 86400


def list_keys() -> list[KeyInfo]:
    return [
        KeyInfo(r.kid, r.alg, r.state, r.created_at, r.activated_at, r.retired_at, r.unpublish_after)
        for r in store.all_keys()
    ]


class KeyRing:
    """Published keys and the decrypted signing key, held in memory and re-read from the database
    every `key_ring_refresh_seconds` (so rotations by other processes are seen). The JWKS document is
    serialised once per load; no key is decrypted on the request path."""

    def __init__(self, settings):
        self._settings = settings
        self._lock = threading.Lock()
        self._loaded_at: int | None = None
        self._signing: dict[str, SigningKey] = {}
        self._verify_keys: KeySet | None = None
        self._jwks_json: bytes = b""
        self.signing_since: int | None = None  # when the signing key began signing (for metrics)

    def _load(self, now: int) -> None:
        rows = store.published(now)
        algs = self._settings.signing_algs
        if any(not _of([r for r in rows if r.state == state], alg) for alg in algs
               for state in (store.CURRENT, store.NEXT)):
            ensure_keys(self._settings)
            rows = store.published(now)
        signing = dict(self._signing)
        for alg in algs:
            current = max((r for r in _of(rows, alg) if r.state == store.CURRENT),
                          key=lambda r: (r.activated_at or 0, r.id))
            if alg not in signing or signing[alg].kid != current.kid:
                try:
                    pem = crypto.decrypt(self._settings.kek_bytes, current.private_key_encrypted,
                                         current.kid.encode())
                except InvalidTag:
                    raise ConfigurationError(
                        "key_encryption_key cannot decrypt the signing keys in the database: "
                        "use the key they were created with (see the instance folder or IDP_KEY_ENCRYPTION_KEY)"
                    ) from None
                signing[alg] = SigningKey(kid=current.kid, private_key=_import(alg, pem),
                                          public_jwk=current.public_jwk)
        self._signing = signing
        rs256 = max((r for r in _of(rows, ALG) if r.state == store.CURRENT), key=lambda r: (r.activated_at or 0, r.id))
        self.signing_since = rs256.activated_at or rs256.created_at
        public = [r.public_jwk for r in rows]
        jwks_json = json.dumps({"keys": public}, separators=(",", ":")).encode()
        if jwks_json != self._jwks_json:  # rebuilt only when the published keys change
            self._verify_keys = KeySet.import_key_set({"keys": public})
            self._jwks_json = jwks_json
        db.session.commit()
        self._loaded_at = now

    def refresh_if_due(self) -> None:
        """Re-read the keys when the refresh interval has passed. Called before each request, never
        inside one, because loading may rotate keys and commits its own transaction."""
        now = clock.now()
        if not self._refresh_due(now):
            return
        with self._lock:
            if not self._refresh_due(now):
                return
            try:
                self._load(now)
            except SQLAlchemyError:
                if not self._signing:
                    raise
                # The database is away: keep serving the keys we have, look again in a few seconds.
                try:
                    db.session.rollback()
                except SQLAlchemyError:
                    db.session.remove()
                self._loaded_at = now - self._settings.key_ring_refresh_seconds + RETRY_AFTER_OUTAGE
                log.warning("could not re-read the signing keys (database unavailable); keeping the loaded ones")

    def refresh_due(self, now: int) -> bool:
        """Whether the next request should re-read the keys (the JWKS cache in front of the app asks)."""
        return self._refresh_due(now)

    def _refresh_due(self, now: int) -> bool:
        # A clock stepped backwards (NTP correction) must not stop refreshes until it catches up.
        loaded = self._loaded_at
        return loaded is None or not 0 <= now - loaded < self._settings.key_ring_refresh_seconds

    @property
    def loaded(self) -> bool:
        return bool(self._signing)

    def reload(self) -> None:
        with self._lock:
            self._load(clock.now())

    def _loaded(self) -> None:
        if self._loaded_at is None:
            self.refresh_if_due()

    def signing_key(self, alg: str = ALG) -> SigningKey:
        """The current key for `alg` (RS256 when that algorithm is not configured)."""
        self._loaded()
        return self._signing.get(alg) or self._signing[ALG]

    def algorithms(self) -> tuple[str, ...]:
        return self._settings.signing_algs

    def verify_keys(self) -> KeySet:
        self._loaded()
        assert self._verify_keys is not None
        return self._verify_keys

    def jwks_json(self) -> bytes:
        self._loaded()
        return self._jwks_json
