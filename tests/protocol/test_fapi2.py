"""The FAPI 2.0 Security Profile switch (`fapi2`): a client registered with it must push its requests
(PAR), use PKCE S256, authenticate with private_key_jwt, and get DPoP-bound tokens; codes live at most
60 s; nothing is signed RS256. Anything else is refused with the error the specs name."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.errors import ValidationError
from tests.conftest import make_client, pkce_pair, query_of
from tests.protocol.high_assurance import auth_form, client_key, dpop_proof, public_jwks

ISSUER = "http://localhost"
REDIRECT = "https://bank-app.example.com/cb"


@pytest.fixture()
def fapi(app):
    return make_client(app, name="Bank app", redirect_uris=[REDIRECT], token_endpoint_auth_method="private_key_jwt",
                       jwks=public_jwks(client_key("ec"), client_key("rsa")), fapi2=True, skip_consent=True,
                       grant_types=["authorization_code", "refresh_token"], scopes=["openid", "offline_access"])


def _auth(fapi, alg="ES256"):
    return auth_form(fapi.client.client_id, ISSUER, alg=alg)


def _push(client, fapi, **params):
    verifier, challenge = pkce_pair()
    data = {"response_type": "code", "client_id": fapi.client.client_id, "redirect_uri": REDIRECT,
            "scope": "openid offline_access", "code_challenge": challenge, "code_challenge_method": "S256",
            "state": "s", "nonce": "n", **params}
    return client.post("/par", data={k: v for k, v in data.items() if v is not None} | _auth(fapi)), verifier


def _code(client, browser, fapi):
    pushed, verifier = _push(client, fapi)
    assert pushed.status_code == 201, pushed.get_json()
    result = browser.sign_in(fapi, request_uri=pushed.get_json()["request_uri"])
    assert result["iss"] == ISSUER  # RFC 9207
    return result["code"], verifier


def _exchange(client, fapi, code, verifier, proof=None, alg="ES256"):
    return client.post("/token", headers={"DPoP": proof} if proof else {}, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier,
        **_auth(fapi, alg)})


def _nonce(client, fapi):
    response = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": "x"},
                           headers={"DPoP": dpop_proof("POST", f"{ISSUER}/token")})
    return response.headers["DPoP-Nonce"]


def test_the_whole_fapi2_flow(client, browser, user, fapi):
    assert fapi.client.require_pkce and fapi.client.require_pushed_authorization_requests
    assert fapi.client.dpop_bound_access_tokens and fapi.client.id_token_signed_response_alg == "PS256"
    code, verifier = _code(client, browser, fapi)
    proof = dpop_proof("POST", f"{ISSUER}/token", nonce=_nonce(client, fapi))
    response = _exchange(client, fapi, code, verifier, proof)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "DPoP"
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    assert jwt.decode(body["id_token"], keys, algorithms=["PS256"]).header["alg"] == "PS256"
    assert jwt.decode(body["access_token"], keys, algorithms=["PS256"]).claims["cnf"]["jkt"]


def test_skipping_par_is_refused(client, fapi):
    _, challenge = pkce_pair()
    response = client.get("/authorize", query_string={
        "response_type": "code", "client_id": fapi.client.client_id, "redirect_uri": REDIRECT, "scope": "openid",
        "code_challenge": challenge, "code_challenge_method": "S256", "state": "s"})
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_a_pushed_request_without_pkce_is_refused(client, fapi):
    response, _ = _push(client, fapi, code_challenge=None, code_challenge_method=None)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_tokens_without_dpop_or_with_rs256_signatures_are_refused(client, browser, user, fapi):
    code, verifier = _code(client, browser, fapi)
    nonce = _nonce(client, fapi)
    for proof, alg, error in [
        (None, "ES256", "invalid_dpop_proof"),
        (dpop_proof("POST", f"{ISSUER}/token", nonce=nonce), "RS256", "invalid_client"),
        (dpop_proof("POST", f"{ISSUER}/token", nonce=nonce, key=client_key("rsa", "dpop"), alg="RS256"), "ES256",
         "invalid_dpop_proof"),
    ]:
        response = _exchange(client, fapi, code, verifier, proof, alg)
        assert response.status_code in (400, 401) and response.get_json()["error"] == error, response.get_json()
    proof = dpop_proof("POST", f"{ISSUER}/token", nonce=nonce)
    assert _exchange(client, fapi, code, verifier, proof).status_code == 200  # the code was not used up


@pytest.mark.parametrize("fields, message", [
    (dict(token_endpoint_auth_method="client_secret_basic", jwks=None), "private_key_jwt"),
    (dict(id_token_signed_response_alg="RS256"), "RS256"),
    (dict(request_object_signing_alg="none"), "none"),
    (dict(token_endpoint_auth_signing_alg="RS256"), "RS256"),
])
def test_registration_refuses_what_fapi2_forbids(app, fields, message):
    values = dict(name="Bank app", redirect_uris=[REDIRECT], token_endpoint_auth_method="private_key_jwt",
                  jwks=public_jwks(client_key("ec")), fapi2=True) | fields
    with pytest.raises(ValidationError, match=message):
        make_client(app, **values)
