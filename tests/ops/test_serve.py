"""`idp serve`, the production server, over real sockets: it keeps answering while 1,000 idle or slow
connections are open, finishes requests in flight on SIGTERM and exits, and sees the real client
address behind a trusted proxy (and only then)."""

from __future__ import annotations

import socket
import threading
import time

import requests
from sqlalchemy import select

from idp.extensions import db
from idp.storage.audit import AuditEvent
from tests.conftest import csrf_from, make_client, pkce_pair


def _client(app):
    return make_client(app, name="Proxy App", redirect_uris=["https://app.example.com/callback"])


def _login_form(server, rp, http: requests.Session, headers: dict | None = None) -> tuple[str, str]:
    """Start a sign-in and return the login form's action URL and CSRF token."""
    _, challenge = pkce_pair()
    response = http.get(server.url + "/authorize", allow_redirects=False, headers=headers, params=dict(
        response_type="code", client_id=rp.client.client_id, redirect_uri="https://app.example.com/callback",
        scope="openid", state="s", code_challenge=challenge, code_challenge_method="S256"))
    assert response.status_code == 302, response.text
    page = http.get(server.url + response.headers["Location"].removeprefix(server.url), headers=headers)
    assert page.status_code == 200
    return page.url + "/login", csrf_from(page.text)


def _failed_sign_in_ip(app, server, rp, headers: dict) -> str | None:
    http = requests.Session()
    action, csrf = _login_form(server, rp, http, headers)
    response = http.post(action, headers=headers, data={"username": "nobody", "password": "wrong", "csrf_token": csrf})
    assert response.status_code in (200, 401), response.text
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "login.password")
                                   .order_by(AuditEvent.id.desc())).first()
        return event.ip_address


def test_keeps_answering_other_clients_while_1000_idle_or_slow_connections_are_open(app, serve_idp):
    server = serve_idp()
    held = []
    try:
        for i in range(1000):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            if i % 2:  # a slow client: half a request line, never finished
                sock.sendall(b"GET /jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            held.append(sock)
        started = time.monotonic()
        for _ in range(5):
            assert requests.get(server.url + "/jwks.json", timeout=5).status_code == 200
        assert time.monotonic() - started < 5
    finally:
        for sock in held:
            sock.close()


def test_sigterm_lets_requests_in_flight_finish_then_exits(app, serve_idp):
    # Hashing with expensive argon2 parameters makes one sign-in take about a second (a few on a busy
    # machine); workers get 8 s to finish it, so the whole stop stays within 10 s.
    server = serve_idp(serve_args=("--shutdown-timeout", "8"), password_time_cost=20, password_memory_cost=65536,
                       password_parallelism=1)
    rp = _client(app)
    http = requests.Session()
    action, csrf = _login_form(server, rp, http)
    outcome = {}

    def sign_in():
        started = time.monotonic()
        response = http.post(action, data={"username": "nobody", "password": "wrong", "csrf_token": csrf}, timeout=30)
        outcome.update(status=response.status_code, text=response.text, started=started, ended=time.monotonic())

    thread = threading.Thread(target=sign_in)
    thread.start()
    time.sleep(0.15)  # the request is now being hashed in a worker
    stopped_at = time.monotonic()
    assert server.stop(timeout=20) == 0, server.output()
    exit_seconds = time.monotonic() - stopped_at
    thread.join(20)
    assert outcome.get("status") in (200, 401), (outcome, server.output())
    assert "The username or password is incorrect" in outcome["text"]  # the complete answer
    assert outcome["started"] < stopped_at < outcome["ended"], outcome  # it was in flight when SIGTERM came
    assert exit_seconds < 10
    try:
        requests.get(server.url + "/healthz", timeout=2)
        raise AssertionError("still accepting connections after SIGTERM")
    except requests.ConnectionError:
        pass


def test_behind_one_trusted_proxy_the_audit_trail_has_the_real_client_address(app, serve_idp):
    server = serve_idp(proxy_fix_hops=1)
    rp = _client(app)
    # The proxy appends the address it received the request from.
    assert _failed_sign_in_ip(app, server, rp, {"X-Forwarded-For": "203.0.113.7"}) == "203.0.113.7"


def test_without_a_trusted_proxy_a_spoofed_forwarded_for_is_ignored(app, serve_idp):
    server = serve_idp()
    rp = _client(app)
    assert _failed_sign_in_ip(app, server, rp, {"X-Forwarded-For": "203.0.113.7"}) == "127.0.0.1"
