"""Pages the protocol sends a person to: login (password or passkey), account choice, second factor
(and setting one up inside the sign-in), consent, and the /device pages."""

from flask import Blueprint

bp = Blueprint("interaction", __name__, url_prefix="/interaction")

from . import enrol, logout_views, mfa, views  # noqa: E402,F401
from .device import device_bp  # noqa: E402,F401
