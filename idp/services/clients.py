"""Relying-party clients: registration and credential checks."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..errors import ValidationError
from ..extensions import db
from ..storage import clients as store
from ..types import ClientView, NewClient
from . import clock, crypto
from .claims import STANDARD_SCOPES

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", DEVICE_CODE_GRANT)
RESPONSE_TYPES = ("code",)
ACCESS_TOKEN_FORMATS = ("jwt", "opaque")
# API scopes beside the OIDC ones: a name with a ':' or '.' in it, e.g. `orders:read`, `api.write`.
API_SCOPE = re.compile(r"^[a-z][a-z0-9_-]*[:.][a-z0-9_:./-]+$")
MAX_API_SCOPE_LENGTH = 100


def validate_resource(uri: str) -> str:
    """An RFC 8707 resource indicator: an absolute URI without a fragment (§2)."""
    uri = uri.strip()
    parts = urlsplit(uri)
    if not parts.scheme or not parts.netloc or "#" in uri or any(c.isspace() for c in uri) or len(uri) > 2000:
        raise ValidationError(f"Resource {uri!r} must be an absolute URI without a fragment.")
    return uri


def view(row: store.Client) -> ClientView:
    return ClientView(
        id=row.id, client_id=row.client_id, name=row.name, redirect_uris=tuple(row.redirect_uris),
        post_logout_redirect_uris=tuple(row.post_logout_redirect_uris),
        token_endpoint_auth_method=row.token_endpoint_auth_method, grant_types=tuple(row.grant_types),
        response_types=tuple(row.response_types), scopes=tuple(row.scopes), require_pkce=row.require_pkce,
        skip_consent=row.skip_consent, enabled=row.enabled, access_token_ttl=row.access_token_ttl,
        id_token_ttl=row.id_token_ttl, refresh_token_ttl=row.refresh_token_ttl,
        refresh_token_idle_ttl=row.refresh_token_idle_ttl, access_token_format=row.access_token_format,
        resources=tuple(row.resources or ()), served_resources=tuple(row.served_resources or ()),
        logo_uri=row.logo_uri, client_uri=row.client_uri, secret_hash=row.secret_hash, require_mfa=row.require_mfa,
        backchannel_logout_uri=row.backchannel_logout_uri,
        backchannel_logout_session_required=row.backchannel_logout_session_required,
        frontchannel_logout_uri=row.frontchannel_logout_uri,
        frontchannel_logout_session_required=row.frontchannel_logout_session_required,
    )


def validate_redirect_uri(uri: str) -> str:
    """Exact, absolute URIs only: no fragment, no wildcard; https except for loopback http and
    private-use schemes of native apps (RFC 8252 §7, RFC 9700 §2.1)."""
    uri = uri.strip()
    parts = urlsplit(uri)
    if not parts.scheme or parts.fragment or "#" in uri:
        raise ValidationError(f"Redirect URI {uri!r} must be absolute and have no fragment.")
    if "*" in uri:
        raise ValidationError(f"Redirect URI {uri!r} must not contain wildcards.")
    if parts.scheme == "http":
        if parts.hostname not in ("localhost", "127.0.0.1", "::1"):
            raise ValidationError(f"Redirect URI {uri!r} must use https (http only for loopback).")
    elif parts.scheme == "https":
        if not parts.hostname:
            raise ValidationError(f"Redirect URI {uri!r} has no host.")
    elif parts.scheme in ("javascript", "data", "file", "vbscript") or "." not in parts.scheme:
        raise ValidationError(
            f"Redirect URI {uri!r}: custom schemes must be reverse-domain names such as com.example.app."
        )
    return uri


def validate_logout_uri(uri: str | None, kind: str) -> str | None:
    """A back- or front-channel logout URI: checked like a redirect URI, but only http(s), since a
    server POSTs to it or a browser frames it (Back-Channel Logout 1.0 §2.2, Front-Channel §2)."""
    uri = (uri or "").strip()
    if not uri:
        return None
    validate_redirect_uri(uri)
    if urlsplit(uri).scheme not in ("https", "http"):
        raise ValidationError(f"{kind} {uri!r} must be an https URL (http only for loopback).")
    if len(uri) > 2000:
        raise ValidationError(f"{kind} is longer than 2000 characters.")
    return uri


def create(*, name: str, redirect_uris: list[str], token_endpoint_auth_method: str = "client_secret_basic",
           grant_types: list[str] | None = None, scopes: list[str] | None = None,
           post_logout_redirect_uris: list[str] | None = None, require_pkce: bool | None = None,
           skip_consent: bool = False, access_token_ttl: int | None = None, id_token_ttl: int | None = None,
           refresh_token_ttl: int | None = None, refresh_token_idle_ttl: int | None = None,
           access_token_format: str = "jwt", resources: list[str] | None = None,
           served_resources: list[str] | None = None, require_mfa: bool = False,
           backchannel_logout_uri: str | None = None, backchannel_logout_session_required: bool = False,
           frontchannel_logout_uri: str | None = None,
           frontchannel_logout_session_required: bool = False) -> NewClient:
    """Register a client. The secret is returned once and only its hash is stored."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError("A client needs a name of 1–200 characters.")
    if token_endpoint_auth_method not in AUTH_METHODS:
        raise ValidationError(f"token_endpoint_auth_method must be one of: {', '.join(AUTH_METHODS)}.")
    grant_types = list(grant_types or ["authorization_code"])
    unknown = set(grant_types) - set(GRANT_TYPES)
    if unknown:
        raise ValidationError(f"Unsupported grant types: {', '.join(sorted(unknown))}.")
    public = token_endpoint_auth_method == "none"
    if "client_credentials" in grant_types and public:
        raise ValidationError("The client_credentials grant is only for confidential clients (RFC 6749 §4.4).")
    scopes = list(scopes or ["openid", "profile", "email"])
    unknown = {s for s in scopes if s not in STANDARD_SCOPES
               and not (API_SCOPE.match(s) and len(s) <= MAX_API_SCOPE_LENGTH)}
    if unknown:
        raise ValidationError(f"Unsupported scopes: {', '.join(sorted(unknown))}.")
    uris = [validate_redirect_uri(u) for u in redirect_uris if u.strip()]
    if "authorization_code" in grant_types and not uris:
        raise ValidationError("A client using the authorization code grant needs at least one redirect URI.")
    logout_uris = [validate_redirect_uri(u) for u in (post_logout_redirect_uris or []) if u.strip()]
    backchannel_logout_uri = validate_logout_uri(backchannel_logout_uri, "backchannel_logout_uri")
    frontchannel_logout_uri = validate_logout_uri(frontchannel_logout_uri, "frontchannel_logout_uri")
    for ttl_name, ttl in (("access_token_ttl", access_token_ttl), ("id_token_ttl", id_token_ttl),
                          ("refresh_token_ttl", refresh_token_ttl),
                          ("refresh_token_idle_ttl", refresh_token_idle_ttl)):
        if ttl is not None and ttl <= 0:
            raise ValidationError(f"{ttl_name} must be a positive number of seconds.")
    if refresh_token_idle_ttl and refresh_token_ttl and refresh_token_idle_ttl > refresh_token_ttl:
        raise ValidationError("refresh_token_idle_ttl must not exceed refresh_token_ttl.")
    if access_token_format not in ACCESS_TOKEN_FORMATS:
        raise ValidationError(f"access_token_format must be one of: {', '.join(ACCESS_TOKEN_FORMATS)}.")
    resources = list(dict.fromkeys(validate_resource(r) for r in (resources or []) if r.strip()))
    served = list(dict.fromkeys(validate_resource(r) for r in (served_resources or []) if r.strip()))
    if served and public:
        raise ValidationError("Only a confidential client can act as a resource server (it must authenticate).")
    secret = None if public else crypto.random_token(32)
    row = store.Client(
        client_id=crypto.random_token(18), secret_hash=crypto.lookup_hash(secret) if secret else None,
        name=name, redirect_uris=uris, post_logout_redirect_uris=logout_uris,
        token_endpoint_auth_method=token_endpoint_auth_method, grant_types=grant_types,
        response_types=list(RESPONSE_TYPES), scopes=scopes,
        require_pkce=True if public else bool(require_pkce), skip_consent=skip_consent, enabled=True,
        access_token_ttl=access_token_ttl, id_token_ttl=id_token_ttl, refresh_token_ttl=refresh_token_ttl,
        refresh_token_idle_ttl=refresh_token_idle_ttl, access_token_format=access_token_format,
        resources=resources, served_resources=served, require_mfa=require_mfa,
        backchannel_logout_uri=backchannel_logout_uri,
        backchannel_logout_session_required=bool(backchannel_logout_session_required),
        frontchannel_logout_uri=frontchannel_logout_uri,
        frontchannel_logout_session_required=bool(frontchannel_logout_session_required), created_at=clock.now(),
    )
    store.add(row)
    db.session.commit()
    return NewClient(client=view(row), client_secret=secret)


def get(client_id: str) -> ClientView | None:
    """An enabled client by its client_id, else None (unknown and disabled look the same)."""
    if not client_id or len(client_id) > 64:
        return None
    row = store.get_by_client_id(client_id)
    return view(row) if row is not None and row.enabled else None


def get_by_pk(pk: int) -> ClientView | None:
    row = store.get(pk)
    return view(row) if row is not None else None


def check_secret(client: ClientView, secret: str | None) -> bool:
    """Constant-time check of a presented secret against the stored hash."""
    if client.secret_hash is None or not secret:
        return False
    return crypto.constant_time_equal(client.secret_hash, crypto.lookup_hash(secret))


def get_many(pks) -> list[ClientView]:
    """Clients by primary key (disabled ones included), ordered by id."""
    return [view(r) for r in store.get_many(pks)]


def list_all() -> list[ClientView]:
    return [view(r) for r in store.all_clients()]


ACCOUNT_CONSOLE_CLIENT_ID = "idp-account-console"


def ensure_account_console(issuer: str) -> ClientView:
    """The built-in first-party client through which the account pages sign people in, so that the
    same policy (second factor, throttling, passkeys) applies there as for any app. Public, PKCE,
    no consent, only `openid`; its one redirect URI follows the issuer setting."""
    redirect_uri = f"{issuer}/account/callback"
    row = store.get_by_client_id(ACCOUNT_CONSOLE_CLIENT_ID)
    if row is None:
        row = store.add(store.Client(
            client_id=ACCOUNT_CONSOLE_CLIENT_ID, secret_hash=None, name="Your account", redirect_uris=[redirect_uri],
            post_logout_redirect_uris=[], token_endpoint_auth_method="none", grant_types=["authorization_code"],
            response_types=list(RESPONSE_TYPES), scopes=["openid"], require_pkce=True, skip_consent=True,
            enabled=True, created_at=clock.now(),
        ))
        db.session.commit()
    elif row.redirect_uris != [redirect_uri]:
        row.redirect_uris = [redirect_uri]
        db.session.commit()
    return view(row)
