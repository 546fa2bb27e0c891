"""The person's own pages: profile, password, security, sessions and connected apps."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from . import auth, email, forgot, lifecycle, password_link, security, views  # noqa: E402,F401
