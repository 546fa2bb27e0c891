"""The Authlib authorization server behind the token endpoint: client authentication, grant
dispatch, PKCE verification and RFC 6749 error responses, extended by subclassing."""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import AuthorizationPendingError, ExpiredTokenError, SlowDownError
from flask import g, request

from .. import http
from ..services import clients, codes, consents, device, tokens, users
from ..services.claims import STANDARD_SCOPES
from ..services.runtime import current
from ..types import ClientView, CodeGrant, DeviceGrant, RefreshGrant
from .client_assertion import METHOD as PRIVATE_KEY_JWT
from .client_assertion import PrivateKeyJWT
from .dpop import token_binding
from .introspection import IntrospectionEndpoint
from .revocation import RevocationEndpoint

CONFIDENTIAL_AUTH_METHODS = ["client_secret_basic", "client_secret_post", PRIVATE_KEY_JWT]
ALL_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
SECRET_EITHER_WAY_ENDPOINTS = ("revocation", "introspection")


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: the requested resource is invalid, unknown, or not allowed for this client."""

    error = "invalid_target"


def requested_resources() -> list[str]:
    """The `resource` parameters of this request (RFC 8707 §2; the parameter may repeat)."""
    source = request.form if request.method == "POST" else request.args
    return source.getlist("resource")


def audience(client: ClientView, granted: tuple[str, ...] = ()) -> tuple[str, ...]:
    try:
        return tokens.resolve_audience(current().settings, client, requested_resources(), granted)
    except tokens.InvalidTarget as exc:
        raise InvalidTargetError(str(exc)) from None


class Client(ClientMixin):
    """Authlib's view of a registered client."""

    def __init__(self, view: ClientView):
        self.view = view

    def get_client_id(self):
        return self.view.client_id

    def get_default_redirect_uri(self):
        return None  # redirect_uri is always required (OIDC Core §3.1.2.1)

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in self.view.scopes)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.view.redirect_uris

    def check_client_secret(self, client_secret):
        return clients.check_secret(self.view, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        # One registered method per client at /token (RFC 7591 §2). At /revoke and /introspect a client
        # with a secret may send it either way: both are advertised there, and common clients (Authlib's
        # OAuth2Session.revoke_token) send client_secret_basic whatever the client registered.
        if endpoint in SECRET_EITHER_WAY_ENDPOINTS and method in SECRET_METHODS:
            return self.view.token_endpoint_auth_method in SECRET_METHODS
        return method == self.view.token_endpoint_auth_method

    def check_response_type(self, response_type):
        return response_type in self.view.response_types

    def check_grant_type(self, grant_type):
        return grant_type in self.view.grant_types


class Code:
    """Authlib's view of a stored authorization code."""

    def __init__(self, grant: CodeGrant):
        self.grant = grant
        self.code_challenge = grant.code_challenge
        self.code_challenge_method = grant.code_challenge_method

    def get_redirect_uri(self):
        return self.grant.redirect_uri

    def get_scope(self):
        return self.grant.scope


class S256CodeChallenge(CodeChallenge):
    """PKCE (RFC 7636) with S256 only; `plain` is neither offered nor accepted (RFC 9700 §2.1.1)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """RFC 6749 §4.1.3–4.1.4 with the code claimed atomically before any token is minted."""

    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH_METHODS

    def query_authorization_code(self, code, client):
        grant = codes.find_redeemable(code, client.view.id)
        return Code(grant) if grant else None

    def authenticate_user(self, authorization_code):
        return users.get_enabled(authorization_code.grant.user_id)

    def create_token_response(self):
        client: ClientView = self.request.client.view
        code: CodeGrant = self.request.authorization_code.grant
        user = self.authenticate_user(self.request.authorization_code)
        if user is None:
            raise InvalidGrantError("The user of this code is no longer active.")
        aud = audience(client, code.resources)
        jkt = token_binding(client)
        if not codes.claim(code.id):
            # Lost a race with another redemption: that is a reuse, so revoke what it issued.
            codes.revoke_tokens_of(code.id)
            raise InvalidGrantError("The authorization code has already been used.")
        rt = current()
        scopes = code.scope.split()
        body = tokens.issue_for_grant(
            rt.settings, rt.keyring, origin=http.origin(),
            client=client, user=user, scope=code.scope, auth_time=code.auth_time,
            acr=code.acr, amr=code.amr, sid=code.sid, nonce=code.nonce, claims_request=code.claims_request,
            code_id=code.id, audience=aud, resources=code.resources, jkt=jkt,
            include_refresh_token="offline_access" in scopes and "refresh_token" in client.grant_types,
        )
        tokens.commit()
        return 200, body, self.TOKEN_RESPONSE_HEADER


class Refresh:
    """Authlib's view of a stored refresh token."""

    def __init__(self, grant: RefreshGrant):
        self.grant = grant

    def check_client(self, client):
        return client.view.id == self.grant.client_pk

    def get_scope(self):
        return self.grant.scope


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """RFC 6749 §6 with rotation: every exchange retires the presented token and returns a new one;
    the ID token keeps the original auth_time (OIDC Core §12.2). The grant ends with the user's
    consent for the client, with the user's account, and at its idle or absolute lifetime."""

    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH_METHODS

    def authenticate_refresh_token(self, refresh_token):
        grant = tokens.find_refresh(refresh_token)
        return Refresh(grant) if grant else None

    def authenticate_user(self, refresh_token):
        return users.get_enabled(refresh_token.grant.user_id)

    def create_token_response(self):
        client: ClientView = self.request.client.view
        old: RefreshGrant = self.request.refresh_token.grant
        user = users.get_enabled(old.user_id)
        if user is None:
            raise InvalidGrantError("The user of this refresh token is no longer active.")
        if not client.skip_consent and not consents.covers(user.id, client.id, old.scope.split()):
            raise InvalidGrantError("The user has withdrawn consent for this application.")
        aud = audience(client, old.resources)
        jkt = token_binding(client, old.jkt)
        if not tokens.claim_refresh(old.id):
            tokens.revoke_family(old.family_id)
            raise InvalidGrantError("The refresh token has already been used.")
        rt = current()
        body = tokens.issue_for_grant(
            rt.settings, rt.keyring, origin=http.origin(),
            client=client, user=user, scope=self.request.payload.scope or old.scope,
            auth_time=old.auth_time, acr=old.acr, amr=old.amr, sid=old.sid, nonce=None,
            claims_request=old.claims_request, code_id=None, include_refresh_token=True, family_id=old.family_id,
            refresh_scope=old.scope, audience=aud, resources=old.resources, grant_expires_at=old.grant_expires_at,
            jkt=jkt,
        )
        tokens.commit()
        return 200, body, self.TOKEN_RESPONSE_HEADER


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """RFC 6749 §4.4 for confidential clients allowed the grant. Tokens carry API scopes only (no
    OIDC scopes: there is no user), by default every API scope the client is allowed."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def validate_requested_scope(self):
        allowed = [s for s in self.request.client.view.scopes if s not in STANDARD_SCOPES]
        requested = self.request.payload.scope
        if requested is None:
            self.request.granted_scope = " ".join(allowed)
            return
        wanted = requested.split()
        if not wanted or any(s not in allowed for s in wanted):
            raise InvalidScopeError("The requested scope is not allowed for this client's own tokens.")
        self.request.granted_scope = " ".join(dict.fromkeys(wanted))

    def create_token_response(self):
        client: ClientView = self.request.client.view
        aud = audience(client)
        jkt = token_binding(client)
        rt = current()
        body = tokens.issue_for_grant(
            rt.settings, rt.keyring, origin=http.origin(),
            client=client, user=None, scope=self.request.granted_scope, auth_time=None,
            acr=None, amr=(), sid=None, nonce=None, claims_request=None, code_id=None,
            include_refresh_token=False, audience=aud, jkt=jkt,
        )
        tokens.commit()
        return 200, body, self.TOKEN_RESPONSE_HEADER


DEVICE_ERRORS = {
    device.INVALID_GRANT: InvalidGrantError,
    device.EXPIRED_TOKEN: ExpiredTokenError,
    device.SLOW_DOWN: SlowDownError,
    device.AUTHORIZATION_PENDING: AuthorizationPendingError,
    device.ACCESS_DENIED: AccessDeniedError,
}


class DeviceCodeGrant(grants.BaseGrant, grants.TokenEndpointMixin):
    """RFC 8628 §3.4–3.5: the device polls with its device code; the code is consumed exactly once
    (a conditional UPDATE), which Authlib's own DeviceCodeGrant does not do."""

    GRANT_TYPE = clients.DEVICE_CODE_GRANT
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH_METHODS

    def validate_token_request(self):
        device_code = self.request.form.get("device_code")
        if not device_code:
            raise InvalidRequestError("The 'device_code' parameter is required.")
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("This client may not use the device authorization grant.")
        self.request.client = client
        outcome = device.poll(device_code, client.view.id)
        if isinstance(outcome, str):
            raise DEVICE_ERRORS[outcome]()
        self.request.device_grant = outcome

    def create_token_response(self):
        client: ClientView = self.request.client.view
        grant: DeviceGrant = self.request.device_grant
        user = users.get_enabled(grant.user_id)
        if user is None:
            raise InvalidGrantError("The user who approved this device is no longer active.")
        aud = audience(client, grant.resources)
        jkt = token_binding(client)
        if not device.claim(grant.id):
            raise InvalidGrantError("The device code has already been used.")
        rt = current()
        body = tokens.issue_for_grant(
            rt.settings, rt.keyring, origin=http.origin(),
            client=client, user=user, scope=grant.scope, auth_time=grant.auth_time,
            acr=grant.acr, amr=grant.amr, sid=grant.sid, nonce=None, claims_request=None, code_id=None,
            audience=aud, resources=grant.resources, jkt=jkt,
            include_refresh_token="offline_access" in grant.scope.split() and "refresh_token" in client.grant_types,
        )
        tokens.commit()
        return 200, body, self.TOKEN_RESPONSE_HEADER


class IdpAuthorizationServer(AuthorizationServer):
    def query_client(self, client_id):
        # Authlib asks several times per request: remember the answer for this request only.
        cache = g.setdefault("idp_clients", {})
        if client_id not in cache:
            view = clients.get(client_id) if isinstance(client_id, str) else None
            cache[client_id] = Client(view) if view else None
        return cache[client_id]

    def save_token(self, token, request):
        """Unused: each grant records its tokens in the same transaction that consumes the grant."""


def build_server() -> IdpAuthorizationServer:
    server = IdpAuthorizationServer()
    server.register_client_auth_method(PRIVATE_KEY_JWT, PrivateKeyJWT())
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(DeviceCodeGrant)
    server.register_endpoint(IntrospectionEndpoint)
    server.register_endpoint(RevocationEndpoint)
    return server
