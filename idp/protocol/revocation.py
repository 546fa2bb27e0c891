"""Token revocation (RFC 7009). Revoking a refresh token revokes its whole grant (every refresh and
access token of its family); revoking an access token, JWT (by `jti`) or opaque, makes UserInfo and
introspection refuse it at once. Unknown or already invalid tokens are answered 200 (§2.2)."""

from __future__ import annotations

from authlib.oauth2.rfc7009 import RevocationEndpoint as BaseRevocationEndpoint
from flask import Response, current_app

from ..extensions import csrf
from ..services import token_status
from ..services.runtime import current
from . import bp
from .introspection import Token
from .token import finish, precheck


class RevocationEndpoint(BaseRevocationEndpoint):
    # Public clients identify themselves with client_id (RFC 7009 §2.1, §5).
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]

    def check_params(self, request, client):
        """`token` is required (checked before Authlib); the hint only orders the search (§2.1)."""

    def query_token(self, token_string, token_type_hint):
        rt = current()
        record = token_status.find(rt.settings, rt.keyring, token_string, token_type_hint)
        return Token(record) if record else None

    def revoke_token(self, token, request):
        token_status.revoke(token.record, request.client.view)


@bp.route("/revoke", methods=["POST"])
@csrf.exempt
def revoke() -> Response:
    refused = precheck("token")
    if refused is not None:
        return refused
    return finish(current_app.extensions["idp.authorization_server"].create_endpoint_response("revocation"))
