"""User story in Chromium: signed in to two apps, the person signs out from one; the IdP's logout
page loads both apps' front-channel logout iframes (with iss and sid) under its CSP and then returns
to the app that asked, through the static script (no inline script)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import PASSWORD, make_client
from tests.e2e.rp_app import RelyingParty

pytestmark = pytest.mark.e2e


@pytest.fixture()
def frontchannel_apps(app, live_server):
    rps = [RelyingParty("fc_one"), RelyingParty("fc_two")]
    for rp in rps:
        registered = make_client(app, **rp.registration(), frontchannel_logout_uri=f"{rp.url}/frontchannel_logout",
                                 frontchannel_logout_session_required=True)
        rp.start(live_server.url, registered.client.client_id, registered.client_secret)
    yield rps
    for rp in rps:
        rp.stop()


def _sign_in(page, rp, with_password: bool) -> dict:
    page.goto(f"{rp.url}/login")
    if with_password:
        page.get_by_label("Username or e-mail").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(lambda url: url.startswith(f"{rp.url}/callback"))
    return json.loads(page.locator("body").inner_text())


def test_front_channel_logout_in_chromium(page, live_server, user, frontchannel_apps):
    first, second = frontchannel_apps
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    csp: dict[str, str] = {}
    page.on("response", lambda r: csp.setdefault("logout", r.headers.get("content-security-policy", ""))
            if "/interaction/logout/" in r.url else None)

    sid = _sign_in(page, first, with_password=True)["id_token_claims"]["sid"]
    assert _sign_in(page, second, with_password=False)["id_token_claims"]["sid"] == sid

    page.goto(f"{first.url}/logout")
    # logout.js goes on once the iframes have loaded
    page.wait_for_url(lambda url: url.startswith(f"{first.url}/logged_out"))
    assert json.loads(page.locator("body").inner_text()) == {"signed_out": True}

    for rp in (first, second):
        assert rp.wait_for("frontchannel") == [{"iss": live_server.url, "sid": sid}]
    assert f"frame-src {first.url} {second.url}" in csp["logout"] and "frame-ancestors 'none'" in csp["logout"]
    assert violations == []

    page.goto(f"{second.url}/me")
    assert json.loads(page.locator("body").inner_text())["signed_in"] is False


def test_logout_page_without_javascript_offers_the_way_back(chromium, live_server, user, frontchannel_apps):
    first, _ = frontchannel_apps
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        _sign_in_without_js(page, first)
        page.goto(f"{first.url}/logout")
        assert page.get_by_role("heading", name="You are signed out").is_visible()
        assert first.wait_for("frontchannel") != []  # iframes load without JavaScript too
        page.get_by_role("link", name="Return to App fc_one").click()
        page.wait_for_url(lambda url: url.startswith(f"{first.url}/logged_out"))
    finally:
        context.close()


def _sign_in_without_js(page, rp) -> None:
    page.goto(f"{rp.url}/login")
    page.get_by_label("Username or e-mail").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(lambda url: url.startswith(f"{rp.url}/callback"))
