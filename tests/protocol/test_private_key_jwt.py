"""private_key_jwt client authentication (RFC 7523 §2.2, §3; OIDC Core §9): keys by value or by
jwks_uri, at every client-authenticated endpoint, with single-use `jti`, short `exp`, and the
algorithms advertised in discovery. Driven by Authlib's own client over real HTTP."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT

from idp.errors import ValidationError
from idp.services import client_keys, clock
from tests.conftest import make_client, race
from tests.protocol.high_assurance import ASSERTION_TYPE, assertion, auth_form, client_key, public_jwks

API_SCOPES = ["invoices:read", "invoices:write"]


def _service(app, **kwargs):
    fields = dict(name="Bank job", redirect_uris=[], grant_types=["client_credentials"], scopes=API_SCOPES,
                  token_endpoint_auth_method="private_key_jwt",
                  jwks=public_jwks(client_key("rsa"), client_key("ec"), client_key("okp")))
    fields.update(kwargs)
    return make_client(app, **fields)


@pytest.fixture()
def service(app):
    return _service(app)


def _token(client, service, aud="http://localhost/token", **kwargs):
    return client.post("/token", data={"grant_type": "client_credentials",
                                       **auth_form(service.client.client_id, aud, **kwargs)})


def test_authlibs_private_key_jwt_client_gets_tokens_introspects_and_revokes(app, live_server):
    service = _service(app)
    assert service.client_secret is None  # a key client has no secret
    token_endpoint = f"{live_server.url}/token"
    session = OAuth2Session(service.client.client_id, client_key("rsa"), token_endpoint_auth_method="private_key_jwt",
                            revocation_endpoint_auth_method="private_key_jwt")
    session.register_client_auth_method(PrivateKeyJWT())  # aud: the URL of each endpoint called
    token = session.fetch_token(token_endpoint, grant_type="client_credentials", scope="invoices:read")
    assert token["token_type"] == "Bearer" and token["scope"] == "invoices:read"

    info = session.introspect_token(f"{live_server.url}/introspect", token["access_token"]).json()
    assert info["active"] is True and info["client_id"] == service.client.client_id
    revoked = session.revoke_token(f"{live_server.url}/revoke", token["access_token"])
    assert revoked.status_code == 200, revoked.text
    info = session.introspect_token(f"{live_server.url}/introspect", token["access_token"]).json()
    assert info == {"active": False}


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA", "Ed25519"])
def test_each_advertised_algorithm_authenticates(client, service, alg):
    assert alg in client.get("/.well-known/openid-configuration").get_json()[
        "token_endpoint_auth_signing_alg_values_supported"]
    response = _token(client, service, alg=alg)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("aud", ["http://localhost", "http://localhost/token", ["x", "http://localhost"]])
def test_audience_is_the_issuer_or_the_endpoint(client, service, aud):
    assert _token(client, service, aud=aud).status_code == 200


def _refused(response, why: str = "") -> None:
    assert response.status_code in (400, 401), response.get_json()
    assert response.get_json()["error"] == "invalid_client", why
    assert "access_token" not in response.get_json()


def test_a_replayed_assertion_is_refused(client, service):
    form = {"grant_type": "client_credentials", **auth_form(service.client.client_id, "http://localhost")}
    assert client.post("/token", data=form).status_code == 200
    _refused(client.post("/token", data=form))


@pytest.mark.parametrize("case", [
    dict(aud="https://elsewhere.example.com/token"),
    dict(aud="http://localhost", lifetime=-120),  # expired
    dict(aud="http://localhost", lifetime=7200),  # exp too far: not short-lived
    dict(aud="http://localhost", exp=None),
    dict(aud="http://localhost", jti=None),
    dict(aud="http://localhost", iss="someone-else"),
    dict(aud="http://localhost", key=client_key("rsa", "unregistered")),
])
def test_bad_assertions_are_invalid_client(client, service, case):
    _refused(_token(client, service, **case), str(case))


def test_unsigned_and_symmetric_assertions_are_refused(client, service):
    import base64

    def b64(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    cid = service.client.client_id
    now = clock.now()
    claims = {"iss": cid, "sub": cid, "aud": "http://localhost", "jti": "j1", "exp": now + 60}
    unsigned = f"{b64({'alg': 'none'})}.{b64(claims)}."
    form = {"grant_type": "client_credentials", "client_assertion": unsigned,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    _refused(client.post("/token", data=form))
    from joserfc import jwt
    from joserfc.jwk import OctKey
    hs = jwt.encode({"alg": "HS256"}, claims | {"jti": "j2"}, OctKey.import_key("s" * 32), algorithms=["HS256"])
    _refused(client.post("/token", data=form | {"client_assertion": hs}))


def test_a_registered_signing_alg_is_the_only_one_accepted(client, app):
    service = _service(app, token_endpoint_auth_signing_alg="ES256")
    _refused(_token(client, service, alg="RS256"))
    assert _token(client, service, alg="ES256").status_code == 200


def test_a_secret_client_cannot_use_an_assertion_nor_a_key_client_a_secret(client, app, service):
    secret_client = make_client(app, name="Secret", redirect_uris=[], grant_types=["client_credentials"],
                                scopes=API_SCOPES, jwks=public_jwks(client_key("rsa")))
    _refused(_token(client, secret_client))
    form = {"grant_type": "client_credentials", "client_id": service.client.client_id, "client_secret": "x"}
    _refused(client.post("/token", data=form))


def test_concurrent_uses_of_one_assertion_yield_exactly_one_token(app, live_server):
    service = _service(app)
    form = {"grant_type": "client_credentials", **auth_form(service.client.client_id, live_server.url)}
    responses = race(lambda: requests.post(f"{live_server.url}/token", data=form, timeout=30))
    assert sorted(r.status_code for r in responses)[:1] == [200]
    assert [r.status_code for r in responses].count(200) == 1, [r.text for r in responses]


def test_device_authorization_introspection_and_revocation_accept_assertions(client, app):
    device = make_client(app, name="Kiosk", redirect_uris=[], token_endpoint_auth_method="private_key_jwt",
                         grant_types=["urn:ietf:params:oauth:grant-type:device_code"], scopes=["openid"],
                         jwks=public_jwks(client_key("ec")))
    cid = device.client.client_id
    response = client.post("/device_authorization", data={"scope": "openid", **auth_form(
        cid, "http://localhost/device_authorization", alg="ES256")})
    assert response.status_code == 200 and "device_code" in response.get_json()
    response = client.post("/introspect", data={"token": "nope", **auth_form(cid, "http://localhost", alg="ES256")})
    assert response.status_code == 200 and response.get_json() == {"active": False}
    response = client.post("/revoke", data={"token": "nope", **auth_form(cid, "http://localhost", alg="ES256")})
    assert response.status_code == 200


class _JwksServer:
    """A client's jwks_uri on loopback http, counting fetches."""

    def __init__(self):
        self.document: bytes = b"{}"
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                owner.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(owner.document)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        client_keys.forget(self.url)


def test_jwks_uri_is_fetched_cached_and_refetched_for_an_unknown_kid(client, app):
    with _JwksServer() as keys_server:
        keys_server.document = json.dumps(public_jwks(client_key("rsa"))).encode()
        service = _service(app, jwks=None, jwks_uri=keys_server.url)
        assert _token(client, service).status_code == 200
        assert _token(client, service).status_code == 200
        assert keys_server.fetches == 1  # cached
        # The client rotates to a new key: an unknown kid fetches again (not within 10 s of the last fetch).
        keys_server.document = json.dumps(public_jwks(client_key("rsa", "k2"))).encode()
        clock.advance(11)
        assert _token(client, service, key=client_key("rsa", "k2")).status_code == 200
        assert keys_server.fetches == 2
        _refused(_token(client, service, key=client_key("rsa", "k3")))  # unknown, but fetched moments ago
        assert keys_server.fetches == 2


def test_an_oversized_or_broken_jwks_uri_document_is_invalid_client(client, app):
    with _JwksServer() as keys_server:
        keys_server.document = b'{"keys": [' + b'{"kty": "RSA"},' * 6000 + b'{}]}'
        service = _service(app, jwks=None, jwks_uri=keys_server.url)
        _refused(_token(client, service))
        client_keys.forget(keys_server.url)
        keys_server.document = b"not json"
        clock.advance(11)
        _refused(_token(client, service))


@pytest.mark.parametrize("fields, message", [
    (dict(jwks=None), "needs its public keys"),
    (dict(jwks_uri="http://keys.example.com/jwks"), "https"),
    (dict(jwks_uri="https://keys.example.com/jwks"), "not both"),
    (dict(jwks={"keys": [client_key("rsa").as_dict(private=True)]}), "public keys only"),
    (dict(jwks={"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}), "public keys only"),
    (dict(jwks="not json"), "JSON Web Key Set"),
])
def test_registration_checks_the_keys(app, fields, message):
    with pytest.raises(ValidationError, match=message):
        _service(app, **fields)


def test_cli_registers_a_key_client_from_a_jwks_file(app, tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(public_jwks(client_key("rsa"))))
    result = app.test_cli_runner().invoke(args=[
        "clients", "create", "--name", "CLI bank", "--auth-method", "private_key_jwt", "--jwks", str(path),
        "--auth-signing-alg", "PS256",
        "--grant-type", "client_credentials", "--scope", "invoices:read", "--json"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["client_secret"] is None and created["token_endpoint_auth_method"] == "private_key_jwt"
    form = {"grant_type": "client_credentials", **auth_form(created["client_id"], "http://localhost", alg="PS256")}
    assert app.test_client().post("/token", data=form).status_code == 200
    form = {"grant_type": "client_credentials", **auth_form(created["client_id"], "http://localhost")}
    assert app.test_client().post("/token", data=form).get_json()["error"] == "invalid_client"  # RS256 refused
    result = app.test_cli_runner().invoke(args=[
        "clients", "create", "--name", "Bad", "--auth-method", "private_key_jwt",
        "--jwks-uri", "http://keys.example.com/jwks", "--grant-type", "client_credentials"])
    assert result.exit_code != 0 and "https" in result.output


def test_when_the_jwks_uri_fails_the_last_fetched_keys_are_used(client, app):
    with _JwksServer() as keys_server:
        keys_server.document = json.dumps(public_jwks(client_key("rsa"))).encode()
        service = _service(app, jwks=None, jwks_uri=keys_server.url)
        assert _token(client, service).status_code == 200
        keys_server.document = b"<html>maintenance</html>"
        clock.advance(app.extensions["idp"].settings.jwks_uri_cache_ttl + 1)
        assert _token(client, service, iat=None).status_code == 200  # (iat would be ahead of the real clock)
        assert keys_server.fetches == 2


@pytest.mark.parametrize("path", ["/token", "/par", "/introspect", "/revoke"])
@pytest.mark.parametrize("claims", [{"iss": "a\x00b", "sub": "a\x00b"}, {"sub": "a\x00b"}])
def test_an_assertion_naming_a_client_id_with_a_nul_is_invalid_client(app, client, path, claims):
    """The unverified `sub` names the client to look up: a NUL in it (which PostgreSQL cannot look up)
    names no client."""
    form = {"grant_type": "client_credentials", "token": "x", "response_type": "code",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion("x", f"http://localhost{path}", **claims)}
    response = client.post(path, data=form)
    assert response.status_code in (400, 401) and response.get_json()["error"] == "invalid_client"
