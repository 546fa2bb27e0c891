"""Token introspection (RFC 7662): authenticated confidential clients only; `active: false` for
unknown, expired, revoked, disabled users' and other clients' tokens; the standard members otherwise."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from idp.extensions import db
from idp.services import clock
from idp.storage.users import User
from tests.conftest import basic_auth, make_client, redeem

API = "https://api.example.com"


def introspect(client, caller, token, **extra):
    return client.post("/introspect", data={"token": token, **extra},
                       headers=basic_auth(caller.client.client_id, caller.client_secret))


@pytest.fixture()
def tokens(client, browser, user, rp):
    result = browser.sign_in(rp, scope="openid profile offline_access")
    return redeem(client, rp, result["code"], result["_verifier"]).get_json()


def test_an_active_access_token_has_the_standard_members(client, rp, tokens, settings):
    response = introspect(client, rp, tokens["access_token"])
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["active"] is True
    assert body["scope"] == "openid profile offline_access" and body["client_id"] == rp.client.client_id
    assert body["token_type"] == "Bearer" and body["username"] == "alice" and body["iss"] == settings.issuer
    assert body["aud"] == settings.issuer and body["jti"]
    assert body["exp"] - body["iat"] == settings.access_token_ttl and isinstance(body["sub"], str)
    assert "auth_time" in body and body["acr"]


def test_a_refresh_token_can_be_introspected_by_its_client(client, rp, tokens, settings):
    body = introspect(client, rp, tokens["refresh_token"], token_type_hint="refresh_token").get_json()
    assert body["active"] is True and "token_type" not in body
    assert body["exp"] - body["iat"] == settings.refresh_token_idle_ttl


def test_the_hint_is_only_a_hint(client, rp, tokens):
    assert introspect(client, rp, tokens["access_token"], token_type_hint="refresh_token").get_json()["active"]
    assert introspect(client, rp, tokens["refresh_token"], token_type_hint="access_token").get_json()["active"]
    assert introspect(client, rp, tokens["access_token"],
                      token_type_hint="something_else").get_json()["active"]


@pytest.mark.parametrize("token", ["", "x", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "z" * 5000])
def test_unknown_or_garbage_tokens_are_inactive_or_invalid_request(client, rp, token):
    response = introspect(client, rp, token)
    if not token or len(token) > 4096:
        assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"
    else:
        assert response.status_code == 200 and response.get_json() == {"active": False}


def test_expired_tokens_are_inactive(client, rp, tokens, settings):
    clock.advance(settings.access_token_ttl + 1)
    assert introspect(client, rp, tokens["access_token"]).get_json() == {"active": False}
    assert introspect(client, rp, tokens["refresh_token"]).get_json()["active"] is True


def test_tokens_of_a_disabled_user_are_inactive(app, client, rp, tokens, user):
    with app.app_context():
        db.session.execute(update(User).where(User.id == user.id).values(enabled=False))
        db.session.commit()
    assert introspect(client, rp, tokens["access_token"]).get_json() == {"active": False}
    assert introspect(client, rp, tokens["refresh_token"]).get_json() == {"active": False}
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401


def test_another_clients_token_is_inactive_for_the_caller(app, client, tokens):
    other = make_client(app, name="Other", redirect_uris=["https://other.example.com/cb"])
    assert introspect(client, other, tokens["access_token"]).get_json() == {"active": False}
    assert introspect(client, other, tokens["refresh_token"]).get_json() == {"active": False}


def test_a_resource_server_sees_access_tokens_for_its_resource_only(app, client, browser, user):
    rp = make_client(app, name="App", redirect_uris=["https://app.example.com/cb"], scopes=["openid", "api:read"],
                     grant_types=["authorization_code", "refresh_token"], resources=[API], skip_consent=True)
    api = make_client(app, name="The API", redirect_uris=[], grant_types=["client_credentials"], scopes=["api:x"],
                      served_resources=[API])
    for_api = browser.sign_in(rp, scope="openid api:read", resource=API)
    token = redeem(client, rp, for_api["code"], for_api["_verifier"]).get_json()["access_token"]
    body = introspect(client, api, token).get_json()
    assert body["active"] is True and body["aud"] == API and body["client_id"] == rp.client.client_id
    plain = browser.sign_in(rp, scope="openid")
    other = redeem(client, rp, plain["code"], plain["_verifier"]).get_json()["access_token"]
    assert introspect(client, api, other).get_json() == {"active": False}


def test_introspection_requires_client_authentication(client, rp, public_rp, tokens):
    anonymous = client.post("/introspect", data={"token": tokens["access_token"]})
    assert anonymous.status_code == 401 and anonymous.get_json()["error"] == "invalid_client"
    wrong = client.post("/introspect", data={"token": tokens["access_token"]},
                        headers=basic_auth(rp.client.client_id, "wrong"))
    assert wrong.status_code == 401 and "Basic" in wrong.headers["WWW-Authenticate"]
    public = client.post("/introspect", data={"token": tokens["access_token"], "client_id": public_rp.client.client_id})
    assert public.status_code == 401 and public.get_json()["error"] == "invalid_client"


def test_client_secret_post_works_for_a_client_registered_with_it(app, client, browser, user):
    rp = make_client(app, name="Post", redirect_uris=["https://post.example.com/cb"], skip_consent=True,
                     token_endpoint_auth_method="client_secret_post")
    result = browser.sign_in(rp, scope="openid")
    token = client.post("/token", data={
        "grant_type": "authorization_code", "code": result["code"], "redirect_uri": rp.client.redirect_uris[0],
        "code_verifier": result["_verifier"], "client_id": rp.client.client_id, "client_secret": rp.client_secret})
    assert token.status_code == 200, token.get_json()
    body = client.post("/introspect", data={"token": token.get_json()["access_token"],
                                            "client_id": rp.client.client_id, "client_secret": rp.client_secret})
    assert body.get_json()["active"] is True


@pytest.mark.parametrize("method", ["get", "put"])
def test_only_post_is_allowed(client, method):
    assert getattr(client, method)("/introspect").status_code == 405


def test_malformed_requests_are_invalid_request_not_500(client, rp, tokens):
    headers = basic_auth(rp.client.client_id, rp.client_secret)
    as_json = client.post("/introspect", json={"token": tokens["access_token"]}, headers=headers)
    assert as_json.status_code == 400 and as_json.get_json()["error"] == "invalid_request"
    repeated = client.post("/introspect", data={"token": ["a", "b"]}, headers=headers)
    assert repeated.status_code == 400 and repeated.get_json()["error"] == "invalid_request"
    bad_basic = client.post("/introspect", data={"token": "a"}, headers={"Authorization": "Basic %%%"})
    assert bad_basic.status_code == 401 and bad_basic.get_json()["error"] == "invalid_client"
