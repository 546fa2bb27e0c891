"""Authorization codes: short-lived, single-use, bound to client, redirect URI and PKCE challenge.
Only a SHA-256 of the code is stored."""

from __future__ import annotations

import logging

from ..extensions import db
from ..storage import codes as store
from ..storage import tokens as token_store
from ..types import AuthorizationRequest, CodeGrant, SessionView
from . import audit, clock, crypto

log = logging.getLogger(__name__)


def issue(settings, *, request: AuthorizationRequest, client_pk: int, session: SessionView,
          acr: str | None = None) -> str:
    """A code for the session's authentication; `acr` overrides the session's own level when the
    request asked for a lower one that the session also satisfies."""
    now = clock.now()
    code = crypto.random_token(32)
    store.add(store.AuthorizationCode(
        code_hash=crypto.lookup_hash(code), client_pk=client_pk, user_id=session.user_id, sid=session.sid,
        redirect_uri=request.redirect_uri, scope=request.scope, nonce=request.nonce,
        code_challenge=request.code_challenge, code_challenge_method=request.code_challenge_method,
        claims_request=request.claims, auth_time=session.auth_time, acr=acr or session.acr, amr=list(session.amr),
        resources=list(request.resources) or None, issued_at=now, expires_at=now + settings.authorization_code_ttl,
        dpop_jkt=request.dpop_jkt,
    ))
    db.session.commit()
    return code


def _grant(row: store.AuthorizationCode) -> CodeGrant:
    return CodeGrant(
        id=row.id, client_pk=row.client_pk, user_id=row.user_id, sid=row.sid, redirect_uri=row.redirect_uri,
        scope=row.scope, nonce=row.nonce, code_challenge=row.code_challenge,
        code_challenge_method=row.code_challenge_method, claims_request=row.claims_request,
        auth_time=row.auth_time, acr=row.acr, amr=tuple(row.amr), resources=tuple(row.resources or ()),
        dpop_jkt=row.dpop_jkt,
    )


def find_redeemable(code: str, client_pk: int) -> CodeGrant | None:
    """The code if it may be redeemed by this client now. A code presented again after it was
    redeemed revokes every token the first redemption issued (RFC 6749 §4.1.2, RFC 9700 §4.5)."""
    if not code or len(code) > 256:
        return None
    row = store.find(crypto.lookup_hash(code))
    if row is None or row.client_pk != client_pk:
        return None
    now = clock.now()
    if row.consumed_at is not None:
        revoked = token_store.revoke_by_code(row.id, now)
        audit.record("token.code_reuse_detected", outcome=audit.FAILURE, subject_user_id=row.user_id,
                     reason="authorization code presented again", details={"revoked_tokens": revoked}, commit=False)
        db.session.commit()
        log.warning("authorization code replayed; revoked %d tokens issued from it", revoked)
        return None
    if now >= row.expires_at:
        return None
    return _grant(row)


def claim(code_id: int) -> bool:
    """Consume the code inside the caller's transaction. Exactly one concurrent caller gets True."""
    return store.claim(code_id, clock.now())


def revoke_tokens_of(code_id: int) -> None:
    revoked = token_store.revoke_by_code(code_id, clock.now())
    audit.record("token.code_reuse_detected", outcome=audit.FAILURE, reason="concurrent redemption of one code",
                 details={"revoked_tokens": revoked}, commit=False)
    db.session.commit()
