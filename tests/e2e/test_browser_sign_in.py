"""User story in a real browser (Chromium): sign in to an app through the login and consent pages,
with the form_post response mode auto-submitted by the page's static script under the CSP, and the
pages readable on a phone-sized screen."""

from __future__ import annotations

import json

import pytest

from tests.conftest import PASSWORD, make_client
from tests.e2e.rp_app import RelyingParty

pytestmark = pytest.mark.e2e


@pytest.fixture()
def relying_party(app, live_server):
    rp = RelyingParty("browser_rp")
    registered = make_client(app, name="Browser App", redirect_uris=[f"{rp.url}/callback"])
    rp.start(live_server.url, registered.client.client_id, registered.client_secret, response_mode="form_post")
    yield rp
    rp.stop()


def test_sign_in_in_chromium_with_form_post(page, live_server, user, relying_party):
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{relying_party.url}/login")
    page.get_by_label("Username or e-mail").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{relying_party.url}/callback")  # posted there by form_post.js
    result = json.loads(page.locator("body").inner_text())
    assert result["id_token_claims"]["sub"] == user.sub
    assert result["userinfo"]["email"] == "alice@example.com"
    assert violations == []


def test_login_page_fits_a_phone_screen(chromium, live_server, relying_party):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    try:
        tab = context.new_page()
        tab.goto(f"{relying_party.url}/login")
        assert tab.get_by_label("Password").is_visible()
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= 360  # no horizontal scrolling
        box = tab.get_by_role("button", name="Sign in", exact=True).bounding_box()
        assert box is not None and box["height"] >= 40  # a comfortable touch target
    finally:
        context.close()


@pytest.fixture()
def query_relying_party(app, live_server):
    rp = RelyingParty("browser_query_rp")
    registered = make_client(app, name="Query App", redirect_uris=[f"{rp.url}/callback"])
    rp.start(live_server.url, registered.client.client_id, registered.client_secret)
    yield rp
    rp.stop()


def test_query_mode_sign_in_after_a_mistyped_password(page, live_server, user, query_relying_party):
    """The page re-shown after a wrong password must still let its form end at the app: browsers apply
    CSP form-action to the redirect to the client that follows the form post."""
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{query_relying_party.url}/login")
    page.get_by_label("Username or e-mail").fill("alice")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert page.get_by_role("alert").inner_text().startswith("The username or password is incorrect")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{query_relying_party.url}/callback*")
    assert json.loads(page.locator("body").inner_text())["id_token_claims"]["sub"] == user.sub
    assert violations == []
