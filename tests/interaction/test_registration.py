"""Self-registration (registration = "open"): prompt=create, the sign-up page, e-mail verification
before the first sign-in, and continuing to the application that sent the person."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from idp.extensions import db
from idp.services import users as user_service
from tests.conftest import Browser, csrf_from, make_app, pkce_pair, query_of, without_csrf
from tests.conftest import deliver_mail as _deliver

PASSWORD = "a fresh sign-up passphrase"


@pytest.fixture(scope="session")
def _open_app(_session_app, tmp_path_factory, database_url):
    return make_app(tmp_path_factory, database_url, registration="open", registration_email_domains="example.com")


@pytest.fixture()
def open_app(app, _open_app):
    yield _open_app
    with _open_app.app_context():
        db.session.remove()


def _start(client, rp, **extra):
    _, challenge = pkce_pair()
    query = dict(response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
                 scope="openid email", state="s", code_challenge=challenge, code_challenge_method="S256", **extra)
    response = client.get("/authorize", query_string=query)
    assert response.status_code == 302, response.text
    return urlsplit(response.headers["Location"]).path


def _sign_up(client, path, **fields):
    page = client.get(path + "/register")
    if page.status_code != 200:
        page = client.get(path)  # registration closed: any form's CSRF token will do
    data = {"username": "newbie", "email": "newbie@example.com", "password": PASSWORD, "password_again": PASSWORD,
            "website": "", "csrf_token": csrf_from(page.text)}
    data.update(fields)
    return client.post(path + "/register", data=data)


def _users(app) -> list[str]:
    with app.app_context():
        return [u.username for u in user_service.search().items]


def test_off_by_default(app, client, rp):
    assert "create" not in client.get("/.well-known/openid-configuration").get_json()["prompt_values_supported"]
    _, challenge = pkce_pair()
    refused = client.get("/authorize", query_string=dict(
        response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
        scope="openid email", state="s", code_challenge=challenge, code_challenge_method="S256", prompt="create"))
    # Prompt Create 1.0 §4.1: a prompt value not in prompt_values_supported is invalid_request
    assert refused.status_code == 302 and "error=invalid_request" in refused.headers["Location"]
    path = _start(client, rp)
    page = client.get(path)
    assert 'name="password"' in page.text and "Create an account" not in page.text  # the sign-in page
    closed = client.get(path + "/register")
    assert closed.status_code == 404 and "Sign-up is not open" in closed.text
    assert _sign_up(client, path).status_code == 404 and _users(app) == []


def test_sign_up_confirm_and_continue_to_the_app(open_app, rp, smtp):
    client = open_app.test_client()
    assert "create" in client.get("/.well-known/openid-configuration").get_json()["prompt_values_supported"]
    path = _start(client, rp, prompt="create")
    form = client.get(path)
    assert "Create an account" in form.text and 'name="website"' in form.text  # the honeypot
    sent = _sign_up(client, path)
    assert sent.status_code == 200 and "Check your e-mail" in sent.text
    with open_app.app_context():
        newbie = user_service.get(user_service.search("newbie").items[0].id)
        assert not newbie.email_verified and newbie.must_verify_email
    # Signing in before confirming stops at the confirmation step, for this app and any other.
    browser = Browser(client)
    login = browser.login(path, username="newbie", password=PASSWORD)
    step = client.get(urlsplit(login.headers["Location"]).path)
    assert step.status_code == 302 and step.headers["Location"].endswith(path)
    assert "Confirm your e-mail address" in client.get(path).text
    early = client.post(path + "/verify-email", data={"action": "continue", "csrf_token": csrf_from(
        client.get(path).text)})
    assert "redirect_uri" not in early.headers["Location"] and "/authorize/" in early.headers["Location"]
    assert client.get(urlsplit(early.headers["Location"]).path).headers["Location"].endswith(path)
    _deliver(open_app, smtp)
    link = urlsplit(smtp.links("http://localhost")[0])
    assert link.path.startswith("/account/verify-email/") and "uid=" in link.query
    confirm_page = client.get(f"{link.path}?{link.query}")
    done = client.post(link.path, data={"csrf_token": csrf_from(confirm_page.text),
                                        "uid": query_of(f"?{link.query}")["uid"]})
    assert done.status_code == 200 and f'href="{path}"' in done.text  # "Continue signing in"
    resumed = client.post(path + "/verify-email", data={"action": "continue", "csrf_token": csrf_from(
        client.get(path).text)})
    response = client.get(urlsplit(resumed.headers["Location"]).path)
    while "/interaction/" in response.headers["Location"]:
        response = browser.resume(browser.consent(urlsplit(response.headers["Location"]).path))
    assert response.headers["Location"].startswith(rp.client.redirect_uris[0])
    assert "code" in query_of(response.headers["Location"])


@pytest.mark.parametrize(("fields", "message"), [
    ({"password": "password123", "password_again": "password123"}, "commonly used"),
    ({"password": "newbie@example.com", "password_again": "newbie@example.com"}, "username or e-mail"),
    ({"password_again": "something else"}, "not the same"),
    ({"email": "newbie@elsewhere.org"}, "only be created with an e-mail address of: example.com"),
    ({"email": "newbie@example.com\r\nBcc: eve@example.org"}, "does not look valid"),
    ({"email": "n" * 300 + "@example.com"}, "at most 254"),
    ({"email": "nëwbie@example.com"}, "does not look valid"),
    ({"username": "new\r\nbie"}, "A username is"),
    ({"username": "alice"}, "already exists"),
])
def test_bad_sign_ups_are_refused_and_create_nothing(open_app, rp, user, smtp, fields, message):
    client = open_app.test_client()
    answer = _sign_up(client, _start(client, rp), **fields)
    assert answer.status_code == 400 and message in answer.text and 'role="alert"' in answer.text
    assert _users(open_app) == ["alice"]
    _deliver(open_app, smtp)
    assert smtp.messages == []


@pytest.mark.parametrize("username", ["alice@example.com", "nobody@example.com"])
def test_a_username_that_is_someone_elses_address_is_refused_the_same_way(open_app, rp, user, smtp, username):
    """A username may not be another user's e-mail address (sign-in takes either); refusing it as taken
    would tell whether that address has an account, so any address but the person's own is refused."""
    client = open_app.test_client()
    answer = _sign_up(client, _start(client, rp), username=username)
    assert answer.status_code == 400 and "your own e-mail address" in answer.text
    assert "already exists" not in answer.text and _users(open_app) == ["alice"]


def test_a_taken_address_gets_the_same_answer_and_its_owner_is_told(open_app, rp, user, smtp):
    client = open_app.test_client()
    taken = _sign_up(client, _start(client, rp), email="alice@example.com")
    fresh = _sign_up(client, _start(client, rp), username="other", email="other@example.com")
    assert taken.status_code == fresh.status_code == 200
    def without_uid(text):
        return without_csrf(re.sub(r"/interaction/[A-Za-z0-9_-]+", "", text))  # the token is timestamped

    assert without_uid(taken.text) == without_uid(fresh.text)
    _deliver(open_app, smtp)
    owner = next(m for m in smtp.messages if m["To"] == "alice@example.com")
    assert "tried to create" in owner.get_body(("plain",)).get_content()
    assert sorted(_users(open_app)) == ["alice", "other"]


def test_the_honeypot_creates_nothing(open_app, rp, smtp):
    client = open_app.test_client()
    answer = _sign_up(client, _start(client, rp), website="http://spam.example")
    assert answer.status_code == 200 and "Check your e-mail" in answer.text
    assert _users(open_app) == []
    _deliver(open_app, smtp)
    assert smtp.messages == []


def test_sign_ups_are_throttled_per_ip(open_app, rp, settings):
    client = open_app.test_client()
    for i in range(settings.registration_max_per_ip):
        assert _sign_up(client, _start(client, rp), username=f"user{i}", email=f"user{i}@example.com").status_code \
            == 200
    blocked = _sign_up(client, _start(client, rp), username="one-more", email="one-more@example.com")
    assert blocked.status_code == 429 and "one-more" not in _users(open_app)


def test_the_sign_in_page_offers_sign_up_only_when_open(app, open_app, rp):
    closed, opened = app.test_client(), open_app.test_client()
    assert "Create an account" not in closed.get(_start(closed, rp)).text
    assert "Create an account" in opened.get(_start(opened, rp)).text
