"""`idp …` commands: serve, db, users, clients, keys, tokens, mail."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

from ..errors import ConfigurationError
from . import clients, db_commands, keys, mail, serve, tokens, users


def register(app: Flask) -> None:
    for command in (serve.serve, db_commands.db, users.users, clients.clients, keys.keys, tokens.tokens,
                    mail.mail_group):
        app.cli.add_command(command)


def _create_app():
    """The app for a command. A command run where no instance exists (and with no IDP_INSTANCE_PATH or
    IDP_DATABASE_URL) creates a new one with new keys and an empty database: say so, loudly, because
    the person usually meant the server's instance."""
    from ..app import create_app

    configured = os.environ.get("IDP_INSTANCE_PATH") or os.environ.get("IDP_DATABASE_URL")
    existed = configured or os.path.isdir(os.path.join(os.getcwd(), "instance"))
    app = create_app()
    if not existed and sys.argv[1:2] != ["serve"]:
        instance = app.extensions["idp"].settings.instance_path
        click.echo(f"idp: no instance here, so this command uses a NEW one at {instance} (new keys, empty "
                   "database). To work on your server's instance, run idp from the directory you started it in "
                   "or set IDP_INSTANCE_PATH (and IDP_DATABASE_URL) as the server has them.", err=True)
    return app


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def cli() -> None:
    """Identity provider administration. Settings come from IDP_* variables (see config/defaults.toml)."""


def main() -> None:
    """The `idp` console script: a bad setting is one clear line and exit status 2, not a traceback."""
    try:
        cli()
    except ConfigurationError as exc:
        click.echo(f"idp: configuration error: {exc}", err=True)
        sys.exit(2)
