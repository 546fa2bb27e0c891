"""Domain exceptions shared by the layers. Protocol errors use Authlib's spec-named classes."""


class IdpError(Exception):
    """Base class of the provider's domain errors."""


class ConfigurationError(IdpError):
    """A setting is missing or invalid; the message names it."""


class ValidationError(IdpError):
    """Input to a service was rejected; the message says why, in words a person can act on."""


class NotFound(IdpError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class AuthenticationFailed(IdpError):
    """Credentials did not verify. Deliberately says nothing about which part was wrong."""


class UnsafeRedirect(IdpError):
    """An authorization request whose client or redirect URI cannot be trusted: the error is shown
    to the person instead of being redirected (RFC 6749 §4.1.2.1)."""


class SecondFactorFailed(IdpError):
    """A second factor (code, recovery code, security key) did not verify; the message is the
    reason recorded in the audit trail, not shown verbatim to the person."""


class CounterRegression(SecondFactorFailed):
    """A WebAuthn signature counter did not increase: the authenticator may have been cloned."""

    def __init__(self, message: str, user_id: int):
        super().__init__(message)
        self.user_id = user_id


class LogoutRequestRejected(IdpError):
    """An RP-initiated logout request that cannot be trusted (e.g. an id_token_hint this server did not
    issue): the error is shown to the person and nobody is redirected (RP-Initiated Logout 1.0 §2)."""


class Throttled(IdpError):
    """Too many recent failures: the caller must wait `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class Forbidden(IdpError):
    """An administrative action this actor may not take (services.authorization); the message says why."""

    def __init__(self, action: str, message: str):
        super().__init__(message)
        self.action = action
