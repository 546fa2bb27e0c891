"""Pushed authorization requests (RFC 9126): the client pushes its request over the back channel and
sends the browser with a one-time `request_uri`, bound to the client and short-lived; clients (or the
whole server) can be made to use PAR only."""

from __future__ import annotations

import pytest
import requests

from idp.extensions import db
from idp.services import clock
from tests.conftest import basic_auth, make_app, make_client, pkce_pair, query_of, race, redeem

REDIRECT = "https://app.example.com/callback"


def _params(rp, challenge, **extra) -> dict:
    return {"response_type": "code", "client_id": rp.client.client_id, "redirect_uri": REDIRECT,
            "scope": "openid profile", "state": "st4te", "nonce": "n0nce", "code_challenge": challenge,
            "code_challenge_method": "S256", **extra}


def push(client, rp, **params):
    return client.post("/par", data=params, headers=basic_auth(rp.client.client_id, rp.client_secret))


def test_pushed_request_signs_in_through_request_uri(client, browser, user, rp):
    verifier, challenge = pkce_pair()
    response = push(client, rp, **_params(rp, challenge))
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:") and body["expires_in"] == 60
    # Only client_id and request_uri go through the browser; the outer (ignored) PKCE pair is Browser's own.
    result = browser.sign_in(rp, request_uri=body["request_uri"], scope="openid email", state="outer")
    assert result["state"] == "st4te" and result["iss"] == "http://localhost"
    tokens = redeem(client, rp, result["code"], verifier)
    assert tokens.status_code == 200 and tokens.get_json()["scope"] == "openid profile"


def _authorize_with(client, rp, request_uri: str):
    return client.get("/authorize", query_string={"client_id": rp.client.client_id, "request_uri": request_uri})


def test_a_request_uri_is_single_use(client, browser, user, rp):
    request_uri = push(client, rp, **_params(rp, pkce_pair()[1])).get_json()["request_uri"]
    assert _authorize_with(client, rp, request_uri).status_code == 302
    reused = _authorize_with(client, rp, request_uri)
    assert reused.status_code == 400 and "request_uri" in reused.get_data(as_text=True)


def test_a_request_uri_is_bound_to_its_client_and_expires(app, client, rp):
    other = make_client(app, name="Other", redirect_uris=[REDIRECT])
    request_uri = push(client, rp, **_params(rp, pkce_pair()[1])).get_json()["request_uri"]
    assert _authorize_with(client, other, request_uri).status_code == 400
    request_uri = push(client, rp, **_params(rp, pkce_pair()[1])).get_json()["request_uri"]
    clock.advance(61)
    assert _authorize_with(client, rp, request_uri).status_code == 400


def test_request_uris_that_are_not_pushed_are_never_fetched(client, rp):
    """A made-up PAR URN is invalid_request_uri (RFC 9126 §4); any other request_uri is a use of the parameter
    this server does not support (discovery: request_uri_parameter_supported false), so OIDC Core §3.1.2.6
    request_uri_not_supported — what the conformance suite's oidcc-request-uri-unsigned test accepts."""
    for request_uri, error in (("https://attacker.example.com/request.jwt", "request_uri_not_supported"),
                               ("urn:ietf:params:oauth:request_uri:made-up", "invalid_request_uri")):
        response = client.get("/authorize", query_string={**_params(rp, pkce_pair()[1]), "request_uri": request_uri})
        assert response.status_code == 302
        assert query_of(response.headers["Location"])["error"] == error


@pytest.mark.parametrize("params, error", [
    (dict(redirect_uri="https://evil.example.com/cb"), "invalid_request"),
    (dict(response_type="token"), "unsupported_response_type"),
    (dict(code_challenge_method="plain"), "invalid_request"),
    (dict(request_uri="urn:ietf:params:oauth:request_uri:x"), "invalid_request"),
    (dict(client_id="someone-else"), "invalid_request"),
])
def test_pushed_requests_are_validated_like_authorization_requests(client, rp, params, error):
    response = push(client, rp, **(_params(rp, pkce_pair()[1]) | params))
    assert response.status_code == 400 and response.get_json()["error"] == error, response.get_json()
    with client.application.app_context():
        from idp.storage.pushed_requests import PushedRequest
        assert db.session.query(PushedRequest).count() == 0


def test_the_par_endpoint_requires_client_authentication(client, rp):
    response = client.post("/par", data=_params(rp, pkce_pair()[1]),
                           headers=basic_auth(rp.client.client_id, "wrong"))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize("path", ["/par", "/.well-known/openid-configuration"])
def test_wrong_method_at_a_machine_endpoint_is_json(client, path):
    """RFC 9126 §2: the PAR endpoint takes POST; a client gets an OAuth JSON error, not an HTML page."""
    response = client.put(path)
    assert response.status_code == 405 and "Allow" in response.headers
    assert response.mimetype == "application/json" and response.get_json()["error"] == "invalid_request"


def test_a_client_registered_for_par_cannot_skip_it(app, client, user):
    rp = make_client(app, name="PAR only", redirect_uris=[REDIRECT], require_pushed_authorization_requests=True)
    response = client.get("/authorize", query_string=_params(rp, pkce_pair()[1]))
    assert response.status_code == 302 and "/interaction/" not in response.headers["Location"]
    assert query_of(response.headers["Location"])["error"] == "invalid_request"
    request_uri = push(client, rp, **_params(rp, pkce_pair()[1])).get_json()["request_uri"]
    assert "/interaction/" in _authorize_with(client, rp, request_uri).headers["Location"]


@pytest.fixture(scope="module")
def _par_only_app(_session_app, tmp_path_factory, database_url):
    return make_app(tmp_path_factory, database_url, require_pushed_authorization_requests=1)


def test_the_global_setting_requires_par_of_every_client_and_is_advertised(app, _par_only_app, rp):
    client = _par_only_app.test_client()
    assert client.get("/.well-known/openid-configuration").get_json()["require_pushed_authorization_requests"]
    response = client.get("/authorize", query_string=_params(rp, pkce_pair()[1]))
    assert query_of(response.headers["Location"])["error"] == "invalid_request"
    request_uri = push(client, rp, **_params(rp, pkce_pair()[1])).get_json()["request_uri"]
    assert "/interaction/" in _authorize_with(client, rp, request_uri).headers["Location"]
    with _par_only_app.app_context():
        db.session.remove()


@pytest.mark.e2e
def test_concurrent_redemptions_of_one_request_uri_start_one_sign_in(app, live_server, rp):
    request_uri = push(live_server.app.test_client(), rp, **_params(rp, pkce_pair()[1])).get_json()["request_uri"]
    url = f"{live_server.url}/authorize"
    responses = race(lambda: requests.get(url, params={"client_id": rp.client.client_id, "request_uri": request_uri},
                                          allow_redirects=False, timeout=30))
    started = [r for r in responses if r.status_code == 302 and "/interaction/" in r.headers["Location"]]
    assert len(started) == 1 and sorted(r.status_code for r in responses).count(400) == len(responses) - 1

