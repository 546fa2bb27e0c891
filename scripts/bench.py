"""Hot-path benchmark: requests per second and latency percentiles for discovery, JWKS, UserInfo and
the token endpoint (code exchange), against a live waitress server on loopback with SQLite.
Prints figures; asserts nothing. Run: .venv/bin/python scripts/bench.py [--seconds 3]"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(name: str, seconds: float, call) -> None:
    latencies = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(f"{name:28} {len(latencies) / seconds:8.0f} req/s   p50 {statistics.median(latencies):6.2f} ms"
          f"   p95 {p(0.95):6.2f} ms   p99 {p(0.99):6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    import pytest  # noqa: F401  (the fixtures below come from the test helpers)

    from tests.conftest import LiveServer, basic_auth, pkce_pair

    class Factory:
        def __init__(self):
            self.base = Path(tempfile.mkdtemp())

        def mktemp(self, name):
            path = self.base / name
            path.mkdir(exist_ok=True)
            return path

    factory = Factory()
    url = f"sqlite:///{factory.base / 'bench.sqlite3'}"
    with LiveServer(factory, url) as server:
        app = server.app
        with app.app_context():
            from idp.cli.serve import prepare
            from idp.services import clients, codes, sessions, users
            from idp.services.runtime import current
            from idp.types import AuthorizationRequest

            prepare()
            rt = current()
            user = users.create(rt.passwords, username="bench", password="benchmark password", email="b@example.com")
            rp = clients.create(name="Bench", redirect_uris=["https://bench.example.com/cb"])
            _, session = sessions.start(rt.settings, user_id=user.id, amr=["pwd"], acr="urn:idp:acr:pwd",
                                        user_agent=None, ip_address=None)
            verifier, challenge = pkce_pair()
            request = AuthorizationRequest(client_id=rp.client.client_id, redirect_uri="https://bench.example.com/cb",
                                           response_mode="query", scopes=("openid", "profile", "email"),
                                           code_challenge=challenge, code_challenge_method="S256")

            def new_code() -> str:
                return codes.issue(rt.settings, request=request, client_pk=rp.client.id, session=session)

            pool = [new_code() for _ in range(int(args.seconds * 400))]
        http = requests.Session()
        auth = basic_auth(rp.client.client_id, rp.client_secret)
        token = http.post(f"{server.url}/token", headers=auth, data={
            "grant_type": "authorization_code", "code": pool.pop(), "redirect_uri": "https://bench.example.com/cb",
            "code_verifier": verifier}).json()["access_token"]
        print(f"live server {server.url}, SQLite, {args.seconds:.0f} s per endpoint, one client connection")
        measure("discovery", args.seconds, lambda: http.get(f"{server.url}/.well-known/openid-configuration"))
        measure("jwks", args.seconds, lambda: http.get(f"{server.url}/jwks.json"))
        measure("userinfo", args.seconds,
                lambda: http.get(f"{server.url}/userinfo", headers={"Authorization": f"Bearer {token}"}))

        def exchange():
            response = http.post(f"{server.url}/token", headers=auth, data={
                "grant_type": "authorization_code", "code": pool.pop(),
                "redirect_uri": "https://bench.example.com/cb", "code_verifier": verifier})
            assert response.status_code == 200, response.text

        measure("token (code exchange)", args.seconds, exchange)


if __name__ == "__main__":
    main()
