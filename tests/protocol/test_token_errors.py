"""Token endpoint errors: RFC 6749 §3.2, §2.3.1, §4.1.3, §5.2; RFC 7636 §4.6; RFC 9700 §4.8.2."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlencode

import pytest

from idp.services import clock
from tests.conftest import basic_auth, make_client, pkce_pair, redeem


def _assert_error(response, status: int, error: str) -> dict:
    """RFC 6749 §5.2: a JSON object with `error` (and here always a description), never cached."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["error"] == error, body
    assert isinstance(body.get("error_description"), str) and body["error_description"], body
    assert "access_token" not in body and "id_token" not in body
    return body


def _code_request(rp, code: str, verifier: str | None, **extra) -> dict[str, str]:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.client.redirect_uris[0]}
    if verifier:
        data["code_verifier"] = verifier
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def _auth(rp) -> dict[str, str]:
    return basic_auth(rp.client.client_id, rp.client_secret)


@pytest.fixture()
def signed_in(browser, user, rp):
    """A fresh code for `rp`, with its verifier."""
    return browser.sign_in(rp)


# --- malformed requests ------------------------------------------------------------------------------


def test_get_is_not_allowed(client, rp):
    """RFC 6749 §3.2: the client MUST use POST at the token endpoint."""
    response = client.get("/token", query_string={"grant_type": "authorization_code"}, headers=_auth(rp))
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]  # RFC 9110 §15.5.6
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == "invalid_request"


def test_json_body_is_invalid_request(client, rp, signed_in):
    """RFC 6749 §3.2 / §4.1.3: parameters use application/x-www-form-urlencoded."""
    body = json.dumps(_code_request(rp, signed_in["code"], signed_in["_verifier"]))
    response = client.post("/token", data=body, content_type="application/json", headers=_auth(rp))
    _assert_error(response, 400, "invalid_request")


def test_parameters_in_query_string_are_invalid_request(client, rp, signed_in):
    data = _code_request(rp, signed_in["code"], signed_in["_verifier"])
    response = client.post("/token", query_string={"code": signed_in["code"]}, data=data, headers=_auth(rp))
    _assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("key", ["grant_type", "code", "redirect_uri", "code_verifier"])
def test_repeated_parameter_is_invalid_request(client, rp, signed_in, key):
    """RFC 6749 §3.2: request and response parameters MUST NOT be included more than once."""
    data = _code_request(rp, signed_in["code"], signed_in["_verifier"])
    body = list(data.items()) + [(key, data[key])]
    response = client.post("/token", data=urlencode(body), content_type="application/x-www-form-urlencoded",
                           headers=_auth(rp))
    _assert_error(response, 400, "invalid_request")
    # The refused request did not consume the code.
    assert redeem(client, rp, signed_in["code"], signed_in["_verifier"]).status_code == 200


def test_repeated_parameter_with_forbidden_characters_in_its_name_is_not_500(client, rp):
    """error_description is limited to %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2)."""
    response = client.post("/token", data='grant_type=authorization_code&a%22%C3%A9=1&a%22%C3%A9=2',
                           content_type="application/x-www-form-urlencoded", headers=_auth(rp))
    body = _assert_error(response, 400, "invalid_request")
    assert re.fullmatch(r"[\x20\x21\x23-\x5b\x5d-\x7e]+", body["error_description"]), body


def test_oversize_parameter_is_invalid_request(client, rp):
    response = client.post("/token", data={"grant_type": "authorization_code", "code": "c" * 5000,
                                           "redirect_uri": rp.client.redirect_uris[0]}, headers=_auth(rp))
    _assert_error(response, 400, "invalid_request")


def test_oversize_body_is_refused_not_500(client, rp):
    response = client.post("/token", data={"grant_type": "authorization_code", "code": "c" * 200_000},
                           headers=_auth(rp))
    assert response.status_code == 413
    assert response.mimetype == "application/json"


def test_missing_grant_type_is_invalid_request(client, rp, signed_in):
    data = _code_request(rp, signed_in["code"], signed_in["_verifier"], grant_type=None)
    _assert_error(client.post("/token", data=data, headers=_auth(rp)), 400, "invalid_request")


@pytest.mark.parametrize("grant_type", ["password", "implicit", "urn:example:magic",
                                        "urn:ietf:params:oauth:grant-type:token-exchange"])
def test_unknown_grant_type_is_unsupported(client, rp, grant_type):
    """RFC 6749 §5.2: unsupported_grant_type."""
    response = client.post("/token", data={"grant_type": grant_type, "username": "alice", "password": "x",
                                           "scope": "openid"}, headers=_auth(rp))
    _assert_error(response, 400, "unsupported_grant_type")


def test_grant_type_not_registered_for_client_is_unauthorized_client(app, client, browser, user):
    """RFC 6749 §5.2: unauthorized_client when the client may not use this grant type."""
    rp = make_client(app, name="No Refresh", redirect_uris=["https://app.example.com/callback"],
                     scopes=["openid", "offline_access"])
    response = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": "x" * 43},
                           headers=_auth(rp))
    _assert_error(response, 400, "unauthorized_client")


def test_missing_code_is_invalid_request(client, rp, signed_in):
    """RFC 6749 §4.1.3: code is REQUIRED."""
    data = _code_request(rp, None, signed_in["_verifier"])
    _assert_error(client.post("/token", data=data, headers=_auth(rp)), 400, "invalid_request")


# --- invalid grants ----------------------------------------------------------------------------------


def test_unknown_code_is_invalid_grant(client, rp, signed_in):
    data = _code_request(rp, "not-a-code", signed_in["_verifier"])
    response = client.post("/token", data=data, headers=_auth(rp))
    _assert_error(response, 400, "invalid_grant")


def test_expired_code_is_invalid_grant(client, rp, signed_in, settings):
    """RFC 6749 §4.1.2: the code MUST expire shortly after it is issued."""
    clock.advance(settings.authorization_code_ttl + 1)
    response = client.post("/token", data=_code_request(rp, signed_in["code"], signed_in["_verifier"]),
                           headers=_auth(rp))
    _assert_error(response, 400, "invalid_grant")


def test_code_just_before_expiry_is_accepted(client, rp, signed_in, settings):
    clock.advance(settings.authorization_code_ttl - 2)
    assert redeem(client, rp, signed_in["code"], signed_in["_verifier"]).status_code == 200


@pytest.mark.parametrize("redirect_uri", [
    "https://app.example.com/callback/",
    "https://app.example.com/other",
    "https://APP.example.com/callback",
    None,  # omitted although it was in the authorization request
])
def test_redirect_uri_mismatch_is_invalid_grant(client, rp, signed_in, redirect_uri):
    """RFC 6749 §4.1.3: redirect_uri is REQUIRED if it was in the authorization request, and the
    values MUST be identical."""
    data = _code_request(rp, signed_in["code"], signed_in["_verifier"], redirect_uri=redirect_uri)
    _assert_error(client.post("/token", data=data, headers=_auth(rp)), 400, "invalid_grant")


def test_redirect_uri_registered_but_not_the_one_used_is_invalid_grant(app, client, browser, user):
    rp = make_client(app, name="Two URIs", redirect_uris=["https://app.example.com/a", "https://app.example.com/b"])
    result = browser.sign_in(rp)  # uses /a
    data = _code_request(rp, result["code"], result["_verifier"], redirect_uri="https://app.example.com/b")
    _assert_error(client.post("/token", data=data, headers=_auth(rp)), 400, "invalid_grant")


def test_code_issued_to_another_client_is_invalid_grant(app, client, rp, signed_in):
    """RFC 6749 §4.1.3: ensure the code was issued to the authenticated confidential client."""
    other = make_client(app, name="Other", redirect_uris=list(rp.client.redirect_uris))
    data = _code_request(rp, signed_in["code"], signed_in["_verifier"])
    _assert_error(client.post("/token", data=data, headers=_auth(other)), 400, "invalid_grant")
    # The rightful client can still redeem it.
    assert redeem(client, rp, signed_in["code"], signed_in["_verifier"]).status_code == 200


def test_pkce_verifier_without_challenge_is_rejected(client, browser, user, rp):
    """RFC 9700 §4.8.2: a code_verifier for a code issued without code_challenge MUST be rejected
    (PKCE downgrade)."""
    result = browser.sign_in(rp, code_challenge=None, code_challenge_method=None)
    verifier, _ = pkce_pair()
    response = client.post("/token", data=_code_request(rp, result["code"], verifier), headers=_auth(rp))
    body = response.get_json()
    assert body["error"] in ("invalid_request", "invalid_grant")
    _assert_error(response, 400, body["error"])


def test_code_without_pkce_is_redeemed_without_verifier(client, browser, user, rp):
    result = browser.sign_in(rp, code_challenge=None, code_challenge_method=None)
    response = client.post("/token", data=_code_request(rp, result["code"], None), headers=_auth(rp))
    assert response.status_code == 200


def test_missing_verifier_when_challenge_was_used_is_rejected(client, rp, signed_in):
    """RFC 7636 §4.6: the verifier is required once a challenge was sent."""
    response = client.post("/token", data=_code_request(rp, signed_in["code"], None), headers=_auth(rp))
    body = response.get_json()
    assert body["error"] in ("invalid_request", "invalid_grant")
    _assert_error(response, 400, body["error"])


def test_malformed_verifier_is_rejected(client, rp, signed_in):
    response = client.post("/token", data=_code_request(rp, signed_in["code"], "short"), headers=_auth(rp))
    body = response.get_json()
    assert body["error"] in ("invalid_request", "invalid_grant")
    _assert_error(response, 400, body["error"])


def test_failed_redemption_does_not_burn_the_code(client, rp, signed_in):
    """A wrong redirect_uri is the client's mistake, not a replay: the code is still usable."""
    data = _code_request(rp, signed_in["code"], signed_in["_verifier"], redirect_uri="https://app.example.com/x")
    assert client.post("/token", data=data, headers=_auth(rp)).status_code == 400
    assert redeem(client, rp, signed_in["code"], signed_in["_verifier"]).status_code == 200


# --- client authentication (RFC 6749 §2.3, §5.2) ------------------------------------------------------


def _public_code(browser, public_rp):
    return browser.sign_in(public_rp)


def test_public_client_presenting_a_secret_is_invalid_client(client, browser, user, public_rp):
    result = _public_code(browser, public_rp)
    data = _code_request(public_rp, result["code"], result["_verifier"], client_id=public_rp.client.client_id,
                         client_secret="made-up")
    _assert_error(client.post("/token", data=data), 401, "invalid_client")


def test_public_client_using_basic_is_invalid_client(client, browser, user, public_rp):
    result = _public_code(browser, public_rp)
    data = _code_request(public_rp, result["code"], result["_verifier"])
    response = client.post("/token", data=data, headers=basic_auth(public_rp.client.client_id, "made-up"))
    _assert_error(response, 401, "invalid_client")


def test_public_client_with_auth_method_none_succeeds(client, browser, user, public_rp):
    result = _public_code(browser, public_rp)
    data = _code_request(public_rp, result["code"], result["_verifier"], client_id=public_rp.client.client_id)
    response = client.post("/token", data=data)
    assert response.status_code == 200, response.get_json()


def test_public_client_without_verifier_is_rejected(client, browser, user, public_rp):
    """RFC 9700 §2.1.1: public clients MUST use PKCE."""
    result = _public_code(browser, public_rp)
    data = _code_request(public_rp, result["code"], None, client_id=public_rp.client.client_id)
    response = client.post("/token", data=data)
    body = response.get_json()
    assert body["error"] in ("invalid_request", "invalid_grant")
    _assert_error(response, 400, body["error"])


def test_confidential_client_without_authentication_is_invalid_client(client, rp, signed_in):
    """RFC 6749 §3.2.1: confidential clients MUST authenticate."""
    data = _code_request(rp, signed_in["code"], signed_in["_verifier"], client_id=rp.client.client_id)
    response = client.post("/token", data=data)
    _assert_error(response, 401, "invalid_client")
    assert redeem(client, rp, signed_in["code"], signed_in["_verifier"]).status_code == 200


def test_no_client_at_all_is_invalid_client(client, rp, signed_in):
    response = client.post("/token", data=_code_request(rp, signed_in["code"], signed_in["_verifier"]))
    _assert_error(response, 401, "invalid_client")


def test_client_secret_post_for_basic_client_is_invalid_client(client, rp, signed_in):
    """One registered authentication method per client (RFC 7591 §2): the right secret sent with
    the wrong method is refused."""
    data = _code_request(rp, signed_in["code"], signed_in["_verifier"], client_id=rp.client.client_id,
                         client_secret=rp.client_secret)
    _assert_error(client.post("/token", data=data), 401, "invalid_client")


def test_client_secret_basic_for_post_client_is_invalid_client(app, client, browser, user):
    rp = make_client(app, name="Post App", redirect_uris=["https://app.example.com/callback"],
                     token_endpoint_auth_method="client_secret_post")
    result = browser.sign_in(rp)
    data = _code_request(rp, result["code"], result["_verifier"])
    _assert_error(client.post("/token", data=data, headers=_auth(rp)), 401, "invalid_client")
    data.update(client_id=rp.client.client_id, client_secret=rp.client_secret)
    assert client.post("/token", data=data).status_code == 200


def test_unknown_client_is_invalid_client(client, rp, signed_in):
    response = client.post("/token", data=_code_request(rp, signed_in["code"], signed_in["_verifier"]),
                           headers=basic_auth("no-such-client", "secret"))
    body = _assert_error(response, 401, "invalid_client")
    assert body
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_wrong_secret_is_invalid_client_with_basic_challenge(client, rp, signed_in):
    """RFC 6749 §5.2: 401 with a WWW-Authenticate matching the scheme the client used."""
    response = client.post("/token", data=_code_request(rp, signed_in["code"], signed_in["_verifier"]),
                           headers=basic_auth(rp.client.client_id, "wrong"))
    _assert_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_basic_credentials_are_form_urlencoded(app, client, browser, user):
    """RFC 6749 §2.3.1: client_id and secret are application/x-www-form-urlencoded before Basic."""
    from urllib.parse import quote

    rp = make_client(app, name="Encoded", redirect_uris=["https://app.example.com/callback"])
    result = browser.sign_in(rp)
    headers = basic_auth(quote(rp.client.client_id, safe=""), quote(rp.client_secret, safe=""))
    data = _code_request(rp, result["code"], result["_verifier"])
    response = client.post("/token", data=data, headers=headers)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("header", [
    "Basic !!!not-base64!!!",
    "Basic " + base64.b64encode(b"no-colon-here").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),  # not UTF-8
    "Basic ",
    "Basic",
    "Basic " + "A" * 5000,
    "Bearer abc",
])
def test_malformed_authorization_header_is_invalid_client_not_500(client, rp, signed_in, header):
    response = client.post("/token", data=_code_request(rp, signed_in["code"], signed_in["_verifier"]),
                           headers={"Authorization": header})
    _assert_error(response, 401, "invalid_client")


def test_basic_and_post_credentials_together_are_refused(client, rp, signed_in):
    """RFC 6749 §2.3: the client MUST NOT use more than one authentication method per request."""
    data = _code_request(rp, signed_in["code"], signed_in["_verifier"], client_id=rp.client.client_id,
                         client_secret=rp.client_secret)
    _assert_error(client.post("/token", data=data, headers=_auth(rp)), 400, "invalid_request")
    assert redeem(client, rp, signed_in["code"], signed_in["_verifier"]).status_code == 200


def test_a_client_id_naming_another_client_than_basic_authenticates_is_refused(app, client, rp, signed_in):
    """One request, one client: a body client_id that contradicts the Basic credentials is invalid_request
    (it was ignored); the same client_id alongside Basic is fine (RFC 6749 §3.2.1)."""
    other = make_client(app, name="Other", redirect_uris=["https://other.example.com/cb"])
    data = _code_request(rp, signed_in["code"], signed_in["_verifier"], client_id=other.client.client_id)
    _assert_error(client.post("/token", data=data, headers=_auth(rp)), 400, "invalid_request")
    assert client.post("/introspect", data={"token": "x", "client_id": other.client.client_id},
                       headers=_auth(rp)).status_code == 400
    data["client_id"] = rp.client.client_id
    assert client.post("/token", data=data, headers=_auth(rp)).status_code == 200
