"""User story: on a fresh machine `idp serve` starts a provider on SQLite in the instance folder,
generating its keys; an operator creates a user and registers an app with the CLI; the app signs
the person in. Runs the installed console script as a separate process."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import PASSWORD
from tests.e2e.rp_app import RelyingParty, follow, submit

pytestmark = pytest.mark.e2e


def _idp_command() -> list[str]:
    script = Path(sys.executable).with_name("idp")
    return [str(script)] if script.exists() else [shutil.which("idp") or "idp"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def fresh_server(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env.update(IDP_INSTANCE_PATH=str(tmp_path / "instance"), IDP_ISSUER=f"http://127.0.0.1:{port}",
               IDP_PASSWORD_TIME_COST="1", IDP_PASSWORD_MEMORY_COST="8", IDP_PASSWORD_PARALLELISM="1")
    process = subprocess.Popen([*_idp_command(), "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).ok:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output, _ = process.communicate()
            pytest.fail(f"idp serve did not start:\n{output}")
        time.sleep(0.2)
    yield issuer, env, tmp_path / "instance"
    process.terminate()
    process.communicate(timeout=10)


def test_fresh_install_serves_and_signs_in(fresh_server):
    issuer, env, instance = fresh_server
    assert (instance / "idp.sqlite3").exists()
    assert (instance / "key_encryption_key").exists()
    jwks = requests.get(f"{issuer}/jwks.json", timeout=5).json()
    # For each signing algorithm (RS256, PS256, ES256): the signing key and the pre-published next key.
    assert sorted(k["alg"] for k in jwks["keys"]) == ["ES256", "ES256", "PS256", "PS256", "RS256", "RS256"]

    run = dict(env=env, capture_output=True, text=True, timeout=60, check=True)
    subprocess.run([*_idp_command(), "users", "create", "--username", "carol", "--email", "carol@example.com",
                    "--password", PASSWORD], **run)
    rp = RelyingParty("first_run_rp")
    created = json.loads(subprocess.run([*_idp_command(), "clients", "create", "--name", "First App",
                                         "--redirect-uri", f"{rp.url}/callback", "--json"], **run).stdout)
    rp.start(issuer, created["client_id"], created["client_secret"])
    try:
        browser = requests.Session()
        page = follow(browser, browser.get(f"{rp.url}/login", allow_redirects=False))
        page = submit(browser, page, "/login", {"username": "carol@example.com", "password": PASSWORD})
        result = submit(browser, page, "/consent", {"decision": "allow"})
        assert result.status_code == 200, result.text
        assert result.json()["userinfo"]["email"] == "carol@example.com"
    finally:
        rp.stop()
