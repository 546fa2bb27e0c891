"""The login page: accessible form, one message for every failure, CSRF, session cookie hygiene."""

from __future__ import annotations

import re

from sqlalchemy import select

from idp.extensions import db
from idp.services import users
from idp.services.runtime import current
from idp.storage.sessions import SsoSession
from tests.conftest import PASSWORD, csrf_from, pkce_pair


def _start(browser, rp, **extra):
    _, challenge = pkce_pair()
    response = browser.authorize(response_type="code", client_id=rp.client.client_id,
                                 redirect_uri=rp.client.redirect_uris[0], scope="openid", state="s",
                                 code_challenge=challenge, code_challenge_method="S256", **extra)
    return browser.follow_to_interaction(response)


def test_login_page_is_an_accessible_form(client, browser, rp):
    path = _start(browser, rp)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<label for="username">' in html and '<label for="password">' in html
    # "webauthn" offers passkeys in the username field's autofill (conditional UI)
    assert 'autocomplete="username webauthn"' in html and 'autocomplete="current-password"' in html
    assert "Example App" in html  # the person sees which app asked
    # The password form works without JavaScript; the scripts (show password, passkeys) are static files.
    assert sorted(re.findall(r"<script[^>]*>", html)) == ['<script src="/static/js/password.js" defer>',
                                                         '<script src="/static/js/webauthn.js" defer>']
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"


def test_unknown_user_and_wrong_password_get_the_same_answer(client, browser, user, rp):
    path = _start(browser, rp)
    wrong_password = browser.login(path, username="alice", password="not the password")
    unknown_user = browser.login(path, username="nobody", password="not the password")
    assert wrong_password.status_code == unknown_user.status_code == 401

    def message(response):
        return re.search(r'<div class="alert"[^>]*>(.*?)</div>', response.get_data(as_text=True)).group(1)

    assert message(wrong_password) == message(unknown_user)
    assert "incorrect" in message(wrong_password)
    # The typed username is kept, the password never echoed.
    assert 'value="alice"' in wrong_password.get_data(as_text=True)
    assert "not the password" not in wrong_password.get_data(as_text=True)


def test_login_with_email_address(client, browser, user, rp):
    path = _start(browser, rp)
    response = browser.login(path, username="Alice@Example.com")
    assert response.status_code == 303
    assert "/authorize/" in response.headers["Location"]


def test_form_without_csrf_token_is_refused(client, browser, user, rp):
    path = _start(browser, rp)
    client.get(path)
    response = client.post(path + "/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)
    assert "idp_session" not in response.headers.get("Set-Cookie", "")


def test_session_cookie_flags_and_rotation_at_login(app, client, browser, user, rp):
    path = _start(browser, rp)
    first = browser.login(path)
    cookie = next(c for c in first.headers.getlist("Set-Cookie") if c.startswith("idp_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    first_value = cookie.split(";")[0].split("=", 1)[1]
    # Logging in again (prompt=login) issues a new session id and ends the old session.
    path = _start(browser, rp, prompt="login")
    second = browser.login(path)
    second_value = next(c for c in second.headers.getlist("Set-Cookie")
                        if c.startswith("idp_session=")).split(";")[0].split("=", 1)[1]
    assert second_value != first_value
    with app.app_context():
        rows = db.session.scalars(select(SsoSession)).all()
        assert len([r for r in rows if r.ended_at is None]) == 1
        assert all(first_value not in (r.session_hash, r.sid) for r in rows)  # only a hash is stored


def test_secure_cookie_under_https_issuer(tmp_path_factory, database_url, _session_app):
    from tests.conftest import make_app

    https_app = make_app(tmp_path_factory, database_url, issuer="https://id.example.com")
    with https_app.test_request_context():
        from flask import Response

        from idp import http

        response = Response()
        http.set_cookie(response, http.SESSION_COOKIE, "value")
        assert "Secure" in response.headers["Set-Cookie"]
    assert https_app.config["SESSION_COOKIE_SECURE"] is True


def test_disabled_user_cannot_sign_in(app, client, browser, user, rp):
    with app.app_context():
        from idp.storage import users as user_store

        user_store.get(user.id).enabled = False
        db.session.commit()
    path = _start(browser, rp)
    assert browser.login(path).status_code == 401


def test_password_hash_upgraded_at_login(app, client, browser, user, rp):
    from idp.services.passwords import PasswordPolicy, Passwords

    with app.app_context():
        from idp.storage import users as user_store

        row = user_store.get(user.id)
        # A hash made with other parameters than the server's current ones.
        row.password_hash = Passwords(PasswordPolicy(time_cost=2, memory_cost=16, parallelism=1)).hash(PASSWORD)
        db.session.commit()
        old_hash = row.password_hash
    path = _start(browser, rp)
    assert browser.login(path).status_code == 303
    with app.app_context():
        from idp.storage import users as user_store

        new_hash = user_store.get(user.id).password_hash
        assert new_hash != old_hash
        assert not current().passwords.needs_rehash(new_hash)
        assert users.authenticate(current().passwords, "alice", PASSWORD).id == user.id


def test_expired_interaction_shows_a_page_not_a_500(client, browser, rp):
    from idp.services import clock

    path = _start(browser, rp)
    page = client.get(path)
    clock.advance(3600)
    response = client.post(path + "/login", data={"username": "alice", "password": PASSWORD,
                                                  "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_interaction_is_bound_to_the_browser(app, client, browser, user, rp):
    path = _start(browser, rp)
    other_browser = app.test_client()
    response = other_browser.get(path)
    assert response.status_code == 400
    assert 'name="password"' not in response.get_data(as_text=True)
