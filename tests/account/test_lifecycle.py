"""Download my data and delete my account."""

from __future__ import annotations

import json

import pytest

from idp.extensions import db
from idp.services import clock, housekeeping
from idp.services import users as user_service
from idp.services.runtime import current
from tests.account.test_account import account_login, post_form
from tests.conftest import PASSWORD, basic_auth, deliver_mail, make_app, make_client, redeem


def _connected(app, client, browser):
    rp = make_client(app, name="Connected App", redirect_uris=["https://app.example.com/callback"],
                     scopes=["openid", "profile", "email", "offline_access"],
                     grant_types=["authorization_code", "refresh_token"],
                     backchannel_logout_uri="https://app.example.com/bc")
    result = browser.sign_in(rp, scope="openid profile offline_access")
    return rp, redeem(client, rp, result["code"], result["_verifier"]).get_json()


def test_download_my_data(app, client, browser, user):
    _connected(app, client, browser)
    response = client.get("/account/data", follow_redirects=True)  # signed in already: straight through
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="alice-data.json"'
    data = json.loads(response.data)
    assert data["profile"]["sub"] == user.sub and data["profile"]["email"] == "alice@example.com"
    assert data["sessions"] and [a["name"] for a in data["connected_apps"]] == ["Connected App"]
    assert {"login.password", "consent.grant"} <= {e["event"] for e in data["audit_events"]}
    assert "argon2" not in response.text and "password_hash" not in response.text
    assert app.test_client().get("/account/data").status_code == 303  # only for the signed-in person


def _delete(client, **data):
    return post_form(client, "/account/delete", "/account/delete", **data)


def test_deleting_needs_the_password_and_the_tick(app, client, user):
    account_login(client)
    assert _delete(client, password="wrong", confirm="yes").status_code == 401
    assert _delete(client, password=PASSWORD).status_code == 400
    with app.app_context():
        assert user_service.get_enabled(user.id) is not None


def test_deleting_signs_out_everywhere_revokes_tokens_and_deletes_after_the_grace_period(app, client, browser,
                                                                                          user, smtp, settings):
    rp, tokens = _connected(app, client, browser)
    assert client.get("/account", follow_redirects=True).status_code == 200
    done = _delete(client, password=PASSWORD, confirm="yes")
    assert done.status_code == 200 and "Your account is being deleted" in done.text
    refreshed = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                            headers=basic_auth(rp.client.client_id, rp.client_secret))
    assert refreshed.status_code == 400
    with app.app_context():
        assert db.session.execute(db.text("SELECT COUNT(*) FROM sso_sessions WHERE ended_at IS NULL")).scalar() == 0
        assert db.session.execute(db.text("SELECT COUNT(*) FROM backchannel_deliveries")).scalar() >= 1
        assert not user_service.get(user.id).enabled
        app.extensions["idp"].backchannel.stop()
    deliver_mail(app, smtp)
    assert "deleted" in smtp.messages[-1]["Subject"] and smtp.messages[-1]["To"] == "alice@example.com"
    clock.advance(settings.account_deletion_grace_days * 86400 - 10)
    with app.app_context():
        housekeeping.purge(100)
        assert user_service.get(user.id) is not None
    clock.advance(20)
    with app.app_context():
        assert housekeeping.purge(100)["users_deleted_on_request"] == 1
        assert user_service.get(user.id) is None


def test_an_administrator_enabling_the_account_cancels_the_deletion(app, client, user, settings):
    account_login(client)
    _delete(client, password=PASSWORD, confirm="yes")
    with app.app_context():
        user_service.set_enabled(user.id, True)
    clock.advance(settings.account_deletion_grace_days * 86400 + 1)
    with app.app_context():
        housekeeping.purge(100)
        assert user_service.get_enabled(user.id) is not None


@pytest.fixture(scope="session")
def _no_grace_app(_session_app, tmp_path_factory, database_url):
    return make_app(tmp_path_factory, database_url, account_deletion_grace_days=0)


def test_without_a_grace_period_the_account_is_gone_at_once(app, _no_grace_app, user):
    client = _no_grace_app.test_client()
    account_login(client)
    done = _delete(client, password=PASSWORD, confirm="yes")
    assert done.status_code == 200 and "the account and its data are gone" in done.text
    with _no_grace_app.app_context():
        assert user_service.get(user.id) is None
        assert current().settings.account_deletion_grace_days == 0
        db.session.remove()
