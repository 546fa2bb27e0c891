"""The container image's steps, run outside a container (no engine is needed): the entry point refuses
to start without IDP_ISSUER, then execs `idp serve`, which answers the image's HEALTHCHECK command and
stops on SIGTERM (`docker stop`) with exit status 0."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.served import free_port

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = str(Path(sys.executable).with_name("idp-container"))


def _healthcheck_command(port: int) -> list[str]:
    """The Dockerfile's HEALTHCHECK, with the port of this test."""
    line = next(x for x in (ROOT / "Dockerfile").read_text().splitlines() if "CMD [\"python\"" in x)
    command = re.findall(r'"((?:[^"\\]|\\.)*)"', line.split("CMD", 1)[1])
    return [sys.executable] + [c.replace(":8000", f":{port}") for c in command[1:]]


def test_the_image_refuses_to_start_without_an_issuer(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    done = subprocess.run([ENTRYPOINT], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "IDP_ISSUER" in done.stderr


def test_the_image_serves_passes_its_healthcheck_and_stops_on_sigterm(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "PROMETHEUS_"))}
    env.update(IDP_ISSUER="https://id.example.com", IDP_INSTANCE_PATH=str(tmp_path / "data"), IDP_HOST="0.0.0.0",
               IDP_LOG_LEVEL="WARNING", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    server = subprocess.Popen([ENTRYPOINT, "idp", "serve", "--port", str(port), "--workers", "1"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read().decode()
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert subprocess.run(_healthcheck_command(port), timeout=30).returncode == 0
        discovery = requests.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration").json()
        assert discovery["issuer"] == "https://id.example.com"
        assert (tmp_path / "data" / "key_encryption_key").exists()
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        assert server.wait(15) == 0
        assert time.monotonic() - started < 10
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdout.close()
