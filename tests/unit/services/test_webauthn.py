"""WebAuthn registration and authentication with a software authenticator: RP ID and origin from
the issuer, single-use browser-bound challenges, the userHandle check for passwordless sign-in, user
verification, and sign-counter regressions."""

from __future__ import annotations

import json

import pytest

from idp.errors import CounterRegression, SecondFactorFailed
from idp.services import clock, mfa, users
from idp.services.mfa import webauthn
from idp.services.runtime import current
from tests.soft_authenticator import SoftAuthenticator

BROWSER = "b" * 43
ORIGIN = "http://localhost"  # the test app's issuer


def _register(user, authenticator: SoftAuthenticator, nickname: str | None = "My key"):
    settings = current().settings
    options = webauthn.registration_options(settings, user, BROWSER)
    return webauthn.register(settings, user, authenticator.create(options), nickname, BROWSER)


def _sign_in(authenticator: SoftAuthenticator, user_id: int | None, **kwargs):
    settings = current().settings
    options = webauthn.authentication_options(settings, user_id, BROWSER)
    return webauthn.authenticate(settings, authenticator.get(options, **kwargs), BROWSER, user_id)


def test_registration_options_follow_the_issuer_and_ask_for_a_discoverable_credential(ctx, user):
    options = json.loads(webauthn.registration_options(current().settings, user, BROWSER))
    assert options["rp"] == {"id": "localhost", "name": "localhost"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["user"]["name"] == "alice" and options["user"]["displayName"] == "Alice Liddell"
    assert options["excludeCredentials"] == []
    assert webauthn.relying_party(current().settings) == ("localhost", ORIGIN)


def test_register_stores_the_credential_and_excludes_it_next_time(ctx, user):
    key = SoftAuthenticator(ORIGIN, "localhost")
    passkey = _register(user, key)
    assert passkey.nickname == "My key" and passkey.transports == ("usb",)  # unknown transports dropped
    assert passkey.device_type == "single_device" and not passkey.backed_up
    assert mfa.status(user.id).enrolled
    options = json.loads(webauthn.registration_options(current().settings, user, BROWSER))
    assert [c["id"] for c in options["excludeCredentials"]] == [key.id]
    assert options["user"]["id"] == key.user_handle  # one stable, random handle per person


def test_a_registration_response_cannot_be_replayed(ctx, user):
    settings = current().settings
    key = SoftAuthenticator(ORIGIN, "localhost")
    response = key.create(webauthn.registration_options(settings, user, BROWSER))
    webauthn.register(settings, user, response, None, BROWSER)
    with pytest.raises(SecondFactorFailed, match="already used"):
        webauthn.register(settings, user, response, None, BROWSER)


def test_challenges_are_bound_to_the_browser_and_expire(ctx, user):
    settings = current().settings
    key = SoftAuthenticator(ORIGIN, "localhost")
    with pytest.raises(SecondFactorFailed, match="another ceremony"):
        webauthn.register(settings, user, key.create(webauthn.registration_options(settings, user, BROWSER)),
                          None, "c" * 43)
    options = webauthn.registration_options(settings, user, BROWSER)
    clock.advance(settings.webauthn_challenge_ttl + 1)
    with pytest.raises(SecondFactorFailed, match="expired"):
        webauthn.register(settings, user, key.create(options), None, BROWSER)


def test_a_response_for_another_origin_is_refused(ctx, user):
    settings = current().settings
    key = SoftAuthenticator(ORIGIN, "localhost")
    options = webauthn.registration_options(settings, user, BROWSER)
    with pytest.raises(SecondFactorFailed, match="did not verify"):
        webauthn.register(settings, user, key.create(options, origin="http://evil.example"), None, BROWSER)


def test_second_factor_assertion_earns_hwk_and_user(ctx, user):
    key = SoftAuthenticator(ORIGIN, "localhost")
    _register(user, key)
    assertion = _sign_in(key, user.id)
    assert assertion.user_id == user.id and assertion.methods == ("hwk", "user")
    assert mfa.status(user.id).passkeys[0].last_used_at is not None


def test_a_synced_passkey_is_a_software_key(ctx, user):
    key = SoftAuthenticator(ORIGIN, "localhost", synced=True)
    assert _register(user, key).device_type == "multi_device"
    assert _sign_in(key, None).methods == ("swk", "user")


def test_someone_elses_key_is_not_a_second_factor(ctx, user):
    bob = users.create(current().passwords, username="bob", password="another good password")
    key = SoftAuthenticator(ORIGIN, "localhost")
    _register(user, key)
    with pytest.raises(SecondFactorFailed, match="unknown"):
        _sign_in(key, bob.id)


def test_passwordless_checks_the_user_handle(ctx, user):
    key = SoftAuthenticator(ORIGIN, "localhost")
    _register(user, key)
    with pytest.raises(SecondFactorFailed, match="user handle"):
        _sign_in(key, None, user_handle="AAAA")
    assert _sign_in(key, None).user_id == user.id


def test_passwordless_requires_user_verification(ctx, user):
    key = SoftAuthenticator(ORIGIN, "localhost")
    _register(user, key)
    key.user_verifying = False
    options = json.loads(webauthn.authentication_options(current().settings, None, BROWSER))
    assert options["userVerification"] == "required" and options["allowCredentials"] == []
    with pytest.raises(SecondFactorFailed, match="did not verify"):
        _sign_in(key, None)
    assert _sign_in(key, user.id).methods == ("hwk",)  # as a second factor it is still possession


def test_a_signature_counter_that_goes_back_is_refused(ctx, user):
    key = SoftAuthenticator(ORIGIN, "localhost")
    _register(user, key)
    _sign_in(key, user.id, sign_count=5)
    with pytest.raises(CounterRegression) as caught:
        _sign_in(key, user.id, sign_count=5)
    assert caught.value.user_id == user.id
    with pytest.raises(CounterRegression):
        _sign_in(key, None, sign_count=3)
    assert _sign_in(key, user.id, sign_count=6).user_id == user.id


def test_authenticators_without_a_counter_are_accepted(ctx, user):
    key = SoftAuthenticator(ORIGIN, "localhost", synced=True)
    _register(user, key)
    for _ in range(2):
        assert _sign_in(key, user.id, sign_count=0).user_id == user.id


def test_rename_and_delete(ctx, user):
    key = SoftAuthenticator(ORIGIN, "localhost")
    passkey = _register(user, key, nickname=None)
    assert passkey.nickname == "Passkey 1"
    assert webauthn.rename(user.id, passkey.id, "  Work   laptop ").nickname == "Work laptop"
    webauthn.delete(user.id, passkey.id)
    assert not mfa.status(user.id).enrolled
    with pytest.raises(SecondFactorFailed, match="unknown"):
        _sign_in(key, None)


@pytest.mark.parametrize("credential", ["[" * 8000 + "]" * 8000, '{"id": "a\\u0000", "response": {}}'])
def test_hostile_json_is_a_malformed_response_not_a_crash(ctx, user, credential):
    with pytest.raises(SecondFactorFailed):
        webauthn.authenticate(current().settings, credential, "browser", user.id)
