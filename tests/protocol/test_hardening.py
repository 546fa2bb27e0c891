"""Defects found in a security review, each pinned by a test: device approvals cannot be injected
through /authorize, odd input is a 4xx not a 500, tokens for other APIs are refused at UserInfo,
passwords are throttled, API scopes are shown on the consent page, and only ID tokens are hints."""

from __future__ import annotations

import json

from tests.conftest import PASSWORD, csrf_from, make_client, pkce_pair, query_of, redeem

GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def test_device_approval_cannot_be_injected_through_authorize(app, client, browser, user):
    """A device request id smuggled into an ordinary authorization request must not approve a device
    (RFC 8628 §5.4: the person confirms the device by its user code)."""
    both = make_client(app, name="CLI", redirect_uris=["http://127.0.0.1/callback"], token_endpoint_auth_method="none",
                       grant_types=["authorization_code", GRANT], scopes=["openid", "profile"], skip_consent=True)
    started = client.post("/device_authorization", data={"client_id": both.client.client_id,
                                                          "scope": "openid profile"}).get_json()
    result = browser.sign_in(both, scope="openid", device_request_id="1", prompt="select_account")
    assert "code" in result  # an ordinary authorization response to the app
    poll = client.post("/token", data={"grant_type": GRANT, "device_code": started["device_code"],
                                       "client_id": both.client.client_id})
    assert poll.status_code == 400 and poll.get_json()["error"] == "authorization_pending"


def test_unicode_digits_in_max_age_are_invalid_request(client, user, rp):
    _, challenge = pkce_pair()
    response = client.get("/authorize", query_string=dict(
        response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
        scope="openid", state="s", max_age="²", code_challenge=challenge, code_challenge_method="S256"))
    assert response.status_code == 302
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_nul_characters_are_refused_not_crashing(client, rp):
    for method, path, kwargs in (
        ("get", "/authorize", {"query_string": {"client_id": "a\x00b"}}),
        ("post", "/token", {"data": {"grant_type": "authorization_code", "client_id": "a\x00"}}),
        ("get", "/logout", {"query_string": {"client_id": "\x00"}}),
        ("get", "/interaction/%00", {}),
        ("post", "/device_authorization", {"data": {"client_id": "\x00"}}),
    ):
        response = getattr(client, method)(path, **kwargs)
        assert response.status_code == 400, (path, response.status_code)
    token = client.post("/token", data={"grant_type": "authorization_code", "client_id": "a\x00"})
    assert token.get_json()["error"] == "invalid_request"


def test_ids_beyond_the_database_range_are_not_found(client, browser, user, rp):
    browser.sign_in(rp)
    token = csrf_from(client.get("/account/security").get_data(as_text=True))
    response = client.post("/account/security/passkeys/99999999999999999999999/rename", data={"csrf_token": token})
    assert response.status_code == 404


def test_userinfo_refuses_a_token_issued_for_another_api(app, client, browser, user):
    """RFC 9700 §2.3: an API that received a token must not be able to replay it at UserInfo."""
    rp = make_client(app, name="API app", redirect_uris=["https://app.example.com/callback"],
                     scopes=["openid", "email"], resources=["https://api.example.com"], skip_consent=True)
    result = browser.sign_in(rp, scope="openid email", resource="https://api.example.com")
    body = redeem(client, rp, result["code"], result["_verifier"], resource="https://api.example.com").get_json()
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_wrong_passwords_are_throttled_per_account(app, client, browser, user, rp, settings):
    def start():
        return browser.follow_to_interaction(browser.authorize(
            response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
            scope="openid", code_challenge=pkce_pair()[1], code_challenge_method="S256"))

    path = start()
    for _ in range(settings.login_max_failures_per_account):
        assert browser.login(path, password="wrong guess").status_code == 401
    blocked = browser.login(path)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.get_data(as_text=True)
    assert PASSWORD not in blocked.get_data(as_text=True)
    from idp.services import clock

    clock.advance(settings.login_failure_window + 1)
    assert browser.login(start()).status_code == 303  # the limit expires by itself


def test_consent_page_names_api_scopes(app, client, browser, user):
    rp = make_client(app, name="Orders", redirect_uris=["https://orders.example.com/cb"],
                     scopes=["openid", "orders:write"])
    response = browser.authorize(response_type="code", client_id=rp.client.client_id,
                                 redirect_uri="https://orders.example.com/cb", scope="openid orders:write",
                                 code_challenge=pkce_pair()[1], code_challenge_method="S256")
    path = browser.follow_to_interaction(response)
    consent = browser.follow_to_interaction(browser.resume(browser.login(path)))
    assert "orders:write" in client.get(consent).get_data(as_text=True)


def test_an_access_token_is_not_an_id_token_hint(client, browser, user, rp):
    result = browser.sign_in(rp)
    body = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    for hint, ok in ((body["access_token"], False), (body["id_token"], True)):
        response = browser.authorize(response_type="code", client_id=rp.client.client_id,
                                     redirect_uri=rp.client.redirect_uris[0], scope="openid", state="s",
                                     id_token_hint=hint, code_challenge=pkce_pair()[1], code_challenge_method="S256")
        query = query_of(response.headers["Location"])
        assert ("code" in query) is ok, json.dumps(query)
