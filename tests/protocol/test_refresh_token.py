"""offline_access yields a refresh token (OIDC Core §11) that rotates on use (RFC 9700 §4.14.2)."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import delete, select, update

from idp.extensions import db
from idp.services import clock
from idp.storage.audit import AuditEvent
from idp.storage.consents import Consent
from idp.storage.users import User
from tests.conftest import basic_auth, make_client, redeem


def _refresh(client, rp, refresh_token, **extra):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    return client.post("/token", data=data, headers=basic_auth(rp.client.client_id, rp.client_secret))


def test_offline_access_yields_rotating_refresh_token(client, browser, user, rp):
    result = browser.sign_in(rp, scope="openid offline_access", prompt="consent")
    first = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    assert "refresh_token" in first
    second = _refresh(client, rp, first["refresh_token"])
    assert second.status_code == 200, second.get_json()
    body = second.get_json()
    assert body["refresh_token"] != first["refresh_token"]
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    original = jwt.decode(first["id_token"], keys).claims
    renewed = jwt.decode(body["id_token"], keys).claims
    assert renewed["auth_time"] == original["auth_time"]  # OIDC Core §12.2
    assert renewed["sub"] == original["sub"] and renewed["aud"] == original["aud"]


def test_no_refresh_token_without_offline_access(client, browser, user, rp):
    result = browser.sign_in(rp, scope="openid")
    assert "refresh_token" not in redeem(client, rp, result["code"], result["_verifier"]).get_json()


def test_reused_refresh_token_revokes_the_family(client, browser, user, rp):
    result = browser.sign_in(rp, scope="openid offline_access")
    first = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    rotated = _refresh(client, rp, first["refresh_token"]).get_json()
    replay = _refresh(client, rp, first["refresh_token"])
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    # The thief's replay kills the legitimate successor too.
    assert _refresh(client, rp, rotated["refresh_token"]).get_json()["error"] == "invalid_grant"
    bearer = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert client.get("/userinfo", headers=bearer).status_code == 401


def test_refresh_scope_may_narrow_not_widen(client, browser, user, rp):
    result = browser.sign_in(rp, scope="openid email offline_access")
    first = redeem(client, rp, result["code"], result["_verifier"]).get_json()
    narrowed = _refresh(client, rp, first["refresh_token"], scope="openid offline_access")
    assert narrowed.status_code == 200 and narrowed.get_json()["scope"] == "openid offline_access"
    widened = _refresh(client, rp, narrowed.get_json()["refresh_token"], scope="openid profile offline_access")
    assert widened.status_code == 400 and widened.get_json()["error"] == "invalid_scope"
    # The rotated refresh token kept the original grant's scope (RFC 6749 §6).
    again = _refresh(client, rp, narrowed.get_json()["refresh_token"])
    assert again.status_code == 200 and set(again.get_json()["scope"].split()) == {"openid", "email", "offline_access"}


# --- lifetimes, binding and the end of the grant ---------------------------------------------------


def _grant(client, browser, rp):
    result = browser.sign_in(rp, scope="openid offline_access")
    return redeem(client, rp, result["code"], result["_verifier"]).get_json()


def test_refresh_token_expires_after_the_idle_lifetime(client, browser, user, rp, settings):
    first = _grant(client, browser, rp)
    clock.advance(settings.refresh_token_idle_ttl - 10)
    rotated = _refresh(client, rp, first["refresh_token"])
    assert rotated.status_code == 200  # each use starts a new idle period
    clock.advance(settings.refresh_token_idle_ttl - 10)
    assert _refresh(client, rp, rotated.get_json()["refresh_token"]).status_code == 200


def test_unused_refresh_token_dies_at_the_idle_lifetime(client, browser, user, rp, settings):
    first = _grant(client, browser, rp)
    clock.advance(settings.refresh_token_idle_ttl + 1)
    response = _refresh(client, rp, first["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_rotation_never_extends_the_absolute_lifetime(app, client, browser, user):
    rp = make_client(app, name="Short", redirect_uris=["https://short.example.com/cb"], skip_consent=True,
                     scopes=["openid", "offline_access"], grant_types=["authorization_code", "refresh_token"],
                     refresh_token_ttl=1000, refresh_token_idle_ttl=400)
    token = _grant(client, browser, rp)["refresh_token"]
    for _ in range(2):
        clock.advance(300)
        response = _refresh(client, rp, token)
        assert response.status_code == 200
        token = response.get_json()["refresh_token"]
    clock.advance(300)  # 900 s after the grant: still within both lifetimes
    last = _refresh(client, rp, token).get_json()["refresh_token"]
    clock.advance(150)  # 1050 s: past the absolute lifetime although used 150 s ago
    assert _refresh(client, rp, last).get_json()["error"] == "invalid_grant"


def test_refresh_token_is_bound_to_its_client(app, client, browser, user, rp):
    first = _grant(client, browser, rp)
    other = make_client(app, name="Other", redirect_uris=["https://other.example.com/cb"],
                        grant_types=["authorization_code", "refresh_token"])
    stolen = _refresh(client, other, first["refresh_token"])
    assert stolen.status_code == 400 and stolen.get_json()["error"] == "invalid_grant"
    assert _refresh(client, rp, first["refresh_token"]).status_code == 200


def test_withdrawn_consent_ends_the_refresh_grant(app, client, browser, user, rp):
    first = _grant(client, browser, rp)
    with app.app_context():
        db.session.execute(delete(Consent).where(Consent.user_id == user.id))
        db.session.commit()
    response = _refresh(client, rp, first["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_a_disabled_user_cannot_refresh(app, client, browser, user, rp):
    first = _grant(client, browser, rp)
    with app.app_context():
        db.session.execute(update(User).where(User.id == user.id).values(enabled=False))
        db.session.commit()
    assert _refresh(client, rp, first["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_reuse_is_written_to_the_audit_trail(app, client, browser, user, rp):
    first = _grant(client, browser, rp)
    _refresh(client, rp, first["refresh_token"])
    _refresh(client, rp, first["refresh_token"])
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "token.refresh_reuse_detected")).one()
        assert event.outcome == "failure" and event.subject_user_id == user.id
        assert event.details["revoked_tokens"] == 3  # both access tokens and the live successor refresh token
