"""Provider metadata and keys: OpenID Connect Discovery 1.0 §3–§4, RFC 8414 §2–§3, RFC 9207 §3,
RFC 7517 (JWKS) and RFC 7638 (thumbprints)."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

from idp.protocol import discovery

WELL_KNOWN = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")

# OIDC Discovery §3 REQUIRED members (token_endpoint is required unless only implicit is used).
OIDC_REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
                 "subject_types_supported", "id_token_signing_alg_values_supported")
# RFC 8414 §2 REQUIRED members (authorization_endpoint and token_endpoint given the grants offered).
RFC8414_REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "response_types_supported")
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


def _max_age(response) -> int:
    match = re.search(r"(?:^|,)\s*max-age=(\d+)", response.headers["Cache-Control"])
    assert match, response.headers["Cache-Control"]
    return int(match.group(1))


@pytest.fixture(params=WELL_KNOWN)
def metadata_response(request, client):
    return client.get(request.param)


@pytest.fixture()
def metadata(metadata_response) -> dict:
    assert metadata_response.status_code == 200
    return metadata_response.get_json()


def test_document_is_json(metadata_response):
    """OIDC Discovery §4.2: a 200 response with application/json."""
    assert metadata_response.status_code == 200
    assert metadata_response.mimetype == "application/json"
    assert isinstance(json.loads(metadata_response.get_data(as_text=True)), dict)


def test_both_documents_are_identical(client):
    first, second = (client.get(path).get_json() for path in WELL_KNOWN)
    assert first == second


@pytest.mark.parametrize("member", sorted(set(OIDC_REQUIRED) | set(RFC8414_REQUIRED)))
def test_required_members_present(metadata, member):
    assert metadata.get(member), member


def test_issuer_is_the_configured_issuer(metadata, settings):
    """OIDC Discovery §4.3 / RFC 8414 §3.3: the issuer MUST be identical to the issuer the metadata
    was retrieved for, and to the `iss` of every token."""
    assert metadata["issuer"] == settings.issuer
    assert "?" not in metadata["issuer"] and "#" not in metadata["issuer"]  # RFC 8414 §2


def test_every_endpoint_is_under_the_issuer(metadata, settings):
    endpoints = {k: v for k, v in metadata.items() if k.endswith("_endpoint") or k == "jwks_uri"}
    assert {"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"} <= set(endpoints)
    for name, url in endpoints.items():
        assert url.startswith(settings.issuer + "/"), (name, url)


def test_advertised_endpoints_exist(client, metadata, settings):
    def path(name: str) -> str:
        return metadata[name][len(settings.issuer):]

    assert client.get(path("jwks_uri")).status_code == 200
    assert client.get(path("userinfo_endpoint")).status_code == 401  # exists; needs a token
    token_response = client.post(path("token_endpoint"), data={"grant_type": "authorization_code"})
    assert token_response.status_code in (400, 401)
    for name in ("introspection_endpoint", "revocation_endpoint", "device_authorization_endpoint"):
        response = client.post(path(name), data={"token": "x", "client_id": "unknown"})
        assert response.status_code in (400, 401) and response.get_json()["error"] == "invalid_client", name
    assert client.get(path("authorization_endpoint")).status_code == 400  # exists; an error page


def test_openid_scope_and_rs256_are_supported(metadata):
    """OIDC Discovery §3: the server MUST support the openid scope and RS256 for ID tokens."""
    assert "openid" in metadata["scopes_supported"]
    assert "RS256" in metadata["id_token_signing_alg_values_supported"]
    assert "none" not in metadata["id_token_signing_alg_values_supported"]


def test_only_implemented_features_are_advertised(metadata):
    assert metadata["response_types_supported"] == ["code"]
    assert set(metadata["response_modes_supported"]) == {"query", "form_post"}
    assert set(metadata["grant_types_supported"]) == {
        "authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"}
    assert metadata["subject_types_supported"] == ["public"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
    assert metadata.get("request_parameter_supported") is True
    assert metadata.get("request_uri_parameter_supported") is False
    assert metadata.get("claims_parameter_supported") is True
    assert "registration_endpoint" not in metadata
    assert metadata["pushed_authorization_request_endpoint"] == "http://localhost/par"
    assert metadata["require_pushed_authorization_requests"] is False
    assert metadata["request_object_signing_alg_values_supported"] == [
        "RS256", "PS256", "ES256", "EdDSA", "Ed25519", "none"]
    # RFC 7662 §2.1: introspection needs an authenticated (confidential) client; RFC 7009 §2.1: public
    # clients may revoke their own tokens with their client_id.
    assert set(metadata["introspection_endpoint_auth_methods_supported"]) == {
        "client_secret_basic", "client_secret_post", "private_key_jwt"}
    assert set(metadata["revocation_endpoint_auth_methods_supported"]) == {
        "client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
    for endpoint in ("token", "introspection", "revocation"):
        assert metadata[f"{endpoint}_endpoint_auth_signing_alg_values_supported"] == [
            "RS256", "PS256", "ES256", "EdDSA", "Ed25519"]
    assert set(metadata["prompt_values_supported"]) == {"none", "login", "consent", "select_account"}


def test_pkce_only_s256(metadata):
    """RFC 8414 §2 code_challenge_methods_supported; RFC 9700 §2.1.1: plain is not offered."""
    assert metadata["code_challenge_methods_supported"] == ["S256"]


def test_iss_parameter_supported(metadata):
    """RFC 9207 §3: authorization_response_iss_parameter_supported."""
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_claims_supported_lists_sub_and_scope_claims(metadata):
    claims = metadata["claims_supported"]
    for name in ("sub", "iss", "email", "email_verified", "name", "phone_number", "address", "auth_time",
                 "acr"):
        assert name in claims, name
    assert len(claims) == len(set(claims))


def test_claims_supported_lists_the_rbac_claims_its_scopes_release(metadata):
    """OIDC Discovery §3: claims_supported lists the claims the OP may supply; the advertised `roles`
    and `groups` scopes release claims of the same name (ID token, access token, UserInfo)."""
    assert {"roles", "groups"} <= set(metadata["scopes_supported"])
    assert {"roles", "groups"} <= set(metadata["claims_supported"])


def test_metadata_is_cacheable(metadata_response):
    cache_control = metadata_response.headers["Cache-Control"]
    assert "public" in cache_control
    assert _max_age(metadata_response) > 0
    assert "no-store" not in cache_control


def test_metadata_allows_cross_origin_reads(metadata_response):
    """Browser-based relying parties fetch the metadata cross-origin."""
    assert metadata_response.headers["Access-Control-Allow-Origin"] == "*"


# --- JWKS -----------------------------------------------------------------------------------------


@pytest.fixture()
def jwks_response(client):
    response = client.get("/jwks.json")
    assert response.status_code == 200
    return response


@pytest.fixture()
def keys(jwks_response) -> list[dict]:
    return jwks_response.get_json()["keys"]


def _b64url_uint(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def _rfc7638_thumbprint(jwk: dict) -> str:
    """RFC 7638 §3.1–§3.3: the required members of an RSA key (e, kty, n) or an EC key (crv, kty, x,
    y) in lexicographic order, no whitespace, UTF-8, SHA-256, base64url without padding."""
    if jwk["kty"] == "EC":
        canonical = f'{{"crv":"{jwk["crv"]}","kty":"EC","x":"{jwk["x"]}","y":"{jwk["y"]}"}}'
    else:
        canonical = f'{{"e":"{jwk["e"]}","kty":"{jwk["kty"]}","n":"{jwk["n"]}"}}'
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def test_jwks_is_json_key_set(jwks_response, keys):
    assert jwks_response.mimetype == "application/json"
    assert isinstance(keys, list)


def test_jwks_publishes_current_and_next_key(keys):
    """The next key is published before it signs, so relying parties have it when rotation happens."""
    assert len(keys) >= 2
    assert len({k["kid"] for k in keys}) == len(keys)  # kids are unique


def test_jwks_keys_are_signing_keys_of_each_advertised_algorithm(keys, metadata):
    """OIDC Core §10.1: keys for signing have use=sig; RS256 and PS256 need RSA keys of at least 2048
    bits (RFC 7518 §3.3, §3.5), ES256 a P-256 key (§3.4). Each advertised alg has a current and a
    pre-published next key."""
    assert sorted(k["alg"] for k in keys).count("RS256") >= 2
    assert {k["alg"] for k in keys} == set(metadata["id_token_signing_alg_values_supported"]) == {
        "RS256", "PS256", "ES256"}
    for key in keys:
        assert key["use"] == "sig"
        if key["alg"] == "ES256":
            assert key["kty"] == "EC" and key["crv"] == "P-256"
            continue
        assert key["kty"] == "RSA"
        assert _b64url_uint(key["n"]).bit_length() >= 2048
        assert _b64url_uint(key["e"]) in (3, 65537)


def test_jwks_key_ids_are_rfc7638_thumbprints(keys):
    for key in keys:
        assert key["kid"] == _rfc7638_thumbprint(key)


def test_jwks_members_are_unpadded_base64url(keys):
    """RFC 7518 §6.3.1: RSA n and e are Base64urlUInt (no padding, minimal length); §6.2.1.2-3: EC x and y
    are the full coordinate length (32 octets for P-256), leading zero octets kept."""
    for key in keys:
        for member in ("n", "e") if key["kty"] == "RSA" else ("x", "y"):
            assert re.fullmatch(r"[A-Za-z0-9_-]+", key[member]), member
            raw = base64.urlsafe_b64decode(key[member] + "=" * (-len(key[member]) % 4))
            if key["kty"] == "RSA":
                assert raw[0] != 0, f"{member} has a leading zero octet"
            else:
                assert key["crv"] == "P-256" and len(raw) == 32, f"{member} is not 32 octets"


def test_jwks_has_no_private_members(jwks_response, keys):
    for key in keys:
        leaked = [m for m in PRIVATE_MEMBERS if m in key]
        assert not leaked, leaked
    assert "PRIVATE" not in jwks_response.get_data(as_text=True).upper()


def test_id_token_kid_is_published(client, browser, user, rp):
    """OIDC Core §10.1: the kid in the JWS header names a key in the JWKS."""
    from tests.conftest import redeem

    result = browser.sign_in(rp)
    id_token = redeem(client, rp, result["code"], result["_verifier"]).get_json()["id_token"]
    encoded = id_token.split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    assert header["alg"] == "RS256"
    assert header["kid"] in {k["kid"] for k in client.get("/jwks.json").get_json()["keys"]}


def test_jwks_is_cacheable_for_a_short_time(jwks_response, settings):
    assert "public" in jwks_response.headers["Cache-Control"]
    assert _max_age(jwks_response) == settings.jwks_max_age
    assert 0 < _max_age(jwks_response) <= 3600
    assert jwks_response.headers["Access-Control-Allow-Origin"] == "*"


def test_logout_support_is_advertised(metadata, settings):
    assert metadata["end_session_endpoint"] == settings.issuer + "/logout"
    for member in ("backchannel_logout_supported", "backchannel_logout_session_supported",
                   "frontchannel_logout_supported", "frontchannel_logout_session_supported"):
        assert metadata[member] is True


def test_the_cached_document_comes_from_the_issuer_never_from_request_headers(client, settings):
    """Whatever the first request after start says about host and prefix, the document every relying
    party caches names only the configured issuer's URLs."""
    discovery._document.cache_clear()
    poisoned = client.get("/.well-known/openid-configuration", base_url="http://evil.example",
                          environ_overrides={"SCRIPT_NAME": ".attacker.example"},
                          headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Prefix": "/.attacker"})
    document = json.loads(poisoned.get_data())
    urls = [v for k, v in document.items() if k.endswith(("_endpoint", "_uri"))]
    assert urls and all(u.startswith(settings.issuer + "/") for u in urls), urls
    assert "attacker" not in poisoned.get_data(as_text=True) and "evil" not in poisoned.get_data(as_text=True)
