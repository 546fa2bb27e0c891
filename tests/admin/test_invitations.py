"""Invitations by e-mail from the admin API and the console: the account without a password, a
single-use link mailed through a real SMTP server, the address confirmed by using it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from idp.services import clock
from idp.services import users as user_service
from idp.services.runtime import current
from tests.admin.api_helpers import Api, automation_client, token
from tests.conftest import Browser, csrf_from, deliver_mail

NEW = "an invited passphrase"


@pytest.fixture()
def api(app, client):
    """The admin API, every answer checked against the OpenAPI document."""
    return Api(client, token(client, automation_client(app)))


def _accept(client, path, password=NEW):
    page = client.get(path)
    if page.status_code != 200:
        return page
    return client.post(path, data={"new_password": password, "new_password_again": password,
                                   "csrf_token": csrf_from(page.text)})


def test_an_invited_person_sets_a_password_and_signs_in(app, client, api, smtp, rp):
    created = api.post("/v1/invitations", json={"username": "dora", "email": "Dora@Example.com"})
    assert created.status_code == 201, created.text
    assert created.get_json()["email"] == "dora@example.com" and not created.get_json()["email_verified"]
    with app.app_context():
        assert not user_service.has_password(created.get_json()["id"])
    deliver_mail(app, smtp)
    msg = smtp.messages[0]
    assert msg["To"] == "dora@example.com" and "invited" in msg["Subject"]
    path = urlsplit(smtp.links("http://localhost")[0]).path
    done = _accept(client, path)
    assert done.status_code == 200 and "Welcome" in done.text
    assert _accept(client, path).status_code == 404  # single use
    with app.app_context():
        dora = user_service.get(created.get_json()["id"])
        assert dora.email_verified  # the link reached the address
        assert user_service.authenticate(current().passwords, "dora", NEW).id == dora.id
    browser = Browser(app.test_client())
    browser.login = lambda p: Browser.login(browser, p, username="dora", password=NEW)
    assert "code" in browser.sign_in(rp)


def test_an_invitation_expires(app, client, api, smtp, settings):
    api.post("/v1/invitations", json={"username": "dora", "email": "dora@example.com"})
    deliver_mail(app, smtp)
    clock.advance(settings.invitation_ttl + 1)
    assert _accept(client, urlsplit(smtp.links("http://localhost")[0]).path).status_code == 404


@pytest.mark.parametrize("payload", [
    {"username": "dora", "email": "dora@example.com\r\nBcc: eve@example.org"},
    {"username": "dora\r\nBcc: eve@example.org", "email": "dora@example.com"},
    {"username": "dora", "email": "x" * 300 + "@example.com"},
    {"username": "dora", "email": "dóra@example.com"},
    {"username": "alice", "email": "new@example.com"},  # taken username
    {"username": "dora", "email": "alice@example.com"},  # taken address
    {"username": "dora"}, {"username": "dora", "email": 7}, {"username": "dora", "email": "d@example.com", "x": 1},
])
def test_bad_invitations_are_refused_and_change_nothing(app, api, user, smtp, payload):
    answer = api.post("/v1/invitations", json=payload)
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    deliver_mail(app, smtp)
    assert smtp.messages == []
    with app.app_context():
        assert user_service.search().total == 1


def test_the_console_invites(app, smtp):
    from tests.admin.test_authorization_matrix import _console

    client, csrf = _console(app, "user-manager")
    sent = client.post("/admin/users/invite", data={"username": "erin", "email": "erin@example.com",
                                                    "csrf_token": csrf})
    assert sent.status_code == 303
    assert "An invitation was sent to erin@example.com" in client.get(sent.headers["Location"]).text
    deliver_mail(app, smtp)
    assert smtp.messages[0]["To"] == "erin@example.com"
    refused = client.post("/admin/users/invite", data={"username": "erin2", "email": "bad\r\nBcc: x@y.z",
                                                       "csrf_token": csrf})
    assert refused.status_code == 303 and "does not look valid" in client.get(refused.headers["Location"]).text


def test_a_new_or_changed_unverified_address_gets_a_verification_link(app, client, api, user, smtp):
    created = api.post("/v1/users", json={"username": "fred", "password": "a fine passphrase",
                                          "email": "fred@example.com"}).get_json()
    confirmed = api.post("/v1/users", json={"username": "gina", "password": "a fine passphrase",
                                            "email": "gina@example.com", "email_verified": True})
    assert confirmed.status_code == 201
    deliver_mail(app, smtp)
    assert [m["To"] for m in smtp.messages] == ["fred@example.com"]  # an operator-confirmed address gets none
    path = urlsplit(smtp.links("http://localhost")[0]).path
    assert path.startswith("/account/verify-email/")
    page = client.get(path)
    assert client.post(path, data={"csrf_token": csrf_from(page.text)}).status_code == 200
    with app.app_context():
        assert user_service.get(created["id"]).email_verified
    smtp.messages.clear()
    changed = api.patch(f"/v1/users/{created['id']}", json={"email": "fred@new.example"})
    assert changed.status_code == 200 and not changed.get_json()["email_verified"]
    api.patch(f"/v1/users/{created['id']}", json={"claims": {"nickname": "F"}})
    deliver_mail(app, smtp)
    assert [m["To"] for m in smtp.messages] == ["fred@new.example"]  # the claims edit sent nothing



def test_operators_see_the_delivery_record(app, api, smtp):
    api.post("/v1/invitations", json={"username": "dora", "email": "dora@example.com"})
    pending = api.get("/v1/mail").get_json()["items"]
    assert [(m["kind"], m["recipient"], m["status"]) for m in pending] == [("invitation", "dora@example.com",
                                                                           "pending")]
    deliver_mail(app, smtp)
    [sent] = api.get("/v1/mail").get_json()["items"]
    assert sent["status"] == "sent" and sent["attempts"] == 1 and "body" not in sent
