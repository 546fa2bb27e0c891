"""`roles` and `groups` claims (RBAC): released in the ID token, the JWT access token and UserInfo
when the client may have and asks for the scope of the same name; never otherwise."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet

from idp.services import rbac
from tests.conftest import make_client, redeem


def _decode(client, token: str) -> dict:
    return jwt.decode(token, KeySet.import_key_set(client.get("/jwks.json").get_json())).claims


def _grant(app, user):
    with app.app_context():
        rbac.create(rbac.ROLE, "editor")
        rbac.create(rbac.GROUP, "staff")
        rbac.assign(rbac.ROLE, user.id, ["editor"])
        rbac.assign(rbac.GROUP, user.id, ["staff"])


def test_roles_and_groups_claims_when_asked_for_and_allowed(app, client, browser, user):
    _grant(app, user)
    rp = make_client(app, name="Roles App", redirect_uris=["https://roles.example.com/cb"],
                     scopes=["openid", "roles", "groups"], skip_consent=True)
    result = browser.sign_in(rp, scope="openid roles groups")
    body = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    id_claims = _decode(client, body["id_token"])
    assert id_claims["roles"] == ["editor"] and id_claims["groups"] == ["staff"]
    access = _decode(client, body["access_token"])
    assert access["roles"] == ["editor"] and access["groups"] == ["staff"]
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).get_json()
    assert info["roles"] == ["editor"] and info["groups"] == ["staff"]


def test_no_roles_claim_without_the_scope_or_the_permission(app, client, browser, user):
    _grant(app, user)
    rp = make_client(app, name="Plain App", redirect_uris=["https://plain.example.com/cb"],
                     scopes=["openid", "profile"], skip_consent=True)
    result = browser.sign_in(rp, scope="openid profile roles groups")  # not allowed: dropped
    body = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    for token in (body["id_token"], body["access_token"]):
        claims = _decode(client, token)
        assert "roles" not in claims and "groups" not in claims


def test_discovery_lists_the_rbac_scopes(client):
    scopes = client.get("/.well-known/openid-configuration").get_json()["scopes_supported"]
    assert "roles" in scopes and "groups" in scopes


def test_admin_roles_make_an_administrator_who_needs_mfa(app, user):
    from idp.services import users

    with app.app_context():
        rbac.assign(rbac.ROLE, user.id, ["auditor"])
        assert users.get(user.id).is_admin is True
        assert rbac.permissions_of(user.id) == frozenset({rbac.ADMIN_AUDIT})
        rbac.assign(rbac.ROLE, user.id, [])
        assert users.get(user.id).is_admin is False
        users.set_admin(user.id, True)
        assert rbac.names_of(rbac.ROLE, user.id) == ["admin"]
