"""Several `idp serve` nodes on one database behave as one provider (run on SQLite and, in the
PostgreSQL stage, on PostgreSQL): a person signs in on node A, refreshes on B, signs out on B and is
signed out on A; keys rotated on A are served by B within the key-ring refresh interval; and a
resource server that caches the JWKS verifies every token issued while keys rotate under load."""

from __future__ import annotations

import base64
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from idp.services import keys as key_service
from idp.services.runtime import current
from tests.conftest import PASSWORD, basic_auth, csrf_from, make_client, pkce_pair
from tests.served import free_port

pytestmark = pytest.mark.e2e
REDIRECT = "https://app.example.com/callback"
REFRESH = 1  # key_ring_refresh_seconds of the nodes


@pytest.fixture()
def two_nodes(serve_idp):
    """Two nodes behind one (imaginary) load balancer: both advertise one issuer."""
    issuer = f"http://127.0.0.1:{free_port()}"
    common = dict(issuer=issuer, proxy_fix_hops=1, key_ring_refresh_seconds=REFRESH)
    return serve_idp(**common), serve_idp(**common)


def _sign_in(node, rp, browser: requests.Session) -> dict:
    verifier, challenge = pkce_pair()
    response = browser.get(node.url + "/authorize", allow_redirects=False, params=dict(
        response_type="code", client_id=rp.client.client_id, redirect_uri=REDIRECT, state="s", nonce="n",
        scope="openid offline_access", prompt="consent", code_challenge=challenge, code_challenge_method="S256"))
    while True:
        location = response.headers["Location"]
        if location.startswith(REDIRECT):
            break
        page = browser.get(node.url + urlsplit(location).path)
        if 'name="password"' in page.text:
            response = browser.post(page.url + "/login", allow_redirects=False, data={
                "username": "alice", "password": PASSWORD, "csrf_token": csrf_from(page.text)})
        else:
            response = browser.post(page.url + "/consent", allow_redirects=False, data={
                "decision": "allow", "csrf_token": csrf_from(page.text)})
        if response.status_code in (302, 303) and not response.headers["Location"].startswith(REDIRECT):
            response = browser.get(node.url + urlsplit(response.headers["Location"]).path, allow_redirects=False)
    code = parse_qs(urlsplit(location).query)["code"][0]
    tokens = requests.post(node.url + "/token", headers=basic_auth(rp.client.client_id, rp.client_secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    return tokens.json()


def test_two_nodes_on_one_database_are_one_provider(app, user, two_nodes):
    a, b = two_nodes
    rp = make_client(app, name="App", redirect_uris=[REDIRECT], scopes=["openid", "offline_access"],
                     grant_types=["authorization_code", "refresh_token"])
    auth = basic_auth(rp.client.client_id, rp.client_secret)
    browser = requests.Session()  # cookies are per host, so the browser's session reaches both nodes

    tokens = _sign_in(a, rp, browser)  # sign in on A
    refreshed = requests.post(b.url + "/token", headers=auth, data={  # refresh on B
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    assert requests.get(a.url + "/userinfo", headers={
        "Authorization": "Bearer " + refreshed.json()["access_token"]}).status_code == 200

    # Sign out on B (RP-initiated, with this session's ID token): the session is gone on A too.
    done = browser.get(b.url + "/logout", allow_redirects=False, params={"id_token_hint": tokens["id_token"]})
    assert done.status_code in (200, 302, 303), done.text
    again = browser.get(a.url + "/authorize", allow_redirects=False, params=dict(
        response_type="code", client_id=rp.client.client_id, redirect_uri=REDIRECT, state="s", scope="openid",
        prompt="none", code_challenge=pkce_pair()[1], code_challenge_method="S256"))
    assert parse_qs(urlsplit(again.headers["Location"]).query)["error"] == ["login_required"]

    # Rotate on A (`idp keys rotate` there): B publishes the new next key within the refresh interval.
    with app.app_context():
        key_service.rotate(current().settings)
        current().keyring.reload()
        published = {k["kid"] for k in json_keys(current().keyring.jwks_json())}
    deadline = time.monotonic() + REFRESH + 10
    while {k["kid"] for k in requests.get(b.url + "/jwks.json").json()["keys"]} != published:
        assert time.monotonic() < deadline, "node B never published the rotated keys"
        time.sleep(0.5)


def json_keys(raw: bytes) -> list[dict]:
    return json.loads(raw)["keys"]


class CachingResourceServer:
    """Verifies access tokens offline with a cached JWKS, re-fetched only for an unknown kid (README)."""

    def __init__(self, jwks_uri: str):
        self.jwks_uri, self.fetches = jwks_uri, 0
        self.keys = self._fetch()

    def _fetch(self) -> KeySet:
        self.fetches += 1
        return KeySet.import_key_set(requests.get(self.jwks_uri, timeout=10).json())

    def verify(self, token: str) -> dict:
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        if not any(k.kid == header["kid"] for k in self.keys.keys):
            self.keys = self._fetch()
        return jwt.decode(token, self.keys, algorithms=["RS256"]).claims


def test_every_token_issued_while_keys_rotate_under_load_verifies(app, two_nodes):
    a, b = two_nodes
    service = make_client(app, name="Service", grant_types=["client_credentials"], scopes=["api:read"],
                          redirect_uris=[])
    auth = basic_auth(service.client.client_id, service.client_secret)
    resource_server = CachingResourceServer(a.url + "/jwks.json")
    issued: list[str] = []
    errors: list[str] = []
    stop = threading.Event()

    def load(node) -> None:
        http = requests.Session()
        while not stop.is_set():
            response = http.post(node.url + "/token", headers=auth, data={"grant_type": "client_credentials"})
            if response.status_code == 200:
                issued.append(response.json()["access_token"])
            else:
                errors.append(response.text)

    workers = [threading.Thread(target=load, args=(node,)) for node in (a, b, a, b)]
    for worker in workers:
        worker.start()
    try:
        with app.app_context():
            for _ in range(2):  # two rotations while tokens are being issued
                time.sleep(REFRESH + 0.5)
                key_service.rotate(current().settings)
            time.sleep(REFRESH + 0.5)
    finally:
        stop.set()
        for worker in workers:
            worker.join(30)
    assert errors == []
    kids, failures = set(), 0
    for token in issued:
        try:
            resource_server.verify(token)
        except JoseError:
            failures += 1
        kids.add(json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"])
    assert failures == 0 and len(issued) > 50
    assert len(kids) >= 2, "the rotations never reached the nodes"
