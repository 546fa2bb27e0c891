"""Prompts and authentication requirements: OIDC Core §3.1.2.1 (prompt, max_age, id_token_hint,
login_hint, acr), §3.1.2.3–§3.1.2.4 (authentication and consent), §5.5 (the claims parameter)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet

from idp.services import clock
from tests.conftest import PASSWORD, basic_auth, csrf_from, make_client, pkce_pair, query_of, redeem

CALLBACK = "https://app.example.com/callback"


def _id_token_claims(client, token: str) -> dict:
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    return jwt.decode(token, keys, algorithms=["RS256"]).claims


def _page_kind(html: str) -> str:
    if 'name="password"' in html:
        return "login"
    if 'name="decision"' in html:
        return "consent"
    if 'name="choice"' in html:
        return "select_account"
    raise AssertionError(html)


class Walk:
    """One authorization request followed through the pages, recording which pages were shown. A
    bounded number of steps, so that a prompt loop fails the test instead of hanging it."""

    def __init__(self, client, rp, *, username="alice", password=PASSWORD, consent="allow", **params):
        self.client = client
        self.verifier, challenge = pkce_pair()
        query = dict(response_type="code", client_id=rp.client.client_id,
                     redirect_uri=rp.client.redirect_uris[0], scope="openid profile email", state="st4te",
                     nonce="n0nce", code_challenge=challenge, code_challenge_method="S256")
        query.update(params)
        self.pages: list[str] = []
        self.html: list[str] = []
        response = client.get("/authorize", query_string={k: v for k, v in query.items() if v is not None})
        for _ in range(6):
            if not (response.status_code == 302 and "/interaction/" in response.headers["Location"]):
                break
            path = urlsplit(response.headers["Location"]).path
            html = client.get(path).get_data(as_text=True)
            kind = _page_kind(html)
            self.pages.append(kind)
            self.html.append(html)
            token = csrf_from(html)
            if kind == "login":
                step = client.post(path + "/login", data={"username": username, "password": password,
                                                          "csrf_token": token})
            elif kind == "consent":
                step = client.post(path + "/consent", data={"decision": consent, "csrf_token": token})
            else:
                step = client.post(path + "/select", data={"choice": "continue", "csrf_token": token})
            assert step.status_code == 303, step.get_data(as_text=True)
            response = client.get(urlsplit(step.headers["Location"]).path)
        else:
            raise AssertionError(f"the pages loop: {self.pages}")
        assert response.status_code == 302, response.get_data(as_text=True)
        self.location = response.headers["Location"]
        self.query = query_of(self.location)

    def tokens(self, rp) -> dict:
        response = redeem(self.client, rp, self.query["code"], self.verifier)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def id_token(self, rp) -> dict:
        return _id_token_claims(self.client, self.tokens(rp)["id_token"])


def _first_page(client, rp, **params):
    """The first thing a browser is shown for a request: an interaction page kind, or the redirect."""
    _, challenge = pkce_pair()
    query = dict(response_type="code", client_id=rp.client.client_id, redirect_uri=rp.client.redirect_uris[0],
                 scope="openid profile email", state="st4te", code_challenge=challenge,
                 code_challenge_method="S256")
    query.update(params)
    response = client.get("/authorize", query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    if "/interaction/" in location:
        return _page_kind(client.get(urlsplit(location).path).get_data(as_text=True)), location
    return "redirect", location


# --- sign-in and SSO ------------------------------------------------------------------------------


def test_first_sign_in_asks_login_then_consent(client, user, rp, settings):
    walk = Walk(client, rp)
    assert walk.pages == ["login", "consent"]
    assert walk.query["state"] == "st4te" and walk.query["iss"] == settings.issuer


def test_remembered_consent_skips_the_consent_page(client, user, rp):
    """OIDC Core §3.1.2.4: consent may be established by a prior decision."""
    Walk(client, rp)
    second = Walk(client, rp)
    assert second.pages == []
    assert second.query["code"]


def test_remembered_consent_does_not_cover_new_scopes(client, user, rp):
    Walk(client, rp, scope="openid")
    second = Walk(client, rp, scope="openid phone")
    assert second.pages == ["consent"]


def test_consent_deny_returns_access_denied(client, user, rp, settings):
    """OIDC Core §3.1.2.6: the person refused, so access_denied goes back to the client, with state and
    iss (RFC 6749 §4.1.2.1, RFC 9207 §2)."""
    walk = Walk(client, rp, consent="deny")
    assert walk.pages == ["login", "consent"]
    assert walk.location.startswith(CALLBACK + "?")
    assert walk.query["error"] == "access_denied"
    assert walk.query["state"] == "st4te"
    assert walk.query["iss"] == settings.issuer
    assert "code" not in walk.query


def test_denied_consent_is_not_remembered(client, user, rp):
    Walk(client, rp, consent="deny")
    assert _first_page(client, rp)[0] == "consent"


def test_skip_consent_client_never_sees_consent_page(app, client, user):
    first_party = make_client(app, name="First Party", redirect_uris=[CALLBACK], skip_consent=True)
    walk = Walk(client, first_party)
    assert walk.pages == ["login"]
    assert walk.query["code"]
    assert Walk(client, first_party, scope="openid profile email").pages == []


def test_skip_consent_client_still_honours_prompt_consent(app, client, user):
    """prompt=consent is the client's own explicit request to ask."""
    first_party = make_client(app, name="First Party", redirect_uris=[CALLBACK], skip_consent=True)
    Walk(client, first_party)
    assert Walk(client, first_party, prompt="consent").pages == ["consent"]


# --- prompt=login and max_age ---------------------------------------------------------------------


def test_prompt_login_forces_login_despite_session_and_does_not_loop(client, user, rp):
    """OIDC Core §3.1.2.1: prompt=login — the server SHOULD prompt for reauthentication. Once the person
    has logged in for this request, the request completes."""
    first = Walk(client, rp).id_token(rp)
    clock.advance(120)
    walk = Walk(client, rp, prompt="login")
    assert walk.pages == ["login"]  # consent is remembered
    claims = walk.id_token(rp)
    assert claims["auth_time"] >= first["auth_time"] + 120
    assert claims["sid"] == first["sid"]  # the same SSO session re-authenticated (under a new cookie value)


def test_prompt_login_then_consent_does_not_loop(client, user, rp):
    Walk(client, rp)
    assert Walk(client, rp, prompt="login consent").pages == ["login", "consent"]


def test_max_age_zero_forces_login(client, user, rp):
    """OIDC Core §3.1.2.1 (errata set 2): max_age=0 is equivalent to prompt=login, even right after a
    sign-in (timestamps have whole-second resolution, so the elapsed time may be 0)."""
    first = Walk(client, rp).id_token(rp)
    walk = Walk(client, rp, max_age="0")
    assert walk.pages == ["login"]
    claims = walk.id_token(rp)
    assert claims["auth_time"] >= first["auth_time"]
    assert claims["sid"] == first["sid"]


def test_max_age_zero_after_time_passed_forces_login_and_does_not_loop(client, user, rp):
    Walk(client, rp)
    clock.advance(5)
    walk = Walk(client, rp, max_age="0")
    assert walk.pages == ["login"]
    assert walk.query["code"]


def test_max_age_exceeded_forces_login(client, user, rp):
    """OIDC Core §3.1.2.1: if the elapsed time is greater than max_age the OP MUST re-authenticate."""
    first = Walk(client, rp).id_token(rp)
    clock.advance(120)
    walk = Walk(client, rp, max_age="60")
    assert walk.pages == ["login"]
    assert walk.id_token(rp)["auth_time"] >= first["auth_time"] + 120


def test_max_age_not_exceeded_reuses_session_and_reports_auth_time(client, user, rp):
    """No login prompt within max_age; the ID token MUST then carry auth_time (OIDC Core §3.1.2.1)."""
    first = Walk(client, rp).id_token(rp)
    clock.advance(30)
    walk = Walk(client, rp, max_age="86400")
    assert walk.pages == []
    claims = walk.id_token(rp)
    assert claims["auth_time"] == first["auth_time"]
    assert claims["sid"] == first["sid"]


def test_prompt_none_with_max_age_exceeded_is_login_required(client, user, rp, settings):
    Walk(client, rp)
    clock.advance(120)
    kind, location = _first_page(client, rp, prompt="none", max_age="60")
    assert kind == "redirect"
    query = query_of(location)
    assert query["error"] == "login_required"
    assert query["state"] == "st4te" and query["iss"] == settings.issuer


def test_prompt_none_with_max_age_zero_is_login_required(client, user, rp):
    Walk(client, rp)
    kind, location = _first_page(client, rp, prompt="none", max_age="0")
    assert kind == "redirect"
    assert query_of(location)["error"] == "login_required"


def test_prompt_consent_asks_again_when_remembered(client, user, rp):
    """OIDC Core §3.1.2.1: prompt=consent — the server SHOULD prompt for consent before returning."""
    Walk(client, rp)
    walk = Walk(client, rp, prompt="consent")
    assert walk.pages == ["consent"]
    assert walk.query["code"]


def test_prompt_consent_deny_is_access_denied_even_when_remembered(client, user, rp, settings):
    Walk(client, rp)
    walk = Walk(client, rp, prompt="consent", consent="deny")
    assert walk.query["error"] == "access_denied"
    assert walk.query["state"] == "st4te" and walk.query["iss"] == settings.issuer


# --- select_account ---------------------------------------------------------------------------------


def test_prompt_select_account_shows_continue_as(client, user, rp):
    """OIDC Core §3.1.2.1: prompt=select_account — the server SHOULD prompt to select an account."""
    Walk(client, rp)
    walk = Walk(client, rp, prompt="select_account")
    assert walk.pages == ["select_account"]
    assert "Continue as alice" in walk.html[0]
    assert walk.query["code"]


def test_select_account_other_account_leads_to_login(app, client, user, rp):
    from idp.services import users as user_service
    from idp.services.runtime import current

    with app.app_context():
        user_service.create(current().passwords, username="bob", password=PASSWORD, email="bob@example.com")
    Walk(client, rp)
    kind, location = _first_page(client, rp, prompt="select_account")
    assert kind == "select_account"
    path = urlsplit(location).path
    page = client.get(path).get_data(as_text=True)
    step = client.post(path + "/select", data={"choice": "other", "csrf_token": csrf_from(page)})
    assert step.status_code == 303
    login_page = client.get(urlsplit(step.headers["Location"]).path).get_data(as_text=True)
    assert _page_kind(login_page) == "login"
    step = client.post(path + "/login", data={"username": "bob", "password": PASSWORD,
                                              "csrf_token": csrf_from(login_page)})
    response = client.get(urlsplit(step.headers["Location"]).path)
    # bob has not consented to this client yet
    assert "/interaction/" in response.headers["Location"]
    page = client.get(urlsplit(response.headers["Location"]).path).get_data(as_text=True)
    assert _page_kind(page) == "consent"
    assert "Signed in as <strong>bob</strong>" in page


# --- hints ------------------------------------------------------------------------------------------


def _bob_id_token(app) -> str:
    """An ID token for another user, signed in from another browser."""
    from idp.services import users as user_service
    from idp.services.runtime import current

    with app.app_context():
        user_service.create(current().passwords, username="bob", password=PASSWORD, email="bob@example.com")
    other_rp = make_client(app, name="Bob's App", redirect_uris=["https://bob.example.com/cb"],
                           skip_consent=True)
    other_browser = app.test_client()
    walk = Walk(other_browser, other_rp, username="bob")
    return walk.tokens(other_rp)["id_token"]


def test_id_token_hint_of_the_session_user_needs_no_login(client, user, rp):
    """OIDC Core §3.1.2.1: id_token_hint names the End-User's current or past session."""
    token = Walk(client, rp).tokens(rp)["id_token"]
    walk = Walk(client, rp, id_token_hint=token)
    assert walk.pages == []
    assert walk.query["code"]


def test_id_token_hint_for_another_user_forces_login(app, client, user, rp):
    hint = _bob_id_token(app)
    Walk(client, rp)  # alice signs in on this browser
    walk = Walk(client, rp, id_token_hint=hint, username="bob")
    assert walk.pages[0] == "login"
    bob = _id_token_claims(client, hint)["sub"]
    assert walk.id_token(rp)["sub"] == bob


def test_id_token_hint_for_another_user_then_someone_else_signs_in_is_login_required(app, client, user, rp,
                                                                                     settings):
    """OIDC Core §3.1.2.1: if the End-User identified by the hint is not the one logged in by the
    request, the server SHOULD return an error such as login_required rather than a code for
    someone else."""
    hint = _bob_id_token(app)
    Walk(client, rp)
    walk = Walk(client, rp, id_token_hint=hint)  # alice logs in again instead of bob
    assert walk.pages == ["login"]
    assert walk.query["error"] == "login_required"
    assert walk.query["state"] == "st4te" and walk.query["iss"] == settings.issuer
    assert "code" not in walk.query


def test_id_token_hint_for_another_user_with_prompt_none_is_login_required(app, client, user, rp, settings):
    """OIDC Core §3.1.2.1: with prompt=none, if the hinted End-User is not logged in, login_required."""
    hint = _bob_id_token(app)
    Walk(client, rp)
    kind, location = _first_page(client, rp, prompt="none", id_token_hint=hint)
    assert kind == "redirect"
    query = query_of(location)
    assert query["error"] == "login_required"
    assert query["state"] == "st4te" and query["iss"] == settings.issuer


def test_claims_sub_value_for_another_user_forces_login_and_never_answers_for_someone_else(app, client, user, rp,
                                                                                           settings):
    """OIDC Core §5.5.1: with `sub` requested with a value for the ID token, the server MUST only send a
    positive response for that person, never an ID token or access token for a different user."""
    bob = _id_token_claims(client, _bob_id_token(app))["sub"]
    Walk(client, rp)  # alice is signed in here
    for_bob = json.dumps({"id_token": {"sub": {"value": bob}}})
    kind, location = _first_page(client, rp, prompt="none", claims=for_bob)
    assert kind == "redirect" and query_of(location)["error"] == "login_required"
    walk = Walk(client, rp, claims=for_bob)  # alice logs in again instead of bob
    assert walk.pages == ["login"] and walk.query["error"] == "login_required" and "code" not in walk.query
    assert Walk(client, rp, claims=for_bob, username="bob").id_token(rp)["sub"] == bob
    alice = Walk(client, rp).id_token(rp)["sub"]
    assert Walk(client, rp, claims=json.dumps({"id_token": {"sub": {"value": alice}}})).pages == []
    kind, location = _first_page(client, rp, claims=json.dumps({"id_token": {"sub": {"value": 7}}}))
    assert query_of(location)["error"] == "invalid_request"


def test_expired_id_token_hint_is_still_accepted(client, user, rp):
    """OIDC Core §3.1.2.1: the OP need not be listed as an audience, and an expired hint is fine."""
    token = Walk(client, rp).tokens(rp)["id_token"]
    clock.advance(2 * 3600)
    kind, _ = _first_page(client, rp, id_token_hint=token)
    assert kind == "login"  # the session is gone (idle), but the hint was not rejected


def test_login_hint_prefills_username(client, user, rp):
    """OIDC Core §3.1.2.1: login_hint — a hint about the identifier the End-User might use."""
    kind, location = _first_page(client, rp, login_hint="alice@example.com")
    assert kind == "login"
    html = client.get(urlsplit(location).path).get_data(as_text=True)
    assert 'name="username"' in html
    assert 'value="alice@example.com"' in html


def test_login_hint_is_escaped(client, user, rp):
    hint = '"><script>alert(1)</script>'
    _, location = _first_page(client, rp, login_hint=hint)
    html = client.get(urlsplit(location).path).get_data(as_text=True)
    assert "<script>alert(1)" not in html


# --- the claims parameter (OIDC Core §5.5) ----------------------------------------------------------


def test_claims_parameter_adds_userinfo_claim(client, user, rp):
    walk = Walk(client, rp, scope="openid", claims=json.dumps({"userinfo": {"phone_number": None}}))
    body = walk.tokens(rp)
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).get_json()
    assert info["phone_number"] == "+44 1865 000000"
    assert "email" not in info  # neither asked for by scope nor by claims
    id_claims = _id_token_claims(client, body["id_token"])
    assert "phone_number" not in id_claims  # asked for at userinfo only


def test_claims_parameter_adds_id_token_claim(client, user, rp):
    walk = Walk(client, rp, scope="openid", claims=json.dumps({"id_token": {"email": {"essential": True}}}))
    body = walk.tokens(rp)
    assert _id_token_claims(client, body["id_token"])["email"] == "alice@example.com"
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).get_json()
    assert "email" not in info


def test_claims_parameter_ignores_unknown_claims(client, user, rp):
    claims = {"userinfo": {"favourite_colour": None}, "id_token": {"shoe_size": None}}
    body = Walk(client, rp, scope="openid", claims=json.dumps(claims)).tokens(rp)
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).get_json()
    assert "favourite_colour" not in info
    assert "shoe_size" not in _id_token_claims(client, body["id_token"])


def test_claims_parameter_cannot_reach_beyond_the_client_registration(app, client, user):
    """A client registered for `openid` only gets no e-mail or phone by naming them in `claims`."""
    small = make_client(app, name="Small App", redirect_uris=[CALLBACK], scopes=["openid"])
    claims = {"userinfo": {"email": None, "phone_number": None}, "id_token": {"address": None}}
    body = Walk(client, small, scope="openid", claims=json.dumps(claims)).tokens(small)
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).get_json()
    assert set(info) == {"sub"}
    assert "address" not in _id_token_claims(client, body["id_token"])


def test_claims_parameter_survives_refresh(client, user, rp):
    claims = json.dumps({"userinfo": {"phone_number": None}})
    body = Walk(client, rp, scope="openid offline_access", claims=claims, prompt="consent").tokens(rp)
    refreshed = client.post("/token", data={"grant_type": "refresh_token",
                                            "refresh_token": body["refresh_token"]},
                            headers=basic_auth(rp.client.client_id, rp.client_secret))
    assert refreshed.status_code == 200, refreshed.get_json()
    token = refreshed.get_json()["access_token"]
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert info["phone_number"] == "+44 1865 000000"


# --- acr (OIDC Core §5.5.1.1) -----------------------------------------------------------------------


def test_essential_acr_that_cannot_be_met_is_access_denied(client, user, rp, settings):
    """§5.5.1.1: an essential acr that cannot be met MUST be treated as a failed authentication."""
    Walk(client, rp)
    claims = {"id_token": {"acr": {"essential": True, "values": ["urn:example:acr:hardware-token"]}}}
    kind, location = _first_page(client, rp, claims=json.dumps(claims))
    assert kind == "redirect"
    assert location.startswith(CALLBACK + "?")
    query = query_of(location)
    assert query["error"] == "access_denied"
    assert query["state"] == "st4te" and query["iss"] == settings.issuer
    assert "code" not in query


def test_essential_acr_single_value_that_cannot_be_met_is_access_denied(client, user, rp):
    Walk(client, rp)
    claims = {"id_token": {"acr": {"essential": True, "value": "urn:example:acr:hardware-token"}}}
    assert query_of(_first_page(client, rp, claims=json.dumps(claims))[1])["error"] == "access_denied"


def test_essential_acr_that_is_met_is_returned(client, user, rp):
    first = Walk(client, rp).id_token(rp)
    claims = {"id_token": {"acr": {"essential": True, "values": ["urn:example:other", first["acr"]]}}}
    walk = Walk(client, rp, claims=json.dumps(claims))
    assert walk.id_token(rp)["acr"] == first["acr"]


def test_voluntary_acr_that_cannot_be_met_is_not_an_error(client, user, rp):
    """§5.5.1.1: a voluntary acr request is best effort."""
    Walk(client, rp)
    claims = {"id_token": {"acr": {"values": ["urn:example:acr:hardware-token"]}}}
    walk = Walk(client, rp, claims=json.dumps(claims), acr_values="urn:example:acr:hardware-token")
    assert walk.query["code"]
    assert walk.id_token(rp)["acr"]


def test_login_page_offers_continue_as_or_another_account_when_signed_in(client, user, rp):
    """Session awareness: re-authentication (prompt=login) names the signed-in account and offers another."""
    Walk(client, rp)
    kind, location = _first_page(client, rp, prompt="login")
    assert kind == "login"
    page = client.get(urlsplit(location).path).get_data(as_text=True)
    assert "Continue as <strong>alice</strong>" in page and 'value="alice"' in page
    assert "use another account</a>" in page
    other = client.get(urlsplit(location).path + "?other=1").get_data(as_text=True)
    assert "Continue as" not in other and 'name="username"' in other and 'value="alice"' not in other


def test_login_page_without_a_session_offers_nothing_to_continue(client, user, rp):
    kind, location = _first_page(client, rp)
    assert kind == "login"
    assert "Continue as" not in client.get(urlsplit(location).path).get_data(as_text=True)


def test_prompt_none_answers_each_unmet_prompt_with_its_error(client, user, rp):
    """OIDC Core §3.1.2.6: login_required without a session, consent_required when consent is missing."""
    assert query_of(_first_page(client, rp, prompt="none")[1])["error"] == "login_required"
    Walk(client, rp)
    wider = _first_page(client, rp, prompt="none", scope="openid profile email phone")
    assert query_of(wider[1])["error"] == "consent_required"
    assert "code" in query_of(_first_page(client, rp, prompt="none")[1])
