"""The OpenAPI 3.1 document of the admin API, served at /admin/api/openapi.json. Kept true by
tests/admin/test_openapi.py, which validates real responses against these schemas."""

from __future__ import annotations

from ..services.rbac import ADMIN_AUDIT, ADMIN_CLIENTS, ADMIN_ROLES, ADMIN_SCOPES, ADMIN_USERS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
STRS = {"type": "array", "items": STR}
N_STR = {"type": ["string", "null"]}
N_INT = {"type": ["integer", "null"]}

CLIENT_FIELDS = {
    "name": STR, "token_endpoint_auth_method": {
        "enum": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]},
    "redirect_uris": STRS, "post_logout_redirect_uris": STRS, "grant_types": STRS, "scopes": STRS,
    "require_pkce": BOOL, "skip_consent": BOOL, "require_mfa": BOOL, "access_token_format": {"enum": ["jwt", "opaque"]},
    "access_token_ttl": N_INT, "id_token_ttl": N_INT, "refresh_token_ttl": N_INT, "refresh_token_idle_ttl": N_INT,
    "resources": STRS, "served_resources": STRS, "logo_uri": N_STR, "client_uri": N_STR,
    "policy_uri": N_STR, "tos_uri": N_STR,
    "backchannel_logout_uri": N_STR, "backchannel_logout_session_required": BOOL, "frontchannel_logout_uri": N_STR,
    "frontchannel_logout_session_required": BOOL, "allowed_cors_origins": STRS,
    "jwks": {"type": ["object", "null"], "description": "The client's public JWK set, by value."},
    "jwks_uri": N_STR, "token_endpoint_auth_signing_alg": N_STR, "request_object_signing_alg": N_STR,
    "require_pushed_authorization_requests": BOOL, "dpop_bound_access_tokens": BOOL,
    "id_token_signed_response_alg": N_STR, "access_token_signed_response_alg": N_STR,
    "fapi2": {**BOOL, "description": "FAPI 2.0 Security Profile: PAR, PKCE, private_key_jwt and DPoP required."},
}
CLIENT = {"type": "object", "additionalProperties": False,
          "required": ["client_id", "enabled", "created_at", "previous_secret_expires_at", *CLIENT_FIELDS],
          "properties": {"client_id": STR, "enabled": BOOL, "created_at": INT, "previous_secret_expires_at": N_INT,
                         **CLIENT_FIELDS}}
CLIENT_WITH_SECRET = {**CLIENT, "required": [*CLIENT["required"], "client_secret"], "properties": {
    **CLIENT["properties"], "client_secret": {**N_STR, "description": "Shown once; null for public clients."}}}
USER = {"type": "object", "additionalProperties": False,
        "required": ["id", "sub", "username", "email", "email_verified", "enabled", "claims", "roles", "groups"],
        "properties": {"id": INT, "sub": STR, "username": STR, "email": N_STR, "email_verified": BOOL,
                       "enabled": BOOL, "claims": {"type": "object"}, "roles": STRS, "groups": STRS}}
ROLE = {"type": "object", "additionalProperties": False, "required": ["name", "description", "members", "builtin"],
        "properties": {"name": STR, "description": STR, "members": INT, "builtin": BOOL}}
EVENT = {"type": "object", "additionalProperties": False,
         "required": ["id", "at", "event", "outcome", "actor_user_id", "subject_user_id", "client_id", "ip_address",
                      "user_agent", "reason", "details"],
         "properties": {"id": INT, "at": {**INT, "description": "Unix time"}, "event": STR,
                        "outcome": {"enum": ["success", "failure"]}, "actor_user_id": N_INT,
                        "subject_user_id": N_INT, "client_id": N_STR, "ip_address": N_STR, "user_agent": N_STR,
                        "reason": N_STR, "details": {"type": "object"}}}
PROBLEM = {"type": "object", "required": ["type", "title", "status", "detail"],
           "properties": {"type": STR, "title": STR, "status": INT, "detail": STR}}


def _page(item: str) -> dict:
    return {"type": "object", "additionalProperties": False, "required": ["items", "total", "offset", "limit"],
            "properties": {"items": {"type": "array", "items": _ref(item)}, "total": INT, "offset": INT,
                           "limit": INT}}


def _list(item: str) -> dict:
    return {"type": "object", "additionalProperties": False, "required": ["items"],
            "properties": {"items": {"type": "array", "items": _ref(item)}}}


PROBLEM_RESPONSE = {"description": "Problem details (RFC 9457)",
                    "content": {"application/problem+json": {"schema": _ref("Problem")}}}
ERRORS = {"400": PROBLEM_RESPONSE, "401": PROBLEM_RESPONSE, "403": PROBLEM_RESPONSE, "404": PROBLEM_RESPONSE}
NO_CONTENT = {"204": {"description": "Done"}}
PAGING = [{"name": "offset", "in": "query", "schema": {**INT, "minimum": 0}},
          {"name": "limit", "in": "query", "schema": {**INT, "minimum": 1, "maximum": 100}}]


def _op(scope: str, summary: str, responses: dict, *, body: dict | None = None, params: list | None = None) -> dict:
    op = {"summary": summary, "security": [{"bearer": [scope]}], "responses": {**responses, **ERRORS},
          "x-required-scope": scope}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str, schema: dict) -> list:
    return [{"name": name, "in": "path", "required": True, "schema": schema}]


def paths() -> dict:
    client_input = {"type": "object", "properties": CLIENT_FIELDS, "additionalProperties": False}
    cid = _path_param("client_id", STR)
    uid = _path_param("user_id", INT)
    out = {
        "/v1/clients": {
            "get": _op(ADMIN_CLIENTS, "List registered clients", {"200": _json(_list("Client"))}),
            "post": _op(ADMIN_CLIENTS, "Register a client (the secret is returned once)",
                        {"201": _json(_ref("ClientWithSecret"), "Created")},
                        body={**client_input, "required": ["name"]}),
        },
        "/v1/clients/{client_id}": {
            "parameters": cid,
            "get": _op(ADMIN_CLIENTS, "A client", {"200": _json(_ref("Client"))}),
            "patch": _op(ADMIN_CLIENTS, "Change a client", {"200": _json(_ref("Client"))}, body=client_input),
            "delete": _op(ADMIN_CLIENTS, "Delete a client and its grants", NO_CONTENT),
        },
        "/v1/clients/{client_id}/disable": {
            "parameters": cid, "post": _op(ADMIN_CLIENTS, "Disable a client", {"200": _json(_ref("Client"))})},
        "/v1/clients/{client_id}/enable": {
            "parameters": cid, "post": _op(ADMIN_CLIENTS, "Enable a client", {"200": _json(_ref("Client"))})},
        "/v1/clients/{client_id}/secret": {
            "parameters": cid,
            "post": _op(ADMIN_CLIENTS, "Rotate the secret; the old one stays valid for grace_seconds",
                        {"200": _json(_ref("ClientWithSecret"))},
                        body={"type": "object", "properties": {"grace_seconds": {**INT, "minimum": 0}}})},
        "/v1/initial-access-tokens": {"post": _op(
            ADMIN_CLIENTS, "An initial access token for dynamic client registration (RFC 7591), shown once",
            {"201": _json({"type": "object", "additionalProperties": False,
                           "required": ["initial_access_token", "expires_at", "uses", "registration_endpoint",
                                        "enabled"],
                           "properties": {"initial_access_token": STR, "expires_at": INT, "uses": INT,
                                          "registration_endpoint": STR, "enabled": BOOL}}, "Created")},
            body={"type": "object", "properties": {
                "uses": {**INT, "minimum": 1, "maximum": 1000, "default": 1,
                         "description": "How many clients the token may register (single-use by default)"},
                "expires_in": {**INT, "minimum": 1, "maximum": 2592000,
                               "description": "Lifetime in seconds (default initial_access_token_ttl)"}}})},
        "/v1/invitations": {"post": _op(
            ADMIN_USERS, "Invite a person by e-mail: the account, without a password, and a mailed single-use "
            "link to choose one", {"201": _json(_ref("User"), "Created")},
            body={"type": "object", "required": ["username", "email"],
                  "properties": {"username": STR, "email": STR, "claims": {"type": "object"},
                                 "locale": {**STR, "description": "The person's language (a BCP 47 tag of a "
                                            "language the server speaks: en, de, fr, es); the invitation is "
                                            "written in it and it is stored as their locale claim. "
                                            "Default: English"}}})},
        "/v1/users": {
            "get": _op(ADMIN_USERS, "Search users", {"200": _json(_page("User"))},
                       params=[{"name": "q", "in": "query", "schema": STR}, *PAGING]),
            "post": _op(ADMIN_USERS, "Create a user", {"201": _json(_ref("User"), "Created")},
                        body={"type": "object", "required": ["username", "password"],
                              "properties": {"username": STR, "password": STR, "email": N_STR,
                                             "email_verified": BOOL, "claims": {"type": "object"}}}),
        },
        "/v1/users/{user_id}": {
            "parameters": uid,
            "get": _op(ADMIN_USERS, "A user", {"200": _json(_ref("User"))}),
            "patch": _op(ADMIN_USERS, "Edit e-mail and profile claims", {"200": _json(_ref("User"))},
                         body={"type": "object", "properties": {"email": N_STR, "email_verified": BOOL,
                                                                "claims": {"type": "object"}}}),
            "delete": _op(ADMIN_USERS, "Delete a user (administrators: also admin:roles)", NO_CONTENT),
        },
        "/v1/users/{user_id}/disable": {"parameters": uid, "post": _op(
            ADMIN_USERS, "Disable; ends sessions and revokes tokens", {"200": _json(_ref("User"))})},
        "/v1/users/{user_id}/enable": {"parameters": uid, "post": _op(
            ADMIN_USERS, "Enable", {"200": _json(_ref("User"))})},
        "/v1/users/{user_id}/mfa/reset": {"parameters": uid, "post": _op(
            ADMIN_USERS, "Remove every second factor", {"200": _json(
                {"type": "object", "required": ["removed"], "properties": {"removed": {
                    "type": "object", "properties": {"totp": INT, "passkeys": INT, "recovery_codes": INT}}}})})},
        "/v1/users/{user_id}/password-link": {"parameters": uid, "post": _op(
            ADMIN_USERS, "A single-use, expiring set-password link, mailed to the user's address (then `sent_to`"
            " says where); shown as `url` only for an account without an address", {"200": _json(
                {"type": "object", "required": ["expires_at"], "additionalProperties": False,
                 "properties": {"url": STR, "sent_to": STR, "expires_at": INT}})})},
        "/v1/users/{user_id}/roles": {"parameters": uid, "put": _op(
            ADMIN_USERS, "Replace the user's roles (admin roles also need admin:roles)",
            {"200": _json(_ref("User"))},
            body={"type": "object", "required": ["roles"], "properties": {"roles": STRS}})},
        "/v1/users/{user_id}/groups": {"parameters": uid, "put": _op(
            ADMIN_USERS, "Replace the user's groups", {"200": _json(_ref("User"))},
            body={"type": "object", "required": ["groups"], "properties": {"groups": STRS}})},
        "/v1/mail": {"get": _op(ADMIN_AUDIT, "The newest 100 messages of the mail outbox and their delivery status",
                                {"200": _json({"type": "object", "required": ["items"], "properties": {
                                    "items": {"type": "array", "items": {
                                        "type": "object", "additionalProperties": False,
                                        "required": ["id", "kind", "recipient", "subject", "status", "attempts"],
                                        "properties": {"id": INT, "kind": STR, "recipient": STR, "subject": STR,
                                                       "status": {"enum": ["pending", "sent", "failed",
                                                                           "suppressed"]},
                                                       "attempts": INT, "last_error": N_STR, "created_at": INT,
                                                       "sent_at": {"type": ["integer", "null"]}}}}}})})},
        "/v1/audit": {"get": _op(ADMIN_AUDIT, "Query the audit log, newest first", {"200": _json(_page("AuditEvent"))},
                                 params=[{"name": n, "in": "query", "schema": s} for n, s in (
                                     ("event", STR), ("outcome", {"enum": ["success", "failure"]}),
                                     ("user_id", INT), ("client_id", STR), ("since", INT), ("until", INT))]
                                 + PAGING)},
    }
    for kinds, label in (("roles", "role"), ("groups", "group")):
        name = _path_param("name", STR)
        out[f"/v1/{kinds}"] = {
            "get": _op(ADMIN_ROLES, f"List {kinds}", {"200": _json(_list("Role"))}),
            "post": _op(ADMIN_ROLES, f"Create a {label}", {"201": _json(_ref("Role"), "Created")},
                        body={"type": "object", "required": ["name"],
                              "properties": {"name": STR, "description": STR}}),
        }
        out[f"/v1/{kinds}/{{name}}"] = {
            "parameters": name,
            "get": _op(ADMIN_ROLES, f"A {label}", {"200": _json(_ref("Role"))}),
            "patch": _op(ADMIN_ROLES, f"Change a {label}'s description", {"200": _json(_ref("Role"))},
                         body={"type": "object", "properties": {"description": STR}}),
            "delete": _op(ADMIN_ROLES, f"Delete a {label}", NO_CONTENT),
        }
    return out


def document(issuer: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Identity provider admin API", "version": "1",
                 "description": "Authorize with a bearer access token from this server whose audience is this "
                                "provider's issuer alone, carrying the admin scope each operation names "
                                "(automation: the client_credentials grant). No caller acts on a client, user or "
                                "role holding an admin permission it lacks itself. Errors are RFC 9457 problem "
                                "details: 401 without a valid token, 403 without the scope or the right."},
        "servers": [{"url": f"{issuer}/admin/api"}],
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "components": {
            "securitySchemes": {"bearer": {
                "type": "oauth2", "description": "Access tokens of this server.",
                "flows": {"clientCredentials": {"tokenUrl": f"{issuer}/token",
                                                "scopes": {s: f"Admin API: {s.split(':')[1]}" for s in ADMIN_SCOPES}}},
            }},
            "schemas": {"Client": CLIENT, "ClientWithSecret": CLIENT_WITH_SECRET, "User": USER, "Role": ROLE,
                        "AuditEvent": EVENT, "Problem": PROBLEM},
        },
        "paths": paths(),
    }
