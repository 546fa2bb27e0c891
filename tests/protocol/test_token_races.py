"""Exactly once, against a live server: one refresh token or one approved device code presented by
many concurrent requests yields one success and a consistent database (RFC 9700 §4.14.2, RFC 8628)."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from idp.extensions import db
from idp.storage.device import DeviceCode
from idp.storage.tokens import Token
from tests.conftest import Browser, basic_auth, make_client, race, redeem
from tests.protocol.test_device_flow import GRANT, approve

pytestmark = pytest.mark.e2e
RACERS = 8


def _race(url: str, data: dict, headers: dict) -> list[requests.Response]:
    return race(lambda: requests.post(url, data=data, headers=headers, timeout=30), RACERS)


def _count(*conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(Token).where(*conditions))


def test_concurrent_refreshes_yield_exactly_one_new_token(app, live_server, user):
    rp = make_client(app, name="Racer", redirect_uris=["https://racer.example.com/cb"], skip_consent=True,
                     scopes=["openid", "offline_access"], grant_types=["authorization_code", "refresh_token"])
    test_client = live_server.app.test_client()
    result = Browser(test_client).sign_in(rp, scope="openid offline_access")
    first = redeem(test_client, rp, result["code"], result["_verifier"]).get_json()

    responses = _race(f"{live_server.url}/token", {"grant_type": "refresh_token",
                                                   "refresh_token": first["refresh_token"]},
                      basic_auth(rp.client.client_id, rp.client_secret))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (RACERS - 1), [r.text for r in responses]
    assert all(r.json()["error"] == "invalid_grant" for r in responses if r.status_code == 400)
    with app.app_context():
        assert _count(Token.kind == "refresh") == 2  # the original and exactly one successor
        assert _count(Token.kind == "access") == 2
        # The losers presented a token that had just been rotated: the family is revoked (reuse).
        assert _count(Token.revoked_at.is_(None)) == 0


def test_concurrent_polls_of_one_device_code_yield_exactly_one_token(app, live_server, user):
    tv = make_client(app, name="TV", redirect_uris=[], token_endpoint_auth_method="none", grant_types=[GRANT],
                     scopes=["openid"], skip_consent=True)
    body = requests.post(f"{live_server.url}/device_authorization", timeout=30,
                         data={"client_id": tv.client.client_id, "scope": "openid"}).json()
    assert approve(live_server.app.test_client(), body["user_code"]) == "approved"

    responses = _race(f"{live_server.url}/token", {"grant_type": GRANT, "device_code": body["device_code"],
                                                   "client_id": tv.client.client_id}, {})

    successes = [r for r in responses if r.status_code == 200]
    assert len(successes) == 1, [r.text for r in responses]
    # Others lost the claim (invalid_grant) or came within the interval of a poll (slow_down).
    assert {r.json()["error"] for r in responses if r.status_code != 200} <= {"invalid_grant", "slow_down"}
    with app.app_context():
        assert _count(Token.kind == "access") == 1
        row = db.session.scalars(select(DeviceCode)).one()
        assert row.consumed_at is not None and row.status == "approved"
