"""The OAuth 2.0 / OpenID Connect wire: JSON and redirects, never HTML pages."""

from flask import Blueprint

bp = Blueprint("protocol", __name__)

from . import authorize, discovery, jwks, token, userinfo  # noqa: E402,F401
