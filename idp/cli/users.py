"""`idp users create`."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from ..errors import ValidationError
from ..services import rbac
from ..services import users as user_service
from ..services.runtime import current
from .db_commands import upgrade_database

CLAIM_OPTIONS = ("name", "given_name", "family_name", "middle_name", "nickname", "picture", "website",
                 "gender", "birthdate", "zoneinfo", "locale", "phone_number")


@click.group("users")
def users() -> None:
    """Manage users."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--email", default=None)
@click.option("--email-verified/--email-unverified", default=False)
@click.option("--password", default=None, help="Omit to be asked (not echoed); or set IDP_NEW_PASSWORD.",
              envvar="IDP_NEW_PASSWORD")
@click.option("--address", "address_json", default=None, help='JSON object, e.g. {"locality": "Berlin"}')
@click.option("--claim", "extra", multiple=True, metavar="NAME=VALUE",
              help=f"Profile claim ({', '.join(CLAIM_OPTIONS)}); repeatable.")
@click.option("--admin", "is_admin", is_flag=True, help="An administrator (always asked for a second factor).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_appcontext
def create(username, email, email_verified, password, address_json, extra, is_admin, as_json) -> None:
    """Create a user who can sign in."""
    upgrade_database()
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    claims: dict = {}
    for item in extra:
        name, sep, value = item.partition("=")
        if not sep or name not in CLAIM_OPTIONS:
            raise click.BadParameter(f"expected NAME=VALUE with NAME one of {', '.join(CLAIM_OPTIONS)}",
                                     param_hint="--claim")
        claims[name] = value
    if address_json:
        try:
            claims["address"] = json.loads(address_json)
        except ValueError:
            raise click.BadParameter("not valid JSON", param_hint="--address") from None
    try:
        user = user_service.create(current().passwords, username=username, password=password, email=email,
                                   email_verified=email_verified, claims=claims, is_admin=is_admin)
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"id": user.id, "sub": user.sub, "username": user.username, "email": user.email}))
    else:
        click.echo(f"Created user {user.username} (sub {user.sub}).")


@users.command("roles")
@click.option("--username", required=True)
@click.option("--role", "roles", multiple=True,
              help=f"Role to hold (repeatable); built-in: {', '.join(rbac.BUILTIN_ROLES)}. Replaces the current roles.")
@click.option("--group", "groups", multiple=True, help="Group to belong to (repeatable). Replaces the current groups.")
@with_appcontext
def roles(username, roles, groups) -> None:
    """Set a user's roles (and groups, if given); with neither, show them."""
    from ..storage import users as user_store

    upgrade_database()
    row = user_store.find_by_login(username)
    if row is None:
        raise click.ClickException(f"no user {username!r}")
    try:
        if roles:
            rbac.assign(rbac.ROLE, row.id, list(roles))
        if groups:
            rbac.assign(rbac.GROUP, row.id, list(groups))
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{row.username}: roles {' '.join(rbac.names_of(rbac.ROLE, row.id)) or '-'}; "
               f"groups {' '.join(rbac.names_of(rbac.GROUP, row.id)) or '-'}")
