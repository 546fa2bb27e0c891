"""The console's client form as data: its sections (Basics · Sign-in & redirects · Logout · Tokens ·
Advanced), each field's label in words and help text, and the choices described. The template lays
these out; the view reads the posted form back into what services.clients.validate_metadata takes.
Every string here is a whole sentence or label, ready to be wrapped for translation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..i18n import gettext
from ..services.clients import DEVICE_CODE_GRANT


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # text | lines | check | select | ttl | json | grants | scopes
    help: str = ""


AUTH_METHOD_LABELS = {
    "client_secret_basic": "Web app on a server — sends its secret in the Authorization header (most common)",
    "client_secret_post": "Web app on a server — sends its secret in the request body",
    "private_key_jwt": "High-assurance app — proves itself with its own signing key, no shared secret",
    "none": "Single-page, mobile or desktop app — no secret, uses PKCE",
}
GRANT_TYPE_LABELS = {
    "authorization_code": "Sign-in in a browser (authorization code) — for web, mobile and single-page apps",
    "refresh_token": "Refresh tokens — the app stays signed in without asking again",
    "client_credentials": "Machine to machine (client credentials) — a service acting for itself, no person",
    DEVICE_CODE_GRANT: "Device code — for TVs and command-line tools: the person signs in on another device",
}
FORMAT_LABELS = {"jwt": "Signed JWT (resource servers check it themselves)",
                 "opaque": "Opaque reference (resource servers ask the introspection endpoint)"}

SECTIONS: tuple[tuple[str, str, tuple[Field, ...]], ...] = (
    ("basics", "Basics", (
        Field("name", "Application name", "text", "People see it on the sign-in and consent pages."),
        Field("auth_method", "Application type", "select", "How the application proves who it is. It cannot be "
              "changed after registration."),
        Field("client_uri", "Home page", "text", "An https address shown as a link on the consent page."),
        Field("logo_uri", "Logo", "text", "An https address of a square image, shown on the sign-in and consent "
              "pages."),
        Field("policy_uri", "Privacy policy", "text", "An https address shown as a link on the consent page."),
        Field("tos_uri", "Terms of service", "text", "An https address shown as a link on the consent page."),
    )),
    ("sign-in", "Sign-in & redirects", (
        Field("redirect_uris", "Redirect addresses", "lines", "Where people return after signing in. One per line, "
              "exact; https (http only for localhost); no fragments or wildcards."),
        Field("grant_types", "How the application gets tokens", "grants"),
        Field("scopes", "Allowed scopes", "scopes", "Separated by spaces: openid profile email address phone "
              "offline_access roles groups, or API scopes such as orders:read."),
        Field("require_pkce", "Require PKCE", "check", "Refuse sign-ins without a PKCE code challenge "
              "(always on for apps without a secret)."),
        Field("skip_consent", "Skip the consent page", "check", "Only for your own first-party applications."),
        Field("require_mfa", "Require two-step sign-in", "check", "Everyone signing in to this application needs "
              "a second factor; those without one set it up during sign-in."),
        Field("allowed_cors_origins", "Browser origins allowed to call the token endpoint", "lines",
              "For single-page apps: https://app.example.com. One per line."),
    )),
    ("logout", "Logout", (
        Field("post_logout_redirect_uris", "Addresses after sign-out", "lines", "Where people may return after "
              "signing out. One per line, exact."),
        Field("backchannel_logout_uri", "Back-channel logout address", "text", "The server is told here, "
              "server to server, when a person signs out (OpenID Back-Channel Logout)."),
        Field("backchannel_logout_session_required", "Include the session id (sid) in back-channel logout",
              "check"),
        Field("frontchannel_logout_uri", "Front-channel logout address", "text", "Loaded in a hidden frame of the "
              "sign-out page (OpenID Front-Channel Logout)."),
        Field("frontchannel_logout_session_required", "Include the issuer and session id in front-channel logout",
              "check"),
    )),
    ("tokens", "Tokens", (
        Field("access_token_format", "Access token format", "select"),
        Field("access_token_ttl", "Access token lifetime", "ttl", "In seconds; empty uses the server default."),
        Field("id_token_ttl", "ID token lifetime", "ttl", "In seconds; empty uses the server default."),
        Field("refresh_token_ttl", "Refresh token lifetime", "ttl", "In seconds, from sign-in; empty uses the "
              "server default."),
        Field("refresh_token_idle_ttl", "Refresh token idle lifetime", "ttl", "In seconds without use; empty uses "
              "the server default."),
        Field("resources", "APIs the application may call", "lines", "Resource addresses (RFC 8707 audiences) it may "
              "ask tokens for. One per line."),
        Field("served_resources", "APIs this application serves", "lines", "It may introspect tokens meant for "
              "these. One per line."),
    )),
    ("advanced", "Advanced: keys, PAR, DPoP, FAPI 2.0", (
        Field("jwks_uri", "Public keys address (JWK set URI)", "text", "Where the application publishes its public "
              "keys (for private_key_jwt and request objects); https."),
        Field("jwks", "Public keys (JWK set)", "json", "Instead of an address: the keys as JSON, {\"keys\": [...]}."),
        Field("token_endpoint_auth_signing_alg", "Client assertion algorithm", "text", "Only this algorithm for "
              "private_key_jwt (empty: RS256, PS256, ES256, EdDSA)."),
        Field("request_object_signing_alg", "Request object algorithm", "text", "Only this algorithm for request "
              "objects; \"none\" allows unsigned ones."),
        Field("id_token_signed_response_alg", "ID token algorithm", "text", "RS256 (default), PS256 or ES256."),
        Field("access_token_signed_response_alg", "Access token algorithm", "text",
              "RS256 (default), PS256 or ES256."),
        Field("require_pushed_authorization_requests", "Require pushed authorization requests (PAR)", "check",
              "Sign-in requests must be sent to the PAR endpoint first."),
        Field("dpop_bound_access_tokens", "Require DPoP-bound access tokens", "check", "Tokens work only with "
              "a proof from the application's key."),
        Field("fapi2", "FAPI 2.0 security profile", "check", "Requires private_key_jwt, PAR, PKCE and DPoP, and "
              "signs with PS256."),
    )),
)
FIELDS = {f.name: f for _, _, fields in SECTIONS for f in fields}
CHECKBOXES = tuple(f.name for f in FIELDS.values() if f.kind == "check")
TTLS = tuple(f.name for f in FIELDS.values() if f.kind == "ttl")
LISTS = tuple(f.name for f in FIELDS.values() if f.kind == "lines")
OPTIONAL_TEXTS = tuple(f.name for f in FIELDS.values() if f.kind == "text" and f.name != "name")


def label(name: str) -> str:
    """The label people see for a metadata field (for messages that name a field)."""
    field = FIELDS.get(name)
    return field.label if field else name.replace("_", " ")


_FIELD_NAME = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def in_words(message: str) -> str:
    """A service's message (already in the page's language) with the metadata names in it
    (`redirect_uris`, `jwks_uri`, …) replaced by the labels people see on the form ("Redirect
    addresses"), in the page's language too."""
    names = {**{f.name: f.label for f in FIELDS.values()}, "token_endpoint_auth_method": "Application type"}
    return _FIELD_NAME.sub(lambda m: f"“{gettext(names[m.group(0)])}”" if m.group(0) in names else m.group(0),
                           message)
