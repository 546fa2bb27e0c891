"""User stories in Chromium on the account page: sign in, see where you are signed in and end
another session, change the password, remove an app's access; readable on a phone."""

from __future__ import annotations

import json

import pytest

from tests.conftest import PASSWORD, make_client
from tests.e2e.rp_app import RelyingParty

pytestmark = pytest.mark.e2e
NEW_PASSWORD = "a much better passphrase"


def _account_login(page, base: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/account")
    page.get_by_label("Username or e-mail").fill("alice")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Your account").wait_for()


def test_sessions_and_password_in_chromium(chromium, page, live_server, user):
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    elsewhere = chromium.new_context(user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
                                                "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/604.1")
    try:
        phone = elsewhere.new_page()
        _account_login(phone, live_server.url)
        _account_login(page, live_server.url)
        sessions = page.get_by_role("region", name="Where you are signed in")
        assert sessions.get_by_text("This device").is_visible()
        assert sessions.get_by_text("Safari on iPhone").is_visible()
        assert sessions.get_by_text("IP 127.0.0.1").first.is_visible()

        sessions.get_by_role("button", name="Sign out Safari on iPhone").click()
        assert page.get_by_role("status").inner_text() == "The session was signed out."
        phone.goto(f"{live_server.url}/account")
        assert phone.get_by_role("heading", name="Sign in").is_visible()  # ended there

        _account_login(phone, live_server.url)
        page.get_by_role("link", name="Change your password").click()
        page.get_by_label("Current password").fill(PASSWORD)
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        assert "Signed out of 1 other session." in page.get_by_role("status").inner_text()
        phone.goto(f"{live_server.url}/account")
        assert phone.get_by_role("heading", name="Sign in").is_visible()
        _account_login(phone, live_server.url, password=NEW_PASSWORD)
    finally:
        elsewhere.close()
    assert violations == []


@pytest.fixture()
def connected_app(app, live_server):
    rp = RelyingParty("account_rp")
    registered = make_client(app, **rp.registration())
    rp.start(live_server.url, registered.client.client_id, registered.client_secret)
    yield rp
    rp.stop()


def test_remove_an_apps_access_in_chromium(page, live_server, user, connected_app):
    page.goto(f"{connected_app.url}/login")
    page.get_by_label("Username or e-mail").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(lambda url: url.startswith(f"{connected_app.url}/callback"))
    assert json.loads(page.locator("body").inner_text())["userinfo"]["sub"] == user.sub

    page.goto(f"{live_server.url}/account")  # signed in already: single sign-on
    apps = page.get_by_role("region", name="Connected apps")
    assert apps.get_by_text("App account_rp").is_visible()
    assert apps.get_by_text("See your e-mail address").is_visible()
    apps.get_by_role("button", name="Remove access for App account_rp").click()
    assert page.get_by_role("status").inner_text() == "App account_rp no longer has access to your account."
    assert page.get_by_text("No application has access to your account.").is_visible()

    page.goto(f"{connected_app.url}/login")  # the app must ask again
    assert page.get_by_role("heading", name="Allow App account_rp access?").is_visible()


def test_profile_edit_and_phone_layout_in_chromium(chromium, live_server, user):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    try:
        page = context.new_page()
        _account_login(page, live_server.url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.get_by_role("link", name="Edit your profile").click()
        page.get_by_label("Nickname").fill("Al")
        page.get_by_role("button", name="Save").click()
        assert page.get_by_role("status").inner_text() == "Your profile was saved."
        assert page.get_by_text("Al", exact=True).is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        box = page.get_by_role("button", name="Sign out", exact=True).bounding_box()
        assert box is not None and box["height"] >= 40
    finally:
        context.close()
