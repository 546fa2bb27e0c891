"""Lockout without enumeration or aimed lockout, and one throttled password check everywhere.

- Unknown and known names get the same page at every attempt count (the account counter is keyed by
  the submitted name, normalized).
- OWASP's device cookie: a browser that signed in to the account before is judged by its own failures,
  so a stranger who keeps failing does not keep the owner out; unknown browsers share the
  account-wide limit.
- Every re-authentication form counts its password attempts on the same throttle (429 after the limit)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from idp.services import clock
from idp.services.known_browsers import COOKIE as KNOWN_BROWSER
from tests.conftest import PASSWORD, Browser, csrf_from, enrol_totp, make_client, pkce_pair, totp_now, without_csrf


def _start(browser, rp) -> str:
    return browser.follow_to_interaction(browser.authorize(
        response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
        scope="openid", code_challenge=pkce_pair()[1], code_challenge_method="S256"))


def _normalized(html: str, username: str, path: str) -> str:
    """The page with what differs by construction taken out: the per-session CSRF token, the
    interaction's own id and the name typed (echoed back into the field)."""
    html = without_csrf(html)
    html = html.replace(path, "/interaction/UID").replace(path.rsplit("/", 1)[1], "UID")  # ?uid= links too
    return html.replace(f'value="{username}"', 'value="NAME"')


def test_unknown_and_known_names_answer_byte_identically_at_every_attempt(app, user, rp, settings):
    """Attempts 1, 10 and 11 (the first refused) look the same for `alice` and for `nobody`."""
    known, unknown = Browser(app.test_client()), Browser(app.test_client())
    known_path, unknown_path = _start(known, rp), _start(unknown, rp)
    limit = settings.login_max_failures_per_account
    for attempt in range(1, limit + 2):
        a = known.login(known_path, username="alice", password="wrong guess")
        b = unknown.login(unknown_path, username="nobody", password="wrong guess")
        assert a.status_code == b.status_code == (401 if attempt <= limit else 429), attempt
        if attempt in (1, limit, limit + 1):
            assert _normalized(a.get_data(as_text=True), "alice", known_path) == \
                _normalized(b.get_data(as_text=True), "nobody", unknown_path), attempt
            assert ("Retry-After" in a.headers) == ("Retry-After" in b.headers) == (attempt > limit)
            if attempt > limit:  # the same wait (real seconds tick between the two requests)
                assert abs(int(a.headers["Retry-After"]) - int(b.headers["Retry-After"])) <= 1
    # RFC 6585 §4: the refusal says how long until the window frees a slot; failures before it do not
    assert 0 < int(a.headers["Retry-After"]) <= settings.login_failure_window
    clock.advance(60)
    later = int(known.login(known_path, username="alice").headers["Retry-After"])
    assert int(a.headers["Retry-After"]) - 61 <= later <= int(a.headers["Retry-After"]) - 60


@pytest.mark.parametrize(("names", "then"), [
    ((" alice ", "Alice"), "ALICE"),  # the submitted name is normalized for the count
    (("alice", "alice@example.com"), "Alice@Example.com"),  # the account's e-mail counts as its username
])
def test_one_account_has_one_counter_whatever_name_is_typed(app, client, browser, user, rp, settings, names, then):
    """Alternating the spellings or the two names of one account does not multiply its guesses."""
    path = _start(browser, rp)
    for n in range(settings.login_max_failures_per_account):
        assert browser.login(path, username=names[n % 2], password="wrong guess").status_code == 401
    assert browser.login(path, username=then).status_code == 429
    assert browser.login(path, username=names[0]).status_code == 429


def test_the_owner_signs_in_from_a_known_browser_while_a_stranger_keeps_failing(app, user, rp, settings):
    owner = Browser(app.test_client())
    owner.sign_in(rp)  # a successful sign-in: this browser is now known for alice
    assert owner.client.get_cookie(KNOWN_BROWSER) is not None
    owner.client.delete_cookie("idp_session")  # signed out, the known-browser cookie stays

    stranger = Browser(app.test_client())
    path = _start(stranger, rp)
    for _ in range(settings.login_max_failures_per_account + 5):
        stranger.login(path, password="guess")
    assert stranger.login(path).status_code == 429  # strangers share the account-wide limit
    another_new_browser = Browser(app.test_client())
    assert another_new_browser.login(_start(another_new_browser, rp)).status_code == 429

    owner_path = _start(owner, rp)
    response = owner.login(owner_path)
    assert response.status_code == 303, response.get_data(as_text=True)  # judged by its own failures


def test_a_known_browser_is_judged_by_its_own_failures(app, user, rp, settings):
    owner = Browser(app.test_client())
    owner.sign_in(rp)
    owner.client.delete_cookie("idp_session")
    path = _start(owner, rp)
    for _ in range(settings.login_max_failures_per_account):
        assert owner.login(path, password="typo").status_code == 401
    assert owner.login(path).status_code == 429


def test_a_password_change_makes_the_known_browsers_strangers(app, user, rp, settings):
    """Someone who knew the old password made browsers "known" for alice; once she changes it, those
    browsers share the account-wide limit again (else each would get its own budget of guesses at the
    new password)."""
    from idp.services import users as user_service

    old_guesser = Browser(app.test_client())
    old_guesser.sign_in(rp)
    old_guesser.client.delete_cookie("idp_session")
    with app.app_context():
        user_service.change_password(app.extensions["idp"].passwords, user.id, PASSWORD, "a brand new passphrase")
    path = _start(old_guesser, rp)
    for _ in range(settings.login_max_failures_per_account):
        assert old_guesser.login(path, password="guess").status_code == 401
    owner = Browser(app.test_client())
    assert owner.login(_start(owner, rp), password="a brand new passphrase").status_code == 429


def test_a_forged_known_browser_cookie_counts_for_nothing(app, user, rp, settings):
    stranger = Browser(app.test_client())
    stranger.client.set_cookie(KNOWN_BROWSER, "eyJuIjoieCIsInUiOlsxXX0.forged")
    path = _start(stranger, rp)
    for _ in range(settings.login_max_failures_per_account):
        stranger.login(path, password="guess")
    assert stranger.login(path).status_code == 429


def test_passkey_sign_in_is_not_blocked_by_the_password_throttle(app, client, browser, user, rp, settings):
    path = _start(browser, rp)
    for _ in range(settings.login_max_failures_per_account):
        browser.login(path, password="guess")
    assert browser.login(path).status_code == 429
    page = client.get(path).get_data(as_text=True)
    options = client.post(path + "/passkey/options", headers={"X-CSRFToken": csrf_from(page)})
    assert options.status_code == 200 and "challenge" in options.get_json()


# --- every re-authentication form ----------------------------------------------------------------------

def _signed_in_with_a_factor(app, client, user, rp) -> None:
    secret = enrol_totp(app, user)
    browser = Browser(client)
    browser.second_factor = lambda: totp_now(secret)
    browser.sign_in(rp)


REAUTH_FORMS = {
    "password": ("/account/password", "/account/password",
                 lambda wrong: {"current_password": wrong, "new_password": "another fine passphrase",
                                "new_password_again": "another fine passphrase"}),
    "remove app": ("/account/security", "/account/security/totp/disable", lambda wrong: {"password": wrong}),
    "recovery codes": ("/account/security", "/account/security/recovery-codes", lambda wrong: {"password": wrong}),
    "remove passkey": ("/account/security", "/account/security/passkeys/1/delete", lambda wrong: {"password": wrong}),
}


@pytest.mark.parametrize("form", list(REAUTH_FORMS))
def test_every_re_authentication_form_answers_429_after_the_limit(app, client, user, rp, settings, form):
    _signed_in_with_a_factor(app, client, user, rp)
    page_path, action, data = REAUTH_FORMS[form]
    token = csrf_from(client.get(page_path).get_data(as_text=True))
    statuses = [client.post(action, data={"csrf_token": token, **data("wrong guess")}).status_code
                for _ in range(settings.login_max_failures_per_account)]
    assert statuses == [401] * settings.login_max_failures_per_account
    blocked = client.post(action, data={"csrf_token": token, **data(PASSWORD)})  # even the right one waits
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.get_data(as_text=True)
    assert 0 < int(blocked.headers["Retry-After"]) <= settings.login_failure_window
    clock.advance(settings.login_failure_window + 1)


def test_re_authentication_counts_against_the_same_throttle_as_sign_in(app, client, user, rp, settings):
    """Guesses on the password form use up the same budget the sign-in page then sees from this browser."""
    _signed_in_with_a_factor(app, client, user, rp)
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    for _ in range(settings.login_max_failures_per_account):
        client.post("/account/password", data={"csrf_token": token, "current_password": "x",
                                               "new_password": "p" * 20, "new_password_again": "p" * 20})
    other = make_client(app, name="Other", redirect_uris=["https://other.example.com/cb"])
    browser = Browser(client)
    response = browser.authorize(response_type="code", client_id=other.client.client_id, prompt="login",
                                 redirect_uri="https://other.example.com/cb", scope="openid",
                                 code_challenge=pkce_pair()[1], code_challenge_method="S256")
    path = urlsplit(response.headers["Location"]).path
    assert browser.login(path).status_code == 429
