"""CORS (Fetch standard) for browser apps: the token, UserInfo and revocation endpoints answer
cross-origin requests, and their preflights, from the origins registered in an enabled client's
`allowed_cors_origins`; any other origin gets no CORS headers, so the browser withholds the response."""

from __future__ import annotations

from flask import Response, request

from ..services import clients
from . import bp

CORS_PATHS = ("/token", "/userinfo", "/revoke")


def _allow(response: Response, origin: str) -> None:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers.add("Vary", "Origin")


@bp.before_app_request
def _preflight():
    if request.method != "OPTIONS" or request.path not in CORS_PATHS or \
            not request.headers.get("Access-Control-Request-Method"):
        return None
    response = Response(status=204)
    origin = request.headers.get("Origin", "")
    if clients.origin_allowed(origin):
        _allow(response, origin)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, DPoP"  # RFC 9449
        response.headers["Access-Control-Max-Age"] = "600"
    return response


@bp.after_app_request
def _actual(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin and request.path in CORS_PATHS and request.method != "OPTIONS" and clients.origin_allowed(origin):
        _allow(response, origin)
        # A browser app using DPoP must read the server's nonce and the DPoP challenge (RFC 9449 §8-9).
        response.headers["Access-Control-Expose-Headers"] = "DPoP-Nonce, WWW-Authenticate"
    return response
