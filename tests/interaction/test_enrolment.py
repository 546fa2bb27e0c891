"""Setting up a second factor inside the sign-in (a required action): a person who must have one
but has none — an administrator, or anyone at an app that requires it — sets up an authenticator app
after their password, gets recovery codes and continues with acr = mfa; through /authorize and the
device flow alike (one resume function, one policy)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from idp.services import clock, mfa, users
from tests.conftest import PASSWORD, csrf_from, make_client, query_of, totp_now
from tests.interaction.test_mfa_sign_in import MFA, _id_token, _to_mfa_page
from tests.protocol.test_device_flow import GRANT, poll, start


@pytest.fixture()
def admin(app, user):
    with app.app_context():
        users.set_admin(user.id, True)
    return user


def _enrol_totp(client, path: str) -> tuple[str, str]:
    """On the enrolment page: set up the app with the secret the page shows; (secret, codes page)."""
    page = client.get(path + "/enrol/totp").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    response = client.post(path + "/enrol/totp", data={"code": totp_now(secret), "csrf_token": csrf_from(page)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return secret, response.get_data(as_text=True)


def test_an_administrator_without_a_factor_sets_one_up_and_continues_at_the_mfa_level(app, client, browser,
                                                                                       admin):
    rp = make_client(app, name="Wiki", redirect_uris=["https://wiki.example.com/cb"], skip_consent=True)
    path, html = _to_mfa_page(browser, rp)
    assert "Set up two-step sign-in</h1>" in html
    secret, codes_page = _enrol_totp(client, path)
    assert codes_page.count('<li class="code">') == 10  # recovery codes, shown once
    continue_to = re.search(r'id="continue" href="([^"]+)"', codes_page).group(1)
    assert continue_to == path.replace("/interaction/", "/authorize/")
    response = client.get(continue_to)
    result = query_of(response.headers["Location"]) | {"_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}
    claims = _id_token(client, rp, result)
    assert claims["acr"] == MFA and claims["amr"] == ["pwd", "otp", "mfa"]
    with app.app_context():
        assert mfa.status(admin.id).totp and mfa.status(admin.id).recovery_codes_left == 10


def test_a_wrong_first_code_is_refused_and_counted(app, client, browser, admin, rp, settings):
    path, _ = _to_mfa_page(browser, rp)
    page = client.get(path + "/enrol/totp").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    wrong = "000000" if totp_now(secret) != "000000" else "111111"
    statuses = [client.post(path + "/enrol/totp", data={"code": wrong, "csrf_token": csrf_from(page)}).status_code
                for _ in range(settings.mfa_max_failures_per_account + 1)]
    assert statuses == [400] * settings.mfa_max_failures_per_account + [429]
    with app.app_context():
        assert not mfa.status(admin.id).enrolled


def test_enrolment_pages_refuse_a_person_who_already_has_a_factor(app, client, browser, user, rp):
    """A password alone must never add a factor to an account that has one."""
    from tests.conftest import enrol_totp

    enrol_totp(app, user)
    path, _ = _to_mfa_page(browser, rp)  # the mfa prompt, not enrolment
    assert client.get(path + "/enrol/totp").status_code == 400
    assert client.post(path + "/enrol/passkey/options").status_code == 400


def test_enrolment_pages_need_the_enrolment_prompt(client, browser, user, rp):
    path = browser.follow_to_interaction(browser.authorize(
        response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
        scope="openid", code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method="S256"))
    assert client.get(path + "/enrol/totp").status_code == 400  # not signed in, nothing asked


def test_device_flow_sends_an_administrator_without_a_factor_to_enrolment(app, client, admin):
    """Through the device flow the same policy applies: no admin-scoped tokens with a password alone."""
    tv = make_client(app, name="TV", redirect_uris=[], token_endpoint_auth_method="none", grant_types=[GRANT],
                     scopes=["openid", "profile"], skip_consent=True)
    body = start(client, tv, scope="openid").get_json()
    page = client.get("/device").get_data(as_text=True)
    response = client.post("/device", data={"user_code": body["user_code"], "csrf_token": csrf_from(page)})
    path = urlsplit(client.get(response.headers["Location"]).headers["Location"]).path
    page = client.get(path).get_data(as_text=True)
    response = client.post(path + "/login", data={"username": "alice", "password": PASSWORD,
                                                  "csrf_token": csrf_from(page)})
    response = client.get(response.headers["Location"])  # resume: the policy asks for enrolment
    assert urlsplit(response.headers["Location"]).path == path
    assert "Set up two-step sign-in</h1>" in client.get(path).get_data(as_text=True)
    assert poll(client, tv, body["device_code"]).get_json()["error"] == "authorization_pending"
    _enrol_totp(client, path)
    done = client.get(path.replace("/interaction/", "/authorize/"))
    assert done.headers["Location"].endswith("/device/done?result=approved")
    clock.advance(body["interval"])
    tokens = poll(client, tv, body["device_code"])
    assert tokens.status_code == 200, tokens.get_json()
