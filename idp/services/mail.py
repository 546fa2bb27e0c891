"""Mail that is never lost: `enqueue` writes a message to the outbox (storage.mail) inside the
caller's transaction, so the mail exists exactly when the event that causes it was committed; the
once-per-cluster job "mail.send" (services.jobs) sends what is due with `deliver_due`, retrying
failures with a doubling delay up to `mail_max_attempts`, and keeps each row as the delivery record.

Headers are never built from unchecked input: the recipient must be a plain ASCII address without
spaces or control characters, subjects are single lines, and `email.message.EmailMessage` (which
refuses CR/LF in any header) builds the message. With no `smtp_host` the message is written as an
.eml file to <instance>/mail/ and its links are logged (the development set-up)."""

from __future__ import annotations

import json
import logging
import os
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ValidationError
from ..extensions import db
from ..storage import mail as store
from . import clock, crypto, languages
from .text import N_

log = logging.getLogger(__name__)
BATCH = 20
MAX_ADDRESS = 254
ADDRESS_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
PERMANENT = "permanent"


@dataclass(frozen=True)
class Outgoing:
    """A message as the sender sees it (the decrypted body never leaves this module's functions)."""

    row_id: int
    message_id: str
    recipient: str
    subject: str
    attempts: int
    text: str = field(repr=False)
    html: str = field(repr=False)
    language: str | None = None  # the BCP 47 tag the mail is written in (Content-Language)


def clean_address(value: str | None) -> str:
    """The address, trimmed and lower-cased, or ValidationError: at most 254 characters, ASCII, no
    spaces, control characters or anything else a mail header could be tricked with."""
    value = (value or "").strip()
    if len(value) > MAX_ADDRESS:
        raise ValidationError(N_("An e-mail address is at most %(num)d characters."), field="email", num=MAX_ADDRESS)
    if not ADDRESS_RE.match(value) or ".." in value or "." not in value.rpartition("@")[2]:
        raise ValidationError(N_("That e-mail address does not look valid."))
    return value.lower()


def _single_line(value: str, limit: int = 200) -> str:
    """Subjects come from templates that may include names people typed: one line, bounded."""
    return " ".join(value.split())[:limit]


def enqueue(settings, *, kind: str, to: str, subject: str, text: str, html: str, user_id: int | None = None,
            send: bool = True, language: str | None = None) -> str:
    """Add a message to the outbox (not committed: it commits with the caller's event). Returns its
    status: pending, or suppressed when `send` is False (nothing to send, but the same work and record)
    or the address already got `mail_max_per_address_per_hour` messages this hour."""
    to = clean_address(to)
    now = clock.now()
    status = store.PENDING if send else store.SUPPRESSED
    reason = None if send else "not sent: no account with this verified address"
    recent = store.sent_to_since(to, now - 3600)  # also when not sending: the same work either way
    if send and recent >= settings.mail_max_per_address_per_hour:
        status, reason = store.SUPPRESSED, "not sent: hourly limit for this address reached"
    message_id = crypto.random_token(24)
    body = None
    if status == store.PENDING:
        plain = json.dumps({"text": text, "html": html, "language": language}).encode()
        body = crypto.encrypt(settings.kek_bytes, plain, message_id.encode())
    store.add(store.MailMessage(message_id=message_id, kind=kind, user_id=user_id, recipient=to,
                                subject=_single_line(subject), body=body, status=status, attempts=0,
                                next_attempt_at=now, last_error=reason, created_at=now))
    return status


def build(settings, out: Outgoing) -> EmailMessage:
    """The RFC 5322 message: From, To, Subject, Date, Message-ID, Auto-Submitted, Content-Language
    (RFC 3282, when the mail's language is known); text and HTML parts."""
    host = urlsplit(settings.issuer).hostname or "localhost"
    msg = EmailMessage()
    msg["From"] = Address(addr_spec=settings.mail_sender)
    msg["To"] = Address(addr_spec=clean_address(out.recipient))
    msg["Subject"] = _single_line(out.subject)
    msg["Date"] = formatdate(clock.now(), usegmt=True)
    msg["Message-ID"] = f"<{out.message_id}@{host}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    msg.set_content(out.text)
    msg.add_alternative(out.html, subtype="html")
    if out.language and languages.TAG_RE.match(out.language):
        # After the parts: making the message multipart moves Content-* headers into its first part.
        msg["Content-Language"] = out.language
    return msg


def _write_file(settings, msg: EmailMessage, out: Outgoing) -> None:
    folder = Path(settings.instance_path) / "mail"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{clock.now()}-{out.row_id}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(msg.as_bytes())
    links = [w for w in out.text.split() if w.startswith(settings.issuer + "/")]
    # Development only (no smtp_host): the link is the point of the mail, so print it.
    log.warning("mail to %s written to %s (no smtp_host set)%s", out.recipient, path,
                "".join(f"\n    link: {link}" for link in links))


def _smtp(settings, msg: EmailMessage) -> None:
    context = ssl.create_default_context()
    if settings.smtp_security == "tls":
        server = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout,
                                  context=context)
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
    with server:
        if settings.smtp_security == "starttls":
            server.starttls(context=context)
        if settings.smtp_username:
            server.login(settings.smtp_username, settings.smtp_password)
        server.send_message(msg)


def transmit(settings, out: Outgoing) -> str | None:
    """Send one message. None on success, else a short reason; reasons of permanent failures (a 5xx
    answer) start with "permanent"."""
    try:
        msg = build(settings, out)
        if settings.smtp_host:
            _smtp(settings, msg)
        else:
            _write_file(settings, msg, out)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        kind = PERMANENT if codes and all(c >= 500 for c in codes) else "refused"
        return f"{kind}: recipient refused {codes}"
    except smtplib.SMTPResponseException as exc:
        kind = PERMANENT if exc.smtp_code >= 500 else "temporary"
        return f"{kind}: SMTP {exc.smtp_code}"
    except (ValidationError, ValueError) as exc:
        return f"{PERMANENT}: {exc}"[:300]
    except (smtplib.SMTPException, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def deliver_due(settings) -> int:
    """Send every message due now (the background job). Each row is leased before it is sent, so two
    senders never send one twice; no transaction stays open while talking to the SMTP server.
    Returns how many were sent."""
    now = clock.now()
    work = []
    for row in store.due(now, BATCH):
        if store.lease(row.id, row.next_attempt_at, now + settings.smtp_timeout * 3 + 1):
            work.append((row.id, row.message_id, row.recipient, row.subject, row.attempts, row.body))
    db.session.commit()
    sent = 0
    for row_id, message_id, recipient, subject, attempts, body in work:
        try:
            parts = json.loads(crypto.decrypt(settings.kek_bytes, body or b"", message_id.encode()))
        except Exception:  # noqa: BLE001 - a body that does not decrypt can never be sent
            _settle(settings, row_id, attempts + 1, f"{PERMANENT}: body cannot be decrypted", recipient)
            continue
        out = Outgoing(row_id, message_id, recipient, subject, attempts, parts["text"], parts["html"],
                       parts.get("language"))  # rows queued by older versions carry none
        error = transmit(settings, out)
        _settle(settings, row_id, attempts + 1, error, recipient)
        sent += error is None
    return sent


def _settle(settings, row_id: int, attempt: int, error: str | None, recipient: str) -> None:
    now = clock.now()
    if error is None:
        store.settle(row_id, status=store.SENT, attempts=attempt, sent_at=now, last_error=None, body=None)
    else:
        final = attempt >= settings.mail_max_attempts or error.startswith(PERMANENT)
        retry_at = now + settings.mail_retry_delay * 2 ** (attempt - 1)
        values = {"status": store.FAILED, "body": None} if final else {"next_attempt_at": retry_at}
        store.settle(row_id, attempts=attempt, last_error=error, **values)
        log.warning("mail to %s failed (attempt %d%s): %s", recipient, attempt, ", giving up" if final else "",
                    error)
    db.session.commit()


def deliveries(limit: int = 50) -> list[dict]:
    """The newest outbox rows, for the operator (no bodies)."""
    return [{"id": r.id, "kind": r.kind, "recipient": r.recipient, "subject": r.subject, "status": r.status,
             "attempts": r.attempts, "last_error": r.last_error, "created_at": r.created_at, "sent_at": r.sent_at}
            for r in store.recent(limit)]
