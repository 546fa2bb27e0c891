"""Known browsers: OWASP's device-cookie pattern against aimed lockout.

After a successful password sign-in the browser gets a signed, long-lived cookie naming the account
(and a random nonce for this browser). A browser that holds a valid one for the account being
signed in to is judged by its own failures only; every other browser shares the account-wide limit.
So a stranger who keeps guessing a person's password locks out strangers, not the owner's own
browser. The cookie says nothing secret (a nonce and user ids) and is only trusted when its HMAC
checks out with the server's secret key."""

from __future__ import annotations

import hashlib
import hmac
import json

from . import crypto

COOKIE = "idp_known_browser"
TTL = 180 * 24 * 3600  # OWASP suggests a long-lived cookie; each successful sign-in renews it
MAX_ACCOUNTS = 5  # accounts one browser is remembered for (shared computers)


def _sign(settings, payload: str) -> str:
    key = hashlib.sha256(b"idp-known-browser\x00" + settings.secret_key.encode()).digest()
    return crypto.b64url(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def _read(settings, cookie: str | None) -> dict | None:
    if not cookie or len(cookie) > 512 or cookie.count(".") != 1:
        return None
    payload, signature = cookie.split(".")
    if not crypto.constant_time_equal(signature, _sign(settings, payload)):
        return None
    try:
        data = json.loads(crypto.b64url_decode(payload))
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str) or not isinstance(data.get("u"), list):
        return None
    return data


def browser_key(settings, cookie: str | None, user_id: int | None) -> str | None:
    """This browser's own throttle key for the account, if it signed in to that account before."""
    data = _read(settings, cookie)
    if data is None or user_id is None or user_id not in data["u"]:
        return None
    return f"{data['n']}:{user_id}"


def remember(settings, cookie: str | None, user_id: int) -> str:
    """The cookie value after a successful sign-in to `user_id` (same nonce if it had one)."""
    data = _read(settings, cookie) or {"n": crypto.random_token(16), "u": []}
    accounts = [u for u in data["u"] if isinstance(u, int) and u != user_id][-(MAX_ACCOUNTS - 1):]
    payload = crypto.b64url(json.dumps({"n": data["n"], "u": [*accounts, user_id]},
                                       separators=(",", ":")).encode())
    return f"{payload}.{_sign(settings, payload)}"
