"""Relying-party clients."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Integer, String, select
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Client(db.Model):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # SHA-256 of the generated, high-entropy secret; None for public clients.
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    post_logout_redirect_uris: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40), nullable=False)
    grant_types: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    response_types: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    scopes: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    require_pkce: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    skip_consent: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # Every sign-in to this client needs a second factor.
    require_mfa: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false(), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    access_token_ttl: Mapped[int | None] = mapped_column(Integer, nullable=True)
    id_token_ttl: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Absolute lifetime of a refresh-token grant (from the first issue) and its idle lifetime (per use).
    refresh_token_ttl: Mapped[int | None] = mapped_column(Integer, nullable=True)
    refresh_token_idle_ttl: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # "jwt" (RFC 9068, the default) or "opaque" (random, stored hashed, checked by introspection).
    access_token_format: Mapped[str] = mapped_column(String(10), default="jwt", server_default="jwt",
                                                     nullable=False)
    # RFC 8707 resource indicators this client may request tokens for (the tokens' `aud`).
    resources: Mapped[list] = mapped_column(JSON, default=list, server_default="[]", nullable=False)
    # Resource indicators this client serves as a resource server: it may introspect tokens for them.
    served_resources: Mapped[list] = mapped_column(JSON, default=list, server_default="[]", nullable=False)
    logo_uri: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    client_uri: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    # OpenID Connect Back-Channel Logout 1.0 §2.2 and Front-Channel Logout 1.0 §2 registration.
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    backchannel_logout_session_required: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    frontchannel_logout_uri: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    frontchannel_logout_session_required: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    # Secret rotation: the previous secret's hash stays valid until previous_secret_expires_at.
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    previous_secret_expires_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Origins (scheme://host[:port]) of browser apps allowed to call the token and userinfo endpoints.
    allowed_cors_origins: Mapped[list] = mapped_column(JSON, default=list, server_default="[]", nullable=False)
    # RFC 7592: SHA-256 of the registration access token of a dynamically registered client.
    registration_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # High-assurance clients. The public keys of a private_key_jwt client: a JWK set by value or
    # the URL it is fetched from (RFC 7591 §2: one or the other).
    jwks: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    jwks_uri: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    # Only this alg for client assertions / request objects when set ("none" allowed only here).
    token_endpoint_auth_signing_alg: Mapped[str | None] = mapped_column(String(20), nullable=True)
    request_object_signing_alg: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # RFC 9126 §6: authorization requests only through PAR.
    require_pushed_authorization_requests: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false(), nullable=False)
    # RFC 9449 §5.2: access tokens only bound to a DPoP key.
    dpop_bound_access_tokens: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false(),
                                                           nullable=False)
    # Signing algorithms of this client's ID tokens and JWT access tokens (None: RS256).
    id_token_signed_response_alg: Mapped[str | None] = mapped_column(String(20), nullable=True)
    access_token_signed_response_alg: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The FAPI 2.0 Security Profile: PAR, PKCE S256, private_key_jwt and DPoP required.
    fapi2: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false(), nullable=False)


def get_by_client_id(client_id: str) -> Client | None:
    return db.session.scalars(select(Client).where(Client.client_id == client_id)).first()


def get(pk: int) -> Client | None:
    return db.session.get(Client, pk)


def add(client: Client) -> Client:
    db.session.add(client)
    db.session.flush()
    return client


def get_many(pks) -> list[Client]:
    pks = list(pks)
    if not pks:
        return []
    return list(db.session.scalars(select(Client).where(Client.id.in_(pks)).order_by(Client.id)))


def all_clients() -> list[Client]:
    return list(db.session.scalars(select(Client).order_by(Client.id)))


def remove(client: Client) -> None:
    db.session.delete(client)


def cors_origins() -> set[str]:
    """Every CORS origin registered by an enabled client."""
    rows = db.session.scalars(select(Client.allowed_cors_origins).where(Client.enabled.is_(True)))
    return {origin for origins in rows for origin in (origins or [])}
