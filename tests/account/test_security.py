"""/account/security: enrolment and removal of second factors, re-authentication, the MFA gate for
people who have a factor, CSRF on the WebAuthn fetch, and the audit trail."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
from sqlalchemy import select

from idp.extensions import db
from idp.services import mfa
from idp.services.mfa import recovery
from idp.storage.audit import AuditEvent
from tests.conftest import PASSWORD, csrf_from, enrol_totp, totp_now


def _events(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(e.event, e.outcome) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
                if e.event.startswith(("mfa.", "account."))]


def test_not_signed_in_asks_to_sign_in(client):
    response = client.get("/account/security")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/authorize"


def test_enrol_an_authenticator_app_then_remove_it_with_the_password(app, client, browser, user, rp):
    browser.sign_in(rp)
    page = client.get("/account/security")
    assert page.status_code == 200 and "Two-step sign-in is <strong>off</strong>" in page.get_data(as_text=True)
    setup = client.get("/account/security/totp").get_data(as_text=True)
    assert "<svg" in setup and 'autocomplete="one-time-code"' in setup
    assert "<title>QR code for your authenticator app</title>" in setup
    german = client.get("/account/security/totp", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "<title>QR-Code für Ihre Authenticator-App</title>" in german  # the QR code's name in the page language
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', setup).group(1)
    wrong = client.post("/account/security/totp", data={"code": "12345", "csrf_token": csrf_from(setup)})
    assert wrong.status_code == 400 and "not right" in wrong.get_data(as_text=True)
    done = client.post("/account/security/totp", data={"code": pyotp.TOTP(secret).now(),
                                                       "csrf_token": csrf_from(setup)})
    codes = re.findall(r'<li class="code">([a-z2-7-]{19})</li>', done.get_data(as_text=True))
    assert len(codes) == 10 and done.headers["Cache-Control"] == "no-store"
    assert "idp_session=" in done.headers["Set-Cookie"]  # the session now stands at the MFA level
    index = client.get("/account/security").get_data(as_text=True)
    assert 'id="codes-left">10<' in index and "Two-step sign-in is <strong>on</strong>" in index

    token = csrf_from(index)
    refused = client.post("/account/security/totp/disable", data={"password": "wrong", "csrf_token": token})
    assert refused.status_code == 401
    with app.app_context():
        assert mfa.status(user.id).totp
    removed = client.post("/account/security/totp/disable", data={"password": PASSWORD, "csrf_token": token})
    assert removed.status_code == 303
    with app.app_context():
        status = mfa.status(user.id)
        assert not status.enrolled and status.recovery_codes_left == 0  # codes go with the last factor
    assert _events(app) == [
        ("mfa.totp.enrol", "failure"), ("mfa.totp.enrol", "success"), ("mfa.recovery.generate", "success"),
        ("account.reauthenticate", "failure"), ("mfa.totp.disable", "success"), ("mfa.recovery.remove", "success"),
    ]


def test_new_recovery_codes_replace_the_old_ones(app, client, browser, user, rp):
    secret = enrol_totp(app, user)
    browser.second_factor = lambda: totp_now(secret)
    browser.sign_in(rp)
    with app.app_context():
        recovery.use(user.id, recovery.generate(user.id)[0])
    index = client.get("/account/security").get_data(as_text=True)
    assert 'id="codes-left">9<' in index
    page = client.post("/account/security/recovery-codes", data={"password": PASSWORD, "csrf_token": csrf_from(index)})
    codes = re.findall(r'<li class="code">([a-z2-7-]{19})</li>', page.get_data(as_text=True))
    assert len(codes) == 10 and "old codes no" in page.get_data(as_text=True)
    # A .txt download of exactly these codes (a data: link: it works without JavaScript), and a print button.
    from urllib.parse import unquote

    download = re.search(r'download="recovery-codes.txt" href="data:text/plain;charset=utf-8,([^"]+)"',
                         page.get_data(as_text=True))
    assert download and all(code in unquote(download.group(1)) for code in codes)
    assert 'id="print-codes"' in page.get_data(as_text=True)
    assert 'id="codes-left">10<' in client.get("/account/security").get_data(as_text=True)


def test_a_password_only_session_cannot_touch_the_factors_of_an_enrolled_person(app, client, browser, user, rp):
    """Someone who knows only the password stops at the MFA step; the session that step left behind
    must not open the security page either."""
    enrol_totp(app, user)
    path = browser.follow_to_interaction(browser.authorize(
        response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
        scope="openid", code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method="S256"))
    browser.resume(browser.login(path))
    for page_path in ("/account/security", "/account", "/account/password", "/account/profile"):
        page = client.get(page_path)
        # Sent through the sign-in flow of the account console, which asks for the second factor.
        assert page.status_code == 303 and page.headers["Location"].startswith("/authorize?"), page_path
        step = client.get(page.headers["Location"])
        assert "/interaction/" in step.headers["Location"]
        assert 'autocomplete="one-time-code"' in client.get(step.headers["Location"]).get_data(as_text=True)
    token = csrf_from(client.get(path).get_data(as_text=True))
    refused = client.post("/account/security/totp/disable", data={"password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 303 and refused.headers["Location"].startswith("/authorize?")
    with app.app_context():
        assert mfa.status(user.id).totp


def test_step_up_for_the_account_pages_returns_to_the_page(app, client, browser, user, rp):
    """After password and code in the account console's flow, the person lands on the page they asked for."""
    secret = enrol_totp(app, user)
    path = browser.follow_to_interaction(browser.authorize(
        response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
        scope="openid", code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method="S256"))
    browser.resume(browser.login(path))
    step = client.get(client.get("/account/password").headers["Location"])
    mfa_path = step.headers["Location"]
    page = client.get(mfa_path).get_data(as_text=True)
    done = client.post(mfa_path + "/mfa/totp", data={"code": totp_now(secret), "csrf_token": csrf_from(page)})
    callback = client.get(done.headers["Location"])  # resume → redirect to /account/callback
    assert callback.status_code == 302 and "/account/callback?" in callback.headers["Location"]
    back = client.get(callback.headers["Location"])
    assert back.status_code == 303 and back.headers["Location"] == "/account/password"
    assert client.get("/account/password").status_code == 200


def test_account_callback_opens_nothing_by_itself(client):
    """Without a strong enough session the callback only starts a sign-in; a forged state never picks
    the page to return to, and a response from another issuer is refused."""
    response = client.get("/account/callback?code=x&state=forged&iss=http://localhost")
    assert response.status_code == 303 and response.headers["Location"].startswith("/authorize?")
    assert "redirect_uri=http://localhost/account/callback" in response.headers["Location"]
    other = client.get("/account/callback?code=x&state=forged&iss=https://evil.example")
    assert other.status_code == 400


def test_passkey_options_need_the_csrf_header(client, browser, user, rp):
    browser.sign_in(rp)
    token = csrf_from(client.get("/account/security").get_data(as_text=True))
    assert client.post("/account/security/passkeys/options").status_code == 400
    options = client.post("/account/security/passkeys/options", headers={"X-CSRFToken": token})
    assert options.status_code == 200 and options.headers["Cache-Control"] == "no-store"
    body = options.get_json()
    assert body["rp"]["id"] == "localhost" and body["authenticatorSelection"]["residentKey"] == "required"


def test_adding_a_passkey_works_whatever_way_the_person_signed_in(client, browser, user, rp):
    """The browser binding WebAuthn challenges need is created when the page needs it, not only by the
    sign-in flow (a browser that lost or never had it used to get "Reload the page and try again")."""
    browser.sign_in(rp)
    client.delete_cookie("idp_browser")
    token = csrf_from(client.get("/account/security").get_data(as_text=True))
    response = client.post("/account/security/passkeys/options", headers={"X-CSRFToken": token})
    assert response.status_code == 200 and "challenge" in response.get_json()
    assert client.get_cookie("idp_browser") is not None


def test_account_login_sets_the_browser_binding(client, user):
    from tests.account.test_account import account_login

    assert account_login(client).status_code == 303
    assert client.get_cookie("idp_browser") is not None
    token = csrf_from(client.get("/account/security").get_data(as_text=True))
    assert client.post("/account/security/passkeys/options", headers={"X-CSRFToken": token}).status_code == 200
