"""DPoP (RFC 9449): proofs at /token (code, refresh, client credentials) and /userinfo, tokens bound
to the proof key (`cnf.jkt` in the JWT and in introspection, token_type DPoP), public clients'
refresh tokens bound too, server nonces with rotation, single-use proofs, htm/htu/iat/ath checked,
and a DPoP-bound token refused as a bearer token."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.extensions import db
from idp.services import clock
from idp.storage.tokens import Token
from tests.conftest import basic_auth, make_client, redeem
from tests.protocol.high_assurance import client_key, dpop_proof

TOKEN_URL = "http://localhost/token"
USERINFO_URL = "http://localhost/userinfo"


@pytest.fixture()
def spa(app):
    return make_client(app, name="SPA", redirect_uris=["http://127.0.0.1/callback"], token_endpoint_auth_method="none",
                       grant_types=["authorization_code", "refresh_token"], scopes=["openid", "offline_access"],
                       skip_consent=True)


def nonce_of(client) -> str:
    """What a client learns from its first, nonce-less proof: the server's DPoP-Nonce (RFC 9449 §8)."""
    response = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": "x"},
                           headers={"DPoP": dpop_proof("POST", TOKEN_URL)})
    assert response.status_code == 400 and response.get_json()["error"] == "use_dpop_nonce"
    return response.headers["DPoP-Nonce"]


def _code(browser, spa):
    result = browser.sign_in(spa, scope="openid offline_access", redirect_uri="http://127.0.0.1/callback")
    return result["code"], result["_verifier"]


def _redeem(client, spa, code, verifier, proof):
    return client.post("/token", headers={"DPoP": proof} if proof else {}, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1/callback",
        "code_verifier": verifier, "client_id": spa.client.client_id})


def test_code_exchange_needs_the_nonce_then_binds_access_and_refresh_tokens(client, browser, user, spa):
    code, verifier = _code(browser, spa)
    first = _redeem(client, spa, code, verifier, dpop_proof("POST", TOKEN_URL))
    assert first.status_code == 400 and first.get_json()["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    response = _redeem(client, spa, code, verifier, dpop_proof("POST", TOKEN_URL, nonce=nonce))
    assert response.status_code == 200, response.get_json()  # the code survived the nonce round trip
    body = response.get_json()
    assert body["token_type"] == "DPoP" and response.headers["DPoP-Nonce"]
    jkt = client_key("ec", "dpop").thumbprint()
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    assert jwt.decode(body["access_token"], keys).claims["cnf"] == {"jkt": jkt}
    with client.application.app_context():
        assert {t.kind: t.jkt for t in db.session.query(Token)} == {"access": jkt, "refresh": jkt}

    # UserInfo: the DPoP scheme with a proof bound to the token (ath) works ...
    proof = dpop_proof("GET", USERINFO_URL, access_token=body["access_token"], nonce=nonce)
    ok = client.get("/userinfo", headers={"Authorization": f"DPoP {body['access_token']}", "DPoP": proof})
    assert ok.status_code == 200 and ok.get_json()["sub"]
    # ... the same token as a bearer token does not (RFC 9449 §7.2).
    bearer = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert bearer.status_code == 401 and bearer.headers["WWW-Authenticate"].startswith("DPoP ")
    assert 'error="invalid_token"' in bearer.headers["WWW-Authenticate"]


def _tokens(client, browser, spa):
    code, verifier = _code(browser, spa)
    nonce = nonce_of(client)
    body = _redeem(client, spa, code, verifier, dpop_proof("POST", TOKEN_URL, nonce=nonce)).get_json()
    return body, nonce


def test_a_public_clients_refresh_token_needs_a_proof_by_the_same_key(client, browser, user, spa):
    body, nonce = _tokens(client, browser, spa)
    data = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": spa.client.client_id}
    other_key = dpop_proof("POST", TOKEN_URL, key=client_key("ec", "other"), nonce=nonce)
    for headers in ({}, {"DPoP": other_key}):
        refused = client.post("/token", data=data, headers=headers)
        assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_dpop_proof"
    renewed = client.post("/token", data=data, headers={"DPoP": dpop_proof("POST", TOKEN_URL, nonce=nonce)})
    assert renewed.status_code == 200 and renewed.get_json()["token_type"] == "DPoP"


@pytest.mark.parametrize("case", ["replayed", "htu", "htm", "old iat", "no typ", "private key in header"])
def test_bad_proofs_at_the_token_endpoint_are_refused_and_nothing_is_issued(client, browser, user, spa, case):
    code, verifier = _code(browser, spa)
    nonce = nonce_of(client)
    proof = {
        "replayed": None, "htu": dpop_proof("POST", "http://localhost/other", nonce=nonce),
        "htm": dpop_proof("GET", TOKEN_URL, nonce=nonce),
        "old iat": dpop_proof("POST", TOKEN_URL, nonce=nonce, iat=clock.now() - 3600),
    }.get(case)
    if case == "replayed":
        proof = dpop_proof("POST", TOKEN_URL, nonce=nonce)
        used = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": "x"},
                           headers={"DPoP": proof})  # the proof's one use (the request fails for other reasons)
        assert used.get_json()["error"] == "invalid_client"
    if case == "no typ":
        from joserfc.jwk import ECKey
        key = client_key("ec", "dpop")
        proof = jwt.encode({"alg": "ES256", "jwk": key.as_dict(private=False)},
                           {"jti": "x", "htm": "POST", "htu": TOKEN_URL, "iat": clock.now(), "nonce": nonce}, key)
        assert isinstance(key, ECKey)
    if case == "private key in header":
        key = client_key("ec", "dpop")
        proof = jwt.encode({"alg": "ES256", "typ": "dpop+jwt", "jwk": key.as_dict(private=True)},
                           {"jti": "y", "htm": "POST", "htu": TOKEN_URL, "iat": clock.now(), "nonce": nonce}, key)
    response = _redeem(client, spa, code, verifier, proof)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_dpop_proof", case
    with client.application.app_context():
        assert db.session.query(Token).count() == 0


def test_userinfo_checks_ath_nonce_and_htu(client, browser, user, spa):
    body, nonce = _tokens(client, browser, spa)
    token = body["access_token"]

    def call(proof):
        return client.get("/userinfo", headers={"Authorization": f"DPoP {token}", "DPoP": proof})

    for proof, error in [
        (dpop_proof("GET", USERINFO_URL, access_token="another-token", nonce=nonce), "invalid_dpop_proof"),
        (dpop_proof("GET", USERINFO_URL, nonce=nonce), "invalid_dpop_proof"),  # no ath
        (dpop_proof("GET", "http://localhost/token", access_token=token, nonce=nonce), "invalid_dpop_proof"),
        (dpop_proof("GET", USERINFO_URL, access_token=token), "use_dpop_nonce"),
        (dpop_proof("GET", USERINFO_URL, access_token=token, key=client_key("ec", "other"), nonce=nonce),
         "invalid_token"),
    ]:
        response = call(proof)
        assert response.status_code == 401, response.get_json()
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith("DPoP ") and f'error="{error}"' in challenge, challenge
    assert call(dpop_proof("GET", USERINFO_URL, access_token=token, nonce=nonce)).status_code == 200


def test_nonces_rotate_and_the_previous_one_stays_valid_for_one_period(client, settings):
    first = nonce_of(client)
    clock.advance(settings.dpop_nonce_lifetime)
    second = nonce_of(client)
    assert second != first
    data = {"grant_type": "refresh_token", "refresh_token": "x"}
    response = client.post("/token", data=data, headers={"DPoP": dpop_proof("POST", TOKEN_URL, nonce=first)})
    assert response.get_json()["error"] == "invalid_client"  # past the proof check: the previous nonce is valid
    clock.advance(settings.dpop_nonce_lifetime)
    response = client.post("/token", data=data, headers={"DPoP": dpop_proof("POST", TOKEN_URL, nonce=first)})
    assert response.get_json()["error"] == "use_dpop_nonce" and response.headers["DPoP-Nonce"] not in (first, second)


def test_a_client_registered_for_dpop_must_send_proofs_and_introspection_shows_the_binding(client, app):
    service = make_client(app, name="Bound service", redirect_uris=[], grant_types=["client_credentials"],
                          scopes=["ledger:read"], dpop_bound_access_tokens=True)
    auth = basic_auth(service.client.client_id, service.client_secret)
    data = {"grant_type": "client_credentials"}
    refused = client.post("/token", data=data, headers=auth)
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_dpop_proof"
    nonce = nonce_of(client)
    body = client.post("/token", data=data, headers=auth | {"DPoP": dpop_proof("POST", TOKEN_URL, nonce=nonce)})
    assert body.status_code == 200 and body.get_json()["token_type"] == "DPoP"
    info = client.post("/introspect", data={"token": body.get_json()["access_token"]}, headers=auth).get_json()
    assert info["active"] and info["token_type"] == "DPoP"
    assert info["cnf"] == {"jkt": client_key("ec", "dpop").thumbprint()}


def test_bearer_tokens_are_unchanged(client, browser, user, rp):
    result = browser.sign_in(rp)
    body = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    assert body["token_type"] == "Bearer"
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200
