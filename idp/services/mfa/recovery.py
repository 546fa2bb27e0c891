"""Recovery codes: ten one-time codes to get in when the second factor is lost. Shown once, stored
as SHA-256 hashes (each code carries 80 random bits, so no slow hash is needed), each usable once
(a conditional UPDATE decides concurrent uses); generating new ones invalidates the old."""

from __future__ import annotations

import base64
import os

from ...errors import SecondFactorFailed
from ...extensions import db
from ...storage import mfa as store
from .. import clock, crypto

COUNT = 10


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _new_code() -> str:
    raw = base64.b32encode(os.urandom(10)).decode("ascii").lower()  # 16 characters, 80 bits
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def generate(user_id: int) -> list[str]:
    """Replace the user's recovery codes with ten new ones, returned once for display."""
    codes = [_new_code() for _ in range(COUNT)]
    store.replace_recovery_codes(user_id, [crypto.lookup_hash(_normalise(c)) for c in codes], clock.now())
    db.session.commit()
    return codes


def remaining(user_id: int) -> int:
    return store.recovery_codes_left(user_id)


def use(user_id: int, code: str) -> None:
    """Spend one recovery code; raises SecondFactorFailed if it is wrong or was used."""
    normalised = _normalise(code)
    if len(normalised) != 16 or not store.use_recovery_code(user_id, crypto.lookup_hash(normalised), clock.now()):
        db.session.rollback()
        raise SecondFactorFailed("wrong or already used recovery code")
    db.session.commit()


def remove_all(user_id: int) -> None:
    store.delete_recovery_codes(user_id)
    db.session.commit()
