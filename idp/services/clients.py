"""Relying-party clients: registration and credential checks."""

from __future__ import annotations

import re
from contextlib import contextmanager
from urllib.parse import urlsplit

from ..errors import NotFound, ValidationError
from ..extensions import db
from ..storage import clients as store
from ..types import ClientView, NewClient
from . import client_keys, clock, crypto
from .claims import STANDARD_SCOPES
from .text import N_, Nn_

_UNKNOWN_FIELDS = Nn_("Unknown client field: %(names)s.", "Unknown client fields: %(names)s.")

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
SECRET_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", DEVICE_CODE_GRANT)
RESPONSE_TYPES = ("code",)
ACCESS_TOKEN_FORMATS = ("jwt", "opaque")
HIGH_ASSURANCE_FIELDS = ("jwks", "jwks_uri", "token_endpoint_auth_signing_alg", "request_object_signing_alg",
                         "require_pushed_authorization_requests", "dpop_bound_access_tokens",
                         "id_token_signed_response_alg", "access_token_signed_response_alg", "fapi2")
# API scopes beside the OIDC ones: a name with a ':' or '.' in it, e.g. `orders:read`, `api.write`.
API_SCOPE = re.compile(r"^[a-z][a-z0-9_-]*[:.][a-z0-9_:./-]+$")
MAX_API_SCOPE_LENGTH = 100


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def unambiguous(uri: str, label: str):
    """Split a URI that every parser reads the same way, or raise ValidationError. Python's urlsplit and
    a browser (WHATWG URL) disagree on some forms: `http://evil.example\\@localhost/` is host `localhost`
    to urlsplit but `evil.example` to a browser (a backslash is a slash there). So refuse outright
    backslashes, userinfo (`user@`), whitespace and control characters, and percent-encoded or
    non-ASCII hosts (RFC 9700 §4.1.3: exact, simple URIs)."""
    if "\\" in uri or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in uri):
        raise ValidationError(N_("%(label)s %(uri)s must not contain backslashes, spaces or control characters."),
                              label=label, uri=repr(uri))
    parts = urlsplit(uri)
    if "@" in parts.netloc:
        raise ValidationError(N_("%(label)s %(uri)s must not contain user information (user@host)."), label=label,
                              uri=repr(uri))
    host = parts.netloc.rsplit(":", 1)[0] if not parts.netloc.startswith("[") else parts.netloc
    if "%" in host or not host.isascii():
        raise ValidationError(N_("%(label)s %(uri)s must have a plain ASCII host name."), label=label, uri=repr(uri))
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise ValidationError(N_("%(label)s %(uri)s has an invalid port."), label=label, uri=repr(uri)) from None
    return parts


def is_loopback(parts) -> bool:
    """A loopback host as a browser reads it (only after unambiguous() passed)."""
    return parts.hostname in LOOPBACK_HOSTS


def validate_resource(uri: str) -> str:
    """An RFC 8707 resource indicator: an absolute URI without a fragment (§2)."""
    uri = uri.strip()
    parts = unambiguous(uri, N_("Resource"))
    if not parts.scheme or not parts.netloc or "#" in uri or any(c.isspace() for c in uri) or len(uri) > 2000:
        raise ValidationError(N_("Resource %(uri)s must be an absolute URI without a fragment."), uri=repr(uri))
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
        logo_uri=row.logo_uri, client_uri=row.client_uri, policy_uri=row.policy_uri, tos_uri=row.tos_uri,
        secret_hash=row.secret_hash, require_mfa=row.require_mfa,
        backchannel_logout_uri=row.backchannel_logout_uri,
        backchannel_logout_session_required=row.backchannel_logout_session_required,
        frontchannel_logout_uri=row.frontchannel_logout_uri,
        frontchannel_logout_session_required=row.frontchannel_logout_session_required,
        allowed_cors_origins=tuple(row.allowed_cors_origins or ()), previous_secret_hash=row.previous_secret_hash,
        previous_secret_expires_at=row.previous_secret_expires_at, created_at=row.created_at,
        jwks=row.jwks, jwks_uri=row.jwks_uri, token_endpoint_auth_signing_alg=row.token_endpoint_auth_signing_alg,
        request_object_signing_alg=row.request_object_signing_alg,
        require_pushed_authorization_requests=row.require_pushed_authorization_requests,
        dpop_bound_access_tokens=row.dpop_bound_access_tokens,
        id_token_signed_response_alg=row.id_token_signed_response_alg,
        access_token_signed_response_alg=row.access_token_signed_response_alg, fapi2=row.fapi2,
        self_registered=row.registration_token_hash is not None,
    )


def validate_redirect_uri(uri: str) -> str:
    """Exact, absolute URIs only: no fragment, no wildcard; https except for loopback http and
    private-use schemes of native apps (RFC 8252 §7, RFC 9700 §2.1)."""
    uri = uri.strip()
    parts = unambiguous(uri, N_("Redirect URI"))
    if not parts.scheme or parts.fragment or "#" in uri:
        raise ValidationError(N_("Redirect URI %(uri)s must be absolute and have no fragment."), uri=repr(uri))
    if "*" in uri:
        raise ValidationError(N_("Redirect URI %(uri)s must not contain wildcards."), uri=repr(uri))
    if parts.scheme == "http":
        if not is_loopback(parts):
            raise ValidationError(N_("Redirect URI %(uri)s must use https (http only for loopback)."), uri=repr(uri))
    elif parts.scheme == "https":
        if not parts.hostname:
            raise ValidationError(N_("Redirect URI %(uri)s has no host."), uri=repr(uri))
    elif parts.scheme in ("javascript", "data", "file", "vbscript") or "." not in parts.scheme:
        raise ValidationError(
            N_("Redirect URI %(uri)s: custom schemes must be reverse-domain names such as com.example.app."),
            uri=repr(uri))
    return uri


def validate_logout_uri(uri: str | None, kind: str) -> str | None:
    """A back- or front-channel logout URI: checked like a redirect URI, but only http(s), since a
    server POSTs to it or a browser frames it (Back-Channel Logout 1.0 §2.2, Front-Channel §2)."""
    uri = (uri or "").strip()
    if not uri:
        return None
    validate_redirect_uri(uri)
    if urlsplit(uri).scheme not in ("https", "http"):
        raise ValidationError(N_("%(label)s %(uri)s must be an https URL (http only for loopback)."), label=kind,
                              uri=repr(uri))
    if len(uri) > 2000:
        raise ValidationError(N_("%(label)s is longer than %(num)d characters."), label=kind, num=2000)
    return uri


FIELDS = ("name", "redirect_uris", "token_endpoint_auth_method", "grant_types", "scopes",
          "post_logout_redirect_uris", "require_pkce", "skip_consent", "access_token_ttl", "id_token_ttl",
          "refresh_token_ttl", "refresh_token_idle_ttl", "access_token_format", "resources", "served_resources",
          "require_mfa", "backchannel_logout_uri", "backchannel_logout_session_required", "frontchannel_logout_uri",
          "frontchannel_logout_session_required", "logo_uri", "client_uri", "policy_uri", "tos_uri",
          "allowed_cors_origins",
          *HIGH_ASSURANCE_FIELDS)
ADMIN_SCOPE_PREFIX = "admin:"


FAPI2_MAX_CODE_TTL = 60  # FAPI 2.0 Security Profile §5.3.2.1: authorization codes live at most 60 s


def _settings():
    from .runtime import current

    return current().settings


def _signing_alg(alg: str | None, label: str) -> str | None:
    """An alg this server signs with (the `signing_algorithms` setting), or None for the default RS256."""
    if alg in (None, ""):
        return None
    algs = _settings().signing_algs
    if alg not in algs:
        raise ValidationError(N_("%(label)s must be one of: %(options)s."), label=label, options=", ".join(algs))
    return alg


def validate_high_assurance(values: dict, *, jwks=None, jwks_uri: str | None = None,
                            token_endpoint_auth_signing_alg: str | None = None,
                            request_object_signing_alg: str | None = None,
                            require_pushed_authorization_requests: bool = False,
                            dpop_bound_access_tokens: bool = False, id_token_signed_response_alg: str | None = None,
                            access_token_signed_response_alg: str | None = None, fapi2: bool = False) -> dict:
    """Keys (RFC 7591 §2), PAR (RFC 9126 §6), DPoP (RFC 9449 §5.2), signing algorithms and the FAPI 2.0
    profile switch, checked against the rest of the registration in `values`."""
    method = values["token_endpoint_auth_method"]
    for flag in (require_pushed_authorization_requests, dpop_bound_access_tokens, fapi2):
        if not isinstance(flag, bool | int | None):
            raise ValidationError(N_("require_pushed_authorization_requests, dpop_bound_access_tokens and fapi2 "
                                     "must be true or false."))
    jwks = client_keys.validate_jwks(jwks)
    jwks_uri = client_keys.validate_jwks_uri(jwks_uri)
    if jwks and jwks_uri:
        raise ValidationError(N_("Register keys either by value (jwks) or by reference (jwks_uri), not both."))
    if method == "private_key_jwt" and not (jwks or jwks_uri):
        raise ValidationError(N_("A private_key_jwt client needs its public keys: jwks or jwks_uri."))
    out = dict(
        jwks=jwks, jwks_uri=jwks_uri,
        token_endpoint_auth_signing_alg=client_keys.validate_signing_alg(
            token_endpoint_auth_signing_alg, "token_endpoint_auth_signing_alg"),
        request_object_signing_alg=client_keys.validate_signing_alg(
            request_object_signing_alg, "request_object_signing_alg", allow_none=True),
        require_pushed_authorization_requests=bool(require_pushed_authorization_requests),
        dpop_bound_access_tokens=bool(dpop_bound_access_tokens),
        id_token_signed_response_alg=_signing_alg(id_token_signed_response_alg, "id_token_signed_response_alg"),
        access_token_signed_response_alg=_signing_alg(access_token_signed_response_alg,
                                                      "access_token_signed_response_alg"),
        fapi2=bool(fapi2),
    )
    if out["request_object_signing_alg"] not in (None, "none") and not (jwks or jwks_uri):
        raise ValidationError(N_("Signed request objects need the client's public keys: jwks or jwks_uri."))
    if fapi2:
        # FAPI 2.0 Security Profile §5.3.2.1-2, §5.4.1: everything below is required, not optional.
        if method != "private_key_jwt":
            raise ValidationError(N_("A FAPI 2.0 client must authenticate with private_key_jwt."))
        if _settings().authorization_code_ttl > FAPI2_MAX_CODE_TTL:
            raise ValidationError(N_("FAPI 2.0 clients need authorization codes that live at most %(num)d seconds: "
                                     "set authorization_code_ttl to %(num)d or less."), num=FAPI2_MAX_CODE_TTL)
        for name in ("token_endpoint_auth_signing_alg", "request_object_signing_alg",
                     "id_token_signed_response_alg", "access_token_signed_response_alg"):
            if out[name] in ("RS256", "none"):
                raise ValidationError(N_("A FAPI 2.0 client cannot use %(alg)s (%(name)s): use PS256, ES256 or "
                                         "EdDSA."), alg=out[name], name=name)
        out["require_pushed_authorization_requests"] = True
        out["dpop_bound_access_tokens"] = True
        out["id_token_signed_response_alg"] = out["id_token_signed_response_alg"] or _signing_alg("PS256", "fapi2")
        out["access_token_signed_response_alg"] = out["access_token_signed_response_alg"] or \
            _signing_alg("PS256", "fapi2")
        values["require_pkce"] = True
    return out




def validate_origin(origin: str) -> str:
    """A CORS origin: scheme://host[:port], https except for loopback (no path, query or fragment)."""
    origin = origin.strip().rstrip("/")
    parts = unambiguous(origin, N_("CORS origin"))
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path or parts.query or parts.fragment \
            or "*" in origin or parts.username is not None:
        raise ValidationError(N_("CORS origin %(uri)s must be scheme://host[:port]."), uri=repr(origin))
    if parts.scheme == "http" and not is_loopback(parts):
        raise ValidationError(N_("CORS origin %(uri)s must use https (http only for loopback)."), uri=repr(origin))
    return origin


def _optional_uri(value: str | None, label: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    parts = unambiguous(value, label)
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(parts)) \
            or not parts.netloc or len(value) > 2000 or any(c.isspace() for c in value):
        raise ValidationError(N_("%(label)s must be an https URL."), field=label, label=label)
    return value


@contextmanager
def _about(field: str):
    """Name the field at fault in a ValidationError raised inside, unless it names one already."""
    try:
        yield
    except ValidationError as exc:
        if exc.field is None:
            exc.field = field
        raise


def _uris(values) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise ValidationError(N_("URI lists must be lists of strings."))
    return [v for v in values if v.strip()]


def validate_metadata(*, name: str, redirect_uris: list[str], token_endpoint_auth_method: str = "client_secret_basic",
                      grant_types: list[str] | None = None, scopes: list[str] | None = None,
                      post_logout_redirect_uris: list[str] | None = None, require_pkce: bool | None = None,
                      skip_consent: bool = False, access_token_ttl: int | None = None, id_token_ttl: int | None = None,
                      refresh_token_ttl: int | None = None, refresh_token_idle_ttl: int | None = None,
                      access_token_format: str = "jwt", resources: list[str] | None = None,
                      served_resources: list[str] | None = None, require_mfa: bool = False,
                      backchannel_logout_uri: str | None = None, backchannel_logout_session_required: bool = False,
                      frontchannel_logout_uri: str | None = None, frontchannel_logout_session_required: bool = False,
                      logo_uri: str | None = None, client_uri: str | None = None,
                      policy_uri: str | None = None, tos_uri: str | None = None,
                      allowed_cors_origins: list[str] | None = None,
                      admin_scopes_allowed: frozenset[str] | tuple[str, ...] = (), **high_assurance) -> dict:
    """Check every field of a client registration, the same way for the CLI, the admin console, the
    admin API and dynamic registration. Returns the cleaned values. Admin scopes (`admin:…`) are
    refused unless listed in `admin_scopes_allowed` (what the registering administrator may grant)."""
    if not isinstance(name, str):
        raise ValidationError(N_("A client needs a name of 1-200 characters."), field="name")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError(N_("A client needs a name of 1-200 characters."), field="name")
    if token_endpoint_auth_method not in AUTH_METHODS:
        raise ValidationError(N_("token_endpoint_auth_method must be one of: %(options)s."),
                              options=", ".join(AUTH_METHODS))
    grant_types = grant_types or ["authorization_code"]
    if not isinstance(grant_types, (list, tuple)) or not all(isinstance(g, str) for g in grant_types):
        raise ValidationError(N_("grant_types must be a list of strings."))
    grant_types = list(grant_types)
    unknown = set(grant_types) - set(GRANT_TYPES)
    if unknown:
        raise ValidationError(Nn_("Unsupported grant type: %(names)s.", "Unsupported grant types: %(names)s."),
                              field="grant_types", num=len(unknown), names=", ".join(sorted(unknown)))
    public = token_endpoint_auth_method == "none"
    if "client_credentials" in grant_types and public:
        raise ValidationError(N_("The client_credentials grant is only for confidential clients (RFC 6749 "
                                 "section 4.4)."))
    scopes = scopes or ["openid", "profile", "email"]
    if not isinstance(scopes, (list, tuple)) or not all(isinstance(sc, str) for sc in scopes):
        raise ValidationError(N_("scopes must be a list of strings."))
    scopes = list(dict.fromkeys(scopes))
    unknown = {sc for sc in scopes if sc not in STANDARD_SCOPES
               and not (API_SCOPE.match(sc) and len(sc) <= MAX_API_SCOPE_LENGTH)}
    if unknown:
        raise ValidationError(Nn_("Unsupported scope: %(names)s.", "Unsupported scopes: %(names)s."), field="scopes",
                              num=len(unknown), names=", ".join(sorted(unknown)))
    admin = {sc for sc in scopes if sc.startswith(ADMIN_SCOPE_PREFIX)}
    if admin - set(admin_scopes_allowed):
        raise ValidationError(Nn_("You may not grant the administrative scope: %(names)s.",
                                  "You may not grant the administrative scopes: %(names)s."), field="scopes",
                              num=len(admin), names=", ".join(sorted(admin)))
    with _about("redirect_uris"):
        uris = [validate_redirect_uri(u) for u in _uris(redirect_uris)]
    if "authorization_code" in grant_types and not uris:
        raise ValidationError(N_("A client using the authorization code grant needs at least one redirect URI."),
                              field="redirect_uris")
    with _about("post_logout_redirect_uris"):
        logout_uris = [validate_redirect_uri(u) for u in _uris(post_logout_redirect_uris)]
    with _about("backchannel_logout_uri"):
        backchannel_logout_uri = validate_logout_uri(backchannel_logout_uri, "backchannel_logout_uri")
    with _about("frontchannel_logout_uri"):
        frontchannel_logout_uri = validate_logout_uri(frontchannel_logout_uri, "frontchannel_logout_uri")
    for ttl_name, ttl in (("access_token_ttl", access_token_ttl), ("id_token_ttl", id_token_ttl),
                          ("refresh_token_ttl", refresh_token_ttl),
                          ("refresh_token_idle_ttl", refresh_token_idle_ttl)):
        if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 < ttl <= 10**8):
            raise ValidationError(N_("%(label)s must be a positive number of seconds."), field=ttl_name,
                                  label=ttl_name)
    if refresh_token_idle_ttl and refresh_token_ttl and refresh_token_idle_ttl > refresh_token_ttl:
        raise ValidationError(N_("refresh_token_idle_ttl must not exceed refresh_token_ttl."),
                              field="refresh_token_idle_ttl")
    if access_token_format not in ACCESS_TOKEN_FORMATS:
        raise ValidationError(N_("access_token_format must be one of: %(options)s."), field="access_token_format",
                              options=", ".join(ACCESS_TOKEN_FORMATS))
    with _about("resources"):
        resources = list(dict.fromkeys(validate_resource(r) for r in _uris(resources)))
    with _about("served_resources"):
        served = list(dict.fromkeys(validate_resource(r) for r in _uris(served_resources)))
    if served and public:
        raise ValidationError(N_("Only a confidential client can act as a resource server (it must "
                                 "authenticate)."), field="served_resources")
    with _about("allowed_cors_origins"):
        origins = list(dict.fromkeys(validate_origin(o) for o in _uris(allowed_cors_origins)))
    unknown = set(high_assurance) - set(HIGH_ASSURANCE_FIELDS)
    if unknown:
        raise ValidationError(_UNKNOWN_FIELDS, num=len(unknown), names=", ".join(sorted(unknown)))
    values = {"token_endpoint_auth_method": token_endpoint_auth_method, "require_pkce": require_pkce}
    extra = validate_high_assurance(values, **high_assurance)
    require_pkce = values["require_pkce"]
    return extra | dict(
        name=name, redirect_uris=uris, post_logout_redirect_uris=logout_uris,
        token_endpoint_auth_method=token_endpoint_auth_method, grant_types=grant_types, scopes=scopes,
        require_pkce=True if public else bool(require_pkce), skip_consent=bool(skip_consent),
        access_token_ttl=access_token_ttl, id_token_ttl=id_token_ttl, refresh_token_ttl=refresh_token_ttl,
        refresh_token_idle_ttl=refresh_token_idle_ttl, access_token_format=access_token_format,
        resources=resources, served_resources=served, require_mfa=bool(require_mfa),
        backchannel_logout_uri=backchannel_logout_uri,
        backchannel_logout_session_required=bool(backchannel_logout_session_required),
        frontchannel_logout_uri=frontchannel_logout_uri,
        frontchannel_logout_session_required=bool(frontchannel_logout_session_required),
        logo_uri=_optional_uri(logo_uri, "logo_uri"), client_uri=_optional_uri(client_uri, "client_uri"),
        policy_uri=_optional_uri(policy_uri, "policy_uri"), tos_uri=_optional_uri(tos_uri, "tos_uri"),
        allowed_cors_origins=origins,
    )


def create(*, admin_scopes_allowed: frozenset[str] | tuple[str, ...] = (), **metadata) -> NewClient:
    """Register a client (fields: see validate_metadata). The secret is returned once and only its
    hash is stored."""
    values = validate_metadata(admin_scopes_allowed=admin_scopes_allowed, **metadata)
    secret = crypto.random_token(32) if values["token_endpoint_auth_method"] in SECRET_AUTH_METHODS else None
    row = store.Client(
        client_id=crypto.random_token(18), secret_hash=crypto.lookup_hash(secret) if secret else None,
        response_types=list(RESPONSE_TYPES), enabled=True, created_at=clock.now(), **values,
    )
    store.add(row)
    db.session.commit()
    return NewClient(client=view(row), client_secret=secret)


def _require(client_id: str) -> store.Client:
    row = store.get_by_client_id(client_id) if client_id and len(client_id) <= 64 else None
    if row is None or row.client_id in BUILTIN_CLIENT_IDS:
        raise NotFound(N_("No such client."))
    return row


def find(client_id: str) -> ClientView:
    """A client by client_id, disabled ones included (for administrators); NotFound otherwise."""
    return view(_require(client_id))


def update(client_id: str, changes: dict, admin_scopes_allowed: frozenset[str] | tuple[str, ...] = ()) -> ClientView:
    """Change a client's registration: the stored values with `changes` applied are validated as a
    whole. A client cannot switch between public and confidential (its credentials would not fit).
    Admin scopes it already has stay; new ones need `admin_scopes_allowed`."""
    row = _require(client_id)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValidationError(_UNKNOWN_FIELDS, num=len(unknown), names=", ".join(sorted(unknown)))
    current_values = {f: getattr(row, f) for f in FIELDS}
    merged = current_values | changes
    if (merged["token_endpoint_auth_method"] == "none") != (row.token_endpoint_auth_method == "none"):
        raise ValidationError(N_("A client cannot change between public and confidential; register a new one."),
                              field="auth_method")
    kept_admin = {sc for sc in row.scopes if sc.startswith(ADMIN_SCOPE_PREFIX)}
    values = validate_metadata(admin_scopes_allowed=frozenset(admin_scopes_allowed) | kept_admin, **merged)
    for name, value in values.items():
        setattr(row, name, value)
    db.session.commit()
    return view(row)


def set_enabled(client_id: str, enabled: bool) -> ClientView:
    row = _require(client_id)
    row.enabled = enabled
    db.session.commit()
    return view(row)


def delete(client_id: str) -> None:
    """Delete a client; its codes, tokens, consents and deliveries go with it (ON DELETE CASCADE)."""
    store.remove(_require(client_id))
    db.session.commit()


MAX_GRACE = 30 * 86400


def rotate_secret(client_id: str, grace_seconds: int = 0) -> NewClient:
    """A new secret for a confidential client, returned once. The old one keeps working for
    `grace_seconds` (0: at once invalid; at most 30 days) so deployments can switch over."""
    row = _require(client_id)
    if row.token_endpoint_auth_method not in SECRET_AUTH_METHODS:
        raise ValidationError(N_("This client has no secret (it is public or authenticates with its keys)."))
    if not isinstance(grace_seconds, int) or isinstance(grace_seconds, bool) or not 0 <= grace_seconds <= MAX_GRACE:
        raise ValidationError(N_("grace_seconds must be between 0 and %(num)d."), num=MAX_GRACE)
    secret = crypto.random_token(32)
    if grace_seconds:
        row.previous_secret_hash, row.previous_secret_expires_at = row.secret_hash, clock.now() + grace_seconds
    else:
        row.previous_secret_hash, row.previous_secret_expires_at = None, None
    row.secret_hash = crypto.lookup_hash(secret)
    db.session.commit()
    return NewClient(client=view(row), client_secret=secret)


def get(client_id: str) -> ClientView | None:
    """An enabled client by its client_id, else None (unknown and disabled look the same). A NUL, which
    can reach here from a decoded credential or an unverified JWT claim, names no client (PostgreSQL
    cannot even look it up)."""
    if not client_id or len(client_id) > 64 or "\x00" in client_id:
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
    presented = crypto.lookup_hash(secret)
    current_ok = crypto.constant_time_equal(client.secret_hash, presented)
    previous_ok = client.previous_secret_hash is not None and (client.previous_secret_expires_at or 0) > clock.now() \
        and crypto.constant_time_equal(client.previous_secret_hash, presented)
    return current_ok or previous_ok


def get_many(pks) -> list[ClientView]:
    """Clients by primary key (disabled ones included), ordered by id."""
    return [view(r) for r in store.get_many(pks)]


def list_all() -> list[ClientView]:
    return [view(r) for r in store.all_clients()]


def origin_allowed(origin: str | None) -> bool:
    """Whether an enabled client registered this CORS origin (scheme://host[:port])."""
    if not origin or len(origin) > 300 or origin == "null":
        return False
    return origin.rstrip("/") in store.cors_origins()


def list_registered() -> list[ClientView]:
    """Every client but the built-in consoles, disabled ones included (what administrators manage)."""
    return [view(r) for r in store.all_clients() if r.client_id not in BUILTIN_CLIENT_IDS]


ACCOUNT_CONSOLE_CLIENT_ID = "idp-account-console"
ADMIN_CONSOLE_CLIENT_ID = "idp-admin-console"
BUILTIN_CLIENT_IDS = (ACCOUNT_CONSOLE_CLIENT_ID, ADMIN_CONSOLE_CLIENT_ID)


def ensure_admin_console(issuer: str) -> ClientView:
    """The built-in client through which the admin console signs administrators in (like the
    account console's, with its own redirect URI)."""
    return _ensure_console(ADMIN_CONSOLE_CLIENT_ID, "Administration console", f"{issuer}/admin/callback")


def ensure_account_console(issuer: str) -> ClientView:
    """The built-in first-party client through which the account pages sign people in, so that the
    same policy (second factor, throttling, passkeys) applies there as for any app. Public, PKCE,
    no consent, only `openid`; its one redirect URI follows the issuer setting."""
    return _ensure_console(ACCOUNT_CONSOLE_CLIENT_ID, "Your account", f"{issuer}/account/callback")


def _ensure_console(client_id: str, name: str, redirect_uri: str) -> ClientView:
    row = store.get_by_client_id(client_id)
    if row is None:
        row = store.add(store.Client(
            client_id=client_id, secret_hash=None, name=name, redirect_uris=[redirect_uri],
            post_logout_redirect_uris=[], token_endpoint_auth_method="none", grant_types=["authorization_code"],
            response_types=list(RESPONSE_TYPES), scopes=["openid"], require_pkce=True, skip_consent=True,
            enabled=True, created_at=clock.now(),
        ))
        db.session.commit()
    elif row.redirect_uris != [redirect_uri]:
        row.redirect_uris = [redirect_uri]
        db.session.commit()
    return view(row)


def names(client_ids) -> dict[str, str]:
    """Client names by client_id (for showing names instead of ids); unknown ids are missing."""
    wanted = {c for c in client_ids if c}
    return {r.client_id: r.name for r in store.all_clients() if r.client_id in wanted} if wanted else {}
