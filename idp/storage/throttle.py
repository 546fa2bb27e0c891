"""Attempt counters for throttling: one row per key (a SHA-256 of what is counted, e.g. a submitted
user name or an IP address), counting the attempts of the current fixed window. Reserving an attempt
is a conditional UPDATE, so concurrent attempts cannot all slip under the limit."""

from __future__ import annotations

from sqlalchemy import Integer, String, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ThrottleCounter(db.Model):
    __tablename__ = "throttle_counters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    window_ends_at: Mapped[int] = mapped_column(Integer, nullable=False, index=True)


def _ensure(key_hash: str, now: int) -> None:
    """Create the key's row (an empty, already-ended window) unless it exists; safe under races."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(insert(ThrottleCounter).values(key_hash=key_hash, count=0, window_ends_at=now)
                       .on_conflict_do_nothing(index_elements=["key_hash"]))


def take(key_hash: str, limit: int, window: int, now: int) -> int:
    """Count one attempt for the key if its window has room: 0 when counted, else the seconds until
    the window ends. Runs in the caller's transaction; each step is one conditional UPDATE, which
    both SQLite (one writer at a time) and PostgreSQL (the WHERE re-checked on the locked row) apply
    atomically."""
    _ensure(key_hash, now)
    key = ThrottleCounter.key_hash == key_hash
    restarted = db.session.execute(update(ThrottleCounter).where(key, ThrottleCounter.window_ends_at <= now)
                                   .values(count=1, window_ends_at=now + window))
    if restarted.rowcount == 1:
        return 0
    counted = db.session.execute(update(ThrottleCounter)
                                 .where(key, ThrottleCounter.window_ends_at > now, ThrottleCounter.count < limit)
                                 .values(count=ThrottleCounter.count + 1))
    if counted.rowcount == 1:
        return 0
    ends = db.session.scalar(select(ThrottleCounter.window_ends_at).where(key))
    return max(1, (ends or now) - now)


def give_back(key_hash: str) -> None:
    """Un-count one attempt (it turned out not to be a failure)."""
    db.session.execute(update(ThrottleCounter).where(ThrottleCounter.key_hash == key_hash,
                                                     ThrottleCounter.count > 0)
                       .values(count=ThrottleCounter.count - 1))


def clear(key_hash: str) -> None:
    db.session.execute(delete(ThrottleCounter).where(ThrottleCounter.key_hash == key_hash))


def counted(key_hash: str, now: int) -> int:
    """Attempts counted in the key's current window."""
    row = db.session.scalars(select(ThrottleCounter).where(ThrottleCounter.key_hash == key_hash)).first()
    return row.count if row is not None and row.window_ends_at > now else 0
