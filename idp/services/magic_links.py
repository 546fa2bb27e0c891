"""Magic-link sign-in (setting `magic_link`, off by default): a single-use link, mailed on request
(services.password_reset.request with purpose "magic": the same answer for every name, the same
throttle), expiring after `magic_link_ttl` (10 minutes), and bound to the browser that asked for it —
opened in another browser it signs nobody in, but that browser may ask to use it, and the browser that
asked for the link may allow it (the link then moves to the other browser). It counts as one factor
(`amr` ["email"], the password level), never as a second factor: the policy still asks for a second
factor where one is required."""

from __future__ import annotations

from ..errors import ValidationError
from ..extensions import db
from ..storage import password_links as store
from ..types import UserView
from . import audit, clock, crypto, email_links, users
from .text import N_

AMR = "email"


class OtherBrowser(ValidationError):
    """The link was opened in another browser than the one that asked for it."""


def check(token: str, browser_secret: str | None) -> UserView:
    """The account a live magic link signs in, in this browser; ValidationError otherwise."""
    link = email_links.find(token, (email_links.MAGIC,))
    user = users.get_enabled(link.user_id) if link else None
    if link is None or user is None:
        raise ValidationError(N_("This sign-in link has expired or has already been used."))
    if not browser_secret or not link.browser_hash or \
            not crypto.constant_time_equal(link.browser_hash, crypto.lookup_hash(browser_secret)):
        raise OtherBrowser(N_("This link was asked for in another browser."))
    return user


def use(token: str, browser_secret: str | None, *, origin: audit.Origin | None,
        client_id: str | None = None) -> UserView:
    """Use the link once (the caller then starts a one-factor session)."""
    user = check(token, browser_secret)
    link = email_links.find(token, (email_links.MAGIC,))
    if link is None or not email_links.claim(link):
        db.session.rollback()
        raise ValidationError(N_("This sign-in link has expired or has already been used."))
    audit.record("login.magic_link", origin=origin, actor_user_id=user.id, client_id=client_id, commit=False)
    db.session.commit()
    return user


def ask_from_other_browser(token: str, browser_secret: str) -> None:
    """Another browser opened the link: record that it asks to use it (the asking browser decides)."""
    link = email_links.find(token, (email_links.MAGIC,))
    if link is None:
        raise ValidationError(N_("This sign-in link has expired or has already been used."))
    store.ask_transfer(link.id, crypto.lookup_hash(browser_secret))
    db.session.commit()


def waiting(browser_secret: str | None) -> list[int]:
    """Ids of this browser's live links that another browser asks to use."""
    if not browser_secret:
        return []
    return [row.id for row in store.waiting_transfers(crypto.lookup_hash(browser_secret), clock.now())]


def decide(link_id: int, browser_secret: str | None, *, allow: bool, origin: audit.Origin | None) -> bool:
    """The browser that asked for the link allows or refuses another browser's request to use it."""
    if not browser_secret:
        return False
    done = store.decide_transfer(link_id, crypto.lookup_hash(browser_secret), allow)
    if done:
        audit.record("login.magic_link_transfer", outcome=audit.SUCCESS if allow else audit.FAILURE, origin=origin,
                     reason=None if allow else "refused by the browser that asked for the link", commit=False)
    db.session.commit()
    return done
