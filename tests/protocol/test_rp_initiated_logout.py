"""OpenID Connect RP-Initiated Logout 1.0: the end-session endpoint, its parameters, when it asks
for confirmation, and that it never redirects to an unregistered URI."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest

from idp.extensions import db
from idp.services import users as user_service
from idp.storage.sessions import SsoSession
from tests.conftest import PASSWORD, csrf_from, make_client, query_of, redeem

APP_LOGGED_OUT = "https://app.example.com/logged-out"


@pytest.fixture()
def logout_rp(app):
    return make_client(app, name="Logout App", redirect_uris=["https://app.example.com/callback"],
                       post_logout_redirect_uris=[APP_LOGGED_OUT])


def _id_token(client, browser, rp) -> str:
    result = browser.sign_in(rp)
    response = redeem(client, rp, result["code"], result["_verifier"])
    return response.get_json()["id_token"]


def _session_rows(app) -> list[SsoSession]:
    with app.app_context():
        return list(db.session.scalars(db.select(SsoSession)))


def _signed_in(client, rp) -> bool:
    """Whether the browser still has an IdP session: prompt=none succeeds only then."""
    response = client.get("/authorize", query_string=dict(
        response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
        scope="openid", prompt="none", code_challenge="x" * 43, code_challenge_method="S256"))
    query = query_of(response.headers["Location"])
    assert "code" in query or query.get("error") == "login_required", query
    return "code" in query


def test_hint_from_this_session_logs_out_at_once_and_redirects_with_state(app, client, browser, user, logout_rp):
    id_token = _id_token(client, browser, logout_rp)
    response = client.get("/logout", query_string={"id_token_hint": id_token, "post_logout_redirect_uri":
                                                   APP_LOGGED_OUT, "state": "s1", "ui_locales": "fr en"})
    assert response.status_code == 302
    assert response.headers["Location"] == APP_LOGGED_OUT + "?state=s1"
    assert response.headers["Cache-Control"] == "no-store"
    assert "idp_session=;" in response.headers["Set-Cookie"]  # cookie cleared
    assert [r.ended_at is not None for r in _session_rows(app)] == [True]
    assert not _signed_in(client, logout_rp)  # prompt=none now answers login_required


def test_post_is_accepted_like_get(app, client, browser, user, logout_rp):
    id_token = _id_token(client, browser, logout_rp)
    response = client.post("/logout", data={"id_token_hint": id_token, "client_id": logout_rp.client.client_id,
                                            "post_logout_redirect_uri": APP_LOGGED_OUT})
    assert response.status_code == 303
    assert response.headers["Location"] == APP_LOGGED_OUT  # no state sent, none added
    assert not _signed_in(client, logout_rp)


def test_logout_is_audited(app, client, browser, user, logout_rp):
    id_token = _id_token(client, browser, logout_rp)
    client.get("/logout", query_string={"id_token_hint": id_token})
    with app.app_context():
        from idp.storage.audit import AuditEvent

        events = list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == "logout")))
    assert len(events) == 1 and events[0].reason == "rp_initiated" and events[0].subject_user_id == user.id


def test_unregistered_post_logout_redirect_uri_is_not_followed(app, client, browser, user, logout_rp):
    id_token = _id_token(client, browser, logout_rp)
    response = client.get("/logout", query_string={"id_token_hint": id_token,
                                                   "post_logout_redirect_uri": "https://evil.example.com/x"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/interaction/logout/")
    page = client.get(location).get_data(as_text=True)
    assert "You are signed out" in page and "evil.example.com" not in page
    assert not _signed_in(client, logout_rp)


def test_redirect_uri_of_another_client_is_not_followed(app, client, browser, user, logout_rp):
    make_client(app, name="Other", redirect_uris=["https://other.example.com/cb"],
                post_logout_redirect_uris=["https://other.example.com/bye"])
    id_token = _id_token(client, browser, logout_rp)
    response = client.get("/logout", query_string={"id_token_hint": id_token,
                                                   "post_logout_redirect_uri": "https://other.example.com/bye"})
    assert response.headers["Location"].startswith("/interaction/logout/")  # signed out, not redirected


def test_without_hint_asks_for_confirmation_then_logs_out(app, client, browser, user, logout_rp):
    browser.sign_in(logout_rp)
    response = client.get("/logout", query_string={"client_id": logout_rp.client.client_id,
                                                   "post_logout_redirect_uri": APP_LOGGED_OUT, "state": "s2"})
    path = urlsplit(response.headers["Location"]).path
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert "Sign out?" in html and "Logout App asks" in html and "alice" in html
    assert page.headers["X-Frame-Options"] == "DENY"
    assert _signed_in(client, logout_rp)  # nothing ended before the person confirms
    confirmed = client.post(path, data={"decision": "logout", "csrf_token": csrf_from(html)})
    assert confirmed.status_code == 303 and "idp_session=;" in confirmed.headers["Set-Cookie"]
    done = client.get(urlsplit(confirmed.headers["Location"]).path).get_data(as_text=True)
    assert "You are signed out" in done
    assert f'href="{APP_LOGGED_OUT}?state=s2"' in done  # the no-JS way back, with state
    assert not _signed_in(client, logout_rp)


def test_confirmation_can_be_declined(app, client, browser, user, logout_rp):
    browser.sign_in(logout_rp)
    path = urlsplit(client.get("/logout").headers["Location"]).path
    html = client.get(path).get_data(as_text=True)
    step = client.post(path, data={"decision": "stay", "csrf_token": csrf_from(html)})
    stayed = client.get(urlsplit(step.headers["Location"]).path).get_data(as_text=True)
    assert "You are still signed in" in stayed and 'href="/account">Go to your account<' in stayed  # a way on
    assert _signed_in(client, logout_rp)


def test_confirmation_needs_a_csrf_token(app, client, browser, user, logout_rp):
    browser.sign_in(logout_rp)
    path = urlsplit(client.get("/logout").headers["Location"]).path
    client.get(path)
    assert client.post(path, data={"decision": "logout"}).status_code == 400
    assert _signed_in(client, logout_rp)


def _mint_id_token(app, rp, username: str, sid: str | None) -> str:
    """An ID token this server signs, as it would for `username` in session `sid`."""
    from idp.services import tokens as token_service
    from idp.services.runtime import current
    from idp.storage.users import find_by_login

    with app.app_context():
        rt = current()
        person = user_service.view(find_by_login(username))
        return token_service.id_token(rt.settings, rt.keyring, client=rp.client, user=person, scopes=["openid"],
                                      auth_time=1, acr=None, amr=(), sid=sid, nonce=None, claims_request=None,
                                      access_token=None, now=1)


def test_hint_for_another_person_asks_for_confirmation(app, client, browser, user, logout_rp):
    from idp.services.runtime import current

    with app.app_context():
        user_service.create(current().passwords, username="bob", password=PASSWORD, email="bob@example.com")
    browser.sign_in(logout_rp)  # alice is signed in here
    response = client.get("/logout", query_string={"id_token_hint": _mint_id_token(app, logout_rp, "bob", None)})
    assert "/interaction/logout/" in response.headers["Location"]
    assert "Sign out?" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _signed_in(client, logout_rp)


def test_hint_from_an_earlier_session_of_the_same_person_asks_for_confirmation(app, client, browser, user,
                                                                                  logout_rp):
    browser.sign_in(logout_rp)
    old_hint = _mint_id_token(app, logout_rp, "alice", sid="an-earlier-session")
    response = client.get("/logout", query_string={"id_token_hint": old_hint,
                                                   "post_logout_redirect_uri": APP_LOGGED_OUT})
    assert "/interaction/logout/" in response.headers["Location"]
    assert _signed_in(client, logout_rp)


def test_hint_not_issued_here_is_refused_without_redirect(client, user, logout_rp):
    forged = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    response = client.get("/logout", query_string={"id_token_hint": forged,
                                                   "post_logout_redirect_uri": APP_LOGGED_OUT})
    assert response.status_code == 400
    assert "This sign-out request cannot be completed" in response.get_data(as_text=True)


def test_access_token_is_not_an_id_token_hint(client, browser, user, logout_rp):
    result = browser.sign_in(logout_rp)
    access_token = redeem(client, logout_rp, result["code"], result["_verifier"]).get_json()["access_token"]
    assert client.get("/logout", query_string={"id_token_hint": access_token}).status_code == 400


def test_client_id_must_match_the_hint(app, client, browser, user, logout_rp):
    other = make_client(app, name="Other", redirect_uris=["https://other.example.com/cb"])
    id_token = _id_token(client, browser, logout_rp)
    response = client.get("/logout", query_string={"id_token_hint": id_token, "client_id": other.client.client_id})
    assert response.status_code == 400
    assert _signed_in(client, logout_rp)


def test_unknown_client_id_is_refused(client):
    assert client.get("/logout", query_string={"client_id": "nope"}).status_code == 400


def test_repeated_parameter_is_refused(client, logout_rp):
    response = client.get("/logout?client_id=a&client_id=b")
    assert response.status_code == 400


def test_without_a_session_redirects_straight_back(client, logout_rp):
    response = client.get("/logout", query_string={"client_id": logout_rp.client.client_id, "state": "z",
                                                   "post_logout_redirect_uri": APP_LOGGED_OUT})
    assert response.headers["Location"] == APP_LOGGED_OUT + "?state=z"


def test_without_a_session_or_redirect_shows_signed_out(client):
    response = client.get("/logout")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are signed out" in page and "You can close this window" in page


def test_logout_page_belongs_to_the_browser_that_started_it(app, client, browser, user, logout_rp):
    browser.sign_in(logout_rp)
    location = client.get("/logout").headers["Location"]
    stranger = app.test_client()
    assert stranger.get(location).status_code == 400


def test_front_channel_iframes_carry_iss_and_sid_only_when_required(app, client, browser, user, settings):
    with_session = make_client(app, name="Needs sid", redirect_uris=["https://one.example.com/cb"],
                               frontchannel_logout_uri="https://one.example.com/fc",
                               frontchannel_logout_session_required=True)
    plain = make_client(app, name="Plain", redirect_uris=["https://two.example.com/cb"],
                        frontchannel_logout_uri="https://two.example.com/fc?app=2")
    browser.sign_in(with_session)
    id_token = _id_token(client, browser, plain)
    response = client.get("/logout", query_string={"id_token_hint": id_token})
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    with app.app_context():
        sid = db.session.scalars(db.select(SsoSession.sid)).one()
    expected = "https://one.example.com/fc?" + urlencode({"iss": settings.issuer, "sid": sid})
    assert f'src="{expected.replace("&", "&amp;")}"' in html
    assert 'src="https://two.example.com/fc?app=2"' in html
    csp = page.headers["Content-Security-Policy"]
    assert "frame-src https://one.example.com https://two.example.com" in csp
    assert "frame-ancestors 'none'" in csp and page.headers["X-Frame-Options"] == "DENY"
    assert 'id="logout-continue"' not in html  # no post_logout_redirect_uri: nowhere to go on to
    assert "You can close this window" in html


def test_other_pages_frame_nothing(client):
    csp = client.get("/account/login").headers["Content-Security-Policy"]
    assert "frame-src" not in csp and "default-src 'none'" in csp


def _page(client, location: str, **headers) -> tuple[str, str]:
    path = urlsplit(location).path
    return path, client.get(path, headers=headers).get_data(as_text=True)


@pytest.mark.parametrize("with_hint", [False, True])
def test_ui_locales_gives_french_logout_pages_through_the_confirmation(app, client, browser, user, logout_rp,
                                                                      with_hint):
    """§2 ui_locales: the confirmation and the page after it are French, whatever the browser prefers."""
    from idp.services.runtime import current

    browser.sign_in(logout_rp)  # alice; a hint naming someone else still needs the confirmation
    params = {"ui_locales": "fr-CA de", "post_logout_redirect_uri": APP_LOGGED_OUT}
    if with_hint:
        with app.app_context():
            user_service.create(current().passwords, username="bob", password=PASSWORD, email="bob@example.com")
        params["id_token_hint"] = _mint_id_token(app, logout_rp, "bob", None)
    else:
        params["client_id"] = logout_rp.client.client_id
    path, html = _page(client, client.get("/logout", query_string=params).headers["Location"],
                       **{"Accept-Language": "es"})
    assert '<html lang="fr">' in html and "Rester connecté" in html and "Logout App" in html
    confirmed = client.post(path, data={"decision": "logout", "csrf_token": csrf_from(html)},
                            headers={"Accept-Language": "es"})
    _, done = _page(client, confirmed.headers["Location"], **{"Accept-Language": "es"})
    assert '<html lang="fr">' in done and "Vous êtes déconnecté" in done
    assert not _signed_in(client, logout_rp)


def test_ui_locales_on_the_stay_signed_in_page(client, browser, user, logout_rp):
    browser.sign_in(logout_rp)
    path, html = _page(client, client.get("/logout", query_string={"ui_locales": "de"}).headers["Location"])
    stayed = client.post(path, data={"decision": "stay", "csrf_token": csrf_from(html)})
    _, page = _page(client, stayed.headers["Location"])
    assert '<html lang="de">' in page and "Sie sind weiterhin angemeldet" in page


def test_ui_locales_without_a_catalogue_falls_back_to_accept_language(client, browser, user, logout_rp):
    browser.sign_in(logout_rp)
    location = client.get("/logout", query_string={"ui_locales": "xx <b>"}).headers["Location"]
    _, html = _page(client, location, **{"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="de">' in html and "Abmelden?" in html and "<b>" not in html and "&lt;b&gt;" not in html
    _, english = _page(client, location)
    assert '<html lang="en">' in english and "Sign out?" in english


def test_a_refused_sign_out_request_is_explained_in_its_ui_locales(client, user, logout_rp):
    response = client.get("/logout", query_string={"id_token_hint": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
                                                   "ui_locales": "fr"})
    assert response.status_code == 400 and '<html lang="fr">' in response.get_data(as_text=True)
    assert "n’est pas un jeton d’identité émis par ce serveur" in response.get_data(as_text=True)
