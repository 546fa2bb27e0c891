"""Dynamic client registration (RFC 7591) and management (RFC 7592). Off unless the
`dynamic_client_registration` setting is 1. Registering needs a one-time initial access token an
administrator issued (console or admin API); metadata is checked by clients.validate_metadata exactly
as in the console, except that administrative scopes and skipping consent cannot be self-registered."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import NotFound, ValidationError
from ..extensions import db
from ..storage import clients as client_store
from ..storage import password_links as token_store
from ..types import ClientView
from . import clients, clock, crypto, outbound
from .text import N_

# RFC 7591 §2 metadata names → our client fields; `scope` is a space-separated string there.
METADATA = {
    "redirect_uris": "redirect_uris", "token_endpoint_auth_method": "token_endpoint_auth_method",
    "grant_types": "grant_types", "client_name": "name", "client_uri": "client_uri", "logo_uri": "logo_uri",
    "policy_uri": "policy_uri", "tos_uri": "tos_uri",
    "post_logout_redirect_uris": "post_logout_redirect_uris", "backchannel_logout_uri": "backchannel_logout_uri",
    "backchannel_logout_session_required": "backchannel_logout_session_required",
    "frontchannel_logout_uri": "frontchannel_logout_uri",
    "frontchannel_logout_session_required": "frontchannel_logout_session_required",
    # Keys and high-assurance options (RFC 7591 §2, RFC 9101 §10.2, RFC 9126 §6, RFC 9449 §5.2, OIDC Registration).
    "jwks": "jwks", "jwks_uri": "jwks_uri", "token_endpoint_auth_signing_alg": "token_endpoint_auth_signing_alg",
    "request_object_signing_alg": "request_object_signing_alg",
    "require_pushed_authorization_requests": "require_pushed_authorization_requests",
    "dpop_bound_access_tokens": "dpop_bound_access_tokens",
    "id_token_signed_response_alg": "id_token_signed_response_alg",
}
HIGH_ASSURANCE_OUT = ("jwks", "jwks_uri", "token_endpoint_auth_signing_alg", "request_object_signing_alg",
                      "require_pushed_authorization_requests", "dpop_bound_access_tokens",
                      "id_token_signed_response_alg")
IGNORED = ("response_types", "scope", "contacts", "software_id", "software_version",
           "client_id", "client_secret", "application_type")


class InvalidRedirectUri(ValidationError):
    """RFC 7591 §3.2.2 invalid_redirect_uri."""


@dataclass(frozen=True)
class Registration:
    client: ClientView
    client_secret: str | None = field(repr=False)
    registration_access_token: str | None = field(default=None, repr=False)


MAX_INITIAL_USES = 1000
MAX_INITIAL_TTL = 30 * 86400


def issue_initial_access_token(ttl: int, uses: int = 1) -> tuple[str, int]:
    """A bearer token that allows registering `uses` clients (default one) until it expires in `ttl`
    seconds; ValidationError for a count or lifetime out of range. The conformance suite's Dynamic
    plan registers several clients with one token: an operator mints one with `uses` > 1 for it."""
    if isinstance(uses, bool) or not isinstance(uses, int) or not 1 <= uses <= MAX_INITIAL_USES:
        raise ValidationError(N_("The number of uses must be a whole number from 1 to %(num)d."), field="uses",
                              num=MAX_INITIAL_USES)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= MAX_INITIAL_TTL:
        raise ValidationError(N_("The lifetime must be from 1 to %(num)d seconds (%(days)d days)."),
                              field="expires_in", num=MAX_INITIAL_TTL, days=MAX_INITIAL_TTL // 86400)
    token = crypto.random_token(32)
    now = clock.now()
    token_store.add_initial(token_store.InitialAccessToken(token_hash=crypto.lookup_hash(token), created_at=now,
                                                           expires_at=now + ttl, max_uses=uses))
    db.session.commit()
    return token, now + ttl


def to_fields(metadata: dict, defaults: bool = True) -> dict:
    """RFC 7591 metadata as clients.validate_metadata arguments; unknown members are ignored (§2)."""
    if not isinstance(metadata, dict):
        raise ValidationError("The request body must be a JSON object.")
    response_types = metadata.get("response_types", ["code"])
    if response_types != ["code"] and response_types != []:
        raise ValidationError("Only the response type 'code' is supported.")
    out = {ours: metadata[theirs] for theirs, ours in METADATA.items() if theirs in metadata}
    if "scope" in metadata:
        if not isinstance(metadata["scope"], str):
            raise ValidationError("scope must be a space-separated string.")
        out["scopes"] = metadata["scope"].split()
    for name in ("name", "token_endpoint_auth_method", "client_uri", "logo_uri", "policy_uri", "tos_uri",
                 "backchannel_logout_uri",
                 "frontchannel_logout_uri", "jwks_uri", "token_endpoint_auth_signing_alg",
                 "request_object_signing_alg", "id_token_signed_response_alg"):
        if name in out and out[name] is not None and not isinstance(out[name], str):
            raise ValidationError(f"{name} must be a string.")
    if defaults:
        out.setdefault("name", "Unnamed application")
        out.setdefault("redirect_uris", [])
    return out


def check_policy(settings, fields: dict) -> None:
    """What self-registration may ask for beyond valid metadata: only scopes on the operator's allow-list
    (`registration_allowed_scopes`, default the OIDC scopes), only allowed grant types (client_credentials
    never by default), and a back-channel logout URI and jwks_uri the provider may safely call (services.outbound).
    Operators registering clients themselves are not limited by this."""
    scopes = fields.get("scopes")
    # Only strings are judged here (a list may hold anything); validate_metadata refuses the rest.
    refused = {s for s in (scopes if isinstance(scopes, list) else []) if isinstance(s, str)} - \
        settings.registration_scopes
    if refused:
        raise ValidationError(f"These scopes cannot be self-registered: {', '.join(sorted(refused))}.")
    grants = fields.get("grant_types")
    refused = {g for g in (grants if isinstance(grants, list) else []) if isinstance(g, str)} - \
        settings.registration_grant_types
    if refused:
        raise ValidationError(f"These grant types cannot be self-registered: {', '.join(sorted(map(str, refused)))}.")
    for name in ("backchannel_logout_uri", "jwks_uri"):  # URLs the provider itself calls (SSRF)
        uri = fields.get(name)
        if isinstance(uri, str) and uri.strip():
            outbound.check_url(uri.strip(), name)


def _validated(fields: dict) -> dict:
    try:
        return clients.validate_metadata(**fields)
    except ValidationError as exc:
        if "Redirect URI" in str(exc) or "redirect URI" in str(exc):
            raise InvalidRedirectUri(exc.message) from None
        raise


def register(settings, initial_access_token: str, metadata: dict) -> Registration:
    """RFC 7591 §3: validate, claim one use of the initial access token, create the client with a
    registration access token for RFC 7592 management."""
    fields = to_fields(metadata)
    _validated(fields)
    check_policy(settings, fields)
    if not initial_access_token or len(initial_access_token) > 128 or \
            not token_store.claim_initial(crypto.lookup_hash(initial_access_token), clock.now()):
        db.session.rollback()
        raise PermissionError("The initial access token is invalid, expired or used.")
    new = clients.create(**fields)
    reg_token = crypto.random_token(32)
    row = client_store.get(new.client.id)
    row.registration_token_hash = crypto.lookup_hash(reg_token)
    db.session.commit()
    return Registration(client=clients.view(row), client_secret=new.client_secret,
                        registration_access_token=reg_token)


def _managed(client_id: str, registration_token: str) -> client_store.Client:
    row = client_store.get_by_client_id(client_id) if client_id and len(client_id) <= 64 else None
    if row is None or row.registration_token_hash is None or not registration_token or \
            not crypto.constant_time_equal(row.registration_token_hash, crypto.lookup_hash(registration_token)):
        raise NotFound("Unknown client or wrong registration access token.")
    return row


def read(client_id: str, registration_token: str) -> ClientView:
    """RFC 7592 §2.1."""
    return clients.view(_managed(client_id, registration_token))


def update(settings, client_id: str, registration_token: str, metadata: dict) -> ClientView:
    """RFC 7592 §2.2: the fields sent replace the registered ones (omitted fields keep their value),
    validated as a whole exactly like a new registration."""
    _managed(client_id, registration_token)
    if not isinstance(metadata, dict) or metadata.get("client_id") not in (None, client_id):
        raise ValidationError("client_id does not match.")
    fields = to_fields(metadata, defaults=False)
    check_policy(settings, fields)
    try:
        return clients.update(client_id, fields)
    except ValidationError as exc:
        if "Redirect URI" in str(exc):
            raise InvalidRedirectUri(exc.message) from None
        raise


def delete(client_id: str, registration_token: str) -> None:
    """RFC 7592 §2.3."""
    _managed(client_id, registration_token)
    clients.delete(client_id)


def metadata_of(client: ClientView) -> dict:
    """RFC 7591 §3.2.1 client information (without secrets)."""
    out = {
        "client_id": client.client_id, "client_id_issued_at": client.created_at, "client_name": client.name,
        "redirect_uris": list(client.redirect_uris), "grant_types": list(client.grant_types),
        "response_types": ["code"], "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "scope": " ".join(client.scopes), "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
    }
    for name in ("client_uri", "logo_uri", "policy_uri", "tos_uri", "backchannel_logout_uri", "frontchannel_logout_uri",
                 *HIGH_ASSURANCE_OUT):
        if getattr(client, name):
            out[name] = getattr(client, name)
    return out
