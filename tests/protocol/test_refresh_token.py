"""offline_access yields a refresh token (OIDC Core §11) that rotates on use (RFC 9700 §4.14.2)."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.conftest import basic_auth, redeem


def _refresh(client, rp, refresh_token, **extra):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    return client.post("/token", data=data, headers=basic_auth(rp.client.client_id, rp.client_secret))


def test_offline_access_yields_rotating_refresh_token(client, browser, user, rp):
    result = browser.sign_in(rp, scope="openid offline_access", prompt="consent")
    first = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    assert "refresh_token" in first
    second = _refresh(client, rp, first["refresh_token"])
    assert second.status_code == 200, second.get_json()
    body = second.get_json()
    assert body["refresh_token"] != first["refresh_token"]
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    original = jwt.decode(first["id_token"], keys).claims
    renewed = jwt.decode(body["id_token"], keys).claims
    assert renewed["auth_time"] == original["auth_time"]  # OIDC Core §12.2
    assert renewed["sub"] == original["sub"] and renewed["aud"] == original["aud"]


def test_no_refresh_token_without_offline_access(client, browser, user, rp):
    result = browser.sign_in(rp, scope="openid")
    assert "refresh_token" not in redeem(client, rp, result["code"], result["_verifier"]).get_json()


def test_reused_refresh_token_revokes_the_family(client, browser, user, rp):
    result = browser.sign_in(rp, scope="openid offline_access")
    first = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    rotated = _refresh(client, rp, first["refresh_token"]).get_json()
    replay = _refresh(client, rp, first["refresh_token"])
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    # The thief's replay kills the legitimate successor too.
    assert _refresh(client, rp, rotated["refresh_token"]).get_json()["error"] == "invalid_grant"
    bearer = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert client.get("/userinfo", headers=bearer).status_code == 401


def test_refresh_scope_may_narrow_not_widen(client, browser, user, rp):
    result = browser.sign_in(rp, scope="openid email offline_access")
    first = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    narrowed = _refresh(client, rp, first["refresh_token"], scope="openid offline_access")
    assert narrowed.status_code == 200 and narrowed.get_json()["scope"] == "openid offline_access"
    widened = _refresh(client, rp, narrowed.get_json()["refresh_token"], scope="openid profile offline_access")
    assert widened.status_code == 400 and widened.get_json()["error"] == "invalid_scope"
    # The rotated refresh token kept the original grant's scope (RFC 6749 §6).
    again = _refresh(client, rp, narrowed.get_json()["refresh_token"])
    assert again.status_code == 200 and set(again.get_json()["scope"].split()) == {"openid", "email", "offline_access"}
