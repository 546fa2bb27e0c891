"""The production server behind `idp serve`: granian's WSGI workers (one process per CPU by default).

Why granian (measured with wrk on loopback, 2 cores, 64 connections; docs/performance.md): its Rust
HTTP/1 front end holds idle and slow connections in an event loop, so a thousand idle keep-alive
sockets cost nothing and never starve other clients, and it answered discovery at ~13,600 req/s
against ~3,600 for gunicorn's gthread workers on the same app, and client_credentials tokens at ~500
against ~135 req/s. It does not touch X-Forwarded-* headers: the app's ProxyFix (`proxy_fix_hops`)
alone decides whom to trust. SIGTERM/SIGINT stop the workers gracefully: requests in flight finish,
anything still running after `shutdown_timeout` seconds is killed.

Workers are started with the `spawn` method and build their own app from the same IDP_* settings
(`worker_app`), so no database connection, thread or lock is shared across a fork."""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import tempfile

log = logging.getLogger(__name__)


def worker_app():
    """Run in each worker process: the app, plus the thread that runs once-per-cluster jobs."""
    from .app import create_app
    from .services import health
    from .services.jobs import Scheduler

    app = create_app()
    health.expected_revision()  # read the migration scripts once, before the first /readyz
    Scheduler(app).start()
    return app


def prepare_metrics_dir() -> str:
    """prometheus-client's multi-process mode: every worker writes its samples to files in one
    folder, emptied at each start (set before any worker imports prometheus_client)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        path = tempfile.mkdtemp(prefix="idp-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    else:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)
    return path


def start_metrics_listener(address: str) -> None:
    """Serve /metrics on a separate `host:port` from this (the main) process, aggregated over workers."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    host, _, port = address.rpartition(":")
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    start_http_server(int(port), addr=host.strip("[]") or "127.0.0.1", registry=registry)


def run(*, host: str, port: int, workers: int, threads: int, shutdown_timeout: int, log_level: str) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    multiprocessing.set_start_method("spawn", force=True)
    server = Granian(
        "idp.serving:worker_app", factory=True, interface=Interfaces.WSGI,
        address=host, port=port, workers=workers, blocking_threads=threads,
        backlog=2048, workers_kill_timeout=shutdown_timeout, respawn_failed_workers=True,
        log_level=LogLevels(log_level.lower()), log_access=False,  # the app writes its own JSON access log
    )
    server.serve()
