"""Invitations (README "Self-service by e-mail"): an operator (console or admin API, each asking
services.authorization first) invites a person by e-mail. The account is created without a
password, together with a single-use invitation link and its mail, in one transaction; the link lets
the person choose a password (and confirms the address it reached). A second factor, where the
account requires one, is set up at the first sign-in (the policy's enrolment step)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import ValidationError
from ..extensions import db
from ..types import UserView
from . import audit, email_links, mail, users
from .text import N_


@dataclass(frozen=True)
class InvitationMail:
    to: str
    username: str
    token: str = field(repr=False)
    user_id: int
    kind: str = "invitation"  # or "set_password": an operator's link for an account that has a password


def invite(settings, *, username: str, email: str, claims: dict | None = None, actor_user_id: int | None,
           client_id: str | None = None, origin: audit.Origin | None,
           notify: Callable[[InvitationMail], None]) -> UserView:
    """Create the invited account, its link and its mail; ValidationError for bad or taken input."""
    if not isinstance(email, str) or not email:
        raise ValidationError(N_("An invitation needs an e-mail address."))
    address = mail.clean_address(email)
    user = users.add_without_password(username=username, email=address, claims=claims)
    token = email_links.issue(user.id, email_links.INVITATION, settings.invitation_ttl)
    notify(InvitationMail(address, user.username, token, user.id))
    audit.record("admin.user.invite", origin=origin, actor_user_id=actor_user_id, client_id=client_id,
                 subject_user_id=user.id, details={"email": address}, commit=False)
    db.session.commit()
    return user


def resend(settings, user_id: int, *, notify: Callable[[InvitationMail], None]) -> InvitationMail:
    """A new set-password link mailed to the account's address (an operator's "send a set-password
    link"); not committed. ValidationError when the account has no address."""
    user = users.get(user_id)
    if user is None or not user.email:
        raise ValidationError(N_("This account has no e-mail address to send a link to."))
    purpose = email_links.SET_PASSWORD if users.has_password(user_id) else email_links.INVITATION
    ttl = settings.password_link_ttl if purpose == email_links.SET_PASSWORD else settings.invitation_ttl
    out = InvitationMail(user.email, user.username, email_links.issue(user_id, purpose, ttl), user_id,
                         "set_password" if purpose == email_links.SET_PASSWORD else "invitation")
    notify(out)
    db.session.commit()
    return out
