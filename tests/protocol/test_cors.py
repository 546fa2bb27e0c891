"""CORS for browser apps: only origins registered in an enabled client's allowed_cors_origins get
CORS headers on the token, UserInfo and revocation endpoints (and their preflights)."""

from __future__ import annotations

from tests.conftest import make_client

SPA = "https://spa.example.com"


def test_registered_origin_gets_cors_headers(app, client):
    make_client(app, name="SPA", redirect_uris=[f"{SPA}/cb"], token_endpoint_auth_method="none",
                allowed_cors_origins=[SPA])
    preflight = client.options("/token", headers={"Origin": SPA, "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == SPA
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "DPoP" in preflight.headers["Access-Control-Allow-Headers"]  # a browser app may send DPoP proofs
    actual = client.post("/token", data={"grant_type": "authorization_code"}, headers={"Origin": SPA})
    assert actual.headers["Access-Control-Allow-Origin"] == SPA and "Origin" in actual.headers["Vary"]
    userinfo = client.get("/userinfo", headers={"Origin": SPA})
    assert userinfo.status_code == 401 and userinfo.headers["Access-Control-Allow-Origin"] == SPA
    assert "DPoP-Nonce" in userinfo.headers["Access-Control-Expose-Headers"]


def test_other_origins_and_disabled_clients_get_none(app, client):
    make_client(app, name="SPA", redirect_uris=[f"{SPA}/cb"], token_endpoint_auth_method="none",
                allowed_cors_origins=[SPA])
    evil = client.options("/token", headers={"Origin": "https://evil.example.com",
                                             "Access-Control-Request-Method": "POST"})
    assert evil.status_code == 204 and "Access-Control-Allow-Origin" not in evil.headers
    assert "Access-Control-Allow-Origin" not in client.post("/token", headers={"Origin": "null"}).headers
    with app.app_context():
        from idp.services import clients

        spa = clients.list_registered()[0]
        clients.set_enabled(spa.client_id, False)
    assert "Access-Control-Allow-Origin" not in client.post("/token", headers={"Origin": SPA}).headers
    # Pages never get CORS headers.
    assert "Access-Control-Allow-Origin" not in client.get("/account/login", headers={"Origin": SPA}).headers
