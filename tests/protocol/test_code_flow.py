"""Authorization code flow: OIDC Core §3.1, RFC 6749 §4.1, RFC 7636, RFC 9207."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.conftest import basic_auth, make_client, pkce_pair, query_of, redeem


def _verify_id_token(client, token: str) -> dict:
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    return jwt.decode(token, keys, algorithms=["RS256"]).claims


def test_full_flow_issues_verifiable_id_token(client, browser, user, rp, settings):
    result = browser.sign_in(rp)
    assert result["state"] == "st4te"
    assert result["iss"] == settings.issuer  # RFC 9207 §2
    response = redeem(client, rp, result["code"], result["_verifier"])
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    claims = _verify_id_token(client, body["id_token"])
    assert claims["iss"] == settings.issuer
    assert claims["aud"] == rp.client.client_id
    assert claims["sub"] == user.sub
    assert claims["nonce"] == "n0nce"
    for name in ("exp", "iat", "auth_time", "at_hash", "acr", "amr", "sid"):
        assert name in claims, name
    assert claims["amr"] == ["pwd"]


def test_userinfo_returns_scoped_claims(client, browser, user, rp):
    result = browser.sign_in(rp, scope="openid email")
    body = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).get_json()
    assert info == {"sub": user.sub, "email": "alice@example.com", "email_verified": True}


def test_code_is_single_use_and_replay_revokes_tokens(client, browser, user, rp):
    result = browser.sign_in(rp)
    first = redeem(client, rp, result["code"], result["_verifier"])
    assert first.status_code == 200
    access_token = first.get_json()["access_token"]
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"}).status_code == 200
    second = redeem(client, rp, result["code"], result["_verifier"])
    assert second.status_code == 400
    assert second.get_json()["error"] == "invalid_grant"
    after = client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert after.status_code == 401
    assert 'error="invalid_token"' in after.headers["WWW-Authenticate"]


def test_wrong_pkce_verifier_is_invalid_grant(client, browser, user, rp):
    result = browser.sign_in(rp)
    other_verifier, _ = pkce_pair()
    response = redeem(client, rp, result["code"], other_verifier)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_second_app_gets_sso_without_password(app, client, browser, user, rp):
    other = make_client(app, name="Second App", redirect_uris=["https://two.example.com/cb"], skip_consent=True)
    browser.sign_in(rp)
    query = dict(response_type="code", client_id=other.client.client_id, redirect_uri="https://two.example.com/cb",
                 scope="openid", state="s2")
    response = client.get("/authorize", query_string=query)
    assert response.status_code == 302
    assert query_of(response.headers["Location"])["code"]


def test_bad_client_secret_is_401_with_challenge(client, browser, user, rp):
    result = browser.sign_in(rp)
    response = client.post("/token", data={
        "grant_type": "authorization_code", "code": result["code"], "redirect_uri": rp.client.redirect_uris[0],
        "code_verifier": result["_verifier"]}, headers=basic_auth(rp.client.client_id, "wrong"))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
