"""The person's own pages under /account. This branch adds the security pages (second factors);
profile, password, sessions and connected apps live beside them."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from . import security  # noqa: E402,F401
