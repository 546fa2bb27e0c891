"""`idp …` commands: serve, db, users, clients, keys, tokens."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

from ..errors import ConfigurationError
from . import clients, db_commands, keys, serve, tokens, users


def register(app: Flask) -> None:
    for command in (serve.serve, db_commands.db, users.users, clients.clients, keys.keys, tokens.tokens):
        app.cli.add_command(command)


def _create_app():
    from ..app import create_app

    return create_app()


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
