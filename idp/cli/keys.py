"""`idp keys list` and `idp keys rotate`."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from ..services import clock
from ..services import keys as key_service
from ..services.runtime import current
from .db_commands import upgrade_database


def _when(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ") if ts else "-"


@click.group("keys")
def keys() -> None:
    """Signing keys and their rotation."""


@keys.command("list")
@with_appcontext
def list_keys() -> None:
    """Show every key: state, when it was created, began signing, retired, and leaves the JWKS."""
    upgrade_database()
    key_service.ensure_keys(current().settings)
    click.echo(f"{'kid':44}  {'alg':5}  {'state':8}  {'created':20}  {'signing since':20}  {'retired':20}  "
               "unpublished after")
    for k in key_service.list_keys():
        click.echo(f"{k.kid:44}  {k.alg:5}  {k.state:8}  {_when(k.created_at):20}  {_when(k.activated_at):20}  "
                   f"{_when(k.retired_at):20}  {_when(k.unpublish_after)}")


@keys.command("rotate")
@click.option("--force", is_flag=True, help="Rotate even if the next key was published too recently for "
              "relying parties to have fetched it.")
@with_appcontext
def rotate(force: bool) -> None:
    """Promote the pre-published next key to signing, retire the current one, publish a new next."""
    upgrade_database()
    settings = current().settings
    key_service.ensure_keys(settings)
    nexts = [k for k in key_service.list_keys() if k.state == "next"]
    age = clock.now() - max(k.created_at for k in nexts)
    # A server process may serve its old JWKS until its next key-ring refresh, and relying parties
    # may then cache that document for jwks_max_age.
    needed = settings.jwks_max_age + settings.key_ring_refresh_seconds
    if age < needed and not force:
        raise click.ClickException(
            f"The next key was published {age}s ago; relying parties may not see it for up to {needed}s "
            f"(key-ring refresh + JWKS cache lifetime). Wait, or pass --force."
        )
    kid = key_service.rotate(settings)
    if kid is None:
        raise click.ClickException("Another rotation happened at the same time; nothing changed. Run `idp keys list`.")
    click.echo(f"{kid} now signs RS256 (every algorithm's next key was promoted). "
               f"Servers pick the change up within {settings.key_ring_refresh_seconds}s.")
