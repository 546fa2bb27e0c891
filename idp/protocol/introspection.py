"""Token introspection (RFC 7662) for authenticated confidential clients: a client may introspect its
own tokens, a resource server the access tokens issued for a resource it serves. Anything else
(unknown, expired, revoked, a disabled user's, someone else's) is `{"active": false}`."""

from __future__ import annotations

from authlib.oauth2.rfc7662 import IntrospectionEndpoint as BaseIntrospectionEndpoint
from flask import Response, current_app

from ..extensions import csrf
from ..services import clock, token_status
from ..services.runtime import current
from ..types import TokenRecord
from . import bp
from .token import finish, precheck

CONFIDENTIAL_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


class Token:
    """Authlib's view of a stored token."""

    def __init__(self, record: TokenRecord):
        self.record = record
        self.caller = None  # the introspecting client, once permission is checked
        self.user = None  # the token's owner, once found active

    def is_expired(self):
        return self.record.expires_at <= clock.now()

    def is_revoked(self):
        active, self.user = token_status.activity(self.record)
        return not active

    def check_client(self, client):
        return client.view.id == self.record.client_pk


class IntrospectionEndpoint(BaseIntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS  # public clients cannot authenticate (RFC 7662 §2.1)

    def check_params(self, request, client):
        """`token` is required (checked before Authlib); an unknown token_type_hint is ignored (§2.1)."""

    def query_token(self, token_string, token_type_hint):
        rt = current()
        record = token_status.find(rt.settings, rt.keyring, token_string, token_type_hint)
        return Token(record) if record else None

    def check_permission(self, token, client, request):
        token.caller = client.view
        return token_status.may_introspect(token.record, client.view)

    def introspect_token(self, token):
        return token_status.introspection(current().settings, token.record, caller=token.caller, user=token.user)


@bp.route("/introspect", methods=["POST"])
@csrf.exempt
def introspect() -> Response:
    refused = precheck("token")
    if refused is not None:
        return refused
    return finish(current_app.extensions["idp.authorization_server"].create_endpoint_response("introspection"))
