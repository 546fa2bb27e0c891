"""No input makes the new endpoints fail with a 500: every answer is an RFC-shaped JSON error or a page."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import basic_auth

GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.mark.parametrize("path", ["/introspect", "/revoke", "/device_authorization"])
@pytest.mark.parametrize("body", [
    {"data": "token=%ff%fe&scope=%00"},
    {"data": {"token": "x" * 5000}},
    {"data": {"token": "a.b.c", "token_type_hint": "\u2603", "resource": ["", "http://[::1"]}},
    {"json": {"token": "x"}},
    {"data": {"token": "x", "client_id": "x" * 300}},
])
def test_odd_requests_get_json_errors(client, rp, path, body):
    kwargs = dict(body)
    if "data" in kwargs and isinstance(kwargs["data"], str):
        kwargs["content_type"] = "application/x-www-form-urlencoded"
    response = client.post(path, headers=basic_auth(rp.client.client_id, rp.client_secret), **kwargs)
    assert response.status_code < 500 and response.is_json, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("code", ["", "x" * 300, "\u2603", "BCDF-GHJK" * 10])
def test_odd_device_codes_and_user_codes(client, rp, code):
    response = client.post("/token", data={"grant_type": GRANT, "device_code": code, "client_id": "nobody"})
    assert response.status_code in (400, 401) and response.is_json
    page = client.get("/device", query_string={"user_code": code})
    assert page.status_code == 200


@pytest.mark.parametrize("path", ["/token", "/introspect", "/revoke", "/device_authorization", "/par"])
@pytest.mark.parametrize("header", ["Bearer ", " ", "Basic "])
def test_an_authorization_header_without_credentials_is_invalid_client(client, public_rp, path, header):
    """A scheme with nothing after it (Authlib's Basic parser crashed on it): RFC 6749 §5.2, the client
    tried the Authorization header, so 401 invalid_client with a Basic challenge."""
    response = client.post(path, headers={"Authorization": header}, data={
        "grant_type": "client_credentials", "token": "x", "response_type": "code",
        "client_id": public_rp.client.client_id})
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/token", "/introspect", "/revoke", "/par"])
@pytest.mark.parametrize("credentials", ["a%00b:secret", "\x00a:secret"])
def test_a_nul_in_basic_credentials_is_invalid_client(client, path, credentials):
    """The client id in a Basic header is percent-decoded (RFC 6749 §2.3.1), which can yield a NUL the
    request guard never saw: PostgreSQL cannot look such a string up, so it is refused before."""
    header = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
    response = client.post(path, headers=header, data={"grant_type": "client_credentials", "token": "x",
                                                       "response_type": "code"})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")



@pytest.mark.parametrize("method, path, module, step", [
    ("POST", "/token", "idp.protocol.token", "precheck"),
    ("POST", "/introspect", "idp.protocol.introspection", "precheck"),
    ("GET", "/register/abc", "idp.protocol.registration", "_enabled"),
])
def test_an_unexpected_failure_at_a_protocol_endpoint_is_a_json_server_error(client, monkeypatch, method, path,
                                                                          module, step):
    """Should a bug slip through, the RP's library still reads JSON (RFC 6749 §5.2 `server_error`), not a page."""
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(f"{module}.{step}", broken)
    response = client.open(path, method=method, data={"x": "y"} if method == "POST" else None)
    assert response.status_code == 500 and response.is_json
    assert response.get_json()["error"] == "server_error"
    assert response.headers["Cache-Control"] == "no-store"
