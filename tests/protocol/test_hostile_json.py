"""Hostile JSON bodies — NUL characters in strings or member names, nesting 30,000 deep — at every JSON
endpoint (dynamic registration and the admin API): a 400 in the endpoint's error format, nothing written,
on SQLite and PostgreSQL alike (PostgreSQL cannot store NUL in text; deep nesting overflows the parser)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from idp.extensions import db
from tests.admin.api_helpers import BASE, automation_client, token

DEEP = "[" * 30000 + "]" * 30000
HOSTILE = {
    "nul in a value": '{"name": "a\\u0000b", "username": "a\\u0000b", "client_name": "a\\u0000b", '
                      '"password": "correct horse battery", "redirect_uris": ["https://x.example.com/cb"]}',
    "nul in a member name": '{"name": "x", "username": "x", "claims": {"nick\\u0000name": "x"}, '
                            '"client_name": "x", "redirect_uris": ["https://x.example.com/cb"], "x\\u0000": 1}',
    "nested 30,000 deep": '{"name": ' + DEEP + "}",
    "nested 33 deep": '{"claims": {"nickname": ' + "[" * 33 + "]" * 33 + "}}",
}


def _counts(app) -> tuple:
    with app.app_context():
        result = tuple(db.session.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()
                       for t in ("users", "clients", "initial_access_tokens"))
        db.session.rollback()
    return result


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_admin_api_refuses_hostile_json(app, client, user, body):
    robot = automation_client(app)
    bearer = {"Authorization": f"Bearer {token(client, robot)}", "Content-Type": "application/json"}
    before = _counts(app)
    for method, path in (("POST", "/v1/users"), ("POST", "/v1/clients"), ("PATCH", f"/v1/users/{user.id}"),
                         ("PATCH", f"/v1/clients/{robot.client.client_id}"), ("POST", "/v1/roles"),
                         ("POST", f"/v1/clients/{robot.client.client_id}/secret")):
        response = client.open(BASE + path, method=method, data=body, headers=bearer)
        assert response.status_code == 400, (path, response.get_data(as_text=True)[:300])
        assert response.mimetype == "application/problem+json"
    assert _counts(app) == before
    assert client.get(BASE + "/v1/users", headers=bearer).status_code == 200  # the secret was not rotated


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_registration_refuses_hostile_json(app, dcr, body):
    robot = automation_client(app)
    initial = dcr.post(BASE + "/v1/initial-access-tokens",
                       headers={"Authorization": f"Bearer {token(dcr, robot)}"}).get_json()["initial_access_token"]
    before = _counts(app)
    response = dcr.post("/register", data=body, headers={"Authorization": f"Bearer {initial}",
                                                         "Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_client_metadata"
    assert _counts(app) == before
    good = dcr.post("/register", json={"redirect_uris": ["https://x.example.com/cb"]},
                    headers={"Authorization": f"Bearer {initial}"})
    assert good.status_code == 201  # the initial access token was not used up
