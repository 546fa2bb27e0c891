"""OpenID Connect Back-Channel Logout 1.0: the logout token (§2.4), which clients are told (§2.5),
and the delivery record: retries with a doubling delay, then a recorded failure."""

from __future__ import annotations

import socket
import time

from joserfc import jwt
from joserfc.jwk import KeySet

from idp.extensions import db
from idp.services import backchannel, clock, logout, sessions
from idp.services.runtime import current
from idp.storage.audit import AuditEvent
from tests.conftest import make_client, redeem


def _closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens: every attempt is refused
    return f"http://127.0.0.1:{port}/backchannel"


def test_logout_token_claims_and_type(ctx, user, rp):
    rt = current()
    token = backchannel.logout_token(rt.settings, rt.keyring, client_id=rp.client.client_id, sub=user.sub,
                                     sid="the-sid", jti="the-jti", now=1000)
    decoded = jwt.decode(token, KeySet.import_key_set({"keys": rt.keyring.verify_keys().as_dict()["keys"]}),
                         algorithms=["RS256"])
    assert decoded.header["typ"] == "logout+jwt" and decoded.header["kid"]
    assert decoded.claims == {
        "iss": rt.settings.issuer, "aud": rp.client.client_id, "iat": 1000, "exp": 1000 + rt.settings.logout_token_ttl,
        "jti": "the-jti", "sub": user.sub, "sid": "the-sid",
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
    }
    assert "nonce" not in decoded.claims


def test_only_clients_of_the_session_with_a_uri_are_queued(app, client, browser, user):
    told = make_client(app, name="Told", redirect_uris=["https://told.example.com/cb"],
                       backchannel_logout_uri="https://told.example.com/bc")
    make_client(app, name="Not in the session", redirect_uris=["https://other.example.com/cb"],
                backchannel_logout_uri="https://other.example.com/bc")
    without_uri = make_client(app, name="No URI", redirect_uris=["https://plain.example.com/cb"])
    for rp in (told, without_uri):
        result = browser.sign_in(rp)
        assert redeem(client, rp, result["code"], result["_verifier"]).status_code == 200
    with app.app_context():
        from idp.storage.sessions import SsoSession

        session = sessions.find_by_sid(db.session.scalars(db.select(SsoSession.sid)).one())
        logout.end_session(session, reason="test")
        app.extensions["idp"].backchannel.stop()
        deliveries = backchannel.deliveries_for(session.sid)
    assert [d.client_id for d in deliveries] == [told.client.client_id]


def test_failed_deliveries_are_retried_with_a_doubling_delay_then_recorded(ctx, user, monkeypatch):
    # Only clock.advance moves time here: a second ticking during an attempt would shift the waits.
    frozen = clock.now() - clock._offset
    monkeypatch.setattr(clock, "now", lambda: frozen + clock._offset)
    rt = current()
    receiver = make_client(ctx, name="Unreachable", redirect_uris=["https://app.example.com/cb"],
                           backchannel_logout_uri=_closed_port_url())
    backchannel.enqueue(client=receiver.client, user_id=user.id, sub=user.sub, sid="sid-1")
    db.session.commit()
    delay = rt.settings.backchannel_logout_retry_delay
    waits = []
    for _ in range(rt.settings.backchannel_logout_max_attempts):
        waits.append(backchannel.deliver_due(rt.settings, rt.keyring))
        if waits[-1] is not None:
            # Not due yet: nothing sent (the wall clock may tick a second between two calls).
            left = backchannel.deliver_due(rt.settings, rt.keyring)
            assert left in (waits[-1], waits[-1] - 1)
            clock.advance(left + 1)
    expected = [delay, delay * 2, delay * 4, delay * 8, None]
    assert len(waits) == len(expected)
    assert all(w == e or (e is not None and w == e - 1) for w, e in zip(waits, expected, strict=True)), waits
    [delivery] = backchannel.deliveries_for("sid-1")
    assert delivery.status == "failed" and delivery.attempts == rt.settings.backchannel_logout_max_attempts
    assert "Connection refused" in delivery.last_error or "URLError" in delivery.last_error
    [event] = db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == "logout.backchannel")).all()
    assert event.outcome == "failure" and event.client_id == receiver.client.client_id
    assert event.details["sid"] == "sid-1"


def test_sender_thread_ends_when_nothing_is_pending_and_starts_again(app):
    deliverer = app.extensions["idp"].backchannel
    for _ in range(2):
        deliverer.notify()
        deadline = time.monotonic() + 10
        while deliverer.running and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not deliverer.running  # an idle worker keeps no polling thread
    deliverer.notify()
    deliverer.stop()
    assert not deliverer.running
