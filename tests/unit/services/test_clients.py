"""Relying-party clients: which redirect URIs may be registered (exact, no fragment, no wildcard,
https except loopback and native private-use schemes), public vs confidential clients, and the
secret that is shown once and stored only as a hash."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from idp.errors import ValidationError
from idp.extensions import db
from idp.services import clients as client_service
from idp.storage import clients as client_store


def _create(**kwargs):
    values = dict(name="Example", redirect_uris=["https://app.example.com/cb"])
    values.update(kwargs)
    return client_service.create(**values)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(client_store.Client))


@pytest.mark.parametrize(("uri", "reason"), [
    ("https://app.example.com/cb#section", "fragment"),
    ("https://app.example.com/cb#", "fragment"),
    ("https://*.example.com/cb", "wildcard"),
    ("https://app.example.com/*", "wildcard"),
    ("http://app.example.com/cb", "https"),
    ("HTTP://app.example.com/cb", "https"),
    ("http://localhost.example.com/cb", "https"),
    ("http://127.0.0.1.example.com/cb", "https"),
    ("http://localhost@evil.example/cb", "user information"),
    # Parsed differently by urlsplit and by browsers (WHATWG URL): refused outright.
    ("http://evil.example\\@localhost/cb", "backslash"),
    ("https://app.example.com\\@evil.example/cb", "backslash"),
    ("http://evil.example%5C@localhost/cb", "user information"),
    ("http://user:pw@localhost/cb", "user information"),
    ("http://127.0.0.1:99999/cb", "port"),
    ("http://local\thost/cb", "control"),
    ("https://app.example.com/c b", "spaces"),
    ("http://%6cocalhost/cb", "ASCII"),
    ("http://\u24dbocalhost/cb", "ASCII"),
    ("https:///cb", "host"),
    ("/relative/cb", "absolute"),
    ("app.example.com/cb", "absolute"),
    ("javascript:alert(1)", "custom schemes"),
    ("JavaScript:alert(1)", "custom schemes"),
    ("data:text/html,<script>alert(1)</script>", "custom schemes"),
    ("file:///etc/passwd", "custom schemes"),
    ("myapp:/cb", "custom schemes"),  # private-use schemes must be reverse-domain names
])
def test_unsafe_redirect_uris_are_refused(ctx, uri, reason):
    with pytest.raises(ValidationError, match=reason):
        client_service.validate_redirect_uri(uri)
    with pytest.raises(ValidationError):
        _create(redirect_uris=[uri])
    assert _count() == 0


@pytest.mark.parametrize("uri", [
    "https://app.example.com/callback",
    "https://app.example.com:8443/cb?tenant=1",
    "com.example.app:/cb",  # RFC 8252 §7.1 private-use scheme
    "http://127.0.0.1/cb",  # RFC 8252 §7.3 loopback
    "http://127.0.0.1:51004/cb",
    "http://localhost:8080/cb",
    "http://[::1]:8080/cb",
])
def test_acceptable_redirect_uris_are_registered_exactly(ctx, uri):
    assert client_service.validate_redirect_uri(f"  {uri} ") == uri
    created = _create(redirect_uris=[uri]).client
    assert created.redirect_uris == (uri,)


@pytest.mark.parametrize(("field", "value"), [
    ("allowed_cors_origins", ["http://evil.example\\@localhost"]),
    ("logo_uri", "http://evil.example\\@localhost/logo.png"),
    ("client_uri", "http://evil.example\\@127.0.0.1/"),
    ("resources", ["https://api.example.com\\@evil.example/"]),
    ("backchannel_logout_uri", "http://evil.example\\@localhost/bc"),
    ("post_logout_redirect_uris", ["http://evil.example\\@localhost/bye"]),
])
def test_every_uri_field_refuses_ambiguous_forms(ctx, field, value):
    with pytest.raises(ValidationError, match="backslash"):
        _create(**{field: value})
    assert _count() == 0


def test_bad_post_logout_redirect_uri_is_refused(ctx):
    with pytest.raises(ValidationError, match="https"):
        _create(post_logout_redirect_uris=["http://app.example.com/bye"])
    assert _count() == 0


def test_code_flow_client_needs_a_redirect_uri(ctx):
    with pytest.raises(ValidationError, match="redirect URI"):
        _create(redirect_uris=[])
    with pytest.raises(ValidationError, match="redirect URI"):
        _create(redirect_uris=["  "])


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"token_endpoint_auth_method": "client_secret_jwt"}, "token_endpoint_auth_method"),
    ({"token_endpoint_auth_method": "private_key_jwt"}, "needs its public keys"),
    ({"grant_types": ["implicit"]}, "implicit"),
    ({"scopes": ["openid", "admin"]}, "admin"),
    ({"access_token_ttl": 0}, "access_token_ttl"),
    ({"refresh_token_ttl": -1}, "refresh_token_ttl"),
    ({"refresh_token_idle_ttl": 0}, "refresh_token_idle_ttl"),
    ({"refresh_token_ttl": 100, "refresh_token_idle_ttl": 200}, "refresh_token_idle_ttl"),
    ({"access_token_format": "paseto"}, "access_token_format"),
    ({"resources": ["not-a-uri"]}, "Resource"),
    ({"resources": ["https://api.example.com/#frag"]}, "Resource"),
    ({"served_resources": ["https://api.example.com/"], "token_endpoint_auth_method": "none"}, "resource server"),
    ({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"}, "confidential"),
    ({"scopes": ["API:READ"]}, "API:READ"),
])
def test_invalid_client_settings_are_refused(ctx, kwargs, reason):
    with pytest.raises(ValidationError, match=reason):
        _create(**kwargs)
    assert _count() == 0


def test_public_client_has_no_secret_and_always_requires_pkce(ctx):
    new = _create(name="Native", redirect_uris=["com.example.app:/cb", "http://127.0.0.1/cb"],
                  token_endpoint_auth_method="none", require_pkce=False)
    assert new.client_secret is None
    assert new.client.is_public
    assert new.client.require_pkce is True
    row = client_store.get_by_client_id(new.client.client_id)
    assert row.secret_hash is None
    assert row.require_pkce is True
    assert client_service.check_secret(new.client, "") is False
    assert client_service.check_secret(new.client, "anything") is False


def test_confidential_client_secret_is_returned_once_and_stored_as_sha256(ctx):
    new = _create()
    secret = new.client_secret
    assert secret and len(secret) >= 43  # 32 random bytes
    row = client_store.get_by_client_id(new.client.client_id)
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(getattr(row, c.name)) for c in client_store.Client.__table__.columns]
    assert not any(secret in value for value in stored)
    # Reading the client back never yields the secret.
    again = client_service.get(new.client.client_id)
    assert secret not in repr(again)
    assert secret not in repr(new)
    assert not hasattr(again, "client_secret")


def test_confidential_client_defaults(ctx):
    client = _create().client
    assert client.token_endpoint_auth_method == "client_secret_basic"
    assert client.grant_types == ("authorization_code",)
    assert client.response_types == ("code",)
    assert client.scopes == ("openid", "profile", "email")
    assert client.require_pkce is False
    assert _create(require_pkce=True).client.require_pkce is True


def test_each_client_gets_its_own_id_and_secret(ctx):
    one, two = _create(), _create()
    assert one.client.client_id != two.client.client_id
    assert one.client_secret != two.client_secret


def test_check_secret(ctx):
    new = _create()
    client = client_service.get(new.client.client_id)
    assert client_service.check_secret(client, new.client_secret) is True
    assert client_service.check_secret(client, new.client_secret[:-1]) is False
    assert client_service.check_secret(client, new.client_secret + "x") is False
    assert client_service.check_secret(client, new.client.secret_hash) is False  # the hash is not the secret
    assert client_service.check_secret(client, "") is False
    assert client_service.check_secret(client, None) is False
    other = _create()
    assert client_service.check_secret(client, other.client_secret) is False


def test_disabled_and_unknown_clients_are_not_found(ctx):
    new = _create()
    assert client_service.get("no-such-client") is None
    assert client_service.get("") is None
    assert client_service.get("x" * 65) is None
    row = client_store.get_by_client_id(new.client.client_id)
    row.enabled = False
    db.session.commit()
    assert client_service.get(new.client.client_id) is None
    assert client_service.get_by_pk(new.client.id).enabled is False


def test_token_options_are_stored(ctx):
    new = _create(grant_types=["authorization_code", "client_credentials",
                               "urn:ietf:params:oauth:grant-type:device_code"],
                  scopes=["openid", "orders:read", "api.write"], access_token_format="opaque",
                  resources=["https://api.example.com/", "https://api.example.com/"],
                  served_resources=["https://reports.example.com"], refresh_token_idle_ttl=60)
    client = new.client
    assert client.access_token_format == "opaque" and client.refresh_token_idle_ttl == 60
    assert client.resources == ("https://api.example.com/",) and client.served_resources == ("https://reports.example.com",)
    assert client.scopes == ("openid", "orders:read", "api.write")


def test_logout_uris_are_registered_and_validated(ctx):
    new = client_service.create(name="L", redirect_uris=["https://app.example.com/cb"],
                                backchannel_logout_uri="https://app.example.com/bc",
                                backchannel_logout_session_required=True,
                                frontchannel_logout_uri="http://127.0.0.1:8000/fc?x=1")
    c = client_service.get(new.client.client_id)
    assert c.backchannel_logout_uri == "https://app.example.com/bc" and c.backchannel_logout_session_required
    assert c.frontchannel_logout_uri == "http://127.0.0.1:8000/fc?x=1" and not c.frontchannel_logout_session_required


@pytest.mark.parametrize("field", ["backchannel_logout_uri", "frontchannel_logout_uri"])
@pytest.mark.parametrize("uri", ["http://app.example.com/x", "https://app.example.com/x#f", "com.example.app:/x",
                                 "javascript:alert(1)", "/relative"])
def test_unsafe_logout_uris_are_refused(ctx, field, uri):
    with pytest.raises(ValidationError):
        client_service.create(name="L", redirect_uris=["https://app.example.com/cb"], **{field: uri})
