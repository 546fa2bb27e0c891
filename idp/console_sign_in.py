"""Sign-in for the provider's own first-party pages (the account pages and the admin console): the
browser goes through this provider's authorization flow with a built-in client, so the login,
passkey and second-factor pages, their throttling and the MFA policy apply unchanged. The code is
never redeemed: the SSO session the flow created or raised is what the page then checks.

Web glue shared by the `account` and `admin` surfaces (like `http.py`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import Response, redirect, request, session, url_for

from .services.runtime import current
from .types import ClientView


def start(client: ClientView, state_key: str, next_url: str) -> Response:
    """Redirect to /authorize for `client`, remembering where to come back to under `state_key`."""
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)  # PKCE is mandatory for public clients; the code is not redeemed
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    session[state_key] = {"state": state, "next": next_url}
    return redirect(url_for("protocol.authorize", response_type="code", client_id=client.client_id,
                            redirect_uri=client.redirect_uris[0], scope="openid", state=state,
                            code_challenge=challenge, code_challenge_method="S256"), code=303)


def finish(state_key: str) -> tuple[bool, str | None]:
    """Read the authorization response at a console's callback: (completed, next page or None).
    Not completed: an error response, or one from another issuer (RFC 9207). A login page inside the
    flow starts a fresh cookie session, dropping the saved state, so a matching state only decides
    whether to return to the page asked for."""
    pending = session.pop(state_key, None) or {}
    matched = bool(pending) and hmac.compare_digest(pending.get("state", ""), request.args.get("state", ""))
    completed = request.args.get("iss") == current().settings.issuer and not request.args.get("error")
    return completed, pending.get("next") if matched else None
