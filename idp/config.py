"""Typed settings: documented defaults in ``config/defaults.toml``, an optional TOML file named by
``IDP_CONFIG_FILE``, then ``IDP_*`` environment variables. Validated once, at start."""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import logging
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigurationError

DATA_DIR = Path(__file__).resolve().parent / "_data"
DEFAULTS_FILE = DATA_DIR / "config" / "defaults.toml"
ENV_PREFIX = "IDP_"
# Profile claims a person may be allowed to change on the account page (string claims only: the
# e-mail address, verification flags, `sub` and `preferred_username` stay with the administrators).
EDITABLE_PROFILE_CLAIMS = ("name", "given_name", "family_name", "middle_name", "nickname", "profile", "picture",
                           "website", "gender", "birthdate", "zoneinfo", "locale")
# Algorithms the server can sign ID tokens and JWT access tokens with (each has its own rotating key).
SIGNING_ALGORITHMS = ("RS256", "PS256", "ES256")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    issuer: str
    database_url: str
    instance_path: str
    secret_key: str = field(repr=False)
    key_encryption_key: str = field(repr=False)
    signing_key_size: int
    signing_key_rotation_days: int
    key_ring_refresh_seconds: int
    authorization_code_ttl: int
    access_token_ttl: int
    id_token_ttl: int
    refresh_token_ttl: int
    refresh_token_idle_ttl: int
    default_audience: str
    device_code_ttl: int
    device_poll_interval: int
    device_user_code_attempts: int
    device_user_code_window: int
    purge_interval_seconds: int
    purge_batch_size: int
    interaction_ttl: int
    session_idle_timeout: int
    session_absolute_timeout: int
    discovery_max_age: int
    jwks_max_age: int
    password_time_cost: int
    password_memory_cost: int
    password_parallelism: int
    mfa_max_failures_per_account: int
    login_max_failures_per_account: int
    login_max_failures_per_ip: int
    login_failure_window: int
    mfa_max_failures_per_ip: int
    mfa_failure_window: int
    webauthn_challenge_ttl: int
    proxy_fix_hops: int
    metrics_listen: str
    metrics_token: str = field(repr=False)
    log_level: str
    max_content_length: int
    logout_token_ttl: int
    backchannel_logout_timeout: int
    backchannel_logout_max_attempts: int
    backchannel_logout_retry_delay: int
    account_editable_claims: str
    password_link_ttl: int
    dynamic_client_registration: int
    initial_access_token_ttl: int
    registration_allowed_scopes: str
    registration_allowed_grant_types: str
    signing_algorithms: str
    pushed_authorization_request_ttl: int
    require_pushed_authorization_requests: int
    client_assertion_max_lifetime: int
    jwks_uri_timeout: int
    jwks_uri_cache_ttl: int
    dpop_proof_max_age: int
    dpop_require_nonce: int
    dpop_nonce_lifetime: int

    @property
    def editable_claims(self) -> tuple[str, ...]:
        """The profile claims people may change on the account page, in the configured order."""
        return tuple(dict.fromkeys(self.account_editable_claims.replace(",", " ").split()))

    @property
    def registration_scopes(self) -> frozenset[str]:
        """Scopes a dynamically registered client may ask for."""
        return frozenset(self.registration_allowed_scopes.replace(",", " ").split())

    @property
    def registration_grant_types(self) -> frozenset[str]:
        """Grant types a dynamically registered client may ask for."""
        return frozenset(self.registration_allowed_grant_types.replace(",", " ").split())

    @property
    def signing_algs(self) -> tuple[str, ...]:
        """The algorithms this server signs with, RS256 first (it is always present: OIDC Core §15.1)."""
        return tuple(dict.fromkeys(("RS256", *self.signing_algorithms.replace(",", " ").split())))

    @property
    def issuer_is_https(self) -> bool:
        return self.issuer.startswith("https://")

    @property
    def kek_bytes(self) -> bytes:
        return base64.urlsafe_b64decode(self.key_encryption_key)

    @property
    def access_token_audience(self) -> str:
        """`aud` of access tokens issued without an RFC 8707 resource indicator."""
        return self.default_audience or self.issuer

    @property
    def longest_token_ttl(self) -> int:
        """The longest time anything signed by a key may still need verifying."""
        return max(self.access_token_ttl, self.id_token_ttl)


def _coerce(name: str, raw, kind):
    if kind == "int" or kind is int:
        if isinstance(raw, bool):
            raise ConfigurationError(f"setting {name!r} must be an integer, got {raw!r}")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigurationError(f"setting {name!r} must be an integer, got {raw!r}") from None
    return str(raw)


def load_settings(overrides: dict | None = None, environ: dict | None = None) -> Settings:
    """Merge defaults, the optional settings file, ``IDP_*`` variables and explicit overrides."""
    environ = os.environ if environ is None else environ
    with DEFAULTS_FILE.open("rb") as fh:
        values: dict = tomllib.load(fh)
    known = {f.name: f for f in fields(Settings)}
    config_file = environ.get(ENV_PREFIX + "CONFIG_FILE")
    if config_file:
        try:
            with open(config_file, "rb") as fh:
                file_values = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"cannot read IDP_CONFIG_FILE {config_file!r}: {exc}") from None
        unknown = set(file_values) - set(known)
        if unknown:
            raise ConfigurationError(f"unknown settings in {config_file}: {', '.join(sorted(unknown))}")
        values.update(file_values)
    for name in known:
        env_value = environ.get(ENV_PREFIX + name.upper())
        if env_value is not None:
            values[name] = env_value
    values.update(overrides or {})
    unknown = set(values) - set(known)
    if unknown:
        raise ConfigurationError(f"unknown settings: {', '.join(sorted(unknown))}")
    typed = {name: _coerce(name, values[name], known[name].type) for name in known if name in values}
    missing = set(known) - set(typed)
    if missing:
        raise ConfigurationError(f"missing settings: {', '.join(sorted(missing))}")
    settings = Settings(**typed)
    settings = _fill_instance_defaults(settings)
    validate(settings)
    return settings


def _read_or_create_secret(path: Path, make) -> str:
    """Read a generated secret, or create it atomically (write a temporary file, then link it into
    place, so a process starting at the same moment never reads a half-written file)."""
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(make())
        try:
            os.link(temporary, path)  # fails if another process won the race: then use its value
            log.warning("generated %s (keep it with your backups)", path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    value = path.read_text().strip()
    if len(value) < 32:
        raise ConfigurationError(f"{path} holds a truncated secret; restore it from a backup")
    return value


def private_folder(path: Path) -> None:
    """Create the instance folder readable by this user only (0700): it holds the secret key, the key-
    encryption key and by default the SQLite database (password hashes, audit trail). An existing folder
    others can read is left as the operator made it, with a warning."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)  # whatever the umask
    elif path.stat().st_mode & 0o077:
        log.warning("instance folder %s is readable by other users; chmod 700 it", path)


def _fill_instance_defaults(settings: Settings) -> Settings:
    instance = Path(settings.instance_path or Path.cwd() / "instance").resolve()
    private_folder(instance)
    changes: dict = {"instance_path": str(instance)}
    if not settings.database_url:
        changes["database_url"] = f"sqlite:///{instance / 'idp.sqlite3'}"
    if not settings.secret_key:
        changes["secret_key"] = _read_or_create_secret(instance / "secret_key", lambda: secrets.token_urlsafe(48))
    if not settings.key_encryption_key:
        changes["key_encryption_key"] = _read_or_create_secret(
            instance / "key_encryption_key", lambda: base64.urlsafe_b64encode(os.urandom(32)).decode()
        )
    return dataclasses.replace(settings, **changes)


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate(settings: Settings) -> None:
    """Refuse settings that would make the server wrong or unsafe, naming the setting."""
    parts = urlsplit(settings.issuer)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ConfigurationError(f"issuer must be an absolute https URL, got {settings.issuer!r}")
    if parts.query or parts.fragment or settings.issuer.endswith("/"):
        raise ConfigurationError("issuer must have no query, no fragment and no trailing slash")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigurationError("issuer must use https (plain http is allowed only for loopback hosts)")
    if len(settings.secret_key) < 32:
        raise ConfigurationError("secret_key must be at least 32 characters")
    if settings.signing_key_size not in (2048, 3072, 4096):
        raise ConfigurationError("signing_key_size must be 2048, 3072 or 4096")
    try:
        if len(settings.kek_bytes) != 32:
            raise ValueError
    except ValueError:
        raise ConfigurationError("key_encryption_key must be 32 bytes in url-safe base64") from None
    positive = [
        "authorization_code_ttl", "access_token_ttl", "id_token_ttl", "refresh_token_ttl",
        "refresh_token_idle_ttl", "device_code_ttl", "device_poll_interval", "device_user_code_attempts",
        "device_user_code_window", "purge_batch_size", "interaction_ttl",
        "session_idle_timeout", "session_absolute_timeout", "key_ring_refresh_seconds",
        "password_time_cost", "password_memory_cost", "password_parallelism", "max_content_length",
        "mfa_max_failures_per_account", "mfa_max_failures_per_ip", "login_max_failures_per_account",
        "login_max_failures_per_ip", "login_failure_window", "mfa_failure_window", "webauthn_challenge_ttl",
        "logout_token_ttl", "backchannel_logout_timeout", "backchannel_logout_max_attempts",
        "backchannel_logout_retry_delay", "password_link_ttl", "initial_access_token_ttl",
        "pushed_authorization_request_ttl", "client_assertion_max_lifetime", "jwks_uri_timeout",
        "jwks_uri_cache_ttl", "dpop_proof_max_age", "dpop_nonce_lifetime",
    ]
    for name in positive:
        if getattr(settings, name) <= 0:
            raise ConfigurationError(f"{name} must be greater than 0")
    non_negative = ["purge_interval_seconds", "signing_key_rotation_days", "discovery_max_age", "jwks_max_age",
                    "proxy_fix_hops"]
    for name in non_negative:
        if getattr(settings, name) < 0:
            raise ConfigurationError(f"{name} must not be negative")
    if settings.authorization_code_ttl > 600:
        raise ConfigurationError("authorization_code_ttl must be at most 600 seconds (RFC 6749 §4.1.2)")
    if settings.refresh_token_idle_ttl > settings.refresh_token_ttl:
        raise ConfigurationError("refresh_token_idle_ttl must not exceed refresh_token_ttl")
    if settings.device_code_ttl > 1800:
        raise ConfigurationError("device_code_ttl must be at most 1800 seconds")
    if settings.default_audience:
        aud = urlsplit(settings.default_audience)
        if not aud.scheme or not aud.netloc or aud.fragment:
            raise ConfigurationError("default_audience must be empty or an absolute URI without a fragment")
    if settings.webauthn_challenge_ttl > 600:
        raise ConfigurationError("webauthn_challenge_ttl must be at most 600 seconds")
    if settings.session_idle_timeout > settings.session_absolute_timeout:
        raise ConfigurationError("session_idle_timeout must not exceed session_absolute_timeout")
    if settings.backchannel_logout_timeout > 60:
        raise ConfigurationError("backchannel_logout_timeout must be at most 60 seconds")
    if settings.dynamic_client_registration not in (0, 1):
        raise ConfigurationError("dynamic_client_registration must be 0 (off) or 1 (on)")
    if any(s.startswith("admin:") for s in settings.registration_scopes):
        raise ConfigurationError("registration_allowed_scopes must not list admin scopes")
    unknown_grants = settings.registration_grant_types - {
        "authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"}
    if unknown_grants:
        raise ConfigurationError(f"registration_allowed_grant_types: unknown {' '.join(sorted(unknown_grants))}")
    if settings.initial_access_token_ttl > 30 * 86400:
        raise ConfigurationError("initial_access_token_ttl must be at most 2592000 seconds (30 days)")
    if settings.password_link_ttl > 7 * 86400:
        raise ConfigurationError("password_link_ttl must be at most 604800 seconds (7 days)")
    if settings.logout_token_ttl > 600:
        raise ConfigurationError("logout_token_ttl must be at most 600 seconds (Back-Channel Logout 1.0 §2.4)")
    unknown_algs = set(settings.signing_algs) - set(SIGNING_ALGORITHMS)
    if unknown_algs:
        raise ConfigurationError(f"signing_algorithms: {', '.join(sorted(unknown_algs))} unsupported; "
                                 f"choose from: {' '.join(SIGNING_ALGORITHMS)}")
    if settings.pushed_authorization_request_ttl > 600:
        raise ConfigurationError("pushed_authorization_request_ttl must be at most 600 seconds (RFC 9126 §2.2)")
    for name in ("require_pushed_authorization_requests", "dpop_require_nonce"):
        if getattr(settings, name) not in (0, 1):
            raise ConfigurationError(f"{name} must be 0 (off) or 1 (on)")
    if settings.client_assertion_max_lifetime > 3600 or settings.dpop_proof_max_age > 3600:
        raise ConfigurationError("client_assertion_max_lifetime and dpop_proof_max_age must be at most 3600 seconds")
    if settings.jwks_uri_timeout > 30:
        raise ConfigurationError("jwks_uri_timeout must be at most 30 seconds")
    not_editable = set(settings.editable_claims) - set(EDITABLE_PROFILE_CLAIMS)
    if not_editable:
        raise ConfigurationError(
            f"account_editable_claims: {', '.join(sorted(not_editable))} cannot be edited by people; "
            f"choose from: {' '.join(EDITABLE_PROFILE_CLAIMS)}"
        )
    if settings.metrics_listen and not re.fullmatch(r"(\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5}", settings.metrics_listen):
        raise ConfigurationError("metrics_listen must be empty or host:port, e.g. 127.0.0.1:9464")
    if settings.metrics_token and len(settings.metrics_token) < 32:
        raise ConfigurationError("metrics_token must be empty or at least 32 characters")
    if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigurationError("log_level must be DEBUG, INFO, WARNING or ERROR")
    if not settings.database_url.startswith(("sqlite:", "postgresql")):
        raise ConfigurationError("database_url must be an sqlite:// or postgresql+psycopg:// URL")
