"""Consent decisions: which scopes a user granted to a client."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Consent(db.Model):
    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("user_id", "client_pk", name="uq_consents_user_client"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), nullable=False)
    scopes: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    granted_at: Mapped[int] = mapped_column(Integer, nullable=False)


def find(user_id: int, client_pk: int) -> Consent | None:
    return db.session.scalars(
        select(Consent).where(Consent.user_id == user_id, Consent.client_pk == client_pk)
    ).first()


def add(consent: Consent) -> Consent:
    db.session.add(consent)
    db.session.flush()
    return consent


def for_user(user_id: int) -> list[Consent]:
    query = select(Consent).where(Consent.user_id == user_id).order_by(Consent.granted_at.desc(), Consent.id)
    return list(db.session.scalars(query))


def remove(user_id: int, client_pk: int) -> bool:
    result = db.session.execute(delete(Consent).where(Consent.user_id == user_id, Consent.client_pk == client_pk))
    return result.rowcount > 0
