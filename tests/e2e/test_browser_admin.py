"""User story in Chromium: an administrator signs in to the admin console (password + authenticator
app), registers a client, and a person then signs in to that app; the audit log shows the sign-in.
The console is also readable on a phone-sized screen, without CSP violations."""

from __future__ import annotations

import json

import pytest

from idp.services import rbac
from idp.services import users as user_service
from idp.services.runtime import current
from tests.conftest import PASSWORD, enrol_totp, totp_now
from tests.e2e.rp_app import RelyingParty

pytestmark = pytest.mark.e2e


@pytest.fixture()
def admin_secret(app):
    with app.app_context():
        admin = user_service.create(current().passwords, username="root", password=PASSWORD,
                                    email="root@example.com", is_admin=True)
        assert rbac.names_of(rbac.ROLE, admin.id) == ["admin"]
    return enrol_totp(app, admin)


def _console_sign_in(page, live_server, secret):
    page.goto(f"{live_server.url}/admin")
    page.get_by_label("Username or e-mail").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("6-digit code").fill(totp_now(secret))
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("heading", name="Admin console").wait_for()


def test_register_a_client_in_the_console_then_sign_in_with_it(chromium, page, live_server, user, admin_secret):
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    _console_sign_in(page, live_server, admin_secret)
    page.get_by_role("link", name="Clients").first.click()
    page.get_by_role("link", name="Register a client").click()
    rp = RelyingParty("console_rp")
    page.get_by_label("Name (shown on the consent page)").fill("Console App")
    page.get_by_label("Redirect URIs", exact=True).fill(f"{rp.url}/callback")
    page.get_by_label("Allowed scopes").fill("openid profile email roles")
    page.get_by_role("button", name="Register").click()
    client_id = page.locator("#client-id").inner_text().strip()
    client_secret = page.locator("#client-secret").inner_text().strip()
    assert "never shown again" in page.locator("[role=alert]").inner_text()

    rp.start(live_server.url, client_id, client_secret, response_mode="form_post")
    try:
        context = chromium.new_context()
        tab = context.new_page()
        tab.goto(f"{rp.url}/login")
        tab.get_by_label("Username or e-mail").fill("alice")
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Sign in", exact=True).click()
        tab.get_by_role("button", name="Allow").click()
        tab.wait_for_url(f"{rp.url}/callback*")
        result = json.loads(tab.locator("body").inner_text())
        assert result["id_token_claims"]["sub"] == user.sub
        assert result["id_token_claims"]["aud"] == client_id
        context.close()
    finally:
        rp.stop()

    page.goto(f"{live_server.url}/admin/audit?client_id={client_id}")
    log = page.locator("table.audit").inner_text()
    for event in ("login.password", "consent.grant", "token.issue"):
        assert event in log, event
    assert violations == []


def test_console_fits_a_phone_screen(chromium, live_server, admin_secret):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    try:
        tab = context.new_page()
        _console_sign_in(tab, live_server, admin_secret)
        for path in ("/admin/clients/new", "/admin/users", "/admin/roles"):
            tab.goto(f"{live_server.url}{path}")
            assert tab.evaluate("document.documentElement.scrollWidth") <= 360, path
    finally:
        context.close()


def test_deleting_a_user_asks_for_confirmation_without_javascript(chromium, live_server, user, admin_secret):
    """A destructive console action shows a confirmation page first; with JavaScript off, "Cancel" keeps
    the account and confirming deletes it."""
    from idp import http
    from idp.services import sessions

    app = live_server.app
    with app.app_context():
        admin = user_service.search("root", 0, 1).items[0]
        cookie, _ = sessions.start(current().settings, user_id=admin.id, amr=["pwd", "otp", "mfa"],
                                   acr=sessions.MFA_ACR, user_agent=None, ip_address=None)
    context = chromium.new_context(java_script_enabled=False)
    context.add_cookies([{"name": http.SESSION_COOKIE, "value": cookie, "url": live_server.url}])
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/admin/users/{user.id}")
        page.get_by_role("button", name="Delete this user").click()
        page.get_by_role("heading", name="Delete alice?").wait_for()
        page.get_by_role("link", name="Cancel").click()
        page.goto(f"{live_server.url}/admin/users/{user.id}")
        page.get_by_role("heading", name="alice").wait_for()  # still there
        page.get_by_role("button", name="Delete this user").click()
        page.get_by_role("button", name="Delete the user").click()
        page.get_by_text("alice was deleted.").wait_for()
        assert page.goto(f"{live_server.url}/admin/users/{user.id}").status == 404
    finally:
        context.close()
