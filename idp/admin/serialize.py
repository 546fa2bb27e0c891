"""JSON shapes of the admin API (the OpenAPI document in openapi.py describes them)."""

from __future__ import annotations

from ..services import rbac
from ..types import AuditEntry, ClientView, RoleView, UserView


def client(c: ClientView) -> dict:
    return {
        "client_id": c.client_id, "name": c.name, "enabled": c.enabled, "created_at": c.created_at,
        "token_endpoint_auth_method": c.token_endpoint_auth_method, "redirect_uris": list(c.redirect_uris),
        "post_logout_redirect_uris": list(c.post_logout_redirect_uris), "grant_types": list(c.grant_types),
        "scopes": list(c.scopes), "require_pkce": c.require_pkce, "skip_consent": c.skip_consent,
        "require_mfa": c.require_mfa, "access_token_format": c.access_token_format,
        "access_token_ttl": c.access_token_ttl, "id_token_ttl": c.id_token_ttl,
        "refresh_token_ttl": c.refresh_token_ttl, "refresh_token_idle_ttl": c.refresh_token_idle_ttl,
        "resources": list(c.resources), "served_resources": list(c.served_resources), "logo_uri": c.logo_uri,
        "client_uri": c.client_uri, "backchannel_logout_uri": c.backchannel_logout_uri,
        "backchannel_logout_session_required": c.backchannel_logout_session_required,
        "frontchannel_logout_uri": c.frontchannel_logout_uri,
        "frontchannel_logout_session_required": c.frontchannel_logout_session_required,
        "allowed_cors_origins": list(c.allowed_cors_origins),
        "previous_secret_expires_at": c.previous_secret_expires_at,
        "jwks": c.jwks, "jwks_uri": c.jwks_uri, "token_endpoint_auth_signing_alg": c.token_endpoint_auth_signing_alg,
        "request_object_signing_alg": c.request_object_signing_alg,
        "require_pushed_authorization_requests": c.require_pushed_authorization_requests,
        "dpop_bound_access_tokens": c.dpop_bound_access_tokens,
        "id_token_signed_response_alg": c.id_token_signed_response_alg,
        "access_token_signed_response_alg": c.access_token_signed_response_alg, "fapi2": c.fapi2,
    }


def user(u: UserView) -> dict:
    return {"id": u.id, "sub": u.sub, "username": u.username, "email": u.email, "email_verified": u.email_verified,
            "enabled": u.enabled, "claims": dict(u.claims), "roles": rbac.names_of(rbac.ROLE, u.id),
            "groups": rbac.names_of(rbac.GROUP, u.id)}


def role(r: RoleView) -> dict:
    return {"name": r.name, "description": r.description, "members": r.members, "builtin": r.builtin}


def event(e: AuditEntry) -> dict:
    return {"id": e.id, "at": e.at, "event": e.event, "outcome": e.outcome, "actor_user_id": e.actor_user_id,
            "subject_user_id": e.subject_user_id, "client_id": e.client_id, "ip_address": e.ip_address,
            "user_agent": e.user_agent, "reason": e.reason, "details": dict(e.details)}
