"""User story: an app configured with only the issuer URL, a client id and a secret signs a person
in over real HTTP; a second app signs the same person in without a second password prompt."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import PASSWORD, make_client
from tests.e2e.rp_app import RelyingParty, follow, submit

pytestmark = pytest.mark.e2e


@pytest.fixture()
def relying_parties(app, live_server):
    rps = [RelyingParty("rp_one"), RelyingParty("rp_two")]
    for rp in rps:
        registered = make_client(app, name=f"App {rp.name}", redirect_uris=[f"{rp.url}/callback"])
        rp.start(live_server.url, registered.client.client_id, registered.client_secret)
    yield rps
    for rp in rps:
        rp.stop()


def test_sign_in_with_two_apps_over_http(live_server, user, relying_parties):
    first, second = relying_parties
    browser = requests.Session()

    page = follow(browser, browser.get(f"{first.url}/login", allow_redirects=False))
    assert page.status_code == 200 and 'autocomplete="current-password"' in page.text
    assert "App rp_one" in page.text
    page = submit(browser, page, "/login", {"username": "alice", "password": PASSWORD})
    assert "Allow App rp_one access?" in page.text
    result = submit(browser, page, "/consent", {"decision": "allow"})
    assert result.status_code == 200, result.text
    signed_in = result.json()
    assert signed_in["id_token_claims"]["sub"] == user.sub
    assert signed_in["id_token_claims"]["iss"] == live_server.url
    assert signed_in["userinfo"]["email"] == "alice@example.com"

    # Single sign-on: the second app gets the person with no password prompt (consent only).
    page = follow(browser, browser.get(f"{second.url}/login", allow_redirects=False))
    assert 'name="password"' not in page.text
    assert "Allow App rp_two access?" in page.text
    result = submit(browser, page, "/consent", {"decision": "allow"})
    assert result.json()["id_token_claims"]["sub"] == user.sub

    # Coming back to the first app needs neither password nor consent.
    result = follow(browser, browser.get(f"{first.url}/login", allow_redirects=False))
    assert result.status_code == 200 and result.json()["userinfo"]["sub"] == user.sub
