"""User story: an app keeps a person signed in with rotating refresh tokens, its API validates access
tokens offline from the JWKS or asks the introspection endpoint, and signing out revokes the grant.
Everything over real HTTP with Authlib's requests client (OAuth2Session) against a live server."""

from __future__ import annotations

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from tests.conftest import Browser, make_client

pytestmark = pytest.mark.e2e
API = "https://api.example.com"


def validate_access_token(issuer: str, token: str, audience: str) -> dict:
    """What the README tells a resource server to do: check signature, type, issuer, audience, expiry."""
    metadata = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    if decoded.header.get("typ", "").lower() != "at+jwt":
        raise JoseError("not an access token")
    JWTClaimsRegistry(iss={"essential": True, "value": issuer}, aud={"essential": True, "value": audience},
                      exp={"essential": True}).validate(decoded.claims)
    return decoded.claims


def test_refresh_introspect_and_revoke_with_a_real_client_library(app, live_server, user):
    rp = make_client(app, name="Notes", redirect_uris=["https://notes.example.com/cb"], skip_consent=True,
                     scopes=["openid", "offline_access", "notes:read"], resources=[API],
                     grant_types=["authorization_code", "refresh_token"])
    api = make_client(app, name="Notes API", redirect_uris=[], grant_types=["client_credentials"],
                      scopes=["notes:admin"], served_resources=[API])
    issuer = live_server.url
    metadata = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    session = OAuth2Session(rp.client.client_id, rp.client_secret, scope="openid offline_access notes:read",
                            redirect_uri=rp.client.redirect_uris[0], code_challenge_method="S256")
    result = Browser(live_server.app.test_client()).sign_in(rp, scope="openid offline_access notes:read",
                                                            resource=API)
    token = session.fetch_token(metadata["token_endpoint"], code=result["code"], code_verifier=result["_verifier"])
    assert validate_access_token(issuer, token["access_token"], API)["scope"] == "openid offline_access notes:read"

    refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    claims = validate_access_token(issuer, refreshed["access_token"], API)
    with pytest.raises(JoseError):
        validate_access_token(issuer, refreshed["access_token"], "https://someone-else.example.com")

    # The API asks the introspection endpoint with its own credentials.
    resource_server = OAuth2Session(api.client.client_id, api.client_secret)
    answer = resource_server.introspect_token(metadata["introspection_endpoint"], token=refreshed["access_token"])
    assert answer.status_code == 200
    assert answer.json()["active"] is True and answer.json()["sub"] == claims["sub"]

    revoked = session.revoke_token(metadata["revocation_endpoint"], token=refreshed["refresh_token"],
                                   token_type_hint="refresh_token")
    assert revoked.status_code == 200
    after = resource_server.introspect_token(metadata["introspection_endpoint"], token=refreshed["access_token"])
    assert after.json() == {"active": False}
    userinfo = requests.get(metadata["userinfo_endpoint"], timeout=10,
                            headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    assert userinfo.status_code == 401
