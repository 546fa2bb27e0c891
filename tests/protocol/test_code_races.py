"""Exactly once: one authorization code redeemed by many concurrent requests against a live server
yields one success; the reuse revokes what that success issued (RFC 6749 §4.1.2)."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from idp.extensions import db
from idp.storage.tokens import Token
from tests.conftest import Browser, basic_auth, make_client, race

pytestmark = pytest.mark.e2e
RACERS = 8


def test_concurrent_redemptions_yield_exactly_one_token(app, live_server, user):
    rp = make_client(app, name="Racer", redirect_uris=["https://racer.example.com/cb"], skip_consent=True)
    result = Browser(live_server.app.test_client()).sign_in(rp)
    data = {"grant_type": "authorization_code", "code": result["code"],
            "redirect_uri": "https://racer.example.com/cb", "code_verifier": result["_verifier"]}
    responses = race(lambda: requests.post(f"{live_server.url}/token", data=data, timeout=30,
                                           headers=basic_auth(rp.client.client_id, rp.client_secret)), RACERS)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (RACERS - 1), [r.text for r in responses]
    assert all(r.json()["error"] == "invalid_grant" for r in responses if r.status_code == 400)
    with app.app_context():
        issued = db.session.scalar(select(func.count()).select_from(Token).where(Token.kind == "access"))
        live = db.session.scalar(select(func.count()).select_from(Token).where(Token.revoked_at.is_(None)))
    assert issued == 1  # one redemption minted tokens
    assert live == 0  # and the reuse revoked them
