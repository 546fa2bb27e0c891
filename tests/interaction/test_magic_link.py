"""Magic-link sign-in (magic_link = 1): single-use, 10 minutes, bound to the browser that asked for it,
one factor (amr "email") — never a second factor."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlsplit

import pytest

from idp.extensions import db
from idp.services import clock
from tests.conftest import Browser, csrf_from, enrol_totp, make_app, pkce_pair, query_of, redeem, without_csrf
from tests.conftest import deliver_mail as _deliver


@pytest.fixture(scope="session")
def _magic_app(_session_app, tmp_path_factory, database_url):
    return make_app(tmp_path_factory, database_url, magic_link=1)


@pytest.fixture()
def magic_app(app, _magic_app):
    yield _magic_app
    with _magic_app.app_context():
        db.session.remove()


def _start(client, rp):
    verifier, challenge = pkce_pair()
    response = client.get("/authorize", query_string=dict(
        response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
        scope="openid", state="s", nonce="n", code_challenge=challenge, code_challenge_method="S256"))
    return urlsplit(response.headers["Location"]).path, verifier


def _ask(client, path, login="alice"):
    page = client.get(path)
    return client.post(path + "/magic", data={"login": login, "csrf_token": csrf_from(page.text)})


def _link(app, smtp) -> str:
    _deliver(app, smtp)
    return urlsplit(smtp.links("http://localhost")[-1]).path


def _use(client, link):
    page = client.get(link)
    if page.status_code != 200:
        return page
    return client.post(link, data={"csrf_token": csrf_from(page.text)})


def test_off_by_default(app, client, rp, user):
    path, _ = _start(client, rp)
    assert "sign-in link" not in client.get(path).text
    assert _ask(client, path).status_code == 404


def test_sign_in_by_link_is_one_factor_with_amr_email(magic_app, rp, user, smtp):
    client = magic_app.test_client()
    path, verifier = _start(client, rp)
    assert "E-mail me a sign-in link" in client.get(path).text
    known, unknown = _ask(client, path), _ask(client, path, "nobody")
    assert known.status_code == unknown.status_code == 200 and without_csrf(known.text) == without_csrf(unknown.text)
    link = _link(magic_app, smtp)
    assert len(smtp.messages) == 1 and link.startswith(path + "/magic/")
    scanner_view = client.get(link)
    assert scanner_view.status_code == 200 and "Sign in as alice" in scanner_view.text
    response = Browser(client).resume(_use(client, link))
    while "/interaction/" in response.headers["Location"]:
        response = Browser(client).resume(Browser(client).consent(urlsplit(response.headers["Location"]).path))
    code = query_of(response.headers["Location"])["code"]
    id_token = redeem(client, rp, code, verifier).get_json()["id_token"]
    claims = json.loads(base64.urlsafe_b64decode(id_token.split(".")[1] + "=="))
    assert claims["amr"] == ["email"] and claims["acr"] == "urn:idp:acr:pwd"
    assert _use(client, link).status_code == 404  # single use


def test_another_browser_cannot_use_the_link(magic_app, rp, user, smtp):
    asking, elsewhere = magic_app.test_client(), magic_app.test_client()
    path, _ = _start(asking, rp)
    _ask(asking, path)
    link = _link(magic_app, smtp)
    own_path, _ = _start(elsewhere, rp)  # a browser with its own browser cookie
    refused = elsewhere.get(link)
    assert refused.status_code == 403 and "Nobody was signed in" in refused.text
    assert elsewhere.post(link, data={"csrf_token": csrf_from(elsewhere.get(own_path).text)}).status_code == 403
    assert app_session_count(magic_app) == 0
    assert _use(asking, link).status_code == 303  # still good in the browser that asked


def app_session_count(app) -> int:
    with app.app_context():
        return db.session.execute(db.text("SELECT COUNT(*) FROM sso_sessions")).scalar()


def test_the_link_expires_after_ten_minutes(magic_app, rp, user, smtp):
    client = magic_app.test_client()
    path, _ = _start(client, rp)
    _ask(client, path)
    link = _link(magic_app, smtp)
    clock.advance(601)
    assert _use(client, link).status_code == 404 and app_session_count(magic_app) == 0


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + "xx", lambda t: "short", lambda t: "a" * 200])
def test_tampered_links_sign_nobody_in(magic_app, rp, user, smtp, mangle):
    client = magic_app.test_client()
    path, _ = _start(client, rp)
    _ask(client, path)
    link = _link(magic_app, smtp)
    base, token = link.rsplit("/", 1)
    assert client.get(f"{base}/{mangle(token)}").status_code == 404
    assert app_session_count(magic_app) == 0


def test_a_link_is_never_a_second_factor(magic_app, rp, user, smtp):
    enrol_totp(magic_app, user)
    client = magic_app.test_client()
    path, _ = _start(client, rp)
    _ask(client, path)
    response = Browser(client).resume(_use(client, _link(magic_app, smtp)))
    assert response.headers["Location"].endswith(path)
    assert "/mfa/" in client.get(path).text  # the second factor is still asked


def test_another_browser_may_use_the_link_once_the_asking_browser_allows_it(magic_app, rp, user, smtp):
    asking, elsewhere = magic_app.test_client(), magic_app.test_client()
    path, _ = _start(asking, rp)
    _ask(asking, path)
    link = _link(magic_app, smtp)
    page = elsewhere.get(link)
    assert page.status_code == 403
    asked = elsewhere.post(link + "/elsewhere", data={"csrf_token": csrf_from(page.text)})
    assert asked.status_code == 200 and "Confirm on the other browser" in asked.text
    assert elsewhere.get(link).status_code == 403  # not before the asking browser allows it
    requests = asking.get(path + "/magic-requests")
    assert "Allow the other browser" in requests.text
    link_id = re.search(r'name="link" value="(\d+)"', requests.text).group(1)
    allowed = asking.post(path + "/magic-requests", data={"link": link_id, "decision": "allow",
                                                          "csrf_token": csrf_from(requests.text)})
    assert "may now sign in" in allowed.text
    assert asking.get(link).status_code == 403  # the link moved: the asking browser no longer has it
    signed_in = _use(elsewhere, link)
    assert signed_in.status_code == 200 and "You are signed in" in signed_in.text
    assert app_session_count(magic_app) == 1
    assert _use(elsewhere, link).status_code == 404


def test_only_the_asking_browser_can_allow_a_transfer(magic_app, rp, user, smtp):
    asking, elsewhere = magic_app.test_client(), magic_app.test_client()
    path, _ = _start(asking, rp)
    _ask(asking, path)
    link = _link(magic_app, smtp)
    own_path, _ = _start(elsewhere, rp)
    page = elsewhere.get(link)
    elsewhere.post(link + "/elsewhere", data={"csrf_token": csrf_from(page.text)})
    theirs = elsewhere.get(own_path + "/magic-requests")
    assert "No other browser asks" in theirs.text
    forged = elsewhere.post(own_path + "/magic-requests", data={"link": "1", "decision": "allow",
                                                                "csrf_token": csrf_from(elsewhere.get(own_path).text)})
    assert "There was no such request" in forged.text and elsewhere.get(link).status_code == 403


@pytest.mark.parametrize("link_id", ["99999999999999999999999", "-99999999999999999999", "-1", "²", "x"])
def test_a_transfer_decision_on_an_odd_link_id_is_no_such_request(magic_app, rp, user, link_id):
    asking = magic_app.test_client()
    path, _ = _start(asking, rp)
    _ask(asking, path)
    answer = asking.post(path + "/magic-requests", data={"link": link_id, "decision": "allow",
                                                         "csrf_token": csrf_from(asking.get(path).text)})
    assert answer.status_code == 200 and "There was no such request" in answer.text
