"""Pages the protocol sends a person to: login, account choice, consent."""

from flask import Blueprint

bp = Blueprint("interaction", __name__, url_prefix="/interaction")

from . import logout_views, views  # noqa: E402,F401
