"""Authenticator apps: time-based one-time passwords (RFC 6238) with pyotp. Enrolment and
verification side by side.

* The secret is stored encrypted (AES-256-GCM under the key-encryption key, bound to the user).
* Enrolment stays pending until the person enters a valid code from their app.
* A code is accepted for the current time step or one step either side (RFC 6238 §5.2), and each
  time step is accepted at most once: the last accepted step is advanced with a conditional UPDATE,
  so of two concurrent requests presenting the same code exactly one succeeds (§5.2: "MUST NOT
  accept the second attempt of the same OTP")."""

from __future__ import annotations

from urllib.parse import urlsplit

import pyotp
import segno

from ...errors import SecondFactorFailed, ValidationError
from ...extensions import db
from ...storage import mfa as store
from ...types import TotpEnrolment, UserView
from .. import clock, crypto
from ..text import N_

STEP = 30  # seconds (RFC 6238 §5.2 recommends 30)
DIGITS = 6
WINDOW = 1  # accepted steps either side of the current one


def _aad(user_id: int) -> bytes:
    return f"totp:{user_id}".encode()


def _secret(settings, row: store.TotpCredential) -> str:
    return crypto.decrypt(settings.kek_bytes, row.secret_encrypted, _aad(row.user_id)).decode("ascii")


# The QR code's accessible name (its SVG <title>): the page passes it in its own language.
QR_TITLE = N_("QR code for your authenticator app")


def _enrolment(settings, user: UserView, secret: str, qr_title: str) -> TotpEnrolment:
    issuer_name = urlsplit(settings.issuer).hostname or "idp"
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP).provisioning_uri(name=user.username,
                                                                            issuer_name=issuer_name)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title=qr_title)  # segno escapes the title
    return TotpEnrolment(secret=secret, uri=uri, qr_svg=svg)


def is_enabled(user_id: int) -> bool:
    row = store.totp_of(user_id)
    return bool(row and row.confirmed_at is not None)


def begin(settings, user: UserView, qr_title: str = QR_TITLE) -> TotpEnrolment:
    """Start (or show again) a pending enrolment: a new secret the app has to prove it holds."""
    row = store.totp_of(user.id)
    if row is not None and row.confirmed_at is not None:
        raise ValidationError(N_("An authenticator app is already set up. Remove it first to set up another."))
    if row is None:
        secret = pyotp.random_base32()  # 160 bits, as RFC 4226 §4 recommends
        row = store.TotpCredential(user_id=user.id, secret_encrypted=crypto.encrypt(settings.kek_bytes,
                                   secret.encode("ascii"), _aad(user.id)), last_used_step=0,
                                   created_at=clock.now())
        db.session.add(row)
        db.session.commit()
        return _enrolment(settings, user, secret, qr_title)
    return _enrolment(settings, user, _secret(settings, row), qr_title)


def _matching_step(secret: str, code: str) -> int | None:
    """The time step within the window whose code equals `code` (every candidate is compared, in
    constant time, whatever matched before)."""
    code = "".join((code or "").split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP)
    now_step = clock.now() // STEP
    matched = None
    for step in range(now_step - WINDOW, now_step + WINDOW + 1):
        if crypto.constant_time_equal(totp.generate_otp(step), code):
            matched = step
    return matched


def _use(settings, row: store.TotpCredential, code: str) -> None:
    step = _matching_step(_secret(settings, row), code)
    if step is None:
        raise SecondFactorFailed("wrong authenticator-app code")
    if not store.advance_totp_step(row.id, step):
        db.session.rollback()
        raise SecondFactorFailed("authenticator-app code already used")


def confirm(settings, user_id: int, code: str) -> None:
    """Finish enrolment with a code from the app; raises SecondFactorFailed if it is wrong."""
    row = store.totp_of(user_id)
    if row is None or row.confirmed_at is not None:
        raise ValidationError(N_("There is no authenticator-app set-up in progress. Start again."))
    _use(settings, row, code)
    row.confirmed_at = clock.now()
    db.session.commit()


def verify(settings, user_id: int, code: str) -> None:
    """Check a sign-in code; raises SecondFactorFailed when wrong or already used."""
    row = store.totp_of(user_id)
    if row is None or row.confirmed_at is None:
        raise SecondFactorFailed("no authenticator app is set up")
    _use(settings, row, code)
    db.session.commit()


def disable(user_id: int) -> bool:
    removed = store.delete_totp(user_id) > 0
    db.session.commit()
    return removed
