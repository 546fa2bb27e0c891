"""Logout ends what the session started: an authorization code issued under a session that has since
ended is refused at /token (and yields no tokens), as is a device code the session approved."""

from __future__ import annotations

import base64
import json

from idp.extensions import db
from tests.conftest import csrf_from, redeem


def _sign_out(client) -> None:
    token = csrf_from(client.get("/account").get_data(as_text=True))
    assert client.post("/account/logout", data={"csrf_token": token}).status_code == 303


def test_a_code_issued_before_logout_is_refused_after_it(client, browser, user, rp):
    result = browser.sign_in(rp)
    _sign_out(client)
    response = redeem(client, rp, result["code"], result["_verifier"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_a_code_of_a_live_session_still_works(client, browser, user, rp):
    result = browser.sign_in(rp)
    assert redeem(client, rp, result["code"], result["_verifier"]).status_code == 200


def test_a_code_is_refused_after_the_session_is_ended_elsewhere(app, client, browser, user, rp):
    """Ending the session from another browser (the account's session list) ends its codes too."""
    from idp.services import logout, sessions
    from idp.services.runtime import current

    result = browser.sign_in(rp)
    with app.app_context():
        (live,) = sessions.others_of_user(current().settings, user.id, None)
        logout.end_session(live, reason="test")
    assert redeem(client, rp, result["code"], result["_verifier"]).get_json()["error"] == "invalid_grant"


def test_signing_in_again_as_the_same_person_keeps_the_session_and_its_applications(app, client, browser, user):
    """prompt=login (or max_age) is a re-authentication, not a sign-out: the session keeps its sid
    (a new cookie value), its earlier code and tokens stay good, auth_time moves on and no application
    is sent a back-channel logout token."""
    from idp.services import backchannel, clock
    from idp.storage.sessions import SsoSession
    from tests.conftest import make_client

    rp = make_client(app, name="Told", redirect_uris=["https://told.example.com/cb"],
                     backchannel_logout_uri="https://told.example.com/bc")
    tokens = redeem(client, rp, **_code(browser.sign_in(rp))).get_json()
    pending = browser.sign_in(rp)  # same session, code not redeemed yet
    with app.app_context():
        (old_sid,) = db.session.scalars(db.select(SsoSession.sid)).all()
    clock.advance(5)
    again = redeem(client, rp, **_code(browser.sign_in(rp, prompt="login"))).get_json()
    assert redeem(client, rp, **_code(pending)).status_code == 200
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 200
    first, second = _claims(tokens["id_token"]), _claims(again["id_token"])
    assert second["sid"] == first["sid"] == old_sid and second["auth_time"] >= first["auth_time"] + 5
    with app.app_context():
        app.extensions["idp"].backchannel.stop()
        assert db.session.scalars(db.select(SsoSession.ended_at).where(SsoSession.sid == old_sid)).one() is None
        assert backchannel.deliveries_for(old_sid) == []


def _claims(jwt: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))


def _code(result: dict) -> dict:
    return {"code": result["code"], "verifier": result["_verifier"]}


def test_another_person_signing_in_in_the_browser_ends_the_first_persons_session(app, client, browser, user):
    from idp.services import backchannel
    from idp.services import users as user_service
    from idp.services.runtime import current
    from idp.storage.sessions import SsoSession
    from tests.conftest import PASSWORD, make_client, pkce_pair

    rp = make_client(app, name="Shared", redirect_uris=["https://shared.example.com/cb"],
                     backchannel_logout_uri="https://shared.example.com/bc")
    with app.app_context():
        user_service.create(current().passwords, username="bob", password=PASSWORD)
    tokens = redeem(client, rp, **_code(browser.sign_in(rp))).get_json()
    pending = browser.sign_in(rp)
    with app.app_context():
        (old_sid,) = db.session.scalars(db.select(SsoSession.sid)).all()
    path = browser.follow_to_interaction(browser.authorize(
        response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
        scope="openid", prompt="login", code_challenge=pkce_pair()[1], code_challenge_method="S256"))
    assert browser.login(path, username="bob").status_code in (302, 303)
    assert redeem(client, rp, **_code(pending)).get_json()["error"] == "invalid_grant"
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401
    with app.app_context():
        app.extensions["idp"].backchannel.stop()
        assert db.session.scalars(db.select(SsoSession.ended_at).where(SsoSession.sid == old_sid)).one() is not None
        assert [d.client_id for d in backchannel.deliveries_for(old_sid)] == [rp.client.client_id]
