"""The database throttle: reserve-then-verify, all-or-nothing across keys, windows that restart, a
success giving its attempt back (and clearing the person's own counter), and concurrent reservations
that never exceed the limit."""

from __future__ import annotations

import pytest

from idp.errors import Throttled
from idp.services import clock, throttle
from tests.conftest import race


def key(value="alice", limit=3, window=60, personal=False, kind="test.account"):
    return throttle.Key(kind, value, limit, window, personal=personal)


def test_reservations_stop_at_the_limit_until_the_window_ends(ctx):
    for _ in range(3):
        throttle.reserve([key()])
    with pytest.raises(Throttled) as refused:
        throttle.reserve([key()])
    assert 1 <= refused.value.retry_after <= 60
    clock.advance(61)
    throttle.reserve([key()])  # a new window
    assert throttle.attempts(key()) == 1


def test_a_refused_attempt_counts_against_no_key(ctx):
    ip = key("192.0.2.1", limit=1, kind="test.ip")
    throttle.reserve([ip])
    with pytest.raises(Throttled):
        throttle.reserve([key(), ip])
    assert throttle.attempts(key()) == 0 and throttle.attempts(ip) == 1


def test_success_gives_the_attempt_back_and_clears_personal_counters(ctx):
    ip, account = key("192.0.2.1", kind="test.ip"), key(personal=True)
    throttle.reserve([ip, account])
    throttle.reserve([ip, account]).succeeded()
    assert throttle.attempts(ip) == 1 and throttle.attempts(account) == 0


def test_keys_are_stored_hashed(ctx):
    from idp.extensions import db
    from idp.storage.throttle import ThrottleCounter

    throttle.reserve([key("alice@example.com")])
    (row,) = db.session.scalars(db.select(ThrottleCounter)).all()
    assert "alice" not in row.key_hash and len(row.key_hash) == 64


def test_concurrent_reservations_never_exceed_the_limit(app):
    def attempt():
        with app.app_context():
            try:
                throttle.reserve([key(limit=5)])
                return "reserved"
            except Throttled:
                return "refused"

    results = race(attempt, 30)
    assert results.count("reserved") == 5 and results.count("refused") == 25
