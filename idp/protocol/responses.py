"""Authorization responses in the requested response mode, always carrying `iss` (RFC 9207 §2)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.oauth2 import OAuth2Error
from flask import Response, redirect, render_template

from ..services.runtime import current

RESPONSE_MODES = ("query", "form_post")
MAX_DESCRIPTION = 200


def safe_description(text: str | None) -> str | None:
    """error_description may only hold %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §4.1.2.1, §5.2), and
    Authlib refuses to build an error otherwise: replace anything else (e.g. from an echoed
    parameter name) and keep it short."""
    if not text:
        return None
    cleaned = "".join(c if c in " !" or "#" <= c <= "[" or "]" <= c <= "~" else "?" for c in text)
    return cleaned if len(cleaned) <= MAX_DESCRIPTION else cleaned[: MAX_DESCRIPTION - 3] + "..."


def add_query(uri: str, params: list[tuple[str, str]]) -> str:
    """Append parameters to a URI, keeping its own query (RFC 6749 §3.1.2)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + params
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _csp_source(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"


def authorization_response(redirect_uri: str, response_mode: str, params: dict,
                           client_name: str | None = None) -> Response:
    items = [(k, v) for k, v in params.items() if v is not None]
    items.append(("iss", current().settings.issuer))
    if response_mode == "form_post":
        # OAuth 2.0 Form Post Response Mode: an auto-submitting form (the submit is in a static
        # script, so the page works under a CSP without inline scripts; a button covers no-JS).
        response = Response(render_template("protocol/form_post.html", action=redirect_uri, params=items,
                                            client_name=client_name))
        response.headers["Cache-Control"] = "no-store"
        response.form_action = _csp_source(redirect_uri)  # read by the CSP header hook
        return response
    response = redirect(add_query(redirect_uri, items), code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_response(redirect_uri: str, response_mode: str, error: OAuth2Error, state: str | None,
                   client_name: str | None = None) -> Response:
    params = {"error": error.error, "error_description": safe_description(error.get_error_description()),
              "state": state}
    return authorization_response(redirect_uri, response_mode, params, client_name)
