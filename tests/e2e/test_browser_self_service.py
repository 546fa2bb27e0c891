"""Self-service by e-mail in a real browser (Chromium), the mail received by a real SMTP server:
the README's "Forgot password?" walkthrough, from an app's sign-in page back to the app."""

from __future__ import annotations

import json

import pytest

from tests.conftest import LiveServer, deliver_mail, make_client
from tests.e2e.rp_app import RelyingParty

pytestmark = pytest.mark.e2e
NEW = "a brand new passphrase"


@pytest.fixture()
def relying_party(app, live_server):
    rp = RelyingParty("self_service_rp")
    registered = make_client(app, name="Browser App", redirect_uris=[f"{rp.url}/callback"])
    rp.start(live_server.url, registered.client.client_id, registered.client_secret)
    yield rp
    rp.stop()


def test_forgot_password_walkthrough(page, live_server, user, relying_party, smtp):
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{relying_party.url}/login")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("Username or e-mail").fill("alice@example.com")
    page.get_by_role("button", name="Send me a link").click()
    assert page.get_by_role("heading", name="Check your e-mail").is_visible()
    sign_in_page = page.get_by_role("link", name="Back to sign-in").get_attribute("href")

    deliver_mail(live_server.app, smtp)  # what the background job does
    assert smtp.messages[0]["To"] == "alice@example.com"
    html = smtp.messages[0].get_body(("html",)).get_content()
    link = smtp.links(live_server.url)[0]
    assert f'href="{link}"' in html  # the HTML part carries the same link as a button

    page.goto(link)
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password again").fill(NEW)
    page.get_by_role("button", name="Set password").click()
    assert page.get_by_role("heading", name="Your password is set").is_visible()
    page.goto(link)  # single use
    assert page.get_by_role("heading", name="This link no longer works").is_visible()

    page.goto(live_server.url + sign_in_page)  # back to the sign-in the app started
    page.get_by_label("Username or e-mail").fill("alice")
    page.get_by_label("Password").fill(NEW)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{relying_party.url}/callback*")
    assert json.loads(page.locator("body").inner_text())["id_token_claims"]["sub"] == user.sub
    assert violations == []


@pytest.fixture(scope="module")
def _open_server(_session_app, tmp_path_factory, database_url):
    with LiveServer(tmp_path_factory, database_url, registration="open") as server:
        yield server


@pytest.fixture()
def open_server(app, _open_server):
    return _open_server


@pytest.fixture()
def open_relying_party(app, open_server):
    rp = RelyingParty("sign_up_rp")
    registered = make_client(app, name="Sign-up App", redirect_uris=[f"{rp.url}/callback"])
    rp.start(open_server.url, registered.client.client_id, registered.client_secret)
    yield rp
    rp.stop()


def test_registration_walkthrough(page, open_server, open_relying_party, smtp):
    """Open registration: sign up from the app's sign-in page, confirm the address from the mail,
    continue signing in and land back in the app."""
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{open_relying_party.url}/login")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill("newbie")
    page.get_by_label("E-mail address").fill("newbie@example.com")
    page.get_by_label("Password", exact=True).fill(NEW)
    page.get_by_label("Password again").fill(NEW)
    page.wait_for_load_state("load")  # the stylesheet that moves the honeypot away has arrived
    box = page.locator("#website").bounding_box()
    assert box is None or box["x"] + box["width"] <= 0  # the honeypot is out of sight
    page.get_by_role("button", name="Create the account").click()
    assert page.get_by_role("heading", name="Check your e-mail").is_visible()

    deliver_mail(open_server.app, smtp)
    assert smtp.messages[0]["To"] == "newbie@example.com"
    page.goto(smtp.links(open_server.url)[0])
    page.get_by_role("button", name="Confirm").click()
    assert page.get_by_role("heading", name="Your e-mail address is confirmed").is_visible()
    page.get_by_role("link", name="Continue signing in").click()
    page.get_by_label("Username or e-mail").fill("newbie")
    page.get_by_label("Password").fill(NEW)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{open_relying_party.url}/callback*")
    claims = json.loads(page.locator("body").inner_text())["id_token_claims"]
    assert claims["email"] == "newbie@example.com" and claims["email_verified"] is True
    assert violations == []
