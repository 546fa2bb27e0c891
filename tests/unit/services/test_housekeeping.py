"""Housekeeping: expired codes, tokens, device codes, interactions and sessions are deleted in
batches by `idp tokens purge` and by the once-per-cluster job of `idp serve`; live rows stay."""

from __future__ import annotations

from sqlalchemy import func, select

from idp.extensions import db
from idp.services import clock, housekeeping
from idp.services.runtime import current
from idp.storage.codes import AuthorizationCode
from idp.storage.interactions import Interaction
from idp.storage.sessions import SsoSession
from idp.storage.tokens import Token
from tests.conftest import race, redeem


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _some_rows(client, browser, rp, grants: int = 3) -> None:
    for _ in range(grants):
        result = browser.sign_in(rp, scope="openid offline_access", prompt="consent")
        assert redeem(client, rp, result["code"], result["_verifier"]).status_code == 200


def test_purge_deletes_only_what_has_expired(app, client, browser, user, rp, settings):
    _some_rows(client, browser, rp)
    with app.app_context():
        assert housekeeping.purge(100) == {"authorization_codes": 0, "tokens": 0, "device_codes": 0,
                                           "interactions": 0, "sso_sessions": 0, "logout_requests": 0,
                                           "webauthn_challenges": 0, "backchannel_deliveries": 0,
                                           "mail_outbox": 0, "users_deleted_on_request": 0, "throttle_counters": 0,
                                           "pushed_authorization_requests": 0, "seen_jtis": 0,
                                           "password_links": 0, "initial_access_tokens": 0}
        assert _count(Token) == 6 and _count(AuthorizationCode) == 3
    clock.advance(settings.access_token_ttl + 1)  # codes, interactions and access tokens are over
    with app.app_context():
        counts = housekeeping.purge(100)
        assert counts["tokens"] == 3 and counts["authorization_codes"] == 3 and counts["interactions"] == 3
        assert _count(Token) == 3  # the refresh tokens live on
        assert db.session.scalar(select(func.count()).select_from(Token).where(Token.kind == "refresh")) == 3
    clock.advance(settings.refresh_token_ttl)
    with app.app_context():
        counts = housekeeping.purge(100)
        assert counts["tokens"] == 3 and counts["sso_sessions"] == 1
        assert _count(Token) == 0 and _count(SsoSession) == 0 and _count(Interaction) == 0


def test_purge_works_in_batches(app, client, browser, user, rp, settings):
    _some_rows(client, browser, rp, grants=5)
    clock.advance(settings.refresh_token_ttl + 1)
    with app.app_context():
        assert housekeeping.purge(2)["tokens"] == 10
        assert _count(Token) == 0


def test_background_jobs_run_once_per_cluster_whatever_the_number_of_schedulers(app, client, browser, user, rp,
                                                                               settings):
    """Every worker of every node runs a scheduler; the lease lets exactly one purge per interval."""
    from idp.services import jobs

    _some_rows(client, browser, rp, grants=1)
    clock.advance(settings.refresh_token_ttl + 1)
    with app.app_context():
        rt = current()
        ran = race(lambda: _run_jobs(app, rt), racers=4)
        assert sorted(name for names in ran for name in names).count("purge") == 1
        assert _count(Token) == 0
        assert "purge" not in jobs.run_due(rt, "another-node")  # still within the interval
        clock.advance(settings.purge_interval_seconds)
        assert "purge" in jobs.run_due(rt, "another-node")  # the next interval: whoever comes first


def _run_jobs(app, rt) -> list[str]:
    from idp.services import jobs

    with app.app_context():
        try:
            return jobs.run_due(rt, jobs.holder_name())
        finally:
            db.session.remove()


def test_the_scheduler_thread_runs_off_the_request_path_and_stops(app, client, browser, user, rp, settings):
    from idp.services.jobs import Scheduler

    _some_rows(client, browser, rp, grants=1)
    clock.advance(settings.refresh_token_ttl + 1)
    scheduler = Scheduler(app, tick=3600)
    scheduler.start()
    try:
        assert scheduler.ran.wait(10), "the scheduler did not run"
    finally:
        scheduler.stop()
    assert not scheduler.is_alive()
    with app.app_context():
        assert _count(Token) == 0


def test_idp_tokens_purge_command(app, client, browser, user, rp, settings):
    _some_rows(client, browser, rp, grants=1)
    clock.advance(settings.refresh_token_ttl + 1)
    result = app.test_cli_runner().invoke(args=["tokens", "purge", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert "tokens: 2 deleted" in result.output and "authorization_codes: 1 deleted" in result.output


def test_purge_removes_logout_requests_and_old_finished_deliveries(app, settings):
    from idp.storage.backchannel import DELIVERED, PENDING, BackchannelDelivery
    from idp.storage.housekeeping import DELIVERY_RETENTION
    from idp.storage.logout_requests import LogoutRequest
    from tests.conftest import make_client

    rp = make_client(app, name="Logout App", redirect_uris=["https://l.example.com/cb"])
    with app.app_context():
        now = clock.now()
        db.session.add(LogoutRequest(uid="u1", browser_hash="h", created_at=now, expires_at=now + 60))
        for jti, status in (("done", DELIVERED), ("waiting", PENDING)):
            db.session.add(BackchannelDelivery(client_pk=rp.client.id, sub="s", sid="sid", jti=jti,
                                               uri="https://l.example.com/bc", status=status,
                                               next_attempt_at=now, created_at=now))
        db.session.commit()
    clock.advance(DELIVERY_RETENTION + 1)
    with app.app_context():
        counts = housekeeping.purge(100)
        assert counts["logout_requests"] == 1 and counts["backchannel_deliveries"] == 1
        # A delivery still being retried is never dropped.
        assert [d.jti for d in db.session.scalars(select(BackchannelDelivery))] == ["waiting"]


def test_purge_removes_expired_links_and_initial_access_tokens(app, user, settings):
    """Set-password / reset / invitation / verification / magic links and initial access tokens are
    deleted once expired, used or not; live ones stay (and still work)."""
    from idp.services import email_links, registration
    from idp.storage.password_links import InitialAccessToken, PasswordLink

    with app.app_context():
        email_links.issue(user.id, "reset", 60)
        email_links.issue(user.id, "set_password", 60)
        live_link = email_links.issue(user.id, "reset", 3600)
        db.session.commit()
        registration.issue_initial_access_token(60)
        live_token, _ = registration.issue_initial_access_token(3600)
    clock.advance(61)
    with app.app_context():
        counts = housekeeping.purge(1)
        assert counts["password_links"] == 2 and counts["initial_access_tokens"] == 1
        assert _count(PasswordLink) == 1 and _count(InitialAccessToken) == 1
        assert email_links.find(live_link, ("reset",)) is not None
        assert housekeeping.purge(100)["password_links"] == 0
