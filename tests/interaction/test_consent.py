"""The consent page: plain-words permissions, approve/deny, remembered decisions."""

from __future__ import annotations

from tests.conftest import csrf_from, make_client, pkce_pair, query_of


def _to_consent(browser, rp, scope="openid profile email offline_access"):
    _, challenge = pkce_pair()
    response = browser.authorize(response_type="code", client_id=rp.client.client_id,
                                 redirect_uri=rp.client.redirect_uris[0], scope=scope, state="xyz",
                                 code_challenge=challenge, code_challenge_method="S256")
    path = browser.follow_to_interaction(response)
    response = browser.resume(browser.login(path))
    return browser.follow_to_interaction(response)


def test_consent_page_names_the_app_and_permissions_in_words(client, browser, user, rp):
    path = _to_consent(browser, rp)
    html = client.get(path).get_data(as_text=True)
    assert "Allow Example App access?" in html
    assert "See your e-mail address" in html
    assert "Stay connected when you are not using the app" in html
    assert 'value="allow"' in html and 'value="deny"' in html


def test_deny_sends_access_denied_to_the_app(client, browser, user, rp):
    path = _to_consent(browser, rp)
    response = browser.resume(browser.consent(path, "deny"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("https://app.example.com/callback?")
    query = query_of(response.headers["Location"])
    assert query["error"] == "access_denied" and query["state"] == "xyz" and query["iss"]
    assert "code" not in query


def test_decision_is_remembered_per_client_and_scope_set(app, client, browser, user, rp):
    path = _to_consent(browser, rp, scope="openid email")
    browser.resume(browser.consent(path))
    _, challenge = pkce_pair()
    base = dict(response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
                state="s", code_challenge=challenge, code_challenge_method="S256")
    same = browser.authorize(scope="openid email", **base)
    assert "code" in query_of(same.headers["Location"])  # no page: remembered
    wider = browser.authorize(scope="openid email phone", **base)
    assert "/interaction/" in wider.headers["Location"]  # more scopes: asked again
    other = make_client(app, name="Other App", redirect_uris=["https://other.example.com/cb"])
    elsewhere = browser.authorize(**(base | {"client_id": other.client.client_id,
                                             "redirect_uri": "https://other.example.com/cb", "scope": "openid"}))
    assert "/interaction/" in elsewhere.headers["Location"]  # per client


def test_cancel_on_login_page_returns_access_denied(client, browser, rp):
    _, challenge = pkce_pair()
    response = browser.authorize(response_type="code", client_id=rp.client.client_id,
                                 redirect_uri=rp.client.redirect_uris[0], scope="openid", state="s",
                                 code_challenge=challenge, code_challenge_method="S256")
    path = browser.follow_to_interaction(response)
    page = client.get(path).get_data(as_text=True)
    aborted = client.post(path + "/abort", data={"csrf_token": csrf_from(page)})
    final = browser.resume(aborted)
    assert query_of(final.headers["Location"])["error"] == "access_denied"


def test_completed_interaction_cannot_be_resumed_twice(client, browser, user, rp):
    path = _to_consent(browser, rp)
    consented = browser.consent(path)
    first = browser.resume(consented)
    assert "code" in query_of(first.headers["Location"])
    again = browser.resume(consented)
    assert again.status_code == 400
    assert "already completed" in again.get_data(as_text=True) or "expired" in again.get_data(as_text=True)


def test_claims_requested_one_by_one_are_shown_and_consented(client, browser, user, rp):
    """OIDC Core §5.5: claims asked for individually need the person's consent like their scope."""
    import json

    _, challenge = pkce_pair()
    response = browser.authorize(response_type="code", client_id=rp.client.client_id,
                                 redirect_uri=rp.client.redirect_uris[0], scope="openid", state="s",
                                 claims=json.dumps({"userinfo": {"phone_number": None}}),
                                 code_challenge=challenge, code_challenge_method="S256")
    path = browser.follow_to_interaction(browser.resume(browser.login(browser.follow_to_interaction(response))))
    assert "See your phone number" in client.get(path).get_data(as_text=True)
    browser.resume(browser.consent(path))
    # Remembered: the same request later needs no page; a request for the address claim asks again.
    again = browser.authorize(response_type="code", client_id=rp.client.client_id,
                              redirect_uri=rp.client.redirect_uris[0], scope="openid phone", state="s",
                              code_challenge=challenge, code_challenge_method="S256")
    assert "code" in query_of(again.headers["Location"])
    address = browser.authorize(response_type="code", client_id=rp.client.client_id,
                                redirect_uri=rp.client.redirect_uris[0], scope="openid", state="s",
                                claims=json.dumps({"id_token": {"address": None}}),
                                code_challenge=challenge, code_challenge_method="S256")
    assert "/interaction/" in address.headers["Location"]
