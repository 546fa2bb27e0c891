"""`private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OIDC Core §9) by subclassing
Authlib's JWTBearerClientAssertion: the client signs a short-lived JWT with a key it registered
(`jwks` or `jwks_uri`); `jti` is single-use; `aud` is this server's issuer (or, for older clients,
the token endpoint or the endpoint called)."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import request
from joserfc import jwt
from joserfc.errors import JoseError

from .. import http
from ..services import client_keys, clock, replay
from ..services.runtime import current

METHOD = "private_key_jwt"


def endpoint_urls() -> list[str]:
    """The issuer, the token endpoint and the endpoint being called, from the configured issuer."""
    return list(dict.fromkeys([current().settings.issuer, http.issuer_url("protocol.token"),
                               http.issuer_url(request.endpoint)]))


class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = METHOD

    def __init__(self):
        super().__init__(validate_jti=True, leeway=30)

    def get_audiences(self):
        return endpoint_urls()

    def resolve_client_public_key(self, client):
        """A key resolver for joserfc: the client's key named by the assertion's `kid`, checked
        against the algorithms the client may use."""
        view = client.view
        algs = client_keys.allowed_algs(view, view.token_endpoint_auth_signing_alg)

        def resolve(token):
            header = token.headers()
            if header.get("alg") not in algs:
                raise InvalidClientError(description="The client assertion's alg is not allowed for this client.")
            try:
                return client_keys.key_for(current().settings, view, header["alg"], header.get("kid"))
            except client_keys.KeysUnavailable as exc:
                raise InvalidClientError(description=f"The client's key cannot be found: {exc}.") from None

        return resolve

    def process_assertion_claims(self, assertion, resolve_key):
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=client_keys.CLIENT_SIGNING_ALGS)
        except (JoseError, ValueError, TypeError) as exc:
            raise InvalidClientError(description="The client assertion's signature is not valid.") from exc
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims):
        exp = claims.get("exp")
        now = clock.now()
        if not isinstance(exp, int) or isinstance(exp, bool) or \
                exp > now + current().settings.client_assertion_max_lifetime:
            raise InvalidClientError(description="The client assertion must expire within "
                                     f"{current().settings.client_assertion_max_lifetime} seconds.")
        iat = claims.get("iat")
        if iat is not None and (not isinstance(iat, int | float) or iat > now + self.leeway):
            raise InvalidClientError(description="The client assertion's iat is in the future.")
        if not isinstance(claims.get("jti"), str) or not claims["jti"] or len(claims["jti"]) > 256:
            raise InvalidClientError(description="The client assertion needs a jti.")
        super().verify_claims(claims)

    def validate_jti(self, claims, jti):
        return replay.first_use(replay.CLIENT_ASSERTION, str(claims["sub"]), jti, int(claims["exp"]) + self.leeway)
