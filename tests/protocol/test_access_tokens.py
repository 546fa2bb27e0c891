"""Access tokens: RFC 9068 JWTs by default, opaque tokens per client (stored only as a hash), the
audience from RFC 8707 `resource` at /authorize and /token, and per-client lifetimes."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.extensions import db
from idp.services import clock, crypto
from idp.storage.tokens import Token
from tests.conftest import basic_auth, make_client, query_of, redeem

API = "https://api.example.com"
REPORTS = "https://reports.example.com"


def _claims(client, token: str) -> dict:
    return jwt.decode(token, KeySet.import_key_set(client.get("/jwks.json").get_json())).claims


def _app(app, **kwargs):
    options = dict(name="API app", redirect_uris=["https://app.example.com/callback"],
                   grant_types=["authorization_code", "refresh_token"],
                   scopes=["openid", "profile", "offline_access", "reports:read"], resources=[API, REPORTS],
                   skip_consent=True)
    options.update(kwargs)
    return make_client(app, **options)


def _userinfo(client, token):
    return client.get("/userinfo", headers={"Authorization": f"Bearer {token}"})


def test_jwt_access_token_has_the_rfc9068_claims(client, browser, user, rp, settings):
    result = browser.sign_in(rp, scope="openid profile")
    body = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    decoded = jwt.decode(body["access_token"], KeySet.import_key_set(client.get("/jwks.json").get_json()))
    assert decoded.header["typ"] == "at+jwt" and decoded.header["kid"]
    claims = decoded.claims
    assert {"iss", "sub", "aud", "client_id", "scope", "jti", "exp", "iat", "auth_time", "acr"} <= set(claims)
    assert claims["aud"] == settings.issuer  # the default audience without a resource
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl


def test_opaque_access_tokens_are_stored_hashed_and_work_at_userinfo(app, client, browser, user):
    rp = _app(app, access_token_format="opaque")
    result = browser.sign_in(rp, scope="openid profile")
    body = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    token = body["access_token"]
    assert token.count(".") == 0 and len(token) >= 43
    assert _userinfo(client, token).status_code == 200
    with app.app_context():
        row = db.session.scalars(select(Token).where(Token.kind == "access")).one()
        assert row.token_hash == crypto.lookup_hash(token) and token not in (row.jti, row.token_hash)
    assert _userinfo(client, token + "x").status_code == 401
    clock.advance(3601)
    assert _userinfo(client, token).status_code == 401  # expired


def test_access_token_lifetime_per_client(app, client, browser, user):
    rp = _app(app, access_token_ttl=120)
    result = browser.sign_in(rp, scope="openid")
    body = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    claims = _claims(client, body["access_token"])
    assert body["expires_in"] == 120 and claims["exp"] - claims["iat"] == 120


def test_resource_at_authorize_sets_the_audience(app, client, browser, user):
    rp = _app(app)
    result = browser.sign_in(rp, scope="openid offline_access", resource=API)
    body = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    assert _claims(client, body["access_token"])["aud"] == API


def test_several_resources_give_a_list_audience_and_token_may_narrow(app, client, browser, user):
    rp = _app(app)
    verifier_result = browser.sign_in(rp, scope="openid offline_access", resource=[API, REPORTS])
    both = redeem(client, rp, verifier_result["code"], verifier_result["_verifier"]).get_json()
    assert sorted(_claims(client, both["access_token"])["aud"]) == [API, REPORTS]
    # RFC 8707 §2.2: a refresh may ask for one of the granted resources, not for a new one.
    headers = basic_auth(rp.client.client_id, rp.client_secret)
    narrowed = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": both["refresh_token"],
                                           "resource": REPORTS}, headers=headers).get_json()
    assert _claims(client, narrowed["access_token"])["aud"] == REPORTS
    # The rotated refresh token still carries both resources.
    again = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": narrowed["refresh_token"]},
                        headers=headers).get_json()
    assert sorted(_claims(client, again["access_token"])["aud"]) == [API, REPORTS]


def test_resource_not_in_the_grant_is_invalid_target_at_token(app, client, browser, user):
    rp = _app(app)
    result = browser.sign_in(rp, scope="openid", resource=API)
    response = redeem(client, rp, result["code"], result["_verifier"], resource=REPORTS)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_target"
    # The failed request did not consume the code.
    assert redeem(client, rp, result["code"], result["_verifier"], resource=API).status_code == 200


def test_unregistered_resource_at_authorize_is_redirected_as_invalid_target(app, client, browser, user):
    rp = _app(app)
    response = browser.authorize(response_type="code", client_id=rp.client.client_id,
                                 redirect_uri=rp.client.redirect_uris[0], scope="openid", state="s",
                                 code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                                 code_challenge_method="S256", resource="https://evil.example.com")
    assert response.status_code == 302
    params = query_of(response.headers["Location"])
    assert params["error"] == "invalid_target" and params["state"] == "s"


def test_resource_at_token_without_one_at_authorize_must_be_registered(app, client, browser, user):
    rp = _app(app)
    result = browser.sign_in(rp, scope="openid")
    refused = redeem(client, rp, result["code"], result["_verifier"], resource="https://evil.example.com")
    assert refused.get_json()["error"] == "invalid_target"
    body = redeem(client, rp, result["code"], result["_verifier"], resource=REPORTS).get_json()
    assert _claims(client, body["access_token"])["aud"] == REPORTS
