"""Token minting and verification: RFC 9068 JWT access tokens, OIDC ID tokens, refresh tokens."""

from __future__ import annotations

import hashlib
import logging

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..extensions import db
from ..storage import tokens as store
from ..types import AccessTokenInfo, ClientView, RefreshGrant, UserView
from . import audit, clock, crypto
from . import claims as claim_rules
from .keys import ALG, KeyRing

log = logging.getLogger(__name__)
ACCESS_TOKEN_TYPE = "at+jwt"  # RFC 9068 §2.1
MAX_JWT_LENGTH = 8192


def half_hash(value: str) -> str:
    """at_hash / c_hash for RS256: left half of SHA-256, base64url (OIDC Core §3.1.3.6)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return crypto.b64url(digest[: len(digest) // 2])


def _sign(keyring: KeyRing, claims: dict, typ: str | None = None) -> str:
    key = keyring.signing_key()
    header = {"alg": ALG, "kid": key.kid}
    if typ:
        header["typ"] = typ
    return jwt.encode(header, claims, key.private_key, algorithms=[ALG])


def issue_for_grant(settings, keyring: KeyRing, *, client: ClientView, user: UserView, scope: str,
                    auth_time: int | None, acr: str | None, amr: tuple[str, ...], sid: str | None,
                    nonce: str | None, claims_request: dict | None, code_id: int | None,
                    include_refresh_token: bool, family_id: str | None = None,
                    refresh_scope: str | None = None) -> dict:
    """Mint and record the tokens of one grant, inside the caller's transaction (not committed here).
    Returns the RFC 6749 §5.1 token response body."""
    now = clock.now()
    scopes = scope.split()
    family_id = family_id or crypto.random_token(16)
    at_ttl = client.access_token_ttl or settings.access_token_ttl
    jti = crypto.random_token(16)
    access_claims = {
        "iss": settings.issuer, "sub": user.sub, "aud": settings.issuer, "client_id": client.client_id,
        "scope": scope, "jti": jti, "iat": now, "exp": now + at_ttl,
    }
    if auth_time is not None:
        access_claims["auth_time"] = auth_time
    if acr:
        access_claims["acr"] = acr
    access_token = _sign(keyring, access_claims, typ=ACCESS_TOKEN_TYPE)
    common = dict(client_pk=client.id, user_id=user.id, authorization_code_id=code_id, family_id=family_id,
                  scope=scope, claims_request=claims_request, sid=sid, auth_time=auth_time, acr=acr,
                  amr=list(amr), issued_at=now)
    store.add(store.Token(kind=store.ACCESS, jti=jti, expires_at=now + at_ttl, **common))
    response = {"access_token": access_token, "token_type": "Bearer", "expires_in": at_ttl, "scope": scope}
    if include_refresh_token:
        refresh = crypto.random_token(32)
        rt_ttl = client.refresh_token_ttl or settings.refresh_token_ttl
        # A rotated refresh token keeps the scope of the one it replaces (RFC 6749 §6).
        store.add(store.Token(kind=store.REFRESH, token_hash=crypto.lookup_hash(refresh),
                              expires_at=now + rt_ttl, **(common | {"scope": refresh_scope or scope})))
        response["refresh_token"] = refresh
    if "openid" in scopes:
        response["id_token"] = id_token(
            settings, keyring, client=client, user=user, scopes=scopes, auth_time=auth_time, acr=acr,
            amr=amr, sid=sid, nonce=nonce, claims_request=claims_request, access_token=access_token, now=now,
        )
    return response


def id_token(settings, keyring: KeyRing, *, client: ClientView, user: UserView, scopes: list[str],
             auth_time: int | None, acr: str | None, amr: tuple[str, ...], sid: str | None,
             nonce: str | None, claims_request: dict | None, access_token: str | None, now: int) -> str:
    """An ID token (OIDC Core §2, §3.1.3.6). Scope claims are included as well as returned from
    UserInfo, which §5.4 permits and most relying-party libraries expect."""
    requested = (claims_request or {}).get("id_token") or {}
    body = claim_rules.release(user, scopes, requested)
    body.update({
        "iss": settings.issuer, "aud": client.client_id, "iat": now,
        "exp": now + (client.id_token_ttl or settings.id_token_ttl),
    })
    if auth_time is not None:
        body["auth_time"] = auth_time
    if nonce:
        body["nonce"] = nonce
    if acr:
        body["acr"] = acr
    if amr:
        body["amr"] = list(amr)
    if sid:
        body["sid"] = sid
    if access_token:
        body["at_hash"] = half_hash(access_token)
    return _sign(keyring, body)


def decode_signed(keyring: KeyRing, token: str, *, typ: str | None = None) -> dict | None:
    """Claims of a JWT this server signed with a published key, or None. Expiry is not checked here."""
    if not token or len(token) > MAX_JWT_LENGTH or token.count(".") != 2:
        return None
    try:
        keys: KeySet = keyring.verify_keys()
        decoded = jwt.decode(token, keys, algorithms=[ALG])
    except (JoseError, ValueError, TypeError, KeyError):
        return None
    if typ is not None and decoded.header.get("typ", "").lower() != typ:
        return None
    claims = decoded.claims
    return claims if isinstance(claims, dict) else None


def verify_access_token(settings, keyring: KeyRing, token: str) -> AccessTokenInfo | None:
    """A live access token: valid signature and type, our issuer, not expired, not revoked."""
    claims = decode_signed(keyring, token, typ=ACCESS_TOKEN_TYPE)
    now = clock.now()
    if not claims or claims.get("iss") != settings.issuer:
        return None
    exp, jti = claims.get("exp"), claims.get("jti")
    if not isinstance(exp, int) or exp <= now or not isinstance(jti, str):
        return None
    row = store.find_by_jti(jti)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return AccessTokenInfo(jti=jti, client_id=claims.get("client_id", ""), user_id=row.user_id,
                           scope=row.scope, claims_request=row.claims_request, expires_at=row.expires_at)


def find_refresh(token: str) -> RefreshGrant | None:
    """A refresh token that may be exchanged now. Presenting one that was already rotated away is
    treated as theft: its whole family (every token of that grant) is revoked (RFC 9700 §4.14.2)."""
    if not token or len(token) > 256:
        return None
    row = store.find_by_hash(crypto.lookup_hash(token))
    if row is None or row.kind != store.REFRESH or row.user_id is None:
        return None
    now = clock.now()
    if row.revoked_at is not None:
        revoked = store.revoke_family(row.family_id, now)
        audit.record("token.refresh_reuse_detected", outcome=audit.FAILURE, subject_user_id=row.user_id,
                     reason="rotated refresh token presented again", details={"revoked_tokens": revoked},
                     commit=False)
        db.session.commit()
        if revoked:
            log.warning("refresh token reused; revoked %d tokens of its family", revoked)
        return None
    if row.expires_at <= now:
        return None
    return RefreshGrant(id=row.id, client_pk=row.client_pk, user_id=row.user_id, family_id=row.family_id,
                        scope=row.scope, claims_request=row.claims_request, sid=row.sid, auth_time=row.auth_time,
                        acr=row.acr, amr=tuple(row.amr))


def claim_refresh(token_id: int) -> bool:
    """Retire a refresh token as it is exchanged, inside the caller's transaction: exactly one of
    several concurrent exchanges gets True."""
    return store.revoke_if_live(token_id, clock.now())


def revoke_family(family_id: str) -> None:
    revoked = store.revoke_family(family_id, clock.now())
    audit.record("token.refresh_reuse_detected", outcome=audit.FAILURE, reason="concurrent use of one refresh token",
                 details={"revoked_tokens": revoked}, commit=False)
    db.session.commit()


def revoke_grants(user_id: int, client_pk: int | None = None) -> int:
    """Revoke every unrevoked access and refresh token of a user (of one client if given), e.g. when
    the person withdraws consent. Commits; returns how many tokens were revoked."""
    revoked = store.revoke_for_user(user_id, client_pk, clock.now())
    db.session.commit()
    return revoked


def revoke_for_session(sid: str) -> int:
    """Revoke, inside the caller's transaction, what an ending session must take with it: its access
    tokens and its refresh tokens without offline_access (Back-Channel Logout 1.0 §2.7)."""
    return store.revoke_for_session(sid, clock.now())


def commit() -> None:
    db.session.commit()
