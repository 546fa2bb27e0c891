"""Frozen dataclasses passed between the layers. Services return these, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class UserView:
    id: int
    sub: str
    username: str
    email: str | None
    email_verified: bool
    enabled: bool
    claims: dict = field(default_factory=dict)
    is_admin: bool = False
    must_verify_email: bool = False  # self-registered and not confirmed yet: sign-in stops at verification
    created_at: int | None = None
    updated_at: int | None = None  # the OIDC `updated_at` claim (profile scope)


@dataclass(frozen=True)
class ClientView:
    id: int
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: str
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    scopes: tuple[str, ...]
    require_pkce: bool
    skip_consent: bool
    enabled: bool
    access_token_ttl: int | None
    id_token_ttl: int | None
    refresh_token_ttl: int | None
    refresh_token_idle_ttl: int | None = None
    access_token_format: str = "jwt"
    resources: tuple[str, ...] = ()
    served_resources: tuple[str, ...] = ()
    logo_uri: str | None = None
    client_uri: str | None = None
    policy_uri: str | None = None
    tos_uri: str | None = None
    backchannel_logout_uri: str | None = None
    backchannel_logout_session_required: bool = False
    frontchannel_logout_uri: str | None = None
    frontchannel_logout_session_required: bool = False
    secret_hash: str | None = field(default=None, repr=False)
    require_mfa: bool = False
    allowed_cors_origins: tuple[str, ...] = ()
    previous_secret_hash: str | None = field(default=None, repr=False)
    previous_secret_expires_at: int | None = None
    created_at: int = 0
    jwks: dict | None = None
    jwks_uri: str | None = None
    token_endpoint_auth_signing_alg: str | None = None
    request_object_signing_alg: str | None = None
    require_pushed_authorization_requests: bool = False
    dpop_bound_access_tokens: bool = False
    id_token_signed_response_alg: str | None = None
    access_token_signed_response_alg: str | None = None
    fapi2: bool = False
    # Registered through RFC 7591 (not by an operator): the addresses it chose are fetched only through
    # services.outbound's checks (SSRF).
    self_registered: bool = False

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"

    @property
    def has_secret(self) -> bool:
        return self.token_endpoint_auth_method in ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True)
class NewClient:
    """What `clients.create` returns: the stored client and its secret, shown exactly once."""

    client: ClientView
    client_secret: str | None = field(repr=False)


@dataclass(frozen=True)
class SessionView:
    """An SSO session, as the protocol and pages see it."""

    id: int
    sid: str
    user_id: int
    auth_time: int
    amr: tuple[str, ...]
    acr: str


@dataclass(frozen=True)
class SessionInfo:
    """One of a person's live sessions, as the account page lists it."""

    id: int
    created_at: int
    last_seen_at: int
    ip_address: str | None
    device: str
    current: bool


@dataclass(frozen=True)
class FrontChannelLogout:
    """An iframe the logout page loads so that one client ends its own session (Front-Channel
    Logout 1.0 §3)."""

    client_name: str
    uri: str


@dataclass(frozen=True)
class LogoutRequestView:
    uid: str
    client_name: str | None
    redirect_to: str | None
    logged_out: bool
    cancelled: bool
    frontchannel: tuple[FrontChannelLogout, ...] = ()
    client_uri: str | None = None  # the app's registered home page, for a way back
    language: str | None = None  # the pages' language, from the request's ui_locales


@dataclass(frozen=True)
class DeliveryView:
    """A back-channel logout delivery and how it went."""

    client_id: str
    sid: str
    jti: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: int
    delivered_at: int | None


@dataclass(frozen=True)
class ConnectedApp:
    """A client a person gave consent to, as the account page lists it."""

    client_pk: int
    client_id: str
    name: str
    scopes: tuple[str, ...]
    permissions: tuple[str, ...]
    granted_at: int


@dataclass(frozen=True)
class InteractionView:
    uid: str
    client_id: str
    params: dict
    prompt: str | None
    consent_scopes: tuple[str, ...]
    login_user_id: int | None
    login_at: int | None
    consent_given: bool
    account_selected: bool
    expires_at: int
    device_code_id: int | None = None
    denied: bool = False


@dataclass(frozen=True)
class PasskeyView:
    """A registered WebAuthn credential (security key or passkey), as the account page lists it."""

    id: int
    nickname: str
    device_type: str  # single_device (bound to one authenticator) | multi_device (synced passkey)
    backed_up: bool
    transports: tuple[str, ...]
    created_at: int
    last_used_at: int | None


@dataclass(frozen=True)
class MfaStatus:
    """Which second factors a user has: what the policy, the MFA page and the account page need."""

    totp: bool
    passkeys: tuple[PasskeyView, ...]
    recovery_codes_left: int

    @property
    def enrolled(self) -> bool:
        """A second factor is set up (recovery codes alone are only the way back in, not a factor)."""
        return self.totp or bool(self.passkeys)


@dataclass(frozen=True)
class TotpEnrolment:
    """A pending authenticator-app enrolment: the secret as text and as a provisioning URI / QR code."""

    secret: str = field(repr=False)
    uri: str = field(repr=False)
    qr_svg: str = field(repr=False)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: object = field(repr=False)  # a joserfc RSAKey or ECKey with the private part
    public_jwk: dict = field(default_factory=dict)


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1)."""

    client_id: str
    redirect_uri: str
    response_mode: str
    scopes: tuple[str, ...]
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    prompt: tuple[str, ...] = ()
    max_age: int | None = None
    login_hint: str | None = None
    id_token_hint_sub: str | None = None  # the person asked for: id_token_hint's sub, or claims sub value
    ui_locales: tuple[str, ...] = ()
    acr_values: tuple[str, ...] = ()
    claims: dict | None = None
    resources: tuple[str, ...] = ()  # RFC 8707 resource indicators
    dpop_jkt: str | None = None  # RFC 9449 §10: the code is bound to this DPoP key

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)


@dataclass(frozen=True)
class CodeGrant:
    """A stored authorization code as the token endpoint sees it."""

    id: int
    client_pk: int
    user_id: int
    sid: str | None
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    claims_request: dict | None
    auth_time: int
    acr: str | None
    amr: tuple[str, ...]
    resources: tuple[str, ...] = ()
    dpop_jkt: str | None = None  # RFC 9449 §10: redeemable only with a proof by this key


@dataclass(frozen=True)
class AccessTokenInfo:
    """A verified, unrevoked access token."""

    jti: str | None  # None for opaque tokens
    client_id: str
    user_id: int | None
    scope: str
    claims_request: dict | None
    expires_at: int
    issued_at: int = 0
    client_pk: int = 0
    audience: tuple[str, ...] = ()
    auth_time: int | None = None
    acr: str | None = None
    jkt: str | None = None  # RFC 9449 §6: bound to this DPoP key


@dataclass(frozen=True)
class TokenRecord:
    """A stored access or refresh token, live or not, as introspection and revocation see it."""

    id: int
    kind: str  # "access" or "refresh"
    client_pk: int
    user_id: int | None
    family_id: str
    scope: str
    audience: tuple[str, ...]
    issued_at: int
    expires_at: int
    revoked: bool
    jti: str | None = None
    auth_time: int | None = None
    acr: str | None = None
    jkt: str | None = None


@dataclass(frozen=True)
class DeviceAuthorization:
    """What the device authorization endpoint answers (RFC 8628 §3.2); the codes are shown once."""

    device_code: str = field(repr=False)
    user_code: str
    expires_in: int
    interval: int


@dataclass(frozen=True)
class DeviceRequest:
    """A pending device authorization request, as the /device page and the protocol see it."""

    id: int
    user_code: str
    client_pk: int
    scope: str
    resources: tuple[str, ...]
    expires_at: int


@dataclass(frozen=True)
class DeviceGrant:
    """A device code a person approved, ready to be exchanged once."""

    id: int
    client_pk: int
    user_id: int
    scope: str
    resources: tuple[str, ...]
    sid: str | None
    auth_time: int | None
    acr: str | None
    amr: tuple[str, ...]


@dataclass(frozen=True)
class RefreshGrant:
    """A live refresh token as the token endpoint sees it."""

    id: int
    client_pk: int
    user_id: int
    family_id: str
    scope: str
    claims_request: dict | None
    sid: str | None
    auth_time: int | None
    acr: str | None
    amr: tuple[str, ...]
    resources: tuple[str, ...] = ()
    grant_expires_at: int | None = None
    jkt: str | None = None  # public clients' refresh tokens are bound to their DPoP key


@dataclass(frozen=True)
class RoleView:
    """A role or a group (same shape): its name, description and how many users hold it."""

    name: str
    description: str
    members: int
    builtin: bool = False


@dataclass(frozen=True)
class Page:
    """One page of a listing: the items, the total that matched, and where this page starts."""

    items: tuple
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: int
    event: str
    outcome: str
    actor_user_id: int | None
    subject_user_id: int | None
    client_id: str | None
    ip_address: str | None
    user_agent: str | None
    reason: str | None
    details: dict


@dataclass(frozen=True)
class PasswordLinkView:
    """A set-password link: the one-time token (shown once) and when it stops working."""

    user_id: int
    token: str = field(repr=False)
    expires_at: int = 0
