"""Operations endpoints and behaviour: liveness, readiness, Prometheus metrics behind a bearer token,
the JSON access log with a request id, and a clear 503 while the database is unavailable."""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from idp.extensions import db
from idp.services import health
from tests.conftest import basic_auth, make_client, redeem

METRICS_TOKEN = "m" * 40


def test_healthz_and_readyz_answer_json(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok",
                                                                 "signing_key": "ok"}}


def test_readyz_fails_when_migrations_are_behind(client, monkeypatch):
    monkeypatch.setattr(health, "expected_revision", lambda: "ffffffffffff")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["migrations"].startswith("database at ")


def test_metrics_need_the_configured_bearer_token(app, client, monkeypatch):
    import dataclasses

    rt = app.extensions["idp"]
    assert client.get("/metrics").status_code == 404  # no metrics_token: no /metrics on the main port
    monkeypatch.setitem(app.extensions, "idp", dataclasses.replace(
        rt, settings=dataclasses.replace(rt.settings, metrics_token=METRICS_TOKEN)))
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    service = make_client(app, name="Service", grant_types=["client_credentials"], scopes=["api:read"],
                          redirect_uris=[])
    assert client.post("/token", data={"grant_type": "client_credentials"},
                       headers=basic_auth(service.client.client_id, service.client_secret)).status_code == 200
    client.get("/.well-known/openid-configuration")
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'idp_tokens_issued_total{grant_type="client_credentials"}' in text
    assert 'idp_http_request_duration_seconds_bucket{endpoint="protocol.openid_configuration"' in text
    assert "idp_signing_key_activated_timestamp_seconds" in text
    assert 'idp_http_requests_total{endpoint="protocol.token",method="POST",status="200"}' in text


def test_sign_ins_and_throttled_attempts_are_counted(app, client, browser, user, rp):
    from idp.services import metrics

    before = metrics.EVENTS.labels("login.password", "success")._value.get()
    browser.sign_in(rp)
    assert metrics.EVENTS.labels("login.password", "success")._value.get() == before + 1


def test_access_log_is_json_with_the_request_id(app, client, caplog):
    with caplog.at_level(logging.INFO, logger="idp.access"):
        response = client.get("/jwks.json", headers={"X-Request-ID": "abc-123"})
        generated = client.get("/healthz?code=secret").headers["X-Request-ID"]
        client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["X-Request-ID"] == "abc-123"
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "idp.access"]
    assert lines[0]["request_id"] == "abc-123" and lines[0]["status"] == 200 and lines[0]["path"] == "/jwks.json"
    assert lines[1]["request_id"] == generated and len(generated) == 32
    assert "secret" not in json.dumps(lines)  # query strings are never logged
    assert lines[2]["request_id"] != "bad id\twith spaces"


def test_access_log_never_holds_a_secret_from_the_path(app, client, user, caplog):
    """A set-password link carries its one-time token in the path: the log line has the route instead."""
    from idp.services import users

    with app.app_context():
        secret = users.issue_password_link(user.id, 3600).token
        db.session.commit()
    with caplog.at_level(logging.INFO, logger="idp.access"):
        assert client.get(f"/account/set-password/{secret}").status_code == 200
        assert client.get("/account/set-password/not-a-token").status_code == 404
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "idp.access"]
    assert len(lines) == 2 and secret not in json.dumps(lines) and "not-a-token" not in json.dumps(lines)
    assert lines[0]["path"] == "/account/set-password/<token>" and lines[0]["status"] == 200


@contextmanager
def database_down(app):
    """Every statement fails as it does when PostgreSQL has gone away (tests/ops/test_outage.py stops a
    real one)."""
    with app.app_context():
        engine = db.engine

    def refuse(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


def test_a_database_outage_is_a_503_with_a_clear_body_and_service_resumes(app, client, browser, user, rp):
    result = browser.sign_in(rp)
    token = redeem(client, rp, result["code"], result["_verifier"]).get_json()["access_token"]
    auth = basic_auth(rp.client.client_id, rp.client_secret)
    with database_down(app):
        answers = {
            "token": client.post("/token", headers=auth, data={"grant_type": "refresh_token", "refresh_token": "x"}),
            "userinfo": client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}),
            "introspect": client.post("/introspect", headers=auth, data={"token": token}),
            "authorize": client.get("/authorize", query_string={"client_id": rp.client.client_id}),
            "readyz": client.get("/readyz"),
        }
        assert client.get("/healthz").status_code == 200  # alive: no restart wanted
        assert client.get("/jwks.json").status_code == 200  # served from memory
    for name, response in answers.items():
        assert response.status_code == 503, (name, response.get_data(as_text=True))
        assert "Traceback" not in response.get_data(as_text=True)
    for name in ("token", "userinfo", "introspect"):
        assert answers[name].get_json()["error"] == "temporarily_unavailable", name
        assert answers[name].headers["Retry-After"] == "5"
    assert answers["authorize"].mimetype == "text/html"
    assert "Temporarily unavailable" in answers["authorize"].get_data(as_text=True)
    assert answers["readyz"].get_json()["checks"]["database"] == "unreachable"
    # The database is back: the same process serves again.
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/readyz").status_code == 200
