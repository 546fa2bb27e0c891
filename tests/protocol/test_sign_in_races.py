"""Bursts against a live server, on the real database: completing an interaction issues one code
however many times it is resumed at once, and the throttles reserve each attempt before verifying it,
so 50 concurrent wrong guesses get at most the limit verified."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from idp.extensions import db
from idp.storage.audit import AuditEvent
from idp.storage.codes import AuthorizationCode
from tests.conftest import PASSWORD, enrol_totp, make_client, pkce_pair, race, totp_now

pytestmark = pytest.mark.e2e
BURST = 50


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _to_login_page(server, rp) -> tuple[requests.Session, str, str]:
    """A browser (requests session) at the login page: (session, interaction URL, CSRF token)."""
    s = requests.Session()
    response = s.get(f"{server.url}/authorize", allow_redirects=False, timeout=30, params=dict(
        response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
        scope="openid", code_challenge=pkce_pair()[1], code_challenge_method="S256"))
    url = server.url + urlsplit(response.headers["Location"]).path
    return s, url, _csrf(s.get(url, timeout=30).text)


def _failures(app, event: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event == event, AuditEvent.outcome == "failure"))


def test_concurrent_resumes_of_one_interaction_issue_one_code(app, live_server, user):
    rp = make_client(app, name="Racer", redirect_uris=["https://racer.example.com/cb"], skip_consent=True)
    s, url, token = _to_login_page(live_server, rp)
    done = s.post(url + "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token},
                  allow_redirects=False, timeout=30)
    resume_url = live_server.url + urlsplit(done.headers["Location"]).path
    cookies = s.cookies.get_dict()

    responses = race(lambda: requests.get(resume_url, cookies=cookies, allow_redirects=False, timeout=30), 16)
    codes = [r for r in responses if r.status_code == 302 and "code" in parse_qs(urlsplit(r.headers["Location"]).query)]
    assert len(codes) == 1, [(r.status_code, r.headers.get("Location")) for r in responses]
    assert all(r.status_code == 400 for r in responses if r not in codes)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuthorizationCode)) == 1


def test_a_burst_of_wrong_passwords_gets_at_most_the_limit_checked(app, live_server, user, rp, settings):
    s, url, token = _to_login_page(live_server, rp)
    cookies = s.cookies.get_dict()
    data = {"username": "alice", "password": "wrong guess", "csrf_token": token}
    responses = race(lambda: requests.post(url + "/login", data=data, cookies=cookies, allow_redirects=False,
                                           timeout=60), BURST)
    statuses = [r.status_code for r in responses]
    limit = settings.login_max_failures_per_account
    assert statuses.count(401) == limit and statuses.count(429) == BURST - limit, statuses
    assert _failures(app, "login.password") == limit  # verified (and failed) exactly `limit` times


def test_a_burst_of_wrong_second_factor_codes_gets_at_most_the_limit_checked(app, live_server, user, rp,
                                                                             settings):
    secret = enrol_totp(app, user)
    s, url, token = _to_login_page(live_server, rp)
    s.post(url + "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token},
           allow_redirects=True, timeout=30)
    token = _csrf(s.get(url, timeout=30).text)  # the MFA page (a new CSRF session after sign-in)
    cookies = s.cookies.get_dict()
    wrong = "000000" if totp_now(secret) != "000000" else "111111"
    responses = race(lambda: requests.post(url + "/mfa/totp", data={"code": wrong, "csrf_token": token},
                                           cookies=cookies, allow_redirects=False, timeout=60), BURST)
    statuses = [r.status_code for r in responses]
    limit = settings.mfa_max_failures_per_account
    assert statuses.count(401) == limit and statuses.count(429) == BURST - limit, statuses
    assert _failures(app, "mfa.totp.verify") == limit
