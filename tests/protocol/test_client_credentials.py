"""client_credentials (RFC 6749 §4.4): confidential clients allowed the grant get an access token for
their own API scopes; no refresh token, no ID token, never an OIDC scope."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.errors import ValidationError
from tests.conftest import basic_auth, make_client

API = "https://api.example.com"


@pytest.fixture()
def service(app):
    return make_client(app, name="Billing job", redirect_uris=[], grant_types=["client_credentials"],
                       scopes=["openid", "invoices:read", "invoices:write"], resources=[API])


def _token(client, rp, **data):
    return client.post("/token", data={"grant_type": "client_credentials", **data},
                       headers=basic_auth(rp.client.client_id, rp.client_secret))


def _claims(client, token: str) -> dict:
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    decoded = jwt.decode(token, keys)
    assert decoded.header["typ"] == "at+jwt"
    return decoded.claims


def test_client_credentials_yields_an_access_token_for_the_client_itself(client, service, settings):
    response = _token(client, service, scope="invoices:read")
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}  # no refresh or ID token
    assert body["scope"] == "invoices:read" and body["expires_in"] == settings.access_token_ttl
    claims = _claims(client, body["access_token"])
    # RFC 9068 §2.2: sub is the client when the client acts for itself; no auth_time without a user.
    assert claims["sub"] == claims["client_id"] == service.client.client_id
    assert claims["aud"] == settings.issuer and claims["iss"] == settings.issuer
    assert "auth_time" not in claims and "acr" not in claims


def test_without_scope_the_client_gets_all_its_api_scopes_and_no_oidc_scope(client, service):
    body = _token(client, service).get_json()
    assert body["scope"].split() == ["invoices:read", "invoices:write"]


@pytest.mark.parametrize("scope", ["openid", "invoices:read openid", "invoices:delete", "offline_access"])
def test_scopes_outside_the_clients_api_scopes_are_invalid(client, service, scope):
    response = _token(client, service, scope=scope)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"


def test_resource_sets_the_audience_and_unregistered_resources_are_invalid_target(client, service):
    body = _token(client, service, resource=API).get_json()
    assert _claims(client, body["access_token"])["aud"] == API
    refused = _token(client, service, resource="https://other.example.com")
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_target"
    assert refused.get_json()["error_description"]


def test_a_client_not_allowed_the_grant_is_unauthorized(client, rp):
    response = _token(client, rp)
    assert response.status_code == 400 and response.get_json()["error"] == "unauthorized_client"


def test_wrong_secret_is_invalid_client(client, service):
    response = client.post("/token", data={"grant_type": "client_credentials"},
                           headers=basic_auth(service.client.client_id, "wrong"))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_public_clients_cannot_register_for_client_credentials(ctx):
    from idp.services import clients

    with pytest.raises(ValidationError, match="confidential"):
        clients.create(name="SPA", redirect_uris=["https://spa.example.com/cb"], token_endpoint_auth_method="none",
                       grant_types=["authorization_code", "client_credentials"])


def test_client_credentials_token_is_not_accepted_at_userinfo(client, service):
    token = _token(client, service).get_json()["access_token"]
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["WWW-Authenticate"]
