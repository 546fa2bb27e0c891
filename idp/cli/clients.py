"""`idp clients create`, `idp clients list` and `idp clients initial-access-token`."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from ..errors import ValidationError
from ..services import clients as client_service
from ..services import rbac
from ..services.runtime import current
from .db_commands import upgrade_database


def _split(values: tuple[str, ...]) -> list[str]:
    return [v for value in values for v in value.replace(",", " ").split()]


@click.group("clients")
def clients() -> None:
    """Manage relying-party clients."""


@clients.command("create")
@click.option("--name", required=True, help="Shown to people on the consent page.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Exact redirect URI; repeatable.")
@click.option("--post-logout-redirect-uri", "logout_uris", multiple=True)
@click.option("--auth-method", type=click.Choice(client_service.AUTH_METHODS), default="client_secret_basic",
              show_default=True, help="Token endpoint authentication; 'none' makes a public (PKCE) client.")
@click.option("--grant-type", "grant_types", multiple=True, type=click.Choice(client_service.GRANT_TYPES),
              help="Default: authorization_code.")
@click.option("--scope", "scopes", multiple=True,
              help="Allowed scopes (default: openid profile email); admin:clients, admin:users, admin:roles and "
              "admin:audit let the client call the admin API with client_credentials.")
@click.option("--require-pkce/--no-require-pkce", default=None, help="Always on for public clients.")
@click.option("--skip-consent", is_flag=True, help="First-party app: do not ask people for consent.")
@click.option("--require-mfa", is_flag=True, help="Every sign-in to this app needs a second factor.")
@click.option("--access-token-ttl", type=int, default=None)
@click.option("--id-token-ttl", type=int, default=None)
@click.option("--refresh-token-ttl", type=int, default=None, help="Absolute lifetime of a refresh-token grant.")
@click.option("--refresh-token-idle-ttl", type=int, default=None, help="A refresh token unused this long expires.")
@click.option("--access-token-format", type=click.Choice(client_service.ACCESS_TOKEN_FORMATS), default="jwt",
              show_default=True, help="RFC 9068 JWT, or an opaque token checked by introspection.")
@click.option("--resource", "resources", multiple=True,
              help="RFC 8707 resource (API URI) the client may request tokens for; repeatable.")
@click.option("--serves-resource", "served_resources", multiple=True,
              help="This client is the resource server for URI: it may introspect tokens for it; repeatable.")
@click.option("--backchannel-logout-uri", default=None,
              help="Back-Channel Logout 1.0: where logout tokens are POSTed when a session ends.")
@click.option("--backchannel-logout-session-required/--no-backchannel-logout-session-required", default=False,
              help="The client needs `sid` in logout tokens (always sent by this server).")
@click.option("--frontchannel-logout-uri", default=None,
              help="Front-Channel Logout 1.0: loaded in an iframe on the logout page.")
@click.option("--frontchannel-logout-session-required/--no-frontchannel-logout-session-required", default=False,
              help="Add iss and sid query parameters to the front-channel logout URI.")
@click.option("--cors-origin", "cors_origins", multiple=True,
              help="Browser app origin (https://app.example.com) allowed to call /token, /userinfo, /revoke.")
@click.option("--jwks-uri", default=None, help="URL of the client's public JWK set (private_key_jwt, request "
              "objects); https except loopback.")
@click.option("--jwks", "jwks_file", type=click.File("r"), default=None,
              help="File holding the client's public JWK set, registered by value.")
@click.option("--auth-signing-alg", default=None, help="The only alg accepted for private_key_jwt assertions.")
@click.option("--require-par", is_flag=True, help="Authorization requests only through PAR (RFC 9126).")
@click.option("--dpop-bound", is_flag=True, help="Access tokens only bound to a DPoP key (RFC 9449).")
@click.option("--request-object-alg", default=None, help="The only alg accepted for request objects ('none' "
              "lets the client send unsigned ones).")
@click.option("--id-token-alg", default=None, help="ID token signing alg (RS256, PS256, ES256).")
@click.option("--access-token-alg", default=None, help="JWT access token signing alg (RS256, PS256, ES256).")
@click.option("--fapi2", is_flag=True, help="FAPI 2.0 Security Profile: requires private_key_jwt and keys; turns on "
              "PAR, PKCE and DPoP.")
@click.option("--logo-uri", default=None, help="https URL of the app's logo, shown on the consent page.")
@click.option("--client-uri", default=None, help="https URL of the app's home page, linked from the consent page.")
@click.option("--policy-uri", default=None, help="https URL of the app's privacy policy, linked on the consent page.")
@click.option("--tos-uri", default=None, help="https URL of the app's terms of service, linked on the consent page.")
@click.option("--json", "as_json", is_flag=True, help="Print client_id and client_secret as JSON.")
@with_appcontext
def create(name, redirect_uris, logout_uris, auth_method, grant_types, scopes, require_pkce, skip_consent,
           require_mfa, access_token_ttl, id_token_ttl, refresh_token_ttl, refresh_token_idle_ttl,
           access_token_format, resources, served_resources, backchannel_logout_uri,
           backchannel_logout_session_required, frontchannel_logout_uri, frontchannel_logout_session_required,
           cors_origins, jwks_uri, jwks_file, auth_signing_alg, require_par, dpop_bound, request_object_alg,
           id_token_alg, access_token_alg, fapi2, logo_uri, client_uri, policy_uri, tos_uri, as_json) -> None:
    """Register a client. The secret is printed once and cannot be shown again."""
    upgrade_database()
    try:
        high_assurance = dict(
            jwks=jwks_file.read() if jwks_file else None, jwks_uri=jwks_uri,
            token_endpoint_auth_signing_alg=auth_signing_alg,
            require_pushed_authorization_requests=require_par, dpop_bound_access_tokens=dpop_bound,
            request_object_signing_alg=request_object_alg, id_token_signed_response_alg=id_token_alg,
            access_token_signed_response_alg=access_token_alg, fapi2=fapi2,
        )
        new = client_service.create(
            name=name, redirect_uris=_split(redirect_uris), post_logout_redirect_uris=_split(logout_uris),
            token_endpoint_auth_method=auth_method, grant_types=list(grant_types) or None,
            scopes=_split(scopes) or None, require_pkce=require_pkce, skip_consent=skip_consent,
            access_token_ttl=access_token_ttl, id_token_ttl=id_token_ttl, refresh_token_ttl=refresh_token_ttl,
            refresh_token_idle_ttl=refresh_token_idle_ttl, access_token_format=access_token_format,
            resources=_split(resources), served_resources=_split(served_resources),
            require_mfa=require_mfa,
            backchannel_logout_uri=backchannel_logout_uri,
            backchannel_logout_session_required=backchannel_logout_session_required,
            frontchannel_logout_uri=frontchannel_logout_uri,
            frontchannel_logout_session_required=frontchannel_logout_session_required,
            allowed_cors_origins=_split(cors_origins),
            logo_uri=logo_uri, client_uri=client_uri, policy_uri=policy_uri, tos_uri=tos_uri,
            admin_scopes_allowed=rbac.ADMIN_SCOPES,  # whoever runs the CLI is the operator
            **high_assurance,
        )
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from None
    c = new.client
    if as_json:
        click.echo(json.dumps({"client_id": c.client_id, "client_secret": new.client_secret,
                               "issuer": current().settings.issuer, "redirect_uris": list(c.redirect_uris),
                               "token_endpoint_auth_method": c.token_endpoint_auth_method,
                               "scope": " ".join(c.scopes), "grant_types": list(c.grant_types),
                               "access_token_format": c.access_token_format, "resources": list(c.resources),
                               "post_logout_redirect_uris": list(c.post_logout_redirect_uris),
                               "backchannel_logout_uri": c.backchannel_logout_uri,
                               "frontchannel_logout_uri": c.frontchannel_logout_uri, "jwks_uri": c.jwks_uri,
                               "require_pushed_authorization_requests": c.require_pushed_authorization_requests,
                               "dpop_bound_access_tokens": c.dpop_bound_access_tokens, "fapi2": c.fapi2}))
        return
    click.echo(f"client_id:     {c.client_id}")
    if new.client_secret:
        click.echo(f"client_secret: {new.client_secret}")
        click.echo("Store the secret now: it is kept only as a hash and cannot be shown again.")
    click.echo(f"issuer:        {current().settings.issuer}")


@clients.command("list")
@with_appcontext
def list_clients() -> None:
    """List registered clients."""
    upgrade_database()
    for c in client_service.list_all():
        state = "enabled" if c.enabled else "disabled"
        click.echo(f"{c.client_id}  {c.name}  [{c.token_endpoint_auth_method}, {state}]  {' '.join(c.redirect_uris)}")


@clients.command("initial-access-token")
@click.option("--uses", type=int, default=1, show_default=True,
              help="How many clients the token may register (RFC 7591); e.g. the conformance suite's Dynamic "
                   "plan registers several with one token.")
@click.option("--expires-in", type=int, default=None, help="Lifetime in seconds [default: initial_access_token_ttl].")
@click.option("--json", "as_json", is_flag=True, help="Print the token, its expiry and uses as JSON.")
@with_appcontext
def initial_access_token(uses, expires_in, as_json) -> None:
    """Mint an initial access token for dynamic client registration. It is printed once."""
    from ..services import audit, registration

    upgrade_database()
    settings = current().settings
    try:
        token, expires_at = registration.issue_initial_access_token(
            expires_in if expires_in is not None else settings.initial_access_token_ttl, uses)
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from None
    audit.record("admin.initial_access_token.create", details={"expires_at": expires_at, "uses": uses, "via": "cli"})
    if as_json:
        click.echo(json.dumps({"initial_access_token": token, "expires_at": expires_at, "uses": uses}))
        return
    click.echo(f"initial_access_token: {token}")
    click.echo(f"expires_at:           {expires_at}")
    click.echo(f"uses:                 {uses}")
    if not settings.dynamic_client_registration:
        click.echo("Dynamic registration is off: set dynamic_client_registration = 1 to use the token.")
