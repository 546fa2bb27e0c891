""""Forgot password?": identical answers, a single-use link bound to the password, sessions and
tokens ended, the second factor still asked, throttled — with the mail received by a real SMTP server."""

from __future__ import annotations

import queue
from urllib.parse import urlsplit

import pytest

from idp.extensions import db
from idp.services import clock, mail, sessions
from idp.services import users as user_service
from idp.services.runtime import current
from tests.conftest import PASSWORD, Browser, csrf_from, deliver_mail, enrol_totp, race, redeem, totp_now, without_csrf

NEW = "a brand new passphrase"


def ask(client, login: str, **headers):
    page = client.get("/account/forgot-password")
    return client.post("/account/forgot-password", data={"login": login, "csrf_token": csrf_from(page.text)},
                       **headers)


def reset_link(app, smtp) -> str:
    deliver_mail(app, smtp)
    with app.app_context():
        links = smtp.links(current().settings.issuer)
    assert links, "no mail with a link arrived"
    return urlsplit(links[-1]).path


def set_password(client, path: str, password: str = NEW, keep: bool = False):
    page = client.get(path)
    if page.status_code != 200:  # a dead link: post anyway, with a valid CSRF token from another form
        page = client.get("/account/forgot-password")
    data = {"new_password": password, "new_password_again": password, "csrf_token": csrf_from(page.text)}
    if keep:
        data["keep_apps"] = "1"
    return client.post(path, data=data)


def outbox(app) -> list[dict]:
    with app.app_context():
        return mail.deliveries()


def test_known_and_unknown_names_get_the_same_answer(app, client, user, smtp):
    with app.app_context():
        user_service.create(current().passwords, username="bob", password=PASSWORD, email="bob@example.com")
    answers = [ask(client, login) for login in ("alice", "alice@example.com", "nobody", "nobody@example.com",
                                                "bob")]  # bob's address is not verified
    assert {a.status_code for a in answers} == {200}
    assert len({without_csrf(a.text) for a in answers}) == 1
    assert "If the name you typed belongs to an account" in answers[0].text
    deliver_mail(app, smtp)
    assert [m["To"] for m in smtp.messages] == ["alice@example.com", "alice@example.com"]
    rows = outbox(app)
    assert sorted(r["status"] for r in rows) == ["sent", "sent", "suppressed", "suppressed", "suppressed"]


def _work(app, client, login: str, ip: str) -> tuple[list[str], list[str]]:
    """The SQL statements (their first words and table) and the templates one request runs."""
    from flask import template_rendered
    from sqlalchemy import event

    statements, templates = [], []

    def on_sql(conn, cursor, statement, params, context, executemany):
        statements.append(" ".join(statement.split()[:3]))

    def on_template(sender, template, context, **extra):
        templates.append(template.name)

    page = client.get("/account/forgot-password")
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_sql)
    template_rendered.connect(on_template, app)
    try:
        client.post("/account/forgot-password", data={"login": login, "csrf_token": csrf_from(page.text)},
                    environ_base={"REMOTE_ADDR": ip})  # a fresh IP counter for each, like the name's
    finally:
        event.remove(engine, "before_cursor_execute", on_sql)
        template_rendered.disconnect(on_template, app)
    return statements, templates


def test_known_and_unknown_names_do_the_same_work(app, client, user):
    """The same statements and templates for a known and an unknown name, but for the one INSERT of
    the link itself: nothing a stopwatch could tell apart beyond one small row."""
    known_sql, known_templates = _work(app, client, "alice", "192.0.2.1")
    unknown_sql, unknown_templates = _work(app, client, "nobody-here", "192.0.2.2")
    assert known_templates == unknown_templates
    assert "mail/password_reset.html" in known_templates
    assert [s for s in known_sql if s != "INSERT INTO password_links"] == unknown_sql
    assert known_sql.count("INSERT INTO password_links") == 1


def test_known_and_unknown_names_take_the_same_time(app, client, user):
    """Measured alternately (so that load on the machine hits both alike), the medians of 15 requests
    for a known and an unknown name differ by less than 15 ms or a quarter of the median."""
    import statistics
    import time

    times: dict[str, list[float]] = {"alice": [], "nobody-here": []}
    for _ in range(15):
        for login in times:
            with app.app_context():  # keep the per-name throttle out of the measurement
                db.session.execute(db.text("DELETE FROM throttle_counters"))
                db.session.execute(db.text("DELETE FROM mail_outbox"))
                db.session.commit()
            page = client.get("/account/forgot-password")
            start = time.perf_counter()
            client.post("/account/forgot-password", data={"login": login, "csrf_token": csrf_from(page.text)})
            times[login].append(time.perf_counter() - start)
    known, unknown = statistics.median(times["alice"]), statistics.median(times["nobody-here"])
    assert abs(known - unknown) < max(0.015, 0.25 * max(known, unknown)), (known, unknown)


def test_the_link_sets_the_password_once_and_signs_out_everywhere(app, client, user, rp, smtp):
    elsewhere = Browser(app.test_client())
    result = elsewhere.sign_in(rp, scope="openid offline_access", prompt="consent")
    refresh = redeem(elsewhere.client, rp, result["code"], result["_verifier"]).get_json()["refresh_token"]
    ask(client, "alice")
    path = reset_link(app, smtp)
    assert path.startswith("/account/set-password/")
    done = set_password(client, path)
    assert done.status_code == 200 and "You can now sign in with your new password" in done.text
    assert set_password(client, path, "another new passphrase").status_code == 404  # single use
    with app.app_context():
        assert user_service.authenticate(current().passwords, "alice", NEW).id == user.id
        assert sessions.list_live(current().settings, user.id) == []  # signed out everywhere
    again = elsewhere.client.post("/token", data={"grant_type": "refresh_token", "refresh_token": refresh},
                                  headers=_basic(rp))
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"


def _basic(rp):
    from tests.conftest import basic_auth

    return basic_auth(rp.client.client_id, rp.client_secret)


def test_keeping_apps_signed_in_keeps_refresh_tokens(app, client, user, rp, smtp):
    elsewhere = Browser(app.test_client())
    result = elsewhere.sign_in(rp, scope="openid offline_access", prompt="consent")
    refresh = redeem(elsewhere.client, rp, result["code"], result["_verifier"]).get_json()["refresh_token"]
    ask(client, "alice@example.com")
    assert set_password(client, reset_link(app, smtp), keep=True).status_code == 200
    again = elsewhere.client.post("/token", data={"grant_type": "refresh_token", "refresh_token": refresh},
                                  headers=_basic(rp))
    assert again.status_code == 200, again.text


def test_the_link_expires(app, client, user, smtp, settings):
    ask(client, "alice")
    path = reset_link(app, smtp)
    clock.advance(settings.password_reset_ttl + 1)
    assert client.get(path).status_code == 404
    assert "This link no longer works" in client.get(path).text


def test_a_password_change_voids_the_link(app, client, user, smtp):
    ask(client, "alice")
    path = reset_link(app, smtp)
    with app.app_context():
        user_service.change_password(current().passwords, user.id, PASSWORD, "changed in the meantime")
    assert client.get(path).status_code == 404
    assert set_password(client, path.replace("set-password", "set-password")).status_code == 404


@pytest.mark.parametrize("mangle", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "x",
                                    lambda t: t * 10, lambda t: "%ff%fe"])
def test_tampered_or_unknown_tokens_get_a_clear_page_and_change_nothing(app, client, user, smtp, mangle):
    ask(client, "alice")
    path = reset_link(app, smtp)
    token = path.rsplit("/", 1)[1]
    bad = client.get("/account/set-password/" + mangle(token))
    assert bad.status_code == 404 and "This link no longer works" in bad.text
    with app.app_context():
        assert user_service.authenticate(current().passwords, "alice", PASSWORD).id == user.id
    assert set_password(client, path).status_code == 200  # the real link still works


def test_two_racing_uses_of_one_link_set_one_password(app, user, smtp):
    ask(app.test_client(), "alice")
    path = reset_link(app, smtp)
    clients = []
    for i in range(4):
        c = app.test_client()
        page = c.get(path)
        clients.append((c, csrf_from(page.text), f"racing passphrase number {i}"))

    waiting = queue.SimpleQueue()
    for item in clients:
        waiting.put(item)

    def attempt():
        c, token, password = waiting.get()
        return c.post(path, data={"new_password": password, "new_password_again": password,
                                  "csrf_token": token}).status_code, password

    results = race(attempt, racers=4)
    winners = [pw for status, pw in results if status == 200]
    assert len(winners) == 1
    with app.app_context():
        assert user_service.authenticate(current().passwords, "alice", winners[0]).id == user.id


def test_the_second_factor_is_still_asked_after_a_reset(app, client, user, rp, smtp):
    secret = enrol_totp(app, user)
    ask(client, "alice")
    assert set_password(client, reset_link(app, smtp)).status_code == 200
    browser = Browser(app.test_client())
    seen_mfa = []

    def code():
        seen_mfa.append(True)
        return totp_now(secret)

    browser.second_factor = code
    browser.login = lambda path: Browser.login(browser, path, password=NEW)
    result = browser.sign_in(rp)
    assert "code" in result and seen_mfa  # the sign-in asked for the authenticator code


def test_requests_are_throttled_per_name_and_per_ip(app, client, user, smtp, settings):
    for _ in range(settings.mail_max_per_address_per_hour):
        assert ask(client, "alice").status_code == 200
    blocked = ask(client, "alice")
    unknown_blocked = None
    for _ in range(settings.mail_max_per_address_per_hour + 1):
        unknown_blocked = ask(client, "nobody")
    assert blocked.status_code == unknown_blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 3600
    assert "Too many requests" in blocked.text
    deliver_mail(app, smtp)
    assert len(smtp.messages) == settings.mail_max_per_address_per_hour
    other_ip = {"environ_base": {"REMOTE_ADDR": "192.0.2.9"}}
    for i in range(settings.forgot_password_max_per_ip):
        assert ask(client, f"name-{i}", **other_ip).status_code == 200
    assert ask(client, "yet-another-name", **other_ip).status_code == 429


def test_a_flood_never_sends_more_than_n_mails_an_hour(app, user, smtp, settings):
    """Different names for one account (username, address) and different IP addresses still add up to
    at most mail_max_per_address_per_hour messages to the address."""
    client = app.test_client()
    for i in range(settings.mail_max_per_address_per_hour * 2):
        ask(client, "alice" if i % 2 else "alice@example.com", environ_base={"REMOTE_ADDR": f"192.0.2.{i}"})
    deliver_mail(app, smtp)
    assert len(smtp.messages) == settings.mail_max_per_address_per_hour


@pytest.mark.parametrize("login", ["a" * 255, "alice\r\nBcc: x@example.org", ""])
def test_bad_input_gets_a_clear_page_and_sends_nothing(app, client, user, login):
    answer = ask(client, login)
    assert answer.status_code == 400 and 'role="alert"' in answer.text
    assert outbox(app) == []


def test_non_utf8_input_is_answered_like_any_other_name(app, client, user):
    page = client.get("/account/forgot-password")
    body = b"login=%ff%fe%fd&csrf_token=" + csrf_from(page.text).encode()
    answer = client.post("/account/forgot-password", data=body,
                         content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200 and "If the name you typed" in answer.text
    assert [r["status"] for r in outbox(app)] == ["suppressed"]


def test_the_sign_in_and_password_pages_link_to_it(app, client, user, rp, browser):
    response = browser.authorize(response_type="code", client_id=rp.client.client_id, scope="openid",
                                 redirect_uri=rp.client.redirect_uris[0], code_challenge="x" * 43,
                                 code_challenge_method="S256")
    path = browser.follow_to_interaction(response)
    login_page = client.get(path).text
    uid = path.rsplit("/", 1)[1]
    assert f"/account/forgot-password?uid={uid}" in login_page
    form = client.get(f"/account/forgot-password?uid={uid}").text
    assert f'href="/interaction/{uid}"' in form
    assert client.get("/account/forgot-password?uid=../../evil").text.count("/interaction/") == 0
