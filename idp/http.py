"""Cookie glue shared by the protocol and the pages: names and flags in one place."""

from __future__ import annotations

from flask import Response, request

from .services import audit, crypto
from .services.runtime import current

SESSION_COOKIE = "idp_session"  # the SSO session (opaque id; server-side record)
BROWSER_COOKIE = "idp_browser"  # binds interactions to the browser that started them


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


def issuer_url(endpoint: str, **values) -> str:
    """An absolute URL of one of our endpoints, built from the configured issuer (never the request)."""
    from urllib.parse import urlsplit

    from flask import url_for

    parts = urlsplit(current().settings.issuer)
    return f"{parts.scheme}://{parts.netloc}" + url_for(endpoint, **values)
