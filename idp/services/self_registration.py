"""Self-registration (README "Self-service by e-mail"), only when the setting `registration` is
"open": the account is created with its password (length and common-password rules), unconfirmed,
and a verification link is mailed — all in one transaction. Until the link is used the policy stops
every sign-in of the account at the confirmation step (policy.email_verification).

The answer does not say whether an address already has an account: for a taken address the owner is
told by mail that someone tried to sign up with it, and the page is the same "check your e-mail".
Sign-ups count against the client IP address in the one throttle; a filled-in honeypot field (a
field people do not see) gets the same page and creates nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import ValidationError
from ..extensions import db
from ..storage import users as user_store
from ..types import UserView
from . import audit, email_links, mail, throttle, users
from .passwords import Passwords, check_strength
from .text import N_

WINDOW = 3600


@dataclass(frozen=True)
class SignUpMail:
    """A verification link for the new account (`token`), or a notice to an existing account's owner."""

    to: str
    username: str
    token: str | None = field(default=None, repr=False)
    user_id: int | None = None


@dataclass(frozen=True)
class SignUp:
    username: str
    email: str
    password: str = field(repr=False)
    honeypot: str = ""
    locale: str | None = None  # the language of the sign-up page: the account's `locale` claim


def allowed_domain(settings, address: str) -> bool:
    domains = settings.registration_domains
    return not domains or address.rpartition("@")[2] in domains


def register(settings, passwords: Passwords, form: SignUp, *, origin: audit.Origin,
             notify: Callable[[SignUpMail], None]) -> UserView | None:
    """Create the account and mail its verification link; None when nothing was created but the
    person sees the same answer (a taken address, the honeypot). ValidationError for input the
    person can correct; Throttled for too many sign-ups from the address."""
    if settings.registration != "open":
        raise ValidationError(N_("Registration is closed."))
    address = mail.clean_address(form.email)
    if not allowed_domain(settings, address):
        raise ValidationError(N_("Accounts can only be created with an e-mail address of: %(domains)s."),
                              field="email", domains=", ".join(sorted(settings.registration_domains)))
    if "@" in form.username and form.username.strip().lower() != address:
        # Sign-in takes a username or an e-mail address, so a username may not be another user's address;
        # refusing one as taken would tell whether that address has an account here.
        raise ValidationError(N_("A username with @ in it must be your own e-mail address."))
    reason = check_strength(form.password, avoid=(form.username.strip(), address, address.partition("@")[0]))
    if reason:
        raise ValidationError(reason)
    throttle.reserve([throttle.Key("register.ip", origin.ip_address or "", settings.registration_max_per_ip,
                                   WINDOW)])
    if form.honeypot:
        audit.record("account.register", outcome=audit.FAILURE, origin=origin, reason="honeypot filled in")
        return None
    existing = user_store.find_by_login(address)
    if existing is not None:
        notify(SignUpMail(address, existing.username, None, existing.id))
        audit.record("account.register", outcome=audit.FAILURE, origin=origin, subject_user_id=existing.id,
                     reason="address already has an account", commit=False)
        db.session.commit()
        return None
    user = users.add_without_password(username=form.username, email=address,  # ValidationError: name taken
                                      claims={"locale": form.locale} if form.locale else None)
    row = user_store.get(user.id)
    row.password_hash, row.must_verify_email = passwords.hash(form.password), True
    token = email_links.issue(user.id, email_links.VERIFY_EMAIL, settings.email_verification_ttl, email=address)
    notify(SignUpMail(address, user.username, token, user.id))
    audit.record("account.register", origin=origin, actor_user_id=user.id, details={"email": address},
                 commit=False)
    db.session.commit()
    return users.view(row)
