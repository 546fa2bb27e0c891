"""Self-service by e-mail in a real browser (Chromium), the mail received by a real SMTP server:
the README's "Forgot password?" walkthrough, from an app's sign-in page back to the app."""

from __future__ import annotations

import json

import pytest

from tests.conftest import deliver_mail, make_client
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
