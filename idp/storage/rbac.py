"""Roles and groups (RBAC) and their assignment to users."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Role(db.Model):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(String(500), default="", server_default="", nullable=False)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)


class Group(db.Model):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(String(500), default="", server_default="", nullable=False)
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True, index=True)


class UserGroup(db.Model):
    __tablename__ = "user_groups"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True)


KINDS = {"role": (Role, UserRole, "role_id"), "group": (Group, UserGroup, "group_id")}


def all_of(kind: str) -> list:
    model = KINDS[kind][0]
    return list(db.session.scalars(select(model).order_by(model.name)))


def by_name(kind: str, name: str):
    model = KINDS[kind][0]
    return db.session.scalars(select(model).where(model.name == name)).first()


def add(row):
    db.session.add(row)
    db.session.flush()
    return row


def remove(row) -> None:
    model, link, column = KINDS["role" if isinstance(row, Role) else "group"]
    db.session.execute(delete(link).where(getattr(link, column) == row.id))
    db.session.delete(row)


def names_of_user(kind: str, user_id: int) -> list[str]:
    model, link, column = KINDS[kind]
    query = (select(model.name).join(link, getattr(link, column) == model.id).where(link.user_id == user_id)
             .order_by(model.name))
    return list(db.session.scalars(query))


def member_ids(kind: str, row_id: int) -> list[int]:
    _, link, column = KINDS[kind]
    return list(db.session.scalars(select(link.user_id).where(getattr(link, column) == row_id)))


def set_for_user(kind: str, user_id: int, row_ids: list[int]) -> None:
    _, link, column = KINDS[kind]
    db.session.execute(delete(link).where(link.user_id == user_id))
    for row_id in row_ids:
        db.session.add(link(user_id=user_id, **{column: row_id}))
    db.session.flush()
