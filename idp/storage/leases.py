"""Cluster-wide leases: one row per background job. Whoever moves a lease's expiry forward with a
conditional UPDATE holds it until then; every process and node of one database sees the same rows,
so a job guarded by a lease runs once per cluster, never once per worker."""

from __future__ import annotations

from sqlalchemy import Integer, String, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Lease(db.Model):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128), nullable=False)
    expires_at: Mapped[int] = mapped_column(Integer, nullable=False)


def claim(name: str, holder: str, now: int, until: int) -> bool:
    """Take the lease `name` until `until` if it has expired (or never existed). Commits. Of any
    number of processes claiming at once exactly one succeeds (conditional UPDATE / unique INSERT)."""
    taken = db.session.execute(
        update(Lease).where(Lease.name == name, Lease.expires_at <= now)
        .values(holder=holder, expires_at=until)
    ).rowcount
    if taken:
        db.session.commit()
        return True
    if db.session.get(Lease, name) is not None:
        db.session.rollback()
        return False
    try:
        db.session.add(Lease(name=name, holder=holder, expires_at=until))
        db.session.commit()
        return True
    except IntegrityError:  # another process created it first: theirs
        db.session.rollback()
        return False


def release(name: str, holder: str) -> None:
    db.session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=0))
    db.session.commit()
