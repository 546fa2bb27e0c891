"""Batch deletion of rows whose lifetime has ended: codes, tokens, device codes, interactions,
sessions, logout requests, e-mailed links, initial access tokens, WebAuthn challenges and (after 30
days) finished back-channel deliveries.
Each call deletes at most `limit` rows, so a purge never holds long locks."""

from __future__ import annotations

from sqlalchemy import delete, select

from ..extensions import db
from .backchannel import DELIVERED, FAILED, BackchannelDelivery
from .codes import AuthorizationCode
from .device import DeviceCode
from .interactions import Interaction
from .logout_requests import LogoutRequest
from .mail import PENDING as MAIL_PENDING
from .mail import MailMessage
from .mfa import WebAuthnChallenge
from .password_links import InitialAccessToken, PasswordLink
from .pushed_requests import PushedRequest
from .replay import SeenJti
from .sessions import SsoSession
from .throttle import ThrottleCounter
from .tokens import Token
from .users import User


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


def expired_logout_requests(now: int, limit: int) -> int:
    return _delete_batch(LogoutRequest, LogoutRequest.expires_at < now, limit)


def expired_password_links(now: int, limit: int) -> int:
    """Set-password, reset, invitation, e-mail verification and magic links past their lifetime, used or not."""
    return _delete_batch(PasswordLink, PasswordLink.expires_at < now, limit)


def expired_initial_access_tokens(now: int, limit: int) -> int:
    return _delete_batch(InitialAccessToken, InitialAccessToken.expires_at < now, limit)


def expired_webauthn_challenges(now: int, limit: int) -> int:
    return _delete_batch(WebAuthnChallenge, WebAuthnChallenge.expires_at < now, limit)


# Finished back-channel deliveries are kept this long as the record of what was sent or failed.
DELIVERY_RETENTION = 30 * 86400


def finished_deliveries(now: int, limit: int) -> int:
    condition = BackchannelDelivery.status.in_((DELIVERED, FAILED)) & (
        BackchannelDelivery.created_at < now - DELIVERY_RETENTION)
    return _delete_batch(BackchannelDelivery, condition, limit)


def finished_mail(now: int, limit: int) -> int:
    condition = (MailMessage.status != MAIL_PENDING) & (MailMessage.created_at < now - DELIVERY_RETENTION)
    return _delete_batch(MailMessage, condition, limit)


def due_account_deletions(now: int, limit: int) -> int:
    """Accounts whose owner asked for deletion and whose grace period is over (and which are still
    disabled: an administrator re-enabling one cancels the deletion)."""
    condition = User.deletion_due_at.is_not(None) & (User.deletion_due_at <= now) & User.enabled.is_(False)
    return _delete_batch(User, condition, limit)


def ended_throttle_windows(now: int, limit: int) -> int:
    return _delete_batch(ThrottleCounter, ThrottleCounter.window_ends_at < now, limit)


def expired_pushed_requests(now: int, limit: int) -> int:
    return _delete_batch(PushedRequest, PushedRequest.expires_at < now, limit)


def expired_jtis(now: int, limit: int) -> int:
    return _delete_batch(SeenJti, SeenJti.expires_at < now, limit)
