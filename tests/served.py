"""`idp serve` started the README's way, as a real subprocess (granian workers), for the tests of the
production server: connection limits, SIGTERM, proxy headers, several nodes, database outages."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

IDP = str(Path(sys.executable).with_name("idp"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServedIdp:
    """`idp serve` on a free loopback port over `database_url`, sharing the test session's instance
    folder (hence its key-encryption key). `settings` become IDP_* variables."""

    def __init__(self, tmp_path: Path, database_url: str, instance: Path, workers: int = 1, port: int | None = None,
                 serve_args: tuple[str, ...] = (), **settings):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "PROMETHEUS_"))}
        env.update(IDP_ISSUER=settings.pop("issuer", self.url), IDP_DATABASE_URL=database_url,
                   IDP_INSTANCE_PATH=str(instance), IDP_LOG_LEVEL="WARNING", IDP_PASSWORD_TIME_COST="1",
                   IDP_PASSWORD_MEMORY_COST="8", IDP_PASSWORD_PARALLELISM="1")
        env.update({f"IDP_{k.upper()}": str(v) for k, v in settings.items()})
        self.log = tmp_path / f"idp-serve-{self.port}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([IDP, "serve", "--port", str(self.port), "--workers", str(workers),
                                             "--threads", "4", *serve_args], env=env,
                                            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"idp serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"idp serve did not start:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
