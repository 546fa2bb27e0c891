"""Shared fixtures: one migrated database per test session (SQLite by default, PostgreSQL when
IDP_TEST_DATABASE_URL is set), emptied between tests; an app, a test client, a live server on a
random loopback port, and helpers to create users and clients and to walk the login flow."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from idp import create_app
from idp.extensions import db
from idp.services import clients as client_service
from idp.services import clock
from idp.services import users as user_service
from idp.services.runtime import current

PASSWORD = "correct horse battery"
# Tables emptied between tests. Signing keys survive (generating RSA keys is slow) unless a test
# rotates them, which it does on purpose and checks.
DATA_TABLES = ("mail_outbox", "audit_events", "throttle_counters", "leases", "user_roles", "user_groups", "roles",
               "groups", "password_links",
               "initial_access_tokens", "backchannel_deliveries", "logout_requests", "tokens", "authorization_codes",
               "device_codes", "consents", "interactions", "sso_sessions", "webauthn_challenges",
               "webauthn_credentials", "recovery_codes", "totp_credentials", "seen_jtis",
               "pushed_authorization_requests", "clients", "users")


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("IDP_TEST_DATABASE_URL")
    if url:
        return _xdist_worker_database(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'idp.sqlite3'}"


def _xdist_worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database, <name>_<worker>, created if
    missing (the session fixture drops and recreates the schema, so workers must not share one)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgresql"):
        return url
    from sqlalchemy import create_engine, make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


_instance_dirs: dict = {}
_apps: list = []


def make_app(tmp_path_factory, database_url: str, issuer: str = "http://localhost", **overrides):
    # Apps over one database share one instance folder, hence one key-encryption key.
    instance = _instance_dirs.setdefault(database_url, tmp_path_factory.mktemp("instance"))
    settings = dict(
        issuer=issuer, database_url=database_url, instance_path=str(instance),
        password_time_cost=1, password_memory_cost=8, password_parallelism=1,  # cheap argon2 for tests
        log_level="WARNING",
    )
    settings.update(overrides)
    app = create_app(settings)
    _apps.append(app)
    return app


@pytest.fixture(scope="session", autouse=True)
def _dispose_engines():
    """Close pooled database connections at the end of the session: psycopg warns about connections
    garbage-collected while open, and the warnings filter turns that into a failure."""
    yield
    for app in _apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def _session_app(tmp_path_factory, database_url):
    app = make_app(tmp_path_factory, database_url)
    with app.app_context():
        from idp.cli.serve import prepare

        if database_url.startswith("postgresql"):
            # A clean schema for this run.
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        prepare()
    return app


@pytest.fixture()
def app(_session_app):
    """The app, with empty data tables. No app context stays pushed while requests run (a pushed
    context would be shared by every test-client request, `g` included)."""
    with _session_app.app_context():
        _empty(_session_app)
    yield _session_app
    _stop_background(_session_app)
    clock.reset()
    with _session_app.app_context():
        _empty(_session_app)


@pytest.fixture(scope="session")
def _dcr_app(_session_app, tmp_path_factory, database_url):
    return make_app(tmp_path_factory, database_url, dynamic_client_registration=1)


@pytest.fixture()
def dcr(app, _dcr_app):
    """A test client of an app with dynamic registration on, over the same (emptied) database."""
    yield _dcr_app.test_client()
    with _dcr_app.app_context():
        db.session.remove()


def _stop_background(app) -> None:
    """Stop the back-channel logout sender so no thread outlives the test that started it."""
    app.extensions["idp"].backchannel.stop()


@pytest.fixture()
def ctx(app):
    """An app context for tests that call services directly."""
    with app.app_context():
        yield app
        db.session.rollback()


def _empty(app) -> None:
    db.session.rollback()
    with db.engine.begin() as conn:
        for table in DATA_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def settings(app):
    with app.app_context():
        return current().settings


@pytest.fixture()
def user(app):
    with app.app_context():
        return user_service.create(
            current().passwords, username="alice", password=PASSWORD, email="alice@example.com",
            email_verified=True,
            claims={"name": "Alice Liddell", "given_name": "Alice", "family_name": "Liddell",
                    "address": {"locality": "Oxford", "country": "UK"}, "phone_number": "+44 1865 000000"},
        )


@pytest.fixture()
def rp(app):
    """A confidential relying party (client_secret_basic) with the standard scopes."""
    return make_client(app, name="Example App", redirect_uris=["https://app.example.com/callback"],
                       scopes=["openid", "profile", "email", "address", "phone", "offline_access"],
                       grant_types=["authorization_code", "refresh_token"])


@pytest.fixture()
def public_rp(app):
    return make_client(app, name="Native App", redirect_uris=["com.example.app:/callback", "http://127.0.0.1/callback"],
                       token_endpoint_auth_method="none")


def make_client(app, **kwargs):
    with app.app_context():
        return client_service.create(**kwargs)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def without_csrf(html: str) -> str:
    """The page with its CSRF tokens blanked: they carry a timestamp, so two answers a second apart
    differ there by construction and nowhere else."""
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value=""', html)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def race(attempt, racers: int = 8) -> list:
    """Run `attempt()` in `racers` threads released together by a barrier; return what each returned."""
    barrier = threading.Barrier(racers)
    results: list = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        outcome = attempt()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


class Browser:
    """Walks the authorization flow through the Flask test client, as a browser would. Set
    `second_factor` to a function returning a code to answer the MFA page with, and
    `second_factor_method` to "recovery" to answer with a recovery code."""

    def __init__(self, client):
        self.client = client
        self.second_factor = None
        self.second_factor_method = "totp"

    def authorize(self, **params):
        return self.client.get("/authorize", query_string=params)

    def follow_to_interaction(self, response):
        assert response.status_code == 302, response.get_data(as_text=True)
        location = response.headers["Location"]
        assert "/interaction/" in location, location
        return urlsplit(location).path

    def login(self, interaction_path: str, username="alice", password=PASSWORD):
        page = self.client.get(interaction_path)
        return self.client.post(interaction_path + "/login", data={
            "username": username, "password": password, "csrf_token": csrf_from(page.get_data(as_text=True)),
        })

    def consent(self, interaction_path: str, decision="allow"):
        page = self.client.get(interaction_path)
        assert page.status_code == 200
        return self.client.post(interaction_path + "/consent", data={
            "decision": decision, "csrf_token": csrf_from(page.get_data(as_text=True)),
        })

    def resume(self, response):
        assert response.status_code in (302, 303), response.get_data(as_text=True)
        return self.client.get(urlsplit(response.headers["Location"]).path)

    def sign_in(self, rp, consent=True, **params) -> dict[str, str]:
        """Run the whole front channel and return the query of the final redirect to the client."""
        verifier, challenge = pkce_pair()
        query = dict(response_type="code", client_id=rp.client.client_id,
                     redirect_uri=rp.client.redirect_uris[0], scope="openid profile email", state="st4te",
                     nonce="n0nce", code_challenge=challenge, code_challenge_method="S256")
        query.update(params)
        response = self.authorize(**query)
        while response.status_code == 302 and "/interaction/" in response.headers["Location"]:
            path = self.follow_to_interaction(response)
            page = self.client.get(path).get_data(as_text=True)
            if 'name="password"' in page:
                response = self.resume(self.login(path))
            elif 'name="decision"' in page:
                response = self.resume(self.consent(path, "allow" if consent else "deny"))
            elif 'name="choice"' in page:
                response = self.resume(self.client.post(path + "/select", data={
                    "choice": "continue", "csrf_token": csrf_from(page)}))
            elif "/mfa/" in page and self.second_factor is not None:
                page = self.client.get(path, query_string={"method": self.second_factor_method}).get_data(as_text=True)
                action = re.search(rf'action="([^"]*/mfa/{self.second_factor_method})"', page).group(1)
                response = self.resume(self.client.post(action, data={
                    "code": self.second_factor(), "csrf_token": csrf_from(page)}))
            else:  # pragma: no cover - would be a bug in the pages
                raise AssertionError(page)
        assert response.status_code == 302, response.get_data(as_text=True)
        result = query_of(response.headers["Location"])
        result["_verifier"] = verifier
        result["_location"] = response.headers["Location"]
        return result


@pytest.fixture()
def browser(client):
    return Browser(client)


def basic_auth(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def redeem(client, rp, code: str, verifier: str | None, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.client.redirect_uris[0]}
    if verifier:
        data["code_verifier"] = verifier
    data.update(extra)
    headers = basic_auth(rp.client.client_id, rp.client_secret) if rp.client_secret else {}
    if not rp.client_secret:
        data["client_id"] = rp.client.client_id
    return client.post("/token", data=data, headers=headers)


class LiveServer:
    """The app served over real HTTP by waitress on a random loopback port, in a thread; its issuer
    is its own URL."""

    def __init__(self, tmp_path_factory, database_url, host_name: str = "127.0.0.1", **overrides):
        """`host_name` names the server in its issuer: "localhost" gives the secure-context origin
        and RP ID that WebAuthn in a browser needs (it listens on 127.0.0.1 either way)."""
        import socket

        import waitress.server

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://{host_name}:{self.port}"
        self.app = make_app(tmp_path_factory, database_url, issuer=self.url, **overrides)
        self.server = waitress.server.create_server(self.app, sockets=[sock], threads=8,
                                                    clear_untrusted_proxy_headers=True)
        self.thread = ServerThread(self.server)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.thread.stop()


class ServerThread(threading.Thread):
    """Runs a waitress server; `stop()` closes it. Closing the listening socket under the running
    select loop makes that loop fail with EBADF, which is the expected way out, not an error."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            self.server.run()
        except (OSError, ValueError):
            if not self.stopping.is_set():
                raise

    def stop(self) -> None:
        self.stopping.set()
        self.server.close()
        self.join(timeout=5)


@pytest.fixture(scope="session")
def _live_server(_session_app, tmp_path_factory, database_url):
    with LiveServer(tmp_path_factory, database_url) as server:
        yield server


@pytest.fixture()
def live_server(app, _live_server):
    """A live server over the same database as `app` (emptied between tests)."""
    yield _live_server
    _stop_background(_live_server.app)


@pytest.fixture(scope="session")
def _localhost_server(_session_app, tmp_path_factory, database_url):
    with LiveServer(tmp_path_factory, database_url, host_name="localhost") as server:
        yield server


@pytest.fixture()
def localhost_server(app, _localhost_server):
    """A live server whose issuer is http://localhost:<port> (WebAuthn's RP ID `localhost`)."""
    return _localhost_server


def totp_now(secret: str) -> str:
    """The authenticator app's current code, on the server's clock (which tests may move)."""
    import pyotp

    return pyotp.TOTP(secret).at(clock.now())


def enrol_totp(app, user) -> str:
    """Set up an authenticator app for `user` through the service, as the account page does, and move
    the clock to the next time step so that the next code is a fresh one. Returns the secret."""
    from idp.services.mfa import recovery, totp

    with app.app_context():
        secret = totp.begin(current().settings, user).secret
        totp.confirm(current().settings, user.id, totp_now(secret))
        recovery.generate(user.id)
    clock.advance(30)
    return secret


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (installed by scripts/chromium.sh; never downloaded)."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/chromium.sh (scripts/test.sh does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(chromium):
    """A fresh browser profile (no cookies) and a tab in it, phone-sized screens are a separate context."""
    context = chromium.new_context()
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture()
def serve_idp(app, tmp_path, database_url):
    """Starts `idp serve` subprocesses (tests/served.py) over the test database; all are stopped after
    the test."""
    from tests.served import ServedIdp

    started = []

    def start(**settings):
        server = ServedIdp(tmp_path, database_url, _instance_dirs[database_url], **settings)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a random loopback port that keeps what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.refuse: int | None = None  # an SMTP code to answer DATA with instead of accepting
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                if sink.refuse:
                    return f"{sink.refuse} refused by the test"
                import email
                from email import policy

                sink.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
                return "250 OK"

        import socket

        with socket.socket() as probe:  # aiosmtpd 1.4 cannot start on port 0: take a free port
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def settings(self, settings):
        """`settings` pointed at this server (plain SMTP on loopback)."""
        import dataclasses

        return dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=self.port, smtp_security="none")

    def links(self, issuer: str) -> list[str]:
        """Every link to the issuer in the text parts of the messages received, oldest first."""
        out = []
        for msg in self.messages:
            text = msg.get_body(("plain",)).get_content()
            out += [w for w in text.split() if w.startswith(issuer + "/")]
        return out


@pytest.fixture(scope="session")
def _smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture()
def smtp(_smtp_sink):
    """The loopback SMTP server, emptied for this test."""
    _smtp_sink.messages.clear()
    _smtp_sink.refuse = None
    return _smtp_sink


def deliver_mail(app, smtp) -> int:
    """Run the mail sender once, as the background job does, towards the test SMTP server."""
    from idp.services import mail

    with app.app_context():
        try:
            return mail.deliver_due(smtp.settings(current().settings))
        finally:
            db.session.remove()
