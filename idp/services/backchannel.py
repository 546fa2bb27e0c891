"""OpenID Connect Back-Channel Logout 1.0: logout tokens (§2.4) POSTed to the clients of an ended
session (§2.5), off the request path.

`enqueue` records one delivery per client in the caller's transaction; a `Deliverer` thread per
application sends them and retries failures with a doubling delay, up to
`backchannel_logout_max_attempts`, after which the delivery stays in `backchannel_deliveries` as
failed (and an audit event says so). Each attempt signs a fresh token with the same `jti`."""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from urllib.parse import urlencode

from joserfc import jwt

from ..extensions import db
from ..storage import backchannel as store
from ..storage import clients as client_store
from ..types import ClientView, DeliveryView
from . import audit, clock, crypto, outbound
from .keys import ALG, KeyRing

log = logging.getLogger(__name__)
EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_TYPE = "logout+jwt"  # §2.4: explicitly typed, so it cannot be mistaken for an ID token
BATCH = 20
IDLE_POLL = 60  # seconds between looks at the table when nothing is due (other processes may add rows)


def enqueue(*, client: ClientView, user_id: int, sub: str, sid: str) -> None:
    """Record a delivery for a client that registered a back-channel logout URI (not committed)."""
    if not client.backchannel_logout_uri:
        return
    now = clock.now()
    store.add(store.BackchannelDelivery(
        client_pk=client.id, user_id=user_id, sub=sub, sid=sid, jti=crypto.random_token(16),
        uri=client.backchannel_logout_uri, status=store.PENDING, attempts=0, next_attempt_at=now, created_at=now,
    ))


def logout_token(settings, keyring: KeyRing, *, client_id: str, sub: str, sid: str, jti: str, now: int) -> str:
    """A Logout Token (§2.4): iss, aud, iat, exp, jti, events, sub and sid; never a nonce. `sid` is
    always present, so clients with backchannel_logout_session_required get what they need."""
    key = keyring.signing_key()
    claims = {"iss": settings.issuer, "aud": client_id, "iat": now, "exp": now + settings.logout_token_ttl,
              "jti": jti, "sub": sub, "sid": sid, "events": {EVENT: {}}}
    return jwt.encode({"alg": ALG, "kid": key.kid, "typ": TOKEN_TYPE}, claims, key.private_key, algorithms=[ALG])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed delivery (§2.5: the RP answers 200); never re-send the token elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post(uri: str, token: str, timeout: int, self_registered: bool = False) -> str | None:
    """POST the token (§2.5). Returns None on success, else a short reason (never the token). For a
    self-registered client the address is checked after DNS resolution first (services.outbound)."""
    opener = _opener
    if self_registered:
        try:
            opener = outbound.restricted_opener(uri, _NoRedirect)
        except outbound.RefusedAddress as exc:
            return f"refused: {exc}"[:300]
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"[:300]
    body = urlencode({"logout_token": token}).encode()
    request = urllib.request.Request(uri, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-cache",
    })
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{type(exc).__name__}: {reason}"[:300]
    return None if 200 <= status < 300 else f"HTTP {status}"


def deliver_due(settings, keyring: KeyRing) -> int | None:
    """Send every delivery that is due now. Returns the seconds until the next one is due (None when
    nothing is pending). Never holds a database transaction open across an HTTP request."""
    now = clock.now()
    work = []
    for row in store.due(now, BATCH):
        # A lease long enough for one attempt: another process skips the row meanwhile.
        if store.lease(row.id, row.next_attempt_at, now + settings.backchannel_logout_timeout * 2 + 1):
            client = client_store.get(row.client_pk)
            work.append((row.id, row.attempts, row.uri, row.sub, row.sid, row.jti,
                         client.client_id if client else None, row.user_id,
                         client is not None and client.registration_token_hash is not None))
    db.session.commit()
    for row_id, attempts, uri, sub, sid, jti, client_id, user_id, self_registered in work:
        _attempt(settings, keyring, row_id, attempts + 1, uri, sub, sid, jti, client_id, user_id, self_registered)
    next_at = store.next_due_at()
    db.session.commit()
    return None if next_at is None else max(0, next_at - clock.now())


def _attempt(settings, keyring, row_id, attempt, uri, sub, sid, jti, client_id, user_id,
             self_registered=False) -> None:
    error = "client no longer registered"
    if client_id is not None:
        token = logout_token(settings, keyring, client_id=client_id, sub=sub, sid=sid, jti=jti, now=clock.now())
        error = _post(uri, token, settings.backchannel_logout_timeout, self_registered)
    now = clock.now()
    if error is None:
        store.settle(row_id, status=store.DELIVERED, attempts=attempt, delivered_at=now, last_error=None)
        db.session.commit()
        return
    final = attempt >= settings.backchannel_logout_max_attempts or client_id is None
    retry_at = now + settings.backchannel_logout_retry_delay * 2 ** (attempt - 1)
    store.settle(row_id, status=store.FAILED if final else store.PENDING, attempts=attempt, last_error=error,
                 next_attempt_at=now if final else retry_at)
    log.warning("back-channel logout to client %s failed (attempt %d%s): %s", client_id, attempt,
                ", giving up" if final else "", error)
    if final:
        audit.record("logout.backchannel", outcome=audit.FAILURE, subject_user_id=user_id, client_id=client_id,
                     reason=error, details={"sid": sid, "jti": jti, "attempts": attempt}, commit=False)
    db.session.commit()


def deliveries_for(sid: str) -> list[DeliveryView]:
    out = []
    for row in store.for_sid(sid):
        client = client_store.get(row.client_pk)
        out.append(DeliveryView(client_id=client.client_id if client else "", sid=row.sid, jti=row.jti,
                                status=row.status, attempts=row.attempts, last_error=row.last_error,
                                next_attempt_at=row.next_attempt_at, delivered_at=row.delivered_at))
    return out


class Deliverer:
    """The background sender of one worker process: a daemon thread started by `notify()` after a
    logout commits, sleeping until the next retry is due and ending when nothing is pending. `stop()`
    ends it at once. Each delivery row is leased before it is sent, so senders in several processes
    never send one twice."""

    def __init__(self, app):
        self._app = app
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def notify(self) -> None:
        with self._lock:
            if not self.running:
                self._stopping.clear()
                self._thread = threading.Thread(target=self._run, name="backchannel-logout", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            self._stopping.set()
            self._wake.set()
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        from .runtime import current

        while not self._stopping.is_set():
            self._wake.clear()
            delay: float | None = IDLE_POLL
            with self._app.app_context():
                try:
                    rt = current()
                    delay = deliver_due(rt.settings, rt.keyring)
                except Exception:  # keep the worker alive; the rows stay pending and are retried
                    log.exception("back-channel logout delivery failed unexpectedly")
                    db.session.rollback()
                finally:
                    db.session.remove()
            if delay is None:
                # Nothing pending: end the thread (the next notify starts it again; leftovers of a
                # stopped process are retried by the once-per-cluster job in services.jobs).
                with self._lock:
                    if not self._wake.is_set() and self._thread is threading.current_thread():
                        self._thread = None
                        return
                continue
            self._wake.wait(min(delay, IDLE_POLL))
