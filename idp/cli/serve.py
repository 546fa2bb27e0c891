"""`idp serve`: migrate, make sure signing keys exist, then run the production server (idp.serving)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..services import keys
from ..services.runtime import current
from .db_commands import upgrade_database

# The first-start hint; the README shows the same command (a test runs it as printed). Not `alice`:
# the README's "First login" creates her as an ordinary person.
FIRST_ADMIN_COMMAND = "idp users create --admin --username root --email root@example.com"
DEFAULT_PORT = 8000


def prepare() -> None:
    """Everything a fresh or old installation needs before the first request."""
    upgrade_database()
    rt = current()
    keys.ensure_keys(rt.settings)
    rt.keyring.reload()


def listen_port(settings, host: str, port: int | None) -> int:
    """The port to listen on. For a plain-http loopback issuer (development) the issuer names it, so
    the advertised URLs are always right: choose the port with IDP_ISSUER=http://localhost:5411.
    Behind a proxy or with an https issuer the listening port is free (`--port`, default 8000)."""
    parts = urlsplit(settings.issuer)
    # Listening on loopback with a plain-http issuer and no proxy: the issuer's port is the one clients
    # use. In a container (0.0.0.0) the published port may differ from the one listened on.
    direct = parts.scheme == "http" and not settings.proxy_fix_hops and host in ("127.0.0.1", "localhost", "::1")
    issuer_port = parts.port or 80
    if port is None:
        return issuer_port if direct else DEFAULT_PORT
    if direct and port != issuer_port:
        raise click.UsageError(
            f"--port {port} differs from the issuer's port {issuer_port}: clients would be sent to "
            f"{settings.issuer}. Choose the port through the issuer instead, e.g. "
            f"IDP_ISSUER=http://localhost:{port} idp serve")
    return port


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="IDP_HOST",
              help="Address to listen on (0.0.0.0 in a container).")
@click.option("--port", default=None, type=int, envvar="IDP_PORT",
              help="Port to listen on. Default: the issuer's port for a plain-http loopback issuer, else 8000.")
@click.option("--workers", default=None, type=click.IntRange(min=1), envvar="IDP_WORKERS",
              help="Worker processes. Default: one per CPU.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(min=1), envvar="IDP_THREADS",
              help="Request threads per worker.")
@click.option("--shutdown-timeout", default=10, show_default=True, type=click.IntRange(min=1),
              help="Seconds requests in flight get to finish after SIGTERM before workers are killed.")
@with_appcontext
def serve(host: str, port: int | None, workers: int | None, threads: int, shutdown_timeout: int) -> None:
    """Start the identity provider (multi-process; SIGTERM stops it gracefully)."""
    from .. import serving
    from ..services import users

    settings = current().settings
    port = listen_port(settings, host, port)
    workers = workers or os.cpu_count() or 1
    prepare()
    if not settings.issuer_is_https:
        click.echo(f"Warning: issuer {settings.issuer} is plain http: for local development only.", err=True)
    click.echo(f"Issuer {settings.issuer}; instance {settings.instance_path}; "
               f"database {settings.database_url.split('@')[-1]}")
    click.echo(f"Listening on http://{host}:{port} with {workers} worker(s) x {threads} threads")
    click.echo(f"Discovery: {settings.issuer}/.well-known/openid-configuration")
    if not users.any_exist():
        click.echo("No users yet. Create the first administrator (admin console at /admin) with:\n"
                   f"  {FIRST_ADMIN_COMMAND}\n"
                   "then sign in at " + settings.issuer + "/admin and set up a second factor when asked.")
    db.session.remove()
    db.engine.dispose()  # the workers open their own connections
    serving.prepare_metrics_dir()
    if settings.metrics_listen:
        serving.start_metrics_listener(settings.metrics_listen)
        click.echo(f"Metrics: http://{settings.metrics_listen}/metrics")
    serving.run(host=host, port=port, workers=workers, threads=threads, shutdown_timeout=shutdown_timeout,
                log_level=settings.log_level)
