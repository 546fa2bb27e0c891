"""The README's example relying party (examples/rp.py) runs as written and signs a person in and out."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import PASSWORD, make_client
from tests.e2e.rp_app import follow, submit
from tests.served import free_port

pytestmark = pytest.mark.e2e
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rp.py"


def test_the_example_relying_party_signs_a_person_in(app, live_server, user, tmp_path):
    port = free_port()
    rp = make_client(app, name="Example app", redirect_uris=[f"http://127.0.0.1:{port}/callback"],
                     post_logout_redirect_uris=[f"http://127.0.0.1:{port}/"])
    env = dict(os.environ, IDP_ISSUER=live_server.url, IDP_CLIENT_ID=rp.client.client_id,
               IDP_CLIENT_SECRET=rp.client_secret, RP_PORT=str(port))
    log = (tmp_path / "rp.log").open("wb")
    process = subprocess.Popen([sys.executable, str(EXAMPLE)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                assert "Not signed in" in requests.get(base + "/", timeout=2).text
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and process.poll() is None, (tmp_path / "rp.log").read_text()
                time.sleep(0.2)
        browser = requests.Session()
        page = follow(browser, browser.get(base + "/login", allow_redirects=False))
        page = submit(browser, page, "/login", {"username": "alice", "password": PASSWORD})
        home = submit(browser, page, "/consent", {"decision": "allow"})
        assert "Signed in as Alice Liddell (alice@example.com)" in home.text
        signed_out = follow(browser, browser.post(base + "/logout", allow_redirects=False))
        assert "Not signed in" in signed_out.text
    finally:
        process.terminate()
        process.wait(10)
        log.close()
