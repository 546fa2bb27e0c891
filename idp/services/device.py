"""The device authorization grant (RFC 8628): device and user codes, the person's decision and polling.
Guessing user codes is held back by the shared database throttle (interaction/device.py)."""

from __future__ import annotations

import secrets

from ..extensions import db
from ..storage import device as store
from ..types import ClientView, DeviceAuthorization, DeviceGrant, DeviceRequest, SessionView
from . import clock, crypto

# RFC 8628 §6.1: no vowels (no words), no look-alike digits; 20^8 ≈ 2.6e10 codes, typed as XXXX-XXXX.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
SLOW_DOWN_STEP = 5  # RFC 8628 §3.5: each slow_down adds 5 seconds to the interval

# Poll outcomes other than an approved grant, named after the RFC 8628 §3.5 / RFC 6749 §5.2 errors.
INVALID_GRANT = "invalid_grant"
EXPIRED_TOKEN = "expired_token"
SLOW_DOWN = "slow_down"
AUTHORIZATION_PENDING = "authorization_pending"
ACCESS_DENIED = "access_denied"


def format_user_code(code: str) -> str:
    half = USER_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def normalize_user_code(raw: str | None) -> str | None:
    """What the person typed, upper-cased, without dashes and spaces; None if it cannot be a code."""
    cleaned = "".join(c for c in (raw or "")[:40].upper() if c not in "- ")
    if len(cleaned) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in cleaned):
        return None
    return cleaned


def start(settings, client: ClientView, scope: str, resources: tuple[str, ...]) -> DeviceAuthorization:
    """Store a new device authorization request (RFC 8628 §3.1–3.2)."""
    now = clock.now()
    device_code = crypto.random_token(32)
    for _ in range(10):
        user_code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
        if not store.user_code_taken(user_code):
            break
    else:  # pragma: no cover - 10 collisions in a space of 2.6e10
        raise RuntimeError("could not find a free user code")
    store.add(store.DeviceCode(
        device_code_hash=crypto.lookup_hash(device_code), user_code=user_code, client_pk=client.id, scope=scope,
        resources=list(resources) or None, status=store.PENDING, interval=settings.device_poll_interval,
        issued_at=now, expires_at=now + settings.device_code_ttl,
    ))
    db.session.commit()
    return DeviceAuthorization(device_code=device_code, user_code=format_user_code(user_code),
                               expires_in=settings.device_code_ttl, interval=settings.device_poll_interval)


def find_pending(user_code: str | None) -> DeviceRequest | None:
    """The pending, unexpired request a typed user code names, or None."""
    code = normalize_user_code(user_code)
    return _pending(store.find_by_user_code(code) if code else None)


def get_pending(request_id: int) -> DeviceRequest | None:
    return _pending(store.get(request_id))


def _pending(row: store.DeviceCode | None) -> DeviceRequest | None:
    if row is None or row.status != store.PENDING or row.expires_at <= clock.now():
        return None
    return DeviceRequest(id=row.id, user_code=format_user_code(row.user_code), client_pk=row.client_pk,
                         scope=row.scope, resources=tuple(row.resources or ()), expires_at=row.expires_at)


def approve(request_id: int, session: SessionView, acr: str | None = None) -> bool:
    """Record that the signed-in person allowed the device; False if it was decided or expired."""
    ok = store.decide(request_id, clock.now(), dict(
        status=store.APPROVED, user_id=session.user_id, sid=session.sid, auth_time=session.auth_time,
        acr=acr or session.acr, amr=list(session.amr)))
    db.session.commit()
    return ok


def deny(request_id: int) -> bool:
    ok = store.decide(request_id, clock.now(), dict(status=store.DENIED))
    db.session.commit()
    return ok


def poll(device_code: str, client_pk: int) -> DeviceGrant | str:
    """One poll of the token endpoint (RFC 8628 §3.4–3.5): the approved grant, or the error to answer.
    Polling faster than the interval is `slow_down`, and the interval grows by 5 s for good."""
    if not device_code or len(device_code) > 256:
        return INVALID_GRANT
    row = store.find_by_hash(crypto.lookup_hash(device_code))
    if row is None or row.client_pk != client_pk or row.consumed_at is not None:
        return INVALID_GRANT
    now = clock.now()
    if row.expires_at <= now:
        return EXPIRED_TOKEN
    too_fast = row.last_polled_at is not None and now - row.last_polled_at < row.interval
    store.record_poll(row.id, now, row.interval + SLOW_DOWN_STEP if too_fast else row.interval)
    db.session.commit()
    if too_fast:
        return SLOW_DOWN
    if row.status == store.PENDING:
        return AUTHORIZATION_PENDING
    if row.status == store.DENIED:
        return ACCESS_DENIED
    return DeviceGrant(id=row.id, client_pk=row.client_pk, user_id=row.user_id, scope=row.scope,
                       resources=tuple(row.resources or ()), sid=row.sid, auth_time=row.auth_time, acr=row.acr,
                       amr=tuple(row.amr))


def claim(grant_id: int) -> bool:
    """Consume an approved device code inside the caller's transaction; one concurrent poll wins."""
    return store.claim(grant_id, clock.now())
