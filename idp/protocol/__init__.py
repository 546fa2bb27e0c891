"""The OAuth 2.0 / OpenID Connect wire: JSON and redirects, never HTML pages."""

from flask import Blueprint

bp = Blueprint("protocol", __name__)


@bp.before_app_request
def _refresh_keys() -> None:
    """Pick up key rotations (by schedule or by another process) outside any request transaction."""
    from ..services.runtime import current

    current().keyring.refresh_if_due()

from . import (  # noqa: E402,F401
    authorize,
    cors,
    device,
    discovery,
    end_session,
    introspection,
    jwks,
    par,
    registration,
    revocation,
    token,
    userinfo,
)
