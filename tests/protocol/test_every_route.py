"""Every route of the app, walked from its url_map, meets a few hostile inputs — bogus path ids,
repeated and odd parameters (Unicode digits, 64-bit overflows, control characters, invalid
percent-encoding), a body that is not UTF-8, JSON that is not an object, unexpected methods — each
with the session the route serves (a signed-in person, a signed-in operator, a sign-in in progress, an
admin API token). No answer is a 5xx; OAuth endpoints answer in RFC 6749 §5.2's shape (JSON, a
registered `error`, ASCII `error_description`, `no-store`); pages answer with a page, never Werkzeug's
own text. A route added later is walked without editing this file."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from tests.account.test_account import account_login
from tests.admin.api_helpers import automation_client, token
from tests.admin.test_console import _admin, _walk
from tests.conftest import Browser, csrf_from, enrol_totp, pkce_pair

OAUTH_PATHS = ("/token", "/introspect", "/revoke", "/device_authorization", "/par", "/register", "/userinfo")
OAUTH_ERRORS = {  # RFC 6749 §5.2, RFC 6750 §3.1, RFC 7591 §3.2.2, RFC 8628 §3.5, RFC 8707, RFC 9449, RFC 9126
    "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
    "invalid_scope", "invalid_token", "insufficient_scope", "invalid_target", "invalid_dpop_proof", "use_dpop_nonce",
    "authorization_pending", "slow_down", "expired_token", "access_denied", "unsupported_token_type",
    "invalid_redirect_uri", "invalid_client_metadata", "invalid_request_object", "invalid_request_uri",
    "invalid_software_statement", "unapproved_software_statement", "unsupported_response_type"}
FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "grant_type", "code", "token", "username",
          "password", "email", "name", "decision", "choice", "link", "offset", "user_id", "since", "grace_seconds",
          "uses", "expires_in", "access_token_ttl", "max_age", "claims", "request", "id_token_hint", "next",
          "language", "user_code", "nickname", "q")
HOSTILE = ("\u00b2", "99999999999999999999999", "-1", "a\r\n\x1b\x7f", "\u202e\U0001f600", "a" * 5000, "eyJ.e30.")
BOGUS_IDS = ("-1", "99999999999999999999", "\u00e9\u00b2", "%ff", "x" * 300)
SKIPPED = ("/static/", "/metrics")


@pytest.fixture()
def sessions(app, client, user, rp, _dcr_app):
    """One test client per surface, each with the session that surface serves, and the path values
    that exist (a live interaction, a real client, user and role)."""
    account = app.test_client()
    account_login(account)
    console = app.test_client()
    secret = enrol_totp(app, _admin(app))
    assert _walk(console, console.get("/admin"), secret).status_code == 200
    signing_in = app.test_client()
    _, challenge = pkce_pair()
    started = Browser(signing_in).authorize(
        response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
        scope="openid", code_challenge=challenge, code_challenge_method="S256")
    uid = started.headers["Location"].rsplit("/", 1)[1]
    bearer = {"Authorization": f"Bearer {token(client, automation_client(app))}"}
    values = {"uid": uid, "client_id": rp.client.client_id, "user_id": str(user.id), "name": "admin",
              "kind": "role"}
    return {
        "/account": (account, csrf_from(account.get("/account/profile").get_data(as_text=True)), {}),
        "/admin/api": (client, None, bearer),
        "/admin": (console, csrf_from(console.get("/admin/users").get_data(as_text=True)), {}),
        "/interaction": (signing_in, csrf_from(signing_in.get(f"/interaction/{uid}").get_data(as_text=True)), {}),
        "/register": (_dcr_app.test_client(), None, {}),
        "": (client, None, {}),
    }, values


def _last(rule) -> bool:
    """Routes that end the session they are called with go last, so the others keep theirs."""
    return bool(re.search(r"logout|delete|abort|sign_out|disable|enabled|revoke|end_session|/end\b", rule.rule))


def _check(method: str, path: str, response) -> None:
    where = f"{method} {path[:80]} -> {response.status_code}"
    assert response.status_code < 500, where + " " + response.get_data(as_text=True)[:300]
    if response.status_code < 400 or method == "HEAD":
        return
    body = response.get_data(as_text=True)
    if path.startswith(OAUTH_PATHS) and response.status_code != 405:
        error = response.get_json(silent=True)
        assert response.headers.get("Cache-Control", "").startswith("no-store"), where
        if path.split("?")[0] == "/userinfo" and response.status_code == 401:  # RFC 6750 §3: the challenge says why
            assert response.headers["WWW-Authenticate"].startswith(("Bearer", "DPoP")), where
            return
        assert isinstance(error, dict) and error.get("error") in OAUTH_ERRORS, where + " " + body[:200]
        description = error.get("error_description", "")
        assert description.isascii() and '"' not in description and "\\" not in description, where
    elif response.mimetype == "text/html":
        assert "<h1>" in body and "Werkzeug" not in body and "Traceback" not in body, where


def _requests(rule, path: str, csrf: str | None, headers: dict):
    """(method, path, keyword arguments) of the hostile requests for one route."""
    for method in sorted(rule.methods - {"OPTIONS"}) + ["OPTIONS", "PATCH"]:
        if method in ("GET", "HEAD"):
            yield method, path, {"query_string": MultiDict([(f, v) for f in FIELDS for v in HOSTILE[:3]])}
            yield method, path + "?" + "&".join(f"{f}=%ff%C0%AF" for f in FIELDS[:8]), {}
            continue
        form = MultiDict([(f, v) for f in FIELDS for v in HOSTILE[3:]] + ([("csrf_token", csrf)] if csrf else []))
        yield method, path, {"data": form}
        yield method, path + "?scope=%ff&code=\u00b2", {"data": b"\xff\xfe%ff=%C0", "content_type":
                                                             "application/x-www-form-urlencoded"}
        yield method, path, {"data": b"[1, {\"a\": null}]", "content_type": "application/json"}
        yield method, path, {"json": {f: [{"x": 1e300}] for f in FIELDS}}
        yield method, path, {"data": {"token": "x"}, "headers": {"Authorization": "Bearer "}}
    for bogus in BOGUS_IDS if rule.arguments else ():
        last = sorted(rule.arguments)[-1]
        yield "GET", re.sub(rf"<[^>]*\b{last}>", bogus, rule.rule), {}


def test_no_route_answers_hostile_input_with_a_server_error(app, sessions):
    by_prefix, values = sessions
    rules = sorted((r for r in app.url_map.iter_rules() if not r.rule.startswith(SKIPPED)), key=_last)
    for rule in rules:
        prefix = next(p for p in by_prefix if rule.rule.startswith(p))
        client, csrf, headers = by_prefix[prefix]
        path = rule.rule
        for argument in rule.arguments:
            path = re.sub(rf"<[^>]*\b{argument}>", values.get(argument, "1"), path)
        for method, target, kwargs in _requests(rule, path, csrf, headers):
            kwargs["headers"] = {**headers, **kwargs.get("headers", {})}
            with client.open(target, method=method, **kwargs) as response:  # closed, as a WSGI server does
                _check(method, target, response)
