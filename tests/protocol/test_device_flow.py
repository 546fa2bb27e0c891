"""Device authorization grant (RFC 8628): the device endpoint, the /device page with login and
consent, and polling answers exactly as §3.5 says; user codes are short, unambiguous, rate-limited."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from idp.services import clock, device
from tests.conftest import PASSWORD, basic_auth, csrf_from, make_client

GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture()
def tv(app):
    """A public device client (a TV app)."""
    return make_client(app, name="Living-room TV", redirect_uris=[], token_endpoint_auth_method="none",
                       grant_types=[GRANT, "refresh_token"], scopes=["openid", "profile", "offline_access"])


def start(client, tv, scope="openid profile offline_access", **extra):
    return client.post("/device_authorization", data={"client_id": tv.client.client_id, "scope": scope, **extra})


def poll(client, tv, device_code):
    return client.post("/token", data={"grant_type": GRANT, "device_code": device_code,
                                       "client_id": tv.client.client_id})


def approve(client, user_code: str, decision="allow", via_complete_uri: str | None = None):
    """Type the code on /device, sign in and consent, as a person on their phone would."""
    page = client.get(urlsplit(via_complete_uri).path + "?" + urlsplit(via_complete_uri).query
                      if via_complete_uri else "/device")
    html = page.get_data(as_text=True)
    if via_complete_uri:
        assert f'value="{user_code}"' in html
    response = client.post("/device", data={"user_code": user_code, "csrf_token": csrf_from(html)})
    while response.status_code in (302, 303):
        location = urlsplit(response.headers["Location"])
        if location.path.startswith("/device/done"):
            return parse_qs(location.query)["result"][0]
        page = client.get(location.path)
        if page.status_code in (302, 303):
            response = page
            continue
        html = page.get_data(as_text=True)
        if 'name="password"' in html:
            response = client.post(location.path + "/login", data={
                "username": "alice", "password": PASSWORD, "csrf_token": csrf_from(html)})
        elif 'name="decision"' in html:
            # The consent page shows the code, so the person can check it is the device they hold.
            shown = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', html).group(1)
            assert shown.replace("-", "") == re.sub(r"[^A-Z0-9]", "", user_code.upper())
            response = client.post(location.path + "/consent", data={
                "decision": decision, "csrf_token": csrf_from(html)})
        else:  # pragma: no cover - would be a bug in the pages
            raise AssertionError(html)
    raise AssertionError(response.get_data(as_text=True))


def test_device_authorization_response(client, tv, settings):
    response = start(client, tv)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"device_code", "user_code", "verification_uri", "verification_uri_complete",
                         "expires_in", "interval"}
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", body["user_code"])
    assert body["verification_uri"] == settings.issuer + "/device"
    assert parse_qs(urlsplit(body["verification_uri_complete"]).query)["user_code"] == [body["user_code"]]
    assert body["expires_in"] == settings.device_code_ttl and body["interval"] == settings.device_poll_interval


def test_the_whole_device_flow(client, tv, user):
    body = start(client, tv).get_json()
    pending = poll(client, tv, body["device_code"])
    assert pending.status_code == 400 and pending.get_json()["error"] == "authorization_pending"
    assert approve(client, body["user_code"].lower().replace("-", " ")) == "approved"  # forgiving input
    clock.advance(body["interval"])
    tokens = poll(client, tv, body["device_code"])
    assert tokens.status_code == 200, tokens.get_json()
    issued = tokens.get_json()
    assert {"access_token", "id_token", "refresh_token"} <= set(issued)
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {issued['access_token']}"}).status_code == 200
    clock.advance(body["interval"])
    again = poll(client, tv, body["device_code"])  # consumed exactly once
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"


def test_verification_uri_complete_prefills_the_code(client, tv, user):
    body = start(client, tv).get_json()
    assert approve(client, body["user_code"], via_complete_uri=body["verification_uri_complete"]) == "approved"


def test_denied_on_the_consent_page_is_access_denied(client, tv, user):
    body = start(client, tv).get_json()
    assert approve(client, body["user_code"], decision="deny") == "denied"
    response = poll(client, tv, body["device_code"])
    assert response.status_code == 400 and response.get_json()["error"] == "access_denied"


def test_polling_too_fast_is_slow_down_and_adds_five_seconds(client, tv):
    body = start(client, tv).get_json()
    assert poll(client, tv, body["device_code"]).get_json()["error"] == "authorization_pending"
    assert poll(client, tv, body["device_code"]).get_json()["error"] == "slow_down"
    clock.advance(body["interval"])  # the old interval is no longer enough
    assert poll(client, tv, body["device_code"]).get_json()["error"] == "slow_down"
    clock.advance(body["interval"] + device.SLOW_DOWN_STEP * 2)
    assert poll(client, tv, body["device_code"]).get_json()["error"] == "authorization_pending"


def test_an_expired_device_code_is_expired_token(client, tv, user, settings):
    body = start(client, tv).get_json()
    clock.advance(settings.device_code_ttl)
    assert poll(client, tv, body["device_code"]).get_json()["error"] == "expired_token"
    page = client.get("/device")
    response = client.post("/device", data={"user_code": body["user_code"],
                                            "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 400 and "not valid or has expired" in response.get_data(as_text=True)


def test_device_code_of_another_client_or_unknown_is_invalid_grant(app, client, tv):
    body = start(client, tv).get_json()
    other = make_client(app, name="Other TV", redirect_uris=[], token_endpoint_auth_method="none",
                        grant_types=[GRANT])
    assert poll(client, other, body["device_code"]).get_json()["error"] == "invalid_grant"
    assert poll(client, tv, "nope").get_json()["error"] == "invalid_grant"
    missing = client.post("/token", data={"grant_type": GRANT, "client_id": tv.client.client_id})
    assert missing.status_code == 400 and missing.get_json()["error"] == "invalid_request"


def test_device_endpoint_errors(client, tv, rp):
    refused = client.post("/device_authorization", data={"client_id": rp.client.client_id, "scope": "openid"},
                          headers=basic_auth(rp.client.client_id, rp.client_secret))
    assert refused.status_code == 400 and refused.get_json()["error"] == "unauthorized_client"
    assert start(client, tv, scope="email").get_json()["error"] == "invalid_scope"
    assert start(client, tv, resource="https://api.example.com").get_json()["error"] == "invalid_target"
    unknown = client.post("/device_authorization", data={"client_id": "nobody", "scope": "openid"})
    assert unknown.get_json()["error"] == "invalid_client"


def test_wrong_user_codes_are_rate_limited(client, tv, user, settings):
    body = start(client, tv).get_json()
    page = client.get("/device")
    token = csrf_from(page.get_data(as_text=True))
    for _ in range(settings.device_user_code_attempts):
        wrong = client.post("/device", data={"user_code": "BCDF-GHJK", "csrf_token": token})
        assert wrong.status_code == 400
    blocked = client.post("/device", data={"user_code": body["user_code"], "csrf_token": token})
    assert blocked.status_code == 429 and "Too many wrong codes" in blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) > 0
    clock.advance(settings.device_user_code_window + 1)
    assert approve(client, body["user_code"]) == "approved"


def test_user_code_format_and_normalisation():
    assert device.normalize_user_code("bcdf-ghjk") == "BCDFGHJK"
    assert device.normalize_user_code("BCDF GHJK") == "BCDFGHJK"
    assert device.normalize_user_code("BCDF-GHJA") is None  # vowels are never used
    assert device.normalize_user_code("BCDF-GHJ") is None
    assert device.normalize_user_code(None) is None
    assert device.format_user_code("BCDFGHJK") == "BCDF-GHJK"


def test_device_page_requires_csrf(client, tv):
    body = start(client, tv).get_json()
    assert client.post("/device", data={"user_code": body["user_code"]}).status_code == 400
