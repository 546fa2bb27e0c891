"""The `idp` command line an operator uses: create users and clients, list and rotate keys, and a
first run of the real console entry point against an empty database."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import stat
import subprocess
import sys

import click
import pytest

from idp.cli.serve import listen_port
from idp.errors import AuthenticationFailed
from idp.services import clients as client_service
from idp.services import clock
from idp.services import keys as key_service
from idp.services import users as user_service
from idp.services.runtime import current
from idp.storage import keys as key_store

NEW_PASSWORD = "a long enough passphrase"


@pytest.fixture()
def runner(app):
    """A CLI runner on the test app. Commands may rotate keys: the shared key ring is reloaded at
    the real time afterwards."""
    yield app.test_cli_runner()
    clock.reset()
    with app.app_context():
        current().keyring.reload()


def _key_states(app) -> dict[str, str]:
    with app.app_context():
        return {k.kid: k.state for k in key_service.list_keys()}


def _kid(app, state: str) -> str:
    with app.app_context():
        rows = [r for r in key_store.in_state(state) if r.alg == "RS256"]
        assert len(rows) == 1, f"expected exactly one {state} RS256 key"
        return rows[0].kid


def test_users_create_makes_a_user_who_can_sign_in(app, runner):
    result = runner.invoke(args=["users", "create", "--username", "bob", "--email", "bob@example.com",
                                 "--password", NEW_PASSWORD, "--claim", "name=Bob Smith"])
    assert result.exit_code == 0, result.output
    assert "Created user bob" in result.output
    with app.app_context():
        signed_in = user_service.authenticate(current().passwords, "bob@example.com", NEW_PASSWORD)
        assert signed_in.username == "bob"
        assert signed_in.claims == {"name": "Bob Smith"}
        assert signed_in.sub in result.output


def test_users_create_prompts_for_the_password_without_echo(app, runner):
    result = runner.invoke(args=["users", "create", "--username", "carol", "--json"],
                           input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output
    printed = json.loads(result.output.strip().splitlines()[-1])
    assert printed["username"] == "carol"
    with app.app_context():
        assert user_service.authenticate(current().passwords, "carol", NEW_PASSWORD).sub == printed["sub"]


def test_users_create_reports_validation_errors(app, runner):
    result = runner.invoke(args=["users", "create", "--username", "bob", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 8 characters" in result.output
    assert "Traceback" not in result.output
    with app.app_context(), pytest.raises(AuthenticationFailed):
        user_service.authenticate(current().passwords, "bob", "short")


def test_clients_create_json_prints_a_working_secret(app, runner):
    result = runner.invoke(args=["clients", "create", "--name", "X", "--redirect-uri", "https://x.example/cb",
                                 "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["redirect_uris"] == ["https://x.example/cb"]
    assert printed["issuer"] == current_issuer(app)
    with app.app_context():
        client = client_service.get(printed["client_id"])
        assert client is not None and client.name == "X"
        assert client_service.check_secret(client, printed["client_secret"]) is True
        assert client_service.check_secret(client, printed["client_secret"] + "x") is False


def test_clients_create_with_token_options(app, runner):
    result = runner.invoke(args=["clients", "create", "--name", "Job", "--grant-type", "client_credentials",
                                 "--scope", "orders:read orders:write", "--access-token-format", "opaque",
                                 "--resource", "https://api.example.com", "--refresh-token-idle-ttl", "600",
                                 "--serves-resource", "https://reports.example.com", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["grant_types"] == ["client_credentials"] and printed["access_token_format"] == "opaque"
    assert printed["resources"] == ["https://api.example.com"]
    with app.app_context():
        client = client_service.get(printed["client_id"])
        assert client.served_resources == ("https://reports.example.com",) and client.refresh_token_idle_ttl == 600
    refused = runner.invoke(args=["clients", "create", "--name", "Bad", "--grant-type", "client_credentials",
                                  "--auth-method", "none"])
    assert refused.exit_code != 0 and "confidential" in refused.output and "Traceback" not in refused.output


def current_issuer(app) -> str:
    with app.app_context():
        return current().settings.issuer


def test_clients_create_public_client_has_no_secret(app, runner):
    result = runner.invoke(args=["clients", "create", "--name", "Native", "--auth-method", "none",
                                 "--redirect-uri", "com.example.app:/cb", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["client_secret"] is None
    with app.app_context():
        assert client_service.get(printed["client_id"]).require_pkce is True


def test_clients_create_rejects_a_bad_redirect_uri_readably(app, runner):
    result = runner.invoke(args=["clients", "create", "--name", "X", "--redirect-uri", "http://x.example/cb"])
    assert result.exit_code == 1
    assert "Error:" in result.output
    # str() of the service's error: the English sentence with its values filled in (no placeholders).
    assert "Redirect URI 'http://x.example/cb' must use https (http only for loopback)." in result.output
    assert "%(" not in result.output and "Traceback" not in result.output
    with app.app_context():
        assert client_service.list_all() == []


def test_clients_create_takes_the_consent_page_links(app, runner):
    links = {"logo_uri": "https://app.example.com/logo.png", "client_uri": "https://app.example.com/",
             "policy_uri": "https://app.example.com/privacy", "tos_uri": "https://app.example.com/terms"}
    options = [arg for name, uri in links.items() for arg in (f"--{name.replace('_', '-')}", uri)]
    result = runner.invoke(args=["clients", "create", "--name", "Linked", "--redirect-uri",
                                 "https://app.example.com/cb", "--json", *options])
    assert result.exit_code == 0, result.output
    with app.app_context():
        created = client_service.get(json.loads(result.stdout)["client_id"])
        assert {name: getattr(created, name) for name in links} == links
    for name in links:  # each one validated like the console's field
        refused = runner.invoke(args=["clients", "create", "--name", "Bad", "--redirect-uri", "https://b.example/cb",
                                      f"--{name.replace('_', '-')}", "http://b.example/x"])
        assert refused.exit_code == 1 and f"{name} must be an https URL" in refused.output, refused.output
    with app.app_context():
        assert [c.name for c in client_service.list_all()] == ["Linked"]


def test_keys_list_shows_the_current_and_next_keys(app, runner):
    result = runner.invoke(args=["keys", "list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1:3] for line in result.output.splitlines()[1:]}
    assert lines[_kid(app, key_store.CURRENT)] == ["RS256", "current"]
    assert lines[_kid(app, key_store.NEXT)] == ["RS256", "next"]


def test_keys_rotate_force_rotates(app, runner):
    old_current, old_next = _kid(app, key_store.CURRENT), _kid(app, key_store.NEXT)
    result = runner.invoke(args=["keys", "rotate", "--force"])
    assert result.exit_code == 0, result.output
    assert old_next in result.output
    states = _key_states(app)
    assert states[old_current] == "retired"
    assert states[old_next] == "current"
    assert _kid(app, key_store.NEXT) not in (old_current, old_next)


def test_keys_rotate_refuses_while_the_next_key_may_not_be_cached_yet(app, runner):
    # A forced rotation publishes a brand-new next key.
    assert runner.invoke(args=["keys", "rotate", "--force"]).exit_code == 0
    before = _key_states(app)

    refused = runner.invoke(args=["keys", "rotate"])
    assert refused.exit_code == 1
    assert "--force" in refused.output and "Traceback" not in refused.output
    assert _key_states(app) == before

    # Not yet when only the JWKS cache lifetime has passed: a server may not have refreshed its ring.
    with app.app_context():
        clock.advance(current().settings.jwks_max_age)
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 1
    # Once every server has refreshed and every relying party's cached JWKS has expired, it is safe.
    with app.app_context():
        clock.advance(current().settings.key_ring_refresh_seconds)
    next_kid = _kid(app, key_store.NEXT)
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert _kid(app, key_store.CURRENT) == next_kid


def test_console_script_migrates_an_empty_database_and_creates_keys(tmp_path):
    instance = tmp_path / "instance"
    database = tmp_path / "x.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_"))}
    env.update(IDP_INSTANCE_PATH=str(instance), IDP_DATABASE_URL=f"sqlite:///{database}",
               IDP_LOG_LEVEL="WARNING")
    command = [sys.executable, "-c", "from idp.cli import main; main()", "keys", "list"]

    first = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr

    rows = [line.split() for line in first.stdout.splitlines()[1:]]
    assert sorted((row[1], row[2]) for row in rows) == [
        ("ES256", "current"), ("ES256", "next"), ("PS256", "current"), ("PS256", "next"), ("RS256", "current"),
        ("RS256", "next")]
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
        stored = {kid: state for kid, state in conn.execute("SELECT kid, state FROM signing_keys").fetchall()}
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)
    assert stored == {row[0]: row[2] for row in rows}
    kek = instance / "key_encryption_key"
    assert stat.S_IMODE(kek.stat().st_mode) == 0o600

    # A second run reuses the database, the keys and the key-encryption key.
    second = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert sorted(line.split()[0] for line in second.stdout.splitlines()[1:]) == sorted(stored)


def test_a_bad_setting_is_one_clear_line_not_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_"))}
    env.update(IDP_INSTANCE_PATH=str(tmp_path / "instance"), IDP_ISSUER="http://id.example.com")
    result = subprocess.run([sys.executable, "-c", "from idp.cli import main; main()", "keys", "list"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "idp: configuration error: issuer must use https" in result.stderr
    assert "Traceback" not in result.stderr


def test_clients_create_registers_logout_uris(app, runner):
    result = runner.invoke(args=[
        "clients", "create", "--name", "L", "--redirect-uri", "https://x.example/cb",
        "--post-logout-redirect-uri", "https://x.example/bye", "--backchannel-logout-uri", "https://x.example/bc",
        "--backchannel-logout-session-required", "--frontchannel-logout-uri", "https://x.example/fc",
        "--frontchannel-logout-session-required", "--json"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["backchannel_logout_uri"] == "https://x.example/bc"
    with app.app_context():
        c = client_service.get(created["client_id"])
    assert c.post_logout_redirect_uris == ("https://x.example/bye",)
    assert c.backchannel_logout_session_required and c.frontchannel_logout_session_required
    assert c.frontchannel_logout_uri == "https://x.example/fc"


def test_a_command_run_where_there_is_no_instance_says_it_uses_a_new_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_"))}
    env.update(IDP_LOG_LEVEL="WARNING")
    command = [sys.executable, "-c", "from idp.cli import main; main()", "keys", "list"]
    first = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert f"uses a NEW one at {tmp_path / 'instance'}" in first.stderr
    assert "plain http" not in first.stderr  # the development warning belongs to `idp serve` only
    again = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "NEW" not in again.stderr  # the instance here is found and used


def test_serve_takes_its_port_from_a_loopback_issuer_and_refuses_a_contradicting_one(settings):
    local = dataclasses.replace(settings, issuer="http://localhost:5411", proxy_fix_hops=0)
    assert listen_port(local, "127.0.0.1", None) == 5411
    assert listen_port(local, "127.0.0.1", 5411) == 5411
    with pytest.raises(click.UsageError, match="IDP_ISSUER=http://localhost:5412"):
        listen_port(local, "127.0.0.1", 5412)
    assert listen_port(local, "0.0.0.0", 8000) == 8000  # a container publishes the port it likes
    public = dataclasses.replace(settings, issuer="https://id.example.com", proxy_fix_hops=1)
    assert listen_port(public, "127.0.0.1", None) == 8000
