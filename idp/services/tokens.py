"""Token minting and verification: RFC 9068 JWT or opaque access tokens, OIDC ID tokens, rotating
refresh tokens with idle and absolute lifetimes, RFC 8707 audiences, and revocation of a user's grants."""

from __future__ import annotations

import hashlib
import json
import logging

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..errors import ValidationError
from ..extensions import db
from ..storage import tokens as store
from ..types import AccessTokenInfo, ClientView, RefreshGrant, UserView
from . import audit, clients, clock, crypto, rbac
from . import claims as claim_rules
from .keys import ALG, KeyRing

log = logging.getLogger(__name__)
ACCESS_TOKEN_TYPE = "at+jwt"  # RFC 9068 §2.1
MAX_JWT_LENGTH = 8192
MAX_OPAQUE_LENGTH = 256
OPAQUE = "opaque"


class InvalidTarget(ValidationError):
    """A requested resource is not one this client may get tokens for (RFC 8707 §2: invalid_target)."""


def resolve_audience(settings, client: ClientView, requested: list[str] | tuple[str, ...],
                     granted: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The `aud` of an access token (RFC 8707 §2): the requested resources, each registered for the
    client and, when the grant was limited to resources at /authorize, among those; without a
    request, the grant's resources or else the default audience."""
    requested = tuple(dict.fromkeys(requested))
    for resource in requested:
        if resource not in client.resources:
            raise InvalidTarget("The requested resource is not registered for this client.")
        if granted and resource not in granted:
            raise InvalidTarget("The requested resource was not part of the original grant.")
    return requested or granted or (settings.access_token_audience,)


def check_resources(client: ClientView, requested: list[str]) -> tuple[str, ...]:
    """Resources asked for at /authorize or the device endpoint: each registered for the client."""
    for resource in requested:
        if resource not in client.resources:
            raise InvalidTarget("The requested resource is not registered for this client.")
    return tuple(dict.fromkeys(requested))


def half_hash(value: str) -> str:
    """at_hash / c_hash for RS256: left half of SHA-256, base64url (OIDC Core §3.1.3.6)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return crypto.b64url(digest[: len(digest) // 2])


def _sign(keyring: KeyRing, claims: dict, typ: str | None = None, alg: str | None = None) -> str:
    """Sign with the current key of `alg` (a client's registered choice; RS256 by default)."""
    alg = alg if alg in keyring.algorithms() else ALG
    key = keyring.signing_key(alg)
    header = {"alg": alg, "kid": key.kid}
    if typ:
        header["typ"] = typ
    return jwt.encode(header, claims, key.private_key, algorithms=[alg])


def issue_for_grant(settings, keyring: KeyRing, *, client: ClientView, user: UserView | None, scope: str,
                    auth_time: int | None, acr: str | None, amr: tuple[str, ...], sid: str | None,
                    nonce: str | None, claims_request: dict | None, code_id: int | None,
                    include_refresh_token: bool, family_id: str | None = None,
                    refresh_scope: str | None = None, audience: tuple[str, ...] = (),
                    resources: tuple[str, ...] = (), grant_expires_at: int | None = None,
                    origin: audit.Origin | None = None, jkt: str | None = None) -> dict:
    """Mint and record the tokens of one grant, inside the caller's transaction (not committed here).
    `user` is None for client_credentials (the client acts for itself). `audience` is the access
    token's `aud` (see resolve_audience); `resources` what the refresh token may later ask for.
    `jkt` binds the access token (and a public client's refresh token) to a DPoP key (RFC 9449 §6).
    Returns the RFC 6749 §5.1 token response body."""
    now = clock.now()
    scopes = scope.split()
    family_id_given = family_id is not None
    family_id = family_id or crypto.random_token(16)
    at_ttl = client.access_token_ttl or settings.access_token_ttl
    audience = audience or (settings.access_token_audience,)
    jti = crypto.random_token(16)
    common = dict(client_pk=client.id, user_id=user.id if user else None, authorization_code_id=code_id,
                  family_id=family_id, scope=scope, claims_request=claims_request, sid=sid, auth_time=auth_time,
                  acr=acr, amr=list(amr), issued_at=now)
    if client.access_token_format == OPAQUE:
        access_token = crypto.random_token(32)
        token_hash = crypto.lookup_hash(access_token)
    else:
        access_claims = {
            "iss": settings.issuer, "sub": user.sub if user else client.client_id,
            "aud": audience[0] if len(audience) == 1 else list(audience), "client_id": client.client_id,
            "scope": scope, "jti": jti, "iat": now, "exp": now + at_ttl,
        }
        if auth_time is not None:
            access_claims["auth_time"] = auth_time
        if acr:
            access_claims["acr"] = acr
        if user is not None:
            access_claims.update(rbac.claims_for(user.id, scopes))
        if jkt:
            access_claims["cnf"] = {"jkt": jkt}  # RFC 9449 §6.1
        access_token = _sign(keyring, access_claims, typ=ACCESS_TOKEN_TYPE, alg=client.access_token_signed_response_alg)
        token_hash = None
    store.add(store.Token(kind=store.ACCESS, jti=jti, token_hash=token_hash, expires_at=now + at_ttl,
                          audience=list(audience), jkt=jkt, **common))
    response = {"access_token": access_token, "token_type": "DPoP" if jkt else "Bearer", "expires_in": at_ttl,
                "scope": scope}
    if include_refresh_token and user is not None:
        refresh = crypto.random_token(32)
        if grant_expires_at is None:
            grant_expires_at = now + (client.refresh_token_ttl or settings.refresh_token_ttl)
        idle_ttl = client.refresh_token_idle_ttl or settings.refresh_token_idle_ttl
        # A rotated refresh token keeps the scope and resources of the one it replaces (RFC 6749 §6).
        store.add(store.Token(kind=store.REFRESH, token_hash=crypto.lookup_hash(refresh),
                              expires_at=min(now + idle_ttl, grant_expires_at), grant_expires_at=grant_expires_at,
                              jkt=jkt if client.is_public else None,  # RFC 9449 §5.0
                              **(common | {"scope": refresh_scope or scope, "audience": list(resources)})))
        response["refresh_token"] = refresh
    if "openid" in scopes and user is not None:
        response["id_token"] = id_token(
            settings, keyring, client=client, user=user, scopes=scopes, auth_time=auth_time, acr=acr,
            amr=amr, sid=sid, nonce=nonce, claims_request=claims_request, access_token=access_token, now=now,
        )
    # A rotation continues a family the caller names; anything else is a new grant.
    audit.record("token.refresh" if family_id_given else "token.issue", origin=origin,
                 subject_user_id=user.id if user else None, client_id=client.client_id, commit=False,
                 details={"scope": scope, "family": family_id[:8], "refresh_token": "refresh_token" in response,
                          "id_token": "id_token" in response, "format": client.access_token_format})
    return response


def id_token(settings, keyring: KeyRing, *, client: ClientView, user: UserView, scopes: list[str],
             auth_time: int | None, acr: str | None, amr: tuple[str, ...], sid: str | None,
             nonce: str | None, claims_request: dict | None, access_token: str | None, now: int) -> str:
    """An ID token (OIDC Core §2, §3.1.3.6). Scope claims are included as well as returned from
    UserInfo, which §5.4 permits and most relying-party libraries expect."""
    requested = (claims_request or {}).get("id_token") or {}
    body = claim_rules.release(user, scopes, requested)
    body.update(rbac.claims_for(user.id, scopes))
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
        body["at_hash"] = half_hash(access_token)  # SHA-256 for RS256, PS256 and ES256 alike
    return _sign(keyring, body, alg=client.id_token_signed_response_alg)


def decode_signed(keyring: KeyRing, token: str, *, typ: str | None = None) -> dict | None:
    """Claims of a JWT this server signed with a published key, or None. Expiry is not checked here."""
    if not token or len(token) > MAX_JWT_LENGTH or token.count(".") != 2:
        return None
    try:
        keys: KeySet = keyring.verify_keys()
        decoded = jwt.decode(token, keys, algorithms=keyring.algorithms())
    except (JoseError, ValueError, TypeError, KeyError):
        return None
    if typ is not None and decoded.header.get("typ", "").lower() != typ:
        return None
    claims = decoded.claims
    return claims if isinstance(claims, dict) else None


def decode_id_token_hint(keyring: KeyRing, token: str) -> dict | None:
    """Claims of an ID token this server issued (signature checked, expiry not: OIDC Core §3.1.2.1), or
    None. Access tokens (typ at+jwt) and logout tokens (typ logout+jwt) are signed by the same keys
    but are not ID tokens: ours carry no `typ`, and no `events` claim."""
    claims = decode_signed(keyring, token)
    if claims is None or "events" in claims or "client_id" in claims or "jti" in claims:
        return None
    header = token.split(".", 1)[0]
    try:
        typ = json.loads(crypto.b64url_decode(header)).get("typ")
    except (ValueError, AttributeError):
        return None
    return claims if typ in (None, "JWT") else None


def verify_access_token(settings, keyring: KeyRing, token: str,
                        dpop_jkt: str | None = None) -> AccessTokenInfo | None:
    """A live access token, JWT or opaque: for a JWT a valid signature and type and our issuer; for
    both a stored row that is neither expired nor revoked (so revocation takes effect at once).
    `dpop_jkt` is the key of the DPoP proof presented with it (None: used as a bearer token); a
    DPoP-bound token is only valid with a proof by its key (RFC 9449 §7.1-7.2)."""
    row, claims = _find_access(settings, keyring, token)
    now = clock.now()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.jkt != dpop_jkt:
        return None
    if claims is not None:
        client_id = claims.get("client_id", "")
    else:
        client = clients.get_by_pk(row.client_pk)
        client_id = client.client_id if client else ""
    return AccessTokenInfo(jti=row.jti, client_id=client_id, user_id=row.user_id, scope=row.scope,
                           claims_request=row.claims_request, expires_at=row.expires_at, issued_at=row.issued_at,
                           client_pk=row.client_pk, audience=tuple(row.audience or ()), auth_time=row.auth_time,
                           acr=row.acr, jkt=row.jkt)


def is_dpop_bound(settings, keyring: KeyRing, token: str) -> bool:
    """Whether a token we issued is bound to a DPoP key (to answer its use as a bearer token aptly)."""
    row = _find_access(settings, keyring, token)[0]
    return row is not None and row.jkt is not None


def access_row(settings, keyring: KeyRing, token: str) -> store.Token | None:
    """The stored row of an access token we issued (live or not), or None."""
    return _find_access(settings, keyring, token)[0]


def _find_access(settings, keyring: KeyRing, token: str) -> tuple[store.Token | None, dict | None]:
    if not token:
        return None, None
    if token.count(".") == 2:
        claims = decode_signed(keyring, token, typ=ACCESS_TOKEN_TYPE)
        if not claims or claims.get("iss") != settings.issuer or not isinstance(claims.get("jti"), str):
            return None, None
        row = store.find_by_jti(claims["jti"])
        return (row, claims) if row is not None and row.token_hash is None else (None, None)
    if len(token) > MAX_OPAQUE_LENGTH:
        return None, None
    row = store.find_by_hash(crypto.lookup_hash(token))
    return (row, None) if row is not None and row.kind == store.ACCESS else (None, None)


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
        return None  # idle or absolute lifetime over
    return RefreshGrant(id=row.id, client_pk=row.client_pk, user_id=row.user_id, family_id=row.family_id,
                        scope=row.scope, claims_request=row.claims_request, sid=row.sid, auth_time=row.auth_time,
                        acr=row.acr, amr=tuple(row.amr), resources=tuple(row.audience or ()),
                        grant_expires_at=row.grant_expires_at, jkt=row.jkt)


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
    """Revoke every unrevoked access and refresh token of a user (for one client if given), e.g. when
    the user withdraws consent for that client or is disabled. Commits; returns how many were revoked."""
    revoked = store.revoke_of_user(user_id, client_pk, clock.now())
    db.session.commit()
    return revoked


def revoke_for_session(sid: str) -> int:
    """Revoke, inside the caller's transaction, what an ending session must take with it: its access
    tokens and its refresh tokens without offline_access (Back-Channel Logout 1.0 §2.7)."""
    return store.revoke_for_session(sid, clock.now())


def commit() -> None:
    db.session.commit()
