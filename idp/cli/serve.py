"""`idp serve`: migrate, make sure signing keys exist, then serve with waitress."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..services import housekeeping, keys
from ..services.runtime import current
from .db_commands import upgrade_database

# The first-start hint; the README shows the same command (a test runs it as printed). Not `alice`:
# the README's "First login" creates her as an ordinary person.
FIRST_ADMIN_COMMAND = "idp users create --admin --username root --email root@example.com"


def prepare() -> None:
    """Everything a fresh or old installation needs before the first request."""
    upgrade_database()
    rt = current()
    keys.ensure_keys(rt.settings)
    rt.keyring.reload()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads.")
@with_appcontext
def serve(host: str, port: int, threads: int) -> None:
    """Start the identity provider."""
    import waitress

    from ..services import users

    prepare()
    current().backchannel.notify()  # sends back-channel logout tokens left pending by an earlier run
    settings = current().settings
    click.echo(f"Issuer {settings.issuer}; database {settings.database_url.split('@')[-1]}")
    click.echo(f"Discovery: {settings.issuer}/.well-known/openid-configuration")
    if not users.any_exist():
        click.echo("No users yet. Create the first administrator (admin console at /admin) with:\n"
                   f"  {FIRST_ADMIN_COMMAND}\n"
                   "then sign in at " + settings.issuer + "/admin and set up a second factor when asked.")
    app = current_app._get_current_object()
    purger = None
    if settings.purge_interval_seconds:
        # Expired rows are deleted in a background thread, never on the request path.
        purger = housekeeping.Purger(app, settings.purge_interval_seconds, settings.purge_batch_size)
        purger.start()
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="idp", clear_untrusted_proxy_headers=True)
    finally:
        if purger is not None:
            purger.stop()
