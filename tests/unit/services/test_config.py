"""Settings: documented defaults, IDP_* environment overrides, a settings file, validation that stops
a misconfigured server with a message naming the setting, and secrets generated on first start."""

from __future__ import annotations

import base64
import stat
import tomllib

import pytest

from idp.config import DEFAULTS_FILE, load_settings
from idp.errors import ConfigurationError


@pytest.fixture()
def instance(tmp_path):
    return tmp_path / "instance"


def load(instance, environ=None, **overrides):
    return load_settings({"instance_path": str(instance), **overrides}, environ=environ or {})


def test_defaults_are_the_documented_ones(instance):
    with DEFAULTS_FILE.open("rb") as fh:
        documented = tomllib.load(fh)
    settings = load(instance)
    assert settings.issuer == documented["issuer"] == "http://localhost:5000"
    for name in ("access_token_ttl", "id_token_ttl", "refresh_token_ttl", "authorization_code_ttl",
                 "signing_key_size", "signing_key_rotation_days", "session_idle_timeout",
                 "session_absolute_timeout", "jwks_max_age", "password_time_cost"):
        assert getattr(settings, name) == documented[name], name
    # Empty database_url means SQLite in the instance folder.
    assert settings.database_url == f"sqlite:///{instance.resolve() / 'idp.sqlite3'}"
    assert settings.instance_path == str(instance.resolve())


def test_environment_overrides_defaults_and_integers_are_coerced(instance):
    settings = load_settings(environ={
        "IDP_INSTANCE_PATH": str(instance), "IDP_ISSUER": "https://id.example.com",
        "IDP_ACCESS_TOKEN_TTL": "600", "IDP_LOG_LEVEL": "DEBUG",
    })
    assert settings.issuer == "https://id.example.com"
    assert settings.access_token_ttl == 600
    assert isinstance(settings.access_token_ttl, int)
    assert settings.log_level == "DEBUG"
    assert settings.instance_path == str(instance.resolve())


def test_explicit_overrides_win_over_environment(instance):
    settings = load(instance, environ={"IDP_ACCESS_TOKEN_TTL": "600"}, access_token_ttl=120)
    assert settings.access_token_ttl == 120


def test_non_integer_environment_value_names_the_setting(instance):
    with pytest.raises(ConfigurationError, match="access_token_ttl") as excinfo:
        load(instance, environ={"IDP_ACCESS_TOKEN_TTL": "ten minutes"})
    assert "integer" in str(excinfo.value)
    assert "ten minutes" in str(excinfo.value)


def test_settings_file_is_read_and_environment_wins_over_it(instance, tmp_path):
    config_file = tmp_path / "idp.toml"
    config_file.write_text(
        'issuer = "https://login.example.org"\naccess_token_ttl = 900\nid_token_ttl = 1200\n'
    )
    settings = load(instance, environ={"IDP_CONFIG_FILE": str(config_file), "IDP_ID_TOKEN_TTL": "300"})
    assert settings.issuer == "https://login.example.org"
    assert settings.access_token_ttl == 900
    assert settings.id_token_ttl == 300


def test_unknown_setting_in_settings_file_is_refused(instance, tmp_path):
    config_file = tmp_path / "idp.toml"
    config_file.write_text("acces_token_ttl = 900\n")  # typo
    with pytest.raises(ConfigurationError, match="acces_token_ttl"):
        load(instance, environ={"IDP_CONFIG_FILE": str(config_file)})


def test_unreadable_settings_file_is_refused(instance, tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigurationError, match="IDP_CONFIG_FILE"):
        load(instance, environ={"IDP_CONFIG_FILE": str(missing)})
    broken = tmp_path / "broken.toml"
    broken.write_text("issuer = \n")
    with pytest.raises(ConfigurationError, match="IDP_CONFIG_FILE"):
        load(instance, environ={"IDP_CONFIG_FILE": str(broken)})


@pytest.mark.parametrize("issuer", [
    "https://id.example.com/",  # trailing slash
    "https://id.example.com/?tenant=1",  # query
    "https://id.example.com?tenant=1",
    "https://id.example.com#frag",  # fragment
    "http://id.example.com",  # plain http, not loopback
    "http://localhost.example.com",  # not loopback despite the name
    "http://10.0.0.1:5000",
    "id.example.com",  # not a URL
    "https://",  # no host
    "ftp://id.example.com",
    "",
])
def test_invalid_issuer_is_refused(instance, issuer):
    with pytest.raises(ConfigurationError, match="issuer"):
        load(instance, issuer=issuer)


@pytest.mark.parametrize("issuer", [
    "http://localhost", "http://localhost:5000", "http://127.0.0.1", "http://127.0.0.1:8080",
    "http://[::1]:8080", "https://id.example.com", "https://example.com/tenants/acme",
])
def test_valid_issuers_are_accepted(instance, issuer):
    assert load(instance, issuer=issuer).issuer == issuer


@pytest.mark.parametrize(("overrides", "named"), [
    ({"signing_key_size": 1024}, "signing_key_size"),
    ({"signing_key_size": 2049}, "signing_key_size"),
    ({"authorization_code_ttl": 601}, "authorization_code_ttl"),
    ({"authorization_code_ttl": 0}, "authorization_code_ttl"),
    ({"access_token_ttl": -5}, "access_token_ttl"),
    ({"session_idle_timeout": 7200, "session_absolute_timeout": 3600}, "session_idle_timeout"),
    ({"jwks_max_age": -1}, "jwks_max_age"),
    ({"log_level": "LOUD"}, "log_level"),
    ({"database_url": "mysql://db/idp"}, "database_url"),
    ({"key_encryption_key": "too-short"}, "key_encryption_key"),
    ({"secret_key": "short"}, "secret_key"),
    ({"no_such_setting": 1}, "no_such_setting"),
])
def test_invalid_values_are_refused_naming_the_setting(instance, overrides, named):
    with pytest.raises(ConfigurationError, match=named):
        load(instance, **overrides)


def test_boundary_values_are_accepted(instance):
    settings = load(instance, authorization_code_ttl=600, signing_key_size=4096,
                    session_idle_timeout=3600, session_absolute_timeout=3600, signing_key_rotation_days=0)
    assert settings.authorization_code_ttl == 600
    assert settings.session_idle_timeout == settings.session_absolute_timeout


def test_secrets_are_generated_on_first_load_and_reused(instance):
    assert not instance.exists()
    first = load(instance)
    secret_file, kek_file = instance / "secret_key", instance / "key_encryption_key"
    for path in (secret_file, kek_file):
        assert path.is_file()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert secret_file.read_text() == first.secret_key
    assert kek_file.read_text() == first.key_encryption_key
    assert len(first.secret_key) >= 32
    assert len(base64.urlsafe_b64decode(first.key_encryption_key)) == 32
    assert len(first.kek_bytes) == 32

    second = load(instance)
    assert second.secret_key == first.secret_key
    assert second.key_encryption_key == first.key_encryption_key
    assert second.kek_bytes == first.kek_bytes


def test_separate_instances_get_separate_secrets(tmp_path):
    one, two = load(tmp_path / "one"), load(tmp_path / "two")
    assert one.secret_key != two.secret_key
    assert one.key_encryption_key != two.key_encryption_key


def test_configured_secrets_are_used_and_no_files_written(instance):
    kek = base64.urlsafe_b64encode(bytes(range(32))).decode()
    settings = load(instance, environ={"IDP_SECRET_KEY": "s" * 40, "IDP_KEY_ENCRYPTION_KEY": kek})
    assert settings.secret_key == "s" * 40
    assert settings.kek_bytes == bytes(range(32))
    assert not (instance / "secret_key").exists()
    assert not (instance / "key_encryption_key").exists()


def test_secrets_are_not_shown_in_repr(instance):
    settings = load(instance)
    assert settings.secret_key not in repr(settings)
    assert settings.key_encryption_key not in repr(settings)


def test_a_truncated_generated_secret_is_refused(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "secret_key").write_text("abc")
    with pytest.raises(ConfigurationError, match="truncated"):
        load_settings({"instance_path": str(instance)}, environ={})


@pytest.mark.parametrize(("overrides", "named"), [
    ({"refresh_token_idle_ttl": 0}, "refresh_token_idle_ttl"),
    ({"refresh_token_ttl": 100, "refresh_token_idle_ttl": 200}, "refresh_token_idle_ttl"),
    ({"device_code_ttl": 3600}, "device_code_ttl"),
    ({"device_poll_interval": 0}, "device_poll_interval"),
    ({"device_user_code_attempts": 0}, "device_user_code_attempts"),
    ({"purge_interval_seconds": -1}, "purge_interval_seconds"),
    ({"purge_batch_size": 0}, "purge_batch_size"),
    ({"default_audience": "not a uri"}, "default_audience"),
    ({"default_audience": "https://api.example.com/#x"}, "default_audience"),
])
def test_invalid_token_lifecycle_settings_are_refused(instance, overrides, named):
    with pytest.raises(ConfigurationError, match=named):
        load(instance, **overrides)


def test_token_lifecycle_defaults(instance):
    settings = load(instance)
    assert settings.refresh_token_idle_ttl <= settings.refresh_token_ttl
    assert settings.access_token_audience == settings.issuer  # empty default_audience
    assert load(instance, default_audience="https://api.example.com").access_token_audience == "https://api.example.com"
    assert settings.purge_interval_seconds > 0 and settings.device_poll_interval == 5


def test_account_editable_claims_are_parsed_and_checked(instance):
    assert load(instance).editable_claims == ("name", "given_name", "family_name", "nickname", "zoneinfo", "locale")
    assert load(instance, account_editable_claims="name, website").editable_claims == ("name", "website")
    assert load(instance, account_editable_claims="").editable_claims == ()
    with pytest.raises(ConfigurationError, match="account_editable_claims: email"):
        load(instance, account_editable_claims="name email")


@pytest.mark.parametrize("name,value", [("backchannel_logout_timeout", 61), ("logout_token_ttl", 601),
                                        ("backchannel_logout_max_attempts", 0),
                                        ("backchannel_logout_retry_delay", 0)])
def test_logout_settings_are_bounded(instance, name, value):
    with pytest.raises(ConfigurationError, match=name):
        load(instance, **{name: value})


def test_instance_folder_and_sqlite_file_are_private(tmp_path):
    """The instance folder (secrets, and by default the database) is 0700 and a new SQLite file 0600:
    they hold the key-encryption key, password hashes and the audit trail's personal data."""
    from idp import create_app
    from idp.extensions import db

    instance = tmp_path / "instance"
    app = create_app({"instance_path": str(instance), "log_level": "WARNING"})
    with app.app_context():
        db.engine.dispose()
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert stat.S_IMODE((instance / "idp.sqlite3").stat().st_mode) == 0o600
