"""The authorization matrix of README.md ("Security model"), walked cell by cell through both the admin
console and the admin API: every allowed action succeeds and changes something, every refused one is a
403 that changes nothing. The table is read from the README, so the documentation cannot drift from the
behaviour (services.authorization decides both surfaces)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from idp import http
from idp.extensions import db
from idp.services import clients as client_service
from idp.services import rbac, sessions
from idp.services import users as user_service
from idp.services.rbac import ADMIN_USERS, BUILTIN_ROLES
from idp.services.runtime import current
from tests.admin.api_helpers import BASE, token
from tests.conftest import PASSWORD, enrol_totp

README = Path(__file__).resolve().parents[2] / "README.md"
ROLES = ("admin", "client-manager", "user-manager", "auditor")


def _matrix() -> list[tuple[str, str, dict[str, bool]]]:
    body = README.read_text().split("<!-- authorization-matrix:start -->")[1].split("<!-- authorization-matrix:end")[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in body.strip().splitlines()]
    header, rows = rows[0], rows[2:]
    assert header == ["action", "target", *ROLES]
    return [(r[0], r[1], {role: cell == "✓" for role, cell in zip(ROLES, r[2:], strict=True)}) for r in rows]


@dataclass
class World:
    """What every cell starts from: two clients, three users and a custom role."""

    ordinary_client: str
    privileged_client: str
    ordinary_user: int
    administrator: int
    peer: int


def _world(app) -> World:
    with app.app_context():
        shop = client_service.create(name="Shop", redirect_uris=["https://shop.example.com/cb"], scopes=["openid"])
        robot = client_service.create(name="Provisioner", redirect_uris=[], grant_types=["client_credentials"],
                                      scopes=[ADMIN_USERS], admin_scopes_allowed=(ADMIN_USERS,))
        ids = {}
        for name, roles in (("carol", []), ("boss", ["admin"]), ("peer", ["user-manager"])):
            user = user_service.create(current().passwords, username=name, password=PASSWORD,
                                       email=f"{name}@example.com")
            rbac.assign(rbac.ROLE, user.id, roles)
            ids[name] = user
        rbac.create(rbac.ROLE, "billing")
        rbac.create(rbac.GROUP, "staff")
    for user in (ids["boss"], ids["peer"]):
        enrol_totp(app, user)
    return World(shop.client.client_id, robot.client.client_id, ids["carol"].id, ids["boss"].id, ids["peer"].id)


def _snapshot(app) -> tuple:
    """Everything an admin action can change (audit events aside: refusals are audited)."""
    queries = ("SELECT client_id, name, secret_hash, enabled FROM clients ORDER BY client_id",
               "SELECT id, email, enabled FROM users ORDER BY id",
               "SELECT user_id, role_id FROM user_roles ORDER BY user_id, role_id",
               "SELECT user_id, group_id FROM user_groups ORDER BY user_id, group_id",
               "SELECT name FROM roles ORDER BY name", "SELECT name FROM groups ORDER BY name",
               "SELECT user_id FROM totp_credentials ORDER BY user_id",
               "SELECT COUNT(*) FROM password_links", "SELECT COUNT(*) FROM initial_access_tokens")
    with app.app_context():
        result = tuple(tuple(tuple(r) for r in db.session.execute(text(q))) for q in queries)
        db.session.rollback()
    return result


def _client_form(name: str, *, privileged: bool) -> dict:
    if privileged:
        return {"name": name, "auth_method": "client_secret_basic", "grant_types": "client_credentials",
                "scopes": ADMIN_USERS, "access_token_format": "jwt"}
    return {"name": name, "auth_method": "client_secret_basic", "redirect_uris": "https://shop.example.com/cb",
            "grant_types": "authorization_code", "scopes": "openid", "access_token_format": "jwt"}


def _client_json(name: str, *, privileged: bool) -> dict:
    if privileged:
        return {"name": name, "grant_types": ["client_credentials"], "scopes": [ADMIN_USERS]}
    return {"name": name, "redirect_uris": ["https://shop.example.com/cb"], "scopes": ["openid"]}


def _client_of(w: World, target: str) -> str:
    return w.privileged_client if target == "privileged client" else w.ordinary_client


def _user_of(w: World, target: str) -> int:
    return {"ordinary user": w.ordinary_user, "administrator": w.administrator, "peer": w.peer}[target]


# (action, target) → (console request, API request); each request is (method, path, payload, success status).
# The console's destructive actions carry `confirm=yes` (their confirmation step is tested elsewhere).
def _requests(w: World, action: str, target: str):
    yes = {"confirm": "yes"}
    match action:
        case "list clients":
            return ("GET", "/admin/clients", None, 200), ("GET", "/v1/clients", None, 200)
        case "read a client":
            cid = _client_of(w, target)
            return ("GET", f"/admin/clients/{cid}", None, 200), ("GET", f"/v1/clients/{cid}", None, 200)
        case "register a client":
            privileged = target == "privileged client"
            return (("POST", "/admin/clients/new", _client_form("New", privileged=privileged), 200),
                    ("POST", "/v1/clients", _client_json("New", privileged=privileged), 201))
        case "edit a client":
            cid = _client_of(w, target)
            form = _client_form("Renamed", privileged=target == "privileged client")
            return (("POST", f"/admin/clients/{cid}", form, 303),
                    ("PATCH", f"/v1/clients/{cid}", {"name": "Renamed"}, 200))
        case "rotate a client secret":
            cid = _client_of(w, target)
            return (("POST", f"/admin/clients/{cid}/secret", yes, 200),
                    ("POST", f"/v1/clients/{cid}/secret", {}, 200))
        case "disable a client":
            cid = _client_of(w, target)
            return (("POST", f"/admin/clients/{cid}/enabled", {"enabled": "0"} | yes, 303),
                    ("POST", f"/v1/clients/{cid}/disable", None, 200))
        case "delete a client":
            cid = _client_of(w, target)
            return ("POST", f"/admin/clients/{cid}/delete", yes, 303), ("DELETE", f"/v1/clients/{cid}", None, 204)
        case "create an initial access token":
            return (("POST", "/admin/clients/initial-access-token", {}, 200),
                    ("POST", "/v1/initial-access-tokens", None, 201))
        case "list users":
            return ("GET", "/admin/users", None, 200), ("GET", "/v1/users", None, 200)
        case "create a user":
            new = {"username": "newbie", "password": PASSWORD, "email": "newbie@example.com"}
            return ("POST", "/admin/users", new, 303), ("POST", "/v1/users", new, 201)
        case "edit a user's e-mail":
            uid = _user_of(w, target)
            return (("POST", f"/admin/users/{uid}/profile", {"email": "taken@attacker.example"}, 303),
                    ("PATCH", f"/v1/users/{uid}", {"email": "taken@attacker.example"}, 200))
        case "disable a user":
            uid = _user_of(w, target)
            return (("POST", f"/admin/users/{uid}/enabled", {"enabled": "0"} | yes, 303),
                    ("POST", f"/v1/users/{uid}/disable", None, 200))
        case "reset second factors":
            uid = _user_of(w, target)
            return (("POST", f"/admin/users/{uid}/mfa/reset", yes, 303),
                    ("POST", f"/v1/users/{uid}/mfa/reset", None, 200))
        case "create a set-password link":
            uid = _user_of(w, target)
            return (("POST", f"/admin/users/{uid}/password-link", {}, 200),
                    ("POST", f"/v1/users/{uid}/password-link", None, 200))
        case "delete a user":
            uid = _user_of(w, target)
            return ("POST", f"/admin/users/{uid}/delete", yes, 303), ("DELETE", f"/v1/users/{uid}", None, 204)
        case "assign a custom role" | "grant user-manager" | "grant admin (as `ADMIN`)":
            uid = _user_of(w, target)
            role = {"assign a custom role": "billing", "grant user-manager": "user-manager"}.get(action, "ADMIN")
            return (("POST", f"/admin/users/{uid}/roles", {"roles": [role]}, 303),
                    ("PUT", f"/v1/users/{uid}/roles", {"roles": [role]}, 200))
        case "set a user's groups":
            uid = _user_of(w, target)
            held = ["admin"] if target == "administrator" else []  # the console's form sends both lists
            return (("POST", f"/admin/users/{uid}/roles", {"roles": held, "groups": ["staff"]}, 303),
                    ("PUT", f"/v1/users/{uid}/groups", {"groups": ["staff"]}, 200))
        case "create a group":
            return ("POST", "/admin/groups", {"name": "ops"}, 303), ("POST", "/v1/groups", {"name": "ops"}, 201)
        case "create a role":
            return ("POST", "/admin/roles", {"name": "support"}, 303), ("POST", "/v1/roles", {"name": "support"}, 201)
        case "delete a role":
            return ("POST", "/admin/roles/billing/delete", yes, 303), ("DELETE", "/v1/roles/billing", None, 204)
        case "read the audit log":
            return ("GET", "/admin/audit", None, 200), ("GET", "/v1/audit", None, 200)
    raise AssertionError(f"the matrix row {action!r} has no request in this test")


def _console(app, role: str):
    """A test client signed in to the console as a person holding `role` at the MFA level, with a CSRF token."""
    client = app.test_client()
    with app.app_context():
        actor = user_service.create(current().passwords, username="actor", password=PASSWORD,
                                    email="actor@example.com")
        rbac.assign(rbac.ROLE, actor.id, [role])
        client_service.ensure_admin_console(current().settings.issuer)  # the console's built-in client exists
        cookie, _ = sessions.start(current().settings, user_id=actor.id, amr=["pwd", "otp", "mfa"],
                                   acr=sessions.MFA_ACR, user_agent=None, ip_address=None)
    client.set_cookie(http.SESSION_COOKIE, cookie)
    raw = secrets.token_hex(20)
    with client.session_transaction() as session:
        session["csrf_token"] = raw
    return client, URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def _api(app, role: str) -> tuple:
    """A test client and a client_credentials token carrying exactly the permissions of `role`."""
    client = app.test_client()
    with app.app_context():
        robot = client_service.create(name=f"Automation ({role})", redirect_uris=[],
                                      grant_types=["client_credentials"], scopes=list(BUILTIN_ROLES[role]),
                                      admin_scopes_allowed=BUILTIN_ROLES[role])
    return client, token(client, robot)


MATRIX = _matrix()


@pytest.mark.parametrize("surface", ["console", "api"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("action", "target", "allowed"), MATRIX, ids=[f"{a} / {t}" for a, t, _ in MATRIX])
def test_authorization_matrix(app, surface, role, action, target, allowed):
    world = _world(app)
    console_request, api_request = _requests(world, action, target)
    method, path, payload, success = console_request if surface == "console" else api_request
    if surface == "console":
        client, csrf = _console(app, role)
        before = _snapshot(app)
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={**(payload or {}), "csrf_token": csrf})
    else:
        client, bearer = _api(app, role)
        before = _snapshot(app)
        response = client.open(BASE + path, method=method, json=payload,
                               headers={"Authorization": f"Bearer {bearer}"})
    after = _snapshot(app)
    body = response.get_data(as_text=True)
    if allowed[role]:
        assert response.status_code == success, body[:400]
        if method != "GET":
            assert after != before, "an allowed action changed nothing"
            assert not re.search(r"name=\"confirm\"", body)
    else:
        assert response.status_code == 403, body[:400]
        assert after == before, "a refused action changed something"
