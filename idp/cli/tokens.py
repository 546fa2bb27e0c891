"""`idp tokens purge`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..services import housekeeping
from ..services.runtime import current
from .db_commands import upgrade_database


@click.group("tokens")
def tokens() -> None:
    """Housekeeping of codes, tokens and sessions."""


@tokens.command("purge")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Rows deleted per transaction (default: the purge_batch_size setting).")
@with_appcontext
def purge(batch_size: int | None) -> None:
    """Delete expired authorization codes, tokens, device codes, interactions and sessions."""
    upgrade_database()
    counts = housekeeping.purge(batch_size or current().settings.purge_batch_size)
    for table, count in counts.items():
        click.echo(f"{table}: {count} deleted")
