"""Authenticator-app codes (RFC 6238): enrolment, the ±1 step window, no replay of a time step even
under concurrent requests, the secret encrypted at rest."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from idp.errors import SecondFactorFailed, ValidationError
from idp.extensions import db
from idp.services import clock, crypto, mfa
from idp.services.mfa import totp
from idp.services.runtime import current
from idp.storage.mfa import TotpCredential
from tests.conftest import enrol_totp, race, totp_now


def _code(secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now() + steps * totp.STEP)


def test_enrolment_is_pending_until_a_valid_code(ctx, user):
    settings = current().settings
    enrolment = totp.begin(settings, user)
    assert len(enrolment.secret) == 32 and enrolment.uri.startswith("otpauth://totp/")
    assert enrolment.qr_svg.startswith("<svg") and "QR code" in enrolment.qr_svg
    assert totp.begin(settings, user).secret == enrolment.secret  # reloading shows the same secret
    assert not totp.is_enabled(user.id) and not mfa.status(user.id).enrolled
    with pytest.raises(SecondFactorFailed):
        totp.confirm(settings, user.id, "000000" if _code(enrolment.secret) != "000000" else "111111")
    assert not totp.is_enabled(user.id)
    totp.confirm(settings, user.id, _code(enrolment.secret))
    assert totp.is_enabled(user.id) and mfa.status(user.id).enrolled
    with pytest.raises(ValidationError):
        totp.begin(settings, user)  # one app at a time


def test_secret_is_encrypted_at_rest(ctx, user):
    secret = totp.begin(current().settings, user).secret
    row = db.session.scalars(select(TotpCredential)).one()
    assert secret.encode() not in row.secret_encrypted
    kek = current().settings.kek_bytes
    assert crypto.decrypt(kek, row.secret_encrypted, f"totp:{user.id}".encode()).decode() == secret
    with pytest.raises(Exception):  # bound to its user: cannot be moved to another row  # noqa: B017
        crypto.decrypt(kek, row.secret_encrypted, b"totp:999")


def test_one_step_either_side_is_accepted_two_are_not(app, user):
    secret = enrol_totp(app, user)
    clock.advance(2 * totp.STEP)  # the step before now is then later than the enrolment's
    with app.app_context():
        settings = current().settings
        for steps in (2, -2):
            with pytest.raises(SecondFactorFailed):
                totp.verify(settings, user.id, _code(secret, steps))
        totp.verify(settings, user.id, _code(secret, -1))
        totp.verify(settings, user.id, _code(secret, 0))
        totp.verify(settings, user.id, _code(secret, 1))


def test_a_time_step_is_accepted_once_and_earlier_steps_never_after(app, user):
    secret = enrol_totp(app, user)
    with app.app_context():
        settings = current().settings
        code = totp_now(secret)
        totp.verify(settings, user.id, code)
        with pytest.raises(SecondFactorFailed, match="already used"):
            totp.verify(settings, user.id, code)
        totp.verify(settings, user.id, _code(secret, 1))
        with pytest.raises(SecondFactorFailed):
            totp.verify(settings, user.id, _code(secret, 0))  # older than the last accepted step


def test_the_enrolment_code_cannot_be_replayed_to_sign_in(ctx, user):
    settings = current().settings
    secret = totp.begin(settings, user).secret
    code = _code(secret)
    totp.confirm(settings, user.id, code)
    with pytest.raises(SecondFactorFailed):
        totp.verify(settings, user.id, code)


def test_malformed_codes_are_refused(app, user):
    enrol_totp(app, user)
    with app.app_context():
        for bad in ("", "12345", "1234567", "abcdef", "12 34 5x"):
            with pytest.raises(SecondFactorFailed):
                totp.verify(current().settings, user.id, bad)


def test_concurrent_uses_of_one_code_accept_exactly_one(app, user):
    """RFC 6238 §5.2: the same OTP must not be accepted twice, also when requests race."""
    secret = enrol_totp(app, user)
    code = totp_now(secret)
    racers = 8

    def attempt() -> bool:
        with app.app_context():
            try:
                totp.verify(current().settings, user.id, code)
                return True
            except SecondFactorFailed:
                return False
            finally:
                db.session.remove()

    outcomes = race(attempt, racers)
    assert sorted(outcomes) == [False] * (racers - 1) + [True]


def test_disable_removes_the_secret(app, user):
    enrol_totp(app, user)
    with app.app_context():
        assert totp.disable(user.id)
        assert not totp.is_enabled(user.id)
        assert db.session.scalars(select(TotpCredential)).first() is None
