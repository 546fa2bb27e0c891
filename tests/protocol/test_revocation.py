"""Token revocation (RFC 7009): a refresh token takes its whole grant with it; an access token, JWT
(by jti) or opaque, is refused by UserInfo and introspection at once; unknown tokens answer 200."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.services import tokens as token_service
from idp.storage.audit import AuditEvent
from tests.conftest import basic_auth, make_client, redeem


def revoke(client, caller, token, **extra):
    headers = basic_auth(caller.client.client_id, caller.client_secret) if caller.client_secret else {}
    data = {"token": token, **extra}
    if not caller.client_secret:
        data["client_id"] = caller.client.client_id
    return client.post("/revoke", data=data, headers=headers)


def _active(client, rp, token) -> bool:
    return client.post("/introspect", data={"token": token},
                       headers=basic_auth(rp.client.client_id, rp.client_secret)).get_json()["active"]


def _userinfo_status(client, token) -> int:
    return client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.fixture()
def tokens(client, browser, user, rp):
    result = browser.sign_in(rp, scope="openid offline_access")
    return redeem(client, rp, result["code"], result["_verifier"]).get_json()


def test_revoking_a_jwt_access_token_takes_effect_at_once(client, rp, tokens):
    assert _userinfo_status(client, tokens["access_token"]) == 200
    response = revoke(client, rp, tokens["access_token"], token_type_hint="access_token")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert _userinfo_status(client, tokens["access_token"]) == 401
    assert _active(client, rp, tokens["access_token"]) is False
    assert _active(client, rp, tokens["refresh_token"]) is True  # only the access token


def test_revoking_a_refresh_token_revokes_its_family(client, rp, tokens):
    headers = basic_auth(rp.client.client_id, rp.client_secret)
    rotated = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                          headers=headers).get_json()
    assert revoke(client, rp, rotated["refresh_token"]).status_code == 200
    for token in (tokens["access_token"], rotated["access_token"], rotated["refresh_token"]):
        assert _active(client, rp, token) is False
    assert _userinfo_status(client, rotated["access_token"]) == 401
    again = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]},
                        headers=headers)
    assert again.get_json()["error"] == "invalid_grant"


def test_revoking_an_opaque_access_token(app, client, browser, user):
    rp = make_client(app, name="Opaque", redirect_uris=["https://o.example.com/cb"], skip_consent=True,
                     access_token_format="opaque")
    result = browser.sign_in(rp, scope="openid")
    token = redeem(client, rp, result["code"], result["_verifier"]).get_json()["access_token"]
    assert _userinfo_status(client, token) == 200
    assert revoke(client, rp, token).status_code == 200
    assert _userinfo_status(client, token) == 401 and _active(client, rp, token) is False


def test_unknown_and_already_revoked_tokens_answer_200(client, rp, tokens):
    assert revoke(client, rp, "no-such-token").status_code == 200
    assert revoke(client, rp, tokens["access_token"]).status_code == 200
    assert revoke(client, rp, tokens["access_token"]).status_code == 200


def test_a_client_cannot_revoke_another_clients_token(app, client, rp, tokens):
    other = make_client(app, name="Other", redirect_uris=["https://other.example.com/cb"])
    response = revoke(client, other, tokens["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert _active(client, rp, tokens["refresh_token"]) is True


def test_public_clients_revoke_with_their_client_id(client, browser, user, public_rp):
    result = browser.sign_in(public_rp, scope="openid")
    token = redeem(client, public_rp, result["code"], result["_verifier"]).get_json()["access_token"]
    assert revoke(client, public_rp, token).status_code == 200
    assert _userinfo_status(client, token) == 401


def test_revocation_requires_the_clients_credentials(client, rp, tokens):
    response = client.post("/revoke", data={"token": tokens["access_token"]},
                           headers=basic_auth(rp.client.client_id, "wrong"))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    assert _userinfo_status(client, tokens["access_token"]) == 200
    missing = client.post("/revoke", data={}, headers=basic_auth(rp.client.client_id, rp.client_secret))
    assert missing.status_code == 400 and missing.get_json()["error"] == "invalid_request"


def test_revocation_is_audited(app, client, rp, tokens):
    revoke(client, rp, tokens["refresh_token"])
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "token.revoke")).one()
        assert event.client_id == rp.client.client_id and event.details["revoked_tokens"] == 2
        assert tokens["refresh_token"] not in str(event.details)


def test_revoke_grants_revokes_a_users_tokens_for_one_client_or_all(app, client, browser, user, rp):
    other = make_client(app, name="Second", redirect_uris=["https://second.example.com/cb"], skip_consent=True,
                        scopes=["openid", "offline_access"], grant_types=["authorization_code", "refresh_token"])
    first = browser.sign_in(rp, scope="openid offline_access")
    mine = redeem(client, rp, first["code"], first["_verifier"]).get_json()
    second = browser.sign_in(other, scope="openid offline_access")
    theirs = redeem(client, other, second["code"], second["_verifier"]).get_json()
    with app.app_context():
        assert token_service.revoke_grants(user.id, rp.client.id) == 2
        assert token_service.revoke_grants(user.id, rp.client.id) == 0
    assert _active(client, rp, mine["refresh_token"]) is False
    assert _active(client, other, theirs["refresh_token"]) is True
    with app.app_context():
        assert token_service.revoke_grants(user.id) == 2
    assert _active(client, other, theirs["access_token"]) is False


def test_authlib_revoke_token_works_for_a_client_secret_post_client(app, live_server, user):
    """Authlib's OAuth2Session.revoke_token() sends client_secret_basic whatever the client registered;
    /revoke and /introspect accept either secret method (both are advertised there), /token stays exact."""
    from authlib.integrations.requests_client import OAuth2Session

    from tests.conftest import Browser

    rp = make_client(app, name="Post", redirect_uris=["https://post.example.com/cb"],
                     token_endpoint_auth_method="client_secret_post", skip_consent=True,
                     grant_types=["authorization_code", "refresh_token"], scopes=["openid", "offline_access"])
    result = Browser(live_server.app.test_client()).sign_in(rp, scope="openid offline_access")
    session = OAuth2Session(rp.client.client_id, rp.client_secret, token_endpoint_auth_method="client_secret_post",
                            redirect_uri="https://post.example.com/cb")
    token = session.fetch_token(f"{live_server.url}/token", grant_type="authorization_code", code=result["code"],
                                code_verifier=result["_verifier"])
    introspection = session.introspect_token(f"{live_server.url}/introspect", token=token["access_token"])
    assert introspection.status_code == 200 and introspection.json()["active"] is True
    response = session.revoke_token(f"{live_server.url}/revoke", token=token["refresh_token"])
    assert response.status_code == 200, response.text
    basic_at_token = session.post(f"{live_server.url}/token", auth=(rp.client.client_id, rp.client_secret),
                                  data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]})
    assert basic_at_token.status_code == 401  # /token keeps the registered method exactly
