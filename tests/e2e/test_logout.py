"""User story: a person signed in to two apps over real HTTP signs out from one (RP-Initiated
Logout); the IdP session ends, and the other app learns it through a back-channel logout token
that it verifies against the JWKS (signature, claims and sid)."""

from __future__ import annotations

import time

import pytest
import requests

from idp.services import backchannel
from tests.conftest import PASSWORD, make_client
from tests.e2e.rp_app import RelyingParty, follow, submit

pytestmark = pytest.mark.e2e


@pytest.fixture()
def relying_parties(app, live_server):
    rps = [RelyingParty("rp_one"), RelyingParty("rp_two")]
    for rp in rps:
        registered = make_client(app, **rp.registration(), backchannel_logout_uri=f"{rp.url}/backchannel_logout",
                                 backchannel_logout_session_required=True)
        rp.start(live_server.url, registered.client.client_id, registered.client_secret)
        rp.client_id = registered.client.client_id
    yield rps
    for rp in rps:
        rp.stop()


def _sign_in_to_both(browser, first, second) -> str:
    page = follow(browser, browser.get(f"{first.url}/login", allow_redirects=False))
    page = submit(browser, page, "/login", {"username": "alice", "password": PASSWORD})
    first_result = submit(browser, page, "/consent", {"decision": "allow"}).json()
    page = follow(browser, browser.get(f"{second.url}/login", allow_redirects=False))
    assert 'name="password"' not in page.text  # single sign-on
    second_result = submit(browser, page, "/consent", {"decision": "allow"}).json()
    sid = first_result["id_token_claims"]["sid"]
    assert second_result["id_token_claims"]["sid"] == sid  # one IdP session, both apps
    return sid


def test_logout_from_one_app_ends_the_session_and_tells_the_other(app, live_server, user, relying_parties):
    first, second = relying_parties
    browser = requests.Session()
    sid = _sign_in_to_both(browser, first, second)
    assert browser.get(f"{second.url}/me").json()["signed_in"] is True

    # RP-initiated logout from the first app: its id_token_hint is from this session, so no question.
    done = follow(browser, browser.get(f"{first.url}/logout", allow_redirects=False))
    assert done.url.startswith(f"{first.url}/logged_out?state=")
    assert done.json() == {"signed_out": True}  # the app checked the state it sent

    # The second app receives a logout token it verifies against the JWKS: signature, typ,
    # iss, aud, iat/exp, jti, events, no nonce, and a sid it saw in an ID token.
    received = second.wait_for("backchannel")
    assert second.events["backchannel_rejected"] == []
    assert len(received) == 1
    claims = received[0]
    assert claims["sid"] == sid and claims["sub"] == user.sub
    assert claims["aud"] == second.client_id and claims["iss"] == live_server.url
    assert browser.get(f"{second.url}/me").json()["signed_in"] is False
    # The app that asked is told as well (it may have other tabs); each token has its own jti.
    first_received = first.wait_for("backchannel")
    assert [c["sid"] for c in first_received] == [sid]
    assert first_received[0]["jti"] != claims["jti"]

    # The sender records the delivery once the app has answered, a moment after the app saw the token.
    deadline = time.monotonic() + 10
    while True:
        with app.app_context():
            deliveries = backchannel.deliveries_for(sid)
        if {d.status for d in deliveries} != {"delivered"} and time.monotonic() < deadline:
            time.sleep(0.05)
            continue
        break
    assert sorted(d.client_id for d in deliveries) == sorted([first.client_id, second.client_id])
    assert {d.status for d in deliveries} == {"delivered"} and {d.attempts for d in deliveries} == {1}

    # The IdP session is gone: signing in to the second app again asks for the password.
    page = follow(browser, browser.get(f"{second.url}/login", allow_redirects=False))
    assert 'name="password"' in page.text
