"""E-mail verification and change (README "Self-service by e-mail"). `email_verified` becomes true
only through a link mailed to the address (or an administrator's audited edit). A change asked for
on the account page (after re-authentication, by the caller) notifies the old address and takes
effect only when the link sent to the new address is used."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from ..errors import ValidationError
from ..extensions import db
from ..storage import users as user_store
from ..types import UserView
from . import audit, clock, email_links, mail, users
from .text import N_


@dataclass(frozen=True)
class VerifyMail:
    to: str
    username: str
    token: str = field(repr=False)
    old_address: str | None  # set for a change: the old address is told about it
    user_id: int | None = None  # whose address: the mail goes out in their language


def start(settings, user_id: int, new_address: str | None, *, origin: audit.Origin | None,
          notify: Callable[[VerifyMail], None]) -> str:
    """Mail a verification link for the account's own address (`new_address` None) or for a new one;
    returns the address. ValidationError for an invalid address or one another account uses."""
    row = user_store.get(user_id)
    if row is None or not row.enabled:
        raise ValidationError(N_("This account no longer exists."))
    address = mail.clean_address(new_address) if new_address is not None else row.email
    if not address:
        raise ValidationError(N_("Your account has no e-mail address."))
    change = address != row.email
    if change:
        other = user_store.find_by_login(address)
        if other is not None and other.id != user_id:
            raise ValidationError(N_("Another account uses that e-mail address."))
    elif row.email_verified:
        raise ValidationError(N_("Your e-mail address is confirmed already."))
    token = email_links.issue(user_id, email_links.VERIFY_EMAIL, settings.email_verification_ttl, email=address)
    notify(VerifyMail(address, row.username, token, row.email if change else None, row.id))
    audit.record("email.change_requested" if change else "email.verification_sent", origin=origin,
                 actor_user_id=user_id, details={"address": address}, commit=False)
    db.session.commit()
    return address


def queue_for_new_address(settings, notify: Callable[[VerifyMail], None]) -> Callable[[UserView], None]:
    """A `before_commit` for an administrator's create or edit: a new, unverified address gets its
    verification link, in the same transaction."""
    def queue(user: UserView) -> None:
        if user.email and not user.email_verified:
            token = email_links.issue(user.id, email_links.VERIFY_EMAIL, settings.email_verification_ttl,
                                      email=user.email)
            notify(VerifyMail(user.email, user.username, token, None, user.id))
    return queue


def pending(token: str) -> tuple[UserView, str] | None:
    """The account and address a live verification link confirms, or None."""
    link = email_links.find(token, (email_links.VERIFY_EMAIL,))
    user = users.get_enabled(link.user_id) if link else None
    return (user, link.email or "") if user is not None else None


def confirm(token: str, *, origin: audit.Origin | None) -> UserView:
    """Use a verification link once: the account's address becomes the link's, verified."""
    link = email_links.find(token, (email_links.VERIFY_EMAIL,))
    if link is None or not email_links.claim(link):
        db.session.rollback()
        raise ValidationError(N_("This link has expired or has already been used."))
    row = user_store.get(link.user_id)
    assert row is not None
    old = row.email
    row.email, row.email_verified, row.updated_at = link.email, True, clock.now()
    audit.record("email.verified", origin=origin, actor_user_id=row.id,
                 details={"address": link.email, **({"previous": old} if old != link.email else {})}, commit=False)
    try:
        db.session.commit()
    except IntegrityError:  # another account took the address meanwhile
        db.session.rollback()
        raise ValidationError(N_("Another account uses that e-mail address now.")) from None
    return users.view(row)
