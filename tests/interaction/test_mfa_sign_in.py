"""The second-factor step of sign-in: when the policy asks for it (enrolled factor, client setting,
administrator), what amr/acr the tokens then carry, step-up and essential acr requests (OIDC Core
§3.1.2.1, §5.5.1.1), SSO at the MFA level, throttling and the audit trail."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.extensions import db
from idp.services import clock, users
from idp.services.mfa import recovery
from idp.storage.audit import AuditEvent
from tests.conftest import csrf_from, enrol_totp, make_client, query_of, redeem, totp_now

PWD, MFA = "urn:idp:acr:pwd", "urn:idp:acr:mfa"
# The PKCE example pair of RFC 7636 Appendix B.
RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def _id_token(client, rp, result: dict) -> dict:
    response = redeem(client, rp, result["code"], result["_verifier"])
    assert response.status_code == 200, response.get_data(as_text=True)
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    return jwt.decode(response.get_json()["id_token"], keys, algorithms=["RS256"]).claims


def _to_mfa_page(browser, rp, **params) -> tuple[str, str]:
    """Start a sign-in, enter the password, and return (interaction path, MFA page html)."""
    query = dict(response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
                 scope="openid", state="s", code_challenge=RFC7636_CHALLENGE,
                 code_challenge_method="S256")
    query.update(params)
    path = browser.follow_to_interaction(browser.authorize(**query))
    step = browser.resume(browser.login(path))
    assert step.status_code == 302 and urlsplit(step.headers["Location"]).path == path, step.headers
    page = browser.client.get(path)
    return path, page.get_data(as_text=True)


def _events(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)))


def test_password_only_user_is_not_asked_for_a_second_factor(client, browser, user, rp):
    claims = _id_token(client, rp, browser.sign_in(rp))
    assert claims["amr"] == ["pwd"] and claims["acr"] == PWD


def test_enrolled_user_gives_a_totp_code_and_the_id_token_says_so(app, client, browser, user, rp):
    secret = enrol_totp(app, user)
    path, html = _to_mfa_page(browser, rp)
    assert 'autocomplete="one-time-code"' in html and '<label for="code">' in html
    assert "Use a recovery code" in html  # the recovery path is offered
    wrong = "000000" if totp_now(secret) != "000000" else "111111"
    response = client.post(path + "/mfa/totp", data={"code": wrong, "csrf_token": csrf_from(html)})
    assert response.status_code == 401 and "not right" in response.get_data(as_text=True)
    browser.second_factor = lambda: totp_now(secret)
    claims = _id_token(client, rp, browser.sign_in(rp))
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == MFA
    with app.app_context():
        outcomes = [(e.outcome, e.actor_user_id) for e in _events("mfa.totp.verify")]
    assert outcomes == [("failure", user.id), ("success", user.id)]


def test_a_recovery_code_is_the_way_back_in(app, client, browser, user, rp):
    enrol_totp(app, user)
    with app.app_context():
        codes = recovery.generate(user.id)
    path, _ = _to_mfa_page(browser, rp)
    html = client.get(path, query_string={"method": "recovery"}).get_data(as_text=True)
    assert "Recovery code" in html and "you have 10 left" in html
    browser.second_factor, browser.second_factor_method = (lambda: codes[3]), "recovery"
    result = browser.sign_in(rp, prompt="login")
    claims = _id_token(client, rp, result)
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == MFA
    with app.app_context():
        assert recovery.remaining(user.id) == 9
        assert [e.outcome for e in _events("mfa.recovery.verify")] == ["success"]


def test_the_mfa_session_serves_sso_without_asking_again(app, client, browser, user, rp):
    secret = enrol_totp(app, user)
    browser.second_factor = lambda: totp_now(secret)
    browser.sign_in(rp)
    other = make_client(app, name="Other", redirect_uris=["https://other.example.com/cb"], skip_consent=True)
    browser.second_factor = None  # would fail the walk if asked
    claims = _id_token(client, other, browser.sign_in(other))
    assert claims["acr"] == MFA


def test_max_age_asks_for_both_factors_again(app, client, browser, user, rp):
    secret = enrol_totp(app, user)
    browser.second_factor = lambda: totp_now(secret)
    first = _id_token(client, rp, browser.sign_in(rp))
    clock.advance(120)
    path, html = _to_mfa_page(browser, rp, max_age="60")  # the password again, then a code again
    response = browser.resume(client.post(path + "/mfa/totp", data={"code": totp_now(secret),
                                                                    "csrf_token": csrf_from(html)}))
    result = query_of(response.headers["Location"]) | {"_verifier": RFC7636_VERIFIER}
    claims = _id_token(client, rp, result)
    assert claims["acr"] == MFA and claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["auth_time"] >= first["auth_time"] + 120


def test_prompt_none_below_the_mfa_level_is_interaction_required(app, client, browser, user, rp):
    enrol_totp(app, user)
    _to_mfa_page(browser, rp)  # the session exists at the password level only
    response = browser.authorize(response_type="code", client_id=rp.client.client_id, prompt="none",
                                 redirect_uri=rp.client.redirect_uris[0], scope="openid", state="s",
                                 code_challenge=RFC7636_CHALLENGE,
                                 code_challenge_method="S256")
    assert query_of(response.headers["Location"])["error"] == "interaction_required"


def test_client_requiring_mfa_sends_a_person_without_a_factor_to_set_one_up(app, browser, user):
    strict = make_client(app, name="Bank", redirect_uris=["https://bank.example.com/cb"], require_mfa=True)
    assert strict.client.require_mfa
    path, html = _to_mfa_page(browser, strict)
    assert "Set up two-step sign-in</h1>" in html and f'href="{path}/enrol/totp"' in html
    assert "/account/security" not in html  # no detour through a page that would ask for the factor first


def test_administrators_always_need_a_second_factor(app, browser, user, rp):
    with app.app_context():
        users.set_admin(user.id, True)
    path, html = _to_mfa_page(browser, rp)
    assert "Set up two-step sign-in</h1>" in html and f'href="{path}/enrol/totp"' in html


def test_admin_with_a_factor_gets_the_mfa_level(app, client, browser, user, rp):
    with app.app_context():
        users.set_admin(user.id, True)
    secret = enrol_totp(app, user)
    browser.second_factor = lambda: totp_now(secret)
    assert _id_token(client, rp, browser.sign_in(rp))["acr"] == MFA


def test_essential_mfa_acr_without_a_factor_is_access_denied(client, browser, user, rp):
    claims = {"id_token": {"acr": {"essential": True, "values": [MFA]}}}
    result = browser.sign_in(rp, claims=json.dumps(claims))
    assert result["error"] == "access_denied"


def test_voluntary_mfa_acr_values_without_a_factor_states_the_level_reached(client, browser, user, rp):
    claims = _id_token(client, rp, browser.sign_in(rp, acr_values=MFA))
    assert claims["acr"] == PWD


def test_essential_acr_met_by_a_higher_level_is_answered_with_the_requested_value(app, client, browser, user, rp):
    secret = enrol_totp(app, user)
    browser.second_factor = lambda: totp_now(secret)
    claims = {"id_token": {"acr": {"essential": True, "values": [PWD]}}}
    assert _id_token(client, rp, browser.sign_in(rp, claims=json.dumps(claims)))["acr"] == PWD


def test_step_up_with_acr_values_for_an_enrolled_user(app, client, browser, user, rp):
    secret = enrol_totp(app, user)
    _, html = _to_mfa_page(browser, rp, acr_values=f"{MFA} {PWD}")
    assert "Confirm it" in html
    browser.second_factor = lambda: totp_now(secret)
    assert _id_token(client, rp, browser.sign_in(rp, acr_values=MFA))["acr"] == MFA


def test_discovery_lists_the_acr_values(client):
    assert client.get("/.well-known/openid-configuration").get_json()["acr_values_supported"] == [PWD, MFA]


def test_wrong_codes_are_throttled_per_account(app, client, browser, user, rp, settings):
    secret = enrol_totp(app, user)
    path, html = _to_mfa_page(browser, rp)
    token = csrf_from(html)
    wrong = "000000" if totp_now(secret) != "000000" else "111111"
    for _ in range(settings.mfa_max_failures_per_account):
        assert client.post(path + "/mfa/totp", data={"code": wrong, "csrf_token": token}).status_code == 401
    blocked = client.post(path + "/mfa/totp", data={"code": totp_now(secret), "csrf_token": token})
    text = blocked.get_data(as_text=True)
    assert blocked.status_code == 429 and "Too many wrong attempts" in text and "15 minutes" in text
    clock.advance(settings.mfa_failure_window + 1)  # the failures leave the window (the interaction expired)
    browser.second_factor = lambda: totp_now(secret)
    assert _id_token(client, rp, browser.sign_in(rp))["acr"] == MFA


def test_wrong_codes_are_throttled_per_client_ip(app, client, browser, user, rp, settings):
    """Many accounts tried from one address: the address is blocked, whoever's account is next."""
    enrol_totp(app, user)
    path, html = _to_mfa_page(browser, rp)
    from idp.services import throttle
    from idp.services.mfa import throttle as mfa_throttle

    with app.app_context():
        for n in range(settings.mfa_max_failures_per_ip):  # one wrong guess each at other accounts
            throttle.reserve(mfa_throttle.keys(settings, 10_000 + n, "127.0.0.1"))
    blocked = client.post(path + "/mfa/recovery", data={"code": "aaaa-bbbb-cccc-dddd",
                                                         "csrf_token": csrf_from(html)})
    assert blocked.status_code == 429


@pytest.mark.parametrize("method", ["totp", "recovery", "webauthn"])
def test_second_factor_posts_need_the_csrf_token(app, client, browser, user, rp, method):
    enrol_totp(app, user)
    path, _ = _to_mfa_page(browser, rp)
    assert client.post(f"{path}/mfa/{method}", data={"code": "123456"}).status_code == 400


def test_the_mfa_page_is_an_accessible_form(app, browser, user, rp):
    enrol_totp(app, user)
    _, html = _to_mfa_page(browser, rp)
    assert re.search(r'<input id="code" name="code" type="text" inputmode="numeric"', html)
    assert 'aria-labelledby="method-title"' in html and "<h1>" in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/js/webauthn.js" defer>']
