"""Compose the mails people get: subject, text and HTML bodies from templates/mail/<kind>.txt and
.html (one shared layout with the product's branding), every link built from the configured issuer
(`http.issuer_url`), then handed to the outbox (services.mail) inside the caller's transaction."""

from __future__ import annotations

from flask import render_template

from .i18n import _
from .services import mail
from .services.runtime import current

SUBJECTS = {
    "test": lambda c: _("Test message from %(product)s", product=c["product_name"]),
    "password_reset": lambda c: _("Reset your %(product)s password", product=c["product_name"]),
    "invitation": lambda c: _("You are invited to %(product)s", product=c["product_name"]),
    "set_password": lambda c: _("Set your %(product)s password", product=c["product_name"]),
    "verify_email": lambda c: _("Confirm your e-mail address"),
    "email_changed": lambda c: _("Your e-mail address is being changed"),
    "magic_link": lambda c: _("Your %(product)s sign-in link", product=c["product_name"]),
    "account_exists": lambda c: _("Someone tried to sign up with your address"),
    "account_deleted": lambda c: _("Your %(product)s account is being deleted", product=c["product_name"]),
}


def render(kind: str, **context) -> tuple[str, str, str]:
    """(subject, text, html) of a mail of this kind."""
    context.setdefault("product_name", current().settings.product_name.strip())
    context.setdefault("issuer", current().settings.issuer)
    return (SUBJECTS[kind](context), render_template(f"mail/{kind}.txt", **context),
            render_template(f"mail/{kind}.html", **context))


def compose(kind: str, to: str, *, user_id: int | None = None, send: bool = True, **context) -> str:
    """Render and queue a mail (not committed). `send=False` does the same work but records the message
    as suppressed, so a request for an unknown address takes as long as one for a known address."""
    subject, text, html = render(kind, **context)
    return mail.enqueue(current().settings, kind=kind, to=to, subject=subject, text=text, html=html,
                        user_id=user_id, send=send)


def invitation(inv) -> None:
    """Queue an invitation or an operator's set-password link (services.invitations.InvitationMail)."""
    from . import http

    settings = current().settings
    ttl = settings.invitation_ttl if inv.kind == "invitation" else settings.password_link_ttl
    compose(inv.kind, inv.to, user_id=inv.user_id, username=inv.username,
            url=http.issuer_url("account.set_password", token=inv.token), days=max(1, ttl // 86400),
            hours=max(1, ttl // 3600))


def verification(to: str, username: str, token: str, *, user_id: int | None = None, uid: str | None = None,
                 old_address: str | None = None) -> None:
    """Queue an address confirmation link (carrying the interaction `uid` to continue, if any) and, for
    a change, the notice to the old address."""
    from . import http

    extra = {"uid": uid} if uid else {}
    compose("verify_email", to, user_id=user_id, username=username, address=to,
            hours=current().settings.email_verification_ttl // 3600,
            url=http.issuer_url("account.verify_email", token=token, **extra))
    if old_address:
        compose("email_changed", old_address, user_id=user_id, username=username, address=to)


def verify_mail(verify) -> None:
    """Queue a services.email_verification.VerifyMail."""
    verification(verify.to, verify.username, verify.token, old_address=verify.old_address)
