"""The account page: its own login, sessions (listed and revocable), connected apps (revocable,
taking the app's tokens with them), password change (re-authentication, other sessions ended) and
profile editing limited to the configured claims."""

from __future__ import annotations

import base64
import re
from urllib.parse import urlsplit

import pytest

from idp.extensions import db
from idp.services import backchannel
from idp.storage.audit import AuditEvent
from tests.conftest import PASSWORD, basic_auth, csrf_from, make_client, redeem

NEW_PASSWORD = "a much better passphrase"


def account_login(client, username="alice", password=PASSWORD, next_url=None):
    """Sign in to the account pages as a person does: /account/login is only the entry into the
    account console's authorization flow (login page, back to /account/callback). Returns the login
    page's answer when it refuses, else the callback's redirect to the page asked for."""
    response = client.get("/account/login", query_string={"next": next_url} if next_url is not None else {})
    assert response.status_code == 303 and urlsplit(response.headers["Location"]).path == "/authorize"
    response = client.get(response.headers["Location"])
    path = urlsplit(response.headers["Location"]).path
    page = client.get(path)
    response = client.post(path + "/login", data={"username": username, "password": password,
                                                  "csrf_token": csrf_from(page.get_data(as_text=True))})
    if response.status_code != 303:
        return response
    response = client.get(urlsplit(response.headers["Location"]).path)  # resume: the code to the callback
    callback = urlsplit(response.headers["Location"])
    assert callback.path == "/account/callback", response.headers["Location"]
    return client.get(f"{callback.path}?{callback.query}")


def post_form(client, page_path: str, action: str, **data):
    html = client.get(page_path).get_data(as_text=True)
    return client.post(action, data={"csrf_token": csrf_from(html), **data})


def _events(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == name)))


def test_account_needs_a_signed_in_person(client, user):
    response = client.get("/account")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/authorize"  # the account console's sign-in


def test_account_login_then_overview(client, user):
    response = account_login(client, next_url="/account/password")
    assert response.status_code == 303 and response.headers["Location"] == "/account/password"
    page = client.get("/account")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["X-Frame-Options"] == "DENY"
    assert "Signed in as <strong>alice</strong>" in html
    assert '<h2 id="security">Security</h2>' in html
    assert "This device" in html  # the current session is listed and marked


@pytest.mark.parametrize("next_url", ["//evil.example.com/account", "https://evil.example.com/", "/account\\@x"])
def test_account_login_never_redirects_elsewhere(client, user, next_url):
    assert account_login(client, next_url=next_url).headers["Location"] == "/account"


@pytest.mark.parametrize("next_url", ["/account\nSet-Cookie: a=b", "/account/\t/evil.example.com", "/account\x7f"])
def test_a_forged_callback_state_with_control_characters_goes_to_the_overview(client, user, next_url):
    """The page to return to rides in the state, which anyone can forge: a newline was a 500 (header
    value), a tab hid a `//` from the check (browsers drop tabs from URLs)."""
    account_login(client)
    encoded = base64.urlsafe_b64encode(next_url.encode()).decode().rstrip("=")
    response = client.get("/account/callback", query_string={"iss": "http://localhost", "state": f"x.{encoded}"})
    assert response.status_code == 303 and response.headers["Location"] == "/account"


def test_account_login_with_a_wrong_password(app, client, user):
    response = account_login(client, password="wrong password!")
    assert response.status_code == 401 and "incorrect" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 303
    assert [e.outcome for e in _events(app, "login.password")] == ["failure"]


def test_account_login_is_an_entry_into_the_sign_in_flow(client, user):
    """The account console is a relying party: /account/login keeps no form of its own."""
    response = client.get("/account/login?next=/account/profile")
    assert response.status_code == 303 and urlsplit(response.headers["Location"]).path == "/authorize"
    assert client.post("/account/login", data={"username": "alice", "password": PASSWORD}).status_code in (400, 405)
    assert client.get("/account").status_code == 303  # nothing signed in by that POST


def test_forms_need_csrf_tokens(client, user):
    account_login(client)
    assert client.post("/account/profile", data={"name": "X"}).status_code == 400
    assert client.post("/account/logout").status_code == 400


def test_sessions_are_listed_and_another_one_can_be_ended(app, client, user):
    other = app.test_client()
    account_login(other)
    account_login(client)
    html = client.get("/account").get_data(as_text=True)
    assert html.count('action="/account/sessions/') == 2 and html.count('class="tag">This device') == 1
    with app.app_context():
        from idp.storage.sessions import SsoSession

        other_id = db.session.scalars(db.select(SsoSession.id).order_by(SsoSession.id)).first()  # signed in first
    assert f'action="/account/sessions/{other_id}/end"' in html
    response = post_form(client, "/account", f"/account/sessions/{other_id}/end")
    assert response.status_code == 303
    assert client.get("/account").status_code == 200  # still signed in here
    assert other.get("/account").status_code == 303  # signed out there
    assert [e.reason for e in _events(app, "logout")] == ["ended_from_account"]


def test_ending_someone_elses_session_is_impossible(app, client, user):
    from idp.services import users as user_service
    from idp.services.runtime import current

    with app.app_context():
        user_service.create(current().passwords, username="bob", password=PASSWORD, email="bob@example.com")
    bob = app.test_client()
    account_login(bob, username="bob")
    account_login(client)
    with app.app_context():
        from idp.storage.sessions import SsoSession

        bob_session = db.session.scalars(db.select(SsoSession).where(SsoSession.user_id != user.id)).one().id
    response = post_form(client, "/account", f"/account/sessions/{bob_session}/end")
    assert response.status_code == 303
    assert "already ended" in client.get("/account").get_data(as_text=True)
    assert bob.get("/account").status_code == 200


def test_sign_out_from_the_account_page(app, client, user):
    account_login(client)
    response = post_form(client, "/account", "/account/logout")
    assert "idp_session=;" in response.headers["Set-Cookie"]
    page = client.get(urlsplit(response.headers["Location"]).path).get_data(as_text=True)
    assert "You are signed out" in page
    assert client.get("/account").status_code == 303


def test_password_change_needs_the_current_password(app, client, user):
    account_login(client)
    response = post_form(client, "/account/password", "/account/password", current_password="not it at all",
                         new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD)
    assert response.status_code == 401
    assert [e.outcome for e in _events(app, "password.change")] == ["failure"]
    assert account_login(app.test_client()).status_code == 303  # the old password still works


def test_password_change_refuses_mismatched_or_weak_passwords(client, user):
    account_login(client)
    mismatch = post_form(client, "/account/password", "/account/password", current_password=PASSWORD,
                         new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD + "x")
    assert mismatch.status_code == 400 and "not the same" in mismatch.get_data(as_text=True)
    weak = post_form(client, "/account/password", "/account/password", current_password=PASSWORD,
                     new_password="short", new_password_again="short")
    assert weak.status_code == 400


def test_password_change_ends_every_other_session(app, client, user):
    elsewhere = app.test_client()
    account_login(elsewhere)
    account_login(client)
    response = post_form(client, "/account/password", "/account/password", current_password=PASSWORD,
                         new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD)
    assert response.status_code == 303
    assert "Signed out of 1 other session." in client.get("/account").get_data(as_text=True)
    assert elsewhere.get("/account").status_code == 303
    assert account_login(app.test_client(), password=PASSWORD).status_code == 401
    assert account_login(app.test_client(), password=NEW_PASSWORD).status_code == 303
    assert [e.outcome for e in _events(app, "password.change")] == ["success"]


def test_ended_sessions_notify_their_apps_over_the_back_channel(app, client, browser, user):
    rp = make_client(app, name="Notified App", redirect_uris=["https://app.example.com/callback"],
                     backchannel_logout_uri="https://app.example.com/backchannel")
    other = app.test_client()
    from tests.conftest import Browser

    result = Browser(other).sign_in(rp)
    redeem(other, rp, result["code"], result["_verifier"])
    account_login(client)
    post_form(client, "/account/password", "/account/password", current_password=PASSWORD,
              new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD)
    app.extensions["idp"].backchannel.stop()  # what is queued is what this test checks, not the sending
    with app.app_context():
        from idp.storage.sessions import SsoSession

        ended = db.session.scalars(db.select(SsoSession).where(SsoSession.ended_at.is_not(None))).one()
        deliveries = backchannel.deliveries_for(ended.sid)
    assert [d.client_id for d in deliveries] == [rp.client.client_id]


def _connected(app, client, browser, user):
    rp = make_client(app, name="Connected App", redirect_uris=["https://app.example.com/callback"],
                     scopes=["openid", "profile", "email", "offline_access"],
                     grant_types=["authorization_code", "refresh_token"])
    result = browser.sign_in(rp, scope="openid profile offline_access")
    tokens = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    return rp, tokens


def test_connected_apps_are_listed_and_revocable(app, client, browser, user):
    rp, tokens = _connected(app, client, browser, user)
    html = client.get("/account").get_data(as_text=True)
    assert "Connected App" in html and "See your name and basic profile" in html
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 200

    response = post_form(client, "/account", f"/account/apps/{rp.client.client_id}/revoke")
    assert response.status_code == 303
    assert "Connected App no longer has access" in client.get("/account").get_data(as_text=True)
    # Its tokens are revoked with the consent ...
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401
    refreshed = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                            headers=basic_auth(rp.client.client_id, rp.client_secret))
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"
    # ... and the next sign-in asks for consent again.
    assert 'name="decision"' in _next_page(client, browser, rp)
    [event] = _events(app, "consent.revoke")
    assert event.client_id == rp.client.client_id and event.details["revoked_tokens"] == 2


def _next_page(client, browser, rp) -> str:
    from tests.conftest import pkce_pair

    _, challenge = pkce_pair()
    response = browser.authorize(response_type="code", client_id=rp.client.client_id,
                                 redirect_uri=rp.client.redirect_uris[0], scope="openid profile",
                                 code_challenge=challenge, code_challenge_method="S256")
    return client.get(urlsplit(response.headers["Location"]).path).get_data(as_text=True)


def test_revoking_an_unknown_app_changes_nothing(client, user):
    account_login(client)
    post_form(client, "/account", "/account/apps/unknown/revoke")
    assert "had no access any more" in client.get("/account").get_data(as_text=True)


def test_profile_edits_only_the_configured_claims(app, client, user):
    account_login(client)
    page = client.get("/account/profile").get_data(as_text=True)
    assert 'id="name"' in page and 'value="Alice Liddell"' in page and 'id="email"' not in page
    response = post_form(client, "/account/profile", "/account/profile", name="Alice P. Liddell", nickname="Al",
                         given_name="", email="mallory@example.com", phone_number="+1 555")
    assert response.status_code == 303
    with app.app_context():
        from idp.services import users as user_service

        stored = user_service.get(user.id)
    assert stored.claims["name"] == "Alice P. Liddell" and stored.claims["nickname"] == "Al"
    assert "given_name" not in stored.claims  # emptied
    assert stored.email == "alice@example.com" and stored.claims["phone_number"] == "+44 1865 000000"
    [event] = _events(app, "profile.update")
    assert sorted(event.details["claims"]) == ["given_name", "name", "nickname"]


def test_profile_refuses_overlong_values_and_escapes_them(client, user):
    account_login(client)
    response = post_form(client, "/account/profile", "/account/profile", name="x" * 201)
    html = response.get_data(as_text=True)
    # The message names the field by its label, next to the field, which is marked invalid.
    assert response.status_code == 400 and "Full name can be at most 200 characters long." in html
    assert re.search(r'<p class="field-error" id="name-error">Full name can be at most', html)
    assert re.search(r'id="name"[^>]*aria-describedby="name-error" aria-invalid="true"', html, re.S)
    assert "&#39;name&#39;" not in html and "'name'" not in html
    post_form(client, "/account/profile", "/account/profile", name="<script>alert(1)</script>")
    html = client.get("/account").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_a_profile_error_with_values_is_in_the_page_language(client, user):
    """The service's message carries its values apart from its words: a German page says it in German,
    label and number included, at the field at fault."""
    account_login(client)
    client.set_cookie("idp_lang", "de")
    response = post_form(client, "/account/profile", "/account/profile", name="x" * 201)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'lang="de"' in html
    message = "Vollständiger Name darf höchstens 200 Zeichen lang sein."
    assert re.search(rf'<p class="field-error" id="name-error">{message}', html)
    assert re.search(r'id="name"[^>]*aria-describedby="name-error" aria-invalid="true"', html, re.S)
    assert "can be at most" not in html
