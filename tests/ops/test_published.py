"""Discovery and JWKS served in front of Flask (idp/published.py) answer exactly what the views answer,
follow key rotations at once, and still count in the metrics and carry a request id."""

from __future__ import annotations

import json

from idp.extensions import db
from idp.published import PublishedDocuments
from idp.services import clock
from idp.services import keys as key_service
from idp.services.runtime import current

PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/jwks.json")


def _fast(app) -> PublishedDocuments:
    return app.wsgi_app if isinstance(app.wsgi_app, PublishedDocuments) else app.wsgi_app.app


def test_cached_answers_are_the_views_answers(app, client):
    for path in PATHS:
        _fast(app)._cache.pop(path, None)
        through_flask = client.get(path)  # the first request goes through the app and is kept
        assert path in _fast(app)._cache
        cached = client.get(path, headers={"X-Request-ID": "req-1"})
        assert cached.get_data() == through_flask.get_data()
        assert cached.status_code == 200
        strip = {"X-Request-ID", "Date"}
        assert [h for h in cached.headers if h[0] not in strip] == [h for h in through_flask.headers
                                                                    if h[0] not in strip]
        assert cached.headers["X-Request-ID"] == "req-1"
        assert cached.headers["Access-Control-Allow-Origin"] == "*"
        assert cached.headers["X-Content-Type-Options"] == "nosniff"
        head = client.head(path)
        assert head.status_code == 200 and head.get_data() == b""


def test_a_rotation_is_published_at_once_after_the_ring_reloads(app, client):
    before = {k["kid"] for k in client.get("/jwks.json").get_json()["keys"]}
    client.get("/jwks.json")  # now served from the cache
    with app.app_context():
        key_service.rotate(current().settings)
        current().keyring.reload()
        expected = {k["kid"] for k in json.loads(current().keyring.jwks_json())["keys"]}
        db.session.commit()
    after = {k["kid"] for k in client.get("/jwks.json").get_json()["keys"]}
    assert after == expected and after != before


def test_the_ring_refresh_still_happens_when_jwks_is_cached(app, client):
    with app.app_context():
        settings = current().settings
    before = {k["kid"] for k in client.get("/jwks.json").get_json()["keys"]}
    with app.app_context():
        key_service.rotate(settings)  # e.g. `idp keys rotate` on another node: publishes a new next key
        db.session.commit()
    assert {k["kid"] for k in client.get("/jwks.json").get_json()["keys"]} == before  # cached until due
    clock.advance(settings.key_ring_refresh_seconds)
    after = {k["kid"] for k in client.get("/jwks.json").get_json()["keys"]}
    assert after - before, "the new next key was not published after the refresh interval"
