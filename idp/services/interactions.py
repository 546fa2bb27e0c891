"""Interactions: the stored authorization request a person completes on the login and consent
pages. Bound to the browser that started it; single-use; expiring."""

from __future__ import annotations

from ..extensions import db
from ..storage import interactions as store
from ..types import InteractionView
from . import clock, crypto


def _view(row: store.Interaction) -> InteractionView:
    return InteractionView(
        uid=row.uid, client_id=row.client_id, params=dict(row.params), prompt=row.prompt,
        consent_scopes=tuple(row.consent_scopes or ()),
        login_user_id=row.login_user_id, login_at=row.login_at, consent_given=row.consent_given,
        account_selected=row.account_selected, expires_at=row.expires_at, device_code_id=row.device_code_id,
        denied=row.denied,
    )


def start(settings, *, client_id: str, params: dict, prompt: str, consent_scopes: list[str],
          browser_secret: str, device_code_id: int | None = None) -> str:
    now = clock.now()
    uid = crypto.random_token(24)
    store.add(store.Interaction(
        uid=uid, browser_hash=crypto.lookup_hash(browser_secret), client_id=client_id, params=params,
        prompt=prompt, consent_scopes=consent_scopes, device_code_id=device_code_id, created_at=now,
        expires_at=now + settings.interaction_ttl,
    ))
    db.session.commit()
    return uid


def _live(uid: str, browser_secret: str | None) -> store.Interaction | None:
    if not uid or len(uid) > 64 or not browser_secret:
        return None
    row = store.find(uid)
    if row is None or row.completed_at is not None or clock.now() >= row.expires_at:
        return None
    if not crypto.constant_time_equal(row.browser_hash, crypto.lookup_hash(browser_secret)):
        return None
    return row


def get(uid: str, browser_secret: str | None) -> InteractionView | None:
    row = _live(uid, browser_secret)
    return _view(row) if row else None


def set_prompt(uid: str, browser_secret: str | None, prompt: str) -> None:
    row = _live(uid, browser_secret)
    if row:
        row.prompt = prompt
        db.session.commit()


def record_login(uid: str, browser_secret: str | None, user_id: int) -> None:
    row = _live(uid, browser_secret)
    if row:
        row.login_user_id, row.login_at, row.account_selected = user_id, clock.now(), True
        db.session.commit()


def record_account_selected(uid: str, browser_secret: str | None) -> None:
    row = _live(uid, browser_secret)
    if row:
        row.account_selected = True
        db.session.commit()


def record_consent(uid: str, browser_secret: str | None, granted: bool) -> None:
    row = _live(uid, browser_secret)
    if row:
        row.consent_given, row.denied = granted, not granted
        db.session.commit()


def complete(uid: str, browser_secret: str | None) -> bool:
    """Close the interaction exactly once (a conditional UPDATE, like code redemption); True only for
    the one caller that closed it, however many resume it concurrently."""
    if not uid or len(uid) > 64 or not browser_secret:
        return False
    closed = store.complete(uid, crypto.lookup_hash(browser_secret), clock.now())
    db.session.commit()
    return closed
