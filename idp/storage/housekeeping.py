"""Batch deletion of rows whose lifetime has ended: codes, tokens, device codes, interactions and
sessions. Each call deletes at most `limit` rows, so a purge never holds long locks."""

from __future__ import annotations

from sqlalchemy import delete, select

from ..extensions import db
from .codes import AuthorizationCode
from .device import DeviceCode
from .interactions import Interaction
from .sessions import SsoSession
from .tokens import Token


def _delete_batch(model, condition, limit: int) -> int:
    ids = list(db.session.scalars(select(model.id).where(condition).limit(limit)))
    if not ids:
        return 0
    return db.session.execute(delete(model).where(model.id.in_(ids))).rowcount


def expired_tokens(now: int, limit: int) -> int:
    return _delete_batch(Token, Token.expires_at < now, limit)


def expired_codes(now: int, limit: int) -> int:
    return _delete_batch(AuthorizationCode, AuthorizationCode.expires_at < now, limit)


def expired_device_codes(now: int, limit: int) -> int:
    return _delete_batch(DeviceCode, DeviceCode.expires_at < now, limit)


def expired_interactions(now: int, limit: int) -> int:
    return _delete_batch(Interaction, Interaction.expires_at < now, limit)


def ended_sessions(now: int, limit: int) -> int:
    return _delete_batch(SsoSession, SsoSession.expires_at < now, limit)
