"""Every URL the provider publishes, signs, shows or redirects to is built from the configured issuer,
never from the request: behind a proxy (proxy_fix_hops ≥ 1) a forged X-Forwarded-Prefix, X-Forwarded-Host
or Host header must not reach the cached discovery document, the registration_client_uri or a
set-password link."""

from __future__ import annotations

import pytest

from idp.extensions import db
from tests.admin.api_helpers import BASE, automation_client, token
from tests.conftest import make_app

ISSUER = "https://id.example.com"
FORGED = {"X-Forwarded-Prefix": ".attacker.example", "X-Forwarded-Host": "attacker.example",
          "X-Forwarded-Proto": "http", "Host": "attacker.example"}


@pytest.fixture(scope="module")
def _proxied_app(_session_app, tmp_path_factory, database_url):
    return make_app(tmp_path_factory, database_url, issuer=ISSUER, proxy_fix_hops=1,
                    dynamic_client_registration=1)


@pytest.fixture()
def proxied(app, _proxied_app):
    yield _proxied_app.test_client()
    with _proxied_app.app_context():
        db.session.remove()


def _urls(value) -> list[str]:
    if isinstance(value, dict):
        return [u for v in value.values() for u in _urls(v)]
    if isinstance(value, list):
        return [u for v in value for u in _urls(v)]
    return [value] if isinstance(value, str) and "://" in value else []


def test_discovery_cannot_be_poisoned_through_proxy_headers(proxied):
    poisoned = proxied.get("/.well-known/openid-configuration", headers=FORGED, base_url=ISSUER)
    assert poisoned.status_code == 200
    for document in (poisoned.get_json(), proxied.get("/.well-known/openid-configuration").get_json()):
        urls = _urls(document)
        assert len(urls) >= 9 and all(u == ISSUER or u.startswith(ISSUER + "/") for u in urls), urls
        assert document["jwks_uri"] == ISSUER + "/jwks.json"
        assert document["registration_endpoint"] == ISSUER + "/register"


def test_links_and_registration_uris_come_from_the_issuer(app, proxied, user):
    robot = automation_client(app)
    bearer = {"Authorization": f"Bearer {token(proxied, robot)}"}
    link = proxied.post(f"{BASE}/v1/users/{user.id}/password-link", headers=bearer | FORGED).get_json()
    assert link["url"].startswith(ISSUER + "/account/set-password/"), link["url"]
    issued = proxied.post(f"{BASE}/v1/initial-access-tokens", headers=bearer | FORGED).get_json()
    assert issued["registration_endpoint"] == ISSUER + "/register"
    registered = proxied.post("/register", json={"redirect_uris": ["https://rp.example.com/cb"]},
                              headers={"Authorization": f"Bearer {issued['initial_access_token']}"} | FORGED)
    assert registered.status_code == 201
    assert registered.get_json()["registration_client_uri"] == \
        f"{ISSUER}/register/{registered.get_json()['client_id']}"
