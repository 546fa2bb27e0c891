"""The admin API (/admin/api/v1): authorization of every endpoint (no token 401, a token without the
scope 403), each operation, and responses true to the OpenAPI document."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from openapi_spec_validator import validate as validate_spec

from idp.services import clients as client_service
from idp.services import clock
from idp.services.rbac import ADMIN_AUDIT, ADMIN_CLIENTS, ADMIN_ROLES, ADMIN_SCOPES, ADMIN_USERS
from tests.admin.api_helpers import BASE, Api, automation_client, token
from tests.conftest import PASSWORD, Browser, basic_auth, csrf_from, deliver_mail, enrol_totp, redeem


@pytest.fixture()
def robot(app):
    return automation_client(app)


@pytest.fixture()
def api(client, robot):
    return Api(client, token(client, robot))


def _operations(doc):
    for template, item in doc["paths"].items():
        for method, op in item.items():
            if method != "parameters":
                yield template, method, op


def _concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "1" if m.group(0) == "{user_id}" else "x", template)


def test_openapi_document_is_valid_openapi_3_1(client):
    doc = client.get(BASE + "/openapi.json").get_json()
    validate_spec(doc)
    assert doc["openapi"] == "3.1.0"


def test_every_api_route_is_documented(app, client):
    doc = client.get(BASE + "/openapi.json").get_json()
    documented = {(re.sub(r"\{[^}]+\}", "*", t), m.upper()) for t, m, _ in _operations(doc)}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(BASE + "/v1"):
            path = re.sub(r"<[^>]+>", "*", rule.rule[len(BASE):])
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (path, method) in documented, (path, method)


def test_every_endpoint_needs_a_token_with_its_scope(client, robot):
    doc = client.get(BASE + "/openapi.json").get_json()
    tokens = {s: token(client, robot, s) for s in ADMIN_SCOPES}
    operations = list(_operations(doc))
    assert len(operations) >= 25
    for template, method, op in operations:
        path = BASE + _concrete(template)
        anonymous = client.open(path, method=method.upper(), json={})
        assert anonymous.status_code == 401, (method, template)
        assert anonymous.mimetype == "application/problem+json"
        assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        assert anonymous.get_json()["status"] == 401
        bogus = client.open(path, method=method.upper(), json={}, headers={"Authorization": "Bearer nonsense"})
        assert bogus.status_code == 401 and 'error="invalid_token"' in bogus.headers["WWW-Authenticate"]
        required = op["x-required-scope"]
        other = next(s for s in ADMIN_SCOPES if s != required)
        refused = client.open(path, method=method.upper(), json={},
                              headers={"Authorization": f"Bearer {tokens[other]}"})
        assert refused.status_code == 403, (method, template)
        assert refused.mimetype == "application/problem+json"
        assert f'scope="{required}"' in refused.headers["WWW-Authenticate"]


def test_clients_crud_disable_and_delete(client, api):
    created = api.post("/v1/clients", json={
        "name": "Shop", "redirect_uris": ["https://shop.example.com/cb"], "scopes": ["openid", "email"],
        "require_mfa": True, "allowed_cors_origins": ["https://shop.example.com"],
        "post_logout_redirect_uris": ["https://shop.example.com/bye"], "access_token_ttl": 600})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    client_id, secret = body["client_id"], body["client_secret"]
    assert secret and body["require_mfa"] is True and body["allowed_cors_origins"] == ["https://shop.example.com"]
    assert created.headers["Location"].endswith(f"/v1/clients/{client_id}")
    fetched = api.get(f"/v1/clients/{client_id}").get_json()
    assert "client_secret" not in fetched and fetched["name"] == "Shop"
    assert [c["client_id"] for c in api.get("/v1/clients").get_json()["items"]].count(client_id) == 1
    changed = api.patch(f"/v1/clients/{client_id}", json={"name": "Shop 2", "skip_consent": True})
    assert changed.get_json()["name"] == "Shop 2" and changed.get_json()["skip_consent"] is True
    bad = api.patch(f"/v1/clients/{client_id}", json={"redirect_uris": ["https://shop.example.com/*"]})
    assert bad.status_code == 400 and "wildcard" in bad.get_json()["detail"]
    assert api.patch(f"/v1/clients/{client_id}", json={"token_endpoint_auth_method": "none"}).status_code == 400
    assert api.patch(f"/v1/clients/{client_id}", json={"colour": "red"}).status_code == 400
    assert api.post(f"/v1/clients/{client_id}/disable").get_json()["enabled"] is False
    disabled = client.post("/token", data={"grant_type": "client_credentials"}, headers=basic_auth(client_id, secret))
    assert disabled.status_code == 401
    assert api.post(f"/v1/clients/{client_id}/enable").get_json()["enabled"] is True
    assert api.delete(f"/v1/clients/{client_id}").status_code == 204
    assert api.get(f"/v1/clients/{client_id}").status_code == 404


def test_register_a_fapi2_key_client_through_the_api(api):
    created = api.post("/v1/clients", json={
        "name": "Bank", "redirect_uris": ["https://bank.example.com/cb"],
        "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://bank.example.com/jwks.json",
        "fapi2": True})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["client_secret"] is None and body["jwks_uri"] == "https://bank.example.com/jwks.json"
    assert body["require_pushed_authorization_requests"] and body["dpop_bound_access_tokens"] and body["require_pkce"]
    assert body["id_token_signed_response_alg"] == "PS256"
    # The profile's requirements cannot be switched off one by one.
    changed = api.patch(f"/v1/clients/{body['client_id']}", json={"dpop_bound_access_tokens": False})
    assert changed.get_json()["dpop_bound_access_tokens"] is True
    refused = api.patch(f"/v1/clients/{body['client_id']}", json={"jwks_uri": "http://bank.example.com/jwks"})
    assert refused.status_code == 400 and "https" in refused.get_json()["detail"]


def test_a_dpop_bound_admin_token_is_refused_as_a_bearer_token(app, client):
    from tests.protocol.high_assurance import dpop_proof

    with app.app_context():
        robot = client_service.create(name="Bound robot", redirect_uris=[], grant_types=["client_credentials"],
                                      scopes=[ADMIN_CLIENTS], admin_scopes_allowed=ADMIN_SCOPES,
                                      dpop_bound_access_tokens=True)
    auth = basic_auth(robot.client.client_id, robot.client_secret)
    nonce = client.post("/token", data={"grant_type": "client_credentials"}, headers=auth | {
        "DPoP": dpop_proof("POST", "http://localhost/token")}).headers["DPoP-Nonce"]
    issued = client.post("/token", data={"grant_type": "client_credentials"}, headers=auth | {
        "DPoP": dpop_proof("POST", "http://localhost/token", nonce=nonce)}).get_json()
    assert issued["token_type"] == "DPoP"
    assert Api(client, issued["access_token"]).get("/v1/clients").status_code == 401


@pytest.mark.parametrize("payload, message", [
    ({"name": "x", "redirect_uris": ["http://evil.example.com/cb"]}, "https"),
    ({"name": "x", "redirect_uris": ["https://a.example.com/cb#frag"]}, "fragment"),
    ({"name": "", "redirect_uris": ["https://a.example.com/cb"]}, "name"),
    ({"name": "x", "redirect_uris": "https://a.example.com/cb"}, "list"),
    ({"name": "x", "redirect_uris": ["https://a.example.com/cb"], "access_token_ttl": -5}, "positive"),
    ({"name": "x", "redirect_uris": ["https://a.example.com/cb"], "allowed_cors_origins": ["https://a.com/path"]},
     "origin"),
    ({"redirect_uris": []}, "name"),
])
def test_client_registration_is_validated_like_everywhere_else(api, payload, message):
    response = api.post("/v1/clients", json=payload)
    assert response.status_code == 400
    assert message in response.get_json()["detail"].lower()


def test_a_body_that_is_not_an_object_is_a_problem(api):
    response = api.post("/v1/clients", data="[1]", content_type="application/json")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_admin_scopes_can_only_be_granted_by_a_caller_holding_them(client, robot):
    clients_only = Api(client, token(client, robot, ADMIN_CLIENTS))
    refused = clients_only.post("/v1/clients", json={"name": "Escalator", "grant_types": ["client_credentials"],
                                                     "scopes": [ADMIN_USERS]})
    assert refused.status_code == 403 and ADMIN_USERS in refused.get_json()["detail"]
    allowed = clients_only.post("/v1/clients", json={"name": "Deployer", "grant_types": ["client_credentials"],
                                                     "scopes": [ADMIN_CLIENTS]})
    assert allowed.status_code == 201


def test_secret_rotation_with_a_grace_period(client, api):
    body = api.post("/v1/clients", json={"name": "Job", "grant_types": ["client_credentials"],
                                         "scopes": ["jobs:run"]}).get_json()
    client_id, old = body["client_id"], body["client_secret"]
    rotated = api.post(f"/v1/clients/{client_id}/secret", json={"grace_seconds": 300}).get_json()
    new = rotated["client_secret"]
    assert new != old and rotated["previous_secret_expires_at"] == clock.now() + 300
    for secret in (old, new):
        ok = client.post("/token", data={"grant_type": "client_credentials"}, headers=basic_auth(client_id, secret))
        assert ok.status_code == 200
    clock.advance(301)
    expired = client.post("/token", data={"grant_type": "client_credentials"}, headers=basic_auth(client_id, old))
    assert expired.status_code == 401
    immediate = api.post(f"/v1/clients/{client_id}/secret", json={}).get_json()["client_secret"]
    refused = client.post("/token", data={"grant_type": "client_credentials"}, headers=basic_auth(client_id, new))
    assert refused.status_code == 401
    assert client.post("/token", data={"grant_type": "client_credentials"},
                       headers=basic_auth(client_id, immediate)).status_code == 200
    assert api.post(f"/v1/clients/{client_id}/secret", json={"grace_seconds": -1}).status_code == 400


def test_users_search_and_paging(app, api):
    for i in range(5):
        assert api.post("/v1/users", json={"username": f"user{i}", "password": PASSWORD,
                                           "email": f"user{i}@example.org"}).status_code == 201
    first = api.get("/v1/users?q=user&limit=2").get_json()
    assert first["total"] == 5 and [u["username"] for u in first["items"]] == ["user0", "user1"]
    third = api.get("/v1/users?q=user&limit=2&offset=4").get_json()
    assert [u["username"] for u in third["items"]] == ["user4"]
    assert api.get("/v1/users?q=USER3").get_json()["total"] == 1
    assert api.get("/v1/users?q=%25").get_json()["total"] == 0  # LIKE wildcards are literal
    assert api.get("/v1/users?limit=1000").status_code == 400
    assert api.get("/v1/users?offset=x").status_code == 400
    assert api.post("/v1/users", json={"username": "user0", "password": PASSWORD}).status_code == 400
    assert api.post("/v1/users", json={"username": "weak", "password": "x"}).status_code == 400
    assert api.post("/v1/users", json={"username": 5, "password": PASSWORD}).status_code == 400



@pytest.mark.parametrize("query", ["/v1/users?offset=99999999999999999999", "/v1/audit?offset=99999999999999999999",
                                   "/v1/audit?since=99999999999999999999", "/v1/audit?until=-99999999999999999999",
                                   "/v1/audit?user_id=99999999999999999999", "/v1/users?offset=%C2%B2"])
def test_numbers_beyond_the_database_range_are_a_bad_request(api, query):
    """A 400 problem, not a failed query (SQLite and PostgreSQL hold 64-bit integers at most)."""
    response = api.get(query)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


@pytest.mark.parametrize("query", ["user_id=3000000000", "since=3000000000", "until=-3000000000", "since=-3000000000"])
def test_audit_filters_beyond_the_integer_columns_match_what_they_can(api, query):
    """Audit times and ids are 32-bit columns (PostgreSQL refuses to compare them with a larger
    number): a filter beyond them is a page, empty where nothing can match."""
    response = api.get(f"/v1/audit?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)

def test_edit_claims_roles_and_groups(client, api, user):
    edited = api.patch(f"/v1/users/{user.id}", json={"claims": {"nickname": "Al", "given_name": ""},
                                                     "email": "alice@new.example.com"}).get_json()
    assert edited["claims"]["nickname"] == "Al" and "given_name" not in edited["claims"]
    assert edited["email"] == "alice@new.example.com" and edited["email_verified"] is False
    assert api.patch(f"/v1/users/{user.id}", json={"claims": {"sub": "x"}}).status_code == 400
    assert api.post("/v1/roles", json={"name": "billing", "description": "Billing staff"}).status_code == 201
    assert api.post("/v1/groups", json={"name": "staff"}).status_code == 201
    with_roles = api.put(f"/v1/users/{user.id}/roles", json={"roles": ["billing", "auditor"]}).get_json()
    assert with_roles["roles"] == ["auditor", "billing"]
    assert api.put(f"/v1/users/{user.id}/groups", json={"groups": ["staff"]}).get_json()["groups"] == ["staff"]
    assert api.put(f"/v1/users/{user.id}/roles", json={"roles": ["nope"]}).status_code == 400
    assert api.get("/v1/roles/billing").get_json() == {"name": "billing", "description": "Billing staff",
                                                       "members": 1, "builtin": False}
    assert api.get(f"/v1/users/{user.id}").get_json()["roles"] == ["auditor", "billing"]


def test_granting_admin_roles_needs_admin_roles_scope(client, robot, user):
    users_only = Api(client, token(client, robot, ADMIN_USERS))
    refused = users_only.put(f"/v1/users/{user.id}/roles", json={"roles": ["admin"]})
    assert refused.status_code == 403
    both = Api(client, token(client, robot, f"{ADMIN_USERS} {ADMIN_ROLES}"))
    assert both.put(f"/v1/users/{user.id}/roles", json={"roles": ["user-manager"]}).status_code == 200
    # ... but not one granting a permission the caller does not hold itself (no acting above yourself)
    assert both.put(f"/v1/users/{user.id}/roles", json={"roles": ["client-manager"]}).status_code == 403
    everything = Api(client, token(client, robot))
    assert everything.put(f"/v1/users/{user.id}/roles", json={"roles": ["admin"]}).status_code == 200
    assert users_only.delete(f"/v1/users/{user.id}").status_code == 403


def test_roles_and_groups_crud(api):
    names = [r["name"] for r in api.get("/v1/roles").get_json()["items"]]
    assert {"admin", "client-manager", "user-manager", "auditor"} <= set(names)
    assert api.delete("/v1/roles/admin").status_code == 400
    assert api.post("/v1/roles", json={"name": "Bad Name!"}).status_code == 400
    for kinds in ("roles", "groups"):
        assert api.post(f"/v1/{kinds}", json={"name": "ops"}).status_code == 201
        assert api.post(f"/v1/{kinds}", json={"name": "ops"}).status_code == 400
        assert api.patch(f"/v1/{kinds}/ops", json={"description": "Operations"}).get_json()["description"] == \
            "Operations"
        assert api.delete(f"/v1/{kinds}/ops").status_code == 204
        assert api.get(f"/v1/{kinds}/ops").status_code == 404


def test_disable_ends_sessions_and_revokes_tokens(client, api, browser, user, rp):
    result = browser.sign_in(rp, scope="openid offline_access")
    tokens = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    disabled = api.post(f"/v1/users/{user.id}/disable").get_json()
    assert disabled["enabled"] is False
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401
    refresh = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                          headers=basic_auth(rp.client.client_id, rp.client_secret))
    assert refresh.status_code == 400
    assert client.get("/account").status_code == 303  # the SSO session is gone
    event = api.get("/v1/audit?event=admin.user.disable").get_json()["items"][0]
    assert event["details"]["revoked_tokens"] >= 1 and event["details"]["ended_sessions"] == 1
    assert api.post(f"/v1/users/{user.id}/enable").get_json()["enabled"] is True


def test_reset_mfa_and_delete(app, api, user):
    enrol_totp(app, user)
    removed = api.post(f"/v1/users/{user.id}/mfa/reset").get_json()["removed"]
    assert removed == {"totp": 1, "passkeys": 0, "recovery_codes": 10}
    assert api.delete(f"/v1/users/{user.id}").status_code == 204
    assert api.get(f"/v1/users/{user.id}").status_code == 404
    assert api.post(f"/v1/users/{user.id}/mfa/reset").status_code == 404


def test_set_password_link_is_one_time_and_expires(app, client, api, user, browser, rp, smtp):
    sent = api.post(f"/v1/users/{user.id}/password-link").get_json()
    assert sent["sent_to"] == "alice@example.com" and "url" not in sent  # mailed, never shown
    deliver_mail(app, smtp)
    assert smtp.messages[0]["Subject"].startswith("Set your")
    path = smtp.links("http://localhost")[0].split("localhost", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and "alice" in page.get_data(as_text=True)
    weak = client.post(path, data={"new_password": "x", "new_password_again": "x",
                                   "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert weak.status_code == 400
    done = client.post(path, data={"new_password": "a brand new passphrase", "new_password_again":
                                   "a brand new passphrase", "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 200
    assert client.get(path).status_code == 404
    api.post(f"/v1/users/{user.id}/password-link")
    deliver_mail(app, smtp)
    expiring = smtp.links("http://localhost")[-1].split("localhost", 1)[1]
    clock.advance(86401)
    assert client.get(expiring).status_code == 404


def test_audit_query_filters_and_shows_a_sign_in(client, api, browser, user, rp):
    result = browser.sign_in(rp)
    redeem(client, rp, result["code"], result["_verifier"])
    again = browser.authorize(response_type="code", client_id=rp.client.client_id, scope="openid", prompt="login",
                              redirect_uri=rp.client.redirect_uris[0])
    path = urlsplit(again.headers["Location"]).path
    browser.login(path, password="wrong")
    everything = api.get("/v1/audit?limit=100").get_json()
    events = [e["event"] for e in everything["items"]]
    assert "login.password" in events and "consent.grant" in events and "token.issue" in events
    failures = api.get("/v1/audit?outcome=failure").get_json()
    assert failures["total"] >= 1 and all(e["outcome"] == "failure" for e in failures["items"])
    login = api.get(f"/v1/audit?event=login&user_id={user.id}").get_json()
    assert login["items"] and all(e["event"].startswith("login") for e in login["items"])
    by_client = api.get(f"/v1/audit?client_id={rp.client.client_id}").get_json()
    assert by_client["items"] and all(e["client_id"] == rp.client.client_id for e in by_client["items"])
    assert api.get(f"/v1/audit?since={clock.now() + 10}").get_json()["total"] == 0
    assert api.get("/v1/audit?outcome=maybe").status_code == 400
    assert api.get("/v1/audit?since=soon").status_code == 400
    paged = api.get("/v1/audit?limit=1&offset=1").get_json()
    assert len(paged["items"]) == 1 and paged["items"][0]["id"] == everything["items"][1]["id"]


def test_unknown_api_path_and_method_are_problems(client, api):
    missing = client.get(BASE + "/v1/nothing")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong = client.put(BASE + "/v1/clients")
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]


def test_a_users_token_carries_only_what_their_roles_allow(app, client, user, api):
    """A person's own token with admin scopes works only while their roles grant them."""
    from tests.conftest import make_client

    console = make_client(app, name="Ops CLI", redirect_uris=["https://ops.example.com/cb"],
                          scopes=["openid", ADMIN_AUDIT, ADMIN_USERS], skip_consent=True,
                          admin_scopes_allowed=ADMIN_SCOPES)
    api.put(f"/v1/users/{user.id}/roles", json={"roles": ["auditor"]})
    from tests.conftest import Browser, totp_now

    secret = enrol_totp(app, user)
    browser = Browser(app.test_client())
    browser.second_factor = lambda: totp_now(secret)
    result = browser.sign_in(console, scope=f"openid {ADMIN_AUDIT} {ADMIN_USERS}")
    access = redeem(client, console, result["code"], result["_verifier"]).get_json()["access_token"]
    personal = Api(client, access)
    assert personal.get("/v1/audit").status_code == 200
    assert personal.get("/v1/users").status_code == 403  # the scope alone is not enough: no user-manager role
    api.put(f"/v1/users/{user.id}/roles", json={"roles": []})
    assert personal.get("/v1/audit").status_code == 403


def test_a_token_from_a_password_only_sign_in_never_gets_admin_permissions(app, client, user, api):
    """MFA bypass: alice (no second factor, no role) signs in to an admin tool with her password only and
    keeps the token (and refresh token); once she is made an administrator, that token must not carry
    her new permissions: administrators act only from a sign-in at the MFA level."""
    from tests.conftest import make_client

    tool = make_client(app, name="Ops CLI", redirect_uris=["https://ops.example.com/cb"],
                       scopes=["openid", "offline_access", ADMIN_USERS], skip_consent=True,
                       grant_types=["authorization_code", "refresh_token"], admin_scopes_allowed=ADMIN_SCOPES)
    result = Browser(app.test_client()).sign_in(tool, scope=f"openid offline_access {ADMIN_USERS}")
    issued = redeem(client, tool, result["code"], result["_verifier"]).get_json()
    assert api.put(f"/v1/users/{user.id}/roles", json={"roles": ["user-manager"]}).status_code == 200
    refused = Api(client, issued["access_token"]).get("/v1/users")
    assert refused.status_code == 401
    assert 'error="insufficient_user_authentication"' in refused.headers["WWW-Authenticate"]
    refreshed = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
                            headers=basic_auth(tool.client.client_id, tool.client_secret)).get_json()
    assert Api(client, refreshed["access_token"]).get("/v1/users").status_code == 401


def test_a_token_for_another_audience_is_refused(app, client):
    """A token issued with admin scopes for resource=https://api.example.com must not open the admin API:
    that API could replay it here (finding 6)."""
    with app.app_context():
        from idp.services import clients as client_service

        robot = client_service.create(name="Robot", redirect_uris=[], grant_types=["client_credentials"],
                                      scopes=list(ADMIN_SCOPES), admin_scopes_allowed=ADMIN_SCOPES,
                                      resources=["https://api.example.com"])
    issued = client.post("/token", data={"grant_type": "client_credentials", "resource": "https://api.example.com"},
                         headers=basic_auth(robot.client.client_id, robot.client_secret))
    assert issued.status_code == 200
    for_api = issued.get_json()["access_token"]
    refused = client.get(BASE + "/v1/users", headers={"Authorization": f"Bearer {for_api}"})
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    own = token(client, robot)  # without resource: the audience is this provider
    assert client.get(BASE + "/v1/users", headers={"Authorization": f"Bearer {own}"}).status_code == 200


def test_acting_above_yourself_is_refused_and_audited(app, client, robot):
    """A client-manager cannot rotate the secret of a client holding admin:users (and then use it with
    client_credentials); the refusal is in the audit trail."""
    clients_only = Api(client, token(client, robot, ADMIN_CLIENTS))
    powerful = automation_client(app, scopes=(ADMIN_USERS,))
    refused = clients_only.post(f"/v1/clients/{powerful.client.client_id}/secret", json={})
    assert refused.status_code == 403 and ADMIN_USERS in refused.get_json()["detail"]
    assert token(client, powerful)  # the old secret still works
    audit = Api(client, token(client, robot, ADMIN_AUDIT))
    [event] = audit.get("/v1/audit?event=admin.client.rotate_secret").get_json()["items"]
    assert event["outcome"] == "failure" and event["client_id"] == robot.client.client_id
