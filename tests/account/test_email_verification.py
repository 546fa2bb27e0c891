"""E-mail verification and change: only the mailed link confirms an address; a change needs the
password, tells the old address, and applies when the new one is confirmed."""

from __future__ import annotations

from urllib.parse import urlsplit

from idp.extensions import db
from idp.services import clock
from idp.services import users as user_service
from idp.services.runtime import current
from idp.storage.audit import AuditEvent
from tests.account.test_account import account_login, post_form
from tests.conftest import PASSWORD, csrf_from, deliver_mail, race


def _user(app, name="bob", email="bob@example.com", verified=False):
    with app.app_context():
        return user_service.create(current().passwords, username=name, password=PASSWORD, email=email,
                                   email_verified=verified)


def _link(app, smtp, to):
    deliver_mail(app, smtp)
    with app.app_context():
        issuer = current().settings.issuer
    for msg in smtp.messages:
        if msg["To"] == to:
            text = msg.get_body(("plain",)).get_content()
            links = [w for w in text.split() if w.startswith(issuer + "/")]
            if links:
                return urlsplit(links[-1]).path
    raise AssertionError(f"no link mailed to {to}")


def _confirm(client, path):
    page = client.get(path)
    if page.status_code != 200:
        return page
    return client.post(path, data={"csrf_token": csrf_from(page.text)})


def test_confirming_the_own_address(app, client, smtp):
    bob = _user(app)
    account_login(client, "bob")
    assert "not confirmed yet" in client.get("/account/email").text
    sent = post_form(client, "/account/email", "/account/email")
    assert sent.status_code == 303
    path = _link(app, smtp, "bob@example.com")
    scanner = app.test_client().get(path)  # a mail scanner opening the link confirms nothing
    assert scanner.status_code == 200 and not user_service_get(app, bob.id).email_verified
    assert _confirm(client, path).status_code == 200
    assert user_service_get(app, bob.id).email_verified
    assert _confirm(client, path).status_code == 404  # single use


def user_service_get(app, user_id):
    with app.app_context():
        return user_service.get(user_id)


def test_changing_the_address_needs_the_password_and_the_new_address(app, client, user, smtp):
    account_login(client)
    wrong = post_form(client, "/account/email", "/account/email", new_email="alice@new.example",
                      current_password="wrong")
    assert wrong.status_code == 401
    done = post_form(client, "/account/email", "/account/email", new_email="Alice@New.Example",
                     current_password=PASSWORD)
    assert done.status_code == 303
    deliver_mail(app, smtp)
    notice = next(m for m in smtp.messages if m["To"] == "alice@example.com")
    assert "alice@new.example" in notice.get_body(("plain",)).get_content()
    assert user_service_get(app, user.id).email == "alice@example.com"  # not before it is confirmed
    path = _link(app, smtp, "alice@new.example")
    assert _confirm(client, path).status_code == 200
    changed = user_service_get(app, user.id)
    assert changed.email == "alice@new.example" and changed.email_verified
    with app.app_context():
        events = [e.event for e in db.session.scalars(db.select(AuditEvent))]
    assert "email.change_requested" in events and "email.verified" in events


def test_a_verification_link_expires_and_dies_when_the_address_changes(app, client, smtp, settings):
    bob = _user(app)
    account_login(client, "bob")
    post_form(client, "/account/email", "/account/email")
    path = _link(app, smtp, "bob@example.com")
    with app.app_context():
        user_service.admin_update(bob.id, email="robert@example.com")
    assert _confirm(client, path).status_code == 404
    post_form(client, "/account/email", "/account/email")
    smtp.messages.clear()
    path = _link(app, smtp, "robert@example.com")
    clock.advance(settings.email_verification_ttl + 1)
    answer = _confirm(client, path)
    assert answer.status_code == 404 and "This link no longer works" in answer.text


def test_an_address_another_account_uses_is_refused(app, client, user, smtp):
    _user(app)
    account_login(client, "bob")
    taken = post_form(client, "/account/email", "/account/email", new_email="alice@example.com",
                      current_password=PASSWORD)
    assert taken.status_code == 400 and "Another account" in taken.text


def test_bad_addresses_get_a_clear_page_and_change_nothing(app, client, user, smtp):
    account_login(client)
    for bad in ("alice@example.com\r\nBcc: eve@example.org", "x" * 300 + "@example.com", "not an address",
                "ålice@example.com"):
        answer = post_form(client, "/account/email", "/account/email", new_email=bad, current_password=PASSWORD)
        assert answer.status_code == 400 and 'role="alert"' in answer.text
    deliver_mail(app, smtp)
    assert smtp.messages == [] and user_service_get(app, user.id).email == "alice@example.com"


def test_two_racing_confirmations_apply_once(app, smtp):
    bob = _user(app)
    client = app.test_client()
    account_login(client, "bob")
    post_form(client, "/account/email", "/account/email")
    path = _link(app, smtp, "bob@example.com")
    token = csrf_from(client.get(path).text)
    results = race(lambda: client.post(path, data={"csrf_token": token}).status_code, racers=4)
    assert sorted(results).count(200) == 1
    assert user_service_get(app, bob.id).email_verified
