"""Compose the mails people get: subject, text and HTML bodies from templates/mail/<kind>.txt and
.html (one shared layout with the product's branding), every link built from the configured issuer
(`http.issuer_url`), then handed to the outbox (services.mail) inside the caller's transaction.

A mail is written in its recipient's language (`language`), never in the language of whoever's page
caused it: an operator reading the console in German invites an English speaker in English."""

from __future__ import annotations

from flask import has_request_context, render_template
from flask_babel import force_locale

from . import i18n
from .i18n import _
from .services import mail, users
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


def language(user_id: int | None, *, by_recipient: bool) -> str:
    """The language of a mail (the one rule): the recipient's `locale` claim when it names a complete
    catalogue; else, when the recipient is the person making this request (`by_recipient`: forgot
    password, sign-in link, their own address, sign-up), the language of the page they are on; else
    (an operator's invitation or set-password link, a notice to an old address, the CLI) the default,
    English — never the language of an operator's page. An invitation's chosen language is the invited
    account's `locale` claim, so it is the first rule that applies."""
    # A known recipient's row is already loaded by whatever found them (no extra query), so a request
    # for an unknown address still does the same work as one for a known address.
    user = users.get(user_id) if user_id is not None else None
    claimed = i18n.complete(user.claims.get("locale")) if user is not None else None
    if claimed is not None:
        return claimed
    if by_recipient and has_request_context():
        return i18n.language()
    return i18n.DEFAULT


def render(kind: str, lang: str = i18n.DEFAULT, **context) -> tuple[str, str, str]:
    """(subject, text, html) of a mail of this kind, in `lang` (words and any dates)."""
    context.setdefault("product_name", current().settings.product_name.strip())
    context.setdefault("issuer", current().settings.issuer)
    with force_locale(lang):
        return (SUBJECTS[kind](context), render_template(f"mail/{kind}.txt", mail_lang=lang, **context),
                render_template(f"mail/{kind}.html", mail_lang=lang, **context))


def compose(kind: str, to: str, *, by_recipient: bool, user_id: int | None = None, send: bool = True,
            **context) -> str:
    """Render and queue a mail (not committed) in the recipient's `language`. `send=False` does the same
    work but records the message as suppressed, so a request for an unknown address takes as long as
    one for a known address."""
    lang = language(user_id, by_recipient=by_recipient)
    subject, text, html = render(kind, lang, **context)
    return mail.enqueue(current().settings, kind=kind, to=to, subject=subject, text=text, html=html,
                        user_id=user_id, send=send, language=lang)


def invitation(inv) -> None:
    """Queue an invitation or an operator's set-password link (services.invitations.InvitationMail)."""
    from . import http

    settings = current().settings
    ttl = settings.invitation_ttl if inv.kind == "invitation" else settings.password_link_ttl
    compose(inv.kind, inv.to, by_recipient=False, user_id=inv.user_id, username=inv.username,
            url=http.issuer_url("account.set_password", token=inv.token), days=max(1, ttl // 86400),
            hours=max(1, ttl // 3600))


def verification(to: str, username: str, token: str, *, by_recipient: bool, user_id: int | None = None,
                 uid: str | None = None, old_address: str | None = None) -> None:
    """Queue an address confirmation link (carrying the interaction `uid` to continue, if any) and, for
    a change, the notice to the old address (whose reader may not be the person at this browser, so
    it is never in this page's language)."""
    from . import http

    extra = {"uid": uid} if uid else {}
    compose("verify_email", to, by_recipient=by_recipient, user_id=user_id, username=username, address=to,
            hours=current().settings.email_verification_ttl // 3600,
            url=http.issuer_url("account.verify_email", token=token, **extra))
    if old_address:
        compose("email_changed", old_address, by_recipient=False, user_id=user_id, username=username, address=to)


def verify_mail(verify) -> None:
    """Queue a services.email_verification.VerifyMail the person asked for (their own address)."""
    verification(verify.to, verify.username, verify.token, by_recipient=True, user_id=verify.user_id,
                 old_address=verify.old_address)


def operator_verify_mail(verify) -> None:
    """Queue a VerifyMail caused by an operator's edit (never in the operator's page language)."""
    verification(verify.to, verify.username, verify.token, by_recipient=False, user_id=verify.user_id,
                 old_address=verify.old_address)
