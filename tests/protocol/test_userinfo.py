"""The UserInfo endpoint: OIDC Core §5.3 with bearer token usage per RFC 6750 §2 and §3."""

from __future__ import annotations

import pytest

from idp.services import clock
from tests.conftest import make_client, redeem


@pytest.fixture()
def tokens(client, browser, user, rp) -> dict:
    result = browser.sign_in(rp, scope="openid email")
    response = redeem(client, rp, result["code"], result["_verifier"])
    assert response.status_code == 200
    return response.get_json()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _challenge(response) -> tuple[str, dict[str, str]]:
    """The scheme and auth-params of a WWW-Authenticate header (RFC 9110 §11.6.1)."""
    import re

    header = response.headers["WWW-Authenticate"]
    scheme, _, rest = header.partition(" ")
    params = dict(re.findall(r'([a-z_]+)="([^"]*)"', rest))
    return scheme, params


def _assert_claims(response, user) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {"sub": user.sub, "email": "alice@example.com", "email_verified": True}


def test_get_with_bearer_header(client, user, tokens):
    """OIDC Core §5.3.1: the client sends the access token as a bearer token (RFC 6750 §2.1)."""
    _assert_claims(client.get("/userinfo", headers=_bearer(tokens["access_token"])), user)


def test_post_with_bearer_header(client, user, tokens):
    """OIDC Core §5.3.1: the UserInfo endpoint MUST support GET and POST."""
    _assert_claims(client.post("/userinfo", headers=_bearer(tokens["access_token"])), user)


def test_post_with_form_body_token(client, user, tokens):
    """RFC 6750 §2.2: the form-encoded body parameter access_token."""
    _assert_claims(client.post("/userinfo", data={"access_token": tokens["access_token"]}), user)


def test_bearer_scheme_is_case_insensitive(client, user, tokens):
    """RFC 9110 §11.1: the authentication scheme is case-insensitive."""
    headers = {"Authorization": f"bearer {tokens['access_token']}"}
    _assert_claims(client.get("/userinfo", headers=headers), user)


def test_sub_matches_id_token(client, tokens):
    """OIDC Core §5.3.2: the sub in the UserInfo response MUST match the ID token's."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    id_sub = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims["sub"]
    assert client.get("/userinfo", headers=_bearer(tokens["access_token"])).get_json()["sub"] == id_sub


def test_no_token_is_401_challenge_without_error_code(client, tokens):
    """RFC 6750 §3.1: when the request has no authentication information, the error code SHOULD NOT
    be included."""
    response = client.get("/userinfo")
    assert response.status_code == 401
    scheme, params = _challenge(response)
    assert scheme == "Bearer"
    assert "realm" in params
    assert "error" not in params
    assert response.headers["Cache-Control"] == "no-store"


def test_non_bearer_authorization_is_401_challenge(client, tokens):
    response = client.get("/userinfo", headers={"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="})
    assert response.status_code == 401
    assert _challenge(response)[0] == "Bearer"


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
                                   "x" * 9000])
def test_invalid_token_is_401_invalid_token(client, tokens, token):
    """RFC 6750 §3.1: invalid_token with 401."""
    response = client.get("/userinfo", headers=_bearer(token))
    assert response.status_code == 401
    scheme, params = _challenge(response)
    assert scheme == "Bearer"
    assert params["error"] == "invalid_token"
    assert response.get_json()["error"] == "invalid_token"
    assert response.headers["Cache-Control"] == "no-store"


def test_tampered_token_is_invalid(client, tokens):
    header, payload, signature = tokens["access_token"].split(".")
    tampered = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    response = client.get("/userinfo", headers=_bearer(tampered))
    assert response.status_code == 401
    assert _challenge(response)[1]["error"] == "invalid_token"


def test_id_token_is_not_an_access_token(client, tokens):
    """RFC 9068 §4: the resource server checks `typ` is at+jwt, so an ID token is refused."""
    response = client.get("/userinfo", headers=_bearer(tokens["id_token"]))
    assert response.status_code == 401
    assert _challenge(response)[1]["error"] == "invalid_token"


def test_token_in_header_and_body_is_400_invalid_request(client, tokens):
    """RFC 6750 §2: clients MUST NOT use more than one method to transmit the token."""
    response = client.post("/userinfo", headers=_bearer(tokens["access_token"]),
                           data={"access_token": tokens["access_token"]})
    assert response.status_code == 400
    assert _challenge(response)[1]["error"] == "invalid_request"
    assert response.get_json()["error"] == "invalid_request"


def test_repeated_body_token_is_400_invalid_request(client, tokens):
    from urllib.parse import urlencode

    response = client.post("/userinfo", data=urlencode([("access_token", tokens["access_token"])] * 2),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert _challenge(response)[1]["error"] == "invalid_request"


def test_token_in_query_string_is_not_accepted(client, tokens):
    """RFC 6750 §2.3 is not supported (tokens in URLs leak into logs and Referer; RFC 9700 §2.5)."""
    for method in (client.get, client.post):
        response = method("/userinfo", query_string={"access_token": tokens["access_token"]})
        assert response.status_code == 401
        assert "sub" not in (response.get_json() or {})
        assert _challenge(response)[0] == "Bearer"


def test_expired_token_is_invalid_token(client, tokens, settings):
    clock.advance(settings.access_token_ttl + 1)
    response = client.get("/userinfo", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 401
    assert _challenge(response)[1]["error"] == "invalid_token"


def test_token_just_before_expiry_is_accepted(client, user, tokens, settings):
    clock.advance(settings.access_token_ttl - 5)
    _assert_claims(client.get("/userinfo", headers=_bearer(tokens["access_token"])), user)


def test_token_of_disabled_user_is_invalid_token(app, client, user, tokens):
    from idp.extensions import db
    from idp.storage import users as user_store

    with app.app_context():
        row = db.session.get(user_store.User, user.id)
        row.enabled = False
        db.session.commit()
    response = client.get("/userinfo", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 401
    assert _challenge(response)[1]["error"] == "invalid_token"


def test_access_token_without_openid_scope_is_403_insufficient_scope(app, client, browser, user):
    """OIDC Core §5.3: UserInfo serves OpenID Connect access tokens only; RFC 6750 §3.1:
    insufficient_scope with 403."""
    rp = make_client(app, name="Plain OAuth", redirect_uris=["https://api.example.com/cb"],
                     scopes=["openid", "profile"])
    result = browser.sign_in(rp, scope="profile")
    body = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    assert body["scope"] == "profile"
    assert "id_token" not in body  # not an OpenID Connect request
    response = client.get("/userinfo", headers=_bearer(body["access_token"]))
    assert response.status_code == 403
    scheme, params = _challenge(response)
    assert scheme == "Bearer"
    assert params["error"] == "insufficient_scope"
    assert response.headers["Cache-Control"] == "no-store"


def test_form_body_must_be_urlencoded(client, tokens):
    """RFC 6750 §2.2: the body token is only accepted from application/x-www-form-urlencoded."""
    response = client.post("/userinfo", data={"access_token": tokens["access_token"]},
                           content_type="multipart/form-data")
    assert response.status_code in (400, 401)
    assert "sub" not in (response.get_json() or {})


def test_error_description_in_challenge_is_quoted_safely(client, tokens):
    """RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E."""
    import re

    response = client.get("/userinfo", headers=_bearer("bogus"))
    description = _challenge(response)[1]["error_description"]
    assert re.fullmatch(r"[\x20\x21\x23-\x5b\x5d-\x7e]+", description)


def test_other_methods_are_not_allowed(client, tokens):
    assert client.put("/userinfo", headers=_bearer(tokens["access_token"])).status_code == 405


def test_profile_scope_releases_updated_at_as_a_number(client, browser, user, rp):
    """OIDC Core §5.1/§5.4: `updated_at` (seconds since the epoch, a JSON number) belongs to the profile scope
    and discovery lists it in claims_supported; the provider records when a person's information changed."""
    result = browser.sign_in(rp, scope="openid profile")
    tokens = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    info = client.get("/userinfo", headers=_bearer(tokens["access_token"])).get_json()
    assert info["updated_at"] == user.created_at and type(info["updated_at"]) is int
    result = browser.sign_in(rp, scope="openid email")
    tokens = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    assert "updated_at" not in client.get("/userinfo", headers=_bearer(tokens["access_token"])).get_json()
