"""Authorization endpoint error handling: RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6, RFC 9700 §4.1,
RFC 7636 §4.4.1, RFC 9207 §2 and OAuth 2.0 Form Post Response Mode."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

import pytest

from tests.conftest import make_client, pkce_pair, query_of

CALLBACK = "https://app.example.com/callback"


def _request(rp, **overrides) -> dict[str, str]:
    _, challenge = pkce_pair()
    params = dict(response_type="code", client_id=rp.client.client_id, redirect_uri=CALLBACK,
                  scope="openid profile", state="st4te", nonce="n0nce", code_challenge=challenge,
                  code_challenge_method="S256")
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def _assert_error_page(response) -> None:
    """RFC 6749 §4.1.2.1: with an untrusted client or redirect URI the server MUST NOT redirect; it
    informs the resource owner instead."""
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "Location" not in response.headers
    assert response.mimetype == "text/html"


def _assert_error_redirect(response, settings, error: str, state: str | None = "st4te") -> dict[str, str]:
    """RFC 6749 §4.1.2.1: the error goes back to the registered redirect URI with `state`; RFC 9207 §2:
    the response carries `iss`."""
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?"), location
    query = query_of(location)
    assert query["error"] == error, query
    assert query["iss"] == settings.issuer
    if state is None:
        assert "state" not in query
    else:
        assert query["state"] == state
    assert "code" not in query
    return query


# --- untrusted client or redirect URI: an error page, never a redirect -----------------------------


def test_unknown_client_gets_error_page(client, rp):
    response = client.get("/authorize", query_string=_request(rp, client_id="no-such-client"))
    _assert_error_page(response)


def test_missing_client_id_gets_error_page(client, rp):
    response = client.get("/authorize", query_string=_request(rp, client_id=None))
    _assert_error_page(response)


def test_missing_redirect_uri_gets_error_page(client, rp):
    """OIDC Core §3.1.2.1: redirect_uri is REQUIRED; without it there is nowhere safe to redirect."""
    response = client.get("/authorize", query_string=_request(rp, redirect_uri=None))
    _assert_error_page(response)


@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example.net/callback",
    CALLBACK + "/",  # trailing slash
    CALLBACK + "?next=/admin",  # extra query
    "https://APP.example.com/callback",  # host case
    "https://app.example.com/Callback",  # path case
    "http://app.example.com/callback",  # scheme
    "https://app.example.com:443/callback",  # explicit default port
    "https://app.example.com/callback#frag",
    "https://app.example.com/callback/../callback",
])
def test_redirect_uri_must_match_exactly(client, rp, redirect_uri):
    """RFC 9700 §4.1.3 and OIDC Core §3.1.2.1: simple string comparison with a registered URI."""
    response = client.get("/authorize", query_string=_request(rp, redirect_uri=redirect_uri))
    _assert_error_page(response)


def test_redirect_uri_of_another_client_is_rejected(app, client, rp):
    make_client(app, name="Other", redirect_uris=["https://other.example.com/cb"])
    response = client.get("/authorize", query_string=_request(rp, redirect_uri="https://other.example.com/cb"))
    _assert_error_page(response)  # the URI is registered, but not for this client


def test_disabled_client_gets_error_page(app, client, rp):
    from idp.extensions import db
    from idp.storage import clients as client_store

    with app.app_context():
        client_store.get_by_client_id(rp.client.client_id).enabled = False
        db.session.commit()
    response = client.get("/authorize", query_string=_request(rp))
    _assert_error_page(response)


@pytest.mark.parametrize("key", ["client_id", "redirect_uri"])
def test_repeated_client_id_or_redirect_uri_gets_error_page(client, rp, key):
    """RFC 6749 §3.1: parameters MUST NOT be included more than once. When the repeated one is the
    client or redirect URI, which one to trust is unknown, so nothing is redirected."""
    params = list(_request(rp).items()) + [(key, _request(rp)[key])]
    response = client.get("/authorize?" + urlencode(params))
    _assert_error_page(response)


# --- errors redirected to a trusted redirect URI ---------------------------------------------------


@pytest.mark.parametrize("key", ["state", "scope", "response_type", "nonce", "code_challenge", "prompt"])
def test_repeated_parameter_is_invalid_request(client, rp, settings, key):
    """RFC 6749 §3.1 / §4.1.2.1: a repeated parameter is invalid_request, redirected to the client."""
    base = _request(rp, prompt="login")
    params = list(base.items()) + [(key, base[key])]
    response = client.get("/authorize?" + urlencode(params))
    _assert_error_redirect(response, settings, "invalid_request")


# Requests with a valid client and redirect URI that must be refused, and the error each gets
# (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6, RFC 7636 §4.4.1, OIDC Core §6.1/§6.2).
REDIRECTED_ERRORS = {
    "missing response_type": (dict(response_type=None), "invalid_request"),
    "implicit response_type": (dict(response_type="token"), "unsupported_response_type"),
    "hybrid response_type": (dict(response_type="code id_token"), "unsupported_response_type"),
    "unknown response_type": (dict(response_type="banana"), "unsupported_response_type"),
    "fragment response_mode": (dict(response_mode="fragment"), "invalid_request"),
    "unknown response_mode": (dict(response_mode="carrier-pigeon"), "invalid_request"),
    "missing scope": (dict(scope=None), "invalid_scope"),
    "empty scope": (dict(scope=""), "invalid_scope"),
    "only unknown scopes": (dict(scope="admin root"), "invalid_scope"),
    "malformed scope": (dict(scope='openid "quoted"'), "invalid_scope"),
    "plain PKCE": (dict(code_challenge_method="plain"), "invalid_request"),
    "unknown PKCE method": (dict(code_challenge_method="S512"), "invalid_request"),
    "PKCE method without challenge": (dict(code_challenge=None), "invalid_request"),
    "short PKCE challenge": (dict(code_challenge="abc"), "invalid_request"),
    "PKCE challenge with bad characters": (dict(code_challenge="a" * 42 + "+/="), "invalid_request"),
    "too long PKCE challenge": (dict(code_challenge="a" * 129), "invalid_request"),
    "prompt none with login": (dict(prompt="none login"), "invalid_request"),
    "prompt none with consent": (dict(prompt="consent none"), "invalid_request"),
    "unsupported prompt value": (dict(prompt="login create"), "invalid_request"),  # OIDC Prompt Create §4.1
    "max_age not a number": (dict(max_age="ten"), "invalid_request"),
    "negative max_age": (dict(max_age="-1"), "invalid_request"),
    "fractional max_age": (dict(max_age="1.5"), "invalid_request"),
    "empty max_age": (dict(max_age=""), "invalid_request"),
    "claims not JSON": (dict(claims="{userinfo:"), "invalid_request"),
    "claims not an object": (dict(claims="[1, 2]"), "invalid_request"),
    "claims member not an object": (dict(claims='{"userinfo": ["email"]}'), "invalid_request"),
    "claims essential not boolean": (dict(claims='{"id_token": {"acr": {"essential": "yes"}}}'),
                                     "invalid_request"),
    "claims values not an array": (dict(claims='{"id_token": {"acr": {"values": "x"}}}'), "invalid_request"),
    "id_token_hint not a JWT": (dict(id_token_hint="not-a-jwt"), "invalid_request"),
    # Unsigned request objects only from clients registered for them (others: OIDC Core §3.1.2.6
    # request_not_supported, as the OpenID conformance suite expects while discovery lists `none`);
    # request_uri only from PAR, never fetched (OIDC Core §3.1.2.6 request_uri_not_supported).
    "request object": (dict(request="eyJhbGciOiJub25lIn0.e30."), "request_not_supported"),
    "unsigned request object with a signature": (dict(request="eyJhbGciOiJub25lIn0.e30.c2ln"),
                                                 "invalid_request_object"),
    "request object not a JWT": (dict(request="a.b"), "invalid_request_object"),
    "request_uri": (dict(request_uri="https://app.example.com/req.jwt"), "request_uri_not_supported"),
    "registration": (dict(registration='{"client_name": "x"}'), "registration_not_supported"),
    "oversize nonce": (dict(nonce="n" * 5000), "invalid_request"),
    "oversize login_hint": (dict(login_hint="a" * 5000), "invalid_request"),
}


@pytest.mark.parametrize("case", list(REDIRECTED_ERRORS), ids=list(REDIRECTED_ERRORS))
def test_invalid_request_is_redirected_with_error_state_and_iss(client, rp, settings, case):
    overrides, error = REDIRECTED_ERRORS[case]
    response = client.get("/authorize", query_string=_request(rp, **overrides))
    _assert_error_redirect(response, settings, error)


@pytest.mark.parametrize("case", ["missing response_type", "plain PKCE", "request object"])
def test_error_redirect_without_state_has_no_state(client, rp, settings, case):
    """RFC 6749 §4.1.2.1: `state` is returned only "if the state parameter was present"."""
    overrides, error = REDIRECTED_ERRORS[case]
    response = client.get("/authorize", query_string=_request(rp, state=None, **overrides))
    _assert_error_redirect(response, settings, error, state=None)


def test_error_redirect_keeps_registered_query(app, client, settings):
    """RFC 6749 §3.1.2: the query of the registered redirect URI is retained when adding parameters."""
    uri = "https://app.example.com/cb?tenant=42"
    rp = make_client(app, name="Tenant App", redirect_uris=[uri])
    response = client.get("/authorize", query_string=_request(rp, redirect_uri=uri, response_type="token"))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("https://app.example.com/cb?")
    query = query_of(location)
    assert query["tenant"] == "42"
    assert query["error"] == "unsupported_response_type"
    assert query["state"] == "st4te" and query["iss"] == settings.issuer


def test_error_description_is_present_and_safe(client, rp):
    """RFC 6749 §4.1.2.1: error_description, if present, is limited to %x20-21 / %x23-5B / %x5D-7E."""
    response = client.get("/authorize", query_string=_request(rp, response_type="token"))
    description = query_of(response.headers["Location"])["error_description"]
    assert description
    assert re.fullmatch(r"[\x20\x21\x23-\x5b\x5d-\x7e]+", description), description


@pytest.mark.parametrize("params", [
    [("x\"y", "1"), ("x\"y", "2")],  # a repeated parameter whose name has a quote
    [("caf\u00e9\\", "v" * 5000)],  # an oversize parameter whose name is not ASCII
    [("claims", '{"userinfo": {"bad\\"name\u00e9": 5}}')],  # a claim name echoed in the description
    [("response_type", 'code"\u00e9')],
])
def test_error_descriptions_never_carry_forbidden_characters(client, rp, settings, params):
    """RFC 6749 §4.1.2.1 limits error_description to printable ASCII without '"' and '\\'. Echoing
    a client-chosen name into the description must neither break that rule nor fail the request."""
    query = [(k, v) for k, v in _request(rp).items() if k not in dict(params)] + params
    response = client.get("/authorize?" + urlencode(query))
    assert response.status_code == 302, response.get_data(as_text=True)
    result = query_of(response.headers["Location"])
    assert result["error"] in ("invalid_request", "unsupported_response_type")
    assert result["iss"] == settings.issuer
    assert re.fullmatch(r"[\x20\x21\x23-\x5b\x5d-\x7e]*", result.get("error_description", "")), result


def test_unknown_scopes_are_ignored(client, browser, user, rp):
    """OIDC Core §3.1.2.1: scope values the server does not understand SHOULD be ignored."""
    from tests.conftest import redeem

    result = browser.sign_in(rp, scope="openid email frobnicate admin")
    assert "code" in result, result
    body = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    assert body["scope"].split() == ["openid", "email"]


def test_scope_not_allowed_for_client_is_dropped(app, client, browser, user):
    """A scope the client is not registered for is not granted, even when the person consents."""
    from tests.conftest import redeem

    rp = make_client(app, name="Small App", redirect_uris=[CALLBACK], scopes=["openid", "email"])
    result = browser.sign_in(rp, scope="openid email phone address")
    body = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    assert body["scope"].split() == ["openid", "email"]


def test_public_client_without_pkce_is_rejected(client, public_rp, settings):
    """RFC 9700 §2.1.1: public clients MUST use PKCE; OAuth 2.1 §4.1.2.1 answers invalid_request."""
    uri = "http://127.0.0.1/callback"
    response = client.get("/authorize", query_string=dict(
        response_type="code", client_id=public_rp.client.client_id, redirect_uri=uri, scope="openid",
        state="st4te"))
    assert response.status_code == 302
    query = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(uri + "?")
    assert query["error"] == "invalid_request"
    assert query["state"] == "st4te" and query["iss"] == settings.issuer


def test_confidential_client_may_omit_pkce(client, browser, user, rp):
    """PKCE is required of public clients; confidential clients may use the plain code flow."""
    query = _request(rp, code_challenge=None, code_challenge_method=None)
    response = client.get("/authorize", query_string=query)
    assert response.status_code == 302
    assert "/interaction/" in response.headers["Location"]


def test_confidential_client_requiring_pkce_is_rejected_without_it(app, client, settings):
    rp = make_client(app, name="Strict App", redirect_uris=[CALLBACK], require_pkce=True)
    query = _request(rp, code_challenge=None, code_challenge_method=None)
    response = client.get("/authorize", query_string=query)
    _assert_error_redirect(response, settings, "invalid_request")


def test_challenge_without_method_defaults_to_plain_and_is_rejected(client, rp, settings):
    """RFC 7636 §4.3: an absent code_challenge_method means `plain`, which is not supported here."""
    response = client.get("/authorize", query_string=_request(rp, code_challenge_method=None))
    _assert_error_redirect(response, settings, "invalid_request")


def test_client_not_allowed_the_code_grant_is_unauthorized(app, client, settings):
    """RFC 6749 §4.1.2.1: unauthorized_client when the client may not use this grant."""
    from idp.extensions import db
    from idp.storage import clients as client_store

    rp = make_client(app, name="Odd App", redirect_uris=[CALLBACK])
    with app.app_context():
        client_store.get_by_client_id(rp.client.client_id).grant_types = ["refresh_token"]
        db.session.commit()
    response = client.get("/authorize", query_string=_request(rp))
    _assert_error_redirect(response, settings, "unauthorized_client")


# --- prompt=none (OIDC Core §3.1.2.6) ---------------------------------------------------------------


def test_prompt_none_without_session_is_login_required(client, rp, settings):
    response = client.get("/authorize", query_string=_request(rp, prompt="none"))
    _assert_error_redirect(response, settings, "login_required")


def test_prompt_none_with_session_but_no_consent_is_consent_required(app, client, browser, user, rp,
                                                                      settings):
    browser.sign_in(rp)
    other = make_client(app, name="Other App", redirect_uris=[CALLBACK])
    response = client.get("/authorize", query_string=_request(other, prompt="none"))
    _assert_error_redirect(response, settings, "consent_required")


def test_prompt_none_with_consent_for_fewer_scopes_is_consent_required(client, browser, user, rp, settings):
    browser.sign_in(rp, scope="openid")
    response = client.get("/authorize", query_string=_request(rp, prompt="none", scope="openid phone"))
    _assert_error_redirect(response, settings, "consent_required")


def test_prompt_none_with_session_and_consent_issues_code(client, browser, user, rp, settings):
    browser.sign_in(rp)
    response = client.get("/authorize", query_string=_request(rp, prompt="none"))
    assert response.status_code == 302
    query = query_of(response.headers["Location"])
    assert query["code"] and query["state"] == "st4te" and query["iss"] == settings.issuer


def test_prompt_none_with_select_account_is_invalid(client, browser, user, rp, settings):
    browser.sign_in(rp)
    response = client.get("/authorize", query_string=_request(rp, prompt="none select_account"))
    _assert_error_redirect(response, settings, "invalid_request")


def test_prompt_none_error_in_form_post_mode(client, rp, settings):
    """The error response uses the requested response mode too (Form Post Response Mode §2)."""
    response = client.get("/authorize", query_string=_request(rp, prompt="none", response_mode="form_post"))
    assert response.status_code == 200
    fields = _form_fields(response.get_data(as_text=True))
    assert fields["error"] == "login_required"
    assert fields["state"] == "st4te"
    assert fields["iss"] == settings.issuer
    assert "code" not in fields


# --- form_post response mode ------------------------------------------------------------------------


def _form_fields(html: str) -> dict[str, str]:
    import html as html_lib

    return {html_lib.unescape(name): html_lib.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', html)}


def _csp(response) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0]] = tokens[1:]
    return directives


def test_form_post_response_posts_code_state_and_iss(client, browser, user, rp, settings):
    """OAuth 2.0 Form Post Response Mode §2: an HTML form, auto-submitted to the redirect URI."""
    browser.sign_in(rp)
    response = client.get("/authorize", query_string=_request(rp, response_mode="form_post"))
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers
    html = response.get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]+)"', html)
    assert form and form.group(1) == CALLBACK
    fields = _form_fields(html)
    assert set(fields) == {"code", "state", "iss"}
    assert fields["state"] == "st4te"
    assert fields["iss"] == settings.issuer
    assert response.headers["Cache-Control"] == "no-store"
    assert f"<h1>Returning to {rp.client.name}</h1>" in html  # a heading that names the app


def test_form_post_page_csp_allows_only_the_redirect_target_and_no_inline_script(client, browser, user, rp):
    browser.sign_in(rp)
    response = client.get("/authorize", query_string=_request(rp, response_mode="form_post"))
    csp = _csp(response)
    assert csp["form-action"] == ["https://app.example.com"]
    assert "'unsafe-inline'" not in csp.get("script-src", csp.get("default-src", []))
    assert csp["frame-ancestors"] == ["'none'"]
    html = response.get_data(as_text=True)
    # Every script is external (a CSP without 'unsafe-inline' would block an inline one).
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


def test_form_post_escapes_state(client, browser, user, rp):
    browser.sign_in(rp)
    state = '"><script>alert(1)</script>'
    response = client.get("/authorize", query_string=_request(rp, response_mode="form_post", state=state))
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert _form_fields(html)["state"] == state


def test_form_post_to_a_native_app_scheme(client, browser, user, public_rp):
    _, challenge = pkce_pair()
    browser.sign_in(public_rp)
    response = client.get("/authorize", query_string=dict(
        response_type="code", client_id=public_rp.client.client_id, redirect_uri="com.example.app:/callback",
        scope="openid", state="s", code_challenge=challenge, code_challenge_method="S256",
        response_mode="form_post"))
    assert response.status_code == 200
    assert _csp(response)["form-action"] == ["com.example.app:"]


# --- size limits and method ----------------------------------------------------------------------------


def test_oversize_claims_is_invalid_request_not_500(client, rp, settings):
    deep = "[" * 2000 + "]" * 2000  # deep nesting under the length limit
    response = client.get("/authorize", query_string=_request(rp, claims=deep))
    _assert_error_redirect(response, settings, "invalid_request")
    deep_object = '{"a":' * 1000 + "1" + "}" * 1000
    response = client.get("/authorize", query_string=_request(rp, claims=deep_object))
    _assert_error_redirect(response, settings, "invalid_request")


def test_oversize_client_id_gets_error_page_not_500(client, rp):
    response = client.get("/authorize", query_string=_request(rp, client_id="x" * 10000))
    _assert_error_page(response)


def test_oversize_redirect_uri_gets_error_page_not_500(client, rp):
    response = client.get("/authorize", query_string=_request(rp, redirect_uri=CALLBACK + "?" + "x" * 10000))
    _assert_error_page(response)


def test_oversize_post_body_is_refused_not_500(client, rp):
    response = client.post("/authorize", data=_request(rp, nonce="n" * 100_000))
    assert 400 <= response.status_code < 500


def test_authorize_accepts_post(client, user, rp):
    """OIDC Core §3.1.2.1: the authorization endpoint MUST support GET and POST (form-encoded)."""
    response = client.post("/authorize", data=_request(rp))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "/interaction/" in urlsplit(response.headers["Location"]).path


def test_post_error_is_redirected_like_get(client, rp, settings):
    response = client.post("/authorize", data=_request(rp, response_type="token"))
    _assert_error_redirect(response, settings, "unsupported_response_type")


def test_authorize_rejects_other_methods(client, rp):
    assert client.put("/authorize", data=_request(rp)).status_code == 405
