"""One throttle for every guessable secret (passwords, second factors, passkeys, device user codes),
stored in the database so every server process sees the same counts (ASVS 2.2.1).

Reserve, then verify: `reserve` counts the attempt *before* the secret is checked, atomically for all
its keys (one transaction of conditional UPDATEs), so a burst of concurrent guesses cannot get more
than the limit checked. After a successful check the caller gives the attempt back (`Reservation.
succeeded`): it was not a failure, and the keys that stand for the person are cleared."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from ..errors import Throttled
from ..extensions import db
from ..storage import throttle as store
from . import clock, crypto

# The wait of the last refusal in this request, for the one hook that turns it into `Retry-After`
# on the 429 (RFC 6585 §4) whichever page or form rendered it (operations._finish).
_refused_for: ContextVar[int | None] = ContextVar("throttle_refused_for", default=None)


@dataclass(frozen=True)
class Key:
    """One thing attempts are counted against, e.g. ("password.account", "alice") or ("password.ip",
    "192.0.2.1"), with its limit per window (seconds). `personal` keys (an account, a known browser)
    are cleared when the person succeeds; others (an IP address) only get the attempt back."""

    kind: str
    value: str
    limit: int
    window: int
    personal: bool = False

    @property
    def hash(self) -> str:
        return crypto.lookup_hash(f"{self.kind}\x00{self.value}")


@dataclass(frozen=True)
class Reservation:
    keys: tuple[Key, ...]

    def succeeded(self) -> None:
        """The secret verified: give the attempt back and clear the person's own counters."""
        for key in self.keys:
            (store.clear if key.personal else store.give_back)(key.hash)
        db.session.commit()


def reserve(keys: list[Key]) -> Reservation:
    """Count one attempt against every key, or none if any key is at its limit (then Throttled, with
    the longest wait). Its own transaction, committed before returning so concurrent callers see it:
    call it before making other changes in the request.

    Use: `reservation = reserve(keys)`, then verify the secret; on success `reservation.succeeded()`;
    on failure do nothing (the attempt stays counted)."""
    now = clock.now()
    keys = [k for k in keys if k.value]
    waits = [store.take(k.hash, k.limit, k.window, now) for k in keys]
    if any(waits):
        db.session.rollback()  # all or nothing: a refused attempt counts against no key
        _refused_for.set(max(1, max(waits)))
        raise Throttled(max(waits))
    db.session.commit()
    return Reservation(tuple(keys))


def forget_refusal() -> None:
    """A new request: no refusal yet (called when each request starts)."""
    _refused_for.set(None)


def refused_for() -> int | None:
    """Seconds until the throttle that refused an attempt in this request frees a slot, or None."""
    return _refused_for.get()


def attempts(key: Key) -> int:
    """Attempts counted against the key in its current window (for tests and the admin's view)."""
    return store.counted(key.hash, clock.now())


def message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed attempts. For your security, wait {minutes} {unit} and try again."
