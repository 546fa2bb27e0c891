"""The mail outbox and its sender, against a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import dataclasses
import os

import pytest

from idp import mails
from idp.errors import ValidationError
from idp.extensions import db
from idp.services import clock, jobs, mail
from idp.services.runtime import current
from idp.storage import mail as store
from tests.conftest import deliver_mail, make_app, race


def _queue(app, to="bob@example.com", kind="test", **context) -> None:
    with app.app_context():
        mails.compose(kind, to, by_recipient=False, **context)
        db.session.commit()


def _rows(app) -> list[dict]:
    with app.app_context():
        return mail.deliveries()


def test_a_queued_message_is_sent_once_with_text_and_html(app, smtp):
    _queue(app)
    assert deliver_mail(app, smtp) == 1
    assert deliver_mail(app, smtp) == 0  # nothing left: never sent twice
    assert len(smtp.messages) == 1
    msg = smtp.messages[0]
    assert msg["To"] == "bob@example.com" and msg["From"] == "no-reply@localhost"
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Message-ID"].endswith("@localhost>")
    assert "test message" in msg.get_body(("plain",)).get_content()
    assert "<p>" in msg.get_body(("html",)).get_content()
    row = _rows(app)[0]
    assert row["status"] == "sent" and row["attempts"] == 1 and row["sent_at"] is not None
    with app.app_context():
        assert store.get(row["id"]).body is None  # the body (and any link in it) is erased once sent


def test_the_body_is_encrypted_at_rest(app):
    _queue(app, "carol@example.com", "password_reset", username="carol", url="http://localhost/secret-link",
           minutes=30)
    with app.app_context():
        row = store.recent(1)[0]
        assert row.status == "pending" and b"secret-link" not in row.body


def test_a_failure_is_retried_with_a_doubling_delay_then_given_up(app, smtp, settings):
    _queue(app)
    smtp.refuse = 451  # temporary
    assert deliver_mail(app, smtp) == 0
    row = _rows(app)[0]
    assert row["status"] == "pending" and row["attempts"] == 1 and "451" in row["last_error"]
    assert deliver_mail(app, smtp) == 0 and _rows(app)[0]["attempts"] == 1  # not due yet
    clock.advance(settings.mail_retry_delay)
    deliver_mail(app, smtp)
    assert _rows(app)[0]["attempts"] == 2
    clock.advance(settings.mail_retry_delay)  # the second retry waits twice as long
    assert deliver_mail(app, smtp) == 0 and _rows(app)[0]["attempts"] == 2
    smtp.refuse = None
    clock.advance(settings.mail_retry_delay)
    assert deliver_mail(app, smtp) == 1
    assert _rows(app)[0]["status"] == "sent" and len(smtp.messages) == 1


def test_a_permanent_refusal_is_not_retried(app, smtp):
    _queue(app)
    smtp.refuse = 550
    deliver_mail(app, smtp)
    row = _rows(app)[0]
    assert row["status"] == "failed" and row["last_error"].startswith("permanent")


def test_an_unreachable_server_keeps_the_mail_pending(app, settings):
    _queue(app)
    with app.app_context():
        unreachable = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=1, smtp_security="none")
        assert mail.deliver_due(unreachable) == 0
    row = _rows(app)[0]
    assert row["status"] == "pending" and row["attempts"] == 1


def test_mail_survives_a_restart_and_is_delivered_once(app, smtp, tmp_path_factory, database_url):
    """A message committed by one server process is sent by another started later (the outbox is the
    database), exactly once even when two senders race for it."""
    _queue(app, "dave@example.com")
    later = make_app(tmp_path_factory, database_url)
    results = race(lambda: deliver_mail(later, smtp), racers=4)
    assert sum(results) == 1 and len(smtp.messages) == 1


def test_the_sender_is_a_once_per_cluster_job(app, smtp, monkeypatch):
    _queue(app)
    monkeypatch.setattr(mail, "deliver_due", lambda settings, _real=mail.deliver_due: _real(smtp.settings(settings)))
    with app.app_context():
        assert "mail.send" in jobs.run_due(current(), "node-a")
        assert "mail.send" not in jobs.run_due(current(), "node-b")  # the lease is node-a's for now
    assert len(smtp.messages) == 1


def test_without_smtp_host_the_mail_is_an_eml_file_and_its_link_is_logged(app, settings, caplog):
    _queue(app, "erin@example.com", "password_reset", username="erin", url=settings.issuer + "/account/x",
           minutes=30)
    with app.app_context():
        assert mail.deliver_due(settings) == 1
    folder = os.path.join(settings.instance_path, "mail")
    files = sorted(os.listdir(folder))
    with open(os.path.join(folder, files[-1]), "rb") as fh:
        assert b"To: erin@example.com" in fh.read()
    assert oct(os.stat(os.path.join(folder, files[-1])).st_mode & 0o777) == "0o600"
    assert f"link: {settings.issuer}/account/x" in caplog.text


@pytest.mark.parametrize("address", [
    "bob@example.com\r\nBcc: victim@example.org", "bob@example.com\nSubject: hi", "Bob <bob@example.com>",
    "bob@exa mple.com", "bøb@example.com", "a" * 250 + "@example.com", "bob@@example.com", "bob", "",
    "bob@example.com,eve@example.org",
])
def test_recipients_that_could_inject_headers_are_refused(app, address):
    with app.app_context(), pytest.raises(ValidationError):
        mails.compose("test", address, by_recipient=False)
    assert _rows(app) == []


def test_names_in_a_subject_cannot_add_headers(app, smtp):
    with app.app_context():
        mail.enqueue(current().settings, kind="test", to="bob@example.com",
                     subject="Hello\r\nBcc: victim@example.org", text="x", html="<p>x</p>")
        db.session.commit()
    deliver_mail(app, smtp)
    msg = smtp.messages[0]
    assert msg["Bcc"] is None and msg["Subject"] == "Hello Bcc: victim@example.org"


def test_at_most_n_mails_per_address_per_hour(app, smtp, settings):
    for _ in range(settings.mail_max_per_address_per_hour + 3):
        _queue(app, "flood@example.com")
    deliver_mail(app, smtp)
    assert len(smtp.messages) == settings.mail_max_per_address_per_hour
    clock.advance(3601)
    _queue(app, "flood@example.com")
    deliver_mail(app, smtp)
    assert len(smtp.messages) == settings.mail_max_per_address_per_hour + 1


def test_idp_mail_test_sends_through_the_configured_server(app, smtp, tmp_path_factory, database_url):
    configured = make_app(tmp_path_factory, database_url, smtp_host="127.0.0.1", smtp_port=smtp.port,
                          smtp_security="none", mail_from="idp@example.net")
    result = configured.test_cli_runner().invoke(args=["mail", "test", "--to", "ops@example.com"])
    assert result.exit_code == 0, result.output
    assert "sent to ops@example.com via 127.0.0.1:" in result.output
    assert smtp.messages[0]["From"] == "idp@example.net"
    bad = configured.test_cli_runner().invoke(args=["mail", "test", "--to", "ops@example.com\r\nBcc: x@y.z"])
    assert bad.exit_code != 0 and "does not look valid" in bad.output
