"""The console's client form as data: its sections (Basics · Sign-in & redirects · Logout · Tokens ·
Advanced), each field's label in words and help text, and the choices described. The template lays
these out; the view reads the posted form back into what services.clients.validate_metadata takes.
Every string here is a whole sentence or label, marked N_() and translated by the template."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..i18n import gettext
from ..services.clients import DEVICE_CODE_GRANT
from ..services.text import N_


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # text | lines | check | select | ttl | json | grants | scopes
    help: str = ""


AUTH_METHOD_LABELS = {
    "client_secret_basic": N_("Web app on a server — sends its secret in the Authorization header (most common)"),
    "client_secret_post": N_("Web app on a server — sends its secret in the request body"),
    "private_key_jwt": N_("High-assurance app — proves itself with its own signing key, no shared secret"),
    "none": N_("Single-page, mobile or desktop app — no secret, uses PKCE"),
}
GRANT_TYPE_LABELS = {
    "authorization_code": N_("Sign-in in a browser (authorization code) — for web, mobile and single-page apps"),
    "refresh_token": N_("Refresh tokens — the app stays signed in without asking again"),
    "client_credentials": N_("Machine to machine (client credentials) — a service acting for itself, no person"),
    DEVICE_CODE_GRANT: N_("Device code — for TVs and command-line tools: the person signs in on another device"),
}
FORMAT_LABELS = {"jwt": N_("Signed JWT (resource servers check it themselves)"),
                 "opaque": N_("Opaque reference (resource servers ask the introspection endpoint)")}

SECTIONS: tuple[tuple[str, str, tuple[Field, ...]], ...] = (
    ("basics", N_("Basics"), (
        Field("name", N_("Application name"), "text", N_("People see it on the sign-in and consent pages.")),
        Field("auth_method", N_("Application type"), "select", N_("How the application proves who it is. It cannot be "
              "changed after registration.")),
        Field("client_uri", N_("Home page"), "text", N_("An https address shown as a link on the consent page.")),
        Field("logo_uri", N_("Logo"), "text", N_("An https address of a square image, shown on the sign-in and consent "
              "pages.")),
        Field("policy_uri", N_("Privacy policy"), "text", N_("An https address shown as a link on the consent page.")),
        Field("tos_uri", N_("Terms of service"), "text", N_("An https address shown as a link on the consent page.")),
    )),
    ("sign-in", N_("Sign-in & redirects"), (
        Field("redirect_uris", N_("Redirect addresses"), "lines",
              N_("Where people return after signing in. One per line, "
                 "exact; https (http only for localhost); no fragments or wildcards.")),
        Field("grant_types", N_("How the application gets tokens"), "grants"),
        Field("scopes", N_("Allowed scopes"), "scopes", N_("Separated by spaces: openid profile email address phone "
              "offline_access roles groups, or API scopes such as orders:read.")),
        Field("require_pkce", N_("Require PKCE"), "check", N_("Refuse sign-ins without a PKCE code challenge "
              "(always on for apps without a secret).")),
        Field("skip_consent", N_("Skip the consent page"), "check", N_("Only for your own first-party applications.")),
        Field("require_mfa", N_("Require two-step sign-in"), "check",
              N_("Everyone signing in to this application needs "
                 "a second factor; those without one set it up during sign-in.")),
        Field("allowed_cors_origins", N_("Browser origins allowed to call the token endpoint"), "lines",
              N_("For single-page apps: https://app.example.com. One per line.")),
    )),
    ("logout", N_("Logout"), (
        Field("post_logout_redirect_uris", N_("Addresses after sign-out"), "lines", N_("Where people may return after "
              "signing out. One per line, exact.")),
        Field("backchannel_logout_uri", N_("Back-channel logout address"), "text", N_("The server is told here, "
              "server to server, when a person signs out (OpenID Back-Channel Logout).")),
        Field("backchannel_logout_session_required", N_("Include the session id (sid) in back-channel logout"),
              "check"),
        Field("frontchannel_logout_uri", N_("Front-channel logout address"), "text",
              N_("Loaded in a hidden frame of the "
                 "sign-out page (OpenID Front-Channel Logout).")),
        Field("frontchannel_logout_session_required", N_("Include the issuer and session id in front-channel logout"),
              "check"),
    )),
    ("tokens", N_("Tokens"), (
        Field("access_token_format", N_("Access token format"), "select"),
        Field("access_token_ttl", N_("Access token lifetime"), "ttl", N_("In seconds; empty uses the server default.")),
        Field("id_token_ttl", N_("ID token lifetime"), "ttl", N_("In seconds; empty uses the server default.")),
        Field("refresh_token_ttl", N_("Refresh token lifetime"), "ttl", N_("In seconds, from sign-in; empty uses the "
              "server default.")),
        Field("refresh_token_idle_ttl", N_("Refresh token idle lifetime"), "ttl",
              N_("In seconds without use; empty uses "
                 "the server default.")),
        Field("resources", N_("APIs the application may call"), "lines",
              N_("Resource addresses (RFC 8707 audiences) it may "
                 "ask tokens for. One per line.")),
        Field("served_resources", N_("APIs this application serves"), "lines", N_("It may introspect tokens meant for "
              "these. One per line.")),
    )),
    ("advanced", N_("Advanced: keys, PAR, DPoP, FAPI 2.0"), (
        Field("jwks_uri", N_("Public keys address (JWK set URI)"), "text",
              N_("Where the application publishes its public "
                 "keys (for private_key_jwt and request objects); https.")),
        Field("jwks", N_("Public keys (JWK set)"), "json",
              N_("Instead of an address: the keys as JSON, {\"keys\": [...]}.")),
        Field("token_endpoint_auth_signing_alg", N_("Client assertion algorithm"), "text", N_("Only this algorithm for "
              "private_key_jwt (empty: RS256, PS256, ES256, EdDSA).")),
        Field("request_object_signing_alg", N_("Request object algorithm"), "text",
              N_("Only this algorithm for request "
                 "objects; \"none\" allows unsigned ones.")),
        Field("id_token_signed_response_alg", N_("ID token algorithm"), "text", N_("RS256 (default), PS256 or ES256.")),
        Field("access_token_signed_response_alg", N_("Access token algorithm"), "text",
              N_("RS256 (default), PS256 or ES256.")),
        Field("require_pushed_authorization_requests", N_("Require pushed authorization requests (PAR)"), "check",
              N_("Sign-in requests must be sent to the PAR endpoint first.")),
        Field("dpop_bound_access_tokens", N_("Require DPoP-bound access tokens"), "check", N_("Tokens work only with "
              "a proof from the application's key.")),
        Field("fapi2", N_("FAPI 2.0 security profile"), "check", N_("Requires private_key_jwt, PAR, PKCE and DPoP, and "
              "signs with PS256.")),
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
    return _FIELD_NAME.sub(lambda m: gettext("“%(label)s”", label=gettext(names[m.group(0)]))
                           if m.group(0) in names else m.group(0), message)
