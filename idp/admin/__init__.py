"""Operators' surfaces: the admin console (/admin, server-rendered pages) and the admin API
(/admin/api/v1, JSON authorized by bearer access tokens carrying admin scopes)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
api_bp = Blueprint("admin_api", __name__, url_prefix="/admin/api")

from . import api, console, console_auth, console_overview, listing  # noqa: E402,F401

listing.init(bp)
