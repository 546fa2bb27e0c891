"""The mail sender under `idp serve` (granian workers, the once-per-cluster job): a "Forgot password?"
mail arrives at a real SMTP server without any request driving it, a message pending when the server
stops is delivered by the next one, and several workers deliver it once."""

from __future__ import annotations

import re
import time

import requests

from idp.services import mail


def _wait(condition, timeout: float = 40) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


def _rows(app):
    with app.app_context():
        return mail.deliveries()


def test_outbox_survives_a_restart_and_delivers_once(app, user, serve_idp, smtp):
    settings = dict(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none", mail_retry_delay=1)
    smtp.refuse = 451  # the mail server is having a bad day
    first = serve_idp(workers=2, **settings)
    browser = requests.Session()
    form = browser.get(first.url + "/account/forgot-password", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = browser.post(first.url + "/account/forgot-password", data={"login": "alice", "csrf_token": token},
                          timeout=10)
    assert answer.status_code == 200
    assert _wait(lambda: any(r["attempts"] >= 1 for r in _rows(app)))  # tried by the background job
    first.stop()
    assert [r["status"] for r in _rows(app)] == ["pending"] and smtp.messages == []

    smtp.refuse = None
    second = serve_idp(workers=2, **settings)
    assert _wait(lambda: len(smtp.messages) >= 1)
    time.sleep(3)  # both workers' schedulers have looked again by now
    assert len(smtp.messages) == 1 and smtp.messages[0]["To"] == "alice@example.com"
    assert first.url + "/account/set-password/" in smtp.messages[0].get_body(("plain",)).get_content()
    assert [r["status"] for r in _rows(app)] == ["sent"]
    second.stop()
