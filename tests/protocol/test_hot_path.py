"""The hot path does no avoidable work: discovery and JWKS are served from memory, UserInfo and the
token endpoint use a bounded number of indexed queries, and no key is decrypted per request."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from idp.extensions import db
from idp.services import crypto
from tests.conftest import basic_auth, make_client, redeem


@contextmanager
def count_queries(app):
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_discovery_and_jwks_run_no_queries(app, client):
    client.get("/jwks.json")  # warm the key ring
    with count_queries(app) as statements:
        for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/jwks.json"):
            assert client.get(path).status_code == 200
    assert statements == []


def test_userinfo_uses_two_queries(app, client, browser, user, rp):
    result = browser.sign_in(rp)
    token = redeem(client, rp, result["code"], result["_verifier"]).get_json()["access_token"]
    with count_queries(app) as statements:
        assert client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert len(statements) == 2, statements  # the token's jti (revocation), then the user


def test_no_key_decryption_per_request(app, client, browser, user, rp, monkeypatch):
    client.get("/jwks.json")  # warm the key ring
    calls = []
    original = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda *a: calls.append(1) or original(*a))
    for _ in range(3):
        result = browser.sign_in(rp)
        assert redeem(client, rp, result["code"], result["_verifier"]).status_code == 200
    assert calls == []


def test_code_exchange_uses_six_statements(app, client, browser, user, rp):
    result = browser.sign_in(rp, scope="openid")
    with count_queries(app) as statements:
        assert redeem(client, rp, result["code"], result["_verifier"]).status_code == 200
    # client, code, user, the atomic claim, one insert for the access token, one for its audit record
    assert len(statements) == 6, statements


def test_introspection_and_userinfo_only_read(app, client, browser, user, rp):
    result = browser.sign_in(rp)
    token = redeem(client, rp, result["code"], result["_verifier"]).get_json()["access_token"]
    with count_queries(app) as statements:
        assert client.post("/introspect", headers=basic_auth(rp.client.client_id, rp.client_secret),
                           data={"token": token}).get_json()["active"] is True
        assert client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert statements and all(s.lstrip().upper().startswith("SELECT") for s in statements), statements
    # introspection: the client, the token, its owner; UserInfo: the token, its owner
    assert len(statements) == 5, statements


def test_client_credentials_uses_three_statements(app, client):
    service = make_client(app, name="Service", grant_types=["client_credentials"], scopes=["api:read"],
                          redirect_uris=[])
    auth = basic_auth(service.client.client_id, service.client_secret)
    client.post("/token", headers=auth, data={"grant_type": "client_credentials"})
    with count_queries(app) as statements:
        assert client.post("/token", headers=auth, data={"grant_type": "client_credentials"}).status_code == 200
    # the client, one insert for the token, one for its audit record — committed once
    assert len(statements) == 3, statements
