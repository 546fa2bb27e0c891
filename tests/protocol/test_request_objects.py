"""Signed request objects (RFC 9101, OIDC Core §6.1), by value at /authorize and inside a pushed
request: signed with a registered client key; the object's parameters only; iss, aud, exp and nbf
checked; unsigned objects only for a client registered for them."""

from __future__ import annotations

import pytest

from idp.services import clock
from tests.conftest import basic_auth, make_client, pkce_pair, query_of, redeem
from tests.protocol.high_assurance import client_key, public_jwks, request_object

REDIRECT = "https://app.example.com/callback"
ISSUER = "http://localhost"


@pytest.fixture()
def signer(app):
    return make_client(app, name="Signer", redirect_uris=[REDIRECT], grant_types=["authorization_code"],
                       scopes=["openid", "profile", "email"], skip_consent=True,
                       jwks=public_jwks(client_key("rsa"), client_key("ec")))


def _inner(rp, challenge, **extra) -> dict:
    return {"response_type": "code", "redirect_uri": REDIRECT, "scope": "openid profile", "state": "inner",
            "nonce": "n0nce", "code_challenge": challenge, "code_challenge_method": "S256", **extra}


def test_a_signed_request_object_by_value_is_used_and_outer_parameters_are_ignored(client, browser, user, signer):
    verifier, challenge = pkce_pair()
    obj = request_object(signer.client.client_id, ISSUER, _inner(signer, challenge))
    # Outer parameters differ (another scope and state): only the object's count (RFC 9101 §5).
    result = browser.sign_in(signer, request=obj, scope="openid email", state="outer")
    assert result["state"] == "inner"
    tokens = redeem(client, signer, result["code"], verifier).get_json()
    assert tokens["scope"] == "openid profile"


def _error_of(client, signer, obj: str) -> str:
    response = client.get("/authorize", query_string={"client_id": signer.client.client_id, "request": obj,
                                                      "redirect_uri": REDIRECT, "response_type": "code"})
    assert response.status_code == 302 and "/interaction/" not in response.headers["Location"]
    return query_of(response.headers["Location"])["error"]


@pytest.mark.parametrize("overrides", [
    dict(aud="https://someone-else.example.com"),
    dict(iss="another-client"),
    dict(exp=None),
    dict(lifetime=-100),
    dict(nbf_offset=600),  # not yet valid
    dict(lifetime=7200),  # valid for more than 60 minutes
    dict(key=client_key("rsa", "unregistered")),
    dict(alg="ES256", key=client_key("ec", "unregistered")),
])
def test_bad_request_objects_are_invalid_request_object(client, signer, overrides):
    if "nbf_offset" in overrides:
        overrides = {"nbf": clock.now() + overrides.pop("nbf_offset")}
    alg = overrides.pop("alg", "PS256")
    lifetime = overrides.pop("lifetime", 300)
    obj = request_object(signer.client.client_id, overrides.pop("aud", ISSUER), _inner(signer, pkce_pair()[1]),
                         alg=alg, lifetime=lifetime, **overrides)
    assert _error_of(client, signer, obj) == "invalid_request_object"


def test_unsigned_request_objects_are_refused_unless_registered(app, client, browser, user, signer):
    obj = request_object(signer.client.client_id, ISSUER, _inner(signer, pkce_pair()[1]), alg="none")
    assert _error_of(client, signer, obj) == "request_not_supported"  # OIDC Core §3.1.2.6
    lax = make_client(app, name="Unsigned", redirect_uris=[REDIRECT], skip_consent=True,
                      request_object_signing_alg="none")
    verifier, challenge = pkce_pair()
    obj = request_object(lax.client.client_id, ISSUER, _inner(lax, challenge), alg="none")
    result = browser.sign_in(lax, request=obj)
    assert redeem(client, lax, result["code"], verifier).status_code == 200


@pytest.mark.parametrize("jwt_claims", [
    dict(iat=None, nbf=None, exp=None, jti=None),  # the OpenID conformance suite's object: iss and aud only
    dict(iss=None, aud=None, iat=None, nbf=None, exp=None, jti=None),  # OIDC Core §6.1: iss/aud only if signed
])
def test_an_unsigned_request_object_needs_no_expiry(app, client, browser, user, jwt_claims):
    """An unsigned object is no more trustworthy than query parameters, which carry no exp either: for a
    client registered for them, iss, aud and exp are checked when present (OIDC Core §6.1 asks for iss and
    aud only in signed objects; the conformance suite's oidcc-unsigned-request-object test sends no exp)."""
    lax = make_client(app, name="Unsigned", redirect_uris=[REDIRECT], skip_consent=True,
                      request_object_signing_alg="none")
    verifier, challenge = pkce_pair()
    jwt_claims = dict(jwt_claims)
    obj = request_object(lax.client.client_id, jwt_claims.pop("aud", ISSUER), _inner(lax, challenge), alg="none",
                         **jwt_claims)
    result = browser.sign_in(lax, request=obj, state="outer")
    assert result["state"] == "inner"
    assert redeem(client, lax, result["code"], verifier).status_code == 200
    for aud, wrong in (("https://someone-else.example.com", {}), (ISSUER, dict(iss="another-client")),
                       (ISSUER, dict(exp=clock.now() - 100))):
        obj = request_object(lax.client.client_id, aud, _inner(lax, challenge), alg="none", **wrong)
        assert _error_of(client, lax, obj) == "invalid_request_object", (aud, wrong)


def test_a_registered_request_object_alg_is_the_only_one_accepted(app, client, signer):
    strict = make_client(app, name="ES only", redirect_uris=[REDIRECT], request_object_signing_alg="ES256",
                         jwks=public_jwks(client_key("rsa"), client_key("ec")))
    obj = request_object(strict.client.client_id, ISSUER, _inner(strict, pkce_pair()[1]), alg="PS256")
    assert _error_of(client, strict, obj) == "invalid_request_object"


def test_a_request_object_inside_a_pushed_request(client, browser, user, signer):
    verifier, challenge = pkce_pair()
    obj = request_object(signer.client.client_id, ISSUER, _inner(signer, challenge), alg="ES256")
    response = client.post("/par", data={"request": obj, "client_id": signer.client.client_id},
                           headers=basic_auth(signer.client.client_id, signer.client_secret))
    assert response.status_code == 201, response.get_json()
    result = browser.sign_in(signer, request_uri=response.get_json()["request_uri"])
    assert redeem(client, signer, result["code"], verifier).status_code == 200
    bad = request_object(signer.client.client_id, "https://elsewhere.example.com", _inner(signer, challenge))
    response = client.post("/par", data={"request": bad},
                           headers=basic_auth(signer.client.client_id, signer.client_secret))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request_object"


def test_a_pushed_request_object_may_be_longer_than_other_parameters(client, signer):
    params = _inner(signer, pkce_pair()[1], state="s" * 3000, nonce="n" * 3000)
    obj = request_object(signer.client.client_id, ISSUER, params)
    assert len(obj) > 8000
    response = client.post("/par", data={"request": obj},
                           headers=basic_auth(signer.client.client_id, signer.client_secret))
    assert response.status_code == 201, response.get_json()
