"""User stories in a real browser (Chromium): set up an authenticator app and a passkey on the
account page, then sign in to an app with the password and a code, with a recovery code, with the
password and the passkey, and with the passkey alone; the app sees amr/acr in the ID token.

WebAuthn needs a secure context and an RP ID matching the page, so the provider runs with the issuer
http://localhost:<port>; the passkey lives in Chrome's virtual authenticator (DevTools protocol)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from idp.services import clock
from tests.conftest import PASSWORD, make_client, totp_now
from tests.e2e.rp_app import RelyingParty

pytestmark = pytest.mark.e2e
MFA = "urn:idp:acr:mfa"


@pytest.fixture()
def relying_party(app, localhost_server):
    rp = RelyingParty("mfa_rp")
    registered = make_client(app, name="MFA App", redirect_uris=[f"{rp.url}/callback"], skip_consent=True)
    # The default query response mode: the second-factor pages allow the redirect to the app in their CSP.
    rp.start(localhost_server.url, registered.client.client_id, registered.client_secret)
    yield rp
    rp.stop()


def _csp_watch(page) -> list[str]:
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    return violations


def _password(page, relying_party) -> None:
    page.goto(f"{relying_party.url}/login")
    page.get_by_label("Username or e-mail").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _claims(page, relying_party) -> dict:
    page.wait_for_url(f"{relying_party.url}/callback*")
    return json.loads(page.locator("body").inner_text())["id_token_claims"]


class VirtualAuthenticator:
    """Chrome's virtual platform authenticator with user verification, via the DevTools protocol.
    While `present(False)`, requests wait for the person (so autofill's conditional request does not
    answer at once, as it does while the authenticator simulates presence)."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable")
        self.id = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
            "isUserVerified": True}})["authenticatorId"]

    def present(self, enabled: bool) -> None:
        self.cdp.send("WebAuthn.setAutomaticPresenceSimulation", {"authenticatorId": self.id, "enabled": enabled})


def test_authenticator_app_and_recovery_code(chromium, page, localhost_server, user, relying_party):
    violations = _csp_watch(page)
    _password(page, relying_party)
    assert _claims(page, relying_party)["amr"] == ["pwd"]

    page.goto(f"{localhost_server.url}/account/security")
    page.get_by_role("link", name="Set up an authenticator app").click()
    assert page.locator("figure.qr svg").is_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("6-digit code from the app").fill(totp_now(secret))
    page.get_by_role("button", name="Turn on").click()
    page.locator(".recovery-codes li").first.wait_for()  # all_inner_texts() does not wait for the next page
    codes = [c.strip() for c in page.locator(".recovery-codes li").all_inner_texts()]
    assert len(codes) == 10
    page.get_by_role("link", name="I have saved my codes").click()
    assert page.locator("#codes-left").inner_text() == "10"

    clock.advance(30)  # the next code of the app
    fresh = chromium.new_context()
    try:
        tab = fresh.new_page()
        _password(tab, relying_party)
        tab.get_by_label("6-digit code").fill(totp_now(secret))
        tab.get_by_role("button", name="Verify").click()
        claims = _claims(tab, relying_party)
        assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == MFA
    finally:
        fresh.close()

    fresh = chromium.new_context()
    try:
        tab = fresh.new_page()
        _password(tab, relying_party)
        tab.get_by_role("link", name="Use a recovery code").click()
        tab.get_by_role("textbox", name="Recovery code").fill(codes[0])
        tab.get_by_role("button", name="Verify").click()
        claims = _claims(tab, relying_party)
        assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == MFA
        tab.goto(f"{localhost_server.url}/account/security")
        assert tab.locator("#codes-left").inner_text() == "9"
    finally:
        fresh.close()
    assert violations == []


def test_passkey_as_second_factor_and_passwordless(page, localhost_server, user, relying_party):
    violations = _csp_watch(page)
    authenticator = VirtualAuthenticator(page)
    _password(page, relying_party)
    _claims(page, relying_party)

    page.goto(f"{localhost_server.url}/account/security")
    page.get_by_label("Name for the new key (optional)").fill("Laptop")
    page.get_by_role("button", name="Add a security key or passkey").click()
    page.wait_for_url(f"{localhost_server.url}/account/security/passkeys")  # the script posted the new key
    assert len(page.locator(".recovery-codes li").all_inner_texts()) == 10  # the first factor brings codes
    page.get_by_role("link", name="I have saved my codes").click()
    assert page.get_by_text("Laptop", exact=True).is_visible()

    page.context.clear_cookies()  # a new visit: password, then the passkey as second factor
    authenticator.present(False)
    _password(page, relying_party)
    authenticator.present(True)
    page.get_by_role("button", name="Use security key or passkey").click()
    claims = _claims(page, relying_party)
    assert claims["amr"] == ["pwd", "hwk", "user", "mfa"] and claims["acr"] == MFA

    page.context.clear_cookies()  # the passkey alone, with the button
    authenticator.present(False)
    page.goto(f"{relying_party.url}/login")
    page.get_by_role("button", name="Sign in with a passkey").wait_for()
    authenticator.present(True)
    try:
        page.get_by_role("button", name="Sign in with a passkey").click(timeout=5000)
    except PlaywrightTimeout:
        # Once the authenticator answers, the page's pending autofill (conditional) request may sign in
        # before the click lands and the page is gone; the claims below show which way it went.
        pass
    claims = _claims(page, relying_party)
    assert claims["amr"] == ["hwk", "user", "mfa"] and claims["acr"] == MFA and claims["sub"] == user.sub

    page.context.clear_cookies()  # and from the username field's autofill (conditional mediation)
    page.goto(f"{relying_party.url}/login")
    claims = _claims(page, relying_party)
    assert claims["amr"] == ["hwk", "user", "mfa"] and claims["sub"] == user.sub
    assert violations == []
