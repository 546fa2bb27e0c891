"""Domain exceptions shared by the layers, and the message a person reads in them. Protocol errors use
Authlib's spec-named classes."""

from __future__ import annotations


class Message(str):
    """English text a person reads, kept as its template and values: `str()` (the string itself) is the
    English text with the values filled in — for logs, the audit trail, the CLI, the JSON APIs and
    protocol error_descriptions — while a page translates the template into its own language and fills
    in the same values (idp.i18n.describe). The template has named placeholders (`%(uri)s`, `%(num)d`);
    `plural` is its plural form, chosen by the `num` value (ngettext-style); a (singular, plural) pair
    (services.text.Nn_) may be given as the template."""

    template: str
    plural: str | None
    values: dict

    def __new__(cls, template: str | tuple[str, str] = "", plural: str | None = None, /, **values) -> Message:
        if isinstance(template, tuple):
            template, plural = template
        english = template if plural is None or values.get("num") == 1 else plural
        text = super().__new__(cls, english % values if values else english)
        text.template, text.plural, text.values = template, plural, values
        return text


class IdpError(Exception):
    """Base class of the provider's domain errors. The message is an English template with named
    placeholders plus the values to fill in (e.g. `ValidationError(N_("%(label)s can be at most %(num)d
    characters long."), label=label, num=200)`), or a ready Message; `str(error)` is the English text."""

    def __init__(self, message: str | tuple[str, str] = "", /, *, plural: str | None = None, **values):
        self.message = message if isinstance(message, Message) and plural is None and not values \
            else Message(message, plural, **values)
        super().__init__(str(self.message))


class ConfigurationError(IdpError):
    """A setting is missing or invalid; the message names it."""


class ValidationError(IdpError):
    """Input to a service was rejected; the message says why, in words a person can act on. `field`
    names the input at fault, when there is one (a page marks that field and puts the message next to
    it)."""

    def __init__(self, message: str = "", field: str | None = None, /, **values):
        field = values.pop("field", field)
        super().__init__(message, **values)
        self.field = field


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

    def __init__(self, message: str, user_id: int, /, **values):
        super().__init__(message, **values)
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

    def __init__(self, action: str, message: str, /, **values):
        super().__init__(message, **values)
        self.action = action
