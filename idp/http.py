"""Web glue shared by the protocol and the pages: cookie names and flags in one place, and the one way
to build an absolute URL of this provider (from the configured issuer, never from the request)."""

from __future__ import annotations

from flask import Response, current_app, request

from .services import audit, crypto, known_browsers
from .services.runtime import current

SESSION_COOKIE = "idp_session"  # the SSO session (opaque id; server-side record)
BROWSER_COOKIE = "idp_browser"  # binds interactions to the browser that started them
KNOWN_BROWSER_COOKIE = known_browsers.COOKIE  # this browser signed in to these accounts before (signed)


def whole_number(raw: str | None, max_digits: int = 9) -> int | None:
    """`raw` as a non-negative whole number written in ASCII digits, at most `max_digits` long (nine fit
    every integer column), else None. str.isdigit() alone is not enough: '²'.isdigit() is True, and
    int('²') fails."""
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= max_digits else None


def issuer_url(endpoint: str, **values) -> str:
    """The absolute URL of a route, for anything published, signed, shown or mailed: the configured issuer
    (the provider's public base URL, any path prefix included) plus the route's path. Never built from the
    Host header or X-Forwarded-Host/-Prefix, which whoever sends the request controls."""
    path = current_app.url_map.bind("issuer.invalid", script_name="/").build(endpoint, values)
    return current().settings.issuer + path


def read(name: str) -> str | None:
    return request.cookies.get(name)


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="Lax",
        secure=current().settings.issuer_is_https,
    )


def clear(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="Lax",
                           secure=current().settings.issuer_is_https)


def remember_browser(response: Response, value: str) -> None:
    """Set the known-browser cookie a successful password check returned (long-lived)."""
    if value:
        set_cookie(response, KNOWN_BROWSER_COOKIE, value, max_age=known_browsers.TTL)


def ensure_browser_secret(response: Response) -> str:
    """The browser binding for a page that needs one (WebAuthn challenges), set on `response` if new."""
    secret, new = browser_secret()
    if new:
        set_cookie(response, BROWSER_COOKIE, secret)
    return secret


def browser_secret() -> tuple[str, bool]:
    """This browser's binding secret, and whether it is new (must then be set on the response)."""
    value = read(BROWSER_COOKIE)
    if value and 20 <= len(value) <= 128:
        return value, False
    return crypto.random_token(32), True


def origin() -> audit.Origin:
    return audit.Origin(ip_address=client_ip(), user_agent=user_agent())


def client_ip() -> str | None:
    return request.remote_addr


def user_agent() -> str | None:
    return request.headers.get("User-Agent")
