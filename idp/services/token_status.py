"""What introspection (RFC 7662) and revocation (RFC 7009) need: find a presented token whatever
its kind (JWT or opaque access token, refresh token), say whether it is active and who may see it,
and revoke it."""

from __future__ import annotations

from ..extensions import db
from ..storage import tokens as store
from ..types import ClientView, TokenRecord, UserView
from . import audit, clients, clock, crypto, users
from .keys import KeyRing
from .tokens import MAX_OPAQUE_LENGTH, access_row

ACCESS_TOKEN = "access_token"
REFRESH_TOKEN = "refresh_token"
TOKEN_TYPE_HINTS = (ACCESS_TOKEN, REFRESH_TOKEN)


def _record(row: store.Token) -> TokenRecord:
    return TokenRecord(id=row.id, kind=row.kind, client_pk=row.client_pk, user_id=row.user_id,
                       family_id=row.family_id, scope=row.scope, audience=tuple(row.audience or ()),
                       issued_at=row.issued_at, expires_at=row.expires_at, revoked=row.revoked_at is not None,
                       jti=row.jti, auth_time=row.auth_time, acr=row.acr, jkt=row.jkt)


def _refresh_row(token: str) -> store.Token | None:
    if not token or len(token) > MAX_OPAQUE_LENGTH:
        return None
    row = store.find_by_hash(crypto.lookup_hash(token))
    return row if row is not None and row.kind == store.REFRESH else None


def find(settings, keyring: KeyRing, token: str, hint: str | None = None) -> TokenRecord | None:
    """The stored token, live or not. The hint only sets the search order (RFC 7009 §2.1)."""
    finders = [lambda: access_row(settings, keyring, token), lambda: _refresh_row(token)]
    if hint == REFRESH_TOKEN:
        finders.reverse()
    for finder in finders:
        row = finder()
        if row is not None:
            return _record(row)
    return None


def activity(record: TokenRecord) -> tuple[bool, UserView | None]:
    """Whether the token is active — unexpired, unrevoked, and, for a user's token, the user still
    enabled — and that user, so the caller need not look them up again."""
    if record.revoked or record.expires_at <= clock.now():
        return False, None
    if record.user_id is None:
        return True, None
    user = users.get_enabled(record.user_id)
    return user is not None, user


def may_introspect(record: TokenRecord, caller: ClientView) -> bool:
    """A client sees its own tokens; a resource server sees access tokens issued for a resource it
    serves. Anything else is answered as inactive (RFC 7662 §2.2, §4)."""
    if record.client_pk == caller.id:
        return True
    return record.kind == store.ACCESS and bool(set(record.audience) & set(caller.served_resources))


def introspection(settings, record: TokenRecord, *, caller: ClientView | None = None,
                  user: UserView | None = None) -> dict:
    """The members of an active token's introspection response (RFC 7662 §2.2). `caller` and `user`,
    when given (the introspecting client, the owner found by `activity`), spare their lookups."""
    client = caller if caller is not None and caller.id == record.client_pk else clients.get_by_pk(record.client_pk)
    body: dict = {"active": True, "scope": record.scope, "client_id": client.client_id if client else None,
                  "exp": record.expires_at, "iat": record.issued_at, "iss": settings.issuer}
    if record.kind == store.ACCESS:
        body["token_type"] = "DPoP" if record.jkt else "Bearer"
        if record.jkt:
            body["cnf"] = {"jkt": record.jkt}  # RFC 9449 §6.2
        body["jti"] = record.jti
        body["aud"] = record.audience[0] if len(record.audience) == 1 else list(record.audience)
    if user is None or user.id != record.user_id:
        user = users.get(record.user_id) if record.user_id is not None else None
    if user is not None:
        body.update(sub=user.sub, username=user.username)
        if record.auth_time is not None:
            body["auth_time"] = record.auth_time
        if record.acr:
            body["acr"] = record.acr
    else:
        body["sub"] = body["client_id"]  # client_credentials: the client is the subject (RFC 9068 §2.2)
    return body


def revoke(record: TokenRecord, caller: ClientView) -> int:
    """Revoke a token (RFC 7009 §2.1). A refresh token takes its whole grant with it (every refresh and
    access token of its family); an access token only itself. Returns how many tokens were revoked."""
    now = clock.now()
    if record.kind == store.REFRESH:
        revoked = store.revoke_family(record.family_id, now)
    else:
        revoked = 1 if store.revoke_if_live(record.id, now) else 0
    audit.record("token.revoke", subject_user_id=record.user_id, client_id=caller.client_id,
                 details={"kind": record.kind, "revoked_tokens": revoked}, commit=False)
    db.session.commit()
    return revoked
