"""SSO sessions: an opaque cookie whose hash alone is stored, idle and absolute timeouts, sign-out,
and a new session id at every sign-in (no session fixation)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from idp.extensions import db
from idp.services import clock, sessions
from idp.storage.sessions import SsoSession


def _start(settings, user, replaces=None):
    return sessions.start(settings, user_id=user.id, amr=["pwd"], acr=sessions.PASSWORD_ACR,
                          user_agent="pytest", ip_address="127.0.0.1", replaces=replaces)


def _row(cookie: str) -> SsoSession:
    digest = hashlib.sha256(cookie.encode()).hexdigest()
    return db.session.scalars(select(SsoSession).where(SsoSession.session_hash == digest)).one()


def test_start_returns_a_cookie_and_stores_only_its_sha256(ctx, settings, user):
    cookie, view = _start(settings, user)
    assert len(cookie) >= 43  # 32 random bytes, url-safe base64
    row = _row(cookie)
    assert row.id == view.id
    assert row.session_hash == hashlib.sha256(cookie.encode()).hexdigest()
    stored = [str(getattr(row, c.name)) for c in SsoSession.__table__.columns]
    assert not any(cookie in value for value in stored)
    assert view.user_id == user.id
    assert view.amr == ("pwd",) and view.acr == sessions.PASSWORD_ACR
    assert view.auth_time == row.auth_time


def test_current_finds_the_session_by_cookie(ctx, settings, user):
    cookie, started = _start(settings, user)
    found = sessions.current(settings, cookie)
    assert found == started
    assert sessions.current(settings, cookie + "x") is None
    assert sessions.current(settings, None) is None
    assert sessions.current(settings, "") is None
    assert sessions.current(settings, "a" * 500) is None
    # Knowing the stored hash is not enough to use the session.
    assert sessions.current(settings, _row(cookie).session_hash) is None


def test_each_sign_in_gets_a_different_cookie_and_sid(ctx, settings, user):
    first_cookie, first = _start(settings, user)
    second_cookie, second = _start(settings, user)
    assert first_cookie != second_cookie
    assert first.sid != second.sid


def test_session_ends_after_the_idle_timeout(ctx, settings, user):
    cookie, _ = _start(settings, user)
    clock.advance(settings.session_idle_timeout - 5)
    assert sessions.current(settings, cookie) is not None
    clock.advance(settings.session_idle_timeout)
    assert sessions.current(settings, cookie) is None


def test_use_keeps_the_session_alive_past_the_idle_timeout(ctx, settings, user):
    cookie, _ = _start(settings, user)
    step = settings.session_idle_timeout - 100
    for _ in range(3):
        clock.advance(step)
        assert sessions.current(settings, cookie) is not None


def test_session_ends_at_the_absolute_timeout_even_when_in_use(ctx, settings, user):
    assert settings.session_idle_timeout < settings.session_absolute_timeout
    cookie, _ = _start(settings, user)
    expires_at = _row(cookie).expires_at
    assert expires_at - clock.now() <= settings.session_absolute_timeout
    step = settings.session_idle_timeout - 100
    while clock.now() + step < expires_at:
        clock.advance(step)
        assert sessions.current(settings, cookie) is not None
    clock.advance(expires_at - clock.now())
    assert sessions.current(settings, cookie) is None


def test_signing_in_again_renews_the_same_persons_session_under_a_new_cookie(ctx, settings, user):
    old_cookie, old = _start(settings, user)
    clock.advance(120)
    new_cookie, new = sessions.start(settings, user_id=user.id, amr=["pwd", "otp", "mfa"], acr=sessions.MFA_ACR,
                                     user_agent="pytest", ip_address="127.0.0.1", replaces=old_cookie)
    assert new_cookie != old_cookie and sessions.current(settings, old_cookie) is None  # no fixation
    assert new.id == old.id and new.sid == old.sid  # the same SSO session: other applications stay signed in
    assert new.auth_time == old.auth_time + 120 and new.acr == sessions.MFA_ACR and "otp" in new.amr
    assert sessions.current(settings, new_cookie) == new


def test_another_person_signing_in_replaces_the_previous_session(ctx, settings, user):
    from idp.services import users as user_service
    from idp.services.runtime import current
    from tests.conftest import PASSWORD

    old_cookie, old = _start(settings, user)
    bob = user_service.create(current().passwords, username="bob", password=PASSWORD)
    new_cookie, new = _start(settings, bob, replaces=old_cookie)
    assert new_cookie != old_cookie
    assert new.id != old.id and new.sid != old.sid and new.user_id == bob.id
    assert sessions.current(settings, old_cookie) is None
    assert _row(old_cookie).ended_at is not None
    assert sessions.current(settings, new_cookie) == new


def test_replacing_an_unknown_cookie_still_starts_a_session(ctx, settings, user):
    cookie, view = _start(settings, user, replaces="planted-by-an-attacker")
    assert cookie != "planted-by-an-attacker"
    assert sessions.current(settings, cookie) == view
