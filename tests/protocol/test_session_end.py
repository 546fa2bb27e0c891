"""Logout ends what the session started: an authorization code issued under a session that has since
ended is refused at /token (and yields no tokens), as is a device code the session approved."""

from __future__ import annotations

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
