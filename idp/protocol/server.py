"""The Authlib authorization server behind the token endpoint: client authentication, grant
dispatch, PKCE verification and RFC 6749 error responses, extended by subclassing."""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import g

from ..services import clients, codes, tokens, users
from ..services.runtime import current
from ..types import ClientView, CodeGrant, RefreshGrant


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
        # One registered method per client, at every endpoint (RFC 7591 §2).
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

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

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
        if not codes.claim(code.id):
            # Lost a race with another redemption: that is a reuse, so revoke what it issued.
            codes.revoke_tokens_of(code.id)
            raise InvalidGrantError("The authorization code has already been used.")
        rt = current()
        scopes = code.scope.split()
        body = tokens.issue_for_grant(
            rt.settings, rt.keyring, client=client, user=user, scope=code.scope, auth_time=code.auth_time,
            acr=code.acr, amr=code.amr, sid=code.sid, nonce=code.nonce, claims_request=code.claims_request,
            code_id=code.id,
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
    the ID token keeps the original auth_time (OIDC Core §12.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

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
        if not tokens.claim_refresh(old.id):
            tokens.revoke_family(old.family_id)
            raise InvalidGrantError("The refresh token has already been used.")
        rt = current()
        body = tokens.issue_for_grant(
            rt.settings, rt.keyring, client=client, user=user, scope=self.request.payload.scope or old.scope,
            auth_time=old.auth_time, acr=old.acr, amr=old.amr, sid=old.sid, nonce=None,
            claims_request=old.claims_request, code_id=None, include_refresh_token=True, family_id=old.family_id,
            refresh_scope=old.scope,
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
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    return server
