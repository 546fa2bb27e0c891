"""`idp mail test --to ADDRESS` and `idp mail outbox`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from .. import mails
from ..errors import ValidationError
from ..extensions import db
from ..services import mail
from ..services.runtime import current
from .db_commands import upgrade_database


@click.group("mail")
def mail_group() -> None:
    """The mail outbox and its sender."""


@mail_group.command("test")
@click.option("--to", "to", required=True, help="Address to send the test message to.")
@with_appcontext
def test(to: str) -> None:
    """Queue a test message and send it now, through the configured SMTP server (or into
    <instance>/mail/ when no smtp_host is set); says what happened."""
    upgrade_database()
    settings = current().settings
    try:
        status = mails.compose("test", to, by_recipient=False)
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    if status != "pending":
        raise click.ClickException(f"not sent: {status} (hourly limit for this address reached)")
    mail.deliver_due(settings)
    row = mail.deliveries(1)[0]
    where = f"{settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host else f"{settings.instance_path}/mail/"
    if row["status"] == "sent":
        click.echo(f"sent to {row['recipient']} via {where}")
        return
    raise click.ClickException(f"delivery via {where} failed: {row['last_error']} "
                               f"({row['status']}; the background sender retries pending mail)")


@mail_group.command("outbox")
@click.option("--limit", type=click.IntRange(1, 1000), default=20)
@with_appcontext
def outbox(limit: int) -> None:
    """The newest messages and their delivery status (never their bodies)."""
    upgrade_database()
    for row in mail.deliveries(limit):
        click.echo(f"{row['id']:>6} {row['status']:<10} {row['attempts']}x {row['kind']:<15} {row['recipient']}"
                   + (f"  ({row['last_error']})" if row["last_error"] else ""))
