"""Sign-in for the provider's own first-party pages (the account pages and the admin console): the
browser goes through this provider's authorization flow with a built-in client, so the login,
passkey and second-factor pages, their throttling and the MFA policy apply unchanged. The code is
never redeemed: the SSO session the flow created or raised is what the page then checks.

Web glue shared by the `account` and `admin` surfaces (like `http.py`)."""

from __future__ import annotations

import base64
import hashlib
import secrets

from flask import Response, redirect, request, session, url_for

from .services.runtime import current
from .types import ClientView


def start(client: ClientView, state_key: str, next_url: str) -> Response:
    """Redirect to /authorize for `client`, remembering where to come back to under `state_key`."""
    # The page to return to rides in the state: the login page inside the flow starts a fresh cookie
    # session, which drops what was saved here. Each console only follows it to its own pages.
    state = f"{secrets.token_urlsafe(24)}.{base64.urlsafe_b64encode(next_url.encode()).decode().rstrip('=')}"
    verifier = secrets.token_urlsafe(48)  # PKCE is mandatory for public clients; the code is not redeemed
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    session[state_key] = {"state": state, "next": next_url}
    return redirect(url_for("protocol.authorize", response_type="code", client_id=client.client_id,
                            redirect_uri=client.redirect_uris[0], scope="openid", state=state,
                            code_challenge=challenge, code_challenge_method="S256"), code=303)


def finish(state_key: str) -> tuple[bool, str | None]:
    """Read the authorization response at a console's callback: (completed, next page or None).
    Not completed: an error response, or one from another issuer (RFC 9207). The code is not redeemed
    and the state decides nothing but which of the console's own pages to return to (the caller
    checks it is one)."""
    session.pop(state_key, None)
    state = request.args.get("state", "")
    completed = request.args.get("iss") == current().settings.issuer and not request.args.get("error")
    _, _, encoded = state.partition(".")
    try:
        next_url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode() if encoded else None
    except ValueError:
        next_url = None
    return completed, next_url
