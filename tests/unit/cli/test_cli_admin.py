"""`idp users create --admin` and `idp users roles`; `idp clients create` may grant admin scopes."""

from __future__ import annotations

import json

import pytest

from idp.services import rbac
from tests.conftest import PASSWORD


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()


def test_create_admin_then_set_roles_and_groups(app, runner):
    created = runner.invoke(args=["users", "create", "--username", "root", "--password", PASSWORD, "--admin",
                                  "--json"])
    assert created.exit_code == 0, created.output
    user_id = json.loads(created.output)["id"]
    with app.app_context():
        assert rbac.names_of(rbac.ROLE, user_id) == ["admin"]
        rbac.create(rbac.GROUP, "ops")
    shown = runner.invoke(args=["users", "roles", "--username", "root"])
    assert shown.exit_code == 0 and "roles admin;" in shown.output
    changed = runner.invoke(args=["users", "roles", "--username", "root", "--role", "auditor", "--group", "ops"])
    assert changed.exit_code == 0 and "roles auditor; groups ops" in changed.output
    unknown = runner.invoke(args=["users", "roles", "--username", "root", "--role", "nope"])
    assert unknown.exit_code != 0 and "No role named 'nope'" in unknown.output
    missing = runner.invoke(args=["users", "roles", "--username", "ghost"])
    assert missing.exit_code != 0 and "no user" in missing.output


def test_clients_create_may_grant_admin_scopes(runner):
    result = runner.invoke(args=["clients", "create", "--name", "Robot", "--grant-type", "client_credentials",
                                 "--scope", "admin:audit", "--cors-origin", "https://ops.example.com", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["scope"] == "admin:audit"
