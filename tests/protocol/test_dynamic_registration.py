"""Dynamic client registration (RFC 7591) and management (RFC 7592): off by default; with the setting
on, a one-time initial access token from an administrator registers one client, validated like the
console; the registration access token reads, updates and deletes it."""

from __future__ import annotations

import json

import pytest

from idp.extensions import db
from idp.services import clock
from tests.admin.api_helpers import Api, automation_client, token
from tests.conftest import basic_auth, make_app, race
from tests.protocol.high_assurance import auth_form, client_key, public_jwks


@pytest.fixture()
def initial_token(app, dcr):
    robot = automation_client(app)
    api = Api(dcr, token(dcr, robot))
    response = api.post("/v1/initial-access-tokens")
    assert response.status_code == 201 and response.get_json()["enabled"] is True
    return response.get_json()["initial_access_token"]


METADATA = {"client_name": "Self-registered", "redirect_uris": ["https://self.example.com/cb"],
            "grant_types": ["authorization_code"], "response_types": ["code"], "scope": "openid email",
            "token_endpoint_auth_method": "client_secret_basic", "software_id": "ignored"}


def test_off_by_default(client):
    assert client.post("/register", json=METADATA, headers={"Authorization": "Bearer x"}).status_code == 404
    assert client.get("/register/abc").status_code == 404
    assert "registration_endpoint" not in client.get("/.well-known/openid-configuration").get_json()


def test_discovery_advertises_the_endpoint_when_on(dcr):
    assert dcr.get("/.well-known/openid-configuration").get_json()["registration_endpoint"] == \
        "http://localhost/register"


def test_register_read_update_delete(dcr, initial_token):
    response = dcr.post("/register", json=METADATA, headers={"Authorization": f"Bearer {initial_token}"})
    assert response.status_code == 201, response.get_json()
    info = response.get_json()
    assert info["client_name"] == "Self-registered" and info["scope"] == "openid email"
    assert info["client_secret"] and info["client_secret_expires_at"] == 0
    assert info["client_id_issued_at"] == clock.now()
    reg = {"Authorization": f"Bearer {info['registration_access_token']}"}
    path = info["registration_client_uri"].removeprefix("http://localhost")
    again = dcr.post("/register", json=METADATA, headers={"Authorization": f"Bearer {initial_token}"})
    assert again.status_code == 401 and again.get_json()["error"] == "invalid_token"  # one-time
    read = dcr.get(path, headers=reg)
    assert read.status_code == 200 and "client_secret" not in read.get_json()
    assert dcr.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    updated = dcr.put(path, json={"client_id": info["client_id"], "client_name": "Renamed",
                                  "redirect_uris": ["https://self.example.com/cb2"]}, headers=reg)
    assert updated.status_code == 200 and updated.get_json()["redirect_uris"] == ["https://self.example.com/cb2"]
    bad = dcr.put(path, json={"redirect_uris": ["https://self.example.com/*"]}, headers=reg)
    assert bad.status_code == 400 and bad.get_json()["error"] == "invalid_redirect_uri"
    works = dcr.post("/token", data={"grant_type": "client_credentials"},
                     headers=basic_auth(info["client_id"], info["client_secret"]))
    assert works.status_code == 400  # authenticated, but not allowed that grant
    assert dcr.delete(path, headers=reg).status_code == 204
    assert dcr.get(path, headers=reg).status_code == 401


@pytest.mark.parametrize("metadata, error", [
    ({**METADATA, "redirect_uris": ["http://evil.example.com/cb"]}, "invalid_redirect_uri"),
    ({**METADATA, "redirect_uris": []}, "invalid_redirect_uri"),
    ({**METADATA, "scope": "openid admin:users"}, "invalid_client_metadata"),
    ({**METADATA, "response_types": ["token"]}, "invalid_client_metadata"),
    ({**METADATA, "grant_types": ["implicit"]}, "invalid_client_metadata"),
    ({**METADATA, "client_name": 7}, "invalid_client_metadata"),
    ({**METADATA, "scope": ["openid"]}, "invalid_client_metadata"),
])
def test_metadata_is_validated_like_the_console(dcr, initial_token, metadata, error):
    response = dcr.post("/register", json=metadata, headers={"Authorization": f"Bearer {initial_token}"})
    assert response.status_code == 400 and response.get_json()["error"] == error
    # A refused registration does not use up the token.
    assert dcr.post("/register", json=METADATA,
                    headers={"Authorization": f"Bearer {initial_token}"}).status_code == 201


def test_error_description_stays_english_ascii_whatever_the_page_language(app, dcr, initial_token):
    """RFC 6749 §5.2: error_description is ASCII; it is the service's English message, not the
    Accept-Language's, while a page shows the very same message in German."""
    from idp import i18n
    from idp.errors import ValidationError
    from idp.services import clients

    headers = {"Authorization": f"Bearer {initial_token}", "Accept-Language": "de"}
    english = "Redirect URI 'http://evil.example.com/cb' must use https (http only for loopback)."
    response = dcr.post("/register", headers=headers,
                        json={**METADATA, "redirect_uris": ["http://evil.example.com/cb"]})
    assert response.status_code == 400 and response.get_json()["error_description"] == english
    odd = dcr.post("/register", headers=headers, json={**METADATA, "redirect_uris": ["https://bücher.example/cb"]})
    description = odd.get_json()["error_description"]
    assert odd.status_code == 400 and "plain ASCII host name" in description
    assert all(c in " !" or "#" <= c <= "[" or "]" <= c <= "~" for c in description)
    with app.test_request_context(headers={"Accept-Language": "de"}), pytest.raises(ValidationError) as refused:
        clients.validate_redirect_uri("http://evil.example.com/cb")
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert str(refused.value) == english
        assert i18n.describe(refused.value) == ("Weiterleitungs-URI 'http://evil.example.com/cb' muss https "
                                                "verwenden (http nur für Loopback).")


def test_a_token_is_required_and_expires(dcr, initial_token):
    assert dcr.post("/register", json=METADATA).status_code == 401
    assert dcr.post("/register", json=METADATA, headers={"Authorization": "Bearer nope"}).status_code == 401
    clock.advance(86401)
    expired = dcr.post("/register", json=METADATA, headers={"Authorization": f"Bearer {initial_token}"})
    assert expired.status_code == 401
    assert dcr.post("/register", data="not json", headers={"Authorization": "Bearer x"}).status_code == 400


def _register(dcr, initial_token, **metadata):
    return dcr.post("/register", json={**METADATA, **metadata}, headers={"Authorization": f"Bearer {initial_token}"})


@pytest.mark.parametrize("metadata", [
    {"grant_types": ["client_credentials"], "scope": "orders:write payments:refund"},
    {"grant_types": ["client_credentials"], "scope": "openid"},
    {"scope": "openid orders:write"},
    {"scope": "openid roles"},
])
def test_self_registration_gets_only_allowed_scopes_and_grants(dcr, initial_token, metadata):
    """Finding 7: a self-registered client cannot grant itself API scopes or client_credentials."""
    refused = _register(dcr, initial_token, **metadata)
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_client_metadata"
    info = _register(dcr, initial_token).get_json()  # the token was not used up
    reg = {"Authorization": f"Bearer {info['registration_access_token']}"}
    path = info["registration_client_uri"].removeprefix("http://localhost")
    assert dcr.put(path, json=metadata, headers=reg).status_code == 400  # nor later, by RFC 7592 update
    assert dcr.get(path, headers=reg).get_json()["grant_types"] == ["authorization_code"]


def test_an_operator_may_allow_api_scopes_and_client_credentials(app, tmp_path_factory, database_url):
    lenient = make_app(tmp_path_factory, database_url, dynamic_client_registration=1,
                       registration_allowed_scopes="orders:read", registration_allowed_grant_types="client_credentials")
    client = lenient.test_client()
    issued = Api(client, token(client, automation_client(app))).post("/v1/initial-access-tokens").get_json()
    response = client.post("/register", json={"grant_types": ["client_credentials"], "scope": "orders:read"},
                           headers={"Authorization": f"Bearer {issued['initial_access_token']}"})
    assert response.status_code == 201, response.get_json()
    with lenient.app_context():
        db.session.remove()


def _self_registered(app) -> int:
    from sqlalchemy import func, select

    from idp.storage.clients import Client

    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(Client).where(Client.name == "Self-registered"))
        finally:
            db.session.remove()


def test_a_multi_use_token_registers_exactly_its_number_of_clients_under_a_race(app, dcr, _dcr_app):
    """The conformance suite's Dynamic plan registers every client with one token: an operator mints
    an N-use one (CLI here); N + 5 concurrent registrations get exactly N clients, the rest 401."""
    uses = 3
    minted = _dcr_app.test_cli_runner().invoke(args=["clients", "initial-access-token", "--uses", str(uses),
                                                      "--expires-in", "600", "--json"])
    assert minted.exit_code == 0, minted.output
    issued = json.loads(minted.output)
    assert issued["uses"] == uses and issued["expires_at"] == clock.now() + 600
    bearer = {"Authorization": f"Bearer {issued['initial_access_token']}"}
    statuses = race(lambda: _dcr_app.test_client().post("/register", json=METADATA, headers=bearer).status_code,
                    racers=uses + 5)
    assert sorted(statuses) == [201] * uses + [401] * 5
    assert _self_registered(_dcr_app) == uses
    assert dcr.post("/register", json=METADATA, headers=bearer).status_code == 401  # used up


def test_a_multi_use_token_from_the_api_expires_and_counts_each_use(app, dcr):
    api = Api(dcr, token(dcr, automation_client(app)))
    response = api.post("/v1/initial-access-tokens", json={"uses": 2, "expires_in": 120})
    assert response.status_code == 201 and response.get_json()["uses"] == 2
    bearer = {"Authorization": f"Bearer {response.get_json()['initial_access_token']}"}
    assert dcr.post("/register", json=METADATA, headers=bearer).status_code == 201
    clock.advance(121)
    assert dcr.post("/register", json=METADATA, headers=bearer).status_code == 401  # expired with a use left
    for bad in ({"uses": 0}, {"uses": 1001}, {"uses": "2"}, {"uses": True}, {"expires_in": 2592001}):
        refused = api.post("/v1/initial-access-tokens", json=bad)
        assert refused.status_code == 400, bad


@pytest.mark.parametrize("uri", [
    "http://127.0.0.1/bc", "http://rp.example.com/bc", "https://127.0.0.1/bc", "https://127.1.2.3:8443/bc",
    "https://10.0.0.5/bc", "https://192.168.1.1/bc", "https://172.16.0.1/bc", "https://100.64.0.1/bc",
    "https://169.254.169.254/latest/meta-data", "https://[::1]/bc", "https://[::ffff:127.0.0.1]/bc",
    "https://[fe80::1]/bc", "https://[fd00::1]/bc", "https://0.0.0.0/bc", "https://localhost/bc",
    "https://admin.localhost/bc", "https://intranet/bc",
])
def test_a_self_registered_backchannel_uri_must_be_public_https(dcr, initial_token, uri):
    """Finding 8 (at registration): no loopback, link-local or private targets for the provider's POST."""
    refused = _register(dcr, initial_token, backchannel_logout_uri=uri)
    assert refused.status_code == 400, uri


class _RebindingName:
    """DNS rebinding: `host` resolves to a public address while a client registers, then (`rebind`) to
    a listener on loopback, which counts the connections it gets."""

    def __init__(self, monkeypatch, host: str):
        import socket

        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(5)
        self.listener.settimeout(0.5)
        self.port = self.listener.getsockname()[1]
        self.answer = "93.184.216.34"
        self.accepted: list = []
        real_getaddrinfo = socket.getaddrinfo

        def resolve(name, *args, **kwargs):
            if name == host:
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (self.answer, self.port))]
            return real_getaddrinfo(name, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", resolve)

    def rebind(self) -> None:
        import threading

        self.answer = "127.0.0.1"
        self.thread = threading.Thread(target=lambda: self.accepted.extend(_accept_all(self.listener)), daemon=True)
        self.thread.start()

    def connections(self) -> list:
        self.thread.join()
        self.listener.close()
        return self.accepted


def test_backchannel_delivery_to_a_self_registered_client_checks_the_resolved_address(
        app, dcr, initial_token, user, monkeypatch):
    """Finding 8 (at delivery): the name resolves to loopback now (DNS rebinding): nothing is sent there."""
    from idp.services import backchannel, clients
    from idp.services.runtime import current

    name = _RebindingName(monkeypatch, "rp.example.com")
    registered = _register(dcr, initial_token, backchannel_logout_uri=f"https://rp.example.com:{name.port}/bc")
    assert registered.status_code == 201
    info = registered.get_json()
    name.rebind()
    with app.app_context():
        rt = current()
        backchannel.enqueue(client=clients.get(info["client_id"]), user_id=user.id, sub=user.sub, sid="sid-ssrf")
        db.session.commit()
        backchannel.deliver_due(rt.settings, rt.keyring)
        [delivery] = backchannel.deliveries_for("sid-ssrf")
    assert name.connections() == []
    assert delivery.status == "pending" and delivery.last_error.startswith("refused"), delivery.last_error


def _accept_all(listener):
    accepted = []
    try:
        while True:
            conn, _ = listener.accept()
            accepted.append(conn)
            conn.close()
    except OSError:
        return accepted


def test_dynamic_registration_accepts_a_key_client_that_then_authenticates(client, dcr, initial_token):
    metadata = {"client_name": "Registered bank app", "redirect_uris": ["https://bank.example.com/cb"],
                "token_endpoint_auth_method": "private_key_jwt", "jwks": public_jwks(client_key("ec")),
                "token_endpoint_auth_signing_alg": "ES256", "dpop_bound_access_tokens": True,
                "require_pushed_authorization_requests": True, "grant_types": ["authorization_code"]}
    response = dcr.post("/register", json=metadata, headers={"Authorization": f"Bearer {initial_token}"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert "client_secret" not in body and body["jwks"] == metadata["jwks"]
    assert body["dpop_bound_access_tokens"] is True and body["require_pushed_authorization_requests"] is True
    form = {"token": "x", **auth_form(body["client_id"], "http://localhost", alg="ES256")}
    assert client.post("/introspect", data=form).status_code == 200



@pytest.mark.parametrize("uri", [
    "http://127.0.0.1/jwks", "http://localhost/jwks", "https://127.0.0.1/jwks", "https://10.0.0.5/jwks",
    "https://169.254.169.254/latest/meta-data", "https://[::1]/jwks", "https://intranet/jwks",
])
def test_a_self_registered_jwks_uri_must_be_public_https(dcr, initial_token, uri):
    """SSRF: the provider fetches a private_key_jwt client's jwks_uri; a self-registered client may not
    point it at this host or its network (as for backchannel_logout_uri)."""
    refused = _register(dcr, initial_token, token_endpoint_auth_method="private_key_jwt", jwks_uri=uri)
    assert refused.status_code == 400, uri


def test_a_self_registered_jwks_uri_is_fetched_only_from_the_checked_public_address(
        client, dcr, initial_token, monkeypatch):
    """SSRF at fetch time: the name resolves to loopback now (DNS rebinding), so no request goes there
    and the assertion is refused as invalid_client."""
    name = _RebindingName(monkeypatch, "keys.example.com")
    registered = _register(dcr, initial_token, token_endpoint_auth_method="private_key_jwt",
                           jwks_uri=f"https://keys.example.com:{name.port}/jwks", grant_types=["authorization_code"])
    assert registered.status_code == 201, registered.get_json()
    name.rebind()
    form = {"token": "x", **auth_form(registered.get_json()["client_id"], "http://localhost")}
    response = client.post("/introspect", data=form)
    assert name.connections() == []
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_client"


def test_policy_and_terms_links_are_registered_and_returned(dcr, initial_token):
    """OIDC Registration §2 policy_uri and tos_uri: kept (https only) and shown on the consent page."""
    links = {"policy_uri": "https://self.example.com/privacy", "tos_uri": "https://self.example.com/terms"}
    response = dcr.post("/register", json=METADATA | links, headers={"Authorization": f"Bearer {initial_token}"})
    assert response.status_code == 201 and {k: response.get_json()[k] for k in links} == links
    refused = dcr.post("/register", json=METADATA | {"tos_uri": "javascript:alert(1)"},
                       headers={"Authorization": f"Bearer {initial_token}"})
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_client_metadata"


@pytest.mark.parametrize("method, path, kwargs", [
    ("GET", "/register/a%00b", {}),  # refused by the input guard before the view
    ("PATCH", "/register/abc", {}),  # no such method (RFC 7592 defines GET, PUT, DELETE)
    ("PUT", "/register/abc", {"data": b"x" * (1024 * 1024 + 1), "content_type": "application/json"}),
])
def test_refusals_at_the_client_configuration_endpoint_are_json(dcr, method, path, kwargs):
    """RFC 7592 §2: the client configuration endpoint answers errors as JSON, like the registration
    endpoint, never as an HTML page."""
    response = dcr.open(path, method=method, headers={"Authorization": "Bearer x"}, **kwargs)
    assert 400 <= response.status_code < 500 and response.is_json, response.get_data(as_text=True)[:200]
    assert response.get_json()["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("member, value", [("redirect_uris", 5), ("redirect_uris", True), ("redirect_uris", {}),
                                           ("post_logout_redirect_uris", 0), ("grant_types", True),
                                           ("grant_types", 1.5), ("grant_types", [[1]])])
def test_metadata_of_the_wrong_json_type_is_invalid_client_metadata(app, dcr, initial_token, member, value):
    """A number where a list belongs is refused like any other bad metadata, at registration and at
    update (RFC 7591 §3.2.2), and nothing is written."""
    reg = dcr.post("/register", json={**METADATA, member: value}, headers={"Authorization": f"Bearer {initial_token}"})
    assert reg.status_code == 400, reg.get_data(as_text=True)[:200]
    assert reg.get_json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
    assert reg.headers["Cache-Control"] == "no-store"
    created = dcr.post("/register", json=METADATA, headers={"Authorization": f"Bearer {initial_token}"}).get_json()
    path = created["registration_client_uri"].removeprefix("http://localhost")
    bearer = {"Authorization": f"Bearer {created['registration_access_token']}"}
    update = dcr.put(path, json={**METADATA, member: value}, headers=bearer)
    assert update.status_code == 400 and update.get_json()["error"] in ("invalid_client_metadata",
                                                                         "invalid_redirect_uri")
    assert dcr.get(path, headers=bearer).get_json()["redirect_uris"] == METADATA["redirect_uris"]
