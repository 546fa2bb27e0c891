"""Benchmark of the production server, started the README's way (`idp serve`), driven by wrk.

For SQLite and/or PostgreSQL (a private server from scripts/pg.sh), at 16 and 64 connections: req/s,
p50, p99, errors and RSS per worker for discovery, JWKS, token (client_credentials with a JWT and with
an opaque access token), code exchange, refresh, introspection, UserInfo, and full password sign-ins
(a Python driver: the flow needs cookies and a CSRF token) at the default argon2id parameters. In the
same run: the machine's RS256 signing ceiling with the same library (cryptography, all cores) and the
hello-world ceiling of the same server (granian, same workers and threads), so every figure is also a
ratio. Prints a table and writes JSON. Asserts nothing: targets live in docs/performance.md.

    .venv/bin/python scripts/bench.py [--databases sqlite postgresql] [--seconds 5] [--json out.json]
                                      [--seed-tokens 1000000]

Needs wrk (Debian: apt-get install wrk)."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
IDP = str(Path(sys.executable).with_name("idp"))
LUA = ROOT / "scripts" / "bench.lua"
REDIRECT = "https://bench.example.com/cb"
CONNECTIONS = (16, 64)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- ceilings ------------------------------------------------------------------------------------------

def _sign_for(seconds: float, queue) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data, count, end = b"x" * 300, 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        count += 1
    queue.put(count)


def signing_ceiling(seconds: float) -> float:
    """RS256 (2048-bit) signatures per second with every core busy."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_sign_for, args=(seconds, queue)) for _ in range(os.cpu_count() or 1)]
    for p in procs:
        p.start()
    total = sum(queue.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


HELLO = '''
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]
'''


def hello_ceiling(seconds: float, workers: int, threads: int, connections: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="idp-bench-hello-"))
    (folder / "hello.py").write_text(HELLO)
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("granian")), "--interface", "wsgi", "--workers",
                               str(workers), "--blocking-threads", str(threads), "--port", str(port),
                               "--no-log", "--working-dir", str(folder), "hello:app"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(f"http://127.0.0.1:{port}/")
        return wrk(f"http://127.0.0.1:{port}", seconds, connections, {"BENCH_PATH": "/"})
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
        shutil.rmtree(folder, ignore_errors=True)


# --- wrk -----------------------------------------------------------------------------------------------

def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(base: str, seconds: float, connections: int, env: dict) -> dict:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
                          "-s", str(LUA), base], env={**os.environ, **env}, capture_output=True, text=True,
                         check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return {"rps": round(rps, 1), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2), "errors": errors}


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


# --- the server under test -------------------------------------------------------------------------------

class Served:
    """`idp serve` the README's way, plus an in-process app over the same database for seeding."""

    def __init__(self, database_url: str, workers: int, threads: int):
        self.folder = Path(tempfile.mkdtemp(prefix="idp-bench-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
        self.env.update(IDP_ISSUER=self.url, IDP_INSTANCE_PATH=str(self.folder / "instance"),
                        IDP_AUTHORIZATION_CODE_TTL="600",  # log level: the default INFO, access log on
                        IDP_LOGIN_MAX_FAILURES_PER_IP="1000000")
        if database_url:
            self.env["IDP_DATABASE_URL"] = database_url
        self.process = subprocess.Popen([IDP, "serve", "--workers", str(workers), "--threads", str(threads)],
                                        env=self.env, cwd=self.folder, stdout=subprocess.DEVNULL,
                                        stderr=open(self.folder / "serve.log", "wb"))
        _wait(self.url + "/healthz")
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("IDP_")})
        os.environ["IDP_LOG_LEVEL"] = "WARNING"  # the in-process app that seeds data: no audit lines
        sys.path.insert(0, str(ROOT))
        from idp import create_app

        self.app = create_app()

    def rss_mb(self) -> list[float]:
        """Resident memory of each worker process (children of `idp serve`)."""
        out = []
        for pid in subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                                  text=True).stdout.split():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            cmdline = Path(f"/proc/{pid}/cmdline").read_text()
            if "python" in cmdline and "resource_tracker" not in cmdline:
                out.append(round(kb / 1024, 1))
        return out

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)
        from idp.extensions import db

        with self.app.app_context():
            db.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)


def seed(served: Served, pools: int, seed_tokens: int) -> dict:
    from idp.extensions import db
    from idp.services import clients, codes, sessions, tokens, users
    from idp.services.runtime import current
    from idp.types import AuthorizationRequest
    from tests.conftest import basic_auth, pkce_pair

    with served.app.app_context():
        rt = current()
        user = users.create(rt.passwords, username="bench", password="benchmark password", email="b@example.com")
        rp = clients.create(name="Bench", redirect_uris=[REDIRECT], skip_consent=True,
                            scopes=["openid", "profile", "email", "offline_access"],
                            grant_types=["authorization_code", "refresh_token"])
        jwt_service = clients.create(name="JWT service", redirect_uris=[], grant_types=["client_credentials"],
                                     scopes=["api:read"])
        opaque_service = clients.create(name="Opaque service", redirect_uris=[], scopes=["api:read"],
                                        grant_types=["client_credentials"], access_token_format="opaque")
        _, session = sessions.start(rt.settings, user_id=user.id, amr=["pwd"], acr="urn:idp:acr:pwd",
                                    user_agent=None, ip_address=None)
        verifier, challenge = pkce_pair()
        request = AuthorizationRequest(client_id=rp.client.client_id, redirect_uri=REDIRECT, response_mode="query",
                                       scopes=("openid", "profile", "email"), code_challenge=challenge,
                                       code_challenge_method="S256")
        code_pool = [codes.issue(rt.settings, request=request, client_pk=rp.client.id, session=session)
                     for _ in range(pools)]
        db.session.commit()
        refresh_pool = []
        for i in range(pools):
            response = tokens.issue_for_grant(
                rt.settings, rt.keyring, client=rp.client, user=user, scope="openid offline_access",
                auth_time=session.auth_time, acr="urn:idp:acr:pwd", amr=("pwd",), sid=session.sid, nonce=None,
                claims_request=None, code_id=None, include_refresh_token=True)
            refresh_pool.append(response["refresh_token"])
            if i % 500 == 0:
                db.session.commit()
        db.session.commit()
        if seed_tokens:
            _seed_tokens(rp.client.id, user.id, seed_tokens)
    http = requests.Session()
    first = http.post(served.url + "/token", headers=basic_auth(rp.client.client_id, rp.client_secret), data={
        "grant_type": "authorization_code", "code": code_pool.pop(), "redirect_uri": REDIRECT,
        "code_verifier": verifier}).json()
    return {"rp": rp, "verifier": verifier, "codes": code_pool, "refresh": refresh_pool,
            "user_token": first["access_token"], "jwt_service": jwt_service, "opaque_service": opaque_service,
            "basic": lambda c: basic_auth(c.client.client_id, c.client_secret)["Authorization"]}


def _seed_tokens(client_pk: int, user_id: int, count: int) -> None:
    """`count` live access-token rows, to show the hot path stays flat with size."""
    from sqlalchemy import text

    from idp.extensions import db
    from idp.services import clock

    now = clock.now()
    done = 0
    while done < count:
        batch = min(50_000, count - done)
        rows = [{"jti": f"seed-{done + i}", "client_pk": client_pk, "user_id": user_id, "family": f"f{done + i}",
                 "now": now, "exp": now + 86400} for i in range(batch)]
        db.session.execute(text(
            "INSERT INTO tokens (kind, jti, client_pk, user_id, family_id, scope, amr, issued_at, expires_at) "
            "VALUES ('access', :jti, :client_pk, :user_id, :family, 'openid', '[]', :now, :exp)"), rows)
        db.session.commit()
        done += batch
        print(f"  seeded {done} tokens", file=sys.stderr)


def sign_in_rate(served: Served, seeds: dict, seconds: float, concurrency: int) -> dict:
    """Full password sign-ins (authorize → login page → POST password → code) per second."""
    from tests.conftest import csrf_from, pkce_pair

    rp = seeds["rp"]
    done, errors, latencies, lock = [0], [0], [], threading.Lock()
    end = time.monotonic() + seconds

    def one() -> None:
        http = requests.Session()
        _, challenge = pkce_pair()
        started = time.perf_counter()
        r = http.get(served.url + "/authorize", allow_redirects=False, params=dict(
            response_type="code", client_id=rp.client.client_id, redirect_uri=REDIRECT, scope="openid",
            state="s", code_challenge=challenge, code_challenge_method="S256", prompt="login"))
        page = http.get(served.url + r.headers["Location"].removeprefix(served.url))
        r = http.post(page.url + "/login", allow_redirects=False, data={
            "username": "bench", "password": "benchmark password", "csrf_token": csrf_from(page.text)})
        r = http.get(served.url + r.headers["Location"].removeprefix(served.url), allow_redirects=False)
        ok = r.status_code == 302 and r.headers["Location"].startswith(REDIRECT + "?code=")
        with lock:
            (done if ok else errors)[0] += 1
            latencies.append((time.perf_counter() - started) * 1000)

    def loop() -> None:
        while time.monotonic() < end:
            try:
                one()
            except Exception:
                with lock:
                    errors[0] += 1

    workers = [threading.Thread(target=loop) for _ in range(concurrency)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    latencies.sort()
    pick = (lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)) if latencies else (
        lambda q: None)
    return {"rps": round(done[0] / seconds, 1), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "errors": errors[0]}


def scenarios(served: Served, seeds: dict, pool_dir: Path, connections: int) -> dict[str, dict]:
    rp = seeds["rp"]
    n = len(seeds["codes"]) // len(CONNECTIONS)
    index = CONNECTIONS.index(connections)
    codes_file = pool_dir / f"codes-{connections}"
    codes_file.write_text("\n".join(seeds["codes"][index * n:(index + 1) * n]))
    refresh_file = pool_dir / f"refresh-{connections}"
    refresh_file.write_text("\n".join(seeds["refresh"][index * n:(index + 1) * n]))
    rp_auth = seeds["basic"](rp)
    return {
        "discovery": {"BENCH_PATH": "/.well-known/openid-configuration"},
        "jwks": {"BENCH_PATH": "/jwks.json"},
        "token client_credentials (JWT)": {"BENCH_METHOD": "POST", "BENCH_PATH": "/token",
                                           "BENCH_BODY": "grant_type=client_credentials",
                                           "BENCH_AUTH": seeds["basic"](seeds["jwt_service"])},
        "token client_credentials (opaque)": {"BENCH_METHOD": "POST", "BENCH_PATH": "/token",
                                              "BENCH_BODY": "grant_type=client_credentials",
                                              "BENCH_AUTH": seeds["basic"](seeds["opaque_service"])},
        "token code exchange": {"BENCH_METHOD": "POST", "BENCH_PATH": "/token", "BENCH_AUTH": rp_auth,
                                "BENCH_POOL": str(codes_file),
                                "BENCH_BODY": f"grant_type=authorization_code&code=ITEM&redirect_uri={REDIRECT}"
                                              f"&code_verifier={seeds['verifier']}"},
        "token refresh": {"BENCH_METHOD": "POST", "BENCH_PATH": "/token", "BENCH_AUTH": rp_auth,
                          "BENCH_POOL": str(refresh_file), "BENCH_BODY": "grant_type=refresh_token&refresh_token=ITEM"},
        "introspection": {"BENCH_METHOD": "POST", "BENCH_PATH": "/introspect", "BENCH_AUTH": rp_auth,
                          "BENCH_BODY": f"token={seeds['user_token']}"},
        "userinfo": {"BENCH_PATH": "/userinfo", "BENCH_AUTH": f"Bearer {seeds['user_token']}"},
    }


def bench_database(label: str, url: str, args, results: list) -> None:
    served = Served(url, args.workers, args.threads)
    try:
        pool = int(args.seconds * 1500) * len(CONNECTIONS)
        single_use = ("token code exchange", "token refresh")
        if args.only and not any(word in name for word in args.only for name in single_use):
            pool = 10 * len(CONNECTIONS)
        print(f"[{label}] seeding {pool} codes and refresh tokens ...", file=sys.stderr)
        seeds = seed(served, pool, args.seed_tokens)
        pool_dir = served.folder / "pools"
        pool_dir.mkdir()
        for connections in CONNECTIONS:
            for name, env in scenarios(served, seeds, pool_dir, connections).items():
                if args.only and not any(word in name for word in args.only):
                    continue
                row = {"database": label, "endpoint": name, "connections": connections,
                       **wrk(served.url, args.seconds, connections, env), "rss_mb": served.rss_mb()}
                results.append(row)
                print(_line(row), file=sys.stderr)
        if not args.only or any(word in "password sign-in" for word in args.only):
            row = {"database": label, "endpoint": "password sign-in (argon2id defaults)", "connections": 16,
                   **sign_in_rate(served, seeds, args.seconds, 16), "rss_mb": served.rss_mb()}
            results.append(row)
            print(_line(row), file=sys.stderr)
    finally:
        served.stop()


def _line(row: dict) -> str:
    ratio = f"{row['ratio']:.2f}" if row.get("ratio") is not None else ""
    return (f"{row['database']:10} {row['endpoint']:36} {row['connections']:>4} {row['rps']:>9} "
            f"{row['p50_ms']!s:>8} {row['p99_ms']!s:>8} {row['errors']:>6} {ratio:>6} {row['rss_mb']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seed-tokens", type=int, default=0, help="live tokens to insert before measuring")
    parser.add_argument("--only", nargs="+", default=None, metavar="WORD",
                        help="run only the endpoints whose name contains one of these words (e.g. token introspection)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")

    print("measuring the RS256 signing ceiling and the hello-world ceiling ...", file=sys.stderr)
    ceiling = {"rs256_signatures_per_s": round(signing_ceiling(args.seconds), 1),
               "hello_world": hello_ceiling(args.seconds, args.workers, args.threads, 64)}
    results: list = []
    for database in args.databases:
        if database == "sqlite":
            bench_database("sqlite", "", args, results)
        else:
            state = Path(tempfile.mkdtemp(prefix="idp-bench-pg-"))
            env = {**os.environ, "IDP_CI_PG_DIR": str(state / "pg")}
            subprocess.run(["bash", str(ROOT / "scripts/pg.sh"), "start"], env=env, check=True)
            try:
                url = subprocess.run(["bash", str(ROOT / "scripts/pg.sh"), "url"], env=env, check=True,
                                     capture_output=True, text=True).stdout.strip()
                bench_database("postgresql", url, args, results)
            finally:
                subprocess.run(["bash", str(ROOT / "scripts/pg.sh"), "stop"], env=env)
    signatures = {"token client_credentials (JWT)": 1, "token client_credentials (opaque)": 0,
                  "token code exchange": 2, "token refresh": 2}
    for row in results:
        if row["endpoint"] in signatures and signatures[row["endpoint"]]:
            # share of the signing ceiling used (each response signs `n` JWTs)
            row["ratio"] = round(row["rps"] * signatures[row["endpoint"]] / ceiling["rs256_signatures_per_s"], 3)
        else:
            row["ratio"] = round(row["rps"] / ceiling["hello_world"]["rps"], 3)
    machine = {"cpus": os.cpu_count(), "cpu": _cpu_model(), "python": platform.python_version(),
               "kernel": platform.release(), "workers": args.workers, "threads": args.threads,
               "seconds": args.seconds, "seed_tokens": args.seed_tokens}
    print(f"\nmachine: {machine}")
    print(f"RS256 signing ceiling: {ceiling['rs256_signatures_per_s']} signatures/s; hello-world ceiling: "
          f"{ceiling['hello_world']['rps']} req/s (p99 {ceiling['hello_world']['p99_ms']} ms)")
    print("ratio = share of the signing ceiling for signing endpoints (signatures per response counted), "
          "else of the hello-world ceiling\n")
    print(f"{'database':10} {'endpoint':36} {'conn':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
          f"{'ratio':>6} rss MB/worker")
    for row in results:
        print(_line(row))
    document = {"machine": machine, "ceiling": ceiling, "results": results}
    if args.json:
        args.json.write_text(json.dumps(document, indent=2))
    print("\n" + json.dumps(document))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()
