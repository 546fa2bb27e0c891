"""Provider metadata: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2. Only what is implemented
is advertised. The document is built from the configured issuer once per process and served from
memory as pre-encoded bytes."""

from __future__ import annotations

import json
from functools import cache

from flask import Response

from .. import http, i18n
from ..services.claims import ALL_CLAIMS, AUTH_CLAIMS, RBAC_SCOPES, STANDARD_SCOPES
from ..services.client_keys import CLIENT_SIGNING_ALGS
from ..services.clients import GRANT_TYPES
from ..services.dpop import ALGS as DPOP_ALGS
from ..services.runtime import current
from ..services.sessions import ACR_LEVELS
from . import bp
from .introspection import IntrospectionEndpoint
from .revocation import RevocationEndpoint
from .server import ALL_AUTH_METHODS


def metadata() -> dict:
    settings = current().settings
    issuer = settings.issuer

    def endpoint(name: str) -> str:
        return http.issuer_url(name)  # from the issuer only: this document is cached for the process

    return {
        "issuer": issuer,
        "authorization_endpoint": endpoint("protocol.authorize"),
        "token_endpoint": endpoint("protocol.token"),
        "userinfo_endpoint": endpoint("protocol.userinfo"),
        "jwks_uri": endpoint("protocol.jwks"),
        "introspection_endpoint": endpoint("protocol.introspect"),
        "revocation_endpoint": endpoint("protocol.revoke"),
        "device_authorization_endpoint": endpoint("protocol.device_authorization"),
        "end_session_endpoint": endpoint("protocol.end_session"),
        "scopes_supported": list(STANDARD_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(settings.signing_algs),
        "token_endpoint_auth_methods_supported": list(ALL_AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(IntrospectionEndpoint.CLIENT_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(RevocationEndpoint.CLIENT_AUTH_METHODS),
        # RFC 8414 §2: the algs private_key_jwt assertions may be signed with, at each endpoint.
        "token_endpoint_auth_signing_alg_values_supported": list(CLIENT_SIGNING_ALGS),
        "introspection_endpoint_auth_signing_alg_values_supported": list(CLIENT_SIGNING_ALGS),
        "revocation_endpoint_auth_signing_alg_values_supported": list(CLIENT_SIGNING_ALGS),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "sid", *AUTH_CLAIMS,
                             *[c for c in ALL_CLAIMS if c != "sub"], *RBAC_SCOPES],  # roles/groups: same-named claims
        "claims_parameter_supported": True,
        "acr_values_supported": list(ACR_LEVELS),
        # RFC 9101 / OIDC Core §6: request objects by value; request_uri only as a PAR URN (never fetched).
        "request_parameter_supported": True,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "request_object_signing_alg_values_supported": [*CLIENT_SIGNING_ALGS, "none"],
        "dpop_signing_alg_values_supported": list(DPOP_ALGS),  # RFC 9449 §5.1
        # RFC 9126 §5
        "pushed_authorization_request_endpoint": endpoint("protocol.pushed_authorization_request"),
        "require_pushed_authorization_requests": bool(settings.require_pushed_authorization_requests),
        # Prompt Create 1.0 §5: "create" only while anyone may sign up
        "prompt_values_supported": ["none", "login", "consent", "select_account",
                                    *(["create"] if settings.registration == "open" else [])],
        "claim_types_supported": ["normal"],
        "ui_locales_supported": i18n.available(),  # exactly the complete catalogues
        "authorization_response_iss_parameter_supported": True,
        # OpenID Connect Back-Channel Logout 1.0 §2.1 and Front-Channel Logout 1.0 §3
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": True,
        "frontchannel_logout_session_supported": True,
    } | ({"registration_endpoint": endpoint("protocol.register")}  # RFC 8414 §2, when enabled
         if current().settings.dynamic_client_registration else {})


@cache
def _document(settings) -> bytes:
    return json.dumps(metadata(), separators=(",", ":")).encode()


def _serve() -> Response:
    rt = current()
    document = _document(rt.settings)
    response = Response(document, mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={rt.settings.discovery_max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/.well-known/openid-configuration", methods=["GET"])
def openid_configuration() -> Response:
    return _serve()


@bp.route("/.well-known/oauth-authorization-server", methods=["GET"])
def oauth_authorization_server() -> Response:
    return _serve()
