"""Signing keys: the key ring a fresh install starts with, RFC 7638 key ids, encryption at rest, and
rotation (publish next → promote to current → retire, unpublished once nothing it signed can still
be valid), by hand, on schedule, and under a race.

The signing_keys table survives between tests, so tests compare before/after instead of assuming
counts, and every rotation leaves one current and one next key, as rotate() does."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os

import pytest
from cryptography.exceptions import InvalidTag
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.errors import ConfigurationError
from idp.extensions import db
from idp.services import clients as client_service
from idp.services import clock, crypto
from idp.services import keys as key_service
from idp.services.runtime import current
from idp.storage import keys as store
from tests.conftest import basic_auth


@pytest.fixture()
def keyring(ctx):
    """The app's shared key ring, reloaded after the test at the real time so later tests do not
    see a ring loaded at a moved clock."""
    ring = current().keyring
    ring.reload()
    yield ring
    db.session.rollback()
    clock.reset()
    ring.reload()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _rfc7638_thumbprint(jwk: dict) -> str:
    names = ("e", "kty", "n") if jwk["kty"] == "RSA" else ("crv", "kty", "x", "y")
    members = {name: jwk[name] for name in names}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64(hashlib.sha256(canonical).digest())


def _published_kids(keyring) -> set[str]:
    return {k["kid"] for k in json.loads(keyring.jwks_json())["keys"]}


def _one(state: str, alg: str = "RS256") -> store.SigningKeyRow:
    rows = [r for r in store.in_state(state) if r.alg == alg]
    assert len(rows) == 1, f"expected exactly one {state} {alg} key, found {len(rows)}"
    return rows[0]


def test_a_started_server_has_one_current_and_one_next_key(keyring):
    current_key, next_key = _one(store.CURRENT), _one(store.NEXT)
    assert current_key.kid != next_key.kid
    assert keyring.signing_key().kid == current_key.kid
    # The next key is published ahead of use, so relying parties have it before it signs anything.
    assert {current_key.kid, next_key.kid} <= _published_kids(keyring)


def test_kid_is_the_rfc7638_thumbprint_of_the_public_key(keyring):
    for row in store.in_state(store.CURRENT) + store.in_state(store.NEXT):
        assert row.kid == _rfc7638_thumbprint(row.public_jwk)
    for jwk in json.loads(keyring.jwks_json())["keys"]:
        assert jwk["kid"] == _rfc7638_thumbprint(jwk)
        assert jwk["kty"] == ("EC" if jwk["alg"] == "ES256" else "RSA") and jwk["use"] == "sig"
        assert jwk["alg"] in ("RS256", "PS256", "ES256")


def test_published_keys_carry_no_private_parts(keyring):
    for jwk in json.loads(keyring.jwks_json())["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk), jwk["kid"]


def test_private_keys_are_stored_encrypted_under_the_kek(keyring):
    settings = current().settings
    row = _one(store.CURRENT)
    blob = row.private_key_encrypted
    assert b"-----BEGIN" not in blob and b"PRIVATE KEY" not in blob
    pem = crypto.decrypt(settings.kek_bytes, blob, row.kid.encode())
    assert pem.startswith(b"-----BEGIN") and b"PRIVATE KEY" in pem
    with pytest.raises(InvalidTag):
        crypto.decrypt(os.urandom(32), blob, row.kid.encode())
    # The ciphertext is bound to its row: it cannot be moved under another key's id.
    with pytest.raises(InvalidTag):
        crypto.decrypt(settings.kek_bytes, blob, _one(store.NEXT).kid.encode())


def test_a_server_with_the_wrong_kek_refuses_to_start_with_a_clear_error(keyring):
    settings = current().settings
    other = base64.urlsafe_b64encode(os.urandom(32)).decode()
    ring = key_service.KeyRing(dataclasses.replace(settings, key_encryption_key=other))
    with pytest.raises(ConfigurationError, match="key_encryption_key"):
        ring.reload()


def test_rotate_promotes_next_retires_current_and_publishes_a_new_next(keyring):
    settings = current().settings
    old_current, old_next = _one(store.CURRENT), _one(store.NEXT)
    old_current_kid, old_next_kid = old_current.kid, old_next.kid
    retired_before = {r.kid for r in store.in_state(store.RETIRED)}

    new_kid = key_service.rotate(settings)
    keyring.reload()

    assert new_kid == old_next_kid
    assert _one(store.CURRENT).kid == old_next_kid
    new_next = _one(store.NEXT)
    assert new_next.kid not in (old_current_kid, old_next_kid)
    retired_after = {r.kid for r in store.in_state(store.RETIRED)}
    # Every algorithm's current key is retired with the RS256 one (they rotate together).
    assert old_current_kid in retired_after - retired_before
    assert len(retired_after - retired_before) == len(settings.signing_algs)
    assert {r.alg for r in store.in_state(store.RETIRED) if r.kid in retired_after - retired_before} == set(
        settings.signing_algs)
    assert keyring.signing_key().kid == old_next_kid
    assert {old_current_kid, old_next_kid, new_next.kid} <= _published_kids(keyring)


def test_retired_key_stays_published_for_the_longest_token_lifetime_then_leaves(keyring):
    settings = current().settings
    old_kid = _one(store.CURRENT).kid
    key_service.rotate(settings)
    retired = next(r for r in store.in_state(store.RETIRED) if r.kid == old_kid)
    assert retired.unpublish_after - retired.retired_at >= settings.longest_token_ttl

    clock.advance(retired.unpublish_after - clock.now() - 5)
    keyring.reload()
    assert old_kid in _published_kids(keyring)
    assert old_kid in {k.kid for k in keyring.verify_keys().keys}

    clock.advance(10)
    keyring.reload()
    assert old_kid not in _published_kids(keyring)
    assert old_kid not in {k.kid for k in keyring.verify_keys().keys}
    # Unpublished, not deleted: `idp keys list` still shows its history.
    assert old_kid in {k.kid for k in key_service.list_keys() if k.state == store.RETIRED}


def test_retired_key_outlives_the_longest_per_client_token_lifetime(keyring):
    settings = current().settings
    long_lived = settings.longest_token_ttl + 86400
    client_service.create(name="Long tokens", redirect_uris=["https://long.example/cb"],
                          id_token_ttl=long_lived)
    old_kid = _one(store.CURRENT).kid
    key_service.rotate(settings)
    retired = next(r for r in store.in_state(store.RETIRED) if r.kid == old_kid)
    assert retired.unpublish_after - retired.retired_at >= long_lived

    clock.advance(settings.longest_token_ttl + key_service.SKEW + 60)
    keyring.reload()
    assert old_kid in _published_kids(keyring)


def test_token_signed_before_rotation_verifies_against_the_jwks_after_rotation(app, client):
    with app.app_context():
        ring = current().keyring
        ring.reload()
        key = ring.signing_key()
        token = jwt.encode({"alg": "RS256", "kid": key.kid}, {"sub": "someone", "iss": "http://localhost"},
                           key.private_key, algorithms=["RS256"])
        key_service.rotate(current().settings)
        ring.reload()
        assert ring.signing_key().kid != key.kid

    response = client.get("/jwks.json")
    assert response.status_code == 200
    published = KeySet.import_key_set(response.get_json())
    decoded = jwt.decode(token, published, algorithms=["RS256"])
    assert decoded.header["kid"] == key.kid
    assert decoded.claims["sub"] == "someone"

    with app.app_context():
        ring.reload()


def test_rotation_happens_by_itself_when_the_rotation_period_has_passed(keyring):
    settings = current().settings
    assert settings.signing_key_rotation_days > 0
    row = _one(store.CURRENT)
    old_kid, next_kid = row.kid, _one(store.NEXT).kid
    due_at = row.activated_at + settings.signing_key_rotation_days * 86400

    clock.advance(due_at - clock.now() - 10)
    assert key_service.rotate_if_due(settings) is None
    keyring.reload()
    assert keyring.signing_key().kid == old_kid
    assert _one(store.CURRENT).kid == old_kid

    clock.advance(20)
    assert key_service.rotate_if_due(settings) == next_kid  # the once-per-cluster job (services.jobs)
    keyring.reload()
    assert keyring.signing_key().kid == next_kid
    assert _one(store.CURRENT).kid == next_kid
    assert old_kid in {r.kid for r in store.in_state(store.RETIRED)}
    assert _one(store.NEXT).kid not in (old_kid, next_kid)
    assert old_kid in _published_kids(keyring)


def test_the_ring_refreshes_by_itself_after_the_refresh_interval(keyring):
    settings = current().settings
    old_kid = keyring.signing_key().kid
    new_kid = key_service.rotate(settings)  # e.g. `idp keys rotate` in another process
    keyring.refresh_if_due()
    assert keyring.signing_key().kid == old_kid  # cached until the interval has passed
    clock.advance(settings.key_ring_refresh_seconds)
    keyring.refresh_if_due()
    assert keyring.signing_key().kid == new_kid


def test_the_ring_refreshes_after_the_clock_steps_back(keyring):
    settings = current().settings
    clock.advance(10 * 86400)
    keyring.reload()
    clock.reset()  # the system clock is corrected backwards
    new_kid = key_service.rotate(settings)
    clock.advance(settings.key_ring_refresh_seconds)
    keyring.refresh_if_due()
    assert keyring.signing_key().kid == new_kid


def test_rotation_race_loser_changes_nothing(keyring):
    settings = current().settings
    stale_next, stale_current = _one(store.NEXT), _one(store.CURRENT)
    stale = (stale_next.id, stale_next.version, stale_current.id, stale_current.version)
    retired_before = len(store.in_state(store.RETIRED))

    winner = key_service.rotate(settings)  # the other process got there first
    assert winner == stale_next.kid

    # The loser read the same rows before the winner committed; its compare-and-set fails.
    now = clock.now()
    assert store.transition(stale[0], stale[1], state=store.CURRENT, activated_at=now) is False
    assert store.transition(stale[2], stale[3], state=store.RETIRED, retired_at=now,
                            unpublish_after=now) is False
    db.session.rollback()

    assert _one(store.CURRENT).kid == winner
    _one(store.NEXT)
    assert len(store.in_state(store.RETIRED)) == retired_before + len(current().settings.signing_algs)


def test_compare_and_set_with_the_current_version_succeeds_once(keyring):
    row = _one(store.NEXT)
    row_id, version = row.id, row.version
    # Same state, new version: a no-op change that still exercises the compare-and-set.
    assert store.transition(row_id, version, state=store.NEXT) is True
    assert store.transition(row_id, version, state=store.NEXT) is False
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(store.SigningKeyRow, row_id).version == version + 1


def test_rotation_period_zero_turns_the_schedule_off(keyring):
    settings = dataclasses.replace(current().settings, signing_key_rotation_days=0)
    old_kid = _one(store.CURRENT).kid
    clock.advance(1000 * 86400)
    assert key_service.rotate_if_due(settings) is None
    ring = key_service.KeyRing(settings)
    ring.reload()
    assert ring.signing_key().kid == old_kid
    assert _one(store.CURRENT).kid == old_kid


def test_tokens_signed_by_a_server_that_has_not_yet_seen_the_rotation_keep_verifying(keyring):
    # Server A re-reads keys every 10 minutes; `idp keys rotate` runs elsewhere just after A's read.
    settings = dataclasses.replace(current().settings, key_ring_refresh_seconds=600)
    server_a = key_service.KeyRing(settings)
    server_a.reload()
    old_kid = server_a.signing_key().kid
    key_service.rotate(settings)

    # Short of the refresh by a margin: generating the new key above takes real seconds on a busy machine.
    clock.advance(settings.key_ring_refresh_seconds - 30)
    server_a.refresh_if_due()
    assert server_a.signing_key().kid == old_kid  # A still signs with the retired key
    expires_at = clock.now() + settings.longest_token_ttl  # ...tokens valid this long

    clock.advance(expires_at - clock.now() - 1)
    relying_party_view = key_service.KeyRing(settings)
    relying_party_view.reload()
    assert old_kid in _published_kids(relying_party_view)


def test_access_token_signed_before_rotation_stays_valid_until_it_expires(app, client, browser, user, rp):
    """A real access token minted before a rotation verifies from the published JWKS and is accepted by
    UserInfo until its own expiry; the retired key leaves the JWKS only after the longest lifetime."""
    result = browser.sign_in(rp, scope="openid")
    body = client.post("/token", data={"grant_type": "authorization_code", "code": result["code"],
                                       "redirect_uri": rp.client.redirect_uris[0],
                                       "code_verifier": result["_verifier"]},
                       headers=basic_auth(rp.client.client_id, rp.client_secret)).get_json()
    token = body["access_token"]
    with app.app_context():
        ring = current().keyring
        old_kid = ring.signing_key().kid
        key_service.rotate(current().settings)
        ring.reload()
        assert ring.signing_key().kid != old_kid
        retired = next(r for r in store.in_state(store.RETIRED) if r.kid == old_kid)
        unpublish_after = retired.unpublish_after
    try:
        clock.advance(body["expires_in"] - 5)
        with app.app_context():
            ring.reload()
        published = KeySet.import_key_set(client.get("/jwks.json").get_json())
        assert jwt.decode(token, published).header["kid"] == old_kid
        assert client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        clock.advance(10)  # past the token's expiry: refused, though its key is still published
        assert client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        with app.app_context():
            ring.reload()
            assert old_kid in {k["kid"] for k in json.loads(ring.jwks_json())["keys"]}
            clock.advance(unpublish_after - clock.now() + 1)
            ring.reload()
            assert old_kid not in {k["kid"] for k in json.loads(ring.jwks_json())["keys"]}
    finally:
        clock.reset()
        with app.app_context():
            ring.reload()
