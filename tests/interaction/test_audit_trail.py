"""Sign-in, consent and reuse detection leave audit records (and JSON log lines), without secrets."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from idp.extensions import db
from idp.storage.audit import AuditEvent
from tests.conftest import PASSWORD, redeem


def _events(app) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return rows


def test_sign_in_events_are_recorded(app, client, browser, user, rp, caplog):
    caplog.set_level(logging.INFO, logger="idp.audit")
    result = browser.sign_in(rp)
    assert result["code"]
    events = [(e.event, e.outcome, e.actor_user_id, e.client_id) for e in _events(app)]
    assert ("login.password", "success", user.id, rp.client.client_id) in events
    assert ("consent.grant", "success", user.id, rp.client.client_id) in events
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "idp.audit"]
    assert {"login.password", "consent.grant"} <= {line["event"] for line in logged}
    assert all(PASSWORD not in r.getMessage() for r in caplog.records)


def test_failed_sign_in_is_recorded_without_the_password(app, client, browser, user, rp):
    response = browser.authorize(response_type="code", client_id=rp.client.client_id,
                                 redirect_uri=rp.client.redirect_uris[0], scope="openid")
    # This client does not require PKCE; the request reaches the login page.
    path = browser.follow_to_interaction(response)
    browser.login(path, password="wrong password 1")
    failure = [e for e in _events(app) if e.event == "login.password"][-1]
    assert failure.outcome == "failure" and failure.details == {"login": "alice"}
    assert failure.ip_address == "127.0.0.1"
    assert "wrong password 1" not in json.dumps(failure.details) + (failure.reason or "")


def test_code_reuse_is_recorded(app, client, browser, user, rp):
    result = browser.sign_in(rp)
    assert redeem(client, rp, result["code"], result["_verifier"]).status_code == 200
    assert redeem(client, rp, result["code"], result["_verifier"]).status_code == 400
    reuse = [e for e in _events(app) if e.event == "token.code_reuse_detected"]
    assert len(reuse) == 1 and reuse[0].subject_user_id == user.id and reuse[0].details["revoked_tokens"] >= 1
