"""The JWKS document (RFC 7517 §5): current, next and still-needed retired public keys."""

from __future__ import annotations

from flask import Response

from ..services.runtime import current
from . import bp


@bp.route("/jwks.json", methods=["GET"])
def jwks() -> Response:
    rt = current()
    response = Response(rt.keyring.jwks_json(), mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={rt.settings.jwks_max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
