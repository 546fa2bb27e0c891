"""Bootstrap as documented, done as a person would, in Chromium: the first-start hint's (and the
README's) command creates the first administrator; they open /admin, sign in with the password, are
asked to set up a second factor inside the sign-in, set it up on the page (an authenticator app, its
code computed from the secret the page shows; or a passkey in Chrome's virtual authenticator), save
their recovery codes and land in the console. No service-layer shortcut. Also: an administrator
signing in to an ordinary app for the first time gets the same enrolment, not a dead end."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pyotp
import pytest

from idp.cli.serve import FIRST_ADMIN_COMMAND
from idp.services import clock
from tests.conftest import PASSWORD, make_client
from tests.e2e.rp_app import RelyingParty
from tests.e2e.test_browser_mfa import VirtualAuthenticator

pytestmark = pytest.mark.e2e
README = Path(__file__).resolve().parents[2] / "README.md"
MFA = "urn:idp:acr:mfa"


def _create_first_admin(server) -> None:
    """Run the command exactly as the first-start hint prints it and the README shows it."""
    assert FIRST_ADMIN_COMMAND in README.read_text()
    args = shlex.split(FIRST_ADMIN_COMMAND)
    assert args[0] == "idp"
    result = server.app.test_cli_runner().invoke(args=args[1:], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output


def _password(page, username: str = "root") -> None:
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _set_up_authenticator_app(page) -> None:
    page.get_by_role("heading", name="Set up two-step sign-in").wait_for()
    page.get_by_role("link", name="Set up an authenticator app").click()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("6-digit code from the app").fill(pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="Turn on and continue").click()
    page.get_by_role("heading", name="Save your recovery codes").wait_for()
    assert page.locator("ul.recovery-codes li").count() == 10
    page.get_by_role("link", name=re.compile("I have saved my codes")).click()


def test_first_administrator_from_the_cli_to_the_console_with_an_authenticator_app(page, live_server):
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    _create_first_admin(live_server)
    page.goto(f"{live_server.url}/admin")
    _password(page)
    _set_up_authenticator_app(page)
    page.get_by_role("heading", name="Admin console").wait_for()
    page.get_by_role("link", name="Users").first.click()
    assert "root" in page.locator("main").inner_text()
    # The account console is reachable too, without being asked again (SSO at the MFA level).
    page.goto(f"{live_server.url}/account/security")
    assert "Two-step sign-in is <strong>on</strong>" in page.content()
    assert violations == []


def test_first_administrator_sets_up_a_passkey_instead(page, localhost_server):
    _create_first_admin(localhost_server)
    VirtualAuthenticator(page).present(True)
    page.goto(f"{localhost_server.url}/admin")
    _password(page)
    page.get_by_role("heading", name="Set up two-step sign-in").wait_for()
    page.get_by_label("Name for the new key (optional)").fill("Laptop")
    page.get_by_role("button", name="Add a security key or passkey").click()
    page.get_by_role("heading", name="Save your recovery codes").wait_for()
    page.get_by_role("link", name=re.compile("I have saved my codes")).click()
    page.get_by_role("heading", name="Admin console").wait_for()


def test_an_administrator_signing_in_to_an_app_for_the_first_time_sets_up_a_factor(app, page, live_server):
    _create_first_admin(live_server)
    rp = RelyingParty("bootstrap_rp")
    registered = make_client(app, name="Wiki", redirect_uris=[f"{rp.url}/callback"], skip_consent=True)
    rp.start(live_server.url, registered.client.client_id, registered.client_secret)
    try:
        page.goto(f"{rp.url}/login")
        _password(page)
        _set_up_authenticator_app(page)
        page.wait_for_url(f"{rp.url}/callback*")
        claims = json.loads(page.locator("body").inner_text())["id_token_claims"]
        assert claims["acr"] == MFA and "otp" in claims["amr"]
    finally:
        rp.stop()


def test_a_passkey_can_be_added_after_signing_in_at_account_login(page, localhost_server, user):
    """Item 9: whatever the sign-in path (here the account page's own entry), the browser binding the
    WebAuthn challenge needs exists, so adding a passkey works at the first try."""
    VirtualAuthenticator(page).present(True)
    page.goto(f"{localhost_server.url}/account/login?next=/account/security")
    _password(page, "alice")
    page.wait_for_url(f"{localhost_server.url}/account/security")
    page.get_by_label("Name for the new key (optional)").fill("Laptop")
    page.get_by_role("button", name="Add a security key or passkey").click()
    page.wait_for_url(f"{localhost_server.url}/account/security/passkeys")
    assert page.locator(".recovery-codes li").count() == 10
