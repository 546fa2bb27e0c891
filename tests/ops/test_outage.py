"""A real PostgreSQL outage under `idp serve`: a second, private PostgreSQL server (scripts/pg.sh with
its own state folder) is stopped mid-run and started again. Meanwhile the provider answers 503 with a
JSON body, /readyz fails and /healthz stays up; afterwards it serves again without a restart.
Runs in the PostgreSQL stage of the suite (where PostgreSQL is installed)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import basic_auth
from tests.served import IDP, ServedIdp

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not os.environ.get("IDP_TEST_DATABASE_URL", "").startswith("postgresql"),
                                reason="needs PostgreSQL (the PostgreSQL stage of scripts/test.sh)")


def pg(state: Path, command: str) -> str:
    env = dict(os.environ, IDP_CI_PG_DIR=str(state))
    done = subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), command], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture()
def private_postgresql(tmp_path):
    state = tmp_path / "pg"
    pg(state, "start")
    try:
        yield pg(state, "url"), lambda command: pg(state, command)
    finally:
        pg(state, "stop")


def test_database_outage_gives_503_and_service_resumes_without_restart(tmp_path, private_postgresql):
    url, control = private_postgresql
    instance = tmp_path / "instance"
    with ServedIdp(tmp_path, url, instance) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
        env.update(IDP_DATABASE_URL=url, IDP_INSTANCE_PATH=str(instance), IDP_ISSUER=server.url)
        created = subprocess.run([IDP, "clients", "create", "--name", "Service", "--grant-type",
                                  "client_credentials", "--scope", "api:read", "--json"],
                                 env=env, capture_output=True, text=True, timeout=60)
        assert created.returncode == 0, created.stderr
        service = json.loads(created.stdout)
        auth = basic_auth(service["client_id"], service["client_secret"])

        def token() -> requests.Response:
            return requests.post(server.url + "/token", headers=auth, timeout=15,
                                 data={"grant_type": "client_credentials"})

        assert token().status_code == 200
        control("pause")
        during = token()
        assert during.status_code == 503, during.text
        assert during.headers["Content-Type"].startswith("application/json")
        assert during.json()["error"] == "temporarily_unavailable"
        assert requests.get(server.url + "/readyz", timeout=15).status_code == 503
        assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
        control("resume")
        deadline = time.monotonic() + 20
        while (after := token()).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert after.status_code == 200, after.text
        assert requests.get(server.url + "/readyz", timeout=15).status_code == 200
        assert server.process.poll() is None  # the same process, never restarted
